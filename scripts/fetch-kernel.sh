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
#   deb13-6.12           Debian 13 (trixie)'s own 6.12 build: the release trixie's
#                        linux-image-amd64 depends on (else the newest
#                        linux-image-6.12.*+deb13-amd64), e.g. 6.12.118+deb13-amd64.
#                        Resolved and downloaded with a private apt configuration
#                        (scripts/trixie.sh; trixie is never added to the host's
#                        sources); its headers need trixie's gcc-14, so they are
#                        installed in a cached trixie chroot, not on the host
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
#                    (root/usr/lib/modules/REL for Debian 13's merged-/usr packages)
#   KBUILD=/lib/modules/6.1.0-56-amd64/build      (empty with --no-headers and none installed)
#   KCHROOT=                                      (empty: KBUILD is a host path)
# For a Debian 13 kernel, KCHROOT is the trixie chroot and KBUILD the headers'
# path inside it: build there (scripts/trixie.sh's trixie_run). With
# --no-headers the chroot is reported only when it is already prepared.
#
# The release is also logged to stderr as a line "kernel: REL", so the log of
# every scripts/check.sh stage names the kernel it used.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=scripts/trixie.sh
. "$(dirname "${BASH_SOURCE[0]}")/trixie.sh"

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
	deb13-6.12) krel=$(trixie_krel) ;;
	linux-image-*) krel=${want#linux-image-} ;;
	[0-9]*) krel=$want ;;
	*) die "unknown kernel '$want' (expected stock-6.1, stock-6.12, deb13-6.12, linux-image-REL or REL)" ;;
	esac
	printf '%s\n' "$krel"
}

KREL=$(resolve_krel)
log "kernel release $KREL"
echo "kernel: $KREL" >&2
# Debian 13 (trixie) kernels come from the private trixie apt configuration and
# build in a trixie chroot; every other release from the host's apt.
trixie=0
if [[ $KREL == *+deb13-* ]]; then
	trixie=1
	trixie_update
fi
download() {
	if ((trixie)); then
		tapt apt-get download -q "$1" || { ZSPP_TRIXIE_APT_MAX_AGE=0 trixie_update && tapt apt-get download -q "$1"; }
	else
		apt_retry apt-get download -q "$1"
	fi
}
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
		if ((trixie)); then
			where="Debian 13's apt sources ($ZSPP_CACHE/trixie/apt/sources.list)"
		else
			where="the apt sources? try 'apt-get update'"
		fi
		(cd "$kdir" && download "$pkg" >&2) || die "cannot download $pkg (is it in $where)"
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

deb_file="$kdir/$(cat "$stamp")"
VMLINUZ="$root/boot/vmlinuz-$KREL"
MODDIR="$root/lib/modules/$KREL"
# Debian 13's packages are merged-/usr: its modules are in usr/lib/modules.
[[ -d $MODDIR || ! -d $root/usr/lib/modules/$KREL ]] || MODDIR="$root/usr/lib/modules/$KREL"
[[ -f $VMLINUZ ]] || die "$VMLINUZ missing after extraction (remove $kdir and retry)"
[[ -d $MODDIR ]] || die "$MODDIR missing after extraction (remove $kdir and retry)"

KBUILD="" KCHROOT=""
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
if ((trixie)); then
	# The headers inside the trixie chroot (prepared or refreshed here unless
	# --no-headers; with it, reported only if already prepared).
	croot="$ZSPP_CACHE/trixie/chroot-$KREL"
	if ((headers)); then
		croot=$(trixie_chroot "$KREL" "$deb_file")
	fi
	if [[ -f $croot/.zspp-ready && -f $croot/lib/modules/$KREL/build/Makefile ]]; then
		KCHROOT=$croot KBUILD=/lib/modules/$KREL/build
	fi
elif ! find_kbuild && ((headers)); then
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
printf 'KCHROOT=%q\n' "$KCHROOT"
