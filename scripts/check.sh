#!/usr/bin/env bash
# `make check`: tests/harness/check.py runs every stage (its docstring has the rules).
cd "$(dirname "$0")/.." && exec python3 tests/harness/check.py "$@"
