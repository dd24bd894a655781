#!/usr/bin/env bash
# bench/mkrealdata.sh --bytes N --out DIR: the data of the real-data end to end
# of `make bench` (bench/realdata.c): real files of this Debian system, packed
# into DIR/blob (each file starting on a 4 KiB boundary, the tail of its last
# page zero-filled, as in the page cache) until the blob holds N bytes
# (rounded up to whole files), and DIR/manifest ("offset size sha256 path" per
# file; the header names the sources). Deterministic for a given system: the
# files are the regular files (no symlinks, 1 byte to 8 MiB) under
#   /usr/bin /usr/lib/x86_64-linux-gnu /usr/share /usr/include
# each tree's list sorted (LC_ALL=C), taken round robin (one file of each tree
# in turn), so every part of the blob mixes executables, libraries, data and
# text. The blob is rebuilt only when the file list or N changed; every file's
# sha256 is recorded and checked against the blob after packing.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"

bytes="" out=""
while (($#)); do
	case $1 in
	--bytes) bytes=$2; shift ;;
	--out) out=$2; shift ;;
	*) die "unknown argument '$1'" ;;
	esac
	shift
done
[[ $bytes =~ ^[0-9]+$ && -n $out ]] || die "usage: mkrealdata.sh --bytes N --out DIR"
mkdir -p "$out"
# One writer per DIR: two benches sharing a data directory (or an
# interrupted run's python still writing) must not interleave blob.tmp.
exec 9>"$out/.lock"
flock 9
trees=(/usr/bin /usr/lib/x86_64-linux-gnu /usr/share /usr/include)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
i=0
for t in "${trees[@]}"; do
	find "$t" -type f -size +0c -size -8193k -print0 2>/dev/null | LC_ALL=C sort -z | tr '\0' '\n' >"$tmp/list$i"
	i=$((i + 1))
done
# Round robin over the trees until N bytes (page-rounded sizes).
python3 - "$bytes" "$tmp" "${#trees[@]}" >"$tmp/pick" <<'PY'
import os, sys
want, d, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
lists = [open(os.path.join(d, "list%d" % i)).read().splitlines() for i in range(n)]
pos, total = [0] * n, 0
while total < want and any(pos[i] < len(lists[i]) for i in range(n)):
    for i in range(n):
        while pos[i] < len(lists[i]):
            f = lists[i][pos[i]]
            pos[i] += 1
            if "\n" in f or not os.path.isfile(f) or os.path.islink(f):
                continue
            size = os.path.getsize(f)
            print("%d\t%s" % (size, f))
            total += (size + 4095) // 4096 * 4096
            break
        if total >= want:
            break
PY
key=$({ echo "$bytes"; cat "$tmp/pick"; } | sha256sum | cut -c1-16)
if [[ -f $out/blob && -f $out/manifest && $(cat "$out/key" 2>/dev/null) == "$key" ]]; then
	log "real data up to date in $out ($(wc -l <"$tmp/pick") files, key $key)"
	exit 0
fi
rm -f "$out/key"
python3 - "$tmp/pick" "$out" <<'PY'
import hashlib, sys
pick, out = sys.argv[1], sys.argv[2]
off = 0
with open(out + "/blob.tmp", "wb") as b, open(out + "/manifest.tmp", "w") as m:
    m.write("# zspp real-data bench: files of this system packed page-aligned (bench/mkrealdata.sh)\n")
    m.write("# offset size sha256 path\n")
    for line in open(pick):
        size, path = line.rstrip("\n").split("\t", 1)
        data = open(path, "rb").read()
        pad = (-len(data)) % 4096
        b.write(data + b"\0" * pad)
        m.write("%d %d %s %s\n" % (off, len(data), hashlib.sha256(data).hexdigest(), path))
        off += len(data) + pad
# verify the blob against the manifest's sums
with open(out + "/blob.tmp", "rb") as b:
    for line in open(out + "/manifest.tmp"):
        if line.startswith("#"):
            continue
        o, s, h, p = line.rstrip("\n").split(" ", 3)
        b.seek(int(o))
        if hashlib.sha256(b.read(int(s))).hexdigest() != h:
            raise SystemExit("blob check failed at " + p)
PY
mv "$out/blob.tmp" "$out/blob"
mv "$out/manifest.tmp" "$out/manifest"
echo "$key" >"$out/key"
log "wrote $out/blob ($(stat -c %s "$out/blob") bytes, $(grep -vc '^#' "$out/manifest") files, key $key)"
