#!/usr/bin/env bash
# zram-peer.sh [options]: the stock zram.ko of Debian 12's 6.1 kernel on
# Debian's zsmalloc.ko and then on zspp's (built by `make module` next to
# zspp.ko; Documentation/zram.rst), one QEMU boot each, the same cases and
# inputs in both:
#   - on the host: zspp's zsmalloc.ko exports the ten zs_* symbols zram.ko
#     imports with the CRCs zram.ko was built against, the same as Debian's
#     zsmalloc.ko exports (modversions), and is named zsmalloc with the alias
#     zpool-zsmalloc;
#   - ext4 on /dev/zram0: real files (Debian's Python library, $DATA_MB MiB)
#     written, sha256-verified, verified again after drop_caches; half of them
#     deleted and discarded (fstrim: orig_data_size must drop), compact, the
#     rest verified again; reset empties the device;
#   - zram as swap under a memory cgroup's memory.max: tests/e2e/workload.c
#     (every page verified when read back), pages seen going out to swap;
#   - mm_stat after each step against the allocator's own debugfs count:
#     mem_used_total = pool pages * PAGE_SIZE (zs_get_total_pages), pool
#     objects = stored pages that are not same-filled, compr_data_size fits in
#     mem_used_total, mem_used_max >= mem_used_total; pages_compacted grows by
#     at least what compaction gave back (zspp: equals its own counter, and
#     its bytes_stored equals compr_data_size);
#   - the kernel's own selftests (tools/testing/selftests/zram: zram01 ext4
#     fill + compression ratio, zram02 swap), extracted from linux-source-6.1
#     into the cache at run time;
#   - each boot's kernel log free of splats.
# A case that passes on Debian's zsmalloc must pass on zspp's; one that fails
# on Debian's is reported as skipped (nothing to compare). Output: KTAP, then
# "zram-peer: N passed, M failed".
#
#   --ko FILE       zspp's zsmalloc.ko (default: zsmalloc.ko in the repo, from `make module`)
#   --pages N       swap workload pages (default 24576: 96 MiB through a 48M cgroup)
#   --only ALLOC    zsmalloc or zspp: one boot, no comparison
#   --timeout SECS  QEMU bound per boot (default 1200)
#   --workdir DIR   default $ZSPP_CACHE/zram-peer
#   --echo          copy the guest console to stderr
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() { sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&2; exit "${1:-2}"; }

ko="$ZSPP_ROOT/zsmalloc.ko" pages=24576 only="" tmo=1200 workdir="" echo=()
DATA_MB=24
while (($#)); do
	case $1 in
	--ko) ko=$2; shift ;;
	--pages) pages=$2; shift ;;
	--only) only=$2; shift ;;
	--timeout) tmo=$2; shift ;;
	--workdir) workdir=$2; shift ;;
	--echo) echo=(--echo) ;;
	-h | --help) usage 0 ;;
	*) die "unknown argument '$1' (see --help)" ;;
	esac
	shift
done
allocs=(zsmalloc zspp)
case $only in
"") ;;
zsmalloc | zspp) allocs=("$only") ;;
*) die "--only wants zsmalloc or zspp, not '$only'" ;;
esac
[[ $pages =~ ^[0-9]+$ ]] || die "--pages wants a number, not '$pages'"
start=$(now_s)
[[ -n $workdir ]] || workdir=$(cache_dir zram-peer)
mkdir -p "$workdir"
need_cmd modprobe kmod
need_cmd objcopy binutils

kinfo=$("$ZSPP_SCRIPTS/fetch-kernel.sh" stock-6.1 --no-headers) || die "fetch-kernel.sh stock-6.1 failed"
KREL="" VMLINUZ="" MODDIR=""
eval "$(g -E '^(KREL|VMLINUZ|MODDIR)=' <<<"$kinfo")"
echo "kernel: $KREL"
stock_zs=$(find "$MODDIR/kernel/mm" -name 'zsmalloc.ko*' -print -quit)
stock_zram=$(find "$MODDIR/kernel/drivers/block/zram" -name 'zram.ko*' -print -quit)
[[ -f $stock_zs && -f $stock_zram ]] || die "no zsmalloc.ko/zram.ko in $MODDIR (CONFIG_ZSMALLOC=m and CONFIG_ZRAM=m expected)"
[[ -f $ko ]] || die "$ko not found: run 'make module' (it builds zsmalloc.ko on a 6.1 kernel with CONFIG_ZSMALLOC=m)"

ktap=() nk=0 npass=0 nfail=0
kok() { nk=$((nk + 1)); npass=$((npass + 1)); ktap+=("ok $nk $1${2:+ # $2}"); }
knot() { nk=$((nk + 1)); nfail=$((nfail + 1)); ktap+=("not ok $nk $1${2:+ # $2}"); }
kskip() { nk=$((nk + 1)); ktap+=("ok $nk $1 # SKIP $2"); }

# ------------------------------------------------------- the module on the host
modver=$(modinfo -F vermagic "$ko" | awk '{ print $1 }')
if [[ $modver == "$KREL" ]]; then kok "host-module-built-for-$KREL"; else knot "host-module-built-for-$KREL" "vermagic $modver"; fi
if [[ $(modinfo -F name "$ko") == zsmalloc ]]; then kok host-module-named-zsmalloc; else knot host-module-named-zsmalloc; fi
if modinfo -F alias "$ko" | grep -x zpool-zsmalloc >/dev/null; then kok host-module-alias-zpool-zsmalloc; else knot host-module-alias-zpool-zsmalloc; fi
# export_crcs KO: "CRC<TAB>SYMBOL" of each zs_* symbol the module exports
# (__crc_<sym>, offsets into __kcrctab_gpl).
export_crcs() {
	local f=$1 tmp off sym
	tmp=$(mktemp)
	case $f in *.xz) xz -dc "$f" >"$tmp.ko" ;; *) cp "$f" "$tmp.ko" ;; esac
	objcopy -O binary --only-section=__kcrctab_gpl "$tmp.ko" "$tmp"
	nm "$tmp.ko" | awk '$3 ~ /^__crc_zs_/ { print $1, substr($3, 7) }' | while read -r off sym; do
		printf '0x%s\t%s\n' "$(od -An -tx4 -j $((16#$off)) -N4 "$tmp" | tr -d ' ')" "$sym"
	done | sort -k2
	rm -f "$tmp" "$tmp.ko"
}
zram_tmp=$(mktemp)
case $stock_zram in *.xz) xz -dc "$stock_zram" >"$zram_tmp" ;; *) cp "$stock_zram" "$zram_tmp" ;; esac
imports=$(modprobe --dump-modversions "$zram_tmp" | g -P '\tzs_' | sort -k2)
rm -f "$zram_tmp"
ours=$(export_crcs "$ko")
theirs=$(export_crcs "$stock_zs")
nimp=$(g -c . <<<"$imports")
if [[ $nimp == 10 ]]; then kok host-zram-imports-ten-zs-symbols; else knot host-zram-imports-ten-zs-symbols "$nimp"; fi
if [[ -n $ours && $ours == "$theirs" ]]; then kok host-crcs-equal-debian-zsmalloc; else knot host-crcs-equal-debian-zsmalloc "$(diff <(echo "$theirs") <(echo "$ours") | tr '\n' ' ')"; fi
if [[ -n $ours && $ours == "$imports" ]]; then kok host-crcs-equal-zram-imports; else knot host-crcs-equal-zram-imports; fi

# How the package binds (debian/, Documentation/zram.rst): with dkms's
# updates/dkms/zsmalloc.ko beside the kernel's, depmod under the package's
# /usr/lib/depmod.d file alone must give zram.ko the kernel's zsmalloc; with
# the file zspp-enable --zram writes to /etc/depmod.d (same name), zspp's.
# depmod runs on a copy of the module tree with the two files as its only
# configuration, in kmod's order (-C etc before lib: the same name in an
# earlier directory replaces the later one).
dm=$(mktemp -d)
mkdir -p "$dm/tree/lib/modules/$KREL/kernel/mm" "$dm/tree/lib/modules/$KREL/kernel/drivers/block/zram" \
	"$dm/tree/lib/modules/$KREL/updates/dkms" "$dm/etc" "$dm/lib"
cp "$stock_zs" "$dm/tree/lib/modules/$KREL/kernel/mm/"
cp "$stock_zram" "$dm/tree/lib/modules/$KREL/kernel/drivers/block/zram/"
cp "$ko" "$dm/tree/lib/modules/$KREL/updates/dkms/zsmalloc.ko"
cp "$MODDIR"/modules.builtin* "$MODDIR/modules.order" "$dm/tree/lib/modules/$KREL/"
cp "$ZSPP_ROOT/debian/depmod/zspp-zsmalloc.conf" "$dm/lib/"
# zram_dep etc|lib: the zsmalloc.ko depmod gives zram.ko, with the file
# zspp-enable --zram writes (etc) or without it (lib: the package's alone).
zram_dep() {
	rm -f "$dm/etc/zspp-zsmalloc.conf"
	[[ $1 != etc ]] || sed -n '/^override zsmalloc /p' "$ZSPP_ROOT/debian/zspp-enable" >"$dm/etc/zspp-zsmalloc.conf"
	depmod -b "$dm/tree" -C "$dm/etc" -C "$dm/lib" "$KREL" >&2 || return 1
	sed -n 's|^kernel/drivers/block/zram/zram.ko: ||p' "$dm/tree/lib/modules/$KREL/modules.dep"
}
dep=$(zram_dep lib || true)
if [[ $dep == kernel/mm/zsmalloc.ko ]]; then kok host-depmod-default-keeps-kernel-zsmalloc; else knot host-depmod-default-keeps-kernel-zsmalloc "zram.ko: ${dep:-?}"; fi
dep=$(zram_dep etc || true)
if [[ $dep == updates/dkms/zsmalloc.ko ]]; then kok host-depmod-zspp-enable-zram-picks-zspp; else knot host-depmod-zspp-enable-zram-picks-zspp "zram.ko: ${dep:-?}"; fi
rm -rf "$dm"

# ------------------------------------------------------- inputs (cached)
cache=$(cache_dir zram)
exec 8>"$cache/.lock"
flock 8
# The kernel's zram selftests, from the linux-source-6.1 package's tarball.
src_tar=$(find /usr/src -maxdepth 1 -name 'linux-source-6.1.tar.xz' -print -quit)
if [[ -z $src_tar ]]; then
	log "installing linux-source-6.1 (for tools/testing/selftests/zram)"
	apt_retry apt-get install -y -q linux-source-6.1 >&2 || die "cannot install linux-source-6.1"
	src_tar=/usr/src/linux-source-6.1.tar.xz
fi
src_ver=$(dpkg-query -W -f '${Version}' linux-source-6.1 2>/dev/null || stat -c %Y "$src_tar")
kst="$cache/selftests-$src_ver"
if [[ ! -f $kst/.ready ]]; then
	log "extracting tools/testing/selftests/zram from $src_tar"
	rm -rf "$kst"
	mkdir -p "$kst"
	tar -xJf "$src_tar" -C "$kst" --strip-components=4 --wildcards 'linux-source-6.1/tools/testing/selftests/zram/*'
	touch "$kst/.ready"
fi
[[ -f $kst/zram/zram01.sh && -f $kst/zram/zram_lib.sh ]] || die "no zram selftests in $kst"
# Real files: the first DATA_MB MiB of Debian's Python library (text and
# bytecode), with their sha256 sums.
data="$cache/data-$DATA_MB"
if [[ ! -f $data/.ready ]]; then
	log "collecting $DATA_MB MiB of real files from /usr/lib/python3*"
	rm -rf "$data"
	mkdir -p "$data"
	libdir=$(find /usr/lib -maxdepth 1 -name 'python3.*' -type d -print | sort | sed -n 1p)
	[[ -n $libdir ]] || die "no /usr/lib/python3.* for real files"
	(cd "$libdir" && find . -type f -size -512k -printf '%s %p\n' | sort -k2 |
		awk -v max=$((DATA_MB << 20)) '{ sum += $1; if (sum <= max) print $2 }' >"$data/list")
	tar -cf "$data/data.tar" -C "$libdir" -T "$data/list"
	(cd "$libdir" && tr '\n' '\0' <"$data/list" | xargs -0 sha256sum) >"$data/data.sha256"
	touch "$data/.ready"
fi
flock -u 8
log "real files: $(wc -l <"$data/data.sha256") ($(du -h "$data/data.tar" | cut -f1))"

# Userland the busybox initramfs lacks: bash (the selftests), mke2fs as
# mkfs.ext4, and their libraries, from this Debian 12 host.
files=(-f "$data/data.tar:/data.tar" -f "$data/data.sha256:/data.sha256"
	-f /bin/bash:/bin/bash -f /sbin/mke2fs:/sbin/mkfs.ext4 -f /etc/mke2fs.conf:/etc/mke2fs.conf
	-f /lib64/ld-linux-x86-64.so.2:/lib64/ld-linux-x86-64.so.2)
for lib in $(ldd /bin/bash /sbin/mke2fs | awk '$2 == "=>" && $3 ~ /^\// { print $3 }' | sort -u); do
	files+=(-f "$lib:$lib")
done
for f in "$kst"/zram/*.sh; do files+=(-f "$f:/selftests/zram/$(basename "$f")"); done
# ext4 and what its mount needs are modules on Debian's 6.1, as is loop (the
# writeback case's backing device); the guest loads them in this order.
ext4_mods=()
for m in crc16 mbcache jbd2 crc32c_generic ext4 loop; do
	f=$(find "$MODDIR/kernel" -name "$m.ko*" -print -quit)
	[[ -n $f ]] || die "no $m.ko in $MODDIR"
	ext4_mods+=("$f")
done
gcc -static -O2 -Wall -o "$workdir/workload" "$ZSPP_ROOT/tests/e2e/workload.c" || die "workload build failed"

# ------------------------------------------------------- the boots
declare -A res
for a in "${allocs[@]}"; do
	w="$workdir/$a"
	mkdir -p "$w"
	printf 'ALLOC=%s\nPAGES=%s\n' "$a" "$pages" >"$w/zram.conf"
	zs=$stock_zs
	[[ $a == zspp ]] && zs=$ko
	"$ZSPP_SCRIPTS/mkinitramfs.sh" -o "$w/initramfs.cpio.gz" -i "$ZSPP_ROOT/tests/zram/guest-init.sh" \
		-w "$workdir/workload" -c "$w/zram.conf" "${files[@]}" "$zs" "$stock_zram" "${ext4_mods[@]}" >/dev/null
	log "boot with $a's zsmalloc.ko"
	t0=$(now_s)
	rc=0
	"$ZSPP_SCRIPTS/qemu-run.sh" -k "$VMLINUZ" -r "$w/initramfs.cpio.gz" -w "$w" -l "$w/console.log" -m 768M -s 2 \
		-t "$tmo" -a "zswap.enabled=0" --init-marker ZRAM-INIT --boot-timeout 180 "${echo[@]}" || rc=$?
	log "$a: QEMU exit $rc after $(($(now_s) - t0))s"
	tr -d '\r' <"$w/console.log" >"$w/console.txt"
	# The guest's lines with the kernel's taken out, also one the console wrote
	# into the middle of a ZT line (judge.guest_lines).
	PYTHONPATH="$ZSPP_ROOT/tests" python3 -m harness.judge --guest-lines "$w/console.txt" | g -a '^ZT ' >"$w/cases" || true
	g -a -E '^(mm_stat|discard|compact|swap|WORKLOAD|  zram0)' "$w/console.txt" | sed "s/^/[$a] /" >&2
	if grep -a -x ZRAM-DONE "$w/console.txt" >/dev/null; then res[$a,done]=1; else res[$a,done]=0; fi
	res[$a,splat]=$(splat_lines "$w/console.txt" | paste -sd '|' -)
done

# ------------------------------------------------------- compare
for a in "${allocs[@]}"; do
	if ((res[$a,done])); then kok "$a-boot-completed"; else knot "$a-boot-completed" "no ZRAM-DONE (console: $workdir/$a/console.txt)"; fi
	if [[ -z ${res[$a,splat]} ]]; then kok "$a-no-kernel-splat"; else knot "$a-no-kernel-splat" "${res[$a,splat]:0:200}"; fi
done
ref=${allocs[0]}
mapfile -t names < <(cat "$workdir/$ref/cases" "$workdir/${allocs[-1]}/cases" | awk '!seen[$3]++ { print $3 }')
status() { awk -v n="$2" '$3 == n { print $2 }' "$workdir/$1/cases" | sort -u | paste -sd, -; }
for n in "${names[@]}"; do
	if ((${#allocs[@]} == 1)); then
		if [[ $(status "$ref" "$n") == ok ]]; then kok "$ref:$n"; else knot "$ref:$n"; fi
		continue
	fi
	s1=$(status zsmalloc "$n") s2=$(status zspp "$n")
	if [[ -z $s1 ]]; then
		if [[ $s2 == ok ]]; then kok "zspp:$n" "zspp only"; else knot "zspp:$n" "zspp only: ${s2:-missing}"; fi
	elif [[ $s1 != ok ]]; then
		kskip "$n" "failed on Debian's zsmalloc too (zspp: ${s2:-missing})"
	elif [[ $s2 == ok ]]; then
		kok "$n"
	else
		knot "$n" "ok on Debian's zsmalloc, ${s2:-missing} on zspp: $(awk -v n="$n" '$3 == n' "$workdir/zspp/cases" | cut -c1-160)"
	fi
done

echo "KTAP version 1"
echo "1..$nk"
printf '%s\n' "${ktap[@]}"
echo "zram-peer: $npass passed, $nfail failed ($(($(now_s) - start))s)"
((nfail == 0))
