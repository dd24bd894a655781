#!/usr/bin/env bash
# deb-build.sh [--outdir DIR]: `make deb`. Builds the Debian package zspp-dkms
# (debian/, dh-dkms) from this checkout and runs lintian on it.
#
# The version has one source, VERSION: debian/changelog's top entry must say the
# same, else this stops (add an entry for the new version). The package is built
# from a copy of the checkout's sources in DIR/zspp-VERSION (default build/deb),
# never from the checkout itself (dpkg-buildpackage writes its results to the
# parent directory, and a checkout may hold build products), with
# `dpkg-buildpackage -us -uc -b`; the result is DIR/zspp-dkms_VERSION_all.deb.
# lintian runs with debian/zspp-dkms.lintian-overrides (every override has its
# reason): any error, warning or unexplained info fails the build.
#   --lintian-only DEB  no build: only the lintian check, of DEB, with this
#                       system's lintian (a package built on Debian 12 checked
#                       on Debian 13 and the other way round; scripts/deb-backports.sh)
#
# One tag is not overridden but suppressed, when the lintian in use knows it:
# package-supports-alternative-init-but-no-init.d-script (info; lintian 2.116,
# Debian 12). zspp.service is a oneshot, no daemon, and Debian 13's lintian
# (2.122) dropped the tag with policy 4.7's init.d rule: an override naming it
# there is an error (alien-tag), so the one .deb could not be clean on both.
#
# Prints PASS:/FAIL: lines and the path of the .deb (DEB=...) on stdout.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() { sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&2; exit "${1:-2}"; }
outdir=$ZSPP_ROOT/build/deb lintonly=
while (($#)); do
	case $1 in
	--outdir) outdir=$2; shift ;;
	--lintian-only) lintonly=$2; shift ;;
	-h | --help) usage 0 ;;
	*) die "unknown argument '$1' (see --help)" ;;
	esac
	shift
done

# lintian_check DEB LOG: lintian at every severity (the one tag above suppressed
# where known); one PASS/FAIL line.
lintian_check() {
	local deb=$1 llog=$2 lrc tags noverride lver suppress=() t=package-supports-alternative-init-but-no-init.d-script
	if compgen -G "/usr/share/lintian/tags/*/$t.tag" >/dev/null; then
		suppress=(--suppress-tags "$t")
	fi
	lver=$(lintian --version | sed -n 's/^Lintian v//p')
	# Binary package checks (the source is this repository; a -b build makes no
	# source package). --info shows I: tags too, which must be overridden as well.
	lintian --info --display-info --pedantic --fail-on error,warning,info,pedantic "${suppress[@]}" "$deb" >"$llog" 2>&1 && lrc=0 || lrc=$?
	tags=$(g -E '^[EWIP]: ' "$llog")
	# Overridden tags: one line each (after its comment) in the overrides file.
	noverride=$(g -cvE '^[[:space:]]*(#|$)' "$ZSPP_ROOT/debian/zspp-dkms.lintian-overrides")
	log "lintian $lver on ${deb##*/}: $(g -cE '^E: ' <<<"$tags") errors, $(g -cE '^W: ' <<<"$tags") warnings, $(g -cE '^[IP]: ' <<<"$tags") info/pedantic (log: $llog)"
	if [[ $lrc -eq 0 && -z $tags ]]; then
		pass "lintian $lver: no error, warning or info left ($noverride overridden, each with its reason in debian/zspp-dkms.lintian-overrides${suppress[0]:+; $t suppressed})"
	else
		fail "lintian $lver clean" "rc $lrc: $(paste -sd '|' - <<<"$tags")"
	fi
}

if [[ -n $lintonly ]]; then
	need_cmd lintian lintian
	[[ -f $lintonly ]] || die "no package $lintonly"
	mkdir -p "$outdir"
	lintian_check "$lintonly" "$outdir/lintian-only.log"
	echo "deb-build: $npass passed, $nfail failed"
	((nfail == 0))
	exit
fi
# Every missing packaging tool named in one message (not one per run).
missing=()
command -v dpkg-buildpackage >/dev/null 2>&1 || missing+=(dpkg-dev)
command -v dh >/dev/null 2>&1 || missing+=(debhelper)
[[ -f /usr/share/perl5/Debian/Debhelper/Sequence/dkms.pm ]] || missing+=(dh-dkms)
command -v lintian >/dev/null 2>&1 || missing+=(lintian)
((${#missing[@]} == 0)) ||
	die "make deb needs ${missing[*]}: install them with 'apt-get install -y --no-install-recommends ${missing[*]}'"

ver=$(cat "$ZSPP_ROOT/VERSION")
[[ $ver =~ ^[0-9][0-9A-Za-z.+~]*$ ]] || die "VERSION '$ver' is not a Debian native version"
clver=$(cd "$ZSPP_ROOT" && dpkg-parsechangelog -S Version)
[[ $clver == "$ver" ]] ||
	die "debian/changelog's top entry is $clver but VERSION says $ver: add a debian/changelog entry for $ver (same format as the one there)"

start=$(now_s)
mkdir -p "$outdir"
src=$outdir/zspp-$ver
rm -rf "$src" "$outdir"/zspp-dkms_*.deb "$outdir"/zspp_*.changes "$outdir"/zspp_*.buildinfo
mkdir -p "$src"
# What the package is built from: the build files, the module's sources (only
# .c/.h/.cpp: a built checkout also has .o and .cmd files there) and debian/.
cp -a "$ZSPP_ROOT"/{Kbuild,Makefile,VERSION,dkms.conf,README.md,debian} "$src/"
(cd "$ZSPP_ROOT" && find include src -type f \( -name '*.c' -o -name '*.h' -o -name '*.cpp' \) -print0) |
	(cd "$ZSPP_ROOT" && xargs -0 cp --parents -t "$src")

log "dpkg-buildpackage -us -uc -b in $src (log: $outdir/build.log)"
if ! (cd "$src" && dpkg-buildpackage -us -uc -b) >"$outdir/build.log" 2>&1; then
	tail -n 20 "$outdir/build.log" >&2
	die "dpkg-buildpackage failed (log: $outdir/build.log)"
fi
deb=$outdir/zspp-dkms_${ver}_all.deb
npass=0 nfail=0
if [[ -f $deb ]]; then
	pass "deb built: ${deb##*/} ($(stat -c %s "$deb") bytes)"
else
	fail "deb built" "no $deb after dpkg-buildpackage (log: $outdir/build.log)"
	echo "deb-build: $npass passed, $nfail failed"
	exit 1
fi
lintian_check "$deb" "$outdir/lintian.log"
# The dkms source tree holds exactly what dkms.conf builds from.
listing=$(dpkg-deb -c "$deb" | awk '{print $6}' | sed -n 's|^\./usr/src/zspp-[^/]*/||p' | g -v -e '/$' -e '^$' | sort)
want=$(cd "$ZSPP_ROOT" && { printf '%s\n' Kbuild VERSION dkms.conf; find include src -type f \( -name '*.c' -o -name '*.h' -o -name '*.cpp' \); } | sort)
if [[ $listing == "$want" ]]; then
	pass "deb /usr/src/zspp-$ver holds Kbuild, VERSION, dkms.conf, include/, src/ ($(wc -l <<<"$listing") files)"
else
	fail "deb /usr/src/zspp-$ver contents" "$(diff <(printf '%s\n' "$want") <(printf '%s\n' "$listing") | g -E '^[<>]' | paste -sd ' ' -)"
fi
log "total $(($(now_s) - start))s"
echo "DEB=$deb"
echo "deb-build: $npass passed, $nfail failed"
((nfail == 0))
