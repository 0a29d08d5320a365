"""The one retry policy. Python because the CDK cannot say it in YAML: its JsonDecoder turns a 200 whose body is not
JSON into `{}` (the page is silently lost), its header wait cannot jitter or fall back to Jira's `X-RateLimit-Reset`,
and it adds a fixed second to every wait (`UserDefinedBackoffException` sleeps `backoff + 1`).

* `JiraErrorHandler` wraps the manifest's status-code policy (`definitions.error_handler`). A 2xx is parsed once here
  (orjson) and the parse is kept on the response for the Python components (`parsed_json`), so a body that is not
  valid JSON — a proxy page, a cut connection, a corrupted transfer — is retried like a 5xx and never reaches a
  decoder. An error answer (4xx) that declares JSON but whose body does not parse is a corrupted transfer too (Jira's
  own errors are always valid JSON): it is retried, never read as a refusal. Every retry and the final give-up name
  the endpoint and the reason in one line.
* `JiraBackoff` is the only wait: `Retry-After` (or `X-RateLimit-Reset`) when Jira sends one, else exponential
  backoff with jitter, capped; the CDK's extra second is subtracted so waits are what they say.
The bound is the policy's `max_retries` (and `max_time`); when it runs out the sync fails with that one line.
"""

from __future__ import annotations

import json
import logging
import random
import re
import socket
from dataclasses import InitVar, dataclass
from datetime import datetime, timezone
from http import HTTPStatus
from typing import Any, List, Mapping, Optional, Union
from urllib.parse import urlsplit, urlunsplit

import orjson
import requests
from urllib3.exceptions import NameResolutionError
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.streams.http.error_handlers import BackoffStrategy, ErrorHandler
from airbyte_cdk.sources.streams.http.error_handlers.response_models import ErrorResolution, ResponseAction
from airbyte_cdk.sources.types import Config
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_jira.transport import AddressRefused, RedirectRefused, ResponseDeadline

LOGGER = logging.getLogger("airbyte")
_PARSED = "_source_jira_json"
_RETRY_ACTIONS = (ResponseAction.RETRY, ResponseAction.RATE_LIMITED)
CDK_EXTRA_SLEEP = 1.0  # airbyte_cdk.sources.streams.http.rate_limiting.user_defined_backoff_handler sleeps backoff + 1


class InvalidJsonBody(ValueError):
    pass


def endpoint(response_or_request: Any) -> str:
    """`METHOD https://host/path` (no query string, no userinfo) of a response or prepared request."""
    request = getattr(response_or_request, "request", None) if isinstance(response_or_request, requests.Response) else response_or_request
    url = getattr(response_or_request, "url", None) if isinstance(response_or_request, requests.Response) else None
    url = url or getattr(request, "url", None) or ""
    method = getattr(request, "method", None) or ""
    if url:
        parts = urlsplit(url)
        url = urlunsplit((parts.scheme, parts.netloc.rsplit("@", 1)[-1], parts.path, "", ""))
    return f"{method} {url}".strip() or "a Jira request"


def _decode(content: bytes) -> Any:
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError:
        try:  # as lenient as the CDK's own parser (NaN, odd encodings), but only on this rare path
            return json.loads(content.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise InvalidJsonBody(str(exc)) from None


def parsed_json(response: Optional[requests.Response], default: Any = None) -> Any:
    """The body of a response: the parse `JiraErrorHandler` already made for a 2xx, else parsed now (an error
    response the policy chose to ignore gives `default` when it is not JSON)."""
    if response is None:
        return {} if default is None else default
    if hasattr(response, _PARSED):
        return getattr(response, _PARSED)
    if not response.content:
        return {} if default is None else default
    try:
        return _decode(response.content)
    except InvalidJsonBody:
        if response.ok:
            raise
        return {} if default is None else default


def check_json(response: requests.Response) -> Optional[str]:
    """None when the 2xx body is valid JSON (or empty: 204 and friends); else why not. The parse is kept."""
    if hasattr(response, _PARSED):
        return None
    content = response.content
    if not content:
        if response.status_code == 204:  # "No Content" is an answer; an empty 200 where JSON is expected is not
            setattr(response, _PARSED, {})
            return None
        kind = response.headers.get("Content-Type", "").split(";")[0] or "no content type"
        return f"the body is empty ({kind}) where Jira always sends JSON"
    try:
        setattr(response, _PARSED, _decode(content))
    except InvalidJsonBody as exc:
        kind = response.headers.get("Content-Type", "").split(";")[0] or "no content type"
        return f"the body is not valid JSON ({kind}, {len(content)} bytes: {str(exc)[:80]})"
    return None


def corrupt_json_error(response: requests.Response) -> Optional[str]:
    """Why a non-2xx answer that says it is JSON is not (cut or mangled in transit); None when it parses or does not
    claim to be JSON (a proxy's HTML page is an answer, judged by its status)."""
    kind = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if not kind.endswith("json") or not response.content:
        return None
    try:
        _decode(response.content)
    except InvalidJsonBody as exc:
        return f"HTTP {response.status_code} but the body is not valid JSON ({kind}, {len(response.content)} bytes: {str(exc)[:80]})"
    return None


def request_of(exc: BaseException) -> Any:
    """The request an exception came from (None when it names none). The transport (source_jira/transport.py) has
    every error of a body read carry its request, a body cut short (ChunkedEncodingError) included."""
    return getattr(exc, "request", None)


def describe_exception(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return f"the connection broke mid-response (body cut short: {text[:160]})"
    if isinstance(exc, ResponseDeadline):
        return text[:200]
    if isinstance(exc, requests.exceptions.Timeout):
        limit = re.search(r"(connect|read) timeout=([0-9.]+)", text)
        said = f": no answer within {limit.group(2)} s ({limit.group(1)} timeout)" if limit else ""
        return f"timed out{said} ({type(exc).__name__})"
    if isinstance(exc, requests.exceptions.ConnectionError):
        if "reset" in text.lower() or "aborted" in text.lower():
            return f"connection reset ({text[:160]})"
        return f"connection error ({text[:160]})"
    return f"{type(exc).__name__}: {text[:160]}"


def jira_messages(response: requests.Response) -> List[str]:
    """Jira's own `errorMessages` (and `errors` values, `message`) of an error answer; [] when it is not Jira's."""
    try:
        body = _decode(response.content) if response.content else None
    except InvalidJsonBody:
        return []
    if not isinstance(body, Mapping):
        return []
    said = [str(m) for m in body.get("errorMessages") or []]
    errors = body.get("errors")
    if isinstance(errors, Mapping):
        said += [str(v) for v in errors.values()]
    if body.get("message"):
        said.append(str(body["message"]))
    return said


def body_summary(response: requests.Response, limit: int = 120) -> str:
    """Status, content type, size and a short cleaned excerpt of an answer that is not Jira's (a proxy's or a
    gateway's page): never the page itself."""
    kind = response.headers.get("Content-Type", "").split(";")[0] or "no content type"
    text = (response.content or b"")[:4096].decode("utf-8", "replace")
    text = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", text)
    text = " ".join(re.sub(r"<[^>]*>", " ", text).split())
    excerpt = (text[:limit] + "…") if len(text) > limit else text
    return f"HTTP {response.status_code}, {kind}, {len(response.content or b'')} bytes" + (f': "{excerpt}"' if excerpt else "")


def with_body_summary(message: str, response: requests.Response) -> str:
    """The policy's FAIL message; when the answer carries no Jira message, what the answer was instead."""
    message = " ".join(message.split())
    if jira_messages(response):
        return message
    if message.endswith("Jira said:"):
        message = message[: -len("Jira said:")].rstrip()
    return f"{message} The answer is not Jira's ({body_summary(response)})."


def describe_status(response: requests.Response) -> str:
    try:
        phrase = HTTPStatus(response.status_code).phrase
    except ValueError:
        phrase = ""
    kind = response.headers.get("Content-Type", "").split(";")[0]
    html = " (HTML body)" if "html" in kind else ""
    return f"HTTP {response.status_code} {phrase}{html}".strip()


def retry_reason(response_or_exception: Any) -> str:
    """`<METHOD url>: <why>` of an answer or error about to be retried."""
    if isinstance(response_or_exception, requests.Response):
        if 200 <= response_or_exception.status_code < 300:
            problem = check_json(response_or_exception) or "an answer that could not be used"
            return f"{endpoint(response_or_exception)}: HTTP {response_or_exception.status_code} but {problem}"
        return f"{endpoint(response_or_exception)}: {describe_status(response_or_exception)}"
    if isinstance(response_or_exception, BaseException):
        request = request_of(response_or_exception)
        return f"{endpoint(request) if request is not None else 'a Jira request'}: {describe_exception(response_or_exception)}"
    return "no response"


class DelegatesRetryLimits:
    """Retry limits and backoff of a wrapping error handler are those of the handler it wraps (`_wrapped()`), or
    the config's `max_retries`, capped by `cap_retries` (`check` retries once: an answer in seconds)."""

    _retry_cap: Optional[int] = None

    def _wrapped(self) -> ErrorHandler:
        raise NotImplementedError

    def cap_retries(self, cap: int) -> None:
        self._retry_cap = cap
        inner = self._wrapped()
        if hasattr(inner, "cap_retries"):
            inner.cap_retries(cap)

    @property
    def max_retries(self) -> Optional[int]:
        configured = (getattr(self, "config", None) or {}).get("max_retries")
        limit = int(configured) if isinstance(configured, (int, float)) and configured >= 0 else self._wrapped().max_retries
        if self._retry_cap is not None:
            limit = self._retry_cap if limit is None else min(limit, self._retry_cap)
        return limit

    @property
    def max_time(self) -> Optional[int]:
        return self._wrapped().max_time

    @property
    def backoff_strategies(self) -> Optional[List[BackoffStrategy]]:
        return getattr(self._wrapped(), "backoff_strategies", None)


@dataclass
class JiraErrorHandler(DelegatesRetryLimits, ErrorHandler):
    """The shared policy (`policy`: the manifest's DefaultErrorHandler with its status-code filters) plus the JSON
    check of every 2xx. Retry messages are `<METHOD url>: <reason>`, so the give-up error names both.
    `skip`: optional IGNORE filters a stream adds for one answer it expects (a deleted issue's 404, a board without
    sprints); they are asked only about non-2xx answers, before the policy, so every other answer keeps the policy's
    decision and Jira's own message."""

    policy: ErrorHandler
    config: Config
    parameters: InitVar[Mapping[str, Any]]
    skip: Optional[List[Any]] = None

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        pass

    def _wrapped(self) -> ErrorHandler:
        return self.policy

    def _user_query(self, response: requests.Response) -> bool:
        """Whether the request carries JQL made from the user's `projects` or `issues_jql_filter`."""
        if not ((self.config or {}).get("issues_jql_filter") or (self.config or {}).get("projects")):
            return False
        request = response.request
        body = request.body.decode("utf-8", "replace") if isinstance(request.body, bytes) else str(request.body or "")
        return "jql" in (request.url or "") or '"jql"' in body

    def interpret_response(self, response_or_exception: Optional[Union[requests.Response, Exception]]) -> ErrorResolution:
        if isinstance(response_or_exception, requests.Response) and 200 <= response_or_exception.status_code < 300:
            problem = check_json(response_or_exception)
            if problem is None:
                return ErrorResolution(response_action=ResponseAction.SUCCESS, failure_type=None, error_message=None)
            return ErrorResolution(
                response_action=ResponseAction.RETRY,
                failure_type=FailureType.transient_error,
                error_message=f"{endpoint(response_or_exception)}: HTTP {response_or_exception.status_code} but {problem}",
            )
        if isinstance(response_or_exception, (AddressRefused, RedirectRefused)):
            return ErrorResolution(response_action=ResponseAction.FAIL, failure_type=FailureType.config_error,
                                   error_message=" ".join(str(response_or_exception).split()))
        if isinstance(response_or_exception, requests.Response) and 400 <= response_or_exception.status_code < 500:
            corrupt = corrupt_json_error(response_or_exception)
            if corrupt is not None:
                return ErrorResolution(response_action=ResponseAction.RETRY, failure_type=FailureType.transient_error,
                                       error_message=f"{endpoint(response_or_exception)}: {corrupt}")
        if self.skip and isinstance(response_or_exception, requests.Response):
            for response_filter in self.skip:
                skipped = response_filter.matches(response_or_exception)
                if skipped is not None and skipped.response_action == ResponseAction.IGNORE:
                    return skipped  # the HTTP client logs its message once, at INFO
        resolution = self.policy.interpret_response(response_or_exception)
        if resolution.response_action == ResponseAction.FAIL and isinstance(response_or_exception, requests.Response):
            message = with_body_summary(resolution.error_message or "", response_or_exception)
            failure_type = resolution.failure_type
            if response_or_exception.status_code == 400 and not self._user_query(response_or_exception):
                # nothing the user configured is in this request: Jira refused the connector's own request
                failure_type = FailureType.system_error
                message += " (This request is built by the connector alone: please report it.)"
            return ErrorResolution(response_action=ResponseAction.FAIL, failure_type=failure_type, error_message=message)
        if resolution.response_action not in _RETRY_ACTIONS:
            return resolution
        if isinstance(response_or_exception, requests.Response):
            reason = f"{endpoint(response_or_exception)}: {describe_status(response_or_exception)}"
        elif isinstance(response_or_exception, BaseException):
            request = request_of(response_or_exception)
            where = endpoint(request) if request is not None else "a Jira request"
            reason = f"{where}: {describe_exception(response_or_exception)}"
        else:
            reason = resolution.error_message or "no response"
        return ErrorResolution(
            response_action=ResponseAction.RETRY,  # RATE_LIMITED without a bound retries forever: always RETRY
            failure_type=FailureType.transient_error,
            error_message=reason,
        )


DNS_RETRIES = 2  # a failed DNS look-up is retried this often (a blip), then the site is taken to be wrong


def dns_failure(exc: BaseException) -> bool:
    """Whether an error is a failed DNS look-up (urllib3's NameResolutionError, a socket.gaierror) at any depth."""
    seen, stack = set(), [exc]
    while stack:
        item = stack.pop()
        if item is None or id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, (socket.gaierror, NameResolutionError)):
            return True
        if isinstance(item, BaseException):
            stack += [item.__cause__, item.__context__, getattr(item, "reason", None)] + [a for a in item.args if isinstance(a, BaseException)]
    return False


@dataclass
class JiraBackoff(BackoffStrategy):
    """`Retry-After` seconds (the longer of it and `Beta-Retry-After`, else the time to `X-RateLimit-Reset`) when Jira
    says how long, plus a little jitter so workers do not return together; otherwise `base_seconds * 2^(attempt-1)` capped at `max_seconds`, scaled by a
    random factor in [0.5, 1.5). A header asking for more than `max_header_wait_seconds` fails the stream loudly."""

    config: Config
    parameters: InitVar[Mapping[str, Any]]
    base_seconds: Union[float, str] = 1.0
    max_seconds: Union[float, str] = 60.0
    max_header_wait_seconds: Union[float, str] = 300.0

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self._base = float(self.base_seconds)
        self._cap = float(self.max_seconds)
        self._header_cap = float(self.max_header_wait_seconds)
        self._random = random.Random()

    def wanted_wait(self, response_or_exception: Any, attempt_count: int) -> float:
        if isinstance(response_or_exception, BaseException) and dns_failure(response_or_exception) and int(attempt_count or 1) > DNS_RETRIES:
            # a name that does not resolve twice running is a wrong site, not a blip: say so in seconds, not minutes
            # (the generic manifest runner's `check` has no pre-flight of its own)
            request = request_of(response_or_exception)
            host = urlsplit(getattr(request, "url", "") or "").hostname or "the Jira site"
            raise AirbyteTracedException(
                message=f"The Jira site '{host}' was not found (DNS lookup failed {attempt_count} times): check the domain, e.g. acme.atlassian.net.",
                failure_type=FailureType.config_error,
            )
        told = self.header_wait(response_or_exception) if isinstance(response_or_exception, requests.Response) else None
        if told is not None:
            if told > self._header_cap:
                raise AirbyteTracedException(
                    message=f"{endpoint(response_or_exception)}: Jira asked to wait {told:.0f} s "
                    f"(HTTP {response_or_exception.status_code}), more than the {self._header_cap:.0f} s this connector "
                    "waits; run the sync again later (the saved state is kept).",
                    failure_type=FailureType.transient_error,
                )
            return told + self._random.uniform(0.0, min(1.0, 0.1 * told + 0.2))
        step = min(self._cap, self._base * (2 ** max(0, int(attempt_count or 1) - 1)))
        return step * self._random.uniform(0.5, 1.5)

    def backoff_time(self, response_or_exception: Any, attempt_count: int) -> Optional[float]:
        wait = self.wanted_wait(response_or_exception, attempt_count)
        # The CDK's own retry line says "Rate limit exceeded" whatever the reason (run.py drops it): say what it is.
        LOGGER.info(f"Retrying in {wait:.1f} s (attempt {attempt_count}): {retry_reason(response_or_exception)}")
        # Never 0/None: a falsy value would hand the retry to the CDK's unbounded rate-limit loop.
        return max(0.001, wait - CDK_EXTRA_SLEEP)

    @staticmethod
    def header_wait(response: requests.Response) -> Optional[float]:
        # Retry-After, or Beta-Retry-After (Jira's points-based quotas on OAuth traffic): the longer of the two
        told = []
        for name in ("Retry-After", "Beta-Retry-After"):
            value = response.headers.get(name)
            if value is not None:
                try:
                    told.append(max(0.0, float(value.strip())))
                except ValueError:
                    pass
        if told:
            return max(told)
        if response.status_code == 429 and response.headers.get("X-RateLimit-Reset"):
            reset = response.headers["X-RateLimit-Reset"].strip()
            try:
                when = datetime.fromisoformat(reset.replace("Z", "+00:00"))
                if when.tzinfo is None:
                    when = when.replace(tzinfo=timezone.utc)
                return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())
            except ValueError:
                return None
        return None
