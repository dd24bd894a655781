#!/bin/busybox sh
# shellcheck shell=dash  # busybox ash
# /init of the real-data end-to-end initramfs (scripts/bench.sh, run_realdata):
# zswap on the zpool of /etc/zspp-rd.conf (zsmalloc or zspp; lzo), a swap disk
# (RD_SWAP, /dev/vda) and a small one to flush the swap slot caches (RD_FLUSH,
# /dev/vdb), a memory cgroup without limits; then bench/realdata.c in that
# cgroup on the blob of real files (RD_BLOB: /data/blob in the initramfs, or a
# disk holding it for the scale curve's gigabytes, bench/scale.py), which calls
# /bin/rd-snap at every measuring point (RD-* lines, see bench/rd-snap.sh).
# Kernel log dumped, reboot.
PATH=/bin:/sbin:/usr/bin:/usr/sbin
export PATH
/bin/busybox mkdir -p /proc /sys /dev /tmp /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
MODDIR=/lib/e2e-modules
RD_ZPOOL=zsmalloc
RD_ZSPP_PARAMS=
RD_BYTES_A=0
RD_BYTES_B=0
RD_MAX_POOL_PERCENT=50
RD_BLOB=/data/blob
RD_SWAP=/dev/vda
RD_FLUSH=/dev/vdb
# shellcheck disable=SC1091 # written by scripts/bench.sh
[ -f /etc/zspp-rd.conf ] && . /etc/zspp-rd.conf

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t debugfs debugfs /sys/kernel/debug
mount -t cgroup2 cgroup2 /sys/fs/cgroup
exec >/dev/console 2>&1 </dev/null
echo "RD-GUEST kernel=$(uname -r) zpool=$RD_ZPOOL zspp_params='$RD_ZSPP_PARAMS' bytes_a=$RD_BYTES_A bytes_b=$RD_BYTES_B cmdline='$(cat /proc/cmdline)'"
for m in virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci virtio_blk zsmalloc; do
	[ -f $MODDIR/$m.ko ] || continue
	insmod $MODDIR/$m.ko
	echo "RD-INSMOD $m rc=$?"
done
if [ "$RD_ZPOOL" = zspp ]; then
	# shellcheck disable=SC2086 # RD_ZSPP_PARAMS: zero or more name=value words
	insmod $MODDIR/zspp.ko $RD_ZSPP_PARAMS
	echo "RD-INSMOD zspp rc=$?"
fi
i=0
while [ ! -b "$RD_FLUSH" ] && [ $i -lt 50 ]; do
	sleep 0.2
	i=$((i + 1))
done
mkswap "$RD_SWAP" >/dev/null && swapon "$RD_SWAP"
echo "RD-SWAPON rc=$?"
mkswap "$RD_FLUSH" >/dev/null
P=/sys/module/zswap/parameters
echo lzo >$P/compressor
echo "$RD_ZPOOL" >$P/zpool
echo "$RD_MAX_POOL_PERCENT" >$P/max_pool_percent
echo 1 >$P/enabled
echo "RD-ZSWAP-PARAMS enabled=$(cat $P/enabled) zpool=$(cat $P/zpool) compressor=$(cat $P/compressor) max_pool_percent=$(cat $P/max_pool_percent)"
CG=/sys/fs/cgroup/rd
echo +memory >/sys/fs/cgroup/cgroup.subtree_control
mkdir -p $CG
sync
echo 3 >/proc/sys/vm/drop_caches
/bin/rd-snap base
t0=$(cut -d' ' -f1 /proc/uptime)
sh -c "echo \$\$ >$CG/cgroup.procs && exec /bin/realdata $RD_BLOB $RD_BYTES_A $RD_BYTES_B $CG /bin/rd-snap"
echo "RD-EXIT rc=$? start=$t0 end=$(cut -d' ' -f1 /proc/uptime)"
echo "DMESG-BEGIN"
dmesg -r
echo "DMESG-END"
echo "RD-END"
sync
reboot -f
sleep 5
echo o >/proc/sysrq-trigger
