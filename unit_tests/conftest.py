"""Shared helpers for unit tests: a source built the way `source-jira` builds it (config/catalog/state given to
the constructor), reads through the CDK's entrypoint_wrapper, and records validated against the stream's schema."""

from __future__ import annotations

import json
from typing import Any, Iterable, List, Mapping, Optional, Tuple

import jsonschema
import pytest
from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import EntrypointOutput, discover, read
from airbyte_cdk.test.state_builder import StateBuilder

from source_jira import SourceJira

SITE = "https://acme.atlassian.net"
API = f"{SITE}/rest/api/3"
AGILE = f"{SITE}/rest/agile/1.0"


def base_config(**overrides: Any) -> dict:
    config = {
        "domain": "acme.atlassian.net",
        "credentials": {"auth_type": "api_token", "email": "ana@acme.com", "api_token": "s3cr3t-token"},
        "num_workers": 2,
    }
    config.update(overrides)
    return config


@pytest.fixture
def config() -> dict:
    return base_config()


def catalog_for(*streams: str, sync_mode: SyncMode = SyncMode.full_refresh):
    builder = CatalogBuilder()
    for name in streams:
        builder.with_stream(name, sync_mode)
    return builder.build()


def read_stream(
    stream: str,
    config: Mapping[str, Any],
    sync_mode: SyncMode = SyncMode.full_refresh,
    state: Optional[list] = None,
    expecting_exception: bool = False,
) -> EntrypointOutput:
    catalog = catalog_for(stream, sync_mode=sync_mode)
    source = SourceJira(catalog=catalog, config=config, state=state)
    return read(source, config, catalog, state, expecting_exception=expecting_exception)


def stream_state(stream: str, value: Mapping[str, Any]) -> list:
    return StateBuilder().with_stream_state(stream, value).build()


def schema_of(stream: str, config: Mapping[str, Any]) -> Mapping[str, Any]:
    output = discover(SourceJira(config=config), config)
    for entry in output.catalog.catalog.streams:
        if entry.name == stream:
            return entry.json_schema
    raise KeyError(stream)


def assert_records_match_schema(stream: str, records: Iterable[Mapping[str, Any]], config: Mapping[str, Any]) -> None:
    validator = jsonschema.Draft7Validator(schema_of(stream, config))
    for record in records:
        errors = list(validator.iter_errors(record))
        assert not errors, f"{stream} record off-schema: {errors[0].message} in {json.dumps(record)[:300]}"


def records_of(output: EntrypointOutput) -> List[dict]:
    return [message.record.data for message in output.records]


def manifest_stream_refs(manifest: Mapping[str, Any]) -> "List[Tuple[str, str]]":
    """`(deployment, $ref)` of every entry of the manifest's `streams:` list: `both` for the plain entries, `cloud` and
    `datacenter` for those of its ConditionalStreams (the Cloud and Data Center forms)."""
    refs = []
    for entry in manifest["streams"]:
        if entry.get("type") == "ConditionalStreams":
            where = "datacenter" if "== 'datacenter'" in entry["condition"] else "cloud"
            refs += [(where, item["$ref"]) for item in entry["streams"]]
        else:
            refs.append(("both", entry["$ref"]))
    return refs
