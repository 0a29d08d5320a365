"""Unit tests of the issue family's performance mechanisms (none of them timed; speed is measured by bench/):
the spool keeps payloads as objects within its byte budget and spills the rest to disk; a sync builds only the
streams its catalog selects and bounds the CDK's record queue; the serializer start-up shortcut leaves the protocol
output unchanged."""

from __future__ import annotations

import json
from pathlib import Path

from airbyte_cdk.models import SyncMode
from airbyte_cdk.sources.declarative.concurrent_declarative_source import ConcurrentDeclarativeSource
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import read
from airbyte_cdk.test.mock_http import HttpMocker, HttpRequest, HttpResponse

from source_jira import SourceJira
from source_jira.components.issue_family.session import Spool
from source_jira.cdk_adapter import RECORD_QUEUE_SIZE
from unit_tests.conftest import API, base_config


def test_spool_keeps_objects_within_its_budget_and_spills_the_rest_to_disk():
    spool = Spool(memory_budget=1000)
    first = [{"issueId": "1", "comments": [{"id": "10", "body": "x" * 50}]}]
    second = [{"issueId": "2", "comments": []}]
    kept = spool.put(first, 600)
    spilled = spool.put(second, 600)  # 600 + 600 > 1000: on disk
    assert kept[0] == "mem" and spilled[0] == "disk"
    assert spool.take(kept) is first  # handed over as it is: no copy, no re-parse
    assert spool.take(spilled) == second
    # the budget is free again once taken
    assert spool.put(second, 900)[0] == "mem"


def test_views_of_another_kind_get_one_spooled_copy_of_the_issues_and_make_their_own_part():
    """read_shared `kin`: the fetching view makes the parts of its kin; the others share one spooled copy of the
    page's issues (on disk here: a tiny budget), each makes its part when it takes it, and the last one spends it."""
    from source_jira.components.issue_family.session import SyncSession

    session = SyncSession(["a", "b", "x", "y"], per_issue_threads=1)
    session.spool = Spool(memory_budget=1)
    pages = [{"issues": [{"id": 1}, {"id": 2}]}, {"issues": [{"id": 3}]}]
    fetched = []

    def fetch(previous):
        number = 0 if previous is None else int(previous)
        fetched.append(number)
        return pages[number], 100, (str(number + 1) if number + 1 < len(pages) else None)

    def part_of(kind):
        return lambda page, view: [f"{kind}:{view}:{issue['id']}" for issue in page["issues"]]

    try:
        a = list(session.read_shared("k", "a", {"b", "x", "y"}, fetch, part_of("ab"), "test", kin={"b"}))
        x = list(session.read_shared("k", "x", {"a", "b", "y"}, fetch, part_of("xy"), "test", kin={"y"}))
        b = list(session.read_shared("k", "b", {"a", "x", "y"}, fetch, part_of("ab"), "test", kin={"a"}))
        y = list(session.read_shared("k", "y", {"a", "b", "x"}, fetch, part_of("xy"), "test", kin={"x"}))
        spilled = session.spool._dir
        assert spilled is not None and not list(Path(spilled.name).iterdir())  # spilled, then every copy spent
    finally:
        session.close()
    assert fetched == [0, 1]  # each page once, for every view
    assert a == [["ab:a:1", "ab:a:2"], ["ab:a:3"]] and b == [["ab:b:1", "ab:b:2"], ["ab:b:3"]]
    assert x == [["xy:x:1", "xy:x:2"], ["xy:x:3"]] and y == [["xy:y:1", "xy:y:2"], ["xy:y:3"]]


def test_a_light_part_is_charged_its_own_size_not_the_pages():
    """read_shared `light`: a per-issue stream's part (a few fields per issue) of a big page is charged its own
    weight, so it stays in memory where a part charged the whole page would spill to disk."""
    from source_jira.components.issue_family.session import LIGHT_OVERHEAD, SyncSession

    session = SyncSession(["a", "light", "heavy"], per_issue_threads=1)
    session.spool = Spool(memory_budget=10_000)
    page = {"issues": [{"id": 1}]}
    part = lambda page, view: [{"issueId": "1"}]  # noqa: E731 - 17 bytes of JSON
    try:
        list(session.read_shared("k", "a", {"light", "heavy"}, lambda previous: (page, 9_000, None), part, "test",
                                 light={"light"}))
        tickets = session._shared["k"].pages[0]["tickets"]
        assert tickets["light"][0] == "mem" and tickets["light"][2] == LIGHT_OVERHEAD * 17
        assert tickets["heavy"][0] == "mem" and tickets["heavy"][2] == 9_000
        list(session.read_shared("k2", "a", {"light", "heavy"}, lambda previous: (page, 9_000, None), part, "test",
                                 light={"light"}))
        tickets = session._shared["k2"].pages[0]["tickets"]
        assert tickets["light"][0] == "mem" and tickets["heavy"][0] == "disk"  # the budget holds one page's charge
    finally:
        session.close()


def test_a_sync_builds_only_the_selected_streams_and_bounds_the_record_queue(monkeypatch):
    built = []
    original = ConcurrentDeclarativeSource._create_streams

    def spy(self, selected_configs, all_configs):
        built.append([c.get("name") for c in selected_configs])
        return original(self, selected_configs, all_configs)

    monkeypatch.setattr(ConcurrentDeclarativeSource, "_create_streams", spy)
    config = base_config()
    catalog = CatalogBuilder().with_stream("myself", SyncMode.full_refresh).build()
    source = SourceJira(catalog=catalog, config=config, state=None)
    assert source._concurrent_source._queue.maxsize == RECORD_QUEUE_SIZE
    me = {"accountId": "acc-1", "displayName": "Me", "emailAddress": None, "active": True, "timeZone": "UTC"}
    with HttpMocker() as http:
        http.get(HttpRequest(f"{API}/myself"), HttpResponse(json.dumps(me), 200))
        output = read(source, config, catalog)
    assert [r.record.data["accountId"] for r in output.records] == ["acc-1"]
    assert built == [["myself"]]  # not the 66 streams of the manifest


_MESSAGES = """
from airbyte_cdk.models import (AirbyteMessage, AirbyteMessageSerializer, AirbyteRecordMessage, AirbyteStateBlob,
    AirbyteStateMessage, AirbyteStateType, AirbyteStreamState, StreamDescriptor, Type)
import orjson
messages = [
    AirbyteMessage(type=Type.RECORD, record=AirbyteRecordMessage(stream="issues", data={"id": "1", "n": None, "f": {"x": None, "l": [1, None]}}, emitted_at=1)),
    AirbyteMessage(type=Type.STATE, state=AirbyteStateMessage(type=AirbyteStateType.STREAM, stream=AirbyteStreamState(
        stream_descriptor=StreamDescriptor(name="issues"), stream_state=AirbyteStateBlob(updated="1700000000000")))),
]
OUT = b"\\n".join(orjson.dumps(AirbyteMessageSerializer.dump(m)) for m in messages)
"""


def test_serializer_output_is_unchanged_by_the_start_up_shortcut():
    """source_jira._runtime makes serpyco-rs skip field docstrings: the protocol output must be byte for byte what
    the CDK's serializers give when built the usual way (a fresh interpreter that imports airbyte_cdk first)."""
    import subprocess
    import sys

    import source_jira._runtime  # noqa: F401  (already imported with source_jira: the shortcut is active here)

    scope: dict = {}
    exec(_MESSAGES, scope)
    usual = subprocess.run([sys.executable, "-c", _MESSAGES + "\nimport sys; sys.stdout.buffer.write(OUT)"],
                           capture_output=True, check=True).stdout
    assert scope["OUT"] == usual
