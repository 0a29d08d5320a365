#!/usr/bin/env bash
# Idempotent set-up: a project venv in .venv with the connector installed (editable) and its dev extras.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
stamp=.venv/.installed-$(cat pyproject.toml | sha1sum | cut -c1-12)
if [ -f "$stamp" ] && [ -x .venv/bin/python ]; then
  exit 0
fi
started=$(date +%s)
# pip runs quietly: say what happens, so the first minute or two of silence is not mistaken for a hang.
echo "Setting up .venv: the connector (source-jira-bulk, editable) with airbyte-cdk 7.39.1 and the dev extras" \
     "(pytest, pytest-xdist, requests-mock, cryptography, build) — a minute or two the first time, seconds afterwards …"
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip 2>&1 | grep -v "is ignored" || true
# The package was called airbyte-source-jira (the official connector's name) before 1.0.0: remove that install
# first, or its files (the `source-jira` script, the editable hook) would be left to the old name's record.
if .venv/bin/python -m pip show -q airbyte-source-jira >/dev/null 2>&1; then
  .venv/bin/python -m pip uninstall -y -q airbyte-source-jira 2>&1 | grep -v "is ignored" || true
fi
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".[dev]" 2>&1 | grep -v "is ignored" || true
.venv/bin/python -c "import source_jira, airbyte_cdk, requests_mock, cryptography" >/dev/null
rm -f .venv/.installed-*; touch "$stamp"
echo "Set up in $(( $(date +%s) - started )) s."
