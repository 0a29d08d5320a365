"""Tests of the fake Jira itself (not of the connector): shapes, paging, JQL, faults, mutations, CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests

from integration_tests.fake_jira import STREAM_PKS, FakeJira
from integration_tests.fake_jira.client import FakeJiraClient

A3 = "/rest/api/3"
AG = "/rest/agile/1.0"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Api:
    """requests with auth; ``verify`` passed per call ($REQUESTS_CA_BUNDLE beats Session.verify)."""

    def __init__(self, fake: FakeJira, auth=None) -> None:
        self.fake = fake
        self.s = requests.Session()
        self.auth = auth if auth is not None else (fake.email, fake.api_token)

    def get(self, path: str, **params) -> requests.Response:
        return self.s.get(self.fake.base_url + path, params=params, auth=self.auth, verify=self.fake.ca_path, timeout=30)

    def post(self, path: str, body: dict) -> requests.Response:
        return self.s.post(self.fake.base_url + path, json=body, auth=self.auth, verify=self.fake.ca_path, timeout=30)

    def ok(self, path: str, **params):
        r = self.get(path, **params)
        assert r.status_code == 200, (path, r.status_code, r.text[:300])
        return r.json()

    def pagebean(self, path: str, page: int = 2, **params) -> list:
        out, start = [], 0
        while True:
            d = self.ok(path, startAt=start, maxResults=page, **params)
            assert d["maxResults"] <= page
            out += d["values"]
            start += len(d["values"])
            if d["isLast"]:
                if "total" in d:
                    assert d["total"] == len(out)
                return out
            assert d["values"], "empty non-last page"

    def search(self, jql: str, fields=None, page: int = 100, **extra) -> list:
        out, token = [], None
        while True:
            body = {"jql": jql, "maxResults": page, **extra}
            if fields is not None:
                body["fields"] = fields
            if token:
                body["nextPageToken"] = token
            r = self.post(A3 + "/search/jql", body)
            assert r.status_code == 200, r.text
            d = r.json()
            assert "total" not in d
            out += d["issues"]
            if d["isLast"]:
                assert "nextPageToken" not in d
                return out
            token = d["nextPageToken"]


@pytest.fixture(scope="module")
def fake():
    with FakeJira(issues=600, seed=7) as f:
        yield f


@pytest.fixture(scope="module")
def api(fake):
    return Api(fake)


@pytest.fixture()
def mfake():
    """A fresh, small fake for tests that mutate state."""
    with FakeJira(issues=300, seed=11) as f:
        yield f


# ------------------------------------------------------------------------------------------------
# basics
# ------------------------------------------------------------------------------------------------
def test_generation_is_deterministic():
    a = FakeJira(issues=2000, seed=42)
    b = FakeJira(issues=2000, seed=42, now_ms=a.site.anchor)
    c = FakeJira(issues=2000, seed=43, now_ms=a.site.anchor)
    for stream in ("issues", "issue_comments", "issue_changelogs", "users", "sprints", "sprint_issues", "workflows"):
        assert a.ground_truth(stream) == b.ground_truth(stream)
    assert a.ground_truth("issue_comments") != c.ground_truth("issue_comments")
    assert len(a.ground_truth("issues")) == 2000
    assert set(a.streams()) == set(STREAM_PKS)


def test_auth(fake, api):
    r = Api(fake, auth=("nobody@example.com", "wrong")).get(A3 + "/myself")
    assert r.status_code == 401
    assert r.json() == {"errorMessages": ["Client must be authenticated to access this resource."], "errors": {}}
    assert requests.get(fake.base_url + A3 + "/myself", verify=fake.ca_path).status_code == 401
    me = api.ok(A3 + "/myself")
    assert me["emailAddress"] == fake.email and me["timeZone"] == "America/Los_Angeles"
    r = api.get(A3 + "/definitely/not/here")
    assert r.status_code == 404 and "errorMessages" in r.json()
    with FakeJira(issues=10, bearer_token="sekret") as f2:
        r = requests.get(f2.base_url + A3 + "/myself", headers={"Authorization": "Bearer sekret"}, verify=f2.ca_path)
        assert r.status_code == 200
        r = requests.get(f2.base_url + A3 + "/myself", headers={"Authorization": "Bearer nope"}, verify=f2.ca_path)
        assert r.status_code == 401


def test_oauth_refresh_rotation_and_cloud_prefix(fake):
    url = fake.base_url + "/oauth/token"
    creds = fake.oauth_config()["credentials"]
    form = {"grant_type": "refresh_token", "client_id": creds["client_id"], "client_secret": creds["client_secret"],
            "refresh_token": creds["refresh_token"]}
    r = requests.post(url, data=form, verify=fake.ca_path)
    assert r.status_code == 200 and r.json()["refresh_token"] != creds["refresh_token"]
    tok = r.json()["access_token"]
    assert requests.post(url, data=form, verify=fake.ca_path).status_code == 403  # a refresh token works once
    h = {"Authorization": f"Bearer {tok}"}
    res = requests.get(fake.base_url + "/oauth/token/accessible-resources", headers=h, verify=fake.ca_path).json()
    assert res[0]["id"] == fake.site.cloud_id
    r = requests.get(f"{fake.base_url}/ex/jira/{res[0]['id']}/rest/api/3/myself", headers=h, verify=fake.ca_path)
    assert r.status_code == 200


def test_config_and_counts(fake, api):
    cfg = fake.config(num_workers=8)
    assert cfg["domain"] == fake.domain and cfg["num_workers"] == 8
    assert cfg["credentials"] == {"auth_type": "api_token", "email": fake.email, "api_token": fake.api_token}
    fake.reset_counts()
    api.get(A3 + "/issue/10001/comment")
    api.get(A3 + "/issue/10002/comment")
    api.post(A3 + "/search/jql", {"jql": "project = PLAT"})
    counts = fake.request_counts()
    assert counts["GET /rest/api/3/issue/{issueIdOrKey}/comment"] == 2
    assert counts["POST /rest/api/3/search/jql"] == 1
    assert fake.total_requests() == 3


# ------------------------------------------------------------------------------------------------
# search / JQL
# ------------------------------------------------------------------------------------------------
def test_search_walk_equals_ground_truth(fake, api):
    issues = api.search('updated >= "1970-01-01" ORDER BY updated ASC, id ASC', fields=["*all"], page=100)
    assert {(i["id"],) for i in issues} == fake.ground_truth("issues")
    # caps: 100 with fields, 5000 with id/key only; default fields = id only
    r = api.post(A3 + "/search/jql", {"jql": "created >= \"1970-01-01\"", "maxResults": 1000, "fields": ["summary"]}).json()
    assert len(r["issues"]) == 100 and r["isLast"] is False
    r = api.post(A3 + "/search/jql", {"jql": "created >= \"1970-01-01\"", "maxResults": 5000, "fields": ["id", "key"]}).json()
    assert len(r["issues"]) == 600 and r["isLast"] is True
    r = api.post(A3 + "/search/jql", {"jql": "created >= \"1970-01-01\"", "maxResults": 3}).json()
    assert r["issues"][0].keys() == {"id"}
    # GET form with a comma string and a project filter (key, quoted key and id)
    d = api.ok(A3 + "/search/jql", jql='project in (PLAT, "MOB", 10002) order by key', fields="id,key", maxResults=5000)
    assert {(i["id"],) for i in d["issues"]} == fake.ground_truth("issues", projects=["PLAT", "MOB", "WEB"])
    d = api.ok(A3 + "/search/jql", jql="project = PLAT", fields="id,key,updated", maxResults=5000)
    assert len(d["issues"]) == 100 and set(d["issues"][0]["fields"]) == {"updated"}
    # other clauses
    subs = api.search("issuetype in subTaskIssueTypes() AND created >= \"1970-01-01\"", fields=["parent", "issuetype"])
    assert subs and all(i["fields"]["issuetype"]["subtask"] and i["fields"]["parent"]["id"] for i in subs)
    non_sub = api.search("project = PLAT AND issuetype != Sub-task", fields=["issuetype"])
    assert non_sub and all(i["fields"]["issuetype"]["name"] != "Sub-task" for i in non_sub)
    sid = next(iter(fake.ground_truth("sprints")))[0]
    in_sprint = api.search(f"sprint = {sid}", fields=["customfield_10020"])
    assert {(sid, i["id"]) for i in in_sprint} == {t for t in fake.ground_truth("sprint_issues") if t[0] == sid}
    assert all(any(s["id"] == sid for s in i["fields"]["customfield_10020"]) for i in in_sprint)
    some = sorted(fake.ground_truth("issues"))[:3]
    keys = [fake.site.find_issue(x[0]).key for x in some]
    got = api.search(f"id in ({','.join(x[0] for x in some)}) OR key in ({','.join(keys)})", fields=["status"])
    assert {i["id"] for i in got} == {x[0] for x in some}
    done = api.search('status = "Done" AND (project = PLAT OR project = MOB)', fields=["status"])
    assert done and all(i["fields"]["status"]["name"] == "Done" for i in done)


def test_search_errors(api):
    def err(jql):
        r = api.post(A3 + "/search/jql", {"jql": jql})
        assert r.status_code == 400, (jql, r.text)
        return r.json()["errorMessages"][0]

    unbounded = "Unbounded JQL queries are not allowed here. Please add a search restriction to your query."
    assert err("") == unbounded
    assert err("ORDER BY updated DESC") == unbounded
    assert err("project = XYZ") == "The value 'XYZ' does not exist for the field 'project'."
    assert err("project in (PLAT, NOPE)") == "The value 'NOPE' does not exist for the field 'project'."
    assert err('updated >= "2025/01/01 14:17:25"').startswith("Date value '2025/01/01 14:17:25' for field 'updated' is invalid")
    # Jira documents date strings and periods only; epoch ms of a real instant work, a degenerate `0` does not
    for degenerate in ("0", "-300000", "12345"):
        assert err(f"updated >= {degenerate}").startswith(f"Date value '{degenerate}' for field 'updated' is invalid. Valid formats include:")
    assert err("project = PLAT AND").startswith("Error in the JQL Query:")
    assert err("project = PLAT foo").startswith("Error in the JQL Query: Expecting either 'OR' or 'AND' but got 'foo'")
    assert err("nosuchfield = 1") == "Field 'nosuchfield' does not exist or you do not have permission to view it."
    assert err('(project = PLAT') .startswith("Error in the JQL Query:")
    r = api.post(A3 + "/search/jql", {"jql": "project = PLAT", "nextPageToken": "garbage"})
    assert r.status_code == 400
    # a JSON body must say so, as Jira's REST resources require
    r = api.s.post(api.fake.base_url + A3 + "/search/jql", data=b'{"jql": "project = PLAT"}', headers={"Content-Type": "text/plain"}, auth=api.auth, verify=api.fake.ca_path, timeout=30)
    assert r.status_code == 415


def test_jql_minute_precision_time_zone_and_epoch(mfake):
    api = Api(mfake)
    la = ZoneInfo("America/Los_Angeles")
    target = (datetime.now(la) - timedelta(minutes=10)).replace(second=40, microsecond=123000)
    ms = int(target.timestamp() * 1000)
    iid = mfake.update_issues(1, when=ms)[0]
    key = mfake.site.find_issue(iid).key
    minute = target.strftime("%Y/%m/%d %H:%M")
    minute_dash = target.strftime("%Y-%m-%d %H:%M")

    def hit(clause):
        r = api.post(A3 + "/search/jql", {"jql": f"key = {key} AND {clause}", "fields": ["updated"]})
        assert r.status_code == 200, r.text
        return [i["fields"]["updated"] for i in r.json()["issues"]]

    got = hit(f'updated >= "{minute}"')
    assert got and got[0].startswith(target.strftime("%Y-%m-%dT%H:%M:40.123")) and got[0][-5:] == target.strftime("%z")
    assert hit(f'updated > "{minute}"') == []          # 14:17:40 is not > "14:17"
    assert hit(f"updated >= '{minute_dash}'")
    assert hit(f'updated <= "{minute}"') and hit(f'updated = "{minute}"')
    minute_ms = ms - ms % 60000
    assert hit(f"updated >= {minute_ms}") and hit(f"updated >= {ms}") and hit(f"updated > {minute_ms}") == []
    # the same wall-clock string means another instant in another zone
    mfake.set_timezone("UTC")
    me = api.ok(A3 + "/myself")
    assert me["timeZone"] == "UTC"
    assert hit(f'updated <= "{minute}"') == []  # LA wall clock read as UTC is 7-8 h earlier
    utc_minute = datetime.fromtimestamp(ms / 1000, ZoneInfo("UTC")).strftime("%Y/%m/%d %H:%M")
    got = hit(f'updated >= "{utc_minute}"')
    assert got and got[0].endswith("+0000")
    assert hit(f"updated >= {minute_ms}")  # epoch ms is zone-free
    mfake.set_timezone("Asia/Kolkata")
    assert hit(f"updated >= {minute_ms}")[0].endswith("+0530")


def test_dst_offsets_rendered(api):
    issues = api.search("created >= \"1970-01-01\"", fields=["created"], page=100)
    offsets = {i["fields"]["created"][-5:] for i in issues}
    assert offsets == {"-0800", "-0700"}
    assert all(len(i["fields"]["created"]) == 28 for i in issues)  # 2025-01-01T14:17:25.435-0800


def test_index_lag_and_reconcile(mfake):
    api = Api(mfake)
    iid = mfake.update_issues(1)[0]
    mfake.set_index_lag(120)
    iid2 = mfake.update_issues([iid])[0]
    key = mfake.site.find_issue(iid2).key
    jql = f"key = {key}"
    assert api.post(A3 + "/search/jql", {"jql": jql}).json()["issues"] == []
    assert api.get(A3 + f"/issue/{iid}").status_code == 200
    got = api.post(A3 + "/search/jql", {"jql": jql, "reconcileIssues": [int(iid)]}).json()["issues"]
    assert [i["id"] for i in got] == [iid]
    r = api.post(A3 + "/search/jql", {"jql": jql, "reconcileIssues": list(range(10000, 10051))})
    assert r.status_code == 400
    mfake.set_now_offset(121)
    assert [i["id"] for i in api.post(A3 + "/search/jql", {"jql": jql}).json()["issues"]] == [iid]
    new = mfake.create_issues(2, project="MOB")
    assert api.get(A3 + f"/issue/{new[0]}").status_code == 200
    assert api.post(A3 + "/search/jql", {"jql": f"id in ({new[0]}, {new[1]})"}).json()["issues"] == []
    assert {(n,) for n in new} <= mfake.ground_truth("issues", projects=["MOB"])
    mfake.set_index_lag(0)
    assert len(api.post(A3 + "/search/jql", {"jql": f"id in ({new[0]}, {new[1]})"}).json()["issues"]) == 2
    mfake.hide_from_search([iid])
    assert api.post(A3 + "/search/jql", {"jql": jql}).json()["issues"] == []
    mfake.reveal([iid])
    assert len(api.post(A3 + "/search/jql", {"jql": jql}).json()["issues"]) == 1


# ------------------------------------------------------------------------------------------------
# embedded pages, per-issue endpoints, bulk changelog, worklog feed
# ------------------------------------------------------------------------------------------------
def test_embedded_pages_truncated_and_child_endpoints(fake, api):
    site = fake.site
    heavy_c = next(it for it in site.issues if len(it.comments) > 20)
    heavy_w = next(it for it in site.issues if len(it.worklogs) > 20)
    for it, field, lst in ((heavy_c, "comment", "comments"), (heavy_w, "worklog", "worklogs")):
        d = api.post(A3 + "/search/jql", {"jql": f"id = {it.id}", "fields": [field]}).json()["issues"][0]["fields"][field]
        assert d["total"] == len(getattr(it, lst)) > 20 and d["maxResults"] == 20 and len(d[lst]) == 20 and d["startAt"] == 0
        seen, start = [], 0
        while True:
            page = api.ok(A3 + f"/issue/{it.key}/{field}", startAt=start, maxResults=1000)
            assert page["maxResults"] == 100 and page["total"] == len(getattr(it, lst))
            seen += page[lst]
            start += len(page[lst])
            if start >= page["total"]:
                break
        small = api.ok(A3 + f"/issue/{it.id}/{field}", maxResults=7)
        assert len(small[lst]) == 7 and small["maxResults"] == 7
        assert [x["id"] for x in seen] == [str(c[0]) for c in getattr(it, lst)]
    w = api.ok(A3 + f"/issue/{heavy_w.id}/worklog")["worklogs"][0]
    assert w["issueId"] == str(heavy_w.id) and isinstance(w["timeSpentSeconds"], int)
    heavy_h = next(it for it in site.issues if len(it.histories) > 100)
    d = api.ok(A3 + f"/issue/{heavy_h.key}", expand="changelog", fields="summary")
    assert d["changelog"]["total"] == len(heavy_h.histories) and len(d["changelog"]["histories"]) == 40
    cl = api.pagebean(A3 + f"/issue/{heavy_h.id}/changelog", page=1000)
    assert len(cl) == len(heavy_h.histories)
    assert api.get(A3 + "/issue/99999999").status_code == 404


def test_per_issue_streams_match_ground_truth(fake, api):
    proj = ["MKT"]
    ids = sorted(x[0] for x in fake.ground_truth("issues", projects=proj))
    got = {k: set() for k in ("issue_watchers", "issue_votes", "issue_remote_links", "issue_properties",
                              "issue_transitions", "issue_attachments", "issue_comments", "issue_worklogs")}
    for iid in ids:
        w = api.ok(A3 + f"/issue/{iid}/watchers")
        assert w["watchCount"] == len(w["watchers"])
        got["issue_watchers"] |= {(iid, u["accountId"]) for u in w["watchers"]}
        got["issue_votes"] |= {(iid, u["accountId"]) for u in api.ok(A3 + f"/issue/{iid}/votes")["voters"]}
        got["issue_remote_links"] |= {(r["id"],) for r in api.ok(A3 + f"/issue/{iid}/remotelink")}
        for k in api.ok(A3 + f"/issue/{iid}/properties")["keys"]:
            v = api.ok(A3 + f"/issue/{iid}/properties/{k['key']}")
            got["issue_properties"].add((iid, v["key"]))
        got["issue_transitions"] |= {(iid, t["id"]) for t in api.ok(A3 + f"/issue/{iid}/transitions")["transitions"]}
    for i in api.search(f"project = {proj[0]}", fields=["attachment", "comment", "worklog"]):
        got["issue_attachments"] |= {(a["id"],) for a in i["fields"]["attachment"]}
        got["issue_comments"] |= {(c["id"],) for c in i["fields"]["comment"]["comments"]}
        got["issue_worklogs"] |= {(w["id"],) for w in i["fields"]["worklog"]["worklogs"]}
    for stream, rows in got.items():
        assert rows == fake.ground_truth(stream, projects=proj), stream


def test_changelog_bulkfetch(fake, api):
    ids = [x[0] for x in sorted(fake.ground_truth("issues"))]
    r = api.post(A3 + "/changelog/bulkfetch", {"issueIdsOrKeys": [str(i) for i in range(10000, 11001)]})
    assert r.status_code == 400
    seen, token, pages = [], None, 0
    while True:
        body = {"issueIdsOrKeys": ids, "maxResults": 1000}
        if token:
            body["nextPageToken"] = token
        d = api.post(A3 + "/changelog/bulkfetch", body).json()
        pages += 1
        for grp in d["issueChangeLogs"]:
            assert isinstance(grp["issueId"], str)
            seen += [h["id"] for h in grp["changeHistories"]]
        token = d.get("nextPageToken")
        if not token:
            break
    assert pages > 1 and len(seen) == len(set(seen))
    assert {(h,) for h in seen} == fake.ground_truth("issue_changelogs")
    d = api.post(A3 + "/changelog/bulkfetch", {"issueIdsOrKeys": ids[:50], "fieldIds": ["status"], "maxResults": 10000}).json()
    items = [it for g in d["issueChangeLogs"] for h in g["changeHistories"] for it in h["items"]]
    assert items and all(it["fieldId"] == "status" for it in items)


def test_worklog_feed_and_last_minute_rule(mfake):
    api = Api(mfake)

    def feed(kind, since=0):
        out, lastpage = [], False
        while not lastpage:
            d = api.ok(A3 + f"/worklog/{kind}", since=since)
            out += d["values"]
            lastpage = d["lastPage"]
            if not lastpage:
                assert d["nextPage"].endswith(f"since={d['until']}")
                since = d["until"]
        return out

    vals = feed("updated")
    assert all(isinstance(v["worklogId"], int) for v in vals)
    assert [v["updatedTime"] for v in vals] == sorted(v["updatedTime"] for v in vals)
    assert {(str(v["worklogId"]),) for v in vals} == mfake.ground_truth("issue_worklogs")
    new = mfake.add_worklogs(2, per_issue=2)
    ids = {v["worklogId"] for v in feed("updated")}
    assert not ids & {int(x) for x in new}          # changed in the last minute: left out
    mfake.set_now_offset(61)
    assert {int(x) for x in new} <= {v["worklogId"] for v in feed("updated")}
    listed = api.post(A3 + "/worklog/list", {"ids": [int(x) for x in new]}).json()
    assert sorted(w["id"] for w in listed) == sorted(new) and all(w["issueId"] for w in listed)
    assert api.post(A3 + "/worklog/list", {"ids": list(range(1001))}).status_code == 400
    gone = mfake.delete_worklogs(3)
    mfake.set_now_offset(130)
    deleted = {str(v["worklogId"]) for v in feed("deleted")}
    assert set(gone) <= deleted
    assert not {(g,) for g in gone} & mfake.ground_truth("issue_worklogs")
    assert api.post(A3 + "/worklog/list", {"ids": [int(g) for g in gone]}).json() == []


# ------------------------------------------------------------------------------------------------
# mutations, faults, permissions
# ------------------------------------------------------------------------------------------------
def test_mutations(mfake):
    api = Api(mfake)
    before = mfake.ground_truth("issue_changelogs")
    hour_before = datetime.now(ZoneInfo("America/Los_Angeles")).strftime("%Y-%m-%dT%H")
    upd = mfake.update_issues(3)
    after = mfake.ground_truth("issue_changelogs")
    assert len(after - before) == 3
    d = api.ok(A3 + f"/issue/{upd[0]}", fields="updated")
    hour_after = datetime.now(ZoneInfo("America/Los_Angeles")).strftime("%Y-%m-%dT%H")
    assert d["fields"]["updated"][:13] in (hour_before, hour_after)  # the site's zone, at the time of the update
    com_before = mfake.ground_truth("issue_comments")
    new_c = mfake.add_comments(2, per_issue=3)
    assert {(c,) for c in new_c} == mfake.ground_truth("issue_comments") - com_before
    victim = next(i for i in mfake.site.issues if i.comments and i.worklogs and not i.deleted and not i.itype.subtask)
    wl_ids = [str(w[0]) for w in victim.worklogs]
    deleted = mfake.delete_issues([victim.key])
    assert str(victim.id) in deleted
    assert api.get(A3 + f"/issue/{victim.id}").status_code == 404
    assert api.post(A3 + "/search/jql", {"jql": f"id = {victim.id}"}).json()["issues"] == []
    assert (str(victim.id),) not in mfake.ground_truth("issues")
    assert not {(str(c[0]),) for c in victim.comments} & mfake.ground_truth("issue_comments")
    assert not {(w,) for w in wl_ids} & mfake.ground_truth("issue_worklogs")
    assert {(w, ) for w in wl_ids} <= {(str(e[1]),) for e in mfake.site.wl_deleted}
    moved = mfake.update_issues(1, status="Done")
    assert api.ok(A3 + f"/issue/{moved[0]}", fields="status,resolution")["fields"]["resolution"] is not None


def test_faults(mfake):
    api = Api(mfake)
    mfake.set_faults(rate_429=1.0, retry_after=3)
    r = api.get(A3 + "/serverInfo")
    assert r.status_code == 429 and r.headers["Retry-After"] == "3" and "X-RateLimit-Limit" in r.headers
    mfake.set_faults(rate_5xx=1.0, seed=1)
    codes = {api.get(A3 + "/serverInfo").status_code for _ in range(25)}
    assert codes == {500, 502, 503, 504}
    r = next(r for r in (api.get(A3 + "/serverInfo") for _ in range(40)) if r.status_code == 502)
    assert r.text.startswith("<html>")
    mfake.set_faults(rate_reset=1.0)
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(mfake.base_url + A3 + "/serverInfo", verify=mfake.ca_path, auth=api.auth, timeout=10)
    mfake.set_faults(rate_truncated=1.0)
    with pytest.raises((requests.exceptions.ChunkedEncodingError, requests.exceptions.ConnectionError)):
        requests.get(mfake.base_url + A3 + "/field", verify=mfake.ca_path, auth=api.auth, timeout=10)
    mfake.set_faults(rate_corrupt_json=1.0)
    for _ in range(4):
        r = api.get(A3 + "/field")
        assert r.status_code == 200
        with pytest.raises(ValueError):
            json.loads(r.content)
    # only the chosen paths, deterministic sequence
    mfake.set_faults(rate_429=0.5, seed=5, paths=[A3 + "/field"])
    assert api.get(A3 + "/serverInfo").status_code == 200
    seq1 = [api.get(A3 + "/field").status_code for _ in range(12)]
    mfake.set_faults(rate_429=0.5, seed=5, paths=[A3 + "/field"])
    seq2 = [api.get(A3 + "/field").status_code for _ in range(12)]
    assert seq1 == seq2 and {200, 429} == set(seq1)
    mfake.clear_faults()
    mfake.reset_counts()
    mfake.set_faults(rate_429=1.0, paths=["GET " + A3 + "/myself"])
    api.get(A3 + "/myself")
    api.get(A3 + "/serverInfo")
    assert mfake.fault_counts() == {"429": 1}
    assert mfake.request_counts() == {"GET /rest/api/3/serverInfo": 1}
    assert mfake.total_requests() == 2
    mfake.clear_faults()


def test_forbidden_and_kanban_sprints(fake, api):
    fake.set_forbidden(A3 + "/auditing/record")
    try:
        r = api.get(A3 + "/auditing/record")
        assert r.status_code == 403 and r.json()["errorMessages"]
    finally:
        fake.clear_forbidden()
    assert api.get(A3 + "/auditing/record").status_code == 200
    kanban = next(b for b in api.ok(AG + "/board")["values"] if b["type"] == "kanban")
    r = api.get(AG + f"/board/{kanban['id']}/sprint")
    assert r.status_code == 400 and r.json() == {"errorMessages": ["The board does not support sprints"], "errors": {}}


# ------------------------------------------------------------------------------------------------
# every other stream: walk the endpoint, compare with the ground truth
# ------------------------------------------------------------------------------------------------
def _walk_all(fake, api) -> dict[str, set]:
    got: dict[str, set] = {}
    projects = api.pagebean(A3 + "/project/search", page=2, expand="description,lead,issueTypes,url,projectKeys,insight")
    got["projects"] = {(p["id"],) for p in projects}
    assert all("insight" in p and "lead" in p for p in projects)
    got["project_versions"] = set()
    got["project_components"] = set()
    got["project_avatars"] = set()
    got["project_email"] = set()
    for p in projects:
        got["project_versions"] |= {(v["id"],) for v in api.pagebean(A3 + f"/project/{p['id']}/version", page=2)}
        got["project_components"] |= {(c["id"],) for c in api.pagebean(A3 + f"/project/{p['key']}/component", page=2)}
        av = api.ok(A3 + f"/project/{p['id']}/avatars")
        got["project_avatars"] |= {(p["id"], a["id"]) for a in av["system"] + av["custom"]}
        assert api.ok(A3 + f"/project/{p['id']}/email")["emailAddress"]
        got["project_email"].add((p["id"],))
        assert api.ok(A3 + f"/project/{p['id']}/role")
    got["project_categories"] = {(c["id"],) for c in api.ok(A3 + "/projectCategory")}
    got["project_roles"] = {(r["id"],) for r in api.ok(A3 + "/role")}
    got["project_types"] = {(t["key"],) for t in api.ok(A3 + "/project/type")}
    users, start = [], 0
    while True:
        page = api.ok(A3 + "/users/search", startAt=start, maxResults=25)
        if not page:
            break
        users += page
        start += len(page)
    got["users"] = {(u["accountId"],) for u in users}
    groups = api.pagebean(A3 + "/group/bulk", page=3)
    got["groups"] = {(g["groupId"],) for g in groups}
    got["group_members"] = set()
    for g in groups:
        got["group_members"] |= {(g["groupId"], u["accountId"]) for u in
                                 api.pagebean(A3 + "/group/member", page=10, groupId=g["groupId"], includeInactiveUsers="true")}
    fields = api.ok(A3 + "/field")
    got["issue_fields"] = {(f["id"],) for f in fields}
    got["issue_custom_field_contexts"] = set()
    got["issue_custom_field_options"] = set()
    for f in fields:
        if not f["custom"]:
            continue
        for c in api.pagebean(A3 + f"/field/{f['id']}/context", page=1):
            got["issue_custom_field_contexts"].add((f["id"], c["id"]))
            r = api.get(A3 + f"/field/{f['id']}/context/{c['id']}/option")
            if r.status_code == 200:
                got["issue_custom_field_options"] |= {(f["id"], c["id"], o["id"]) for o in api.pagebean(
                    A3 + f"/field/{f['id']}/context/{c['id']}/option", page=3)}
            else:
                assert r.status_code == 400
    got["issue_types"] = {(t["id"],) for t in api.ok(A3 + "/issuetype")}
    got["issue_priorities"] = {(p["id"],) for p in api.pagebean(A3 + "/priority/search")}
    got["issue_resolutions"] = {(p["id"],) for p in api.pagebean(A3 + "/resolution/search")}
    got["workflow_statuses"] = {(s["id"],) for s in api.ok(A3 + "/status")}
    assert got["workflow_statuses"] == {(s["id"],) for s in api.pagebean(A3 + "/statuses/search", page=5)}
    got["workflow_status_categories"] = {(c["id"],) for c in api.ok(A3 + "/statuscategory")}
    got["issue_link_types"] = {(t["id"],) for t in api.ok(A3 + "/issueLinkType")["issueLinkTypes"]}
    got["labels"] = {(lab,) for lab in api.pagebean(A3 + "/label", page=7)}
    got["issue_security_schemes"] = {(s["id"],) for s in api.ok(A3 + "/issuesecurityschemes")["issueSecuritySchemes"]}
    got["issue_type_schemes"] = {(s["id"],) for s in api.pagebean(A3 + "/issuetypescheme")}
    got["issue_type_screen_schemes"] = {(s["id"],) for s in api.pagebean(A3 + "/issuetypescreenscheme")}
    got["issue_field_configurations"] = {(s["id"],) for s in api.pagebean(A3 + "/fieldconfiguration")}
    got["workflows"] = {(w["id"],) for w in api.pagebean(A3 + "/workflows/search", page=3, expand="values.transitions")}
    got["workflow_schemes"] = {(w["id"],) for w in api.pagebean(A3 + "/workflowscheme", page=3)}
    got["permission_schemes"] = {(s["id"],) for s in api.ok(A3 + "/permissionscheme")["permissionSchemes"]}
    got["issue_notification_schemes"] = {(s["id"],) for s in api.pagebean(A3 + "/notificationscheme")}
    screens = api.pagebean(A3 + "/screens", page=4)
    got["screens"] = {(s["id"],) for s in screens}
    got["screen_tabs"], got["screen_tab_fields"] = set(), set()
    for s in screens:
        for t in api.ok(A3 + f"/screens/{s['id']}/tabs"):
            got["screen_tabs"].add((s["id"], t["id"]))
            got["screen_tab_fields"] |= {(s["id"], t["id"], f["id"]) for f in api.ok(A3 + f"/screens/{s['id']}/tabs/{t['id']}/fields")}
    got["screen_schemes"] = {(s["id"],) for s in api.pagebean(A3 + "/screenscheme", page=4)}
    filters = api.pagebean(A3 + "/filter/search", page=4, expand="description,owner,jql,sharePermissions")
    got["filters"] = {(f["id"],) for f in filters}
    got["filter_sharing"] = set()
    for f in filters:
        perms = api.ok(A3 + f"/filter/{f['id']}/permission")
        assert [p["id"] for p in perms] == [p["id"] for p in f["sharePermissions"]]
        got["filter_sharing"] |= {(f["id"], p["id"]) for p in perms}
    got["dashboards"] = {(d["id"],) for d in api.pagebean(A3 + "/dashboard/search", page=2)}
    got["application_roles"] = {(r["key"],) for r in api.ok(A3 + "/applicationrole")}
    got["time_tracking"] = {(t["key"],) for t in api.ok(A3 + "/configuration/timetracking/list")}
    got["server_info"] = {(api.ok(A3 + "/serverInfo")["baseUrl"],)}
    got["myself"] = {(api.ok(A3 + "/myself")["accountId"],)}
    got["permissions"] = {(k,) for k in api.ok(A3 + "/permissions")["permissions"]}
    recs, off = [], 0
    while True:
        d = api.ok(A3 + "/auditing/record", offset=off, limit=40)
        recs += d["records"]
        off += len(d["records"])
        if not d["records"] or off >= d["total"]:
            break
    got["audit_records"] = {(r["id"],) for r in recs}
    got["priority_schemes"] = {(s["id"],) for s in api.pagebean(A3 + "/priorityscheme")}
    # agile
    boards = api.pagebean(AG + "/board", page=3)
    got["boards"] = {(b["id"],) for b in boards}
    got["sprints"], got["sprint_issues"], got["board_issues"] = set(), set(), set()
    got["board_configuration"], got["epics"] = set(), set()
    sprint_boards: dict[int, set] = {}
    for b in boards:
        got["board_configuration"].add((api.ok(AG + f"/board/{b['id']}/configuration")["id"],))
        r = api.get(AG + f"/board/{b['id']}/sprint")
        if r.status_code == 200:
            for s in api.pagebean(AG + f"/board/{b['id']}/sprint", page=50):
                got["sprints"].add((s["id"],))
                sprint_boards.setdefault(s["id"], set()).add(b["id"])
                assert (s["originBoardId"],) in got["boards"]
                if "startDate" in s:
                    assert s["startDate"].endswith("Z")
        else:
            assert r.status_code == 400
        start = 0
        while True:
            d = api.ok(AG + f"/board/{b['id']}/issue", startAt=start, maxResults=50, fields="key,updated")
            got["board_issues"] |= {(b["id"], i["id"]) for i in d["issues"]}
            start += len(d["issues"])
            if start >= d["total"]:
                break
        got["epics"] |= {(b["id"], e["id"]) for e in api.pagebean(AG + f"/board/{b['id']}/epic", page=50)}
    assert any(len(v) > 1 for v in sprint_boards.values()), "a sprint shared by two boards"
    for (sid,) in got["sprints"]:
        start = 0
        while True:
            d = api.ok(AG + f"/sprint/{sid}/issue", startAt=start, maxResults=50, fields="key,status,created,updated")
            got["sprint_issues"] |= {(sid, i["id"]) for i in d["issues"]}
            start += len(d["issues"])
            if start >= d["total"]:
                break
    return got


def test_all_streams_walk_equals_ground_truth(fake, api):
    got = _walk_all(fake, api)
    for stream, rows in got.items():
        assert rows == fake.ground_truth(stream), stream
        pk = fake.ground_truth_pk(stream)
        assert all(len(r) == len(pk) for r in rows)
    assert fake.ground_truth("issue_fields") and ("customfield_10016",) in got["issue_fields"]


def test_agile_shapes(fake, api):
    b = next(b for b in api.ok(AG + "/board")["values"] if b["type"] == "scrum")
    assert isinstance(b["location"]["projectId"], int) and b["location"]["projectKey"]
    simple = [b for b in api.ok(AG + "/board")["values"] if b["type"] == "simple"]
    assert simple and any(api.get(AG + f"/board/{s['id']}/sprint").status_code == 200 for s in simple)
    d = api.ok(AG + f"/board/{b['id']}/issue", maxResults=500, jql='updated >= "1970-01-01"')
    assert d["maxResults"] == 50 and d["total"] >= len(d["issues"])
    by_proj = api.ok(AG + "/board", projectKeyOrId="MOB")["values"]
    assert {x["name"] for x in by_proj} == {"MOB board", "Cross-team planning"}


def test_users_privacy_shapes(api):
    users = api.ok(A3 + "/users/search", maxResults=1000)
    assert api.ok(A3 + "/users/search", startAt=1000) == []
    assert any("emailAddress" not in u for u in users)
    assert any(u.get("emailAddress", "x") is None for u in users)
    assert {u["accountType"] for u in users} >= {"atlassian", "app"}
    assert any(not u["active"] for u in users)


# ------------------------------------------------------------------------------------------------
# CLI + control plane
# ------------------------------------------------------------------------------------------------
def test_cli_prints_json_line_and_serves():
    env = dict(os.environ, PYTHONPATH=ROOT)
    p = subprocess.Popen([sys.executable, "-m", "integration_tests.fake_jira", "--issues", "60", "--seed", "3",
                          "--timezone", "Europe/Berlin", "--port", "0"], stdout=subprocess.PIPE, cwd=ROOT, env=env, text=True)
    try:
        line = p.stdout.readline()
        info = json.loads(line)
        assert {"base_url", "domain", "port", "ca_path", "email", "api_token"} <= info.keys()
        r = requests.get(info["base_url"] + A3 + "/myself", auth=(info["email"], info["api_token"]), verify=info["ca_path"])
        assert r.status_code == 200 and r.json()["timeZone"] == "Europe/Berlin"
        c = FakeJiraClient(info["base_url"], info["ca_path"])
        assert len(c.ground_truth("issues")) == 60
        assert c.ground_truth_pk(stream="sprint_issues") == ["sprintId", "issueId"]
        assert len(c.update_issues(n_or_ids=2)) == 2
        assert c.request_counts()["GET /rest/api/3/myself"] == 1
        r = requests.get(info["base_url"] + "/_fake/ground_truth", params={"stream": "issues", "projects": "PLAT"}, verify=info["ca_path"])
        assert r.status_code == 200 and r.json()["result"]
    finally:
        p.send_signal(signal.SIGTERM)
        assert p.wait(timeout=10) == 0
