#!/usr/bin/env bash
# thread-safety.sh: the core's lock rules, checked by the compiler. Compiles
# every src/core/*.cpp with clang -Wthread-safety -Werror (plain and
# CONFIG_ZSPP_FOLD=y; syntax only, nothing is linked), so that a guarded
# field touched without its lock, or a helper called without the lock it
# requires (ZSPP_GUARDED_BY / ZSPP_REQUIRES in src/core), fails. Then proves
# the check can fail: in a scratch copy of the core, each case below drops
# one lock from one path, and clang must reject it.
# Prints PASS:/FAIL: lines and "thread-safety: N passed, M failed".
set -uo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_cmd clang++ clang
pass=0 fail=0
ok() { echo "PASS: $*"; pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }
echo "clang: $(clang++ --version | sed -n 1p)"

# $1: core directory, $2...: extra flags. Output in $out.
tsa_build() {
	local core=$1 f rc=0
	shift
	out=""
	for f in "$core"/*.cpp; do
		out+=$(clang++ -std=gnu++17 -fsyntax-only -fno-exceptions -fno-rtti -ffreestanding \
			-Wthread-safety -Wthread-safety-beta -Werror -I"$ZSPP_ROOT/include" -I"$core" "$@" "$f" 2>&1) || rc=1
	done
	return "$rc"
}

for variant in plain fold; do
	flags=()
	[[ $variant == fold ]] && flags=(-DZSPP_FOLD=1)
	if tsa_build "$ZSPP_ROOT/src/core" "${flags[@]}"; then
		ok "clang -Wthread-safety -Werror: src/core ($variant)"
	else
		printf '%s\n' "$out"
		bad "clang -Wthread-safety -Werror: src/core ($variant)"
	fi
done

# Negative cases: in file, the first line equal to $2 (a lock taken) becomes
# $3 (the same path without it, or with another lock), and clang must then
# say $4.
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
neg() {
	local file=$1 line=$2 repl=$3 want=$4 what=$5
	rm -rf "$scratch/core"
	cp -r "$ZSPP_ROOT/src/core" "$scratch/core"
	if ! awk -v l="$line" -v r="$repl" '!done && $0 == l { print r; done = 1; next } { print } END { exit !done }' \
		"$ZSPP_ROOT/src/core/$file" >"$scratch/core/$file"; then
		bad "negative case '$what': line not found in $file (update scripts/thread-safety.sh)"
		return
	fi
	if tsa_build "$scratch/core" -DZSPP_FOLD=1; then
		bad "negative case '$what': clang accepted the core without that lock"
	elif grep -q -- "$want" <<<"$out"; then
		ok "negative case '$what' fails the build: $(grep -m1 -- "$want" <<<"$out" | sed 's/^.*error: //')"
	else
		printf '%s\n' "$out"
		bad "negative case '$what': the build failed, but not with '$want'"
	fi
}
# The class lock's guard (ClassGuard) is the only maker of the ClassLocked
# token the helpers take, so a path without one does not compile under any
# compiler; the token does not say which class. These cases take another
# class's lock instead of the right one: the token is there, and clang must
# still see that the lock the helper needs is not held.
other() { printf '%sClassGuard guard(classes_[0]);' "$1"; }
neg compaction.cpp $'\t\t\tClassGuard guard(cls);' "$(other $'\t\t\t')" \
	"requires holding" "compaction under another class's lock"
neg pool.cpp $'\tClassGuard guard(cls);' "$(other $'\t')" "requires holding" "malloc under another class's lock"
neg pool.cpp $'\t\t\tSpinGuard guard(defer_lock_);' $'\t\t\tstruct { void release() {} } guard;' \
	"requires holding" "deferred-free list without defer_lock_"
neg pool_resolve.h $'\t\tClassGuard guard(cls);' "$(other $'\t\t')" \
	"requires holding" "a map's pin under another class's lock"
neg fold.cpp $'\t\tClassGuard guard(cls);' "$(other $'\t\t')" \
	"requires holding" "copy on write (pin_for_write) under another class's lock"

# Without any class guard, the helpers get no ClassLocked: the core must not
# compile with gcc, the kernel's compiler, which has no thread-safety
# analysis (a guard that takes nothing, so that release() still compiles).
neg_gcc() {
	local file=$1 line=$2 repl=$3 want=$4 what=$5 f rc=0
	rm -rf "$scratch/core"
	cp -r "$ZSPP_ROOT/src/core" "$scratch/core"
	if ! awk -v l="$line" -v r="$repl" '!done && $0 == l { print r; done = 1; next } { print } END { exit !done }' \
		"$ZSPP_ROOT/src/core/$file" >"$scratch/core/$file"; then
		bad "negative case '$what': line not found in $file (update scripts/thread-safety.sh)"
		return
	fi
	out=""
	for f in "$scratch"/core/*.cpp; do
		out+=$(g++ -std=gnu++17 -fsyntax-only -fno-exceptions -fno-rtti -ffreestanding -DZSPP_FOLD=1 \
			-I"$ZSPP_ROOT/include" -I"$scratch/core" "$f" 2>&1) || rc=1
	done
	if [[ $rc -eq 0 ]]; then
		bad "negative case '$what': g++ accepted the core without a class guard"
	elif grep -q -- "$want" <<<"$out"; then
		ok "negative case '$what' fails the gcc build: $(grep -m1 -- "$want" <<<"$out" | sed 's/^.*error: //')"
	else
		printf '%s\n' "$out"
		bad "negative case '$what': the gcc build failed, but not with '$want'"
	fi
}
neg_gcc pool.cpp $'\tClassGuard guard(cls);' $'\tstruct { void release() {} } guard;' \
	"ClassLocked" "malloc with no class guard (gcc)"

echo "thread-safety: $pass passed, $fail failed"
[[ $fail -eq 0 ]]
