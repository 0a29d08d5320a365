"""Unit tests of the issue family's performance mechanisms (none of them timed; speed is measured by bench/):
the spool keeps payloads as objects within its byte budget and spills the rest to disk; a sync builds only the
streams its catalog selects and bounds the CDK's record queue; the serializer start-up shortcut leaves the protocol
output unchanged."""

from __future__ import annotations

import json

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
