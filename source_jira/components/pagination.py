"""Offset paging that ends only on an empty page: the CDK's OffsetIncrement stops on any short page, but Jira's
bare-array endpoints (e.g. /users/search) return short pages in the middle of the list."""

from dataclasses import InitVar, dataclass
from typing import Any, Mapping, Optional, Union

import requests
from airbyte_cdk.sources.declarative.requesters.paginators.strategies.pagination_strategy import PaginationStrategy
from airbyte_cdk.sources.types import Config, Record


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
