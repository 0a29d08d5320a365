"""Paging components. Python because the CDK's strategies cannot say these:
* `OffsetUntilEmptyPage`: offset paging that ends only on an empty page. The CDK's OffsetIncrement stops on any
  short page, but Jira's bare-array endpoints (e.g. /users/search) return short pages in the middle of the list.
* `GuardedPagination`: wraps any strategy and fails loudly, naming the endpoint, when the pages stop advancing (the
  same token or offset again, or the very same page again: a server that ignores `startAt`). The CDK would request
  the same page forever.
* `PageProgress`: the same rule for the page loops of the Python components (search tokens, bulkfetch tokens, the
  worklog feed, per-issue comment pages).
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import InitVar, dataclass
from typing import Any, Mapping, Optional, Set, Union

import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.declarative.requesters.paginators.strategies.pagination_strategy import PaginationStrategy
from airbyte_cdk.sources.types import Config, Record
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

MAX_PAGES = 1_000_000  # no chain of pages is longer than this: a bound even for a server whose tokens never repeat


def no_progress(where: str, what: str) -> AirbyteTracedException:
    message = f"{where}: {what}, so the pages do not advance; stopped instead of asking for the same page forever."
    return AirbyteTracedException(message=message, internal_message=message, failure_type=FailureType.system_error)


class PageProgress:
    """One chain of pages: every page must bring a token (or offset) not seen before in the chain."""

    def __init__(self, where: str) -> None:
        self.where = where
        self._seen: Set[str] = set()

    def advance(self, token: Any) -> None:
        key = repr(token)
        if key in self._seen:
            raise no_progress(self.where, f"Jira sent the page position {str(token)[:60]!r} a second time")
        if len(self._seen) >= MAX_PAGES:
            raise no_progress(self.where, f"more than {MAX_PAGES} pages")
        self._seen.add(key)

    def stalled(self, what: str) -> None:
        raise no_progress(self.where, what)


def _where(response: requests.Response) -> str:
    from source_jira.components.reliability import endpoint

    return endpoint(response)


@dataclass
class GuardedPagination(PaginationStrategy):
    """`inner`'s tokens, refused when they stop advancing. A chain is one partition's pages, read on one thread;
    it starts when the previous token is None."""

    inner: PaginationStrategy
    config: Config
    parameters: InitVar[Mapping[str, Any]]

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self._chains = threading.local()

    @property
    def initial_token(self) -> Optional[Any]:
        return self.inner.initial_token

    def get_page_size(self) -> Optional[int]:
        return self.inner.get_page_size()

    def next_page_token(self, response: requests.Response, last_page_size: int, last_record: Optional[Record],
                        last_page_token_value: Optional[Any] = None, **kwargs: Any) -> Optional[Any]:
        token = self.inner.next_page_token(response, last_page_size, last_record, last_page_token_value)
        fingerprint = hashlib.blake2b(response.content or b"", digest_size=16).digest()
        chain = getattr(self._chains, "chain", None)
        if last_page_token_value is None or chain is None:
            chain = self._chains.chain = {"progress": PageProgress(""), "page": None}
            if last_page_token_value is not None:
                chain["progress"].advance(last_page_token_value)
        if token is None:
            self._chains.chain = None
            return None
        progress: PageProgress = chain["progress"]
        progress.where = _where(response)
        if chain["page"] == fingerprint and last_page_size > 0:
            self._chains.chain = None
            raise no_progress(progress.where, "Jira answered the next page with the very same page")
        chain["page"] = fingerprint
        if token == last_page_token_value:
            self._chains.chain = None
            raise no_progress(progress.where, f"Jira sent the page position {str(token)[:60]!r} a second time")
        try:
            progress.advance(token)
        except AirbyteTracedException:
            self._chains.chain = None
            raise
        return token


@dataclass
class OffsetUntilEmptyPage(PaginationStrategy):
    config: Config
    page_size: Optional[Union[str, int]]
    parameters: InitVar[Mapping[str, Any]]

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self._page_size = int(self.page_size) if self.page_size is not None else 100

    @property
    def initial_token(self) -> Optional[Any]:
        return None

    def next_page_token(
        self,
        response: requests.Response,
        last_page_size: int,
        last_record: Optional[Record],
        last_page_token_value: Optional[Any] = None,
        **kwargs: Any,
    ) -> Optional[Any]:
        if last_page_size == 0:
            return None
        return int(last_page_token_value or 0) + last_page_size

    def get_page_size(self) -> Optional[int]:
        return self._page_size
