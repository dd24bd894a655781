#!/usr/bin/env bash
# deb-boot.sh --dist bookworm|trixie|trixie-backports [--deb FILE] [--keep]
# [--timeout SECS]: zspp-dkms installed in a real Debian system image that then
# boots in QEMU (TCG) with systemd, zswap on zspp from the first boot, and a
# purge that gives a clean system again.
#
# --dist trixie-backports: Debian 13 following trixie-backports, the kernel
# (linux-image-amd64 and linux-headers-amd64 with -t trixie-backports) a 7.x
# without the zpool interface: the package installed and `zspp-enable --boot`
# run as above (dkms skips the kernel), one boot, in which zspp must stay out
# of the way: the system boots, no failed unit (zspp.service skipped by its
# ExecCondition, its reason in the journal), zswap on (the command line's
# zswap.enabled=1) with its built-in zsmalloc and no zpool parameter, the
# workload verified through it, zspp not loaded and in no initramfs, and
# `zspp-enable --status` (text and --json) saying why zspp is not in use
# (no-zpool). No purge, no second boot.
#
# The image: debootstrap --variant=minbase of the suite (the cached tarball of
# scripts/fresh-machine.sh or deb-check.sh for bookworm, scripts/trixie.sh's for
# trixie), apt sources as the other scripts give them (the host's for
# bookworm; trixie's private sources inside the chroot, never on the host).
# In its chroot, with apt (--no-install-recommends): systemd-sysv, udev, kmod,
# initramfs-tools, linux-image-amd64 and linux-headers-amd64 (Debian 12: 6.1,
# Debian 13: 6.12), then `apt install ./zspp-dkms_*.deb` (dkms compiles zspp
# here, on the host CPU) and `zspp-enable --boot`, the user's one command;
# Debian 12 also gets zram-tools (zramswap.service: a 256 MiB lz4 zram swap at
# priority 100, above /dev/vdb) and `zspp-enable --zram on`. The
# test adds only: /etc/fstab (root /dev/vda, swap /dev/vdb), /etc/default/grub
# with Debian's defaults (no boot loader is installed: see below),
# MODULES=list with virtio_pci, virtio_blk, ext4 in /etc/initramfs-tools (a
# VM's own small initramfs; MODULES=most is ~10x larger and its rebuilds and
# unpacking under TCG cost minutes; zspp's hook works the same in every
# mode), with COMPRESS=gzip COMPRESSLEVEL=1 RESUME=none (the purge's rebuild
# under TCG: ~22% less CPU than Debian 12's gzip -6 fallback and resume probe),
# a dpkg path-exclude for the kernel modules of hardware a VM does not have
# (drivers/media, iio, comedi, net/wireless, net/ethernet, staging, hwmon,
# infiniband, gpu, sound: ~40% of the ~4000 modules, which each depmod reads,
# the purge's under TCG too), the static workload (tests/e2e/workload.c), zspp-boot-test.service
# with tests/deb-boot/guest-test.sh, and serial-getty@ttyS0 masked (the test
# owns the serial console). The directory becomes an ext4 image with
# `mkfs.ext4 -d` (no loop device); swap is a second, mkswap'ed virtio disk that
# the guest activates from fstab.
#
# Debian 12 (zram on 6.1: Documentation/zram.rst) boots three times:
#   boot 1, zram on zspp: as boot 1 below without the purge, plus: zram's
#     zsmalloc is zspp's (the loaded module's srcversion and taint against
#     dkms's updates/dkms/zsmalloc.ko, what modprobe zram would load, the
#     zspp-zsmalloc debugfs pool zram0), zramswap's swap took the pages zswap
#     refused (zram0's mm_stat and /proc/swaps, zspp-zsmalloc's zram0 pool)
#     and the workload verified them; the workload again with zswap's zpool
#     switched to zsmalloc (a zswap pool of zspp-zsmalloc held its pages);
#     `zspp-enable --status` (text, --json) naming zspp's zsmalloc, and the
#     kernel's for the next load once `zspp-enable --zram off` ran in the guest.
#   boot 2, zram off: as boot 1 below (workload, purge) with zram on the
#     kernel's zsmalloc (in-tree, kernel/mm), zramswap's swap used, --status
#     saying so; `zspp-enable --zram on` in the booted system just before the
#     purge (the purge must remove its /etc/depmod.d file).
#   boot 3, purged: as boot 2 below, plus no zspp-zsmalloc.conf in depmod.d,
#     modules.dep without updates/ entries or missing files, zram on the
#     kernel's zsmalloc.
# Debian 13 boots twice:
# Boot 1: the image's own /boot/vmlinuz and /boot/initrd.img (the initramfs
# Debian's update-initramfs built with zspp's hook), booted with -kernel/-initrd
# and the command line GRUB would give it: grub-mkconfig's way, the image's
# /etc/default/grub and then /etc/default/grub.d/*.cfg sourced,
# "root=/dev/vda ro $GRUB_CMDLINE_LINUX $GRUB_CMDLINE_LINUX_DEFAULT", plus
# console=ttyS0 panic=-1 for QEMU. So zspp-enable's drop-in puts
# zswap.enabled=1 zswap.zpool=zspp there, and the purge's removal of it takes
# them away again, as on a GRUB machine. The guest checks, runs the verified
# workload through zswap (memory.reclaim) and runs `apt-get purge -y
# zspp-dkms` itself (dkms remove and update-initramfs in the booted system,
# under TCG), then powers off.
# Boot 2: kernel, initramfs and /etc/default read back from the image with
# debugfs (what the purge left), the command line computed again.
#
# Asserted from the serial console logs (the guest only reports):
#   boot 1: zswap's zpool is zspp and enabled=Y, no fallback ("not available")
#   in the kernel log, zspp loaded and in the booted initramfs, dkms says
#   installed, zspp.service active, swap on /dev/vdb, no failed unit; the
#   workload verified every byte, zswap stored pages > 0 and zspp's summary
#   counted pages and objects with no malloc_fail or bad_handles once pushed
#   out, and `zspp-enable --status` (text and --json) said so at that moment
#   (zswap on zspp, zspp in use, its pool, pages stored); the purge exited 0.
#   boot 2: the command line has no zswap.zpool=zspp, zswap's zpool is the
#   kernel's CONFIG_ZSWAP_ZPOOL_DEFAULT, zspp not loaded and not in debugfs,
#   no zspp.ko under /lib/modules or in any initramfs, no dkms tree, none of
#   the package's files, the initramfs rebuilt by the purge; no failed unit.
#   Both: no kernel splat (WARNING, BUG, Oops, Call Trace, ...; the unsigned
#   module's taint message is expected) on the console or in the final dmesg.
# A boot whose kernel panicked before the test's first line is booted once
# more (Debian 13's kernel under TCG, ~1 boot in 8; scripts/qemu-run.sh
# --init-marker).
#
# Cached ($ZSPP_CACHE/deb-boot/SUITE): apt's downloaded .debs and lists, and
# (next to the debootstrap tarball, scripts/lib.sh's debootstrap_minbase) what
# debootstrap makes of the tarball; never a system with anything installed
# after debootstrap: the image is built from there every run (in /var/tmp,
# removed afterwards unless --keep).
#   --dist SUITE    bookworm (Debian 12), trixie (Debian 13) or trixie-backports
#                   (Debian 13 on trixie-backports' newest kernel, above)
#   --deb FILE      the package (default: build/deb/zspp-dkms_VERSION_all.deb, `make deb`)
#   --keep          keep the image directory, disk images and logs for inspection
#   --timeout SECS  per boot (default 1200)
#   --pages N       workload pages (default 8192 = 32 MiB)
#
# Prints PASS:/FAIL: lines, "kernel: RELEASE", the booted guests' zswap
# parameters, command line and zspp summary, "deb-boot: N passed, M failed".
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=scripts/trixie.sh
. "$ZSPP_SCRIPTS/trixie.sh"

usage() { sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&2; exit "${1:-2}"; }
ver=$(cat "$ZSPP_ROOT/VERSION")
deb=$ZSPP_ROOT/build/deb/zspp-dkms_${ver}_all.deb keep=0 dist="" tmo=1200 pages=8192
while (($#)); do
	case $1 in
	--dist) dist=$2; shift ;;
	--deb) deb=$2; shift ;;
	--keep) keep=1 ;;
	--timeout) tmo=$2; shift ;;
	--pages) pages=$2; shift ;;
	-h | --help) usage 0 ;;
	*) die "unknown argument '$1' (see --help)" ;;
	esac
	shift
done
bpo=0 suite=$dist zram=0
case $dist in
bookworm) dname="Debian 12" zram=1 ;;
trixie) dname="Debian 13" ;;
trixie-backports) dname="Debian 13 + trixie-backports" suite=trixie bpo=1 ;;
*) die "--dist bookworm, trixie or trixie-backports (see --help)" ;;
esac
[[ -f $deb ]] || die "no package $deb: run 'make deb' first (or give --deb FILE)"
deb=$(realpath "$deb")
need_cmd debootstrap debootstrap
need_cmd unshare util-linux
need_cmd mkfs.ext4 e2fsprogs
need_cmd debugfs e2fsprogs
need_cmd mkswap util-linux
need_cmd gcc gcc
start=$(now_s)

cache=$(cache_dir deb-boot)
dc=$cache/$dist
mkdir -p "$dc/apt-archives/partial" "$dc/lists/partial" "$dc/pkg"
exec 9>"$cache/.lock-$dist"
flock 9
out=$dc/run
rm -rf "$out"
mkdir -p "$out"
mirror=$(host_mirror "")

tarball=""
if [[ $suite == bookworm ]]; then
	for t in "$ZSPP_CACHE/fresh/bookworm-minbase.tgz" "$ZSPP_CACHE/deb-check/bookworm-minbase.tgz" "$dc/bookworm-minbase.tgz"; do
		if [[ -s $t ]]; then tarball=$t; break; fi
	done
	if [[ -z $tarball ]]; then
		tarball=$dc/bookworm-minbase.tgz
		minbase_tarball bookworm "$tarball" "$mirror" "$out/make-tarball.log"
	fi
else
	tx=$(trixie_dir)
	tarball=$tx/$TRIXIE_SUITE-minbase.tgz
	if [[ ! -s $tarball ]]; then
		# The lock scripts/trixie.sh takes while it writes the same file.
		exec 8>"$tx/.chroot.lock"
		flock 8
		minbase_tarball "$TRIXIE_SUITE" "$tarball" "$mirror" "$out/make-tarball.log"
		exec 8>&-
	fi
fi

work=$(mktemp -d /var/tmp/zspp-boot.XXXXXX)
root=$work/root img=$work/root.img swap=$work/swap.img
cleanup() {
	if ((keep)); then log "kept: $work (image root.img, chroot root/, logs $out)"; else rm -rf --one-file-system "$work"; fi
}
trap cleanup EXIT
mkdir -p "$root"

t0=$(now_s)
log "debootstrap $suite minbase from $tarball"
debootstrap_minbase "$suite" "$root" "$mirror" "$tarball" "$out/debootstrap.log"
t_debootstrap=$(($(now_s) - t0))

# apt sources: the host's (bookworm); trixie's private ones (trixie.sh), with
# the chroot's own keyring.
if [[ $suite == bookworm ]]; then
	copy_apt_sources "$root"
else
	sed "s|signed-by=$TRIXIE_KEYRING|signed-by=/usr/share/keyrings/debian-archive-keyring.gpg|" \
		"$tx/apt/sources.list" >"$root/etc/apt/sources.list"
	if ((bpo)); then
		echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $TRIXIE_SUITE-backports main" \
			>>"$root/etc/apt/sources.list"
	fi
	cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
fi
# The machine: what an installer would have written.
echo debian >"$root/etc/hostname"
cat >"$root/etc/fstab" <<'EOF'
# written by zspp's scripts/deb-boot.sh
/dev/vda / ext4 errors=remount-ro 0 1
/dev/vdb none swap sw 0 0
EOF
# /etc/default/grub as grub2-common installs it (its values; GRUB itself is not
# installed: QEMU boots the kernel directly with the command line computed
# from these files below).
mkdir -p "$root/etc/default"
cat >"$root/etc/default/grub" <<'EOF'
# Debian's defaults (/usr/share/grub/default/grub of grub2-common), written by
# zspp's scripts/deb-boot.sh.
GRUB_DEFAULT=0
GRUB_TIMEOUT=5
GRUB_DISTRIBUTOR=Debian
GRUB_CMDLINE_LINUX_DEFAULT="quiet"
GRUB_CMDLINE_LINUX=""
GRUB_DISABLE_OS_PROBER=true
EOF
mkdir -p "$root/etc/initramfs-tools/conf.d"
# gzip -1: the guest's purge rebuilds the initramfs under TCG, where Debian
# 12's default (zstd, absent from the image: gzip -6) costs several seconds
# more; no hibernation in this VM (RESUME=none: no probing for a resume device).
printf '# scripts/deb-boot.sh: a VM with its root on virtio-blk\nMODULES=list\nCOMPRESS=gzip\nCOMPRESSLEVEL=1\nRESUME=none\n' \
	>"$root/etc/initramfs-tools/conf.d/deb-boot-vm"
# A VM's kernel: dpkg leaves out the modules of hardware QEMU does not have
# (dpkg's path-exclude, as minimal images do): about 40% of the ~4000 modules,
# which every depmod reads (the purge's dkms remove runs one under TCG, 30 s on
# Debian 12, 110 s on Debian 13 whose modules are xz-compressed).
for m in drivers/media drivers/iio drivers/comedi drivers/net/wireless drivers/net/ethernet \
	drivers/staging drivers/hwmon drivers/infiniband drivers/gpu sound; do
	for d in /lib/modules /usr/lib/modules; do echo "path-exclude=$d/*/kernel/$m/*"; done
done >"$root/etc/dpkg/dpkg.cfg.d/zspp-deb-boot-vm-modules"
printf '%s\n' virtio_pci virtio_blk ext4 crc32c_generic >>"$root/etc/initramfs-tools/modules"
# dpkg without fsync while the image is built (removed before mkfs).
echo force-unsafe-io >"$root/etc/dpkg/dpkg.cfg.d/zspp-deb-boot-unsafe-io"
# The test's own pieces.
gcc -static -O2 -Wall -o "$work/workload" "$ZSPP_ROOT/tests/e2e/workload.c"
install -D -m 0755 "$work/workload" "$root/usr/local/lib/zspp-boot-test/workload"
install -D -m 0755 "$ZSPP_ROOT/tests/deb-boot/guest-test.sh" "$root/usr/local/lib/zspp-boot-test/run"
install -D -m 0644 "$ZSPP_ROOT/tests/deb-boot/zspp-boot-test.service" "$root/etc/systemd/system/zspp-boot-test.service"
printf 'PAGES=%s\nBACKPORTS=%s\nZRAM=%s\n' "$pages" "$bpo" "$zram" >"$root/etc/zspp-boot-test.conf"
rm -f "$dc"/pkg/*.deb
cp "$deb" "$dc/pkg/"
pkg=/tmp/zspp-pkg/${deb##*/}

# One chroot session at low priority (CI shares the CPU); each step's output in
# $out/STEP.log, its status in $out/STEP.rc.
t0=$(now_s)
log "chroot session: apt, dkms, zspp-enable --boot (log: $out/session.log)"
# shellcheck disable=SC2016 # expanded by the chroot's bash
(renice -n 10 -p "$BASHPID" >/dev/null && chroot_run "$root" "$dc/apt-archives" -b "$dc/lists" /var/lib/apt/lists \
	-b "$dc/pkg" /tmp/zspp-pkg -b "$out" /tmp/zspp-out -- DEBIAN_FRONTEND=noninteractive bash -uo pipefail -c '
	pkg=$1 tr=$2 zram=$3 o=/tmp/zspp-out
	step() {
		local name=$1 rc=0
		shift
		"$@" >"$o/$name.log" 2>&1 || rc=$?
		echo "$rc" >"$o/$name.rc"
		return "$rc"
	}
	step update apt-get update -q || exit 0
	step system apt-get install -y -q --no-install-recommends systemd-sysv udev kmod initramfs-tools || exit 0
	step kernel apt-get install -y -q --no-install-recommends ${tr:+-t "$tr"} linux-image-amd64 linux-headers-amd64 || exit 0
	step install apt-get install -y -q --no-install-recommends "$pkg" || exit 0
	dkms status zspp >"$o/dkms-status.txt" 2>&1 || true
	step enable zspp-enable --boot || exit 0
	if [ "$zram" = 1 ]; then
		step zram-tools apt-get install -y -q --no-install-recommends zram-tools || exit 0
		step zram-on zspp-enable --zram on || exit 0
	fi
	step units bash -c "systemctl enable zspp-boot-test.service && systemctl mask serial-getty@ttyS0.service" || exit 0
	for k in /boot/initrd.img-*; do
		lsinitramfs "$k" | grep -E "zspp" || true
	done >"$o/initrd-zspp.txt" 2>&1
' _ "$pkg" "$( ((bpo)) && echo "$TRIXIE_SUITE-backports")" "$zram") >"$out/session.log" 2>&1 || { tail -n 20 "$out/session.log" >&2; warn "the chroot session failed (log: $out/session.log)"; }
t_chroot=$(($(now_s) - t0))

rc_of() { cat "$out/$1.rc" 2>/dev/null || echo "not run"; }
why() { g -E '^(E|W): |rror' "$out/$1.log" 2>/dev/null | tail -n 3 | paste -sd '|' -; }
stepcheck() {
	if [[ $(rc_of "$1") == 0 ]]; then pass "$2"; else fail "$2" "rc $(rc_of "$1"): $(why "$1") (log: $out/$1.log)"; fi
}
stepcheck update "deb-boot $dist apt-get update in the image"
stepcheck system "deb-boot $dist apt install systemd-sysv udev kmod initramfs-tools"
stepcheck kernel "deb-boot $dist apt install$( ((bpo)) && echo " -t $TRIXIE_SUITE-backports") linux-image-amd64 linux-headers-amd64"
stepcheck install "deb-boot $dist apt install ./${deb##*/} (dkms builds on the host CPU)"
stepcheck enable "deb-boot $dist zspp-enable --boot"
if ((zram)); then
	stepcheck zram-tools "deb-boot $dist apt install zram-tools (zramswap.service)"
	stepcheck zram-on "deb-boot $dist zspp-enable --zram on"
fi
stepcheck units "deb-boot $dist test unit enabled"
mapfile -t kernels < <(find "$root/boot" -maxdepth 1 -name 'vmlinuz-*' -printf '%f\n' | sed 's/^vmlinuz-//' | sort -V)
krel=${kernels[${#kernels[@]} - 1]:-}
if [[ $(rc_of units) != 0 || -z $krel ]]; then
	echo "deb-boot: $npass passed, $((nfail + 1)) failed"
	die "the $dname image is not ready (kernels: ${kernels[*]:-none}); not booting"
fi
echo "kernel: $krel"
((${#kernels[@]} == 1)) || warn "more than one kernel in the image (${kernels[*]}): booting $krel"
defpool=$(sed -n 's/^CONFIG_ZSWAP_ZPOOL_DEFAULT="\(.*\)"$/\1/p' "$root/boot/config-$krel")
if ((bpo)); then
	if grep -E '^CONFIG_ZPOOL=' "$root/boot/config-$krel" >/dev/null; then
		warn "$krel has CONFIG_ZPOOL: --dist trixie-backports expects a kernel without the zpool interface"
	fi
	defpool="none (no zpool interface)"
fi
[[ -n $defpool ]] || die "no CONFIG_ZSWAP_ZPOOL_DEFAULT in the image's /boot/config-$krel"
log "image: $krel, zswap's default zpool $defpool, dkms: $(paste -sd '|' - <"$out/dkms-status.txt")"

# grub_cmdline DIR: the kernel command line grub-mkconfig (10_linux) would write
# from DIR/grub and DIR/grub.d/*.cfg (an image's /etc/default), root=/dev/vda for
# its root=UUID=..., plus what QEMU's console needs.
grub_cmdline() {
	(
		GRUB_CMDLINE_LINUX="" GRUB_CMDLINE_LINUX_DEFAULT=""
		# shellcheck disable=SC1090,SC1091 # the image's files, as grub-mkconfig sources them
		if [[ -f $1/grub ]]; then . "$1/grub"; fi
		for x in "$1"/grub.d/*.cfg; do
			# shellcheck disable=SC1090
			if [[ -e $x ]]; then . "$x"; fi
		done
		echo "root=/dev/vda ro $GRUB_CMDLINE_LINUX $GRUB_CMDLINE_LINUX_DEFAULT console=ttyS0 panic=-1" | tr -s ' '
	)
}
# The boots and what each one is (the guest's phase, tests/deb-boot/guest-test.sh).
if ((bpo)); then
	phases=(backports)
elif ((zram)); then
	phases=(zram-on installed purged)
else
	phases=(installed purged)
fi
nb=${#phases[@]}
ib=0 pb=0 # the boot that purges, the purged one
for ((n = 1; n <= nb; n++)); do
	case ${phases[n - 1]} in
	installed) ib=$n ;;
	purged) pb=$n ;;
	esac
done
cmds=("")
mkdir -p "$work/boot1"
cp "$root/boot/vmlinuz-$krel" "$root/boot/initrd.img-$krel" "$work/boot1/"
cmds[1]=$(grub_cmdline "$root/etc/default")
rm -f "$root/etc/dpkg/dpkg.cfg.d/zspp-deb-boot-unsafe-io"

t0=$(now_s)
mb=$(du -sxm "$root" | cut -f1)
size=$((mb + mb / 4 + 400))
log "mkfs.ext4 -d: ${mb} MiB of files into a ${size} MiB image"
mkfs.ext4 -q -F -L zspp-root -d "$root" "$img" "${size}M" >"$out/mkfs.log" 2>&1 ||
	{ cat "$out/mkfs.log" >&2; die "mkfs.ext4 -d $root failed"; }
((keep)) || rm -rf --one-file-system "$root"
rm -f "$swap"
truncate -s 256M "$swap"
mkswap -q "$swap" >/dev/null
t_mkfs=$(($(now_s) - t0))

# boot N KERNEL INITRD CMDLINE: one boot of the image; console in $out/bootN.log.
boot() {
	local n=$1 t rc=0
	t=$(now_s)
	"$ZSPP_SCRIPTS/qemu-run.sh" --kernel "$2" --initrd "$3" --cmdline "$4" --drive "$img" --drive "$swap" \
		--mem 1024M --smp 2 --timeout "$tmo" --init-marker '^ZB-BEGIN' --workdir "$work/q$n" \
		--log "$out/boot$n.raw" || rc=$?
	tr -d '\r' <"$out/boot$n.raw" >"$out/boot$n.log"
	eval "t_boot$n=$(($(now_s) - t))"
	log "boot $n: rc=$rc in $(($(now_s) - t))s (console: $out/boot$n.log)"
	return 0
}
for ((n = 1; n <= nb; n++)); do
	: >"$out/boot$n.log"
	eval "t_boot$n=0"
done
log "boot 1 (${phases[0]}, $krel, cmdline: ${cmds[1]})"
boot 1 "$work/boot1/vmlinuz-$krel" "$work/boot1/initrd.img-$krel" "${cmds[1]}"
: >"$out/debugfs.log"
for ((n = 2; n <= nb; n++)); do
	# What the boot before left (its --zram off, its purge), read back from
	# the image (debugfs: no mount needed).
	mkdir -p "$work/boot$n"
	debugfs -R "dump -p /boot/vmlinuz-$krel $work/boot$n/vmlinuz-$krel" "$img" >>"$out/debugfs.log" 2>&1 || true
	debugfs -R "dump -p /boot/initrd.img-$krel $work/boot$n/initrd.img-$krel" "$img" >>"$out/debugfs.log" 2>&1 || true
	debugfs -R "rdump /etc/default $work/boot$n" "$img" >>"$out/debugfs.log" 2>&1 || true
	if [[ -s $work/boot$n/vmlinuz-$krel && -s $work/boot$n/initrd.img-$krel && -f $work/boot$n/default/grub ]]; then
		cmds[n]=$(grub_cmdline "$work/boot$n/default")
		log "boot $n (${phases[n - 1]}, $krel, cmdline: ${cmds[n]})"
		boot "$n" "$work/boot$n/vmlinuz-$krel" "$work/boot$n/initrd.img-$krel" "${cmds[n]}"
	else
		warn "cannot read /boot and /etc/default back from the image after boot $((n - 1)) (log: $out/debugfs.log)"
		break
	fi
done

# ------------------------------------------------------------ assertions
# zb N TAG: the "ZB TAG ..." lines of boot N, without the tag.
zb() { sed -n -E "s/^ZB $2( |\$)//p" "$out/boot$1.log"; }
# num LINE KEY: the number in " KEY=N" (0 when absent).
num() { local v; v=$(field " $1" "$2"); [[ $v =~ ^[0-9]+$ ]] && echo "$v" || echo 0; }
check() { # NAME COND-STATUS WHY
	if (($2 == 0)); then pass "$1"; else fail "$1" "$3"; fi
}
ok() { if "$@" >/dev/null 2>&1; then echo 0; else echo 1; fi; }
BAD_RE='WARNING:|BUG:|Oops|KASAN|UBSAN:|general protection|possible circular locking|possible recursive locking|inconsistent lock state|lock held when returning|sleeping function called from invalid context|scheduling while atomic|Call Trace|Kernel panic|blocked for more than|list_(add|del) corruption|zspp:.*([Ee]rror|[Ff]ail|[Ll]eak|[Bb]ad)'
EXPECTED_RE='module verification failed: signature and/or required key missing - tainting kernel'
splats() { # N: kernel lines of boot N's console and final dmesg that fail it
	g -v -E '^ZB ' "$out/boot$1.log" | g -v -E "$EXPECTED_RE" | g -E "$BAD_RE" | sed -n 1,3p | cut -c1-160 | paste -sd '|' -
}
p="deb-boot $dist"
# jget N TAG EXPR...: Python expressions over d, the JSON on boot N's TAG line,
# printed space-separated (the error when it does not parse).
jget() {
	local n=$1 t=$2
	shift 2
	zb "$n" "$t" | python3 -c 'import json, sys
d = json.load(sys.stdin)
print(" ".join(str(eval(e, {"d": d})) for e in sys.argv[1:]))' "$@" 2>&1 | tail -n 1 || true
}
# wl_check N PREFIX WHAT: the workload tagged PREFIX in boot N verified every byte.
wl_check() {
	local wl wrc wn wv wm
	wl=$(zb "$1" "${2}WL" | g -E '^WORKLOAD pages=' | tail -n 1)
	wrc=$(zb "$1" "${2}WORKLOAD-EXIT")
	wn=$(num "$wl" pages) wv=$(num "$wl" verified) wm=$(field " $wl" mismatches)
	check "$p boot $1: $3 verified every byte ($wl)" \
		"$(ok test "$wrc" = rc=0 -a "$wn" = "$pages" -a "$wv" = "$pages" -a "$wm" = 0)" "${wl:-no WORKLOAD line}, $wrc"
}
phase_name() { # PHASE: how the checks name a boot of it
	case $1 in
	zram-on) echo "installed, zram on zspp" ;;
	installed) echo "installed$( ((zram)) && echo ", zram off")" ;;
	backports) echo "installed, $krel without zpool" ;;
	*) echo "$1" ;;
	esac
}
for ((n = 1; n <= nb; n++)); do
	phase=${phases[n - 1]}
	what="boot $n ($(phase_name "$phase"))"
	if grep -E "^ZB-END phase=$phase\$" "$out/boot$n.log" >/dev/null; then
		pass "$p $what: systemd booted, the test ran to its end ($(zb "$n" SYSTEM))"
	else
		fail "$p $what: the test ran to its end" "no 'ZB-END phase=$phase' on the console ($out/boot$n.log: $(g -E 'Kernel panic|ZB-END|ZB PHASE' "$out/boot$n.log" | sed -n 1,2p | paste -sd '|' -))"
		continue
	fi
	u=$(zb "$n" UNAME)
	check "$p $what: booted the image's kernel $krel" "$(ok test "$u" = "$krel")" "uname -r: $u"
	c=$(zb "$n" CMDLINE)
	c_want=${cmds[n]:-}
	check "$p $what: /proc/cmdline is the grub-computed one" "$(ok test "$c" = "$c_want")" "'$c' != '$c_want'"
	failed=$(zb "$n" FAILED-UNITS | paste -sd ' ' -)
	check "$p $what: no failed systemd unit" "$(ok test -z "$failed")" "$failed"
	s=$(splats "$n")
	check "$p $what: no kernel splat on the console or in dmesg" "$(ok test -z "$s")" "$s"
done

# installed_checks N: a boot with the package installed and zswap on zspp.
installed_checks() {
	local n=$1 c zp en kl fb d ird sv zr st sr so sp smf sbh stx sj sj_use sj_zpool sj_pools sj_stored sj_ratio pr
	c=$(zb "$n" CMDLINE)
	check "$p boot $n: cmdline has zswap.enabled=1 zswap.zpool=zspp (zspp-enable --boot's grub.d drop-in)" \
		"$(ok grep -E '(^| )zswap\.enabled=1 zswap\.zpool=zspp( |$)' <<<"$c")" "$c"
	zp=$(zb "$n" PARAM | sed -n 's/^zpool=//p') en=$(zb "$n" PARAM | sed -n 's/^enabled=//p')
	check "$p boot $n: zswap zpool=zspp enabled=Y from boot" "$(ok test "$zp/$en" = zspp/Y)" "zpool=$zp enabled=$en"
	kl=$(zb "$n" KLOG)
	fb=$(g -iE 'not available|using default' <<<"$kl" | paste -sd '|' -)
	check "$p boot $n: zswap did not fall back (no 'zpool zspp not available')" "$(ok test -z "$fb")" "$fb"
	check "$p boot $n: kernel log 'zswap: loaded using pool .../zspp'" \
		"$(ok grep -E 'zswap: loaded using pool [^ ]*/zspp' <<<"$kl")" "$(paste -sd '|' - <<<"$kl")"
	check "$p boot $n: zspp loaded (lsmod)" "$(ok grep -E '^zspp ' < <(zb "$n" LSMOD))" "no zspp in lsmod"
	d=$(zb "$n" DKMS)
	check "$p boot $n: dkms status zspp/$ver installed for $krel" \
		"$(ok grep -F "zspp/$ver, $krel, x86_64: installed" <<<"$d")" "$d"
	ird=$(zb "$n" INITRD-ZSPP)
	check "$p boot $n: zspp.ko in the booted initramfs" "$(ok grep -E '/zspp\.ko' <<<"$ird")" "lsinitramfs: ${ird:-no zspp}"
	sv=$(zb "$n" SERVICE)
	check "$p boot $n: zspp.service active and enabled" "$(ok grep -E 'active=active enabled=enabled' <<<"$sv")" "$sv"
	check "$p boot $n: swap on /dev/vdb from fstab" "$(ok grep -E '^/dev/vdb ' < <(zb "$n" SWAPS))" "$(zb "$n" SWAPS | paste -sd '|' -)"
	wl_check "$n" "" workload
	zr=$(zb "$n" ZSWAP-RECLAIMED)
	st=$(num "$zr" stored_pages)
	check "$p boot $n: zswap stored the pushed-out pages (stored_pages=$st)" "$(ok test "$st" -gt 0)" "$zr"
	sr=$(zb "$n" SUMMARY-RECLAIMED)
	so=$(num "$sr" objects) sp=$(num "$sr" pages) smf=$(num "$sr" malloc_fail) sbh=$(num "$sr" bad_handles)
	check "$p boot $n: zspp held them (summary pages=$sp objects=$so malloc_fail=$smf bad_handles=$sbh)" \
		"$(ok test "$so" -gt 0 -a "$sp" -gt 0 -a "$smf" = 0 -a "$sbh" = 0 -a "$(wc -l <<<"$sr")" = 1)" "${sr:-no zspp pool}"
	# zspp-enable --status, at the moment the pages were pushed out.
	stx=$(zb "$n" STATUS)
	check "$p boot $n: zspp-enable --status: zswap on zspp, zspp in use, its pool listed" \
		"$(ok test -n "$(g -E '^zswap: +on, allocator zspp ' <<<"$stx")" -a -n "$(g -E '^zspp: +in use$' <<<"$stx")" -a -n "$(g -E '^pool [^ ]+: [1-9][0-9]* pages' <<<"$stx")")" \
		"$(paste -sd '|' - <<<"$stx" | cut -c1-400)"
	sj=$(jget "$n" STATUS-JSON 'd["zspp"]["in_use"]' 'd["zswap"]["zpool"]' 'len(d["zspp"]["pools"])' 'd["stored_pages"] or 0' 'd["memory"]["ratio"]')
	read -r sj_use sj_zpool sj_pools sj_stored sj_ratio <<<"$sj" || true
	check "$p boot $n: zspp-enable --status --json: in_use, zpool zspp, $sj_pools pool(s), stored_pages $sj_stored, ratio $sj_ratio" \
		"$(ok test "$sj_use/$sj_zpool" = True/zspp -a "${sj_pools:-0}" -gt 0 -a "${sj_stored:-0}" -gt 0 2>/dev/null)" "$sj"
	if [[ ${phases[n - 1]} == installed ]]; then
		pr=$(zb "$n" PURGE)
		check "$p boot $n: apt-get purge zspp-dkms in the booted system ($pr)" "$(ok grep -E '^rc=0 ' <<<"$pr")" \
			"$pr: $(zb "$n" PURGE-LOG | tail -n 3 | paste -sd '|' -)"
	fi
}

# zsmalloc_checks N WHOSE: zram's zsmalloc in boot N is WHOSE's (zspp or
# kernel), by the loaded module's srcversion and taint against dkms's and the
# kernel's zsmalloc.ko, by what modprobe would load, by zspp-zsmalloc's
# debugfs; zramswap.service's zram swap is on (Debian 12, zram-tools).
zsmalloc_checks() {
	local n=$1 w=$2 zl lsv ltaint lhold zfile zsv proc mi dep dbg zs sw
	zl=$(zb "$n" ZS-LOADED)
	lsv=$(field " $zl" srcversion) ltaint=$(field " $zl" taint) lhold=$(field " $zl" holders)
	zfile=$(zb "$n" ZS-FILE | g -E '/updates/dkms/zsmalloc\.ko')
	zsv=$(field " $zfile" srcversion)
	proc=$(zb "$n" ZS-PROC) mi=$(zb "$n" ZS-MODINFO) dep=$(zb "$n" ZS-DEPENDS) dbg=$(zb "$n" ZS-DEBUGFS)
	if [[ $w == zspp ]]; then
		check "$p boot $n: zram's zsmalloc is zspp's: srcversion ${lsv:-none} = updates/dkms/zsmalloc.ko's, taint $ltaint, held by $lhold" \
			"$(ok test -n "$lsv" -a "$lsv" = "$zsv" -a -n "$(g -E 'O' <<<"$ltaint")" -a -n "$(g -E '(^|,)zram(,|$)' <<<"$lhold")" -a -n "$(g -E '\(O' <<<"$proc")")" \
			"$zl; $zfile; /proc/modules: $proc"
		check "$p boot $n: modprobe zram loads /lib/modules/$krel/updates/dkms/zsmalloc.ko (modinfo, --show-depends)" \
			"$(ok test "$mi" = "/lib/modules/$krel/updates/dkms/zsmalloc.ko" -a -n "$(g -F "insmod /lib/modules/$krel/updates/dkms/zsmalloc.ko" <<<"$dep")")" \
			"modinfo: $mi; modprobe --show-depends zram: $dep"
		check "$p boot $n: zspp-zsmalloc's debugfs has zram's pool (zram0)" "$(ok grep -E '(^| )zram0( |$)' <<<"$dbg")" "$dbg"
	else
		check "$p boot $n: zram's zsmalloc is the kernel's: in-tree (taint '${ltaint}'), srcversion ${lsv:-none} not zspp's, held by $lhold" \
			"$(ok test -n "$(g -E 'initstate=live' <<<"$zl")" -a -z "$(g -E 'O' <<<"$ltaint")" -a "${lsv:-none}" != "${zsv:-no-zspp-file}" -a -n "$(g -E '(^|,)zram(,|$)' <<<"$lhold")" -a -z "$(g -E '\(O' <<<"$proc")")" \
			"$zl; $zfile; /proc/modules: $proc"
		check "$p boot $n: modprobe zram loads /lib/modules/$krel/kernel/mm/zsmalloc.ko (modinfo, --show-depends)" \
			"$(ok test "$mi" = "/lib/modules/$krel/kernel/mm/zsmalloc.ko" -a -n "$(g -F "insmod /lib/modules/$krel/kernel/mm/zsmalloc.ko" <<<"$dep")")" \
			"modinfo: $mi; modprobe --show-depends zram: $dep"
		check "$p boot $n: no zspp-zsmalloc in debugfs" "$(ok test "$dbg" = absent)" "$dbg"
	fi
	zs=$(zb "$n" ZRAMSWAP)
	sw=$(zb "$n" SWAPS | g -E '^/dev/zram0 ')
	check "$p boot $n: zramswap.service active, /dev/zram0 swap at priority 100 ($(zb "$n" ZRAM-DEV))" \
		"$(ok test -n "$(g -E 'active=active enabled=enabled' <<<"$zs")" -a "$(awk '{ print $5 }' <<<"$sw")" = 100)" "$zs; swaps: ${sw:-no zram0}"
}

# zram_used_checks N PREFIX WHOSE: the workload tagged PREFIX had pages in zram's
# swap when pushed out (zram's mm_stat, /proc/swaps; zspp-zsmalloc's pool for zspp).
zram_used_checks() {
	local n=$1 x=$2 w=$3 zr orig used zp zo zmf
	zr=$(zb "$n" "ZRAM-${x}RECLAIMED")
	orig=$(field " $zr" mm_stat | cut -d, -f1)
	used=$(field " $zr" swap | cut -d/ -f2)
	check "$p boot $n: zram swap used by the ${x:+$x }workload (zram0 orig_data_size ${orig:-?}, swap used ${used:-?} KiB)" \
		"$(ok test "${orig:-0}" -gt 0 -a "${used:-0}" -gt 0 2>/dev/null)" "$zr"
	if [[ $w == zspp ]]; then
		zp=$(zb "$n" "ZRAMPOOL-${x}RECLAIMED")
		zo=$(num "$zp" objects) zmf=$(num "$zp" malloc_fail)
		check "$p boot $n: zspp-zsmalloc's zram0 pool held them (objects=$zo malloc_fail=$zmf)" \
			"$(ok test "$zo" -gt 0 -a "$zmf" = 0)" "${zp:-no zram0 pool}"
	fi
}

# zsmalloc_status_checks N TAG WHOSE NEXT SWITCH: zspp-enable --status (TAG,
# TAG-JSON) says zsmalloc is WHOSE's, the next load NEXT's, --zram SWITCH.
zsmalloc_status_checks() {
	local n=$1 t=$2 w=$3 nx=$4 sw=$5 stx wt nt sj
	stx=$(zb "$n" "$t" | g -E '^zsmalloc: ')
	wt=$([[ $w == zspp ]] && echo "zspp's" || echo "the kernel's")
	nt=$([[ $nx == zspp ]] && echo "zspp's" || echo "the kernel's")
	check "$p boot $n: zspp-enable --status: zsmalloc $wt, used by zram (zram0); next load $nt; --zram $sw" \
		"$(ok test -n "$(g -E "^zsmalloc: $wt, loaded.*; used by zram \\(zram0\\)\$" <<<"$stx")" -a -n "$(g -E "^zsmalloc: next load: $nt \\(.*; zspp-enable --zram: $sw\$" <<<"$stx")")" \
		"$(paste -sd '|' - <<<"$stx")"
	sj=$(jget "$n" "$t-JSON" 'd["zsmalloc"]["loaded"]' 'd["zsmalloc"]["next_load"]' 'd["zsmalloc"]["zram_switch"]' '"zram0" in d["zsmalloc"]["zram_devices"]')
	check "$p boot $n: zspp-enable --status --json: zsmalloc loaded/next_load/zram_switch/zram0: $sj" \
		"$(ok test "$sj" = "$w $nx $sw True")" "$sj"
}

for ((n = 1; n <= nb; n++)); do
	phase=${phases[n - 1]}
	grep -E "^ZB-END phase=$phase\$" "$out/boot$n.log" >/dev/null || continue
	case $phase in
	zram-on)
		installed_checks "$n"
		zsmalloc_checks "$n" zspp
		zram_used_checks "$n" "" zspp
		zsmalloc_status_checks "$n" STATUS zspp zspp on
		# zswap with zpool=zsmalloc on zspp's zsmalloc.
		zp=$(zb "$n" ZS-ZPOOL)
		check "$p boot $n: zswap's zpool switched to zsmalloc" "$(ok test "$zp" = zsmalloc)" "zpool=$zp"
		wl_check "$n" ZSM- "workload through zswap on zsmalloc"
		zr=$(zb "$n" ZSWAP-ZSM-RECLAIMED)
		st=$(num "$zr" stored_pages)
		zpl=$(zb "$n" ZSPOOL-ZSM-RECLAIMED | g -E '^zswap[0-9a-f]+ ')
		zo=$(num "$zpl" objects) zpg=$(num "$zpl" pages) zmf=$(num "$zpl" malloc_fail)
		check "$p boot $n: zswap on zsmalloc: stored_pages=$st, zspp-zsmalloc's zswap pool held them (pages=$zpg objects=$zo malloc_fail=$zmf)" \
			"$(ok test "$st" -gt 0 -a "$zo" -gt 0 -a "$zpg" -gt 0 -a "$zmf" = 0 -a "$(wc -l <<<"$zpl")" = 1)" "$zr; ${zpl:-no zswap pool in zspp-zsmalloc}"
		sj=$(jget "$n" ZSM-STATUS-JSON 'd["zswap"]["zpool"]' 'd["zsmalloc"]["loaded"]' 'd["zsmalloc"]["zswap_uses"]')
		check "$p boot $n: zspp-enable --status --json: zswap on zsmalloc, zspp's ($sj)" "$(ok test "$sj" = "zsmalloc zspp True")" "$sj"
		# zspp-enable --zram off in the booted system.
		zo=$(zb "$n" ZRAM-OFF) mi=$(zb "$n" ZRAM-OFF-MODINFO)
		check "$p boot $n: zspp-enable --zram off ($zo): modprobe's next zsmalloc is the kernel's" \
			"$(ok test -n "$(g -E '^rc=0( |$)' <<<"$zo")" -a "$mi" = "/lib/modules/$krel/kernel/mm/zsmalloc.ko")" \
			"$zo, modinfo: $mi: $(zb "$n" ZRAM-OFF-LOG | tail -n 3 | paste -sd '|' -)"
		sj=$(jget "$n" ZRAM-OFF-STATUS-JSON 'd["zsmalloc"]["loaded"]' 'd["zsmalloc"]["next_load"]' 'd["zsmalloc"]["zram_switch"]')
		check "$p boot $n: zspp-enable --status --json after --zram off: loaded zspp's, next load the kernel's, switch off ($sj)" \
			"$(ok test "$sj" = "zspp kernel off")" "$sj"
		;;
	installed)
		installed_checks "$n"
		if ((zram)); then
			zsmalloc_checks "$n" kernel
			zram_used_checks "$n" "" kernel
			zsmalloc_status_checks "$n" STATUS kernel kernel off
			zo=$(zb "$n" ZRAM-ON) mi=$(zb "$n" ZRAM-ON-MODINFO)
			check "$p boot $n: zspp-enable --zram on in the booted system ($zo): modprobe's next zsmalloc is zspp's" \
				"$(ok test -n "$(g -E '^rc=0( |$)' <<<"$zo")" -a "$mi" = "/lib/modules/$krel/updates/dkms/zsmalloc.ko")" \
				"$zo, modinfo: $mi: $(zb "$n" ZRAM-ON-LOG | tail -n 3 | paste -sd '|' -)"
		fi
		;;
	esac
done
if grep -E '^ZB-END phase=backports$' "$out/boot1.log" >/dev/null; then
	c=$(zb 1 CMDLINE)
	check "$p boot 1: cmdline has zswap.enabled=1 zswap.zpool=zspp (zspp-enable --boot's drop-in, harmless here)" \
		"$(ok grep -E '(^| )zswap\.enabled=1 zswap\.zpool=zspp( |$)' <<<"$c")" "$c"
	prm=$(zb 1 PARAM | paste -sd ' ' -)
	check "$p boot 1: zswap on its built-in allocator: enabled=Y, no zpool parameter" \
		"$(ok test -n "$(g -E '(^| )enabled=Y( |$)' <<<"$prm")" -a -z "$(g -E '(^| )zpool=' <<<"$prm")")" "$prm"
	wl_check 1 "" workload
	zr=$(zb 1 ZSWAP-RECLAIMED)
	st=$(num "$zr" stored_pages)
	# (debugfs's stored_pages, else what zspp-enable --status read from meminfo)
	((st > 0)) || st=$(zb 1 STATUS | sed -n 's/^stored: *\([0-9]*\) pages.*/\1/p' | sed -n 1p)
	check "$p boot 1: zswap (zsmalloc) stored the pushed-out pages (stored_pages=${st:-0})" "$(ok test "${st:-0}" -gt 0)" "$zr"
	z=$( (zb 1 LSMOD | g -E '^zspp '; zb 1 INITRD-ZSPP; zb 1 DEBUGFS | g -vE '^absent$') | g -vE '^ *$' | paste -sd '|' -)
	check "$p boot 1: zspp not loaded, not in the initramfs or debugfs" "$(ok test -z "$z")" "$z"
	d=$(zb 1 DKMS)
	check "$p boot 1: dkms has no zspp build for $krel" "$(ok test -z "$(g -F "$krel" <<<"$d")")" "$d"
	sv=$(zb 1 SERVICE) sd=$(zb 1 SERVICE-DETAIL) ul=$(zb 1 UNIT-LOG | paste -sd '|' -)
	check "$p boot 1: zspp.service enabled, skipped by its ExecCondition with the reason (not failed)" \
		"$(ok test -n "$(g -E 'active=inactive enabled=enabled' <<<"$sv")" -a -n "$(g -E 'no zpool interface' <<<"$ul")")" "$sv; $sd; $ul"
	stx=$(zb 1 STATUS)
	check "$p boot 1: zspp-enable --status: zswap on zsmalloc, zspp not in use: no zpool interface" \
		"$(ok test -n "$(g -E '^zswap: +on, allocator zsmalloc' <<<"$stx")" -a -n "$(g -E '^zspp: +not in use: .*no zpool interface' <<<"$stx")")" \
		"$(paste -sd '|' - <<<"$stx" | cut -c1-400)"
	sj=$(jget 1 STATUS-JSON 'd["zspp"]["in_use"]' 'd["zspp"]["reason"]' 'd["zswap"]["allocator"]' 'd["zswap"]["enabled"]' 'd["stored_pages"] or 0')
	check "$p boot 1: zspp-enable --status --json: $sj" "$(ok test "$(cut -d' ' -f1-4 <<<"$sj")" = "False no-zpool zsmalloc True")" "$sj"
	echo "deb-boot: boot 1 zspp.service: $sv; $sd"
	zb 1 UNIT-LOG | sed 's/^/deb-boot: boot 1 zspp.service journal: /'
	zb 1 STATUS | sed 's/^/deb-boot: boot 1 zspp-enable --status: /'
fi
if ((pb)) && grep -E '^ZB-END phase=purged$' "$out/boot$pb.log" >/dev/null; then
	c=$(zb "$pb" CMDLINE)
	check "$p boot $pb: cmdline without zswap.zpool=zspp / zswap.enabled=1" "$(ok test -z "$(g -E 'zswap\.' <<<"$c")")" "$c"
	zp=$(zb "$pb" PARAM | sed -n 's/^zpool=//p')
	check "$p boot $pb: zswap zpool is the kernel's default ($defpool)" "$(ok test "$zp" = "$defpool")" "zpool=$zp"
	z=$( (zb "$pb" LSMOD | g -E '^zspp '; zb "$pb" KLOG | g -E 'zspp'; zb "$pb" DEBUGFS | g -vE '^absent$') | paste -sd '|' -)
	check "$p boot $pb: zspp not loaded, not in the kernel log or debugfs" "$(ok test -z "$z")" "$z"
	ko=$(zb "$pb" KO) left=$(zb "$pb" LEFT) unit=$(zb "$pb" UNIT) dk=$(zb "$pb" DKMS)
	check "$p boot $pb: no zspp.ko under /lib/modules, no dkms tree" "$(ok test -z "$ko$dk")" "ko: $ko; dkms: $dk"
	ird=$(zb "$pb" INITRD-ZSPP | g -vE ': $' | paste -sd '|' -)
	check "$p boot $pb: no zspp in any initramfs" "$(ok test -z "$ird")" "$ird"
	check "$p boot $pb: none of the package's files, no zspp.service" "$(ok test -z "$left" -a "$unit" = absent)" "left: $left; unit: $unit"
	check "$p boot $pb: dpkg knows no zspp-dkms" "$(ok test -z "$(g -E 'install|config-files' < <(zb "$pb" DPKG))")" "$(zb "$pb" DPKG)"
	m1=$(md5sum <"$work/boot$ib/initrd.img-$krel") m2=$(md5sum <"$work/boot$pb/initrd.img-$krel")
	check "$p boot $pb: the purge rebuilt the initramfs" "$(ok test "$m1" != "$m2")" "initrd.img-$krel unchanged"
	if ((zram)); then
		dd=$(zb "$pb" ZS-DEPMODD) md=$(zb "$pb" MODDEP)
		check "$p boot $pb: no zspp-zsmalloc.conf in /etc/depmod.d or /usr/lib/depmod.d (the purge removed --zram on's)" \
			"$(ok test -z "$dd")" "$dd"
		check "$p boot $pb: depmod consistent: modules.dep has no updates/ entry, names no missing file ($md)" \
			"$(ok test "$md" = "updates=0 missing=0")" "$md"
		zsmalloc_checks "$pb" kernel
	fi
fi

# For the reader: what the booted guests said.
for ((n = 1; n <= nb; n++)); do
	echo "deb-boot: boot $n (${phases[n - 1]}) cmdline: $(zb "$n" CMDLINE)"
	echo "deb-boot: boot $n zswap parameters: $(zb "$n" PARAM | paste -sd ' ' -)"
	zb "$n" PARAMFILE | sed "s/^/deb-boot: boot $n /"
	zb "$n" KLOG | g -iE 'zswap' | sed "s/^/deb-boot: boot $n kernel: /"
	if ((zram)); then
		for t in ZS-LOADED ZS-MODINFO ZS-DEBUGFS ZRAMSWAP ZRAM-DEV ZRAM-RECLAIMED ZRAMPOOL-RECLAIMED ZS-ZPOOL ZSPOOL-ZSM-RECLAIMED ZRAM-OFF ZRAM-ON MODDEP; do
			zb "$n" "$t" | sed "s/^/deb-boot: boot $n $t: /"
		done
		zb "$n" STATUS | g -E '^zsmalloc: ' | sed "s/^/deb-boot: boot $n zspp-enable --status: /"
	fi
done
for n in $(seq 1 "$nb"); do
	[[ ${phases[n - 1]} == installed || ${phases[n - 1]} == zram-on ]] || continue
	for t in RECLAIMED AFTER; do
		zb "$n" "SUMMARY-$t" | sed "s/^/deb-boot: boot $n zspp summary ($([[ $t == RECLAIMED ]] && echo 'pushed out, workload parked' || echo 'after the workload')): /"
		zb "$n" "ZSWAP-$t" | sed "s/^/deb-boot: boot $n zswap debugfs ($t):/"
	done
	zb "$n" SUMMARYFILE-AFTER | sed "s/^/deb-boot: boot $n after the workload: /"
	zb "$n" VMSTAT | sed "s/^/deb-boot: boot $n vmstat: /"
done
if ((ib)); then
	zb "$ib" PURGE-LOG | g -E 'Reading package lists|Removing|depmod|Deleting|update-initramfs:|Purging' |
		sed "s/^/deb-boot: boot $ib purge (guest uptime, line): /"
fi
times="debootstrap ${t_debootstrap}s, chroot apt+dkms ${t_chroot}s, mkfs ${t_mkfs}s"
for ((n = 1; n <= nb; n++)); do
	times="$times, boot $n $(eval "echo \${t_boot$n:-0}")s"
done
echo "deb-boot: times: $times, total $(($(now_s) - start))s"
echo "deb-boot: $npass passed, $nfail failed"
((nfail == 0))
