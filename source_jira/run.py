"""`source-jira` console script: the Airbyte protocol on stdout, config/catalog/state given to the constructor
(the concurrent source ignores what is passed only to read()), and one-line errors instead of tracebacks."""

from __future__ import annotations

import logging
import os
import sys
from datetime import datetime, timezone
from typing import Dict, Iterable, Iterator, List, Optional

import orjson
from airbyte_cdk.entrypoint import AirbyteEntrypoint
from airbyte_cdk.logger import PRINT_BUFFER
from airbyte_cdk.models import (
    AirbyteConnectionStatus,
    AirbyteErrorTraceMessage,
    AirbyteMessage,
    AirbyteMessageSerializer,
    AirbyteTraceMessage,
    FailureType,
    Status,
    TraceType,
    Type,
)
from airbyte_cdk.utils.airbyte_secrets_utils import filter_secrets
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_jira import cdk_adapter, inputs
from source_jira.secrets import register_config_secrets
from source_jira.source import SourceJira, one_line


def _emit(message: AirbyteMessage) -> None:
    print(orjson.dumps(AirbyteMessageSerializer.dump(message)).decode(), flush=True)


def _fail(command: Optional[str], message: str, failure_type: FailureType) -> None:
    message = filter_secrets(one_line(message))
    if command == "check":
        _emit(AirbyteMessage(type=Type.CONNECTION_STATUS, connectionStatus=AirbyteConnectionStatus(status=Status.FAILED, message=message)))
        return
    _emit(
        AirbyteMessage(
            type=Type.TRACE,
            trace=AirbyteTraceMessage(
                type=TraceType.ERROR,
                emitted_at=datetime.now(timezone.utc).timestamp() * 1000,
                error=AirbyteErrorTraceMessage(message=message, internal_message=message, failure_type=failure_type),
            ),
        )
    )
    sys.exit(1)


def run(args: Optional[List[str]] = None) -> None:
    args = sys.argv[1:] if args is None else args
    command = args[0] if args else None
    config_path = AirbyteEntrypoint.extract_config(args)
    catalog_path = AirbyteEntrypoint.extract_catalog(args)
    state_path = AirbyteEntrypoint.extract_state(args)
    try:
        config = SourceJira.read_config(config_path) if config_path else None
        register_config_secrets(config)
        catalog = SourceJira.read_catalog(catalog_path) if catalog_path else None
        state = None
        if state_path:
            raw_state = _load_json(state_path, "state")
            problem = inputs.state_shape_problem(raw_state)
            if problem:
                _fail(command, problem, FailureType.config_error)
                return
            state = SourceJira.read_state(state_path) or None
        source = SourceJira(catalog=catalog, config=config, state=state, config_path=config_path)
        if source._config:
            register_config_secrets(source._config)
        problem = None
        if command in ("check", "discover", "read") and source._config:
            problem = inputs.credentials_problem(source._config, cdk_adapter.manifest(source).get("spec") or {})
        if problem is None and state:
            problem = inputs.cursor_problem(state, cdk_adapter.stream_configs(source))
        if problem:
            _fail(command, problem, FailureType.config_error)
            return
    except AirbyteTracedException as exc:
        _fail(command, exc.message or str(exc), exc.failure_type or FailureType.config_error)
        return
    except Exception as exc:  # noqa: BLE001 - a bad config file must not print a traceback
        _fail(command, f"Could not start the Jira source: {type(exc).__name__}: {exc}", FailureType.config_error)
        return
    entrypoint = AirbyteEntrypoint(source)
    parsed = entrypoint.parse_args(args)
    install_log_hygiene()
    stream_errors: Dict[str, str] = {}
    stream_types: Dict[str, str] = {}
    try:
        with PRINT_BUFFER:
            for line in tidy_messages(entrypoint.run(parsed), stream_errors, stream_types):
                print(f"{line}\n", end="")
    except AirbyteTracedException as exc:
        text = one_line(exc.message or str(exc))
        failure_type = exc.failure_type or FailureType.system_error
        if cdk_adapter.is_summary(text) and stream_errors:
            text = _summary(stream_errors)
            failure_type = FailureType(summary_type(stream_types.values()))
        _debug_trace()
        _fail(command, text, failure_type)
    except Exception as exc:  # noqa: BLE001 - one line, never a traceback on stdout
        _debug_trace()
        _fail(command, f"{type(exc).__name__}: {exc}", FailureType.system_error)


def _load_json(path: str, what: str) -> object:
    try:
        with open(path, "rb") as handle:
            return orjson.loads(handle.read() or b"null")
    except orjson.JSONDecodeError as exc:
        raise AirbyteTracedException(message=f"The {what} file {path} is not valid JSON: {exc}", failure_type=FailureType.config_error) from None


def _summary(stream_errors: Dict[str, str]) -> str:
    return "Streams that did not sync: " + "; ".join(f"{name}: {reason}" for name, reason in stream_errors.items())


def _debug_trace() -> None:
    if os.environ.get("SOURCE_JIRA_DEBUG") == "1":
        import traceback

        traceback.print_exc(file=sys.__stderr__)


class _OneLineErrors(logging.Filter):
    """Error logs on stdout stay one line: the traceback goes to stderr only with SOURCE_JIRA_DEBUG=1."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            if cdk_adapter.is_retry_line(record):
                return False  # "Rate limit exceeded (HTTP 200)" for any retry, or a raw body: JiraBackoff logs the reason
            if cdk_adapter.is_summary(record.msg):
                return False  # exception reprs with raw answers: the final TRACE error says it per stream, in short
            shortened = cdk_adapter.without_body_echo(record.msg)
            if shortened is not None:
                # the CDK's "request failed" line quotes the whole answer (a proxy's HTML page, say): the TRACE error
                # that follows says what the answer was, in short
                record.msg, record.args = shortened, ()
        if record.levelno >= logging.WARNING and (record.exc_info or record.exc_text):
            if os.environ.get("SOURCE_JIRA_DEBUG") == "1" and record.exc_info:
                import traceback

                traceback.print_exception(*record.exc_info, file=sys.__stderr__)
            reason = record.exc_info[1] if record.exc_info and record.exc_info[1] else None
            message = record.getMessage()
            if reason is not None and isinstance(reason, AirbyteTracedException) and reason.message:
                message = f"{message}: {reason.message}"
            elif reason is not None and str(reason):  # e.g. the CDK's "Retries exhausted": say which request and why
                message = f"{message}: {str(reason)[:500]}"
            record.msg, record.args = one_line(message), ()
            record.exc_info, record.exc_text, record.stack_info = None, None, None
        elif record.levelno >= logging.WARNING and isinstance(record.msg, str) and "\n" in record.msg:
            record.msg, record.args = one_line(record.getMessage()), ()
        return True


def install_log_hygiene() -> None:
    for name in ("", "airbyte"):
        for handler in logging.getLogger(name).handlers:
            if not any(isinstance(f, _OneLineErrors) for f in handler.filters):
                handler.addFilter(_OneLineErrors())


def gave_up(error: Dict) -> str:
    """The CDK's "retries ran out" errors, said as what they are: the endpoint and the last reason, one line (the
    retry policy in source_jira/components/reliability.py writes `<METHOD url>: <reason>`)."""
    text = one_line(error.get("message") or "")
    reason = cdk_adapter.gave_up_reason(text, one_line(error.get("internal_message") or ""))
    return text if reason is None else "Gave up after retrying " + reason


def summary_type(types: Iterable[str]) -> str:
    """The failure type of "these streams did not sync": the user's to fix only when every stream's was; a retry
    may help when any stream gave up on a transient fault; else the connector's or the site's fault."""
    kinds = set(types)
    if kinds and kinds <= {"config_error"}:
        return "config_error"
    if "transient_error" in kinds:
        return "transient_error"
    return "system_error"


def tidy_messages(lines: Iterable[str], stream_errors: Dict[str, str], stream_types: Optional[Dict[str, str]] = None) -> Iterator[str]:
    """Protocol hygiene on the way out: records pass untouched (no parsing on the hot path); error logs and traces
    are cut to one line without stack traces (kept on stderr only with SOURCE_JIRA_DEBUG=1); the CDK's final
    "streams did not sync" error is rebuilt from the per-stream messages instead of exception reprs."""
    debug = os.environ.get("SOURCE_JIRA_DEBUG") == "1"
    stream_types = {} if stream_types is None else stream_types
    for line in lines:
        kind = cdk_adapter.watched_type(line)  # CONTROL, LOG, TRACE; None for records and the rest
        if kind == "CONTROL":
            # a rotated OAuth refresh/access token: masked from here on in logs, errors and traces (the CONTROL
            # message itself carries the config to the platform, which is its purpose)
            register_config_secrets((orjson.loads(line).get("control") or {}).get("connectorConfig", {}).get("config"))
            yield line
            continue
        if kind is None:
            yield line
            continue
        message = orjson.loads(line)
        if kind == "LOG":
            log = message["log"]
            text = log.get("message") or ""
            if log.get("level") in ("ERROR", "FATAL", "WARN") and ("\n" in text or "Traceback" in text):
                if debug:
                    sys.__stderr__.write(text + "\n")
                log["message"] = filter_secrets(one_line(text.split("Traceback (most recent call last)")[0]) or "error (details with SOURCE_JIRA_DEBUG=1)")
                line = orjson.dumps(message).decode()
            yield line
            continue
        trace = message["trace"]
        error = trace.get("error") if trace.get("type") == "ERROR" else None
        if error is None:
            yield line
            continue
        if debug and error.get("stack_trace"):
            sys.__stderr__.write(error["stack_trace"] + "\n")
        error["stack_trace"] = None
        text = gave_up(error)
        stream = (error.get("stream_descriptor") or {}).get("name")
        if stream:
            stream_errors.setdefault(stream, text)
            stream_types.setdefault(stream, error.get("failure_type") or "system_error")
        if cdk_adapter.is_summary(text) and stream_errors:
            text = _summary(stream_errors)
            error["failure_type"] = summary_type(stream_types.values())
        error["message"] = filter_secrets(text)
        # the CDK's internal message quotes raw answers and exception reprs: the user-facing line says it all
        error["internal_message"] = error["message"]
        yield orjson.dumps(message).decode()


if __name__ == "__main__":
    run()
