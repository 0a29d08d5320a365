#!/usr/bin/env bash
# The README's test command: sets itself up, then runs every test (unit, component, end-to-end).
# Arguments go to pytest (e.g. `bash scripts/test.sh unit_tests`); skipped tests are listed at the end with their
# reason (-rs).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ "$#" -eq 0 ]; then
  echo "Running every test: ~200 unit and component tests (HTTP mocked; a few minutes), then ~200 end-to-end tests" \
       "that run the real source-jira command against a fake Jira Cloud, PyAirbyte (set up in .venv-pyairbyte the" \
       "first time) and the CDK's standard suite. About 20 minutes on 2 cores (tests run in parallel, a worker per core). A dot is a passed test, s a skipped" \
       "one: the reasons are listed at the end (the image tests need podman)."
else
  echo "Running pytest $*; skipped tests are listed at the end with their reason."
fi
# Tests run in parallel, one module per worker (pytest-xdist, --dist loadfile: a module's fixtures are set up once):
# one worker per core, at most 4. Most tests wait on a subprocess and a fake Jira, one core each. `-n 0` (or
# SOURCE_JIRA_TEST_WORKERS=0) runs them in this process, one after another.
parallel=(-n "${SOURCE_JIRA_TEST_WORKERS:-auto}" --maxprocesses=4 --dist loadfile)
for arg in "$@"; do
  case "$arg" in -n|-n*|--numprocesses*) parallel=() ;; esac
done
set +e
.venv/bin/python -m pytest -rs "${parallel[@]}" "$@"
rc=$?
set -e
if [ "$rc" -eq 5 ]; then
  echo "no tests were collected: failing" >&2
  exit 1
fi
exit "$rc"
