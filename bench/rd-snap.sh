#!/bin/busybox sh
# shellcheck shell=dash  # busybox ash
# /bin/rd-snap TAG (guest side of the real-data end to end, called by
# bench/realdata.c): "flush" drains the swap slot caches (swapon + swapoff of
# RD_FLUSH, /dev/vdb unless /etc/zspp-rd.conf says), "compact" runs the
# shrinkers (drop_caches 2: zsmalloc's and zspp's shrinkers compact their
# pools), any other TAG prints a snapshot:
#   RD-ZSWAP tag= <every /sys/kernel/debug/zswap file>=value
#   RD-MEMCG tag= current= zswap_current= anon= swap= (cgroup rd)
#   RD-VMSTAT tag= zswpout= zswpin= pswpout= pswpin=
#   RD-ZSPP tag= pool= <zspp debugfs summary>   (zspp only)
#   RD-SLAB tag= name= d_objs= d_obj_bytes= d_slab_bytes=   (change since "base",
#     every cache that changed; name=meminfo:SUnreclaim: etc. with d_bytes=)
set -u
tag=$1
RD_FLUSH=/dev/vdb
# shellcheck disable=SC1091 # written by scripts/bench.sh or bench/scale.py
[ -f /etc/zspp-rd.conf ] && . /etc/zspp-rd.conf
case $tag in
flush)
	swapon "$RD_FLUSH" && swapoff "$RD_FLUSH"
	echo "RD-FLUSH rc=$?"
	exit 0
	;;
compact)
	t0=$(cut -d' ' -f1 /proc/uptime)
	echo 2 >/proc/sys/vm/drop_caches
	echo "RD-COMPACT start=$t0 end=$(cut -d' ' -f1 /proc/uptime)"
	exit 0
	;;
esac
line="RD-ZSWAP tag=$tag"
for f in /sys/kernel/debug/zswap/*; do
	line="$line $(basename "$f")=$(cat "$f")"
done
echo "$line"
CG=/sys/fs/cgroup/rd
if [ -d $CG ]; then
	echo "RD-MEMCG tag=$tag current=$(cat $CG/memory.current) zswap_current=$(cat $CG/memory.zswap.current 2>/dev/null || echo -1) $(awk '$1 == "anon" || $1 == "swap" || $1 == "zswap" || $1 == "zswapped" { printf "%s=%s ", $1, $2 }' $CG/memory.stat)"
fi
echo "RD-VMSTAT tag=$tag $(awk '$1 ~ /^(zswpout|zswpin|pswpout|pswpin)$/ { printf "%s=%s ", $1, $2 }' /proc/vmstat)"
for d in /sys/kernel/debug/zspp/*/; do
	[ -f "$d/summary" ] || continue
	echo "RD-ZSPP tag=$tag pool=$(basename "$d") $(awk '{ printf "%s=%s ", $1, $2 }' "$d/summary")"
done
# Shrink every cache first (per-CPU slabs flushed, empty slabs freed): exact
# active_objs, and slab memory held by live objects only.
for f in /sys/kernel/slab/*/shrink; do echo 1 >"$f"; done 2>/dev/null
awk 'NR > 2 { a[$1] += $2; o[$1] = $4; s[$1] += $15; p[$1] = $6 }
	END { for (n in a) print n, a[n], o[n], s[n], p[n] }' /proc/slabinfo >/tmp/rd-$tag
awk '$1 == "SUnreclaim:" || $1 == "Slab:" || $1 == "Percpu:" { print "meminfo:" $1, $2, 1024, 0, 0 }' /proc/meminfo >>/tmp/rd-$tag
[ "$tag" = base ] && exit 0
awk -v tag="$tag" 'FNR == NR { a[$1] = $2; s[$1] = $4; next }
	$1 ~ /^meminfo:/ { print "RD-SLAB tag=" tag " name=" $1 " d_bytes=" ($2 - a[$1]) * $3; next }
	{ da = $2 - a[$1]; ds = $4 - s[$1]
	  if (da != 0 || ds != 0)
		print "RD-SLAB tag=" tag " name=" $1 " d_objs=" da " d_obj_bytes=" da * $3 " d_slab_bytes=" ds * $5 * 4096 }' /tmp/rd-base /tmp/rd-$tag
