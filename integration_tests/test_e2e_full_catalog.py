"""One full read of every discovered stream with the real `source-jira` command against the fake Jira Cloud:
each stream's primary keys equal the fake's ground truth exactly (nothing missing, extra or duplicated) and
every record is valid against the discovered schema. A new stream cannot slip in without a ground truth."""

from __future__ import annotations

import copy
import re

import pytest

from integration_tests.conftest import (
    assert_ids_equal_ground_truth,
    assert_valid_against_schemas,
    configured_catalog,
    run_connector,
)


@pytest.fixture(scope="module")
def full_read(fake_jira):
    config = fake_jira.config()
    discovered = run_connector("discover", config=config, ca_path=fake_jira.ca_path).catalog()
    assert discovered, "discover gave no catalog"
    catalog = configured_catalog(discovered, incremental=False)
    result = run_connector("read", config=config, catalog=catalog, ca_path=fake_jira.ca_path)
    return discovered, result


def test_full_read_exits_cleanly_with_protocol_only_stdout(full_read):
    _, result = full_read
    assert result.returncode == 0, result.errors() or result.stderr[-2000:]
    assert not result.errors()


def test_every_stream_equals_ground_truth(full_read, fake_jira):
    discovered, result = full_read
    by_stream = result.records_by_stream()
    names = [s["name"] for s in discovered["streams"]]
    known = set(fake_jira.streams())
    assert not set(names) - known, f"streams without ground truth in the fake: {sorted(set(names) - known)}"
    for name in names:
        assert_ids_equal_ground_truth(name, by_stream.get(name, []), fake_jira)


RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def _date_time_paths(schema, path=()):
    """The paths a schema declares `format: date-time` (objects by key, arrays as '*')."""
    if not isinstance(schema, dict):
        return []
    found = [path] if schema.get("format") == "date-time" else []
    for key, sub in (schema.get("properties") or {}).items():
        found += _date_time_paths(sub, path + (key,))
    if isinstance(schema.get("items"), dict):
        found += _date_time_paths(schema["items"], path + ("*",))
    return found


def _values_at(value, path):
    if not path:
        yield value
    elif path[0] == "*":
        for item in value if isinstance(value, list) else []:
            yield from _values_at(item, path[1:])
    elif isinstance(value, dict) and path[0] in value:
        yield from _values_at(value[path[0]], path[1:])


def test_every_declared_date_time_is_rfc3339(full_read):
    """A destination reads `format: date-time` as RFC 3339: Jira's `-0700` offsets would land as local clock time."""
    discovered, result = full_read
    by_stream = result.records_by_stream()
    checked, wrong = 0, {}
    for stream in discovered["streams"]:
        for path in _date_time_paths(stream["json_schema"]):
            for record in by_stream.get(stream["name"], []):
                for value in _values_at(record, path):
                    if value is None:
                        continue
                    checked += 1
                    if not (isinstance(value, str) and RFC3339.match(value)):
                        wrong.setdefault(f"{stream['name']}.{'.'.join(path)}", value)
    assert checked > 1000, checked
    assert not wrong, f"date-time values that are not RFC 3339: {wrong}"


def test_every_record_matches_its_schema(full_read):
    discovered, result = full_read
    assert_valid_against_schemas(discovered, result.records_by_stream())


def test_every_stream_declares_the_primary_key_of_the_ground_truth(full_read, fake_jira):
    """What is really unique (e.g. boardId+issueId for board_issues, not the issue id alone)."""
    discovered, _ = full_read
    wrong = {}
    for stream in discovered["streams"]:
        declared = [path[0] for path in stream.get("source_defined_primary_key") or []]
        if declared != fake_jira.ground_truth_pk(stream["name"]):
            wrong[stream["name"]] = (declared, fake_jira.ground_truth_pk(stream["name"]))
    assert not wrong, wrong


# --- the comparison itself must fail on a broken read --------------------------------------------------------
def test_comparison_fails_on_a_missing_record(full_read, fake_jira):
    _, result = full_read
    records = result.records("issues")[1:]
    with pytest.raises(AssertionError, match="1 missing"):
        assert_ids_equal_ground_truth("issues", records, fake_jira)


def test_comparison_fails_on_a_duplicated_record(full_read, fake_jira):
    _, result = full_read
    records = result.records("issues")
    with pytest.raises(AssertionError, match="duplicate PKs"):
        assert_ids_equal_ground_truth("issues", records + records[:1], fake_jira)


def test_comparison_fails_on_an_extra_record(full_read, fake_jira):
    _, result = full_read
    records = result.records("projects")
    bogus = dict(records[0], id="999999")
    with pytest.raises(AssertionError, match="1 extra"):
        assert_ids_equal_ground_truth("projects", records + [bogus], fake_jira)


def test_schema_check_fails_on_an_off_schema_record(full_read):
    discovered, result = full_read
    records = copy.deepcopy(result.records("projects"))
    records[0]["id"] = {"not": "a string"}
    with pytest.raises(AssertionError, match="off-schema"):
        assert_valid_against_schemas(discovered, {"projects": records})
