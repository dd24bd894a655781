#!/usr/bin/env bash
# build-module.sh [KERNEL] [--out DIR] [--jobs N] [--fold]
#
# Build zspp.ko for another kernel than the tree's own `make` (e.g. Debian's
# 6.12 next to the 6.1 build), in a copy of the sources, so the two builds
# never share object files. Then run the static checks on it: the build has no
# compiler or objtool warning, scripts/check-module.sh (metadata, no C++
# runtime, VERSION), the module's vermagic names the kernel's release and its
# .comment names the major gcc version the kernel itself was built with
# (CONFIG_GCC_VERSION), i.e. the distribution's own compiler built it.
#
# A Debian 13 kernel (deb13-6.12) is built inside the cached trixie chroot with
# trixie's gcc-14 (scripts/trixie.sh): the build directory is bind-mounted into
# it at the same path, so kbuild's dependency files stay valid across runs.
#
#   KERNEL       as scripts/fetch-kernel.sh takes it (default stock-6.12); its
#                headers are installed if missing
#   --out DIR    build directory (default $ZSPP_CACHE/build/<release>)
#   --jobs N     make -j (default 2)
#   --fold       build with CONFIG_ZSPP_FOLD=y (default out: <release>-fold)
#
# Prints PASS:/FAIL: lines; the last stdout line is "KO=<path of zspp.ko>".
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=scripts/trixie.sh
. "$(dirname "${BASH_SOURCE[0]}")/trixie.sh"

usage() { sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&2; exit "${1:-2}"; }

kernel=stock-6.12 out="" jobs=2 opts=() suffix=""
while (($#)); do
	case $1 in
	--out) out=$2; shift ;;
	--jobs) jobs=$2; shift ;;
	--fold) opts+=(CONFIG_ZSPP_FOLD=y) suffix=-fold ;;
	-h | --help) usage 0 ;;
	-*) die "unknown option '$1' (see --help)" ;;
	*) kernel=$1 ;;
	esac
	shift
done

eval "$("$ZSPP_SCRIPTS/fetch-kernel.sh" "$kernel")"
[[ -n $KBUILD ]] || die "no kbuild tree for $KREL"
[[ -n $out ]] || out=$(cache_dir build "$KREL$suffix")
mkdir -p "$out"
exec 9>"$out/.lock"
flock 9

# The sources the module is built from (what dkms.conf ships, too). Build
# products in $out are excluded, so rsync keeps them and kbuild rebuilds only
# what changed. Compare by content and give changed files the copy time (no -t):
# a source older than the object built from another tree's version of it must
# still be rebuilt.
rsync -rlD --checksum --delete --exclude='*.o' --exclude='*.ko' --exclude='.*.cmd' --exclude='*.mod' \
	--exclude='*.mod.c' --exclude='.*.d' --exclude='*.symvers' --exclude='modules.order' \
	--exclude='/.lock' --exclude='/.srcsum' --exclude='/build.log' \
	--include='/Kbuild' --include='/VERSION' --include='/dkms.conf' --include='/include/***' \
	--include='/src/***' --exclude='*' "$ZSPP_ROOT/" "$out/"
# Objects built from other sources (another checkout, or a copy made with
# preserved times) would look up to date to make: rebuild everything when the
# sources differ from the last build's.
sum=$(cd "$out" && find Kbuild VERSION include src -type f ! -name '*.o' ! -name '.*.cmd' ! -name '*.ko' \
	! -name '*.mod' ! -name '*.mod.c' ! -name '.*.d' -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum)
if [[ $(cat "$out/.srcsum" 2>/dev/null) != "$sum" ]]; then
	find "$out" \( -name '*.o' -o -name '.*.cmd' -o -name '*.ko' \) -delete
fi

kmake=(make -C "$KBUILD" M="$out" -j"$jobs" "${opts[@]}" modules)
if [[ -n ${KCHROOT:-} ]]; then
	log "building zspp.ko for $KREL in $out (in the chroot $KCHROOT)"
	kmake=(trixie_run --bind "$out" "$KCHROOT" "${kmake[@]}")
else
	log "building zspp.ko for $KREL in $out"
fi
rc=0
"${kmake[@]}" >"$out/build.log" 2>&1 || rc=$?
((rc != 0)) || printf '%s\n' "$sum" >"$out/.srcsum"
npass=0 nfail=0
if ((rc == 0)) && [[ -f $out/zspp.ko ]]; then
	pass "build-$KREL$suffix"
else
	fail "build-$KREL$suffix" "make exited $rc: $(grep -m3 -E 'error|Error' "$out/build.log" | paste -sd '|' -)"
	tail -n 30 "$out/build.log" >&2
	echo "build $KREL: $npass passed, $nfail failed"
	exit 1
fi
# Warnings from the compilers, objtool (IBT/ORC/retpoline checks on the linked
# module on 6.12), modpost or pahole.
warns=$(grep -E 'warning:|objtool|WARNING' "$out/build.log" | sed -n 1,5p | paste -sd '|' - || true)
if [[ -z $warns ]]; then
	pass "build-$KREL$suffix-no-warnings"
else
	fail "build-$KREL$suffix-no-warnings" "$warns"
fi
vm=$(modinfo -F vermagic "$out/zspp.ko" | awk '{print $1}')
if [[ $vm == "$KREL" ]]; then
	pass "vermagic-$KREL$suffix"
else
	fail "vermagic-$KREL$suffix" "vermagic is '$vm'"
fi
# The compiler: every "GCC: (...) X.Y.Z" string in the module's .comment (one per
# compiler that built an object) has the major version of the kernel's own
# (CONFIG_GCC_VERSION, e.g. 140200 for trixie's gcc-14).
kcfg="${KCHROOT:-}$KBUILD/.config"
kgcc=$(kconfig_gcc_version "$kcfg" 2>/dev/null)
comment=$(ko_gcc_comment "$out/zspp.ko" 2>/dev/null)
majors=$(gcc_majors "$comment")
log "compiler: ${comment:-no GCC string in .comment} (kernel: CONFIG_GCC_VERSION=${kgcc:-?})"
if [[ -n $kgcc && $majors == "$((kgcc / 10000))" ]]; then
	pass "compiler-gcc$majors-$KREL$suffix"
else
	fail "compiler-$KREL$suffix" "module .comment '${comment:-none}' vs the kernel's CONFIG_GCC_VERSION=${kgcc:-unknown} ($kcfg)"
fi
# check-module.sh prints its own PASS:/FAIL: lines.
"$ZSPP_SCRIPTS/check-module.sh" "$out/zspp.ko" || nfail=$((nfail + 1))
echo "KO=$out/zspp.ko"
((nfail == 0))
