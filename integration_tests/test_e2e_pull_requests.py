"""`pull_requests` end to end: exact against the fake's ground truth, one dev-status request per issue and application
type that has pull requests (issues without development information cost nothing: their Development field says so),
incremental with the issue family, and no extra search request when read with `issues`."""

from __future__ import annotations

from integration_tests.conftest import assert_ids_equal_ground_truth, configured_catalog, run_connector
from integration_tests.fake_jira.render import Renderer


def _read(fake, catalog, state=None):
    result = run_connector("read", fake.config(), catalog, state=state, ca_path=fake.ca_path)
    assert result.returncode == 0 and not result.errors(), (result.errors(), result.stderr[-1500:])
    return result


def test_pull_requests_cost_a_request_only_where_there_are_some(fresh_fake):
    fake = fresh_fake(issues=400, seed=23)
    discovered = run_connector("discover", fake.config(), ca_path=fake.ca_path).catalog()
    render = Renderer(fake.site)
    with_prs = {(str(it.id), app) for it in fake.site.issues if not it.deleted for app, _ in render.pull_requests(it)}
    assert with_prs and len({i for i, _ in with_prs}) < 400 / 4

    fake.reset_counts()
    alone = _read(fake, configured_catalog(discovered, ["pull_requests"]))
    assert_ids_equal_ground_truth("pull_requests", alone.records("pull_requests"), fake)
    counts = fake.request_counts()
    assert counts.get("GET /rest/dev-status/latest/issue/detail") == len(with_prs), counts

    fake.reset_counts()
    both = _read(fake, configured_catalog(discovered, ["issues", "pull_requests"]))
    with_issues = fake.request_counts()
    fake.reset_counts()
    _read(fake, configured_catalog(discovered, ["issues"]))
    issues_only = fake.request_counts()
    assert with_issues.get("POST /rest/api/3/search/jql") == issues_only.get("POST /rest/api/3/search/jql"), (with_issues, issues_only)
    assert_ids_equal_ground_truth("pull_requests", both.records("pull_requests"), fake)

    # incremental: only the pull requests of issues changed since the state are read again
    changed = [str(it.id) for it in fake.site.issues if not it.deleted and render.pull_requests(it)][:3]
    fake.update_issues(changed)
    second = _read(fake, configured_catalog(discovered, ["pull_requests"]), state=alone.final_state())
    assert set(changed) <= {r["issueId"] for r in second.records("pull_requests")}
    assert len(second.records("pull_requests")) < len(alone.records("pull_requests")) / 2
