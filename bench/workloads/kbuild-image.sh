#!/usr/bin/env bash
# bench/workloads/kbuild-image.sh --out DIR TARGET...: the Debian 12 system
# image of the kernel-build workload (bench/workloads/workloads.py, "kbuild"):
# the benchmark zswap's developers use, a kernel build, scaled to TCG.
#
# debootstrap --variant=minbase bookworm (the cached tarball of
# scripts/fresh-machine.sh), apt installs Debian's gcc and the kernel's build
# dependencies, linux-source-6.1 (Debian's, the host's /usr/src tarball)
# unpacked in /usr/src/linux, `make defconfig` and `make prepare` run here in
# the chroot (natively: only the objects themselves are the workload). Then the
# reference: the image's /usr/local/bin/wl-kbuild (the workload: `make -j2
# TARGET...`, object files such as mm/slub.o, then `sha256sum TARGET...`) runs
# in the same chroot; DIR/reference holds the sha256 of what it printed and its
# peak resident size (the largest process, as workloads.py measures the
# others), and those objects are removed again so the guest compiles them. DIR/image.ext4 is the chroot as an ext4 image
# (mkfs.ext4 -d, no loop device; no metadata_csum: the guest loads no crc32c
# module). Rebuilt only when the source package, the targets or this script
# changed (DIR/key).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"
out=""
while (($#)); do
	case $1 in
	--out) out=$2; shift ;;
	-*) die "unknown option '$1'" ;;
	*) break ;;
	esac
	shift
done
[[ -n $out && $# -gt 0 ]] || die "usage: kbuild-image.sh --out DIR TARGET..."
targets=("$@")
need_cmd debootstrap debootstrap
need_cmd mkfs.ext4 e2fsprogs
src=/usr/src/linux-source-6.1.tar.xz
[[ -f $src ]] || die "$src missing: apt-get install -y linux-source-6.1"
mkdir -p "$out"
key=$( {
	dpkg-query -W linux-source-6.1
	printf '%s\n' "${targets[@]}"
	cat "${BASH_SOURCE[0]}"
} | sha256sum | cut -d' ' -f1)
if [[ -f $out/image.ext4 && -f $out/reference && "$(cat "$out/key" 2>/dev/null)" == "$key" ]]; then
	exit 0
fi
rm -f "$out/key" "$out/image.ext4" "$out/reference"

suite=bookworm mirror=http://deb.debian.org/debian
fresh=$(cache_dir fresh)
tarball=$fresh/$suite-minbase.tgz
if [[ ! -s $tarball ]]; then
	log "debootstrap --make-tarball ($suite minbase; cached in $tarball)"
	tb=$(mktemp -d /var/tmp/zspp-tb.XXXXXX)
	debootstrap --variant=minbase --make-tarball="$tarball.tmp" "$suite" "$tb" "$mirror" >"$out/make-tarball.log" 2>&1 ||
		{ tail -n 20 "$out/make-tarball.log" >&2; die "debootstrap --make-tarball failed"; }
	mv "$tarball.tmp" "$tarball"
	rm -rf "$tb"
fi
root=$(mktemp -d /var/tmp/zspp-kbuild.XXXXXX)
mounts=()
cleanup() {
	local i
	for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
		umount -l "${mounts[i]}" 2>/dev/null || true
	done
	rm -rf --one-file-system "$root"
}
trap cleanup EXIT
start=$(now_s)
debootstrap_minbase "$suite" "$root" "$mirror" "$tarball" "$out/debootstrap.log"
copy_apt_sources "$root"
for m in proc sys dev dev/pts; do
	mkdir -p "$root/$m"
	mount --bind "/$m" "$root/$m"
	mounts+=("$root/$m")
done
mkdir -p "$fresh/apt-archives/partial" "$root/var/cache/apt/archives"
mount --bind "$fresh/apt-archives" "$root/var/cache/apt/archives"
mounts+=("$root/var/cache/apt/archives")
log "apt: gcc and the kernel's build dependencies"
chroot "$root" apt-get update >"$out/apt.log" 2>&1 || { tail -n 20 "$out/apt.log" >&2; die "apt-get update failed"; }
DEBIAN_FRONTEND=noninteractive chroot "$root" apt-get install -y --no-install-recommends \
	gcc make bc bison flex libelf-dev libssl-dev xz-utils >>"$out/apt.log" 2>&1 ||
	{ tail -n 20 "$out/apt.log" >&2; die "apt-get install failed"; }
log "linux-source-6.1: defconfig, prepare (in the chroot)"
tar -xf "$src" -C "$root/usr/src"
mv "$root/usr/src/linux-source-6.1" "$root/usr/src/linux"
chroot "$root" sh -c 'cd /usr/src/linux && make -s defconfig && make -s -j"$(nproc)" prepare' >"$out/prepare.log" 2>&1 ||
	{ tail -n 20 "$out/prepare.log" >&2; die "make prepare failed"; }
# The workload (the guest runs the same: chroot /mnt/img /usr/local/bin/wl-kbuild).
printf '#!/bin/sh\n# The kernel-build workload (bench/workloads/kbuild-image.sh).\ncd /usr/src/linux && make -s -j2 %s >/dev/null 2>&1 && sha256sum %s\n' \
	"${targets[*]}" "${targets[*]}" >"$root/usr/local/bin/wl-kbuild"
chmod 755 "$root/usr/local/bin/wl-kbuild"
log "reference build: ${targets[*]}"
/usr/bin/python3 - "$root" >"$out/reference.tmp" <<'PY' || die "reference build failed"
import hashlib, resource, subprocess, sys
p = subprocess.run(["chroot", sys.argv[1], "/usr/local/bin/wl-kbuild"], stdout=subprocess.PIPE)
if p.returncode:
    sys.exit(p.returncode)
sys.stderr.write(p.stdout.decode())
print(hashlib.sha256(p.stdout).hexdigest(), resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024)
PY
mv "$out/reference.tmp" "$out/reference"
for t in "${targets[@]}"; do
	rm -f "$root/usr/src/linux/$t" "$root/usr/src/linux/$(dirname "$t")/.$(basename "$t").cmd"
done
chroot "$root" apt-get clean
for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
	umount -l "${mounts[i]}"
done
mounts=()
size=$(($(du -sm "$root" | cut -f1) + 1024))
log "image: ${size} MiB ext4"
mkfs.ext4 -q -F -O ^metadata_csum -L kbuild -d "$root" "$out/image.ext4.tmp" "${size}M"
mv "$out/image.ext4.tmp" "$out/image.ext4"
echo "$key" >"$out/key"
log "kbuild image ready in $(($(now_s) - start))s: $out"
