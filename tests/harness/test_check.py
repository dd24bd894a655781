# SPDX-License-Identifier: GPL-2.0
import io
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

from harness import check

# How scripts/check.sh counted a stage's log before harness.check replaced it
# (its PASS:/FAIL: lines, else its summary lines): count() must agree on any
# log without KTAP.
SHELL_COUNT = r'''
log=$1
p=$(grep -cE '^PASS: ' "$log" || true)
f=$(grep -cE '^FAIL: ' "$log" || true)
if [ "$((p + f))" -eq 0 ]; then
	while read -r sp sf; do
		p=$((p + sp)); f=$((f + sf))
	done < <(sed -nE 's/^([A-Za-z0-9_-]+: )?([0-9]+) passed, ([0-9]+) failed.*$/\2 \3/p' "$log")
fi
echo "$p $f"
grep -E '^(FAIL: |.*[1-9][0-9]* failed)' "$log" | sed -n '1,20p'
echo "kernel: $(sed -n 's/^kernel: //p' "$log" | sort -u | paste -sd ' ' -)"
'''

LOGS = {
    "pass-fail lines": "build noise\nPASS: a\nPASS: b\nFAIL: c (why)\n  PASS: indented is not counted\n",
    "summary lines": "gtest: 10 passed, 0 failed\nfuzz: 1 passed, 2 failed, 3 s\n4 passed, 0 failed\n",
    "pass-fail win over summaries": "PASS: x\n7 passed, 1 failed\n",
    "summary with odd prefixes": "a b: 3 passed, 1 failed\nx-y_z: 2 passed, 0 failed\n 5 passed, 0 failed\n",
    "nothing": "just output\n",
    "no final newline": "PASS: a\nFAIL: b",
    "carriage returns": "PASS: a\r\nsome\rPASS: not at a line start for grep\nFAIL: c\r\n",
    "shown lines": "".join(f"FAIL: {i}\n" for i in range(25)) + "x 10 failed\nx 0 failed\n",
    "kernels": "kernel: 6.12.118+deb12-amd64\nkernel: 6.1.0-57-amd64\nkernel: 6.1.0-57-amd64\nPASS: a\n",
}


class Count(unittest.TestCase):
    def test_same_as_check_sh(self):
        if not shutil.which("bash"):
            self.skipTest("no bash")
        for what, log in LOGS.items():
            with self.subTest(log=what), tempfile.NamedTemporaryFile("w") as f:
                f.write(log)
                f.flush()
                sh = subprocess.run(["bash", "-c", SHELL_COUNT, "count", f.name], capture_output=True,
                                    check=True).stdout.decode().split("\n")
                lines = check.log_lines(log)
                p, fl = check.count(lines)
                shown = [line for line in lines if check._SHOWN.search(line)][:20]
                self.assertEqual(f"{p} {fl}", sh[0])
                self.assertEqual(shown, sh[1:1 + len(shown)])
                self.assertEqual("kernel: " + check.kernels(lines), sh[1 + len(shown)])

    def test_ktap(self):
        log = ("make: entering\nKTAP version 1\n1..2\n    KTAP version 1\n    # Subtest: m\n    1..2\n"
               "    ok 1 a\n    not ok 2 b\nnot ok 1 m\nok 2 c # SKIP no\n")
        self.assertEqual(check.count(check.log_lines(log)), (1, 1))
        # PASS:/FAIL: lines win over KTAP.
        self.assertEqual(check.count(check.log_lines(log + "PASS: z\n")), (1, 0))
        # Summary lines win over KTAP (bench/workloads prints both).
        self.assertEqual(check.count(check.log_lines(log + "w: 3 passed, 0 failed\n")), (3, 0))
        # An indented KTAP header (a console excerpt) is not the stage's KTAP.
        self.assertEqual(check.count(check.log_lines("    KTAP version 1\n    ok 1 a\n")), (0, 0))
        # A planned result that never came is a failure.
        self.assertEqual(check.count(check.log_lines("KTAP version 1\n1..3\nok 1 a\n")), (1, 2))


class Stage(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()
        self.c = check.Check(logdir=self.dir)
        open(self.c.results, "w").close()

    def tearDown(self):
        shutil.rmtree(self.dir)

    def run_stage(self, name, script):
        out = io.StringIO()
        self.c.stage(out, name, "bash", "-c", script)
        return out.getvalue()

    def test_exit_without_failure_is_one_failure(self):
        out = self.run_stage("s", "echo PASS: a; echo kernel: 6.1; exit 3")
        self.assertTrue(out.startswith("=== s: bash -c echo PASS: a; echo kernel: 6.1; exit 3\n"
                                       "FAIL: s exited 3 without reporting a failure\n"))
        self.assertRegex(out, r"\n=== s: 1 passed, 1 failed \(rc=3, \d+s, log " + self.dir + r"/s.log\) kernel: 6.1\n$")
        with open(os.path.join(self.dir, "s.log")) as f:
            self.assertEqual(f.read().split("\n")[-2], "FAIL: s exited 3 without reporting a failure")
        with open(self.c.results) as f:
            self.assertRegex(f.read(), r"^s\t1\t1\t\d+\t6.1\n$")

    def test_reported_failure_and_tail(self):
        out = self.run_stage("t", "for i in $(seq 40); do echo line $i; done; echo 'FAIL: x (y)'; exit 1")
        lines = out.split("\n")
        self.assertEqual(lines[1], "FAIL: x (y)")
        self.assertEqual(lines[2], "line 12")  # tail -n 30 of 41 lines
        self.assertEqual(lines[31], "FAIL: x (y)")
        self.assertRegex(lines[32], r"^=== t: 0 passed, 1 failed \(rc=1, ")

    def test_passing_stage(self):
        out = self.run_stage("u", "echo '12 passed, 0 failed'")
        self.assertRegex(out, r"=== u: 12 passed, 0 failed \(rc=0, \d+s, log [^)]*\)\n$")

    def test_missing_command(self):
        out = io.StringIO()
        self.c.stage(out, "v", "/nonexistent/stage.sh")
        self.assertIn("=== v: 0 passed, 1 failed (rc=127,", out.getvalue())

    def test_signal(self):
        out = self.run_stage("w", "kill -TERM $$")
        self.assertIn("(rc=143,", out)

    def test_only(self):
        self.c.only = {"other"}
        self.assertEqual(self.run_stage("x", "exit 1"), "")

    def test_ko(self):
        self.run_stage("m", "echo KO=/a/zspp.ko; echo KO=/b/zspp.ko")
        self.assertEqual(self.c.ko("m"), "/b/zspp.ko")
        self.assertEqual(self.c.ko("none"), "")

    def test_summary(self):
        with open(self.c.results, "w") as f:
            f.write("lint\t5\t0\t32\t\nmodule\t10\t1\t14\t6.1.0-57-amd64\n")
        out = io.StringIO()
        self.assertEqual(check.summary(self.c.results, out, 0), 1)
        lines = out.getvalue().split("\n")
        self.assertEqual(lines[:4], ["", "=== summary", "lint                       5 passed     0 failed    32s",
                                     "module                    10 passed     1 failed    14s  kernel: 6.1.0-57-amd64"])
        self.assertEqual(lines[-2], "15 passed, 1 failed")


class Stages(unittest.TestCase):
    def test_order(self):
        # scripts/check.sh's stages, in its order, after the harness's own tests.
        self.assertEqual(check.all_stages(), [
            "harness", "lint", "thread-safety", "module", "module-fold", "host-test", "kernel-host", "fuzz",
            "host-test-fold", "fuzz-fold", "tsan",
            "e2e-stock-6.1", "e2e-stock-6.1-fold", "e2e-writeback-6.1", "bench-smoke", "bench-workloads-smoke", "zram-6.1",
            "module-6.12", "module-6.12-fold", "e2e-stock-6.12", "e2e-fold-6.12", "test-zswap-6.12",
            "test-zswap-6.12-fold", "dkms", "deb", "deb-backports", "deb-boot-12", "module-deb13",
            "module-deb13-fold", "e2e-stock-deb13", "test-zswap-deb13", "dkms-deb13", "deb-boot-13",
            "kunit-debug", "kunit-debug-fold", "stress-debug", "zram-debug", "kunit-debug-6.12", "kunit-debug-6.12-fold",
            "stress-debug-6.12", "ext-suites", "ext-suites-6.12", "e2e-writeback-debug", "fault-e2e",
            "fresh-machine"])

    def test_only_rejects_unknown_names(self):
        env = dict(os.environ, ZSPP_CHECK_ONLY="lint,no-such-stage", PYTHONPATH=os.path.dirname(os.path.dirname(__file__)))
        r = subprocess.run([sys.executable, "-m", "harness.check"], env=env, capture_output=True, text=True)
        self.assertEqual(r.returncode, 2)
        self.assertIn("no-such-stage", r.stderr)


if __name__ == "__main__":
    unittest.main()
