"""The one place that reaches into airbyte-cdk's private names, written for the pinned airbyte-cdk (PINNED_CDK in
pyproject.toml). Python because the CDK offers no public hook for any of it:
* every HttpRequester of every stream built gets this connector's transport (source_jira/transport.py) mounted on its
  session (`HttpRequester._http_client._session`): the factory's constructor table is wrapped for streams, and
  each built stream is searched for its requesters (parents built by the CDK's second factory included);
* with the read's request budget on, a requester's session drops the manifest's api_budget
  (`LimiterSession._api_budget`): the budget keeps `max_requests_per_second` itself;
* `read` and `check` build only the streams they need (`_streams_by_name`, `_select_streams`);
* the CDK's record queue is bounded (`_concurrent_source._queue`);
* the resolved manifest is read for stream names, cursors and the spec (`_source_config`);
* `sprint_issues`/`board_issues` checkpoint (components/agile_checkpoints.py): the per-partition cursor's
  `_parent_state` (the state the read was given), `_throttle_state_message` (a state on every step of progress, not
  every 10 minutes) and `_timer.finish` (the lookback kept for the next sync spans an interrupted read too);
* every datetime cursor parses its records' cursor values with FastDatetimeParser (`_connector_state_converter._parser`
  of the cursors, and of those a per-partition cursor makes later: `_cursor_factory._create_function`);
* every requester's session works out the environment's proxies and CA bundle once per origin (requests' public
  `merge_environment_settings`, replaced on the instance), and a Basic authenticator its header once
  (`BasicHttpAuthenticator.token`, a property the CDK re-renders on every request: OnceBasicHttpAuthenticator);
* the issue family keeps one extra key in a ConcurrentCursor's saved state while a read is unfinished
  (`_concurrent_state["legacy"]`: the keys of the sequential state beside the cursor value, which the CDK writes back
  with every state message).
`check_shape` verifies all of it when a source is built and fails loudly, naming what changed, if the CDK's shape is
not the one this was written for; unit_tests/test_packaging.py fails when the pin moves without this being re-checked.
"""

from __future__ import annotations

import collections
import contextlib
import copy
import datetime as dt
import re
import time
import json
import logging
from types import MappingProxyType
from dataclasses import dataclass, field
from typing import Any, Dict, Iterator, List, Mapping, Optional
from urllib.parse import urlsplit

import orjson

import requests
from airbyte_cdk.config_observation import create_connector_config_control_message
from airbyte_cdk.models import AirbyteMessageSerializer, ConfiguredAirbyteCatalog
from airbyte_cdk.sources.declarative.concurrent_declarative_source import ConcurrentDeclarativeSource
from airbyte_cdk.sources.declarative.auth.token import BasicHttpAuthenticator
from airbyte_cdk.sources.declarative.datetime.datetime_parser import DatetimeParser
from airbyte_cdk.sources.declarative.incremental.concurrent_partition_cursor import ConcurrentPerPartitionCursor
from airbyte_cdk.sources.declarative.models.declarative_component_schema import DeclarativeStream as DeclarativeStreamModel
from airbyte_cdk.sources.declarative.models.declarative_component_schema import StateDelegatingStream as StateDelegatingStreamModel
from airbyte_cdk.sources.declarative.requesters.http_requester import HttpRequester
from airbyte_cdk.sources.streams.call_rate import APIBudget
from airbyte_cdk.sources.streams.concurrent.state_converters.datetime_stream_state_converter import (
    CustomFormatConcurrentStreamStateConverter,
)

from source_jira import limiter as request_budget
from source_jira.components.catalog import WarnedStreams
from source_jira.transport import GuardedAdapter, SharedConnections, Timeouts

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
    if not isinstance(table, dict) or any(m not in table for m in (DeclarativeStreamModel, StateDelegatingStreamModel)):
        problems.append("ModelToComponentFactory.PYDANTIC_MODEL_TO_CONSTRUCTOR[DeclarativeStream, StateDelegatingStream]")
    for name in ("_streams_by_name", "_select_streams", "_stream_configs"):
        if not callable(getattr(source, name, None)):
            problems.append(f"ConcurrentDeclarativeSource.{name}")
    if not isinstance(getattr(source, "_source_config", None), Mapping):
        problems.append("ConcurrentDeclarativeSource._source_config")
    if not callable(vars(ConcurrentDeclarativeSource).get("_migrate_and_transform_config")) or not hasattr(source, "_spec_component"):
        problems.append("ConcurrentDeclarativeSource._migrate_and_transform_config/_spec_component")
    queue = getattr(getattr(source, "_concurrent_source", None), "_queue", None)
    if queue is None or not hasattr(queue, "maxsize"):
        problems.append("ConcurrentSource._queue")
    problems += output_problems()  # the texts and serialization run.py relies on (the section at the end)
    if problems:
        raise CdkShapeError(
            f"airbyte-cdk is not the version source-jira was written for ({PINNED_CDK}): missing {', '.join(problems)}"
        )


class MigratesConfigInMemory:
    """Mixed into the source: the CDK's constructor migrates an old config and writes it back to the config file
    (`_migrate_and_transform_config`), which fails the whole command on a read-only mount (Kubernetes secrets,
    `docker run -v …:ro`). Here the migration happens in memory, the platform gets the migrated config through the
    CONNECTOR_CONFIG control message as before, and the file is written back only where it can be (a warning
    otherwise)."""

    def _migrate_and_transform_config(self, config_path: Optional[str], config: Optional[Mapping[str, Any]]) -> Optional[Mapping[str, Any]]:
        if not config:
            return None
        spec = getattr(self, "_spec_component", None)
        if not spec:
            return config
        migrated = dict(config)
        spec.migrate_config(migrated)
        if migrated != config:
            print(orjson.dumps(AirbyteMessageSerializer.dump(create_connector_config_control_message(migrated))).decode(), flush=True)
            if config_path:
                try:
                    with open(config_path, "w") as handle:
                        json.dump(migrated, handle)
                except OSError as exc:
                    logging.getLogger("airbyte").warning(
                        f"The migrated config could not be written back to {config_path} ({exc.strerror or type(exc).__name__}); "
                        "it is used for this run and was sent to the platform as a CONNECTOR_CONFIG message.")
        spec.transform_config(migrated)
        return migrated


@dataclass
class TransportSettings:
    """Per source: whether the requesters being built serve `check` (short timeouts, one retry), and the read's
    shared request budget (source_jira/limiter.py), made from the config on first use: one per source, so one per
    read, shared by every requester and thread of it."""

    check: bool = False
    warned: Any = field(default_factory=WarnedStreams)  # streams skipped with a warning, shared by their handlers
    limiter: Any = None
    _limiter_made: bool = False
    connections: Any = field(default_factory=SharedConnections)  # every requester's connections (transport.py)
    parents: frozenset = frozenset()  # streams some SubstreamPartitionRouter reads as a parent: their answers are shared

    def limiter_for(self, config: Optional[Mapping[str, Any]]) -> Any:
        if not self._limiter_made:
            self.limiter, self._limiter_made = request_budget.from_config(config), True
        return self.limiter

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
    if isinstance(session.get_adapter("https://"), GuardedAdapter):
        return
    limiter = settings.limiter_for(config)
    memo = settings.connections.responses if getattr(requester, "name", None) in settings.parents else None
    adapter = GuardedAdapter(Timeouts.from_config(config, check=settings.check), ca_pem=(config or {}).get("ca_certificate"),
                             limiter=limiter, shared=settings.connections, memo=memo)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    remember_environment_settings(session)
    if limiter is not None:
        # The read's budget keeps `max_requests_per_second` itself, where requests leave, and pauses everyone on a
        # Retry-After: the manifest's api_budget (for the manifest-only form, and `adaptive_concurrency: false`)
        # would only count every request a second time, under a lock of its own (a fifth of a catalog read's CPU).
        if not isinstance(getattr(session, "_api_budget", None), APIBudget):
            raise CdkShapeError(f"airbyte-cdk is not the version source-jira was written for ({PINNED_CDK}): LimiterSession._api_budget")
        session._api_budget = APIBudget(policies=[])
    handler = getattr(requester, "error_handler", None)
    if settings.check and hasattr(handler, "cap_retries"):
        handler.cap_retries(CHECK_RETRIES)
    if hasattr(handler, "share_warnings"):
        handler.share_warnings(settings.warned)


def install(source: Any, session_holder: Any) -> TransportSettings:
    """Check the CDK's shape, bound the record queue, and have every stream built from now on hardened (its
    requesters get the transport) and bound to the source's issue-family session holder."""
    check_shape(source)
    source._concurrent_source._queue.maxsize = RECORD_QUEUE_SIZE
    settings = TransportSettings(parents=parent_stream_names(manifest(source)))
    table = source._constructor.PYDANTIC_MODEL_TO_CONSTRUCTOR
    # Each built stream is searched for its requesters: that reaches the Python components' requesters and the
    # parent streams of a SubstreamPartitionRouter too, which the CDK builds with a second factory made on the spot
    # (create_parent_stream_config_with_substream_wrapper) that no constructor table of this source reaches.
    for model_class in (DeclarativeStreamModel, StateDelegatingStreamModel):
        table[model_class] = _hardening_stream_builder(table[model_class], settings, session_holder)
    return settings


def _hardening_stream_builder(build: Any, settings: TransportSettings, session_holder: Any) -> Any:
    def build_hardened(model: Any, config: Mapping[str, Any], *args: Any, **kwargs: Any) -> Any:
        stream = build(model, config, *args, **kwargs)
        for requester in requesters_in(stream):
            mount_transport(requester, config, settings)
        for component in components_in(stream, lambda obj: callable(getattr(obj, "bind_session_holder", None))):
            component.bind_session_holder(session_holder)
        for cursor in components_in(stream, lambda obj: isinstance(obj, ConcurrentPerPartitionCursor)):
            checkpoint_partitions(cursor)
        fast_cursor_parsing(stream)
        basic_token_once(stream)
        return stream

    return build_hardened


def parent_stream_names(resolved: Any) -> frozenset:
    """The names of the streams that a SubstreamPartitionRouter of the resolved manifest reads as its parent (the
    requesters named so answer from the read's ResponseMemo: each child stream reads its parent again)."""
    names: set = set()
    stack = [resolved]
    while stack:
        node = stack.pop()
        if isinstance(node, Mapping):
            if node.get("type") == "SubstreamPartitionRouter":
                for parent in node.get("parent_stream_configs") or []:
                    name = (parent.get("stream") or {}).get("name") if isinstance(parent, Mapping) else None
                    if name:
                        names.add(name)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return frozenset(names)


def remember_environment_settings(session: requests.Session) -> None:
    """requests works out the proxies and CA bundle the environment gives (a scan of os.environ, proxy bypass rules)
    on every request: ~4 % of a catalog read's CPU. The environment does not change during a read: each origin's
    answer is kept, and every request gets a copy of it (requests mutates what it is given)."""
    merge = session.merge_environment_settings
    known: Dict[Any, Mapping[str, Any]] = {}

    def merged(url: str, proxies: Any, stream: Any, verify: Any, cert: Any) -> Dict[str, Any]:
        parts = urlsplit(url or "")
        key = (parts.scheme, parts.netloc, repr(sorted((proxies or {}).items())), stream, repr(verify), repr(cert))
        settings = known.get(key)
        if settings is None:
            settings = known.setdefault(key, merge(url, dict(proxies or {}), stream, verify, cert))
        copied = dict(settings)
        copied["proxies"] = dict(settings.get("proxies") or {})
        return copied

    session.merge_environment_settings = merged  # type: ignore[method-assign]


class OnceBasicHttpAuthenticator(BasicHttpAuthenticator):
    """The Basic auth header worked out once per authenticator: the CDK renders user and password (two Jinja
    templates) and base64 on every request, ~3 % of a catalog read's CPU. The config does not change during a read
    (a rotated OAuth token goes through the OAuth authenticator, not this one)."""

    @property
    def token(self) -> str:
        cached = self.__dict__.get("_token_once")
        if cached is None:
            cached = self.__dict__["_token_once"] = BasicHttpAuthenticator.token.fget(self)  # type: ignore[attr-defined]
        return cached


def basic_token_once(stream: Any) -> None:
    if not isinstance(vars(BasicHttpAuthenticator).get("token"), property):
        raise CdkShapeError(f"airbyte-cdk is not the version source-jira was written for ({PINNED_CDK}): BasicHttpAuthenticator.token")
    for authenticator in components_in(stream, lambda obj: type(obj) is BasicHttpAuthenticator):
        authenticator.__class__ = OnceBasicHttpAuthenticator


def requesters_in(component: Any, depth: int = 30) -> List[Any]:
    """Every HttpRequester inside a built component (streams, retrievers, routers, parents of parents)."""
    return components_in(component, lambda obj: isinstance(obj, HttpRequester), depth)


def components_in(component: Any, wanted: Any, depth: int = 30) -> List[Any]:
    """Every object inside a built component for which `wanted(obj)` holds (not searched further inside)."""
    found: List[Any] = []
    seen: set = set()
    stack = collections.deque([(component, 0)])  # breadth first: each object is met at its shallowest depth
    while stack:
        obj, level = stack.popleft()
        if id(obj) in seen or level > depth or obj is None or isinstance(obj, (str, bytes, int, float, bool)):
            continue
        seen.add(id(obj))
        if wanted(obj):
            found.append(obj)
            continue
        if isinstance(obj, (list, tuple, set, frozenset)):
            stack.extend((item, level + 1) for item in obj)
        elif isinstance(obj, dict):
            stack.extend((item, level + 1) for item in obj.values())
        elif type(obj).__module__.startswith(("airbyte_cdk.sources", "source_jira")) and hasattr(obj, "__dict__"):
            stack.extend((item, level + 1) for item in vars(obj).values())
    return found


def manifest(source: Any) -> Mapping[str, Any]:
    """The manifest as the CDK resolved it (`$ref`s and `$parameters` applied)."""
    return source._source_config


def stream_configs(source: Any) -> List[Mapping[str, Any]]:
    """The streams this config offers: the manifest's `ConditionalStreams` (Cloud vs Data Center forms) evaluated
    against the source's config by the CDK itself."""
    return [stream for stream in source._stream_configs(manifest(source)) if isinstance(stream, Mapping)]


def streams_by_name(source: Any, names: List[str]) -> Optional[List[Any]]:
    """Build only the named static streams (None when a name is not one of them)."""
    return source._streams_by_name(list(names))


def checkpoint_partitions(cursor: Any) -> None:
    """A per-partition cursor whose router checkpoints (`resume`/`closed`/`started`, agile_checkpoints.py): give the
    router the marker of the state the read was given and tell it when a partition closes, emit a state whenever the finished prefix moved (and at least when
    30 s passed), and keep a lookback that spans the interrupted read this one continues."""
    router = getattr(cursor, "_partition_router", None)
    if not (callable(getattr(router, "resume", None)) and callable(getattr(router, "closed", None)) and hasattr(router, "started")
            and callable(getattr(router, "watch_closing", None))):
        return
    timer = getattr(cursor, "_timer", None)
    if not (hasattr(cursor, "_parent_state") and callable(getattr(cursor, "_throttle_state_message", None))
            and callable(getattr(timer, "finish", None))):
        raise CdkShapeError(f"airbyte-cdk is not the version source-jira was written for ({PINNED_CDK}): missing "
                            "ConcurrentPerPartitionCursor._parent_state/_throttle_state_message/_timer.finish")
    router.resume(cursor._parent_state)
    last: Dict[str, Any] = {"at": 0.0, "state": None}

    def throttle() -> Optional[float]:
        now = time.time()
        moved = cursor._parent_state != last["state"]
        if not moved and now - last["at"] < 30.0:
            return None
        last["at"], last["state"] = now, copy.deepcopy(cursor._parent_state)
        return now

    finish = timer.finish

    def lookback_seconds() -> int:
        elapsed = finish()
        return max(elapsed, int(time.time()) - router.started) if router.started else elapsed

    close = cursor.close_partition

    def close_partition(partition: Any) -> None:
        close(partition)
        router.closed()

    cursor._throttle_state_message = throttle
    timer.finish = lookback_seconds
    cursor.close_partition = close_partition
    router.watch_closing()


class FastDatetimeParser(DatetimeParser):
    """Jira's timestamps (`2024-03-01T10:00:00.123+0000`) without strptime: a cursor parses every record's cursor
    value, and strptime was 40 % of a whole-catalog read's CPU. Only text the strict pattern below matches is parsed
    here, to the same datetime strptime gives (unit_tests/test_library_adapters.py compares them); anything else, and every
    other format, is the CDK's own parse. An epoch-ms value (the issue family's cursor: digits only) is refused at once,
    as strptime refuses it: the cursor tries these formats before `%ms`, and a failing strptime costs more than a
    passing one."""

    FORMATS = MappingProxyType({  # format -> whether its fraction of a second is required (True) or absent (False)
        "%Y-%m-%dT%H:%M:%S.%f%z": True, "%Y-%m-%dT%H:%M:%S.%_ms%z": True, "%Y-%m-%dT%H:%M:%S%z": False})
    PATTERN = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,6}))?"
                         r"(?:Z|([+-])([0-9]{2}):?([0-9]{2}))\Z")

    def parse(self, date: Any, format: str) -> dt.datetime:  # noqa: A002 - the CDK's signature
        fraction_required = self.FORMATS.get(format)
        if fraction_required is not None and (type(date) is int or (isinstance(date, str) and date.isascii() and date.isdigit())):
            raise ValueError(f"time data {str(date)!r} does not match format {format!r}")
        match = self.PATTERN.match(date) if fraction_required is not None and isinstance(date, str) else None
        if match is None or (match.group(7) is not None) != fraction_required:
            return super().parse(date, format)
        year, month, day, hour, minute, second, fraction, sign, tz_hours, tz_minutes = match.groups()
        offset = 0 if sign is None else (int(tz_hours) * 60 + int(tz_minutes)) * (-1 if sign == "-" else 1)
        zone = dt.timezone.utc if offset == 0 else dt.timezone(dt.timedelta(minutes=offset))
        return dt.datetime(int(year), int(month), int(day), int(hour), int(minute), int(second),
                           int((fraction or "0").ljust(6, "0")), tzinfo=zone)


def fast_cursor_parsing(stream: Any) -> None:
    """Every datetime cursor of a built stream parses with FastDatetimeParser, the cursors a per-partition cursor
    creates for its partitions later included."""
    def swap(converter: Any) -> None:
        if not isinstance(getattr(converter, "_parser", None), DatetimeParser):
            raise CdkShapeError(f"airbyte-cdk is not the version source-jira was written for ({PINNED_CDK}): "
                                "CustomFormatConcurrentStreamStateConverter._parser")
        if not isinstance(converter._parser, FastDatetimeParser):
            converter._parser = FastDatetimeParser()

    for converter in components_in(stream, lambda obj: isinstance(obj, CustomFormatConcurrentStreamStateConverter)):
        swap(converter)
    for cursor in components_in(stream, lambda obj: isinstance(obj, ConcurrentPerPartitionCursor)):
        factory = getattr(cursor, "_cursor_factory", None)
        create = getattr(factory, "_create_function", None)
        if not callable(create):
            raise CdkShapeError(f"airbyte-cdk is not the version source-jira was written for ({PINNED_CDK}): "
                                "ConcurrentPerPartitionCursor._cursor_factory._create_function")
        if getattr(create, "fast_parsing", False):
            continue

        def created(*args: Any, _create: Any = create, **kwargs: Any) -> Any:
            partition_cursor = _create(*args, **kwargs)
            converter = getattr(partition_cursor, "_connector_state_converter", None)
            if isinstance(converter, CustomFormatConcurrentStreamStateConverter):
                swap(converter)
            return partition_cursor

        created.fast_parsing = True  # type: ignore[attr-defined]
        factory._create_function = created


def cursor_state_problems(cursor: Any) -> List[str]:
    state = getattr(cursor, "_concurrent_state", None)
    if not isinstance(state, dict) or not isinstance(state.get("legacy", {}), dict):
        return ["ConcurrentCursor._concurrent_state['legacy']"]
    return []


def cursor_saved_state(cursor: Any) -> Dict[str, Any]:
    """The keys a ConcurrentCursor writes into its sequential state beside the cursor value (mutable: what is put
    there is in the next state message; the CDK starts it from the state the read was given)."""
    return cursor._concurrent_state.setdefault("legacy", {})


def select_streams(source: Any, streams: List[Any], catalog: ConfiguredAirbyteCatalog) -> List[Any]:
    return source._select_streams(streams=streams, configured_catalog=catalog)


def concurrent_read(source: Any, streams: List[Any]) -> Iterator[Any]:
    return source._concurrent_source.read(streams)


# =====================================================================================================================
# The CDK's output as `source_jira/run.py` reads it: how the entrypoint's serialized messages begin, and the texts of
# the CDK's errors and log lines that run.py shortens to one line. Each is derived from the CDK here (its serializer,
# its summary builder, its module) or checked in the CDK's source by `output_problems` (part of `check_shape`), so a
# CDK that says them otherwise fails loudly (unit_tests/test_packaging.py) instead of leaving run.py's hygiene
# silently undone.
# =====================================================================================================================

import functools  # noqa: E402
import importlib  # noqa: E402
import inspect  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Tuple  # noqa: E402

from airbyte_cdk.entrypoint import AirbyteEntrypoint  # noqa: E402
from airbyte_cdk.exception_handler import generate_failed_streams_error_message  # noqa: E402
from airbyte_cdk.models import (  # noqa: E402
    AirbyteControlConnectorConfigMessage,
    AirbyteControlMessage,
    AirbyteErrorTraceMessage,
    AirbyteLogMessage,
    AirbyteMessage,
    AirbyteTraceMessage,
    Level,
    OrchestratorType,
    TraceType,
    Type,
)
from airbyte_cdk.sources.streams.http import rate_limiting as _rate_limiting  # noqa: E402

_HTTP_CLIENT = "airbyte_cdk.sources.streams.http.http_client"
_CONCURRENT_READ = "airbyte_cdk.sources.concurrent_source.concurrent_read_processor"

# HttpClient's error when its retries ran out ("…Exception: <the last reason>"), and when they ran out on a 429
# (message RATE_LIMITED, internal message "…Last exception: <the last reason>").
EXHAUSTED = "Exhausted available request attempts. Please see logs for more details. Exception: "
RATE_EXHAUSTED = "Rate limit retry budget exhausted. Last exception: "
RATE_LIMITED = "API rate limit exceeded."
# HttpClient's "request failed" log line quotes the whole answer after this.
BODY_ECHO = " and error message: '"
# The retry lines of the CDK's backoff handlers: "Rate limit exceeded" for any retry, or a raw body.
RETRY_LINES = ("UserDefinedBackoffException: Rate limit exceeded", "Status code: ")
RETRY_LOG_MODULE = Path(_rate_limiting.__file__).stem  # what a LogRecord's `module` says for them
# The extra second the CDK sleeps on top of every backoff (source_jira/components/reliability.py, CDK_EXTRA_SLEEP).
EXTRA_SECOND = "sleep_time = retry_after + 1"
_TEXTS_IN_SOURCE = MappingProxyType({
    _HTTP_CLIENT: (EXHAUSTED, RATE_EXHAUSTED, RATE_LIMITED, BODY_ECHO),
    _rate_limiting.__name__: RETRY_LINES + (EXTRA_SECOND,),
})

# The start of the final "streams did not sync" error, as the CDK's own builder writes it (without the failures).
SUMMARY_PREFIX = generate_failed_streams_error_message({}).rstrip(": ")

_SAMPLES = MappingProxyType({
    Type.CONTROL: AirbyteMessage(type=Type.CONTROL, control=AirbyteControlMessage(
        type=OrchestratorType.CONNECTOR_CONFIG, emitted_at=0, connectorConfig=AirbyteControlConnectorConfigMessage(config={}))),
    Type.LOG: AirbyteMessage(type=Type.LOG, log=AirbyteLogMessage(level=Level.INFO, message="")),
    Type.TRACE: AirbyteMessage(type=Type.TRACE, trace=AirbyteTraceMessage(
        type=TraceType.ERROR, emitted_at=0, error=AirbyteErrorTraceMessage(message=""))),
})


def _serialized_prefix(message_type: Type) -> str:
    """How the entrypoint's serialized message of this type begins, up to its type (e.g. `{"type":"LOG"`)."""
    line = AirbyteEntrypoint.airbyte_message_to_string(_SAMPLES[message_type])
    quoted = f'"{message_type.value}"'
    return line[: line.find(quoted) + len(quoted)] if quoted in line else line


_PREFIXES: Mapping[str, str] = MappingProxyType({message_type.value: _serialized_prefix(message_type) for message_type in _SAMPLES})
_ANY_PREFIX: Tuple[str, ...] = tuple(_PREFIXES.values())


def watched_type(line: str) -> Optional[str]:
    """"CONTROL", "LOG" or "TRACE" when a line of the entrypoint's output is a message of that type, else None (a
    record, a state...). Read without parsing: every record passes here."""
    if not line.startswith(_ANY_PREFIX):
        return None
    return next(kind for kind, prefix in _PREFIXES.items() if line.startswith(prefix))


def is_summary(text: str) -> bool:
    """Whether an error (or log line) is the CDK's final "these streams did not sync successfully"."""
    return text.startswith(SUMMARY_PREFIX)


def gave_up_reason(message: str, internal_message: str) -> Optional[str]:
    """The last reason of the CDK's "retries ran out" error (its message and internal message), else None."""
    if message.startswith(EXHAUSTED):
        return message[len(EXHAUSTED):]
    if message == RATE_LIMITED and internal_message.startswith(RATE_EXHAUSTED):
        return internal_message[len(RATE_EXHAUSTED):]
    return None


def is_retry_line(record: logging.LogRecord) -> bool:
    """Whether a log record is one of the CDK's own retry lines (the retry policy logs its own, with the reason)."""
    return record.module == RETRY_LOG_MODULE and isinstance(record.msg, str) and record.msg.startswith(RETRY_LINES)


def without_body_echo(text: str) -> Optional[str]:
    """The CDK's "request failed" line without the answer it quotes; None for any other line."""
    return text.split(BODY_ECHO)[0] + "." if BODY_ECHO in text else None


@functools.lru_cache(maxsize=1)
def output_problems() -> Tuple[str, ...]:
    """What of the above the CDK no longer says or writes as expected (checked once a process)."""
    problems = []
    for kind, prefix in _PREFIXES.items():
        try:
            alone = orjson.loads(prefix + "}") == {"type": kind}
        except orjson.JSONDecodeError:
            alone = False
        if not alone:  # the type must come first in the entrypoint's serialized messages
            problems.append(f"AirbyteEntrypoint.airbyte_message_to_string writing a {kind} message type first")
    if not SUMMARY_PREFIX or not generate_failed_streams_error_message({"s": [ValueError("x")]}).startswith(SUMMARY_PREFIX):
        problems.append("generate_failed_streams_error_message starting with a fixed text")
    if getattr(importlib.import_module(_CONCURRENT_READ), "generate_failed_streams_error_message", None) is not generate_failed_streams_error_message:
        problems.append(f"{_CONCURRENT_READ}.generate_failed_streams_error_message")
    for module_name, texts in _TEXTS_IN_SOURCE.items():
        try:
            source = inspect.getsource(importlib.import_module(module_name))
        except (OSError, TypeError):
            source = ""
        problems += [f"{text!r} in {module_name}" for text in texts if text not in source]
    return tuple(problems)
