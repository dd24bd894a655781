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
#  3. The one kernel-splat pattern (splat_lines in scripts/lib.sh, which runs
#     tests/harness/judge.py) catches a sample of each report it names, passes
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

# 3. The splat pattern, on sample logs.
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
splats=(
	'[   12.345678] BUG: KASAN: slab-out-of-bounds in zspp_map+0x1c/0x80'
	'[    3.141592] WARNING: CPU: 1 PID: 57 at mm/zswap.c:1203 zswap_store+0x2a/0x90'
	'WARNING: possible circular locking dependency detected'
	'WARNING: possible recursive locking detected'
	'WARNING: inconsistent lock state'
	'WARNING: lock held when returning to user space!'
	'INFO: suspicious RCU usage.'
	'DEBUG_LOCKS_WARN_ON(!current->hardirqs_enabled)'
	'lockdep is turned off.'
	'BUG: sleeping function called from invalid context at mm/slab.h:742'
	'BUG: scheduling while atomic: kworker/0:1/12/0x00000002'
	'kernel BUG at mm/zsmalloc.c:1234!'
	'general protection fault, probably for non-canonical address 0xdead000000000100'
	'Oops: 0000 [#1] PREEMPT SMP KASAN'
	'UBSAN: shift-out-of-bounds in src/core/pool.cpp:88:10'
	' Call Trace:'
	'Kernel panic - not syncing: Fatal exception'
	'INFO: task kworker/u4:2:45 blocked for more than 120 seconds.'
	'kmemleak: 2 new suspected memory leaks (see /sys/kernel/debug/kmemleak)'
	'list_del corruption. prev->next should be ffff888003c1e0a8'
	'zspp: pool 3: bad handle 0x1234 freed'
	'zspp: ERROR: class 12 lost an object'
	'<3>zspp: `0'"'"' invalid for parameter `chain_size'"'"''
)
clean=(
	'zspp: module verification failed: signature and/or required key missing - tainting kernel'
	'zswap: loaded using pool lzo/zspp'
	'kmemleak: 0 new suspected memory leaks'
	'<6>zspp: chain_size=4'
)
missed=() bad=()
for l in "${splats[@]}"; do
	printf '%s\n' "${clean[@]}" "$l" >"$t/log"
	[[ -n $(splat_lines "$t/log") ]] || missed+=("$l")
done
printf '%s\n' "${clean[@]}" >"$t/log"
[[ -z $(splat_lines "$t/log") ]] || bad+=("a clean log: $(splat_lines "$t/log")")
# What each option tolerates, and only that.
printf '%s\n' '<3>zspp: `0'"'"' invalid for parameter `chain_size'"'"'' >"$t/log"
[[ -z $(splat_lines --allow "invalid for parameter" "$t/log") ]] || bad+=("--allow kept its line")
printf '%s\n' 'test_zswap invoked oom-killer: gfp_mask=0x140cca' ' Call Trace:' ' dump_stack_lvl+0x44/0x5c' \
	'Out of memory: Killed process 91 (test_zswap) total-vm:5000kB' 'WARNING: CPU: 0 PID: 91 at mm/zswap.c:1 x' >"$t/log"
[[ $(splat_lines --oom-reports "$t/log") == 'WARNING: CPU: 0 PID: 91 at mm/zswap.c:1 x' ]] ||
	bad+=("--oom-reports: '$(splat_lines --oom-reports "$t/log" | paste -sd '|' -)'")
[[ $(splat_lines "$t/log" | sed -n 1p) == ' Call Trace:' ]] || bad+=("an OOM report passed without --oom-reports")
# A memory cgroup's OOM report ends at its own "Killed process" line (on a
# console at loglevel=5 no oom_reaper line follows it).
printf '%s\n' 'stress-ng-mmap invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0' ' Call Trace:' \
	'Memory cgroup out of memory: Killed process 189 (stress-ng-mmap) total-vm:76756kB' \
	'WARNING: CPU: 1 PID: 7 at mm/zswap.c:1 x' >"$t/log"
[[ $(splat_lines --oom-reports "$t/log") == 'WARNING: CPU: 1 PID: 7 at mm/zswap.c:1 x' ]] ||
	bad+=("--oom-reports, memory cgroup: '$(splat_lines --oom-reports "$t/log" | paste -sd '|' -)'")
printf '%s\n' 'workload: page allocation failure: order:0, mode:0x8c40(GFP_NOFS)' ' Call Trace:' \
	'BUG: KASAN: use-after-free in zspp_free+0x10/0x40' ' Call Trace:' >"$t/log"
[[ $(splat_lines --fault-traces "$t/log" | paste -sd '|' -) == 'BUG: KASAN: use-after-free in zspp_free+0x10/0x40| Call Trace:' ]] ||
	bad+=("--fault-traces: '$(splat_lines --fault-traces "$t/log" | paste -sd '|' -)'")
[[ $(splat_lines "$t/log" | sed -n 1p) == ' Call Trace:' ]] || bad+=("an injected failure's trace passed without --fault-traces")
if [[ ${#missed[@]} -eq 0 && ${#bad[@]} -eq 0 ]]; then
	echo "PASS: lint splat pattern catches ${#splats[@]} kinds of report, passes ${#clean[@]} clean lines, options tolerate only theirs"
else
	echo "FAIL: lint splat pattern (splat_lines, tests/harness/judge.py):"
	printf '    missed: %s\n' "${missed[@]}"
	printf '    %s\n' "${bad[@]}"
	fail=1
fi

# 3b. stale_code_oops (qemu-run.sh boots again on it): the stale int3 of a real
# crash (6.12 TCG, test_zswap with zspp fold, its first lines verbatim) and
# nothing else: not a real int3 in memory, not an int3 after another report, not
# a report without opcode bytes, not a clean log. Padded past a pipe buffer so
# an early reader would show as a SIGPIPE failure.
stale_bad=()
stale_log() { # LINE...: 200 KiB of boot lines, then the LINEs
	{ for ((k = 0; k < 3000; k++)); do printf '[    1.%06d] virtio_blk virtio1: [vda] 65536 512-byte logical blocks (33.6 MB/32.0 MiB)\n' "$k"; done
	  printf '%s\n' "$@"; } >"$t/log"
}
oops='[    3.811683] Oops: int3: 0000 [#1] PREEMPT SMP NOPTI'
rip='[    3.812305] RIP: 0010:kfree+0xa2/0x370'
code='[    3.812624] Code: c4 f6 c2 01 0f 85 aa 01 00 00 0f 1f 44 00 00 41 80 7c 24 33 f5 0f 85 6c 01 00 00 4c 8b 75 08 4d 8b 6c 24 08 48 89 5c 24 10 66 <90> 4d 8b 44 24 38 49 83 f8 07 0f 87 a4 01 00 00 0f 1f 44 00 00 48'
stale_log 'zspp: module verification failed: signature and/or required key missing - tainting kernel' "$oops" "$rip" "$code"
[[ $(stale_code_oops "$t/log" | paste -sd '|' -) == "$oops|$rip" ]] || stale_bad+=("missed the stale int3 of kfree+0xa2")
# The same in a zsmalloc boot, no module loaded, PID 1 in early boot (sched_clock_running).
stale_log '[    1.749533] Oops: int3: 0000 [#1] PREEMPT SMP NOPTI' '[    1.750052] RIP: 0010:sched_clock_cpu+0x9/0x190' \
	'[    1.750295] Code: 00 e9 b8 fe ff ff 66 66 2e 0f 1f 84 00 00 00 00 00 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 f3 0f 1e fa 41 54 55 53 66 <90> e8 41 ac f0 ff 48 03 05 a2 02 d2 01 48 89 c2 5b 48 89 d0 5d 41'
stale_code_oops "$t/log" >/dev/null || stale_bad+=("missed the stale int3 of sched_clock_cpu+0x9")
stale_log "$oops" '[    3.8] RIP: 0010:zspp_x+0x2/0x9 [zspp]' '[    3.8] Code: 00 00 c3 cc <cc> cc cc'
stale_code_oops "$t/log" >/dev/null && stale_bad+=("took an int3 memory holds (cc before <..>) for stale")
stale_log '[    3.7] BUG: unable to handle page fault for address: 0000000000000008' "$oops" "$rip" "$code"
stale_code_oops "$t/log" >/dev/null && stale_bad+=("took an int3 after another report for stale")
stale_log 'zspp: pool 3: bad handle 0x1234 freed' "$oops" "$rip" "$code"
stale_code_oops "$t/log" >/dev/null && stale_bad+=("took an int3 after a zspp error line for stale")
stale_log "$oops" "$rip" '[    3.8] Code: Unable to access opcode bytes at 0xffffffff9706d70d.'
stale_code_oops "$t/log" >/dev/null && stale_bad+=("took a report without opcode bytes for stale")
stale_log
stale_code_oops "$t/log" >/dev/null && stale_bad+=("took a clean log for stale")
if [[ ${#stale_bad[@]} -eq 0 ]]; then
	echo "PASS: lint stale_code_oops takes the stale int3 of a real crash, not a real int3, a later one, one without bytes or a clean log"
else
	echo "FAIL: lint stale_code_oops (tests/harness/judge.py):"
	printf '    %s\n' "${stale_bad[@]}"
	fail=1
fi

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
