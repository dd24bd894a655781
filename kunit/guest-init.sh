#!/bin/busybox sh
# shellcheck shell=dash  # busybox ash
# /init of the KUnit guest (scripts/kunit.sh): run zspp's KUnit suites on the
# debug kernel, copy KUnit's debugfs results to ttyS1, unload, power off.
PATH=/bin:/sbin:/usr/bin:/usr/sbin
export PATH
/bin/busybox mkdir -p /proc /sys /dev /tmp /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
mount -t debugfs debugfs /sys/kernel/debug
echo "KUNIT-GUEST cpus_online=$(cat /sys/devices/system/cpu/online)"

# malloc_failure_every_point arms current->fail_nth (which fails regardless
# of the rest). Otherwise only tasks that set make_it_fail (task-filter) see
# random failures: 3% of their non-sleeping allocations (churn_under_faults).
# Order-0 pages must be eligible, and no stack dumps.
for a in failslab fail_page_alloc; do
	d=/sys/kernel/debug/$a
	[ -d "$d" ] || continue
	echo Y > "$d/task-filter"
	echo 3 > "$d/probability"
	echo 1 > "$d/interval"
	echo -1 > "$d/times"
	echo 0 > "$d/verbose"
	[ -f "$d/min-order" ] && echo 0 > "$d/min-order"
	echo "KUNIT-GUEST fault $a probability=$(cat $d/probability) task-filter=$(cat $d/task-filter) times=$(cat $d/times)"
done

insmod /lib/e2e-modules/zspp.ko && echo "KUNIT-GUEST insmod zspp ok"
insmod /lib/e2e-modules/zspp_kunit.ko
echo "KUNIT-GUEST insmod zspp_kunit rc=$?"
# KUnit's own record of each suite (KTAP), read before rmmod removes it, to
# the second serial port for the host (tests/harness/kunit.py): no kernel
# message lands in it, and no PCI device costs the debug kernel's boot time.
n=0
for d in /sys/kernel/debug/kunit/*/; do
	[ -f "$d/results" ] && cat "$d/results" && n=$((n + 1))
done > /dev/ttyS1
echo "KUNIT-GUEST debugfs results of $n suites written to ttyS1"
rmmod zspp_kunit
rmmod zspp
echo "KUNIT-GUEST rmmod zspp rc=$?"
ls /sys/kernel/debug/zspp 2>/dev/null | sed 's/^/KUNIT-GUEST leftover debugfs: /'
echo "KUNIT-GUEST done"
reboot -f
