#!/usr/bin/env bash
# `make demo`: boot Debian's stock 6.1 kernel in QEMU, load zspp, select it as
# zswap's zpool, swap a verified workload through it, and print what zswap and
# zspp reported at the peak of the run.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
work=$(cache_dir demo)
rc=0
"$ZSPP_SCRIPTS/e2e.sh" --zpool zspp --module "$ZSPP_ROOT/zspp.ko" --workdir "$work" "$@" || rc=$?
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
exit $rc
