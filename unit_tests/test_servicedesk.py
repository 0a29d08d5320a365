"""Jira Service Management: what the per-request streams of one read share (source_jira/components/servicedesk.py,
SharedRequests): each answer fetched once for every selected stream that needs it, kept only until each has taken
it, bounded in memory, and a failed fetch never leaves another stream without its data."""

from __future__ import annotations

import json
import threading

import pytest

from source_jira.components import servicedesk
from source_jira.components.servicedesk import VIEWS, SharedRequests

ALL = list(VIEWS)


class Counter:
    def __init__(self, value="answer", fail=False):
        self.calls = 0
        self.value = value
        self.fail = fail
        self.lock = threading.Lock()

    def __call__(self):
        with self.lock:
            self.calls += 1
        if self.fail:
            raise RuntimeError("boom")
        return self.value


def test_expand_is_what_the_selected_streams_need():
    shared = SharedRequests(["requests", "request_slas", "request_approvals", "issues"])
    assert shared.views == {"requests", "request_slas", "request_approvals"}
    assert shared.expanding == {"requests", "request_slas"}  # approvals have no expand
    assert shared.expand == "requestType,serviceDesk,sla"
    assert SharedRequests(ALL).expand == "comment,participant,requestType,serviceDesk,sla,status"


def test_each_answer_is_fetched_once_and_dropped_when_every_stream_took_it():
    shared = SharedRequests(ALL)
    fetch = Counter()
    expanding = sorted(shared.expanding)
    for view in expanding:
        assert shared.get(("request", "OPS-1"), view, fetch) == "answer"
    assert fetch.calls == 1
    assert not shared._entries and shared._held == 0
    # the changed-issue search is asked by every stream, approvals included
    search = Counter({"OPS": {}})
    for view in sorted(shared.views):
        shared.get(("changed", "jql"), view, search, requests=False)
    assert search.calls == 1 and not shared._entries


def test_a_stream_that_finishes_releases_what_it_never_asked_for():
    shared = SharedRequests(["requests", "request_slas"])
    shared.get(("page", "1", "x", 0), "requests", Counter(), weight=50)
    assert shared._held == 50
    shared.finished("request_slas")  # it stopped before that page (every changed request already seen)
    assert not shared._entries and shared._held == 0


def test_memory_bound_past_which_each_stream_fetches_its_own(monkeypatch):
    monkeypatch.setattr(servicedesk, "HELD_MAX", 60)
    shared = SharedRequests(["requests", "request_slas"])
    first, second = Counter("p0"), Counter("p1")
    shared.get(("page", "1", "x", 0), "requests", first, weight=50)
    shared.get(("page", "1", "x", 50), "requests", second, weight=50)  # would pass the bound: not kept
    assert shared._held == 50
    assert shared.get(("page", "1", "x", 0), "request_slas", first, weight=50) == "p0"
    assert shared.get(("page", "1", "x", 50), "request_slas", second, weight=50) == "p1"
    assert (first.calls, second.calls) == (1, 2)
    assert shared._held == 0 and not shared._entries


def test_a_failed_fetch_fails_its_own_stream_only():
    shared = SharedRequests(["requests", "request_slas"])
    with pytest.raises(RuntimeError):
        shared.get(("request", "OPS-1"), "requests", Counter(fail=True))
    retry = Counter("fresh")
    assert shared.get(("request", "OPS-1"), "request_slas", retry) == "fresh" and retry.calls == 1


def test_streams_asking_at_once_share_one_fetch():
    shared = SharedRequests(ALL)
    gate = threading.Event()
    calls = []

    def slow():
        calls.append(1)
        gate.wait(5)
        return "page"

    got = {}
    threads = [threading.Thread(target=lambda v=v: got.__setitem__(v, shared.get(("page", "1", "x", 0), v, slow, weight=50)))
               for v in sorted(shared.expanding)]
    for t in threads:
        t.start()
    gate.set()
    for t in threads:
        t.join(5)
    assert len(calls) == 1 and set(got.values()) == {"page"} and len(got) == len(shared.expanding)
    assert not shared._entries and shared._held == 0


# --- which requests are read how (ServiceRequestRetriever._requests) ---------------------------------------------
class StubRequester:
    """Answers servicedeskapi GETs from a list of requests (50 a page, most recent first) and records each call."""

    def __init__(self, keys, agent=True):
        self.keys, self.agent = keys, agent
        self.calls = []

    def send_request(self, path, request_params=None, **_):
        import json

        import requests as rq

        params = dict(request_params or {})
        self.calls.append(path)
        response = rq.Response()
        response.status_code = 200
        if path == "request":
            start = int(params.get("start", 0))
            shown = self.keys[start:start + 50]
            body = {"start": start, "size": len(shown), "limit": 50, "isLastPage": start + len(shown) >= len(self.keys),
                    "values": [{"issueKey": k, "sla": {"isLastPage": True, "values": []}} for k in shown]}
        elif path.startswith("servicedesk/") and path.endswith("/queue") and self.agent:
            body = {"start": 0, "size": 0, "limit": 1, "isLastPage": True, "values": []}
        elif path.startswith("request/") and path.count("/") == 1 and path[len("request/"):] in self.keys:
            body = {"issueKey": path[len("request/"):], "sla": {"isLastPage": True, "values": []}}
        else:
            response.status_code = 404  # as the manifest's request requester skips it
            body = {"errorMessages": ["not a request"]}
        response._content = json.dumps(body).encode()
        return response


def _retriever(requester, name="request_slas"):
    return servicedesk.ServiceRequestRetriever(config={}, parameters={"name": name}, requester=requester,
                                               desk_requester=requester, request_requester=requester)


def _found(pairs):
    """The keys of the requests `_requests` gives: one the list did not show comes as a call that reads it by key
    (run on the per-issue threads in a read), None when Jira says it is no request."""
    return [key for key, request in pairs if (request() if callable(request) else request) is not None]


def _wanted(keys):
    return {k: (str(10000 + i), 1_700_000_000_000 + i) for i, k in enumerate(keys)}


def test_a_first_sync_reads_the_whole_list_and_nothing_by_key():
    keys = [f"OPS-{i}" for i in range(120)]
    stub = StubRequester(keys)
    got = _found(_retriever(stub)._requests(SharedRequests(["request_slas"]), {"id": "1"}, _wanted(keys)))
    assert sorted(got) == sorted(keys) and stub.calls == ["request"] * 3


def test_an_incremental_sync_stops_the_list_early_and_reads_the_rest_by_key():
    keys = [f"OPS-{i}" for i in range(500)]  # ten pages
    stub = StubRequester(keys)
    wanted = _wanted(["OPS-0", "OPS-7", "OPS-9999"])  # two near the top; one issue of the project that is no request
    got = _found(_retriever(stub)._requests(SharedRequests(["request_slas"]), {"id": "1"}, wanted))
    assert sorted(got) == ["OPS-0", "OPS-7"]
    assert stub.calls == ["request", "request/OPS-9999"]  # not the nine other pages


def test_approvals_are_read_per_request():
    keys = ["OPS-1", "OPS-2"]
    stub = StubRequester(keys)
    got = list(_retriever(stub, "request_approvals")._requests(SharedRequests(["request_approvals"]), {"id": "1"}, _wanted(keys)))
    assert got == [("OPS-1", None), ("OPS-2", None)] and stub.calls == []


# --- approvals: the endpoint is skipped only for a request whose Approvals field is explicitly empty ---------------
FIELD = "customfield_10035"


@pytest.mark.parametrize("fields, call", [
    ({FIELD: None, "updated": "x"}, False),  # explicit null: no approvals
    ({FIELD: []}, False),  # explicit empty list
    ({FIELD: [{"id": "1", "finalDecision": "pending"}]}, True),  # has some
    ({"updated": "x"}, True),  # field absent from the issue's fields: unknown, call
    ({FIELD: {}}, True),  # odd shapes: not recognised, call
    ({FIELD: ""}, True),
    ({FIELD: "[]"}, True),
    ({FIELD: 0}, True),
    ({FIELD: {"values": []}}, True),
    (None, True),  # no `fields` at all
    ([], True),
])
def test_the_approval_endpoint_is_skipped_only_for_an_explicitly_empty_field(fields, call):
    assert servicedesk.may_have_approvals(fields, FIELD) is call


def test_no_approvals_field_on_the_site_means_every_request_is_asked():
    assert servicedesk.may_have_approvals({FIELD: None}, None) is True
    assert servicedesk.approvals_field({"summary": {"id": "summary"}, "customfield_1": {"schema": {"custom": "x:textfield"}}}) is None
    fields = {"customfield_1": {"schema": {"custom": "x:textfield"}},
              FIELD: {"schema": {"type": "sd-approvals", "custom": servicedesk.APPROVALS_TYPE}}}
    assert servicedesk.approvals_field(fields) == FIELD


def test_the_approvals_field_is_looked_up_once_per_read_and_only_for_request_approvals():
    loads = Counter({FIELD: {"schema": {"custom": servicedesk.APPROVALS_TYPE}}})
    shared = SharedRequests(["requests", "request_slas"])
    assert shared.approvals_field(loads) is None and loads.calls == 0  # approvals not read: no `GET field`
    shared = SharedRequests(ALL)
    assert [shared.approvals_field(loads) for _ in ALL] == [FIELD] * len(ALL)
    assert loads.calls == 1


# --- approvals from the field: taken only when it is recognisably the endpoint's list, for this very request -------
def _approval(approval_id="11", request="10001", **over):
    a = {"id": approval_id, "name": "Approve", "finalDecision": "pending", "canAnswerApproval": False,
         "approvers": [{"approver": {"accountId": "a1"}, "approverDecision": "pending"}],
         "createdDate": {"epochMillis": 1}, "_links": {"self": f"https://x/rest/servicedeskapi/request/{request}/approval/{approval_id}"}}
    a.update(over)
    return a


def test_the_fields_approvals_are_taken_when_they_are_the_endpoints():
    by_id, by_key = _approval(), _approval("12", request="OPS-1")
    assert servicedesk.approvals_in_field([by_id, by_key], "10001", "OPS-1") == [by_id, by_key]


@pytest.mark.parametrize("value", [
    None, [], {}, "x", [None],
    [_approval(request="10002")],  # another request's approval
    [_approval(approval_id="12", _links={"self": "https://x/rest/servicedeskapi/request/10001/approval/13"})],
    [_approval(_links={})], [_approval(_links=None)], [_approval(_links="x")],
    [{k: v for k, v in _approval().items() if k != "approvers"}],
    [_approval(finalDecision=None)], [_approval(id="")],
    [_approval(), {"id": "2"}],  # one odd item: the whole field is not taken
])
def test_a_field_of_another_form_is_not_taken(value):
    assert servicedesk.approvals_in_field(value, "10001", "OPS-1") is None


@pytest.mark.parametrize("agent", [True, False])
def test_approvals_from_the_field_make_no_call_for_an_agent(agent):
    """An agent of the desk (its queues answer) sees every request: the field's approvals are the records. Anyone else
    (403 on queues) sees only some requests: each request with approvals is asked (the others' endpoint says 404)."""
    keys = ["OPS-1", "OPS-2", "OPS-3", "OPS-4"]
    stub = StubRequester(keys, agent=agent)
    retriever = servicedesk.ServiceRequestRetriever(config={}, parameters={"name": "request_approvals"}, requester=stub,
                                                    desk_requester=stub, request_requester=stub, agent_requester=stub)
    packed = {n: json.dumps([_approval(request=n)]).encode() for n in ("1", "4")}
    wanted = {"OPS-1": ("1", 1, packed["1"]), "OPS-2": ("2", 2, False), "OPS-3": ("3", 3, True),
              "OPS-4": ("4", 4, packed["4"])}
    shared = SharedRequests(["request_approvals"])
    work = list(retriever._work(shared, {"id": "1"}, wanted))
    called = [item[0] for item, call in work if call is not None]
    assert called == (["OPS-3"] if agent else ["OPS-1", "OPS-3", "OPS-4"])
    assert stub.calls == ["servicedesk/1/queue"]  # once per desk, and no request's own call yet
    list(retriever._work(shared, {"id": "1"}, wanted))
    assert stub.calls == ["servicedesk/1/queue"]  # the read's answer, kept with its other shared answers
    list(retriever._work(SharedRequests(["request_approvals"]), {"id": "1"}, wanted))
    assert stub.calls == ["servicedesk/1/queue"] * 2  # another read asks again
    assert retriever._field_approvals(wanted["OPS-1"][2]) == [_approval(request="1")]
    assert retriever._field_approvals(False) == []


def test_without_an_agent_requester_the_field_never_stands_for_the_endpoint():
    stub = StubRequester(["OPS-1"])
    retriever = _retriever(stub, "request_approvals")
    packed = json.dumps([_approval(request="1")]).encode()
    work = list(retriever._work(SharedRequests(["request_approvals"]), {"id": "1"}, {"OPS-1": ("1", 1, packed)}))
    assert [call is not None for _, call in work] == [True] and stub.calls == []


def test_the_fields_approvals_held_for_a_read_are_bounded(monkeypatch):
    """The changed-issue search keeps each request's approvals from its field (compact JSON) for the read, up to
    APPROVALS_HELD_BYTES; past it, a request is asked on its own (True), so a huge first sync stays in memory bounds."""
    issues = [{"id": str(i), "key": f"OPS-{i}", "fields": {"updated": "2026-01-01T00:00:00.000+0000",
                                                         FIELD: [_approval(request=str(i))]}} for i in range(1, 5)]
    one = len(json.dumps([_approval(request="1")], separators=(",", ":")))
    monkeypatch.setattr(servicedesk, "APPROVALS_HELD_BYTES", 2 * one)

    class Search:
        path = "search/jql"

        def scan(self, requester, jql, fields, where):
            assert FIELD in fields
            return iter(issues)

    retriever = _retriever(StubRequester([]), "request_approvals")
    retriever.search = Search()
    monkeypatch.setattr(retriever, "_fields_by_id", lambda: {FIELD: {"schema": {"custom": servicedesk.APPROVALS_TYPE}}})
    found = retriever._changed(SharedRequests(["request_approvals"]), [{"id": "1", "projectKey": "OPS"}], 0, None)["OPS"]
    kinds = [found[f"OPS-{i}"][2] for i in range(1, 5)]
    assert [json.loads(k) for k in kinds[:2]] == [[_approval(request="1")], [_approval(request="2")]]
    assert kinds[2:] == [True, True]
