# SPDX-License-Identifier: GPL-2.0
"""harness.fault_e2e's judging on small synthetic console logs (test_e2e's good
log with fault injection's lines added): a clean zspp run passes, a lost page,
a splat or no injected failure fails it, and zsmalloc's losses are reported."""
import io
import os
import shutil
import tempfile
import unittest

from harness import fault_e2e
from harness.test_e2e import GOOD


class FaultE2E(unittest.TestCase):
    FAULTY = GOOD.replace("VMSTAT pswpin=0", "FAULT-CONFIG failslab probability=3\nFAULT-TASK pid=9 make-it-fail=1\n"
                          "FAULT t=2 fail_page_alloc=3 failslab=40\nVMSTAT pswpin=0").replace(
        "WORKLOAD-EXIT rc=0", "WORKLOAD-EXIT rc=0\nFAULT-RESULT failslab injected=50 times_left=1").replace(
        "DMESG-END", "<4>[ 5.0] workload: page allocation failure: order:0\n<4>[ 5.0] Call Trace:\nDMESG-END")

    def run_judge(self, logs):
        d = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, d)
        for z, text in logs.items():
            os.makedirs(os.path.join(d, z))
            with open(os.path.join(d, z, "console.log"), "w") as fh:
                fh.write(text)
        a = fault_e2e.parse(["--check-only", "--workdir", d, "--zpools", " ".join(logs)])
        rep = fault_e2e.Report()
        fault_e2e.judge_runs(a, rep)
        return {n: why for ok, n, why in rep.events if ok is False}, rep

    def test_zspp_clean_run(self):
        failed, rep = self.run_judge({"zspp": self.FAULTY})
        self.assertEqual(failed, {})
        self.assertEqual(fault_e2e.Report.write(rep, io.StringIO()), (7, 0))

    def test_lost_page_and_splat(self):
        bad = self.FAULTY.replace("verified=12288 mismatches=0", "verified=12287 mismatches=1").replace(
            "DMESG-END", "<0>[ 6.0] general protection fault\nDMESG-END")
        failed, _ = self.run_judge({"zspp": bad})
        self.assertEqual(sorted(failed), ["zspp-log-clean", "zspp-no-lost-pages"])
        self.assertIn("lost=1", failed["zspp-no-lost-pages"])
        self.assertIn("general protection fault", failed["zspp-log-clean"])

    def test_no_faults_injected_and_zsmalloc_losses_reported(self):
        failed, _ = self.run_judge({"zspp": self.FAULTY.replace("injected=50", "injected=0").replace(
            "failslab=40", "failslab=0").replace("fail_page_alloc=3", "fail_page_alloc=0")})
        self.assertIn("injected=0", failed["zspp-faults-injected"])
        zsm = self.FAULTY.replace("zpool=zspp", "zpool=zsmalloc").replace("RMMOD zspp", "RMMOD zsmalloc").replace(
            "verified=12288 mismatches=0", "verified=12200 mismatches=88").replace(
            "E2E-END", "E2E-ERROR workload exited with 1\nE2E-END")
        failed, rep = self.run_judge({"zsmalloc": zsm})
        self.assertEqual(failed, {})
        infos = [why for ok, _, why in rep.events if ok is None]
        self.assertTrue(infos[0].startswith("INFO: zsmalloc lost 88 pages"), infos)


if __name__ == "__main__":
    unittest.main()
