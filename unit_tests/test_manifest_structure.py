"""The manifest's shape, so a newcomer can read it (issue 14): `definitions.streams` holds the streams and nothing else,
each listed once at the top level; a stream states its request path once; a stream that names the permission it
needs is really skipped on a 403 (it uses error_handler_optional)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from airbyte_cdk.sources.declarative.parsers.manifest_reference_resolver import ManifestReferenceResolver

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def manifest() -> dict:
    return yaml.safe_load((ROOT / "manifest.yaml").read_text())


@pytest.fixture(scope="module")
def resolved(manifest) -> dict:
    return ManifestReferenceResolver().preprocess_manifest(manifest)


def test_definitions_streams_holds_exactly_the_listed_streams(manifest, resolved):
    listed = [entry["$ref"] for entry in manifest["streams"]]
    assert all(ref.startswith("#/definitions/streams/") for ref in listed), listed
    names = [ref.rsplit("/", 1)[-1] for ref in listed]
    assert len(names) == len(set(names))
    # building blocks (templates, error handlers, cursors) live elsewhere in `definitions`, not among the streams
    assert set(manifest["definitions"]["streams"]) == set(names)
    for key, stream in resolved["definitions"]["streams"].items():
        assert stream.get("name") == key, f"definitions.streams.{key} is named {stream.get('name')!r}"


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
