#!/bin/busybox sh
# /init of the micro-benchmark initramfs (scripts/bench.sh): load zsmalloc and
# zspp, run zspp_bench.ko with the parameters of /etc/zspp-bench.conf (its init
# runs every configuration and logs BENCH-* lines), dump the kernel log, reboot.
PATH=/bin:/sbin:/usr/bin:/usr/sbin
export PATH
/bin/busybox mkdir -p /proc /sys /dev /tmp /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
MODDIR=/lib/e2e-modules
BENCH_ARGS=""
[ -f /etc/zspp-bench.conf ] && . /etc/zspp-bench.conf

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
exec >/dev/console 2>&1 </dev/null
echo "BENCH-GUEST kernel=$(uname -r) cpus_online=$(cat /sys/devices/system/cpu/online) mem=$(awk '$1 == "MemTotal:" { print $2 $3 }' /proc/meminfo) args='$BENCH_ARGS'"
ok=1
for m in zsmalloc zspp; do
	insmod $MODDIR/$m.ko
	rc=$?
	echo "BENCH-INSMOD $m rc=$rc"
	[ $rc -eq 0 ] || ok=0
done
if [ $ok = 1 ]; then
	t0=$(cut -d' ' -f1 /proc/uptime)
	# shellcheck disable=SC2086 # word splitting of the module parameters is wanted
	insmod $MODDIR/zspp_bench.ko $BENCH_ARGS
	rc=$?
	echo "BENCH-INSMOD zspp_bench rc=$rc start=$t0 end=$(cut -d' ' -f1 /proc/uptime)"
	rmmod zspp_bench
	for m in zspp zsmalloc; do
		rmmod $m
		echo "BENCH-RMMOD $m rc=$?"
	done
fi
echo "DMESG-BEGIN"
dmesg -r
echo "DMESG-END"
echo "BENCH-GUEST-END"
sync
reboot -f
sleep 5
echo o >/proc/sysrq-trigger
