"""Config migrations and normalisation. Python because the legacy forms differ in shape (flat vs nested, renamed
fields, labels as auth types), the OAuth cloudId needs an HTTP look-up, and the deployment (Cloud or Data Center)
decides how the site is read and how its address is normalised — which ConfigAddFields cannot say."""

from __future__ import annotations

import logging
from dataclasses import InitVar, dataclass, field
from datetime import datetime, timedelta, timezone
from types import MappingProxyType
from typing import Any, Mapping, MutableMapping, Optional
from urllib.parse import urlsplit

import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.declarative.transformations.config_transformations.config_transformation import (
    ConfigTransformation,
)
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

logger = logging.getLogger("airbyte")

ATLASSIAN_TOKEN_URL = "https://auth.atlassian.com/oauth/token"
ATLASSIAN_RESOURCES_URL = "https://api.atlassian.com/oauth/token/accessible-resources"

_AUTH_TYPE_ALIASES = MappingProxyType({
    "api_token": "api_token",
    "API Token": "api_token",
    "api token": "api_token",
    "oauth2.0": "oauth2.0",
    "OAuth2.0": "oauth2.0",
    "oauth2": "oauth2.0",
    "bearer": "bearer",
    "Service Account": "bearer",
    "service_account": "bearer",
    "pat": "pat",
    "personal_access_token": "pat",
    "basic": "basic",
})

CLOUD, DATACENTER = "cloud", "datacenter"
CLOUD_AUTH = ("api_token", "oauth2.0")  # Atlassian accounts: only Jira Cloud knows them
DATACENTER_AUTH = ("pat", "basic")  # a self-hosted server's own users: only Data Center / Server knows them
_DEPLOYMENT_ALIASES = MappingProxyType({
    "cloud": CLOUD, "jira cloud": CLOUD,
    "datacenter": DATACENTER, "data center": DATACENTER, "data_center": DATACENTER, "server": DATACENTER,
    "jira data center": DATACENTER, "self-hosted": DATACENTER, "auto": None, "": None,
})
AUTH_TITLES = MappingProxyType({
    "api_token": "API token (e-mail + token)", "oauth2.0": "OAuth 2.0", "bearer": "Bearer token",
    "pat": "Personal access token", "basic": "Username and password",
})


def config_error(message: str) -> AirbyteTracedException:
    return AirbyteTracedException(message=message, internal_message=message, failure_type=FailureType.config_error)


def normalize_domain(raw: Any, keep_path: bool = False) -> str:
    """`acme`, `acme.atlassian.net`, `https://acme.atlassian.net/` -> `acme.atlassian.net`; `host:port` is kept.
    `keep_path` (a self-hosted site): the context path stays (`https://jira.corp.example/jira/` ->
    `jira.corp.example/jira`); a bare name is not completed to `.atlassian.net`."""
    if not isinstance(raw, str) or not raw.strip():
        raise config_error("The Jira site (domain) is empty: give it as acme.atlassian.net.")
    value = raw.strip()
    lowered = value.lower()
    if lowered.startswith("http://"):
        raise config_error(
            f"The Jira site '{value}' uses http://; Jira Cloud is HTTPS only. Use https:// or just the host name."
        )
    if "://" in value:
        if not lowered.startswith("https://"):
            raise config_error(f"The Jira site '{value}' has an unsupported scheme; give the host, e.g. acme.atlassian.net.")
        value = value[len("https://") :]
    value = value.split("?", 1)[0].split("#", 1)[0]
    host, _, path = value.partition("/")
    host = host.strip().rstrip(".")
    if "@" in host or not host or any(c.isspace() for c in host):
        raise config_error(f"The Jira site '{raw}' is not a valid host name; give it as acme.atlassian.net.")
    try:
        parsed = urlsplit("https://" + host)
        parsed.port  # noqa: B018 - raises on a bad port
    except ValueError:
        raise config_error(f"The Jira site '{raw}' has an invalid port; give it as acme.atlassian.net.") from None
    hostname = parsed.hostname or ""
    allowed = set("abcdefghijklmnopqrstuvwxyz0123456789-.[]:")
    if not hostname or not set(hostname.lower()) <= allowed:
        raise config_error(f"The Jira site '{raw}' is not a valid host name; give it as acme.atlassian.net.")
    if keep_path:
        path = "/".join(part for part in path.strip().split("/") if part)
        if any(c.isspace() for c in path) or any(part in (".", "..") for part in path.split("/")):
            raise config_error(f"The Jira site '{raw}' has an invalid path; give it as https://jira.example.com/jira.")
        return host.lower() + (f"/{path}" if path else "")
    if "." not in hostname and ":" not in host and hostname != "localhost":
        host = f"{host}.atlassian.net"
    return host.lower()


ATLASSIAN_SUFFIXES = (".atlassian.net", ".jira.com", ".jira-dev.com", ".atlassian.com")


def atlassian_host(raw: Any) -> bool:
    """Whether a site as typed is Atlassian's (Jira Cloud): `acme`, `acme.atlassian.net`, `https://acme.jira.com/…`."""
    text = str(raw or "").strip().lower()
    text = text.split("://", 1)[-1]
    host = text.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0].rsplit("@", 1)[-1].split(":", 1)[0].rstrip(".")
    return "." not in host and host not in ("localhost", "") or host.endswith(ATLASSIAN_SUFFIXES)


def deployment_of(config: Mapping[str, Any]) -> str:
    """`cloud` or `datacenter`, as `ResolveDeployment` settled it (Cloud when nothing says otherwise)."""
    return DATACENTER if config.get("deployment") == DATACENTER else CLOUD


def site_url(config: Mapping[str, Any]) -> str:
    """The site's base URL, context path included (no trailing slash); OAuth goes through Atlassian's gateway."""
    creds = config.get("credentials") or {}
    if creds.get("auth_type") == "oauth2.0" and creds.get("cloud_id"):
        return f"https://api.atlassian.com/ex/jira/{creds['cloud_id']}"
    return "https://" + str(config.get("domain") or "")


@dataclass
class MigrateLegacyCredentials(ConfigTransformation):
    """Configs of the official connector keep working: flat `email`/`api_token`, and its `credentials` forms
    ("API Token", "Service Account" with `service_account_token`, "OAuth2.0")."""

    parameters: InitVar[Optional[Mapping[str, Any]]] = None

    def transform(self, config: MutableMapping[str, Any]) -> None:
        creds = config.get("credentials")
        if not isinstance(creds, Mapping):
            if config.get("api_token") is not None or config.get("email") is not None:
                config["credentials"] = {
                    "auth_type": "api_token",
                    "email": config.pop("email", None),
                    "api_token": config.pop("api_token", None),
                }
            return
        creds = dict(creds)
        auth_type = creds.get("auth_type") or creds.get("option_title") or (
            "oauth2.0" if creds.get("client_id") else "bearer" if creds.get("service_account_token") else "api_token"
        )
        creds["auth_type"] = _AUTH_TYPE_ALIASES.get(auth_type, auth_type)
        if creds["auth_type"] == "bearer" and "service_account_token" in creds:
            creds["api_token"] = creds.pop("service_account_token")
        if "domain" in creds:
            domain = creds.pop("domain")
            config.setdefault("domain", domain)
        creds.pop("option_title", None)
        if creds != config["credentials"]:
            config["credentials"] = creds


@dataclass
class ResolveDeployment(ConfigTransformation):
    """Settle `deployment` (Jira Cloud or Data Center/Server) before anything is built: the credentials tell it (an
    API token or OAuth is an Atlassian account: Cloud; a personal access token or a username and password is a
    self-hosted server's user: Data Center), `deployment` may say it, and the two must agree. A bearer token is
    Cloud unless `deployment` says otherwise. `check` then confirms it with the site's serverInfo."""

    parameters: InitVar[Optional[Mapping[str, Any]]] = None

    def transform(self, config: MutableMapping[str, Any]) -> None:
        raw = config.get("deployment")
        said = _DEPLOYMENT_ALIASES.get(str(raw or "").strip().lower(), "?")
        if said == "?":
            raise config_error(f"Unknown deployment '{raw}': use cloud or datacenter (or leave it empty to follow the credentials).")
        auth_type = (config.get("credentials") or {}).get("auth_type")
        implied = DATACENTER if auth_type in DATACENTER_AUTH else CLOUD if auth_type in CLOUD_AUTH else None
        if said and implied and said != implied:
            use = ("a personal access token or a username and password" if said == DATACENTER
                   else "an API token (e-mail + token) or OAuth 2.0")
            raise config_error(f"The deployment is {_name(said)}, but the credentials are '{AUTH_TITLES.get(auth_type, auth_type)}', "
                               f"which only {_name(implied)} accepts: use {use}.")
        config["deployment"] = said or implied or CLOUD


def _name(deployment: str) -> str:
    return "Jira Data Center" if deployment == DATACENTER else "Jira Cloud"


@dataclass
class NormalizeDomain(ConfigTransformation):
    """Normalise the site once: scheme stripped, http:// refused; on Cloud the path is dropped and a bare site name
    completed (`acme` -> acme.atlassian.net), on Data Center the context path is kept."""

    parameters: InitVar[Optional[Mapping[str, Any]]] = None

    def transform(self, config: MutableMapping[str, Any]) -> None:
        if "domain" in config:
            # a path is dropped only on an Atlassian host (a pasted browser address); any other host is self-hosted
            # whatever the credentials say, so its context path stays and `check` can tell the user what it is
            keep = config.get("deployment") == DATACENTER or not atlassian_host(config["domain"])
            config["domain"] = normalize_domain(config["domain"], keep_path=keep)


@dataclass
class CheckCaCertificate(ConfigTransformation):
    """`ca_certificate` (PEM) must hold at least one certificate Python's ssl module can load: a pasted file that is
    not one fails here in one line, not as a TLS error on the first request."""

    parameters: InitVar[Optional[Mapping[str, Any]]] = None

    def transform(self, config: MutableMapping[str, Any]) -> None:
        pem = config.get("ca_certificate")
        if pem is None or (isinstance(pem, str) and not pem.strip()):
            config.pop("ca_certificate", None)
            return
        import ssl

        if not isinstance(pem, str) or "-----BEGIN CERTIFICATE-----" not in pem:
            raise config_error("The CA certificate is not a PEM certificate: paste the text from -----BEGIN CERTIFICATE----- to -----END CERTIFICATE-----.")
        try:
            ssl.create_default_context().load_verify_locations(cadata=pem)
        except (ssl.SSLError, ValueError) as exc:
            raise config_error(f"The CA certificate could not be loaded ({str(exc)[:120]}); paste the PEM text of the certificate authority.") from None


@dataclass
class DropEmptyOptionals(ConfigTransformation):
    """An optional field left empty in a form (`"start_date": ""`) means "not set", as the spec says, rather than
    a value the date-time pattern refuses."""

    parameters: InitVar[Optional[Mapping[str, Any]]] = None
    keys: tuple = ("start_date", "issues_jql_filter", "max_requests_per_second")

    def transform(self, config: MutableMapping[str, Any]) -> None:
        for key in self.keys:
            if key in config and (config[key] is None or (isinstance(config[key], str) and not config[key].strip())):
                del config[key]


@dataclass
class ResolveOAuthCloudId(ConfigTransformation):
    """OAuth 2.0 calls go to api.atlassian.com/ex/jira/{cloudId}; find the site's cloudId once and persist it
    (the CDK writes a migrated config back through a CONNECTOR_CONFIG control message). If the access token has
    expired, it is refreshed here and the rotated refresh token is persisted in the same message."""

    parameters: InitVar[Optional[Mapping[str, Any]]] = None
    token_url: str = ATLASSIAN_TOKEN_URL
    resources_url: str = ATLASSIAN_RESOURCES_URL
    timeout: float = field(default=20.0)

    def transform(self, config: MutableMapping[str, Any]) -> None:
        creds = config.get("credentials")
        if not isinstance(creds, Mapping) or creds.get("auth_type") != "oauth2.0" or creds.get("cloud_id"):
            return
        creds = dict(creds)
        domain = normalize_domain(config.get("domain"))
        token = self._valid_access_token(creds)
        if creds != config["credentials"]:
            # The refresh rotated the refresh token: keep it even if the look-up below fails.
            config["credentials"] = creds
            _emit_config(config)
        sites = _atlassian_json(
            "GET", self.resources_url, "find the site's cloudId", self.timeout,
            refused="Atlassian refused to list the sites of this OAuth grant (HTTP {status}); re-authorise the app.",
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
        )
        for site in sites if isinstance(sites, list) else []:
            url = str(site.get("url", ""))
            if urlsplit(url).netloc.lower() == domain.split(":")[0]:
                creds["cloud_id"] = site.get("id")
                config["credentials"] = creds
                return
        names = ", ".join(urlsplit(str(s.get("url", ""))).netloc for s in sites if isinstance(s, Mapping)) or "none"
        raise config_error(f"The OAuth grant has no access to the site {domain}; it can reach: {names}.")

    def _valid_access_token(self, creds: dict) -> str:
        expiry = _parse_datetime(creds.get("token_expiry_date"))
        if creds.get("access_token") and expiry and expiry > datetime.now(timezone.utc) + timedelta(minutes=1):
            return str(creds["access_token"])
        body = _atlassian_json(
            "POST", self.token_url, "refresh the OAuth token", self.timeout,
            refused="Atlassian refused to refresh the OAuth token (HTTP {status}); the refresh token may have expired "
            "or been rotated: re-authorise the app.",
            json={
                "grant_type": "refresh_token",
                "client_id": creds.get("client_id"),
                "client_secret": creds.get("client_secret"),
                "refresh_token": creds.get("refresh_token"),
            },
        )
        if not isinstance(body, Mapping) or not body.get("access_token"):
            raise config_error("Atlassian's token answer had no access token; try again later.")
        creds["access_token"] = body["access_token"]
        if body.get("refresh_token"):
            creds["refresh_token"] = body["refresh_token"]
        expires_in = int(body.get("expires_in", 3600))
        creds["token_expiry_date"] = (datetime.now(timezone.utc) + timedelta(seconds=expires_in)).isoformat()
        return str(creds["access_token"])


def _atlassian_json(method: str, url: str, action: str, timeout: float, refused: str, **kwargs: Any) -> Any:
    """One call to Atlassian's OAuth endpoints: a config error in one line on any failure, never a traceback."""
    try:
        response = requests.request(method, url, timeout=timeout, **kwargs)
    except requests.RequestException as exc:
        raise config_error(f"Could not reach Atlassian to {action}: {type(exc).__name__}.") from None
    if response.status_code != 200:
        raise config_error(refused.format(status=response.status_code))
    try:
        return response.json()
    except ValueError:
        raise config_error(f"Atlassian's answer when trying to {action} was not JSON; try again later.") from None


def _emit_config(config: Mapping[str, Any]) -> None:
    """Persist a config that changed (rotated token) through the platform's CONNECTOR_CONFIG control message."""
    import orjson
    from airbyte_cdk.models import AirbyteMessageSerializer
    from airbyte_cdk.config_observation import create_connector_config_control_message

    message = create_connector_config_control_message(dict(config))
    print(orjson.dumps(AirbyteMessageSerializer.dump(message)).decode(), flush=True)


def _parse_datetime(value: Any) -> Optional[datetime]:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
