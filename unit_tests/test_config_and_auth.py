"""Config migrations (official connector's forms), domain normalisation, the three auth types, OAuth token rotation
written back through the CDK's CONNECTOR_CONFIG control message, and cloudId resolution."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta, timezone

import pytest
from airbyte_cdk.test.mock_http import HttpMocker, HttpRequest, HttpResponse

from source_jira import SourceJira
from source_jira.components.config import MigrateLegacyCredentials, ResolveOAuthCloudId, normalize_domain
from source_jira.secrets import secret_values
from unit_tests.conftest import API, base_config, read_stream, records_of

ME = {"accountId": "acc-1", "displayName": "Ana", "timeZone": "UTC"}


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("acme", "acme.atlassian.net"),
        ("acme.atlassian.net", "acme.atlassian.net"),
        ("https://acme.atlassian.net/", "acme.atlassian.net"),
        ("https://ACME.atlassian.net/jira/software", "acme.atlassian.net"),
        ("  acme.atlassian.net  ", "acme.atlassian.net"),
        ("127.0.0.1:8443", "127.0.0.1:8443"),
        ("localhost:8443", "localhost:8443"),
        ("jira.example.com", "jira.example.com"),
    ],
)
def test_domain_normalisation(raw, expected):
    assert normalize_domain(raw) == expected


def _migrated(config: dict) -> dict:
    config = json.loads(json.dumps(config))
    MigrateLegacyCredentials().transform(config)
    return config


def test_flat_legacy_config_is_migrated():
    migrated = _migrated({"domain": "acme.atlassian.net", "email": "a@acme.com", "api_token": "tok", "projects": ["P"]})
    assert migrated == {
        "domain": "acme.atlassian.net",
        "projects": ["P"],
        "credentials": {"auth_type": "api_token", "email": "a@acme.com", "api_token": "tok"},
    }


@pytest.mark.parametrize(
    "credentials,expected",
    [
        ({"auth_type": "API Token", "email": "a@acme.com", "api_token": "tok", "domain": "acme.atlassian.net"},
         {"auth_type": "api_token", "email": "a@acme.com", "api_token": "tok"}),
        ({"auth_type": "Service Account", "service_account_token": "sat", "domain": "acme.atlassian.net"},
         {"auth_type": "bearer", "api_token": "sat"}),
        ({"auth_type": "OAuth2.0", "client_id": "cid", "client_secret": "cs", "refresh_token": "rt"},
         {"auth_type": "oauth2.0", "client_id": "cid", "client_secret": "cs", "refresh_token": "rt"}),
    ],
)
def test_official_credentials_forms_are_migrated(credentials, expected):
    migrated = _migrated({"domain": "acme.atlassian.net", "credentials": credentials})
    assert migrated["credentials"] == expected
    assert migrated["domain"] == "acme.atlassian.net"


def test_current_config_is_left_alone():
    config = base_config()
    assert _migrated(config) == config


def test_migration_is_emitted_as_control_message_and_written_back(tmp_path, capsys):
    path = tmp_path / "config.json"
    legacy = {"domain": "acme", "email": "a@acme.com", "api_token": "tok"}
    path.write_text(json.dumps(legacy))
    source = SourceJira(config=legacy, config_path=str(path))
    out = capsys.readouterr().out
    control = [json.loads(line) for line in out.splitlines() if '"CONTROL"' in line]
    assert control and control[0]["control"]["connectorConfig"]["config"]["credentials"]["auth_type"] == "api_token"
    assert json.loads(path.read_text())["credentials"]["email"] == "a@acme.com"
    # the normalised domain is used at run time, not persisted
    assert source._config["domain"] == "acme.atlassian.net"


def test_basic_auth_header():
    with HttpMocker() as http:
        token = base64.b64encode(b"ana@acme.com:s3cr3t-token").decode()
        http.get(HttpRequest(f"{API}/myself", headers={"Authorization": f"Basic {token}"}), HttpResponse(json.dumps(ME), 200))
        assert records_of(read_stream("myself", base_config()))[0]["accountId"] == "acc-1"


def test_bearer_auth_header():
    config = base_config(credentials={"auth_type": "bearer", "api_token": "svc-token"})
    with HttpMocker() as http:
        http.get(HttpRequest(f"{API}/myself", headers={"Authorization": "Bearer svc-token"}), HttpResponse(json.dumps(ME), 200))
        assert records_of(read_stream("myself", config))[0]["accountId"] == "acc-1"


def _oauth_config(**creds) -> dict:
    base = {"auth_type": "oauth2.0", "client_id": "cid", "client_secret": "csecret", "refresh_token": "rt-old", "cloud_id": "cloud-123"}
    base.update(creds)
    return base_config(credentials=base)


def test_oauth_refresh_rotates_token_and_emits_updated_config(capsys):
    config = _oauth_config()
    with HttpMocker() as http:
        http.post(
            HttpRequest(
                "https://auth.atlassian.com/oauth/token",
                body="grant_type=refresh_token&client_id=cid&client_secret=csecret&refresh_token=rt-old",
            ),
            HttpResponse(json.dumps({"access_token": "at-new", "refresh_token": "rt-new", "expires_in": 3600}), 200),
        )
        http.get(
            HttpRequest("https://api.atlassian.com/ex/jira/cloud-123/rest/api/3/myself", headers={"Authorization": "Bearer at-new"}),
            HttpResponse(json.dumps(ME), 200),
        )
        output = read_stream("myself", config)
    assert records_of(output)[0]["accountId"] == "acc-1"
    # the CDK prints the CONNECTOR_CONFIG control message straight to stdout
    controls = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"CONNECTOR_CONFIG"' in line]
    assert controls, "a rotated refresh token must be written back"
    new_creds = controls[-1]["control"]["connectorConfig"]["config"]["credentials"]
    assert new_creds["refresh_token"] == "rt-new" and new_creds["access_token"] == "at-new"


def test_oauth_valid_access_token_is_used_without_refresh():
    expiry = (datetime.now(timezone.utc) + timedelta(hours=1)).isoformat()
    config = _oauth_config(access_token="at-live", token_expiry_date=expiry)
    with HttpMocker() as http:
        http.get(
            HttpRequest("https://api.atlassian.com/ex/jira/cloud-123/rest/api/3/myself", headers={"Authorization": "Bearer at-live"}),
            HttpResponse(json.dumps(ME), 200),
        )
        output = read_stream("myself", config)
    assert records_of(output)[0]["accountId"] == "acc-1"


def test_cloud_id_is_resolved_from_accessible_resources_and_persisted():
    expiry = (datetime.now(timezone.utc) + timedelta(hours=1)).isoformat()
    config = _oauth_config(access_token="at-live", token_expiry_date=expiry)
    del config["credentials"]["cloud_id"]
    with HttpMocker() as http:
        http.get(
            HttpRequest("https://api.atlassian.com/oauth/token/accessible-resources"),
            HttpResponse(json.dumps([{"id": "other", "url": "https://other.atlassian.net"}, {"id": "cloud-xyz", "url": "https://acme.atlassian.net"}]), 200),
        )
        ResolveOAuthCloudId().transform(config)
    assert config["credentials"]["cloud_id"] == "cloud-xyz"


def test_cloud_id_resolution_refreshes_an_expired_token_and_keeps_the_rotated_one(capsys):
    config = _oauth_config()
    del config["credentials"]["cloud_id"]
    with HttpMocker() as http:
        http.post(
            HttpRequest(
                "https://auth.atlassian.com/oauth/token",
                body={"grant_type": "refresh_token", "client_id": "cid", "client_secret": "csecret", "refresh_token": "rt-old"},
            ),
            HttpResponse(json.dumps({"access_token": "at-2", "refresh_token": "rt-2", "expires_in": 3600}), 200),
        )
        http.get(
            HttpRequest("https://api.atlassian.com/oauth/token/accessible-resources"),
            HttpResponse(json.dumps([{"id": "other", "url": "https://other.atlassian.net"}]), 200),
        )
        with pytest.raises(Exception) as info:
            ResolveOAuthCloudId().transform(config)
    assert "no access to the site acme.atlassian.net" in info.value.message and "other.atlassian.net" in info.value.message
    # the rotated refresh token was persisted before the failure
    out = capsys.readouterr().out
    assert '"rt-2"' in out and '"CONNECTOR_CONFIG"' in out


def test_secret_values_include_basic_header_form():
    values = secret_values(base_config())
    assert "s3cr3t-token" in values
    assert base64.b64encode(b"ana@acme.com:s3cr3t-token").decode() in values
