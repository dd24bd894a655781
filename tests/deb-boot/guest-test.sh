#!/bin/bash
# The in-guest half of scripts/deb-boot.sh, installed into the Debian image by
# that script (never by zspp-dkms) as /usr/local/lib/zspp-boot-test/run and run
# by zspp-boot-test.service once the boot has finished (systemctl
# is-system-running --wait). It reports facts to the serial console and powers
# off; the host script makes every assertion from the console log.
#
# Which boot this is follows from the package's state:
#   zspp-dkms installed ("installed" boot): record zswap's parameters, the
#     command line, dmesg's zswap/zspp lines, lsmod, zspp.service; run the
#     verified workload in a memory cgroup, pushed out through swap (and so
#     zswap) with memory.reclaim while it is parked after its fill; zswap's
#     and zspp's counters then and after it read everything back; then
#     `apt-get purge zspp-dkms` here, in the booted system.
#   installed and /etc/depmod.d/zspp-zsmalloc.conf present ("zram-on" boot,
#     ZRAM=1 only: the image ran `zspp-enable --zram on`): the same up to the
#     purge, then the workload again with zswap's zpool switched to
#     zsmalloc, then `zspp-enable --zram off`; no purge.
#   not installed ("purged" boot): the same facts, plus where zspp could
#     still be (modules, initramfs, dkms, unit files, depmod.d).
#   installed with BACKPORTS=1 ("backports" boot: a kernel without zpool):
#     the facts and the workload as for "installed", no purge.
# With ZRAM=1 (Debian 12's 6.1, zram-tools in the image: zramswap.service
# puts a zram swap above /dev/vdb) every boot also records which zsmalloc
# module is loaded and what modprobe would load, and zram's state when the
# workload is pushed out (the pages zswap refuses, the random ones, land in
# zram; with zswap off, all of them); the "installed" boot of ZRAM=1 runs
# `zspp-enable --zram on` before the purge (which must remove its file).
#
# Lines for the host start with "ZB " (ZB-DMESG for the full kernel log at the
# end; WORKLOAD lines are the workload's own).
set -uo pipefail
export PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8
conf=/etc/zspp-boot-test.conf
PAGES=8192
ZRAM=0
# shellcheck disable=SC1090 # written by scripts/deb-boot.sh
[[ -f $conf ]] && . "$conf"
P=/sys/module/zswap/parameters
D=/sys/kernel/debug
CG=/sys/fs/cgroup/zspp-boot-test
here=/usr/local/lib/zspp-boot-test

zb() { echo "ZB $*"; }
kv_summary() { # TAG: one line per zspp pool, "key=value" from its summary
	local s pool
	for s in $D/zspp/*/summary; do
		[[ -f $s ]] || continue
		pool=${s%/summary}
		pool=${pool##*/}
		zb "SUMMARY-$1 $pool $(awk '{ printf "%s%s=%s", (NR > 1 ? " " : ""), $1, $2 }' "$s")"
		# The file itself, line by line, for the reader.
		sed "s|^|ZB SUMMARYFILE-$1 $s: |" "$s"
	done
}
zswap_stats() { # TAG
	local f line=""
	for f in $D/zswap/*; do
		[[ -f $f ]] && line="$line ${f##*/}=$(cat "$f")"
	done
	zb "ZSWAP-$1${line}"
}

# zsmalloc_facts: which zsmalloc module is loaded, what modprobe would load,
# and zram's swap (ZRAM=1 only). The host compares the srcversions.
zsmalloc_facts() {
	local m=/sys/module/zsmalloc k f
	k=$(uname -r)
	zb "ZS-LOADED initstate=$(cat $m/initstate 2>/dev/null) srcversion=$(cat $m/srcversion 2>/dev/null) taint=$(cat $m/taint 2>/dev/null) version=$(cat $m/version 2>/dev/null) holders=$(ls $m/holders 2>/dev/null | paste -sd, -)"
	zb "ZS-PROC $(grep -E '^zsmalloc ' /proc/modules)"
	for f in /lib/modules/"$k"/updates/dkms/zsmalloc.ko* /lib/modules/"$k"/kernel/mm/zsmalloc.ko*; do
		[[ -e $f ]] && zb "ZS-FILE $f srcversion=$(modinfo -F srcversion "$f" 2>&1) intree=$(modinfo -F intree "$f" 2>&1)"
	done
	zb "ZS-MODINFO $(modinfo -F filename zsmalloc 2>&1)"
	zb "ZS-DEPENDS $(modprobe --show-depends zram 2>&1 | paste -sd '|' -)"
	zb "ZS-DEPMODD $(ls /etc/depmod.d/zspp-zsmalloc.conf /usr/lib/depmod.d/zspp-zsmalloc.conf 2>/dev/null | paste -sd ' ' -)"
	if [[ -d $D/zspp-zsmalloc ]]; then zb "ZS-DEBUGFS $(ls $D/zspp-zsmalloc | paste -sd ' ' -)"; else zb "ZS-DEBUGFS absent"; fi
	zb "ZRAMSWAP active=$(systemctl is-active zramswap.service 2>&1) enabled=$(systemctl is-enabled zramswap.service 2>&1)"
	zb "ZRAM-DEV disksize=$(cat /sys/block/zram0/disksize 2>/dev/null) algorithm=$(cat /sys/block/zram0/comp_algorithm 2>/dev/null)"
}
# zram_state TAG: zram0's counters and swap line, zspp-zsmalloc's zram0 pool.
zram_state() {
	local s=$D/zspp-zsmalloc/zram0/summary
	zb "ZRAM-$1 mm_stat=$(cat /sys/block/zram0/mm_stat 2>/dev/null | tr -s ' ' ',' | sed 's/^,//') swap=$(awk '$1 == "/dev/zram0" { print $3 "/" $4 "/" $5 }' /proc/swaps)"
	if [[ -f $s ]]; then
		zb "ZRAMPOOL-$1 $(awk '{ printf "%s%s=%s", (NR > 1 ? " " : ""), $1, $2 }' "$s")"
	fi
}
# zspp_zsmalloc_pools TAG: zspp-zsmalloc's pools other than zram's, one line each.
zspp_zsmalloc_pools() {
	local s pool
	for s in $D/zspp-zsmalloc/*/summary; do
		[[ -f $s ]] || continue
		pool=${s%/summary}
		pool=${pool##*/}
		[[ $pool == zram* ]] && continue
		zb "ZSPOOL-$1 $pool $(awk '{ printf "%s%s=%s", (NR > 1 ? " " : ""), $1, $2 }' "$s")"
	done
}

echo "ZB-BEGIN"
systemctl is-system-running --wait >/dev/null 2>&1
zb "SYSTEM $(systemctl is-system-running 2>&1) uptime=$(cut -d' ' -f1 /proc/uptime)"
if [[ $(dpkg-query -W -f='${Status}' zspp-dkms 2>/dev/null) == "install ok installed" ]]; then
	phase=installed
else
	phase=purged
fi
# Debian 13 on trixie-backports' kernel without zpool (deb-boot.sh --dist
# trixie-backports): installed, but zspp must stay out of the way; the
# workload runs through zswap's own zsmalloc, no purge.
if [[ $phase == installed && ${BACKPORTS:-0} == 1 ]]; then
	phase=backports
fi
# zspp-enable --zram on ran before this boot (Debian 12's 6.1 only).
if [[ $phase == installed && $ZRAM == 1 && -e /etc/depmod.d/zspp-zsmalloc.conf ]]; then
	phase=zram-on
fi
zb "PHASE $phase"
zb "UNAME $(uname -r)"
zb "CMDLINE $(cat /proc/cmdline)"
for f in "$P"/*; do
	zb "PARAM ${f##*/}=$(cat "$f")"
done
grep -H . "$P"/* | sed 's/^/ZB PARAMFILE /'
dmesg | grep -iE 'zswap|zspp' | sed 's/^/ZB KLOG /'
lsmod | sed 's/^/ZB LSMOD /'
zb "SERVICE zspp.service active=$(systemctl is-active zspp.service 2>&1) enabled=$(systemctl is-enabled zspp.service 2>&1)"
zb "SERVICE-DETAIL $(systemctl show -p ActiveState,SubState,Result,ConditionResult zspp.service 2>&1 | paste -sd ' ' -)"
journalctl -b -u zspp.service --no-pager -o cat 2>&1 | sed 's/^/ZB UNIT-LOG /'
sed 's/^/ZB SWAPS /' /proc/swaps
if [[ -d $D/zspp ]]; then zb "DEBUGFS $(ls $D/zspp | paste -sd ' ' -)"; else zb "DEBUGFS absent"; fi
systemctl --failed --no-legend --plain 2>&1 | sed 's/^/ZB FAILED-UNITS /'
kv_summary BOOT
[[ $ZRAM == 1 ]] && zsmalloc_facts

# workload PREFIX: the verified workload in a memory cgroup, pushed out while
# parked; every line's tag starts with PREFIX ("" the first time).
workload() {
	local x=$1 wpid rc anon0 i
	# The workload's cgroup: a generous memory.max (6.1 charges zswap's pool
	# to it), the pages pushed out on request by memory.reclaim.
	echo +memory >/sys/fs/cgroup/cgroup.subtree_control 2>/dev/null
	mkdir -p $CG
	echo 512M >$CG/memory.max
	rm -f /run/zspp-wl.paused /run/zspp-wl.go
	sh -c "echo \$\$ >$CG/cgroup.procs && exec $here/workload -q -L -s 1 -g 2 -P /run/zspp-wl $PAGES" \
		>/run/zspp-wl.log 2>&1 &
	wpid=$!
	for ((i = 0; i < 1200; i++)); do
		[[ -e /run/zspp-wl.paused ]] && break
		kill -0 $wpid 2>/dev/null || break
		sleep 0.25
	done
	zb "${x}FILLED paused=$([[ -e /run/zspp-wl.paused ]] && echo 1 || echo 0) memory.current=$(cat $CG/memory.current) uptime=$(cut -d' ' -f1 /proc/uptime)"
	zswap_stats "${x}BEFORE"
	# More than the whole workload, three times: each write reclaims what it
	# can (EAGAIN when short of the amount), the workload's own memory is
	# mlocked (-L), so what goes is the test area.
	anon0=$(awk '$1 == "anon" { print $2 }' $CG/memory.stat)
	for _ in 1 2 3; do
		echo 512M >$CG/memory.reclaim 2>/dev/null
	done
	zb "${x}RECLAIMED anon_before=$anon0 anon_after=$(awk '$1 == "anon" { print $2 }' $CG/memory.stat) memory.current=$(cat $CG/memory.current) memory.swap.current=$(cat $CG/memory.swap.current) memory.zswap.current=$(cat $CG/memory.zswap.current 2>/dev/null || echo n/a)"
	zswap_stats "${x}RECLAIMED"
	kv_summary "${x}RECLAIMED"
	if [[ $ZRAM == 1 ]]; then
		zram_state "${x}RECLAIMED"
		zspp_zsmalloc_pools "${x}RECLAIMED"
	fi
	# The user's view of the same moment (zspp-enable(8)).
	zspp-enable --status 2>&1 | sed "s/^/ZB ${x}STATUS /"
	zb "${x}STATUS-JSON $(zspp-enable --status --json 2>&1 | paste -sd ' ' -)"
	: >/run/zspp-wl.go
	wait $wpid
	rc=$?
	sed "s/^/ZB ${x}WL /" /run/zspp-wl.log
	zb "${x}WORKLOAD-EXIT rc=$rc"
	grep -E '^(pswpin|pswpout|zswpin|zswpout) ' /proc/vmstat | paste -sd ' ' - | sed "s/^/ZB ${x}VMSTAT /"
	zswap_stats "${x}AFTER"
	kv_summary "${x}AFTER"
	rmdir $CG 2>/dev/null
}

if [[ $phase != purged ]]; then
	zb "DKMS $(dkms status zspp 2>/dev/null | paste -sd '|' -)"
	zb "INITRD-ZSPP $(lsinitramfs "/boot/initrd.img-$(uname -r)" 2>&1 | grep -E '/zspp\.ko' | paste -sd ' ' -)"
	workload ""
fi
# zram_switch on|off: `zspp-enable --zram on|off` in the booted system, its
# output as ZRAM-ON-LOG / ZRAM-OFF-LOG lines, its status and guest time as
# ZRAM-ON / ZRAM-OFF, the file the next load of zsmalloc takes as
# ZRAM-ON-MODINFO / ZRAM-OFF-MODINFO.
zram_switch() {
	local tag t0 rc
	tag=ZRAM-${1^^}
	t0=$(cut -d' ' -f1 /proc/uptime)
	zspp-enable --zram "$1" >/run/zspp-zram.log 2>&1
	rc=$?
	sed "s/^/ZB $tag-LOG /" /run/zspp-zram.log
	zb "$tag rc=$rc guest_seconds=$(awk -v a="$t0" '{ print $1 - a }' /proc/uptime)"
	zb "$tag-MODINFO $(modinfo -F filename zsmalloc 2>&1)"
}
if [[ $phase == zram-on ]]; then
	# zswap with zpool=zsmalloc: a new pool of the loaded zsmalloc module's
	# zpool driver (zspp's, loaded for zram), then back to zspp.
	echo zsmalloc >$P/zpool
	zb "ZS-ZPOOL $(cat $P/zpool)"
	workload ZSM-
	echo zspp >$P/zpool
	# The switch back, in the booted system: from the next load of zsmalloc.
	zram_switch off
	zb "ZRAM-OFF-STATUS-JSON $(zspp-enable --status --json 2>&1 | paste -sd ' ' -)"
elif [[ $phase == installed && $ZRAM == 1 ]]; then
	# Switched on again in the booted system (its checks pass on 6.1), so that
	# the purge finds the /etc file to remove.
	zram_switch on
fi
if [[ $phase == installed ]]; then
	# The user's uninstall, in the booted system.
	t0=$(cut -d' ' -f1 /proc/uptime)
	# Each output line stamped with the guest's uptime: where the time goes
	# (dpkg without apt's pty, so that its lines are not held back until the end).
	DEBIAN_FRONTEND=noninteractive apt-get -o Dpkg::Use-Pty=0 purge -y zspp-dkms 2>&1 |
		while IFS= read -r l; do
			l=${l##*$'\r'}
			case $l in "(Reading database ... "*%) continue ;; esac
			echo "$(cut -d' ' -f1 /proc/uptime) $l"
		done >/run/zspp-purge.log
	rc=${PIPESTATUS[0]}
	sed 's/^/ZB PURGE-LOG /' /run/zspp-purge.log
	zb "PURGE rc=$rc guest_seconds=$(awk -v a="$t0" '{ print $1 - a }' /proc/uptime)"
elif [[ $phase == purged ]]; then
	zb "DKMS $(dkms status zspp 2>/dev/null | paste -sd '|' -)"
	zb "DPKG $(dpkg-query -W -f='${Status}' zspp-dkms 2>&1)"
	zb "KO $(find /lib/modules -name 'zspp.ko*' 2>&1 | paste -sd ' ' -)"
	for img in /boot/initrd.img-*; do
		zb "INITRD-ZSPP ${img##*/}: $(lsinitramfs "$img" 2>&1 | grep -E '/zspp\.ko' | paste -sd ' ' -)"
	done
	zb "LEFT $(ls -d /usr/src/zspp-* /var/lib/dkms/zspp /usr/sbin/zspp-enable /usr/lib/zspp /etc/default/zspp \
		/etc/default/grub.d/zspp.cfg /lib/systemd/system/zspp.service /usr/lib/systemd/system/zspp.service \
		/usr/share/initramfs-tools/hooks/zspp \
		/etc/systemd/system/multi-user.target.wants/zspp.service 2>/dev/null | paste -sd ' ' -)"
	zb "UNIT $(systemctl cat zspp.service >/dev/null 2>&1 && echo present || echo absent)"
	if [[ $ZRAM == 1 ]]; then
		# depmod's state after the purge: no updates/ entry, every file
		# modules.dep names is there.
		# (builtins only in the loop: a fork per module costs minutes under TCG)
		mdir=/lib/modules/$(uname -r)
		missing=0
		while IFS= read -r f; do
			[[ -z $f || -e $mdir/$f ]] || missing=$((missing + 1))
		done < <(tr ' ' '\n' <"$mdir/modules.dep" | sed 's/:$//' | sort -u)
		zb "MODDEP updates=$(grep -c 'updates/' "$mdir/modules.dep") missing=$missing"
	fi
fi
echo "ZB-DMESG-BEGIN"
dmesg | sed 's/^/ZB-DMESG /'
echo "ZB-DMESG-END"
echo "ZB-END phase=$phase"
sync
systemctl poweroff
