"""The adapters to private library names (source_jira/serpyco_adapter.py, source_jira/cdk_adapter.py): each checks
the library's shape before use and says what differs; the pins themselves are tested in test_packaging.py."""

from __future__ import annotations

import sys

import pytest

from source_jira import serpyco_adapter


def test_the_serpyco_shortcut_is_left_out_with_one_line_when_the_shape_differs(monkeypatch, capsys):
    lookups = serpyco_adapter._DOC_LOOKUPS
    for name in lookups:
        monkeypatch.setattr(sys.modules[name], "get_attributes_doc", len)  # stands for serpyco-rs's own lookup
    monkeypatch.setattr(serpyco_adapter, "PINNED_SERPYCO", "0.0.1")
    monkeypatch.setattr(serpyco_adapter, "_DOC_LOOKUPS", lookups + ("serpyco_rs._no_such_module",))
    assert serpyco_adapter.skip_attribute_docs() is False
    said = capsys.readouterr().err
    assert said.count("\n") == 1 and "(0.0.1)" in said and "version 1.23.0" in said and "serpyco_rs._no_such_module" in said
    assert all(sys.modules[name].get_attributes_doc is len for name in lookups), "nothing is replaced on another shape"
    assert not serpyco_adapter.attribute_docs_skipped()


# --------------------------------------------------------------------------------------------- the CDK's output
def _real_give_up(status: int, caplog, monkeypatch):
    """The CDK's own HttpClient, with this connector's retry policy, giving up on an answer that is always `status`."""
    import logging

    import requests_mock
    from airbyte_cdk.sources.streams.http import HttpClient
    from airbyte_cdk.sources.streams.http.rate_limiting import time as cdk_time
    from airbyte_cdk.utils.traced_exception import AirbyteTracedException

    from source_jira.components.reliability import JiraBackoff
    from unit_tests.test_reliability_policy import _handler

    monkeypatch.setattr(cdk_time, "sleep", lambda seconds: None)
    handler = _handler()
    handler.cap_retries(1)
    client = HttpClient(name="fields", logger=logging.getLogger("airbyte"), error_handler=handler,
                        backoff_strategy=JiraBackoff(config={}, parameters={}, base_seconds=0.001))
    with requests_mock.Mocker() as mock, caplog.at_level(logging.INFO, logger="airbyte"):
        mock.get("https://x.atlassian.net/rest/api/3/field", status_code=status, text="<html>busy</html>", headers={"Content-Type": "text/html"})
        with pytest.raises(AirbyteTracedException) as caught:
            client.send_request("GET", "https://x.atlassian.net/rest/api/3/field", request_kwargs={})
    return caught.value


@pytest.mark.parametrize("status, said", [(502, "HTTP 502 Bad Gateway (HTML body)"), (429, "HTTP 429 Too Many Requests (HTML body)")])
def test_the_cdks_give_up_is_read_back_as_endpoint_and_reason(status, said, caplog, monkeypatch):
    from source_jira import cdk_adapter
    from source_jira.run import gave_up

    error = _real_give_up(status, caplog, monkeypatch)
    reason = cdk_adapter.gave_up_reason(error.message, error.internal_message)
    assert reason == f"GET https://x.atlassian.net/rest/api/3/field: {said}", (error.message, error.internal_message)
    assert gave_up({"message": error.message, "internal_message": error.internal_message}) == f"Gave up after retrying {reason}"
    cdk_retry_lines = [r for r in caplog.records if "Rate limit exceeded" in r.getMessage()]
    assert cdk_retry_lines and all(cdk_adapter.is_retry_line(r) for r in cdk_retry_lines)
    assert not any(cdk_adapter.is_retry_line(r) for r in caplog.records if r.getMessage().startswith("Retrying in"))


def test_the_cdks_request_failed_line_is_cut_before_the_answer(caplog, monkeypatch):
    from source_jira import cdk_adapter

    _real_give_up(404, caplog, monkeypatch)
    echoes = [r.getMessage() for r in caplog.records if "busy" in r.getMessage()]
    assert echoes, "the CDK quotes the answer in its 'request failed' line"
    assert all(cdk_adapter.without_body_echo(text) == text.split("' failed with status code '404'")[0] + "' failed with status code '404'."
               for text in echoes)
    assert cdk_adapter.without_body_echo("Retrying in 1.0 s (attempt 1): GET https://x/…: HTTP 502") is None


def test_the_entrypoints_messages_are_told_apart_without_parsing():
    from airbyte_cdk.entrypoint import AirbyteEntrypoint
    from airbyte_cdk.models import AirbyteMessage, AirbyteRecordMessage, Type

    from source_jira import cdk_adapter

    for kind, sample in cdk_adapter._SAMPLES.items():
        assert cdk_adapter.watched_type(AirbyteEntrypoint.airbyte_message_to_string(sample)) == kind.value
    record = AirbyteMessage(type=Type.RECORD, record=AirbyteRecordMessage(stream="issues", data={"type": "LOG"}, emitted_at=1))
    assert cdk_adapter.watched_type(AirbyteEntrypoint.airbyte_message_to_string(record)) is None


def test_the_cdks_summary_error_is_recognised():
    from airbyte_cdk.exception_handler import generate_failed_streams_error_message

    from source_jira import cdk_adapter

    assert cdk_adapter.is_summary(generate_failed_streams_error_message({"issues": [ValueError("boom")]}))
    assert not cdk_adapter.is_summary("Gave up after retrying GET https://x: HTTP 502")


def test_a_cdk_that_says_its_texts_otherwise_fails_the_shape_check(monkeypatch):
    from source_jira import cdk_adapter

    assert cdk_adapter.output_problems() == ()
    monkeypatch.setattr(cdk_adapter, "_TEXTS_IN_SOURCE", {**cdk_adapter._TEXTS_IN_SOURCE, cdk_adapter._HTTP_CLIENT: ("Retries ran out: ",)})
    monkeypatch.setattr(cdk_adapter, "_PREFIXES", {**cdk_adapter._PREFIXES, "LOG": '{"log":{},"type":"LOG"'})
    cdk_adapter.output_problems.cache_clear()
    try:
        problems = cdk_adapter.output_problems()
    finally:
        cdk_adapter.output_problems.cache_clear()
    assert problems == ("AirbyteEntrypoint.airbyte_message_to_string writing a LOG message type first",
                        f"'Retries ran out: ' in {cdk_adapter._HTTP_CLIENT}")


# --------------------------------------------------------------------------------------------- fast cursor values
def test_the_fast_cursor_parser_gives_what_strptime_gives():
    """FastDatetimeParser parses the texts its pattern matches to the very datetime (instant and offset) the CDK's
    strptime-based parse gives, refuses what strptime refuses, and hands everything else to the CDK."""
    import random

    from airbyte_cdk.sources.declarative.datetime.datetime_parser import DatetimeParser

    from source_jira.cdk_adapter import FastDatetimeParser

    fast, slow, rng = FastDatetimeParser(), DatetimeParser(), random.Random(7)
    texts = []
    for _ in range(3000):
        base = f"{rng.randint(1970, 2099):04d}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T" \
               f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}"
        fraction = rng.choice(["", "." + str(rng.randint(0, 999)).zfill(3), "." + str(rng.randint(0, 999999)).zfill(6), ".5"])
        offset = rng.choice(["Z", "+0000", "-0000", "+0530", "-0800", "+05:45", "-03:30", "+1400"])
        texts.append(base + fraction + offset)
    texts += ["2024-02-30T10:00:00.000+0000", "2024-13-01T10:00:00.000+0000", "2024-3-01T10:00:00.000+0000",
              "2024-03-01 10:00:00.000+0000", "2024-03-01T10:00:00.0000000+0000", "2024-03-01T10:00:00.000+00",
              "2024-03-01T24:00:00.000+0000", "2024-03-01T10:00:00.000+0000 ", "١٩٧٠-01-01T00:00:00.000+0000",
              "1700000000000", "0", "20240301100000", 1700000000000, "١٧٠٠٠٠٠٠٠٠٠٠٠"]
    for fmt in FastDatetimeParser.FORMATS:
        for text in texts:
            try:
                expected = slow.parse(text, fmt)
            except ValueError:
                with pytest.raises(ValueError):
                    fast.parse(text, fmt)
                continue
            got = fast.parse(text, fmt)
            assert got == expected and got.utcoffset() == expected.utcoffset(), (fmt, text)
    assert fast.parse("1700000000000", "%ms") == slow.parse("1700000000000", "%ms")


def test_every_datetime_cursor_of_a_built_stream_parses_fast():
    """The issue-family, declarative and per-partition (agile) cursors, and the cursors a per-partition cursor makes
    for its partitions."""
    from airbyte_cdk.sources.streams.concurrent.state_converters.datetime_stream_state_converter import (
        CustomFormatConcurrentStreamStateConverter,
    )

    from source_jira import cdk_adapter
    from source_jira.source import SourceJira
    from unit_tests.conftest import base_config

    source = SourceJira(config=base_config())
    streams = cdk_adapter.streams_by_name(source, ["issues", "issue_comments", "sprints", "sprint_issues", "audit_records"])
    converters = cdk_adapter.components_in(streams, lambda o: isinstance(o, CustomFormatConcurrentStreamStateConverter))
    assert len(converters) >= 4  # sprints has no cursor
    assert all(isinstance(c._parser, cdk_adapter.FastDatetimeParser) for c in converters)
    per_partition = cdk_adapter.components_in(streams, lambda o: isinstance(o, cdk_adapter.ConcurrentPerPartitionCursor))
    assert per_partition
    made = per_partition[0]._cursor_factory.create(stream_state={}, runtime_lookback_window=None)
    assert isinstance(made._connector_state_converter._parser, cdk_adapter.FastDatetimeParser)


# --------------------------------------------------------------------------------------------- per-request work once
def test_a_window_slice_hashes_and_compares_as_the_stream_slice_it_stands_for():
    from airbyte_cdk.sources.types import StreamSlice

    from source_jira.components.issue_family.windows import Window, WindowSlice

    window = Window(start=1_700_000_000_000, end=1_700_000_600_000, first=0, stop=500, query_lower=1_700_000_000_000,
                    query_upper=1_700_000_600_000, index_lower=0, index_upper=None, sync_lower=0)
    made = window.to_slice()
    plain = StreamSlice(partition={}, cursor_slice=dict(made.cursor_slice))
    assert isinstance(made, WindowSlice)
    assert hash(made) == hash(plain) == hash(made) and made == plain
    assert {plain: 1}[made] == 1


def test_the_basic_auth_header_is_worked_out_once_per_authenticator(monkeypatch):
    import base64

    from airbyte_cdk.sources.declarative.auth.token import BasicHttpAuthenticator
    from airbyte_cdk.sources.declarative.interpolation.interpolated_string import InterpolatedString

    from source_jira import cdk_adapter
    from source_jira.source import SourceJira
    from unit_tests.conftest import base_config

    config = base_config()
    source = SourceJira(config=config)
    streams = cdk_adapter.streams_by_name(source, ["issues", "projects", "sprint_issues"])
    authenticators = cdk_adapter.components_in(streams, lambda o: isinstance(o, BasicHttpAuthenticator))
    assert authenticators and all(type(a) is cdk_adapter.OnceBasicHttpAuthenticator for a in authenticators)
    renders = []
    original = InterpolatedString.eval
    monkeypatch.setattr(InterpolatedString, "eval", lambda self, *a, **k: renders.append(1) or original(self, *a, **k))
    credentials = config["credentials"]
    expected = "Basic " + base64.b64encode(f"{credentials['email']}:{credentials['api_token']}".encode()).decode()
    assert [authenticators[0].token for _ in range(3)] == [expected] * 3
    assert len(renders) == 2  # user and password, once


def test_the_environment_s_proxies_are_worked_out_once_per_origin_and_handed_out_as_copies(monkeypatch):
    import requests

    from source_jira import cdk_adapter

    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "internal.example")
    session = requests.Session()
    calls = []
    original = session.merge_environment_settings
    session.merge_environment_settings = lambda *a: calls.append(a) or original(*a)
    cdk_adapter.remember_environment_settings(session)
    first = session.merge_environment_settings("https://acme.atlassian.net/rest/api/3/myself", {}, None, None, None)
    assert first["proxies"]["https"] == "http://proxy.example:3128"
    first["proxies"]["https"] = "changed"
    again = session.merge_environment_settings("https://acme.atlassian.net/rest/api/3/field", {}, None, None, None)
    assert again["proxies"]["https"] == "http://proxy.example:3128" and len(calls) == 1
    bypassed = session.merge_environment_settings("https://internal.example/rest/api/2/myself", {}, None, None, None)
    assert "https" not in bypassed["proxies"] and len(calls) == 2
