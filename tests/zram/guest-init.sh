#!/bin/busybox sh
# shellcheck shell=dash  # busybox ash
# SPDX-License-Identifier: GPL-2.0
# Guest /init of tests/harness/zram_peer.py: the stock zram.ko on the zsmalloc.ko
# under test (Debian's, or zspp's), one boot each. Prints one line per case,
#   ZT ok NAME [detail]   or   ZT fail NAME detail
# then "ZRAM-DONE", and ends with reboot -f. The host compares the two boots.
# Also the guest of scripts/zram-debug.py (the debug kernel, its own zram.ko
# built as a module, CPU hotplug and compaction alongside) and of
# bench/zram.py (the raw case, timed).
# /etc/zspp-e2e.conf (mkinitramfs.sh -c) sets ALLOC (zsmalloc or zspp) and
# PAGES (the swap workload's size), and may set (defaults: zram_peer.py's):
#   CASES      which suites run, in this order: ext4 swap raw limits selftests
#              (default "ext4 swap limits selftests")
#   SELFTESTS  the kernel's zram selftests to run (default "zram01 zram02";
#              zram01 needs ext4)
#   MODS       modules loaded after zram.ko from /lib/e2e-modules (default
#              ext4's and loop for the limits case's backing device:
#              "crc16 mbcache jbd2 crc32c_generic ext4 loop")
#   SWAP_MEM   the swap case's memory.max (default 48M)
#   RAW_REPS   the raw case's write/read/compare passes (default 1)
#   BG         1: while the cases run, a loop takes CPU 1 offline and online
#              and writes 1 to every /sys/block/zram*/compact (the mm_stat checks
#              pause it: they compare counters that compaction moves); its
#              counts are checked at the end (default 0)
# The raw case writes /raw.blob (real data) to /dev/zram0 with O_DIRECT and
# reads it back, every byte compared, RAW_REPS times (one line per pass:
#   ZB rep=N bytes=B write_cs=W read_cs=R mm_stat: <its 9 fields>
# with the times in 1/100 s of /proc/uptime), then zeroes every other 256 KiB
# (zram frees those slots), compacts, and compares again.
export PATH=/sbin:/bin:/usr/sbin:/usr/bin
/bin/busybox mkdir -p /proc /sys /dev /tmp /sbin /usr/bin /usr/sbin /mnt
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t debugfs debugfs /sys/kernel/debug
mount -t tmpfs tmpfs /tmp
mkdir -p /sys/fs/cgroup && mount -t cgroup2 cgroup2 /sys/fs/cgroup
echo "ZRAM-INIT"
. /etc/zspp-e2e.conf
: "${CASES:=ext4 swap limits selftests}" "${SELFTESTS:=zram01 zram02}" "${SWAP_MEM:=48M}" "${RAW_REPS:=1}" "${BG:=0}"
[ "${MODS+set}" = set ] || MODS="crc16 mbcache jbd2 crc32c_generic ext4 loop"
echo "kernel: $(uname -r)"
echo "cpus_online: $(cat /sys/devices/system/cpu/online)"

ok() { echo "ZT ok $*"; }
bad() { echo "ZT fail $*"; }
# check NAME CMD...: run CMD, ok/fail by its status.
check() { name=$1; shift; if "$@"; then ok "$name"; else bad "$name" "($*)"; fi; }
# Comparisons that fail on a missing value (an unread counter is no pass).
eq() { [ -n "$1" ] && [ -n "$2" ] && [ "$1" = "$2" ]; }
le() { [ -n "$1" ] && [ -n "$2" ] && [ "$1" -le "$2" ]; }
lt() { [ -n "$1" ] && [ -n "$2" ] && [ "$1" -lt "$2" ]; }
finish() { bg_stop; echo "ZRAM-DONE"; sync; reboot -f; }
# has WORD LIST: WORD is one of LIST's words.
has() { case " $2 " in *" $1 "*) return 0 ;; esac; return 1; }

# ---- CPU hotplug and compaction alongside (BG=1) ----------------------------------
# bg_pause/bg_resume: the loop acknowledges a pause by echoing its token to
# /tmp/bg.idle, and only ever checks for a pause between two rounds, so once
# the token is back nothing of the loop's runs until bg_resume.
bgpid="" bgtok=0
bg_loop() {
	hp=0 cp=0 cpu=/sys/devices/system/cpu/cpu1/online
	while [ ! -e /tmp/bg.stop ]; do
		tok=$(cat /tmp/bg.pause 2>/dev/null)
		if [ -n "$tok" ]; then
			echo "$tok" >/tmp/bg.idle.new && mv /tmp/bg.idle.new /tmp/bg.idle
			sleep 0.05
			continue
		fi
		# Every zram device (the selftests hot-add their own); compact fails
		# (EINVAL) while a device has no disksize: not counted.
		for f in /sys/block/zram*/compact; do
			echo 1 >"$f" 2>/dev/null && cp=$((cp + 1))
		done
		if echo 0 >$cpu; then
			echo 1 >$cpu && hp=$((hp + 1))
		fi
		echo "ZBG hotplugs=$hp compacts=$cp" >/tmp/bg.new && mv /tmp/bg.new /tmp/bg
		sleep 0.1
	done
}
bg_pause() {
	[ -n "$bgpid" ] || return 0
	bgtok=$((bgtok + 1))
	echo $bgtok >/tmp/bg.pause
	while kill -0 "$bgpid" 2>/dev/null && [ "$(cat /tmp/bg.idle 2>/dev/null)" != $bgtok ]; do sleep 0.05; done
}
bg_resume() { rm -f /tmp/bg.pause; }
bg_stop() {
	[ -n "$bgpid" ] || return 0
	touch /tmp/bg.stop
	wait "$bgpid"
	bgpid=""
	echo 1 >/sys/devices/system/cpu/cpu1/online 2>/dev/null
	cat /tmp/bg 2>/dev/null || echo "ZBG hotplugs=0 compacts=0"
	hp=$(sed -n 's/.*hotplugs=\([0-9]*\).*/\1/p' /tmp/bg 2>/dev/null)
	cp=$(sed -n 's/.*compacts=\([0-9]*\).*/\1/p' /tmp/bg 2>/dev/null)
	check bg-cpu-hotplug-ran lt 0 "${hp:-0}"
	check bg-compact-ran lt 0 "${cp:-0}"
	check bg-cpus-online-after eq "$(cat /sys/devices/system/cpu/online)" 0-1
}

M=/lib/e2e-modules
insmod $M/zsmalloc.ko || { bad load-zsmalloc "insmod failed"; finish; }
insmod $M/zram.ko || { bad load-zram "insmod failed"; finish; }
# ext4 (for this test and zram01) is a module on Debian's 6.1, as is the crc32c
# its mount asks the crypto API for.
for m in $MODS; do
	insmod $M/$m.ko || bad "load-$m" "insmod failed"
done
ok load
[ "$ALLOC" = zspp ] && check zspp-provides-zsmalloc test -d /sys/kernel/debug/zspp-zsmalloc
if [ "$BG" = 1 ]; then
	check bg-two-cpus eq "$(cat /sys/devices/system/cpu/online)" 0-1
	bg_loop &
	bgpid=$!
fi

# ---- mm_stat against the allocator's own count --------------------------------
# mm_stat: orig compr mem_used limit max_used same compacted huge huge_since
mmstat() { cat "/sys/block/$1/mm_stat"; }
mm() { awk -v f="$2" '{ print $f }' "/sys/block/$1/mm_stat"; }
# The pool's pages as the allocator counts them: zspp's debugfs summary;
# for Debian's zsmalloc (no CONFIG_ZSMALLOC_STAT, so no debugfs) the
# NR_ZSPAGES counter every zsmalloc page is accounted in (zram's is the only
# zsmalloc pool here: zswap is off and on zbud), once stat_refresh has folded
# the per-CPU differences /proc/vmstat does not show.
pool_pages() {
	if [ "$ALLOC" = zspp ]; then
		awk '$1 == "pages" { print $2 }' "/sys/kernel/debug/zspp-zsmalloc/$1/summary"
	else
		echo 1 >/proc/sys/vm/stat_refresh
		awk '$1 == "nr_zspages" { print $2 }' /proc/vmstat
	fi
}
zspp_stat() { awk -v k="$2" '$1 == k { print $2 }' "/sys/kernel/debug/zspp-zsmalloc/$1/summary"; }
# mm_stat_adds_up DEV WHEN: mem_used_total is the allocator's pages
# (zs_get_total_pages * PAGE_SIZE), the compressed bytes fit in those pages,
# max >= used; for zspp also (its counters are in debugfs) its objects are
# the stored pages that are not same-filled and its bytes_stored is zram's
# compr_data_size.
mm_stat_adds_up() {
	bg_pause
	mm_stat_adds_up_now "$@"
	bg_resume
}
mm_stat_adds_up_now() {
	dev=$1 when=$2
	# shellcheck disable=SC2046 # mm_stat's fields, one word each
	set -- $(mmstat "$dev")
	orig=$1 compr=$2 used=$3 maxu=$5 same=$6
	pp=$(pool_pages "$dev")
	[ -n "$pp" ] && pp=$((pp * 4096))
	check "mm_stat-$when-mem_used_is_pool_pages" eq "$used" "$pp"
	check "mm_stat-$when-compr_fits_mem_used" le "$compr" "$used"
	check "mm_stat-$when-max_used_ge_used" le "$used" "$maxu"
	if [ "$ALLOC" = zspp ]; then
		check "mm_stat-$when-zspp_objects_are_stored_pages" eq "$(zspp_stat "$dev" objects)" "$((orig / 4096 - same))"
		check "mm_stat-$when-zspp_bytes_are_compr_data_size" eq "$(zspp_stat "$dev" bytes_stored)" "$compr"
	fi
	echo "mm_stat $when: $(mmstat "$dev" | tr -s ' ') pool_bytes=$pp"
}

# ---- ext4 with real files -----------------------------------------------------
Z=/sys/block/zram0
ext4_suite() {
	echo 128M >$Z/disksize
	check ext4-mkfs /sbin/mkfs.ext4 -q -F /dev/zram0
	mount -t ext4 -o discard /dev/zram0 /mnt
	# Nothing below means anything unless the files are on zram.
	if ! grep -q '^/dev/zram0 /mnt ext4 ' /proc/mounts; then
		bad ext4-mount "(not mounted: the rest of the ext4 cases did not run)"
		return
	fi
	ok ext4-mount
	tar -xf /data.tar -C /mnt
	sync
	(cd /mnt && sha256sum -c /data.sha256 >/tmp/sum1 2>&1)
	check ext4-files-written eq $? 0
	echo 3 >/proc/sys/vm/drop_caches
	(cd /mnt && sha256sum -c /data.sha256 >/tmp/sum2 2>&1)
	check ext4-files-read-back-after-drop_caches eq $? 0
	mm_stat_adds_up zram0 written
	# Delete half the files and discard their blocks: zram frees their slots.
	orig_before=$(mm zram0 1)
	awk 'NR % 2 == 0 { print $2 }' /data.sha256 | (cd /mnt && xargs rm -f)
	sync
	fstrim /mnt
	sync
	orig_after=$(mm zram0 1)
	check discard-frees-slots lt "$orig_after" "$orig_before"
	echo "discard: orig_data_size $orig_before -> $orig_after"
	mm_stat_adds_up zram0 discarded
	used_before=$(mm zram0 3) comp_before=$(mm zram0 7)
	echo 1 >$Z/compact
	used_after=$(mm zram0 3) comp_after=$(mm zram0 7)
	echo "compact: mem_used_total $used_before -> $used_after, pages_compacted $comp_before -> $comp_after"
	check compact-never-grows-pool le "$used_after" "$used_before"
	check compact-counts-what-it-freed le "$(((used_before - used_after) / 4096))" "$((comp_after - comp_before))"
	if [ "$ALLOC" = zspp ]; then
		check compact-pages_compacted-is-zspp-counter eq "$(zspp_stat zram0 pages_compacted)" "$comp_after"
	fi
	mm_stat_adds_up zram0 compacted
	echo 3 >/proc/sys/vm/drop_caches
	awk 'NR % 2 == 1' /data.sha256 >/tmp/kept.sha256
	(cd /mnt && sha256sum -c /tmp/kept.sha256 >/tmp/sum3 2>&1)
	check ext4-kept-files-after-discard-and-compact eq $? 0
	umount /mnt
}
if has ext4 "$CASES"; then
	ext4_suite
	umount /mnt 2>/dev/null
	echo 1 >$Z/reset
	orig=$(mm zram0 1) used=$(mm zram0 3)
	check reset-empties-device eq "$orig:$used" "0:0"
fi

# ---- swap under memory pressure ---------------------------------------------------
swap_suite() {
	echo 256M >$Z/disksize
	mkswap /dev/zram0 >/dev/null
	check swapon swapon /dev/zram0
	echo +memory >/sys/fs/cgroup/cgroup.subtree_control
	mkdir /sys/fs/cgroup/w
	echo "$SWAP_MEM" >/sys/fs/cgroup/w/memory.max
	out=$(sh -c 'echo $$ >/sys/fs/cgroup/w/cgroup.procs; exec /bin/workload -q -g 2 '"$PAGES" 2>&1)
	rc=$?
	echo "$out" | tail -n 3
	echo "$out" | grep "^WORKLOAD .* mismatches=0\$" >/dev/null && [ $rc = 0 ]
	check swap-workload-verified test $? = 0
	sw=$(awk '$1 == "pswpout" { print $2 }' /proc/vmstat)
	check swap-pages-went-to-zram lt "$((PAGES / 2))" "$sw"
	echo "swap: pswpout=$sw"
	mm_stat_adds_up zram0 swapped
	check swapoff swapoff /dev/zram0
	echo 1 >$Z/reset
}
has swap "$CASES" && swap_suite

# ---- real data on the raw device -------------------------------------------------
# now_cs: /proc/uptime in 1/100 s.
now_cs() { awk '{ split($1, t, "."); print t[1] * 100 + t[2] }' /proc/uptime; }
raw_suite() {
	B=/raw.blob
	bytes=$(stat -c %s $B)
	if [ -z "$bytes" ] || [ $((bytes % 1048576)) != 0 ]; then
		bad raw-blob "($B: want whole MiB, have ${bytes:-none})"
		return
	fi
	mib=$((bytes / 1048576))
	rep=1 allok=1
	while [ $rep -le "$RAW_REPS" ]; do
		echo $((mib + 4))M >$Z/disksize
		t0=$(now_cs)
		dd if=$B of=/dev/zram0 bs=1M oflag=direct 2>/tmp/dd.err || { cat /tmp/dd.err; allok=0; }
		t1=$(now_cs)
		st=$(mmstat zram0 | tr -s ' ')
		t2=$(now_cs)
		dd if=/dev/zram0 of=/tmp/rb bs=1M count=$mib iflag=direct 2>/tmp/dd.err || { cat /tmp/dd.err; allok=0; }
		t3=$(now_cs)
		if ! cmp $B /tmp/rb; then allok=0; fi
		rm -f /tmp/rb
		echo "ZB rep=$rep bytes=$bytes write_cs=$((t1 - t0)) read_cs=$((t3 - t2)) mm_stat: $st"
		[ $rep = "$RAW_REPS" ] || echo 1 >$Z/reset
		rep=$((rep + 1))
	done
	check raw-written-read-back-equal eq $allok 1
	mm_stat_adds_up zram0 raw-written
	# Every other 256 KiB zeroed on the device and in a copy of the blob:
	# zram stores those pages as same-filled and frees their objects.
	cp $B /tmp/exp
	n=0 allok=1
	while [ $n -lt $((mib * 4)) ]; do
		dd if=/dev/zero of=/dev/zram0 bs=256K seek=$n count=1 oflag=direct 2>/dev/null || allok=0
		dd if=/dev/zero of=/tmp/exp bs=256K seek=$n count=1 conv=notrunc 2>/dev/null || allok=0
		n=$((n + 2))
	done
	check raw-holes-written eq $allok 1
	echo "ZB holes mm_stat: $(mmstat zram0 | tr -s ' ')"
	bg_pause
	used_before=$(mm zram0 3) comp_before=$(mm zram0 7)
	echo 1 >$Z/compact
	used_after=$(mm zram0 3) comp_after=$(mm zram0 7)
	bg_resume
	echo "ZB compacted mm_stat: $(mmstat zram0 | tr -s ' ')"
	check raw-compact-never-grows-pool le "$used_after" "$used_before"
	check raw-compact-counts-what-it-freed le "$(((used_before - used_after) / 4096))" "$((comp_after - comp_before))"
	mm_stat_adds_up zram0 raw-holes-compacted
	dd if=/dev/zram0 of=/tmp/rb bs=1M count=$mib iflag=direct 2>/tmp/dd.err || cat /tmp/dd.err
	check raw-read-back-after-holes-and-compact cmp /tmp/exp /tmp/rb
	rm -f /tmp/rb /tmp/exp
	echo 1 >$Z/reset
	orig=$(mm zram0 1) used=$(mm zram0 3)
	check raw-reset-empties-device eq "$orig:$used" "0:0"
}
has raw "$CASES" && raw_suite

# ---- mem_limit and writeback to a backing device ------------------------------
# limits_suite: zram's own limits, which read the allocator's figures.
#   mem_limit: writes past it fail (zram compares zs_get_total_pages() with
#   it after each zs_malloc), mem_used_total stops within one allocation of
#   it, and what was written before reads back equal.
#   writeback (CONFIG_ZRAM_WRITEBACK): with a loop device as backing_dev,
#   idle pages go to it (zs_map_object to read them, zs_free after), the
#   pool shrinks, bd_stat counts the writes, every byte reads back equal
#   (from the backing device now) and mem_used_total is still the pool.
limits_suite() {
	D=/data.tar
	# mem_limit: 2 MiB of pool for up to 24 MiB of real files.
	echo 64M >$Z/disksize
	echo 2M >$Z/mem_limit
	# One page per write: dd stops at the first one zram refuses (a write
	# whose object needs a page of pool past the limit), so what zram holds
	# is a prefix of the data, orig_data_size long, and must read back equal.
	dd if=$D of=/dev/zram0 bs=4096 count=6144 oflag=direct 2>/tmp/dd.err
	rc=$?
	check mem_limit-refuses-writes-past-it test $rc != 0
	lim=$(mm zram0 4) used=$(mm zram0 3)
	check mem_limit-reported eq "$lim" $((2 << 20))
	# One allocation may cross the limit before zram sees it (a new zspage:
	# at most 4 pages for zsmalloc, 1 for zspp, which adds pages as slots
	# reach them): 16 pages is the bound for both.
	check mem_limit-holds-mem_used le "$used" $(((2 << 20) + 16 * 4096))
	n=$(($(mm zram0 1) / 4096))
	echo "mem_limit: $n pages stored before the limit, mm_stat $(mmstat zram0 | tr -s ' ')"
	if [ "$n" -gt 0 ]; then
		dd if=/dev/zram0 of=/tmp/rb bs=4096 count="$n" iflag=direct 2>/dev/null
		dd if=$D of=/tmp/exp bs=4096 count="$n" 2>/dev/null
		check mem_limit-stored-part-reads-back cmp /tmp/exp /tmp/rb
		rm -f /tmp/rb /tmp/exp
	else
		bad mem_limit-stored-part-reads-back "(nothing stored before the limit: $(cat /tmp/dd.err))"
	fi
	mm_stat_adds_up zram0 mem_limit
	echo 1 >$Z/reset

	# writeback to a loop device on tmpfs.
	dd if=/dev/zero of=/tmp/bd bs=1M count=0 seek=64 2>/dev/null
	if ! losetup /dev/loop0 /tmp/bd 2>/tmp/lo.err; then
		bad writeback-backing-device "(losetup: $(cat /tmp/lo.err))"
		return
	fi
	echo /dev/loop0 >$Z/backing_dev
	check writeback-backing_dev-set eq "$(cat $Z/backing_dev)" /dev/loop0
	echo 64M >$Z/disksize
	dd if=$D of=/dev/zram0 bs=1M count=16 oflag=direct 2>/dev/null
	check writeback-written eq $? 0
	used_before=$(mm zram0 3)
	echo all >$Z/idle
	echo idle >$Z/writeback
	# bd_stat: bd_count bd_reads bd_writes (pages)
	bdw=$(awk '{ print $3 }' $Z/bd_stat)
	used_after=$(mm zram0 3)
	echo "writeback: bd_stat $(tr -s ' ' <$Z/bd_stat) mem_used_total $used_before -> $used_after"
	check writeback-wrote-pages lt 0 "${bdw:-0}"
	check writeback-shrinks-pool lt "$used_after" "$used_before"
	pp=$(pool_pages zram0)
	check writeback-mem_used-is-pool-pages eq "$used_after" "$((${pp:-0} * 4096))"
	if [ "$ALLOC" = zspp ]; then
		check writeback-zspp-bytes-are-compr_data_size eq "$(zspp_stat zram0 bytes_stored)" "$(mm zram0 2)"
	fi
	echo 3 >/proc/sys/vm/drop_caches
	dd if=/dev/zram0 of=/tmp/rb bs=1M count=16 iflag=direct 2>/dev/null
	dd if=$D of=/tmp/exp bs=1M count=16 2>/dev/null
	check writeback-reads-back-equal cmp /tmp/exp /tmp/rb
	rm -f /tmp/rb /tmp/exp
	echo 1 >$Z/reset
	losetup -d /dev/loop0
	rm -f /tmp/bd
}
has limits "$CASES" && limits_suite

# ---- the kernel's own zram selftests (tools/testing/selftests/zram) ------------
if has selftests "$CASES"; then
	cd /selftests/zram || finish
	for t in $SELFTESTS; do
		# Bounded: zram01 fills a file with 1 KiB appends until the disk is full.
		r=$(timeout 900 /bin/bash ./$t.sh 2>&1)
		echo "$r" | sed "s/^/  $t: /"
		if echo "$r" | grep "^$t : \[PASS\]" >/dev/null; then ok "selftest-$t"; else bad "selftest-$t" "no [PASS]"; fi
	done
	cd /
fi
bg_stop

echo "--- dmesg"
dmesg | tail -n 40
finish
