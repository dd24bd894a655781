# SPDX-License-Identifier: GPL-2.0
import io
import os
import subprocess
import tempfile
import unittest

from harness import judge

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

# The samples scripts/lint.sh holds scripts/lib.sh's splat_lines to.
SPLATS = [
    "[   12.345678] BUG: KASAN: slab-out-of-bounds in zspp_map+0x1c/0x80",
    "[    3.141592] WARNING: CPU: 1 PID: 57 at mm/zswap.c:1203 zswap_store+0x2a/0x90",
    "WARNING: possible circular locking dependency detected",
    "WARNING: possible recursive locking detected",
    "WARNING: inconsistent lock state",
    "WARNING: lock held when returning to user space!",
    "INFO: suspicious RCU usage.",
    "DEBUG_LOCKS_WARN_ON(!current->hardirqs_enabled)",
    "lockdep is turned off.",
    "BUG: sleeping function called from invalid context at mm/slab.h:742",
    "BUG: scheduling while atomic: kworker/0:1/12/0x00000002",
    "kernel BUG at mm/zsmalloc.c:1234!",
    "general protection fault, probably for non-canonical address 0xdead000000000100",
    "Oops: 0000 [#1] PREEMPT SMP KASAN",
    "UBSAN: shift-out-of-bounds in src/core/pool.cpp:88:10",
    " Call Trace:",
    "Kernel panic - not syncing: Fatal exception",
    "INFO: task kworker/u4:2:45 blocked for more than 120 seconds.",
    "kmemleak: 2 new suspected memory leaks (see /sys/kernel/debug/kmemleak)",
    "list_del corruption. prev->next should be ffff888003c1e0a8",
    "zspp: pool 3: bad handle 0x1234 freed",
    "zspp: ERROR: class 12 lost an object",
    "<3>zspp: `0' invalid for parameter `chain_size'",
]
CLEAN = [
    "zspp: module verification failed: signature and/or required key missing - tainting kernel",
    "zswap: loaded using pool lzo/zspp",
    "kmemleak: 0 new suspected memory leaks",
    "<6>zspp: chain_size=4",
]
OOM = ["test_zswap invoked oom-killer: gfp_mask=0x140cca", " Call Trace:", " dump_stack_lvl+0x44/0x5c",
       "Out of memory: Killed process 91 (test_zswap) total-vm:5000kB", "WARNING: CPU: 0 PID: 91 at mm/zswap.c:1 x"]
MEMCG_OOM = ["stress-ng-mmap invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0", " Call Trace:",
             "Memory cgroup out of memory: Killed process 189 (stress-ng-mmap) total-vm:76756kB",
             "WARNING: CPU: 1 PID: 7 at mm/zswap.c:1 x"]
FAULTS = ["workload: page allocation failure: order:0, mode:0x8c40(GFP_NOFS)", " Call Trace:",
          "BUG: KASAN: use-after-free in zspp_free+0x10/0x40", " Call Trace:"]

OOPS = "[    3.811683] Oops: int3: 0000 [#1] PREEMPT SMP NOPTI"
RIP = "[    3.812305] RIP: 0010:kfree+0xa2/0x370"
CODE = ("[    3.812624] Code: c4 f6 c2 01 0f 85 aa 01 00 00 0f 1f 44 00 00 41 80 7c 24 33 f5 0f 85 6c 01 00 00 "
        "4c 8b 75 08 4d 8b 6c 24 08 48 89 5c 24 10 66 <90> 4d 8b 44 24 38 49 83 f8 07 0f 87 a4 01 00 00 0f 1f 44 00 00 48")
BOOT = "".join(f"[    1.{k:06d}] virtio_blk virtio1: [vda] 65536 512-byte logical blocks (33.6 MB/32.0 MiB)\n"
               for k in range(3000))


def text(lines):
    return "".join(line + "\n" for line in lines)


class SplatLines(unittest.TestCase):
    def test_each_report_kind(self):
        for line in SPLATS:
            with self.subTest(line=line):
                self.assertEqual(judge.splat_lines(text(CLEAN + [line])), [line])

    def test_clean_log(self):
        self.assertEqual(judge.splat_lines(text(CLEAN)), [])

    def test_allow(self):
        self.assertEqual(judge.splat_lines(text([SPLATS[-1]]), allow=["invalid for parameter"]), [])

    def test_oom_reports(self):
        self.assertEqual(judge.splat_lines(text(OOM), oom_reports=True), [OOM[-1]])
        self.assertEqual(judge.splat_lines(text(OOM))[0], " Call Trace:")
        self.assertEqual(judge.splat_lines(text(MEMCG_OOM), oom_reports=True), [MEMCG_OOM[-1]])

    def test_fault_traces(self):
        self.assertEqual(judge.splat_lines(text(FAULTS), fault_traces=True), FAULTS[2:])
        self.assertEqual(judge.splat_lines(text(FAULTS))[0], " Call Trace:")

    def test_max(self):
        self.assertEqual(len(judge.splat_lines(text(SPLATS))), 3)
        self.assertEqual(len(judge.splat_lines(text(SPLATS), max_lines=20)), 20)


class GuestLines(unittest.TestCase):
    def test_kernel_message_inside_a_user_line(self):
        text = ("ZRAM-INIT\n[    4.78] zram0: detected capacity change from 0 to 139264\n"
                "ZB rep=4 bytes=1 write_cs=78 read_cs=56 m[   34.399613] zram0: detected capacity change\n"
                "m_stat: 1 2 3\r\nZT ok x\n")
        self.assertEqual(judge.guest_lines(text),
                         ["ZRAM-INIT", "ZB rep=4 bytes=1 write_cs=78 read_cs=56 mm_stat: 1 2 3", "ZT ok x"])

    def test_user_lines_untouched(self):
        self.assertEqual(judge.guest_lines("a [b] c\nZT ok [x]\n"), ["a [b] c", "ZT ok [x]"])


class StaleCode(unittest.TestCase):
    def test_stale_int3_of_a_real_crash(self):
        log = BOOT + text([CLEAN[0], OOPS, RIP, CODE])
        self.assertEqual(judge.stale_code_oops(log), [OOPS, RIP])
        log = BOOT + text(["[    1.749533] Oops: int3: 0000 [#1] PREEMPT SMP NOPTI",
                           "[    1.750052] RIP: 0010:sched_clock_cpu+0x9/0x190",
                           "[    1.750295] Code: 00 e9 b8 fe ff ff 66 66 2e 0f 1f 84 00 00 00 00 00 90 90 90 90 90 90 "
                           "90 90 90 90 90 90 90 90 90 90 f3 0f 1e fa 41 54 55 53 66 <90> e8 41 ac f0 ff 48 03 05"])
        self.assertIsNotNone(judge.stale_code_oops(log))

    def test_not_stale(self):
        cases = {
            "a real int3 in memory": [OOPS, "[    3.8] RIP: 0010:zspp_x+0x2/0x9 [zspp]", "[    3.8] Code: 00 00 c3 cc <cc> cc cc"],
            "an int3 after another report": ["[    3.7] BUG: unable to handle page fault for address: 0000000000000008", OOPS, RIP, CODE],
            "an int3 after a zspp error line": ["zspp: pool 3: bad handle 0x1234 freed", OOPS, RIP, CODE],
            "no opcode bytes": [OOPS, RIP, "[    3.8] Code: Unable to access opcode bytes at 0xffffffff9706d70d."],
            "a clean log": [],
        }
        for why, lines in cases.items():
            with self.subTest(why=why):
                self.assertIsNone(judge.stale_code_oops(BOOT + text(lines)))


class Cli(unittest.TestCase):
    def run_judge(self, lines, *args):
        with tempfile.NamedTemporaryFile("w", suffix=".log") as f:
            f.write(text(lines))
            f.flush()
            out = io.StringIO()
            import contextlib
            with contextlib.redirect_stdout(out):
                rc = judge.main(list(args) + [f.name])
            return rc, out.getvalue()

    def test_scan_pass_and_fail(self):
        self.assertEqual(self.run_judge(CLEAN, "--scan", "kunit"), (0, "PASS: kunit log has no kernel splat\n"))
        rc, out = self.run_judge(CLEAN + SPLATS[:2], "--scan", "kunit")
        self.assertEqual(rc, 1)
        self.assertEqual(out, "FAIL: kunit log has no kernel splat:\n    " + SPLATS[0] + "\n    " + SPLATS[1] + "\n")

    def test_scan_missing_log(self):
        out = io.StringIO()
        self.assertFalse(judge.scan("/nonexistent/console.log", "stress", out))
        self.assertEqual(out.getvalue(), "FAIL: stress log has no kernel splat (no log /nonexistent/console.log)\n")

    def test_lines_and_stale(self):
        self.assertEqual(self.run_judge(OOM, "--oom-reports"), (0, OOM[-1] + "\n"))
        self.assertEqual(self.run_judge([OOPS, RIP, CODE], "--stale-code"), (0, OOPS + "\n" + RIP + "\n"))
        self.assertEqual(self.run_judge(CLEAN, "--stale-code"), (1, ""))
        self.assertEqual(self.run_judge(["ZT ok a[    1.5] zram0: x", "b", "[    2.0] y", "ZT ok c"], "--guest-lines"),
                         (0, "ZT ok ab\nZT ok c\n"))


@unittest.skipUnless(os.path.exists(os.path.join(ROOT, "scripts/lib.sh")), "no scripts/lib.sh")
class SameAsShell(unittest.TestCase):
    """scripts/lib.sh's splat_lines (which runs this module) gives the same
    lines through its shell plumbing; before it did, this held the Python
    patterns to lib.sh's own grep and awk ones."""

    def shell(self, lines, *opts):
        with tempfile.NamedTemporaryFile("w", suffix=".log") as f:
            f.write(text(lines))
            f.flush()
            script = '. scripts/lib.sh; splat_lines "$@"'
            if not subprocess.run(["bash", "-c", '. scripts/lib.sh; declare -F splat_lines'], cwd=ROOT,
                                  capture_output=True).stdout:
                self.skipTest("scripts/lib.sh has no splat_lines")
            r = subprocess.run(["bash", "-c", script, "splat"] + list(opts) + [f.name], cwd=ROOT,
                               capture_output=True, text=True)
            return r.stdout.splitlines()

    def test_same_lines(self):
        samples = [(CLEAN + SPLATS, ()), (CLEAN + SPLATS, ("--max", "20")), (OOM, ("--oom-reports",)),
                   (MEMCG_OOM, ("--oom-reports",)), (FAULTS, ("--fault-traces",)), (FAULTS, ()), (OOM, ())]
        for lines, opts in samples:
            with self.subTest(opts=opts):
                py = judge.splat_lines(text(lines), oom_reports="--oom-reports" in opts,
                                       fault_traces="--fault-traces" in opts,
                                       max_lines=int(opts[1]) if "--max" in opts else 3)
                self.assertEqual(py, self.shell(lines, *opts))


if __name__ == "__main__":
    unittest.main()
