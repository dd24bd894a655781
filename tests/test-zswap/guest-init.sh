#!/bin/busybox sh
# shellcheck shell=dash
# /init of the test_zswap peer run (tests/harness/zswap_peer.py).
#
# Runs the kernel's own cgroup selftest test_zswap (built from Debian's
# linux-source-6.12, installed as /bin/test_zswap) with zswap on the zpool
# named in /etc/zspp-e2e.conf, then dumps dmesg and reboots. Lines for the host:
#   TZ ...              progress; TZ-ERROR on a setup failure
#   INSMOD <m> rc=N
#   ZSWAP-PARAMS ...    zswap parameters before the run (and ZSWAP-PARAMS-AFTER)
#   ZSWAP-AFTER k=v..   /sys/kernel/debug/zswap after the run
#   ZSPP <pool> k=v..   zspp pool summaries after the run (zspp only)
#   PEAK stored_pages=N zspp_objects=N   maxima sampled every second during the run
#   TAP lines of test_zswap as it prints them ("ok 1 test_zswap_usage", ...)
#   TZ-EXIT rc=N        test_zswap's exit status (124: timed out)
#   DMESG-BEGIN / DMESG-END, then TZ-END

PATH=/bin:/sbin:/usr/bin:/usr/sbin
export PATH
/bin/busybox mkdir -p /proc /sys /dev /tmp /sbin /usr/bin /usr/sbin
/bin/busybox --install -s

MODDIR=/lib/e2e-modules
P=/sys/module/zswap/parameters
TZ_ZPOOL=zsmalloc
TZ_INSMOD=""
TZ_ZSPP_PARAMS=""  # insmod parameters of zspp.ko
TZ_COMPRESSOR=lzo
TZ_TIMEOUT=900
# shellcheck disable=SC1091 # written by tests/harness/zswap_peer.py
[ -f /etc/zspp-e2e.conf ] && . /etc/zspp-e2e.conf

err() { echo "TZ-ERROR $*"; }

finish() {
	echo "DMESG-BEGIN"
	dmesg -r
	echo "DMESG-END"
	echo "TZ-END"
	sync
	reboot -f
	sleep 5
	echo o >/proc/sysrq-trigger
}

params() {
	line="$1"
	for p in enabled zpool compressor max_pool_percent accept_threshold_percent shrinker_enabled; do
		[ -f $P/$p ] && line="$line $p=$(cat $P/$p)"
	done
	echo "$line"
}

setup() {
	mount -t sysfs sysfs /sys
	mount -t devtmpfs devtmpfs /dev 2>/dev/null
	mount -t tmpfs tmpfs /tmp
	mount -t debugfs debugfs /sys/kernel/debug || { err "cannot mount debugfs"; return 1; }
	mount -t cgroup2 cgroup2 /sys/fs/cgroup || { err "cannot mount cgroup2"; return 1; }
	for m in virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci virtio_blk $TZ_INSMOD; do
		[ -f "$MODDIR/$m.ko" ] || continue
		params=""
		[ "$m" = zspp ] && params=$TZ_ZSPP_PARAMS
		# shellcheck disable=SC2086 # one word per parameter
		insmod "$MODDIR/$m.ko" $params
		rc=$?
		echo "INSMOD $m rc=$rc${params:+ params=$params}"
		[ $rc -eq 0 ] || { err "insmod $m failed"; return 1; }
	done
	n=0
	while [ ! -e /dev/vda ] && [ $n -lt 100 ]; do usleep 100000; n=$((n + 1)); done
	if ! mkswap /dev/vda >/dev/null || ! swapon /dev/vda; then
		err "no swap on /dev/vda"
		return 1
	fi
	echo "$TZ_COMPRESSOR" >$P/compressor || err "cannot set compressor"
	echo "$TZ_ZPOOL" >$P/zpool || { err "cannot set zpool $TZ_ZPOOL"; return 1; }
	echo Y >$P/enabled || { err "cannot enable zswap"; return 1; }
	params ZSWAP-PARAMS
	[ "$(cat $P/zpool)" = "$TZ_ZPOOL" ] || { err "zswap zpool is $(cat $P/zpool), not $TZ_ZPOOL"; return 1; }
}

# sampler: keep the peak of zswap's stored pages and of zspp's objects in /tmp/peak.
sampler() {
	ps=0 po=0
	while :; do
		s=$(cat /sys/kernel/debug/zswap/stored_pages 2>/dev/null || echo 0)
		o=0
		for f in /sys/kernel/debug/zspp/*/summary; do
			[ -f "$f" ] && o=$((o + $(awk '$1 == "objects" { print $2 }' "$f")))
		done
		[ "$s" -gt "$ps" ] && ps=$s
		[ "$o" -gt "$po" ] && po=$o
		# Renamed into place: the kill below may land between a
		# truncating ">" and its write (a zsmalloc boot once had no
		# PEAK line that way).
		echo "PEAK stored_pages=$ps zspp_objects=$po" >/tmp/peak.new && mv /tmp/peak.new /tmp/peak
		sleep 1
	done
}

mount -t proc proc /proc 2>/dev/null
exec >/dev/console 2>&1 </dev/null
echo "TZ begin kernel=$(uname -r) zpool=$TZ_ZPOOL"
if setup; then
	echo "TZ running test_zswap"
	sampler &
	spid=$!
	timeout "$TZ_TIMEOUT" /bin/test_zswap
	echo "TZ-EXIT rc=$?"
	kill $spid
	wait $spid 2>/dev/null
	cat /tmp/peak 2>/dev/null
	params ZSWAP-PARAMS-AFTER
	line="ZSWAP-AFTER"
	for f in /sys/kernel/debug/zswap/*; do
		[ -f "$f" ] && line="$line ${f##*/}=$(cat "$f")"
	done
	echo "$line"
	for d in /sys/kernel/debug/zspp/*; do
		[ -f "$d/summary" ] || continue
		echo "ZSPP ${d##*/}$(awk '{ printf " %s=%s", $1, $2 }' "$d/summary")"
	done
fi
finish
