#!/usr/bin/env bash
# stress.sh: compaction + page migration + CPU hotplug stress on the debug
# kernel (KASAN, lockdep, PREEMPT). Two verified workloads swap through zswap
# on zspp while the guest loops: /proc/sys/vm/compact_memory (the kernel
# migrates zspp's movable pages), the pool's debugfs compact, and CPU 1
# offline/online. Asserts every byte verified, real migrations and
# compactions counted in zspp's debugfs, rmmod, and a clean log.
#   --pages N   pages per workload (default 8192)   --rounds N (default 2)
#   --kernel 6.1|6.12   which debug kernel (default 6.1)
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
pages=8192 rounds=2 series=6.1
while (($#)); do
	case $1 in
	--kernel) series=$2; shift ;;
	--pages) pages=$2; shift ;;
	--rounds) rounds=$2; shift ;;
	*) die "unknown option $1" ;;
	esac
	shift
done

mods=$("$ZSPP_SCRIPTS/build-debug-modules.sh" --kernel "$series") || die "module build for the $series debug kernel failed"
eval "$(g -E '^(KDIR|BZIMAGE|ZSPP_KO)=' <<<"$mods")"
log "debug kernel $series: $(basename "$KDIR")"
echo "stress: kernel $(basename "$KDIR")"
work=$(cache_dir "stress-$series")
gcc -static -O2 -o "$work/workload" "$ZSPP_ROOT/tests/e2e/workload.c"
cat >"$work/stress.conf" <<CONF
STRESS_PAGES=$pages
STRESS_ROUNDS=$rounds
STRESS_MEM=32M
STRESS_ZSWAP_MAX=24M
CONF
"$ZSPP_SCRIPTS/mkinitramfs.sh" -o "$work/stress.cpio.gz" -i "$ZSPP_ROOT/tests/stress/guest-init.sh" \
	-w "$work/workload" -f "$work/stress.conf:/etc/stress.conf" "$ZSPP_KO" >&2
log="$work/console.log"
rc=0
"$ZSPP_SCRIPTS/qemu-run.sh" --kernel "$BZIMAGE" --initrd "$work/stress.cpio.gz" --log "$log" \
	--smp 2 --mem 1024M --disk 512M --timeout 1200 --init-marker "^STRESS " --boot-timeout 300 >&2 || rc=$?
log "guest exited with qemu rc=$rc"

pass=0 fail=0
tag=stress
[[ $series == 6.1 ]] || tag="stress-$series"
check() { if eval "$2"; then echo "PASS: $tag $1"; pass=$((pass + 1)); else echo "FAIL: $tag $1"; fail=$((fail + 1)); fi; }
last() { grep -E '^ZSPP ' "$log" | tail -n 1 | tr ' ' '\n' | sed -n "s/^$1=//p"; }
check "guest completed" '[ "$rc" -eq 0 ] && grep -q "^STRESS-END" "$log"'
check "2 CPUs online" 'grep -q "STRESS cpus_online=0-1" "$log"'
check "zswap uses zspp" 'grep -q "STRESS zpool=zspp" "$log"'
check "both workloads verified every byte" '[ "$(grep -cE "^WORKLOAD .* mismatches=0" "$log")" -eq 2 ] && grep -q "STRESS workload-rc=0,0" "$log"'
migrated=$(last pages_migrated); compacted=$(last objs_moved); trimmed=$(last pages_trimmed)
hotplugs=$(sed -n 's/.*hotplugs=\([0-9]*\).*/\1/p' "$log" | tail -n 1)
echo "stress: pages_migrated=${migrated:-?} objs_moved=${compacted:-?} pages_trimmed=${trimmed:-?} hotplugs=${hotplugs:-?}"
grep -E '^VMSTAT ' "$log" | sed 's/^/stress: /'
check "kernel compaction migrated zspp pages (pages_migrated>0)" '[ "${migrated:-0}" -gt 0 ]'
check "zspp compaction moved objects (objs_moved>0)" '[ "${compacted:-0}" -gt 0 ]'
# Pages released from part-full zspages while the kernel migrates zspp pages
# (Documentation/locking.rst: trim against isolated pages).
check "zspp compaction trimmed zspages (pages_trimmed>0)" '[ "${trimmed:-0}" -gt 0 ]'
check "CPU 1 went offline and online" '[ "${hotplugs:-0}" -gt 0 ]'
check "rmmod zspp" 'grep -q "STRESS rmmod rc=0" "$log"'
# The splat patterns (tests/harness/judge.py): PASS:/FAIL: stress log has no kernel splat.
PYTHONPATH="$ZSPP_ROOT/tests" python3 -m harness.judge --scan stress "$log" && pass=$((pass + 1)) || fail=$((fail + 1))
echo "stress: console log $log"
[ "$fail" -eq 0 ]
