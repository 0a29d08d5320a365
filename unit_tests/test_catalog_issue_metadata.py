"""Unit tests of the issue-metadata catalog: custom-field contexts and options, link types, labels, schemes."""

from __future__ import annotations

from airbyte_cdk.test.mock_http import HttpMocker

from unit_tests.catalog_helpers import assert_unique_pk, get, page
from unit_tests.conftest import assert_records_match_schema, base_config, read_stream, records_of

_CF = "com.atlassian.jira.plugin.system.customfieldtypes:"
FIELDS = [
    {"id": "summary", "name": "Summary", "custom": False, "schema": {"type": "string", "system": "summary"}},
    {"id": "issuekey", "name": "Key", "custom": False},  # no schema at all
    {"id": "customfield_10016", "name": "Story Points", "custom": True, "schema": {"type": "number", "custom": _CF + "float", "customId": 10016}},
    {"id": "customfield_10030", "name": "Team", "custom": True, "schema": {"type": "option", "custom": _CF + "select", "customId": 10030}},
    {"id": "customfield_10031", "name": "Areas", "custom": True, "schema": {"type": "array", "items": "option", "custom": _CF + "multiselect", "customId": 10031}},
    {"id": "customfield_10040", "name": "Region", "custom": True, "schema": {"type": "option-with-child", "custom": _CF + "cascadingselect", "customId": 10040}},
    {"id": "customfield_10050", "name": "Broken", "custom": True, "schema": None},
]


def _context(cid: str, name: str, global_: bool = True) -> dict:
    return {"id": cid, "name": name, "description": None, "isGlobalContext": global_, "isAnyIssueType": True}


def test_custom_field_contexts_of_custom_fields_only_keyed_by_field():
    config = base_config()
    with HttpMocker() as http:
        get(http, "field", FIELDS)
        # Jira's context ids repeat across fields in real sites' default contexts: the PK includes fieldId.
        get(http, "field/customfield_10016/context", page([_context("10100", "Default")]), maxResults="50")
        get(http, "field/customfield_10030/context", page([_context("10100", "Default"), _context("10200", "SEC only", False)], is_last=False, max_results=2, total=3), maxResults="50")
        get(http, "field/customfield_10030/context", page([_context("10201", "Ops only", False)], start=2, max_results=2, total=3), maxResults="50", startAt="2")
        get(http, "field/customfield_10031/context", page([_context("10101", "Default")]), maxResults="50")
        get(http, "field/customfield_10040/context", page([_context("10102", "Default")]), maxResults="50")
        get(http, "field/customfield_10050/context", page([]), maxResults="50")
        records = records_of(read_stream("issue_custom_field_contexts", config))
    assert sorted((r["fieldId"], r["id"]) for r in records) == [
        ("customfield_10016", "10100"), ("customfield_10030", "10100"), ("customfield_10030", "10200"),
        ("customfield_10030", "10201"), ("customfield_10031", "10101"), ("customfield_10040", "10102")]
    assert {r["fieldType"] for r in records if r["fieldId"] == "customfield_10030"} == {"option"}
    assert_unique_pk(records, ["fieldId", "id"])
    assert_records_match_schema("issue_custom_field_contexts", records, config)


def test_custom_field_options_only_for_option_fields_keyed_by_field_and_context():
    config = base_config()
    with HttpMocker() as http:
        get(http, "field", FIELDS)
        get(http, "field/customfield_10030/context", page([_context("10100", "Default"), _context("10200", "SEC only", False)]), maxResults="50")
        get(http, "field/customfield_10031/context", page([_context("10101", "Default")]), maxResults="50")
        get(http, "field/customfield_10040/context", page([_context("10102", "Default")]), maxResults="50")
        get(http, "field/customfield_10030/context/10100/option", page([{"id": "1", "value": "Platform", "disabled": False}, {"id": "2", "value": "Mobile", "disabled": True}]), maxResults="50")
        get(http, "field/customfield_10030/context/10200/option", page([{"id": "3", "value": "Critical", "disabled": False}]), maxResults="50")
        get(http, "field/customfield_10031/context/10101/option", page([{"id": "1", "value": "API", "disabled": False}]), maxResults="50")
        get(http, "field/customfield_10040/context/10102/option", page([{"id": "7", "value": "EMEA", "disabled": False},
                                                                      {"id": "8", "value": "Berlin", "disabled": False, "optionId": "7"}]), maxResults="50")
        records = records_of(read_stream("issue_custom_field_options", config))
    assert sorted((r["fieldId"], r["contextId"], r["id"]) for r in records) == [
        ("customfield_10030", "10100", "1"), ("customfield_10030", "10100", "2"), ("customfield_10030", "10200", "3"),
        ("customfield_10031", "10101", "1"), ("customfield_10040", "10102", "7"), ("customfield_10040", "10102", "8")]
    assert_unique_pk(records, ["fieldId", "contextId", "id"])
    assert_records_match_schema("issue_custom_field_options", records, config)


def test_issue_link_types():
    config = base_config()
    with HttpMocker() as http:
        get(http, "issueLinkType", {"issueLinkTypes": [{"id": "10000", "name": "Blocks", "inward": "is blocked by", "outward": "blocks", "self": "x"},
                                                       {"id": "10003", "name": "Relates", "inward": "relates to", "outward": "relates to", "self": "y"}]})
        records = records_of(read_stream("issue_link_types", config))
    assert [r["id"] for r in records] == ["10000", "10003"]
    assert_records_match_schema("issue_link_types", records, config)


def test_labels_become_records_across_pages():
    config = base_config()
    with HttpMocker() as http:
        get(http, "label", {"startAt": 0, "maxResults": 2, "total": 3, "isLast": False, "values": ["backend", "frontend"]}, maxResults="50")
        get(http, "label", {"startAt": 2, "maxResults": 2, "total": 3, "isLast": True, "values": ["ux"]}, maxResults="50", startAt="2")
        records = records_of(read_stream("labels", config))
    assert records == [{"label": "backend"}, {"label": "frontend"}, {"label": "ux"}]
    assert_records_match_schema("labels", records, config)


def test_issue_security_schemes():
    config = base_config()
    with HttpMocker() as http:
        get(http, "issuesecurityschemes", {"issueSecuritySchemes": [{"id": 10000, "name": "SEC", "description": None, "defaultSecurityLevelId": 10100,
                                                                     "self": "x", "levels": [{"id": "10100", "name": "Staff", "description": ""}]}]})
        records = records_of(read_stream("issue_security_schemes", config))
    assert [r["id"] for r in records] == [10000]
    assert_records_match_schema("issue_security_schemes", records, config)


def test_paged_scheme_streams():
    config = base_config()
    cases = {
        "issue_type_schemes": ("issuetypescheme", [{"id": "10000", "name": "Default Issue Type Scheme", "isDefault": True, "defaultIssueTypeId": None},
                                                   {"id": "10001", "name": "ALPHA scheme", "description": None, "defaultIssueTypeId": "10001"}]),
        "issue_type_screen_schemes": ("issuetypescreenscheme", [{"id": "1", "name": "Default", "description": None}]),
        "issue_field_configurations": ("fieldconfiguration", [{"id": 10000, "name": "Default Field Configuration", "description": "", "isDefault": True},
                                                             {"id": 10001, "name": "ALPHA fields", "description": None}]),
    }
    for stream, (path, values) in cases.items():
        with HttpMocker() as http:
            get(http, path, page(values[:1], is_last=len(values) == 1, max_results=1, total=len(values)), maxResults="50")
            if len(values) > 1:
                get(http, path, page(values[1:], start=1, max_results=1, total=len(values)), maxResults="50", startAt="1")
            records = records_of(read_stream(stream, config))
        assert [r["id"] for r in records] == [v["id"] for v in values], stream
        assert_records_match_schema(stream, records, config)
