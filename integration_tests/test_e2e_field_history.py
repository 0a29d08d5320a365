"""`issue_field_history` end to end: one row per changelog item, exact against the fake's ground truth in a full and
an incremental read; multi-value changes carry the values added and removed; times are RFC 3339; and it costs no
request of its own beside `issue_changelogs` (the same bulkfetch pages)."""

from __future__ import annotations

import re
from collections import Counter

from integration_tests.conftest import assert_ids_equal_ground_truth, assert_valid_against_schemas, configured_catalog, run_connector
from integration_tests.fake_jira.render import Renderer

RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def _read(fake, catalog, state=None):
    result = run_connector("read", fake.config(), catalog, state=state, ca_path=fake.ca_path)
    assert result.returncode == 0 and not result.errors(), (result.errors(), result.stderr[-2000:])
    return result


def _raw_items(fake):
    """(changelogId, itemIndex) -> the item as the fake's Jira writes it."""
    render = Renderer(fake.site)
    return {(str(h[0]), i): item for it in fake.site.issues if not it.deleted for h in it.histories
            for i, item in enumerate(render.history_items(it, h))}


def test_full_and_incremental_reads_equal_ground_truth(fresh_fake):
    fake = fresh_fake(issues=300, seed=21, timezone="Asia/Kolkata")
    discovered = run_connector("discover", fake.config(), ca_path=fake.ca_path).catalog()
    catalog = configured_catalog(discovered, ["issue_changelogs", "issue_field_history"])
    first = _read(fake, catalog)
    rows = first.records("issue_field_history")
    assert_ids_equal_ground_truth("issue_field_history", rows, fake)
    assert_valid_against_schemas(discovered, {"issue_field_history": rows})
    entries = Counter(row["changelogId"] for row in rows)
    assert max(entries.values()) >= 2, "entries that change several fields give several rows"
    assert set(entries) == {r["id"] for r in first.records("issue_changelogs")}

    raw = _raw_items(fake)
    issues = {str(it.id): it for it in fake.site.issues}
    kinds = Counter()
    for row in rows:
        item = raw[(row["changelogId"], row["itemIndex"])]
        # (the protocol's serializer leaves out null values: a missing key is null)
        assert (row["fieldId"], row.get("fromString"), row.get("toString")) == (item["fieldId"], item["fromString"], item["toString"])
        assert RFC3339.match(row["created"]), row["created"]
        issue = issues[row["issueId"]]
        assert (row["issueKey"], row["projectId"]) == (issue.key, str(issue.project.id))
        if item["fieldId"] == "labels":
            before, after = set((item["fromString"] or "").split()), set((item["toString"] or "").split())
            assert (set(row["added"]), set(row["removed"])) == (after - before, before - after)
            kinds["labels"] += 1
        elif item["fieldId"] == "components":
            assert (row["added"], row["removed"]) == (([item["toString"]], []) if item["to"] else ([], [item["fromString"]]))
            kinds["components"] += 1
        elif item["fieldId"] == "customfield_10020":
            before = [s for s in (item["fromString"] or "").split(", ") if s]
            after = [s for s in item["toString"].split(", ") if s]
            assert (row["added"], row["removed"]) == ([s for s in after if s not in before], [s for s in before if s not in after])
            assert row["field"] == "Sprint"
            kinds["sprint"] += 1
        elif item["fieldId"] in ("status", "assignee", "priority", "description"):
            assert row.get("added") is None and row.get("removed") is None
    assert all(kinds[k] for k in ("labels", "components", "sprint")), kinds

    # incremental: changed issues bring their new history rows, and little else is re-read
    changed = fake.update_issues(20, status="Done")
    second = _read(fake, catalog, state=first.final_state())
    new = set(fake.ground_truth("issue_field_history")) - {(r["changelogId"], r["itemIndex"]) for r in rows}
    got = {(r["changelogId"], r["itemIndex"]) for r in second.records("issue_field_history")}
    assert new and new <= got, f"{len(new - got)} new rows not read"
    assert len(got) < len(rows) / 3
    assert {r["issueId"] for r in second.records("issue_field_history") if (r["changelogId"], r["itemIndex"]) in new} <= set(map(str, changed))


def test_history_costs_no_request_beside_changelogs(fresh_fake):
    fake = fresh_fake(issues=2000, seed=42)
    discovered = run_connector("discover", fake.config(), ca_path=fake.ca_path).catalog()
    counts = {}
    for name, streams in (("without", ["issues", "issue_changelogs"]), ("with", ["issues", "issue_changelogs", "issue_field_history"])):
        fake.reset_counts()
        result = _read(fake, configured_catalog(discovered, streams))
        counts[name] = fake.request_counts()
        assert len(result.records("issues")) == 2000
    extra = {k: v - counts["without"].get(k, 0) for k, v in counts["with"].items() if v != counts["without"].get(k, 0)}
    # the only addition: the project list that names each row's project (one page per 50 projects, once per read)
    assert set(extra) <= {"GET /rest/api/3/project/search"} and sum(extra.values()) <= 1, extra
