"""The Jira source: the declarative manifest plus a `check` that says exactly what is wrong in one line.
Python because CheckStream cannot pre-flight DNS/TCP/TLS, name unknown project keys, or validate the JQL filter; it
reads the streams the manifest's `check` names, so both runtimes check the same thing. `read` opens the issue
family's sync session (source_jira/components/issue_family/session.py) and closes it when the read ends."""

from __future__ import annotations

import logging
import os
import socket
import ssl
from pathlib import Path
from typing import Any, Iterator, List, Mapping, Optional, Tuple
from urllib.parse import urlsplit

import orjson
from airbyte_cdk.models import FailureType
from airbyte_cdk.models import AirbyteConnectionStatus, AirbyteMessage, AirbyteStateMessage, AirbyteStateMessageSerializer, ConfiguredAirbyteCatalog, Status
from airbyte_cdk.sources.declarative.yaml_declarative_source import YamlDeclarativeSource
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_jira import cdk_adapter
from source_jira.inputs import per_stream_states, stated_streams
from source_jira.limiter import ceiling_of
from source_jira.components.issue_family.session import SessionHolder
from source_jira.components.config import AUTH_TITLES, DATACENTER, atlassian_host, deployment_of, site_url
from source_jira.transport import GuardedAdapter, Timeouts, guard_message, refused_address, refused_host, trust_context


def manifest_path() -> str:
    """The manifest sits inside the package in a wheel, and at the repo root in a checkout."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "manifest.yaml", here.parent / "manifest.yaml"):
        if candidate.is_file():
            return str(candidate)
    raise FileNotFoundError("manifest.yaml is missing from the source_jira package")


class SourceJira(cdk_adapter.MigratesConfigInMemory, YamlDeclarativeSource):
    def __init__(
        self,
        catalog: Optional[ConfiguredAirbyteCatalog] = None,
        config: Optional[Mapping[str, Any]] = None,
        state: Optional[List[AirbyteStateMessage]] = None,
        config_path: Optional[str] = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(path_to_yaml=manifest_path(), catalog=catalog, config=config, state=state, config_path=config_path, **kwargs)
        # The issue family's sync session: one per read (`read` opens and closes it); its components are bound to
        # this holder as their streams are built.
        self._issue_family = SessionHolder()
        self._transport = cdk_adapter.install(self, self._issue_family)

    @classmethod
    def read_state(cls, state_path: str) -> List[AirbyteStateMessage]:
        """The state file as per-stream messages, its legacy forms included ({stream: state}, LEGACY messages), which
        the CDK would fail on or ignore — and read everything again (source_jira/inputs.py, per_stream_states)."""
        if not state_path:
            return []
        with open(state_path, "rb") as handle:
            raw = orjson.loads(handle.read() or b"null")
        return [AirbyteStateMessageSerializer.load(message) for message in per_stream_states(raw)]

    def read(self, logger: logging.Logger, config: Mapping[str, Any], catalog: ConfiguredAirbyteCatalog,
             state: Optional[List[AirbyteStateMessage]] = None) -> Iterator[AirbyteMessage]:
        """As the CDK's read, but builds only the streams the catalog selects instead of all 66 (about half a second
        less before the first request), and a stream this connector does not have is a config error naming it (the
        CDK only marks it INCOMPLETE and exits 0)."""
        names = [configured.stream.name for configured in catalog.streams]
        unknown = sorted(set(names) - set(self.stream_names()))
        if unknown:
            raise AirbyteTracedException(
                message=f"The catalog selects stream(s) this connector does not have: {', '.join(unknown)}. "
                "Run discover for the list (README, \"Streams\").",
                failure_type=FailureType.config_error,
            )
        streams = cdk_adapter.streams_by_name(self, names)
        if streams is None:  # nothing selected
            return
        selected = cdk_adapter.select_streams(self, streams, catalog)
        if selected and deployment_of(config) == DATACENTER:
            confirm_deployment(config, logger)  # one anonymous request: says which server this is, or fails in one line
        if selected:
            # the issue family shares search pages only between the streams this catalog selects
            try:
                with self._issue_family.open(names, per_issue_threads=ceiling_of(config), stated=stated_streams(state)):
                    yield from cdk_adapter.concurrent_read(self, selected)
            finally:
                self._transport.connections.close()  # the read's connections (transport.SharedConnections)

    def stream_names(self) -> List[str]:
        """The names of the manifest's streams, without building any."""
        return [str(stream.get("name")) for stream in cdk_adapter.stream_configs(self)]

    # ------------------------------------------------------------------------------------------------ check
    def check(self, logger: logging.Logger, config: Mapping[str, Any]) -> AirbyteConnectionStatus:
        config = self._config or config
        try:
            with self._transport.checking():  # short timeouts and one retry: an answer in seconds, never minutes
                self._check(config)
        except AirbyteTracedException as exc:
            return AirbyteConnectionStatus(status=Status.FAILED, message=one_line(exc.message or str(exc)))
        except Exception as exc:  # noqa: BLE001 - check must answer in one line, never with a traceback
            return AirbyteConnectionStatus(status=Status.FAILED, message=one_line(f"{type(exc).__name__}: {exc}"))
        return AirbyteConnectionStatus(status=Status.SUCCEEDED)

    def _check(self, config: Mapping[str, Any]) -> None:
        creds = config.get("credentials") or {}
        if creds.get("auth_type") != "oauth2.0":
            preflight(str(config.get("domain", "")), ca_pem=config.get("ca_certificate"))
            confirm_deployment(config)
        # The streams the manifest's `check` names (the generic manifest runner reads the same ones): one record each.
        for name in (cdk_adapter.manifest(self).get("check") or {}).get("stream_names") or []:
            if not self.read_records(name, config, limit=1):
                raise AirbyteTracedException(message=f"Jira answered the {name} request with nothing; is this a Jira site?")
        wanted = [str(p).strip() for p in (config.get("projects") or []) if str(p).strip()]
        if wanted:
            seen = {str(p.get("key")) for p in self.read_records("projects", config)}
            missing = [key for key in wanted if key not in seen]
            if missing:
                raise AirbyteTracedException(
                    message=f"Unknown project key(s) in 'projects': {', '.join(missing)} "
                    "(they do not exist or this account cannot browse them)."
                )
        if (config.get("issues_jql_filter") or "").strip():
            # One cheap page of the id-only search proves the JQL filter is valid (Jira's 400 says why).
            self.read_records("issue_ids", config, limit=1)

    def read_records(self, stream_name: str, config: Mapping[str, Any], limit: Optional[int] = None) -> list:
        """Read records of one stream through the manifest's own requester, auth and error handling (only that
        stream is built)."""
        streams = cdk_adapter.streams_by_name(self, [stream_name]) or []
        stream = next((s for s in streams if s.name == stream_name), None)
        if stream is None:
            raise AirbyteTracedException(message=f"stream {stream_name} is not defined")
        records: list = []
        for partition in stream.generate_partitions():
            for record in partition.read():
                records.append(record.data)
                if limit and len(records) >= limit:
                    return records
        return records


def confirm_deployment(config: Mapping[str, Any], logger: Optional[logging.Logger] = None) -> None:
    """Ask the site what it is (`GET /rest/api/2/serverInfo`: it exists on Cloud and Data Center alike and needs no
    sign-in) and fail in one line when the credentials are for the other kind of Jira. An answer that says nothing
    (no `deploymentType`, a 401 on a site that hides it, not JSON) decides nothing: the reads then tell."""
    import requests

    deployment = deployment_of(config)
    if deployment != DATACENTER and atlassian_host(config.get("domain")):
        return  # Atlassian's own host with Cloud credentials: nothing to confirm
    url = site_url(config) + "/rest/api/2/serverInfo"
    session = requests.Session()
    adapter = GuardedAdapter(Timeouts.from_config(config, check=True), ca_pem=config.get("ca_certificate"))
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    try:
        response = session.get(url, headers={"Accept": "application/json"}, allow_redirects=False)
        info = response.json() if response.status_code == 200 else {}
    except (requests.RequestException, ValueError):
        return
    finally:
        session.close()
    kind = str((info or {}).get("deploymentType") or "") if isinstance(info, Mapping) else ""
    if not kind:
        return
    creds = config.get("credentials") or {}
    auth = AUTH_TITLES.get(creds.get("auth_type"), str(creds.get("auth_type")))
    where = config.get("domain")
    if kind.lower() == "cloud" and deployment == DATACENTER:
        raise AirbyteTracedException(
            message=f"{where} is a Jira Cloud site (its serverInfo says deploymentType Cloud), but the connector is set up "
            f"for Jira Data Center ('{auth}'): sign in with an API token (e-mail + token) or OAuth 2.0.",
            failure_type=FailureType.config_error,
        )
    if kind.lower() != "cloud" and deployment != DATACENTER:
        bearer = " (a bearer token: set deployment to datacenter)" if creds.get("auth_type") == "bearer" else ""
        raise AirbyteTracedException(
            message=f"{where} is a self-hosted Jira {kind} {info.get('version', '')} (its serverInfo says so), but the "
            f"connector is set up for Jira Cloud ('{auth}'): sign in with a personal access token or a username and "
            f"password{bearer}.".replace("  ", " "),
            failure_type=FailureType.config_error,
        )
    if logger is not None:
        logger.info(f"Reading Jira {kind} {info.get('version', '')} at {site_url(config)} (REST API v2).")


def one_line(message: str) -> str:
    return " ".join(str(message).split())


def split_host_port(domain: str) -> Tuple[str, int]:
    """`host`, `host:port`, `[v6]`, `[v6]:port` (and a bare IPv6 literal) -> (host without brackets, port)."""
    text = domain.strip()
    if text.count(":") > 1 and not text.startswith("["):  # a bare IPv6 literal
        return text, 443
    parts = urlsplit("https://" + text)
    try:
        port = parts.port or 443
    except ValueError:
        port = 443
    return (parts.hostname or text), port


def preflight(domain: str, timeout: float = 8.0, ca_pem: Optional[str] = None) -> None:
    """Fail in seconds, with the real reason, when the site cannot be reached (no minutes of retries)."""
    host, port = split_host_port(domain)
    why = refused_host(host)
    if why:
        raise AirbyteTracedException(message=guard_message(host, why), failure_type=FailureType.config_error)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise AirbyteTracedException(
            message=f"The Jira site '{domain}' was not found (DNS lookup failed): check the domain, e.g. acme.atlassian.net."
        ) from None
    for info in infos:
        why = refused_address(info[4][0])
        if why:
            raise AirbyteTracedException(message=guard_message(host, f"it resolves to {why}"), failure_type=FailureType.config_error)
    family, socktype, proto, _, address = infos[0]
    try:
        with socket.create_connection((address[0], address[1]), timeout=timeout) as sock:
            context = trust_context(ca_pem, _ca_bundle())
            try:
                with context.wrap_socket(sock, server_hostname=host):
                    pass
            except socket.timeout:
                raise AirbyteTracedException(
                    message=f"The Jira site '{domain}' accepted the connection but did not complete the TLS handshake within {timeout:.0f} s."
                ) from None
            except ssl.SSLCertVerificationError as exc:
                raise AirbyteTracedException(
                    message=f"TLS failure talking to {domain}: the certificate is not trusted ({exc.verify_message})."
                ) from None
            except (ssl.SSLError, OSError) as exc:
                raise AirbyteTracedException(message=f"TLS failure talking to {domain}: {exc.__class__.__name__}.") from None
    except AirbyteTracedException:
        raise
    except socket.timeout:
        raise AirbyteTracedException(message=f"The Jira site '{domain}' did not answer within {timeout:.0f} s (unreachable host).") from None
    except OSError as exc:
        reason = exc.strerror or exc.__class__.__name__
        raise AirbyteTracedException(message=f"The Jira site '{domain}' is unreachable: {reason}.") from None


def _ca_bundle() -> Optional[str]:
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        value = os.environ.get(name)
        if value:
            return value
    try:
        import certifi

        return certifi.where()
    except ImportError:  # pragma: no cover
        return None
