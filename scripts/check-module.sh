#!/usr/bin/env bash
# Static checks on a built zspp.ko: module metadata, no C++ runtime leftovers.
set -euo pipefail
ko=${1:-zspp.ko}
fail=0
info=$(modinfo "$ko")
for f in license description alias parm version; do
	grep -q "^$f:" <<<"$info" || { echo "check-module: modinfo lacks $f" >&2; fail=1; }
done
grep -q '^alias: *zpool-zspp$' <<<"$info" || { echo "check-module: alias zpool-zspp missing" >&2; fail=1; }
# Static constructors, exception tables or libstdc++/libgcc symbols would mean
# the C++ core pulled in runtime support the kernel does not have.
if objdump -h "$ko" | grep -Eq '\.(init_array|ctors|gcc_except_table)'; then
	echo "check-module: static constructors or exception tables in $ko" >&2; fail=1
fi
if nm -u "$ko" | grep -Eq ' (_Z|__cxa_|_Unwind|__gxx_)'; then
	echo "check-module: C++ runtime symbols unresolved in $ko:" >&2
	nm -u "$ko" | grep -E ' (_Z|__cxa_|_Unwind|__gxx_)' >&2; fail=1
fi
exit $fail
