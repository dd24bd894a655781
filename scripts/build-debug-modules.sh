#!/usr/bin/env bash
# build-debug-modules.sh [options]: build zspp.ko and kunit/zspp_kunit.ko against
# the debug kernel (scripts/build-debug-kernel.sh: KASAN, lockdep, PREEMPT, fault
# injection) in a private copy of the sources under the cache, so the repo's own
# build for the stock kernel is left alone.
#
#   ${ZSPP_CACHE:-/var/cache/zspp}/debug-modules/<debug kernel dir>/<sha256(sources):12>/
#     src/            the copy (Kbuild VERSION include src kunit; build products excluded)
#     src/zspp.ko, src/kunit/zspp_kunit.ko
#     kmods/          the debug tree's loadable zpool modules (zsmalloc.ko, z3fold.ko),
#                     for `mkinitramfs.sh -m` / `e2e.py --modules-dir`
# A directory is built once and then reused while the sources and the kernel are
# unchanged (the key is the content of the copied files); the 3 newest are kept.
#
# stdout, shell-sourceable, one per line (everything else goes to stderr):
#   ZSPP_KO=...  ZSPP_KUNIT_KO=...  KDIR=...  BZIMAGE=...  MODDIR=...  ZSMALLOC_KO=...
#   ZSPP_ZSMALLOC_KO=...  (zspp's zsmalloc.ko; empty where Kbuild builds none)
#   ZRAM_KO=...           (with --zram)
#
#   --force     rebuild even if a build of these sources exists
#   --no-kunit  build zspp.ko only (ZSPP_KUNIT_KO is then empty)
#   --zram      also build zram.ko (6.1 only): the debug config has no
#               CONFIG_ZRAM, so drivers/block/zram of the debug kernel's own
#               tree is built as an external module against it, with the
#               defines its Kconfig gives Debian's (CONFIG_ZRAM=m,
#               ZRAM_DEF_COMP "lzo-rle", ZRAM_WRITEBACK, ZRAM_MEMORY_TRACKING),
#               cached in ${ZSPP_CACHE:-/var/cache/zspp}/debug-zram/<debug kernel
#               dir>/<sha256(sources+defines):12>/
#               (~5 s cold); it imports zs_* from whichever zsmalloc.ko is
#               loaded (the debug kernel has no modversions)
#   --fold      build both with CONFIG_ZSPP_FOLD=y (a separate cache key; the
#               KUnit module then also builds its zspp_fold suite)
#
# The debug kernel itself comes from scripts/build-debug-kernel.sh (cached; a cold
# build takes ~15 min and this script waits for it).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() { sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&2; exit "${1:-2}"; }

force=0 kunit=1 fold=0 zram=0 series=6.1
while (($#)); do
	case $1 in
	--kernel) series=$2; shift ;;
	--force) force=1 ;;
	--no-kunit) kunit=0 ;;
	--zram) zram=1 ;;
	--fold) fold=1 ;;
	-h | --help) usage 0 ;;
	*) die "unknown argument '$1' (see --help)" ;;
	esac
	shift
done

need_cmd make make
need_cmd g++ g++
need_cmd flock util-linux

KDIR="" BZIMAGE=""
dk=$("$ZSPP_SCRIPTS/build-debug-kernel.sh" --kernel "$series") || die "debug kernel $series build failed"
eval "$(g -E '^(KDIR|BZIMAGE)=' <<<"$dk")"
[[ -n $KDIR && -f $BZIMAGE && -f $KDIR/Module.symvers ]] ||
	die "scripts/build-debug-kernel.sh did not report a built KDIR/BZIMAGE"

# The files that make the modules: tracked and untracked-but-not-ignored files of
# these paths (a git checkout), else everything but kbuild's products.
paths=(Kbuild VERSION include src kunit)
list_sources() {
	if git -C "$ZSPP_ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		git -C "$ZSPP_ROOT" ls-files -z --cached --others --exclude-standard -- "${paths[@]}" |
			while IFS= read -r -d '' f; do [[ -f $ZSPP_ROOT/$f ]] && printf '%s\0' "$f"; done
	else
		(cd "$ZSPP_ROOT" && find "${paths[@]}" -type f ! -name '*.o' ! -name '*.ko' ! -name '*.mod' \
			! -name '*.mod.c' ! -name '*.cmd' ! -name '.*.d' ! -name '*.symvers' ! -name modules.order -print0)
	fi | LC_ALL=C sort -z
}
# Key: content of the sources + the kernel build (its stamp records its own key).
key=$( {
	list_sources | (cd "$ZSPP_ROOT" && xargs -0 sha256sum)
	cat "$KDIR/.zspp-debug-kernel.stamp" 2>/dev/null || sha256sum "$KDIR/Module.symvers"
	if ((fold)); then echo CONFIG_ZSPP_FOLD=y; fi
} | sha256sum | cut -c1-12)
opts=()
if ((fold)); then opts=(CONFIG_ZSPP_FOLD=y); fi

base=$(cache_dir debug-modules "$(basename "$KDIR")")
out="$base/$key"
exec 8>"$base/.lock"
flock 8 # one builder at a time (kunit.sh and e2e runs may start together)

if ((force)) || [[ ! -f $out/.built ]] || { ((kunit)) && [[ ! -f $out/src/kunit/zspp_kunit.ko ]]; }; then
	start=$(now_s)
	log "building zspp against $KDIR in $out/src"
	rm -rf "$out"
	mkdir -p "$out/src" "$out/kmods"
	list_sources | (cd "$ZSPP_ROOT" && tar --null -T - -cf -) | tar -xf - -C "$out/src"
	if ! make -C "$KDIR" M="$out/src" "${opts[@]}" modules >"$out/build.log" 2>&1; then
		tail -n 30 "$out/build.log" >&2
		die "zspp.ko build against the debug kernel failed (log: $out/build.log)"
	fi
	if ((kunit)); then
		if ! make -C "$KDIR" M="$out/src/kunit" KBUILD_EXTRA_SYMBOLS="$out/src/Module.symvers" \
			"${opts[@]}" modules >>"$out/build.log" 2>&1; then
			tail -n 30 "$out/build.log" >&2
			die "zspp_kunit.ko build against the debug kernel failed (log: $out/build.log)"
		fi
	fi
	grep -E 'warning:' "$out/build.log" | sed 's/^/  /' >&2 || true
	[[ -f $out/src/zspp.ko ]] || die "no zspp.ko after the build"
	# The README's static checks hold for a sanitizer (KASAN) kernel too.
	"$ZSPP_SCRIPTS/check-module.sh" "$out/src/zspp.ko" >"$out/check-module.log" 2>&1 ||
		{ cat "$out/check-module.log" >&2; die "check-module.sh failed on the debug-kernel zspp.ko"; }
	touch "$out/.built"
	log "built in $(($(now_s) - start))s"
else
	log "cached: $out"
fi
# The debug tree's zpool modules (as a small module directory for mkinitramfs.sh).
for m in zsmalloc z3fold; do
	if [[ -f $KDIR/mm/$m.ko ]]; then cp -u "$KDIR/mm/$m.ko" "$out/kmods/"; fi
done
touch "$out" # newest first below
# Keep the 3 newest builds of this kernel.
find "$base" -mindepth 1 -maxdepth 1 -type d -printf '%T@ %p\n' | sort -rn | sed -n '4,$p' |
	cut -d' ' -f2- | while read -r old; do rm -rf "$old"; done
# zram.ko from the debug tree's own drivers/block/zram (--zram).
zram_ko=""
if ((zram)); then
	[[ $series == 6.1 ]] || die "--zram: 6.1 only (6.12's zsmalloc and zram are not zspp's to replace)"
	zsrc=$KDIR/drivers/block/zram
	[[ -f $zsrc/zram_drv.c && -f $zsrc/zcomp.c ]] || die "no drivers/block/zram sources in $KDIR"
	! grep -E '^CONFIG_ZRAM=' "$KDIR/.config" >/dev/null || die "$KDIR already has CONFIG_ZRAM: use its zram.ko"
	zdefs="-DCONFIG_ZRAM_DEF_COMP='\"lzo-rle\"' -DCONFIG_ZRAM_DEF_COMP_LZORLE=1 -DCONFIG_ZRAM_WRITEBACK=1"
	zdefs+=" -DCONFIG_ZRAM_MEMORY_TRACKING=1"
	zkey=$( {
		(cd "$zsrc" && sha256sum ./*.c ./*.h)
		cat "$KDIR/.zspp-debug-kernel.stamp" 2>/dev/null || sha256sum "$KDIR/Module.symvers"
		echo "$zdefs"
	} | sha256sum | cut -c1-12)
	zbase=$(cache_dir debug-zram "$(basename "$KDIR")")
	zout="$zbase/$zkey"
	if ((force)) || [[ ! -f $zout/.built ]]; then
		log "building zram.ko from $zsrc in $zout"
		rm -rf "$zout"
		mkdir -p "$zout"
		cp "$zsrc"/*.c "$zsrc"/*.h "$zout/"
		printf '%s\n' "# drivers/block/zram as CONFIG_ZRAM=m (scripts/build-debug-modules.sh --zram)" \
			"obj-m := zram.o" "zram-y := zcomp.o zram_drv.o" "ccflags-y := $zdefs" >"$zout/Kbuild"
		if ! make -C "$KDIR" M="$zout" modules >"$zout/build.log" 2>&1; then
			tail -n 30 "$zout/build.log" >&2
			die "zram.ko build against the debug kernel failed (log: $zout/build.log)"
		fi
		[[ -f $zout/zram.ko ]] || die "no zram.ko after the build"
		touch "$zout/.built"
	fi
	touch "$zout"
	zram_ko=$zout/zram.ko
	# Keep the 2 newest zram builds of this kernel.
	find "$zbase" -mindepth 1 -maxdepth 1 -type d -printf '%T@ %p\n' | sort -rn | sed -n '3,$p' |
		cut -d' ' -f2- | while read -r old; do rm -rf "$old"; done
fi
flock -u 8

# For the log of the scripts/check.sh stage this runs in.
echo "kernel: $(cat "$KDIR/include/config/kernel.release" 2>/dev/null || echo "unknown ($KDIR)") (debug build)" >&2
kunit_ko=""
((kunit)) && kunit_ko=$out/src/kunit/zspp_kunit.ko
zsm=""
[[ -f $out/kmods/zsmalloc.ko ]] && zsm=$out/kmods/zsmalloc.ko
echo "ZSPP_KO=$out/src/zspp.ko"
echo "ZSPP_KUNIT_KO=$kunit_ko"
echo "KDIR=$KDIR"
echo "BZIMAGE=$BZIMAGE"
echo "MODDIR=$out/kmods"
echo "ZSMALLOC_KO=$zsm"
zspp_zsm=""
[[ -f $out/src/zsmalloc.ko ]] && zspp_zsm=$out/src/zsmalloc.ko
echo "ZSPP_ZSMALLOC_KO=$zspp_zsm"
echo "ZRAM_KO=$zram_ko"
