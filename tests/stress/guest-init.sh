#!/bin/busybox sh
# shellcheck shell=dash  # busybox ash
# /init of the compaction/migration stress (scripts/stress.sh), debug kernel.
# Two verified workloads (one per CPU) swap through zswap on zspp while a
# loop asks the kernel to compact memory (migrating zspp's movable pages),
# compacts the zspp pool itself, and takes CPU 1 offline and back online.
PATH=/bin:/sbin:/usr/bin:/usr/sbin
export PATH
/bin/busybox mkdir -p /proc /sys /dev /tmp /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
mount -t debugfs debugfs /sys/kernel/debug
mount -t cgroup2 cgroup2 /sys/fs/cgroup
. /etc/stress.conf
echo "STRESS cpus_online=$(cat /sys/devices/system/cpu/online)"

mkswap /dev/vda >/dev/null && swapon /dev/vda || echo "STRESS-ERROR swapon"
insmod /lib/e2e-modules/zspp.ko || echo "STRESS-ERROR insmod zspp"
echo lzo > /sys/module/zswap/parameters/compressor
echo zspp > /sys/module/zswap/parameters/zpool
echo 1 > /sys/module/zswap/parameters/enabled
echo "STRESS zpool=$(cat /sys/module/zswap/parameters/zpool)"
echo +memory > /sys/fs/cgroup/cgroup.subtree_control
mkdir /sys/fs/cgroup/w
echo "$STRESS_MEM" > /sys/fs/cgroup/w/memory.max
echo "$STRESS_ZSWAP_MAX" > /sys/fs/cgroup/w/memory.zswap.max

start_workload() {
	sh -c "echo \$\$ > /sys/fs/cgroup/w/cgroup.procs && exec /bin/workload -q -s $1 -g $STRESS_ROUNDS $STRESS_PAGES" \
		> /tmp/w$1.out 2>&1 &
}
start_workload 1
pid1=$!
start_workload 2
pid2=$!

rounds=0
hotplugs=0
while kill -0 "$pid1" 2>/dev/null || kill -0 "$pid2" 2>/dev/null; do
	echo 1 > /proc/sys/vm/compact_memory
	for f in /sys/kernel/debug/zspp/*/compact; do [ -e "$f" ] && echo 1 > "$f"; done
	if [ -e /sys/devices/system/cpu/cpu1/online ]; then
		echo 0 > /sys/devices/system/cpu/cpu1/online && echo 1 > /sys/devices/system/cpu/cpu1/online &&
			hotplugs=$((hotplugs + 1))
	fi
	rounds=$((rounds + 1))
	for d in /sys/kernel/debug/zspp/*/; do
		[ -f "$d/summary" ] && echo "ZSPP $(basename "$d") $(tr ' \n' '= ' < "$d/summary")"
	done
	sleep 1
done
wait "$pid1"; rc1=$?
wait "$pid2"; rc2=$?
echo 1 > /sys/devices/system/cpu/cpu1/online 2>/dev/null
cat /tmp/w1.out /tmp/w2.out | grep '^WORKLOAD'
echo "STRESS workload-rc=$rc1,$rc2 rounds=$rounds hotplugs=$hotplugs"
grep -E 'compact_(stall|success|migrate_scanned)|pgmigrate_success' /proc/vmstat | sed 's/^/VMSTAT /'

echo zbud > /sys/module/zswap/parameters/zpool
swapoff /dev/vda
i=0
while [ -n "$(ls /sys/kernel/debug/zspp 2>/dev/null)" ] && [ $i -lt 40 ]; do sleep 0.5; i=$((i + 1)); done
rmmod zspp
echo "STRESS rmmod rc=$?"
echo "STRESS-END"
reboot -f
