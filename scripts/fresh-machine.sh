#!/usr/bin/env bash
# fresh-machine.sh: the README's path from nothing, on a new Debian 12.
# debootstrap a minimal bookworm (--variant=minbase) into a scratch
# directory, give it this machine's apt sources, install only what the README
# asks for (git and make), clone this checkout into it and run `make demo`
# in a chroot with /proc, /sys, /dev and /dev/pts bound (QEMU TCG works
# there). Fails if `make demo` fails or does not show what the README
# promises: the workload verified, zswap on zspp, zspp's summary, rmmod.
#
# Cached: the debootstrap tarball of .debs ($ZSPP_CACHE/fresh/) and what
# debootstrap makes of it (scripts/lib.sh's debootstrap_minbase), never the
# installed result; the chroot starts empty every run (its own empty
# /var/cache/zspp, so every download and build happens as for a new user).
#   --keep    leave the chroot for inspection
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

keep=0
while (($#)); do
	case $1 in
	--keep) keep=1 ;;
	*) die "unknown option $1" ;;
	esac
	shift
done
need_cmd debootstrap debootstrap
need_cmd git git

suite=bookworm
mirror=http://deb.debian.org/debian
cache=$(cache_dir fresh)
tarball=$cache/$suite-minbase.tgz
root=$(mktemp -d /var/tmp/zspp-fresh.XXXXXX)
cleanup() {
	if ((keep)); then
		log "chroot kept: $root"
	else
		rm -rf --one-file-system "$root"
	fi
}
trap cleanup EXIT

start=$(now_s)
minbase_tarball "$suite" "$tarball" "$mirror" "$cache/make-tarball.log"
log "debootstrap $suite minbase from $tarball"
# (scripts/lib.sh: debootstrap's result from this tarball is unpacked from
# its cache when there is one; a stale tarball falls back to a fresh debootstrap.)
debootstrap_minbase "$suite" "$root" "$mirror" "$tarball" "$cache/debootstrap.log"
echo "fresh-machine: debootstrap done in $(($(now_s) - start))s"

# This machine's apt sources (Debian's archive is the only network here).
copy_apt_sources "$root"
# dpkg without fsync (the ~500 packages make demo installs no longer wait for
# the disk; the same packages, installed the same way, in a throwaway chroot).
echo force-unsafe-io >"$root/etc/dpkg/dpkg.cfg.d/zspp-fresh-unsafe-io"

# apt's downloads (the .debs only, never an installed state) are kept
# between runs: the same packages from the same archive, without fetching
# ~300 MB again each time. apt still installs everything from scratch.
in_chroot() { chroot_run "$root" "$cache/apt-archives" -- "$@"; }

# The README's precondition: git and make, nothing else.
log "apt-get install git make (the README's precondition)"
in_chroot bash -c 'export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && apt-get install -y -qq --no-install-recommends git make ca-certificates' \
	>"$cache/precondition.log" 2>&1 || { tail -n 20 "$cache/precondition.log" >&2; die "installing git and make failed"; }

# `git clone` of this checkout's HEAD, as a user would clone the project.
git clone -q "$ZSPP_ROOT" "$root/root/zspp"
echo "fresh-machine: cloned $(git -C "$ZSPP_ROOT" rev-parse --short HEAD)"

log "make demo in the fresh chroot (log: $cache/demo.log)"
demo_start=$(now_s)
rc=0
in_chroot bash -c 'cd /root/zspp && make demo' >"$cache/demo.log" 2>&1 || rc=$?
echo "fresh-machine: make demo rc=$rc in $(($(now_s) - demo_start))s"
# The kernel the demo booted (scripts/fetch-kernel.sh's line in its log).
sed -n 's/^kernel: /kernel: /p' "$cache/demo.log" | sort -u

npass=0 nfail=0
if [[ $rc -eq 0 ]]; then pass "fresh-machine make demo exits 0"; else fail "fresh-machine make demo exits 0" "rc=$rc; $(tail -n 5 "$cache/demo.log" | tr '\n' ' ')"; fi
# What the README says `make demo` shows.
demo=$(cat "$cache/demo.log")
check_demo() {
	if grep -E "$2" <<<"$demo" >/dev/null; then pass "fresh-machine demo $1"; else fail "fresh-machine demo $1" "no /$2/ in $cache/demo.log"; fi
}
check_demo "installed its dependencies" 'install-deps: installing '
check_demo "verified every byte of the workload" '^WORKLOAD .* mismatches=0'
check_demo "ran zswap on zspp" '^ok [0-9]+ zswap-uses-zspp'  # e2e.py's KTAP
check_demo "printed zspp's pool summary" '^=== zspp pool summary'
check_demo "unloaded zspp" '^RMMOD .*rc=0'
check_demo "compared zsmalloc and zbud on the same workload" '^  zbud +[0-9]+ +[0-9.]+ +[0-9.]+ +[0-9.]+x'
echo "fresh-machine: total $(($(now_s) - start))s"
echo "fresh-machine: $npass passed, $nfail failed"
[[ $nfail -eq 0 ]]
