#!/usr/bin/env bash
# e2e-debug.sh [options] [-- e2e.sh options]: the end-to-end test of
# scripts/e2e.sh --zpool zspp, on the debug kernel (scripts/build-debug-kernel.sh:
# KASAN, lockdep, DEBUG_ATOMIC_SLEEP, PREEMPT, DEBUG_VM), so the checkers watch the
# real zswap store/load/free path through zspp. zspp.ko is built against that
# kernel by scripts/build-debug-modules.sh (a private copy; the repo's stock
# build is untouched).
#
# Same assertions as e2e.sh, plus console-clean: the whole console log, boot to
# reboot, has no KASAN/lockdep/"sleeping function called from invalid
# context"/WARNING/BUG/Call Trace (the kernel logs warnings to the console here,
# loglevel=5, so a run that dies before the final dmesg dump is still judged).
# Last line: "e2e-debug: N passed, M failed"; exits non-zero on any FAIL.
#
# Sized for TCG with KASAN (a few minutes):
#   --mem SIZE     cgroup memory.max (default 24M; the workload is 3x that)
#   --rounds N     workload rewrite rounds (default 1)
#   --timeout SECS QEMU bound (default 900)
#   --workdir DIR  default $ZSPP_CACHE/e2e-debug/zspp
#   --echo         copy the guest console to stderr while it runs
# Anything after "--" goes to scripts/e2e.sh as is (e.g. -- --pages 4096 --seed 7).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() { sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&2; exit "${1:-2}"; }

mem=24M rounds=1 tmo=900 workdir="" extra=()
while (($#)); do
	case $1 in
	--mem) mem=$2; shift ;;
	--rounds) rounds=$2; shift ;;
	--timeout) tmo=$2; shift ;;
	--workdir) workdir=$2; shift ;;
	--echo) extra+=(--echo) ;;
	--) shift; extra+=("$@"); break ;;
	-h | --help) usage 0 ;;
	*) die "unknown argument '$1' (see --help)" ;;
	esac
	shift
done
[[ -n $workdir ]] || workdir="$ZSPP_CACHE/e2e-debug/zspp"

start=$(now_s)
ZSPP_KO="" BZIMAGE="" MODDIR=""
eval "$("$ZSPP_SCRIPTS/build-debug-modules.sh" --no-kunit | grep -E '^(ZSPP_KO|BZIMAGE|MODDIR)=')"
[[ -f $ZSPP_KO && -f $BZIMAGE && -d $MODDIR ]] || {
	echo "FAIL: debug-build (scripts/build-debug-modules.sh reported no zspp.ko/bzImage)"
	echo "e2e-debug: 0 passed, 1 failed"
	exit 1
}

rc=0
"$ZSPP_SCRIPTS/e2e.sh" --zpool zspp --module "$ZSPP_KO" \
	--kernel-image "$BZIMAGE" --modules-dir "$MODDIR" \
	--mem "$mem" --rounds "$rounds" --timeout "$tmo" --workdir "$workdir" \
	--append "loglevel=5" --scan-console --name e2e-debug "${extra[@]}" || rc=$?
log "total $(($(now_s) - start))s (debug kernel $(basename "$(dirname "$(dirname "$(dirname "$(dirname "$BZIMAGE")")")")"))"
exit "$rc"
