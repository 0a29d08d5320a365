"""Unit tests of the first full-refresh streams: both pagination styles, bare arrays, nullable e-mails, schemas."""

from __future__ import annotations

from airbyte_cdk.test.mock_http import HttpMocker, HttpRequest, HttpResponse

from unit_tests.conftest import API, assert_records_match_schema, base_config, read_stream, records_of
import json


def _json(body) -> HttpResponse:
    return HttpResponse(json.dumps(body), 200)


def _user(i: int, email=True) -> dict:
    user = {"accountId": f"acc-{i}", "accountType": "atlassian", "displayName": f"User {i}", "active": True}
    if email is True:
        user["emailAddress"] = f"user{i}@acme.com"
    elif email is None:
        user["emailAddress"] = None
    return user


def _project(i: int) -> dict:
    return {"id": str(10000 + i), "key": f"P{i}", "name": f"Project {i}", "lead": _user(i, email=None), "simplified": False}


def test_projects_follow_startat_pages_using_jiras_page_size():
    config = base_config()
    with HttpMocker() as http:
        common = {"expand": "description,lead,issueTypes,url,projectKeys,insight", "status": "live"}
        # Jira lowers maxResults to 2 although 50 was asked: the next offset must be 2, not 50.
        http.get(
            HttpRequest(f"{API}/project/search", query_params={**common, "maxResults": "50"}),
            _json({"startAt": 0, "maxResults": 2, "total": 3, "isLast": False, "values": [_project(1), _project(2)]}),
        )
        http.get(
            HttpRequest(f"{API}/project/search", query_params={**common, "maxResults": "50", "startAt": "2"}),
            _json({"startAt": 2, "maxResults": 2, "total": 3, "isLast": True, "values": [_project(3)]}),
        )
        output = read_stream("projects", config)
    records = records_of(output)
    assert [r["key"] for r in records] == ["P1", "P2", "P3"]
    assert_records_match_schema("projects", records, config)


def test_projects_respect_configured_project_keys():
    config = base_config(projects=["P2"])
    with HttpMocker() as http:
        http.get(
            HttpRequest(f"{API}/project/search", query_params={"expand": "description,lead,issueTypes,url,projectKeys,insight", "status": "live", "maxResults": "50"}),
            _json({"startAt": 0, "maxResults": 50, "total": 2, "isLast": True, "values": [_project(1), _project(2)]}),
        )
        output = read_stream("projects", config)
    assert [r["key"] for r in records_of(output)] == ["P2"]


def test_users_bare_array_continues_past_short_pages_and_stops_on_empty_page():
    config = base_config()
    with HttpMocker() as http:
        http.get(HttpRequest(f"{API}/users/search", query_params={"maxResults": "100"}), _json([_user(1), _user(2, email=None), _user(3, email=False)]))
        # a short page (3 < 100) is not the end on /users/search: only an empty page is
        http.get(HttpRequest(f"{API}/users/search", query_params={"maxResults": "100", "startAt": "3"}), _json([_user(4)]))
        http.get(HttpRequest(f"{API}/users/search", query_params={"maxResults": "100", "startAt": "4"}), _json([]))
        output = read_stream("users", config)
    records = records_of(output)
    assert [r["accountId"] for r in records] == ["acc-1", "acc-2", "acc-3", "acc-4"]
    assert_records_match_schema("users", records, config)


def test_bare_array_metadata_streams():
    config = base_config()
    cases = {
        "issue_fields": ("field", [{"id": "summary", "name": "Summary", "custom": False, "schema": {"type": "string", "system": "summary"}},
                                   {"id": "customfield_10016", "name": "Story Points", "custom": True, "schema": {"type": "number", "custom": "x", "customId": 10016}}]),
        "issue_types": ("issuetype", [{"id": "10001", "name": "Task", "subtask": False, "hierarchyLevel": 0}]),
        "workflow_statuses": ("status", [{"id": "1", "name": "Open", "statusCategory": {"id": 2, "key": "new", "name": "To Do"}}]),
        "workflow_status_categories": ("statuscategory", [{"id": 2, "key": "new", "name": "To Do", "colorName": "blue-gray"}]),
        "project_categories": ("projectCategory", [{"id": "10000", "name": "Apps", "description": None}]),
        "project_types": ("project/type", [{"key": "software", "formattedKey": "Software"}]),
        "project_roles": ("role", [{"id": 10002, "name": "Administrators", "description": "Admins"}]),
    }
    for stream, (path, body) in cases.items():
        with HttpMocker() as http:
            http.get(HttpRequest(f"{API}/{path}"), _json(body))
            output = read_stream(stream, config)
        records = records_of(output)
        assert len(records) == len(body), stream
        assert_records_match_schema(stream, records, config)


def test_paged_metadata_streams():
    config = base_config()
    for stream, path in {"issue_priorities": "priority/search", "issue_resolutions": "resolution/search"}.items():
        with HttpMocker() as http:
            http.get(
                HttpRequest(f"{API}/{path}", query_params={"maxResults": "50"}),
                _json({"startAt": 0, "maxResults": 50, "total": 2, "isLast": True, "values": [{"id": "1", "name": "A"}, {"id": "2", "name": "B"}]}),
            )
            output = read_stream(stream, config)
        assert [r["id"] for r in records_of(output)] == ["1", "2"], stream
