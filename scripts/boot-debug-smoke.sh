#!/bin/bash
# Smoke-boot the debug kernel (scripts/build-debug-kernel.sh) under QEMU TCG
# with 2 CPUs and a busybox initramfs. Checks: 2 CPUs online, cpu1 offline and
# online again via sysfs, KUnit debugfs and zswap present, optional modules load,
# and no KASAN/lockdep/WARNING/BUG splat in the log. Exit 0 only if all pass.
# Usage: scripts/boot-debug-smoke.sh [MODULE.ko ...]   (insmod'ed in that order)
# Env:   BZIMAGE (skip the build script), SMOKE_APPEND (extra kernel args),
#        SMOKE_TIMEOUT (seconds, default 300), SMOKE_LOG (default: a temp file)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/lib.sh
. "$here/lib.sh"
if [ -z "${BZIMAGE:-}" ]; then
	out=$("$here/build-debug-kernel.sh") || { echo "debug kernel build failed" >&2; exit 1; }
	eval "$(tail -n 2 <<<"$out")"
fi
[ -f "$BZIMAGE" ] || { echo "no bzImage: $BZIMAGE" >&2; exit 1; }
for ko in "$@"; do [ -f "$ko" ] || { echo "no such module: $ko" >&2; exit 1; }; done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/root
mkdir -p "$root"/{bin,dev,proc,sys,tmp,ko}
cp /usr/bin/busybox "$root/bin/busybox"   # busybox-static
n=0
for ko in "$@"; do n=$((n + 1)); cp "$ko" "$root/ko/$(printf %02d $n)-$(basename "$ko")"; done

cat > "$root/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t debugfs debugfs /sys/kernel/debug
echo "SMOKE: cpus_online=$(cat /sys/devices/system/cpu/online)"
echo "SMOKE: kunit_debugfs: $(ls -d /sys/kernel/debug/kunit 2>&1) [$(ls /sys/kernel/debug/kunit | tr '\n' ' ')]"
for p in /sys/module/zswap/parameters/*; do echo "SMOKE: zswap ${p##*/}=$(cat $p)"; done
if echo 0 > /sys/devices/system/cpu/cpu1/online; then
	echo "SMOKE: offline_cpu1=ok online=$(cat /sys/devices/system/cpu/online)"
else
	echo "SMOKE: offline_cpu1=FAILED"
fi
if echo 1 > /sys/devices/system/cpu/cpu1/online; then
	echo "SMOKE: online_cpu1=ok online=$(cat /sys/devices/system/cpu/online)"
else
	echo "SMOKE: online_cpu1=FAILED"
fi
for ko in /ko/*.ko; do
	[ -e "$ko" ] || continue
	if insmod "$ko"; then echo "SMOKE: insmod ${ko#/ko/???} rc=0"; else echo "SMOKE: insmod ${ko#/ko/???} rc=$?"; fi
done
[ -e /ko/01-* ] && lsmod
echo "SMOKE: dmesg-begin"
dmesg
echo "SMOKE: dmesg-end"
echo "SMOKE: done uptime=$(cut -d' ' -f1 /proc/uptime)"
reboot -f
EOF
chmod +x "$root/init"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) > "$work/initrd.gz"

log=${SMOKE_LOG:-$work/console.log}
start=$(date +%s.%N)
rc=0
timeout "${SMOKE_TIMEOUT:-300}" qemu-system-x86_64 -accel tcg -smp 2 -m 1024M \
	-nographic -no-reboot -kernel "$BZIMAGE" -initrd "$work/initrd.gz" \
	-append "console=ttyS0 panic=-1 ${SMOKE_APPEND:-}" < /dev/null > "$log" 2>&1 || rc=$?
secs=$(echo "$(date +%s.%N) - $start" | bc)
tr -d '\r' < "$log" > "$log.txt" && mv "$log.txt" "$log"
[ -n "${SMOKE_LOG:-}" ] || cat "$log"

fail=()
[ $rc = 0 ] || fail+=("qemu exit status $rc (124 = timeout)")
grep -q '^SMOKE: done' "$log" || fail+=("init did not finish")
grep -q '^SMOKE: cpus_online=0-1$' "$log" || fail+=("expected 2 CPUs online (0-1)")
grep -q '^SMOKE: offline_cpu1=ok online=0$' "$log" || fail+=("cpu1 offline failed")
grep -q '^SMOKE: online_cpu1=ok online=0-1$' "$log" || fail+=("cpu1 online failed")
grep -q '^SMOKE: kunit_debugfs: /sys/kernel/debug/kunit ' "$log" || fail+=("no /sys/kernel/debug/kunit")
grep -q '^SMOKE: zswap enabled=' "$log" || fail+=("no zswap parameters")
if grep -q '^SMOKE: insmod .* rc=[^0]' "$log"; then fail+=("insmod failed"); fi
# The splat pattern every log check shares (splat_lines, scripts/lib.sh).
bad=$(splat_lines "$log" | tr '\n' '|')
[ -z "$bad" ] || fail+=("kernel splat: $bad")

init_at=$(grep -m1 -oE '^\[ *[0-9.]+\] Run /init' "$log" | grep -oE '[0-9]+\.[0-9]+' || echo '?')
echo "SMOKE-RESULT: wall=${secs}s kernel_to_init=${init_at}s $(grep -m1 '^SMOKE: cpus_online' "$log" | cut -d' ' -f2) modules=$#"
if [ ${#fail[@]} -gt 0 ]; then
	printf 'SMOKE-FAIL: %s\n' "${fail[@]}"
	exit 1
fi
echo "SMOKE-PASS"
