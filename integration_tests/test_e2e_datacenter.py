"""Jira Data Center / Server end to end (issue 15): the real `source-jira` command against the fake's Data Center mode
(REST API v2 only, under a context path, personal access token or username + password, key-based users, `startAt`
search under a 10,000-result window, whole changelogs in the search pages). Every offered stream is compared with the
fake's ground truth, after a full read and after an incremental one that follows changes to the site."""

from __future__ import annotations

import pytest

from integration_tests.conftest import (
    assert_ids_equal_ground_truth,
    assert_valid_against_schemas,
    configured_catalog,
    run_connector,
)

FAMILY = ["issues", "issue_comments", "issue_changelogs", "issue_worklogs"]


@pytest.fixture(scope="module")
def dc_fake():
    from integration_tests.fake_jira import FakeJira

    fake = FakeJira(issues=300, seed=15, timezone="Europe/Berlin", deployment="datacenter", context_path="/jira")
    fake.start()
    yield fake
    fake.stop()


def _discover(fake, auth: str = "pat") -> dict:
    result = run_connector("discover", config=fake.config(auth=auth), ca_path=fake.ca_path)
    assert result.returncode == 0 and result.catalog(), result.errors() or result.stderr[-2000:]
    return result.catalog()


@pytest.fixture(scope="module")
def dc_full_read(dc_fake):
    discovered = _discover(dc_fake)
    catalog = configured_catalog(discovered)
    result = run_connector("read", config=dc_fake.config(auth="pat"), catalog=catalog, ca_path=dc_fake.ca_path)
    assert result.returncode == 0 and not result.errors(), (result.errors(), result.stderr[-2000:])
    return discovered, result


@pytest.mark.parametrize("auth", ["pat", "basic"])
def test_check_succeeds_with_a_personal_access_token_and_with_username_and_password(dc_fake, auth):
    result = run_connector("check", config=dc_fake.config(auth=auth), ca_path=dc_fake.ca_path)
    assert result.connection_status() == {"status": "SUCCEEDED"}, result.connection_status()


def test_cloud_credentials_on_a_data_center_site_fail_check_naming_the_right_ones(dc_fake):
    config = dc_fake.config(auth="pat")
    config["credentials"] = {"auth_type": "api_token", "email": "ana@example.com", "api_token": "tok"}
    status = run_connector("check", config=config, ca_path=dc_fake.ca_path).connection_status()
    assert status["status"] == "FAILED"
    assert "self-hosted Jira DataCenter" in status["message"] and "personal access token" in status["message"], status


def test_a_wrong_context_path_fails_check_in_one_line(dc_fake):
    config = dc_fake.config(auth="pat")
    config["domain"] = config["domain"].rsplit("/", 1)[0] + "/wrong"
    status = run_connector("check", config=config, ca_path=dc_fake.ca_path).connection_status()
    assert status["status"] == "FAILED" and "\n" not in status["message"] and "404" in status["message"], status


def test_discover_offers_the_data_center_streams_with_their_keys(dc_fake):
    discovered = _discover(dc_fake, auth="basic")
    names = {s["name"] for s in discovered["streams"]}
    assert names == set(dc_fake.streams()), (sorted(names - set(dc_fake.streams())), sorted(set(dc_fake.streams()) - names))
    for stream in discovered["streams"]:
        assert [p[0] for p in stream["source_defined_primary_key"]] == dc_fake.ground_truth_pk(stream["name"]), stream["name"]


def test_a_full_read_of_every_stream_equals_ground_truth(dc_full_read, dc_fake):
    discovered, result = dc_full_read
    by_stream = result.records_by_stream()
    for stream in discovered["streams"]:
        assert_ids_equal_ground_truth(stream["name"], by_stream.get(stream["name"], []), dc_fake)
    assert_valid_against_schemas(discovered, by_stream)
    assert any("Reading Jira DataCenter" in line for line in result.logs("INFO"))
    token = dc_fake.config(auth="pat")["credentials"]["personal_access_token"]
    assert token not in result.stdout and token not in result.stderr


def test_records_name_users_by_key_and_carry_rich_text_as_documents(dc_full_read):
    _, result = dc_full_read
    issue = next(r for r in result.records("issues") if (r.get("fields") or {}).get("reporter"))
    reporter = issue["fields"]["reporter"]
    assert reporter.get("key") and "accountId" not in reporter
    comment = next(r for r in result.records("issue_comments") if r.get("body"))
    assert comment["body"].get("type") == "doc" and isinstance(comment.get("bodyText"), str)


def test_an_incremental_read_follows_changes_on_the_site(dc_fake, dc_full_read):
    discovered, first = dc_full_read
    catalog = configured_catalog(discovered, FAMILY)
    dc_fake.update_issues(12)
    result = run_connector("read", config=dc_fake.config(auth="basic"), catalog=catalog, state=first.final_state(),
                           ca_path=dc_fake.ca_path)
    assert result.returncode == 0 and not result.errors(), (result.errors(), result.stderr[-2000:])
    import base64

    creds = dc_fake.config(auth="basic")["credentials"]
    for secret in (creds["password"], base64.b64encode(f"{creds['username']}:{creds['password']}".encode()).decode()):
        assert secret not in result.stdout and secret not in result.stderr
    issues = result.records("issues")
    assert 12 <= len(issues) < 150, len(issues)  # the changed issues (and the lookback's), not the site
    # the union of both reads is the site as it is now
    for stream in FAMILY:
        records = {tuple(r.get(k) for k in dc_fake.ground_truth_pk(stream)): r for r in first.records(stream) + result.records(stream)}
        assert_ids_equal_ground_truth(stream, list(records.values()), dc_fake)


def test_a_site_larger_than_the_result_window_is_read_completely():
    """15,000 issues: one search cannot page past 10,000 results on Data Center; the id scan and the windows do."""
    from integration_tests.fake_jira import FakeJira

    with FakeJira(issues=15_000, seed=3, deployment="datacenter", context_path="/jira") as fake:
        discovered = _discover(fake)
        catalog = configured_catalog(discovered, ["issue_ids", "issues"], incremental=False)
        fake.reset_counts()
        result = run_connector("read", config=fake.config(auth="pat", num_workers=8), catalog=catalog, ca_path=fake.ca_path, timeout=900)
        assert result.returncode == 0 and not result.errors(), (result.errors(), result.stderr[-2000:])
        for stream in ("issue_ids", "issues"):
            assert_ids_equal_ground_truth(stream, result.records(stream), fake)
        counts = fake.request_counts()
        searches = sum(n for key, n in counts.items() if key.endswith("/search"))
        assert searches <= 15_000 / 250 + 2 * 15_000 / 1000 + 20, counts  # pages of 250 with fields, 1,000 in the scans


def test_the_issue_family_costs_at_most_three_requests_per_100_issues():
    from integration_tests.fake_jira import FakeJira

    with FakeJira(issues=1_000, seed=8, deployment="datacenter") as fake:
        catalog = configured_catalog(_discover(fake), FAMILY)
        fake.reset_counts()
        result = run_connector("read", config=fake.config(auth="pat"), catalog=catalog, ca_path=fake.ca_path)
        assert result.returncode == 0 and not result.errors(), (result.errors(), result.stderr[-2000:])
        for stream in FAMILY:
            assert_ids_equal_ground_truth(stream, result.records(stream), fake)
        counts = fake.request_counts()
        assert sum(counts.values()) <= 30, counts  # 1,000 issues: changelogs come with the search pages


def test_faults_on_a_data_center_site_lose_nothing():
    from integration_tests.fake_jira import FakeJira

    with FakeJira(issues=120, seed=21, deployment="datacenter") as fake:
        catalog = configured_catalog(_discover(fake), FAMILY + ["issue_ids", "users", "groups", "group_members"])
        fake.set_faults(seed=21, rate_429=0.08, rate_5xx=0.05, rate_reset=0.03, rate_truncated=0.03, rate_corrupt_json=0.04, retry_after=0)
        result = run_connector("read", config=fake.config(auth="basic"), catalog=catalog, ca_path=fake.ca_path, timeout=300)
        faults = fake.fault_counts()
        fake.clear_faults()
        assert result.returncode == 0 and not result.errors(), (result.errors(), result.stderr[-2000:])
        assert sum(faults.values()) >= 5, faults
        for stream in FAMILY + ["issue_ids", "users", "groups", "group_members"]:
            assert_ids_equal_ground_truth(stream, result.records(stream), fake)


def test_a_corporate_certificate_authority_is_trusted_from_the_config_only(dc_fake):
    """The fake's certificate is signed by its own CA: without `ca_certificate` the connector refuses it (TLS
    verification is never turned off); with the CA's PEM in the config, check and a read succeed."""
    env = {"REQUESTS_CA_BUNDLE": "", "CURL_CA_BUNDLE": ""}  # the public roots only, as on a platform
    refused = run_connector("check", config=dc_fake.config(auth="pat"), env=env).connection_status()
    assert refused["status"] == "FAILED" and "certificate is not trusted" in refused["message"], refused
    pem = open(dc_fake.ca_path).read()
    config = dc_fake.config(auth="pat", ca_certificate=pem)
    assert run_connector("check", config=config, env=env).connection_status() == {"status": "SUCCEEDED"}
    catalog = configured_catalog(_discover(dc_fake), ["projects", "issue_ids"], incremental=False)
    result = run_connector("read", config=config, catalog=catalog, env=env)
    assert result.returncode == 0 and not result.errors(), (result.errors(), result.stderr[-2000:])
    assert_ids_equal_ground_truth("issue_ids", result.records("issue_ids"), dc_fake)
