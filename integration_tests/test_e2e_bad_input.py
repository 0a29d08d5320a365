"""Bad input through the real command, against the fake Jira: each gets one line a user can act on (config error),
never a schema dump, a parser error that names nothing, or a silent exit 0. And the defaults work: an empty
start date reads all history, and `check` with a JQL filter passes where `read` does."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from integration_tests.conftest import assert_ids_equal_ground_truth, configured_catalog, run_connector

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def site():
    from integration_tests.fake_jira import FakeJira

    fake = FakeJira(issues=60, seed=5, timezone="Pacific/Auckland")
    fake.start()
    try:
        discovered = run_connector("discover", config=fake.config(), ca_path=fake.ca_path).catalog()
        yield fake, discovered
    finally:
        fake.stop()


def one_config_error(result) -> str:
    assert result.returncode != 0
    errors = result.errors()
    assert len(errors) == 1 and errors[0]["failure_type"] == "config_error", errors
    assert not result.records()
    return errors[0]["message"]


def test_empty_start_date_reads_all_history_and_check_passes_with_a_jql_filter(site):
    fake, discovered = site
    config = fake.config(start_date="", issues_jql_filter="issuetype != Sub-task")
    status = run_connector("check", config=config, ca_path=fake.ca_path).connection_status()
    assert status["status"] == "SUCCEEDED", status
    config = fake.config(start_date="")
    result = run_connector("read", config=config, catalog=configured_catalog(discovered, ["issues", "issue_ids", "board_issues"]), ca_path=fake.ca_path)
    assert result.returncode == 0, result.errors()
    for stream in ("issues", "issue_ids", "board_issues"):
        assert_ids_equal_ground_truth(stream, result.records(stream), fake)


def test_a_stream_the_connector_does_not_have_is_a_config_error_naming_it(site):
    fake, discovered = site
    catalog = configured_catalog(discovered, ["projects"])
    catalog["streams"].append({"stream": {"name": "pull_requestz", "json_schema": {}, "supported_sync_modes": ["full_refresh"]},
                               "sync_mode": "full_refresh", "destination_sync_mode": "overwrite"})
    message = one_config_error(run_connector("read", config=fake.config(), catalog=catalog, ca_path=fake.ca_path))
    assert "pull_requestz" in message and "does not have" in message


def test_missing_api_token_names_the_field(site):
    fake, discovered = site
    config = fake.config()
    del config["credentials"]["api_token"]
    status = run_connector("check", config=config, ca_path=fake.ca_path).connection_status()
    assert status["status"] == "FAILED" and "'api_token'" in status["message"] and "not valid under any" not in status["message"]
    message = one_config_error(run_connector("read", config=config, catalog=configured_catalog(discovered, ["issues"]), ca_path=fake.ca_path))
    assert "'api_token'" in message


@pytest.mark.parametrize("state, said", [
    (["issues"], "not an Airbyte state message"),
    ({"issues": "2024-01-01"}, "The state of stream 'issues' is str"),
    ([{"type": "STREAM", "stream": {"stream_descriptor": {"name": "issues"}, "stream_state": "2024-01-01"}}], "The state of stream 'issues' is str"),
    ([{"type": "STREAM", "stream": {"stream_descriptor": {"name": "issues"}, "stream_state": {"updated": "yesterday"}}}],
     "The saved state of stream 'issues' has updated = 'yesterday'"),
])
def test_a_state_this_connector_cannot_use_is_one_actionable_line(site, state, said):
    fake, discovered = site
    message = one_config_error(run_connector("read", config=fake.config(), catalog=configured_catalog(discovered, ["issues"]), state=state, ca_path=fake.ca_path))
    assert said in message, message
    assert "is not of type" not in message and "No format in" not in message


def test_an_endpoint_missing_on_this_edition_skips_its_stream_but_a_missing_core_endpoint_fails(site):
    fake, discovered = site
    fake.set_missing("/rest/api/3/priorityscheme")
    fake.set_missing("/rest/api/3/auditing/record")
    try:
        result = run_connector("read", config=fake.config(), catalog=configured_catalog(discovered, ["priority_schemes", "audit_records", "projects"]), ca_path=fake.ca_path)
        assert result.returncode == 0, result.errors()
        warnings = [w for w in result.logs("WARN") if w.startswith("Skipping stream")]
        assert len(warnings) == 2 and all("404 Not Found" in w and "needs" in w for w in warnings), warnings
        assert_ids_equal_ground_truth("projects", result.records("projects"), fake)
        fake.set_missing("/rest/api/3/project/search")
        result = run_connector("read", config=fake.config(), catalog=configured_catalog(discovered, ["projects"]), ca_path=fake.ca_path)
        assert result.returncode != 0 and "404" in result.errors()[-1]["message"]
    finally:
        fake.clear_missing()


# --- 7. the address guard: never a packet to a metadata address ----------------------------------------------------
def _no_network(command: list) -> list:
    """Run in a network namespace of its own (no interface but a downed loopback): nothing can leave the machine."""
    return ["unshare", "--net", "--"] + command


@pytest.mark.skipif(shutil.which("unshare") is None or subprocess.run(["unshare", "--net", "true"]).returncode != 0,
                    reason="needs unshare --net (root) to be sure no packet leaves")
@pytest.mark.parametrize("domain", ["169.254.169.254", "metadata.google.internal", "[fd00:ec2::254]", "[fe80::1]:443", "[::ffff:169.254.169.254]"])
def test_link_local_and_metadata_addresses_are_refused_before_connecting(site, domain, monkeypatch):
    from integration_tests import conftest

    fake, discovered = site
    monkeypatch.setattr(conftest, "source_jira_command", lambda real=conftest.source_jira_command: _no_network(real()))
    config = fake.config(domain=domain)
    status = run_connector("check", config=config, ca_path=fake.ca_path, timeout=60).connection_status()
    assert status["status"] == "FAILED" and "Refused to connect" in status["message"], status
    result = run_connector("read", config=config, catalog=configured_catalog(discovered, ["projects"]), ca_path=fake.ca_path, timeout=60)
    assert result.returncode != 0 and "Refused to connect" in result.errors()[-1]["message"], result.errors()
    assert result.errors()[-1]["failure_type"] == "config_error"


def test_an_ipv6_literal_is_an_address_not_a_dns_name(site):
    fake, _ = site
    status = run_connector("check", config=fake.config(domain="[::1]:9"), ca_path=fake.ca_path, timeout=60).connection_status()
    assert status["status"] == "FAILED" and "DNS" not in status["message"] and "unreachable" in status["message"], status


# --- a read-only config mount (Kubernetes secrets, `docker run -v …:ro`) --------------------------------------------
def _read_only_config_dir(command: list) -> list:
    """Run in a mount namespace of its own where the directory of the `--config` file is mounted read-only."""
    script = ('for a; do if [ "$prev" = --config ]; then d=$(dirname "$a"); fi; prev=$a; done; '
              'mount --bind -o ro "$d" "$d" && exec "$@"')
    return ["unshare", "--mount", "--", "sh", "-c", script, "sh"] + command


@pytest.mark.skipif(shutil.which("unshare") is None or subprocess.run(["unshare", "--mount", "true"]).returncode != 0,
                    reason="needs unshare --mount (root) to mount the config read-only")
def test_an_old_config_on_a_read_only_mount_is_migrated_in_memory(site, monkeypatch):
    from integration_tests import conftest

    fake, _ = site
    monkeypatch.setattr(conftest, "source_jira_command", lambda real=conftest.source_jira_command: _read_only_config_dir(real()))
    creds = fake.config()["credentials"]
    official = {"domain": fake.config()["domain"], "email": creds["email"], "api_token": creds["api_token"]}  # the official's flat form
    result = run_connector("check", config=official, ca_path=fake.ca_path, timeout=120)
    assert result.connection_status()["status"] == "SUCCEEDED", (result.connection_status(), result.stdout[-800:])
    controls = [m for m in result.messages if m.get("type") == "CONTROL"]
    assert controls and controls[0]["control"]["connectorConfig"]["config"]["credentials"]["auth_type"] == "api_token"
    logs = [m["log"]["message"] for m in result.messages if m.get("type") == "LOG"]
    assert any("could not be written back" in line and "Read-only file system" in line for line in logs), logs[-5:]
