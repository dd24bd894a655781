# shellcheck shell=bash
# e2e-checks.sh: the assertions of scripts/e2e.sh, one function per group,
# each printing PASS:/FAIL: lines through pass/fail (scripts/lib.sh). Sourced by
# e2e.sh after its options are parsed; e2e.sh's check_log calls them in order
# on the cleaned console log, each group only when its option asks for it.
# Documentation/testing-e2e.md says what each assertion means.
#
# The settings they read (set by e2e.sh): zpool, workdir, badin (--bad-input),
# exiters (--exiters), expect_fold (--expect-fold), scan_console (--scan-console).
# shellcheck disable=SC2154 # those options are assigned in scripts/e2e.sh

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

# e2e_check_guest_completed LOG QRC: the guest reached its end (ran the whole script, dumped dmesg).
e2e_check_guest_completed() {
	local log=$1 qrc=$2
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
}

# e2e_check_zswap_allocator LOG: zswap really used the requested allocator.
e2e_check_zswap_allocator() {
	local log=$1
	local params
	params=$(g '^ZSWAP-PARAMS ' "$log" | tail -n 1)
	if [[ $(field "$params" zpool) == "$zpool" && $(field "$params" enabled) == Y ]]; then
		pass "zswap-uses-$zpool"
	else
		fail "zswap-uses-$zpool" "zswap parameters: ${params:-never printed}"
	fi
}

# e2e_check_workload_verified LOG: the workload verified every page.
e2e_check_workload_verified() {
	local log=$1
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
}

# e2e_check_zswap_stored LOG: zswap stored pages while the workload ran.
e2e_check_zswap_stored() {
	local log=$1
	local peak
	peak=$(g '^ZSWAP t=' "$log" | sed -n 's/.* stored_pages=\([0-9]*\).*/\1/p' | sort -n | tail -n 1)
	if [[ ${peak:-0} -gt 0 ]]; then
		pass "zswap-stored-pages"
	else
		fail "zswap-stored-pages" "stored_pages never above 0 during the run"
	fi
}

# e2e_check_swapped_out LOG: the cgroup limit forced at least 2x memory.max out to swap.
e2e_check_swapped_out() {
	local log=$1
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
}

# e2e_check_zswap_drained LOG: every swap entry gone from zswap once the workload's memory was freed.
e2e_check_zswap_drained() {
	local log=$1
	local after memcg
	after=$(g '^ZSWAP-AFTER ' "$log" | tail -n 1)
	if [[ -n $after && $(field "$after" stored_pages) == 0 && $(field "$after" pool_total_size) == 0 ]]; then
		pass "zswap-drained"
	else
		# The cgroup's swap= and zswap= tell a slot still in use by
		# something of the workload's cgroup (e.g. a tmpfs file it wrote:
		# zswap keeps that entry until the file goes) from a lost entry.
		memcg=$(g '^MEMCG-AFTER ' "$log" | tail -n 1)
		fail "zswap-drained" "${after:-no ZSWAP-AFTER line}${memcg:+; $memcg}"
	fi
}

# e2e_check_zspp_pool LOG: zspp objects during the run, no handle refused as invalid, every pool empty after.
e2e_check_zspp_pool() {
	local log=$1
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
}

# e2e_check_bad_input LOG: hostile input (--bad-input): every BADINPUT line ok=1, and there are some.
e2e_check_bad_input() {
	local log=$1
	local nb nbad
	nb=$(g -c '^BADINPUT ' "$log")
	nbad=$(g '^BADINPUT .* ok=0' "$log" | sed 's/^BADINPUT //' | paste -sd ';' -)
	if [[ $nb -ge 15 && -z $nbad ]]; then
		pass "bad-input-refused ($nb checks)"
	else
		fail "bad-input-refused" "$nb BADINPUT checks; not refused: ${nbad:-none}"
	fi
}

# e2e_check_switch_pools LOG: runtime pool switching (--switch-pools).
e2e_check_switch_pools() {
	local log=$1
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
}

# e2e_check_exiters LOG: short-lived children (--exiters): they ran, the ones not killed read
# every byte back, and none died of anything but the test's SIGKILL.
e2e_check_exiters() {
	local log=$1
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
}

# e2e_check_writeback LOG: zswap hit its pool limit and wrote pages back through evict.
e2e_check_writeback() {
	local log=$1
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
		local rp ow ac
		rp=$(g -E '^ZSPP(-[A-Z]+)? [^ ]* ' "$log" | sed -n 's/.* pages_reclaimed=\([0-9]*\).*/\1/p' | sort -n | tail -n 1)
		ow=$(g -E '^ZSPP(-[A-Z]+)? [^ ]* ' "$log" | sed -n 's/.* objs_written_back=\([0-9]*\).*/\1/p' | sort -n | tail -n 1)
		if [[ ${rp:-0} -gt 0 && ${ow:-0} -gt 0 ]]; then
			pass "zspp-reclaimed"
		else
			fail "zspp-reclaimed" "pages_reclaimed=${rp:-none} objs_written_back=${ow:-none}"
		fi
		# Self-compaction (compact_slack) meanwhile: informational, as a
		# pool may run at compact_slack=0.
		ac=$(g -E '^ZSPP(-[A-Z]+)? [^ ]* ' "$log" | sed -n 's/.* auto_compactions=\([0-9]*\).*/\1/p' | sort -n | tail -n 1)
		log "zspp reclaim: pages_reclaimed=${rp:-?} objs_written_back=${ow:-?} auto_compactions=${ac:-?}"
	fi
}

# e2e_check_fold LOG: (--expect-fold) every zspp pool folded while the workload was
# parked after its fill, so the same stored pages take fewer pool pages.
e2e_check_fold() {
	local log=$1
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
}

# e2e_check_fold_worker LOG: background folding (--fold-worker): passes ran without the debugfs trigger
# (after it, with --expect-fold).
e2e_check_fold_worker() {
	local log=$1
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
}

# e2e_check_unload LOG: the module under test unloads cleanly.
e2e_check_unload() {
	local log=$1
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
}

# e2e_check_kernel_log LOG: a clean kernel log: the dmesg dump if the guest got that far, else the console.
e2e_check_kernel_log() {
	local log=$1
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
