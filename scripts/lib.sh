# shellcheck shell=bash
# Shared helpers for the zspp scripts. Source it; do not run it.
#
#   ZSPP_CACHE   cache for kernels, initramfs images and other build artefacts
#                (default /var/cache/zspp; kept outside the repo on purpose)
#   ZSPP_VERBOSE 1 = echo extra detail to stderr
#
# Everything a script prints for humans goes to stderr through log/warn/die, so
# stdout stays free for machine-readable output (e.g. fetch-kernel.sh's KEY=VALUE).

if [[ -n "${ZSPP_LIB_SOURCED:-}" ]]; then
	return 0
fi
ZSPP_LIB_SOURCED=1

ZSPP_SCRIPTS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck disable=SC2034 # used by the scripts that source this file
ZSPP_ROOT="$(cd "$ZSPP_SCRIPTS/.." && pwd)"
ZSPP_CACHE="${ZSPP_CACHE:-/var/cache/zspp}"

# Name of the calling script, for log prefixes.
ZSPP_PROG="${ZSPP_PROG:-$(basename "${0:-zspp}")}"

log() { printf '[%s] %s\n' "$ZSPP_PROG" "$*" >&2; }
vlog() { if [[ "${ZSPP_VERBOSE:-0}" == 1 ]]; then log "$@"; fi; }
warn() { printf '[%s] warning: %s\n' "$ZSPP_PROG" "$*" >&2; }
die() {
	printf '[%s] error: %s\n' "$ZSPP_PROG" "$*" >&2
	exit 1
}

# need_cmd CMD [DEBIAN-PACKAGE]: fail with an install hint when CMD is missing.
need_cmd() {
	local cmd=$1 pkg=${2:-$1}
	command -v "$cmd" >/dev/null 2>&1 ||
		die "'$cmd' not found: install it with 'apt-get install -y $pkg'"
}

# cache_dir SUBDIR...: print (and create) a directory inside the cache.
cache_dir() {
	local d="$ZSPP_CACHE"
	local part
	for part in "$@"; do d="$d/$part"; done
	mkdir -p "$d" || die "cannot create cache directory $d (set ZSPP_CACHE to a writable place)"
	printf '%s\n' "$d"
}

# Assertions as scripts/check.sh counts them: one "PASS: name" or
# "FAIL: name (why)" line each, tallied in npass/nfail (the caller resets them).
npass=0 nfail=0
pass() { echo "PASS: $1"; npass=$((npass + 1)); }
fail() { echo "FAIL: $1 ($2)"; nfail=$((nfail + 1)); }

# relay PREFIX CMD...: run a checker, print its PASS:/FAIL: lines as
# "PASS: PREFIX ..." and count them. A checker that reports KTAP
# (tests/harness/e2e.py) has its results turned into such lines first, a
# failure's reason kept (harness.ktap --pass-fail).
relay() {
	local prefix=$1 out
	shift
	out=$("$@" || true)
	if grep -E '^KTAP version 1' <<<"$out" >/dev/null; then
		out=$(PYTHONPATH="$ZSPP_ROOT/tests" python3 -m harness.ktap --pass-fail /dev/stdin <<<"$out" || true)
	fi
	out=$(sed -nE "s/^(PASS|FAIL): (module )?/\1: $prefix /p" <<<"$out")
	[[ -z $out ]] || printf '%s\n' "$out"
	npass=$((npass + $(grep -c '^PASS: ' <<<"$out" || true)))
	nfail=$((nfail + $(grep -c '^FAIL: ' <<<"$out" || true)))
	[[ -n $out ]] || fail "$prefix" "the checker printed no result ($*)"
}

# copy_apt_sources ROOT: this machine's apt sources (.list and deb822; Debian's
# archive is the only network here) and resolv.conf into the chroot ROOT.
copy_apt_sources() {
	local root=$1 f
	rm -f "$root/etc/apt/sources.list"
	mkdir -p "$root/etc/apt/sources.list.d"
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
		[[ -f $f ]] || continue
		case $f in */sources.list) cp "$f" "$root/etc/apt/sources.list" ;; *) cp "$f" "$root/etc/apt/sources.list.d/" ;; esac
	done
	cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
}

# Which gcc built a module, and which one built its kernel:
# ko_gcc_comment KO: the module's .comment GCC strings, ';'-separated;
# gcc_majors COMMENT: their major versions, space-separated;
# kconfig_gcc_version CONFIG: the kernel's CONFIG_GCC_VERSION (e.g. 120200).
ko_gcc_comment() { readelf -p .comment "$1" | sed -n 's/.*\(GCC: .*\)$/\1/p' | sort -u | paste -sd ';' -; }
gcc_majors() { sed -n 's/.*GCC: ([^)]*) \([0-9][0-9]*\)\..*/\1/p' <<<"${1//;/$'\n'}" | sort -u | paste -sd ' ' -; }
kconfig_gcc_version() { sed -n 's/^CONFIG_GCC_VERSION=\([0-9]*\)$/\1/p' "$1" | sed -n 1p; }

# g ARGS: grep that is not an error when nothing matches (set -e, pipefail).
g() { grep "$@" || [[ $? == 1 ]]; }
# field LINE KEY: the value of " KEY=value" in a log line (first match).
# (sed -n 1p, not head: head exits early and, under pipefail, the writer's
# SIGPIPE fails the pipeline at random.)
field() { sed -n "s/.*[ ]$2=\([^ ]*\).*/\1/p" <<<"$1" | sed -n 1p; }

# now_s: seconds since the epoch, for elapsed-time messages.
now_s() { date +%s; }

# apt_retry CMD...: run an apt command; on failure run 'apt-get update' once and retry.
apt_retry() {
	if "$@"; then
		return 0
	fi
	warn "'$*' failed; running 'apt-get update' and retrying"
	apt-get update -qq >&2 || warn "apt-get update failed"
	"$@"
}

# ------------------------------------------------------------ kernel splats
# One definition of "a kernel log that fails a run", used by every script that
# judges a guest's log in shell (kunit.sh,
# stress.sh, boot-debug-smoke.sh, qemu-run.sh): tests/harness/judge.py, which
# has the patterns, what each option tolerates and why, and its unit tests.
#
# splat_lines [OPTIONS] LOG: print the first lines of LOG that fail it (none:
# a clean log). Every caller gets the whole pattern; what a caller tolerates is
# explicit:
#   --allow ERE       also ignore lines matching ERE (repeatable)
#   --fault-traces    a fault-injection run: the Call Trace of each injected
#                     failure's report is expected
#   --oom-reports     memory exhausted on purpose: OOM killer reports are expected
#   --max N           at most N lines (default 3)
# A judge that cannot run prints a line too, so the log never passes unread.
splat_lines() {
	[[ -r ${*: -1} ]] || die "splat_lines: want one readable log, got '$*'"
	PYTHONPATH="$ZSPP_ROOT/tests" python3 -m harness.judge "$@" ||
		echo "splat_lines: tests/harness/judge.py failed (rc=$?) on $*"
}

# stale_code_oops LOG: print the first report of LOG (its Oops and RIP lines)
# and succeed when it is an int3 trap on a byte that memory does not hold as
# int3: the vCPU ran translated code older than the kernel text, an artifact of
# QEMU's multi-threaded TCG, never of the guest (judge.py explains the trap
# and how it is recognised).
stale_code_oops() {
	[[ -r $1 ]] || return 1
	PYTHONPATH="$ZSPP_ROOT/tests" python3 -m harness.judge --stale-code "$1"
}

# debootstrap_minbase SUITE ROOT MIRROR TARBALL LOG: a minbase SUITE in ROOT
# from the cached TARBALL (debootstrap --make-tarball), in a private mount
# namespace (debootstrap mounts /proc and /sys in its target: the namespace
# drops them however the run ends); a stale tarball (the archive moved on)
# falls back to a fresh debootstrap from MIRROR, once. Output in LOG.
# What debootstrap made from TARBALL is kept next to it, TARBALL.root.tar, keyed
# by suite and the tarball's size and mtime (a new tarball: made again), and
# later runs unpack that instead of running debootstrap's dpkg again (30-60 s of
# CPU and fsyncs a run; the same files: debootstrap --unpack-tarball installs
# nothing but the tarball's .debs; MIRROR only names apt's sources.list, which
# every caller writes itself). Never anything installed after debootstrap.
debootstrap_minbase() {
	local suite=$1 root=$2 mirror=$3 tarball=$4 dlog=$5 key lk rt=$4.root.tar
	key="zspp-minbase-root 1 $suite $(stat -c '%s %Y' "$tarball" 2>/dev/null)"
	mkdir -p "$root"
	exec {lk}>"$tarball.root.lock"
	flock "$lk"
	if [[ -s $rt && $(cat "$rt.key" 2>/dev/null) == "$key" ]]; then
		if tar -x -f "$rt" -C "$root" --numeric-owner -p --xattrs --xattrs-include='*' >"$dlog" 2>&1; then
			echo "minbase root unpacked from $rt ($key)" >>"$dlog"
			exec {lk}>&-
			return 0
		fi
		warn "unpacking $rt failed (log: $dlog); running debootstrap"
		rm -rf --one-file-system "$root"
		mkdir -p "$root"
	fi
	if unshare --mount --propagation private debootstrap --variant=minbase --unpack-tarball="$tarball" \
		"$suite" "$root" "$mirror" >"$dlog" 2>&1; then
		# Cached only when made from the tarball (the key names it).
		if tar -c -f "$rt.tmp" -C "$root" --numeric-owner --xattrs --xattrs-include='*' --one-file-system . 2>>"$dlog"; then
			mv "$rt.tmp" "$rt"
			printf '%s\n' "$key" >"$rt.key"
		else
			rm -f "$rt.tmp"
		fi
	else
		warn "debootstrap from $tarball failed; debootstrapping $suite from $mirror"
		rm -rf --one-file-system "$root"
		mkdir -p "$root"
		unshare --mount --propagation private debootstrap --variant=minbase "$suite" "$root" "$mirror" \
			>"$dlog" 2>&1 ||
			{ tail -n 20 "$dlog" >&2; die "debootstrap $suite failed (log: $dlog)"; }
	fi
	exec {lk}>&-
}

# minbase_tarball SUITE TARBALL MIRROR LOG: debootstrap --make-tarball of
# SUITE's minbase .debs into TARBALL unless it is there (in a private mount
# namespace; an interrupted run leaves only TARBALL.tmp, made again next time).
minbase_tarball() {
	local suite=$1 tarball=$2 mirror=$3 mlog=$4 tb
	[[ -s $tarball ]] && return 0
	log "debootstrap --make-tarball ($suite minbase; cached in $tarball)"
	tb=$(mktemp -d /var/tmp/zspp-tb.XXXXXX)
	if ! unshare --mount --propagation private debootstrap --variant=minbase --make-tarball="$tarball.tmp" \
		"$suite" "$tb" "$mirror" >"$mlog" 2>&1; then
		rm -rf --one-file-system "$tb"
		tail -n 20 "$mlog" >&2
		die "debootstrap --make-tarball $suite failed (log: $mlog)"
	fi
	mv "$tarball.tmp" "$tarball"
	rm -rf --one-file-system "$tb"
}

# chroot_run ROOT ARCHIVES [-b SRC DEST]... -- CMD [ARG]...: run CMD in the
# chroot ROOT with a clean environment (HOME, PATH, LANG; CMD may start with
# NAME=VALUE words, env(1) sets them),
# in a private mount namespace, so that its mounts go when it ends, however
# it ends: /proc, /sys, /dev, /dev/pts; apt's download cache ARCHIVES at
# /var/cache/apt/archives (the .debs only, kept between runs: the same
# packages without fetching them again; nothing installed is kept); each SRC
# at ROOT/DEST.
chroot_run() {
	local root=$1 archives=$2 binds=()
	shift 2
	while [[ ${1:-} == -b ]]; do
		binds+=("$2" "$3")
		shift 3
	done
	[[ ${1:-} == -- ]] && shift
	mkdir -p "$archives/partial"
	# shellcheck disable=SC2016 # expanded by the inner bash
	unshare --mount --propagation private bash -euo pipefail -c '
		root=$1 archives=$2 nb=$3
		shift 3
		mount -t proc proc "$root/proc"
		for m in sys dev dev/pts; do
			mkdir -p "$root/$m"
			mount --bind "/$m" "$root/$m"
		done
		mkdir -p "$root/var/cache/apt/archives"
		mount --bind "$archives" "$root/var/cache/apt/archives"
		while ((nb > 0)); do
			mkdir -p "$root/$2"
			mount --bind "$1" "$root/$2"
			shift 2
			nb=$((nb - 2))
		done
		exec chroot "$root" /usr/bin/env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"
	' _ "$root" "$archives" "${#binds[@]}" "${binds[@]}" "$@"
}
