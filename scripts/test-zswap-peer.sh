#!/usr/bin/env bash
# test-zswap-peer.sh [options]: the kernel's own zswap selftest as a peer test.
#
# Extracts tools/testing/selftests/cgroup/test_zswap.c and its cgroup_util
# helpers from Debian's linux-source-6.12 tarball (never stored in this repo),
# builds them statically, and runs them in QEMU on the stock 6.12 kernel twice,
# each in its own boot: zswap on zsmalloc (the reference), then on zspp.
# For Debian 13's kernel (--kernel deb13-6.12) the test comes from trixie's own
# linux-source-6.12 of the kernel's version (downloaded once with the private
# trixie apt configuration, scripts/trixie.sh; only the selftest files are kept).
# Prints the per-test results side by side and
#   PASS: test_zswap NAME          passed with zsmalloc and with zspp
#   FAIL: test_zswap NAME (...)    passed with zsmalloc, not with zspp
#   SKIP: test_zswap NAME (...)    did not pass with zsmalloc: nothing to compare
# plus PASS:/FAIL: lines for each boot (completed, zswap used that zpool and
# stored pages in it, clean kernel log).
#
#   --kernel NAME     kernel for scripts/fetch-kernel.sh (default stock-6.12)
#   --module PATH     zspp.ko for that kernel (default: built by
#                     scripts/build-module.sh into $ZSPP_CACHE/build/<release>)
#   --source TARBALL  kernel source (default /usr/src/linux-source-6.12.tar.xz;
#                     for a Debian 13 kernel, trixie's linux-source-6.12)
#   --vm-mem SIZE     guest RAM (default 1024M; test_no_kmem_bypass fills it)
#   --timeout SECS    bound on each QEMU run (default 600)
#   --workdir DIR     default $ZSPP_CACHE/test-zswap for stock-6.12, else
#                     $ZSPP_CACHE/test-zswap-KERNEL (one subdirectory per zpool)
#   --only ZPOOL      run one zpool only (zsmalloc or zspp); no comparison
#   --zspp-params P   insmod parameters of zspp.ko (e.g. fold_interval_ms=200 with
#                     a CONFIG_ZSPP_FOLD module: background folding during the
#                     tests, then also assert that fold passes ran)
#
# A test that passes with zsmalloc but not with zspp is retried in up to
# ZSPP_TZ_RETRIES (default 2) more zspp boots, and the table says so.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=scripts/trixie.sh
. "$(dirname "${BASH_SOURCE[0]}")/trixie.sh"

usage() { sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&2; exit "${1:-2}"; }

kernel=stock-6.12 module="" tarball="" vm_mem=1024M tmo=600 workdir="" only="" zparams=""
while (($#)); do
	case $1 in
	--kernel) kernel=$2; shift ;;
	--module) module=$2; shift ;;
	--source) tarball=$2; shift ;;
	--vm-mem) vm_mem=$2; shift ;;
	--timeout) tmo=$2; shift ;;
	--workdir) workdir=$2; shift ;;
	--only) only=$2; shift ;;
	--zspp-params) zparams=$2; shift ;;
	-h | --help) usage 0 ;;
	*) die "unknown argument '$1' (see --help)" ;;
	esac
	shift
done
if [[ -z $workdir ]]; then
	if [[ $kernel == stock-6.12 ]]; then workdir=$(cache_dir test-zswap); else workdir=$(cache_dir "test-zswap-$kernel"); fi
fi
zpools=(zsmalloc zspp)
case $only in
"") ;;
zsmalloc | zspp) zpools=("$only") ;;
*) die "--only wants zsmalloc or zspp, not '$only'" ;;
esac
start=$(now_s)

# The kernel first: its release decides which source the test comes from.
eval "$("$ZSPP_SCRIPTS/fetch-kernel.sh" "$kernel")"

# ------------------------------------------------------- the selftest, built
if [[ -z $tarball && $KREL == *+deb13-* ]]; then
	# Debian 13's own linux-source-6.12, the version of the kernel under test.
	sel=$(trixie_selftests "$KREL")
	stamp="$sel/../../../../.extracted"
	srcid=$(cat "$stamp")
	# For the reader: is the test the one bookworm's 6.12 source has?
	for other in "$ZSPP_CACHE"/test-zswap/src-*/linux-source-6.12/tools/testing/selftests/cgroup/test_zswap.c; do
		[[ -f $other ]] || continue
		if cmp -s "$other" "$sel/cgroup/test_zswap.c"; then
			log "test_zswap.c of $srcid is identical to the host's (bookworm) linux-source-6.12"
		else
			log "test_zswap.c of $srcid differs from the host's (bookworm) linux-source-6.12"
		fi
	done
else
	if [[ -z $tarball ]]; then
		tarball=$(find /usr/src -maxdepth 1 -name 'linux-source-6.12.tar.*' -print -quit)
		[[ -n $tarball ]] || die "no /usr/src/linux-source-6.12.tar.*: apt-get install linux-source-6.12 (scripts/install-deps.sh)"
	fi
	[[ -f $tarball ]] || die "kernel source $tarball not found"
	top=$(basename "$tarball")
	top=${top%.tar.*}
	# Keyed by the tarball's identity: a new Debian upload extracts afresh.
	key=$(stat -c '%s-%Y' "$tarball")
	src="$workdir/src-$key"
	sel="$src/$top/tools/testing/selftests"
	if [[ ! -f $src/.extracted ]]; then
		log "extracting test_zswap and its helpers from $tarball"
		rm -rf "$src" "$workdir"/src-*
		mkdir -p "$src"
		tar -xaf "$tarball" -C "$src" --wildcards "$top/tools/testing/selftests/kselftest.h" \
			"$top/tools/testing/selftests/clone3/*" "$top/tools/testing/selftests/cgroup/*"
		touch "$src/.extracted"
	fi
	stamp="$src/.extracted" srcid="$tarball $key"
fi
[[ -f $sel/cgroup/test_zswap.c ]] || die "no test_zswap.c in $srcid"
bin="$workdir/test_zswap"
# Rebuilt when its source changes (a new upload, or another source for this workdir).
if [[ ! -x $bin || $bin -ot $stamp || $(cat "$bin.src" 2>/dev/null) != "$srcid" ]]; then
	log "building test_zswap (static) from $srcid"
	gcc -static -O2 -Wall -pthread -I"$sel" -o "$bin.tmp" \
		"$sel/cgroup/test_zswap.c" "$sel/cgroup/cgroup_util.c"
	mv "$bin.tmp" "$bin"
	printf '%s\n' "$srcid" >"$bin.src"
fi
# The tests, in the order test_zswap runs them: T(name) entries of tests[].
mapfile -t tests < <(sed -n '/^} tests\[\] = {/,/^};/s/^[[:space:]]*T(\([a-z0-9_]*\)),.*/\1/p' \
	"$sel/cgroup/test_zswap.c")
((${#tests[@]} > 0)) || die "found no tests[] in test_zswap.c"
log "test_zswap: ${#tests[@]} tests: ${tests[*]}"

# ------------------------------------------------------- the module
if [[ " ${zpools[*]} " == *" zspp "* ]]; then
	if [[ -z $module ]]; then
		module="$ZSPP_CACHE/build/$KREL/zspp.ko"
		# build-module.sh is incremental: quick when nothing changed.
		"$ZSPP_SCRIPTS/build-module.sh" "$kernel" >"$workdir/build-module.log" 2>&1 ||
			die "building zspp.ko for $KREL failed (see $workdir/build-module.log)"
	fi
	[[ -f $module ]] || die "zspp module $module not found"
fi

# ------------------------------------------------------- one boot per zpool
npass=0 nfail=0 nskip=0
skip() { echo "SKIP: $1 ($2)"; nskip=$((nskip + 1)); }
declare -A result # result[zpool:test] = pass | fail | skip | missing

# run_one ZPOOL [RUN]: boot once with zswap on ZPOOL; results into result[]
# (RUN > 1: a retry, in its own directory ZPOOL-runRUN).
run_one() {
	local zp=$1 run=${2:-1} insmod="" extra=() qrc=0 log wd
	local lb=$zp
	wd="$workdir/$zp"
	((run == 1)) || { wd="$workdir/$zp-run$run"; lb="$zp boot $run"; }
	mkdir -p "$wd"
	if [[ $zp == zspp ]]; then
		extra=("$module")
		insmod=zspp
	fi
	cat >"$wd/tz.conf" <<-CONF
		TZ_ZPOOL=$zp
		TZ_INSMOD="$insmod"
		TZ_ZSPP_PARAMS="$zparams"
		TZ_TIMEOUT=$((tmo - 60))
	CONF
	local initrd
	initrd=$("$ZSPP_SCRIPTS/mkinitramfs.sh" -o "$wd/initramfs.cpio.gz" -m "$MODDIR" \
		-i "$ZSPP_ROOT/tests/test-zswap/guest-init.sh" -c "$wd/tz.conf" \
		-f "$bin:/bin/test_zswap" "${extra[@]}")
	chmod 0755 "$bin"
	"$ZSPP_SCRIPTS/qemu-run.sh" -k "$VMLINUZ" -r "$initrd" -w "$wd" -l "$wd/console.log" \
		-m "$vm_mem" -s 2 -d 1G -t "$tmo" -a "loglevel=4" --init-marker '^TZ[ -]' || qrc=$?
	log="$wd/console.clean.log"
	tr -d '\r' <"$wd/console.log" >"$log"

	# The boot itself.
	local errs
	errs=$(g '^TZ-ERROR' "$log" | paste -sd ';' -)
	# (grep -q, not g: g is true when nothing matches.)
	if grep -q '^TZ-END$' "$log" && grep -q '^TZ-EXIT ' "$log" && [[ -z $errs ]]; then
		pass "test_zswap $lb boot completed"
	else
		fail "test_zswap $lb boot completed" "qemu rc=$qrc${errs:+; $errs}; last line: $(tail -n 1 "$log" | cut -c1-100)"
	fi
	local params peak
	params=$(g '^ZSWAP-PARAMS-AFTER ' "$log" | tail -n 1)
	if [[ $(field "$params" zpool) == "$zp" && $(field "$params" enabled) == Y ]]; then
		pass "test_zswap $lb zswap used $zp"
	else
		fail "test_zswap $lb zswap used $zp" "${params:-no ZSWAP-PARAMS-AFTER line}"
	fi
	peak=$(g '^PEAK ' "$log" | tail -n 1)
	if [[ $(field "$peak" stored_pages) =~ ^[1-9] && ($zp != zspp || $(field "$peak" zspp_objects) =~ ^[1-9]) ]]; then
		pass "test_zswap $lb pool stored pages"
	else
		fail "test_zswap $lb pool stored pages" "${peak:-no PEAK line}"
	fi
	local klog="$wd/dmesg.log" bad
	if grep -q '^DMESG-END$' "$log"; then
		sed -n '/^DMESG-BEGIN$/,/^DMESG-END$/p' "$log" >"$klog"
	else
		cp "$log" "$klog"
	fi
	# The OOM killer's report (its Call Trace included) is the kernel's
	# answer to the memory the tests exhaust on purpose (test_no_kmem_bypass
	# raises min_free_kbytes under a filling child), not a splat: the test it
	# kills fails and is judged (and retried) as a test. It is shown, and
	# every other line is still scanned (splat_lines --oom-reports, lib.sh).
	local ooms
	ooms=$(g -c 'invoked oom-killer' "$klog" || true)
	if ((ooms > 0)); then
		echo "test_zswap $lb: the OOM killer ran $ooms time(s): $(g -o 'Out of memory: Killed process [0-9]* ([^)]*)' "$klog" | paste -sd '|' -)"
	fi
	bad=$(splat_lines --oom-reports "$klog" | cut -c1-160 | paste -sd '|' -)
	if [[ -z $bad ]]; then
		pass "test_zswap $lb dmesg clean"
	else
		fail "test_zswap $lb dmesg clean" "$bad"
	fi
	log "$lb: $peak; $(g -m1 '^# Totals' "$log")"
	if [[ $zp == zspp && $zparams == *fold_interval_ms=* ]]; then
		local zs
		zs=$(g '^ZSPP ' "$log" | tail -n 1)
		if [[ $(field "$zs" fold_passes) =~ ^[1-9] ]]; then
			pass "test_zswap $lb fold worker ran"
		else
			fail "test_zswap $lb fold worker ran" "${zs:+fold_passes=$(field "$zs" fold_passes)}${zs:-no ZSPP summary after the run}"
		fi
		log "$lb folding: fold_passes=$(field "$zs" fold_passes) pages_folded=$(field "$zs" pages_folded) fold_cow=$(field "$zs" fold_cow) (pool after the run)"
	fi

	# Per-test TAP results.
	local t line r
	for t in "${tests[@]}"; do
		line=$(g -E "^(not )?ok [0-9]+ (# [A-Z]+ )?$t\$" "$log" | tail -n 1)
		case $line in
		"") r=missing ;;
		"not ok"*) r=fail ;;
		*"# SKIP"*) r=skip ;;
		ok*) r=pass ;;
		*) r=missing ;;
		esac
		if ((run == 1)); then
			result[$zp:$t]=$r
		elif [[ $r == pass && ${result[$zp:$t]} != pass ]]; then
			result[$zp:$t]="pass@$run"
		fi
	done
}

for zp in "${zpools[@]}"; do
	log "test_zswap on $zp ($KREL)"
	run_one "$zp"
done

# Some tests are timing-sensitive under TCG (test_no_kmem_bypass needs kswapd to
# push a fifth of RAM into zswap within two seconds; zsmalloc is near the line
# too). A test that passed with zsmalloc and not with zspp gets up to
# $ZSPP_TZ_RETRIES more zspp boots; a pass on one shows as "pass@RUN" in the table.
mismatches() {
	local t
	for t in "${tests[@]}"; do
		if [[ ${result[zsmalloc:$t]} == pass && ${result[zspp:$t]} != pass* ]]; then
			echo "$t"
		fi
	done
}
retries=${ZSPP_TZ_RETRIES:-2}
if ((${#zpools[@]} == 2)); then
	run=1
	while ((run <= retries)) && [[ -n $(mismatches) ]]; do
		run=$((run + 1))
		log "retry: zspp boot $run for $(mismatches | paste -sd ' ' -)"
		run_one zspp "$run"
	done
fi

# ------------------------------------------------------- side by side
echo
printf '%-34s' "test_zswap ($KREL)"
printf ' %-9s' "${zpools[@]}"
echo
for t in "${tests[@]}"; do
	printf '%-34s' "$t"
	for zp in "${zpools[@]}"; do printf ' %-9s' "${result[$zp:$t]}"; done
	echo
done
echo

if ((${#zpools[@]} == 2)); then
	ref_pass=0
	for t in "${tests[@]}"; do
		r=${result[zsmalloc:$t]} z=${result[zspp:$t]}
		if [[ $r == pass ]]; then
			ref_pass=$((ref_pass + 1))
			if [[ $z == pass ]]; then
				pass "test_zswap $t"
			elif [[ $z == pass@* ]]; then
				pass "test_zswap $t (zspp passed on boot ${z#pass@}, not on the first)"
			else
				fail "test_zswap $t" "passes with zsmalloc, $z with zspp"
			fi
		else
			skip "test_zswap $t" "$r with zsmalloc, $z with zspp: nothing to compare"
		fi
	done
	# A comparison in which the reference passes nothing proves nothing.
	if ((ref_pass > 0)); then
		pass "test_zswap reference passes tests ($ref_pass of ${#tests[@]} with zsmalloc)"
	else
		fail "test_zswap reference passes tests" "no test passed with zsmalloc"
	fi
else
	for t in "${tests[@]}"; do
		zp=${zpools[0]}
		case ${result[$zp:$t]} in
		pass) pass "test_zswap $t on $zp" ;;
		skip) skip "test_zswap $t on $zp" "skipped by the test" ;;
		*) fail "test_zswap $t on $zp" "${result[$zp:$t]}" ;;
		esac
	done
fi
log "total $(($(now_s) - start))s; logs in $workdir/{${zpools[*]// /,}}/console.log"
echo "test_zswap peer: $npass passed, $nfail failed, $nskip not compared"
((nfail == 0))
