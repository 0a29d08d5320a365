"""Emit a sprint once when several boards list it: a RecordFilter's condition cannot remember what earlier partitions
(boards) already emitted, so the YAML cannot say "first board wins"; this filter keeps the ids it has let through."""

from __future__ import annotations

import threading
from dataclasses import InitVar, dataclass, field
from typing import Any, Iterable, Mapping, Optional, Set

from airbyte_cdk.sources.declarative.extractors.record_filter import RecordFilter
from airbyte_cdk.sources.types import StreamSlice, StreamState


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
