"""End-to-end harness: a fake Jira Cloud over HTTPS on 127.0.0.1 and the installed `source-jira` command run as a
subprocess against it (never in-process), with helpers to compare record ids with the fake's ground truth."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional

import jsonschema
import pytest

ROOT = Path(__file__).resolve().parent.parent


def source_jira_command() -> List[str]:
    exe = shutil.which("source-jira", path=str(Path(sys.executable).parent)) or shutil.which("source-jira")
    if not exe:
        raise RuntimeError("the source-jira command is not installed in this environment")
    return [exe]


@dataclass
class RunResult:
    returncode: int
    messages: List[dict]
    stderr: str
    stdout: str

    def records(self, stream: Optional[str] = None) -> List[dict]:
        return [m["record"]["data"] for m in self.messages if m.get("type") == "RECORD" and (stream is None or m["record"]["stream"] == stream)]

    def records_by_stream(self) -> Dict[str, List[dict]]:
        out: Dict[str, List[dict]] = defaultdict(list)
        for m in self.messages:
            if m.get("type") == "RECORD":
                out[m["record"]["stream"]].append(m["record"]["data"])
        return out

    def states(self) -> List[dict]:
        return [m["state"] for m in self.messages if m.get("type") == "STATE"]

    def final_state(self) -> List[dict]:
        """The last state message of each stream, as a state file for the next read."""
        latest: Dict[str, dict] = {}
        for state in self.states():
            if state.get("type") == "STREAM":
                latest[state["stream"]["stream_descriptor"]["name"]] = state
        return list(latest.values())

    def errors(self) -> List[dict]:
        return [m["trace"]["error"] for m in self.messages if m.get("type") == "TRACE" and m["trace"].get("type") == "ERROR"]

    def logs(self, level: Optional[str] = None) -> List[str]:
        return [m["log"]["message"] for m in self.messages if m.get("type") == "LOG" and (level is None or m["log"]["level"] == level)]

    def connection_status(self) -> Optional[dict]:
        return next((m["connectionStatus"] for m in self.messages if m.get("type") == "CONNECTION_STATUS"), None)

    def catalog(self) -> Optional[dict]:
        return next((m["catalog"] for m in self.messages if m.get("type") == "CATALOG"), None)


def run_connector(
    command: str,
    config: Optional[Mapping[str, Any]] = None,
    catalog: Optional[Mapping[str, Any]] = None,
    state: Optional[List[dict]] = None,
    env: Optional[Mapping[str, str]] = None,
    ca_path: Optional[str] = None,
    timeout: float = 600,
) -> RunResult:
    """Run `source-jira <command>` as a subprocess; every stdout line must be an Airbyte protocol JSON message."""
    with tempfile.TemporaryDirectory() as tmp:
        args = source_jira_command() + [command]
        for flag, payload in (("--config", config), ("--catalog", catalog), ("--state", state)):
            if payload is not None:
                path = Path(tmp) / f"{flag.strip('-')}.json"
                path.write_text(json.dumps(payload))
                args += [flag, str(path)]
        run_env = dict(os.environ)
        if ca_path:
            run_env["REQUESTS_CA_BUNDLE"] = ca_path
        run_env.update(env or {})
        proc = subprocess.run(args, capture_output=True, text=True, timeout=timeout, env=run_env)
    messages = []
    for line in proc.stdout.splitlines():
        if not line.strip():
            continue
        try:
            messages.append(json.loads(line))
        except json.JSONDecodeError:
            raise AssertionError(f"non-protocol line on stdout: {line[:200]!r}") from None
    return RunResult(proc.returncode, messages, proc.stderr, proc.stdout)


def configured_catalog(discovered: Mapping[str, Any], streams: Optional[Iterable[str]] = None, incremental: bool = True) -> dict:
    """A configured catalog from a discovered one: incremental where the stream supports it, else full refresh."""
    wanted = set(streams) if streams is not None else None
    configured = []
    for stream in discovered["streams"]:
        if wanted is not None and stream["name"] not in wanted:
            continue
        modes = stream.get("supported_sync_modes", ["full_refresh"])
        mode = "incremental" if incremental and "incremental" in modes else "full_refresh"
        configured.append(
            {
                "stream": stream,
                "sync_mode": mode,
                "destination_sync_mode": "append_dedup" if mode == "incremental" else "overwrite",
                **({"cursor_field": stream.get("default_cursor_field", [])} if mode == "incremental" else {}),
                **({"primary_key": stream["source_defined_primary_key"]} if stream.get("source_defined_primary_key") else {}),
            }
        )
    if wanted is not None:
        missing = wanted - {c["stream"]["name"] for c in configured}
        assert not missing, f"streams not discovered: {sorted(missing)}"
    return {"streams": configured}


def pk_tuples(records: Iterable[Mapping[str, Any]], pk: List[str]) -> List[tuple]:
    return [tuple(record.get(key) for key in pk) for record in records]


def assert_ids_equal_ground_truth(stream: str, records: List[dict], fake: Any, **truth_kwargs: Any) -> None:
    """Exactly the fake's ground truth: nothing missing, nothing extra, no duplicate primary key."""
    pk = fake.ground_truth_pk(stream)
    got = pk_tuples(records, pk)
    duplicates = [key for key, count in Counter(got).items() if count > 1]
    assert not duplicates, f"{stream}: {len(duplicates)} duplicate PKs, e.g. {duplicates[:3]}"
    truth = set(fake.ground_truth(stream, **truth_kwargs))
    missing, extra = truth - set(got), set(got) - truth
    assert not missing and not extra, f"{stream}: {len(missing)} missing (e.g. {sorted(missing)[:3]}), {len(extra)} extra (e.g. {sorted(extra)[:3]})"


def assert_valid_against_schemas(discovered: Mapping[str, Any], records_by_stream: Mapping[str, List[dict]]) -> None:
    schemas = {s["name"]: s["json_schema"] for s in discovered["streams"]}
    for stream, records in records_by_stream.items():
        validator = jsonschema.Draft7Validator(schemas[stream])
        for record in records:
            error = next(iter(validator.iter_errors(record)), None)
            assert error is None, f"{stream} record off-schema at {list(error.path)}: {error.message}"


@pytest.fixture(scope="session")
def fake_jira():
    """One shared fake site for read-only e2e tests (tests that mutate the site start their own)."""
    from integration_tests.fake_jira import FakeJira

    fake = FakeJira(issues=300, seed=7, timezone="America/Los_Angeles")
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def fresh_fake():
    """A site of its own for a test that mutates it or injects faults."""
    from integration_tests.fake_jira import FakeJira

    fakes = []

    def make(**kwargs: Any):
        kwargs.setdefault("issues", 300)
        kwargs.setdefault("seed", 11)
        fake = FakeJira(**kwargs)
        fake.start()
        fakes.append(fake)
        return fake

    yield make
    for fake in fakes:
        fake.stop()
