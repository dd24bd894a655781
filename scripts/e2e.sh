#!/usr/bin/env bash
# e2e.sh [options]: end-to-end test of a zpool allocator through zswap in QEMU.
#
# Builds the workload, fetches the kernel, builds an initramfs, boots it under
# TCG, and checks the console log (see Documentation/testing-e2e.md). Prints
# "PASS: name" / "FAIL: name (why)" per assertion and exits non-zero on any FAIL.
#
#   --zpool NAME          zspp (default), zsmalloc, zbud or z3fold
#   --module PATH         the zspp module (default: <repo>/zspp.ko; zspp only)
#   --kernel NAME         kernel for scripts/fetch-kernel.sh (default stock-6.1)
#   --kernel-image PATH   use this kernel image instead   (env ZSPP_KERNEL_IMAGE)
#   --modules-dir DIR     and take its modules from here  (env ZSPP_MODULES_DIR);
#                         without it, every driver must be built in
#   --mem SIZE            memory.max of the workload's cgroup (default 48M)
#   --pages N             workload pages (default: 3 x --mem)
#   --zswap-max SIZE      memory.zswap.max of the cgroup (default: 3/4 of --mem, so
#                         the zswap pool charged to the cgroup cannot OOM it)
#   --rounds N            workload rewrite rounds (default 2)
#   --seed N              workload seed (default 1)
#   --workload-args ARGS  extra workload arguments (e.g. -C: corrupt pages on
#                         purpose, to see the harness fail)
#   --max-pool-percent N  zswap max_pool_percent (default 20, the kernel's)
#   --compressor NAME     zswap compressor (default lzo)
#   --vm-mem SIZE         guest RAM (default 1024M)
#   --smp N               guest CPUs (default 2)
#   --timeout SECS        bound on the QEMU run (default 480)
#   --workdir DIR         logs and images (default $ZSPP_CACHE/e2e/ZPOOL)
#   --append ARGS         extra kernel command line
#   --echo                copy the guest console to stderr while it runs
#   --check-only LOG      only run the assertions on an existing console log
#   --no-check            only run (build, boot): no assertions, nothing on stdout;
#                         QEMU's exit status goes to WORKDIR/qemu.rc (for wrappers
#                         such as scripts/fault-e2e.sh that judge the log themselves)
#   --set VAR=VALUE       extra guest setting for /etc/zspp-e2e.conf (repeatable;
#                         VAR is an E2E_* name of tests/e2e/guest-init.sh, e.g.
#                         E2E_FAULT_ATTRS="fail_page_alloc failslab")
#   --expect-writeback    also assert that zswap hit its pool limit and wrote pages
#                         back through the allocator's evict (written_back_pages > 0,
#                         and for zspp pages_reclaimed > 0); use a low
#                         --max-pool-percent
#   --exiters N           while the workload runs, N rounds of short-lived
#                         children in its cgroup fill 4096 pages each and exit
#                         (every other one killed mid-way): zswap invalidates
#                         their entries while it writes back (process exit
#                         racing evict); the ones not killed verify every byte
#   --switch-pools        while the workload runs: try rmmod (must be refused), switch
#                         zswap's compressor to lz4, its zpool to zbud and back, the
#                         compressor back; assert several zspp pools existed at once
#                         and everything still drains and unloads
#   --bad-input           insmod zspp with invalid chain_size values and write garbage
#                         to its parameter and debugfs files: all refused, nothing changed
#   --expect-fold         (CONFIG_ZSPP_FOLD module) the workload repeats 64 distinct
#                         page patterns (-D 64) and parks after its fill (-P); the
#                         guest folds the pool through debugfs meanwhile (cgroup
#                         memory.zswap.writeback=0, so the pages stay in zswap);
#                         assert pages_folded > 0, objs_folded > 0 and a smaller
#                         zswap pool_total_size for the same stored pages
#   --fold-worker MS      (CONFIG_ZSPP_FOLD module) background folding every MS ms:
#                         with --expect-fold switched on after the triggered fold
#                         (assert more fold passes and folded pages after it),
#                         else insmod zspp fold_interval_ms=MS (assert fold passes)
#   --scan-console        also assert that the whole console log (boot to reboot,
#                         not only the final dmesg dump) has no kernel splat
#   --name NAME           closing line "NAME: N passed, M failed" (default
#                         "e2e ZPOOL: N assertions passed, M failed")
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() { sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&2; exit "${1:-2}"; }

zpool=zspp module="" kernel=stock-6.1
kimage=${ZSPP_KERNEL_IMAGE:-} kmoddir=${ZSPP_MODULES_DIR:-}
mem=48M pages="" zswap_max="" rounds=2 seed=1 wargs="" mpp=20 compressor=lzo
vm_mem=1024M smp=2 tmo=480 workdir="" append="" echo_arg=() check_only=""
no_check=0 sets=() scan_console=0 name="" expect_wb=0 switch=0 badin=0
expect_fold=0 fold_worker=""
exiters=0
while (($#)); do
	case $1 in
	--zpool) zpool=$2; shift ;;
	--module) module=$2; shift ;;
	--kernel) kernel=$2; shift ;;
	--kernel-image) kimage=$2; shift ;;
	--modules-dir) kmoddir=$2; shift ;;
	--mem) mem=$2; shift ;;
	--pages) pages=$2; shift ;;
	--zswap-max) zswap_max=$2; shift ;;
	--rounds) rounds=$2; shift ;;
	--seed) seed=$2; shift ;;
	--workload-args) wargs=$2; shift ;;
	--max-pool-percent) mpp=$2; shift ;;
	--compressor) compressor=$2; shift ;;
	--vm-mem) vm_mem=$2; shift ;;
	--smp) smp=$2; shift ;;
	--timeout) tmo=$2; shift ;;
	--workdir) workdir=$2; shift ;;
	--append) append=$2; shift ;;
	--echo) echo_arg=(--echo) ;;
	--check-only) check_only=$2; shift ;;
	--no-check) no_check=1 ;;
	--set) sets+=("$2"); shift ;;
	--scan-console) scan_console=1 ;;
	--expect-writeback) expect_wb=1 ;;
	--bad-input) badin=1; sets+=("E2E_BAD_INPUT=1") ;;
	--switch-pools) switch=1; sets+=("E2E_SWITCH_AT=5") ;;
	--exiters) exiters=$2; sets+=("E2E_EXITERS=$2"); shift ;;
	--expect-fold) expect_fold=1 ;;
	--fold-worker) fold_worker=$2; shift ;;
	--name) name=$2; shift ;;
	-h | --help) usage 0 ;;
	*) die "unknown argument '$1' (see --help)" ;;
	esac
	shift
done

# to_bytes SIZE: 48M -> 50331648 (K, M, G suffixes, as the cgroup files take them).
to_bytes() {
	local v=$1
	case $v in
	*[kK]) echo $((${v%?} * 1024)) ;;
	*[mM]) echo $((${v%?} * 1024 * 1024)) ;;
	*[gG]) echo $((${v%?} * 1024 * 1024 * 1024)) ;;
	*[!0-9]* | "") die "bad size '$v' (want a number with an optional K/M/G suffix)" ;;
	*) echo "$v" ;;
	esac
}

case $zpool in
zspp | zsmalloc | zbud | z3fold) ;;
*) die "unknown --zpool '$zpool' (zspp, zsmalloc, zbud or z3fold)" ;;
esac
mem_bytes=$(to_bytes "$mem")
((mem_bytes >= 8 * 1024 * 1024)) || die "--mem $mem is too small (at least 8M)"
[[ -n $pages ]] || pages=$((3 * mem_bytes / 4096))
[[ $pages =~ ^[0-9]+$ ]] || die "--pages wants a number, got '$pages'"
[[ -n $zswap_max ]] || zswap_max=$((mem_bytes * 3 / 4))
[[ -n $workdir ]] || workdir="$ZSPP_CACHE/e2e/$zpool"
if ((expect_fold)) || [[ -n $fold_worker ]]; then
	[[ $zpool == zspp ]] || die "--expect-fold and --fold-worker are for --zpool zspp"
fi
if [[ -n $fold_worker ]]; then
	if ! [[ $fold_worker =~ ^[0-9]+$ ]] || ((fold_worker < 100)); then
		die "--fold-worker wants milliseconds >= 100, got '$fold_worker'"
	fi
	if ((expect_fold)); then
		sets+=("E2E_FOLD_INTERVAL_MS=$fold_worker")
	else
		sets+=("E2E_ZSPP_PARAMS=fold_interval_ms=$fold_worker")
	fi
fi
if ((expect_fold)); then
	sets+=("E2E_FOLD=1" "E2E_ZSWAP_WRITEBACK=0")
	wargs="-D 64 -P /tmp/e2e-fold${wargs:+ $wargs}"
fi
for kv in "${sets[@]}"; do
	[[ $kv =~ ^E2E_[A-Z0-9_]+=[^\"\$\`\\]*$ ]] ||
		die "bad --set '$kv' (want E2E_NAME=VALUE, VALUE without quotes, \$, \` or \\)"
done

# ---------------------------------------------------------------- assertions
npass=0 nfail=0 # pass/fail/g/field: scripts/lib.sh

# kernel_splats FILE FAULTS: the first lines that fail a log (at most 3,
# '|'-separated; the pattern: splat_lines in scripts/lib.sh); FAULTS=1 for a
# run with fault injection.
kernel_splats() {
	local f=$1 faults=$2 opts=()
	# --bad-input's refused insmods make the kernel log "`0' invalid for parameter".
	if ((badin)); then opts+=(--allow "zspp: \`[^']*' invalid for parameter \`chain_size'"); fi
	if ((faults)); then opts+=(--fault-traces); fi
	splat_lines "${opts[@]}" "$f" | cut -c1-160 | paste -sd '|' -
}

# sum_field LINES KEY / max_field LINES KEY: the sum / largest of KEY=N over
# the lines (0 when none has it), e.g. over one summary line per zspp pool.
sum_field() { sed -n "s/.*[ ]$2=\([0-9]*\).*/\1/p" <<<"$1" | awk '{ s += $1 } END { print s + 0 }'; }
max_field() { sed -n "s/.*[ ]$2=\([0-9]*\).*/\1/p" <<<"$1" | sort -n | tail -n 1 | awk '{ print $1 + 0 } END { if (!NR) print 0 }'; }

# summarize LOG: facts for the reader, not assertions.
summarize() {
	local log=$1 peak pool_peak ratio vm
	peak=$(g '^ZSWAP t=' "$log" | sed -n 's/.* stored_pages=\([0-9]*\).*/\1/p' | sort -n | tail -n 1)
	vm=$(g '^VMSTAT ' "$log" | tail -n 1)
	pool_peak=$(g '^ZSWAP t=' "$log" | sed -n 's/.* pool_total_size=\([0-9]*\).*/\1/p' | sort -n | tail -n 1)
	ratio=$(g '^ZSWAP t=' "$log" | awk '{
		for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		s = v["stored_pages"] - v["same_filled_pages"]
		if (s > best) { best = s; sz = v["pool_total_size"] } }
		END { if (sz > 0) printf "%.2f", best * 4096 / sz; else print "n/a" }')
	log "summary: zpool=$zpool peak stored_pages=${peak:-0} peak pool_total_size=${pool_peak:-0}" \
		"(pages/pool at peak: ${ratio}x) ${vm:-no VMSTAT}"
}

check_log() {
	local raw=$1 log qrc=${2:-0}
	log="$workdir/console.clean.log"
	[[ -f $raw ]] || die "console log $raw not found"
	mkdir -p "$workdir"
	tr -d '\r' <"$raw" >"$log"
	summarize "$log"

	# The guest reached its end (ran the whole script, dumped dmesg).
	if grep -q '^E2E-END$' "$log"; then
		local errs
		errs=$(g '^E2E-ERROR' "$log" | sed 's/^E2E-ERROR //' | paste -sd ';' -)
		if [[ -z $errs ]]; then
			pass "guest-completed"
		else
			fail "guest-completed" "guest script errors: $errs"
		fi
	elif ((qrc == 124)); then
		fail "guest-completed" "QEMU timed out; last line: $(tail -n 1 "$log" | cut -c1-120)"
	else
		fail "guest-completed" "no E2E-END (qemu rc=$qrc, panic?); last line: $(tail -n 1 "$log" | cut -c1-120)"
	fi

	# zswap really used the requested allocator.
	local params
	params=$(g '^ZSWAP-PARAMS ' "$log" | tail -n 1)
	if [[ $(field "$params" zpool) == "$zpool" && $(field "$params" enabled) == Y ]]; then
		pass "zswap-uses-$zpool"
	else
		fail "zswap-uses-$zpool" "zswap parameters: ${params:-never printed}"
	fi

	# The workload verified every page.
	local wl wp wv wm want
	wl=$(g '^WORKLOAD pages=' "$log" | tail -n 1)
	wp=$(field "$wl" pages) wv=$(field "$wl" verified) wm=$(field "$wl" mismatches)
	want=$(g -o '^E2E config .* pages=[0-9]*' "$log" | sed 's/.* pages=//' | sed -n 1p)
	if [[ -z $wl ]]; then
		local why
		why=$(g -m1 -E 'Out of memory|oom-kill|WORKLOAD-EXIT' "$log")
		fail "workload-verified" "no WORKLOAD line (${why:-see the log})"
	elif [[ $wm == 0 && $wv == "$wp" && $wp == "${want:-$wp}" ]]; then
		pass "workload-verified"
	else
		fail "workload-verified" "$wl (expected pages=${want:-?})$(g -m3 '^MISMATCH' "$log" | sed 's/^/; /' | tr -d '\n')"
	fi

	# zswap stored pages while the workload ran.
	local peak
	peak=$(g '^ZSWAP t=' "$log" | sed -n 's/.* stored_pages=\([0-9]*\).*/\1/p' | sort -n | tail -n 1)
	if [[ ${peak:-0} -gt 0 ]]; then
		pass "zswap-stored-pages"
	else
		fail "zswap-stored-pages" "stored_pages never above 0 during the run"
	fi

	# The cgroup limit forced at least 2x memory.max out to swap.
	local vm out limit_pages
	vm=$(g '^VMSTAT ' "$log" | tail -n 1)
	out=$(($(field "$vm" pswpout) + 0 + $(field "$vm" zswpout) + 0))
	limit_pages=$(g -o '^E2E cgroup memory.max=[0-9]*' "$log" | sed 's/.*=//' | sed -n 1p)
	limit_pages=$((${limit_pages:-0} / 4096))
	if ((limit_pages > 0 && out >= 2 * limit_pages)); then
		pass "swapped-over-2x-limit"
	else
		fail "swapped-over-2x-limit" "pswpout+zswpout=$out pages, limit=$limit_pages pages"
	fi

	# Every swap entry gone from zswap once the workload's memory was freed.
	local after
	after=$(g '^ZSWAP-AFTER ' "$log" | tail -n 1)
	if [[ -n $after && $(field "$after" stored_pages) == 0 && $(field "$after" pool_total_size) == 0 ]]; then
		pass "zswap-drained"
	else
		fail "zswap-drained" "${after:-no ZSWAP-AFTER line}"
	fi

	if [[ $zpool == zspp ]]; then
		local objs
		objs=$(g '^ZSPP [^ ]* ' "$log" | sed -n 's/.* objects=\([0-9]*\).*/\1/p' | sort -n | tail -n 1)
		if [[ ${objs:-0} -gt 0 ]]; then
			pass "zspp-objects-during-run"
		else
			fail "zspp-objects-during-run" "no ZSPP summary with objects > 0 during the run"
		fi

		# A summary counter of handles the allocator refused as invalid, if it has one.
		local badh
		badh=$(g -E '^ZSPP(-[A-Z]+)? [^ ]* ' "$log" | sed -n 's/.* bad_handles=\([0-9]*\).*/\1/p' | sort -n | tail -n 1)
		if [[ -n $badh ]]; then
			if [[ $badh == 0 ]]; then
				pass "zspp-no-bad-handles"
			else
				fail "zspp-no-bad-handles" "summary showed bad_handles=$badh"
			fi
		fi

		local zafter nz
		zafter=$(g '^ZSPP-AFTER ' "$log")
		nz=$(g -c '^ZSPP-AFTER .* pages=0\( \|$\)' <<<"$zafter")
		if [[ -n $zafter && $nz == "$(g -c . <<<"$zafter")" ]]; then
			pass "zspp-pool-drained"
		else
			fail "zspp-pool-drained" "${zafter:-no ZSPP-AFTER summary after the workload}"
		fi
	fi

	# Hostile input (--bad-input): every BADINPUT line ok=1, and there are some.
	if ((badin)); then
		local nb nbad
		nb=$(g -c '^BADINPUT ' "$log")
		nbad=$(g '^BADINPUT .* ok=0' "$log" | sed 's/^BADINPUT //' | paste -sd ';' -)
		if [[ $nb -ge 15 && -z $nbad ]]; then
			pass "bad-input-refused ($nb checks)"
		else
			fail "bad-input-refused" "$nb BADINPUT checks; not refused: ${nbad:-none}"
		fi
	fi

	# Runtime pool switching (--switch-pools).
	if ((switch)); then
		local sr sp steps
		sr=$(g '^SWITCH rmmod-while-in-use' "$log")
		if [[ -n $sr && $(field "$sr" rc) != 0 && $(field "$sr" still_loaded) == 1 ]]; then
			pass "rmmod-refused-while-zswap-uses-zspp"
		else
			fail "rmmod-refused-while-zswap-uses-zspp" "${sr:-no SWITCH rmmod line (workload too short?)}"
		fi
		steps=$(g -c '^SWITCH \(compressor\|zpool\)=' "$log")
		sp=$(g '^SWITCH ' "$log" | sed -n 's/.* pools=\([0-9]*\).*/\1/p' | sort -n | tail -n 1)
		if [[ $steps == 4 && ${sp:-0} -ge 2 ]]; then
			pass "switch-several-zspp-pools-at-once"
		else
			fail "switch-several-zspp-pools-at-once" "switch steps=$steps, most zspp pools at once=${sp:-0}"
		fi
		log "pool switching: $(g '^SWITCH ' "$log" | sed 's/^SWITCH //' | paste -sd ';' -)"
	fi

	# Short-lived children (--exiters): they ran, the ones not killed read
	# every byte back, and none died of anything but the test's SIGKILL.
	if ((exiters > 0)); then
		local nex nbad nkilled
		nex=$(g -c '^EXITER ' "$log")
		nbad=$(g -c '^EXITER .* bad=1' "$log")
		nkilled=$(g -c '^EXITER .* killed=1' "$log")
		if [[ $nex -ge $exiters && $nbad -eq 0 && $nkilled -gt 0 ]]; then
			pass "exiters-ran-and-verified"
		else
			fail "exiters-ran-and-verified" "$nex of $exiters rounds, $nkilled killed, $nbad bad: $(g -m3 '^EXITER .* bad=1' "$log" | paste -sd ';' -)"
		fi
		log "exiters: $nkilled killed, $(g -c '^EXITER .* killed=0' "$log") ran to the end"
	fi

	# Writeback: zswap hit its pool limit and wrote pages back through evict.
	if ((expect_wb)); then
		local zl wb plh
		zl=$(g '^ZSWAP-\(AFTER\|FINAL\) ' "$log" | tail -n 1)
		wb=$(field "$zl" written_back_pages) plh=$(field "$zl" pool_limit_hit)
		if [[ ${plh:-0} -gt 0 ]]; then
			pass "zswap-pool-limit-hit"
		else
			fail "zswap-pool-limit-hit" "pool_limit_hit=${plh:-?} (lower --max-pool-percent)"
		fi
		if [[ ${wb:-0} -gt 0 ]]; then
			pass "zswap-written-back"
		else
			fail "zswap-written-back" "written_back_pages=${wb:-?} reject_reclaim_fail=$(field "$zl" reject_reclaim_fail)"
		fi
		log "writeback: written_back_pages=${wb:-?} pool_limit_hit=${plh:-?} reject_reclaim_fail=$(field "$zl" reject_reclaim_fail)"
		if [[ $zpool == zspp ]]; then
			local rp ow
			rp=$(g -E '^ZSPP(-[A-Z]+)? [^ ]* ' "$log" | sed -n 's/.* pages_reclaimed=\([0-9]*\).*/\1/p' | sort -n | tail -n 1)
			ow=$(g -E '^ZSPP(-[A-Z]+)? [^ ]* ' "$log" | sed -n 's/.* objs_written_back=\([0-9]*\).*/\1/p' | sort -n | tail -n 1)
			if [[ ${rp:-0} -gt 0 && ${ow:-0} -gt 0 ]]; then
				pass "zspp-reclaimed"
			else
				fail "zspp-reclaimed" "pages_reclaimed=${rp:-none} objs_written_back=${ow:-none}"
			fi
			log "zspp reclaim: pages_reclaimed=${rp:-?} objs_written_back=${ow:-?}"
		fi
	fi

	# Folding (--expect-fold): every zspp pool folded while the workload was
	# parked after its fill, so the same stored pages take fewer pool pages.
	if ((expect_fold)); then
		local zb za sb sa nfl nbad pb pa
		zb=$(g '^ZSWAP-PREFOLD ' "$log" | tail -n 1)
		za=$(g '^ZSWAP-FOLDED ' "$log" | tail -n 1)
		sb=$(g '^ZSPP-PREFOLD ' "$log")
		sa=$(g '^ZSPP-FOLDED ' "$log")
		nfl=$(g -c '^FOLD [^ ]* rc=' "$log")
		nbad=$(g '^FOLD [^ ]* rc=' "$log" | g -v ' rc=0 ' | paste -sd ';' -)
		if ((nfl > 0)) && [[ -z $nbad ]]; then
			pass "fold-triggered"
		else
			fail "fold-triggered" "$nfl FOLD lines${nbad:+; failed: $nbad}$(g -m1 'never paused for the fold\|fold of\|/fold (not' "$log" | sed 's/^/; /')"
		fi
		local st0 st1 ps0 ps1
		st0=$(field "$zb" stored_pages) st1=$(field "$za" stored_pages)
		ps0=$(field "$zb" pool_total_size) ps1=$(field "$za" pool_total_size)
		if [[ ${st0:-0} -gt 0 && $st0 == "$st1" && ${ps1:-0} -gt 0 && ${ps1} -lt ${ps0:-0} ]]; then
			pass "fold-shrank-zswap-pool"
		else
			fail "fold-shrank-zswap-pool" "stored_pages ${st0:-?} -> ${st1:-?}, pool_total_size ${ps0:-?} -> ${ps1:-?}"
		fi
		pb=$(sum_field "$sa" pages_folded) pa=$(sum_field "$sa" objs_folded)
		if ((pb > 0)); then
			pass "zspp-pages-folded"
		else
			fail "zspp-pages-folded" "pages_folded=$pb after the fold"
		fi
		if ((pa > 0)); then
			pass "zspp-objs-folded"
		else
			fail "zspp-objs-folded" "objs_folded=$pa after the fold"
		fi
		log "fold: stored_pages=${st0:-?} pool_total_size ${ps0:-?} -> ${ps1:-?}" \
			"zspp pages $(sum_field "$sb" pages) -> $(sum_field "$sa" pages) objects $(sum_field "$sb" objects) -> $(sum_field "$sa" objects)" \
			"pages_folded=$pb objs_folded=$pa bytes_folded=$(sum_field "$sa" bytes_folded)" \
			"fold_collisions=$(sum_field "$sa" fold_collisions) fold_cow=$(sum_field "$sa" fold_cow)" \
			"in $(g '^FOLD [^ ]* rc=' "$log" | sed -n 's/.* secs=//p' | paste -sd+ -)s"
	fi

	# Background folding (--fold-worker): passes ran without the debugfs trigger
	# (after it, with --expect-fold).
	if [[ -n $fold_worker ]]; then
		local run p0 f0 p1 f1 o1
		run=$(g -E '^ZSPP(-POST|-AFTER)? [^ ]* ' "$log")
		p0=0 f0=0
		if ((expect_fold)); then
			p0=$(sum_field "$(g '^ZSPP-FOLDED ' "$log")" fold_passes)
			f0=$(sum_field "$(g '^ZSPP-FOLDED ' "$log")" pages_folded)
		fi
		p1=$(max_field "$run" fold_passes) f1=$(max_field "$run" pages_folded) o1=$(max_field "$run" objs_folded)
		if ((p1 > p0)); then
			pass "fold-worker-passes"
		else
			fail "fold-worker-passes" "fold_passes=$p1 (was $p0 when the worker started)"
		fi
		if ((expect_fold)); then
			if ((f1 > f0)); then
				pass "fold-worker-pages-folded"
			else
				fail "fold-worker-pages-folded" "pages_folded=$f1 (was $f0 when the worker started)"
			fi
		fi
		log "fold worker: most fold_passes=$p1 pages_folded=$f1 objs_folded=$o1 in one pool (from $p0 passes, $f0 pages)"
	fi

	# The module under test unloads cleanly.
	local rm hint="" leaked_ok=0
	# Stock 6.1 zswap leaks a pool reference whenever it hits max_pool_percent while
	# its shrink work is already queued (fixed upstream by "mm: zswap: fix pool
	# refcount bug around shrink_worker()", 6.4), so that pool is never destroyed.
	# Then the only acceptable reason for zspp to stay loaded: the pools left are
	# exactly what holds the module (refcnt == pools) and they are empty.
	local rmz fin_plh
	rmz=$(g '^RMMOD zspp ' "$log" | tail -n 1)
	fin_plh=$(field "$rmz" pool_limit_hit)
	if [[ $zpool == zspp && ${fin_plh:-0} -gt 0 ]]; then
		local fin nfin nempty rcnt
		fin=$(g '^ZSPP-FINAL ' "$log")
		nfin=$(g -c . <<<"$fin")
		nempty=$(g -c ' pages=0 .*objects=0\( \|$\)' <<<"$fin")
		rcnt=$(field "$rmz" refcnt)
		if [[ $nfin -gt 0 && $nfin == "$nempty" && $rcnt == "$nfin" ]]; then
			leaked_ok=1
			log "zspp stays loaded only for $nfin pool(s) stock 6.1 zswap leaked after $fin_plh pool-limit hits; all empty"
		fi
		hint="; zswap hit max_pool_percent ($fin_plh times): stock 6.1 zswap leaks pool references then; pools left: $nfin, empty: $nempty, module refcnt: ${rcnt:-?}"
	fi
	while read -r rm; do
		[[ -n $rm ]] || continue
		if [[ $(field "$rm" rc) == 0 ]]; then
			pass "rmmod-$(awk '{print $2}' <<<"$rm")"
		elif ((leaked_ok)) && [[ $(awk '{print $2}' <<<"$rm") == zspp ]]; then
			pass "rmmod-zspp-held-only-by-empty-leaked-zswap-pools"
		else
			fail "rmmod-$(awk '{print $2}' <<<"$rm")" "$rm$hint"
		fi
	done < <(g '^RMMOD ' "$log")
	if [[ $zpool == zspp ]] && ! grep -q '^RMMOD zspp ' "$log"; then
		fail "rmmod-zspp" "no RMMOD zspp line"
	fi

	if [[ $zpool == zspp ]]; then
		local sw rmd
		sw=$(g '^ZSPP-DEBUGFS after-switch' "$log")
		rmd=$(g '^ZSPP-DEBUGFS after-rmmod' "$log")
		if ((leaked_ok)); then
			pass "zspp-debugfs-only-leaked-empty-pools"
		elif [[ -n $sw && $(field "$sw" pools) != 0 ]]; then
			fail "zspp-debugfs-gone" "$sw$hint"
		elif [[ $(field "$rmd" exists) != 0 ]]; then
			fail "zspp-debugfs-gone" "${rmd:-no ZSPP-DEBUGFS after-rmmod line}"
		else
			pass "zspp-debugfs-gone"
		fi
	fi

	# A clean kernel log: the dmesg dump if the guest got that far, else the console.
	local klog="$workdir/dmesg.log" bad
	if grep -q '^DMESG-END$' "$log"; then
		sed -n '/^DMESG-BEGIN$/,/^DMESG-END$/p' "$log" >"$klog"
	else
		cp "$log" "$klog"
	fi
	local faults=0
	grep -q '^FAULT-CONFIG ' "$log" && faults=1
	bad=$(kernel_splats "$klog" "$faults")
	if [[ -z $bad ]]; then
		pass "dmesg-clean"
	else
		fail "dmesg-clean" "$bad"
	fi

	# The whole console, boot to reboot (what a crash leaves when there is no dump).
	if ((scan_console)); then
		bad=$(kernel_splats "$log" "$faults")
		if [[ -z $bad ]]; then
			pass "console-clean"
		else
			fail "console-clean" "$bad"
		fi
	fi
	local nalloc
	nalloc=$(g -c 'page allocation failure:' "$klog")
	((nalloc == 0)) || log "note: $nalloc 'page allocation failure' reports in the kernel log (injected failures)"

}

# The closing line names assertions so that scripts/check.sh, which adds up the
# PASS:/FAIL: lines, does not count them a second time.
finish() {
	if [[ -n $name ]]; then
		echo "$name: $npass passed, $nfail failed"
	else
		echo "e2e $zpool: $npass assertions passed, $nfail failed"
	fi
	((nfail == 0))
}

if [[ -n $check_only ]]; then
	check_log "$check_only" 0
	finish
	exit
fi

# ---------------------------------------------------------------- build + run
start=$(now_s)
mkdir -p "$workdir"
need_cmd gcc gcc

insmod=""
extra=()
case $zpool in
zspp)
	[[ -n $module ]] || module="$ZSPP_ROOT/zspp.ko"
	[[ -f $module ]] || die "zspp module $module not found: build it with 'make' at the repo top, or pass --module"
	extra+=("$module")
	insmod=$(basename "${module%.ko}")
	;;
zsmalloc | z3fold)
	[[ -z $module ]] || extra+=("$module")
	insmod=$zpool
	;;
zbud) [[ -z $module ]] || die "--module makes no sense with --zpool zbud (built in)" ;;
esac

log "building the workload"
gcc -static -O2 -Wall -o "$workdir/workload" "$ZSPP_ROOT/tests/e2e/workload.c"

if [[ -n $kimage ]]; then
	[[ -f $kimage ]] || die "--kernel-image $kimage not found"
	[[ -z $kmoddir || -d $kmoddir ]] || die "--modules-dir $kmoddir not found"
	vmlinuz=$kimage
	moddir=$kmoddir
else
	eval "$("$ZSPP_SCRIPTS/fetch-kernel.sh" "$kernel")"
	vmlinuz=$VMLINUZ
	moddir=$MODDIR
fi

cat >"$workdir/e2e.conf" <<EOF
E2E_ZPOOL=$zpool
E2E_INSMOD="$insmod"
E2E_COMPRESSOR=$compressor
E2E_MAX_POOL_PERCENT=$mpp
E2E_PAGES=$pages
E2E_MEM_MAX=$mem_bytes
E2E_ZSWAP_MAX=$zswap_max
E2E_SEED=$seed
E2E_WORKLOAD_ARGS="-g $rounds${wargs:+ $wargs}"
EOF
for kv in "${sets[@]}"; do
	printf '%s="%s"\n' "${kv%%=*}" "${kv#*=}" >>"$workdir/e2e.conf"
done

initrd=$("$ZSPP_SCRIPTS/mkinitramfs.sh" -o "$workdir/initramfs.cpio.gz" ${moddir:+-m "$moddir"} \
	-w "$workdir/workload" -c "$workdir/e2e.conf" "${extra[@]}")

log "zpool=$zpool pages=$pages ($((pages * 4096 >> 20)) MiB) cgroup memory.max=$mem zswap.max=$zswap_max"
qrc=0
"$ZSPP_SCRIPTS/qemu-run.sh" -k "$vmlinuz" -r "$initrd" -w "$workdir" -l "$workdir/console.log" \
	-m "$vm_mem" -s "$smp" -d 1G -d 16M -t "$tmo" -a "loglevel=4 ${append}" "${echo_arg[@]}" \
	--init-marker '^E2E[ -]' || qrc=$?

if ((no_check)); then
	echo "$qrc" >"$workdir/qemu.rc"
	log "run only (--no-check): qemu rc=$qrc, $(($(now_s) - start))s; console log: $workdir/console.log"
	exit 0
fi
check_log "$workdir/console.log" "$qrc"
log "total $(($(now_s) - start))s; console log: $workdir/console.log"
finish
