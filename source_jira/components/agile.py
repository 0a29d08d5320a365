"""Agile components YAML cannot say.

* FirstSeenRecordFilter: emit a sprint once when several boards list it: a RecordFilter's condition cannot remember
  what earlier partitions (boards) already emitted, so the YAML cannot say "first board wins".
* SprintPairsExtractor: one issue of a search answer is a record per sprint its Sprint field names, and that field's
  id is only known from the answer's `schema`: a DpathExtractor can neither look it up nor fan an issue out."""

from __future__ import annotations

import threading
from dataclasses import InitVar, dataclass, field
from typing import Any, Iterable, Mapping, MutableMapping, Optional, Set

import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.declarative.extractors.record_extractor import RecordExtractor
from airbyte_cdk.sources.declarative.extractors.record_filter import RecordFilter
from airbyte_cdk.sources.types import StreamSlice, StreamState
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_jira.components.reliability import parsed_json


@dataclass
class FirstSeenRecordFilter(RecordFilter):
    """Lets a record through only the first time its `key_field` value is seen by this stream instance.

    The partitions of a declarative stream share one retriever (and so one filter) and are read by worker threads,
    hence the lock. Memory is one id per distinct sprint, not per record. The optional `condition` of RecordFilter
    still applies first."""

    parameters: InitVar[Mapping[str, Any]]
    key_field: str = "id"
    _seen: Set[Any] = field(default_factory=set, init=False, repr=False)
    _lock: Any = field(default_factory=threading.Lock, init=False, repr=False)

    def filter_records(
        self,
        records: Iterable[Mapping[str, Any]],
        stream_state: StreamState,
        stream_slice: Optional[StreamSlice] = None,
        next_page_token: Optional[Mapping[str, Any]] = None,
    ) -> Iterable[Mapping[str, Any]]:
        kept = super().filter_records(records, stream_state, stream_slice, next_page_token) if self.condition else records
        for record in kept:
            key = record.get(self.key_field)
            if key is None:
                yield record
                continue
            with self._lock:
                if key in self._seen:
                    continue
                self._seen.add(key)
            yield record


SPRINT_FIELD_TYPE = "com.pyxis.greenhopper.jira:gh-sprint"  # schema.custom of Jira Software's Sprint field(s)


@dataclass
class SprintPairsExtractor(RecordExtractor):
    """`sprint_issues` on Cloud: one issue search per batch of sprints (`sprint in (…)`, `expand=schema`) answers
    which issues are in which sprint through each issue's Sprint field, found by its schema type in the answer (its
    id differs per site). One record per (sprint, issue) pair, the Sprint field itself taken out of `fields`; the
    stream's record filter keeps the pairs of the batch's sprints. An issue the search matched whose Sprint field
    names no sprint cannot be placed: the read fails with Jira's field id rather than lose it."""

    parameters: InitVar[Mapping[str, Any]]

    def extract_records(self, response: requests.Response) -> Iterable[MutableMapping[Any, Any]]:
        body = parsed_json(response)
        if not isinstance(body, Mapping):
            return
        schema = body.get("schema") if isinstance(body.get("schema"), Mapping) else {}
        sprint_fields = [fid for fid, s in schema.items() if isinstance(s, Mapping) and s.get("custom") == SPRINT_FIELD_TYPE]
        for issue in body.get("issues") or []:
            if not isinstance(issue, Mapping):
                continue
            fields = dict(issue.get("fields") or {})
            sprints = {s.get("id") for fid in sprint_fields for s in (fields.pop(fid, None) or [])
                       if isinstance(s, Mapping) and isinstance(s.get("id"), int)}
            if not sprints:
                raise AirbyteTracedException(
                    message=f"sprint_issues: issue {issue.get('key') or issue.get('id')} is in a sprint of this read "
                    f"(the search `sprint in (…)` found it), but its Sprint field ({', '.join(sprint_fields) or 'not in the answer'}) "
                    "did not say which one; the stream stops rather than lose it.",
                    failure_type=FailureType.system_error)
            for sprint_id in sorted(sprints):
                yield {**issue, "fields": fields, "sprintId": sprint_id}
