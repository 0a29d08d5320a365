"""End-to-end: Jira Service Management streams (issue 16) with the real `source-jira` command against the fake Jira, on
Cloud and on Data Center (PAT):

* a full read of every JSM stream equals the fake's ground truth (no duplicate, every record on-schema);
* an incremental round after requests change (status, summary, new comments): exactly the requests whose issue
  changed since the state (minus the lookback) are read again, with their current rows; nothing is missed;
* the requests made for the per-request streams, per 100 requests (exact counts from the fake);
* a site without JSM (404): every JSM stream is skipped with one WARN naming why, the rest of the sync succeeds;
* an account that is not an agent (403 on queues and customers, its own requests only): those two are skipped with
  one WARN each, the others give what the account may see.
"""

from __future__ import annotations

import math
from collections import Counter

import pytest

from integration_tests.conftest import (
    assert_ids_equal_ground_truth,
    assert_valid_against_schemas,
    configured_catalog,
    run_connector,
)
from integration_tests.fake_jira.servicedesk import DESKS, approvals_of, ground_truth as jsm_ground_truth, requests_of

DIMENSIONS = ["service_desks", "request_types", "queues", "customers", "organizations"]
PER_REQUEST = ["requests", "request_slas", "request_comments", "request_participants", "request_approvals",
               "request_status_history"]
JSM = DIMENSIONS + PER_REQUEST
DEPLOYMENTS = ["cloud", "datacenter"]


def _config(fake, **overrides):
    return fake.config(auth="pat", **overrides) if fake.is_datacenter else fake.config(**overrides)


def _catalog(fake, streams, incremental=True):
    result = run_connector("discover", _config(fake), ca_path=fake.ca_path)
    assert result.returncode == 0, result.stderr[-2000:]
    discovered = result.catalog()
    return discovered, configured_catalog(discovered, streams, incremental=incremental)


def _read(fake, catalog, state=None, **config):
    result = run_connector("read", _config(fake, **config), catalog, state=state, ca_path=fake.ca_path)
    assert result.returncode == 0 and not result.errors(), (result.errors(), result.stderr[-2000:])
    return result


@pytest.fixture(scope="module", params=DEPLOYMENTS)
def jsm_site(request):
    from integration_tests.fake_jira import FakeJira

    fake = FakeJira(issues=300, seed=7, deployment=request.param)
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture(scope="module")
def full_read(jsm_site):
    discovered, catalog = _catalog(jsm_site, JSM, incremental=False)
    jsm_site.reset_counts()
    return discovered, _read(jsm_site, catalog)


def test_every_jsm_stream_is_offered_with_its_keys(jsm_site):
    discovered, _ = _catalog(jsm_site, JSM)
    offered = {s["name"]: s for s in discovered["streams"] if s["name"] in JSM}
    assert set(offered) == set(JSM)
    for name, stream in offered.items():
        assert stream["source_defined_primary_key"] == [[k] for k in jsm_site.ground_truth_pk(name)], name
        incremental = "incremental" in stream["supported_sync_modes"]
        assert incremental == (name in PER_REQUEST), name
        if incremental:
            assert stream["default_cursor_field"] == ["issueUpdated"]


@pytest.mark.parametrize("stream", JSM)
def test_full_read_equals_ground_truth(full_read, jsm_site, stream):
    _, result = full_read
    records = result.records(stream)
    assert records, f"{stream}: no records"
    assert_ids_equal_ground_truth(stream, records, jsm_site)


def test_approval_records_are_the_fakes_approvals(full_read, jsm_site):
    """Skipping the approval endpoint for requests whose Approvals field is empty loses nothing: every approval of
    the site comes through, with its decision and dates (approved, declined and pending ones)."""
    _, result = full_read
    got = {(r["issueId"], r["id"]): (r["finalDecision"], r["createdDate"]["epochMillis"],
                                      (r.get("completedDate") or {}).get("epochMillis")) for r in result.records("request_approvals")}
    assert len(got) == len(result.records("request_approvals"))
    truth = {(str(it.id), a["id"]): (a["decision"], a["created"], a["completed"])
             for d in DESKS for it in requests_of(jsm_site.site, d) for a in approvals_of(jsm_site.site, d, it)}
    assert got == truth
    assert {v[0] for v in truth.values()} == {"approved", "declined", "pending"}


@pytest.mark.parametrize("deployment", DEPLOYMENTS)
def test_approvals_field_of_another_form_means_the_endpoint_is_asked(fresh_fake, deployment):
    """A site whose Approvals field shows the approvals in another form (here: without their `_links`) is not taken at
    its word: each request with approvals is asked on its own (`request/{key}/approval`), and the records are the
    same, exact against the ground truth."""
    fake = fresh_fake(deployment=deployment, issues=150, seed=23)
    fake.site.approvals_field_links = False
    _, catalog = _catalog(fake, ["request_approvals"], incremental=False)
    fake.reset_counts()
    result = _read(fake, catalog)
    assert_ids_equal_ground_truth("request_approvals", result.records("request_approvals"), fake)
    with_approvals = len({iid for iid, _ in jsm_ground_truth(fake.site, "request_approvals")})
    assert with_approvals and fake.request_counts()["GET /rest/servicedeskapi/request/{issueIdOrKey}/approval"] == with_approvals
    assert all(r["_links"]["self"].endswith(f"/approval/{r['id']}") for r in result.records("request_approvals"))


def test_full_read_records_valid_and_shaped(full_read, jsm_site):
    discovered, result = full_read
    assert_valid_against_schemas(discovered, result.records_by_stream())
    slas = result.records("request_slas")
    # breached and not, running and completed: all four are in the fake and come through
    assert any(r.get("ongoingCycle") for r in slas) and any(r["completedCycles"] for r in slas)
    cycles = [c for r in slas for c in r["completedCycles"]] + [r["ongoingCycle"] for r in slas if r.get("ongoingCycle")]
    assert {c["breached"] for c in cycles} == {True, False}
    assert all(isinstance(c["startTime"]["epochMillis"], int) and c["startTime"]["iso8601"] for c in cycles)
    comments = result.records("request_comments")
    assert {c["public"] for c in comments} == {True, False}
    queues = result.records("queues")
    assert all(isinstance(q["issueCount"], int) for q in queues)
    user_key = "key" if jsm_site.is_datacenter else "accountId"
    assert all(r.get(user_key) for r in result.records("customers") + result.records("request_participants"))
    for row in result.records("requests"):
        assert row["issueUpdated"].isdigit() and row["requestType"]["id"] == row["requestTypeId"]
        assert "sla" not in row and "comments" not in row  # those are their own streams


def test_requests_per_100_service_requests(full_read, jsm_site):
    """What the per-request streams cost together, exactly. They share one issue search (the changed issues) and
    every request answer (fetched once with the expands of all of them): on Cloud the expanded request list, 50 a page
    per desk; on Data Center, which lists only the account's own requests, `request/{key}` once per request. Approvals
    have no expand, and need no call: the shared search carries the Approvals field (its id from one `GET field`),
    which holds each request's approvals as the approval endpoint lists them. Each stream lists the desks once (one
    page here)."""
    counts = jsm_site.request_counts()
    n = len(jsm_ground_truth(jsm_site.site, "requests"))
    with_approvals = len({iid for iid, _ in jsm_ground_truth(jsm_site.site, "request_approvals")})
    assert 0 < with_approvals < n
    platform = "/rest/api/2" if jsm_site.is_datacenter else "/rest/api/3"
    search = f"POST {platform}/search" if jsm_site.is_datacenter else f"POST {platform}/search/jql"
    assert counts[search] == 1  # fewer than 100 changed issues: one page, shared
    assert counts[f"GET {platform}/field"] == 1  # the Approvals field's id: once per read
    assert counts.get("GET /rest/servicedeskapi/request/{issueIdOrKey}/approval", 0) == 0
    if jsm_site.is_datacenter:
        assert counts["GET /rest/servicedeskapi/request/{issueIdOrKey}"] == n
        assert "GET /rest/servicedeskapi/request" not in counts
    else:
        pages = sum(math.ceil(len(requests_of(jsm_site.site, d)) / 50) for d in DESKS)
        assert counts["GET /rest/servicedeskapi/request"] == pages
        assert "GET /rest/servicedeskapi/request/{issueIdOrKey}" not in counts
    desk_lists = len(PER_REQUEST)  # the dimension streams' own desk lists are not counted here
    per_request_calls = (counts[search] + desk_lists + counts[f"GET {platform}/field"]
                         + counts.get("GET /rest/servicedeskapi/request/{issueIdOrKey}/approval", 0)
                         + counts.get("GET /rest/servicedeskapi/request", 0)
                         + counts.get("GET /rest/servicedeskapi/request/{issueIdOrKey}", 0))
    per_100 = 100 * per_request_calls / n
    print(f"\n{'Data Center' if jsm_site.is_datacenter else 'Cloud'}: {per_request_calls} requests for the 6 per-request "
          f"streams over {n} service requests = {per_100:.0f} per 100 (one call per request and stream: {100 * len(PER_REQUEST)})")
    assert per_100 < (115 if jsm_site.is_datacenter else 16)


def test_data_center_reads_requests_by_key_concurrently(fresh_fake):
    """Data Center lists no one's requests but the account's: each changed request is read by key. Those reads overlap
    in time on the fake (which answers each after 40 ms), no more at once than the per-issue threads, and the records
    are still exactly the ground truth's, in the search's order."""
    from source_jira.limiter import CEILING_DEFAULT

    fake = fresh_fake(issues=200, seed=37, deployment="datacenter", latency_ms=40)
    _, catalog = _catalog(fake, ["requests", "request_comments"])
    fake.reset_counts()
    result = _read(fake, catalog)
    for stream in ("requests", "request_comments"):
        assert_ids_equal_ground_truth(stream, result.records(stream), fake)
    endpoint = "GET /rest/servicedeskapi/request/{issueIdOrKey}"
    assert fake.request_counts()[endpoint] == len(jsm_ground_truth(fake.site, "requests"))  # shared by both streams
    assert 1 < fake.peak_in_flight()[endpoint] <= CEILING_DEFAULT, fake.peak_in_flight()


@pytest.mark.parametrize("deployment", DEPLOYMENTS)
def test_incremental_round_rereads_exactly_the_changed_requests(fresh_fake, deployment):
    fake = fresh_fake(deployment=deployment)
    _, catalog = _catalog(fake, PER_REQUEST)
    first = _read(fake, catalog)
    for stream in PER_REQUEST:
        assert_ids_equal_ground_truth(stream, first.records(stream), fake)
    states = {s["stream"]["stream_descriptor"]["name"]: s["stream"]["stream_state"] for s in first.final_state()}
    assert set(states) == set(PER_REQUEST)
    newest = max(it.updated for d in DESKS for it in requests_of(fake.site, d))
    for stream in PER_REQUEST:  # the newest `updated` seen, never "now"
        assert int(states[stream]["issueUpdated"]) == newest, (stream, states[stream])

    ops = [it for it in requests_of(fake.site, DESKS[0])]
    sec = [it for it in requests_of(fake.site, DESKS[1])]
    changed = {str(it.id) for it in ops[:3] + sec[:2]}
    fake.update_issues([str(it.id) for it in ops[:2]])
    fake.update_issues([str(sec[0].id)], status="Done")
    fake.add_comments([str(sec[1].id)], per_issue=2)
    fake.add_comments([str(ops[2].id)], per_issue=12)  # more than the request's embedded comment page holds

    fake.reset_counts()
    second = _read(fake, catalog, state=first.final_state())
    counts = fake.request_counts()
    # the one request whose embedded comments are cut short is completed from its own comment list, once
    assert counts["GET /rest/servicedeskapi/request/{issueIdOrKey}/comment"] == 1, counts
    lookback = 5 * 60_000
    since = newest - lookback
    since -= since % 60_000
    expected = {it for d in DESKS for it in requests_of(fake.site, d) if it.updated >= since}
    assert changed <= {str(it.id) for it in expected}
    assert len(expected) < len(ops) + len(sec)  # not the whole desk again
    for stream in PER_REQUEST:
        got = second.records(stream)
        truth = jsm_ground_truth(fake.site, stream, expected)
        pk = fake.ground_truth_pk(stream)
        assert {tuple(r.get(k) for k in pk) for r in got} == truth, stream
        assert len(got) == len(truth), f"{stream}: duplicates"
        assert {r["issueId"] for r in got} <= {str(it.id) for it in expected}, stream
    # the changes are visible: the new status, the new comments, SLAs evaluated at the new `updated`
    history = {(r["issueId"], r["status"]) for r in second.records("request_status_history")}
    assert (str(sec[0].id), "Done") in history
    comments = {r["issueId"] for r in second.records("request_comments")}
    assert {str(ops[2].id), str(sec[1].id)} <= comments
    states2 = {s["stream"]["stream_descriptor"]["name"]: s["stream"]["stream_state"] for s in second.final_state()}
    newest2 = max(it.updated for d in DESKS for it in requests_of(fake.site, d))
    assert all(int(states2[s]["issueUpdated"]) == newest2 for s in PER_REQUEST), states2


@pytest.mark.parametrize("deployment", DEPLOYMENTS)
def test_site_without_jsm_skips_the_streams_with_one_warning(fresh_fake, deployment):
    fake = fresh_fake(deployment=deployment, jsm=False)
    _, catalog = _catalog(fake, JSM + ["issue_types", "workflow_statuses"])
    result = _read(fake, catalog)
    assert not any(result.records(s) for s in JSM)
    assert_ids_equal_ground_truth("issue_types", result.records("issue_types"), fake)
    assert_ids_equal_ground_truth("workflow_statuses", result.records("workflow_statuses"), fake)
    warns = [w for w in result.logs("WARN") if "Skipping stream" in w]
    assert warns and all("Jira Service Management" in w and "404" in w for w in warns), warns
    named = [s for s in JSM if any(f"'{s}'" in w or f" {s}," in w or f" {s} " in w or w.rstrip(".").endswith(s) for w in warns)]
    assert set(JSM) <= {s for w in warns for s in JSM if s in w}, (warns, named)
    for s in JSM:  # each stream is named by one warning only
        assert sum(f"'{s}'" in w for w in warns) <= 1, (s, warns)


@pytest.mark.parametrize("deployment", DEPLOYMENTS)
def test_account_that_is_not_an_agent(fresh_fake, deployment):
    fake = fresh_fake(deployment=deployment, jsm_agent=False)
    _, catalog = _catalog(fake, JSM)
    result = _read(fake, catalog)
    warns = [w for w in result.logs("WARN") if "Skipping stream" in w]
    for stream in ("queues", "customers"):
        mine = [w for w in warns if f"'{stream}'" in w]
        assert len(mine) == 1 and "403" in mine[0] and "agent" in mine[0], warns
        assert not result.records(stream)
    for stream in JSM:
        if stream not in ("queues", "customers"):
            assert_ids_equal_ground_truth(stream, result.records(stream), fake)
    assert result.records("requests"), "the account's own requests"
    assert all(c["public"] for c in result.records("request_comments"))


@pytest.mark.parametrize("deployment", DEPLOYMENTS)
def test_under_faults_every_jsm_stream_equals_ground_truth(fresh_fake, deployment):
    """429s, 5xx, resets, bodies cut short and corrupt JSON on every endpoint (the servicedeskapi ones and the issue
    search), all in one read (each kind at 5 %, a quarter of the attempts fail): retried, nothing
    lost, nothing doubled, and every kind surely happened. The Approvals field here is of a form not taken for the
    approval endpoint's list, so that endpoint is called, and faulted, per request too."""
    fake = fresh_fake(deployment=deployment, issues=150)
    fake.site.approvals_field_links = False
    _, catalog = _catalog(fake, JSM, incremental=False)
    fake.set_faults(rate_429=0.05, rate_5xx=0.05, rate_reset=0.05, rate_truncated=0.05, rate_corrupt_json=0.05,
                    retry_after=1, seed=5)
    result = _read(fake, catalog)
    seen = Counter(fake.fault_counts())
    fake.clear_faults()
    for stream in JSM:
        assert_ids_equal_ground_truth(stream, result.records(stream), fake)
    assert seen["429"] and seen["reset"] and seen["truncated"] and seen["corrupt_json"], seen
    assert any(seen[str(code)] for code in (500, 502, 503, 504)), seen
