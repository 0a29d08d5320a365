"""Unit tests of the issue family's bulk and per-issue streams (HttpMocker): changelogs in bulkfetch calls of a
window (~500 ids) each, the worklog feed (paging, list batches, project filter, the hidden last minute), deleted worklogs,
per-issue children (a 404 skips a deleted issue, the cursor moves over issues without children), issue_ids."""

from __future__ import annotations

import json

import pytest

from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import read
from airbyte_cdk.test.mock_http import HttpMocker, HttpRequest, HttpResponse

from source_jira import SourceJira
from unit_tests.conftest import API, assert_records_match_schema, base_config, read_stream, records_of, stream_state


def _json(body, status=200) -> HttpResponse:
    return HttpResponse(json.dumps(body), status)


def _read(config, stream, state=None):
    catalog = CatalogBuilder().with_stream(stream, SyncMode.incremental).build()
    return read(SourceJira(catalog=catalog, config=config, state=state), config, catalog, state)


def _search(jql, fields, max_results, token=None) -> HttpRequest:
    body = {"jql": jql, "fields": fields, "maxResults": max_results}
    if token:
        body["nextPageToken"] = token
    return HttpRequest(f"{API}/search/jql", body=json.dumps(body))


def _ms_iso(ms: int) -> str:
    from datetime import datetime, timezone

    return datetime.fromtimestamp(ms / 1000, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}+0000"


ALL = 'updated >= "1970-01-01" ORDER BY updated ASC, id ASC'  # no start date: all history, in a documented date format


def test_changelogs_one_bulkfetch_per_window_of_about_500_ids():
    """2,500 issues: an id-only index, windows of ~500 ids like the search views' (cut at positions 490, 980, 1470,
    1960 and 2450, each cut issue's `updated` asked once, in one request), one bulkfetch per window (well under
    Jira's 1,000-id cap) and its continuation pages. A window is the unit of state, so it is kept small: changelogs
    are the biggest stream, and a kill re-reads the windows in flight."""
    config = base_config()
    ids = [str(10000 + i) for i in range(2500)]
    minute = 60_000
    with HttpMocker() as http:
        http.post(_search(ALL, ["id", "key"], 5000), _json({"issues": [{"id": i} for i in ids], "isLast": True}))
        cuts = {490: 5, 980: 10, 1470: 15, 1960: 20, 2450: 25}  # position -> minutes after the first issue
        cut_request = HttpRequest(f"{API}/search/jql", body=json.dumps({"jql": "id in (" + ", ".join(ids[p] for p in cuts) + ")", "fields": ["updated"], "maxResults": 100}))
        http.post(cut_request, _json({"issues": [{"id": ids[p], "fields": {"updated": _ms_iso(1_700_000_000_000 + m * minute)}} for p, m in cuts.items()], "isLast": True}))

        def histories(issue_ids, base):
            return [{"issueId": i, "changeHistories": [{"id": f"h{i}-{base}", "author": {"accountId": "a", "emailAddress": None},
                                                         "created": _ms_iso(1_700_000_000_000), "items": [{"field": "status", "fromString": "A", "toString": "B"}]}]}
                    for i in issue_ids]

        edges = [0, *cuts, len(ids)]
        batches = [ids[a:b] for a, b in zip(edges, edges[1:])]
        requests = []
        for n, batch in enumerate(batches):
            first = HttpRequest(f"{API}/changelog/bulkfetch", body=json.dumps({"issueIdsOrKeys": batch, "maxResults": 10000}))
            more = HttpRequest(f"{API}/changelog/bulkfetch", body=json.dumps({"issueIdsOrKeys": batch, "maxResults": 10000, "nextPageToken": f"n{n}"}))
            half = len(batch) // 2
            http.post(first, _json({"issueChangeLogs": histories(batch[:half], 1), "nextPageToken": f"n{n}"}))
            http.post(more, _json({"issueChangeLogs": histories(batch[half:], 2)}))
            requests += [first, more]
        output = _read(config, "issue_changelogs")
        for request in requests + [cut_request]:
            http.assert_number_of_calls(request, 1)
    records = records_of(output)
    assert len(records) == 2500 and len({r["id"] for r in records}) == 2500
    assert len(batches) == 6 and all(len(b) <= 500 for b in batches)
    assert_records_match_schema("issue_changelogs", records[:50], config)
    # state: the last window's start (the newest value every issue up to it is known to be past), never "now"
    assert output.most_recent_state.stream_state.__dict__["created"] == str((1_700_000_000_000 + 25 * minute) // minute * minute)


def test_worklog_feed_pages_lists_in_batches_and_keeps_configured_projects():
    config = base_config(projects=["P"])
    wl_ids = list(range(1, 1201))
    with HttpMocker() as http:
        http.get(HttpRequest(f"{API}/worklog/updated", query_params={"since": "0"}),
                 _json({"values": [{"worklogId": i, "updatedTime": 1000 + i} for i in wl_ids[:1000]], "since": 0, "until": 2000,
                        "lastPage": False, "nextPage": f"{API}/worklog/updated?since=2000"}))
        http.get(HttpRequest(f"{API}/worklog/updated", query_params={"since": "2000"}),
                 _json({"values": [{"worklogId": i, "updatedTime": 1000 + i} for i in wl_ids[1000:]], "since": 2000, "until": 2200, "lastPage": True}))

        def worklogs(batch):
            return [{"id": str(i), "issueId": str(1 + i % 2), "author": {"accountId": "a"}, "timeSpentSeconds": 60,
                     "created": _ms_iso(1000 + i), "updated": _ms_iso(1000 + i), "started": _ms_iso(1000 + i)} for i in batch]

        list1 = HttpRequest(f"{API}/worklog/list", body=json.dumps({"ids": wl_ids[:1000]}))
        list2 = HttpRequest(f"{API}/worklog/list", body=json.dumps({"ids": wl_ids[1000:]}))
        http.post(list1, _json(worklogs(wl_ids[:1000])))
        http.post(list2, _json(worklogs(wl_ids[1000:])))
        # only issue 2 is in project P
        scope = _search('project in ("P") AND id in (1, 2)', ["id"], 5000)
        http.post(scope, _json({"issues": [{"id": "2"}], "isLast": True}))
        output = _read(config, "issue_worklogs")
        http.assert_number_of_calls(scope, 1)  # issue scope is remembered across batches
    records = records_of(output)
    assert {r["issueId"] for r in records} == {"2"}
    assert sorted(int(r["id"]) for r in records) == [i for i in wl_ids if i % 2 == 1]
    # state = newest worklog read (1000 + 1199 ms), not "now": the hidden last minute comes with the next sync
    assert output.most_recent_state.stream_state.__dict__["updated"] == "2199"
    assert_records_match_schema("issue_worklogs", records[:20], config)


def test_worklog_feed_resumes_at_state_minus_lookback():
    config = base_config(lookback_window_minutes=5)
    state = stream_state("issue_worklogs", {"updated": "1735790459999"})
    with HttpMocker() as http:
        http.get(HttpRequest(f"{API}/worklog/updated", query_params={"since": str(1735790459999 - 300_000)}),
                 _json({"values": [], "since": 1, "until": 2, "lastPage": True}))
        output = _read(config, "issue_worklogs", state=state)
    assert records_of(output) == []
    assert output.most_recent_state.stream_state.__dict__["updated"] == "1735790459999"


def test_deleted_worklogs_stream():
    config = base_config()
    with HttpMocker() as http:
        http.get(HttpRequest(f"{API}/worklog/deleted", query_params={"since": "0"}),
                 _json({"values": [{"worklogId": 7, "updatedTime": 1735790459999, "properties": []}], "lastPage": True}))
        output = _read(config, "issue_worklogs_deleted")
    assert records_of(output) == [{"worklogId": "7", "updatedTime": 1735790459999, "properties": []}]
    assert output.most_recent_state.stream_state.__dict__["updatedTime"] == "1735790459999"


PAGE_FIELDS = ["updated", "watches", "votes"]  # what the per-issue streams' window search asks of every issue


def _per_issue_search(http, issues, expand=None):
    """The id index (id-only pages of 5,000) and the window's one page of the per-issue streams (children.py):
    `issues` are (id, updated ms, watchers, votes[, transitions])."""
    http.post(_search(ALL, ["id", "key"], 5000), _json({"issues": [{"id": i[0]} for i in issues], "isLast": True}))
    body = {"jql": ALL, "fields": PAGE_FIELDS, "maxResults": 100} | ({"expand": expand} if expand else {})
    page = [{"id": i[0], "key": f"P-{i[0]}", "fields": {"updated": _ms_iso(i[1]), "watches": {"watchCount": i[2], "isWatching": False},
                                                       "votes": {"votes": i[3], "hasVoted": False}}}
            | ({"transitions": i[4]} if len(i) > 4 else {}) for i in issues]
    for n in range(0, len(page), 100):  # pages of 100, chained by nextPageToken
        token = {"nextPageToken": f"p{n}"} if n else {}
        more = {"nextPageToken": f"p{n + 100}", "isLast": False} if n + 100 < len(page) else {"isLast": True}
        http.post(HttpRequest(f"{API}/search/jql", body=json.dumps(body | token)), _json({"issues": page[n:n + 100], **more}))


def test_children_skip_deleted_issue_and_advance_over_issues_without_children():
    """Watchers are asked only of issues whose search page says they have some (issue 3 has none: no request);
    a deleted issue's 404 is skipped."""
    config = base_config()
    issues = [("1", 1_700_000_000_000, 2, 0), ("2", 1_700_000_100_000, 1, 0), ("4", 1_700_000_150_000, 1, 0), ("3", 1_700_000_200_000, 0, 0)]
    with HttpMocker() as http:
        _per_issue_search(http, issues)
        http.get(HttpRequest(f"{API}/issue/1/watchers"), _json({"watchers": [{"accountId": "a1", "emailAddress": None}, {"accountId": "a2"}]}))
        http.get(HttpRequest(f"{API}/issue/2/watchers"), _json({"errorMessages": ["Issue does not exist"]}, 404))
        http.get(HttpRequest(f"{API}/issue/4/watchers"), _json({"watchers": []}))
        output = _read(config, "issue_watchers")
    records = records_of(output)
    assert sorted((r["issueId"], r["accountId"]) for r in records) == [("1", "a1"), ("1", "a2")]
    # the cursor moved to issue 3 although it has no watcher (and was not asked)
    assert output.most_recent_state.stream_state.__dict__["issueUpdated"] == "1700000200000"
    assert_records_match_schema("issue_watchers", records, config)


def test_children_fail_loudly_on_401():
    config = base_config()
    with HttpMocker() as http:
        _per_issue_search(http, [("1", 1, 0, 0)])
        http.get(HttpRequest(f"{API}/issue/1", query_params={"fields": "updated", "properties": "*all"}),
                 _json({"errorMessages": ["Client must be authenticated"]}, 401))
        catalog = CatalogBuilder().with_stream("issue_properties", SyncMode.incremental).build()
        output = read(SourceJira(catalog=catalog, config=config), config, catalog, None, expecting_exception=True)
    assert output.errors and records_of(output) == []
    # the shared policy decides (not a generic fallback): Jira's own words, said as a credentials problem
    messages = " ".join(e.trace.error.message for e in output.errors)
    assert "HTTP 401" in messages and "Client must be authenticated" in messages, messages


def test_properties_records():
    """Cloud: every property of an issue in one GET issue/{id}?properties=*all (not the keys, then each)."""
    config = base_config()
    with HttpMocker() as http:
        _per_issue_search(http, [("1", 1_700_000_000_000, 0, 0), ("2", 1_700_000_001_000, 0, 0)])
        http.get(HttpRequest(f"{API}/issue/1", query_params={"fields": "updated", "properties": "*all"}),
                 _json({"id": "1", "key": "P-1", "fields": {"updated": _ms_iso(1_700_000_000_000)}, "properties": {"k1": {"a": 1}, "k2": [1]}}))
        http.get(HttpRequest(f"{API}/issue/2", query_params={"fields": "updated", "properties": "*all"}),
                 _json({"id": "2", "key": "P-2", "fields": {"updated": _ms_iso(1_700_000_001_000)}, "properties": {}}))
        output = _read(config, "issue_properties")
    records = records_of(output)
    assert sorted((r["issueId"], r["key"], json.dumps(r["value"])) for r in records) == [("1", "k1", '{"a": 1}'), ("1", "k2", "[1]")]
    assert output.most_recent_state.stream_state.__dict__["issueUpdated"] == "1700000001000"
    assert_records_match_schema("issue_properties", records, config)


def test_issue_ids_pages_of_5000_with_projects_and_filter():
    """id and key only: Jira's 5,000-a-page case (any other field, even `updated`, drops it to 100)."""
    config = base_config(projects=["P", "Q"], issues_jql_filter="issuetype != Sub-task")
    jql = 'project in ("P", "Q") AND (issuetype != Sub-task) ORDER BY id ASC'
    with HttpMocker() as http:
        http.post(_search(jql, ["id", "key"], 5000),
                  _json({"issues": [{"id": "1", "key": "P-1", "self": "https://x/1", "fields": {}}], "nextPageToken": "t", "isLast": False}))
        http.post(_search(jql, ["id", "key"], 5000, token="t"),
                  _json({"issues": [{"id": "2", "key": "Q-1", "fields": {}}], "isLast": True}))
        output = read_stream("issue_ids", config)
    records = records_of(output)
    assert records == [{"id": "1", "key": "P-1"}, {"id": "2", "key": "Q-1"}]
    assert_records_match_schema("issue_ids", records, config)


def test_issue_ids_fails_loudly_on_bad_jql():
    config = base_config(issues_jql_filter="issuetype = = x")
    jql = "(issuetype = = x) ORDER BY id ASC"
    with HttpMocker() as http:
        http.post(
            _search(jql, ["id", "key"], 5000),
            HttpResponse(json.dumps({"errorMessages": ["Error in the JQL Query: Expecting either a value, list or function but got '='."], "errors": {}}), 400),
        )
        output = read_stream("issue_ids", config, expecting_exception=True)
    assert not records_of(output)
    assert any("Error in the JQL Query" in e.trace.error.message for e in output.errors)





@pytest.mark.parametrize(
    "stream,path,body,expected",
    [
        ("issue_votes", "votes", {"votes": 2, "hasVoted": False, "voters": [{"accountId": "a1", "emailAddress": None}, {"accountId": "a2"}]},
         [("1", "a1"), ("1", "a2")]),
        ("issue_remote_links", "remotelink", [{"id": 10100, "object": {"url": "https://x", "title": "Doc"}}, {"id": 10101, "object": {"url": "https://y", "title": "PR"}}],
         [(10100,), (10101,)]),
        ("issue_transitions", "transitions", {"transitions": [{"id": "11", "name": "To Do", "to": {"id": "1", "name": "Open"}}, {"id": "21", "name": "Done", "to": {"id": "3"}}]},
         [("1", "11"), ("1", "21")]),
    ],
)
def test_per_issue_children_records_keys_and_schema(stream, path, body, expected):
    """At most one request per changed issue (none for transitions: the window's search page carries them, asked
    with `expand=transitions`); each record carries issueId and the really unique key."""
    config = base_config()
    with HttpMocker() as http:
        if stream == "issue_transitions":
            _per_issue_search(http, [("1", 1_700_000_000_000, 1, 0, body["transitions"])], expand="transitions")
        else:
            _per_issue_search(http, [("1", 1_700_000_000_000, 1, 2)])
            http.get(HttpRequest(f"{API}/issue/1/{path}"), _json(body))
        output = _read(config, stream)
    records = records_of(output)
    pk = {"issue_votes": ("issueId", "accountId"), "issue_remote_links": ("id",), "issue_transitions": ("issueId", "id")}[stream]
    assert sorted(tuple(r[k] for k in pk) for r in records) == expected
    assert all(r["issueId"] == "1" for r in records)
    assert_records_match_schema(stream, records, config)


def _log_messages(output):
    return [m.log.message for m in output.logs if m.log is not None]


def _users_search(http, users, status=200):
    pages = [users, []] if status == 200 else [{"errorMessages": ["You do not have the permission to browse users."]}]
    for start, page in zip((0, len(users)), pages):
        http.get(HttpRequest(f"{API}/users/search", query_params={"startAt": str(start), "maxResults": "1000"}), _json(page, status))


def test_watchers_of_a_large_read_come_from_one_search_per_user_and_an_unmatched_count_asks_the_issue():
    """120 issues, 2 users: `watcher = "u1"` and `watcher = "u2"` (id-only) give each issue's watchers; issue 10119's
    search page says 3 watchers where the per-user searches found 1 (a watcher the user listing does not show), so
    that issue alone is asked: its own answer is the record set."""
    config = base_config()
    ids = [str(10000 + i) for i in range(120)]
    issues = [(i, 1_700_000_000_000 + n * 1000, 3 if i == "10119" else (1 if n % 2 else 2), 0) for n, i in enumerate(ids)]
    u1 = {"accountId": "u1", "displayName": "One", "active": True, "accountType": "atlassian", "locale": "en_US"}
    u2 = {"accountId": "u2", "displayName": "Two", "active": True, "accountType": "atlassian"}
    with HttpMocker() as http:
        _per_issue_search(http, issues)
        _users_search(http, [u1, u2])
        scope = 'updated >= "1970-01-01"'
        http.post(_search(f'watcher = "u1" AND {scope}', ["id"], 5000), _json({"issues": [{"id": i} for i in ids], "isLast": True}))
        http.post(_search(f'watcher = "u2" AND {scope}', ["id"], 5000), _json({"issues": [{"id": i} for i, _, c, _ in issues if c == 2], "isLast": True}))
        http.get(HttpRequest(f"{API}/issue/10119/watchers"), _json({"watchCount": 3, "watchers": [{"accountId": a} for a in ("u1", "u3", "u4")]}))
        output = _read(config, "issue_watchers")
    records = records_of(output)
    expected = {(i, "u1") for i in ids if i != "10119"} | {(i, "u2") for i, _, c, _ in issues if c == 2} | {("10119", a) for a in ("u1", "u3", "u4")}
    assert sorted((r["issueId"], r["accountId"]) for r in records) == sorted(expected)
    one = next(r for r in records if r["issueId"] == "10000" and r["accountId"] == "u1")
    assert "locale" not in one and one["displayName"] == "One"  # the fields of a watcher entry, not the whole user
    assert output.most_recent_state.stream_state.__dict__["issueUpdated"] == str(issues[-1][1])


def test_voters_are_not_searched_among_customers_and_apps_and_a_voting_app_still_comes():
    """120 issues, users u1 (a person), c1 (a JSM customer) and a1 (an app's account): only `voter = "u1"` is
    searched. Issue 10007's page says 2 votes where the search found 1 (the app voted, through the API), so that issue
    alone is asked and the app's vote is a record like any other."""
    config = base_config()
    ids = [str(10000 + i) for i in range(120)]
    issues = [(i, 1_700_000_000_000 + n * 1000, 1, 2 if i == "10007" else n % 2) for n, i in enumerate(ids)]
    people = [{"accountId": "u1", "displayName": "One", "active": True, "accountType": "atlassian"},
              {"accountId": "c1", "displayName": "Customer", "active": True, "accountType": "customer"},
              {"accountId": "a1", "displayName": "Automation", "active": True, "accountType": "app"}]
    with HttpMocker() as http:
        _per_issue_search(http, issues)
        _users_search(http, people)
        voted = [i for i, _, _, v in issues if v]
        http.post(_search('voter = "u1" AND updated >= "1970-01-01"', ["id"], 5000), _json({"issues": [{"id": i} for i in voted], "isLast": True}))
        http.get(HttpRequest(f"{API}/issue/10007/votes"), _json({"votes": 2, "voters": [{"accountId": "u1"}, {"accountId": "a1"}]}))
        output = _read(config, "issue_votes")
        # HttpMocker fails the read on any request not declared: no `voter = "c1"` nor `voter = "a1"` search was made
    assert not output.errors
    records = sorted((r["issueId"], r["accountId"]) for r in records_of(output))
    assert records == sorted({(i, "u1") for i in voted} | {("10007", "a1")})


def test_when_the_users_cannot_be_listed_each_issue_is_asked():
    """The per-user searches are a shortcut: a 403 on `users/search` (no *Browse users and groups*) leaves the
    stream asking every issue with votes, as before, and it still succeeds."""
    config = base_config()
    ids = [str(10000 + i) for i in range(100)]
    with HttpMocker() as http:
        _per_issue_search(http, [(i, 1_700_000_000_000 + n, 0, n % 2) for n, i in enumerate(ids)])
        _users_search(http, [], status=403)
        for n, i in enumerate(ids):
            if n % 2:
                http.get(HttpRequest(f"{API}/issue/{i}/votes"), _json({"votes": 1, "voters": [{"accountId": "a1"}]}))
        output = _read(config, "issue_votes")
    assert sorted(r["issueId"] for r in records_of(output)) == sorted(i for n, i in enumerate(ids) if n % 2)
    assert not output.errors
    warned = [m for m in _log_messages(output) if "per-user searches" in m]
    assert len(warned) == 1 and "asked on its own" in warned[0], warned


def test_a_read_too_large_for_the_per_user_map_asks_per_issue(monkeypatch):
    """Above BY_USER_UP_TO issues in the read the per-user map (held for the whole read) is not built: no user
    listing, each issue with votes is asked."""
    from source_jira.components.issue_family import children

    monkeypatch.setattr(children, "BY_USER_UP_TO", 110)
    config = base_config()
    ids = [str(10000 + i) for i in range(120)]
    with HttpMocker() as http:
        http.post(_search(ALL, ["id", "key"], 5000), _json({"issues": [{"id": i} for i in ids], "isLast": True}))
        body = {"jql": ALL, "fields": PAGE_FIELDS, "maxResults": 100}
        page = [{"id": i, "fields": {"updated": _ms_iso(1_700_000_000_000 + n), "watches": {"watchCount": 1}, "votes": {"votes": n % 2}}}
                for n, i in enumerate(ids)]
        http.post(HttpRequest(f"{API}/search/jql", body=json.dumps(body)), _json({"issues": page[:100], "nextPageToken": "p2", "isLast": False}))
        http.post(HttpRequest(f"{API}/search/jql", body=json.dumps(body | {"nextPageToken": "p2"})), _json({"issues": page[100:], "isLast": True}))
        for n, i in enumerate(ids):
            if n % 2:
                http.get(HttpRequest(f"{API}/issue/{i}/votes"), _json({"votes": 1, "voters": [{"accountId": "a1"}]}))
        output = _read(config, "issue_votes")
    assert sorted(r["issueId"] for r in records_of(output)) == sorted(i for n, i in enumerate(ids) if n % 2)
    assert not [m for m in _log_messages(output) if "per-user searches" in m]  # not tried at all (no listing failed)


@pytest.mark.parametrize("datacenter", [False, True])
def test_per_issue_streams_join_the_search_pages_only_on_a_read_without_state(datacenter):
    """search.joint_views: beside a search view whose pages carry every field, the per-issue streams read those pages
    — unless one of them starts from a saved state (their windows could differ: a lagging stream would fetch
    whole-field pages no other stream reads), or (Data Center) only the changelog views read the search."""
    from types import SimpleNamespace

    from source_jira.components.issue_family.search import joint_views
    from source_jira.components.issue_family.session import PER_ISSUE_VIEWS, SyncSession

    search = SimpleNamespace(changelogs_in_pages=datacenter)

    def views(selected, stated=()):
        session = SyncSession(selected, per_issue_threads=1, stated=stated)
        try:
            return set(joint_views(session, search)) & set(PER_ISSUE_VIEWS)
        finally:
            session.close()

    assert views(["issues", "issue_watchers", "issue_transitions"]) == set(PER_ISSUE_VIEWS)
    assert views(["issues", "issue_watchers"], stated=["issue_watchers"]) == set()
    assert views(["issues", "issue_watchers"], stated=["issues"]) == set()
    assert views(["issues", "issue_watchers"], stated=["projects"]) == set(PER_ISSUE_VIEWS)
    assert views(["issue_watchers", "issue_votes"]) == set()  # no search view: a search of their own
    assert views(["issue_changelogs", "issue_watchers"]) == set()  # Cloud: bulkfetch; DC: light pages (no *all)
    assert views(["pull_requests", "issue_watchers"]) == (set() if datacenter else set(PER_ISSUE_VIEWS))
