"""Unit tests of the agile streams (boards, sprints, sprint_issues, board_issues, board_configuration, epics) with the
CDK's HttpMocker: paging, the `projects` filter, kanban boards skipped, the 400 "does not support sprints" skip (and
that any other 400 still fails), shared sprints emitted once, per-board/per-sprint keys, story points resolved from
/field, incremental JQL from a small global state, and records valid against the schemas."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, List, Optional

import pytest

from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.mock_http import HttpMocker, HttpRequest, HttpResponse

from unit_tests.conftest import AGILE, API, assert_records_match_schema, base_config, read_stream, records_of, stream_state

SP_FIELDS = "status,updated,customfield_10016,customfield_10026"
SPRINT_FIELDS = SP_FIELDS + ",customfield_10020"  # Cloud's sprint_issues: the Sprint field too
SPRINT_SCHEMA = {"customfield_10020": {"type": "array", "items": "json", "custom": "com.pyxis.greenhopper.jira:gh-sprint", "customId": 10020}}


def _json(body: Any, status: int = 200) -> HttpResponse:
    return HttpResponse(json.dumps(body), status)


def _board(board_id: int, board_type: str, project_key: Optional[str] = "PROJ", project_id: int = 10000) -> dict:
    board = {"id": board_id, "self": f"{AGILE}/board/{board_id}", "name": f"Board {board_id}", "type": board_type}
    if project_key:
        board["location"] = {"projectId": project_id, "projectKey": project_key, "projectName": project_key, "projectTypeKey": "software", "displayName": project_key, "name": project_key}
    return board


def _sprint(sprint_id: int, origin_board: int, state: str = "closed") -> dict:
    return {
        "id": sprint_id,
        "self": f"{AGILE}/sprint/{sprint_id}",
        "state": state,
        "name": f"Sprint {sprint_id}",
        "startDate": "2025-01-06T09:00:00.000Z",
        "endDate": "2025-01-20T09:00:00.000Z",
        "completeDate": "2025-01-20T10:00:00.000Z" if state == "closed" else None,
        "createdDate": "2025-01-03T12:00:00.000Z",
        "originBoardId": origin_board,
        "goal": None,
    }


def _page(values: List[dict], start: int = 0, is_last: bool = True, total: Optional[int] = None) -> dict:
    return {"startAt": start, "maxResults": 50, "total": total if total is not None else start + len(values), "isLast": is_last, "values": values}


def _issue(issue_id: int, updated: str, points: Optional[float] = None, te_points: Optional[float] = None, status: str = "Done") -> dict:
    return {
        "expand": "operations,editmeta",
        "id": str(issue_id),
        "self": f"{API}/issue/{issue_id}",
        "key": f"PROJ-{issue_id}",
        "fields": {
            "status": {"id": "10002", "name": status, "statusCategory": {"id": 3, "key": "done", "name": "Done"}},
            "updated": updated,
            "customfield_10016": te_points,
            "customfield_10026": points,
        },
    }


def _issue_page(issues: List[dict], start: int = 0, total: Optional[int] = None) -> dict:
    # /board/{id}/issue and /sprint/{id}/issue: no isLast, only total
    return {"expand": "schema,names", "startAt": start, "maxResults": 50, "total": total if total is not None else start + len(issues), "issues": issues}


def _mock_fields(http: HttpMocker) -> None:
    http.get(
        HttpRequest(f"{API}/field"),
        _json(
            [
                {"id": "summary", "name": "Summary", "custom": False},
                {"id": "customfield_10016", "name": "Story point estimate", "custom": True},
                {"id": "customfield_10026", "name": "Story Points", "custom": True},
                {"id": "customfield_10020", "name": "Sprint", "custom": True, "schema": SPRINT_SCHEMA["customfield_10020"]},
            ]
        ),
    )


def _mock_boards(http: HttpMocker, boards: List[dict]) -> None:
    http.get(HttpRequest(f"{AGILE}/board", query_params={"maxResults": "50"}), _json(_page(boards)))


def _ms(text: str) -> str:
    return str(int(datetime.fromisoformat(text).timestamp() * 1000))


# ------------------------------------------------------------------------------------------------------ boards
def test_boards_follow_pages_carry_their_project_and_respect_projects():
    config = base_config(projects=["PROJ"])
    with HttpMocker() as http:
        http.get(
            HttpRequest(f"{AGILE}/board", query_params={"maxResults": "50"}),
            _json({"startAt": 0, "maxResults": 2, "total": 4, "isLast": False, "values": [_board(1, "scrum"), _board(2, "kanban", "OPS", 10001)]}),
        )
        http.get(
            HttpRequest(f"{AGILE}/board", query_params={"maxResults": "50", "startAt": "2"}),
            _json({"startAt": 2, "maxResults": 2, "total": 4, "isLast": True, "values": [_board(3, "simple"), _board(4, "scrum", project_key=None)]}),
        )
        output = read_stream("boards", config)
    records = records_of(output)
    assert [r["id"] for r in records] == [1, 3]
    assert {(r["projectKey"], r["projectId"], r["type"]) for r in records} == {("PROJ", 10000, "scrum"), ("PROJ", 10000, "simple")}
    assert_records_match_schema("boards", records, config)


def test_a_page_whose_records_are_all_filtered_out_is_not_the_last_page():
    """Pages are counted by what Jira sent, not by what the record filter kept: a first page of boards that are all
    outside `projects` must not end the list (it did: `last_page_size` counts the records left after the filter)."""
    config = base_config(projects=["PROJ"])
    with HttpMocker() as http:
        http.get(
            HttpRequest(f"{AGILE}/board", query_params={"maxResults": "50"}),
            _json({"startAt": 0, "maxResults": 2, "total": 3, "isLast": False, "values": [_board(1, "scrum", "OPS", 10001), _board(2, "kanban", "OPS", 10001)]}),
        )
        http.get(
            HttpRequest(f"{AGILE}/board", query_params={"maxResults": "50", "startAt": "2"}),
            _json({"startAt": 2, "maxResults": 2, "total": 3, "isLast": True, "values": [_board(3, "scrum")]}),
        )
        output = read_stream("boards", config)
    assert [r["id"] for r in records_of(output)] == [3]


def test_sprints_of_a_board_whose_first_page_was_all_emitted_from_another_board_are_still_read():
    """The cross-project board: its first page lists only sprints another board already emitted, its second page a
    sprint only it lists. One worker, so board 1 is read first (the order that lost sprint 12)."""
    config = base_config(num_workers=1)
    with HttpMocker() as http:
        _mock_boards(http, [_board(1, "scrum"), _board(2, "scrum")])
        http.get(HttpRequest(f"{AGILE}/board/1/sprint", query_params={"maxResults": "50"}), _json(_page([_sprint(10, 1), _sprint(11, 1)])))
        http.get(HttpRequest(f"{AGILE}/board/2/sprint", query_params={"maxResults": "50"}),
                 _json({"startAt": 0, "maxResults": 2, "total": 3, "isLast": False, "values": [_sprint(10, 1), _sprint(11, 1)]}))
        http.get(HttpRequest(f"{AGILE}/board/2/sprint", query_params={"maxResults": "50", "startAt": "2"}),
                 _json({"startAt": 2, "maxResults": 2, "total": 3, "isLast": True, "values": [_sprint(12, 2)]}))
        output = read_stream("sprints", config)
    assert sorted(r["id"] for r in records_of(output)) == [10, 11, 12]


def test_boards_without_projects_config_include_boards_without_a_project_location():
    config = base_config()
    with HttpMocker() as http:
        _mock_boards(http, [_board(1, "scrum"), _board(4, "kanban", project_key=None)])
        output = read_stream("boards", config)
    records = records_of(output)
    assert [(r["id"], r.get("projectKey")) for r in records] == [(1, "PROJ"), (4, None)]
    assert_records_match_schema("boards", records, config)


# ------------------------------------------------------------------------------------------------------ sprints
def test_sprints_skip_kanban_and_boards_without_sprints_and_emit_shared_sprints_once():
    config = base_config()
    with HttpMocker() as http:
        _mock_boards(http, [_board(1, "scrum"), _board(2, "simple"), _board(3, "kanban"), _board(4, "simple")])
        # board 3 (kanban) is never asked: HttpMocker would fail on an unmocked request
        http.get(
            HttpRequest(f"{AGILE}/board/1/sprint", query_params={"maxResults": "50"}),
            _json({"startAt": 0, "maxResults": 2, "isLast": False, "values": [_sprint(10, 1), _sprint(11, 1)]}),
        )
        http.get(
            HttpRequest(f"{AGILE}/board/1/sprint", query_params={"maxResults": "50", "startAt": "2"}),
            _json(_page([_sprint(12, 1, "active"), _sprint(20, 2, "future")], start=2)),
        )
        # sprint 20 also listed by its own board 2: emitted once in all
        http.get(HttpRequest(f"{AGILE}/board/2/sprint", query_params={"maxResults": "50"}), _json(_page([_sprint(20, 2, "future"), _sprint(21, 2)])))
        http.get(
            HttpRequest(f"{AGILE}/board/4/sprint", query_params={"maxResults": "50"}),
            _json({"errorMessages": ["The board does not support sprints"], "errors": {}}, 400),
        )
        output = read_stream("sprints", config)
    records = records_of(output)
    assert not output.errors
    assert sorted(r["id"] for r in records) == [10, 11, 12, 20, 21]
    by_id = {r["id"]: r for r in records}
    assert by_id[10]["boardId"] == 1 and by_id[21]["boardId"] == 2
    assert by_id[20]["boardId"] in (1, 2) and by_id[20]["originBoardId"] == 2
    skip_logs = [m.log.message for m in output.logs if "does not support sprints" in m.log.message]
    assert len(skip_logs) == 1 and "/board/4/sprint" in skip_logs[0]
    assert_records_match_schema("sprints", records, config)


def test_sprints_fail_loudly_on_any_other_400():
    config = base_config()
    with HttpMocker() as http:
        _mock_boards(http, [_board(1, "scrum")])
        http.get(
            HttpRequest(f"{AGILE}/board/1/sprint", query_params={"maxResults": "50"}),
            _json({"errorMessages": ["The value 'x' is invalid for state."], "errors": {}}, 400),
        )
        output = read_stream("sprints", config, expecting_exception=True)
    assert not output.records
    messages = " ".join(e.trace.error.message for e in output.errors)
    assert "HTTP 400" in messages and "invalid for state" in messages


def test_sprints_still_retry_server_errors():
    config = base_config()
    with HttpMocker() as http:
        _mock_boards(http, [_board(1, "scrum")])
        http.get(
            HttpRequest(f"{AGILE}/board/1/sprint", query_params={"maxResults": "50"}),
            [HttpResponse("<html>bad gateway</html>", 502), _json(_page([_sprint(10, 1)]))],
        )
        output = read_stream("sprints", config)
    assert [r["id"] for r in records_of(output)] == [10]


# ------------------------------------------------------------------------------------------------ sprint_issues
def _in_sprints(issue: dict, *sprint_ids: int) -> dict:
    """A search answer's issue with its Sprint field naming these sprints."""
    return {**issue, "fields": {**issue["fields"], "customfield_10020": [{"id": s, "name": f"Sprint {s}", "state": "closed", "boardId": 1} for s in sprint_ids]}}


def _search_page(issues: List[dict], token: Optional[str] = None) -> dict:
    page = {"issues": issues, "schema": SPRINT_SCHEMA, "isLast": token is None}
    return {**page, "nextPageToken": token} if token else page


def _search(jql: str, token: Optional[str] = None) -> HttpRequest:
    query = {"jql": jql, "fields": SPRINT_FIELDS, "expand": "schema", "maxResults": "100"}
    return HttpRequest(f"{API}/search/jql", query_params={**query, "nextPageToken": token} if token else query)


def test_sprint_issues_keyed_by_sprint_and_issue_with_story_points_from_the_sites_field():
    """Cloud: one issue search for the sprints (`sprint in (…)`), an issue a record per sprint its Sprint field names
    among them, the Sprint field itself not taken for story points."""
    config = base_config()
    with HttpMocker() as http:
        _mock_boards(http, [_board(1, "scrum"), _board(2, "scrum")])
        http.get(HttpRequest(f"{AGILE}/board/1/sprint", query_params={"maxResults": "50"}), _json(_page([_sprint(10, 1), _sprint(11, 1)])))
        http.get(HttpRequest(f"{AGILE}/board/2/sprint", query_params={"maxResults": "50"}), _json(_page([_sprint(11, 1)])))
        _mock_fields(http)
        # issue 100 was carried over from sprint 10 into 11; issue 101 is also in sprint 9, which no board of the read lists
        http.get(_search("sprint in (10,11)"), _json(_search_page(
            [_in_sprints(_issue(100, "2025-01-21T10:00:00.000-0800", points=3, status="In Progress"), 10, 11),
             _in_sprints(_issue(101, "2025-01-11T10:00:00.000-0800", te_points=5), 9, 10)], token="p2")))
        http.get(_search("sprint in (10,11)", token="p2"), _json(_search_page([_in_sprints(_issue(102, "2025-01-12T10:00:00.000-0800"), 10)])))
        output = read_stream("sprint_issues", config)
    records = records_of(output)
    assert sorted((r["sprintId"], r["issueId"]) for r in records) == [(10, "100"), (10, "101"), (10, "102"), (11, "100")]
    by_key = {(r["sprintId"], r["issueId"]): r for r in records}
    assert by_key[(10, "100")]["storyPoints"] == 3 and by_key[(10, "101")]["storyPoints"] == 5 and by_key[(10, "102")].get("storyPoints") is None
    assert by_key[(11, "100")]["status"] == "In Progress" and by_key[(11, "100")]["statusCategory"] == "done"
    assert by_key[(10, "100")]["key"] == "PROJ-100" and "fields" not in by_key[(10, "100")]
    assert_records_match_schema("sprint_issues", records, config)


def test_sprint_issues_ask_twenty_sprints_a_search():
    config = base_config()
    with HttpMocker() as http:
        _mock_boards(http, [_board(1, "scrum")])
        http.get(HttpRequest(f"{AGILE}/board/1/sprint", query_params={"maxResults": "50"}), _json(_page([_sprint(s, 1) for s in range(1, 26)])))
        _mock_fields(http)
        http.get(_search(f"sprint in ({','.join(str(s) for s in range(1, 21))})"), _json(_search_page([_in_sprints(_issue(7, "2025-01-12T10:00:00.000-0800"), 7, 21)])))
        http.get(_search("sprint in (21,22,23,24,25)"), _json(_search_page([_in_sprints(_issue(7, "2025-01-12T10:00:00.000-0800"), 7, 21)])))
        output = read_stream("sprint_issues", config)
    assert sorted((r["sprintId"], r["issueId"]) for r in records_of(output)) == [(7, "7"), (21, "7")]


def test_sprint_issues_fail_loudly_when_an_issue_of_the_search_names_no_sprint():
    config = base_config()
    with HttpMocker() as http:
        _mock_boards(http, [_board(1, "scrum")])
        http.get(HttpRequest(f"{AGILE}/board/1/sprint", query_params={"maxResults": "50"}), _json(_page([_sprint(10, 1)])))
        _mock_fields(http)
        http.get(_search("sprint in (10)"), _json(_search_page([_issue(100, "2025-01-12T10:00:00.000-0800")])))
        output = read_stream("sprint_issues", config, expecting_exception=True)
    assert not records_of(output)
    assert any("PROJ-100" in (m.trace.error.message or "") and "Sprint field" in m.trace.error.message for m in output.errors), output.errors


def test_sprint_issues_incremental_reads_from_the_global_cursor_minus_lookback_and_keeps_state_small():
    config = base_config(lookback_window_minutes=5)
    state = stream_state("sprint_issues", {"use_global_cursor": True, "state": {"updated": "2025-03-01T10:00:00.000000+0000"}, "lookback_window": 0})
    since = _ms("2025-03-01T09:55:00+00:00")
    with HttpMocker() as http:
        _mock_boards(http, [_board(1, "scrum")])
        http.get(HttpRequest(f"{AGILE}/board/1/sprint", query_params={"maxResults": "50"}), _json(_page([_sprint(s, 1) for s in range(30, 36)])))
        _mock_fields(http)
        issues = [_in_sprints(_issue(500 + s, f"2025-03-0{s - 28}T10:00:00.000-0800", points=1), s) for s in (31, 33, 35)]
        http.get(_search(f"sprint in (30,31,32,33,34,35) AND updated >= {since}"), _json(_search_page(issues)))
        output = read_stream("sprint_issues", config, sync_mode=SyncMode.incremental, state=state)
    assert sorted(r["sprintId"] for r in records_of(output)) == [31, 33, 35]
    final = output.state_messages[-1].state.stream.stream_state.__dict__
    assert final["use_global_cursor"] is True
    # the newest record: issue 535 updated 2025-03-07T10:00-08:00 = 18:00 UTC
    assert datetime.strptime(final["state"]["updated"], "%Y-%m-%dT%H:%M:%S.%f%z") == datetime(2025, 3, 7, 18, 0, tzinfo=timezone.utc)
    assert "states" not in final or not final["states"], "no per-sprint state"
    assert len(json.dumps(final)) < 300


def test_sprint_issues_respect_start_date_in_the_jql():
    config = base_config(start_date="2024-06-01T00:00:00Z")
    with HttpMocker() as http:
        _mock_boards(http, [_board(1, "scrum")])
        http.get(HttpRequest(f"{AGILE}/board/1/sprint", query_params={"maxResults": "50"}), _json(_page([_sprint(10, 1)])))
        _mock_fields(http)
        http.get(_search(f"sprint in (10) AND updated >= {_ms('2024-06-01T00:00:00+00:00')}"),
                 _json(_search_page([_in_sprints(_issue(100, "2025-01-10T10:00:00.000-0800"), 10)])))
        output = read_stream("sprint_issues", config, sync_mode=SyncMode.incremental)
    assert [r["issueId"] for r in records_of(output)] == ["100"]


def test_agile_issue_streams_without_story_points_field_ask_only_status_and_updated():
    config = base_config()
    with HttpMocker() as http:
        _mock_boards(http, [_board(7, "kanban")])
        http.get(HttpRequest(f"{API}/field"), _json([{"id": "summary", "name": "Summary", "custom": False}]))
        issue = _issue(900, "2025-02-01T10:00:00.000+0100")
        issue["fields"] = {k: v for k, v in issue["fields"].items() if not k.startswith("customfield_")}
        http.get(
            HttpRequest(f"{AGILE}/board/7/issue", query_params={"maxResults": "50", "validateQuery": "true", "fields": "status,updated"}),
            _json(_issue_page([issue])),
        )
        output = read_stream("board_issues", config)
    records = records_of(output)
    assert [(r["boardId"], r["issueId"], r.get("storyPoints")) for r in records] == [(7, "900", None)]
    assert_records_match_schema("board_issues", records, config)


# ------------------------------------------------------------------------------------------------- board_issues
def test_board_issues_keep_an_issue_once_per_board():
    config = base_config()
    with HttpMocker() as http:
        _mock_boards(http, [_board(1, "scrum"), _board(2, "kanban")])
        _mock_fields(http)
        query = {"maxResults": "50", "validateQuery": "true", "fields": SP_FIELDS}  # no start date: no `updated` bound
        http.get(HttpRequest(f"{AGILE}/board/1/issue", query_params=query), _json(_issue_page([_issue(100, "2025-01-10T10:00:00.000-0800", points=2), _issue(101, "2025-01-10T11:00:00.000-0800")])))
        http.get(HttpRequest(f"{AGILE}/board/2/issue", query_params=query), _json(_issue_page([_issue(100, "2025-01-10T10:00:00.000-0800", points=2)])))
        output = read_stream("board_issues", config)
    records = records_of(output)
    assert sorted((r["boardId"], r["issueId"]) for r in records) == [(1, "100"), (1, "101"), (2, "100")]
    assert_records_match_schema("board_issues", records, config)


# ------------------------------------------------------------------------------------ board_configuration, epics
def test_board_configuration_per_board():
    config = base_config()
    with HttpMocker() as http:
        _mock_boards(http, [_board(1, "scrum"), _board(2, "kanban")])
        for board_id in (1, 2):
            http.get(
                HttpRequest(f"{AGILE}/board/{board_id}/configuration"),
                _json(
                    {
                        "id": board_id,
                        "name": f"Board {board_id}",
                        "type": "scrum" if board_id == 1 else "kanban",
                        "self": f"{AGILE}/board/{board_id}/configuration",
                        "location": {"type": "project", "key": "PROJ", "id": "10000", "self": f"{API}/project/10000", "name": "Proj"},
                        "filter": {"id": "10001", "self": f"{API}/filter/10001"},
                        "subQuery": {"query": "resolution = EMPTY OR resolution changed after -2w"} if board_id == 2 else None,
                        "columnConfig": {"columns": [{"name": "To Do", "statuses": [{"id": "10000", "self": f"{API}/status/10000"}]}, {"name": "Done", "statuses": [], "max": 5}], "constraintType": "issueCount"},
                        "estimation": {"type": "field", "field": {"fieldId": "customfield_10016", "displayName": "Story point estimate"}} if board_id == 1 else None,
                        "ranking": {"rankCustomFieldId": 10019},
                    }
                ),
            )
        output = read_stream("board_configuration", config)
    records = records_of(output)
    assert sorted(r["id"] for r in records) == [1, 2]
    assert_records_match_schema("board_configuration", records, config)


def test_epics_per_board_keyed_by_board_and_epic():
    config = base_config()
    epic = {"id": 5000, "key": "PROJ-5000", "self": f"{AGILE}/epic/5000", "name": "Billing", "summary": "Billing revamp", "color": {"key": "color_4"}, "done": False}
    with HttpMocker() as http:
        _mock_boards(http, [_board(1, "scrum"), _board(2, "kanban")])
        http.get(
            HttpRequest(f"{AGILE}/board/1/epic", query_params={"maxResults": "50"}),
            _json({"startAt": 0, "maxResults": 1, "isLast": False, "values": [epic]}),
        )
        http.get(HttpRequest(f"{AGILE}/board/1/epic", query_params={"maxResults": "50", "startAt": "1"}), _json(_page([{**epic, "id": 5001, "key": "PROJ-5001", "done": True}], start=1)))
        http.get(HttpRequest(f"{AGILE}/board/2/epic", query_params={"maxResults": "50"}), _json(_page([epic])))
        output = read_stream("epics", config)
    records = records_of(output)
    assert sorted((r["boardId"], r["id"]) for r in records) == [(1, 5000), (1, 5001), (2, 5000)]
    assert_records_match_schema("epics", records, config)


def test_sprint_issues_resume_after_the_last_sprint_done_in_order_and_keep_the_lookback_of_the_interrupted_read():
    """A state with the resume marker (an interrupted read): sprints up to `after` are not asked again (HttpMocker
    fails on any request not mocked), the whole read drops the marker, and the lookback kept for the next sync spans
    from the interrupted read's start (`since`), not only this read's duration."""
    config = base_config(lookback_window_minutes=5)
    started = int(datetime.now(timezone.utc).timestamp()) - 3600
    state = stream_state("sprint_issues", {"use_global_cursor": True, "state": {"updated": "2025-03-01T10:00:00.000000+0000"},
                                           "lookback_window": 0, "parent_state": {"resume": {"after": 32, "since": started}}})
    since = _ms("2025-03-01T09:55:00+00:00")
    with HttpMocker() as http:
        _mock_boards(http, [_board(1, "scrum")])
        http.get(HttpRequest(f"{AGILE}/board/1/sprint", query_params={"maxResults": "50"}), _json(_page([_sprint(s, 1) for s in (35, 30, 33, 31, 32, 34)])))
        _mock_fields(http)
        issues = [_in_sprints(_issue(500 + s, f"2025-03-0{s - 28}T10:00:00.000-0800"), s) for s in (33, 34, 35)]
        http.get(_search(f"sprint in (33,34,35) AND updated >= {since}"), _json(_search_page(issues)))
        output = read_stream("sprint_issues", config, sync_mode=SyncMode.incremental, state=state)
    assert sorted(r["sprintId"] for r in records_of(output)) == [33, 34, 35]
    final = output.state_messages[-1].state.stream.stream_state.__dict__
    assert "resume" not in (final.get("parent_state") or {}), final
    assert final["lookback_window"] >= 3600, final
    assert datetime.strptime(final["state"]["updated"], "%Y-%m-%dT%H:%M:%S.%f%z") == datetime(2025, 3, 7, 18, 0, tzinfo=timezone.utc)


def test_sprint_issues_on_data_center_ask_each_sprint_on_its_own():
    """Data Center's form: one agile call per sprint (`sprint/{id}/issue`), the sprint's id on each of its issues."""
    config = base_config(domain="jira.corp.example", credentials={"auth_type": "pat", "personal_access_token": "tok"}, deployment="datacenter")
    agile, api = "https://jira.corp.example/rest/agile/1.0", "https://jira.corp.example/rest/api/2"
    with HttpMocker() as http:
        http.get(HttpRequest(f"{api}/serverInfo"), _json({"deploymentType": "DataCenter", "version": "9.12.2", "versionNumbers": [9, 12, 2]}))
        http.get(HttpRequest(f"{agile}/board", query_params={"maxResults": "50"}), _json(_page([_board(1, "scrum")])))
        http.get(HttpRequest(f"{agile}/board/1/sprint", query_params={"maxResults": "50"}), _json(_page([_sprint(10, 1), _sprint(11, 1)])))
        http.get(HttpRequest(f"{api}/field"), _json([{"id": "customfield_10026", "name": "Story Points", "custom": True}]))
        query = {"maxResults": "50", "validateQuery": "true", "fields": "status,updated,customfield_10026"}
        http.get(HttpRequest(f"{agile}/sprint/10/issue", query_params=query), _json(_issue_page([_issue(100, "2025-01-10T10:00:00.000-0800", points=2)])))
        http.get(HttpRequest(f"{agile}/sprint/11/issue", query_params=query), _json(_issue_page([_issue(100, "2025-01-10T10:00:00.000-0800", points=2)])))
        output = read_stream("sprint_issues", config)
    records = records_of(output)
    assert sorted((r["sprintId"], r["issueId"], r["storyPoints"]) for r in records) == [(10, "100", 2), (11, "100", 2)]


def test_agile_issue_row_keeps_zero_points_a_missing_status_null_and_the_partition_id():
    """The row of `board_issues` / `sprint_issues` (transformations.AgileIssueRow): 0 story points stay 0 (Jinja's
    `default(…, true)` made them null), the first story-points field by id with a value wins, numeric text is read as
    a number, a missing status is null (not the text "None"), `updated` is RFC 3339, the partition id an integer."""
    from airbyte_cdk.sources.types import StreamSlice

    from source_jira.components.transformations import AgileIssueRow

    row = AgileIssueRow(parameters={}, partition_field="board_id", as_field="boardId")
    part = StreamSlice(partition={"board_id": "7"}, cursor_slice={})
    cases = [
        ({"customfield_10016": 0, "customfield_10026": 3, "status": {"name": "Done", "id": 10001, "statusCategory": {"key": "done"}}},
         {"storyPoints": 0, "status": "Done", "statusId": "10001", "statusCategory": "done"}),
        ({"customfield_10016": None, "customfield_10026": "2.5"}, {"storyPoints": 2.5, "status": None, "statusId": None, "statusCategory": None}),
        ({"customfield_10016": "8", "status": None}, {"storyPoints": 8, "status": None}),
        ({"customfield_10016": {"odd": 1}}, {"storyPoints": None}),
        ({}, {"storyPoints": None}),
    ]
    for fields, expected in cases:
        record = {"id": 900, "key": "P-1", "self": "https://x/issue/900", "expand": "names",
                  "fields": {"updated": "2025-01-21T10:00:00.000-0800", **fields}}
        row.transform(record, stream_slice=part)
        assert {k: record[k] for k in expected} == expected, (fields, record)
        assert record["boardId"] == 7 and record["issueId"] == "900" and record["key"] == "P-1"
        assert record["updated"] == "2025-01-21T18:00:00.000Z"
        assert not {"fields", "id", "self", "expand"} & set(record)
    with pytest.raises(ValueError):
        AgileIssueRow(parameters={}, partition_field="board_id")


def test_the_partition_gate_holds_back_only_when_closed_partitions_are_reported():
    """CheckpointedPartitions hands out a tenth of its partitions at a time, the next when one closes — but only when
    something reports closed partitions (cdk_adapter.checkpoint_partitions, under SourceJira). Under the CDK's generic
    runner nothing does: there it must hand every partition out at once (it used to wait GATE_TIMEOUT, 2 minutes, for
    a close that never came)."""
    import threading

    from airbyte_cdk.sources.types import StreamSlice

    from source_jira.components.agile_checkpoints import CheckpointedPartitions

    class Parents:
        def stream_slices(self):
            return [StreamSlice(partition={"board_id": i}, cursor_slice={}) for i in range(1, 41)]

    def drain(router, limit_s):
        got = []
        worker = threading.Thread(target=lambda: got.extend(router.stream_slices()), daemon=True)
        worker.start()
        worker.join(limit_s)
        return got, worker.is_alive()

    unreported = CheckpointedPartitions(router=Parents(), partition_field="board_id", config={"num_workers": 8}, parameters={})
    got, stuck = drain(unreported, 10)
    assert not stuck and len(got) == 40

    reported = CheckpointedPartitions(router=Parents(), partition_field="board_id", config={"num_workers": 8}, parameters={})
    reported.watch_closing()
    got, stuck = drain(reported, 1)
    assert stuck and len(got) == 5  # room 4 (a tenth of 40), plus the one the CDK looks ahead for
    for _ in range(400):  # the CDK closes the partitions it reads: each close lets one more out
        if len(got) == 40:
            break
        reported.closed()
        threading.Event().wait(0.01)
    assert len(got) == 40
