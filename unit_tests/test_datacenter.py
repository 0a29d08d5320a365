"""Jira Data Center / Server (issue 15), the parts that need no server: how the deployment is settled from the config,
the site address with its context path, the CA certificate check, which streams each deployment offers, and the Data
Center search chain (backend.py) against scripted answers: drift restarts, the result window, segmented scans.
End to end against the fake Data Center site: integration_tests/test_e2e_datacenter.py."""

from __future__ import annotations

import json
from typing import Any, Dict, List

import pytest
import requests
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_jira import SourceJira
from source_jira.components.config import CheckCaCertificate, NormalizeDomain, ResolveDeployment, normalize_domain
from source_jira.components.issue_family.backend import RESULT_WINDOW, CloudSearch, DataCenterSearch, OffsetChain, search_for

PAT = {"auth_type": "pat", "personal_access_token": "tok"}
BASIC = {"auth_type": "basic", "username": "jdoe", "password": "pw"}
TOKEN = {"auth_type": "api_token", "email": "a@acme.com", "api_token": "tok"}
BEARER = {"auth_type": "bearer", "api_token": "tok"}


def _settled(config: Dict[str, Any]) -> Dict[str, Any]:
    config = json.loads(json.dumps(config))
    ResolveDeployment().transform(config)
    NormalizeDomain().transform(config)
    CheckCaCertificate().transform(config)
    return config


# --------------------------------------------------------------------------------------------- config
@pytest.mark.parametrize("credentials,said,expected", [
    (PAT, None, "datacenter"), (BASIC, None, "datacenter"), (TOKEN, None, "cloud"), (BEARER, None, "cloud"),
    (BEARER, "datacenter", "datacenter"), (PAT, "datacenter", "datacenter"), (TOKEN, "cloud", "cloud"), (BASIC, "", "datacenter"),
])
def test_the_credentials_settle_the_deployment(credentials, said, expected):
    config = {"domain": "jira.corp.example", "credentials": credentials} | ({"deployment": said} if said is not None else {})
    assert _settled(config)["deployment"] == expected


@pytest.mark.parametrize("credentials,said,names", [
    (PAT, "cloud", "Personal access token"), (BASIC, "cloud", "Username and password"), (TOKEN, "datacenter", "API token"),
])
def test_credentials_of_the_other_kind_of_jira_fail_in_one_line(credentials, said, names):
    with pytest.raises(AirbyteTracedException) as raised:
        _settled({"domain": "jira.corp.example", "credentials": credentials, "deployment": said})
    message = raised.value.message
    assert names in message and "\n" not in message and ("use a personal access token" in message or "use an API token" in message)


def test_an_unknown_deployment_is_refused():
    with pytest.raises(AirbyteTracedException, match="Unknown deployment 'onprem'"):
        _settled({"domain": "x", "credentials": PAT, "deployment": "onprem"})


@pytest.mark.parametrize("raw,expected", [
    ("https://jira.corp.example/jira/", "jira.corp.example/jira"),
    ("jira.corp.example/jira", "jira.corp.example/jira"),
    ("https://Jira.Corp.Example:8443/tools/jira//", "jira.corp.example:8443/tools/jira"),
    ("https://jira.corp.example", "jira.corp.example"),
    ("jira", "jira"),  # a self-hosted name is not completed to .atlassian.net
    ("https://jira.corp.example/jira?x=1#y", "jira.corp.example/jira"),
])
def test_a_data_center_site_keeps_its_context_path(raw, expected):
    assert normalize_domain(raw, keep_path=True) == expected
    assert _settled({"domain": raw, "credentials": PAT})["domain"] == expected


def test_a_cloud_site_still_drops_any_path():
    assert _settled({"domain": "https://acme.atlassian.net/jira/software/projects", "credentials": TOKEN})["domain"] == "acme.atlassian.net"


@pytest.mark.parametrize("raw", ["http://jira.corp.example/jira", "https://jira.corp.example/../etc", "ftp://jira.corp.example"])
def test_bad_data_center_addresses_fail_in_one_line(raw):
    with pytest.raises(AirbyteTracedException):
        _settled({"domain": raw, "credentials": PAT})


def test_a_ca_certificate_must_be_a_loadable_pem(tmp_path):
    from integration_tests.fake_jira.server import make_tls

    ca_path, _, _ = make_tls(str(tmp_path))
    pem = open(ca_path).read()
    assert _settled({"domain": "x", "credentials": PAT, "ca_certificate": pem})["ca_certificate"] == pem
    assert "ca_certificate" not in _settled({"domain": "x", "credentials": PAT, "ca_certificate": "  "})
    for bad in ("not a certificate", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"):
        with pytest.raises(AirbyteTracedException, match="CA certificate"):
            _settled({"domain": "x", "credentials": PAT, "ca_certificate": bad})


def _offered(config: Dict[str, Any]) -> Dict[str, List[List[str]]]:
    source = SourceJira(config=config)
    return {s.name: s.as_airbyte_stream().source_defined_primary_key for s in source.streams(source._config)}


def test_each_deployment_offers_its_streams_under_the_same_names():
    cloud = _offered({"domain": "acme", "credentials": TOKEN})
    dc = _offered({"domain": "jira.corp.example/jira", "credentials": PAT})
    assert set(dc) < set(cloud)
    assert set(cloud) - set(dc) == {
        "pull_requests", "project_email", "issue_custom_field_contexts", "issue_custom_field_options", "labels",
        "issue_type_schemes", "issue_type_screen_schemes", "issue_field_configurations", "workflow_schemes",
        "screen_schemes", "filters", "filter_sharing", "filter_my", "audit_records"}
    assert dc["users"] == [["key"]] and cloud["users"] == [["accountId"]]
    assert dc["issue_watchers"] == [["issueId"], ["key"]] and dc["group_members"] == [["groupName"], ["key"]]
    assert dc["issues"] == cloud["issues"] == [["id"]]


def test_data_center_requests_go_to_api_v2_under_the_context_path():
    source = SourceJira(config={"domain": "https://jira.corp.example/jira/", "credentials": PAT})
    stream = next(s for s in source.streams(source._config) if s.name == "myself")
    from source_jira.cdk_adapter import requesters_in

    requester = requesters_in(stream)[0]
    assert requester.get_url_base() == "https://jira.corp.example/jira/rest/api/2/"
    assert search_for(source._config).path == "search" and search_for({"deployment": "cloud"}).path == "search/jql"


# --------------------------------------------------------------------------------------------- the Data Center search
class ScriptedRequester:
    """Answers POST search from a list of issues that the test may change between pages; records what was asked."""

    def __init__(self, issues: List[Dict[str, Any]], cap: int = 1000, window: int = RESULT_WINDOW) -> None:
        self.issues = issues
        self.cap = cap
        self.window = window
        self.asked: List[Dict[str, Any]] = []
        self.before_page: Any = None

    def send_request(self, path: str, request_body_json: Dict[str, Any] = None, request_params: Any = None, **_: Any) -> requests.Response:
        body = dict(request_body_json or {})
        self.asked.append(body)
        if self.before_page:
            self.before_page(len(self.asked))
        start, size = body["startAt"], min(body["maxResults"], self.cap)
        assert start + size <= self.window, "paged past the result window"
        floor = None
        if " AND created >= " in body["jql"]:
            floor = int(body["jql"].split(" AND created >= ")[1].split()[0])
        matching = [i for i in self.issues if floor is None or i["fields"]["created"] >= floor - floor % 60000]
        matching.sort(key=lambda i: (i["fields"]["created"], int(i["id"])))
        response = requests.Response()
        response.status_code = 200
        response._content = json.dumps({"startAt": start, "maxResults": size, "total": len(matching),
                                        "issues": matching[start:start + size]}).encode()
        response.headers["Content-Type"] = "application/json"
        return response


def _issues(n: int, per_minute: int = 7) -> List[Dict[str, Any]]:
    return [{"id": str(10000 + i), "key": f"P-{i}", "fields": {"created": 1_700_000_000_000 + (i // per_minute) * 60_000, "updated": 0}}
            for i in range(n)]


@pytest.fixture
def window(monkeypatch):
    """A smaller result window than Jira's 10,000, so that the scripted site needs few issues to exceed it."""
    import source_jira.components.issue_family.backend as backend

    def set_window(size: int) -> None:
        monkeypatch.setattr(backend, "RESULT_WINDOW", size)
    return set_window


def test_a_scan_past_the_result_window_reads_every_issue_once_in_segments(window):
    requester = ScriptedRequester(_issues(2_530), cap=100, window=1_000)
    window(1_000)
    got = list(DataCenterSearch().scan(requester, "project = P", ["updated"], "scan"))
    assert sorted(int(i["id"]) for i in got) == list(range(10000, 12530))
    assert all(b["startAt"] + b["maxResults"] <= 1_000 for b in requester.asked)
    segments = {b["jql"] for b in requester.asked}
    assert len(segments) >= 3 and all(" ORDER BY created ASC, key ASC" in jql for jql in segments)


def test_an_issue_leaving_the_search_mid_read_loses_no_other_issue():
    issues = _issues(250)
    requester = ScriptedRequester(issues, cap=100)

    def delete_one(page_number: int) -> None:
        if page_number == 2:  # between pages 1 and 2 an early issue leaves: every later issue shifts down by one
            del issues[5]

    requester.before_page = delete_one
    chain = DataCenterSearch().chain(requester, DataCenterSearch().body("x", ["updated"], 100))
    got, token = [], None
    while True:
        page, _, token = chain.fetch(token)
        got += page["issues"]
        if token is None:
            break
    ids = [i["id"] for i in got]
    assert len(ids) == len(set(ids))  # each issue once
    assert set(ids) >= {i["id"] for i in issues}  # none of the remaining issues skipped by the shift


def test_a_window_larger_than_the_result_window_fails_loudly(window):
    requester = ScriptedRequester(_issues(300, per_minute=1000), cap=100, window=200)
    window(200)
    with pytest.raises(AirbyteTracedException, match="more than 200 issues"):
        list(DataCenterSearch().pages(requester, DataCenterSearch().body("x", ["*all"], 100), "POST search"))


def test_a_scan_of_one_crowded_minute_fails_loudly_instead_of_looping(window):
    requester = ScriptedRequester(_issues(300, per_minute=1000), cap=100, window=200)
    window(200)
    with pytest.raises(AirbyteTracedException, match="created within one minute"):
        list(DataCenterSearch().scan(requester, "x", ["updated"], "scan"))


def test_cloud_keeps_its_search():
    search = search_for({"deployment": "cloud"})
    assert isinstance(search, CloudSearch) and not isinstance(search, DataCenterSearch)
    assert search.body("j", ["id"], 5000, ["renderedFields"]) == {"jql": "j", "fields": ["id"], "maxResults": 5000, "expand": "renderedFields"}
    assert isinstance(DataCenterSearch().chain(None, {}), OffsetChain)


def test_data_center_secrets_and_their_basic_header_form_are_masked():
    import base64

    from source_jira.secrets import secret_values

    assert "tok" in secret_values({"credentials": PAT})
    values = secret_values({"credentials": BASIC})
    assert "pw" in values and base64.b64encode(b"jdoe:pw").decode() in values


def _answer(body: Any) -> requests.Response:
    response = requests.Response()
    response.status_code = 200
    response._content = json.dumps(body).encode()
    return response


def test_a_group_list_cut_by_the_picker_limit_is_said_not_hidden(caplog):
    from source_jira.components.datacenter import PickerGroupsExtractor

    extractor = PickerGroupsExtractor(config={}, parameters={})
    groups = [{"name": f"g{i}", "html": f"g{i}", "labels": []} for i in range(20)]
    with caplog.at_level("WARNING", logger="airbyte"):
        assert len(list(extractor.extract_records(_answer({"header": "", "total": 20, "groups": groups})))) == 20
        assert not caplog.records
        assert len(list(extractor.extract_records(_answer({"header": "", "total": 57, "groups": groups})))) == 20
    assert "listed 20 of its 57 groups" in caplog.records[-1].getMessage()


@pytest.mark.parametrize("site,warned", [(100, True), (1000, True), (60, False), (101, False)])
def test_a_user_list_ending_at_a_search_cap_is_said_not_hidden(caplog, site, warned):
    from source_jira.components.datacenter import UserSearchExtractor

    extractor = UserSearchExtractor(config={}, parameters={})
    users = [{"key": f"JIRAUSER{i}", "name": f"u{i}"} for i in range(site)]
    with caplog.at_level("WARNING", logger="airbyte"):
        got = []
        for start in range(0, site + 1, 100):  # pages of 100, then the empty page that ends the list
            got += list(extractor.extract_records(_answer(users[start:start + 100])))
    assert len(got) == site
    assert any("stopped at" in r.getMessage() for r in caplog.records) == warned
