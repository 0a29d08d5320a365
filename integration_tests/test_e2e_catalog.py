"""End-to-end: the real `source-jira` command reads every catalog stream (projects and people, issue metadata,
configuration) from the fake Jira Cloud. Ids equal the fake's ground truth, no duplicate primary keys, every record
valid against the discovered schema; audit_records resumes from its state; a 403 on permission-gated streams skips
them with one warning each while the other streams stay complete and the sync exits 0."""

from __future__ import annotations

import pytest

from integration_tests.conftest import (
    assert_ids_equal_ground_truth,
    assert_valid_against_schemas,
    configured_catalog,
    run_connector,
)

pytestmark = pytest.mark.e2e

CATALOG_STREAMS = [
    # projects and people (more)
    "project_versions", "project_components", "project_avatars", "project_email", "project_permission_schemes",
    "avatars", "groups", "group_members", "users_groups_detailed",
    # issue metadata (more)
    "issue_custom_field_contexts", "issue_custom_field_options", "issue_link_types", "labels",
    "issue_security_schemes", "issue_type_schemes", "issue_type_screen_schemes", "issue_field_configurations",
    # configuration
    "workflows", "workflow_schemes", "permission_schemes", "issue_notification_schemes", "screens", "screen_tabs",
    "screen_tab_fields", "screen_schemes", "filters", "filter_sharing", "dashboards", "application_roles",
    "time_tracking", "server_info", "permissions", "jira_settings", "issue_navigator_settings", "priority_schemes",
    "audit_records",
]


@pytest.fixture(scope="module")
def discovered(fake_jira):
    catalog = run_connector("discover", config=fake_jira.config(), ca_path=fake_jira.ca_path).catalog()
    assert catalog, "discover returned no catalog"
    return catalog


@pytest.fixture(scope="module")
def catalog_read(fake_jira, discovered):
    catalog = configured_catalog(discovered, CATALOG_STREAMS)
    result = run_connector("read", config=fake_jira.config(), catalog=catalog, ca_path=fake_jira.ca_path)
    return catalog, result


def test_catalog_read_succeeds_without_errors_or_warnings(catalog_read):
    _, result = catalog_read
    assert result.returncode == 0, result.stderr[-2000:]
    assert not result.errors(), result.errors()
    assert not [w for w in result.logs("WARN") if "Skipping stream" in w]


@pytest.mark.parametrize("stream", CATALOG_STREAMS)
def test_catalog_ids_equal_ground_truth(catalog_read, fake_jira, stream):
    _, result = catalog_read
    records = result.records(stream)
    assert records, f"{stream}: no records"
    assert_ids_equal_ground_truth(stream, records, fake_jira)


def test_catalog_records_valid_against_schemas(catalog_read, discovered):
    _, result = catalog_read
    by_stream = result.records_by_stream()
    assert set(by_stream) == set(CATALOG_STREAMS)
    assert_valid_against_schemas(discovered, by_stream)


def test_catalog_primary_keys_are_the_discovered_ones(discovered, fake_jira):
    pks = {s["name"]: [p[0] for p in s.get("source_defined_primary_key", [])] for s in discovered["streams"]}
    for stream in CATALOG_STREAMS:
        assert pks[stream] == fake_jira.ground_truth_pk(stream), stream


def test_audit_records_resume_from_state(catalog_read, fake_jira, discovered):
    catalog, result = catalog_read
    state = [s for s in result.final_state() if s["stream"]["stream_descriptor"]["name"] == "audit_records"]
    assert state, "audit_records emitted no state"
    cursor = state[0]["stream"]["stream_state"]["created"]
    newest = max(r["created"] for r in result.records("audit_records"))
    assert cursor[:19] == newest[:19] or cursor >= newest
    again = run_connector(
        "read", config=fake_jira.config(), catalog=configured_catalog(discovered, ["audit_records"]), state=state,
        ca_path=fake_jira.ca_path,
    )
    assert again.returncode == 0 and not again.errors(), again.errors()
    # only the boundary record(s) at the saved cursor are read again
    assert len(again.records("audit_records")) <= 2, len(again.records("audit_records"))


GATED = {
    # stream: (path the fake forbids, words the warning must hold)
    "screens": ("/rest/api/3/screens", "Administer Jira"),
    "audit_records": ("/rest/api/3/auditing/record", "Administer Jira"),
    "groups": ("/rest/api/3/group/bulk", "Browse users and groups"),
    "priority_schemes": ("/rest/api/3/priorityscheme", "paid Jira edition"),
}


def test_forbidden_streams_are_skipped_with_one_warning_and_the_rest_is_complete(fresh_fake):
    fake = fresh_fake(issues=60, seed=5)
    for path, _ in GATED.values():
        fake.set_forbidden(path)
    config = fake.config()
    discovered = run_connector("discover", config=config, ca_path=fake.ca_path).catalog()
    others = ["issue_link_types", "project_versions", "filter_sharing", "issue_custom_field_options", "workflows"]
    children = ["screen_tabs", "group_members"]  # their parents are forbidden
    catalog = configured_catalog(discovered, list(GATED) + children + others)
    result = run_connector("read", config=config, catalog=catalog, ca_path=fake.ca_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert not result.errors(), result.errors()
    warnings = [w for w in result.logs("WARN") if "Skipping stream" in w]
    for stream, (_, permission) in GATED.items():
        assert not result.records(stream), stream
        named = [w for w in warnings if f"'{stream}'" in w]
        assert len(named) == 1, (stream, warnings)
        assert permission in named[0], named[0]
    for stream in children:
        assert not result.records(stream), stream
    for stream in others:
        assert_ids_equal_ground_truth(stream, result.records(stream), fake)

    # check stays green on the same account
    status = run_connector("check", config=config, ca_path=fake.ca_path).connection_status()
    assert status and status["status"] == "SUCCEEDED", status
