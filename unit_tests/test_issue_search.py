"""Unit tests of the issue family's search streams (HttpMocker): one search page serves issues, comments and
attachments; the JQL uses zone-free epoch ms floored to the minute with `>=`; an incomplete embedded comment page
costs one per-issue request; the saved state is the newest issue seen, never "now"; windows cut by issue count."""

from __future__ import annotations

import json
from typing import List, Optional

from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import read
from airbyte_cdk.test.mock_http import HttpMocker, HttpRequest, HttpResponse

from source_jira import SourceJira
from source_jira.components.issue_family.jql import window_jql
from unit_tests.conftest import API, assert_records_match_schema, base_config, stream_state

FIELDS = [
    {"id": "summary", "name": "Summary", "custom": False},
    {"id": "customfield_10016", "name": "Story Points", "custom": True},
    {"id": "customfield_10030", "name": "Team", "custom": True},
]


def _json(body) -> HttpResponse:
    return HttpResponse(json.dumps(body), 200)


def _user(i: int) -> dict:
    return {"accountId": f"acc-{i}", "displayName": f"User {i}", "emailAddress": None, "active": True}


def _issue(i: int, updated: str, comments: int = 1, total: Optional[int] = None, attachments: int = 1) -> dict:
    embedded = [{"id": f"{i}00{c}", "author": _user(1), "body": "hi", "created": updated, "updated": updated} for c in range(comments)]
    return {
        "id": str(i),
        "key": f"P-{i}",
        "fields": {
            "updated": updated,
            "created": "2024-01-01T00:00:00.000+0530",
            "project": {"id": "100", "key": "P"},
            "summary": f"Issue {i}",
            "customfield_10016": 5,
            "customfield_10030": {"id": "1", "value": "Platform"},
            "comment": {"comments": embedded, "total": total if total is not None else comments, "maxResults": comments, "startAt": 0},
            "attachment": [{"id": f"{i}9{a}", "filename": "a.txt", "size": 3, "mimeType": "text/plain", "author": _user(2),
                            "created": updated} for a in range(attachments)],
        },
    }


def _search(jql: str, fields: List[str], max_results: int, token: Optional[str] = None) -> HttpRequest:
    body = {"jql": jql, "fields": fields, "maxResults": max_results}
    if token:
        body["nextPageToken"] = token
    return HttpRequest(f"{API}/search/jql", body=json.dumps(body))


def _read(config, streams, state=None):
    builder = CatalogBuilder()
    for name in streams:
        builder.with_stream(name, SyncMode.incremental)
    catalog = builder.build()
    return read(SourceJira(catalog=catalog, config=config, state=state), config, catalog, state)


ISSUES = [
    _issue(1, "2025-01-01T10:00:05.000+0530"),
    _issue(2, "2025-01-01T10:01:00.000+0530", comments=2, attachments=0),
    _issue(3, "2025-01-02T09:30:59.999+0530", comments=2, total=3),  # embedded page incomplete
]


def test_one_search_page_feeds_issues_comments_and_attachments():
    config = base_config(projects=["P"], issues_jql_filter="issuetype != Sub-task")
    jql = window_jql(config, 0, None)
    assert jql == 'project in ("P") AND (issuetype != Sub-task) ORDER BY updated ASC, id ASC'
    with HttpMocker() as http:
        index_req = _search(jql, ["id", "key"], 5000)
        page1 = _search(jql, ["*all"], 100)
        page2 = _search(jql, ["*all"], 100, token="tok-2")
        http.post(index_req, _json({"issues": [{"id": i["id"]} for i in ISSUES], "isLast": True}))
        http.post(page1, _json({"issues": ISSUES[:2], "nextPageToken": "tok-2", "isLast": False}))
        http.post(page2, _json({"issues": ISSUES[2:], "isLast": True}))
        http.get(HttpRequest(f"{API}/field"), _json(FIELDS))
        comments_req = HttpRequest(f"{API}/issue/3/comment", query_params={"startAt": "2", "maxResults": "5000", "orderBy": "created"})
        http.get(comments_req, _json({"comments": [{"id": f"300{c}", "author": _user(1), "body": {"type": "doc", "content": []},
                                                     "created": "2025-01-02T09:30:59.999+0530", "updated": "2025-01-02T09:30:59.999+0530"} for c in range(2, 3)],
                                       "total": 3, "startAt": 2, "maxResults": 100}))
        output = _read(config, ["issues", "issue_comments", "issue_attachments"])
        # every search page was requested exactly once although three streams read it
        for request in (index_req, page1, page2, comments_req):
            http.assert_number_of_calls(request, 1)
    by_stream = {}
    for message in output.records:
        by_stream.setdefault(message.record.stream, []).append(message.record.data)
    assert sorted(r["id"] for r in by_stream["issues"]) == ["1", "2", "3"]
    assert sorted(r["id"] for r in by_stream["issue_comments"]) == ["1000", "2000", "2001", "3000", "3001", "3002"]
    assert sorted(r["id"] for r in by_stream["issue_attachments"]) == ["190", "390"]
    assert all(r["issueId"] for r in by_stream["issue_comments"] + by_stream["issue_attachments"])
    first = next(r for r in by_stream["issues"] if r["id"] == "1")
    assert first["custom_fields"] == {"Story Points": 5, "Team": "Platform"}
    assert first["updated"] == "2025-01-01T04:30:05.000Z" and first["projectKey"] == "P"  # RFC 3339, UTC
    for stream, records in by_stream.items():
        assert_records_match_schema(stream, records, config)
    # the state is the newest issue `updated` seen (2025-01-02T09:30:59.999+0530 = 1735790459999), not "now"
    finals = {}
    for message in output.state_messages:
        finals[message.state.stream.stream_descriptor.name] = message.state.stream.stream_state.__dict__
    for stream in ("issues", "issue_comments", "issue_attachments"):
        assert finals[stream]["updated" if stream != "issue_attachments" else "created"] == "1735790459999", finals[stream]


def test_incremental_window_starts_at_state_minus_lookback_floored_to_the_minute():
    config = base_config(lookback_window_minutes=5)
    state = stream_state("issues", {"updated": "1735790459999"})  # 2025-01-02T04:00:59.999Z
    # 04:00:59.999 - 5 min = 03:55:59.999 -> floored to 03:55:00.000 = 1735790100000
    jql = "updated >= 1735790100000 ORDER BY updated ASC, id ASC"
    with HttpMocker() as http:
        http.post(_search(jql, ["id", "key"], 5000), _json({"issues": [{"id": "3"}], "isLast": True}))
        http.post(_search(jql, ["*all"], 100), _json({"issues": [ISSUES[2]], "isLast": True}))
        http.get(HttpRequest(f"{API}/field"), _json(FIELDS))
        output = _read(config, ["issues"], state=state)
    assert [m.record.data["id"] for m in output.records] == ["3"]
    assert output.most_recent_state.stream_state.__dict__["updated"] == "1735790459999"


def test_state_never_moves_without_records():
    config = base_config()
    state = stream_state("issues", {"updated": "1735790459999"})
    jql = "updated >= 1735790100000 ORDER BY updated ASC, id ASC"
    with HttpMocker() as http:
        http.post(_search(jql, ["id", "key"], 5000), _json({"issues": [], "isLast": True}))
        http.post(_search(jql, ["*all"], 100), _json({"issues": [], "isLast": True}))
        output = _read(config, ["issues"], state=state)
    assert output.records == []
    assert output.most_recent_state.stream_state.__dict__["updated"] == "1735790459999"


def test_invalid_filter_fails_loudly_with_jiras_message():
    config = base_config(issues_jql_filter="bogus = 1")
    jql = "(bogus = 1) ORDER BY updated ASC, id ASC"
    with HttpMocker() as http:
        http.post(_search(jql, ["id", "key"], 5000), HttpResponse(json.dumps({"errorMessages": ["Field 'bogus' does not exist or you do not have permission to view it."]}), 400))
        builder = CatalogBuilder().with_stream("issues", SyncMode.incremental)
        catalog = builder.build()
        output = read(SourceJira(catalog=catalog, config=config), config, catalog, None, expecting_exception=True)
    assert output.records == []
    messages = " ".join(e.trace.error.message for e in output.errors)
    assert "Field 'bogus' does not exist" in messages


def test_windows_cut_by_issue_count_at_minutes_from_the_cut_issues_times_only():
    """1,200 issues: an id-only index (5,000 a page), then `updated` only for the cut issues (positions 490, 980),
    in one request."""
    config = base_config()
    minute = 60_000
    ids = [str(10000 + i) for i in range(1200)]
    # issue n updated at minute n // 7 (several issues share a minute), seconds 30
    updated = {i: 1_700_000_000_000 + (n // 7) * minute + 30_000 for n, i in enumerate(ids)}
    jql = 'updated >= "1970-01-01" ORDER BY updated ASC, id ASC'
    from datetime import datetime, timezone

    def iso(ms):
        return datetime.fromtimestamp(ms / 1000, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000+0000")

    with HttpMocker() as http:
        http.post(_search(jql, ["id", "key"], 5000), _json({"issues": [{"id": i} for i in ids], "isLast": True}))
        cut_ids = [ids[490], ids[980]]
        cut_req = HttpRequest(f"{API}/search/jql", body=json.dumps({"jql": "id in (" + ", ".join(cut_ids) + ")", "fields": ["updated"], "maxResults": 100}))
        http.post(cut_req, _json({"issues": [{"id": i, "fields": {"updated": iso(updated[i])}} for i in cut_ids], "isLast": True}))
        cut1 = (updated[ids[490]] // minute) * minute
        cut2 = (updated[ids[980]] // minute) * minute
        windows = [f"updated < {cut1}", f"updated >= {cut1} AND updated < {cut2}", f"updated >= {cut2}"]
        for clause in windows:
            window = clause + " ORDER BY updated ASC, id ASC"
            http.post(_search(window, ["*all"], 100), _json({"issues": [], "isLast": True}))
        output = _read(config, ["issues"])
        http.assert_number_of_calls(cut_req, 1)
    assert not output.errors
    # three windows, each closed with a state message, and the state never jumped to "now"
    assert len([m for m in output.state_messages]) >= 3
    assert output.most_recent_state.stream_state.__dict__["updated"] == "0"


def test_the_index_s_id_column_gives_back_every_id_exactly_as_jira_sent_it():
    """Held as integers while every id is a plain decimal number; any other id switches the column to text, so no
    id is ever altered (a leading zero, a non-number)."""
    from source_jira.components.issue_family.index import IdColumn

    numbers = IdColumn()
    for issue_id in ("10001", "0", "9223372036854775", "42"):
        numbers.append(issue_id)
    assert len(numbers) == 4 and numbers[0] == "10001" and numbers[-1] == "42" and numbers[1:3] == ["0", "9223372036854775"]
    assert numbers._numbers is not None
    mixed = IdColumn()
    for issue_id in ("10001", "007", "ABC-1", "99999999999999999999"):
        mixed.append(issue_id)
    assert [mixed[i] for i in range(len(mixed))] == ["10001", "007", "ABC-1", "99999999999999999999"]
    assert mixed[0:2] == ["10001", "007"]
