#!/usr/bin/env bash
# ext-suites.sh [options]: external swap-heavy suites with their own
# verification, on a KASAN + lockdep + PREEMPT debug kernel
# (scripts/build-debug-kernel.sh), with zswap on zsmalloc and then on zspp,
# side by side, the same inputs in both boots:
#   - stress-ng from Debian's archive (its memory/swap stressors with --verify:
#     vm with every method, --vm-keep and --page-in, mmap, mremap, memfd
#     (shmem), pageswap (MADV_PAGEOUT), madvise, malloc), each bounded by
#     --timeout; a case passes when stress-ng exits 0 and reports a successful
#     run (it exits non-zero when a stressor's verification fails);
#   - the kernel's own mm selftests of the debug kernel's source
#     (tools/testing/selftests/vm on 6.1, .../mm on 6.12), built statically:
#     those that run in this minimal guest and touch swap (the debug config has
#     no THP, hugetlbfs, KSM, NUMA, userfaultfd or networking: compaction_test,
#     migration, ksm_tests, transhuge-stress, map_populate (socketpair) and
#     mrelease_test cannot run): cow (6.12 only: COW after fork with pages
#     swapped out by MADV_PAGEOUT), madv_populate, mremap_test (6.1 only, -t 8:
#     each test's pattern checked over 8 MiB), mremap_dontunmap; each KTAP
#     "ok"/"not ok" line is a case, a test without KTAP lines one case by its
#     exit status (4: skipped). They run beside a background stress-ng vm
#     (--verify) in the same cgroup, so their pages are pushed out meanwhile.
# Everything runs in a memory cgroup (memory.max --mem, memory.zswap.max
# --zswap-max; swap on a 1 GiB virtio disk) while the guest loops CPU 1
# offline/online, compact_memory, zspp's debugfs compact and drop_caches=2
# (every slab shrinker: zsmalloc's and zspp's compaction shrinkers). After the
# cases: swapoff (every entry loaded back through the allocator), dmesg.
#
# Prints the results side by side, per suite and allocator (passed, failed,
# skipped, pages zswap stored: the zswpout delta) and
#   PASS: ext NAME            passed with zsmalloc and with zspp
#   FAIL: ext NAME (...)      passed with zsmalloc, not with zspp
#   SKIP: ext NAME (...)      did not pass with zsmalloc: nothing to compare
# plus per boot: completed, 2 CPUs, zswap on that zpool, zswap stored pages,
# hotplug and compaction ran, swapoff, no kernel splat (the OOM killer's report
# is tolerated and counted); last line "ext-suites[-6.12]: N passed, M failed".
#
#   --kernel 6.1|6.12   debug kernel (default 6.1)
#   --only ZPOOL        zsmalloc or zspp only (no comparison)
#   --mem SIZE          cgroup memory.max (default 32M)
#   --zswap-max SIZE    cgroup memory.zswap.max (default 24M)
#   --secs N            stress-ng --timeout per case (default 10; vm, mremap,
#                       pageswap and malloc, which loop many times in it: half)
#   --timeout SECS      QEMU bound per boot (default 900)
#   --workdir DIR       default $ZSPP_CACHE/ext-suites/run-<kernel>
#   --echo              copy the guest console to stderr
# Downloads (.debs) and the selftest builds are cached under
# $ZSPP_CACHE/ext-suites, keyed by the stress-ng version and the kernel source.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() { sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&2; exit "${1:-2}"; }

series=6.1 only="" mem=32M zmax=24M secs=10 tmo=900 workdir="" echo=()
while (($#)); do
	case $1 in
	--kernel) series=$2; shift ;;
	--only) only=$2; shift ;;
	--mem) mem=$2; shift ;;
	--zswap-max) zmax=$2; shift ;;
	--secs) secs=$2; shift ;;
	--timeout) tmo=$2; shift ;;
	--workdir) workdir=$2; shift ;;
	--echo) echo=(--echo) ;;
	-h | --help) usage 0 ;;
	*) die "unknown argument '$1' (see --help)" ;;
	esac
	shift
done
case $series in 6.1 | 6.12) ;; *) die "--kernel 6.1 or 6.12, not '$series'" ;; esac
zpools=(zsmalloc zspp)
case $only in
"") ;;
zsmalloc | zspp) zpools=("$only") ;;
*) die "--only wants zsmalloc or zspp, not '$only'" ;;
esac
tag=ext-suites
[[ $series == 6.1 ]] || tag="ext-suites-$series"
start=$(now_s)
cache=$(cache_dir ext-suites)
[[ -n $workdir ]] || workdir="$cache/run-$series"
mkdir -p "$workdir"

# ------------------------------------------------------- kernel and module
mods=$("$ZSPP_SCRIPTS/build-debug-modules.sh" --kernel "$series" --no-kunit) ||
	die "module build for the $series debug kernel failed"
ZSPP_KO="" KDIR="" BZIMAGE="" MODDIR=""
eval "$(g -E '^(ZSPP_KO|KDIR|BZIMAGE|MODDIR)=' <<<"$mods")"
[[ -f $ZSPP_KO && -f $BZIMAGE && -d $KDIR ]] || die "build-debug-modules.sh reported no zspp.ko/bzImage"
krel=$(cat "$KDIR/include/config/kernel.release")
echo "kernel: $krel (debug build)"

# ------------------------------------------------------- stress-ng
# Debian's binary and every library it loads, from the .debs of its dependency
# closure (extracted, never installed), keyed by version.
need_cmd apt-get apt
ver=$(apt-cache policy stress-ng | sed -n 's/^ *Candidate: //p')
if [[ -z $ver || $ver == "(none)" ]]; then
	apt-get update -qq >&2 || warn "apt-get update failed"
	ver=$(apt-cache policy stress-ng | sed -n 's/^ *Candidate: //p')
fi
[[ -n $ver && $ver != "(none)" ]] || die "apt knows no stress-ng package"
sng="$cache/stress-ng/$ver"
exec 7>"$cache/.lock-stress-ng"
flock 7
if [[ ! -f $sng/.ready ]]; then
	log "fetching stress-ng $ver and its libraries into $sng"
	rm -rf "$sng"
	mkdir -p "$sng/debs" "$sng/root"
	mapfile -t pkgs < <(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts \
		--no-breaks --no-replaces --no-enhances stress-ng | g -v '^ ' | g -v '^<' | sort -u)
	(cd "$sng/debs" && apt_retry apt-get download -q "${pkgs[@]}" >&2) ||
		die "apt-get download of stress-ng's closure failed"
	for d in "$sng"/debs/*.deb; do dpkg -x "$d" "$sng/root"; done
	touch "$sng/.ready"
fi
flock -u 7
sroot=$sng/root
ldso=$sroot/lib64/ld-linux-x86-64.so.2
[[ -x $sroot/usr/bin/stress-ng && -e $ldso ]] || die "no stress-ng or loader in $sroot"
# The libraries as the extracted loader resolves them (nothing from the host).
mapfile -t libs < <("$ldso" --library-path "$sroot/lib/x86_64-linux-gnu:$sroot/usr/lib/x86_64-linux-gnu" \
	--list "$sroot/usr/bin/stress-ng" | sed -n 's/^[[:space:]]*\([^ ]*\) => \(\/[^ ]*\) (.*/\1 \2/p')
((${#libs[@]} > 5)) || die "could not list stress-ng's libraries"
sfiles=(-f "$sroot/usr/bin/stress-ng:/usr/bin/stress-ng" -f "$ldso:/lib64/ld-linux-x86-64.so.2")
for l in "${libs[@]}"; do
	name=${l%% *} path=${l#* }
	[[ $name == */* ]] && continue # the loader itself
	[[ $path == "$sroot"/* ]] || die "stress-ng's $name resolved outside its closure: $path"
	sfiles+=(-f "$path:/lib/x86_64-linux-gnu/$name")
done
log "stress-ng $ver: ${#libs[@]} libraries"

# ------------------------------------------------------- selftests
if [[ $series == 6.1 ]]; then sub=vm; else sub=mm; fi
# 6.12's mremap_test adds a case with a 40 MiB preamble of random bytes
# (incompressible: zswap refuses them, they go to disk) that alone outlasts
# the case timeout (150 s) in the 32M cgroup under TCG + KASAN: 6.1 only.
if [[ $series == 6.1 ]]; then
	kst_names=(madv_populate mremap_test mremap_dontunmap)
else
	kst_names=(cow madv_populate mremap_dontunmap)
fi
sel=$KDIR/tools/testing/selftests
kbin="$cache/kselftest/$(basename "$KDIR")"
mkdir -p "$kbin"
exec 6>"$kbin/.lock"
flock 6
: >"$kbin/local_config.h" # cow.c's optional liburing: off
# stdout line-buffered into the guest's pipe: a test killed by its timeout
# still shows how far it got.
printf '%s\n' '#include <stdio.h>' \
	'__attribute__((constructor)) static void ext_linebuf(void) { setvbuf(stdout, NULL, _IOLBF, 0); }' \
	>"$kbin/linebuf.c.new"
cmp -s "$kbin/linebuf.c.new" "$kbin/linebuf.c" || mv "$kbin/linebuf.c.new" "$kbin/linebuf.c"
rm -f "$kbin/linebuf.c.new"
for t in "${kst_names[@]}"; do
	cmd=(gcc -static -O2 -Wall -U_FORTIFY_SOURCE -I"$kbin" -I"$sel" -I"$sel/$sub" -isystem "$KDIR/tools/include/uapi"
		-o "$kbin/$t.tmp" "$sel/$sub/$t.c" "$sel/$sub/vm_util.c")
	[[ -f $sel/$sub/thp_settings.c ]] && cmd+=("$sel/$sub/thp_settings.c")
	cmd+=("$kbin/linebuf.c" -lrt -lpthread -lm)
	# Built again when the command or linebuf.c changes.
	[[ -x $kbin/$t && $(cat "$kbin/$t.cmd" 2>/dev/null) == "${cmd[*]}" && ! $kbin/$t -ot $kbin/linebuf.c ]] && continue
	log "building selftest $sub/$t (static) from $KDIR"
	"${cmd[@]}" >"$kbin/$t.log" 2>&1 || { cat "$kbin/$t.log" >&2; die "building selftest $t failed"; }
	mv "$kbin/$t.tmp" "$kbin/$t"
	printf '%s\n' "${cmd[*]}" >"$kbin/$t.cmd"
done
flock -u 6
kfiles=()
for t in "${kst_names[@]}"; do kfiles+=(-f "$kbin/$t:/kst/$t"); done

# ------------------------------------------------------- the cases
# KIND NAME ARGS (tests/ext-suites/guest-init.sh). Sizes: the cgroup holds
# --mem; every stressor's working set is above it. Timeouts: mmap, memfd and
# madvise do one or two bogo ops in --secs under TCG + KASAN (one iteration of
# each instance), so they get all of it; the stressors that loop many times
# in it (vm: ~90000 ops in 20 s, pageswap ~3400 in 10 s, malloc ~180, mremap
# ~12) run half as long, with the same checks on every op.
half=$(((secs + 1) / 2))
cat >"$workdir/ext-cases" <<-CASES
	sng vm --vm 2 --vm-bytes 32M --vm-keep --vm-method all --verify --page-in --timeout $secs --metrics-brief
	sng mmap --mmap 2 --mmap-bytes 32M --verify --page-in --timeout $secs --metrics-brief
	sng mremap --mremap 2 --mremap-bytes 24M --verify --page-in --timeout $half --metrics-brief
	sng memfd --memfd 1 --memfd-bytes 48M --memfd-fds 16 --verify --timeout $secs --metrics-brief
	sng pageswap --pageswap 2 --verify --timeout $half --metrics-brief
	sng madvise --madvise 2 --verify --page-in --timeout $secs --metrics-brief
	sng malloc --malloc 2 --malloc-bytes 4M --malloc-max 32 --malloc-touch --verify --timeout $half --metrics-brief
	bg vm-beside-kst --vm 1 --vm-bytes 40M --vm-keep --vm-method all --verify --metrics-brief
CASES
for t in "${kst_names[@]}"; do
	case $t in
	mremap_test) echo "kst $t -t 8" ;;
	*) echo "kst $t" ;;
	esac
done >>"$workdir/ext-cases"
mapfile -t cases < <(awk '$1 ~ /^(sng|kst|bg)$/ { print $2 }' "$workdir/ext-cases")
declare -A kind
while read -r k n _; do kind[$n]=$k; done <"$workdir/ext-cases"

# ------------------------------------------------------- one boot per zpool
npass=0 nfail=0 nskip=0
skip() { echo "SKIP: $1 ($2)"; nskip=$((nskip + 1)); }
declare -A res    # res[zp|case key] = pass | fail | skip
declare -A why    # why[zp|case key] = first failure line
declare -A sums   # sums[zp|suite] = "pass fail skip zswpout secs"
declare -A keys_seen
keys=()

# case_results ZP LOG: fill res[] from the case lines of LOG.
case_results() {
	local zp=$1 log=$2 c rcline rc out line key r n p f s
	for c in "${cases[@]}"; do
		rcline=$(g -E "^EXT-RC $c " "$log" | tail -n 1)
		rc=$(field "$rcline" rc)
		out=$(g -E "^@$c " "$log" | sed "s/^@$c //")
		p=0 f=0 s=0
		add() { # add KEY RESULT [WHY]
			res[$zp|$1]=$2
			[[ -z ${3:-} ]] || why[$zp|$1]=$3
			if [[ -z ${keys_seen[$1]:-} ]]; then keys_seen[$1]=1; keys+=("$1"); fi
			case $2 in pass) p=$((p + 1)) ;; fail) f=$((f + 1)) ;; *) s=$((s + 1)) ;; esac
		}
		if [[ ${kind[$c]} == kst ]] && grep -E '^(not )?ok [0-9]+ ' <<<"$out" >/dev/null; then
			while read -r line; do
				n=$(sed -E 's/^(not )?ok ([0-9]+) .*/\2/' <<<"$line")
				key="kst $c #$n $(sed -E 's/^(not )?ok [0-9]+ (# [A-Z]+ )?//' <<<"$line" | cut -c1-70)"
				case $line in
				"not ok"*) add "$key" fail "$line" ;;
				*"# SKIP"*) add "$key" skip ;;
				*) add "$key" pass ;; # ok, ok # XFAIL
				esac
			done < <(g -E '^(not )?ok [0-9]+ ' <<<"$out")
			# A crash or a timeout after its last line.
			if [[ $rc != 0 && $rc != 1 && $rc != 4 ]]; then
				add "kst $c exit" fail "exit status ${rc:-none}"
			fi
		elif [[ ${kind[$c]} == kst ]]; then
			case $rc in
			0) add "kst $c" pass ;;
			4) add "kst $c" skip ;;
			*) add "kst $c" fail "exit status ${rc:-none}: $(g -iE 'fail|error' <<<"$out" | sed -n 1p | cut -c1-120)" ;;
			esac
		else
			key="stress-ng $c"
			[[ ${kind[$c]} == bg ]] && key="stress-ng $c (beside the selftests)"
			if [[ $rc == 0 ]] && grep 'successful run completed' <<<"$out" >/dev/null; then
				add "$key" pass
			else
				add "$key" fail "exit status ${rc:-none}: $(g -E 'fail:|error:|verif|mismatch|unexpected|does not contain' <<<"$out" | sed -n 1p | cut -c1-140)"
			fi
		fi
		sums[$zp|$c]="$p $f $s $(field "$rcline" zswpout) $(field "$rcline" secs) $(field "$rcline" pswpout)"
	done
}

run_one() {
	local zp=$1 wd insmod="" extra=() qrc=0 log klog bg ooms bad line sw
	wd="$workdir/$zp"
	mkdir -p "$wd"
	if [[ $zp == zspp ]]; then
		insmod=zspp extra=("$ZSPP_KO")
	elif [[ -f $MODDIR/zsmalloc.ko ]]; then
		insmod=zsmalloc # 6.1: a module, as on Debian
	fi
	cat >"$wd/ext.conf" <<-CONF
		EXT_ZPOOL=$zp
		EXT_INSMOD="$insmod"
		EXT_MEM=$mem
		EXT_ZSWAP_MAX=$zmax
		EXT_CASE_TIMEOUT=$((secs * 2 + 120))
	CONF
	"$ZSPP_SCRIPTS/mkinitramfs.sh" -o "$wd/initramfs.cpio.gz" -m "$MODDIR" \
		-i "$ZSPP_ROOT/tests/ext-suites/guest-init.sh" -f "$wd/ext.conf:/etc/ext.conf" \
		-f "$workdir/ext-cases:/etc/ext-cases" "${sfiles[@]}" "${kfiles[@]}" "${extra[@]}" >/dev/null
	"$ZSPP_SCRIPTS/qemu-run.sh" -k "$BZIMAGE" -r "$wd/initramfs.cpio.gz" -w "$wd" -l "$wd/console.log" \
		-m 1024M -s 2 -d 1G -t "$tmo" -a "loglevel=5" --init-marker '^EXT ' --boot-timeout 300 \
		"${echo[@]}" >&2 || qrc=$?
	log="$wd/console.clean.log"
	tr -d '\r' <"$wd/console.log" >"$log"
	local b="ext $zp:"
	if [[ $qrc == 0 ]] && grep '^EXT-END$' "$log" >/dev/null && ! grep '^EXT-ERROR' "$log" >/dev/null; then
		pass "$b guest completed"
	else
		fail "$b guest completed" "qemu rc=$qrc; $(g '^EXT-ERROR' "$log" | paste -sd ';' -) last line: $(tail -n 1 "$log" | cut -c1-100)"
	fi
	if grep -E '^EXT begin .* cpus_online=0-1$' "$log" >/dev/null; then
		pass "$b 2 CPUs online"
	else
		fail "$b 2 CPUs online" "$(g -E '^EXT begin' "$log")"
	fi
	line=$(g -E '^EXT zpool=' "$log" | tail -n 1)
	if [[ $(field " $line" zpool) == "$zp" && $(field "$line" enabled) == Y ]]; then
		pass "$b zswap uses $zp"
	else
		fail "$b zswap uses $zp" "${line:-no EXT zpool= line}"
	fi
	case_results "$zp" "$log"
	bg=$(g -E '^EXT-BG ' "$log" | tail -n 1)
	local total=0 c
	for c in "${cases[@]}"; do total=$((total + $(awk '{ print $4 + 0 }' <<<"${sums[$zp|$c]}"))); done
	if ((total > 0)) && [[ $(field "$bg" peak_stored_pages) =~ ^[1-9] ]]; then
		pass "$b zswap stored pages (zswpout $total, peak stored_pages $(field "$bg" peak_stored_pages))"
	else
		fail "$b zswap stored pages" "zswpout over the cases $total; ${bg:-no EXT-BG line}"
	fi
	if [[ $(field "$bg" hotplugs) =~ ^[1-9] && $(field "$bg" compacts) =~ ^[1-9] && $(field "$bg" shrinks) =~ ^[1-9] ]]; then
		pass "$b CPU hotplug, compaction and shrinkers ran alongside (${bg#EXT-BG })"
	else
		fail "$b CPU hotplug, compaction and shrinkers ran alongside" "${bg:-no EXT-BG line}"
	fi
	sw=$(g -E '^EXT swapoff ' "$log" | tail -n 1)
	if [[ $(field "$sw" rc) == 0 && $(field "$sw" stored_pages) == 0 ]]; then
		pass "$b swapoff loaded every entry back (${sw#EXT swapoff })"
	else
		fail "$b swapoff loaded every entry back" "${sw:-no EXT swapoff line}"
	fi
	# The dmesg dump (its ring buffer may have dropped early lines) and the
	# console's kernel lines (loglevel=5: warnings and worse; the cases' own
	# lines left out), which are all there is when the guest died.
	klog="$wd/dmesg.log"
	sed -n '/^DMESG-BEGIN$/,/^DMESG-END$/p' "$log" >"$klog"
	g -v '^@' "$log" | sed '/^DMESG-BEGIN$/,/^DMESG-END$/d' >"$wd/console.kernel.log"
	ooms=$(g -c 'invoked oom-killer' "$wd/console.kernel.log" || true)
	if ((ooms > 0)); then
		echo "ext $zp: the OOM killer ran $ooms time(s) (its reports are not splats):" \
			"$(g -o '[Oo]ut of memory: Killed process [0-9]* ([^)]*)' "$wd/console.kernel.log" | paste -sd '|' -)"
	fi
	bad=$( {
		splat_lines --oom-reports --max 20 "$klog"
		splat_lines --oom-reports --max 20 "$wd/console.kernel.log"
	} | sed -n 1,20p)
	if [[ -z $bad ]]; then
		pass "$b kernel log has no splat (KASAN, lockdep, WARN, BUG)"
	else
		fail "$b kernel log has no splat (KASAN, lockdep, WARN, BUG)" "$(sed -n 1p <<<"$bad" | cut -c1-160)"
		sed 's/^/    /' <<<"$bad"
	fi
	g -E '^(ZSPP |VMSTAT )' "$log" | sed "s/^/ext $zp: /"
}

for zp in "${zpools[@]}"; do
	log "external suites on $zp ($krel, debug)"
	t0=$(now_s)
	run_one "$zp"
	log "$zp boot: $(($(now_s) - t0))s"
done

# ------------------------------------------------------- side by side
echo
echo "per suite ($krel, debug; passed/failed/skipped cases, zswpout = pages zswap stored, pswpout = pages written to disk, guest seconds):"
printf '%-20s' suite
for zp in "${zpools[@]}"; do printf ' | %-38s' "$zp p/f/s zswpout pswpout secs"; done
echo
for c in "${cases[@]}"; do
	printf '%-20s' "$c"
	for zp in "${zpools[@]}"; do
		read -r p f s z t w <<<"${sums[$zp|$c]}"
		printf ' | %-38s' "$p/$f/$s ${z:-?} ${w:-?} ${t:-?}s"
	done
	echo
done
echo
if ((${#zpools[@]} == 2)); then
	ref_pass=0
	for k in "${keys[@]}"; do
		r=${res[zsmalloc|$k]:-missing} z=${res[zspp|$k]:-missing}
		if [[ $r == pass ]]; then
			ref_pass=$((ref_pass + 1))
			if [[ $z == pass ]]; then
				pass "ext $k"
			else
				fail "ext $k" "passes with zsmalloc, $z with zspp${why[zspp|$k]:+: ${why[zspp|$k]}}"
			fi
		else
			skip "ext $k" "$r with zsmalloc${why[zsmalloc|$k]:+ (${why[zsmalloc|$k]})}, $z with zspp"
		fi
	done
	if ((ref_pass > 0)); then
		pass "ext reference passes cases ($ref_pass of ${#keys[@]} with zsmalloc)"
	else
		fail "ext reference passes cases" "no case passed with zsmalloc"
	fi
else
	zp=${zpools[0]}
	for k in "${keys[@]}"; do
		case ${res[$zp|$k]} in
		pass) pass "ext $k on $zp" ;;
		skip) skip "ext $k on $zp" "skipped by the test" ;;
		*) fail "ext $k on $zp" "${why[$zp|$k]:-${res[$zp|$k]}}" ;;
		esac
	done
fi
log "total $(($(now_s) - start))s; consoles in $workdir/{${zpools[*]// /,}}/console.log"
echo "$tag: $npass passed, $nfail failed"
((nfail == 0))
