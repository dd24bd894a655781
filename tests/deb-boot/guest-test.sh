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
#   not installed ("purged" boot): the same facts, plus where zspp could
#     still be (modules, initramfs, dkms, unit files).
#   installed with BACKPORTS=1 ("backports" boot: a kernel without zpool):
#     the facts and the workload as for "installed", no purge.
#
# Lines for the host start with "ZB " (ZB-DMESG for the full kernel log at the
# end; WORKLOAD lines are the workload's own).
set -uo pipefail
export PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8
conf=/etc/zspp-boot-test.conf
PAGES=8192
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

if [[ $phase != purged ]]; then
	zb "DKMS $(dkms status zspp 2>/dev/null | paste -sd '|' -)"
	zb "INITRD-ZSPP $(lsinitramfs "/boot/initrd.img-$(uname -r)" 2>&1 | grep -E '/zspp\.ko' | paste -sd ' ' -)"
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
	zb "FILLED paused=$([[ -e /run/zspp-wl.paused ]] && echo 1 || echo 0) memory.current=$(cat $CG/memory.current) uptime=$(cut -d' ' -f1 /proc/uptime)"
	zswap_stats BEFORE
	# More than the whole workload, three times: each write reclaims what it
	# can (EAGAIN when short of the amount), the workload's own memory is
	# mlocked (-L), so what goes is the test area.
	anon0=$(awk '$1 == "anon" { print $2 }' $CG/memory.stat)
	for _ in 1 2 3; do
		echo 512M >$CG/memory.reclaim 2>/dev/null
	done
	zb "RECLAIMED anon_before=$anon0 anon_after=$(awk '$1 == "anon" { print $2 }' $CG/memory.stat) memory.current=$(cat $CG/memory.current) memory.swap.current=$(cat $CG/memory.swap.current) memory.zswap.current=$(cat $CG/memory.zswap.current 2>/dev/null || echo n/a)"
	zswap_stats RECLAIMED
	kv_summary RECLAIMED
	# The user's view of the same moment (zspp-enable(8)).
	zspp-enable --status 2>&1 | sed 's/^/ZB STATUS /'
	zb "STATUS-JSON $(zspp-enable --status --json 2>&1 | paste -sd ' ' -)"
	: >/run/zspp-wl.go
	wait $wpid
	rc=$?
	sed 's/^/ZB WL /' /run/zspp-wl.log
	zb "WORKLOAD-EXIT rc=$rc"
	grep -E '^(pswpin|pswpout|zswpin|zswpout) ' /proc/vmstat | paste -sd ' ' - | sed 's/^/ZB VMSTAT /'
	zswap_stats AFTER
	kv_summary AFTER
	rmdir $CG 2>/dev/null
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
fi
echo "ZB-DMESG-BEGIN"
dmesg | sed 's/^/ZB-DMESG /'
echo "ZB-DMESG-END"
echo "ZB-END phase=$phase"
sync
systemctl poweroff
