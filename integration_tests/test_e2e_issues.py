"""End-to-end tests of the issue family: the installed `source-jira` command against the fake Jira Cloud.

* a full read equals the ground truth for every issue-derived stream (no duplicate, every record on-schema);
* the request budget of a full sync of issues + changelogs + comments + worklogs, counted per endpoint;
* an incremental round (updates, comments, worklogs, issues visible to search only late, deletions) in a zone with
  DST, a positive and a negative offset: every change arrives, little is re-read, and the feed's hidden last minute
  loses no worklog.
"""

from __future__ import annotations

import math

import pytest

from integration_tests.conftest import (
    assert_ids_equal_ground_truth,
    assert_valid_against_schemas,
    configured_catalog,
    run_connector,
)

FAMILY = ["issues", "issue_changelogs", "issue_comments", "issue_worklogs", "issue_attachments", "issue_ids"]
CHILDREN = ["issue_watchers", "issue_votes", "issue_remote_links", "issue_properties", "issue_transitions"]
EMBED_PAGE = 20  # the fake embeds at most 20 comments per issue in search results, like Jira


def _discover(fake):
    result = run_connector("discover", fake.config(), ca_path=fake.ca_path)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.catalog()


def _read(fake, catalog, state=None, **config):
    result = run_connector("read", fake.config(**config), catalog, state=state, ca_path=fake.ca_path)
    assert result.returncode == 0 and not result.errors(), (result.errors(), result.stderr[-2000:])
    return result


def test_full_read_equals_ground_truth(fake_jira):
    discovered = _discover(fake_jira)
    result = _read(fake_jira, configured_catalog(discovered, FAMILY + CHILDREN + ["issue_worklogs_deleted"]))
    by_stream = result.records_by_stream()
    for stream in FAMILY + CHILDREN:
        assert_ids_equal_ground_truth(stream, by_stream.get(stream, []), fake_jira)
    assert_valid_against_schemas(discovered, by_stream)
    issue = by_stream["issues"][0]
    assert isinstance(issue["custom_fields"], dict) and issue["custom_fields"], "custom fields under human names"
    assert all(c["issueId"] for c in by_stream["issue_comments"])
    assert all(h["issueId"] for h in by_stream["issue_changelogs"])
    # rich text: one type (the ADF document) and its plain text beside it
    def text_nodes(node):
        return "".join(text_nodes(c) for c in node.get("content") or []) if node.get("type") != "text" else node["text"]
    assert all(isinstance(c["body"], dict) and c["bodyText"] == text_nodes(c["body"]) for c in by_stream["issue_comments"])
    described = [i for i in by_stream["issues"] if (i["fields"].get("description") or {}).get("content")]
    assert described and all(i["descriptionText"] == text_nodes(i["fields"]["description"]) for i in described)
    # the state is small: one cursor per stream
    for state in result.final_state():
        assert len(str(state["stream"]["stream_state"])) < 200, state


def test_full_read_respects_projects(fake_jira):
    discovered = _discover(fake_jira)
    project = sorted(fake_jira.ground_truth("projects"))[0][0]
    key = next(p["key"] for p in run_connector("read", fake_jira.config(), configured_catalog(discovered, ["projects"], incremental=False),
                                                  ca_path=fake_jira.ca_path).records("projects") if p["id"] == project)
    result = _read(fake_jira, configured_catalog(discovered, ["issues", "issue_comments", "issue_worklogs", "issue_ids"]), projects=[key])
    by_stream = result.records_by_stream()
    for stream in ("issues", "issue_comments", "issue_worklogs", "issue_ids"):
        assert_ids_equal_ground_truth(stream, by_stream.get(stream, []), fake_jira, projects=[key])


def test_request_budget_of_a_full_sync(fresh_fake):
    """≤ 3 requests per 100 issues, counted per endpoint on a 2,000-issue site. The only per-issue requests are for
    issues whose embedded comment page is incomplete; Jira's default shape has about 1% of those, and the fake's
    excess over that 1% is not the connector's to spend, so it is allowed on top (and checked to be exactly one
    request per such issue)."""
    fake = fresh_fake(issues=2000, seed=42)
    discovered = _discover(fake)
    catalog = configured_catalog(discovered, ["issues", "issue_changelogs", "issue_comments", "issue_worklogs"])
    fake.reset_counts()
    result = _read(fake, catalog)
    counts = fake.request_counts()
    n = len(result.records("issues"))
    assert n == 2000
    comment_counts = {}
    for comment in result.records("issue_comments"):
        comment_counts[comment["issueId"]] = comment_counts.get(comment["issueId"], 0) + 1
    over_cap = sum(1 for c in comment_counts.values() if c > EMBED_PAGE)
    worklogs = len(result.records("issue_worklogs"))
    per_endpoint = {
        "POST /rest/api/3/search/jql": math.ceil(n / 100) + 8,  # the issue pages + index + cut times + a partial page per window
        "POST /rest/api/3/changelog/bulkfetch": math.ceil(n / 490) + 1,  # one per window (cut every 490 issues), + a continuation
        "GET /rest/api/3/worklog/updated": math.ceil(worklogs / 1000) + 1,
        "POST /rest/api/3/worklog/list": math.ceil(worklogs / 1000) + 1,
        "GET /rest/api/3/field": 1,
        "GET /rest/api/3/issue/{issueIdOrKey}/comment": over_cap + 2,  # one per incomplete issue (+ a 2nd page rarely)
    }
    unexpected = {k: v for k, v in counts.items() if k not in per_endpoint}
    assert not unexpected, f"requests to unexpected endpoints: {unexpected}"
    for endpoint, ceiling in per_endpoint.items():
        assert counts.get(endpoint, 0) <= ceiling, f"{endpoint}: {counts.get(endpoint, 0)} > {ceiling} ({counts})"
    total = sum(counts.values())
    allowance = max(0, over_cap - math.ceil(n / 100))  # the fake's over-cap issues beyond Jira's default ~1%
    assert total - allowance <= 3 * n / 100, f"{total} requests for {n} issues ({counts}; {over_cap} over the comment cap)"


@pytest.mark.parametrize("zone", ["America/Los_Angeles", "Asia/Kolkata", "Pacific/Honolulu"])
def test_incremental_round(fresh_fake, zone):
    fake = fresh_fake(issues=300, seed=5, timezone=zone)
    discovered = _discover(fake)
    streams = ["issues", "issue_changelogs", "issue_comments", "issue_worklogs", "issue_worklogs_deleted", "issue_ids"]
    catalog = configured_catalog(discovered, streams)
    first = _read(fake, catalog)
    for stream in ("issues", "issue_changelogs", "issue_comments", "issue_worklogs"):
        assert_ids_equal_ground_truth(stream, first.records(stream), fake)
    state = first.final_state()
    cursor = int(next(s for s in state if s["stream"]["stream_descriptor"]["name"] == "issues")["stream"]["stream_state"]["updated"])

    # late issues: written just after the saved cursor, invisible to search until after the next read
    late = fake.update_issues(5, when=cursor + 1_000)
    fake.hide_from_search(late)
    updated = fake.update_issues(50)
    fake.add_comments(20, per_issue=2)
    worklogged = fake.add_worklogs(20, per_issue=1)
    deleted = fake.delete_issues(5)
    truth_comments = fake.ground_truth("issue_comments")
    truth_changelogs = fake.ground_truth("issue_changelogs")

    second = _read(fake, catalog, state=state)
    got = {r["id"] for r in second.records("issues")}
    visible_updates = set(map(str, updated)) - set(map(str, deleted)) - set(map(str, late))
    assert visible_updates <= got, f"missing updated issues: {sorted(visible_updates - got)[:5]}"
    assert not (set(map(str, deleted)) & {r["id"] for r in second.records("issue_ids")}), "deleted issues still listed"
    new_comments = {c[0] for c in truth_comments} - {c["id"] for c in first.records("issue_comments")}
    assert new_comments, "the fake added comments"
    on_late = {str(c[0]) for it in fake.site.issues if str(it.id) in set(map(str, late)) for c in it.comments}
    missing = new_comments - {c["id"] for c in second.records("issue_comments")}
    assert missing <= on_late, f"new comments missing (not on a late issue): {sorted(missing - on_late)[:5]}"
    # few re-reads: the lookback re-reads minutes, not the site
    assert len(second.records("issues")) <= 50 + 5 + 20 + 20 + 30, len(second.records("issues"))
    assert len(second.records("issue_changelogs")) < len(first.records("issue_changelogs")) / 3

    # the index catches up and a minute passes (the worklog feed shows the last minute now)
    fake.reveal()
    fake.set_now_offset(90)
    third = _read(fake, catalog, state=second.final_state())
    union = {}
    for stream in ("issues", "issue_changelogs", "issue_comments", "issue_worklogs"):
        union[stream] = [r for run in (first, second, third) for r in run.records(stream)]
        seen = {r["id"] for r in union[stream]}
        truth = {t[0] for t in fake.ground_truth(stream)}
        assert truth <= seen, f"{stream}: {len(truth - seen)} never read, e.g. {sorted(truth - seen)[:3]}"
    live_late = set(map(str, late)) - set(map(str, deleted))
    assert live_late <= {r["id"] for r in third.records("issues")}, ("late-visible issues were lost", deleted, late, updated)
    assert_ids_equal_ground_truth("issue_ids", third.records("issue_ids"), fake)  # the live set: deletions show
    live_worklogs = {t[0] for t in fake.ground_truth("issue_worklogs")}
    new_worklogs = set(map(str, worklogged)) & live_worklogs
    assert new_worklogs, "the fake added worklogs"
    assert new_worklogs <= {r["id"] for r in second.records("issue_worklogs") + third.records("issue_worklogs")}
    assert {c[0] for c in truth_changelogs} <= {r["id"] for r in union["issue_changelogs"]}
    # the third read re-reads only what changed within the lookback (all of this test's changes), not the site
    assert len(third.records("issues")) <= len(second.records("issues")) + 5 < 150

