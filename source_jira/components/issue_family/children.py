"""Per-issue child streams (`issue_watchers`, `issue_votes`, `issue_remote_links`, `issue_properties`,
`issue_transitions`): one request per changed issue, configured in the manifest (`issue_path`, `records_path`,
`require_field`, `detail_path`). Python because the issues come from the window's id index (ids and `updated`), not
from a parent stream's records, and each record carries its issue's `updated` (`issueUpdated`, the cursor).

An issue deleted between the id scan and its request answers 404: the manifest's per-issue requester skips that
answer (`definitions.issue_family.per_issue_requester`), and a skipped answer has no records here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, List, Mapping, Optional

import dpath
from airbyte_cdk.sources.types import StreamSlice

from source_jira.components.http import send_optional
from source_jira.components.issue_family.retriever import WindowedRetriever
from source_jira.components.issue_family.windows import Window


@dataclass
class IssueChildRetriever(WindowedRetriever):
    issue_path: str = ""  # per issue, e.g. `issue/{issue_id}/votes`
    records_path: Optional[List[str]] = None  # where the list is in the answer (none: the answer is the list)
    require_field: str = ""  # keep only entries that carry this field (e.g. `accountId`: users Jira can name)
    detail_path: str = ""  # each listed entry's own answer is the record (e.g. `issue/{issue_id}/properties/{key}`)

    with_times = True

    def read_records(self, records_schema: Mapping[str, Any], stream_slice: Optional[StreamSlice] = None) -> Iterable[Any]:
        window = Window.of(stream_slice)
        for updated, issue_id in self._window_ids(window):
            issue_updated = str(updated)
            for data in self._children(issue_id):
                yield self._record({**data, "issueId": issue_id, "issueUpdated": issue_updated}, stream_slice)
            self.windows.visited(issue_updated, stream_slice)

    def _children(self, issue_id: str) -> List[Mapping[str, Any]]:
        requester = self.get_requester or self.requester
        answer = send_optional(requester, self.issue_path.format(issue_id=issue_id))
        found = dpath.get(answer, list(self.records_path), default=None) if self.records_path and isinstance(answer, Mapping) else answer
        entries = [e for e in found or [] if isinstance(e, Mapping) and (not self.require_field or e.get(self.require_field))]
        if not self.detail_path:
            return entries
        details = (send_optional(requester, self.detail_path.format(issue_id=issue_id, **entry)) for entry in entries)
        return [detail for detail in details if isinstance(detail, Mapping)]
