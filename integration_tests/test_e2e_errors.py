"""Bad input through the real command: a clear one-line error, no traceback on stdout, and no secret in any form
(token, base64 `email:token`, `Basic …` header) on stdout or stderr."""

from __future__ import annotations

import base64
import json
import subprocess
import time

import pytest

from integration_tests.conftest import configured_catalog, run_connector, source_jira_command

SECRET = "tok-Secret-1234567890"


def secret_forms(email: str, token: str) -> list:
    basic = base64.b64encode(f"{email}:{token}".encode()).decode()
    return [token, basic, f"Basic {basic}"]


def assert_clean(result, email: str, token: str) -> None:
    for form in secret_forms(email, token):
        assert form not in result.stdout, f"secret form leaked on stdout: {form[:6]}…"
        assert form not in result.stderr, f"secret form leaked on stderr: {form[:6]}…"
    assert "Traceback" not in result.stdout
    for message in result.messages:
        if message["type"] == "TRACE" and message["trace"]["type"] == "ERROR":
            assert not message["trace"]["error"].get("stack_trace")
            assert "\n" not in message["trace"]["error"]["message"]
        if message["type"] == "LOG":
            assert "\n" not in message["log"]["message"] or message["log"]["level"] in ("INFO", "DEBUG")


def wrong_token_config(fake) -> dict:
    config = fake.config()
    config["credentials"]["api_token"] = SECRET
    return config


def test_check_with_wrong_token(fake_jira):
    config = wrong_token_config(fake_jira)
    result = run_connector("check", config=config, ca_path=fake_jira.ca_path)
    status = result.connection_status()
    assert status["status"] == "FAILED"
    assert "HTTP 401" in status["message"] and "Client must be authenticated" in status["message"]
    assert_clean(result, config["credentials"]["email"], SECRET)


def test_read_with_wrong_token_fails_loudly_without_secrets(fake_jira):
    config = wrong_token_config(fake_jira)
    discovered = run_connector("discover", config=fake_jira.config(), ca_path=fake_jira.ca_path).catalog()
    catalog = configured_catalog(discovered, streams=["projects", "issues", "users"])
    result = run_connector("read", config=config, catalog=catalog, ca_path=fake_jira.ca_path, env={"SOURCE_JIRA_DEBUG": "0"})
    assert result.returncode != 0
    assert not result.records()
    errors = result.errors()
    assert errors and all(e["failure_type"] == "config_error" for e in errors)
    assert "Streams that did not sync" in errors[-1]["message"]
    assert_clean(result, config["credentials"]["email"], SECRET)


def test_debug_mode_keeps_stdout_clean_and_secrets_masked(fake_jira):
    config = wrong_token_config(fake_jira)
    discovered = run_connector("discover", config=fake_jira.config(), ca_path=fake_jira.ca_path).catalog()
    catalog = configured_catalog(discovered, streams=["projects"])
    result = run_connector("read", config=config, catalog=catalog, ca_path=fake_jira.ca_path, env={"SOURCE_JIRA_DEBUG": "1"})
    assert result.returncode != 0
    assert "Traceback" in result.stderr  # details for the developer, on stderr only
    assert_clean(result, config["credentials"]["email"], SECRET)


@pytest.mark.parametrize(
    "domain,expected",
    [
        ("nosuchsite.invalid", "was not found (DNS lookup failed)"),
        ("http://acme.atlassian.net", "HTTPS only"),
        ("127.0.0.1:1", "unreachable"),
    ],
)
def test_check_bad_domains_answer_fast(domain, expected):
    config = {"domain": domain, "credentials": {"auth_type": "api_token", "email": "a@b.c", "api_token": SECRET}}
    started = time.monotonic()
    result = run_connector("check", config=config, timeout=60)
    assert time.monotonic() - started < 20
    status = result.connection_status()
    assert status["status"] == "FAILED" and expected in status["message"], status
    assert_clean(result, "a@b.c", SECRET)


def test_check_untrusted_certificate(fake_jira):
    # no CA bundle for the fake's self-signed certificate: a TLS failure, said as such
    config = fake_jira.config()
    result = run_connector("check", config=config, env={"REQUESTS_CA_BUNDLE": "", "CURL_CA_BUNDLE": ""})
    status = result.connection_status()
    assert status["status"] == "FAILED" and "TLS failure" in status["message"], status


def test_check_names_unknown_projects(fake_jira):
    config = fake_jira.config(projects=["NOPE1", "NOPE2"])
    result = run_connector("check", config=config, ca_path=fake_jira.ca_path)
    status = result.connection_status()
    assert status["status"] == "FAILED" and "NOPE1" in status["message"] and "NOPE2" in status["message"], status


def test_check_reports_bad_jql_with_jiras_message(fake_jira):
    config = fake_jira.config(issues_jql_filter="issuetype = = broken")
    result = run_connector("check", config=config, ca_path=fake_jira.ca_path)
    status = result.connection_status()
    assert status["status"] == "FAILED" and "JQL" in status["message"], status
    assert "\n" not in status["message"]


def test_malformed_config_file_is_one_line(tmp_path):
    path = tmp_path / "config.json"
    path.write_text('{"domain": "acme", "credentials": ')
    proc = subprocess.run(source_jira_command() + ["check", "--config", str(path)], capture_output=True, text=True, timeout=60)
    lines = [json.loads(l) for l in proc.stdout.splitlines() if l.strip()]
    status = next(m["connectionStatus"] for m in lines if m["type"] == "CONNECTION_STATUS")
    assert status["status"] == "FAILED" and "Traceback" not in proc.stdout + proc.stderr
