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
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

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
exit $fail
