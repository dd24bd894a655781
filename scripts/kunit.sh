#!/usr/bin/env bash
# kunit.sh: build the KASAN + lockdep debug kernel (cached), build zspp.ko and
# zspp_kunit.ko against it, boot it in QEMU (2 vCPUs, TCG), parse the KTAP
# results KUnit keeps in debugfs (KTAP; tests/harness/kunit.py), and scan the
# console log for splats.
# Prints PASS:/FAIL: per test case and per log check; exits non-zero on any FAIL.
#
#   --fold   zspp.ko and the suites built with CONFIG_ZSPP_FOLD=y: every suite
#            again, plus zspp_fold
#   --kernel SERIES   the debug kernel: 6.1 (default) or 6.12
#   --workdir DIR     guest image and logs (default $ZSPP_CACHE/kunit-run[-SERIES][-fold],
#                     shared with every other run of this script on the machine)
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

fold=0 build_opts=() tag="" series=6.1 work=""
while (($#)); do
	case $1 in
	--fold) fold=1 build_opts+=(--fold) ;;
	--kernel) series=$2; shift ;;
	--workdir) work=$2; shift ;;
	*) die "unknown option $1" ;;
	esac
	shift
done
build_opts+=(--kernel "$series")
# 6.1 keeps its old names (logs, cache dirs); 6.12 adds its series.
if [[ $series != 6.1 ]]; then tag=-$series; fi
if ((fold)); then tag+=-fold; fi
# Suites that must appear (a missing suite is a failure).
SUITES=(zspp_size_classes zspp_data zspp_handles zspp_errors zspp_compaction zspp_concurrency zspp_writeback)
if ((fold)); then SUITES+=(zspp_fold); fi

# The debug kernel (cached) and zspp.ko + zspp_kunit.ko built against it in a
# private copy under the cache (building in the repo would mix two kernels' objects).
KDIR="" BZIMAGE="" ZSPP_KO="" ZSPP_KUNIT_KO=""
mods=$("$ZSPP_SCRIPTS/build-debug-modules.sh" "${build_opts[@]}") || die "module build for the $series debug kernel failed"
eval "$(g -E '^(KDIR|BZIMAGE|ZSPP_KO|ZSPP_KUNIT_KO)=' <<<"$mods")"
log "debug kernel $series: $(basename "$KDIR")"
[ -n "$KDIR" ] && [ -f "$BZIMAGE" ] || die "debug kernel build did not report KDIR/BZIMAGE"
[ -f "$ZSPP_KO" ] && [ -f "$ZSPP_KUNIT_KO" ] || die "build-debug-modules.sh did not report ZSPP_KO/ZSPP_KUNIT_KO"

if [[ -n $work ]]; then mkdir -p "$work"; else work=$(cache_dir "kunit-run$tag"); fi
initrd="$work/kunit.cpio.gz"
"$ZSPP_SCRIPTS/mkinitramfs.sh" -o "$initrd" -i "$ZSPP_ROOT/kunit/guest-init.sh" \
	"$ZSPP_KO" "$ZSPP_KUNIT_KO" >&2
log="$work/console.log"
rc=0
# The guest writes KUnit's own results (debugfs, KTAP) to its second serial port.
results="$work/debugfs-results.ktap"
"$ZSPP_SCRIPTS/qemu-run.sh" --kernel "$BZIMAGE" --initrd "$initrd" --log "$log" --serial2 "$results" \
	--smp 2 --mem 2048M --timeout 600 --init-marker "^KUNIT-GUEST " --boot-timeout 300 >&2 || rc=$?
[ "$rc" -eq 0 ] || echo "FAIL: kunit guest exited cleanly (qemu rc=$rc)"

# PASS:/FAIL: per suite and per case from /sys/kernel/debug/kunit/<suite>/results
# (tests/harness/kunit.py; kept as $work/debugfs/<suite>.ktap).
fail=0
PYTHONPATH="$ZSPP_ROOT/tests" python3 -m harness.kunit --results "$results" --out "$work/debugfs" \
	--console "$log" --tag="$tag" "${SUITES[@]}" || fail=1

grep -q 'KUNIT-GUEST cpus_online=0-1' "$log" && echo "PASS: kunit$tag guest saw 2 CPUs" ||
	{ echo "FAIL: kunit$tag guest saw 2 CPUs"; fail=1; }
grep -q 'KUNIT-GUEST rmmod zspp rc=0' "$log" && echo "PASS: kunit$tag rmmod zspp after the suites" ||
	{ echo "FAIL: kunit$tag rmmod zspp after the suites"; fail=1; }
PYTHONPATH="$ZSPP_ROOT/tests" python3 -m harness.judge --scan kunit "$log" || fail=1
echo "kunit: console log $log, KUnit results $work/debugfs"
exit $fail
