# SPDX-License-Identifier: GPL-2.0
"""zspp's test harness: KTAP (ktap), log judging (judge), make check (check).

Run from the repository with tests/ on the path: PYTHONPATH=tests python3 -m harness.check.
Documentation/testing.md describes it.
"""
