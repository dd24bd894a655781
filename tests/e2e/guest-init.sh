#!/bin/busybox sh
# shellcheck shell=dash  # busybox ash
# /init of the zspp end-to-end initramfs (installed by scripts/mkinitramfs.sh).
#
# Reads its settings from /etc/zspp-e2e.conf (written by tests/harness/e2e.py), runs the
# workload through zswap on the requested zpool inside a memory cgroup, samples
# zswap and zspp statistics to the console, tears everything down in the order
# that proves the allocator lets go (drain, switch zpool away, swapoff, rmmod),
# dumps dmesg and reboots (QEMU runs with -no-reboot, so that ends the run).
#
# Every line meant for tests/harness/e2e.py starts with an upper-case tag:
#   E2E ...            progress and errors of this script (E2E-ERROR on failure)
#   ZSWAP-PARAMS ...   zswap parameters after configuration
#   ZSWAP t=.. k=v..   one sample of /sys/kernel/debug/zswap/*  (ZSWAP-AFTER once drained)
#   MEMCG t=.. k=v..   one sample of the workload cgroup
#   ZSPP <pool> k=v..  one sample of /sys/kernel/debug/zspp/<pool>/summary (ZSPP-AFTER ...)
#   ZSPPFILE <pool>/<file>: <line>   the other zspp debugfs files, every few samples
#   WORKLOAD ...       the workload's own result line; WORKLOAD-EXIT rc=N
#   VMSTAT k=v..       swap counters from /proc/vmstat after the workload
#   ZSPP-DEBUGFS ...   what is left in /sys/kernel/debug/zspp after switch and rmmod
#   INSMOD/RMMOD/SWAPOFF <what> rc=N
#   FAULT-CONFIG <attr> k=v..   fault injection settings read back (E2E_FAULT_ATTRS)
#   FAULT-TASK pid=N make-it-fail=1   the workload's own flag, before it starts
#   FAULT t=.. <attr>=N..       failures injected so far, with every sample
#   FAULT-RESULT <attr> injected=N times_left=N   after the workload
#   FOLD-PAUSE / FOLD <pool> rc=N secs=S / FOLD-WORKER ... / FOLD-RESUME   (E2E_FOLD=1)
#   ZSWAP-PREFOLD, ZSPP-PREFOLD ..., ZSWAP-FOLDED, ZSPP-FOLDED ...   samples around it
#   DMESG-BEGIN / DMESG-END, then E2E-END

PATH=/bin:/sbin:/usr/bin:/usr/sbin
export PATH
/bin/busybox mkdir -p /proc /sys /dev /tmp /sbin /usr/bin /usr/sbin
/bin/busybox --install -s

MODDIR=/lib/e2e-modules
CONF=/etc/zspp-e2e.conf
ZSWAP_PARAMS=/sys/module/zswap/parameters
ZSWAP_DBG=/sys/kernel/debug/zswap
ZSPP_DBG=/sys/kernel/debug/zspp
CG=/sys/fs/cgroup/e2e
ERRORS=0
fold_done=""

# Defaults; /etc/zspp-e2e.conf overrides them.
E2E_ZPOOL=zbud              # zpool zswap must use: zspp, zsmalloc, zbud, z3fold
E2E_INSMOD=""               # modules (names of .ko in $MODDIR) to load before selecting it
E2E_COMPRESSOR=lzo
E2E_MAX_POOL_PERCENT=20
E2E_PAGES=36864             # workload size in pages
E2E_MEM_MAX=48M             # memory.max of the workload cgroup
E2E_ZSWAP_MAX=24M           # memory.zswap.max of the workload cgroup ("max" = no limit)
E2E_SEED=1
E2E_WORKLOAD_ARGS=""
E2E_SAMPLE_INTERVAL=1       # seconds between samples
E2E_FILES_EVERY=5           # dump non-summary zspp files every N samples
E2E_DRAIN_TIMEOUT=15        # seconds to wait for pools to drain / disappear
E2E_SWITCH_AT=""             # sample number at which to start switching zswap's pools (empty: never)
E2E_SWITCH_EVERY=2          # samples between switch steps
E2E_BAD_INPUT=0             # 1: hostile parameter and debugfs writes (zspp only)
E2E_ZSPP_PARAMS=""          # insmod parameters of zspp.ko (e.g. fold_interval_ms=200)
E2E_EXITERS=0               # rounds of short-lived children in the workload's cgroup (tests/harness/e2e.py --exiters)
E2E_ZSWAP_WRITEBACK=""      # memory.zswap.writeback of the cgroup (6.8+, else ignored; empty: the default)
# CONFIG_ZSPP_FOLD builds. E2E_FOLD=1: the workload (run with -P $E2E_FOLD_PAUSE)
# parks after its fill; then sample (-PREFOLD), fold every zspp pool through
# debugfs, sample again (-FOLDED), optionally start the background worker
# (fold_interval_ms=E2E_FOLD_INTERVAL_MS) and let the workload read everything back.
E2E_FOLD=0
E2E_FOLD_PAUSE=/tmp/e2e-fold
E2E_FOLD_INTERVAL_MS=""
E2E_SWAP_DEV=/dev/vda
E2E_FLUSH_DEV=/dev/vdb      # small second swap area: swapon+swapoff drains the swap slot caches
# Fault injection (tests/harness/fault_e2e.py), off unless E2E_FAULT_ATTRS names debugfs
# directories (fail_page_alloc, failslab). Only the workload process is marked
# (/proc/self/make-it-fail = 1 before it execs; task-filter Y). "times" is a large
# finite budget rather than -1 (unlimited): the kernel then decrements it on every
# injected failure, so E2E_FAULT_TIMES - times = failures injected.
E2E_FAULT_ATTRS=""
E2E_FAULT_PROBABILITY=3     # percent
E2E_FAULT_INTERVAL=1
E2E_FAULT_TIMES=1000000000
E2E_FAULT_MIN_ORDER=0       # fail_page_alloc only
E2E_FAULT_IGNORE_GFP_WAIT=Y # Y: only allocations that cannot sleep fail
E2E_FAULT_IGNORE_GFP_HIGHMEM=N # fail_page_alloc only
E2E_FAULT_VERBOSE=0
E2E_FAULT_TASK_FILTER=Y
# shellcheck disable=SC1090 # written by tests/harness/e2e.py
[ -f "$CONF" ] && . "$CONF"

say() { echo "E2E $*"; }
err() {
	echo "E2E-ERROR $*"
	ERRORS=$((ERRORS + 1))
}
uptime_s() { cut -d' ' -f1 /proc/uptime; }

finish() {
	echo "E2E errors=$ERRORS"
	echo "DMESG-BEGIN"
	dmesg -r
	echo "DMESG-END"
	echo "E2E-END"
	sync
	reboot -f
	sleep 5
	echo o >/proc/sysrq-trigger
}

mount_all() {
	mount -t proc proc /proc
	mount -t sysfs sysfs /sys
	mount -t devtmpfs devtmpfs /dev 2>/dev/null
	mkdir -p /dev/pts
	mount -t tmpfs tmpfs /tmp
	mount -t debugfs debugfs /sys/kernel/debug || err "cannot mount debugfs"
	mount -t cgroup2 cgroup2 /sys/fs/cgroup || err "cannot mount cgroup2"
}

# insmod_one NAME: load $MODDIR/NAME.ko if it is there (absent = built in).
insmod_one() {
	if [ ! -f "$MODDIR/$1.ko" ]; then
		say "no $1.ko in the initramfs (built in?)"
		return 0
	fi
	params=""
	[ "$1" = zspp ] && params=$E2E_ZSPP_PARAMS
	# shellcheck disable=SC2086 # one word per parameter
	insmod "$MODDIR/$1.ko" $params
	rc=$?
	echo "INSMOD $1 rc=$rc${params:+ params=$params}"
	[ $rc -eq 0 ] || err "insmod $1 failed"
	return $rc
}

# bad NAME CMD...: CMD must fail; one BADINPUT line either way.
bad() {
	what=$1
	shift
	"$@" >/dev/null 2>&1
	rc=$?
	ok=0
	[ $rc -ne 0 ] && ok=1
	echo "BADINPUT $what rc=$rc ok=$ok"
}

# Module parameters zspp must refuse at load: each insmod fails, nothing stays.
bad_insmod() {
	[ "$E2E_BAD_INPUT" = 1 ] && [ -f "$MODDIR/zspp.ko" ] || return 0
	for v in 0 17 -1 4294967297 abc '' 8x; do
		bad "insmod-chain_size=$v" insmod "$MODDIR/zspp.ko" "chain_size=$v"
	done
	ok=0
	[ -d /sys/module/zspp ] || ok=1
	echo "BADINPUT module-not-left-loaded rc=0 ok=$ok"
}

# Writable files and parameters of a loaded zspp with a pool, while it is idle:
# every write is refused and changes nothing.
bad_writes() {
	[ "$E2E_BAD_INPUT" = 1 ] && [ -d /sys/module/zspp ] || return 0
	p=/sys/module/zspp/parameters/chain_size
	before=$(cat $p)
	bad "param-chain_size-readonly" sh -c "echo 4 > $p"
	ok=0
	[ "$(cat $p)" = "$before" ] && ok=1
	echo "BADINPUT param-chain_size-unchanged rc=0 ok=$ok"
	# Loaded without chain_size, it reads "auto" and each pool has the
	# chain auto picks: 16, or 8 for a pool that writes back (6.1 zswap).
	if [ "$before" = auto ]; then
		for d in $ZSPP_DBG/*; do
			[ -f "$d/summary" ] || continue
			c=$(awk '$1 == "chain_size" { print $2 }' "$d/summary")
			ok=0
			case "$(uname -r)" in
			6.1.*) [ "$c" = 8 ] && ok=1 ;;
			*) [ "$c" = 16 ] && ok=1 ;;
			esac
			echo "BADINPUT param-chain_size-auto-pool-$(basename "$d")-chain-$c rc=0 ok=$ok"
		done
	fi
	for d in $ZSPP_DBG/*; do
		[ -f "$d/compact" ] || continue
		# Compactions not started by the pool itself (compact_slack may run
		# one meanwhile, as frees of the workload's last entries arrive).
		c0=$(awk '$1 == "compactions" { c = $2 } $1 == "auto_compactions" { a = $2 } END { print c - a }' "$d/summary")
		for v in garbage 99999999999999999999 -1 '' 0 2 '1 1'; do
			bad "debugfs-compact=$v" sh -c "echo '$v' > $d/compact"
		done
		bad "debugfs-summary-readonly" sh -c "echo 1 > $d/summary"
		bad "debugfs-classes-readonly" sh -c "echo 1 > $d/classes"
		ok=0
		[ "$(awk '$1 == "compactions" { c = $2 } $1 == "auto_compactions" { a = $2 } END { print c - a }' "$d/summary")" = "$c0" ] && ok=1
		echo "BADINPUT debugfs-nothing-changed rc=0 ok=$ok"
		printf 1 >"$d/compact"
		rc=$?
		echo "BADINPUT debugfs-compact=1-accepted rc=$rc ok=$([ $rc -eq 0 ] && echo 1 || echo 0)"
		break
	done
}

wait_for() { # wait_for PATH SECONDS
	n=0
	while [ ! -e "$1" ] && [ $n -lt $(($2 * 10)) ]; do
		usleep 100000
		n=$((n + 1))
	done
	[ -e "$1" ]
}

setup_disks() {
	for m in virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci virtio_blk; do
		insmod_one $m || return 1
	done
	wait_for "$E2E_SWAP_DEV" 10 || { err "$E2E_SWAP_DEV did not appear"; return 1; }
	mkswap "$E2E_SWAP_DEV" >/dev/null || { err "mkswap $E2E_SWAP_DEV failed"; return 1; }
	swapon "$E2E_SWAP_DEV" || { err "swapon $E2E_SWAP_DEV failed"; return 1; }
	if wait_for "$E2E_FLUSH_DEV" 2; then
		mkswap "$E2E_FLUSH_DEV" >/dev/null || E2E_FLUSH_DEV=""
	else
		say "no $E2E_FLUSH_DEV: swap slot caches will not be flushed"
		E2E_FLUSH_DEV=""
	fi
	say "swap: $(grep -v '^Filename' /proc/swaps | tr -s ' ' | tr '\n' ';')"
}

setup_zswap() {
	if [ -n "$E2E_SWITCH_AT" ]; then
		for m in lz4_compress lz4_decompress lz4; do
			insmod_one $m || return 1
		done
	fi
	bad_insmod
	for m in $E2E_INSMOD; do
		insmod_one "$m" || return 1
	done
	echo "$E2E_COMPRESSOR" >$ZSWAP_PARAMS/compressor || err "cannot set compressor $E2E_COMPRESSOR"
	echo "$E2E_ZPOOL" >$ZSWAP_PARAMS/zpool || err "cannot set zpool $E2E_ZPOOL"
	echo "$E2E_MAX_POOL_PERCENT" >$ZSWAP_PARAMS/max_pool_percent || err "cannot set max_pool_percent"
	echo Y >$ZSWAP_PARAMS/enabled || err "cannot enable zswap"
	line="ZSWAP-PARAMS"
	for p in enabled zpool compressor max_pool_percent accept_threshold_percent same_filled_pages_enabled; do
		[ -f $ZSWAP_PARAMS/$p ] && line="$line $p=$(cat $ZSWAP_PARAMS/$p)"
	done
	echo "$line"
	[ "$(cat $ZSWAP_PARAMS/zpool)" = "$E2E_ZPOOL" ] || { err "zswap zpool is not $E2E_ZPOOL"; return 1; }
	[ "$(cat $ZSWAP_PARAMS/enabled)" = Y ] || { err "zswap is not enabled"; return 1; }
}

setup_cgroup() {
	echo +memory >/sys/fs/cgroup/cgroup.subtree_control || { err "cannot enable the memory controller"; return 1; }
	mkdir -p $CG
	echo "$E2E_MEM_MAX" >$CG/memory.max || { err "cannot set memory.max=$E2E_MEM_MAX"; return 1; }
	if [ -f $CG/memory.zswap.max ]; then
		echo "$E2E_ZSWAP_MAX" >$CG/memory.zswap.max || err "cannot set memory.zswap.max=$E2E_ZSWAP_MAX"
	fi
	if [ -n "$E2E_ZSWAP_WRITEBACK" ] && [ -f $CG/memory.zswap.writeback ]; then
		echo "$E2E_ZSWAP_WRITEBACK" >$CG/memory.zswap.writeback || err "cannot set memory.zswap.writeback=$E2E_ZSWAP_WRITEBACK"
	fi
	say "cgroup memory.max=$(cat $CG/memory.max) memory.zswap.max=$(cat $CG/memory.zswap.max 2>/dev/null || echo n/a) memory.swap.max=$(cat $CG/memory.swap.max) memory.zswap.writeback=$(cat $CG/memory.zswap.writeback 2>/dev/null || echo n/a)"
}

# kv_dir DIR: "name=value" for every single-line file in DIR.
kv_dir() {
	out=""
	for f in "$1"/*; do
		[ -f "$f" ] || continue
		out="$out ${f##*/}=$(head -n 1 "$f" 2>/dev/null)"
	done
	echo "$out"
}

# kv_file FILE: "key value" lines -> " key=value ..."
kv_file() {
	awk '{ printf " %s=%s", $1, $2 } END { print "" }' "$1" 2>/dev/null
}

# sample TAG N: one line of zswap statistics and one per zspp pool.
sample() {
	tag=$1
	t=$(uptime_s)
	echo "ZSWAP$tag t=$t$(kv_dir $ZSWAP_DBG)"
	if [ -d $CG ]; then
		echo "MEMCG$tag t=$t current=$(cat $CG/memory.current) swap=$(cat $CG/memory.swap.current) zswap=$(cat $CG/memory.zswap.current 2>/dev/null || echo n/a) oom_kill=$(awk '$1 == "oom_kill" { print $2 }' $CG/memory.events)"
	fi
	[ -d $ZSPP_DBG ] || return 0
	for d in $ZSPP_DBG/*; do
		[ -d "$d" ] || continue
		pool=${d##*/}
		if [ -f "$d/summary" ]; then
			echo "ZSPP$tag $pool$(kv_file "$d/summary")"
		fi
		if [ -n "$2" ] && [ $(($2 % E2E_FILES_EVERY)) -eq 0 ] || [ -n "$tag" ]; then
			for f in "$d"/*; do
				[ -f "$f" ] && [ "${f##*/}" != summary ] || continue
				# Skip write-only control files (e.g. compact): root could open them.
				case $(stat -c %A "$f") in -r*) ;; *) continue ;; esac
				sed "s|^|ZSPPFILE $pool/${f##*/}: |" "$f"
			done
		fi
	done
}

# fault_injected ATTR: failures injected so far by ATTR.
fault_injected() {
	echo $((E2E_FAULT_TIMES - $(cat /sys/kernel/debug/$1/times)))
}

fault_sample() {
	[ -n "$E2E_FAULT_ATTRS" ] || return 0
	line="FAULT t=$(uptime_s)"
	for a in $E2E_FAULT_ATTRS; do
		line="$line $a=$(fault_injected $a)"
	done
	echo "$line"
}

# fault_set ATTR FILE VALUE: write one fault-injection knob (absent file: skipped).
fault_set() {
	[ -f "/sys/kernel/debug/$1/$2" ] || return 0
	echo "$3" >"/sys/kernel/debug/$1/$2" || err "cannot set $1/$2=$3"
}

setup_faults() {
	[ -n "$E2E_FAULT_ATTRS" ] || return 0
	[ -f /proc/self/make-it-fail ] || { err "no /proc/self/make-it-fail (CONFIG_FAULT_INJECTION off?)"; return 1; }
	for a in $E2E_FAULT_ATTRS; do
		d=/sys/kernel/debug/$a
		[ -d "$d" ] || { err "no $d (CONFIG_FAULT_INJECTION_DEBUG_FS and ${a} needed)"; return 1; }
		fault_set "$a" probability 0 # armed last
		fault_set "$a" interval "$E2E_FAULT_INTERVAL"
		fault_set "$a" times "$E2E_FAULT_TIMES"
		fault_set "$a" space 0
		fault_set "$a" verbose "$E2E_FAULT_VERBOSE"
		fault_set "$a" task-filter "$E2E_FAULT_TASK_FILTER"
		fault_set "$a" ignore-gfp-wait "$E2E_FAULT_IGNORE_GFP_WAIT"
		fault_set "$a" ignore-gfp-highmem "$E2E_FAULT_IGNORE_GFP_HIGHMEM"
		fault_set "$a" min-order "$E2E_FAULT_MIN_ORDER"
		fault_set "$a" probability "$E2E_FAULT_PROBABILITY"
		line="FAULT-CONFIG $a"
		for f in probability interval times space verbose task-filter ignore-gfp-wait ignore-gfp-highmem min-order cache-filter; do
			[ -f "$d/$f" ] && line="$line $f=$(cat "$d/$f")"
		done
		echo "$line"
	done
}

# Disarm fault injection once the workload is gone and report what it injected.
finish_faults() {
	[ -n "$E2E_FAULT_ATTRS" ] || return 0
	for a in $E2E_FAULT_ATTRS; do
		echo "FAULT-RESULT $a injected=$(fault_injected $a) times_left=$(cat /sys/kernel/debug/$a/times)"
		fault_set "$a" probability 0
	done
}

vmstat_line() {
	echo "VMSTAT$(awk '$1 ~ /^(pswpin|pswpout|zswpin|zswpout)$/ { printf " %s=%s", $1, $2 }' /proc/vmstat)"
}

# Runtime pool changes a user makes while the pool holds data: rmmod (must be
# refused), compressor lzo -> lz4, zpool -> zbud -> back, compressor -> lzo.
# Each step makes zswap create (or reuse) a pool; the old ones drain as their
# entries go. Step K runs at sample E2E_SWITCH_AT + K * E2E_SWITCH_EVERY; a
# workload that ends sooner (a fast machine) gets the steps it has not had
# right after it exits (switch_rest), so every run makes all five.
switch_next=0
switch_step() {
	[ -n "$E2E_SWITCH_AT" ] || return 0
	k=$(($1 - E2E_SWITCH_AT))
	[ $k -ge 0 ] && [ $((k % E2E_SWITCH_EVERY)) -eq 0 ] || return 0
	switch_do $((k / E2E_SWITCH_EVERY))
}
switch_rest() {
	[ -n "$E2E_SWITCH_AT" ] || return 0
	[ $switch_next -gt 4 ] || echo "SWITCH-LATE from step $switch_next (the workload ended first)"
	while [ $switch_next -le 4 ]; do
		switch_do $switch_next
	done
}
switch_do() {
	[ "$1" -eq $switch_next ] || return 0
	switch_next=$(($1 + 1))
	case $1 in
	0)
		rmmod zspp 2>/dev/null
		rc=$?
		still=0
		[ -d /sys/module/zspp ] && still=1
		echo "SWITCH rmmod-while-in-use rc=$rc still_loaded=$still pools=$(zspp_pools)"
		[ $rc -ne 0 ] || err "rmmod zspp succeeded while zswap used it"
		;;
	1) switch_param compressor lz4 ;;
	2) switch_param zpool zbud ;;
	3) switch_param zpool "$E2E_ZPOOL" ;;
	4) switch_param compressor "$E2E_COMPRESSOR" ;;
	esac
}

switch_param() {
	echo "$2" >$ZSWAP_PARAMS/$1 || err "cannot switch zswap $1 to $2"
	echo "SWITCH $1=$(cat $ZSWAP_PARAMS/$1) stored_pages=$(stored_pages) pools=$(zspp_pools) names=$(ls $ZSPP_DBG 2>/dev/null | tr '\n' ',')"
}

# E2E_FOLD=1: once the workload has parked after its fill (PAUSE.paused), fold
# every zspp pool with its pages in zswap and nothing else moving, sample
# before and after, then let it go on (PAUSE.go). Once per run.
fold_step() {
	[ "$E2E_FOLD" = 1 ] && [ -z "$fold_done" ] && [ -e "$E2E_FOLD_PAUSE.paused" ] || return 0
	fold_done=1
	echo "FOLD-PAUSE t=$(uptime_s)"
	sample -PREFOLD
	nfold=0
	for d in $ZSPP_DBG/*; do
		[ -d "$d" ] || continue
		if [ ! -f "$d/fold" ]; then
			err "no $d/fold (not a CONFIG_ZSPP_FOLD build?)"
			continue
		fi
		t0=$(uptime_s)
		echo 1 >"$d/fold"
		# shellcheck disable=SC2320 # the status of that write
		rc=$?
		echo "FOLD ${d##*/} rc=$rc secs=$(awk -v a="$t0" -v b="$(uptime_s)" 'BEGIN { printf "%.2f", b - a }')"
		[ $rc -eq 0 ] || err "fold of ${d##*/} failed"
		nfold=$((nfold + 1))
	done
	[ $nfold -gt 0 ] || err "no zspp pool to fold"
	sample -FOLDED
	if [ -n "$E2E_FOLD_INTERVAL_MS" ]; then
		echo "$E2E_FOLD_INTERVAL_MS" >/sys/module/zspp/parameters/fold_interval_ms
		# shellcheck disable=SC2320 # the status of that write
		rc=$?
		echo "FOLD-WORKER interval_ms=$(cat /sys/module/zspp/parameters/fold_interval_ms) rc=$rc"
		[ $rc -eq 0 ] || err "cannot set fold_interval_ms=$E2E_FOLD_INTERVAL_MS"
	fi
	echo "FOLD-RESUME t=$(uptime_s)"
	touch "$E2E_FOLD_PAUSE.go"
}

# E2E_EXITERS rounds, one after the other, while the workload runs: a child in
# the workload's cgroup fills 4096 pages and exits; every other one is killed
# after a second, its pages still in zswap (exit -> invalidations racing the
# shrink worker's evicts). A child that runs to the end verifies every byte.
exiters() {
	i=1
	while [ $i -le "$E2E_EXITERS" ]; do
		sh -c "echo \$\$ >$CG/cgroup.procs && exec /bin/workload -q -s $((E2E_SEED + 100 + i)) 4096" \
			>/tmp/exiter.log 2>&1 &
		p=$!
		killed=0
		if [ $((i % 2)) -eq 0 ]; then
			sleep 1
			kill -9 $p 2>/dev/null && killed=1
		fi
		wait $p
		rc=$?
		bad=0
		if [ $killed = 1 ]; then
			[ $rc -eq 137 ] || [ $rc -eq 0 ] || bad=1
		else
			[ $rc -eq 0 ] || bad=1
		fi
		echo "EXITER i=$i rc=$rc killed=$killed bad=$bad $(grep -E '^WORKLOAD' /tmp/exiter.log | sed 's/^WORKLOAD //' | tr '\n' ' ')"
		# The log is a tmpfs page the child wrote from inside the cgroup:
		# charged to it, so the cgroup's reclaim may swap it out, and then
		# its swap slot, and the zswap entry or disk copy behind it, lives
		# as long as the file (6.1 zswap frees an entry only when its slot
		# is freed, by a read back or the file's removal, or by writeback).
		# Left behind, it was the one zswap entry that drain() waited for
		# in vain whenever it had stayed in zswap instead of going to disk.
		rm -f /tmp/exiter.log
		i=$((i + 1))
	done
}

run_workload() {
	say "workload: $E2E_PAGES pages in cgroup memory.max=$E2E_MEM_MAX"
	vmstat_line
	# The child moves itself into the cgroup, then becomes the workload; with
	# fault injection it first marks itself (the mark survives exec).
	mif=""
	if [ -n "$E2E_FAULT_ATTRS" ]; then
		mif='echo 1 >/proc/self/make-it-fail && read mif </proc/self/make-it-fail && echo "FAULT-TASK pid=$$ make-it-fail=$mif" &&'
	fi
	sh -c "echo \$\$ >$CG/cgroup.procs && $mif exec /bin/workload -q -s $E2E_SEED $E2E_WORKLOAD_ARGS $E2E_PAGES" &
	wpid=$!
	xpid=""
	if [ "$E2E_EXITERS" -gt 0 ]; then
		exiters &
		xpid=$!
	fi
	n=0
	while kill -0 $wpid 2>/dev/null; do
		sample "" $n
		fault_sample
		switch_step $n
		fold_step
		n=$((n + 1))
		sleep "$E2E_SAMPLE_INTERVAL"
	done
	wait $wpid
	rc=$?
	echo "WORKLOAD-EXIT rc=$rc"
	switch_rest
	[ -z "$xpid" ] || wait $xpid
	[ $rc -eq 0 ] || err "workload exited with $rc"
	[ "$E2E_FOLD" != 1 ] || [ -n "$fold_done" ] || err "the workload never paused for the fold (-P $E2E_FOLD_PAUSE?)"
	finish_faults
	vmstat_line
}

stored_pages() { cat $ZSWAP_DBG/stored_pages 2>/dev/null || echo 0; }

# Pages held by all zspp pools (0 when there is none).
zspp_pages() {
	total=0
	for s in $ZSPP_DBG/*/summary; do
		[ -f "$s" ] || continue
		p=$(awk '$1 == "pages" { print $2 }' "$s")
		total=$((total + ${p:-0}))
	done
	echo $total
}

zspp_pools() {
	n=0
	for d in $ZSPP_DBG/*; do
		[ -d "$d" ] && n=$((n + 1))
	done
	echo $n
}

# Freed swap entries wait in per-CPU slot caches (up to 64 per CPU) before zswap
# hears of them; swapoff of any swap area drains those caches on every CPU.
flush_swap_slots() {
	[ -n "$E2E_FLUSH_DEV" ] || return 0
	swapon "$E2E_FLUSH_DEV" && swapoff "$E2E_FLUSH_DEV" || err "swap slot flush via $E2E_FLUSH_DEV failed"
}

drain() {
	sample -POST
	flush_swap_slots
	waited=0
	while [ $waited -lt $((E2E_DRAIN_TIMEOUT * 2)) ]; do
		[ "$(stored_pages)" = 0 ] && [ "$(zspp_pages)" = 0 ] && break
		usleep 500000
		waited=$((waited + 1))
	done
	echo "DRAIN stored_pages=$(stored_pages) zspp_pages=$(zspp_pages) waited_halfsec=$waited"
	sample -AFTER
}

# Switch zswap to zbud so it drops its pool on the allocator under test, and wait
# for every zspp pool directory to go away.
release_pool() {
	[ "$E2E_ZPOOL" = zbud ] && return 0
	echo zbud >$ZSWAP_PARAMS/zpool || err "cannot switch zswap to zbud"
	say "zswap zpool now $(cat $ZSWAP_PARAMS/zpool)"
	waited=0
	while [ "$(zspp_pools)" != 0 ] && [ $waited -lt $((E2E_DRAIN_TIMEOUT * 2)) ]; do
		usleep 500000
		waited=$((waited + 1))
	done
	if [ -d $ZSPP_DBG ]; then
		echo "ZSPP-DEBUGFS after-switch pools=$(zspp_pools) waited_halfsec=$waited names=$(ls $ZSPP_DBG | tr '\n' ',')"
	fi
}

teardown() {
	swapoff "$E2E_SWAP_DEV"
	echo "SWAPOFF $E2E_SWAP_DEV rc=$?"
	sample -FINAL
	for m in $E2E_INSMOD; do
		[ -f "$MODDIR/$m.ko" ] || continue
		rmmod "$m"
		rc=$?
		plh=$(cat $ZSWAP_DBG/pool_limit_hit 2>/dev/null || echo 0)
		echo "RMMOD $m rc=$rc pool_limit_hit=$plh refcnt=$(cat /sys/module/$m/refcnt 2>/dev/null || echo gone)"
		if [ $rc -ne 0 ]; then
			# Stock 6.1 zswap takes a pool reference on every pool-limit hit
			# and drops it only if its shrink work was not already queued, so
			# after such hits its pool (and the module) may stay in use for
			# good. The host side checks that only those pools, empty, remain.
			if [ "${plh:-0}" -gt 0 ]; then
				say "rmmod $m refused after $plh zswap pool-limit hits"
			else
				err "rmmod $m failed"
			fi
		fi
	done
	if [ "$E2E_ZPOOL" = zspp ]; then
		if [ -e $ZSPP_DBG ]; then
			echo "ZSPP-DEBUGFS after-rmmod exists=1 names=$(ls $ZSPP_DBG | tr '\n' ',')"
		else
			echo "ZSPP-DEBUGFS after-rmmod exists=0"
		fi
	fi
}

mount_all
exec >/dev/console 2>&1 </dev/null
say "begin kernel=$(uname -r) cpus=$(grep -c ^processor /proc/cpuinfo) online=$(cat /sys/devices/system/cpu/online) mem=$(awk '$1 == "MemTotal:" { print $2 $3 }' /proc/meminfo)"
say "config zpool=$E2E_ZPOOL insmod='$E2E_INSMOD' pages=$E2E_PAGES mem_max=$E2E_MEM_MAX zswap_max=$E2E_ZSWAP_MAX compressor=$E2E_COMPRESSOR max_pool_percent=$E2E_MAX_POOL_PERCENT${E2E_FAULT_ATTRS:+ faults='$E2E_FAULT_ATTRS'}"

if setup_disks && setup_zswap && setup_cgroup && setup_faults; then
	run_workload
	drain
	bad_writes
	release_pool
	teardown
else
	err "setup failed; workload not run"
fi
finish
