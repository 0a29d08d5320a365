"""The CDK's standard test suite (`airbyte_cdk.test.standard_tests`) against the fake Jira Cloud.

Scenarios come from acceptance-test-config.yml, as in Airbyte's CI. Its `secrets/` configs are written here, before
the first test, for the fake site this session starts (its port is dynamic): `secrets/config.json` (valid) and
`secrets/config_bad_token.json` (a token the fake rejects). The suite runs the connector in-process through
`SourceJira` itself (not the generic `ConcurrentDeclarativeSource` of `DeclarativeSourceTestSuite`), because the
connector's `check` is its own Python (DNS/TLS pre-flight, project keys, JQL).

The suite's image tests (`test_docker_image_*`) call `docker`. There is no Docker engine here, so `docker` means podman
for this module (integration_tests/podman.py: a podman-docker style shim and a containers.conf of its own), and the
image under test is ours, built with podman from the Dockerfile on the local base (`connector_image_override`;
`--connector-image` still wins). Where no `docker` command exists when the CDK is imported, the CDK skips them, saying
so; without podman they skip (fail in CI), saying why.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from pathlib import Path
from typing import Any, Iterator, Optional

import pytest
from airbyte_cdk.test.models import ConnectorTestScenario
from airbyte_cdk.test.standard_tests import SourceTestSuiteBase
from airbyte_cdk.test.standard_tests._job_runner import IConnector

from integration_tests.podman import REQUIRE_ENV, build_image, podman_as_docker, podman_unavailable
from source_jira import SourceJira

pytest_plugins = ["airbyte_cdk.test.standard_tests.pytest_hooks"]

ROOT = Path(__file__).resolve().parent.parent
SECRETS = ROOT / "secrets"

pytestmark = pytest.mark.e2e


@contextlib.contextmanager
def _exclusive(path: Path) -> Iterator[None]:
    """secrets/ is shared by every run in this checkout: one standard-suite run at a time writes and uses it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _write_json(path: Path, payload: Any) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(payload, indent=2))
    tmp.chmod(0o600)
    tmp.replace(path)


@pytest.fixture(scope="module", autouse=True)
def standard_site(fake_jira) -> Iterator[Any]:
    """Write the scenario configs for the fake site and trust its CA for the in-process connector."""
    config = fake_jira.config()
    bad = json.loads(json.dumps(config))
    bad["credentials"]["api_token"] = "wrong-" + str(bad["credentials"].get("api_token", "token"))
    with _exclusive(SECRETS / ".standard-suite.lock"):
        _write_json(SECRETS / "config.json", config)
        _write_json(SECRETS / "config_bad_token.json", bad)
        saved = {name: os.environ.get(name) for name in ("REQUESTS_CA_BUNDLE",)}
        os.environ["REQUESTS_CA_BUNDLE"] = str(fake_jira.ca_path)
        try:
            yield fake_jira
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


@pytest.fixture(scope="module")
def podman_docker_api(standard_site) -> Iterator[str]:
    """The image under test (ours, built with podman), with `docker` meaning podman for this module."""
    reason = podman_unavailable()
    if reason:
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    image = build_image()
    with podman_as_docker(str(standard_site.ca_path)):
        yield image


@pytest.fixture
def connector_image_override(request: pytest.FixtureRequest) -> Optional[str]:
    """`--connector-image` if given; else our image built with podman (the CDK would fetch Airbyte's Dockerfile
    template from GitHub and build with a Docker engine, neither of which exists here)."""
    given = request.config.getoption("--connector-image", default=None)
    return given or request.getfixturevalue("podman_docker_api")


@pytest.fixture
def read_from_streams(request: pytest.FixtureRequest):
    """The CDK reads nothing in its image read test unless `--read-from-streams` is given (reads against a real site
    are slow); against the fake site they are cheap, so read metadata.yaml's suggested streams by default."""
    given = request.config.getoption("--read-from-streams", default=None)
    if given is None or given.lower() in ("true", "suggested", "default"):
        return "default"
    if given.lower() in ("false", "none"):
        return "none"
    return "all" if given.lower() == "all" else given.split(",")


class TestJiraStandardSuite(SourceTestSuiteBase):
    """Spec, check (valid, bad token, unresolvable site), discover, full-refresh read of every stream."""

    @classmethod
    def create_connector(cls, scenario: Optional[ConnectorTestScenario]) -> IConnector:
        config = scenario.get_config_dict(connector_root=cls.get_connector_root_dir(), empty_if_missing=True) if scenario else {}
        return SourceJira(config=config or None)


INCREMENTAL = ("issues", "issue_comments", "issue_changelogs", "issue_worklogs", "sprint_issues", "board_issues", "audit_records")


def test_incremental_scenario_resumes_from_its_own_state(standard_site):
    """The incremental scenario the CDK's standard tests do not collect (acceptance-test-config.yml, `incremental`):
    with the scenario's config, an incremental read emits a state per stream, and a read from that state reads less
    and ends on a state of the same shape — through the CDK's own test entrypoint, as the standard tests run it."""
    from airbyte_cdk.models import SyncMode
    from airbyte_cdk.test.catalog_builder import CatalogBuilder
    from airbyte_cdk.test.entrypoint_wrapper import read

    config = json.loads((SECRETS / "config.json").read_text())
    catalog = CatalogBuilder()
    for name in INCREMENTAL:
        catalog = catalog.with_stream(name, SyncMode.incremental)
    first = read(SourceJira(config=config, catalog=catalog.build()), config, catalog.build())
    assert not first.errors, [e.trace.error.message for e in first.errors]
    states = {s.state.stream.stream_descriptor.name: s.state.stream.stream_state for s in first.state_messages}
    assert set(INCREMENTAL) <= set(states), sorted(set(INCREMENTAL) - set(states))
    saved = [s.state for s in first.state_messages]
    second = read(SourceJira(config=config, catalog=catalog.build(), state=saved), config, catalog.build(), state=saved)
    assert not second.errors, [e.trace.error.message for e in second.errors]
    assert len(second.records) < len(first.records) / 2, (len(second.records), len(first.records))
    again = {s.state.stream.stream_descriptor.name: s.state.stream.stream_state for s in second.state_messages}
    for name in INCREMENTAL:
        assert set(vars(again[name]) if not isinstance(again[name], dict) else again[name]) == \
            set(vars(states[name]) if not isinstance(states[name], dict) else states[name]), name
