#!/usr/bin/env bash
# scan-log.sh LOG NAME: fail on any kernel splat in a console log: KASAN,
# lockdep, sleeping in atomic context, WARN, BUG, Oops, or a zspp error line
# (the pattern and what it tolerates: splat_lines in scripts/lib.sh; the
# unsigned-module taint message is expected and ignored).
set -uo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
log=$1 name=$2
if [ ! -r "$log" ]; then
	echo "FAIL: $name log has no kernel splat (no log $log)"
	exit 1
fi
hits=$(splat_lines --max 20 "$log")
if [ -n "$hits" ]; then
	echo "FAIL: $name log has no kernel splat:"
	sed 's/^/    /' <<<"$hits"
	exit 1
fi
echo "PASS: $name log has no kernel splat"
