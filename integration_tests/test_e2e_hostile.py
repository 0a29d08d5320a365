"""The real `source-jira` command against small hostile HTTPS servers on 127.0.0.1 (integration_tests/hostile.py):
stalled and trickling hosts, page tokens that loop, redirects elsewhere, 200s with nothing or with HTML, non-Jira
error pages, a server that drops idle connections. Each run is bounded in time; each must end in a clear one-line
error (or, for the dropped connection, a clean sync) — never a hang, a loop or a green sync with nothing."""

from __future__ import annotations

import time
import weakref

import pytest

from integration_tests.conftest import run_connector
from integration_tests.hostile import HostileServer, json_routes

pytestmark = pytest.mark.e2e

FAST = {"request_timeout_seconds": 1, "max_retries": 1}  # keeps each failing case to seconds


def catalog(*streams: str) -> dict:
    return {"streams": [{"stream": {"name": s, "json_schema": {}, "supported_sync_modes": ["full_refresh"]},
                         "sync_mode": "full_refresh", "destination_sync_mode": "overwrite"} for s in streams]}


def read(server: HostileServer, *streams: str, timeout: float = 90, **config):
    started = time.monotonic()
    result = run_connector("read", config=server.config(**{**FAST, **config}), catalog=catalog(*streams), ca_path=server.ca_path, timeout=timeout)
    return result, time.monotonic() - started


def failure(result, pages_before: bool = False) -> str:
    """The sync failed, saying why in one line. `pages_before`: the pages read before a loop was seen were records."""
    assert result.returncode != 0, "the sync must fail"
    errors = result.errors()
    assert errors, "a failed sync says why in a TRACE error"
    assert pages_before or not result.records(), "no records from a corrupt answer"
    for error in errors:
        assert "\n" not in error["message"] and not error.get("stack_trace")
    return " | ".join(e["message"] for e in errors)


def search_counts(server: HostileServer) -> int:
    return sum(1 for p in server.paths() if "search/jql" in p)


# --- 5. timeouts ------------------------------------------------------------------------------------------
def test_check_answers_failed_within_30_s_on_a_host_that_never_answers():
    def stall_myself(h, method, path, body):
        if path.endswith("/myself"):
            h.stall()
            return True
        return None

    with HostileServer(stall_myself) as server:
        started = time.monotonic()
        result = run_connector("check", config=server.config(), ca_path=server.ca_path, timeout=60)  # default timeouts
        elapsed = time.monotonic() - started
    status = result.connection_status()
    assert status["status"] == "FAILED"
    assert elapsed < 30, f"check took {elapsed:.0f} s on a stalled host"
    assert "myself" in status["message"] and "timed out" in status["message"], status["message"]


@pytest.mark.parametrize("stream", ["issues", "issue_ids"])
def test_read_gives_up_on_a_search_that_sends_headers_and_goes_silent(stream):
    def silent_search(h, method, path, body):
        if "search/jql" in path:
            h.headers_then_silence()
            return True
        return None

    with HostileServer(silent_search) as server:
        result, elapsed = read(server, stream)
    text = failure(result)
    assert "search/jql" in text and "timed out: no answer within 1 s (read timeout)" in text, text
    assert elapsed < 45
    assert result.errors()[-1]["failure_type"] == "transient_error", "a stalled host is no config error: a retry later may work"


def test_read_gives_up_on_a_search_that_trickles_a_byte_at_a_time():
    def trickle(h, method, path, body):
        if "search/jql" in path:
            h.trickle(every=0.3)  # each byte well inside the 1 s read timeout: only the total deadline ends it
            return True
        return None

    with HostileServer(trickle) as server:
        result, elapsed = read(server, "issue_ids")
    text = failure(result)
    assert "no complete answer within 5 s" in text, text
    assert elapsed < 45


# --- 3. pages that do not advance ---------------------------------------------------------------------------
@pytest.mark.parametrize("stream", ["issues", "issue_ids", "issue_comments"])
def test_a_page_token_that_never_changes_fails_loudly(stream):
    same_token = json_routes({"/search/jql": {"issues": [{"id": "10001", "key": "P-1", "fields": {"updated": "2026-06-30T04:00:00.000+0000"}}],
                                              "isLast": False, "nextPageToken": "same-token"}})
    with HostileServer(same_token) as server:
        result, elapsed = read(server, stream)
        asked = search_counts(server)
    text = failure(result, pages_before=True)
    assert "search/jql" in text and "do not advance" in text, text
    assert result.errors()[-1]["failure_type"] == "system_error"
    assert asked <= 4, f"{asked} search requests for a token that never changes"


@pytest.mark.parametrize("stream, path, page", [
    ("projects", "/project/search", {"startAt": 0, "maxResults": 50, "total": 500, "isLast": False,
                                     "values": [{"id": "10000", "key": "P", "name": "P"}]}),
    ("users", "/users/search", [{"accountId": "a1", "accountType": "atlassian", "active": True}]),
    ("boards", "/rest/agile/1.0/board", {"startAt": 0, "maxResults": 50, "total": 500, "isLast": False,
                                         "values": [{"id": 1, "name": "B", "type": "scrum"}]}),
])
def test_a_server_that_ignores_startat_fails_loudly(stream, path, page):
    with HostileServer(json_routes({path: page})) as server:
        result, _ = read(server, stream)
        asked = sum(1 for p in server.paths() if path in p)
    text = failure(result, pages_before=True)
    assert path.strip("/") in text and "do not advance" in text, text
    assert asked <= 3


def test_a_worklog_feed_that_does_not_move_on_fails_loudly():
    stuck_feed = json_routes({
        "/worklog/updated": {"values": [{"worklogId": 1, "updatedTime": 1, "properties": []}], "since": 0, "until": 0, "lastPage": False},
        "/worklog/list": [],
    })
    with HostileServer(stuck_feed) as server:
        result, _ = read(server, "issue_worklogs")
        asked = sum(1 for p in server.paths() if "worklog/updated" in p)
    text = failure(result, pages_before=True)
    assert "worklog/updated" in text and "do not advance" in text, text
    assert asked <= 2


# --- 4. a 200 with nothing, or with HTML -----------------------------------------------------------------------
@pytest.mark.parametrize("body, content_type, said", [
    (b"", "application/json", "the body is empty"),
    (b"<html><body>Please log in to the proxy</body></html>", "text/html", "not valid JSON (text/html"),
    (b"{}", "application/json", "no 'issues' list"),
])
def test_a_200_that_is_not_a_page_is_retried_then_fails_never_an_empty_sync(body, content_type, said):
    def broken_search(h, method, path, request_body):
        if "search/jql" in path:
            h.send(200, body, content_type=content_type)
            return True
        return None

    with HostileServer(broken_search) as server:
        result, _ = read(server, "issues")
    text = failure(result)
    assert said in text, text
    saved = [s["stream"].get("stream_state") or {} for s in result.states() if s.get("type") == "STREAM"]
    assert all(state.get("updated") in (None, "0") for state in saved), f"the state moved on a sync that read nothing: {saved}"
    if said != "no 'issues' list":
        retries = [m for m in result.logs() if m.startswith("Retrying in")]
        assert retries and said.split(" (")[0] in retries[0] and "Rate limit" not in " ".join(result.logs())


# --- 6. redirects ------------------------------------------------------------------------------------------
def test_a_redirect_to_another_origin_is_refused_and_nothing_reaches_it():
    with HostileServer(lambda h, m, p, b: h.json(200, {}) or True) as elsewhere:
        def redirect(h, method, path, body):
            if "search/jql" in path:
                h.send(302, b"", headers={"Location": f"https://127.0.0.1:{elsewhere.port}/rest/api/3/search/jql"})
                return True
            return None

        with HostileServer(redirect, tls_dir=None) as server:
            result, _ = read(server, "issue_ids")
        reached = elsewhere.requests
    text = failure(result)
    assert "redirecting to another origin" in text and f"127.0.0.1:{elsewhere.port}" in text, text
    assert not reached, "no request may follow a cross-origin redirect"


# --- 9. error bodies that are not Jira's -----------------------------------------------------------------------
def test_a_non_jira_error_page_is_summarised_not_echoed():
    junk = "<html><head><title>Not Found</title></head><body>" + "x" * 4000 + "SECRET-LOOKING-TAIL</body></html>"

    def html_404(h, method, path, body):
        if path.endswith("/myself"):
            h.send(404, junk.encode(), content_type="text/html")
            return True
        return None

    with HostileServer(html_404) as server:
        check = run_connector("check", config=server.config(), ca_path=server.ca_path, timeout=60)
        result, _ = read(server, "myself")
    message = check.connection_status()["message"]
    assert "404" in message and "text/html" in message and "Not Found" in message, message
    assert "SECRET-LOOKING-TAIL" not in check.stdout and "SECRET-LOOKING-TAIL" not in result.stdout
    assert len(message) < 600
    text = failure(result)
    assert "404" in text and "text/html" in text


# --- 12. a connection closed while idle in the pool --------------------------------------------------------------
def test_a_connection_the_server_dropped_is_retried_at_once_on_a_fresh_one():
    served: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()  # requests served per connection

    def drop_reused(h, method, path, body):
        count = served.get(h.connection, 0)
        served[h.connection] = count + 1
        if count >= 1:  # the second request on a kept-alive connection: closed without an answer
            h.drop()
            return True
        if path.endswith("/users/search"):
            start = int(dict(p.split("=") for p in h.path.split("?", 1)[1].split("&")).get("startAt", 0))
            users = [{"accountId": f"u{i}", "accountType": "atlassian", "active": True} for i in range(start, min(start + 2, 6))]
            h.json(200, users)
            return True
        return None

    with HostileServer(drop_reused) as server:
        result, elapsed = read(server, "users", max_retries=0)  # no backoff retry at all: only the immediate one
    assert result.returncode == 0, result.errors()
    assert sorted(r["accountId"] for r in result.records("users")) == [f"u{i}" for i in range(6)]
    assert not [m for m in result.logs() if m.startswith("Retrying in")], "a dropped idle connection is no server fault"


# --- 11. who is to blame for a 400 ------------------------------------------------------------------------------
@pytest.mark.parametrize("config, failure_type", [({}, "system_error"), ({"issues_jql_filter": "labels = x"}, "config_error")])
def test_a_400_is_the_users_to_fix_only_when_the_request_carries_their_query(config, failure_type):
    def refuse_search(h, method, path, body):
        if "search/jql" in path:
            h.json(400, {"errorMessages": ["Error in the JQL Query: something is off."], "errors": {}})
            return True
        return None

    with HostileServer(refuse_search) as server:
        result, _ = read(server, "issue_ids", **config)
    text = failure(result)
    assert "Error in the JQL Query: something is off." in text
    assert result.errors()[-1]["failure_type"] == failure_type, result.errors()


def test_a_bulkfetch_token_that_never_changes_fails_loudly():
    history = {"id": "1", "created": "2026-06-30T04:00:00.000+0000", "items": [{"field": "status", "fromString": "A", "toString": "B"}]}

    looping_bulkfetch = json_routes({
        "/search/jql": {"issues": [{"id": "10001", "key": "P-1", "fields": {"updated": "2026-06-30T04:00:00.000+0000"}}], "isLast": True},
        "/changelog/bulkfetch": {"issueChangeLogs": [{"issueId": "10001", "changeHistories": [history]}], "nextPageToken": "again", "isLast": False},
    })
    with HostileServer(looping_bulkfetch) as server:
        result, _ = read(server, "issue_changelogs")
        asked = sum(1 for p in server.paths() if "bulkfetch" in p)
    text = failure(result, pages_before=True)
    assert "changelog/bulkfetch" in text and "do not advance" in text, text
    assert asked <= 3
