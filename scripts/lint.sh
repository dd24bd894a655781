#!/usr/bin/env bash
# lint.sh: rules for the shell scripts that a test run would only catch by
# luck. One PASS:/FAIL: line per rule; non-zero on any FAIL.
#
#  1. No reader that exits early in a pipeline (`| grep -q`, `| grep -m N`,
#     `| head`, `| sed q`): under `set -o pipefail` the writer then dies of
#     SIGPIPE and the pipeline fails at random (it broke install-deps on a
#     fresh machine 6 times out of 6). Read the whole input instead
#     (`grep ... >/dev/null`, `sed -n 1p`), or grep a here-string.
#  2. Debian's shellcheck at severity warning and above on every script.
#  3. The one kernel-splat pattern (tests/harness/judge.py, which splat_lines
#     in scripts/lib.sh runs) catches a sample of each report it names, passes
#     the lines every log has, and
#     tolerates only what each option says; stale_code_oops (the one report
#     qemu-run.sh boots again on) takes a real stale int3 and nothing else.
#  4. include/zspp/zspp.h, the public API: every function has a kernel-doc
#     comment, and the kernel's own scripts/kernel-doc -none -Wall (6.12's,
#     from linux-headers-6.12-*-common, else extracted from linux-source-6.12
#     into $ZSPP_CACHE/kernel-doc; never stored in the repo) warns about
#     nothing (parameters, Return: sections, short descriptions).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

fail=0
# Every tracked shell script: by name, or by a sh/bash shebang.
mapfile -t scripts < <(git ls-files 2>/dev/null | while IFS= read -r f; do
	[[ -f $f ]] || continue
	case $f in
	*.sh | .ci/run) echo "$f" ;;
	*.c | *.h | *.cpp | *.py | *.md | *.rst | *.csv | *.png) ;;
	*) if [[ $(sed -n 1p "$f" 2>/dev/null) =~ ^\#!.*(/|env\ )(ba)?sh ]]; then echo "$f"; fi ;;
	esac
done)
if [[ ${#scripts[@]} -eq 0 ]]; then
	echo "FAIL: lint found no scripts (not a git checkout?)"
	exit 1
fi

# 1. Early-exit readers. A continued line (ending in `|` or `\`) is joined
# with the next, so a reader on the following line is seen too.
early='(^|[^|])\|[[:space:]]*(head([[:space:]]|$)|grep([[:space:]]+-[A-Za-z]+)*[[:space:]]+-[A-Za-z]*[qm]|sed[[:space:]]+(-n[[:space:]]+)?.?[0-9]*q)'
hits=$(for f in "${scripts[@]}"; do
	awk -v f="$f" '
		{ line = $0; sub(/^[ \t]*#.*/, "", line) }
		held != "" { line = held " " line; held = "" }
		/(\||\\)[ \t]*$/ { held = line; next }
		{ print f ":" NR ": " line }' "$f"
done | grep -E "$early" || true)
if [[ -z $hits ]]; then
	echo "PASS: lint no early-exit reader in a pipeline (${#scripts[@]} scripts)"
else
	echo "FAIL: lint early-exit reader in a pipeline (SIGPIPE under pipefail):"
	sed 's/^/    /' <<<"$hits"
	fail=1
fi

# 2. shellcheck.
if ! command -v shellcheck >/dev/null; then
	echo "FAIL: lint shellcheck installed (apt-get install shellcheck)"
	fail=1
elif out=$(shellcheck -S warning -x "${scripts[@]}" 2>&1); then
	echo "PASS: lint shellcheck -S warning ($(shellcheck --version | sed -n 's/^version: //p'), ${#scripts[@]} scripts)"
else
	echo "FAIL: lint shellcheck -S warning:"
	sed 's/^/    /' <<<"$out"
	fail=1
fi

# 3. The splat pattern and stale_code_oops (tests/harness/judge.py, run by
# splat_lines and stale_code_oops in lib.sh), held to the samples of
# tests/harness/test_judge.py: SplatLines and SameAsShell (every kind of report
# caught through lib.sh too, clean lines passed, each option tolerating only its
# own), StaleCode (a real stale int3, padded past a pipe buffer; not a real
# int3, a later one, one without bytes or a clean log).
judge_tests() { # TEXT CLASS...: one PASS:/FAIL: line for test_judge's CLASSes
	local text=$1 out
	shift
	if out=$(cd tests && python3 -m unittest -q "${@/#/harness.test_judge.}" 2>&1); then
		echo "PASS: lint $text"
	else
		echo "FAIL: lint $text (tests/harness/test_judge.py $*):"
		sed 's/^/    /' <<<"$out"
		fail=1
	fi
}
judge_tests "splat pattern catches 23 kinds of report, passes 4 clean lines, options tolerate only theirs" \
	SplatLines SameAsShell
judge_tests "stale_code_oops takes the stale int3 of a real crash, not a real int3, a later one, one without bytes or a clean log" \
	StaleCode

# 4. kernel-doc on the public API.
# kernel_doc: print a kernel-doc script that knows -Wall (Linux 6.10+).
kernel_doc() {
	local k tb d
	for k in /usr/src/linux-headers-*-common/scripts/kernel-doc "$ZSPP_CACHE"/kernel-doc/*/kernel-doc; do
		if [[ -f $k ]] && grep -e '-Wall' "$k" >/dev/null; then
			echo "$k"
			return 0
		fi
	done
	tb=/usr/src/linux-source-6.12.tar.xz
	[[ -f $tb ]] || return 1
	d=$ZSPP_CACHE/kernel-doc/linux-source-6.12
	mkdir -p "$d" && tar -xJf "$tb" -C "$d" --wildcards --strip-components=2 '*/scripts/kernel-doc' &&
		[[ -f $d/kernel-doc ]] && echo "$d/kernel-doc"
}
api=include/zspp/zspp.h
if ! kd=$(kernel_doc); then
	echo "FAIL: lint kernel-doc $api (no kernel-doc with -Wall: apt-get install linux-headers-6.12-amd64 or linux-source-6.12)"
	fail=1
else
	kdout=$(perl "$kd" -none -Wall "$api" 2>&1)
	# The functions the header declares (comments stripped) and those kernel-doc documents.
	declared=$(gcc -fpreprocessed -dD -E -P "$api" | grep -oE '\bzspp_[a-z0-9_]+\(' | tr -d '(' | sort -u)
	documented=$(perl "$kd" -rst -sphinx-version 3.0 "$api" 2>/dev/null |
		sed -nE 's/^\.\. c:function:: .*[ *](zspp_[a-z0-9_]+) \(.*/\1/p' | sort -u)
	undoc=$(comm -23 <(printf '%s\n' "$declared") <(printf '%s\n' "$documented") | paste -sd ' ' -)
	if [[ -z $kdout && -z $undoc && -n $declared ]]; then
		echo "PASS: lint kernel-doc -none -Wall $api ($(wc -l <<<"$declared") functions documented; $kd)"
	else
		echo "FAIL: lint kernel-doc -none -Wall $api ($kd):"
		[[ -z $kdout ]] || sed 's/^/    /' <<<"$kdout"
		[[ -z $undoc ]] || echo "    no kernel-doc comment: $undoc"
		[[ -n $declared ]] || echo "    found no function declarations"
		fail=1
	fi
fi
exit $fail
