"""Unit tests of the configuration catalog: workflows, schemes, screens and their tabs/fields, filters and sharing,
dashboards, site settings, and the incremental audit log."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import requests_mock
from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.mock_http import HttpMocker

from unit_tests.catalog_helpers import assert_unique_pk, get, page, user
from unit_tests.conftest import API, assert_records_match_schema, base_config, read_stream, records_of, stream_state


def test_workflows_from_the_new_search_endpoint():
    config = base_config()
    wf = {"id": "6a1b-uuid", "name": "jira", "description": "The default", "version": {"id": "v1", "versionNumber": 3},
          "scope": {"type": "GLOBAL"}, "statuses": [{"statusReference": "10000", "properties": {}, "deprecated": False}],
          "transitions": [{"id": "11", "name": "To Do", "type": "GLOBAL", "toStatusReference": "10000", "links": []}],
          "isEditable": True, "created": "2024-01-02T10:00:00.000-0800", "updated": None}
    with HttpMocker() as http:
        get(http, "workflows/search", page([wf], is_last=False, max_results=1, total=2), expand="values.transitions", maxResults="50")
        get(http, "workflows/search", page([dict(wf, id="7c2d-uuid", name="ALPHA workflow", scope={"type": "PROJECT", "project": {"id": "10000"}})],
                                           start=1, max_results=1, total=2), expand="values.transitions", maxResults="50", startAt="1")
        records = records_of(read_stream("workflows", config))
    assert [r["id"] for r in records] == ["6a1b-uuid", "7c2d-uuid"]
    assert_records_match_schema("workflows", records, config)


def test_scheme_streams():
    config = base_config()
    cases = {
        "workflow_schemes": ("workflowscheme", {}, [{"id": 10000, "name": "Default Workflow Scheme", "defaultWorkflow": "jira", "issueTypeMappings": {}, "description": None}]),
        "issue_notification_schemes": ("notificationscheme", {"expand": "all"}, [{"id": 10000, "name": "Default Notification Scheme", "description": None,
            "notificationSchemeEvents": [{"event": {"id": 1, "name": "Issue Created"}, "notifications": [
                {"id": 1, "notificationType": "CurrentAssignee"}, {"id": 2, "notificationType": "User", "parameter": "acc-1", "user": user(1, email=None)}]}]}]),
        "screens": ("screens", {}, [{"id": 1, "name": "Default Screen", "description": ""}, {"id": 2, "name": "Resolve Issue Screen", "description": None}]),
        "screen_schemes": ("screenscheme", {}, [{"id": 1, "name": "Default Screen Scheme", "description": None, "screens": {"default": 1}}]),
        "priority_schemes": ("priorityscheme", {"expand": "priorities,projects"}, [{"id": "1", "name": "Default priority scheme", "isDefault": True,
            "priorities": {"startAt": 0, "maxResults": 50, "total": 1, "isLast": True, "values": [{"id": "3", "name": "Medium", "isDefault": True}]},
            "projects": {"startAt": 0, "maxResults": 50, "total": 0, "isLast": True, "values": []}}]),
    }
    for stream, (path, params, values) in cases.items():
        with HttpMocker() as http:
            get(http, path, page(values), maxResults="50", **params)
            records = records_of(read_stream(stream, config))
        assert [r["id"] for r in records] == [v["id"] for v in values], stream
        assert_records_match_schema(stream, records, config)


def test_permission_schemes_with_grants():
    config = base_config()
    with HttpMocker() as http:
        get(http, "permissionscheme", {"permissionSchemes": [
            {"id": 0, "name": "Default Permission Scheme", "description": None, "permissions": [
                {"id": 10000, "permission": "BROWSE_PROJECTS", "holder": {"type": "applicationRole", "parameter": None}},
                {"id": 10001, "permission": "ADMINISTER_PROJECTS", "holder": {"type": "projectRole", "parameter": "10002", "value": "10002",
                                                                              "projectRole": {"id": 10002, "name": "Administrators"}}}]},
            {"id": 10001, "name": "SEC scheme", "description": "Security project"}]}, expand="permissions")
        records = records_of(read_stream("permission_schemes", config))
    assert [r["id"] for r in records] == [0, 10001]
    assert_records_match_schema("permission_schemes", records, config)


def _bulk_tabs(tabs: list, start: int = 0, is_last: bool = True, total: int = None) -> dict:
    """Jira Cloud's "Get bulk screen tabs" page: each tab as {screenId, tabId, tabName}."""
    values = [{"screenId": s, "tabId": t, "tabName": n} for s, t, n in tabs]
    return {"isLast": is_last, "maxResults": 100, "startAt": start, "total": total if total is not None else start + len(values),
            "values": values}


def test_screen_tabs_and_fields_keyed_by_their_parents():
    config = base_config()
    screens = page([{"id": 1, "name": "Default Screen"}, {"id": 2, "name": "Bug Screen"}])
    # tab ids are only unique per screen, field ids repeat on every tab they sit on
    bulk = _bulk_tabs([(1, 10000, "Field Tab"), (1, 10001, "Details"), (2, 10000, "Field Tab")])
    with HttpMocker() as http:
        get(http, "screens", screens, maxResults="50")
        get(http, "screens/tabs", bulk, screenId=["1", "2"], maxResult="100")
        get(http, "screens/1/tabs/10000/fields", [{"id": "summary", "name": "Summary"}, {"id": "customfield_10016", "name": "Story Points", "type": "number"}])
        get(http, "screens/1/tabs/10001/fields", [{"id": "summary", "name": "Summary"}])
        get(http, "screens/2/tabs/10000/fields", [{"id": "summary", "name": "Summary"}])
        fields = records_of(read_stream("screen_tab_fields", config))
    assert sorted((r["screenId"], r["tabId"], r["id"]) for r in fields) == [
        (1, 10000, "customfield_10016"), (1, 10000, "summary"), (1, 10001, "summary"), (2, 10000, "summary")]
    assert_unique_pk(fields, ["screenId", "tabId", "id"])
    assert_records_match_schema("screen_tab_fields", fields, config)

    with HttpMocker() as http:
        get(http, "screens", screens, maxResults="50")
        get(http, "screens/tabs", bulk, screenId=["1", "2"], maxResult="100")
        tabs = records_of(read_stream("screen_tabs", config))
    # the per-screen form of a tab ({id, name}) with its screen's id, as Jira's screens/{id}/tabs gives it
    assert sorted((r["screenId"], r["id"], r["name"]) for r in tabs) == [(1, 10000, "Field Tab"), (1, 10001, "Details"), (2, 10000, "Field Tab")]
    assert all(set(r) == {"screenId", "id", "name"} for r in tabs), tabs
    assert_unique_pk(tabs, ["screenId", "id"])
    assert_records_match_schema("screen_tabs", tabs, config)


def test_screen_tabs_ask_for_100_screens_a_call_and_page_the_tabs():
    config = base_config()
    screens = page([{"id": i, "name": f"Screen {i}"} for i in range(1, 151)])
    first, second = [str(i) for i in range(1, 101)], [str(i) for i in range(101, 151)]
    # the first 100 screens hold 120 tabs: two pages of at most 100
    tabs_a = [(i, 10000 + i, "Field Tab") for i in range(1, 101)] + [(i, 20000 + i, "Details") for i in range(1, 21)]
    tabs_b = [(i, 10000 + i, "Field Tab") for i in range(101, 151)]
    with HttpMocker() as http:
        get(http, "screens", screens, maxResults="50")
        get(http, "screens/tabs", _bulk_tabs(tabs_a[:100], is_last=False, total=120), screenId=first, maxResult="100")
        get(http, "screens/tabs", _bulk_tabs(tabs_a[100:], start=100, total=120), screenId=first, maxResult="100", startAt="100")
        get(http, "screens/tabs", _bulk_tabs(tabs_b), screenId=second, maxResult="100")
        tabs = records_of(read_stream("screen_tabs", config))
    assert sorted((r["screenId"], r["id"]) for r in tabs) == sorted((s, t) for s, t, _ in tabs_a + tabs_b)
    assert_unique_pk(tabs, ["screenId", "id"])


FILTER_EXPAND = "description,owner,jql,viewUrl,searchUrl,favourite,favouritedCount,sharePermissions,editPermissions,isWritable,subscriptions,approximateLastUsed"


def test_filters_and_filter_sharing():
    config = base_config()
    filters = page([{"id": "10000", "name": "Board filter", "owner": user(1, email=None), "jql": "project = ALPHA", "favourite": False,
                     "sharePermissions": [{"id": 1, "type": "project", "project": {"id": "10000", "key": "ALPHA"}}]},
                    {"id": "10001", "name": "Open bugs", "owner": user(2, email=False), "jql": "issuetype = Bug", "description": None,
                     "sharePermissions": [{"id": 2, "type": "group", "group": {"name": "developers", "groupId": "g-1"}},
                                          {"id": 3, "type": "user", "user": user(4, email=None)}]},
                    {"id": "10002", "name": "Private", "sharePermissions": []}])
    with HttpMocker() as http:
        # the share permissions come with the filter list: no call per filter
        get(http, "filter/search", filters, expand="sharePermissions", maxResults="50")
        shares = records_of(read_stream("filter_sharing", config))
    assert sorted((r["filterId"], r["id"]) for r in shares) == [("10000", 1), ("10001", 2), ("10001", 3)]
    assert next(r for r in shares if r["id"] == 2)["group"] == {"name": "developers", "groupId": "g-1"}
    assert_records_match_schema("filter_sharing", shares, config)

    with HttpMocker() as http:
        get(http, "filter/search", filters, expand=FILTER_EXPAND, maxResults="50")
        records = records_of(read_stream("filters", config))
    assert [r["id"] for r in records] == ["10000", "10001", "10002"]
    assert_records_match_schema("filters", records, config)


def test_filter_sharing_pages_through_the_filter_list():
    config = base_config()
    first = [{"id": str(10000 + i), "name": f"F{i}", "sharePermissions": [{"id": i, "type": "global"}]} for i in range(50)]
    second = [{"id": "10050", "name": "F50", "sharePermissions": [{"id": 50, "type": "loggedin"}, {"id": 51, "type": "global"}]}]
    with HttpMocker() as http:
        get(http, "filter/search", page(first, is_last=False, total=51), expand="sharePermissions", maxResults="50")
        get(http, "filter/search", page(second, start=50, total=51), expand="sharePermissions", maxResults="50", startAt="50")
        shares = records_of(read_stream("filter_sharing", config))
    assert len(shares) == 52 and ("10050", 51) in {(r["filterId"], r["id"]) for r in shares}
    assert_unique_pk(shares, ["filterId", "id"])


def test_filter_sharing_fails_loudly_when_a_filter_comes_without_its_share_permissions():
    config = base_config()
    filters = page([{"id": "10000", "name": "Shared", "sharePermissions": [{"id": 1, "type": "global"}]},
                    {"id": "10001", "name": "Expand not honoured"}])
    with HttpMocker() as http:
        get(http, "filter/search", filters, expand="sharePermissions", maxResults="50")
        output = read_stream("filter_sharing", config, expecting_exception=True)
    assert output.errors, "a filter without sharePermissions must not yield zero rows in silence"
    message = output.errors[-1].trace.error.message
    assert "sharePermissions" in message and "10001" in message, message


def test_dashboards_page_with_startat_and_total():
    config = base_config()
    with HttpMocker() as http:
        get(http, "dashboard", {"startAt": 0, "maxResults": 1, "total": 2, "dashboards": [{"id": "10000", "name": "Default dashboard", "owner": None, "systemDashboard": True}]}, maxResults="50")
        get(http, "dashboard", {"startAt": 1, "maxResults": 1, "total": 2, "dashboards": [{"id": "10001", "name": "Sprint health", "owner": user(3, email=None), "isFavourite": False}]},
            maxResults="50", startAt="1")
        records = records_of(read_stream("dashboards", config))
    assert [r["id"] for r in records] == ["10000", "10001"]
    assert_records_match_schema("dashboards", records, config)


def test_site_settings_streams():
    config = base_config()
    cases = {
        "application_roles": ("applicationrole", [{"key": "jira-software", "name": "Jira", "groups": ["jira-software-users"], "numberOfSeats": 100,
                                                   "remainingSeats": 40, "userCount": 60, "hasUnlimitedSeats": False, "platform": False}], "key"),
        "time_tracking": ("configuration/timetracking/list", [{"key": "JIRA", "name": "JIRA provided time tracking", "url": "/secure/admin"}], "key"),
        "server_info": ("serverInfo", {"baseUrl": "https://acme.atlassian.net", "version": "1001.0.0-SNAPSHOT", "versionNumbers": [1001, 0, 0],
                                       "deploymentType": "Cloud", "buildNumber": 100250, "serverTime": "2025-01-02T10:00:00.000-0800", "scmInfo": "abc", "serverTitle": "Jira"}, "baseUrl"),
        "jira_settings": ("application-properties", [{"id": "jira.title", "key": "jira.title", "value": "Jira", "name": "Title", "desc": None,
                                                       "type": "string", "defaultValue": None, "allowedValues": None}], "id"),
        "issue_navigator_settings": ("settings/columns", [{"label": "Key", "value": "issuekey"}, {"label": "Summary", "value": "summary"}], "value"),
    }
    for stream, (path, body, pk) in cases.items():
        with HttpMocker() as http:
            get(http, path, body)
            records = records_of(read_stream(stream, config))
        expected = body if isinstance(body, list) else [body]
        assert [r[pk] for r in records] == [e[pk] for e in expected], stream
        assert_records_match_schema(stream, records, config)


def test_permissions_one_record_per_key():
    config = base_config()
    with HttpMocker() as http:
        get(http, "permissions", {"permissions": {
            "BROWSE_PROJECTS": {"key": "BROWSE_PROJECTS", "name": "Browse Projects", "type": "PROJECT", "description": "Browse."},
            "ADMINISTER": {"key": "ADMINISTER", "name": "Administer Jira", "type": "GLOBAL", "description": None}}})
        records = records_of(read_stream("permissions", config))
    assert sorted(r["key"] for r in records) == ["ADMINISTER", "BROWSE_PROJECTS"]
    assert_records_match_schema("permissions", records, config)


def _audit(i: int, created: str) -> dict:
    return {"id": i, "summary": "User created", "created": created, "category": "user management", "eventSource": "",
            "authorAccountId": "acc-1", "remoteAddress": None, "objectItem": {"id": "acc-9", "name": "x", "typeName": "USER"},
            "changedValues": [{"fieldName": "Username", "changedFrom": None, "changedTo": "x"}], "associatedItems": []}


def test_audit_records_incremental_pages_with_offset_and_moves_state_forward():
    config = base_config(start_date="2025-01-01T00:00:00Z")
    with requests_mock.Mocker() as m:
        calls = []

        def respond(request, context):
            q = parse_qs(urlparse(request.url).query)
            calls.append(q)
            offset = int(q.get("offset", ["0"])[0])
            rows = [_audit(3, "2025-03-01T10:00:00.000+0000"), _audit(2, "2025-02-01T10:00:00.000-0800")] if offset == 0 else [_audit(1, "2025-01-05T00:00:00.000+0000")]
            return {"offset": offset, "limit": 2, "total": 3, "records": rows}

        m.get(f"{API}/auditing/record", json=respond)
        output = read_stream("audit_records", config, sync_mode=SyncMode.incremental)
    records = records_of(output)
    assert sorted(r["id"] for r in records) == [1, 2, 3]
    assert [c.get("offset", ["0"])[0] for c in calls] == ["0", "2"]
    assert calls[0]["limit"] == ["1000"]
    # Jira's own date format: milliseconds and a +0000 offset
    assert calls[0]["from"] == ["2025-01-01T00:00:00.000+0000"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000", calls[0]["to"][0])
    assert_records_match_schema("audit_records", records, config)
    state = output.most_recent_state.stream_state.__dict__
    assert state["created"] == "2025-03-01T10:00:00.000+0000"

    # the next sync asks Jira only for records from the saved cursor on
    with requests_mock.Mocker() as m:
        m.get(f"{API}/auditing/record", json={"offset": 0, "limit": 1000, "total": 0, "records": []})
        read_stream("audit_records", config, sync_mode=SyncMode.incremental, state=stream_state("audit_records", state))
        sent = parse_qs(urlparse(m.request_history[-1].url).query)
    assert sent["from"] == ["2025-03-01T10:00:00.000+0000"]


FILTER_EXPAND = "description,owner,jql,viewUrl,searchUrl,favourite,favouritedCount,sharePermissions,editPermissions,isWritable,subscriptions,approximateLastUsed"


def test_favourite_and_own_filters():
    config = base_config()
    mine = {"id": "10010", "name": "My open issues", "owner": user(0), "jql": "assignee = currentUser()", "favourite": True, "sharePermissions": []}
    starred = {"id": "10020", "name": "Open bugs", "owner": user(3), "jql": "issuetype = Bug", "favourite": True, "sharePermissions": [{"id": 1, "type": "global"}]}
    with HttpMocker() as http:
        get(http, "filter/favourite", [mine, starred], expand=FILTER_EXPAND)
        favourites = records_of(read_stream("filter_favourite", config))
    with HttpMocker() as http:
        get(http, "filter/my", [mine, starred], expand=FILTER_EXPAND, includeFavourites="true")
        own = records_of(read_stream("filter_my", config))
    assert [r["id"] for r in favourites] == [r["id"] for r in own] == ["10010", "10020"]
    assert_records_match_schema("filter_favourite", favourites, config)
    assert_records_match_schema("filter_my", own, config)


def test_my_permissions_globally_and_per_configured_project():
    config = base_config(projects=["ALPHA"])
    asked = "BROWSE_PROJECTS,ADMINISTER,SYSTEM_ADMIN,ADMINISTER_PROJECTS,VIEW_VOTERS_AND_WATCHERS,USER_PICKER,VIEW_DEV_TOOLS,VIEW_READONLY_WORKFLOW"

    def answer(granted):
        return {"permissions": {key: {"id": str(i), "key": key, "name": key.title(), "type": "PROJECT", "description": "",
                                      "havePermission": key in granted} for i, key in enumerate(asked.split(","))}}

    with HttpMocker() as http:
        get(http, "mypermissions", answer({"BROWSE_PROJECTS"}), permissions=asked)
        get(http, "mypermissions", answer({"BROWSE_PROJECTS", "VIEW_VOTERS_AND_WATCHERS"}), permissions=asked, projectKey="ALPHA")
        records = records_of(read_stream("my_permissions", config))
    rows = {(r["scope"], r["key"]): r["havePermission"] for r in records}
    assert len(rows) == len(records) == 16
    assert rows[("global", "BROWSE_PROJECTS")] and not rows[("global", "VIEW_VOTERS_AND_WATCHERS")]
    assert rows[("ALPHA", "VIEW_VOTERS_AND_WATCHERS")] and not rows[("ALPHA", "ADMINISTER")]
    assert_records_match_schema("my_permissions", records, config)
