"""The one retry policy (source_jira/components/reliability.py): a 200 that is not JSON is retried on every path
(declarative streams and the issue family's Python components), waits honour Retry-After without the CDK's extra
second, backoff is jittered and bounded, and giving up names the endpoint and the reason in one line."""

from __future__ import annotations

import json
from typing import List

import pytest
import requests
from airbyte_cdk.models import SyncMode
from airbyte_cdk.sources.streams.http.error_handlers.response_models import ResponseAction
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import read
from airbyte_cdk.test.mock_http import HttpMocker, HttpRequest, HttpResponse
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_jira import SourceJira
from source_jira.components.issue_family.jql import window_jql
from source_jira.components.reliability import CDK_EXTRA_SLEEP, JiraBackoff, JiraErrorHandler, parsed_json
from unit_tests.conftest import API, base_config, read_stream, records_of

CORRUPT = b'{"startAt": 0, "maxResults": 50, "total": 2, "isLast": true, "values": [{"id": "1'


@pytest.fixture
def sleeps(monkeypatch) -> List[float]:
    """The CDK's retry sleeps, recorded instead of slept."""
    recorded: List[float] = []
    import airbyte_cdk.sources.streams.http.rate_limiting as rate_limiting

    class _Time:
        @staticmethod
        def sleep(seconds: float) -> None:
            recorded.append(seconds)

    monkeypatch.setattr(rate_limiting, "time", _Time)
    return recorded


def _response(status: int, body: bytes, headers=None, method: str = "GET", url: str = f"{API}/field?x=1") -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = body
    response.headers.update(headers or {})
    response.url = url
    response.request = requests.Request(method, url).prepare()
    return response


def _handler() -> JiraErrorHandler:
    """`definitions.error_handler` of the manifest, built by the CDK's factory."""
    from airbyte_cdk.sources.declarative.models.declarative_component_schema import CustomErrorHandler
    from airbyte_cdk.sources.declarative.parsers.model_to_component_factory import ModelToComponentFactory

    definition = SourceJira(config=base_config()).resolved_manifest["definitions"]["error_handler"]
    handler = ModelToComponentFactory().create_component(CustomErrorHandler, definition, base_config())
    assert isinstance(handler, JiraErrorHandler)
    return handler


# --------------------------------------------------------------------------------------------- error handler
def test_valid_json_succeeds_and_is_parsed_once():
    handler = _handler()
    response = _response(200, b'{"a": 1}')
    assert handler.interpret_response(response).response_action == ResponseAction.SUCCESS
    response._content = b"changed"  # the kept parse is what the components read
    assert parsed_json(response) == {"a": 1}


@pytest.mark.parametrize("body", [CORRUPT, b"\x1f\x8b\x08\x00\x00\x00\x00\x00junk", b"<html>proxy error</html>"])
def test_a_2xx_that_is_not_json_is_retried_naming_the_endpoint(body):
    resolution = _handler().interpret_response(_response(200, body, {"Content-Type": "application/json"}))
    assert resolution.response_action == ResponseAction.RETRY
    assert resolution.error_message.startswith(f"GET {API}/field: HTTP 200 but the body is not valid JSON")
    assert "x=1" not in resolution.error_message  # no query string


def test_a_legit_empty_object_is_not_retried():
    assert _handler().interpret_response(_response(200, b"{}")).response_action == ResponseAction.SUCCESS
    assert _handler().interpret_response(_response(204, b"")).response_action == ResponseAction.SUCCESS


@pytest.mark.parametrize("status,headers,expected", [
    (429, {"Retry-After": "1"}, "HTTP 429 Too Many Requests"),
    (500, {"Content-Type": "application/json"}, "HTTP 500 Internal Server Error"),
    (502, {"Content-Type": "text/html"}, "HTTP 502 Bad Gateway (HTML body)"),
    (503, {"Retry-After": "2"}, "HTTP 503 Service Unavailable"),
    (504, {"Content-Type": "text/html"}, "HTTP 504 Gateway Timeout (HTML body)"),
])
def test_rate_limits_and_server_errors_are_retried_with_endpoint_and_reason(status, headers, expected):
    resolution = _handler().interpret_response(_response(status, b"<html>x</html>", headers, method="POST"))
    assert resolution.response_action == ResponseAction.RETRY  # never RATE_LIMITED: that one can retry forever
    assert resolution.error_message == f"POST {API}/field: {expected}"


def test_connection_errors_are_retried_naming_the_endpoint():
    request = requests.Request("POST", f"{API}/search/jql").prepare()
    reset = requests.exceptions.ConnectionError(ConnectionResetError(104, "Connection reset by peer"), request=request)
    resolution = _handler().interpret_response(reset)
    assert resolution.response_action == ResponseAction.RETRY
    assert resolution.error_message.startswith(f"POST {API}/search/jql: connection reset")
    cut = requests.exceptions.ChunkedEncodingError("IncompleteRead(10 bytes read, 20 more expected)")
    assert "body cut short" in _handler().interpret_response(cut).error_message


def test_client_errors_still_fail():
    resolution = _handler().interpret_response(_response(401, b'{"errorMessages": ["Client must be authenticated"]}'))
    assert resolution.response_action == ResponseAction.FAIL and "HTTP 401" in resolution.error_message


@pytest.mark.parametrize("status", [400, 404])
def test_an_error_answer_whose_json_is_cut_is_retried_not_taken_as_a_refusal(status):
    # a 400 "board does not support sprints" or a deleted issue's 404 mangled in transit: Jira's errors are JSON
    cut = b'{"errorMessages": ["The board does not sup'
    resolution = _handler().interpret_response(_response(status, cut, {"Content-Type": "application/json;charset=UTF-8"}))
    assert resolution.response_action == ResponseAction.RETRY
    assert resolution.error_message.startswith(f"GET {API}/field: HTTP {status} but the body is not valid JSON")
    # a proxy's HTML 400 is an answer: it fails with its summary, as before
    html = _handler().interpret_response(_response(status, b"<html>bad</html>", {"Content-Type": "text/html"}))
    assert html.response_action == ResponseAction.FAIL


# --------------------------------------------------------------------------------------------- backoff
def _backoff(**kw) -> JiraBackoff:
    return JiraBackoff(config={}, parameters={}, **kw)


def test_retry_after_is_honoured_without_the_cdks_extra_second():
    backoff = _backoff()
    for seconds in (0, 1, 7):
        for _ in range(20):
            slept = backoff.backoff_time(_response(429, b"", {"Retry-After": str(seconds)}), 1) + CDK_EXTRA_SLEEP
            assert max(seconds, CDK_EXTRA_SLEEP) <= slept <= max(seconds + 1.0, CDK_EXTRA_SLEEP + 0.3)


def test_beta_retry_after_of_a_points_quota_is_honoured_the_longer_wait_wins():
    backoff = _backoff()
    assert 40 <= backoff.wanted_wait(_response(429, b"", {"Retry-After": "2", "Beta-Retry-After": "40"}), 1) <= 41.01
    assert 7 <= backoff.wanted_wait(_response(429, b"", {"Beta-Retry-After": "7"}), 1) <= 8.01
    assert 5 <= backoff.wanted_wait(_response(429, b"", {"Retry-After": "5", "Beta-Retry-After": "1"}), 1) <= 6.01


def test_rate_limit_reset_header_is_used_when_retry_after_is_missing():
    from datetime import datetime, timedelta, timezone

    reset = (datetime.now(timezone.utc) + timedelta(seconds=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    wait = _backoff().wanted_wait(_response(429, b"", {"X-RateLimit-Reset": reset}), 1)
    assert 27 <= wait <= 32


def test_exponential_backoff_is_jittered_and_capped():
    backoff = _backoff(base_seconds=1, max_seconds=8)
    waits = {attempt: [backoff.wanted_wait(None, attempt) for _ in range(200)] for attempt in range(1, 8)}
    for attempt, values in waits.items():
        step = min(8, 2 ** (attempt - 1))
        assert all(0.5 * step <= v < 1.5 * step for v in values)
        assert len({round(v, 6) for v in values}) > 150  # jitter: workers do not come back together
    assert max(waits[7]) < 12  # capped
    assert backoff.backoff_time(None, 1) > 0  # never 0: a falsy wait means "retry forever" to the CDK


def test_a_retry_after_beyond_the_cap_fails_loudly():
    with pytest.raises(AirbyteTracedException) as info:
        _backoff(max_header_wait_seconds=60).backoff_time(_response(429, b"", {"Retry-After": "3600"}), 1)
    assert f"GET {API}/field" in info.value.message and "3600" in info.value.message


# --------------------------------------------------------------------------------------------- through a read
def test_declarative_stream_retries_a_corrupt_page_and_loses_nothing(sleeps):
    config = base_config()
    common = {"expand": "description,lead,issueTypes,url,projectKeys,insight", "status": "live", "maxResults": "50"}
    good = {"startAt": 0, "maxResults": 50, "total": 2, "isLast": True, "values": [{"id": "1", "key": "A"}, {"id": "2", "key": "B"}]}
    with HttpMocker() as http:
        request = HttpRequest(f"{API}/project/search", query_params=common)
        http.get(request, [HttpResponse(CORRUPT.decode(), 200), HttpResponse("<html>502</html>", 502), HttpResponse(json.dumps(good), 200)])
        output = read_stream("projects", config)
        http.assert_number_of_calls(request, 3)
    assert [r["key"] for r in records_of(output)] == ["A", "B"]
    assert len(sleeps) == 2 and all(s < 3 for s in sleeps)


def test_retries_run_out_into_one_line_naming_endpoint_and_reason(sleeps):
    config = base_config()
    with HttpMocker() as http:
        http.get(HttpRequest(f"{API}/field"), [HttpResponse(CORRUPT.decode(), 200)] * 9)
        output = read_stream("issue_fields", config, expecting_exception=True)
    assert not records_of(output)
    messages = [e.trace.error.message for e in output.errors]
    assert any(f"GET {API}/field: HTTP 200 but the body is not valid JSON" in m for m in messages), messages
    assert len(sleeps) == 8  # max_retries, then it fails (never skips the page)


def test_issue_search_component_retries_a_corrupt_page(sleeps):
    config = base_config()
    jql = window_jql(config, 0, None)
    issue = {"id": "1", "key": "P-1", "fields": {"updated": "2025-01-01T10:00:05.000+0000", "created": "2025-01-01T10:00:05.000+0000",
                                                 "project": {"id": "100", "key": "P"}}}
    with HttpMocker() as http:
        index = HttpRequest(f"{API}/search/jql", body=json.dumps({"jql": jql, "fields": ["id", "key"], "maxResults": 5000}))
        page = HttpRequest(f"{API}/search/jql", body=json.dumps({"jql": jql, "fields": ["*all"], "maxResults": 100}))
        http.post(index, [HttpResponse('{"issues": [{"id": "1"}], "isL', 200), HttpResponse(json.dumps({"issues": [{"id": "1"}], "isLast": True}), 200)])
        http.post(page, [HttpResponse('{"issues": [', 200), HttpResponse(json.dumps({"issues": [issue], "isLast": True}), 200)])
        http.get(HttpRequest(f"{API}/field"), [HttpResponse("\x1f\x8bxx", 200), HttpResponse("[]", 200)])
        catalog = CatalogBuilder().with_stream("issues", SyncMode.incremental).build()
        output = read(SourceJira(catalog=catalog, config=config), config, catalog)
    assert [m.record.data["id"] for m in output.records] == ["1"]
    assert len(sleeps) == 3


# --------------------------------------------------------------------------------------------- output hygiene
def test_rotated_oauth_tokens_are_masked_after_the_control_message():
    from source_jira.run import tidy_messages

    control = json.dumps({"type": "CONTROL", "control": {"type": "CONNECTOR_CONFIG", "emitted_at": 1, "connectorConfig": {
        "config": {"domain": "acme.atlassian.net", "credentials": {"auth_type": "oauth2.0", "client_id": "cid", "client_secret": "cs-SECRET-1",
                                                                   "refresh_token": "rt-ROTATED-2", "access_token": "at-NEW-3"}}}}}, separators=(",", ":"))
    leak = json.dumps({"type": "TRACE", "trace": {"type": "ERROR", "emitted_at": 1, "error": {
        "message": "refresh with rt-ROTATED-2 failed, token at-NEW-3", "internal_message": "cs-SECRET-1", "failure_type": "system_error"}}}, separators=(",", ":"))  # compact, as the CDK prints
    out = list(tidy_messages([control, leak], {}))
    assert out[0] == control  # the platform needs the new config: the CONTROL message itself is untouched
    for secret in ("rt-ROTATED-2", "at-NEW-3", "cs-SECRET-1"):
        assert secret not in out[1]


def test_gave_up_names_endpoint_and_reason_in_one_line():
    from source_jira.run import gave_up

    exhausted = {"message": "Exhausted available request attempts. Please see logs for more details. Exception: POST https://x/rest/api/3/search/jql: HTTP 502 Bad Gateway (HTML body)"}
    assert gave_up(exhausted) == "Gave up after retrying POST https://x/rest/api/3/search/jql: HTTP 502 Bad Gateway (HTML body)"
    rate = {"message": "API rate limit exceeded.", "internal_message": "Rate limit retry budget exhausted. Last exception: GET https://x/rest/api/3/field: HTTP 429 Too Many Requests"}
    assert gave_up(rate) == "Gave up after retrying GET https://x/rest/api/3/field: HTTP 429 Too Many Requests"
