"""A stream the account may not read (403) is skipped with one WARN naming it and the permission it needs, and the
rest of the sync goes on; 400 and 401 are never ignored, and streams not marked optional still fail on 403."""

from __future__ import annotations

import pytest
from airbyte_cdk.models import Level
from airbyte_cdk.test.entrypoint_wrapper import read
from airbyte_cdk.test.mock_http import HttpMocker, HttpRequest, HttpResponse

from source_jira import SourceJira
from unit_tests.catalog_helpers import get, mock_projects, page
from unit_tests.conftest import API, base_config, catalog_for, read_stream, records_of

FORBIDDEN = {"errorMessages": ["You are not authorized to perform this operation. Administrator privileges are required."], "errors": {}}


def _warnings(output) -> list:
    return [m.log.message for m in output.logs if m.log.level == Level.WARN]


def _read(config, *streams):
    catalog = catalog_for(*streams)
    return read(SourceJira(catalog=catalog, config=config), config, catalog)


def test_forbidden_admin_stream_is_skipped_with_one_warning_and_others_complete():
    config = base_config()
    with HttpMocker() as http:
        get(http, "screens", FORBIDDEN, status=403, maxResults="50")
        get(http, "issueLinkType", {"issueLinkTypes": [{"id": "10000", "name": "Blocks", "inward": "is blocked by", "outward": "blocks"}]})
        get(http, "workflowscheme", page([{"id": 10000, "name": "Default"}]), maxResults="50")
        output = _read(config, "screens", "issue_link_types", "workflow_schemes")
    assert not output.errors
    by_stream = {}
    for message in output.records:
        by_stream.setdefault(message.record.stream, []).append(message.record.data)
    assert "screens" not in by_stream
    assert [r["id"] for r in by_stream["issue_link_types"]] == ["10000"]
    assert [r["id"] for r in by_stream["workflow_schemes"]] == [10000]
    warnings = [w for w in _warnings(output) if "screens" in w]
    assert len(warnings) == 1, _warnings(output)
    assert "Skipping stream 'screens'" in warnings[0] and "Administer Jira" in warnings[0]
    assert "Administrator privileges are required" in warnings[0]  # Jira's own words


def test_child_streams_of_a_forbidden_parent_end_cleanly():
    config = base_config()
    with HttpMocker() as http:
        get(http, "screens", FORBIDDEN, status=403, maxResults="50")
        output = _read(config, "screen_tab_fields")
    assert not output.errors and not output.records
    assert any("Administer Jira" in w for w in _warnings(output))


def test_per_project_403s_warn_once_and_keep_the_allowed_projects():
    config = base_config()
    with HttpMocker() as http:
        mock_projects(http, (("10000", "ALPHA"), ("10001", "BETA"), ("10002", "GAMMA")))
        get(http, "project/10000/email", FORBIDDEN, status=403)
        get(http, "project/10001/email", {"emailAddress": "beta@acme.atlassian.net"})
        get(http, "project/10002/email", FORBIDDEN, status=403)
        output = read_stream("project_email", config)
    assert not output.errors
    assert [r["projectId"] for r in records_of(output)] == ["10001"]
    warnings = [w for w in _warnings(output) if "project_email" in w]
    assert len(warnings) == 1 and "Administer Projects" in warnings[0]


@pytest.mark.parametrize("status", [400, 401])
def test_optional_streams_never_ignore_400_or_401(status):
    config = base_config()
    with HttpMocker() as http:
        get(http, "screens", {"errorMessages": ["Something is wrong with the request."]}, status=status, maxResults="50")
        output = read_stream("screens", config, expecting_exception=True)
    assert output.errors, f"HTTP {status} must fail the stream"
    assert not output.records
    assert not any("Skipping stream" in w for w in _warnings(output))


def test_streams_not_marked_optional_still_fail_on_403():
    config = base_config()
    with HttpMocker() as http:
        get(http, "issueLinkType", FORBIDDEN, status=403)
        output = read_stream("issue_link_types", config, expecting_exception=True)
    assert output.errors
    assert "403" in output.errors[0].trace.error.message


def test_optional_streams_still_retry_server_errors():
    config = base_config()
    with HttpMocker() as http:
        http.get(
            HttpRequest(f"{API}/configuration/timetracking/list"),
            [
                HttpResponse("<html>bad gateway</html>", 502),
                HttpResponse('[{"key": "JIRA", "name": "Jira", "url": "/x"}]', 200),
            ],
        )
        output = read_stream("time_tracking", config)
    assert [r["key"] for r in records_of(output)] == ["JIRA"]
