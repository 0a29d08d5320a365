"""Faults through the real command (`source-jira read` as a subprocess) against the fake Jira Cloud: nothing lost.

* the issue family (issues, comments, worklogs, changelogs, transitions) under 10 % 429, 5 % 5xx (HTML 502/504 bodies too),
  2 % connection resets, 1 % truncated bodies and 2 % 200s whose body is not JSON returns exactly the ground truth;
* so do declarative parent/child streams (projects → versions/components, boards → sprints, groups → members), which
  the CDK would otherwise cache — corrupt body included — for their children;
* when retries run out the sync fails (exit ≠ 0) with one line naming the endpoint and the reason;
* `max_requests_per_second` is a ceiling shared by every worker.
"""

from __future__ import annotations

import time
from collections import Counter

from integration_tests.conftest import assert_ids_equal_ground_truth, configured_catalog, run_connector

# issue_transitions reads the same search pages as issues (search.joint_views), at no request of its own
FAMILY = ["issues", "issue_comments", "issue_worklogs", "issue_changelogs", "issue_transitions"]
DECLARATIVE = ["projects", "project_versions", "project_components", "boards", "sprints", "groups", "group_members",
               "issue_fields", "users"]
FAULTS = dict(rate_429=0.10, rate_5xx=0.05, rate_reset=0.02, rate_truncated=0.01, rate_corrupt_json=0.02, retry_after=1)


def _discover(fake):
    result = run_connector("discover", fake.config(), ca_path=fake.ca_path)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.catalog()


def _read_ok(fake, catalog, **config):
    started = time.monotonic()
    result = run_connector("read", fake.config(**config), catalog, ca_path=fake.ca_path, timeout=300)
    assert result.returncode == 0 and not result.errors(), (result.errors(), result.stderr[-2000:])
    return result, time.monotonic() - started


def test_issue_family_under_faults_equals_ground_truth(fresh_fake):
    """A full sync of 300 issues is only ~15 requests: it runs three times under the mixed rates (10 % 429, 5 % 5xx,
    2 % resets, 1 % truncated, 2 % corrupt JSON), then once per kind of fault at 30 % so that every kind surely
    happened (else this proves nothing). Every round must return exactly the ground truth."""
    fake = fresh_fake(issues=300, seed=3)
    catalog = configured_catalog(_discover(fake), FAMILY)
    rounds = [dict(FAULTS, seed=seed) for seed in (1, 2, 3)]
    rounds += [{kind: 0.3, "retry_after": 1, "seed": 7} for kind in ("rate_429", "rate_5xx", "rate_reset", "rate_truncated", "rate_corrupt_json")]
    seen: Counter = Counter()
    for faults in rounds:
        fake.set_faults(**faults)
        result, elapsed = _read_ok(fake, catalog)
        happened = fake.fault_counts()
        fake.clear_faults()
        seen.update(happened)
        by_stream = result.records_by_stream()
        for stream in FAMILY:
            assert_ids_equal_ground_truth(stream, by_stream.get(stream, []), fake)
        assert elapsed < 60, f"{faults}: retries took {elapsed:.0f} s"
        if len(faults) == 3:  # a single-kind round
            assert happened, f"{faults}: no fault happened"
    assert seen["429"] >= 3 and seen["reset"] >= 1 and seen["corrupt_json"] >= 1 and seen["truncated"] >= 1, seen
    assert seen["502"] + seen["504"] >= 1 and seen["500"] + seen["503"] >= 1, seen


def test_declarative_parents_and_children_under_faults_equal_ground_truth(fresh_fake):
    fake = fresh_fake(issues=50, seed=23)
    catalog = configured_catalog(_discover(fake), DECLARATIVE)
    fake.set_faults(seed=23, rate_429=0.10, rate_5xx=0.05, rate_reset=0.03, rate_truncated=0.03, rate_corrupt_json=0.05, retry_after=0)
    result, _ = _read_ok(fake, catalog)
    faults = fake.fault_counts()
    fake.clear_faults()
    assert faults.get("corrupt_json", 0) + faults.get("truncated", 0) >= 2, faults
    secret_forms(fake, result)
    by_stream = result.records_by_stream()
    for stream in DECLARATIVE:
        assert_ids_equal_ground_truth(stream, by_stream.get(stream, []), fake)


def test_expected_refusals_mangled_in_transit_are_retried_not_misread(fresh_fake):
    # a board with sprints turned off answers 400 "does not support sprints", which is skipped; a cut or mangled copy
    # of that answer is a transfer fault (Jira's errors are JSON), retried until the real answer comes
    fake = fresh_fake(issues=30, seed=41)
    catalog = configured_catalog(_discover(fake), ["boards", "sprints"], incremental=False)
    no_sprints = [b.id for b in fake.site.boards if b.type != "kanban" and not b.sprints_enabled]
    assert no_sprints
    fake.set_faults(seed=41, rate_corrupt_json=0.6, retry_after=0,
                    paths=[f"/rest/agile/1.0/board/{board}/sprint" for board in no_sprints])
    result, _ = _read_ok(fake, catalog)
    assert fake.fault_counts().get("corrupt_json", 0) >= 1, fake.fault_counts()
    fake.clear_faults()
    assert_ids_equal_ground_truth("sprints", result.records("sprints"), fake)


def test_retries_run_out_into_one_loud_line(fresh_fake):
    fake = fresh_fake(issues=50, seed=5)
    catalog = configured_catalog(_discover(fake), ["issues", "issue_changelogs"])
    # every changelog call is rate limited (Retry-After: 0): 9 attempts, about a second apart, then a loud failure
    fake.set_faults(rate_429=1.0, retry_after=0, paths=["POST /rest/api/3/changelog/bulkfetch"])
    started = time.monotonic()
    result = run_connector("read", fake.config(), catalog, ca_path=fake.ca_path, timeout=300)
    elapsed = time.monotonic() - started
    assert result.returncode != 0
    assert fake.fault_counts().get("429") == 9  # 1 try + max_retries 8: bounded
    errors = result.errors()
    final = errors[-1]["message"]
    endpoint = f"POST {fake.base_url}/rest/api/3/changelog/bulkfetch: HTTP 429 Too Many Requests"
    assert final.startswith("Streams that did not sync: issue_changelogs: Gave up after retrying") and endpoint in final, final
    assert "\n" not in final
    assert len(result.records("issues")) == 50  # the other stream was not harmed
    assert elapsed < 60, f"Retry-After: 0 must not cost more than the CDK's own second per retry ({elapsed:.0f} s)"
    secret_forms(fake, result)


def secret_forms(fake, result) -> None:
    """No form of the credentials on stdout or stderr, whatever went wrong."""
    import base64

    creds = fake.config()["credentials"]
    basic = base64.b64encode(f"{creds['email']}:{creds['api_token']}".encode()).decode()
    for form in (creds["api_token"], basic):
        assert form not in result.stdout and form not in result.stderr, f"secret form leaked: {form[:6]}…"


def test_request_rate_ceiling_is_shared_by_all_workers(fresh_fake):
    fake = fresh_fake(issues=50, seed=29)
    catalog = configured_catalog(_discover(fake), ["projects", "project_versions", "project_components", "project_roles",
                                                   "issue_fields", "issue_types", "workflow_statuses", "labels"], incremental=False)
    fake.reset_counts()
    _, unlimited = _read_ok(fake, catalog, num_workers=8)
    requests_made = fake.total_requests()
    assert requests_made >= 16, requests_made
    fake.reset_counts()
    _, limited = _read_ok(fake, catalog, num_workers=8, max_requests_per_second=4)
    assert fake.total_requests() == requests_made
    # 8 workers, at most 4 requests in any second: the first 4 go at once, the rest at 4 a second
    assert limited >= (requests_made - 4) / 4 - 0.5, (limited, requests_made)
    assert limited > unlimited
