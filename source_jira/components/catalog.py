"""Catalog components. Python because the CDK's IGNORE action logs only at INFO (a skipped stream must be a WARN
naming the stream and the permission it needs, once), and because no declarative extractor turns a list of bare
strings (Jira's /label) into records."""

from __future__ import annotations

import logging
import threading
from dataclasses import InitVar, dataclass, field
from typing import Any, Iterable, List, Mapping, MutableMapping, Optional, Union

import dpath
import requests
from airbyte_cdk.sources.declarative.decoders import Decoder, JsonDecoder
from airbyte_cdk.sources.declarative.extractors.record_extractor import RecordExtractor
from airbyte_cdk.sources.streams.http.error_handlers import ErrorHandler
from airbyte_cdk.sources.streams.http.error_handlers.response_models import ErrorResolution, ResponseAction
from airbyte_cdk.sources.types import Config

from source_jira.components.reliability import DelegatesRetryLimits

logger = logging.getLogger("airbyte")



def _jira_said(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    if not isinstance(body, Mapping):
        return ""
    messages = list(body.get("errorMessages") or [])
    if body.get("message"):
        messages.append(str(body["message"]))
    return " ".join(str(m) for m in messages)


class WarnedStreams:
    """The streams already warned about as skipped, in one sync."""

    def __init__(self) -> None:
        self._names: set = set()
        self._lock = threading.Lock()

    def first(self, name: str) -> bool:
        with self._lock:
            if name in self._names:
                return False
            self._names.add(name)
            return True


@dataclass
class SkipForbiddenStream(DelegatesRetryLimits, ErrorHandler):
    """For streams the account may not be allowed to read: an HTTP 403 skips the request (no records) and logs one
    WARN per stream naming it and the permission it needs. For streams only some plans or editions have
    (`$parameters.available_on`), a 404 skips the same way, naming what the stream needs. Every other answer (400/401
    included, and a 404 elsewhere) goes to the shared error handler unchanged."""

    delegate: ErrorHandler
    config: Config
    parameters: InitVar[Mapping[str, Any]]
    permission: str = "a permission this account does not have"

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self._stream = str((parameters or {}).get("name") or "unknown")
        self._permission = str((parameters or {}).get("permission") or self.permission)
        # streams read through this one (a child stream reads its parent with the parent's own handler)
        self._dependents = str((parameters or {}).get("dependents") or "")
        self._available_on = str((parameters or {}).get("available_on") or "")
        self._warned: "WarnedStreams" = WarnedStreams()

    def _wrapped(self) -> ErrorHandler:
        return self.delegate

    def interpret_response(self, response_or_exception: Optional[Union[requests.Response, Exception]]) -> ErrorResolution:
        status = response_or_exception.status_code if isinstance(response_or_exception, requests.Response) else None
        if status == 403 or (status == 404 and self._available_on):
            self._warn_once(response_or_exception)
            return ErrorResolution(
                response_action=ResponseAction.IGNORE,
                failure_type=None,
                error_message=f"Stream '{self._stream}': HTTP {status} for {response_or_exception.request.method} {response_or_exception.url} skipped.",
            )
        return self.delegate.interpret_response(response_or_exception)

    def share_warnings(self, warned: "WarnedStreams") -> None:
        """One registry per source: a stream read again as another's parent still warns once."""
        self._warned = warned

    def _warn_once(self, response: requests.Response) -> None:
        if not self._warned.first(self._stream):
            return
        said = _jira_said(response)
        also = f" (and {self._dependents}, read through it)" if self._dependents else ""
        if response.status_code == 404:
            why = f"Jira answered 404 Not Found, so this site does not offer it: it needs {self._available_on}"
        else:
            why = f"Jira answered 403 Forbidden, so the account lacks the permission it needs: {self._permission}"
        logger.warning(f"Skipping stream '{self._stream}'{also}: {why}. The rest of the sync goes on." + (f" Jira said: {said}" if said else ""))


@dataclass
class ScalarRecordsExtractor(RecordExtractor):
    """Jira lists some things as bare strings (`/label` → `{"values": ["a", "b"]}`): each becomes `{key: value}`."""

    field_path: List[str]
    config: Config
    parameters: InitVar[Mapping[str, Any]]
    key: str = "value"
    decoder: Decoder = field(default_factory=lambda: JsonDecoder(parameters={}))

    def extract_records(self, response: requests.Response) -> Iterable[MutableMapping[Any, Any]]:
        for body in self.decoder.decode(response):
            values = dpath.get(body, list(self.field_path), default=[]) if self.field_path else body
            for value in values if isinstance(values, list) else []:
                yield value if isinstance(value, dict) else {self.key: value}
