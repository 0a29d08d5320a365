"""Record transformations the manifest's streams share. Python because no declarative transformation rewrites a
value by pattern: Jira writes offsets as `-0700`, which is not RFC 3339 (`-07:00`), and a destination that reads
`format: date-time` then takes the user's local clock time for UTC."""

from __future__ import annotations

from dataclasses import InitVar, dataclass, field
from typing import Any, Dict, List, Mapping, Optional

from airbyte_cdk.sources.declarative.transformations import RecordTransformation
from airbyte_cdk.sources.types import Config, StreamSlice, StreamState

from source_jira.components.issue_family.records import rfc3339


@dataclass
class Rfc3339Times(RecordTransformation):
    """The record's top-level `fields` (declared `format: date-time` in its schema) written as RFC 3339."""

    parameters: InitVar[Mapping[str, Any]]
    fields: List[str] = field(default_factory=list)

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self._fields = tuple(self.fields)

    def transform(self, record: Dict[str, Any], config: Optional[Config] = None, stream_state: Optional[StreamState] = None,
                  stream_slice: Optional[StreamSlice] = None) -> None:
        for key in self._fields:
            value = record.get(key)
            if isinstance(value, str):
                record[key] = rfc3339(value)
