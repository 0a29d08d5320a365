"""End-to-end tests of the per-issue streams (`issue_watchers`, `issue_votes`, `issue_remote_links`,
`issue_properties`, `issue_transitions`) against the fake Jira, Cloud and Data Center:

* each asks per issue only what the window's search page does not already tell — counted per endpoint, exactly, from
  the site's own data: watchers and votes only for issues that have some, transitions never (the page carries them
  with `expand=transitions`), properties in one request per issue on Cloud (`properties=*all`), and every record set
  equals the ground truth;
* the per-issue requests of one window run concurrently (the fake's peak of requests served at once), and no more
  at once than the session's per-issue threads;
* an incremental read asks again only the issues changed since the state, and its records are theirs, exactly.
"""

from __future__ import annotations

import math

import pytest

from integration_tests.conftest import assert_ids_equal_ground_truth, configured_catalog, run_connector
from source_jira.limiter import CEILING_DEFAULT

CHILDREN = ["issue_watchers", "issue_votes", "issue_remote_links", "issue_properties", "issue_transitions"]


def _read(fake, streams, state=None):
    discovered = run_connector("discover", fake.config(), ca_path=fake.ca_path)
    assert discovered.returncode == 0, discovered.stderr[-2000:]
    result = run_connector("read", fake.config(), configured_catalog(discovered.catalog(), streams), state=state, ca_path=fake.ca_path)
    assert result.returncode == 0 and not result.errors(), (result.errors(), result.stderr[-2000:])
    return result


def _issues(fake):
    """The issues a read sees (not deleted), from the site itself."""
    ids = {row[0] for row in fake.ground_truth("issue_ids")}
    return [it for it in fake.site.issues if str(it.id) in ids]


def _expected_per_issue(fake, issues, by_user=False):
    """The per-issue requests a read of the 5 streams must make for these issues, by endpoint. `by_user` (Cloud, a
    read of many issues and few users): watchers and voters come from one search per user, and no issue is asked."""
    api = "/rest/api/2" if fake.is_datacenter else "/rest/api/3"
    expected = {
        f"GET {api}/issue/{{issueIdOrKey}}/watchers": 0 if by_user else sum(1 for it in issues if it.watchers),
        f"GET {api}/issue/{{issueIdOrKey}}/votes": 0 if by_user else sum(1 for it in issues if it.voters),
        f"GET {api}/issue/{{issueIdOrKey}}/remotelink": len(issues),
        f"GET {api}/issue/{{issueIdOrKey}}/transitions": 0,
    }
    if fake.is_datacenter:  # the keys, then each property
        expected[f"GET {api}/issue/{{issueIdOrKey}}/properties"] = len(issues)
        expected[f"GET {api}/issue/{{issueIdOrKey}}/properties/{{propertyKey}}"] = sum(len(it.properties) for it in issues)
        expected[f"GET {api}/issue/{{issueIdOrKey}}"] = 0
    else:  # one GET issue/{id}?properties=*all
        expected[f"GET {api}/issue/{{issueIdOrKey}}"] = len(issues)
        expected[f"GET {api}/issue/{{issueIdOrKey}}/properties"] = 0
        expected[f"GET {api}/issue/{{issueIdOrKey}}/properties/{{propertyKey}}"] = 0
    return expected


@pytest.mark.parametrize("deployment", ["cloud", "datacenter"])
def test_per_issue_streams_ask_only_what_the_search_page_does_not_tell(fresh_fake, deployment):
    fake = fresh_fake(issues=400, seed=23, deployment=deployment)
    issues = _issues(fake)
    fake.reset_counts()
    result = _read(fake, CHILDREN)
    counts = fake.request_counts()
    for stream in CHILDREN:
        assert_ids_equal_ground_truth(stream, result.records(stream), fake)
    users = len(fake.site.users)
    by_user = not fake.is_datacenter  # 400 issues, fewer than half as many users: one search per user on Cloud
    assert by_user is False or 2 * users < len(issues)
    expected = _expected_per_issue(fake, issues, by_user)
    got = {endpoint: counts.get(endpoint, 0) for endpoint in expected}
    assert got == expected, counts
    # the site is not trivial: every issue has a watcher, some have no vote, and the fake's transitions are many
    assert 0 < sum(1 for it in issues if it.voters) < len(issues) == sum(1 for it in issues if it.watchers)
    assert len(result.records("issue_transitions")) > len(issues)
    # the searches: the id index, one search per window shared by the five streams (one window of 400 issues, pages
    # of 100 on Cloud, 250 on Data Center), and on Cloud one id-only search per user for watchers and one for voters
    if fake.is_datacenter:
        assert counts["POST /rest/api/2/search"] <= 1 + math.ceil(len(issues) / 250) + 1, counts
    else:
        # (JSM customers are not searched for as watchers, neither they nor apps as voters: see children.py)
        types = [u.account_type for u in fake.site.users]
        searched = sum(1 for t in types if t != "customer") + sum(1 for t in types if t not in ("customer", "app"))
        assert 0 < searched < 2 * users
        assert counts["POST /rest/api/3/search/jql"] == 1 + math.ceil(len(issues) / 100) + searched, counts
        # one listing for both (children.UserListing): its pages, then an empty one
        assert counts["GET /rest/api/3/users/search"] == users // 1000 + 2, counts
    per_100 = 100 * sum(counts.values()) / len(issues)
    print(f"{deployment}: {per_100:.1f} requests per 100 issues for the 5 per-issue streams ({counts})")


@pytest.mark.parametrize("deployment", ["cloud", "datacenter"])
def test_with_issues_selected_the_per_issue_streams_search_nothing_of_their_own(fresh_fake, deployment):
    """Read beside `issues`, the per-issue streams read its search pages (every field, and `expand=transitions`):
    the read makes exactly the searches of `issues` alone (plus, on Cloud, the per-user ones), and every record set,
    `issues` included, is still the ground truth's."""
    fake = fresh_fake(issues=400, seed=29, deployment=deployment)
    search = "POST /rest/api/2/search" if fake.is_datacenter else "POST /rest/api/3/search/jql"
    fake.reset_counts()
    alone = _read(fake, ["issues"])
    searches_alone = fake.request_counts()[search]
    fake.reset_counts()
    result = _read(fake, ["issues"] + CHILDREN)
    counts = fake.request_counts()
    for stream in ["issues"] + CHILDREN:
        assert_ids_equal_ground_truth(stream, result.records(stream), fake)
    by_id = lambda records: sorted(records, key=lambda r: r["id"])  # noqa: E731
    assert by_id(result.records("issues")) == by_id(alone.records("issues"))  # what the others asked does not show
    assert len(result.records("issue_transitions")) > len(_issues(fake))
    per_user = 0
    if not fake.is_datacenter:
        types = [u.account_type for u in fake.site.users]
        per_user = sum(1 for t in types if t != "customer") + sum(1 for t in types if t not in ("customer", "app"))
    assert counts[search] == searches_alone + per_user, counts


def test_per_issue_requests_of_one_window_run_concurrently(fresh_fake):
    """One window (200 issues), one stream: its remote-link requests overlap in time on the fake (which answers each
    after 40 ms), at most the session's per-issue threads at once."""
    fake = fresh_fake(issues=200, seed=29, latency_ms=40)
    fake.reset_counts()
    result = _read(fake, ["issue_remote_links"])
    assert_ids_equal_ground_truth("issue_remote_links", result.records("issue_remote_links"), fake)
    peak = fake.peak_in_flight()["GET /rest/api/3/issue/{issueIdOrKey}/remotelink"]
    assert 1 < peak <= CEILING_DEFAULT, fake.peak_in_flight()


@pytest.mark.parametrize("deployment", ["cloud", "datacenter"])
def test_an_incremental_read_asks_only_the_changed_issues(fresh_fake, deployment):
    fake = fresh_fake(issues=300, seed=31, deployment=deployment)
    first = _read(fake, CHILDREN)
    for stream in CHILDREN:
        assert_ids_equal_ground_truth(stream, first.records(stream), fake)
    changed = {str(i) for i in fake.update_issues(25)}
    fake.reset_counts()
    second = _read(fake, CHILDREN, state=first.final_state())
    counts = fake.request_counts()
    # the issues read again: every issue has transitions on the fake, so they all show in issue_transitions
    reread = {r["issueId"] for r in second.records("issue_transitions")}
    assert changed <= reread, "every changed issue is read again"
    assert len(reread) < 60, f"{len(reread)} issues read again for 25 changed (the lookback re-reads minutes, not the site)"
    issues = [it for it in _issues(fake) if str(it.id) in reread]
    assert {endpoint: counts.get(endpoint, 0) for endpoint in _expected_per_issue(fake, issues)} == _expected_per_issue(fake, issues), counts
    # every stream's records of the second read are exactly the site's rows of those issues
    link_issue = {link[0]: str(it.id) for it in fake.site.issues for link in it.remote_links}
    for stream in CHILDREN:
        pk = fake.ground_truth_pk(stream)
        of_issue = (lambda row: link_issue[row[0]]) if stream == "issue_remote_links" else (lambda row: row[pk.index("issueId")])
        truth = {row for row in fake.ground_truth(stream) if of_issue(row) in reread}
        got = [tuple(r[k] for k in pk) for r in second.records(stream)]
        assert len(got) == len(set(got)) and set(got) == truth, f"{stream}: missing {sorted(truth - set(got))[:3]}, extra {sorted(set(got) - truth)[:3]}"
