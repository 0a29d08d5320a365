"""The spec as Airbyte's form reads it: an OAuth button for the OAuth 2.0 branch (advanced_auth), the fields the
connector fills in hidden, a described start-date pattern, and configs saved by the official connector accepted by
the spec as they were stored (before any run migrates them)."""

from __future__ import annotations

import copy
import json
import logging
import re

import jsonschema
import pytest

from source_jira import SourceJira
from source_jira.components.config import _AUTH_TYPE_ALIASES, MigrateLegacyCredentials
from source_jira.inputs import credentials_problem

CANONICAL = {"api_token", "oauth2.0", "bearer", "pat", "basic"}

# The official connector's saved `credentials` forms (MigrateLegacyCredentials's docstring), as stored.
OFFICIAL_CONFIGS = {
    "API Token": {
        "domain": "acme.atlassian.net",
        "credentials": {"auth_type": "API Token", "email": "ana@acme.com", "api_token": "tok", "domain": "acme.atlassian.net"},
        "projects": ["PROJ"],
        "start_date": "2024-01-01T00:00:00Z",
    },
    "OAuth2.0": {
        "domain": "acme.atlassian.net",
        "credentials": {"auth_type": "OAuth2.0", "client_id": "cid", "client_secret": "cs", "refresh_token": "rt",
                        "access_token": "at", "token_expiry_date": "2024-01-01T00:00:00+00:00"},
    },
    "Service Account": {
        "domain": "acme.atlassian.net",
        "credentials": {"auth_type": "Service Account", "service_account_token": "sat", "domain": "acme.atlassian.net"},
    },
}


@pytest.fixture(scope="module")
def spec() -> dict:
    """The spec as the connector emits it (`source-jira spec`), not only as the YAML says."""
    emitted = SourceJira(config=None).spec(logging.getLogger("test"))
    return json.loads(json.dumps({"connection_specification": emitted.connectionSpecification,
                                  "advanced_auth": _as_dict(emitted.advanced_auth)}))


def _as_dict(value):
    if value is None or isinstance(value, (dict, list, str, int, float, bool)):
        return value
    from airbyte_cdk.models import AdvancedAuth
    from serpyco_rs import Serializer

    return Serializer(AdvancedAuth, omit_none=True).dump(value)


def branches(spec: dict) -> list:
    return spec["connection_specification"]["properties"]["credentials"]["oneOf"]


def branch(spec: dict, auth_type: str) -> dict:
    return next(b for b in branches(spec) if b["properties"]["auth_type"]["const"] == auth_type)


def at(schema: dict, path: list) -> dict:
    """The property a config path names, looked up through the spec (into the oauth2.0 branch for credentials)."""
    node = schema["connection_specification"]
    for part in path:
        if "oneOf" in node:
            node = branch(schema, "oauth2.0")
        node = node["properties"][part]
    return node


def test_advanced_auth_offers_the_oauth_button_for_the_oauth_branch(spec):
    auth = spec["advanced_auth"]
    assert auth["auth_flow_type"] == "oauth2.0"
    assert auth["predicate_key"] == ["credentials", "auth_type"]
    assert auth["predicate_value"] == "oauth2.0"
    assert at(spec, auth["predicate_key"])["const"] == auth["predicate_value"]

    oauth = auth["oauth_config_specification"]
    outputs = oauth["complete_oauth_output_specification"]["properties"]
    assert {name: field["path_in_connector_config"] for name, field in outputs.items()} == {
        "access_token": ["credentials", "access_token"],
        "refresh_token": ["credentials", "refresh_token"],
    }
    assert all(field["path_in_oauth_response"] for field in outputs.values())  # Declarative OAuth needs them
    server = oauth["complete_oauth_server_output_specification"]["properties"]
    assert {name: field["path_in_connector_config"] for name, field in server.items()} == {
        "client_id": ["credentials", "client_id"],
        "client_secret": ["credentials", "client_secret"],
    }
    assert set(oauth["complete_oauth_server_input_specification"]["properties"]) == {"client_id", "client_secret"}
    for field in [*outputs.values(), *server.values()]:
        assert at(spec, field["path_in_connector_config"])["type"] == "string"

    flow = oauth["oauth_connector_input_specification"]
    assert flow["consent_url"].startswith("https://auth.atlassian.com/authorize?audience=api.atlassian.com&")
    for placeholder in ("client_id_value", "redirect_uri_value", "state_value", "scope_value"):
        assert placeholder in flow["consent_url"]
    assert "offline_access" in flow["scope"].split()  # a refresh token, so syncs run unattended
    assert flow["access_token_url"] == "https://auth.atlassian.com/oauth/token"
    assert flow["access_token_params"]["grant_type"] == "authorization_code"


def test_fields_the_connector_fills_in_are_hidden(spec):
    oauth = branch(spec, "oauth2.0")["properties"]
    assert {name for name, field in oauth.items() if field.get("airbyte_hidden")} == {"access_token", "token_expiry_date", "cloud_id"}
    assert not any(oauth[name].get("airbyte_hidden") for name in branch(spec, "oauth2.0")["required"])


def test_start_date_pattern_is_described(spec):
    start = spec["connection_specification"]["properties"]["start_date"]
    assert start["pattern_descriptor"] == "YYYY-MM-DD or YYYY-MM-DDTHH:mm:ssZ"
    for example in [*start["examples"], "2024-01-01", "2024-01-01T00:00:00Z"]:
        assert re.match(start["pattern"], example), example


def test_every_branch_is_chosen_by_a_const_auth_type_as_the_form_needs(spec):
    consts = [b["properties"]["auth_type"].get("const") for b in branches(spec)]
    assert all(consts) and len(set(consts)) == len(consts)
    assert all("auth_type" in b["required"] for b in branches(spec))
    shown = {b["properties"]["auth_type"]["const"] for b in branches(spec) if not b.get("airbyte_hidden")}
    assert shown == CANONICAL
    # each hidden branch is a form of the official connector that the config migration knows
    hidden = set(consts) - CANONICAL
    assert hidden == {"API Token", "OAuth2.0", "Service Account"}
    assert {_AUTH_TYPE_ALIASES[name] for name in hidden} == CANONICAL - {"pat", "basic"}  # the official one reads Cloud only


@pytest.mark.parametrize("form", sorted(OFFICIAL_CONFIGS))
def test_an_official_config_validates_as_saved_and_after_migration(spec, form):
    schema = spec["connection_specification"]
    saved = OFFICIAL_CONFIGS[form]
    jsonschema.Draft7Validator(schema).validate(saved)  # as stored, before any run migrates it

    migrated = copy.deepcopy(saved)
    MigrateLegacyCredentials().transform(migrated)
    assert migrated["credentials"]["auth_type"] in CANONICAL
    jsonschema.Draft7Validator(schema).validate(migrated)
    assert credentials_problem(migrated, spec) is None


def test_an_unknown_or_incomplete_config_is_still_refused(spec):
    validator = jsonschema.Draft7Validator(spec["connection_specification"])
    assert not validator.is_valid({"domain": "acme", "credentials": {"auth_type": "Basic", "email": "e", "api_token": "t"}})
    assert not validator.is_valid({"domain": "acme", "credentials": {"auth_type": "api_token", "email": "e"}})
    problem = credentials_problem({"domain": "acme", "credentials": {"auth_type": "oauth2.0", "client_id": "c"}}, spec)
    assert problem and "client_secret" in problem and "refresh_token" in problem
