"""End-to-end: the manifest-only form (scripts/build_manifest_only.py, docs/manifest-only.md) run by the CDK's generic
`source-declarative-manifest --manifest-path … --components-path …` against the fake Jira Cloud gives what the package
path (`source-jira`) gives: the same streams, primary keys and schemas from discover, a successful check, and for a
read of each kind of stream the same records, whose ids equal the fake's ground truth. components.py injected through
the config (with its checksums) works too, and a wrong checksum is refused.

The generic runner runs in a directory of its own (no source_jira/schemas/ beside it) with a `source_jira` package
first on its path that fails when imported: the test passes only if components.py runs the modules embedded in it and
every schema is inline. Both paths read with the same configured catalog. The module's subprocesses run at once."""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import shutil
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest
import yaml

from integration_tests import conftest
from integration_tests.conftest import ROOT, assert_ids_equal_ground_truth, configured_catalog, pk_tuples, run_connector

pytestmark = pytest.mark.e2e

READ_STREAMS = [
    "issues", "issue_comments", "issue_changelogs", "issue_worklogs",  # the issue family (search, bulkfetch, feed)
    "projects", "users", "issue_fields",  # paged, bare-array and plain list endpoints
    "boards", "sprints", "sprint_issues",  # agile: parents, substreams, a global cursor
]
# Fields that differ between two reads of the same path: a sprint listed on several boards is attributed to the board
# whose partition a worker reads first (FirstSeenRecordFilter), in either runtime.
VARIES = {"sprints": {"boardId"}}
BUILD_TIMEOUT = 60
# Each spec/check/discover/read subprocess (a few seconds each; generous for a slow shared machine).
COMMAND_TIMEOUT = 300
SHADOW = 'raise ImportError("the installed source_jira was imported: components.py must run only its embedded modules")\n'

_THREAD = threading.local()  # `argv`: the command run_connector runs in this thread instead of source-jira


def _sdm() -> str:
    exe = shutil.which("source-declarative-manifest", path=str(Path(sys.executable).parent)) or shutil.which("source-declarative-manifest")
    if not exe:
        raise RuntimeError("source-declarative-manifest (airbyte-cdk) is not installed in this environment")
    return exe


@pytest.fixture(scope="module", autouse=True)
def _command_per_thread():
    real = conftest.source_jira_command
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(conftest, "source_jira_command", lambda: getattr(_THREAD, "argv", None) or real())
        yield


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("manifest-only")
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "build_manifest_only.py"), "--out", str(out)],
                          capture_output=True, text=True, timeout=BUILD_TIMEOUT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return out


@pytest.fixture(scope="module")
def runtime(tmp_path_factory) -> Dict[str, Any]:
    """Where the generic runner runs, and its environment: custom code allowed, the installed package shadowed."""
    shadow = tmp_path_factory.mktemp("shadow")
    (shadow / "source_jira").mkdir()
    (shadow / "source_jira" / "__init__.py").write_text(SHADOW)
    env = {"AIRBYTE_ENABLE_UNSAFE_CODE": "true", "PYTHONPATH": str(shadow)}
    cwd = tmp_path_factory.mktemp("sdm-cwd")
    probe = subprocess.run([sys.executable, "-c", "import source_jira"], capture_output=True, text=True, cwd=cwd,
                           env={**os.environ, **env}, timeout=30)
    assert probe.returncode != 0 and "must run only its embedded modules" in probe.stderr, "the shadow package does not shadow"
    return {"cwd": cwd, "env": env}


def run_generic(built: Path, runtime: Dict[str, Any], command: str, with_paths: bool = True, **kwargs: Any) -> conftest.RunResult:
    """`run_connector`, running `source-declarative-manifest <command> [--manifest-path … --components-path …] …` in
    the runner's own directory instead of `source-jira`."""
    sdm = shlex.quote(_sdm())
    paths = f"--manifest-path {shlex.quote(str(built / 'manifest.yaml'))} --components-path {shlex.quote(str(built / 'components.py'))}"
    script = (f'cd {shlex.quote(str(runtime["cwd"]))} && cmd=$1 && shift && '
              f'if [ "$cmd" = spec ]; then exec {sdm} spec; fi; exec {sdm} "$cmd" {paths if with_paths else ""} "$@"')
    _THREAD.argv = ["sh", "-c", script, "sh"]
    try:
        return run_connector(command, env=runtime["env"], timeout=COMMAND_TIMEOUT, **kwargs)
    finally:
        _THREAD.argv = None


def _injected(fake_jira, built: Path, checksums: Dict[str, str]) -> Dict[str, Any]:
    """A config that carries the manifest and components.py itself (how a runner without the two files gets them)."""
    return {
        **fake_jira.config(),
        "__injected_declarative_manifest": yaml.safe_load((built / "manifest.yaml").read_text()),
        "__injected_components_py": (built / "components.py").read_text(),
        "__injected_components_py_checksums": checksums,
    }


@pytest.fixture(scope="module")
def runs(fake_jira, built, runtime) -> Dict[str, conftest.RunResult]:
    """Every command of this module, package path and generic runner, run at once against the shared fake."""
    config, ca = fake_jira.config(), fake_jira.ca_path
    checksums = json.loads((built / "checksums.json").read_text())
    with ThreadPoolExecutor(max_workers=3) as pool:
        futures = {
            "generic_discover": pool.submit(run_generic, built, runtime, "discover", config=config, ca_path=ca),
            "package_discover": pool.submit(run_connector, "discover", config=config, ca_path=ca, timeout=COMMAND_TIMEOUT),
            "generic_check": pool.submit(run_generic, built, runtime, "check", config=config, ca_path=ca),
        }
        discovered = futures["package_discover"].result().catalog()
        assert discovered, "source-jira discover returned no catalog"
        catalog = configured_catalog(discovered, READ_STREAMS)
        futures.update({
            "generic_read": pool.submit(run_generic, built, runtime, "read", config=config, catalog=catalog, ca_path=ca),
            "package_read": pool.submit(run_connector, "read", config=config, catalog=catalog, ca_path=ca, timeout=COMMAND_TIMEOUT),
            "generic_spec": pool.submit(run_generic, built, runtime, "spec"),
            "package_spec": pool.submit(run_connector, "spec", timeout=COMMAND_TIMEOUT),
            "injected_check": pool.submit(run_generic, built, runtime, "check", with_paths=False,
                                          config=_injected(fake_jira, built, checksums), ca_path=ca),
            "tampered_check": pool.submit(run_generic, built, runtime, "check", with_paths=False,
                                          config=_injected(fake_jira, built, {"md5": "0" * 32}), ca_path=ca),
        })
        return {name: future.result() for name, future in futures.items()}


def _streams(result: conftest.RunResult, what: str) -> Dict[str, Any]:
    catalog = result.catalog()
    assert catalog, (result.errors(), result.stderr[-2000:])
    return {s["name"]: s.get(what) for s in catalog["streams"]}


def _status(result: conftest.RunResult) -> Optional[str]:
    return (result.connection_status() or {}).get("status")


def test_the_build_writes_the_checksums_of_components_py(built):
    text = (built / "components.py").read_bytes()
    assert json.loads((built / "checksums.json").read_text()) == {"md5": hashlib.md5(text).hexdigest(), "sha256": hashlib.sha256(text).hexdigest()}


def test_spec_is_the_generic_runners_and_the_manifest_carries_the_connectors(runs, built):
    assert runs["generic_spec"].returncode == 0, runs["generic_spec"].stderr[-2000:]
    assert any(m.get("type") == "SPEC" for m in runs["generic_spec"].messages)
    package_spec = next(m["spec"] for m in runs["package_spec"].messages if m.get("type") == "SPEC")
    manifest = yaml.safe_load((built / "manifest.yaml").read_text())
    assert manifest["spec"]["connection_specification"] == package_spec["connectionSpecification"]


def test_check_succeeds(runs):
    result = runs["generic_check"]
    assert _status(result) == "SUCCEEDED", (result.connection_status(), result.errors(), result.stderr[-2000:])


def test_components_injected_in_the_config_run_when_their_checksums_match(runs):
    result = runs["injected_check"]
    assert _status(result) == "SUCCEEDED", (result.connection_status(), result.errors(), result.stderr[-2000:])
    tampered = runs["tampered_check"]
    assert tampered.returncode != 0 and "checksum does not match" in tampered.stdout + tampered.stderr


def test_discover_lists_the_same_streams_primary_keys_and_schemas(runs):
    for what in ("source_defined_primary_key", "json_schema", "supported_sync_modes", "default_cursor_field"):
        assert _streams(runs["generic_discover"], what) == _streams(runs["package_discover"], what), what


def test_both_reads_succeed_without_errors(runs):
    for name in ("generic_read", "package_read"):
        read = runs[name]
        assert read.returncode == 0 and not read.errors(), (name, read.errors(), read.stderr[-2000:])


@pytest.mark.parametrize("stream", READ_STREAMS)
def test_read_gives_the_package_paths_records_and_the_ground_truth(runs, fake_jira, stream):
    pk = fake_jira.ground_truth_pk(stream)
    records: List[dict] = runs["generic_read"].records(stream)
    expected: List[dict] = runs["package_read"].records(stream)
    assert records, f"{stream}: no records"
    assert sorted(pk_tuples(records, pk), key=repr) == sorted(pk_tuples(expected, pk), key=repr)
    assert_ids_equal_ground_truth(stream, records, fake_jira)
    varies = VARIES.get(stream, set())
    by_key = {key: {k: v for k, v in r.items() if k not in varies} for key, r in zip(pk_tuples(expected, pk), expected)}
    differing = [key for key, r in zip(pk_tuples(records, pk), records) if by_key[key] != {k: v for k, v in r.items() if k not in varies}]
    assert not differing, f"{stream}: {len(differing)} records differ from the package path's, e.g. {differing[:3]}"
