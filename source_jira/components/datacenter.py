"""Data Center lists a server may cut short. Python because a DpathExtractor cannot compare what came with what the
server says exists, nor notice that a list stopped at a documented cap, and say so in a warning (never a silent loss).

* `groups/picker` answers `total` (every group matching) but lists at most the site's picker limit
  (`jira.ajax.autocomplete.limit`): when fewer came, the sync warns with both numbers.
* `user/search` has no `total` and stops at a cap (Jira 10: the first 100 results; earlier versions: 1,000 —
  JRASERVER-65089): when the whole list holds exactly such a number of users, the sync warns that more may exist.
"""

from __future__ import annotations

import logging
from dataclasses import InitVar, dataclass, field
from typing import Any, Iterable, List, Mapping, MutableMapping

import requests
from airbyte_cdk.sources.declarative.extractors.record_extractor import RecordExtractor
from airbyte_cdk.sources.types import Config

from source_jira.components.reliability import parsed_json

logger = logging.getLogger("airbyte")
USER_SEARCH_CAPS = (100, 1000)  # where Data Center's user search stops, whatever startAt asks


@dataclass
class PickerGroupsExtractor(RecordExtractor):
    """The groups of a `groups/picker` answer; a warning when the answer's `total` says more exist."""

    config: Config
    parameters: InitVar[Mapping[str, Any]]

    def extract_records(self, response: requests.Response) -> Iterable[MutableMapping[Any, Any]]:
        body = parsed_json(response)
        groups = [g for g in (body.get("groups") or []) if isinstance(g, dict)] if isinstance(body, Mapping) else []
        total = body.get("total") if isinstance(body, Mapping) else None
        if isinstance(total, int) and total > len(groups):
            logger.warning(
                f"groups: Jira Data Center listed {len(groups)} of its {total} groups: groups/picker stops at the site's "
                "picker limit (jira.ajax.autocomplete.limit). The other groups and their members are not read; an "
                "administrator can raise that limit.")
        yield from groups


@dataclass
class UserSearchExtractor(RecordExtractor):
    """The users of a `user/search` page; a warning when the whole list ends exactly at a known cap."""

    config: Config
    parameters: InitVar[Mapping[str, Any]]
    _count: List[int] = field(default_factory=lambda: [0])

    def extract_records(self, response: requests.Response) -> Iterable[MutableMapping[Any, Any]]:
        body = parsed_json(response)
        users = [u for u in body if isinstance(u, dict)] if isinstance(body, list) else []
        if not users and self._count[0] in USER_SEARCH_CAPS:
            logger.warning(
                f"users: Jira Data Center's user search stopped at {self._count[0]} users, one of its caps (Jira 10 lists "
                "the first 100 results of a search, earlier versions 1,000): users beyond it may exist and are not read. "
                "Users who appear on issues are named in the issue records all the same.")
        self._count[0] += len(users)
        yield from users
