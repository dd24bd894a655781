#!/bin/busybox sh
# shellcheck shell=dash  # busybox ash
# /init of the workload benchmark's guest (bench/workloads/workloads.py):
# zswap on the zpool of /etc/wl.conf, a swap disk (WL_SWAP, /dev/vda), the
# Debian 12 system image of the kernel-build workload when there is one
# (WL_IMAGE: ext4, mounted on /mnt/img, which that workload chroots into;
# bench/workloads/kbuild-image.sh), then each
# workload of /etc/wl.conf in its own memory cgroup whose memory.max is set
# below the program's resident size, so its pages go through zswap. While a
# workload runs, a sampler prints the allocator's memory every WL_PERIOD
# seconds (pool pages from zswap's debugfs plus the allocator's own
# metadata: zspp's bytes_metadata, zsmalloc's zs_handle/zspage slab caches
# under slab_nomerge, zbud none). The program's output goes through sha256sum
# only (no output file held in RAM); the host compares it with what the same
# binary printed on the host. Lines (the host parses them; nothing is judged
# here):
#   WL-GUEST kernel= zpool= cmdline=
#   WL-START name= limit= t=
#   WL-S name= t= pool= meta= stored=            (one per sample)
#   WL-RESULT name= rc= sha= start= end= zswpout= zswpin= pswpout= pswpin=
#             pgmajfault= written_back= oom_kill=
#   WL-END
PATH=/bin:/sbin:/usr/bin:/usr/sbin
export PATH
/bin/busybox mkdir -p /proc /sys /dev /tmp /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
MODDIR=/lib/e2e-modules
WL_ZPOOL=zsmalloc
WL_ZSPP_PARAMS=
WL_PERIOD=0.5
WL_LIST=
WL_COMPRESSOR=lzo
WL_SWAP=/dev/vda
WL_IMAGE=
# shellcheck disable=SC1091 # written by workloads.py
[ -f /etc/wl.conf ] && . /etc/wl.conf

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t debugfs debugfs /sys/kernel/debug
mount -t cgroup2 cgroup2 /sys/fs/cgroup
mount -t tmpfs tmpfs /tmp
exec >/dev/console 2>&1 </dev/null
echo "WL-GUEST kernel=$(uname -r) zpool=$WL_ZPOOL zspp_params='$WL_ZSPP_PARAMS' cmdline='$(cat /proc/cmdline)'"
for m in virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci virtio_blk zsmalloc z3fold \
	crc32c_generic crc16 mbcache jbd2 ext4; do
	[ -f $MODDIR/$m.ko ] || continue
	insmod $MODDIR/$m.ko
done
[ "$WL_ZPOOL" = zbud ] && modprobe zbud 2>/dev/null
if [ "$WL_ZPOOL" = zspp ]; then
	# shellcheck disable=SC2086 # zero or more name=value words
	insmod $MODDIR/zspp.ko $WL_ZSPP_PARAMS
	echo "WL-INSMOD zspp rc=$?"
fi
i=0
while [ ! -b "$WL_SWAP" ] && [ $i -lt 50 ]; do
	sleep 0.2
	i=$((i + 1))
done
mkswap "$WL_SWAP" >/dev/null && swapon "$WL_SWAP"
echo "WL-SWAPON rc=$?"
if [ -n "$WL_IMAGE" ]; then
	mkdir -p /mnt/img
	mount -t ext4 "$WL_IMAGE" /mnt/img &&
		mount -t proc proc /mnt/img/proc &&
		mount -t devtmpfs devtmpfs /mnt/img/dev &&
		mount -t tmpfs tmpfs /mnt/img/tmp
	echo "WL-IMAGE rc=$?"
fi
P=/sys/module/zswap/parameters
echo "$WL_COMPRESSOR" >$P/compressor
echo "$WL_ZPOOL" >$P/zpool
echo 1 >$P/enabled
echo "WL-ZSWAP enabled=$(cat $P/enabled) zpool=$(cat $P/zpool) compressor=$(cat $P/compressor)"
echo +memory >/sys/fs/cgroup/cgroup.subtree_control

# The allocator's own metadata in bytes (see the top of this file).
meta() {
	case $WL_ZPOOL in
	zspp)
		cat /sys/kernel/debug/zspp/*/summary 2>/dev/null | awk '$1 == "bytes_metadata" { s += $2 } END { print s + 0 }'
		;;
	zsmalloc)
		awk '$1 ~ /^(zs_handle|zspage)/ { s += $2 * $4 } END { print s + 0 }' /proc/slabinfo
		;;
	*) echo 0 ;;
	esac
}
vm() { awk -v k="$1" '$1 == k { print $2 }' /proc/vmstat; }
zsw() { cat "/sys/kernel/debug/zswap/$1" 2>/dev/null || echo 0; }

sampler() {
	while [ -f /tmp/wl-running ]; do
		echo "WL-S name=$1 t=$(cut -d' ' -f1 /proc/uptime) pool=$(zsw pool_total_size) meta=$(meta) stored=$(zsw stored_pages)"
		sleep "$WL_PERIOD"
	done
}

for w in $WL_LIST; do
	# WL_<name>_CMD: the command line; WL_<name>_LIMIT: memory.max in bytes.
	cmd="" limit=""
	eval "cmd=\$WL_${w}_CMD limit=\$WL_${w}_LIMIT"
	CG=/sys/fs/cgroup/wl-$w
	mkdir -p "$CG"
	echo "$limit" >"$CG/memory.max"
	sync
	echo 3 >/proc/sys/vm/drop_caches
	o1=$(vm zswpout) i1=$(vm zswpin) po1=$(vm pswpout) pi1=$(vm pswpin) f1=$(vm pgmajfault) wb1=$(zsw written_back_pages)
	: >/tmp/wl-running
	t0=$(cut -d' ' -f1 /proc/uptime)
	echo "WL-START name=$w limit=$limit t=$t0"
	sampler "$w" &
	spid=$!
	# shellcheck disable=SC2086 # $cmd is the workload's command line
	sh -c "echo \$\$ >$CG/cgroup.procs && exec $cmd" >/tmp/wl-out 2>/tmp/wl-err
	rc=$?
	t1=$(cut -d' ' -f1 /proc/uptime)
	rm -f /tmp/wl-running
	wait "$spid"
	sha=$(sha256sum </tmp/wl-out | cut -d' ' -f1)
	oom=$(awk '$1 == "oom_kill" { print $2 }' "$CG/memory.events")
	echo "WL-RESULT name=$w rc=$rc sha=$sha start=$t0 end=$t1 zswpout=$(($(vm zswpout) - o1)) zswpin=$(($(vm zswpin) - i1)) pswpout=$(($(vm pswpout) - po1)) pswpin=$(($(vm pswpin) - pi1)) pgmajfault=$(($(vm pgmajfault) - f1)) written_back=$(($(zsw written_back_pages) - wb1)) oom_kill=$oom"
	[ "$rc" -eq 0 ] || sed -n '1,5p' /tmp/wl-err
	rm -f /tmp/wl-out /tmp/wl-err
	rmdir "$CG" 2>/dev/null
done
echo "WL-SUMMARY zswap: $(for f in /sys/kernel/debug/zswap/*; do printf '%s=%s ' "$(basename "$f")" "$(cat "$f")"; done)"
for d in /sys/kernel/debug/zspp/*/; do
	[ -f "$d/summary" ] && echo "WL-ZSPP $(awk '{ printf "%s=%s ", $1, $2 }' "$d/summary")"
done
echo "DMESG-BEGIN"
dmesg -r
echo "DMESG-END"
echo "WL-END"
[ -n "$WL_IMAGE" ] && umount /mnt/img/tmp /mnt/img/dev /mnt/img/proc /mnt/img
sync
reboot -f
sleep 5
echo o >/proc/sysrq-trigger
