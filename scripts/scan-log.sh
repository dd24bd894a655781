#!/usr/bin/env bash
# scan-log.sh LOG NAME: fail on any kernel splat in a console log: KASAN,
# lockdep, sleeping in atomic context, WARN, BUG, Oops, or a zspp error line.
# The unsigned-module taint message is expected and ignored.
set -uo pipefail
log=$1 name=$2
pat='BUG:|WARNING:|Oops|KASAN|general protection|possible circular locking|possible recursive locking|inconsistent lock state|lock held when returning|sleeping function called from invalid context|scheduling while atomic|Call Trace|kernel BUG|zspp:.*(error|fail|leak|bad handle)|UBSAN|kmemleak: [1-9]|list_(add|del) corruption'
hits=$(grep -E "$pat" "$log" | grep -v 'module verification failed' | sed -n '1,20p')
if [ -n "$hits" ]; then
	echo "FAIL: $name log has no kernel splat:"
	sed 's/^/    /' <<<"$hits"
	exit 1
fi
echo "PASS: $name log has no kernel splat"
