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
	--switch-pools) switch=1; sets+=("E2E_SWITCH_AT=3") ;;
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

# The assertions, one function per group: scripts/e2e-checks.sh.
# shellcheck source=scripts/e2e-checks.sh
. "$ZSPP_SCRIPTS/e2e-checks.sh"

# check_log RAW [QRC]: every assertion on a console log (QRC: QEMU's exit status).
check_log() {
	local raw=$1 log qrc=${2:-0}
	log="$workdir/console.clean.log"
	[[ -f $raw ]] || die "console log $raw not found"
	mkdir -p "$workdir"
	tr -d '\r' <"$raw" >"$log"
	summarize "$log"

	e2e_check_guest_completed "$log" "$qrc"
	e2e_check_zswap_allocator "$log"
	e2e_check_workload_verified "$log"
	e2e_check_zswap_stored "$log"
	e2e_check_swapped_out "$log"
	e2e_check_zswap_drained "$log"
	if [[ $zpool == zspp ]]; then e2e_check_zspp_pool "$log"; fi
	if ((badin)); then e2e_check_bad_input "$log"; fi
	if ((switch)); then e2e_check_switch_pools "$log"; fi
	if ((exiters > 0)); then e2e_check_exiters "$log"; fi
	if ((expect_wb)); then e2e_check_writeback "$log"; fi
	if ((expect_fold)); then e2e_check_fold "$log"; fi
	if [[ -n $fold_worker ]]; then e2e_check_fold_worker "$log"; fi
	e2e_check_unload "$log"
	e2e_check_kernel_log "$log"
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
# The guest prints its first E2E line right after mounting /proc: a boot that
# has not done so in 300 s hung in the kernel's own start-up (seen under TCG on
# a loaded host: CPU 0 stuck in swapper before /init, RCU stall reports) and
# is booted again (qemu-run.sh --boot-timeout).
"$ZSPP_SCRIPTS/qemu-run.sh" -k "$vmlinuz" -r "$initrd" -w "$workdir" -l "$workdir/console.log" \
	-m "$vm_mem" -s "$smp" -d 1G -d 16M -t "$tmo" -a "loglevel=4 ${append}" "${echo_arg[@]}" \
	--init-marker '^E2E[ -]' --boot-timeout 300 || qrc=$?

if ((no_check)); then
	echo "$qrc" >"$workdir/qemu.rc"
	log "run only (--no-check): qemu rc=$qrc, $(($(now_s) - start))s; console log: $workdir/console.log"
	exit 0
fi
check_log "$workdir/console.log" "$qrc"
log "total $(($(now_s) - start))s; console log: $workdir/console.log"
finish
