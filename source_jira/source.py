"""The Jira source: the declarative manifest plus a `check` that says exactly what is wrong in one line.
Python because CheckStream cannot pre-flight DNS/TCP/TLS, name unknown project keys, or validate the JQL filter."""

from __future__ import annotations

import logging
import os
import socket
import ssl
from pathlib import Path
from typing import Any, Iterable, Iterator, List, Mapping, Optional

from airbyte_cdk.models import AirbyteConnectionStatus, AirbyteMessage, AirbyteStateMessage, ConfiguredAirbyteCatalog, Status
from airbyte_cdk.sources.declarative.yaml_declarative_source import YamlDeclarativeSource
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_jira.components.issues import new_sync as new_issue_sync


def manifest_path() -> str:
    """The manifest sits inside the package in a wheel, and at the repo root in a checkout."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "manifest.yaml", here.parent / "manifest.yaml"):
        if candidate.is_file():
            return str(candidate)
    raise FileNotFoundError("manifest.yaml is missing from the source_jira package")


class SourceJira(YamlDeclarativeSource):
    def __init__(
        self,
        catalog: Optional[ConfiguredAirbyteCatalog] = None,
        config: Optional[Mapping[str, Any]] = None,
        state: Optional[List[AirbyteStateMessage]] = None,
        config_path: Optional[str] = None,
        **kwargs: Any,
    ) -> None:
        # One sync per source instance: the issue family shares search pages only between the streams this catalog selects.
        new_issue_sync(catalog)
        super().__init__(path_to_yaml=manifest_path(), catalog=catalog, config=config, state=state, config_path=config_path, **kwargs)
        bound_record_queue(self)

    def read(self, logger: logging.Logger, config: Mapping[str, Any], catalog: ConfiguredAirbyteCatalog,
             state: Optional[List[AirbyteStateMessage]] = None) -> Iterator[AirbyteMessage]:
        """As the CDK's read, but builds only the streams the catalog selects (the CDK's own `_streams_by_name`, as its
        `check` does) instead of all 66: about half a second less before the first request of a sync."""
        streams = self._streams_by_name([configured.stream.name for configured in catalog.streams])
        if streams is None:  # a name that is not a static stream: the CDK's path, which reports it
            yield from super().read(logger, config, catalog, state)
            return
        selected = self._select_streams(streams=streams, configured_catalog=catalog)
        if selected:
            yield from self._concurrent_source.read(selected)

    # ------------------------------------------------------------------------------------------------ check
    def check(self, logger: logging.Logger, config: Mapping[str, Any]) -> AirbyteConnectionStatus:
        config = self._config or config
        try:
            self._check(config)
        except AirbyteTracedException as exc:
            return AirbyteConnectionStatus(status=Status.FAILED, message=one_line(exc.message or str(exc)))
        except Exception as exc:  # noqa: BLE001 - check must answer in one line, never with a traceback
            return AirbyteConnectionStatus(status=Status.FAILED, message=one_line(f"{type(exc).__name__}: {exc}"))
        return AirbyteConnectionStatus(status=Status.SUCCEEDED)

    def _check(self, config: Mapping[str, Any]) -> None:
        creds = config.get("credentials") or {}
        if creds.get("auth_type") != "oauth2.0":
            preflight(str(config.get("domain", "")))
        me = self.read_records("myself", config, limit=1)
        if not me:
            raise AirbyteTracedException(message="Jira answered /myself with nothing; is this a Jira Cloud site?")
        wanted = [str(p).strip() for p in (config.get("projects") or []) if str(p).strip()]
        if wanted:
            seen = {str(p.get("key")) for p in self.read_records("projects", config)}
            missing = [key for key in wanted if key not in seen]
            if missing:
                raise AirbyteTracedException(
                    message=f"Unknown project key(s) in 'projects': {', '.join(missing)} "
                    "(they do not exist or this account cannot browse them)."
                )
        if (config.get("issues_jql_filter") or "").strip() and "issue_ids" in self._stream_names(config):
            # One cheap page of the id-only search proves the JQL filter is valid (Jira's 400 says why).
            self.read_records("issue_ids", config, limit=1)

    def _stream_names(self, config: Mapping[str, Any]) -> set:
        return {stream.name for stream in self.streams(config)}

    def read_records(self, stream_name: str, config: Mapping[str, Any], limit: Optional[int] = None) -> list:
        """Read records of one stream through the manifest's own requester, auth and error handling."""
        stream = next((s for s in self.streams(config) if s.name == stream_name), None)
        if stream is None:
            raise AirbyteTracedException(message=f"stream {stream_name} is not defined")
        records: list = []
        for partition in stream.generate_partitions():
            for record in partition.read():
                records.append(record.data)
                if limit and len(records) >= limit:
                    return records
        return records


# Records waiting for the main thread (which serializes and prints them). The CDK's queue holds up to 10,000 items,
# and the workers do outrun the main thread: with issue records of 10-20 KB that is tens of MB held for nothing
# (peak RSS of a 50,000-issue sync: 30 MB less with 500). A few hundred items keep the main thread fed; beyond that
# the workers wait (back-pressure) instead of holding records.
RECORD_QUEUE_SIZE = 500


def bound_record_queue(source: Any) -> None:
    """Set the size of the CDK's record queue (created inside ConcurrentDeclarativeSource.__init__ without a
    parameter). Safe to shrink: the main thread never blocks on it (ConcurrentMessageRepository puts without
    blocking from the consumer thread), only the workers wait."""
    queue = getattr(getattr(source, "_concurrent_source", None), "_queue", None)
    if queue is not None and hasattr(queue, "maxsize") and RECORD_QUEUE_SIZE > 0:
        queue.maxsize = RECORD_QUEUE_SIZE


def one_line(message: str) -> str:
    return " ".join(str(message).split())


def preflight(domain: str, timeout: float = 8.0) -> None:
    """Fail in seconds, with the real reason, when the site cannot be reached (no minutes of retries)."""
    host, _, port_text = domain.rpartition(":") if domain.count(":") == 1 else (domain, "", "")
    port = int(port_text) if port_text.isdigit() else 443
    host = host or domain
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise AirbyteTracedException(
            message=f"The Jira site '{domain}' was not found (DNS lookup failed): check the domain, e.g. acme.atlassian.net."
        ) from None
    family, socktype, proto, _, address = infos[0]
    try:
        with socket.create_connection(address[:2], timeout=timeout) as sock:
            context = ssl.create_default_context(cafile=_ca_bundle())
            try:
                with context.wrap_socket(sock, server_hostname=host):
                    pass
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
