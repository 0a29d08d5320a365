"""Tests of the fake's Jira Data Center mode (not of the connector): what it serves and what it refuses.

REST API v2 only, under the context path; personal access token or username + password; key-based users; wiki
markup strings; ``startAt`` search capped by ``search_max_results`` under a result window; whole changelogs; the Data
Center forms of users, groups, priority schemes and workflows; Cloud-only resources 404; ground truth keyed as
``STREAM_PKS_DC`` says, and equal to what a walk of the endpoints finds.
"""

from __future__ import annotations

import base64
import json
import os
import re
import signal
import subprocess
import sys
from datetime import datetime

import pytest
import requests

from integration_tests.fake_jira import CLOUD_ONLY_STREAMS, STREAM_PKS, STREAM_PKS_DC, FakeJira
from integration_tests.fake_jira.servicedesk import JSM_STREAMS
from integration_tests.fake_jira.client import FakeJiraClient

A2 = "/rest/api/2"
AG = "/rest/agile/1.0"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Api:
    """requests against the site's base URL (context path included) with a PAT by default."""

    def __init__(self, fake: FakeJira, headers: dict | None = None, auth=None) -> None:
        self.fake = fake
        self.s = requests.Session()
        self.headers = headers if headers is not None else {"Authorization": f"Bearer {fake.pat}"}
        self.auth = auth

    def get(self, path: str, **params) -> requests.Response:
        return self.s.get(self.fake.base_url + path, params=params, headers=self.headers, auth=self.auth,
                          verify=self.fake.ca_path, timeout=30)

    def post(self, path: str, body: dict) -> requests.Response:
        return self.s.post(self.fake.base_url + path, json=body, headers=self.headers, auth=self.auth,
                           verify=self.fake.ca_path, timeout=30)

    def ok(self, path: str, **params):
        r = self.get(path, **params)
        assert r.status_code == 200, (path, r.status_code, r.text[:300])
        return r.json()

    def pagebean(self, path: str, page: int = 2, key: str = "values", **params) -> list:
        out, start = [], 0
        while True:
            d = self.ok(path, startAt=start, maxResults=page, **params)
            out += d[key]
            start += len(d[key])
            if d.get("isLast", start >= d["total"]):
                assert d.get("total", start) == start
                return out
            assert d[key], "empty non-last page"

    def search(self, jql: str, page: int = 100, **extra) -> list:
        """Every issue of ``jql`` by startAt pages (POST), checking the totals."""
        out, start, total = [], 0, None
        while True:
            r = self.post(A2 + "/search", {"jql": jql, "startAt": start, "maxResults": page, **extra})
            assert r.status_code == 200, r.text[:300]
            d = r.json()
            assert d["startAt"] == start and d["maxResults"] == min(page, self.fake.site.search_max_results)
            total = d["total"] if total is None else total
            assert d["total"] == total
            out += d["issues"]
            start += len(d["issues"])
            if start >= total:
                return out
            assert d["issues"]


@pytest.fixture(scope="module")
def fake():
    with FakeJira(issues=400, seed=13, timezone="Europe/Berlin", deployment="datacenter") as f:
        yield f


@pytest.fixture(scope="module")
def api(fake):
    return Api(fake)


def _users_in(obj, found: list) -> list:
    """Every user object (a dict with displayName and active) nested in ``obj``."""
    if isinstance(obj, dict):
        if "displayName" in obj and "active" in obj:
            found.append(obj)
        for v in obj.values():
            _users_in(v, found)
    elif isinstance(obj, list):
        for v in obj:
            _users_in(v, found)
    return found


DC_USER_KEYS = {"self", "key", "name", "emailAddress", "displayName", "active", "timeZone", "avatarUrls"}


def _assert_dc_user(u: dict) -> None:
    assert DC_USER_KEYS <= set(u) <= DC_USER_KEYS | {"locale", "groups", "applicationRoles", "expand"}, u  # /myself, /user
    assert re.fullmatch(r"JIRAUSER\d+|[a-z][a-z0-9.\-]*", u["key"]), u["key"]
    assert "/rest/api/2/user?username=" in u["self"]


# ------------------------------------------------------------------------------------------------
# the site: context path, API version, auth, serverInfo
# ------------------------------------------------------------------------------------------------
def test_urls_config_and_context_path(fake, api):
    assert fake.deployment == "datacenter"
    assert fake.base_url == f"https://127.0.0.1:{fake.port}/jira" and fake.domain == f"127.0.0.1:{fake.port}/jira"
    pat, basic = fake.config(auth="pat"), fake.config(auth="basic", num_workers=2)
    assert pat == {"domain": fake.domain, "credentials": {"auth_type": "pat", "personal_access_token": fake.pat},
                   "num_workers": 4, "lookback_window_minutes": 5}
    assert basic["credentials"] == {"auth_type": "basic", "username": "jdoe-admin", "password": "fake-password"}
    assert basic["num_workers"] == 2
    with pytest.raises(ValueError):
        fake.config(auth="api_token")
    # Jira lives under its context path only: the root and another path are the servlet container's 404
    for url in (fake.root_url + A2 + "/myself", fake.root_url + "/wrong" + A2 + "/myself", fake.root_url + "/"):
        r = requests.get(url, headers=api.headers, verify=fake.ca_path)
        assert r.status_code == 404 and r.headers["Content-Type"].startswith("text/html"), url
    assert api.ok(A2 + "/myself")["name"] == "jdoe-admin"
    # no REST API v3 on Data Center, and no Cloud gateway or OAuth discovery
    for path in ("/rest/api/3/myself", "/rest/api/3/search/jql", "/ex/jira/x/rest/api/2/myself",
                 "/oauth/token/accessible-resources", "/rest/api/latest/nope"):
        r = api.get(path)
        assert r.status_code == 404 and r.json()["errorMessages"], path
    # the control plane answers at the root and under the context path, without auth
    for base in (fake.root_url, fake.base_url):
        r = requests.get(base + "/_fake/info", verify=fake.ca_path)
        assert r.status_code == 200 and r.json()["result"]["deployment"] == "datacenter"
    assert fake.info()["pat"] == fake.pat and fake.info()["context_path"] == "/jira"


def test_personal_access_token_and_basic_accepted_cloud_credentials_refused(fake):
    me = Api(fake).ok(A2 + "/myself")
    assert me == Api(fake, headers={}, auth=("jdoe-admin", "fake-password")).ok(A2 + "/myself")
    refused = [
        Api(fake, headers={}, auth=(fake.email, fake.api_token)),              # Cloud: e-mail + API token
        Api(fake, headers={}, auth=("jdoe-admin", "wrong")),
        Api(fake, headers={"Authorization": "Bearer not-the-token"}),
        Api(fake, headers={"Authorization": f"Basic {base64.b64encode(fake.pat.encode()).decode()}"}),
        Api(fake, headers={}),                                                  # anonymous
    ]
    for a in refused:
        r = a.get(A2 + "/myself")
        assert r.status_code == 401, a.headers
        assert r.json() == {"errorMessages": ["You are not authenticated. Authentication required to perform this operation."],
                            "errors": {}}
    # serverInfo answers anonymously, but wrong credentials are still refused
    assert Api(fake, headers={}).get(A2 + "/serverInfo").status_code == 200
    assert Api(fake, headers={}, auth=(fake.email, fake.api_token)).get(A2 + "/serverInfo").status_code == 401
    with FakeJira(issues=5, deployment="datacenter", context_path="", pat="p2", dc_username="root", dc_password="pw") as f2:
        assert f2.base_url == f2.root_url and f2.domain == f"127.0.0.1:{f2.port}"
        assert Api(f2, headers={"Authorization": "Bearer p2"}).ok(A2 + "/myself")["name"] == "root"
        assert Api(f2, headers={}, auth=("root", "pw")).ok(A2 + "/myself")["key"] == "jdoe"


def test_server_info(fake, api):
    d = api.ok(A2 + "/serverInfo")
    assert {"baseUrl", "version", "versionNumbers", "deploymentType", "buildNumber", "buildDate", "serverTime",
            "scmInfo", "serverTitle"} <= set(d)
    assert d["baseUrl"] == fake.base_url and d["deploymentType"] == "DataCenter"
    assert d["version"] == "9.12.2" and d["versionNumbers"] == [9, 12, 2]
    assert fake.ground_truth("server_info") == {(fake.base_url,)}


# ------------------------------------------------------------------------------------------------
# issue search
# ------------------------------------------------------------------------------------------------
def test_startat_search_walk_caps_and_result_window(fake, api):
    issues = api.search("ORDER BY created ASC", page=150, fields=["summary", "updated"])  # unbounded JQL is fine
    assert [(i["id"],) for i in issues] and {(i["id"],) for i in issues} == fake.ground_truth("issues")
    assert len(issues) == len({i["id"] for i in issues}) == 400
    assert set(issues[0]["fields"]) == {"summary", "updated"}
    # GET form: comma strings, default maxResults 50, default fields *navigable (no comment/worklog)
    d = api.ok(A2 + "/search", jql="project = PLAT")
    assert d.keys() == {"expand", "startAt", "maxResults", "total", "issues"}
    assert d["maxResults"] == 50 and len(d["issues"]) == 50 and d["total"] == len(fake.ground_truth("issues", ["PLAT"]))
    assert "summary" in d["issues"][0]["fields"] and "comment" not in d["issues"][0]["fields"]
    d = api.ok(A2 + "/search", jql="project = PLAT", fields="id,key,updated", expand="names,changelog", maxResults=3)
    assert set(d["issues"][0]["fields"]) == {"updated"} and "changelog" in d["issues"][0] and d["names"] == {"updated": "Updated"}
    assert api.ok(A2 + "/search", jql="", maxResults=0) == {"expand": "schema,names", "startAt": 0, "maxResults": 0,
                                                             "total": 400, "issues": []}
    # maxResults is capped by jira.search.views.default.max (1,000) and the answer says so
    d = api.post(A2 + "/search", {"jql": "", "maxResults": 5000, "fields": ["id"]}).json()
    assert d["maxResults"] == 1000 and len(d["issues"]) == 400
    # no page past the result window: startAt + maxResults > 10,000 is a 400, whatever the total
    assert api.post(A2 + "/search", {"jql": "", "startAt": 9950, "maxResults": 50}).json()["issues"] == []
    for body in ({"startAt": 9951, "maxResults": 50}, {"startAt": 10000, "maxResults": 1}, {"startAt": 9500, "maxResults": 2000}):
        r = api.post(A2 + "/search", {"jql": "", **body})
        assert r.status_code == 400, body
        msg = r.json()["errorMessages"][0]
        assert r.json()["errors"] == {} and "exceeded the search platform limit of 10,000" in msg
    r = api.get(A2 + "/search", jql="project = PLAT", startAt=10000)
    assert r.status_code == 400
    # JQL errors are Jira's 400s, as on Cloud
    r = api.post(A2 + "/search", {"jql": "project = NOPE"})
    assert r.status_code == 400 and r.json()["errorMessages"] == ["The value 'NOPE' does not exist for the field 'project'."]
    assert api.post(A2 + "/search", {"jql": 'updated >= "2025/01/01 14:17:25"'}).status_code == 400
    # Cloud's search resources do not exist here
    assert api.post(A2 + "/search/jql", {"jql": "project = PLAT"}).status_code == 404
    assert api.post(A2 + "/search/approximate-count", {"jql": "project = PLAT"}).status_code == 404
    assert api.post(A2 + "/changelog/bulkfetch", {"issueIdsOrKeys": ["10001"]}).status_code == 404
    assert api.get(A2 + "/issue/10001/changelog").status_code == 404
    counts = fake.request_counts()
    assert counts["POST /rest/api/2/search"] >= 4 and counts["GET /rest/api/2/search"] >= 3


def test_a_small_result_window_forces_narrowed_searches():
    with FakeJira(issues=300, seed=4, deployment="datacenter", search_max_results=100, result_window=250) as f:
        api = Api(f)
        d = api.post(A2 + "/search", {"jql": "ORDER BY created", "maxResults": 1000}).json()
        assert d["maxResults"] == 100 and d["total"] == 300
        assert api.post(A2 + "/search", {"jql": "ORDER BY created", "startAt": 200, "maxResults": 100}).status_code == 400
        assert api.post(A2 + "/search", {"jql": "ORDER BY created", "startAt": 200, "maxResults": 50}).status_code == 200
        # created-ordered segments under the window, each narrowed by the last `created` seen (minute precision:
        # >= that minute, duplicates dropped)
        seen, lower, done = {}, None, False
        while not done:
            jql = (f"created >= {lower} " if lower is not None else "") + "ORDER BY created ASC"
            start, last = 0, None
            while start < 250:
                d = api.post(A2 + "/search", {"jql": jql, "startAt": start, "maxResults": min(100, 250 - start),
                                              "fields": ["created"]}).json()
                for i in d["issues"]:
                    seen.setdefault(i["id"], i)
                last = d["issues"][-1]["fields"]["created"]
                start += len(d["issues"])
                if start >= d["total"]:
                    done = True
                    break
            ms = int(datetime.strptime(last, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp() * 1000)
            assert lower is None or ms // 60000 * 60000 > lower
            lower = ms // 60000 * 60000
        assert {(k,) for k in seen} == f.ground_truth("issues")


def test_whole_changelogs_and_child_pages(fake, api):
    site = fake.site
    heavy = next(it for it in site.issues if len(it.histories) > 100)
    for d in (api.ok(A2 + f"/issue/{heavy.key}", expand="changelog", fields="summary"),
              api.post(A2 + "/search", {"jql": f"id = {heavy.id}", "expand": ["changelog"], "fields": ["summary"]}).json()["issues"][0],
              api.ok(A2 + "/search", jql=f"key = {heavy.key}", expand="changelog,renderedFields")["issues"][0]):
        cl = d["changelog"]
        assert cl["startAt"] == 0 and cl["total"] == cl["maxResults"] == len(cl["histories"]) == len(heavy.histories) > 100
        assert [h["id"] for h in cl["histories"]] == [str(h[0]) for h in heavy.histories]  # oldest first
    # the histories of a project, from the search pages alone, are the ground truth
    got = set()
    for i in api.search("project = OPS", page=40, expand=["changelog"], fields=["updated"]):
        assert i["changelog"]["total"] == len(i["changelog"]["histories"])
        got |= {(h["id"],) for h in i["changelog"]["histories"]}
    assert got == fake.ground_truth("issue_changelogs", projects=["OPS"])
    # embedded comment/worklog pages are truncated with a total, as on Cloud; the child resources complete them
    heavy_c = next(it for it in site.issues if len(it.comments) > 20)
    heavy_w = next(it for it in site.issues if len(it.worklogs) > 20)
    for it, field, lst in ((heavy_c, "comment", "comments"), (heavy_w, "worklog", "worklogs")):
        emb = api.post(A2 + "/search", {"jql": f"id = {it.id}", "fields": [field]}).json()["issues"][0]["fields"][field]
        assert emb["total"] == len(getattr(it, lst)) > 20 and len(emb[lst]) == 20
        full = api.pagebean(A2 + f"/issue/{it.id}/{field}", page=7, key=lst)
        assert [x["id"] for x in full] == [str(c[0]) for c in getattr(it, lst)]
    feed = api.ok(A2 + "/worklog/updated", since=0)
    assert feed["values"] and "/jira/rest/api/2/worklog/updated" in feed["self"]
    wl = requests.post(fake.base_url + A2 + "/worklog/list", json={"ids": [v["worklogId"] for v in feed["values"][:5]]},
                       headers=api.headers, verify=fake.ca_path).json()
    assert len(wl) == 5 and all(isinstance(w["comment"], str) for w in wl if "comment" in w)
    assert api.ok(A2 + "/worklog/deleted", since=0)["lastPage"] is True


# ------------------------------------------------------------------------------------------------
# rendering: wiki markup strings and key-based users everywhere
# ------------------------------------------------------------------------------------------------
def test_rich_text_is_wiki_markup_strings(fake, api):
    issues = api.search("project in (PLAT, MOB)", page=200, fields=["description", "environment", "comment", "worklog",
                                                                     "customfield_10033"])
    descs = [i["fields"]["description"] for i in issues if i["fields"]["description"] is not None]
    assert descs and all(isinstance(x, str) for x in descs)
    assert any(x.startswith("h3. ") or "\n* " in x or "{code}" in x or x.startswith("*") for x in descs)
    assert any(isinstance(i["fields"]["environment"], str) for i in issues)
    assert any(isinstance(i["fields"]["customfield_10033"], str) for i in issues)
    bodies = [c["body"] for i in issues for c in i["fields"]["comment"]["comments"]]
    assert bodies and all(isinstance(b, str) for b in bodies)
    wl = [w["comment"] for i in issues for w in i["fields"]["worklog"]["worklogs"] if "comment" in w]
    assert wl and all(isinstance(c, str) for c in wl)
    it = next(i for i in issues if i["fields"]["comment"]["comments"])
    c = api.ok(A2 + f"/issue/{it['id']}/comment", expand="renderedBody")["comments"][0]
    assert isinstance(c["body"], str) and c["renderedBody"].startswith("<p>") and "jsdPublic" not in c
    rf = api.ok(A2 + f"/issue/{it['id']}", expand="renderedFields")["renderedFields"]
    assert isinstance(rf["description"], str)


def test_users_are_named_by_key_everywhere(fake, api):
    site = fake.site
    users = []
    for i in api.search("project in (PLAT, SEC)", page=100, expand=["changelog"],
                        fields=["assignee", "reporter", "creator", "comment", "worklog", "attachment", "watches"]):
        _users_in(i, users)
        for h in i["changelog"]["histories"]:
            for item in h["items"]:
                if item["field"] == "assignee":
                    assert item["from"] in {u.key for u in site.users} and "tmpFromAccountId" not in item
    iid = next(it.id for it in site.issues if it.voters and it.watchers and not it.deleted)
    _users_in(api.ok(A2 + f"/issue/{iid}/watchers"), users)
    _users_in(api.ok(A2 + f"/issue/{iid}/votes"), users)
    _users_in(api.ok(A2 + "/myself"), users)
    _users_in(api.ok(A2 + "/project", expand="lead"), users)
    _users_in(api.ok(A2 + "/project/PLAT"), users)
    _users_in(api.ok(A2 + "/group/member", groupname="developers", includeInactiveUsers="true"), users)
    _users_in(api.ok(A2 + "/filter/favourite", expand="owner,sharePermissions"), users)
    _users_in(api.ok(A2 + "/dashboard"), users)
    _users_in(api.ok(AG + "/board/1/issue", fields="assignee,reporter"), users)
    assert len(users) > 500
    for u in users:
        _assert_dc_user(u)
    keys = {u["key"] for u in users}
    assert any(k.startswith("JIRAUSER") for k in keys) and any(not k.startswith("JIRAUSER") for k in keys)
    me = api.ok(A2 + "/myself", expand="groups,applicationRoles")
    assert me["key"] == "jdoe" and me["name"] == "jdoe-admin" and me["timeZone"] == "Europe/Berlin"  # a renamed account
    assert me["groups"]["items"] and all(set(g) == {"name", "self"} for g in me["groups"]["items"])
    assert "accountId" not in json.dumps(api.ok(A2 + "/project/PLAT/role/10002"))
    # JQL takes a username or a user key, never an account id
    u = site.users[site.humans[3]]
    by_name = {i["id"] for i in api.search(f'assignee = "{u.name}"', fields=["assignee"])}
    by_key = {i["id"] for i in api.search(f"assignee = {u.key}", fields=["assignee"])}
    assert by_name and by_name == by_key == {str(it.id) for it in site.issues if it.assignee == u.idx}
    assert api.post(A2 + "/search", {"jql": f"assignee = '{u.account_id}'"}).status_code == 400
    assert api.search("reporter = currentUser()", fields=["reporter"]) is not None


def test_user_search_include_inactive_and_user_get(fake, api):
    def walk(**params):
        out, start = [], 0
        while True:
            page = api.ok(A2 + "/user/search", startAt=start, maxResults=7, **params)
            if not page:
                return out
            out += page
            start += len(page)
    everybody = walk(username=".", includeInactive="true")
    assert {(u["key"],) for u in everybody} == fake.ground_truth("users") == fake.ground_truth("users_groups_detailed")
    assert len(everybody) == len(fake.site.users) and any(not u["active"] for u in everybody)
    active = walk(username=".")
    assert active and all(u["active"] for u in active) and len(active) < len(everybody)
    assert all(not u["active"] for u in walk(username=".", includeActive="false", includeInactive="true"))
    assert len(api.ok(A2 + "/user/search", username=".", includeInactive="true", maxResults=5000)) == len(everybody)
    assert len(api.ok(A2 + "/user/search", username=".")) == 50  # default maxResults
    ada = api.ok(A2 + "/user/search", username="ada")
    assert ada and all("ada" in (u["name"] + u["displayName"] + u["emailAddress"]).lower() for u in ada)
    assert api.get(A2 + "/user/search").status_code == 400
    # GET user by key or username, with groups
    u = next(x for x in everybody if x["key"].startswith("JIRAUSER"))
    d = api.ok(A2 + "/user", key=u["key"], expand="groups,applicationRoles")
    assert d["name"] == u["name"] and d["groups"]["size"] == len(d["groups"]["items"])
    assert api.ok(A2 + "/user", username=u["name"])["key"] == u["key"]
    assert api.get(A2 + "/user", key="JIRAUSER1").status_code == 404 and api.get(A2 + "/user").status_code == 400
    assert api.get(A2 + "/user", accountId=fake.site.users[1].account_id).status_code == 400


def test_groups_picker_and_group_members(fake, api):
    d = api.ok(A2 + "/groups/picker", maxResults=1000)
    assert d.keys() == {"header", "total", "groups"}
    assert d["header"] == f"Showing {len(d['groups'])} of {d['total']} matching groups"
    assert all(g.keys() == {"name", "html", "labels"} for g in d["groups"])
    assert {(g["name"],) for g in d["groups"]} == fake.ground_truth("groups")
    small = api.ok(A2 + "/groups/picker", maxResults=3)
    assert len(small["groups"]) == 3 and small["total"] == d["total"]
    dev = api.ok(A2 + "/groups/picker", query="DEV")
    assert [g["name"] for g in dev["groups"]] == ["developers"] and dev["groups"][0]["html"] == "<b>dev</b>elopers"
    got, inactive_seen = set(), False
    for g in d["groups"]:
        members = api.pagebean(A2 + "/group/member", page=4, groupname=g["name"], includeInactiveUsers="true")
        active = api.pagebean(A2 + "/group/member", page=50, groupname=g["name"])
        assert all(u["active"] for u in active) and {u["key"] for u in active} <= {u["key"] for u in members}
        inactive_seen |= len(active) < len(members)
        got |= {(g["name"], u["key"]) for u in members}
    assert inactive_seen and got == fake.ground_truth("group_members")
    assert api.ok(A2 + "/group/member", groupname="qa", maxResults=500)["maxResults"] == 50
    assert api.get(A2 + "/group/member", groupname="nope").status_code == 404
    assert api.get(A2 + "/group/member", groupId=fake.site.groups[0].group_id).status_code == 400


# ------------------------------------------------------------------------------------------------
# Data Center forms and Cloud-only resources
# ------------------------------------------------------------------------------------------------
def test_data_center_forms(fake, api):
    projects = api.ok(A2 + "/project", expand="description,lead,url,projectKeys")
    assert isinstance(projects, list) and {(p["id"],) for p in projects} == fake.ground_truth("projects")
    assert all("lead" in p and "projectKeys" in p and "simplified" not in p and "style" not in p for p in projects)
    comps = api.ok(A2 + "/project/PLAT/components")
    assert isinstance(comps, list) and comps
    pri, res = api.ok(A2 + "/priority"), api.ok(A2 + "/resolution")
    assert isinstance(pri, list) and {(p["id"],) for p in pri} == fake.ground_truth("issue_priorities")
    assert isinstance(res, list) and {(r["id"],) for r in res} == fake.ground_truth("issue_resolutions")
    ps = api.ok(A2 + "/priorityschemes", expand="schemes.projectKeys", maxResults=1)
    assert ps.keys() == {"expand", "self", "maxResults", "startAt", "total", "schemes"} and ps["total"] == 2
    assert {"id", "name", "defaultOptionId", "optionIds", "defaultScheme", "projectKeys"} <= set(ps["schemes"][0])
    schemes = api.pagebean(A2 + "/priorityschemes", page=1, key="schemes", expand="schemes.projectKeys")
    assert {(s["id"],) for s in schemes} == fake.ground_truth("priority_schemes")
    wfs = api.ok(A2 + "/workflow")
    assert isinstance(wfs, list) and {(w["name"],) for w in wfs} == fake.ground_truth("workflows")
    for w in wfs:
        assert w.keys() == {"name", "description", "lastModifiedDate", "lastModifiedUser", "steps", "default"}
        assert re.fullmatch(r"\d\d/[A-Z][a-z]{2}/\d\d \d{1,2}:\d\d [AP]M", w["lastModifiedDate"]), w["lastModifiedDate"]
    assert sum(w["default"] for w in wfs) == 1
    assert api.ok(A2 + "/workflow", workflowName="jira")["name"] == "jira"
    boards = api.ok(AG + "/board")["values"]
    assert boards and all(b["type"] in ("scrum", "kanban") for b in boards)  # no team-managed boards here
    assert api.ok(A2 + "/mypermissions")["permissions"]  # Data Center answers every permission when none is named


@pytest.mark.parametrize("method,path", [
    ("GET", "/project/search"), ("GET", "/users/search"), ("GET", "/users"), ("GET", "/group/bulk"),
    ("GET", "/field/customfield_10030/context"), ("GET", "/field/customfield_10030/context/10100/option"),
    ("GET", "/label"), ("GET", "/issuetypescheme"), ("GET", "/issuetypescreenscheme"), ("GET", "/fieldconfiguration"),
    ("GET", "/workflowscheme"), ("GET", "/screenscheme"), ("GET", "/filter/search"), ("GET", "/filter/my"),
    ("GET", "/auditing/record"), ("GET", "/project/10000/email"), ("GET", "/priority/search"),
    ("GET", "/resolution/search"), ("GET", "/workflows/search"), ("GET", "/project/10000/component"),
    ("GET", "/priorityscheme"), ("GET", "/statuses/search"), ("GET", "/field/search"),
    ("POST", "/search/jql"), ("GET", "/search/jql"), ("POST", "/search/approximate-count"),
    ("POST", "/changelog/bulkfetch"), ("GET", "/issue/10001/changelog"),
])
def test_cloud_only_resources_are_404(api, method, path):
    r = api.get(A2 + path) if method == "GET" else api.post(A2 + path, {})
    assert r.status_code == 404, (path, r.status_code, r.text[:200])
    assert r.json()["errorMessages"]


def test_dev_status_is_cloud_only(api):
    assert api.get("/rest/dev-status/latest/issue/detail", issueId="10001", applicationType="GitHub",
                   dataType="pullrequest").status_code == 404


# ------------------------------------------------------------------------------------------------
# ground truth
# ------------------------------------------------------------------------------------------------
def test_ground_truth_primary_keys_and_streams(fake):
    assert set(fake.streams()) == set(fake.stream_names()) == set(STREAM_PKS_DC)
    assert not set(STREAM_PKS_DC) & CLOUD_ONLY_STREAMS and set(STREAM_PKS_DC) < set(STREAM_PKS)
    changed = {"users": ["key"], "myself": ["key"], "issue_watchers": ["issueId", "key"], "issue_votes": ["issueId", "key"],
               "groups": ["name"], "group_members": ["groupName", "key"], "users_groups_detailed": ["key"],
               "workflows": ["name"], "customers": ["serviceDeskId", "key"], "request_participants": ["issueId", "key"]}
    for stream in STREAM_PKS_DC:
        assert fake.ground_truth_pk(stream) == changed.get(stream, STREAM_PKS[stream]), stream
    for stream in sorted(CLOUD_ONLY_STREAMS):
        with pytest.raises(KeyError, match=stream):
            fake.ground_truth(stream)
        with pytest.raises(KeyError, match=stream):
            fake.ground_truth_pk(stream)
    site = fake.site
    assert fake.ground_truth("myself") == {("jdoe",)}
    assert fake.ground_truth("users") == {(u.key,) for u in site.users} and len(site.users) == len({u.key for u in site.users})
    assert fake.ground_truth("workflows") == {(w["name"],) for w in site.workflows}
    assert all(isinstance(x[0], str) for x in fake.ground_truth("issues"))
    # the control plane serves the same
    r = requests.get(fake.root_url + "/_fake/ground_truth", params={"stream": "group_members"}, verify=fake.ca_path)
    assert {tuple(x) for x in r.json()["result"]} == fake.ground_truth("group_members")
    r = requests.get(fake.root_url + "/_fake/ground_truth", params={"stream": "labels"}, verify=fake.ca_path)
    assert r.status_code == 404 and "labels" in r.json()["error"]


def _walk_all(fake, api) -> dict[str, set]:
    """Every Data Center stream but the issue family, walked through its endpoint."""
    got: dict[str, set] = {}
    projects = api.ok(A2 + "/project", expand="description,lead,issueTypes,url,projectKeys")
    got["projects"] = {(p["id"],) for p in projects}
    for k in ("project_versions", "project_components", "project_avatars", "project_permission_schemes"):
        got[k] = set()
    for p in projects:
        got["project_versions"] |= {(v["id"],) for v in api.pagebean(A2 + f"/project/{p['id']}/version", page=2)}
        got["project_components"] |= {(c["id"],) for c in api.ok(A2 + f"/project/{p['id']}/components")}
        av = api.ok(A2 + f"/project/{p['id']}/avatars")
        got["project_avatars"] |= {(p["id"], a["id"]) for a in av["system"] + av["custom"]}
        got["project_permission_schemes"] |= {(p["id"], lv["id"]) for lv in api.ok(A2 + f"/project/{p['key']}/securitylevel")["levels"]}
    got["project_categories"] = {(c["id"],) for c in api.ok(A2 + "/projectCategory")}
    got["project_roles"] = {(r["id"],) for r in api.ok(A2 + "/role")}
    got["project_types"] = {(t["key"],) for t in api.ok(A2 + "/project/type")}
    users = api.ok(A2 + "/user/search", username=".", includeInactive="true", maxResults=1000)
    got["users"] = {(u["key"],) for u in users}
    got["users_groups_detailed"] = {(api.ok(A2 + "/user", key=u["key"], expand="groups,applicationRoles")["key"],) for u in users}
    got["myself"] = {(api.ok(A2 + "/myself")["key"],)}
    groups = api.ok(A2 + "/groups/picker", maxResults=100000)["groups"]
    got["groups"] = {(g["name"],) for g in groups}
    got["group_members"] = {(g["name"], u["key"]) for g in groups for u in
                            api.pagebean(A2 + "/group/member", page=50, groupname=g["name"], includeInactiveUsers="true")}
    got["avatars"] = {(t, a["id"]) for t in ("issuetype", "project", "user") for a in api.ok(A2 + f"/avatar/{t}/system")["system"]}
    got["issue_fields"] = {(f["id"],) for f in api.ok(A2 + "/field")}
    got["issue_types"] = {(t["id"],) for t in api.ok(A2 + "/issuetype")}
    got["issue_priorities"] = {(p["id"],) for p in api.ok(A2 + "/priority")}
    got["issue_resolutions"] = {(r["id"],) for r in api.ok(A2 + "/resolution")}
    got["workflow_statuses"] = {(s["id"],) for s in api.ok(A2 + "/status")}
    got["workflow_status_categories"] = {(c["id"],) for c in api.ok(A2 + "/statuscategory")}
    got["issue_link_types"] = {(t["id"],) for t in api.ok(A2 + "/issueLinkType")["issueLinkTypes"]}
    got["issue_security_schemes"] = {(s["id"],) for s in api.ok(A2 + "/issuesecurityschemes")["issueSecuritySchemes"]}
    got["workflows"] = {(w["name"],) for w in api.ok(A2 + "/workflow")}
    got["permission_schemes"] = {(s["id"],) for s in api.ok(A2 + "/permissionscheme")["permissionSchemes"]}
    got["issue_notification_schemes"] = {(s["id"],) for s in api.pagebean(A2 + "/notificationscheme")}
    screens = api.pagebean(A2 + "/screens", page=4)
    got["screens"] = {(s["id"],) for s in screens}
    got["screen_tabs"], got["screen_tab_fields"] = set(), set()
    for s in screens:
        for t in api.ok(A2 + f"/screens/{s['id']}/tabs"):
            got["screen_tabs"].add((s["id"], t["id"]))
            got["screen_tab_fields"] |= {(s["id"], t["id"], f["id"]) for f in api.ok(A2 + f"/screens/{s['id']}/tabs/{t['id']}/fields")}
    favourites = api.ok(A2 + "/filter/favourite", expand="owner,sharePermissions")
    got["filter_favourite"] = {(f["id"],) for f in favourites}
    for f in favourites:
        assert [p["id"] for p in api.ok(A2 + f"/filter/{f['id']}/permission")] == [p["id"] for p in f["sharePermissions"]]
    got["dashboards"] = {(d["id"],) for d in api.pagebean(A2 + "/dashboard", page=2, key="dashboards")}
    got["application_roles"] = {(r["key"],) for r in api.ok(A2 + "/applicationrole")}
    got["time_tracking"] = {(t["key"],) for t in api.ok(A2 + "/configuration/timetracking/list")}
    got["server_info"] = {(api.ok(A2 + "/serverInfo")["baseUrl"],)}
    got["permissions"] = {(k,) for k in api.ok(A2 + "/permissions")["permissions"]}
    got["priority_schemes"] = {(s["id"],) for s in api.pagebean(A2 + "/priorityschemes", key="schemes")}
    got["issue_navigator_settings"] = {(c["value"],) for c in api.ok(A2 + "/settings/columns")}
    got["jira_settings"] = {(p["id"],) for p in api.ok(A2 + "/application-properties")}
    got["my_permissions"] = {("global", k) for k in api.ok(A2 + "/mypermissions", permissions="BROWSE_PROJECTS,ADMINISTER")["permissions"]}
    # agile
    boards = api.pagebean(AG + "/board", page=3)
    got["boards"] = {(b["id"],) for b in boards}
    for k in ("sprints", "sprint_issues", "board_issues", "board_configuration", "epics"):
        got[k] = set()
    for b in boards:
        got["board_configuration"].add((api.ok(AG + f"/board/{b['id']}/configuration")["id"],))
        if api.get(AG + f"/board/{b['id']}/sprint").status_code == 200:
            got["sprints"] |= {(s["id"],) for s in api.pagebean(AG + f"/board/{b['id']}/sprint", page=50)}
        got["board_issues"] |= {(b["id"], i["id"]) for i in api.pagebean(AG + f"/board/{b['id']}/issue", page=50, key="issues", fields="updated")}
        got["epics"] |= {(b["id"], e["id"]) for e in api.pagebean(AG + f"/board/{b['id']}/epic", page=50)}
    for (sid,) in got["sprints"]:
        got["sprint_issues"] |= {(sid, i["id"]) for i in api.pagebean(AG + f"/sprint/{sid}/issue", page=50, key="issues", fields="updated")}
    return got


def _walk_issue_family(fake, api, project: str) -> dict[str, set]:
    got = {k: set() for k in ("issues", "issue_ids", "issue_changelogs", "issue_field_history", "issue_comments",
                              "issue_worklogs", "issue_attachments", "issue_watchers", "issue_votes", "issue_remote_links",
                              "issue_properties", "issue_transitions")}
    for i in api.search(f"project = {project}", page=100, expand=["changelog"], fields=["attachment", "comment", "worklog"]):
        iid = i["id"]
        got["issues"].add((iid,))
        got["issue_ids"].add((iid,))
        for h in i["changelog"]["histories"]:
            got["issue_changelogs"].add((h["id"],))
            got["issue_field_history"] |= {(h["id"], n) for n in range(len(h["items"]))}
        got["issue_attachments"] |= {(a["id"],) for a in i["fields"]["attachment"]}
        got["issue_comments"] |= {(c["id"],) for c in api.pagebean(A2 + f"/issue/{iid}/comment", page=100, key="comments")}
        got["issue_worklogs"] |= {(w["id"],) for w in api.pagebean(A2 + f"/issue/{iid}/worklog", page=100, key="worklogs")}
        got["issue_watchers"] |= {(iid, u["key"]) for u in api.ok(A2 + f"/issue/{iid}/watchers")["watchers"]}
        got["issue_votes"] |= {(iid, u["key"]) for u in api.ok(A2 + f"/issue/{iid}/votes")["voters"]}
        got["issue_remote_links"] |= {(r["id"],) for r in api.ok(A2 + f"/issue/{iid}/remotelink")}
        got["issue_properties"] |= {(iid, k["key"]) for k in api.ok(A2 + f"/issue/{iid}/properties")["keys"]}
        got["issue_transitions"] |= {(iid, t["id"]) for t in api.ok(A2 + f"/issue/{iid}/transitions")["transitions"]}
    return got


def test_every_stream_walked_equals_ground_truth(fake, api):
    got = _walk_all(fake, api)
    family = _walk_issue_family(fake, api, "MKT")
    assert set(got) | set(family) | {"issue_worklogs_deleted"} == set(STREAM_PKS_DC) - JSM_STREAMS  # JSM: test_e2e_servicedesk.py
    for stream, rows in got.items():
        if stream == "my_permissions":
            assert rows == fake.ground_truth(stream) & rows
            continue
        assert rows == fake.ground_truth(stream), stream
        assert all(len(r) == len(fake.ground_truth_pk(stream)) for r in rows), stream
    for stream, rows in family.items():
        assert rows == fake.ground_truth(stream, projects=["MKT"]), stream


# ------------------------------------------------------------------------------------------------
# CLI
# ------------------------------------------------------------------------------------------------
def test_cli_datacenter():
    env = dict(os.environ, PYTHONPATH=ROOT)
    p = subprocess.Popen([sys.executable, "-m", "integration_tests.fake_jira", "--issues", "40", "--seed", "3", "--port", "0",
                          "--datacenter", "--context-path", "/tracker"], stdout=subprocess.PIPE, cwd=ROOT, env=env, text=True)
    try:
        info = json.loads(p.stdout.readline())
        assert info["deployment"] == "datacenter" and info["base_url"].endswith("/tracker")
        assert {"pat", "username", "password", "context_path"} <= info.keys()
        r = requests.get(info["base_url"] + A2 + "/myself", headers={"Authorization": f"Bearer {info['pat']}"}, verify=info["ca_path"])
        assert r.status_code == 200 and r.json()["name"] == info["username"]
        r = requests.get(info["base_url"] + A2 + "/myself", auth=(info["username"], info["password"]), verify=info["ca_path"])
        assert r.status_code == 200
        c = FakeJiraClient(info["base_url"], info["ca_path"])
        assert len(c.ground_truth("issues")) == 40 and c.ground_truth_pk(stream="users") == ["key"]
        assert "labels" not in c.streams()
        assert c.request_counts()["GET /rest/api/2/myself"] == 2
    finally:
        p.send_signal(signal.SIGTERM)
        assert p.wait(timeout=10) == 0
