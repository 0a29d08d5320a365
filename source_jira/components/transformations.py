"""Record transformations the manifest's streams share. Python because no declarative transformation rewrites a
value by pattern (Jira writes offsets as `-0700`, which is not RFC 3339 `-07:00`: a destination reading `format:
date-time` then takes the local clock time for UTC), and because Jinja per record costs a read real CPU (AgileIssueRow)."""

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


@dataclass
class AgileIssueRow(RecordTransformation):
    """`board_issues`, `sprint_issues`: an agile issue as a flat row — `issueId`, `updated` (RFC 3339), `status`,
    `statusId`, `statusCategory`, `storyPoints` (the first story-points field, by field id, that has a value), and the
    partition's id when `partition_field` names it — its `fields`, `expand`, `self` and `id` dropped. Python because
    the seven Jinja templates per record this replaces cost ~10 % of a whole-catalog read's CPU, and Jinja wrote a
    missing status as the text "None" and 0 story points as null."""

    parameters: InitVar[Mapping[str, Any]]
    partition_field: str = ""  # e.g. `board_id`: the partition's id, added as `as_field` (an integer)
    as_field: str = ""

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        if bool(self.partition_field) != bool(self.as_field):
            raise ValueError("AgileIssueRow: `partition_field` and `as_field` go together")

    def transform(self, record: Dict[str, Any], config: Optional[Config] = None, stream_state: Optional[StreamState] = None,
                  stream_slice: Optional[StreamSlice] = None) -> None:
        fields = record.pop("fields", None) or {}
        if self.partition_field:
            record[self.as_field] = int(stream_slice.partition[self.partition_field])
        record["issueId"] = str(record.pop("id"))
        record.pop("expand", None)
        record.pop("self", None)
        updated = fields.get("updated")
        record["updated"] = rfc3339(updated) if isinstance(updated, str) else None
        status = fields.get("status") or {}
        record["status"] = _text(status.get("name"))
        record["statusId"] = _text(status.get("id"))
        record["statusCategory"] = _text((status.get("statusCategory") or {}).get("key"))
        record["storyPoints"] = next((_number(fields[key]) for key in sorted(fields)
                                      if key not in ("status", "updated") and fields[key] is not None), None)


def _text(value: Any) -> Optional[str]:
    return None if value is None else str(value)


def _number(value: Any) -> Optional[float]:
    """A story-points value as the schema's number: numbers as they are, numeric text read as a number, else null."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
        return int(number) if number.is_integer() else number
    return None
