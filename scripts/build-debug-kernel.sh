#!/bin/bash
# Build (once) a zspp debug test kernel: linux-source-6.1 + kunit/debug.config,
# or with --kernel 6.12 linux-source-6.12 + kunit/debug-6.12.config (KUnit,
# KASAN, lockdep, PREEMPT, DEBUG_VM, fault injection), cached outside the repo in
#   ${ZSPP_CACHE:-/var/cache/zspp}/debug-kernel/<srcversion>-<sha256(fragment):12>/
# That directory is the extracted source tree and the build dir (KDIR): build
# out-of-tree modules with `make -C "$KDIR" M=/path/to/module modules`.
# Rebuilds only when the linux-source-<series> version or the fragment changes.
# Cold build ~15 min on 2 cores (measured 888 s incl. extraction): run it in the background and poll.
# Last two stdout lines (shell-sourceable):  KDIR=...  BZIMAGE=...
# Options: --kernel 6.1|6.12 (default 6.1)  --force  rebuild even if the stamp is present.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
series=6.1 force=0
while [ $# -gt 0 ]; do
	case $1 in
	--kernel) series=$2; shift 2 ;;
	--force) force=1; shift ;;
	*) echo "build-debug-kernel: unknown option $1" >&2; exit 2 ;;
	esac
done
case $series in
6.1) deffrag=$here/../kunit/debug.config ;;
6.12) deffrag=$here/../kunit/debug-6.12.config ;;
*) echo "build-debug-kernel: --kernel 6.1 or 6.12, not $series" >&2; exit 2 ;;
esac
frag=${ZSPP_DEBUG_CONFIG:-$deffrag}
frag=$(readlink -f "$frag")
tarball=${ZSPP_LINUX_SOURCE:-/usr/src/linux-source-$series.tar.xz}

log() { echo "build-debug-kernel: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[ -r "$frag" ] || die "fragment not found: $frag"
[ -r "$tarball" ] || die "$tarball missing: apt-get install linux-source-$series"
for t in flex bison bc cpio python3 gcc make xz; do
	command -v "$t" >/dev/null || die "missing tool $t (apt-get install flex bison bc cpio libelf-dev libssl-dev)"
done

srcver=$(dpkg-query -W -f='${Version}' "linux-source-$series" 2>/dev/null || true)
[ -n "$srcver" ] || srcver=tar-$(sha256sum "$tarball" | cut -c1-12)
fraghash=$(sha256sum "$frag" | cut -c1-12)
cache=${ZSPP_CACHE:-/var/cache/zspp}/debug-kernel
kdir=$cache/$srcver-$fraghash
stamp=$kdir/.zspp-debug-kernel.stamp
bzimage=$kdir/arch/x86/boot/bzImage
jobs=$(( $(nproc) + 1 ))

mkdir -p "$cache"
exec 9>"$cache/.lock-$series"
flock 9   # one builder at a time; a second caller waits, then finds the stamp

if [ $force = 0 ] && [ -f "$stamp" ] && [ -f "$bzimage" ]; then
	log "cached: $(cat "$stamp" | tr '\n' ' ')"
else
	start=$SECONDS
	log "building $kdir (fragment $frag, linux-source $srcver, -j$jobs)"
	rm -rf "$kdir"
	mkdir -p "$kdir"
	log "extracting $tarball"
	tar -xJf "$tarball" -C "$kdir" --strip-components=1
	cd "$kdir"
	# allnoconfig with the fragment as KCONFIG_ALLCONFIG: everything not in
	# the fragment (and not forced by a select/default) is off.
	./scripts/kconfig/merge_config.sh -n "$frag" > config-merge.log 2>&1 ||
		{ tail -30 config-merge.log >&2; die "merge_config failed"; }
	cp "$frag" .zspp-debug.config.fragment
fi

cd "$kdir"
# Every line of the fragment must have survived into .config (a symbol whose
# dependency is off is dropped without an error by merge_config).
missing=()
while IFS= read -r line; do
	if [[ $line =~ ^(CONFIG_[A-Za-z0-9_]+)=(.*)$ ]]; then
		grep -xF -- "$line" .config >/dev/null || missing+=("$line  (final: $(grep -E "^(# )?${BASH_REMATCH[1]}[= ]" .config || echo absent))")
	elif [[ $line =~ ^#\ (CONFIG_[A-Za-z0-9_]+)\ is\ not\ set$ ]]; then
		! grep -E "^${BASH_REMATCH[1]}=" .config >/dev/null ||
			missing+=("$line  (final: $(grep -E "^${BASH_REMATCH[1]}=" .config))")
	fi
done < "$frag"
if [ ${#missing[@]} -gt 0 ]; then
	log "ERROR: the final .config in $kdir lost these fragment lines:"
	printf '  %s\n' "${missing[@]}" >&2
	rm -f "$stamp"
	die "fix kunit/debug.config (a dependency is probably off)"
fi

if [ ! -f "$stamp" ] || [ $force = 1 ]; then
	log "make -j$jobs bzImage modules modules_prepare (log: $kdir/build.log)"
	if ! make -j"$jobs" bzImage modules > build.log 2>&1 ||
	   ! make -j"$jobs" modules_prepare >> build.log 2>&1; then
		grep -nE 'error|Error' build.log | tail -20 >&2 || true
		tail -20 build.log >&2
		die "kernel build failed; see $kdir/build.log"
	fi
	[ -f "$bzimage" ] || die "no bzImage after build"
	[ -f Module.symvers ] || die "no Module.symvers after build"
	# kunit.py (tools/testing/kunit) is used later to parse KTAP output
	/usr/bin/python3 tools/testing/kunit/kunit.py parse --help > /dev/null ||
		die "tools/testing/kunit/kunit.py parse --help failed with /usr/bin/python3"
	secs=$(( SECONDS - start ))
	{
		echo "srcversion=$srcver"
		echo "fragment_sha256_12=$fraghash"
		echo "kernelrelease=$(make -s kernelrelease)"
		echo "build_seconds=$secs"
		echo "built=$(date -u +%FT%TZ)"
	} > "$stamp"
	log "built in ${secs}s"
fi

echo "KDIR=$kdir"
echo "BZIMAGE=$bzimage"
