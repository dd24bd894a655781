#!/usr/bin/env bash
# fault-e2e.sh [options]: issue 11's proof. The verified swap workload of
# scripts/e2e.sh runs under zswap on the debug kernel (KASAN, lockdep, fault
# injection) with atomic allocation failures injected into the workload process,
# once with zspp and once with zsmalloc (the debug tree's mm/zsmalloc.ko), in two
# boots of the same kernel with the same parameters.
#
# Why: Linux 6.1 zswap bounces every load from a zpool that cannot sleep while
# mapped (zsmalloc) through kmalloc(len, GFP_ATOMIC); when that fails the load
# returns -ENOMEM and swap_readpage reads the swap device, which never got the
# page: the process silently reads zeros or stale data. zspp sets sleep_mapped,
# so zswap decompresses from the mapping and never bounces.
#
# Injection (debugfs, set in the guest by tests/e2e/guest-init.sh): fail_page_alloc
# and failslab with probability P%, interval 1, min-order 0, ignore-gfp-wait Y
# (only allocations that cannot sleep fail), ignore-gfp-highmem N, verbose 0,
# task-filter Y, and only the workload is marked (/proc/self/make-it-fail = 1
# before it execs). "times" is 10^9 instead of -1: equally unlimited for a run,
# but the kernel counts it down on every injected failure, which gives the
# number of failures injected (see Documentation/reliability-faults.md).
#
# Assertions (PASS:/FAIL:), zspp run: completed; zswap used zspp and loaded pages
# from it; failures were injected (and the workload carried make-it-fail); no
# lost page; clean kernel log (dmesg dump and whole console: no KASAN, lockdep,
# sleeping-in-atomic, WARNING, BUG, Call Trace; the trace of a "page allocation
# failure" report caused by an injected failure is tolerated); rmmod zspp; the
# rest of e2e.sh's assertions. zsmalloc run: completed (no crash, no hang, the
# workload reported) and failures were injected. Its lost pages are REPORTED
# ("INFO: zsmalloc lost N pages"), never asserted. Then one summary line
#   FAULTS zspp: injected=.. lost=0 ... | zsmalloc: injected=.. lost=.. ...
# and the last line "fault-e2e: N passed, M failed"; exit non-zero on any FAIL.
#
#   --mem SIZE          cgroup memory.max (default 24M; workload = 3x that)
#   --pages N           workload pages (default 3 x --mem)
#   --rounds N          workload rewrite rounds (default 1)
#   --seed N            workload seed (default 1)
#   --probability P     percent (default 3)
#   --interval N        (default 1)
#   --attrs "A B"       fault attributes (default "fail_page_alloc failslab")
#   --no-failslab       fail_page_alloc only
#   --verbose N         fault-injection verbose (default 0; 1 logs a line per
#                       failure of an allocation without __GFP_NOWARN, 2 adds a
#                       stack trace, which the log checks tolerate; both slow the
#                       run and overflow the 128 KiB log buffer)
#   --zpools "A B"      runs, in order (default "zspp zsmalloc")
#   --timeout SECS      QEMU bound per run (default 900)
#   --workdir DIR       default $ZSPP_CACHE/fault-e2e (a subdirectory per zpool)
#   --check-only        judge the logs already in WORKDIR, do not run
#   --echo              copy the guest console to stderr while it runs
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() { sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&2; exit "${1:-2}"; }

mem=24M pages="" rounds=1 seed=1 prob=3 interval=1 attrs="fail_page_alloc failslab" verbose=0
zpools="zspp zsmalloc" tmo=900 workdir="" check_only=0 echo_arg=()
while (($#)); do
	case $1 in
	--mem) mem=$2; shift ;;
	--pages) pages=$2; shift ;;
	--rounds) rounds=$2; shift ;;
	--seed) seed=$2; shift ;;
	--probability) prob=$2; shift ;;
	--interval) interval=$2; shift ;;
	--attrs) attrs=$2; shift ;;
	--no-failslab) attrs=fail_page_alloc ;;
	--verbose) verbose=$2; shift ;;
	--zpools) zpools=$2; shift ;;
	--timeout) tmo=$2; shift ;;
	--workdir) workdir=$2; shift ;;
	--check-only) check_only=1 ;;
	--echo) echo_arg=(--echo) ;;
	-h | --help) usage 0 ;;
	*) die "unknown argument '$1' (see --help)" ;;
	esac
	shift
done
[[ $prob =~ ^[0-9]+$ && $prob -le 100 ]] || die "--probability wants 0..100, got '$prob'"
[[ $interval =~ ^[1-9][0-9]*$ ]] || die "--interval wants a positive number, got '$interval'"
[[ $verbose =~ ^[0-2]$ ]] || die "--verbose wants 0, 1 or 2"
for a in $attrs; do
	case $a in fail_page_alloc | failslab) ;; *) die "unknown fault attribute '$a'" ;; esac
done
for z in $zpools; do
	case $z in zspp | zsmalloc) ;; *) die "--zpools takes zspp and/or zsmalloc, not '$z'" ;; esac
done
[[ -n $workdir ]] || workdir="$ZSPP_CACHE/fault-e2e"

npass=0 nfail=0
info() { echo "INFO: $*"; }
finish() {
	echo "fault-e2e: $npass passed, $nfail failed"
	((nfail == 0))
}

start=$(now_s)
ZSPP_KO="" BZIMAGE="" MODDIR="" ZSMALLOC_KO=""
if ((!check_only)); then
	eval "$("$ZSPP_SCRIPTS/build-debug-modules.sh" --no-kunit | grep -E '^(ZSPP_KO|BZIMAGE|MODDIR|ZSMALLOC_KO)=')"
	if [[ ! -f $ZSPP_KO || ! -f $BZIMAGE || ! -f $ZSMALLOC_KO ]]; then
		fail "debug-build" "scripts/build-debug-modules.sh reported no zspp.ko, bzImage or zsmalloc.ko"
		finish
		exit 1
	fi
fi

# ---------------------------------------------------------------- runs
sets=(--set "E2E_FAULT_ATTRS=$attrs" --set "E2E_FAULT_PROBABILITY=$prob"
	--set "E2E_FAULT_INTERVAL=$interval" --set "E2E_FAULT_TIMES=1000000000"
	--set "E2E_FAULT_MIN_ORDER=0" --set "E2E_FAULT_IGNORE_GFP_WAIT=Y"
	--set "E2E_FAULT_IGNORE_GFP_HIGHMEM=N" --set "E2E_FAULT_VERBOSE=$verbose"
	--set "E2E_FAULT_TASK_FILTER=Y")
declare -A secs=() harness_rc=()
for z in $zpools; do
	wd="$workdir/$z"
	((check_only)) && continue
	rm -rf "$wd"
	mkdir -p "$wd"
	args=(--zpool "$z" --kernel-image "$BZIMAGE" --modules-dir "$MODDIR"
		--mem "$mem" --rounds "$rounds" --seed "$seed" --timeout "$tmo" --workdir "$wd"
		--append "loglevel=5" --workload-args -L --no-check "${sets[@]}" "${echo_arg[@]}")
	[[ -n $pages ]] && args+=(--pages "$pages")
	[[ $z == zspp ]] && args+=(--module "$ZSPP_KO")
	log "run $z: mem=$mem pages=${pages:-3x mem} rounds=$rounds seed=$seed faults='$attrs' p=$prob% interval=$interval"
	t0=$(now_s)
	rc=0
	"$ZSPP_SCRIPTS/e2e.sh" "${args[@]}" || rc=$?
	secs[$z]=$(($(now_s) - t0))
	harness_rc[$z]=$rc
	log "run $z: ${secs[$z]}s, qemu rc=$(cat "$wd/qemu.rc" 2>/dev/null || echo '?')"
done

# ---------------------------------------------------------------- judging
# e2e.sh's own assertions on each log, kept in WORKDIR/ZPOOL/e2e-check.txt.
declare -A res=() why=()
e2e_check() {
	local z=$1 wd="$workdir/$1" line n
	"$ZSPP_SCRIPTS/e2e.sh" --zpool "$z" --check-only "$wd/console.log" --workdir "$wd" \
		--scan-console --name e2e-check >"$wd/e2e-check.txt" 2>"$wd/e2e-check.err" || true
	while IFS= read -r line; do
		case $line in
		PASS:\ *) n=${line#PASS: }; res[$z/$n]=PASS ;;
		FAIL:\ *)
			n=${line#FAIL: }
			why[$z/${n%% *}]=${n#* }
			res[$z/${n%% *}]=FAIL
			;;
		esac
	done <"$wd/e2e-check.txt"
}
# r ZPOOL NAME: PASS, FAIL or "" (not checked) for one of e2e.sh's assertions.
r() { echo "${res[$1/$2]:-}"; }

declare -A injected=() lost=() rej=() zin=() pin=() badk=() inj_by=() summary=() checked=()
measure() {
	local z=$1 log="$workdir/$1/console.clean.log" wl bad v0 v1 post a n total=0 by=""
	wl=$(g '^WORKLOAD pages=' "$log" | tail -n 1)
	if [[ -n $wl ]]; then
		lost[$z]=$(($(field "$wl" pages) - $(field "$wl" verified)))
	else
		# Killed before its report: at least the pages it had printed as bad.
		lost[$z]=">=$(g '^MISMATCH ' "$log" | sed -n 's/.* page=\([0-9]*\) .*/\1/p' | sort -u | g -c .)"
		lost[$z]+=" (workload killed: $(g -m1 '^WORKLOAD-EXIT ' "$log" | sed 's/^WORKLOAD-EXIT //' || true))"
	fi
	bad=$(g '^WORKLOAD-BAD ' "$log" | tail -n 1)
	if [[ -n $bad ]]; then
		badk[$z]="zeros=$(field "$bad" zeros) older=$(field "$bad" older) other=$(field "$bad" other) garbage=$(field "$bad" garbage)"
	else
		badk[$z]="not classified: no WORKLOAD-BAD line"
	fi
	if [[ -n $wl ]]; then
		checked[$z]="verified=$(field "$wl" verified)/$(field "$wl" pages) lost=${lost[$z]} ($(field "$wl" mismatches) failed checks; ${badk[$z]})"
	else
		checked[$z]="verified=? lost=${lost[$z]} (${badk[$z]})"
	fi
	for a in $attrs; do
		n=$(g "^FAULT-RESULT $a " "$log" | tail -n 1)
		n=$(field "$n" injected)
		[[ -z $n ]] && n=$(g '^FAULT t=' "$log" | tail -n 1 | sed -n "s/.* $a=\([0-9]*\).*/\1/p")
		n=${n:-0}
		total=$((total + n))
		by="$by${by:+,}$a=$n"
	done
	injected[$z]=$total
	inj_by[$z]=$by
	post=$(g -m1 '^ZSWAP-POST ' "$log")
	[[ -n $post ]] || post=$(g '^ZSWAP t=' "$log" | tail -n 1)
	rej[$z]=$(field "$post" reject_alloc_fail)
	v0=$(g '^VMSTAT ' "$log" | sed -n 1p)
	v1=$(g '^VMSTAT ' "$log" | sed -n 2p)
	if [[ -n $v1 ]]; then
		zin[$z]=$(($(field "$v1" zswpin) - $(field "$v0" zswpin)))
		pin[$z]=$(($(field "$v1" pswpin) - $(field "$v0" pswpin)))
	else
		zin[$z]="?" pin[$z]="?"
	fi
	summary[$z]="injected=${injected[$z]} (${inj_by[$z]}) ${checked[$z]} reject_alloc_fail=${rej[$z]:-?} zswpin=${zin[$z]} pswpin=${pin[$z]}"
}

# failed_except ZPOOL NAME...: e2e.sh assertions that failed, other than NAME...
failed_except() {
	local z=$1 k n out=""
	shift
	for k in "${!res[@]}"; do
		[[ $k == "$z/"* && ${res[$k]} == FAIL ]] || continue
		n=${k#"$z"/}
		[[ " $* " == *" $n "* ]] && continue
		out="$out${out:+; }$n: ${why[$k]}"
	done
	echo "$out"
}

# completed ZPOOL: why the run did not complete (empty: it did).
not_completed() {
	local z=$1 wd="$workdir/$1" log="$workdir/$1/console.clean.log" qrc errs
	qrc=$(cat "$wd/qemu.rc" 2>/dev/null || echo "?")
	if [[ -n ${harness_rc[$z]:-} && ${harness_rc[$z]} != 0 ]]; then
		echo "scripts/e2e.sh exited ${harness_rc[$z]} (see stderr)"
	elif [[ ! -f $log ]]; then
		echo "no console log in $wd"
	elif [[ $qrc == 124 ]]; then
		echo "QEMU timed out; last line: $(tail -n 1 "$log" | cut -c1-120)"
	elif ! grep -q '^E2E-END$' "$log"; then
		echo "no E2E-END (qemu rc=$qrc, panic?); last line: $(tail -n 1 "$log" | cut -c1-120)"
	elif ! grep -q '^WORKLOAD-EXIT ' "$log"; then
		echo "the workload never ended ($(g -m1 -E 'Out of memory|oom-kill' "$log"))"
	else
		# A workload that found bad pages exits 1, and one whose own memory came
		# back wrong may die of a signal (128+N): that is a finding about the
		# allocator, not a harness failure (zspp-no-lost-pages judges zspp).
		errs=$(g '^E2E-ERROR' "$log" | g -v -E '^E2E-ERROR workload exited with (1|1[2-9][0-9]|2[0-9][0-9])$' |
			sed 's/^E2E-ERROR //' | paste -sd ';' -)
		[[ -z $errs ]] || echo "guest script errors: $errs"
	fi
}

# Judging old logs: take the attributes they were run with.
if ((check_only)); then
	for z in $zpools; do
		la=$(g '^FAULT-CONFIG ' "$workdir/$z/console.log" 2>/dev/null | awk '{ print $2 }' | tr -d '\r' | paste -sd ' ' - || true)
		[[ -n $la ]] && { attrs=$la; break; }
	done
fi

for z in $zpools; do
	if [[ ! -f $workdir/$z/console.log ]]; then
		fail "$z-run-completed" "no console log in $workdir/$z"
		continue
	fi
	e2e_check "$z"
	measure "$z"
done

for z in $zpools; do
	[[ -f $workdir/$z/console.log ]] || continue
	log_="$workdir/$z/console.clean.log"
	nc=$(not_completed "$z")
	if [[ -z $nc ]]; then
		pass "$z-run-completed"
	else
		fail "$z-run-completed" "$nc"
	fi
	ftask=$(g -m1 '^FAULT-TASK ' "$log_")
	if [[ ${injected[$z]} -gt 0 && $(field "$ftask" make-it-fail) == 1 ]]; then
		pass "$z-faults-injected"
	else
		fail "$z-faults-injected" "injected=${injected[$z]} (${inj_by[$z]}), ${ftask:-no FAULT-TASK line}"
	fi
	nalloc=$(g -c 'page allocation failure:' "$workdir/$z/dmesg.log" 2>/dev/null || echo 0)

	# The comparison means something only if zswap really stored in and loaded from $z.
	if [[ $(r "$z" "zswap-uses-$z") == PASS && ${zin[$z]} =~ ^[1-9] ]]; then
		pass "$z-zswap-loads"
	else
		fail "$z-zswap-loads" "zswap-uses-$z=$(r "$z" "zswap-uses-$z") ${why[$z/zswap-uses-$z]:-}; zswpin=${zin[$z]}"
	fi
	if [[ $z == zspp ]]; then
		if [[ $(r zspp workload-verified) == PASS && ${lost[zspp]} == 0 ]]; then
			pass "zspp-no-lost-pages"
		else
			fail "zspp-no-lost-pages" "lost=${lost[zspp]} (${badk[zspp]}); ${why[zspp/workload-verified]:-}"
		fi
		if [[ $(r zspp dmesg-clean) == PASS && $(r zspp console-clean) == PASS ]]; then
			pass "zspp-log-clean"
		else
			fail "zspp-log-clean" "dmesg: ${why[zspp/dmesg-clean]:-$(r zspp dmesg-clean)}; console: ${why[zspp/console-clean]:-$(r zspp console-clean)}"
		fi
		((nalloc == 0)) || info "zspp run: $nalloc 'page allocation failure' reports (injected failures; their traces are tolerated)"
		if [[ $(r zspp rmmod-zspp) == PASS ]]; then
			pass "zspp-rmmod"
		else
			fail "zspp-rmmod" "${why[zspp/rmmod-zspp]:-no RMMOD zspp result}"
		fi
		others=$(failed_except zspp guest-completed workload-verified dmesg-clean console-clean rmmod-zspp zswap-uses-zspp)
		if [[ -z $others ]]; then
			pass "zspp-e2e-assertions"
		else
			fail "zspp-e2e-assertions" "$others"
		fi
	else
		info "zsmalloc lost ${lost[zsmalloc]} pages; ${checked[zsmalloc]}"
		g -m3 '^MISMATCH' "$log_" | sed 's/^/INFO:   /'
		others=$(failed_except zsmalloc workload-verified zswap-uses-zsmalloc)
		info "zsmalloc run, other e2e.sh checks: ${others:-all passed}"
		((nalloc == 0)) || info "zsmalloc run: $nalloc 'page allocation failure' reports (injected failures)"
	fi
done

line="FAULTS"
sep=""
for z in $zpools; do
	line="$line$sep $z: ${summary[$z]:-no run}"
	sep=" |"
done
echo "$line"
info "injected = failures the kernel injected (${attrs// / + }, counted down in 'times') into" \
	"non-sleeping allocations made in the workload's own context: zpool malloc on stores under memcg" \
	"reclaim, zswap's GFP_ATOMIC bounce buffer on loads (zsmalloc only), zspp's map area," \
	"swap cache nodes, block I/O; lost = pages that read back wrong at least once;" \
	"reject_alloc_fail = zswap stores refused because the zpool malloc failed"
log "fault-e2e: total $(($(now_s) - start))s${secs[zspp]:+; zspp run ${secs[zspp]}s}${secs[zsmalloc]:+; zsmalloc run ${secs[zsmalloc]}s}; logs under $workdir"
finish
