#!/usr/bin/env bash
# fetch-kernel.sh [KERNEL] [--no-headers]
#
# Make a Debian kernel image and its modules available in the cache, without
# installing the image package, and make sure its headers are installed so
# out-of-tree modules can be built against it.
#
# KERNEL is one of
#   stock-6.1            (default) the release the linux-image-amd64 meta package
#                        depends on (Debian 12: linux-image-6.1.0-NN-amd64)
#   stock-6.12           the release linux-image-6.12-amd64 depends on (Debian 12's
#                        6.12 LTS kernel from bookworm-security, e.g.
#                        linux-image-6.12.117+deb12-amd64; scripts/install-deps.sh
#                        makes sure that suite is in the apt sources)
#   linux-image-REL      an explicit image package
#   REL                  an explicit kernel release, e.g. 6.1.0-56-amd64
#
# The package is fetched with 'apt-get download' into
# ${ZSPP_CACHE:-/var/cache/zspp}/kernels/REL/ and unpacked with 'dpkg -x'.
# Idempotent: a second run only prints the paths.
#
# Output on stdout, shell-sourceable (eval "$(scripts/fetch-kernel.sh)"):
#   KREL=6.1.0-56-amd64
#   VMLINUZ=/var/cache/zspp/kernels/6.1.0-56-amd64/root/boot/vmlinuz-6.1.0-56-amd64
#   MODDIR=/var/cache/zspp/kernels/6.1.0-56-amd64/root/lib/modules/6.1.0-56-amd64
#   KBUILD=/lib/modules/6.1.0-56-amd64/build      (empty with --no-headers and none installed)
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() { sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&2; exit "${1:-2}"; }

want="stock-6.1"
headers=1
while (($#)); do
	case $1 in
	--no-headers) headers=0 ;;
	-h | --help) usage 0 ;;
	-*) die "unknown option '$1' (see --help)" ;;
	*) want=$1 ;;
	esac
	shift
done

need_cmd apt-get apt
need_cmd apt-cache apt
need_cmd dpkg dpkg

# meta_krel META: the release an amd64 meta package points at, e.g. 6.1.0-57-amd64
# (the newest of the series: Debian moves the meta package; nothing is pinned).
meta_krel() {
	apt-cache depends "$1" 2>/dev/null |
		sed -n 's/^ *Depends: linux-image-\([0-9][^ ]*-amd64\)$/\1/p' | sed -n 1p
}

# stock_krel META SERIES: resolve META, check it is a SERIES.* kernel.
stock_krel() {
	local meta=$1 series=$2 krel
	krel=$(meta_krel "$meta")
	if [[ -z $krel ]]; then
		log "apt-cache knows no $meta; running 'apt-get update'"
		apt-get update -qq >&2 || warn "apt-get update failed"
		krel=$(meta_krel "$meta")
	fi
	[[ -n $krel ]] ||
		die "apt knows no $meta (its apt source: see scripts/install-deps.sh; run 'apt-get update')"
	[[ $krel == "$series".* ]] ||
		die "$meta points at '$krel', not a $series kernel; pass an explicit release"
	printf '%s\n' "$krel"
}

resolve_krel() {
	local krel
	case $want in
	stock-6.1) krel=$(stock_krel linux-image-amd64 6.1) ;;
	stock-6.12) krel=$(stock_krel linux-image-6.12-amd64 6.12) ;;
	linux-image-*) krel=${want#linux-image-} ;;
	[0-9]*) krel=$want ;;
	*) die "unknown kernel '$want' (expected stock-6.1, stock-6.12, linux-image-REL or REL)" ;;
	esac
	printf '%s\n' "$krel"
}

KREL=$(resolve_krel)
log "kernel release $KREL"
pkg="linux-image-$KREL"
kdir=$(cache_dir kernels "$KREL")
root="$kdir/root"
stamp="$root/.zspp-extracted"

# Serialise concurrent callers on this release.
exec 9>"$kdir/.lock"
flock 9

if [[ ! -f $stamp ]]; then
	shopt -s nullglob
	debs=("$kdir/${pkg}_"*.deb)
	if ((${#debs[@]} == 0)); then
		log "downloading $pkg into $kdir"
		# apt-get download writes to the current directory. As root it warns that
		# the download is unsandboxed; that is harmless here.
		(cd "$kdir" && apt_retry apt-get download -q "$pkg" >&2) ||
			die "cannot download $pkg (is it in the apt sources? try 'apt-get update')"
		debs=("$kdir/${pkg}_"*.deb)
		((${#debs[@]} > 0)) || die "apt-get download produced no ${pkg}_*.deb in $kdir"
	fi
	deb=${debs[${#debs[@]} - 1]}
	log "extracting $(basename "$deb")"
	rm -rf "$root.tmp"
	mkdir -p "$root.tmp"
	dpkg -x "$deb" "$root.tmp"
	rm -rf "$root"
	mv "$root.tmp" "$root"
	basename "$deb" >"$stamp"
	shopt -u nullglob
fi

VMLINUZ="$root/boot/vmlinuz-$KREL"
MODDIR="$root/lib/modules/$KREL"
[[ -f $VMLINUZ ]] || die "$VMLINUZ missing after extraction (remove $kdir and retry)"
[[ -d $MODDIR ]] || die "$MODDIR missing after extraction (remove $kdir and retry)"

KBUILD=""
find_kbuild() {
	local d
	for d in "/lib/modules/$KREL/build" "/usr/src/linux-headers-$KREL"; do
		if [[ -f $d/Makefile ]]; then
			KBUILD=$d
			return 0
		fi
	done
	return 1
}
if ! find_kbuild && ((headers)); then
	log "installing linux-headers-$KREL"
	apt_retry apt-get install -y -q "linux-headers-$KREL" >&2 ||
		die "cannot install linux-headers-$KREL"
	find_kbuild || die "linux-headers-$KREL installed but no kbuild tree under /lib/modules/$KREL/build"
fi
flock -u 9

printf 'KREL=%q\n' "$KREL"
printf 'VMLINUZ=%q\n' "$VMLINUZ"
printf 'MODDIR=%q\n' "$MODDIR"
printf 'KBUILD=%q\n' "$KBUILD"
