"""Requests made by the Python components, through the manifest's requesters (auth, the one error policy, retries,
the transport's timeouts and guards). Python because these answers feed code, not a record selector: each body is
parsed once (by the error policy), checked to carry the list Jira always sends, and token-paged chains are checked
to advance (`PageProgress`)."""

from __future__ import annotations

from typing import Any, Dict, Iterator, Mapping, Optional

import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.declarative.requesters.http_requester import HttpRequester
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_jira.components.pagination import PageProgress
from source_jira.components.reliability import endpoint, parsed_json


def send_json(requester: HttpRequester, path: str, body: Optional[Mapping[str, Any]] = None,
              params: Optional[Mapping[str, Any]] = None, expect: Optional[str] = None, expect_list: bool = False) -> Any:
    """One request; the body parsed once. `expect`: the list every answer of this endpoint carries (a `{}` from a
    gateway is no empty page); `expect_list`: the answer itself is a list."""
    response = requester.send_request(path=path, request_body_json=body, request_params=params)
    page = parsed_json(response)
    if expect is not None or expect_list:
        require_list(page, expect, response)
    return page


def send_optional(requester: HttpRequester, path: str, params: Optional[Mapping[str, Any]] = None) -> Any:
    """As `send_json`, for a requester whose error handler may skip an answer (its manifest `skip` filters, e.g. the
    404 of an issue deleted meanwhile): a skipped answer is None, never parsed as data."""
    response = requester.send_request(path=path, request_params=params)
    if response is None or not 200 <= response.status_code < 300:
        return None
    return parsed_json(response)


def sized_json(requester: HttpRequester, path: str, body: Mapping[str, Any], expect: str) -> "tuple[Any, int]":
    """As `send_json` (POST body), plus the size in bytes of the answer (to charge a memory budget)."""
    response = requester.send_request(path=path, request_body_json=body)
    page = parsed_json(response)
    require_list(page, expect, response)
    return page, len(response.content or b"") if response is not None else 0


def require_list(page: Any, key: Optional[str], response: Any) -> None:
    """The answer carries the list Jira always sends (`page[key]`, or the answer itself when `key` is None)."""
    found = page if key is None else page.get(key) if isinstance(page, Mapping) else None
    if isinstance(found, list):
        return
    if isinstance(page, Mapping):
        got = ("keys " + ", ".join(sorted(map(str, page))[:6])) if page else "an empty object"
    else:
        got = type(page).__name__
    wanted = f"has no '{key}' list" if key else "is not a list"
    where = endpoint(response) if isinstance(response, requests.Response) else "a Jira request"
    message = f"{where}: the answer {wanted} ({got}), so it is not Jira's answer; stopped rather than read it as an empty page."
    raise AirbyteTracedException(message=message, internal_message=message, failure_type=FailureType.system_error)


def next_token(page: Mapping[str, Any]) -> Optional[str]:
    """The next page's token of a token-paged answer (`nextPageToken`, `isLast`), None on the last page."""
    token = page.get("nextPageToken")
    if page.get("isLast", not token) or not token:
        return None
    return str(token)


def token_pages(requester: HttpRequester, path: str, body: Mapping[str, Any], expect: str, where: str) -> Iterator[Dict[str, Any]]:
    """Every page of a POST chain paged by `nextPageToken` in the body (`search/jql`, `changelog/bulkfetch`). A page
    is requested only when the previous one has been taken; a token seen twice in the chain fails loudly."""
    progress = PageProgress(where)
    token: Optional[str] = None
    while True:
        page = send_json(requester, path, {**body, "nextPageToken": token} if token else dict(body), expect=expect)
        token = next_token(page)
        yield page
        if token is None:
            return
        progress.advance(token)
