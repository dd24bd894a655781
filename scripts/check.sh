#!/usr/bin/env bash
# `make check`: every suite, in order, each logged to build/check/<stage>.log.
# A stage reports results as "PASS: name" / "FAIL: name" lines and/or one
# summary line "[WORD: ]N passed, M failed"; a stage that exits non-zero
# without reporting a failure counts as one failure. Last line: the totals.
# A stage that concerns a kernel logs "kernel: RELEASE" (scripts/fetch-kernel.sh
# and the debug-kernel scripts do); the summary shows it per stage.
#
# Two lanes: after the host stages, the stages on the debug kernels (KUnit,
# stress, the debug e2e runs, fault injection) and fresh-machine run in a
# second lane beside those on the stock kernels, chroots and packages. Most
# of a QEMU (TCG) run keeps one of the two cores busy, so the lanes overlap
# instead of queueing (Documentation/testing-e2e.md has the times). The lanes
# share nothing but flock-protected cache entries. The second lane's output
# is printed when it ends; ZSPP_CHECK_SERIAL=1 runs everything in one lane.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
logdir=build/check
mkdir -p "$logdir"
results=$logdir/results.txt
: >"$results"
check_start=$(date +%s)

stage() {
	local name=$1; shift
	local log="$logdir/$name.log" rc start end p f k
	echo "=== $name: $*"
	start=$(date +%s)
	"$@" >"$log" 2>&1
	rc=$?
	end=$(date +%s)
	# PASS:/FAIL: lines when the stage prints them, else its summary line(s).
	p=$(grep -cE '^PASS: ' "$log" || true)
	f=$(grep -cE '^FAIL: ' "$log" || true)
	if [ "$((p + f))" -eq 0 ]; then
		while read -r sp sf; do
			p=$((p + sp)); f=$((f + sf))
		done < <(sed -nE 's/^([A-Za-z0-9_-]+: )?([0-9]+) passed, ([0-9]+) failed.*$/\2 \3/p' "$log")
	fi
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		echo "FAIL: $name exited $rc without reporting a failure" >>"$log"
	fi
	grep -E '^(FAIL: |.*[1-9][0-9]* failed)' "$log" | sed -n '1,20p'
	[ "$rc" -ne 0 ] && tail -n 30 "$log"
	k=$(sed -n 's/^kernel: //p' "$log" | sort -u | paste -sd ' ' -)
	echo "=== $name: $p passed, $f failed (rc=$rc, $((end - start))s, log $log)${k:+ kernel: $k}"
	# One line per stage, appended whole (both lanes write here).
	printf '%s\t%d\t%d\t%d\t%s\n' "$name" "$p" "$f" $((end - start)) "$k" >>"$results"
}

# Script rules no run would catch reliably (scripts/lint.sh).
stage lint scripts/lint.sh
# The core's lock annotations, checked by clang -Wthread-safety -Werror, and
# proof that dropping a lock from a path fails that build
# (Documentation/locking.rst).
stage thread-safety scripts/thread-safety.sh
stage module make module
# CONFIG_ZSPP_FOLD=y builds (in $ZSPP_CACHE/build/<release>-fold), each run where
# its plain counterpart runs.
stage module-fold scripts/build-module.sh stock-6.1 --fold
ko61fold=$(sed -n 's/^KO=//p' "$logdir/module-fold.log" | tail -n 1)
stage host-test make -C tests/host test
# src/kernel/'s own C (bounce areas and CPU hotplug, the shim's glue) on the
# host against a mock kernel, with sched points that force interleavings.
stage kernel-host make -C tests/kernel test
stage fuzz make -C tests/host fuzz
# The core as built with CONFIG_ZSPP_FOLD=y (Documentation/folding.rst): every
# host suite again plus the fold suite, and the fuzzer with its fold op.
stage host-test-fold make -C tests/host FOLD=1 test
stage fuzz-fold make -C tests/host FOLD=1 fuzz
# The concurrent host tests under ThreadSanitizer, plain and fold
# (scripts/tsan.sh): a race fails; accepted ones are ZSPP_RACY_READ.
stage tsan scripts/tsan.sh
lane_stock() {
	stage e2e-stock-6.1 scripts/e2e.sh --zpool zspp --module "$PWD/zspp.ko" --switch-pools --bad-input
	# 6.1 zswap prefixes each object with its swap offset: the fold worker runs
	# through the whole test and folds nothing (Documentation/testing-e2e.md).
	stage e2e-stock-6.1-fold scripts/e2e.sh --zpool zspp --module "${ko61fold:-no-6.1-fold-build/zspp.ko}" \
		--fold-worker 200 --workdir "${ZSPP_CACHE:-/var/cache/zspp}/e2e-fold-6.1/zspp" \
		--name e2e-stock-6.1-fold
	# Writeback with short-lived children exiting in the workload's cgroup: their
	# entries are invalidated while zswap's shrink worker evicts
	# (Documentation/zswap-contract.rst).
	stage e2e-writeback-6.1 scripts/e2e.sh --zpool zspp --module "$PWD/zspp.ko" --max-pool-percent 2 \
		--expect-writeback --exiters 12 --workdir "${ZSPP_CACHE:-/var/cache/zspp}/e2e-writeback/zspp" --name e2e-writeback-6.1
	# A tiny zspp vs zsmalloc micro benchmark, plain and CONFIG_ZSPP_FOLD=y builds
	# (Documentation/benchmarks.md): sanity only.
	stage bench-smoke scripts/bench.sh --smoke
	# Real programs through zswap on zspp (bench/workloads/workloads.py --smoke):
	# python3 and sqlite3 on real data in a memory cgroup, outputs verified
	# against the same binaries' on the host; numbers parsed, no timing asserted.
	stage bench-workloads-smoke /usr/bin/python3 bench/workloads/workloads.py --smoke
	# Debian's 6.12: the same sources built against its headers (in a separate
	# build directory), the verified workload, the kernel's own test_zswap with
	# zsmalloc and with zspp, and dkms for both kernels.
	cache=${ZSPP_CACHE:-/var/cache/zspp}
	stage module-6.12 scripts/build-module.sh stock-6.12
	ko612=$(sed -n 's/^KO=//p' "$logdir/module-6.12.log" | tail -n 1)
	stage module-6.12-fold scripts/build-module.sh stock-6.12 --fold
	ko612fold=$(sed -n 's/^KO=//p' "$logdir/module-6.12-fold.log" | tail -n 1)
	stage e2e-stock-6.12 scripts/e2e.sh --kernel stock-6.12 --zpool zspp --module "${ko612:-no-6.12-build/zspp.ko}" \
		--workdir "$cache/e2e-6.12/zspp" --mem 32M
	# 64 page patterns repeated: fold zswap's pool with the workload parked, then the
	# background worker for the rest of the run.
	stage e2e-fold-6.12 scripts/e2e.sh --kernel stock-6.12 --zpool zspp --module "${ko612fold:-no-6.12-fold-build/zspp.ko}" \
		--workdir "$cache/e2e-fold-6.12/zspp" --mem 32M --pages 12288 --expect-fold --fold-worker 200 --name e2e-fold-6.12
	stage test-zswap-6.12 scripts/test-zswap-peer.sh --kernel stock-6.12 --module "${ko612:-no-6.12-build/zspp.ko}"
	stage test-zswap-6.12-fold scripts/test-zswap-peer.sh --kernel stock-6.12 --module "${ko612fold:-no-6.12-fold-build/zspp.ko}" \
		--zspp-params fold_interval_ms=200 --workdir "$cache/test-zswap-fold"
	stage dkms scripts/dkms-check.sh
	# The Debian package zspp-dkms: built and lintian-checked (make deb), then
	# installed, upgraded to a second kernel and purged in a throwaway Debian 12
	# chroot (scripts/deb-check.sh; no QEMU). `make deb-check` runs both.
	stage deb make deb-check
	# Debian 13 following trixie-backports, whose 7.x kernels have no zpool: the
	# package installed with 6.12 + 7.x headers, then the 7.x kernel, in a cached
	# trixie chroot (apt exits 0, dpkg --audit empty, dkms skips 7.x), the no-zpool
	# paths of zspp.service and zspp-enable, purge, and `make deb` lintian-clean
	# inside trixie (scripts/deb-backports.sh; no QEMU).
	stage deb-backports scripts/deb-backports.sh
	# The same package in a Debian 12 system image (debootstrap, stock kernel, apt,
	# zspp-enable --boot; ext4 image) booted in QEMU with systemd: zswap on zspp
	# from the first boot, the workload verified through it, apt purge in the booted
	# guest, then a clean second boot on the default zpool (scripts/deb-boot.sh).
	stage deb-boot-12 scripts/deb-boot.sh --dist bookworm
	# Debian 13 (trixie)'s own 6.12 build, gcc-14: the module built in a cached trixie
	# chroot (scripts/trixie.sh: created in ~1.5-2 min cold, again when trixie's
	# headers move; never on the host), the workload and test_zswap (from trixie's
	# linux-source-6.12) on trixie's stock kernel, and dkms install in the chroot with
	# the installed CONFIG_ZSPP_FOLD=y module booted under a small workload.
	stage module-deb13 scripts/build-module.sh deb13-6.12
	kodeb13=$(sed -n 's/^KO=//p' "$logdir/module-deb13.log" | tail -n 1)
	stage module-deb13-fold scripts/build-module.sh deb13-6.12 --fold
	stage e2e-stock-deb13 scripts/e2e.sh --kernel deb13-6.12 --zpool zspp --module "${kodeb13:-no-deb13-build/zspp.ko}" \
		--workdir "$cache/e2e-deb13/zspp" --mem 24M --name e2e-stock-deb13
	stage test-zswap-deb13 scripts/test-zswap-peer.sh --kernel deb13-6.12 --module "${kodeb13:-no-deb13-build/zspp.ko}"
	stage dkms-deb13 scripts/dkms-chroot.sh deb13-6.12
	# The package's boot test on Debian 13 with its 6.12 kernel (scripts/deb-boot.sh).
	stage deb-boot-13 scripts/deb-boot.sh --dist trixie
	# Debian 13 on trixie-backports' 7.x kernel booted with the package (make
	# deb-boot, scripts/deb-boot.sh --dist trixie-backports: 20/0, ~5 min alone)
	# is not run here: make check's stock lane already takes most of CI's 90
	# minutes on 2 shared cores; deb-backports above covers apt, dkms and purge
	# on 7.x in a chroot on every run.
}

lane_debug() {
	stage kunit-debug scripts/kunit.sh
	stage kunit-debug-fold scripts/kunit.sh --fold
	# The heavier fault runs are sized down here (full size: run the scripts by hand).
	stage stress-debug scripts/stress.sh --pages 6144 --rounds 1
	# The same on a KASAN + lockdep + PREEMPT 6.12 kernel (kunit/debug-6.12.config,
	# linux-source-6.12; cached like the 6.1 one).
	stage kunit-debug-6.12 scripts/kunit.sh --kernel 6.12
	stage kunit-debug-6.12-fold scripts/kunit.sh --kernel 6.12 --fold
	stage stress-debug-6.12 scripts/stress.sh --kernel 6.12 --pages 6144 --rounds 1
	# External suites with their own verification (stress-ng's memory/swap
	# stressors, the kernel's mm selftests) on both debug kernels, zswap on
	# zsmalloc then on zspp, beside CPU hotplug and compaction: every case that
	# passes with zsmalloc must pass with zspp (scripts/ext-suites.sh).
	stage ext-suites scripts/ext-suites.sh --kernel 6.1
	stage ext-suites-6.12 scripts/ext-suites.sh --kernel 6.12
	# The debug-kernel e2e runs with a low zswap pool limit, so KASAN and lockdep
	# watch writeback (zpool shrink -> evict) as well as store/load/free; sized
	# down (16M cgroup, 48M workload) for make check's time budget.
	stage e2e-writeback-debug scripts/e2e-debug.sh --mem 16M --workdir "${ZSPP_CACHE:-/var/cache/zspp}/e2e-debug/writeback" \
		-- --max-pool-percent 1 --expect-writeback --name e2e-writeback-debug
	stage fault-e2e scripts/fault-e2e.sh --mem 16M
	# The README's path from nothing: a debootstrapped minimal Debian 12 with only
	# git and make, a clone, `make demo` in a chroot (scripts/fresh-machine.sh).
	stage fresh-machine scripts/fresh-machine.sh
}

if [[ ${ZSPP_CHECK_SERIAL:-0} == 1 ]]; then
	lane_stock
	lane_debug
else
	echo "=== lane debug: runs beside the stock lane; its output follows when it ends"
	lane_debug >"$logdir/lane-debug.out" 2>&1 &
	debug_pid=$!
	lane_stock
	wait "$debug_pid"
	echo "=== lane debug"
	cat "$logdir/lane-debug.out"
fi

echo
echo "=== summary"
total_pass=0 total_fail=0
while IFS=$'\t' read -r name p f secs k; do
	printf '%-22s %5d passed %5d failed %5ds%s\n' "$name" "$p" "$f" "$secs" "${k:+  kernel: $k}"
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
done <"$results"
echo "make check: $(($(date +%s) - check_start))s"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
