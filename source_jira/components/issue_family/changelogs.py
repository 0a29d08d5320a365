"""`issue_changelogs` and `issue_field_history`. On Cloud: two views of the same `POST changelog/bulkfetch` pages, the
ids of one window a call (~500, from the session's id index; Jira takes up to 1,000: a bigger window is batched). Python because the manifest cannot batch a
window's ids into a POST body (`expand=changelog` on the search carries only the 40 newest entries), and because both
streams read each page once: whichever asks first fetches it and spools the other's part.

* `issue_changelogs`: each history entry as Jira gives it, plus `issueId`;
* `issue_field_history`: one row per changed field (`records.field_history_rows`), with the issue's key and project
  (the project from one `project/search` listing per read) and custom fields under their names (the `/field` list
  the `issues` stream reads too).
On Data Center (no bulkfetch): views of the window's search pages, whose `expand=changelog` carries whole histories
(search.py, SearchViews)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Iterable, Iterator, List, Mapping, Optional, Tuple

from airbyte_cdk.sources.types import StreamSlice

from source_jira.components.http import next_token, sized_json, token_pages
from source_jira.components.issue_family.jql import jira_ms, window_jql
from source_jira.components.issue_family.records import custom_name_counts, field_history_rows
from source_jira.components.issue_family.retriever import WindowedRetriever
from source_jira.components.issue_family.search import HISTORY, SearchViews
from source_jira.components.issue_family.session import CHANGELOG_VIEWS
from source_jira.components.issue_family.windows import Window

BULKFETCH_PATH = "changelog/bulkfetch"
BULKFETCH_IDS = 1000  # Jira's cap of issue ids per call
BULKFETCH_ENTRIES = 10000  # Jira's cap of history entries per page


@dataclass
class ChangelogRetriever(SearchViews, WindowedRetriever):
    batch_size: Any = BULKFETCH_IDS
    children_floor = True  # entries are filtered by their own `created`
    reads_search_pages = True  # on Data Center (no bulkfetch there)

    def read_records(self, records_schema: Mapping[str, Any], stream_slice: Optional[StreamSlice] = None) -> Iterable[Any]:
        if self.search.changelogs_in_pages:
            yield from self._from_search_pages(stream_slice)
            return
        window = Window.of(stream_slice)
        index = self.session.index(self.requester, self.config, window.index_lower, window.index_upper)
        stop = len(index.ids) if window.stop is None else window.stop
        ids, keys = index.ids[window.first:stop], index.keys[window.first:stop]
        size = max(1, min(BULKFETCH_IDS, int(self.batch_size or BULKFETCH_IDS)))
        for offset in range(0, len(ids), size):
            batch = ids[offset: offset + size]
            parts = self._parts(window, offset, batch, dict(zip(batch, keys[offset: offset + size])))
            while True:
                # A bulkfetch page is the biggest thing a sync holds (~500 issues' histories: a few MB of JSON, a
                # few times that as objects), and it is held until the main thread has written its records: only
                # CHANGELOG_PAGES_AT_ONCE (session.py) are fetched and held at a time.
                with self.session.changelog_slots.slot((window.start, window.first, offset)):
                    records = next(parts, None)
                    if records is None:
                        break
                    records.reverse()
                    while records:  # let go of each record once written
                        yield self._record(records.pop(), stream_slice)
        self.windows.window_done(stream_slice, covered=True)

    def _from_search_pages(self, stream_slice: StreamSlice) -> Iterable[Any]:
        """Data Center: the window's search pages (`expand=changelog`, whole histories), shared with the other views."""
        window = Window.of(stream_slice)
        jql = window_jql(self.config, window.query_lower, window.query_upper, order=self.search.order)
        for rows in self._pages(jql):
            for row in rows:
                if window.sync_lower <= 0 or (jira_ms(row.get("created")) or 0) >= window.sync_lower:
                    yield self._record(row, stream_slice)
        self.windows.window_done(stream_slice, covered=True)

    def _parts(self, window: Window, offset: int, batch: List[str], key_of: Mapping[str, Optional[str]]) -> Iterator[List[Dict[str, Any]]]:
        """This view's records of each bulkfetch page of one batch, the pages shared with the other changelog view."""
        body = {"issueIdsOrKeys": batch, "maxResults": BULKFETCH_ENTRIES}
        where = f"POST {BULKFETCH_PATH}"

        def part(page: Mapping[str, Any], view: str) -> List[Dict[str, Any]]:
            return self._view_records(page, view, window, key_of)

        others = self.session.consumers(CHANGELOG_VIEWS, self.name)
        if not others:
            for page in token_pages(self.requester, BULKFETCH_PATH, body, "issueChangeLogs", where):
                yield part(page, self.name)
            return

        def fetch(token: Optional[str]) -> Tuple[Any, int, Optional[str]]:
            page, size = sized_json(self.requester, BULKFETCH_PATH, body | ({"nextPageToken": token} if token else {}), expect="issueChangeLogs")
            return page, size, next_token(page)

        key = ("bulkfetch", window.index_lower, window.index_upper, window.first, offset)
        yield from self.session.read_shared(key, self.name, others, fetch, part, where)

    def _view_records(self, page: Mapping[str, Any], view: str, window: Window, key_of: Mapping[str, Optional[str]]) -> List[Dict[str, Any]]:
        requester = self.get_requester or self.requester
        if view == HISTORY:
            fields_by_id = self.session.field_names(requester)
            counts = custom_name_counts(fields_by_id)
            projects = self.session.projects_by_key(requester, self.config)
        records: List[Dict[str, Any]] = []
        for entry in page.get("issueChangeLogs") or []:
            issue_id = str(entry.get("issueId"))
            for history in entry.get("changeHistories") or []:
                if window.sync_lower > 0 and (jira_ms(history.get("created")) or 0) < window.sync_lower:
                    continue
                if view != HISTORY:
                    records.append({**history, "issueId": issue_id})
                    continue
                issue_key = key_of.get(issue_id)
                project = projects.get(issue_key.rsplit("-", 1)[0]) if issue_key else None
                records.extend(field_history_rows(history, issue_id, issue_key, project or {}, fields_by_id, counts))
        return records
