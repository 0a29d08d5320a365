"""Plain text of rich text (ADF), made locally: what `bodyText`, `commentText`, `descriptionText` carry."""

from source_jira.components.adf import adf_text, as_adf
from source_jira.components.issue_family.records import as_declared

DOC = {"type": "doc", "version": 1, "content": [
    {"type": "heading", "attrs": {"level": 1}, "content": [{"type": "text", "text": "Title"}]},
    {"type": "paragraph", "content": [
        {"type": "text", "text": "Hello "}, {"type": "mention", "attrs": {"id": "1", "text": "@Ana"}},
        {"type": "text", "text": " see"}, {"type": "hardBreak"}, {"type": "inlineCard", "attrs": {"url": "https://x.example"}}]},
    {"type": "bulletList", "content": [
        {"type": "listItem", "content": [{"type": "paragraph", "content": [{"type": "text", "text": "one"}]}]},
        {"type": "listItem", "content": [{"type": "paragraph", "content": [{"type": "text", "text": "two"}]}]}]},
    {"type": "codeBlock", "content": [{"type": "text", "text": "x = 1"}]},
    {"type": "mediaSingle", "content": [{"type": "media", "attrs": {"id": "m"}}]},
    {"type": "table", "content": [{"type": "tableRow", "content": [
        {"type": "tableHeader", "content": [{"type": "paragraph", "content": [{"type": "text", "text": "a"}]}]},
        {"type": "tableCell", "content": [{"type": "paragraph", "content": [{"type": "text", "text": "b"}]}]}]}]},
    {"type": "paragraph", "content": [{"type": "date", "attrs": {"timestamp": "1700000000000"}}, {"type": "emoji", "attrs": {"shortName": ":smile:"}}]},
]}


def test_blocks_lists_mentions_links_tables_dates():
    assert adf_text(DOC) == "Title\nHello @Ana see\nhttps://x.example\n- one\n- two\nx = 1\na | b\n2023-11-14:smile:"


def test_none_strings_and_junk():
    assert adf_text(None) is None and adf_text("plain") == "plain" and adf_text(42) is None
    assert adf_text({"type": "doc", "content": []}) == ""


def test_rich_text_has_one_type_and_its_text_beside_it():
    comment = as_declared({"body": "line one\nline two", "created": "2024-07-13T11:20:22.273-0700"}, "issue_comments")
    assert comment["body"]["type"] == "doc" and comment["bodyText"] == "line one\nline two"
    assert comment["created"] == "2024-07-13T18:20:22.273Z"
    worklog = as_declared({"comment": DOC}, "issue_worklogs")
    assert worklog["comment"] is DOC and worklog["commentText"].startswith("Title\n")
    assert as_adf(None) is None


def test_the_development_field_says_where_pull_requests_are():
    from source_jira.components.issue_family.records import pull_request_apps

    field = ('{pullrequest={dataType=pullrequest, state=OPEN, stateCount=2}, json={"cachedValue":{"errors":[],"summary":'
             '{"pullrequest":{"overall":{"count":2},"byInstanceType":{"GitHub":{"count":2,"name":"GitHub"},"stash":{"count":0}}}}},"isStale":false}}')
    assert pull_request_apps(field) == ["GitHub"]
    assert pull_request_apps("{}") == [] and pull_request_apps(None) == []
    assert pull_request_apps("{repository={count=3}}") == []  # commits only: no pull request
    assert pull_request_apps("{pullrequest={dataType=pullrequest, stateCount=1}}") is None  # some, but not where: ask
