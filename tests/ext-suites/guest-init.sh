#!/bin/busybox sh
# shellcheck shell=dash  # busybox ash
# /init of the external-suite run (tests/harness/ext_suites.py), debug kernel.
#
# Runs stress-ng's memory/swap stressors (with --verify) and a few of the
# kernel's own mm selftests in a memory cgroup whose memory.max is well below
# their working set, with zswap on the zpool of /etc/ext.conf, while a
# background loop takes CPU 1 offline and online, asks the kernel to compact
# memory (migrating the pool's movable pages), compacts zspp's pools through
# debugfs and runs every slab shrinker (drop_caches=2: zsmalloc's and zspp's
# compaction shrinkers, which memcg reclaim alone never calls on 6.12).
# Cases come from /etc/ext-cases, one a line: KIND NAME ARGS...
#   sng NAME ARGS   /usr/bin/stress-ng ARGS (called by full path: busybox ash
#                   runs its own applets first)
#   kst NAME ARGS   /kst/NAME ARGS, a kernel selftest; the first kst starts
#                   the pressure case below in the same cgroup beside them
#   bg  NAME ARGS   stress-ng ARGS in the background while the kst cases run,
#                   stopped with SIGINT after the last one (stress-ng then
#                   ends its run normally and reports it)
# Lines for the host:
#   EXT ...                progress; EXT-ERROR on a setup failure
#   @NAME <line>           a case's own output, streamed
#   EXT-RC NAME rc=N secs=S zswpout=N zswpin=N pswpout=N pswpin=N   per case
#   EXT-BG hotplugs=N compacts=N shrinks=N peak_stored_pages=N
#   ZSWAP-AFTER k=v..      /sys/kernel/debug/zswap after the cases
#   ZSPP <pool> k=v..      zspp pool summaries after the cases
#   EXT swapoff rc=N secs=S stored_pages=N   every entry loaded back
#   DMESG-BEGIN / DMESG-END, then EXT-END
PATH=/bin:/sbin:/usr/bin:/usr/sbin
export PATH
/bin/busybox mkdir -p /proc /sys /dev /tmp /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
mount -t tmpfs tmp /tmp
mkdir -p /dev/shm && mount -t tmpfs shm /dev/shm
mount -t debugfs debugfs /sys/kernel/debug
mount -t cgroup2 cgroup2 /sys/fs/cgroup
exec >/dev/console 2>&1 </dev/null

EXT_ZPOOL=zsmalloc
EXT_INSMOD=""
EXT_MEM=32M
EXT_ZSWAP_MAX=24M
EXT_CASE_TIMEOUT=120
# shellcheck disable=SC1091 # written by tests/harness/ext_suites.py
. /etc/ext.conf
P=/sys/module/zswap/parameters
CG=/sys/fs/cgroup/ext
echo "EXT begin kernel=$(uname -r) zpool=$EXT_ZPOOL cpus_online=$(cat /sys/devices/system/cpu/online)"

finish() {
	echo "DMESG-BEGIN"
	dmesg -r
	echo "DMESG-END"
	echo "EXT-END"
	sync
	reboot -f
}

n=0
while [ ! -e /dev/vda ] && [ $n -lt 100 ]; do usleep 100000; n=$((n + 1)); done
if ! mkswap /dev/vda >/dev/null || ! swapon /dev/vda; then
	echo "EXT-ERROR no swap on /dev/vda"
	finish
fi
for m in $EXT_INSMOD; do
	insmod "/lib/e2e-modules/$m.ko"
	echo "EXT insmod $m rc=$?"
done
echo lzo >$P/compressor
echo "$EXT_ZPOOL" >$P/zpool || echo "EXT-ERROR cannot set zpool $EXT_ZPOOL"
echo 1 >$P/enabled
echo "EXT zpool=$(cat $P/zpool) enabled=$(cat $P/enabled)"
echo +memory >/sys/fs/cgroup/cgroup.subtree_control
mkdir $CG
echo "$EXT_MEM" >$CG/memory.max
# 6.1+ charges zswap's pool to the cgroup: leave room for pages in memory.
echo "$EXT_ZSWAP_MAX" >$CG/memory.zswap.max
echo "EXT memcg max=$(cat $CG/memory.max) zswap_max=$(cat $CG/memory.zswap.max)"

vmstat() { awk -v k="$1" '$1 == k { print $2 }' /proc/vmstat; }

# Background: hotplug, compaction, shrinkers, and the peak of stored pages.
background() {
	hp=0 cp=0 sh=0 peak=0 i=0
	while [ ! -e /tmp/bg.stop ]; do
		echo 1 >/proc/sys/vm/compact_memory && cp=$((cp + 1))
		for f in /sys/kernel/debug/zspp/*/compact; do [ -e "$f" ] && echo 1 >"$f"; done
		if [ $((i % 5)) -eq 4 ]; then
			echo 2 >/proc/sys/vm/drop_caches && sh=$((sh + 1))
		fi
		if [ -e /sys/devices/system/cpu/cpu1/online ]; then
			echo 0 >/sys/devices/system/cpu/cpu1/online && echo 1 >/sys/devices/system/cpu/cpu1/online &&
				hp=$((hp + 1))
		fi
		s=$(cat /sys/kernel/debug/zswap/stored_pages 2>/dev/null || echo 0)
		[ "$s" -gt "$peak" ] && peak=$s
		echo "EXT-BG hotplugs=$hp compacts=$cp shrinks=$sh peak_stored_pages=$peak" >/tmp/bg.new &&
			mv /tmp/bg.new /tmp/bg
		i=$((i + 1))
		sleep 1
	done
}
background &
bgpid=$!

# in_cg CMD...: run CMD in the cgroup, bounded by EXT_CASE_TIMEOUT.
in_cg() {
	sh -c 'echo $$ >'"$CG"'/cgroup.procs && exec timeout -s KILL '"$EXT_CASE_TIMEOUT"' "$@"' sh "$@"
}

run_case() {
	kind=$1 name=$2
	shift 2
	o0=$(vmstat zswpout) i0=$(vmstat zswpin) p0=$(vmstat pswpout) q0=$(vmstat pswpin)
	t0=$(cut -d. -f1 /proc/uptime)
	echo "EXT case $name begin ($kind)"
	case $kind in
	sng) { in_cg /usr/bin/stress-ng --temp-path /tmp "$@"; echo $? >/tmp/rc; } 2>&1 | sed "s/^/@$name /" ;;
	kst) { cd /tmp && in_cg "/kst/$name" "$@"; echo $? >/tmp/rc; } 2>&1 | sed "s/^/@$name /" ;;
	esac
	t1=$(cut -d. -f1 /proc/uptime)
	echo "EXT-RC $name rc=$(cat /tmp/rc) secs=$((t1 - t0)) zswpout=$(($(vmstat zswpout) - o0))" \
		"zswpin=$(($(vmstat zswpin) - i0)) pswpout=$(($(vmstat pswpout) - p0)) pswpin=$(($(vmstat pswpin) - q0))"
}

bg_case="" bg_args="" bgcase_pid=""
start_bg_case() {
	[ -n "$bg_case" ] && [ -z "$bgcase_pid" ] || return 0
	echo "EXT case $bg_case begin (bg)"
	o0b=$(vmstat zswpout) i0b=$(vmstat zswpin) p0b=$(vmstat pswpout) q0b=$(vmstat pswpin)
	t0b=$(cut -d. -f1 /proc/uptime)
	# shellcheck disable=SC2086 # one word per argument
	{ sh -c 'echo $$ >'"$CG"'/cgroup.procs && exec /usr/bin/stress-ng --temp-path /tmp "$@"' sh $bg_args
		echo $? >/tmp/rc.bg; } 2>&1 | sed "s/^/@$bg_case /" &
	bgcase_pid=$!
	sleep 3
}
stop_bg_case() {
	[ -n "$bgcase_pid" ] || return 0
	# SIGINT: stress-ng stops its stressors and reports a normal end.
	for p in $(cat $CG/cgroup.procs); do
		[ "$(cat /proc/"$p"/comm 2>/dev/null)" = stress-ng ] && kill -INT "$p" 2>/dev/null
	done
	wait "$bgcase_pid"
	t1=$(cut -d. -f1 /proc/uptime)
	echo "EXT-RC $bg_case rc=$(cat /tmp/rc.bg) secs=$((t1 - t0b)) zswpout=$(($(vmstat zswpout) - o0b))" \
		"zswpin=$(($(vmstat zswpin) - i0b)) pswpout=$(($(vmstat pswpout) - p0b)) pswpin=$(($(vmstat pswpin) - q0b))"
	bgcase_pid=""
}

while read -r kind name args; do
	case $kind in
	"" | "#"*) continue ;;
	bg) bg_case=$name bg_args=$args; continue ;;
	kst) start_bg_case ;;
	*) stop_bg_case ;;
	esac
	# shellcheck disable=SC2086 # one word per argument
	run_case "$kind" "$name" $args
done </etc/ext-cases
stop_bg_case

touch /tmp/bg.stop
wait $bgpid
echo 1 >/sys/devices/system/cpu/cpu1/online 2>/dev/null
cat /tmp/bg
echo "EXT cpus_online=$(cat /sys/devices/system/cpu/online)"
line="ZSWAP-AFTER"
for f in /sys/kernel/debug/zswap/*; do [ -f "$f" ] && line="$line ${f##*/}=$(cat "$f")"; done
echo "$line"
for d in /sys/kernel/debug/zspp/*; do
	[ -f "$d/summary" ] && echo "ZSPP ${d##*/}$(awk '{ printf " %s=%s", $1, $2 }' "$d/summary")"
done
grep -E '^(pswpin|pswpout|zswpin|zswpout|compact_stall|compact_success|pgmigrate_success|oom_kill) ' /proc/vmstat |
	tr '\n' ' ' | sed 's/^/VMSTAT /'
echo
# swapoff reads every page left on swap back in: each zswap entry is loaded
# and freed through the allocator.
t0=$(cut -d. -f1 /proc/uptime)
swapoff /dev/vda
rc=$?
echo "EXT swapoff rc=$rc secs=$(($(cut -d. -f1 /proc/uptime) - t0)) stored_pages=$(cat /sys/kernel/debug/zswap/stored_pages)"
finish
