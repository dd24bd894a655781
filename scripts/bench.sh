#!/usr/bin/env bash
# bench.sh [options]: `make bench` (and the bench-smoke stage of `make check`).
#
# Micro benchmark: one boot of the stock Debian 6.1 kernel in QEMU (TCG) runs
# bench/zspp_bench.ko, which drives zspp's native API and zsmalloc's zs_* API
# with the same object stream (bench/data/lzo-sizes.csv). End to end: the
# verified memory-cgroup swap workload of tests/harness/e2e.py under zswap with each
# of zbud, z3fold, zsmalloc and zspp as zpool, one fresh boot each, same
# parameters (and again with a small zswap pool limit, for writeback).
# Folding (CONFIG_ZSPP_FOLD): in the same boot, after unloading them, the
# guest loads the CONFIG_ZSPP_FOLD=y zspp.ko (scripts/build-module.sh --fold)
# and the bench module built against it and runs the same runs again (what
# the option costs the hot paths when nothing folds); both builds also run
# the folding runs (streams with 0/25/50% duplicate objects: the fold build
# calls zspp_fold, the plain build gives the baseline).
# Kernels (--kernels): the micro benchmark runs on Debian's stock 6.1 and 6.12
# (6.12: zspp.ko from scripts/build-module.sh stock-6.12 into $workdir, the
# bench module built against it; zsmalloc is built in there, chain 8). The
# folding build and the zswap e2e above run on 6.1 only.
# Memory accounting (in the micro boot, booted with slab_nomerge): per
# configuration, zspp_bench.ko hold=1 fills a pool (and churns it: free 50% +
# compact) while the guest takes /proc/slabinfo and /proc/meminfo deltas, so
# metadata is measured (zsmalloc: zs_handle*/zspage* caches; zspp: zspp*
# caches; kmalloc-* and every other cache that changed reported apart).
# Instruction counts (--icount, on by default): a second boot per kernel under
# QEMU -icount shift=0,sleep=off (bench/qemu-icount.sh) runs the 1-thread
# micro configurations: guest ns there are guest instructions.
# Real data (bench/realdata.c, bench/mkrealdata.sh): real files of this system
# through zswap (memory.reclaim), every page compared, churn and compaction,
# zsmalloc and zspp in separate boots of each kernel with the same pages.
# bench/report.py turns the logs into CSV, a table and a plot. Nothing here
# asserts a timing: benchmarks measure.
#
#   --kernels LIST    micro / icount / real-data kernels (default 6.1,6.12; smoke 6.1)
#   --no-icount       skip the -icount boots (smoke: always skipped)
#   --icount-reps N   repeats in the -icount boot (default 2)
#   --icount-twice    a second -icount boot per kernel (determinism check)
#   --no-mem          skip the memory accounting runs
#   --no-realdata     skip the real-data end to end (smoke: always skipped)
#   --realdata-mib A,B  MiB of real files stored first / after the churn (default 64,32)
#   --realdata-zpools LIST (default zsmalloc,zspp,zspp-c8,zspp-c16; zspp-cN: zspp with chain_size=N)
#
#   --smoke           tiny micro run only (seconds); asserts that the bench ran,
#                     that its numbers parse and that every object verified;
#                     prints PASS:/FAIL: lines; writes nothing in the repo
#   --nobj N          objects per micro run (default 50000; smoke 2000)
#   --reps N          repeats of every micro configuration (default 11; smoke 1)
#   --no-e2e          skip the end-to-end runs (the report keeps the last ones)
#   --no-micro        skip the micro benchmark (the report keeps the last one)
#   --no-fold         leave the CONFIG_ZSPP_FOLD=y build out of the boot (and its
#                     rows out of the report)
#   --fold-dups LIST  duplicate percentages of the folding runs (default 0,25,50)
#   --fold-reps N     repeats of every folding run (default 5; smoke 1)
#   --e2e-zpools LIST comma-separated (default zbud,z3fold,zsmalloc,zspp)
#   --corrupt N       self-test of the smoke checks: the module flips a byte in N
#                     objects after each fill, so bench-every-object-verified must FAIL
#   --workdir DIR     logs and images (default $ZSPP_CACHE/bench, smoke: .../bench/smoke)
#   --out DIR         where the CSV and PNG go (default Documentation/benchmarks)
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() { sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&2; exit "${1:-2}"; }

corrupt=0 smoke=0 nobj="" reps="" e2e=1 micro=1 fold=1 fold_dups=0,25,50 fold_reps="" zpools=zbud,z3fold,zsmalloc,zspp workdir="" out=""
kernels="" icount=1 icount_reps=2 icount_twice=0 mem=1 realdata=1 rd_mib=64,32 rd_zpools=zsmalloc,zspp,zspp-c8,zspp-c16
while (($#)); do
	case $1 in
	--kernels) kernels=$2; shift ;;
	--no-icount) icount=0 ;;
	--icount-reps) icount_reps=$2; shift ;;
	--icount-twice) icount_twice=1 ;;
	--no-mem) mem=0 ;;
	--no-realdata) realdata=0 ;;
	--realdata-mib) rd_mib=$2; shift ;;
	--realdata-zpools) rd_zpools=$2; shift ;;
	--smoke) smoke=1 ;;
	--nobj) nobj=$2; shift ;;
	--reps) reps=$2; shift ;;
	--no-e2e) e2e=0 ;;
	--corrupt) corrupt=$2; shift ;;
	--no-micro) micro=0 ;;
	--no-fold) fold=0 ;;
	--fold-dups) fold_dups=$2; shift ;;
	--fold-reps) fold_reps=$2; shift ;;
	--e2e-zpools) zpools=$2; shift ;;
	--workdir) workdir=$2; shift ;;
	--out) out=$2; shift ;;
	-h | --help) usage 0 ;;
	*) die "unknown argument '$1' (see --help)" ;;
	esac
	shift
done
if ((smoke)); then
	nobj=${nobj:-2000} reps=${reps:-1} fold_reps=${fold_reps:-1} e2e=0 icount=0 realdata=0
	kernels=${kernels:-6.1}
	workdir=${workdir:-$ZSPP_CACHE/bench/smoke}
else
	nobj=${nobj:-50000} reps=${reps:-11} fold_reps=${fold_reps:-5}
	kernels=${kernels:-6.1,6.12}
	workdir=${workdir:-$ZSPP_CACHE/bench}
fi
out=${out:-$ZSPP_ROOT/Documentation/benchmarks}
PY=/usr/bin/python3 # Debian's, for python3-matplotlib (not a pyenv one on PATH)
mkdir -p "$workdir"
start=$(now_s)

IFS=, read -r -a klist <<<"$kernels"
for k in "${klist[@]}"; do
	[[ $k == 6.1 || $k == 6.12 ]] || die "--kernels: 6.1 and/or 6.12, not '$k'"
done
# use_kernel K: KREL VMLINUZ MODDIR KBUILD of stock-K, and where its zspp.ko
# and zspp_bench.ko are (ZSPP_KO, BENCH_KO).
use_kernel() {
	eval "$("$ZSPP_SCRIPTS/fetch-kernel.sh" "stock-$1")"
	[[ -n ${KBUILD:-} && -f $VMLINUZ ]] || die "fetch-kernel.sh gave no kernel/headers for stock-$1"
	if [[ $1 == 6.1 ]]; then
		ZSPP_KO=$ZSPP_ROOT/zspp.ko BENCH_KO=$ZSPP_ROOT/bench/zspp_bench.ko
	else
		ZSPP_KO=$workdir/build-$1/zspp.ko BENCH_KO=$workdir/bench-$1/zspp_bench.ko
	fi
}

# zspp.ko and zspp_bench.ko for stock 6.1 (in the repo, like `make module`).
build_modules() {
	log "building zspp.ko and bench/zspp_bench.ko against $KBUILD"
	# Into a log: the module's own PASS: lines belong to make check's module stage.
	if ! { make -s -C "$ZSPP_ROOT" module KDIR="$KBUILD" &&
		make -s -C "$KBUILD" M="$ZSPP_ROOT/bench" KBUILD_EXTRA_SYMBOLS="$ZSPP_ROOT/Module.symvers" modules; } \
		>"$workdir/build.log" 2>&1; then
		tail -n 30 "$workdir/build.log" >&2
		die "module build failed (log: $workdir/build.log)"
	fi
	[[ -f $ZSPP_ROOT/bench/zspp_bench.ko ]] || die "no bench/zspp_bench.ko after the build"
}

# Another kernel (6.12): zspp.ko by scripts/build-module.sh into
# $workdir/build-K (not the shared cache build directory), zspp_bench.ko from
# a copy of bench/ in $workdir/bench-K against that build's Module.symvers.
build_modules_other() {
	local k=$1 b="$workdir/build-$1" bb="$workdir/bench-$1"
	log "building zspp.ko and zspp_bench.ko for $KREL in $b, $bb"
	if ! "$ZSPP_SCRIPTS/build-module.sh" "stock-$k" --out "$b" >"$workdir/build-$k.log" 2>&1; then
		tail -n 30 "$workdir/build-$k.log" >&2
		die "module build for $KREL failed (log: $workdir/build-$k.log)"
	fi
	mkdir -p "$bb/data"
	rsync -a --checksum "$ZSPP_ROOT/bench/Kbuild" "$ZSPP_ROOT/bench/zspp_bench.c" "$ZSPP_ROOT/bench/gen-hist.awk" "$bb/"
	rsync -a --checksum "$ZSPP_ROOT/bench/data/lzo-sizes.csv" "$bb/data/"
	if ! make -s -C "$KBUILD" M="$bb" ZSPP_INCLUDE="$ZSPP_ROOT/include" \
		KBUILD_EXTRA_SYMBOLS="$b/Module.symvers" modules >>"$workdir/build-$k.log" 2>&1; then
		tail -n 30 "$workdir/build-$k.log" >&2
		die "bench module build for $KREL failed (log: $workdir/build-$k.log)"
	fi
	[[ -f $ZSPP_KO && -f $BENCH_KO ]] || die "no $ZSPP_KO / $BENCH_KO after the build"
}

# The CONFIG_ZSPP_FOLD=y zspp.ko (in $workdir/fold-build, not the shared
# build directory) and zspp_bench.ko built against it from a copy of bench/
# (ZSPP_FOLD=1, that build's Module.symvers), so the two bench builds never
# share objects. Skipped (kbuild alone takes ~20 s here) when none of their
# sources changed since the last build in $workdir.
fold_build=$workdir/fold-build fold_bench=$workdir/fold-bench
build_fold_modules() {
	local stamp
	stamp=$({ echo "$KREL"; cd "$ZSPP_ROOT" && find Kbuild VERSION include src scripts/build-module.sh bench/Kbuild bench/zspp_bench.c \
		bench/gen-hist.awk bench/data/lzo-sizes.csv -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum; } |
		sha256sum)
	if [[ -f $fold_build/zspp.ko && -f $fold_bench/zspp_bench.ko && $(cat "$workdir/fold.stamp" 2>/dev/null) == "$stamp" ]]; then
		log "CONFIG_ZSPP_FOLD=y zspp.ko and zspp_bench.ko up to date in $fold_build, $fold_bench"
		return
	fi
	rm -f "$workdir/fold.stamp"
	log "building the CONFIG_ZSPP_FOLD=y zspp.ko and zspp_bench.ko in $fold_build, $fold_bench"
	if ! "$ZSPP_SCRIPTS/build-module.sh" stock-6.1 --fold --out "$fold_build" >"$workdir/build-fold.log" 2>&1; then
		tail -n 30 "$workdir/build-fold.log" >&2
		die "fold module build failed (log: $workdir/build-fold.log)"
	fi
	mkdir -p "$fold_bench/data"
	rsync -a --checksum "$ZSPP_ROOT/bench/Kbuild" "$ZSPP_ROOT/bench/zspp_bench.c" "$ZSPP_ROOT/bench/gen-hist.awk" "$fold_bench/"
	rsync -a --checksum "$ZSPP_ROOT/bench/data/lzo-sizes.csv" "$fold_bench/data/"
	if ! make -s -C "$KBUILD" M="$fold_bench" ZSPP_FOLD=1 ZSPP_INCLUDE="$ZSPP_ROOT/include" \
		KBUILD_EXTRA_SYMBOLS="$fold_build/Module.symvers" modules >>"$workdir/build-fold.log" 2>&1; then
		tail -n 30 "$workdir/build-fold.log" >&2
		die "fold bench module build failed (log: $workdir/build-fold.log)"
	fi
	[[ -f $fold_build/zspp.ko && -f $fold_bench/zspp_bench.ko ]] || die "no fold zspp.ko / zspp_bench.ko after the build"
	echo "$stamp" >"$workdir/fold.stamp"
}

# run_micro K MODE: one boot of stock-K. MODE tcg: every configuration, 1
# and 2 threads, the memory accounting runs and (6.1) the fold build, in
# $workdir/micro-K; MODE icount / icount2: the 1-thread configurations under
# -icount (instructions), in $workdir/micro-MODE-K.
run_micro() {
	local k=$1 mode=$2 w args foldko=() what="" qemu=() smp=2 memargs=""
	if [[ $mode == tcg ]]; then w="$workdir/micro-$k"; else w="$workdir/micro-$mode-$k"; fi
	mkdir -p "$w"
	if [[ $mode == tcg ]]; then
		if ((fold)) && [[ $k == 6.1 ]]; then
			foldko=(-f "$fold_build/zspp.ko:lib/e2e-modules/fold/zspp.ko"
				-f "$fold_bench/zspp_bench.ko:lib/e2e-modules/fold/zspp_bench.ko")
			what=", then the same with the CONFIG_ZSPP_FOLD=y build"
		fi
		args="nobj=$nobj reps=$reps chains=4,8,16 threads=1,2 allocs=zsmalloc,zspp-map,zspp-rw,zspp-lru seed=1"
		args+=" fold_dups=$fold_dups fold_reps=$fold_reps fold_chain=8 corrupt=$corrupt"
		((mem)) && memargs="nobj=$nobj seed=1"
	else
		args="nobj=$nobj reps=$icount_reps chains=4,8,16 threads=1 allocs=zsmalloc,zspp-map,zspp-rw,zspp-lru seed=1"
		qemu=(env QEMU="$ZSPP_ROOT/bench/qemu-icount.sh") smp=1
		what=" (QEMU -icount shift=0,sleep=off: ns = instructions)"
	fi
	{
		echo "BENCH_ARGS=\"$args\""
		echo "BENCH_MEM_ARGS=\"$memargs\""
		echo "BENCH_MEM_CFGS=\"zsmalloc:0 zspp-rw:4 zspp-rw:8 zspp-rw:16 zspp-lru:8\""
	} >"$w/bench.conf"
	"$ZSPP_SCRIPTS/mkinitramfs.sh" -o "$w/initramfs.cpio.gz" -m "$MODDIR" -i "$ZSPP_ROOT/bench/guest-init.sh" \
		-c "$w/bench.conf" -f "$w/bench.conf:etc/zspp-bench.conf" "${foldko[@]}" \
		"$ZSPP_KO" "$BENCH_KO" >/dev/null
	log "micro $KREL $mode: $args${memargs:+; memory: $memargs}$what"
	local rc=0 t0
	t0=$(now_s)
	"${qemu[@]}" "$ZSPP_SCRIPTS/qemu-run.sh" -k "$VMLINUZ" -r "$w/initramfs.cpio.gz" -l "$w/console.log" -w "$w" \
		-m 1024M -s "$smp" -t $((smoke ? 300 : 6000)) -a "loglevel=4 log_buf_len=4M slab_nomerge" || rc=$?
	echo "$rc" >"$w/qemu.rc"
	echo "$(($(now_s) - t0))" >"$w/seconds"
	log "micro $KREL $mode: guest done in $(($(now_s) - t0))s (qemu rc=$rc)"
	tr -d '\r' <"$w/console.log" >"$w/console.clean.log"
}

# run_realdata K: bench/realdata.c on the blob of real files, zswap on each of
# --realdata-zpools, one fresh boot each, in $workdir/realdata-K-ZPOOL.
run_realdata() {
	local k=$1 z w a b rc t0 rdbin="$workdir/realdata-bin" data="$workdir/realdata-data"
	a=$((${rd_mib%%,*} * 1024 * 1024)) b=$((${rd_mib#*,} * 1024 * 1024))
	"$ZSPP_ROOT/bench/mkrealdata.sh" --bytes $((a + b + 4096)) --out "$data"
	gcc -static -O2 -Wall -o "$rdbin" "$ZSPP_ROOT/bench/realdata.c"
	IFS=, read -r -a rzl <<<"$rd_zpools"
	for z in "${rzl[@]}"; do
		w="$workdir/realdata-$k-$z"
		mkdir -p "$w"
		# zspp-cN: zspp loaded with chain_size=N (zswap's zpool is still zspp).
		local zp=$z params=""
		if [[ $z =~ ^zspp-c([0-9]+)$ ]]; then
			zp=zspp params="chain_size=${BASH_REMATCH[1]}"
		fi
		printf 'RD_ZPOOL=%s\nRD_ZSPP_PARAMS="%s"\nRD_BYTES_A=%s\nRD_BYTES_B=%s\n' "$zp" "$params" "$a" "$b" >"$w/rd.conf"
		"$ZSPP_SCRIPTS/mkinitramfs.sh" -o "$w/initramfs.cpio.gz" -m "$MODDIR" -i "$ZSPP_ROOT/bench/realdata-init.sh" \
			-f "$w/rd.conf:etc/zspp-rd.conf" -f "$data/blob:data/blob" -f "$rdbin:bin/realdata" \
			-f "$ZSPP_ROOT/bench/rd-snap.sh:bin/rd-snap" "$ZSPP_KO" >/dev/null
		log "real data $KREL $z: $((a >> 20)) MiB, then $((b >> 20)) MiB after freeing half"
		rc=0 t0=$(now_s)
		"$ZSPP_SCRIPTS/qemu-run.sh" -k "$VMLINUZ" -r "$w/initramfs.cpio.gz" -l "$w/console.log" -w "$w" \
			-m 1024M -s 2 -d 1G -d 16M -t 1800 -a "loglevel=4 log_buf_len=4M slab_nomerge" || rc=$?
		echo "$rc" >"$w/qemu.rc"
		echo "$(($(now_s) - t0))" >"$w/seconds"
		tr -d '\r' <"$w/console.log" >"$w/console.clean.log"
		log "real data $KREL $z: guest done in $(($(now_s) - t0))s (qemu rc=$rc); $(grep -a '^RD-RESULT' "$w/console.clean.log" || echo 'no RD-RESULT')"
	done
}

run_e2e() {
	local z name w args
	# Same parameters for every zpool. e2e.py's defaults: a 48M cgroup, 3x that
	# in workload pages, memory.zswap.max 36M, max_pool_percent 20 (no pool
	# limit reached). The "limit" variant caps the zswap pool at 2% of the
	# guest's RAM, so zswap hits max_pool_percent and writes back (allocators
	# with a shrink op) or rejects.
	for variant in default limit; do
		IFS=, read -r -a zl <<<"$zpools"
		for z in "${zl[@]}"; do
			name=e2e-$variant-$z
			w="$workdir/$name"
			args=(--zpool "$z" --workdir "$w" --name "$name")
			[[ $z == zspp ]] && args+=(--module "$ZSPP_ROOT/zspp.ko")
			[[ $variant == limit ]] && args+=(--max-pool-percent 2)
			log "e2e: ${args[*]}"
			"$ZSPP_ROOT/tests/harness/e2e.py" "${args[@]}" >"$w.result" 2>"$w.stderr" || true
			tail -n 1 "$w.result" >&2
		done
	done
}

for k in "${klist[@]}"; do
	use_kernel "$k"
	if [[ $k == 6.1 ]]; then
		build_modules
		((fold && micro)) && build_fold_modules
	else
		build_modules_other "$k"
	fi
	if ((micro)); then
		run_micro "$k" tcg
		((icount)) && run_micro "$k" icount
		((icount && icount_twice)) && run_micro "$k" icount2
	fi
	((realdata)) && run_realdata "$k"
done
if ((e2e)); then
	use_kernel 6.1
	run_e2e
fi

if ((smoke)); then
	ndups=$(tr ',' '\n' <<<"$fold_dups" | grep -c . || true)
	builds=nofold
	((fold)) && builds+=,fold
	"$PY" "$ZSPP_ROOT/bench/report.py" --smoke --micro-log "$workdir/micro-6.1/console.clean.log" \
		--expect-mem "$mem" \
		--expect-runs $((reps * 2 * 14)) --expect-fold-runs $((fold_reps * ndups)) \
		--expect-builds "$builds" --nobj "$nobj" --out "$workdir/report"
	rc=$?
	log "bench smoke: $(($(now_s) - start))s"
	exit $rc
fi
use_kernel 6.1
"$PY" "$ZSPP_ROOT/bench/report.py" --micro-log "$workdir/micro-6.1/console.clean.log" \
	--e2e-dir "$workdir" --bench-dir "$workdir" --kernels "$kernels" --out "$out" \
	--doc "$ZSPP_ROOT/Documentation/benchmarks.md" \
	--kernel "$KREL" --data "$ZSPP_ROOT/bench/data/lzo-sizes.csv"
log "make bench: $(($(now_s) - start))s"
