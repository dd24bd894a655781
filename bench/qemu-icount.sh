#!/usr/bin/env bash
# bench/qemu-icount.sh: QEMU for scripts/qemu-run.sh (QEMU=this) with
# `-icount shift=0,sleep=off`: guest time advances 1 ns per guest instruction,
# so guest-measured nanoseconds are instruction counts (scripts/bench.sh
# --icount). icount runs all vCPUs in one host thread (no MTTCG).
set -euo pipefail
exec "${ZSPP_QEMU_REAL:-qemu-system-x86_64}" -icount shift=0,sleep=off "$@"
