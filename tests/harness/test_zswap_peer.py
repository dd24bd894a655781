# SPDX-License-Identifier: GPL-2.0
"""harness.zswap_peer's judging on small synthetic consoles: good boots pass
every check, each broken one fails the check meant to catch it, and the
comparison passes, fails, skips and credits retries as the shell version did."""
import io
import unittest

from harness import check, peer, zswap_peer

TESTS = ["test_zswap_usage", "test_swapin_nozswap", "test_zswapin", "test_no_kmem_bypass"]
SOURCE = """\
#define T(x) { x, #x }
struct zswap_test {
} tests[] = {
	T(test_zswap_usage),
	T(test_swapin_nozswap),
	T(test_zswapin),
	T(test_no_kmem_bypass),
};
"""
# A boot of tests/test-zswap/guest-init.sh cut to what the checks read.
ZSPP = """\
[    0.000000] Linux version 6.12.118+deb12-amd64
ZSWAP-PARAMS enabled=Y zpool=zspp compressor=lzo
TZ running test_zswap
not ok 1 test_zswap_usage
ok 2 # SKIP test_swapin_nozswap
ok 3 test_zswapin
ok 4 test_no_kmem_bypass
# Totals: pass:2 fail:1 xfail:0 xpass:0 skip:1 error:0
TZ-EXIT rc=1
PEAK stored_pages=29850 zspp_objects=32108
ZSWAP-PARAMS-AFTER enabled=Y zpool=zspp compressor=lzo
ZSPP zswap1 chain_size=16 pages=611 objects=879 fold_passes=12 pages_folded=3 fold_cow=0
DMESG-BEGIN
<4>[    1.0] zspp: module verification failed: signature and/or required key missing - tainting kernel
DMESG-END
TZ-END
"""
ZSMALLOC = ZSPP.replace("zpool=zspp", "zpool=zsmalloc").replace(" zspp_objects=32108", " zspp_objects=0")


def boot(text, zp="zspp", zparams=""):
    r = peer.Results(note=lambda m: None)
    res = zswap_peer.judge_boot(r, text, zp, zp, zparams, TESTS)
    return r, res


def failed(r):
    return {n: w for ok, n, w in r.items if ok is False}


class JudgeBoot(unittest.TestCase):
    def test_tests_of_the_source(self):
        self.assertEqual(zswap_peer.test_names(SOURCE), TESTS)

    def test_good_boots(self):
        r, res = boot(ZSPP, zparams="fold_interval_ms=200")
        self.assertEqual(failed(r), {})
        self.assertEqual([n for _, n, _ in r.items], ["test_zswap zspp boot completed", "test_zswap zspp zswap used zspp",
                                                      "test_zswap zspp pool stored pages", "test_zswap zspp dmesg clean",
                                                      "test_zswap zspp fold worker ran"])
        self.assertEqual(res, {"test_zswap_usage": "fail", "test_swapin_nozswap": "skip", "test_zswapin": "pass",
                               "test_no_kmem_bypass": "pass"})
        r, res = boot(ZSMALLOC, "zsmalloc")
        self.assertEqual(failed(r), {})
        self.assertEqual(len(r.items), 4)

    def assertCaught(self, text, name, why_part, zp="zspp", zparams=""):
        r, _ = boot(text, zp, zparams)
        self.assertEqual(list(failed(r)), [name], failed(r))
        self.assertIn(why_part, failed(r)[name])

    def test_boot_not_completed(self):
        self.assertCaught(ZSPP.replace("TZ-END\n", ""), "test_zswap zspp boot completed", "last line: DMESG-END")
        self.assertCaught(ZSPP.replace("TZ-EXIT rc=1\n", ""), "test_zswap zspp boot completed", "qemu rc=0")
        self.assertCaught(ZSPP.replace("TZ-END", "TZ-ERROR swapon failed\nTZ-END"), "test_zswap zspp boot completed",
                          "TZ-ERROR swapon failed")

    def test_wrong_zpool(self):
        self.assertCaught(ZSPP.replace("AFTER enabled=Y zpool=zspp", "AFTER enabled=Y zpool=zsmalloc"),
                          "test_zswap zspp zswap used zspp", "zpool=zsmalloc")
        self.assertCaught(ZSPP.replace("AFTER enabled=Y", "AFTER enabled=N"), "test_zswap zspp zswap used zspp",
                          "enabled=N")

    def test_nothing_stored(self):
        self.assertCaught(ZSPP.replace("stored_pages=29850", "stored_pages=0"), "test_zswap zspp pool stored pages",
                          "PEAK stored_pages=0")
        # zspp's own objects count too (zsmalloc has none to count).
        self.assertCaught(ZSPP.replace("zspp_objects=32108", "zspp_objects=0"), "test_zswap zspp pool stored pages",
                          "zspp_objects=0")
        self.assertEqual(failed(boot(ZSMALLOC, "zsmalloc")[0]), {})
        self.assertCaught(ZSPP.replace("PEAK", "XPEAK"), "test_zswap zspp pool stored pages", "no PEAK line")

    def test_splat_but_not_the_oom_killer(self):
        self.assertCaught(ZSPP.replace("DMESG-END", "<4>[ 5.0] WARNING: CPU: 1 PID: 9 at mm/zswap.c:1\nDMESG-END"),
                          "test_zswap zspp dmesg clean", "WARNING: CPU: 1")
        oom = ZSPP.replace("DMESG-END", "<4>[ 5.0] test_zswap invoked oom-killer: gfp_mask=0x0\n<4>[ 5.0] Call Trace:\n"
                           "<3>[ 5.1] Out of memory: Killed process 80 (test_zswap)\nDMESG-END")
        notes = []
        r = peer.Results(note=notes.append)
        zswap_peer.judge_boot(r, oom, "zspp", "zspp", "", TESTS)
        self.assertEqual(failed(r), {})
        self.assertIn("the OOM killer ran 1 time(s): Out of memory: Killed process 80 (test_zswap)", notes[0])
        # A splat outside the dump is not judged when the dump is there...
        self.assertEqual(failed(boot(ZSPP.replace("TZ running", "[ 2.0] Oops: 0000\nTZ running"))[0]), {})
        # ...and is when the guest never dumped.
        self.assertCaught(ZSPP.replace("TZ running", "[ 2.0] Oops: 0000\nTZ running").replace("DMESG-END\n", ""),
                          "test_zswap zspp dmesg clean", "Oops: 0000")

    def test_fold_worker(self):
        self.assertCaught(ZSPP.replace("fold_passes=12", "fold_passes=0"), "test_zswap zspp fold worker ran",
                          "fold_passes=0", zparams="fold_interval_ms=200")
        self.assertCaught(ZSPP.replace("ZSPP zswap1", "XZSPP zswap1"), "test_zswap zspp fold worker ran",
                          "no ZSPP summary after the run", zparams="fold_interval_ms=200")

    def test_missing_test_line(self):
        _, res = boot(ZSPP.replace("ok 3 test_zswapin\n", ""))
        self.assertEqual(res["test_zswapin"], "missing")


def compare(result, zpools=("zsmalloc", "zspp")):
    r = peer.Results(note=lambda m: None)
    zswap_peer.compare(r, result, TESTS, list(zpools))
    return r


class Compare(unittest.TestCase):
    REF = {"test_zswap_usage": "fail", "test_swapin_nozswap": "pass", "test_zswapin": "pass",
           "test_no_kmem_bypass": "pass"}

    def test_same_results(self):
        r = compare({"zsmalloc": self.REF, "zspp": dict(self.REF)})
        self.assertEqual((r.passed, r.failed, r.skipped), (4, 0, 1))
        out = io.StringIO()
        r.ktap(out)
        self.assertIn("ok 1 test_zswap test_zswap_usage # SKIP fail with zsmalloc, fail with zspp: nothing to compare",
                      out.getvalue())
        self.assertIn("# test_zswap reference passes tests: 3 of 4 with zsmalloc\nok 5", out.getvalue())
        # make check counts the KTAP and the closing line alike.
        self.assertEqual(check.count(out.getvalue().split("\n")), (4, 0))

    def test_zspp_fails_a_test(self):
        r = compare({"zsmalloc": self.REF, "zspp": dict(self.REF, test_zswapin="fail")})
        self.assertEqual(failed(r), {"test_zswap test_zswapin": "passes with zsmalloc, fail with zspp"})

    def test_retries(self):
        result = {"zsmalloc": self.REF, "zspp": dict(self.REF, test_zswapin="fail", test_no_kmem_bypass="missing")}
        self.assertEqual(zswap_peer.mismatches(result, TESTS), ["test_zswapin", "test_no_kmem_bypass"])
        zswap_peer.merge_retry(result, dict(self.REF, test_no_kmem_bypass="fail"), 2)
        self.assertEqual(zswap_peer.mismatches(result, TESTS), ["test_no_kmem_bypass"])
        zswap_peer.merge_retry(result, dict(self.REF), 3)
        self.assertEqual(zswap_peer.mismatches(result, TESTS), [])
        # As the shell did: a later passing boot is the one the table names.
        self.assertEqual(result["zspp"]["test_zswapin"], "pass@3")
        r = compare(result)
        self.assertEqual(failed(r), {})
        self.assertIn(("test_zswap test_no_kmem_bypass", "zspp passed on boot 3, not on the first"),
                      [(n, w) for ok, n, w in r.items if ok])

    def test_reference_passes_nothing(self):
        none = {t: "fail" for t in TESTS}
        r = compare({"zsmalloc": none, "zspp": self.REF})
        self.assertEqual(failed(r), {"test_zswap reference passes tests": "no test passed with zsmalloc"})
        self.assertEqual(r.skipped, 4)

    def test_one_zpool(self):
        r = compare({"zspp": dict(self.REF, test_swapin_nozswap="skip")}, ("zspp",))
        self.assertEqual(failed(r), {"test_zswap test_zswap_usage on zspp": "fail"})
        self.assertEqual(r.skipped, 1)

    def test_table(self):
        t = zswap_peer.table({"zsmalloc": self.REF, "zspp": dict(self.REF, test_zswapin="pass@2")}, TESTS,
                             ["zsmalloc", "zspp"], "6.12.118+deb12-amd64")
        self.assertIn("test_zswapin                       pass      pass@2", t)


if __name__ == "__main__":
    unittest.main()
