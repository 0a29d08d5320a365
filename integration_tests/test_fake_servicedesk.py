"""The fake's Jira Service Management (integration_tests/fake_jira/servicedesk.py) is as strict as Atlassian documents
it: start/limit pages capped at 50, the experimental customer endpoint refused without `X-ExperimentalApi: opt-in`,
404 everywhere on a site without JSM, 403 on agent-only resources for an account that is no agent, the request list
of Data Center showing the account's own requests only; and what it serves walks back to its ground truth."""

from __future__ import annotations

import pytest
import requests

from integration_tests.fake_jira import FakeJira
from integration_tests.fake_jira.servicedesk import DESKS, EXPERIMENTAL, ground_truth, requests_of

SD = "/rest/servicedeskapi"


class Api:
    def __init__(self, fake: FakeJira) -> None:
        self.fake = fake
        self.session = requests.Session()
        self.session.trust_env = False
        self.session.verify = fake.ca_path
        if fake.is_datacenter:
            self.session.headers["Authorization"] = f"Bearer {fake.pat}"
        else:
            self.session.auth = (fake.email, fake.api_token)

    def get(self, path: str, headers=None, **params):
        return self.session.get(self.fake.base_url + SD + path, params=params, headers=headers, timeout=30)

    def walk(self, path: str, headers=None, **params):
        start, out = 0, []
        while True:
            page = self.get(path, headers=headers, start=start, **params).json()
            assert page["start"] == start and page["size"] == len(page["values"]) and page["limit"] <= 50
            out += page["values"]
            if page["isLastPage"]:
                return out
            start += page["size"]


@pytest.fixture(scope="module", params=["cloud", "datacenter"])
def fake(request):
    with FakeJira(issues=300, seed=7, deployment=request.param) as site:
        yield site


def test_pages_are_capped_at_50(fake):
    api = Api(fake)
    page = api.get("/request", serviceDeskId=1, requestStatus="ALL_REQUESTS", limit=500).json()
    assert page["limit"] == 50 and page["size"] <= 50
    types = api.get("/servicedesk/1/requesttype", limit=2).json()
    assert types["size"] == 2 and not types["isLastPage"] and types["_links"]["next"]


def test_the_customer_endpoint_is_experimental(fake):
    api = Api(fake)
    refused = api.get("/servicedesk/1/customer")
    assert refused.status_code == 412 and refused.json()["errorMessages"] == [EXPERIMENTAL]
    assert api.get("/servicedesk/1/customer", headers={"X-ExperimentalApi": "opt-in"}).status_code == 200


def test_walks_equal_ground_truth(fake):
    api = Api(fake)
    user = "key" if fake.is_datacenter else "accountId"
    desks = api.walk("/servicedesk")
    assert {(d["id"],) for d in desks} == ground_truth(fake.site, "service_desks")
    assert {(t["id"],) for d in desks for t in api.walk(f"/servicedesk/{d['id']}/requesttype")} == ground_truth(fake.site, "request_types")
    queues = [(d["id"], q) for d in desks for q in api.walk(f"/servicedesk/{d['id']}/queue", includeCount="true")]
    assert {(d, q["id"]) for d, q in queues} == ground_truth(fake.site, "queues") and all("issueCount" in q for _, q in queues)
    customers = {(d["id"], u[user]) for d in desks
                 for u in api.walk(f"/servicedesk/{d['id']}/customer", headers={"X-ExperimentalApi": "opt-in"})}
    assert customers == ground_truth(fake.site, "customers")
    keys = [it.key for d in DESKS for it in requests_of(fake.site, d)]
    slas, history = set(), set()
    for key in keys:
        request = api.get(f"/request/{key}", expand="sla,status").json()
        slas |= {(request["issueId"], s["id"]) for s in request["sla"]["values"]}
        history |= {(request["issueId"], s["statusDate"]["epochMillis"]) for s in api.walk(f"/request/{key}/status")}
    assert slas == ground_truth(fake.site, "request_slas")
    assert history == ground_truth(fake.site, "request_status_history")


def test_request_list_of_data_center_is_the_accounts_own(fake):
    listed = Api(fake).walk("/request", serviceDeskId=1, requestStatus="ALL_REQUESTS")
    everyone = len(requests_of(fake.site, DESKS[0]))
    assert (len(listed) < everyone) if fake.is_datacenter else (len(listed) == everyone)


def test_a_site_without_jsm_answers_404_and_a_non_agent_403():
    with FakeJira(issues=100, seed=3, jsm=False) as site:
        api = Api(site)
        assert api.get("/servicedesk").status_code == 404 and api.get("/request").status_code == 404
        assert all(not ground_truth(site.site, s) for s in ("service_desks", "requests"))
    with FakeJira(issues=100, seed=3, jsm_agent=False) as site:
        api = Api(site)
        assert api.get("/servicedesk/1/queue").status_code == 403
        assert api.get("/servicedesk/1/customer", headers={"X-ExperimentalApi": "opt-in"}).status_code == 403
        assert api.get("/servicedesk").status_code == 200
        hidden = next(it for d in DESKS for it in requests_of(site.site, d) if (str(it.id),) not in ground_truth(site.site, "requests"))
        assert api.get(f"/request/{hidden.key}").status_code == 404


def test_the_approvals_field_is_listed_and_searchable(fake):
    """`GET /field` lists JSM's locked Approvals field; an issue search asking for it gets each request's approvals as
    `request/{key}/approval` shows them, null for a request without any and for issues of other projects."""
    api = Api(fake)
    platform = "/rest/api/2" if fake.is_datacenter else "/rest/api/3"
    fields = api.session.get(fake.base_url + platform + "/field", timeout=30).json()
    approvals = [f for f in fields if (f.get("schema") or {}).get("custom") == "com.atlassian.servicedesk.approvals-service:sd-approvals"]
    assert len(approvals) == 1 and approvals[0]["custom"] and approvals[0]["name"] == "Approvals"
    field_id = approvals[0]["id"]
    path, body = (platform + "/search", {"jql": "project in (OPS, SEC, %s) ORDER BY key ASC" % fake.site.projects[0].key,
                                         "fields": ["updated", field_id], "maxResults": 1000})
    if not fake.is_datacenter:
        path = platform + "/search/jql"
    issues, token = [], None
    while True:
        page = api.session.post(fake.base_url + path, json={**body, **({"nextPageToken": token} if token else {})}, timeout=30).json()
        issues += page["issues"]
        token = page.get("nextPageToken")
        if fake.is_datacenter or not token:
            break
    jsm_keys = {d.project_key for d in DESKS}
    with_approvals = 0
    for issue in issues:
        value = issue["fields"][field_id]  # asked for: present, null when empty
        if issue["key"].rsplit("-", 1)[0] not in jsm_keys:
            assert value is None
            continue
        served = api.walk(f"/request/{issue['key']}/approval")
        if served:
            with_approvals += 1
            assert value == served
        else:
            assert value is None
    assert with_approvals and any(i["key"].rsplit("-", 1)[0] not in jsm_keys for i in issues)
    # not asked for: not there
    bare = api.session.post(fake.base_url + path, json={**body, "fields": ["updated"]}, timeout=30).json()
    assert all(field_id not in i["fields"] for i in bare["issues"])
