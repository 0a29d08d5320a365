"""The manifest's shape, so a newcomer can read it (issue 14): `definitions.streams` holds the streams and nothing else,
each listed once at the top level; a stream states its request path once; a stream that names the permission it
needs is really skipped on a 403 (it uses error_handler_optional)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from airbyte_cdk.sources.declarative.parsers.manifest_reference_resolver import ManifestReferenceResolver

from unit_tests.conftest import manifest_stream_refs

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def manifest() -> dict:
    return yaml.safe_load((ROOT / "manifest.yaml").read_text())


@pytest.fixture(scope="module")
def resolved(manifest) -> dict:
    return ManifestReferenceResolver().preprocess_manifest(manifest)


def test_definitions_streams_holds_exactly_the_listed_streams(manifest, resolved):
    listed = manifest_stream_refs(manifest)
    home = {"both": "#/definitions/streams/", "cloud": "#/definitions/streams/", "datacenter": "#/definitions/streams_datacenter/"}
    assert all(ref.startswith(home[where]) for where, ref in listed), listed
    names = {where: [ref.rsplit("/", 1)[-1] for w, ref in listed if w == where] for where in home}
    for where in ("cloud", "datacenter"):  # each deployment offers a stream once
        offered = names["both"] + names[where]
        assert len(offered) == len(set(offered)), where
    # a Data Center form replaces a Cloud form of the same name; building blocks live elsewhere in `definitions`
    assert set(names["datacenter"]) <= set(names["cloud"])
    assert set(manifest["definitions"]["streams"]) == set(names["both"] + names["cloud"])
    assert set(manifest["definitions"]["streams_datacenter"]) == set(names["datacenter"])
    for group in ("streams", "streams_datacenter"):
        for key, stream in resolved["definitions"][group].items():
            assert stream.get("name") == key, f"definitions.{group}.{key} is named {stream.get('name')!r}"


def test_every_stream_states_its_path_once(manifest):
    twice = [
        name
        for name, stream in manifest["definitions"]["streams"].items()
        if isinstance(stream, dict)
        and "path" in (stream.get("$parameters") or {}) and "path" in ((stream.get("retriever") or {}).get("requester") or {})
    ]
    assert not twice, f"streams with both $parameters.path and retriever.requester.path: {twice}"


def test_streams_naming_a_permission_are_skipped_on_403(resolved):
    missing = []
    for name, stream in resolved["definitions"]["streams"].items():
        if not isinstance(stream, dict):
            continue
        retriever = stream.get("retriever") or {}
        if "permission" not in (stream.get("$parameters") or {}) or retriever.get("type", "SimpleRetriever") != "SimpleRetriever":
            continue
        handler = (retriever.get("requester") or {}).get("error_handler") or {}
        if handler.get("class_name") != "source_jira.components.catalog.SkipForbiddenStream":
            missing.append(name)
    assert not missing, f"streams with $parameters.permission but without error_handler_optional: {missing}"


def _walk(node, found):
    if isinstance(node, dict):
        retriever = node.get("retriever")
        if isinstance(retriever, dict):
            inner = ((retriever.get("paginator") or {}).get("pagination_strategy") or {}).get("inner") or {}
            if "isLast" in str(inner.get("stop_condition", "")) and "startAt" in str(inner.get("stop_condition", "")):
                found.append((node.get("name"), ((retriever.get("record_selector") or {}).get("extractor") or {}).get("field_path")))
        for value in node.values():
            _walk(value, found)
    elif isinstance(node, list):
        for value in node:
            _walk(value, found)


def test_offset_pages_count_the_list_jira_sent(resolved):
    """The startAt paginator counts a page by the list Jira sent (a record filter may keep none of it); it knows the
    lists `values`, `issues`, `dashboards` and `schemes`. A stream on it whose records sit elsewhere would end after
    its first page."""
    found = []
    _walk(resolved, found)
    stop = resolved["definitions"]["startat_paginator"]["pagination_strategy"]["inner"]["stop_condition"]
    assert found
    for name, field_path in found:
        assert field_path and len(field_path) == 1 and f"'{field_path[0]}'" in stop, (name, field_path)
