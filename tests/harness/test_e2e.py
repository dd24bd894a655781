# SPDX-License-Identifier: GPL-2.0
"""harness.e2e's log judging on small synthetic console logs: a good log passes
every assertion, and each broken one fails the assertion meant to catch it
(and only that one, where that is the point)."""
import io
import os
import shutil
import tempfile
import unittest

from harness import check, e2e, ktap

# A run of the stock 6.1 test on zspp, cut to the lines the checks read (the
# formats of tests/e2e/guest-init.sh and tests/e2e/workload.c).
GOOD = """\
[    0.000000] Linux version 6.1.0-57-amd64
E2E config zpool=zspp insmod='zspp' pages=12288 mem_max=16777216 zswap_max=12582912 compressor=lzo
E2E cgroup memory.max=16777216 memory.zswap.max=12582912
ZSWAP-PARAMS enabled=Y zpool=zspp compressor=lzo max_pool_percent=20
ZSWAP t=1.00 pool_total_size=0 same_filled_pages=0 stored_pages=0 written_back_pages=0
ZSPP zswap1 chain_size=16 pages=0 objects=0 bad_handles=0
ZSWAP t=2.00 pool_total_size=4194304 same_filled_pages=100 stored_pages=3000 written_back_pages=0
ZSPP zswap1 chain_size=16 pages=1024 objects=2900 bad_handles=0
VMSTAT pswpin=0 pswpout=0 zswpin=0 zswpout=0
WORKLOAD-BAD pages=0 zeros=0 older=0 other=0 garbage=0
WORKLOAD pages=12288 verified=12288 mismatches=0
WORKLOAD-EXIT rc=0
VMSTAT pswpin=100 pswpout=2000 zswpin=9000 zswpout=9000
ZSWAP-AFTER t=9.00 pool_limit_hit=0 pool_total_size=0 stored_pages=0 written_back_pages=0
MEMCG-AFTER t=9.00 current=278528 swap=0 zswap=0
ZSPP-AFTER zswap1 chain_size=16 pages=0 objects=0 bad_handles=0
ZSPP-DEBUGFS after-switch pools=0 waited_halfsec=1 names=
RMMOD zspp rc=0 pool_limit_hit=0 refcnt=gone
ZSPP-DEBUGFS after-rmmod exists=0
DMESG-BEGIN
<6>[    1.0] zspp: loaded
<4>[    1.1] zspp: module verification failed: signature and/or required key missing - tainting kernel
DMESG-END
E2E-END
"""

NAMES = ["guest-completed", "zswap-uses-zspp", "workload-verified", "zswap-stored-pages", "swapped-over-2x-limit",
         "zswap-drained", "zspp-objects-during-run", "zspp-no-bad-handles", "zspp-pool-drained", "rmmod-zspp",
         "zspp-debugfs-gone", "dmesg-clean"]


def judge(text, qrc=0, **opts):
    """(passed names, {failed name: why}) of check_log on text."""
    r = e2e.check_log(text, e2e.Opts(**opts), qrc, note=lambda m: None)
    return [n for ok, n, _ in r.items if ok], {n: why for ok, n, why in r.items if not ok}


class CheckLog(unittest.TestCase):
    def test_good_log_passes_everything(self):
        passed, failed = judge(GOOD)
        self.assertEqual(failed, {})
        self.assertEqual(passed, NAMES)

    def assertCaught(self, text, name, why_part, **opts):
        """text fails exactly the assertion name, for the reason given."""
        passed, failed = judge(text, **opts)
        self.assertEqual(list(failed), [name], failed)
        self.assertIn(why_part, failed[name])

    def test_kasan_in_dmesg(self):
        bad = GOOD.replace("DMESG-END", "<3>[    5.0] BUG: KASAN: use-after-free in zs_map\nDMESG-END")
        self.assertCaught(bad, "dmesg-clean", "BUG: KASAN: use-after-free")

    def test_splat_outside_the_dump_needs_scan_console(self):
        bad = GOOD.replace("VMSTAT pswpin=0", "[    3.0] WARNING: CPU: 1 PID: 9 at mm/zswap.c:1\nVMSTAT pswpin=0")
        self.assertEqual(judge(bad)[1], {})
        passed, failed = judge(bad, scan_console=True)
        self.assertEqual(list(failed), ["console-clean"])
        self.assertIn("dmesg-clean", passed)

    def test_no_dump_judges_the_whole_console(self):
        bad = GOOD.replace("DMESG-END\n", "").replace("VMSTAT pswpin=0", "[ 3.0] Oops: 0000\nVMSTAT pswpin=0")
        self.assertCaught(bad, "dmesg-clean", "Oops: 0000")

    def test_bad_input_allows_only_its_own_lines(self):
        refused = "<3>[ 2.0] zspp: `0' invalid for parameter `chain_size'\n"
        bad = GOOD.replace("DMESG-END", refused + "DMESG-END")
        self.assertCaught(bad, "dmesg-clean", "invalid for parameter")
        lines = "".join(f"BADINPUT case{i} ok=1\n" for i in range(15))
        _, failed = judge(bad.replace("E2E-END", lines + "E2E-END"), badin=True)
        self.assertEqual(failed, {})
        _, failed = judge(bad.replace("E2E-END", lines + "BADINPUT chain_size=0 ok=0\nE2E-END"), badin=True)
        self.assertEqual(list(failed), ["bad-input-refused"])

    def test_corrupted_workload_line(self):
        self.assertCaught(GOOD.replace("verified=12288 mismatches=0", "verified=12285 mismatches=3"),
                          "workload-verified", "mismatches=3")
        # Fewer pages than asked for is a failure too.
        self.assertCaught(GOOD.replace("WORKLOAD pages=12288 verified=12288", "WORKLOAD pages=1228 verified=1228"),
                          "workload-verified", "expected pages=12288")
        passed, failed = judge(GOOD.replace("WORKLOAD pages=", "XWORKLOAD pages="))
        self.assertIn("no WORKLOAD line (WORKLOAD-EXIT rc=0)", failed["workload-verified"])

    def test_no_end_and_timeout(self):
        cut = GOOD[:GOOD.index("RMMOD")]
        _, failed = judge(cut, qrc=124)
        self.assertIn("QEMU timed out; last line: ZSPP-DEBUGFS after-switch", failed["guest-completed"])
        self.assertIn("no RMMOD zspp line", failed["rmmod-zspp"])
        _, failed = judge(GOOD.replace("E2E-END", "E2E-ERROR swapoff failed\nE2E-END"))
        self.assertEqual(failed, {"guest-completed": "guest script errors: swapoff failed"})

    def test_wrong_allocator(self):
        self.assertCaught(GOOD.replace("zpool=zspp compressor", "zpool=zbud compressor"), "zswap-uses-zspp",
                          "zswap parameters: ZSWAP-PARAMS enabled=Y zpool=zbud")

    def test_nothing_swapped(self):
        self.assertCaught(GOOD.replace("pswpout=2000 zswpin=9000 zswpout=9000", "pswpout=10 zswpin=0 zswpout=10"),
                          "swapped-over-2x-limit", "pswpout+zswpout=20 pages, limit=4096 pages")
        passed, failed = judge(GOOD.replace("stored_pages=3000", "stored_pages=0"))
        self.assertIn("zswap-stored-pages", failed)

    def test_not_drained(self):
        bad = GOOD.replace("pool_total_size=0 stored_pages=0 written", "pool_total_size=4096 stored_pages=1 written")
        self.assertCaught(bad, "zswap-drained", "; MEMCG-AFTER")
        bad = GOOD.replace("ZSPP-AFTER zswap1 chain_size=16 pages=0", "ZSPP-AFTER zswap1 chain_size=16 pages=3")
        self.assertCaught(bad, "zspp-pool-drained", "pages=3")
        self.assertCaught(GOOD.replace("objects=0 bad_handles=0\nVMSTAT", "objects=0 bad_handles=2\nVMSTAT", 1)
                          .replace("objects=2900 bad_handles=0", "objects=2900 bad_handles=2"),
                          "zspp-no-bad-handles", "bad_handles=2")

    def test_unload(self):
        self.assertCaught(GOOD.replace("RMMOD zspp rc=0", "RMMOD zspp rc=1"), "rmmod-zspp", "RMMOD zspp rc=1")
        self.assertCaught(GOOD.replace("after-switch pools=0", "after-switch pools=1"), "zspp-debugfs-gone",
                          "pools=1")
        self.assertCaught(GOOD.replace("exists=0", "exists=1"), "zspp-debugfs-gone", "exists=1")
        # Stock 6.1's leaked pool references: accepted when the pools left are
        # exactly what holds zspp, and empty; not when one is not empty.
        leak = GOOD.replace("RMMOD zspp rc=0 pool_limit_hit=0 refcnt=gone",
                            "ZSPP-FINAL zswap1 pages=0 zspages=0 objects=0\nRMMOD zspp rc=1 pool_limit_hit=5 refcnt=1")
        leak = leak.replace("after-switch pools=0", "after-switch pools=1").replace("exists=0", "exists=1")
        passed, failed = judge(leak)
        self.assertEqual(failed, {})
        self.assertIn("rmmod-zspp-held-only-by-empty-leaked-zswap-pools", passed)
        passed, failed = judge(leak.replace("ZSPP-FINAL zswap1 pages=0", "ZSPP-FINAL zswap1 pages=2"))
        self.assertIn("stock 6.1 zswap leaks pool references", failed["rmmod-zspp"])
        self.assertIn("zspp-debugfs-gone", failed)

    def test_other_zpool(self):
        log = GOOD.replace("zpool=zspp compressor", "zpool=zsmalloc compressor").replace("RMMOD zspp", "RMMOD zsmalloc")
        passed, failed = judge(log, zpool="zsmalloc")
        self.assertEqual(failed, {})
        self.assertEqual(passed, ["guest-completed", "zswap-uses-zsmalloc", "workload-verified", "zswap-stored-pages",
                                  "swapped-over-2x-limit", "zswap-drained", "rmmod-zsmalloc", "dmesg-clean"])

    def test_switch_pools(self):
        sw = ("SWITCH rmmod-while-in-use rc=1 still_loaded=1 pools=1\nSWITCH compressor=lz4 pools=2\n"
              "SWITCH zpool=zbud pools=2\nSWITCH zpool=zspp pools=2\nSWITCH compressor=lzo pools=2\n")
        self.assertEqual(judge(GOOD.replace("VMSTAT pswpin=100", sw + "VMSTAT pswpin=100"), switch=True)[1], {})
        _, failed = judge(GOOD.replace("VMSTAT pswpin=100", sw.replace("rc=1", "rc=0") + "VMSTAT pswpin=100"),
                          switch=True)
        self.assertEqual(list(failed), ["rmmod-refused-while-zswap-uses-zspp"])
        _, failed = judge(GOOD.replace("VMSTAT pswpin=100", sw.replace("pools=2", "pools=1") + "VMSTAT pswpin=100"),
                          switch=True)
        self.assertEqual(failed, {"switch-several-zspp-pools-at-once": "switch steps=4, most zspp pools at once=1"})

    def test_exiters_and_writeback(self):
        ex = "".join(f"EXITER round={i} killed={i % 2} bad=0\n" for i in range(12))
        wb = GOOD.replace("VMSTAT pswpin=100", ex + "VMSTAT pswpin=100")
        wb = wb.replace("ZSWAP-AFTER t=9.00 pool_limit_hit=0", "ZSWAP-AFTER t=9.00 pool_limit_hit=7")
        wb = wb.replace("stored_pages=0 written_back_pages=0\nMEMCG-AFTER", "stored_pages=0 written_back_pages=9\n"
                        "MEMCG-AFTER")
        wb = wb.replace("ZSPP-AFTER zswap1 chain_size=16 pages=0 objects=0 bad_handles=0",
                        "ZSPP-AFTER zswap1 chain_size=16 pages=0 objects=0 bad_handles=0 pages_reclaimed=4 "
                        "objs_written_back=9")
        passed, failed = judge(wb, exiters=12, expect_wb=True)
        self.assertEqual(failed, {})
        self.assertIn("zspp-reclaimed", passed)
        _, failed = judge(wb.replace("round=3 killed=1 bad=0", "round=3 killed=0 bad=1"), exiters=12)
        self.assertIn("1 bad: EXITER round=3", failed["exiters-ran-and-verified"])
        _, failed = judge(wb, exiters=13)
        self.assertIn("12 of 13 rounds", failed["exiters-ran-and-verified"])
        _, failed = judge(wb.replace("objs_written_back=9", "objs_written_back=0"), expect_wb=True)
        self.assertEqual(failed, {"zspp-reclaimed": "pages_reclaimed=4 objs_written_back=0"})
        _, failed = judge(GOOD, expect_wb=True)
        self.assertEqual(sorted(failed), ["zspp-reclaimed", "zswap-pool-limit-hit", "zswap-written-back"])

    def test_fold(self):
        fold = ("ZSWAP-PREFOLD t=5 pool_total_size=9244672 stored_pages=6366\n"
                "ZSPP-PREFOLD zswap1 pages=2257 objects=6366 pages_folded=0 objs_folded=0 fold_passes=0\n"
                "FOLD zswap1 rc=0 secs=0.1\n"
                "ZSWAP-FOLDED t=6 pool_total_size=217088 stored_pages=6366\n"
                "ZSPP-FOLDED zswap1 pages=53 objects=65 pages_folded=2204 objs_folded=6301 fold_passes=1\n"
                "ZSPP zswap1 pages=60 objects=70 pages_folded=2300 objs_folded=6400 fold_passes=9\n")
        log = GOOD.replace("VMSTAT pswpin=100", fold + "VMSTAT pswpin=100")
        passed, failed = judge(log, expect_fold=True, fold_worker="200")
        self.assertEqual(failed, {})
        self.assertEqual(passed[9:15], ["fold-triggered", "fold-shrank-zswap-pool", "zspp-pages-folded",
                                        "zspp-objs-folded", "fold-worker-passes", "fold-worker-pages-folded"])
        _, failed = judge(log.replace("pool_total_size=217088", "pool_total_size=9244672"), expect_fold=True)
        self.assertEqual(list(failed), ["fold-shrank-zswap-pool"])
        _, failed = judge(log.replace("FOLD zswap1 rc=0 ", "FOLD zswap1 rc=-22 "), expect_fold=True)
        self.assertEqual(failed, {"fold-triggered": "1 FOLD lines; failed: FOLD zswap1 rc=-22 secs=0.1"})
        idle = log.replace("fold_passes=9", "fold_passes=1").replace("pages_folded=2300", "pages_folded=2204")
        _, failed = judge(idle, expect_fold=True, fold_worker="200")
        self.assertEqual(sorted(failed), ["fold-worker-pages-folded", "fold-worker-passes"])

    def test_files_written(self):
        d = tempfile.mkdtemp()
        try:
            e2e.check_log(GOOD.replace("\n", "\r\n"), e2e.Opts(workdir=d), 0, note=lambda m: None)
            with open(os.path.join(d, "console.clean.log")) as fh:
                self.assertEqual(fh.read(), GOOD)
            with open(os.path.join(d, "dmesg.log")) as fh:
                self.assertEqual(fh.read().split("\n")[0], "DMESG-BEGIN")
        finally:
            shutil.rmtree(d)


class Output(unittest.TestCase):
    def test_ktap_and_closing_line_count_as_make_check_counts(self):
        bad = GOOD.replace("DMESG-END", "<3>[    5.0] BUG: KASAN: slab-out-of-bounds\nDMESG-END")
        for name in (None, "e2e-x"):
            out = io.StringIO()
            a = e2e.settle(e2e.parse_args(["--check-only", "x"] + (["--name", name] if name else [])))
            r = e2e.check_log(bad, a.opts, 0, note=lambda m: None)
            real = e2e.sys.stdout
            e2e.sys.stdout = out
            try:
                rc = e2e.finish(a, r)
            finally:
                e2e.sys.stdout = real
            self.assertEqual(rc, 1)
            lines = check.log_lines(out.getvalue())
            self.assertEqual(check.count(lines), (11, 1))
            self.assertIn("# dmesg-clean: <3>[    5.0] BUG: KASAN: slab-out-of-bounds", lines)
            self.assertIn("not ok 12 dmesg-clean", lines)
            doc = ktap.parse(lines)
            self.assertEqual(ktap.counts(doc), (11, 1, 0))
            self.assertEqual(lines[-1], f"{name}: 11 passed, 1 failed" if name else
                             "e2e zspp: 11 assertions passed, 1 failed")

    def test_options(self):
        a = e2e.settle(e2e.parse_args(["--mem", "32M", "--expect-fold", "--fold-worker", "200", "--switch-pools"]))
        self.assertEqual((a.pages, a.zswap_max), ("24576", str(24 << 20)))
        self.assertEqual(a.sets, ["E2E_SWITCH_AT=3", "E2E_FOLD_INTERVAL_MS=200", "E2E_FOLD=1", "E2E_ZSWAP_WRITEBACK=0"])
        self.assertEqual(a.wargs, "-D 64 -P /tmp/e2e-fold")
        a = e2e.settle(e2e.parse_args(["--debug-kernel", "--append", "x=1"]))
        self.assertEqual((a.mem, a.rounds, a.tmo, a.name, a.append, a.opts.scan_console),
                         ("24M", "1", "900", "e2e-debug", "loglevel=5 x=1", True))
        for bad in (["--zpool", "zram"], ["--mem", "4M"], ["--set", 'E2E_X="q"'], ["--fold-worker", "50"],
                    ["--zpool", "zbud", "--expect-fold"], ["--bogus"]):
            with self.subTest(bad=bad), self.assertRaises(SystemExit) as cm:
                e2e.settle(e2e.parse_args(bad))
            self.assertEqual(cm.exception.code, 1)


if __name__ == "__main__":
    unittest.main()
