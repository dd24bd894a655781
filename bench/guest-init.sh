#!/bin/busybox sh
# shellcheck shell=dash  # busybox ash
# /init of the micro-benchmark initramfs (scripts/bench.sh): load zsmalloc and
# zspp, run zspp_bench.ko with the parameters of /etc/zspp-bench.conf (its init
# runs every configuration and logs BENCH-* lines), unload them, then the same
# with the CONFIG_ZSPP_FOLD=y zspp.ko and its zspp_bench.ko when the image has
# them (in fold/), dump the kernel log, reboot.
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
# run_set DIR TAG: load zspp from DIR, run DIR/zspp_bench.ko (its init runs
# every configuration and logs BENCH-* lines), unload both. TAG names the
# build in the BENCH-INSMOD/RMMOD lines: "" for the plain zspp.ko, "-fold" for
# the CONFIG_ZSPP_FOLD=y build in fold/ (run after the plain one, when present).
run_set() {
	dir=$1 tag=$2
	insmod "$dir/zspp.ko"
	rc=$?
	echo "BENCH-INSMOD zspp$tag rc=$rc"
	[ $rc -eq 0 ] || return
	t0=$(cut -d' ' -f1 /proc/uptime)
	# shellcheck disable=SC2086 # word splitting of the module parameters is wanted
	insmod "$dir/zspp_bench.ko" $BENCH_ARGS
	rc=$?
	echo "BENCH-INSMOD zspp_bench$tag rc=$rc start=$t0 end=$(cut -d' ' -f1 /proc/uptime)"
	rmmod zspp_bench
	rmmod zspp
	echo "BENCH-RMMOD zspp$tag rc=$?"
}
insmod $MODDIR/zsmalloc.ko
rc=$?
echo "BENCH-INSMOD zsmalloc rc=$rc"
if [ $rc -eq 0 ]; then
	run_set $MODDIR ""
	[ -f $MODDIR/fold/zspp.ko ] && run_set $MODDIR/fold -fold
	rmmod zsmalloc
	echo "BENCH-RMMOD zsmalloc rc=$?"
fi
echo "DMESG-BEGIN"
dmesg -r
echo "DMESG-END"
echo "BENCH-GUEST-END"
sync
reboot -f
sleep 5
echo o >/proc/sysrq-trigger
