"""`source-jira` console script: the Airbyte protocol on stdout, config/catalog/state given to the constructor
(the concurrent source ignores what is passed only to read()), and one-line errors instead of tracebacks."""

from __future__ import annotations

import sys
import traceback
from datetime import datetime, timezone
from typing import List, Optional

import orjson
from airbyte_cdk.entrypoint import AirbyteEntrypoint, launch
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
        state = SourceJira.read_state(state_path) if state_path else None
        source = SourceJira(catalog=catalog, config=config, state=state, config_path=config_path)
        if source._config:
            register_config_secrets(source._config)
    except AirbyteTracedException as exc:
        _fail(command, exc.message or str(exc), exc.failure_type or FailureType.config_error)
        return
    except Exception as exc:  # noqa: BLE001 - a bad config file must not print a traceback
        _fail(command, f"Could not start the Jira source: {type(exc).__name__}: {exc}", FailureType.config_error)
        return
    launch(source, args)


if __name__ == "__main__":
    run()
