#!/bin/busybox sh
# shellcheck shell=dash  # busybox ash
# /init of the micro-benchmark initramfs (scripts/bench.sh): load zsmalloc and
# zspp, run zspp_bench.ko with the parameters of /etc/zspp-bench.conf (its init
# runs every configuration and logs BENCH-* lines), then the memory accounting
# runs (BENCH_MEM_ARGS: slab deltas around fill/churn/release), unload them, then the same
# with the CONFIG_ZSPP_FOLD=y zspp.ko and its zspp_bench.ko when the image has
# them (in fold/), dump the kernel log, reboot.
PATH=/bin:/sbin:/usr/bin:/usr/sbin
export PATH
/bin/busybox mkdir -p /proc /sys /dev /tmp /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
MODDIR=/lib/e2e-modules
BENCH_ARGS=""
BENCH_TIMED=1      # 0: no timed runs (zspp_bench.ko's own driver)
BENCH_MEM_ARGS=""  # non-empty: memory accounting runs (zspp_bench.ko hold=1 $BENCH_MEM_ARGS)
BENCH_MEM_CFGS=""  # their configurations, CONFIG:CHAIN ..., e.g. "zsmalloc:0 zspp-rw:8"
[ -f /etc/zspp-bench.conf ] && . /etc/zspp-bench.conf

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
exec >/dev/console 2>&1 </dev/null
echo "BENCH-GUEST kernel=$(uname -r) cpus_online=$(cat /sys/devices/system/cpu/online) mem=$(awk '$1 == "MemTotal:" { print $2 $3 }' /proc/meminfo) args='$BENCH_ARGS'"
# slab_snap FILE: /proc/slabinfo as "name active_objs objsize num_slabs
# pagesperslab" (caches of the same name summed), plus the meminfo slab lines.
# Every cache is shrunk first (/sys/kernel/slab/*/shrink: per-CPU slabs
# flushed, empty slabs freed), so active_objs is exact and the slab count is
# the memory live objects hold, not what earlier runs left cached.
slab_snap() {
	for f in /sys/kernel/slab/*/shrink; do echo 1 >"$f"; done 2>/dev/null
	awk 'NR > 2 { a[$1] += $2; o[$1] = $4; s[$1] += $15; p[$1] = $6 }
		END { for (n in a) print n, a[n], o[n], s[n], p[n] }' /proc/slabinfo >"$1"
	awk '$1 == "SUnreclaim:" || $1 == "Slab:" || $1 == "Percpu:" { print "meminfo:" $1, $2, 1024, 0, 0 }' /proc/meminfo >>"$1"
}
# slab_delta TAG BASE NOW: one BENCH-SLAB line per cache whose objects or
# slabs changed: d_objs, d_obj_bytes (active objects x object size) and
# d_slab_bytes (slabs x pages per slab x 4096: the memory the cache holds);
# meminfo lines as name=meminfo:SUnreclaim: with d_bytes.
slab_delta() {
	awk -v tag="$1" 'FNR == NR { a[$1] = $2; s[$1] = $4; next }
		$1 ~ /^meminfo:/ { d = ($2 - a[$1]) * $3; print "BENCH-SLAB tag=" tag " name=" $1 " d_bytes=" d; next }
		{ da = $2 - a[$1]; ds = $4 - s[$1]
		  if (da != 0 || ds != 0)
			print "BENCH-SLAB tag=" tag " name=" $1 " d_objs=" da " d_obj_bytes=" da * $3 " d_slab_bytes=" ds * $5 * 4096 }' "$2" "$3"
}
# run_mem DIR: the memory accounting runs (zspp_bench.ko hold=1): for every
# configuration, slab snapshot, fill, snapshot, churn (free 50% + compact),
# snapshot, release (verify + free + destroy), snapshot; deltas to the first.
run_mem() {
	dir=$1
	# shellcheck disable=SC2086 # word splitting of the module parameters is wanted
	insmod "$dir/zspp_bench.ko" hold=1 $BENCH_MEM_ARGS
	rc=$?
	echo "BENCH-INSMOD zspp_bench-mem rc=$rc"
	[ $rc -eq 0 ] || return
	P=/sys/module/zspp_bench/parameters/action
	for c in $BENCH_MEM_CFGS; do
		cfg=${c%%:*} chain=${c#*:}
		mtag="$cfg-c$chain"
		sync
		echo 3 >/proc/sys/vm/drop_caches
		slab_snap /tmp/s0
		echo "fill $cfg $chain" >$P || echo "BENCH-ERROR fill $cfg $chain failed"
		slab_snap /tmp/s1
		echo churn >$P || echo "BENCH-ERROR churn $cfg failed"
		slab_snap /tmp/s2
		echo release >$P || echo "BENCH-ERROR release $cfg failed"
		slab_snap /tmp/s3
		slab_delta "$mtag/fill" /tmp/s0 /tmp/s1
		slab_delta "$mtag/churn" /tmp/s0 /tmp/s2
		slab_delta "$mtag/release" /tmp/s0 /tmp/s3
		echo "BENCH-MEMDONE tag=$mtag"
	done
	rmmod zspp_bench
	echo "BENCH-RMMOD zspp_bench-mem rc=$?"
}
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
	if [ "$BENCH_TIMED" = 1 ]; then
		t0=$(cut -d' ' -f1 /proc/uptime)
		# shellcheck disable=SC2086 # word splitting of the module parameters is wanted
		insmod "$dir/zspp_bench.ko" $BENCH_ARGS
		rc=$?
		echo "BENCH-INSMOD zspp_bench$tag rc=$rc start=$t0 end=$(cut -d' ' -f1 /proc/uptime)"
		rmmod zspp_bench
	fi
	[ -z "$tag" ] && [ -n "$BENCH_MEM_ARGS" ] && run_mem "$dir"
	rmmod zspp
	echo "BENCH-RMMOD zspp$tag rc=$?"
}
# zsmalloc: a module on 6.1, built in on 6.12 (no zsmalloc.ko in the image).
zs_builtin=0
if [ -f $MODDIR/zsmalloc.ko ]; then
	insmod $MODDIR/zsmalloc.ko
	rc=$?
else
	zs_builtin=1 rc=0
fi
echo "BENCH-INSMOD zsmalloc rc=$rc builtin=$zs_builtin"
echo "BENCH-CMDLINE $(cat /proc/cmdline)"
if [ $rc -eq 0 ]; then
	run_set $MODDIR ""
	[ -f $MODDIR/fold/zspp.ko ] && run_set $MODDIR/fold -fold
	rc=0
	[ $zs_builtin = 1 ] || { rmmod zsmalloc; rc=$?; }
	echo "BENCH-RMMOD zsmalloc rc=$rc builtin=$zs_builtin"
fi
echo "DMESG-BEGIN"
dmesg -r
echo "DMESG-END"
echo "BENCH-GUEST-END"
sync
reboot -f
sleep 5
echo o >/proc/sysrq-trigger
