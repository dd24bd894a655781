#!/usr/bin/env bash
# Static checks on a built zspp.ko (or zsmalloc.ko, zram on zspp): module
# metadata, no C++ runtime leftovers.
# Prints one PASS:/FAIL: line per check.
set -uo pipefail
ko=${1:-zspp.ko}
fail=0
ok() { echo "PASS: module $1"; }
bad() { echo "FAIL: module $1"; fail=1; }
info=$(modinfo "$ko") || { bad "modinfo readable"; exit 1; }
for f in license description parm version; do
	grep -q "^$f:" <<<"$info" && ok "modinfo has $f" || bad "modinfo has $f"
done
grep -q '^license: *GPL$' <<<"$info" && ok "license GPL (no proprietary taint)" || bad "license GPL"
# zswap loads a zpool driver by the alias zpool-<name>: zspp.ko's, and
# zsmalloc.ko's (zram on zspp, Documentation/zram.rst) in place of the kernel's.
name=$(sed -n 's/^name: *//p' <<<"$info")
grep -q "^alias: *zpool-$name\$" <<<"$info" && ok "alias zpool-$name" || bad "alias zpool-${name:-?}"
# Static constructors or exception tables would mean the C++ core needs
# runtime support the kernel does not have. A sanitizer kernel (KASAN, KCSAN)
# gives every object its own module constructor (_sub_I_<prio>_<n>, in
# .init_array; the kernel runs them): those are not C++ constructors.
# (Outputs are read whole: grep -q in a pipeline under pipefail can kill the
# writer with SIGPIPE.)
sections=$(objdump -h "$ko")
syms=$(nm "$ko")
ctor_syms=$(grep -E ' _GLOBAL__sub_[ID]_' <<<"$syms" || true)
init_array=$(grep -E '\.init_array' <<<"$sections" || true)
sanitizer_ctors=$(grep -E ' _sub_I_[0-9]+_[0-9]+$' <<<"$syms" || true)
if grep -Eq '\.(ctors|gcc_except_table)' <<<"$sections" || [ -n "$ctor_syms" ] ||
	{ [ -n "$init_array" ] && [ -z "$sanitizer_ctors" ]; }; then
	bad "has no static constructors or exception tables${ctor_syms:+ (${ctor_syms//$'\n'/, })}"
else
	ok "has no static constructors or exception tables${sanitizer_ctors:+ (sanitizer module constructors only)}"
fi
# The module loader makes a sysfs file per section name: a name twice (a
# COMDAT group's own __patchable_function_entries, Debian 13's gcc 14) fails
# insmod. Kbuild links the composite object with --force-group-allocation.
dup_sections=$(awk '$1 ~ /^[0-9]+$/ { print $2 }' <<<"$sections" | sort | uniq -d)
if [ -n "$dup_sections" ]; then
	bad "has every section name once (twice: ${dup_sections//$'\n'/, })"
else
	ok "has every section name once"
fi
undef=$(nm -u "$ko")
grep -Eq ' (_Z|__cxa_|_Unwind|__gxx_)' <<<"$undef" &&
	bad "needs no libstdc++/libgcc symbols" || ok "needs no libstdc++/libgcc symbols"
# One version: VERSION, modinfo and dkms.conf agree.
root=$(cd "$(dirname "$0")/.." && pwd)
want=$(cat "$root/VERSION")
# dkms.conf reads VERSION itself: evaluate it as dkms does (bash, sourced).
dkms_ver=$(bash -c '. "$1" >/dev/null 2>&1; echo "$PACKAGE_VERSION"' _ "$root/dkms.conf")
grep -q "^version: *$want\$" <<<"$info" && [ "$dkms_ver" = "$want" ] &&
	ok "version $want in modinfo and dkms.conf" || bad "version $want in modinfo and dkms.conf (dkms.conf: '$dkms_ver')"
exit $fail
