#!/usr/bin/env bash
# `make demo`: boot Debian's stock 6.1 kernel in QEMU, load zspp, select it as
# zswap's zpool, swap a verified workload through it, and print what zswap and
# zspp reported at the peak of the run.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
work=$(cache_dir demo)
rc=0
"$ZSPP_ROOT/tests/harness/e2e.py" --zpool zspp --module "$ZSPP_ROOT/zspp.ko" --workdir "$work" "$@" || rc=$?
log="$work/console.log"
[ -f "$log" ] || die "no console log from the run"

echo
echo "=== workload (every byte verified on read-back)"
grep -E '^WORKLOAD ' "$log" | tail -n 1
echo
echo "=== zswap at the peak of the run (/sys/kernel/debug/zswap)"
peak=$(grep -E '^ZSWAP t=' "$log" | awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^stored_pages=/) { split($i, a, "="); if (a[2] + 0 >= best) { best = a[2] + 0; line = $0 } } } END { print line }')
tr ' ' '\n' <<<"$peak" | grep '=' | sed 's/^/  /'
stored=$(tr ' ' '\n' <<<"$peak" | sed -n 's/^stored_pages=//p')
same=$(tr ' ' '\n' <<<"$peak" | sed -n 's/^same_filled_pages=//p')
pool=$(tr ' ' '\n' <<<"$peak" | sed -n 's/^pool_total_size=//p')
[ -n "$stored" ] && [ -n "$pool" ] && [ "$pool" -gt 0 ] &&
	awk -v s="$stored" -v z="${same:-0}" -v p="$pool" 'BEGIN {
		printf "  => %d pages stored, %d of them same-filled (no pool space);\n", s, z
		printf "     the other %d (%.1f MiB) fit in %.1f MiB of zspp pages: %.2fx\n", s - z, (s - z) * 4 / 1024, p / 1048576, (s - z) * 4096 / p }'
echo
echo "=== zspp pool summary at the same time (/sys/kernel/debug/zspp/<pool>/summary)"
zpeak=$(grep -E '^ZSPP [^ ]+ ' "$log" | awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^pages=/) { split($i, a, "="); if (a[2] + 0 >= best) { best = a[2] + 0; line = $0 } } } END { print line }')
tr ' ' '\n' <<<"$zpeak" | grep '=' | sed 's/^/  /'
echo
echo "=== zspp size classes near the peak (/sys/kernel/debug/zspp/<pool>/classes)"
grep -E '^ZSPPFILE [^ ]+/classes: ' "$log" | sed -E 's/^ZSPPFILE [^ ]+\/classes: //' |
	awk '/^ *class / { n++ } { blk[n] = blk[n] $0 "\n" } END { k = int(n * 0.8); if (k < 1) k = n; printf "%s", blk[k] }' | sed -n '1,60p'
echo
echo "=== after the workload: zswap drained, zspp pool destroyed, rmmod"
grep -E '^(ZSPP-AFTER|ZSWAP-AFTER|RMMOD|ZSPP-DEBUGFS)' "$log" | tail -n 6

# The same workload, the same kernel, with zsmalloc and zbud (Debian 12's
# default zpool) as zswap's allocator, one fresh boot each: what zspp saves.
# peak_line LOG: the ZSWAP sample with the most pages stored.
peak_line() {
	grep -E '^ZSWAP t=' "$1" | awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^stored_pages=/) { split($i, a, "="); if (a[2] + 0 >= best) { best = a[2] + 0; line = $0 } } } END { print line }'
}
field() { tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p"; }
declare -A bpp
for z in zsmalloc zbud; do
	echo
	echo "=== the same workload with zswap on $z (a fresh boot)"
	zrc=0
	"$ZSPP_ROOT/tests/harness/e2e.py" --zpool "$z" --workdir "$work-$z" >"$work-$z.out" 2>&1 || zrc=$?
	grep -E '^WORKLOAD ' "$work-$z/console.log" 2>/dev/null | tail -n 1
	[ "$zrc" -eq 0 ] || echo "  (the $z run exited $zrc: $work-$z.out)"
done
echo
echo "=== memory per stored page at the peak (pool pages / pages stored, same-filled excluded)"
printf '  %-9s %12s %10s %16s %10s\n' zpool "pages stored" "pool MiB" "bytes per page" "vs zspp"
for z in zspp zsmalloc zbud; do
	l=$log
	[ "$z" = zspp ] || l=$work-$z/console.log
	p=$(peak_line "$l" 2>/dev/null)
	s=$(field "$p" stored_pages) f=$(field "$p" same_filled_pages) b=$(field "$p" pool_total_size)
	[ -n "$s" ] && [ -n "$b" ] && [ "$s" -gt "${f:-0}" ] || { printf '  %-9s (no numbers)\n' "$z"; continue; }
	bpp[$z]=$(awk -v s="$s" -v f="${f:-0}" -v b="$b" 'BEGIN { printf "%.1f", b / (s - f) }')
	awk -v z="$z" -v s="$s" -v b="$b" -v x="${bpp[$z]}" -v ref="${bpp[zspp]:-0}" 'BEGIN {
		printf "  %-9s %12d %10.1f %16.1f %10s\n", z, s, b / 1048576, x, (ref > 0 ? sprintf("%.2fx", x / ref) : "-") }'
done
exit $rc
