"""Unit tests of the per-project streams, avatars, groups and their members (HttpMocker, schema-validated)."""

from __future__ import annotations

from airbyte_cdk.test.mock_http import HttpMocker

from unit_tests.catalog_helpers import assert_unique_pk, get, mock_projects, page, user
from unit_tests.conftest import assert_records_match_schema, base_config, read_stream, records_of


def _version(vid: str, pid: int, released: bool) -> dict:
    return {"id": vid, "name": f"v{vid}", "projectId": pid, "archived": False, "released": released,
            "releaseDate": "2025-01-31" if released else None, "description": None, "overdue": False}


def test_project_versions_page_per_project_with_jiras_page_size():
    config = base_config()
    with HttpMocker() as http:
        mock_projects(http)
        # Jira lowers maxResults to 2: the next page starts at 2.
        get(http, "project/10000/version", page([_version("1", 10000, True), _version("2", 10000, False)], is_last=False, max_results=2, total=3), maxResults="50")
        get(http, "project/10000/version", page([_version("3", 10000, False)], start=2, max_results=2, total=3), maxResults="50", startAt="2")
        get(http, "project/10001/version", page([_version("4", 10001, True)]), maxResults="50")
        records = records_of(read_stream("project_versions", config))
    assert sorted(r["id"] for r in records) == ["1", "2", "3", "4"]
    assert_unique_pk(records, ["id"])
    assert_records_match_schema("project_versions", records, config)


def test_project_versions_respect_configured_projects():
    config = base_config(projects=["BETA"])
    with HttpMocker() as http:
        mock_projects(http)
        get(http, "project/10001/version", page([_version("4", 10001, True)]), maxResults="50")
        records = records_of(read_stream("project_versions", config))
    assert [r["id"] for r in records] == ["4"]


def test_project_components_with_nullable_users():
    config = base_config()
    with HttpMocker() as http:
        mock_projects(http)
        get(http, "project/10000/component", page([
            {"id": "10", "name": "API", "project": "ALPHA", "projectId": 10000, "lead": user(2, email=None),
             "assigneeType": "PROJECT_DEFAULT", "assignee": None, "realAssignee": user(3, email=False),
             "realAssigneeType": "PROJECT_LEAD", "isAssigneeTypeValid": True, "issueCount": 4, "description": None}]), maxResults="50")
        get(http, "project/10001/component", page([]), maxResults="50")
        records = records_of(read_stream("project_components", config))
    assert [r["id"] for r in records] == ["10"]
    assert_records_match_schema("project_components", records, config)


def test_project_avatars_union_system_and_custom_keyed_by_project():
    config = base_config()
    system = [{"id": "10400", "isSystemAvatar": True, "isSelected": False, "isDeletable": False,
               "urls": {"16x16": "https://a/16"}}, {"id": "10401", "isSystemAvatar": True, "isSelected": True, "isDeletable": False, "urls": {}}]
    with HttpMocker() as http:
        mock_projects(http)
        get(http, "project/10000/avatars", {"system": system, "custom": [{"id": "10500", "owner": "10000", "isSystemAvatar": False,
                                                                         "isSelected": False, "isDeletable": True, "fileName": None, "urls": {}}]})
        get(http, "project/10001/avatars", {"system": system, "custom": []})
        records = records_of(read_stream("project_avatars", config))
    assert sorted((r["projectId"], r["id"]) for r in records) == [
        ("10000", "10400"), ("10000", "10401"), ("10000", "10500"), ("10001", "10400"), ("10001", "10401")]
    assert_unique_pk(records, ["projectId", "id"])
    assert_records_match_schema("project_avatars", records, config)


def test_project_email_one_record_per_project():
    config = base_config()
    with HttpMocker() as http:
        mock_projects(http)
        get(http, "project/10000/email", {"emailAddress": "alpha@acme.atlassian.net", "emailAddressStatus": ["Email address is verified."]})
        get(http, "project/10001/email", {"emailAddress": None})
        records = records_of(read_stream("project_email", config))
    assert sorted(r["projectId"] for r in records) == ["10000", "10001"]
    assert_records_match_schema("project_email", records, config)


def test_project_permission_schemes_are_security_levels_per_project():
    config = base_config()
    level = {"self": "x", "id": "10100", "name": "Internal", "description": "Staff only"}
    with HttpMocker() as http:
        mock_projects(http)
        get(http, "project/10000/securitylevel", {"levels": [level]})
        get(http, "project/10001/securitylevel", {"levels": [level, dict(level, id="10101", name="Secret")]})
        records = records_of(read_stream("project_permission_schemes", config))
    assert sorted((r["projectId"], r["projectKey"], r["id"]) for r in records) == [
        ("10000", "ALPHA", "10100"), ("10001", "BETA", "10100"), ("10001", "BETA", "10101")]
    assert_unique_pk(records, ["projectId", "id"])
    assert_records_match_schema("project_permission_schemes", records, config)


def test_avatars_of_each_system_type():
    config = base_config()
    with HttpMocker() as http:
        get(http, "avatar/issuetype/system", {"system": [{"id": "10300", "isSystemAvatar": True, "isSelected": False, "isDeletable": False, "urls": {}}]})
        get(http, "avatar/project/system", {"system": [{"id": "10400", "isSystemAvatar": True, "isSelected": False, "isDeletable": False, "urls": {}}]})
        get(http, "avatar/user/system", {"system": [{"id": "10122", "isSystemAvatar": True, "isSelected": False, "isDeletable": False, "urls": {}}]})
        records = records_of(read_stream("avatars", config))
    assert sorted((r["avatarType"], r["id"]) for r in records) == [("issuetype", "10300"), ("project", "10400"), ("user", "10122")]
    assert_unique_pk(records, ["avatarType", "id"])
    assert_records_match_schema("avatars", records, config)


def test_groups_and_group_members_keyed_by_group_and_account():
    config = base_config()
    groups = [{"name": "developers", "groupId": "g-1"}, {"name": "qa", "groupId": "g-2"}]
    with HttpMocker() as http:
        get(http, "group/bulk", page(groups), maxResults="50")
        get(http, "group/member", page([user(1), user(2, email=None)], is_last=False, max_results=2, total=3),
            groupId="g-1", includeInactiveUsers="true", maxResults="50")
        get(http, "group/member", page([user(3, email=False)], start=2, max_results=2, total=3),
            groupId="g-1", includeInactiveUsers="true", maxResults="50", startAt="2")
        # the same person in two groups: two rows, distinct (groupId, accountId)
        get(http, "group/member", page([user(1)]), groupId="g-2", includeInactiveUsers="true", maxResults="50")
        members = records_of(read_stream("group_members", config))
    assert sorted((r["groupId"], r["groupName"], r["accountId"]) for r in members) == [
        ("g-1", "developers", "acc-1"), ("g-1", "developers", "acc-2"), ("g-1", "developers", "acc-3"), ("g-2", "qa", "acc-1")]
    assert_unique_pk(members, ["groupId", "accountId"])
    assert_records_match_schema("group_members", members, config)

    with HttpMocker() as http:
        get(http, "group/bulk", page(groups), maxResults="50")
        records = records_of(read_stream("groups", config))
    assert [r["groupId"] for r in records] == ["g-1", "g-2"]
    assert_records_match_schema("groups", records, config)


def test_users_groups_detailed_one_request_per_user():
    config = base_config()
    with HttpMocker() as http:
        get(http, "users/search", [user(1), user(2, email=None)], maxResults="100")
        get(http, "users/search", [], maxResults="100", startAt="2")
        for i in (1, 2):
            get(http, "user", dict(user(i, email=None if i == 2 else True), groups={"size": 1, "items": [{"name": "developers", "groupId": "g-1"}]},
                                   applicationRoles={"size": 1, "items": [{"key": "jira-software", "name": "Jira"}]}),
                accountId=f"acc-{i}", expand="groups,applicationRoles")
        records = records_of(read_stream("users_groups_detailed", config))
    assert sorted(r["accountId"] for r in records) == ["acc-1", "acc-2"]
    assert all(r["groups"]["items"][0]["groupId"] == "g-1" for r in records)
    assert_records_match_schema("users_groups_detailed", records, config)
