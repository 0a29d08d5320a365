"""`issue_ids`: the live set of issues, id and key only (Jira's 5,000-a-page case), paged by nextPageToken."""

from __future__ import annotations

import json

from airbyte_cdk.test.mock_http import HttpMocker, HttpRequest, HttpResponse

from unit_tests.conftest import API, assert_records_match_schema, base_config, read_stream, records_of


def _body(jql: str, token=None) -> dict:
    body = {"jql": jql, "fields": ["id", "key"], "maxResults": 5000}
    if token:
        body["nextPageToken"] = token
    return body


def _issue(i: int) -> dict:
    return {"id": str(10000 + i), "key": f"P-{i}", "self": f"https://acme.atlassian.net/rest/api/3/issue/{10000 + i}", "fields": {}}


def test_issue_ids_pages_by_token_and_keeps_id_and_key_only():
    config = base_config(projects=["P", "Q"], issues_jql_filter="issuetype != Sub-task")
    jql = 'project in ("P", "Q") AND (issuetype != Sub-task) AND updated >= 0 ORDER BY id ASC'
    with HttpMocker() as http:
        http.post(HttpRequest(f"{API}/search/jql", body=_body(jql)), HttpResponse(json.dumps({"issues": [_issue(1), _issue(2)], "nextPageToken": "t2", "isLast": False}), 200))
        http.post(HttpRequest(f"{API}/search/jql", body=_body(jql, "t2")), HttpResponse(json.dumps({"issues": [_issue(3)], "isLast": True}), 200))
        output = read_stream("issue_ids", config)
    records = records_of(output)
    assert records == [{"id": "10001", "key": "P-1"}, {"id": "10002", "key": "P-2"}, {"id": "10003", "key": "P-3"}]
    assert_records_match_schema("issue_ids", records, config)


def test_issue_ids_fails_loudly_on_bad_jql():
    config = base_config(issues_jql_filter="issuetype = = x")
    jql = "(issuetype = = x) AND updated >= 0 ORDER BY id ASC"
    with HttpMocker() as http:
        http.post(
            HttpRequest(f"{API}/search/jql", body=_body(jql)),
            HttpResponse(json.dumps({"errorMessages": ["Error in the JQL Query: Expecting either a value, list or function but got '='."], "errors": {}}), 400),
        )
        output = read_stream("issue_ids", config, expecting_exception=True)
    assert not records_of(output)
    messages = [e.trace.error.message for e in output.errors]
    assert any("Error in the JQL Query" in m for m in messages), messages
