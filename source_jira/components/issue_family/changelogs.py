"""`issue_changelogs`: full histories through `POST changelog/bulkfetch`, up to 1,000 issue ids a call (the ids of
the window, from the session's id index). Python because the manifest cannot batch a window's ids into a POST body;
`expand=changelog` on the search would carry only the 40 newest entries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Optional

from airbyte_cdk.sources.types import StreamSlice

from source_jira.components.http import token_pages
from source_jira.components.issue_family.jql import jira_ms
from source_jira.components.issue_family.retriever import WindowedRetriever
from source_jira.components.issue_family.windows import Window

BULKFETCH_PATH = "changelog/bulkfetch"
BULKFETCH_IDS = 1000  # Jira's cap of issue ids per call
BULKFETCH_ENTRIES = 10000  # Jira's cap of history entries per page


@dataclass
class ChangelogRetriever(WindowedRetriever):
    batch_size: Any = BULKFETCH_IDS
    hold_state = True  # entries are filtered by their own `created`

    def read_records(self, records_schema: Mapping[str, Any], stream_slice: Optional[StreamSlice] = None) -> Iterable[Any]:
        window = Window.of(stream_slice)
        entries = self._window_ids(window)
        size = max(1, min(BULKFETCH_IDS, int(self.batch_size or BULKFETCH_IDS)))
        for offset in range(0, len(entries), size):
            body = {"issueIdsOrKeys": [issue_id for _, issue_id in entries[offset: offset + size]], "maxResults": BULKFETCH_ENTRIES}
            pages = token_pages(self.requester, BULKFETCH_PATH, body, "issueChangeLogs", f"POST {BULKFETCH_PATH}")
            while True:
                # A bulkfetch page is the biggest thing a sync holds (1,000 issues' histories: several MB of JSON, a
                # few times that as objects), and it is held until the main thread has written its records: only
                # CHANGELOG_PAGES_AT_ONCE (session.py) are fetched and held at a time, and each is let go entry by entry.
                with self.session.changelog_slots:
                    page = next(pages, None)
                    if page is None:
                        break
                    logs = list(reversed(page.pop("issueChangeLogs", None) or []))
                    del page
                    while logs:
                        entry = logs.pop()
                        issue_id = str(entry.get("issueId"))
                        for history in entry.get("changeHistories") or []:
                            if window.sync_lower <= 0 or (jira_ms(history.get("created")) or 0) >= window.sync_lower:
                                yield self._record({**history, "issueId": issue_id}, stream_slice)
        self.windows.window_done(stream_slice, covered=True)
