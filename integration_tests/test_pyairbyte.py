"""PyAirbyte end to end: the connector read through PyAirbyte (`airbyte` on PyPI) into its default local DuckDB cache,
and the tables and rows checked against the fake Jira's ground truth.

PyAirbyte lives in a venv of its own (scripts/pyairbyte_venv.sh installs pyproject's `demo` extra there), because it
pins much of its world; it drives our installed `source-jira` through `local_executable=`. The venv is created on
first use; the test is skipped only when PyAirbyte cannot be installed (e.g. no package index reachable)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.e2e

# projects, users, issue_fields always; issues when the connector discovers it.
STREAMS = ["projects", "users", "issue_fields", "issues"]
REQUIRED = {"projects", "users", "issue_fields"}


def _pyairbyte_python() -> Path:
    override = os.environ.get("PYAIRBYTE_PYTHON")
    if override:
        return Path(override)
    venv = Path(os.environ.get("PYAIRBYTE_VENV", ROOT / ".venv-pyairbyte"))
    return (venv if venv.is_absolute() else ROOT / venv) / "bin" / "python"


@pytest.fixture(scope="module")
def pyairbyte_python() -> Path:
    python = _pyairbyte_python()
    setup = subprocess.run(
        ["bash", str(ROOT / "scripts" / "pyairbyte_venv.sh")],
        cwd=ROOT, capture_output=True, text=True, timeout=900,
        env=dict(os.environ, PYTHON=os.environ.get("PYTHON", "python3")),
    ) if "PYAIRBYTE_PYTHON" not in os.environ else None
    if setup is not None and setup.returncode != 0:
        tail = "\n".join((setup.stdout + setup.stderr).strip().splitlines()[-8:])
        pytest.skip(f"PyAirbyte could not be installed (scripts/pyairbyte_venv.sh failed):\n{tail}")
    probe = subprocess.run([str(python), "-c", "import airbyte, duckdb"], capture_output=True, text=True,
                           env=dict(os.environ, DO_NOT_TRACK="1", AIRBYTE_OFFLINE_MODE="1"), timeout=300)
    if probe.returncode != 0:
        pytest.skip(f"PyAirbyte is not importable with {python}: {probe.stderr.strip().splitlines()[-1:]}")
    return python


def test_pyairbyte_reads_into_duckdb(pyairbyte_python, fake_jira, tmp_path):
    executable = shutil.which("source-jira", path=str(Path(sys.executable).parent)) or shutil.which("source-jira")
    assert executable, "the source-jira command is not installed in this environment"
    request = {"config": fake_jira.config(), "executable": executable, "streams": STREAMS}
    env = dict(os.environ)
    env.update(
        REQUESTS_CA_BUNDLE=str(fake_jira.ca_path),
        AIRBYTE_OFFLINE_MODE="1",  # no registry look-up, no telemetry: the connector is a local executable
        DO_NOT_TRACK="1",
    )
    env.pop("AIRBYTE_CACHE_ROOT", None)  # PyAirbyte's default: ./.cache under the working directory
    proc = subprocess.run(
        [str(pyairbyte_python), str(ROOT / "integration_tests" / "pyairbyte_read.py"), json.dumps(request)],
        cwd=tmp_path, capture_output=True, text=True, env=env, timeout=900,
    )
    assert proc.returncode == 0, f"PyAirbyte read failed:\n{proc.stderr[-4000:]}"
    report = json.loads(proc.stdout.strip().splitlines()[-1])

    # The default cache: a DuckDB file under the working directory's .cache/.
    db_path = Path(report["db_path"])
    assert db_path == tmp_path / ".cache" / "default_cache" / "default_cache.duckdb"
    assert db_path.is_file()

    expected = [s for s in STREAMS if s in REQUIRED or s in report["available"]]
    assert sorted(report["streams"]) == sorted(expected)
    for name in expected:
        landed = report["streams"][name]
        assert landed["table"] in report["tables"], f"{name}: table {landed['table']} not in the cache"
        truth = {tuple(str(v) for v in key) for key in fake_jira.ground_truth(name)}
        assert landed["primary_key"] == list(fake_jira.ground_truth_pk(name))
        got = [tuple(str(v) for v in row) for row in landed["pk_values"]]
        assert landed["count"] == len(truth) == landed["records_read"], f"{name}: {landed['count']} rows, truth {len(truth)}"
        assert len(set(got)) == len(got), f"{name}: duplicate primary keys in the cache"
        assert set(got) == truth, f"{name}: ids in DuckDB differ from the fake's ground truth"

    # Date-times land as the instant they are: RFC 3339 offsets (Jira's -0700 once became local clock time in DuckDB)
    if "issues" in expected:
        landed = report["issues_updated_epoch_ms"]
        assert landed, "no issues.updated read back from DuckDB"
        truth = {str(it.id): it.updated for it in fake_jira.site.issues}
        wrong = {key: (value, truth[key]) for key, value in landed.items() if abs(value - truth[key]) >= 1}
        assert not wrong, f"issues.updated in DuckDB differs from the UTC instant: {dict(list(wrong.items())[:3])}"
