"""The one place that reaches into airbyte-cdk's private names, written for the pinned airbyte-cdk (PINNED_CDK in
pyproject.toml). Python because the CDK offers no public hook for any of it:
* every HttpRequester the factory builds gets this connector's transport (source_jira/transport.py) mounted on its
  session (`HttpRequester._http_client._session`), through the factory's constructor table;
* `read` and `check` build only the streams they need (`_streams_by_name`, `_select_streams`);
* the CDK's record queue is bounded (`_concurrent_source._queue`);
* the resolved manifest is read for stream names, cursors and the spec (`_source_config`).
`check_shape` verifies all of it when a source is built and fails loudly, naming what changed, if the CDK's shape is
not the one this was written for; unit_tests/test_packaging.py fails when the pin moves without this being re-checked.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any, Iterator, List, Mapping, Optional

import requests
from airbyte_cdk.models import ConfiguredAirbyteCatalog
from airbyte_cdk.sources.declarative.models.declarative_component_schema import HttpRequester as HttpRequesterModel

from source_jira.transport import GuardedAdapter, Timeouts

PINNED_CDK = "7.39.1"

# Records waiting for the main thread (which serializes and prints them). The CDK's queue holds up to 10,000 items,
# and the workers do outrun the main thread: with issue records of 10-20 KB that is tens of MB held for nothing
# (peak RSS of a 50,000-issue sync: 30 MB less with 500). A few hundred items keep the main thread fed; beyond that
# the workers wait (back-pressure) instead of holding records. Safe to shrink: the main thread never blocks on it
# (ConcurrentMessageRepository puts without blocking from the consumer thread), only the workers wait.
RECORD_QUEUE_SIZE = 500


class CdkShapeError(RuntimeError):
    pass


def check_shape(source: Any) -> None:
    """The private names used below exist with the expected types (else: fail now, not silently later)."""
    problems = []
    factory = getattr(source, "_constructor", None)
    table = getattr(factory, "PYDANTIC_MODEL_TO_CONSTRUCTOR", None)
    if not isinstance(table, dict) or HttpRequesterModel not in table:
        problems.append("ModelToComponentFactory.PYDANTIC_MODEL_TO_CONSTRUCTOR[HttpRequester]")
    for name in ("_streams_by_name", "_select_streams"):
        if not callable(getattr(source, name, None)):
            problems.append(f"ConcurrentDeclarativeSource.{name}")
    if not isinstance(getattr(source, "_source_config", None), Mapping):
        problems.append("ConcurrentDeclarativeSource._source_config")
    queue = getattr(getattr(source, "_concurrent_source", None), "_queue", None)
    if queue is None or not hasattr(queue, "maxsize"):
        problems.append("ConcurrentSource._queue")
    if problems:
        raise CdkShapeError(
            f"airbyte-cdk is not the version source-jira was written for ({PINNED_CDK}): missing {', '.join(problems)}"
        )


@dataclass
class TransportSettings:
    """Per source: whether the requesters being built serve `check` (short timeouts, one retry)."""

    check: bool = False

    @contextlib.contextmanager
    def checking(self) -> Iterator[None]:
        previous, self.check = self.check, True
        try:
            yield
        finally:
            self.check = previous


CHECK_RETRIES = 1


def mount_transport(requester: Any, config: Mapping[str, Any], settings: TransportSettings) -> None:
    session = getattr(getattr(requester, "_http_client", None), "_session", None)
    if not isinstance(session, requests.Session):
        raise CdkShapeError(f"airbyte-cdk is not the version source-jira was written for ({PINNED_CDK}): HttpRequester._http_client._session")
    adapter = GuardedAdapter(Timeouts.from_config(config, check=settings.check))
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    handler = getattr(requester, "error_handler", None)
    if settings.check and hasattr(handler, "cap_retries"):
        handler.cap_retries(CHECK_RETRIES)


def install(source: Any) -> TransportSettings:
    """Check the CDK's shape, bound the record queue, and have every requester built from now on hardened."""
    check_shape(source)
    source._concurrent_source._queue.maxsize = RECORD_QUEUE_SIZE
    settings = TransportSettings()
    table = source._constructor.PYDANTIC_MODEL_TO_CONSTRUCTOR
    build = table[HttpRequesterModel]

    # The factory reads the builder's keyword-only arguments (inspect.getfullargspec) to pass `name`: keep it.
    def build_hardened(model: Any, config: Mapping[str, Any], *args: Any, name: str, **kwargs: Any) -> Any:
        requester = build(model, config, *args, name=name, **kwargs)
        mount_transport(requester, config, settings)
        return requester

    table[HttpRequesterModel] = build_hardened
    return settings


def manifest(source: Any) -> Mapping[str, Any]:
    """The manifest as the CDK resolved it (`$ref`s and `$parameters` applied)."""
    return source._source_config


def stream_configs(source: Any) -> List[Mapping[str, Any]]:
    return [stream for stream in manifest(source).get("streams", []) if isinstance(stream, Mapping)]


def streams_by_name(source: Any, names: List[str]) -> Optional[List[Any]]:
    """Build only the named static streams (None when a name is not one of them)."""
    return source._streams_by_name(list(names))


def select_streams(source: Any, streams: List[Any], catalog: ConfiguredAirbyteCatalog) -> List[Any]:
    return source._select_streams(streams=streams, configured_catalog=catalog)


def concurrent_read(source: Any, streams: List[Any]) -> Iterator[Any]:
    return source._concurrent_source.read(streams)
