#!/usr/bin/env bash
# deb-check.sh [--deb FILE] [--keep]: the zspp-dkms package as a Debian 12 user
# meets it, in a throwaway chroot (no QEMU, nothing installed on the host).
#
# debootstrap --variant=minbase bookworm (from the cached tarball of
# scripts/fresh-machine.sh, $ZSPP_CACHE/fresh/bookworm-minbase.tgz, else one of
# its own in $ZSPP_CACHE/deb-check), with this machine's apt sources; in it,
# in a private mount namespace (unshare -m: nothing stays mounted however the
# run ends): install dkms, systemd and the newest Debian 12 6.1 kernel's image
# and headers (linux-headers-amd64's), then `apt install ./zspp-dkms_*.deb`.
# Asserts: dkms status says installed for that kernel; the module is in
# /lib/modules/REL/updates/dkms and modinfo's version is VERSION; the install's
# update-initramfs trigger put zspp.ko and its "zpool-zspp" alias in that
# kernel's initramfs; zspp.service is shipped and not enabled; a kernel upgrade
# (installing the 6.12 kernel's headers, linux-headers-6.12-amd64's, which pull
# its image) built and installed zspp for 6.12 too and its initramfs has it;
# `zspp-enable --boot` enables zspp.service and writes the kernel command-line
# file; `apt purge zspp-dkms` leaves nothing: no /usr/src/zspp-*, no
# /var/lib/dkms/zspp, no zspp.ko* under /lib/modules, no zspp.ko in any
# initramfs, none of the package's files, no enable link, no command-line file.
#
# Cached: the debootstrap tarball, what debootstrap makes of it (scripts/lib.sh's
# debootstrap_minbase) and apt's downloaded .debs
# ($ZSPP_CACHE/deb-check/apt-archives), never a chroot with anything installed
# after debootstrap.
#   --deb FILE  the package to test (default: build/deb/zspp-dkms_VERSION_all.deb,
#               from `make deb`)
#   --keep      keep the chroot (in /var/tmp) for inspection
#
# Prints PASS:/FAIL: lines and "deb-check: N passed, M failed".
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() { sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&2; exit "${1:-2}"; }
ver=$(cat "$ZSPP_ROOT/VERSION")
deb=$ZSPP_ROOT/build/deb/zspp-dkms_${ver}_all.deb keep=0
while (($#)); do
	case $1 in
	--deb) deb=$2; shift ;;
	--keep) keep=1 ;;
	-h | --help) usage 0 ;;
	*) die "unknown argument '$1' (see --help)" ;;
	esac
	shift
done
[[ -f $deb ]] || die "no package $deb: run 'make deb' first (or give --deb FILE)"
deb=$(realpath "$deb")
need_cmd debootstrap debootstrap
need_cmd unshare util-linux
start=$(now_s)

# The kernels, as Debian 12's meta packages name them today (never pinned).
krel_of() {
	apt-cache depends "$1" 2>/dev/null | sed -n "s/^ *Depends: linux-headers-\($2\)\$/\1/p" | sed -n 1p
}
k1=$(krel_of linux-headers-amd64 '6\.1\.0-[0-9]*-amd64')
k2=$(krel_of linux-headers-6.12-amd64 '6\.12\.[0-9]*+deb12-amd64')
[[ -n $k1 ]] || die "linux-headers-amd64 does not point at a 6.1 kernel's headers (apt-get update?)"
[[ -n $k2 ]] || die "linux-headers-6.12-amd64 has no 6.12.*+deb12-amd64 headers (bookworm-security in the apt sources? scripts/install-deps.sh adds it)"
echo "kernel: $k1"
echo "kernel: $k2"

suite=bookworm mirror=http://deb.debian.org/debian
cache=$(cache_dir deb-check)
exec 9>"$cache/.lock"
flock 9
tarball=$ZSPP_CACHE/fresh/$suite-minbase.tgz
if [[ ! -s $tarball ]]; then
	tarball=$cache/$suite-minbase.tgz
	minbase_tarball "$suite" "$tarball" "$mirror" "$cache/make-tarball.log"
fi
root=$(mktemp -d /var/tmp/zspp-deb.XXXXXX)
out=$cache/run
rm -rf "$out"
mkdir -p "$out" "$cache/apt-archives/partial" "$cache/pkg"
cleanup() {
	if ((keep)); then log "chroot kept: $root"; else rm -rf --one-file-system "$root"; fi
}
trap cleanup EXIT
log "debootstrap $suite minbase from $tarball into $root"
debootstrap_minbase "$suite" "$root" "$mirror" "$tarball" "$out/debootstrap.log"
log "debootstrap done in $(($(now_s) - start))s"

# This machine's apt sources (Debian's archive is the only network here).
copy_apt_sources "$root"
# Small initramfs images (MODULES=list: only the modules hooks add, zspp's
# among them): the hook is what is tested, and MODULES=most costs a minute a
# kernel. Written before initramfs-tools is installed; not a conffile.
mkdir -p "$root/etc/initramfs-tools/conf.d"
printf 'MODULES=list\nCOMPRESS=gzip\n' >"$root/etc/initramfs-tools/conf.d/zspp-deb-check"
# dpkg without fsync in this throwaway chroot (what is installed is the same;
# the kernels' and headers' ~60000 files no longer wait for the disk).
echo force-unsafe-io >"$root/etc/dpkg/dpkg.cfg.d/zspp-deb-check-unsafe-io"
# The package under test, seen in the chroot as /tmp/zspp-pkg/.
rm -f "$cache"/pkg/*.deb
cp "$deb" "$cache/pkg/"
pkg=/tmp/zspp-pkg/${deb##*/}

# One chroot session, at low priority (CI shares the CPU). Each step's output
# goes to $out/STEP.log and its status to $out/STEP.rc; facts for the checks
# below go to $out/*.txt. The host judges them afterwards.
log "chroot session: apt, dkms, update-initramfs (log: $out/session.log)"
# shellcheck disable=SC2016 # expanded by the chroot's bash
(renice -n 10 -p "$BASHPID" >/dev/null && chroot_run "$root" "$cache/apt-archives" \
	-b "$cache/pkg" /tmp/zspp-pkg -b "$out" /tmp/zspp-out -- DEBIAN_FRONTEND=noninteractive bash -uo pipefail -c '
	k1=$1 k2=$2 ver=$3 pkg=$4 o=/tmp/zspp-out
	step() {
		local name=$1 rc=0
		shift
		"$@" >"$o/$name.log" 2>&1 || rc=$?
		echo "$rc" >"$o/$name.rc"
		return "$rc"
	}
	inird() { lsinitramfs "/boot/initrd.img-$1" 2>&1 | grep -E "/zspp\.ko" || true; }
	alias_in() {
		rm -rf /tmp/ird && mkdir -p /tmp/ird && unmkinitramfs "/boot/initrd.img-$1" /tmp/ird >/dev/null 2>&1
		cat /tmp/ird/lib/modules/"$1"/modules.alias /tmp/ird/main/lib/modules/"$1"/modules.alias 2>/dev/null | grep -E "^alias zpool-zspp zspp$" || true
	}
	facts() {
		local tag=$1
		dkms status zspp >"$o/$tag-dkms-status.txt" 2>&1 || true
		find /lib/modules -name "zspp.ko*" >"$o/$tag-ko.txt" 2>/dev/null || true
		for k in "$k1" "$k2"; do
			[ -e "/boot/initrd.img-$k" ] || continue
			inird "$k" >"$o/$tag-initrd-$k.txt"
		done
	}
	step update apt-get update -q || exit 0
	step kernel apt-get install -y -q --no-install-recommends dkms systemd initramfs-tools \
		"linux-image-$k1" "linux-headers-$k1" || exit 0
	step install apt-get install -y -q --no-install-recommends "$pkg" || exit 0
	facts installed
	modinfo -k "$k1" -F filename zspp >"$o/modinfo-filename.txt" 2>&1 || true
	modinfo -k "$k1" -F version zspp >"$o/modinfo-version.txt" 2>&1 || true
	alias_in "$k1" >"$o/initrd-alias-$k1.txt"
	ls /etc/systemd/system/*.wants/ >"$o/wants-before.txt" 2>&1 || true
	systemctl is-enabled zspp.service >"$o/is-enabled-before.txt" 2>&1 || true
	dpkg -L zspp-dkms >"$o/files.txt"
	step upgrade apt-get install -y -q --no-install-recommends "linux-headers-$k2" || exit 0
	facts upgraded
	alias_in "$k2" >"$o/initrd-alias-$k2.txt"
	step enable zspp-enable --boot
	systemctl is-enabled zspp.service >"$o/is-enabled-after.txt" 2>&1 || true
	ls /etc/default/grub.d/ >"$o/grubd-after.txt" 2>&1 || true
	facts enabled
	step purge apt-get purge -y -q zspp-dkms
	facts purged
	ls -d /usr/src/zspp-* /var/lib/dkms/zspp /etc/zspp /etc/systemd/system/*.wants/zspp.service \
		/etc/default/grub.d/zspp.cfg >"$o/left.txt" 2>/dev/null || true
	while read -r f; do
		[ -e "$f" ] && [ ! -d "$f" ] && echo "$f"
	done <"$o/files.txt" >"$o/left-files.txt" || true
	dpkg -l zspp-dkms >"$o/dpkg-l-after.txt" 2>&1 || true
' _ "$k1" "$k2" "$ver" "$pkg") >"$out/session.log" 2>&1 || {
	tail -n 20 "$out/session.log" >&2
	fail "deb-check chroot session" "the session failed (log: $out/session.log)"
}

rc_of() { cat "$out/$1.rc" 2>/dev/null || echo "not run"; }
why() { g -E '^(E|W): |rror' "$out/$1.log" 2>/dev/null | tail -n 3 | paste -sd '|' -; }
stepcheck() {
	if [[ $(rc_of "$1") == 0 ]]; then pass "$2"; else fail "$2" "rc $(rc_of "$1"): $(why "$1") (log: $out/$1.log)"; fi
}
# has FILE ERE: FILE (in $out) has a matching line (grep's own status: g would say yes to none).
has() { grep -E "$2" "$out/$1" >/dev/null 2>&1; }
# ere TEXT: TEXT as a literal in an ERE (kernel releases and versions have "." and "+").
ere() { sed 's/[.+]/\\&/g' <<<"$1"; }
r1=$(ere "$k1") r2=$(ere "$k2") rv=$(ere "$ver")
stepcheck update "deb apt-get update in the chroot"
stepcheck kernel "deb install dkms, systemd, linux-image/headers-$k1"
stepcheck install "deb apt install ./${deb##*/}"
if has installed-dkms-status.txt "^zspp/$rv, $r1, x86_64: installed"; then
	pass "deb dkms status: zspp/$ver installed for $k1"
else
	fail "deb dkms status: zspp/$ver installed for $k1" "$(paste -sd '|' - <"$out/installed-dkms-status.txt" 2>/dev/null)"
fi
f=$(cat "$out/modinfo-filename.txt" 2>/dev/null || true)
if [[ $f == /lib/modules/$k1/updates/dkms/zspp.ko* ]]; then
	pass "deb module in /lib/modules/$k1/updates/dkms (${f##*/}), indexed by depmod"
else
	fail "deb module in /lib/modules/$k1/updates/dkms" "modinfo -k $k1: ${f:-nothing}"
fi
mv=$(cat "$out/modinfo-version.txt" 2>/dev/null || true)
if [[ $mv == "$ver" ]]; then pass "deb modinfo version $mv == VERSION"; else fail "deb modinfo version == VERSION ($ver)" "modinfo: '$mv'"; fi
if [[ -s $out/installed-initrd-$k1.txt ]]; then
	pass "deb install's update-initramfs trigger: zspp.ko in initrd.img-$k1 ($(paste -sd ' ' - <"$out/installed-initrd-$k1.txt"))"
else
	fail "deb zspp.ko in initrd.img-$k1 after install" "lsinitramfs lists no zspp.ko (log: $out/install.log)"
fi
if [[ -s $out/initrd-alias-$k1.txt ]]; then
	pass "deb initrd.img-$k1 has 'alias zpool-zspp zspp' (zswap's request_module finds it)"
else
	fail "deb initrd.img-$k1 modules.alias has zpool-zspp" "no alias line in the unpacked initramfs"
fi
if ! has wants-before.txt 'zspp' && has is-enabled-before.txt '^disabled'; then
	pass "deb zspp.service shipped disabled"
else
	fail "deb zspp.service shipped disabled" "is-enabled: $(cat "$out/is-enabled-before.txt" 2>/dev/null)"
fi
stepcheck upgrade "deb kernel upgrade: install linux-headers-$k2"
if has upgraded-dkms-status.txt "^zspp/$rv, $r2, x86_64: installed" && has upgraded-ko.txt "^/lib/modules/$r2/updates/dkms/zspp\.ko"; then
	pass "deb kernel upgrade: dkms built and installed zspp for $k2 ($(g "/$k2/" "$out/upgraded-ko.txt" | paste -sd ' ' -))"
else
	fail "deb kernel upgrade: zspp for $k2" "status: $(paste -sd '|' - <"$out/upgraded-dkms-status.txt" 2>/dev/null); files: $(paste -sd ' ' - <"$out/upgraded-ko.txt" 2>/dev/null)"
fi
if has upgraded-dkms-status.txt "^zspp/$rv, $r1, x86_64: installed"; then
	pass "deb kernel upgrade: zspp for $k1 still installed"
else
	fail "deb kernel upgrade: zspp for $k1 still installed" "$(paste -sd '|' - <"$out/upgraded-dkms-status.txt" 2>/dev/null)"
fi
if [[ -s $out/upgraded-initrd-$k2.txt && -s $out/initrd-alias-$k2.txt ]]; then
	pass "deb kernel upgrade: zspp.ko and its alias in initrd.img-$k2"
else
	fail "deb kernel upgrade: zspp.ko in initrd.img-$k2" "lsinitramfs: $(paste -sd ' ' - <"$out/upgraded-initrd-$k2.txt" 2>/dev/null); alias: $(cat "$out/initrd-alias-$k2.txt" 2>/dev/null)"
fi
stepcheck enable "deb zspp-enable --boot"
if has is-enabled-after.txt '^enabled' && has grubd-after.txt '^zspp\.cfg$'; then
	pass "deb zspp-enable --boot: zspp.service enabled, /etc/default/grub.d/zspp.cfg written"
else
	fail "deb zspp-enable --boot" "is-enabled: $(cat "$out/is-enabled-after.txt" 2>/dev/null); grub.d: $(paste -sd ' ' - <"$out/grubd-after.txt" 2>/dev/null)"
fi
stepcheck purge "deb apt purge zspp-dkms"
left=$(cat "$out/left.txt" "$out/purged-ko.txt" "$out/left-files.txt" 2>/dev/null | paste -sd ' ' -)
ird=$(cat "$out"/purged-initrd-*.txt 2>/dev/null | paste -sd ' ' -)
if [[ $(rc_of purge) == 0 && -z $left ]]; then
	pass "deb purge leaves nothing (no /usr/src/zspp-*, /var/lib/dkms/zspp, zspp.ko*, package files, enable link, grub.d file)"
else
	fail "deb purge leaves nothing" "left: ${left:-nothing}"
fi
if [[ $(rc_of purge) == 0 && -z $ird ]]; then
	pass "deb purge: no initramfs has zspp.ko any more"
else
	fail "deb purge: no initramfs has zspp.ko" "${ird:-purge failed}"
fi
if has purged-dkms-status.txt 'zspp'; then
	fail "deb purge: dkms knows no zspp" "$(paste -sd '|' - <"$out/purged-dkms-status.txt")"
else
	pass "deb purge: dkms knows no zspp"
fi
log "total $(($(now_s) - start))s"
echo "deb-check: $npass passed, $nfail failed"
((nfail == 0))
