#!/usr/bin/env bash
# The README's main command: sets itself up, starts a fake Jira Cloud over HTTPS on 127.0.0.1 and syncs it with
# the real `source-jira` command (check, discover, full read of every stream, incremental read), with a summary.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python -m integration_tests.demo "$@"
