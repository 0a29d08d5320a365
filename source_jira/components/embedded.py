"""Records embedded in a parent list. Python because no declarative extractor yields the items of a list that each
record of a page holds with that record's id on every item (filter_sharing: each filter's `sharePermissions` from the
paged `filter/search?expand=sharePermissions`). A parent without the list fails the sync loudly rather than falling
back to a call for that parent: a missing list means Jira did not honour the expand (an unshared filter comes as `[]`),
and a request made from inside an extractor would bypass the shared retries, rate budget and error policy."""

from __future__ import annotations

from dataclasses import InitVar, dataclass
from typing import Any, Iterable, List, Mapping, MutableMapping

import dpath
import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.declarative.extractors.record_extractor import RecordExtractor
from airbyte_cdk.sources.types import Config
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_jira.components.reliability import endpoint, parsed_json


@dataclass
class EmbeddedListExtractor(RecordExtractor):
    """For each parent under `field_path` (e.g. a page's `values`), the items of its `list_key`, each with the parent's
    `parent_key` added as `parent_field` (a string, as Jira types filter ids). A parent without `list_key` (or without
    an id) is an error naming it: never zero rows in silence."""

    field_path: List[str]
    list_key: str
    parent_key: str
    parent_field: str
    config: Config
    parameters: InitVar[Mapping[str, Any]]

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self._stream = str((parameters or {}).get("name") or "stream")

    def extract_records(self, response: requests.Response) -> Iterable[MutableMapping[Any, Any]]:
        body = parsed_json(response)
        parents = dpath.get(body, list(self.field_path), default=[]) if self.field_path else body
        for parent in parents if isinstance(parents, list) else []:
            if not isinstance(parent, Mapping):
                continue
            parent_id = parent.get(self.parent_key)
            items = parent.get(self.list_key)
            if parent_id is None or not isinstance(items, list):
                what = f"no '{self.parent_key}'" if parent_id is None else f"no '{self.list_key}' list"
                message = (
                    f"Stream '{self._stream}': {endpoint(response)} answered an entry with {what} (id "
                    f"{parent_id!r}), although the request asked for it; its items cannot be read from this answer, "
                    "so the sync stops rather than miss them.")
                raise AirbyteTracedException(message=message, internal_message=message,
                                             failure_type=FailureType.system_error)
            value = str(parent_id)
            for item in items:
                if isinstance(item, dict):
                    item[self.parent_field] = value
                    yield item
