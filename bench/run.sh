#!/usr/bin/env bash
# The benchmark in one command (README, "Benchmark"): sets up the project venv (scripts/setup.sh) with the `bench`
# extra (matplotlib, py-spy) and the official connector's throwaway venv (bench/.venv-official), then runs
# bench/harness.py. Arguments go to the harness, e.g.
#   bash bench/run.sh                         # 2,000 issues at 0 and 100 ms, every case, sweep 1k/10k/50k
#   bash bench/run.sh --sizes 2000 --latency 0,100 --cases issues,issue_family --no-sweep
#   bash bench/run.sh --quick                 # a few minutes: 300 issues, 0 ms
#   bash bench/run.sh --profile               # py-spy profile of our connector, issue family, 2,000 issues
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
stamp=.venv/.bench-$(grep -A4 '^bench = \[' pyproject.toml | sha1sum | cut -c1-12)
if [ ! -f "$stamp" ]; then
  .venv/bin/python -m pip install -q --disable-pip-version-check -e ".[dev,bench]" 2>&1 | grep -v "is ignored" || true
  .venv/bin/python -c "import matplotlib" && test -x .venv/bin/py-spy
  rm -f .venv/.bench-*; touch "$stamp"
fi
# the official connector: its own venv, created by the harness when missing (BENCH_OFFICIAL_VENV overrides the path)
exec .venv/bin/python -m bench.harness "$@"
