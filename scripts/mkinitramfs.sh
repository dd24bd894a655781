#!/usr/bin/env bash
# mkinitramfs.sh [options] [EXTRA.ko ...]
#
# Build a gzip'ed newc cpio initramfs for the QEMU tests: busybox-static, the
# kernel modules the guest needs, extra modules (e.g. zspp.ko), the static
# workload, a /init script and an optional config file.
#
#   -o, --out FILE       output (default: $ZSPP_CACHE/initramfs/e2e.cpio.gz)
#   -m, --moddir DIR     the kernel's lib/modules/REL directory. Taken from it when
#                        present: virtio_ring virtio virtio_pci_legacy_dev
#                        virtio_pci_modern_dev virtio_pci virtio_blk zsmalloc z3fold
#                        (.ko, .ko.xz, .ko.zst or .ko.gz; compressed ones are
#                        unpacked, busybox insmod wants plain .ko). A module that
#                        is missing is assumed to be built in. Omit for a kernel
#                        with everything built in.
#   -i, --init FILE      the /init script (default: tests/e2e/guest-init.sh)
#   -w, --workload BIN   static binary installed as /bin/workload
#   -c, --conf FILE      installed as /etc/zspp-e2e.conf (read by the init script)
#   -f, --file SRC:DEST  any other file (repeatable)
#   EXTRA.ko             installed as /lib/e2e-modules/NAME.ko
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# The order the guest loads them in (see shared KERNEL-FACTS: virtio chain).
KERNEL_MODULES=(virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci virtio_blk zsmalloc z3fold
	lz4_compress lz4_decompress lz4)

usage() { sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&2; exit "${1:-2}"; }

out=""
moddir=""
init="$ZSPP_ROOT/tests/e2e/guest-init.sh"
workload=""
conf=""
files=()
extra=()
while (($#)); do
	case $1 in
	-o | --out) out=$2; shift ;;
	-m | --moddir) moddir=$2; shift ;;
	-i | --init) init=$2; shift ;;
	-w | --workload) workload=$2; shift ;;
	-c | --conf) conf=$2; shift ;;
	-f | --file) files+=("$2"); shift ;;
	-h | --help) usage 0 ;;
	-*) die "unknown option '$1' (see --help)" ;;
	*) extra+=("$1") ;;
	esac
	shift
done

need_cmd cpio cpio
need_cmd gzip gzip
BUSYBOX=${BUSYBOX:-/bin/busybox}
[[ -x $BUSYBOX ]] || die "$BUSYBOX missing: apt-get install -y busybox-static"
if ldd "$BUSYBOX" >/dev/null 2>&1; then
	die "$BUSYBOX is dynamically linked: apt-get install -y busybox-static"
fi
[[ -f $init ]] || die "init script $init not found"
[[ -z $moddir || -d $moddir ]] || die "module directory $moddir not found"
[[ -z $workload || -x $workload ]] || die "workload $workload not found or not executable"
[[ -z $conf || -f $conf ]] || die "config $conf not found"
[[ -n $out ]] || out="$(cache_dir initramfs)/e2e.cpio.gz"
mkdir -p "$(dirname "$out")"

stage=$(mktemp -d "${TMPDIR:-/tmp}/zspp-initramfs.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bin,sbin,dev,proc,sys,tmp,etc,lib/e2e-modules}
install -m 0755 "$BUSYBOX" "$stage/bin/busybox"
ln -s busybox "$stage/bin/sh"
install -m 0755 "$init" "$stage/init"
[[ -z $workload ]] || install -m 0755 "$workload" "$stage/bin/workload"
[[ -z $conf ]] || install -m 0644 "$conf" "$stage/etc/zspp-e2e.conf"
# The kernel opens /dev/console before running /init; devtmpfs comes later.
mknod -m 600 "$stage/dev/console" c 5 1 2>/dev/null || warn "cannot mknod /dev/console (not root?)"

# add_module SRC: install a .ko (decompressing .xz/.zst/.gz) under its plain name.
add_module() {
	local src=$1 name dst
	name=$(basename "$src")
	name=${name%.xz}
	name=${name%.zst}
	name=${name%.gz}
	dst="$stage/lib/e2e-modules/$name"
	case $src in
	*.ko.xz) xz -dc "$src" >"$dst" ;;
	*.ko.zst) need_cmd zstd zstd; zstd -qdc "$src" >"$dst" ;;
	*.ko.gz) gzip -dc "$src" >"$dst" ;;
	*.ko) cp "$src" "$dst" ;;
	*) die "not a kernel module: $src" ;;
	esac
	vlog "module $name"
}

found=() missing=()
if [[ -n $moddir ]]; then
	for m in "${KERNEL_MODULES[@]}"; do
		src=$(find "$moddir" -type f \( -name "$m.ko" -o -name "$m.ko.xz" -o -name "$m.ko.zst" -o -name "$m.ko.gz" \) -print -quit)
		if [[ -n $src ]]; then
			add_module "$src"
			found+=("$m")
		else
			missing+=("$m")
		fi
	done
fi
for ko in "${extra[@]}"; do
	[[ -f $ko ]] || die "module $ko not found"
	add_module "$ko"
	found+=("$(basename "${ko%%.ko*}")")
done
for spec in "${files[@]}"; do
	src=${spec%%:*}
	dst=${spec#*:}
	[[ -f $src && $spec == *:* ]] || die "bad --file '$spec' (want SRC:DEST with an existing SRC)"
	mkdir -p "$stage/$(dirname "$dst")"
	cp "$src" "$stage/$dst"
done

(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) | gzip -1 >"$out.tmp"
mv "$out.tmp" "$out"
log "wrote $out ($(du -h "$out" | cut -f1)); modules: ${found[*]:-none}${missing:+; not found (built in?): ${missing[*]}}"
printf '%s\n' "$out"
