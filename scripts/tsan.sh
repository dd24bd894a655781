#!/usr/bin/env bash
# tsan.sh: the host suites' concurrent tests under ThreadSanitizer, plain and
# CONFIG_ZSPP_FOLD=y (`make -C tests/host [FOLD=1] tsan`: every suite whose
# tests run threads, TSAN_FILTER in tests/host/Makefile). TSan stops at its
# first report (halt_on_error=1), so a race fails the run. A race the design
# accepts is written ZSPP_RACY_READ in the core (the kernel's data_race()),
# never suppressed here. Prints PASS:/FAIL: lines and "tsan: N passed, M failed".
set -uo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
pass=0 fail=0
for variant in plain fold; do
	args=()
	[[ $variant == fold ]] && args=(FOLD=1)
	log=$ZSPP_ROOT/build/tsan-$variant.log
	mkdir -p "${log%/*}"
	make -C "$ZSPP_ROOT/tests/host" "${args[@]}" tsan >"$log" 2>&1
	rc=$?
	ran=$(sed -n 's/^\[==========\] \([0-9]*\) tests\{0,1\} from .* ran\..*/\1/p' "$log")
	if [[ $rc -eq 0 && -n $ran ]] && ! grep -q 'ThreadSanitizer' "$log"; then
		echo "PASS: tsan $variant: $ran concurrent tests, no report"
		pass=$((pass + 1))
	else
		grep -A30 -m1 'WARNING: ThreadSanitizer' "$log" || tail -n 30 "$log"
		echo "FAIL: tsan $variant (rc=$rc; log $log)"
		fail=$((fail + 1))
	fi
done
echo "tsan: $pass passed, $fail failed"
[[ $fail -eq 0 ]]
