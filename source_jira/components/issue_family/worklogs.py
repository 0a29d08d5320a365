"""`issue_worklogs` and `issue_worklogs_deleted`: Jira's global worklog feed. Python because the manifest cannot chain
`GET worklog/updated` id pages into `POST worklog/list` batches of 1,000, nor keep only the worklogs of the
configured projects' issues.

Cursor rule: the saved state is the newest worklog `updated` actually read (the CDK's ConcurrentCursor keeps the
most recent record value, never "now"); the next sync asks `since = state - lookback`. The feed hides the last
minute, so a worklog written then is newer than anything read and comes with the next sync.

Checkpoints (`issue_worklogs`): the feed's ids and times are listed first (one call per 1,000 worklogs), then cut into
windows of one `worklog/list` call each, at changes of `updatedTime`; the windows run concurrently and the state
moves past each as soon as every window before it is done (windows.py), so a resumed read lists the feed again
but fetches only the worklogs it had not finished. `issue_worklogs_deleted` reads its feed as one partition (its
records are the feed itself, one call per 1,000).
"""

from __future__ import annotations

import threading
from array import array
from dataclasses import InitVar, dataclass
from typing import Any, Dict, Iterable, List, Mapping, Optional, Set, Tuple
from urllib.parse import parse_qs, urlparse

from airbyte_cdk.sources.declarative.requesters.http_requester import HttpRequester
from airbyte_cdk.sources.types import Config, Record, StreamSlice

from source_jira.components.http import send_json
from source_jira.components.issue_family.backend import search_for
from source_jira.components.issue_family.jql import base_clauses, ids_jql
from source_jira.components.issue_family.records import as_declared
from source_jira.components.issue_family.retriever import CursorOwnedRetriever, SessionBound
from source_jira.components.issue_family.windows import START_KEY, Window, WindowedCursor, cut_windows, gated_windows
from source_jira.components.pagination import PageProgress

BATCH = 1000  # Jira's cap of ids per `worklog/list` call


@dataclass
class WorklogFeedRetriever(SessionBound, CursorOwnedRetriever):
    config: Config
    parameters: InitVar[Mapping[str, Any]]
    requester: HttpRequester  # GET (worklog/updated, worklog/deleted)
    post_requester: HttpRequester  # POST (worklog/list, search/jql)
    name: str = ""
    deleted: bool = False
    cursor: Any = None

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self.name = self.name or (parameters or {}).get("name", "")
        self._allowed: Dict[str, bool] = {}  # issue id -> in scope (asked once per read, whichever window asks first)
        self._scope_lock = threading.Lock()
        # this read's feed, oldest first: worklog ids and their updatedTime by position (16 bytes a worklog, not ~130
        # as tuples of ints: a site's whole feed is held for the read)
        self._ids, self._times = array("q"), array("q")
        self.windows = None if self.deleted else WindowedCursor(self.cursor, self.name, self._plan, children_floor=False,
                                                                open_windows=gated_windows(self.config))

    def _plan(self, coarse: List[Tuple[int, int]]) -> List[Window]:
        """List the feed from the read's lower bound, then cut it into windows of one `worklog/list` call."""
        if not coarse:
            return []
        newest: Dict[int, int] = {}
        for values in self._feed("worklog/updated", max(0, coarse[0][0])):
            for value in values:  # a worklog edited while the feed is listed comes twice: its newest time counts
                worklog_id, updated = int(value["worklogId"]), int(value.get("updatedTime") or 0)
                newest[worklog_id] = max(updated, newest.get(worklog_id, updated))
        order = sorted(newest)
        order.sort(key=newest.__getitem__)  # by time, then id (stable)
        self._ids, self._times = array("q", order), array("q", (newest[worklog_id] for worklog_id in order))
        del order, newest
        times, count = self._times, len(self._times)
        cuts: List[Tuple[int, int]] = []
        position = BATCH
        while position < count:
            while position < count and times[position] == times[position - 1]:
                position += 1  # a window ends where the time changes: the next one starts strictly later
            if position < count:
                cuts.append((times[position], position))
            position += BATCH
        return cut_windows([(coarse[0][0], coarse[-1][1])], lambda lower, upper: cuts)

    def _feed(self, path: str, since: int) -> Iterable[List[Mapping[str, Any]]]:
        """The feed's pages of ids from `since`: each page says where the next one starts (`nextPage`, else `until`)."""
        progress = PageProgress(f"GET {path}")
        while True:
            page = send_json(self.requester, path, params={"since": since}, expect="values")
            values = page["values"]
            if values:
                yield values
            if page.get("lastPage", True) or not values:
                return
            next_since = None
            if page.get("nextPage"):
                query = parse_qs(urlparse(str(page["nextPage"])).query)
                if query.get("since"):
                    next_since = int(query["since"][0])
            if next_since is None:
                next_since = int(page.get("until") or since)
            if next_since <= since:  # a page that does not move the feed on: fail rather than loop or stop short
                progress.stalled(f"Jira answered since={since} with a next page that starts at {next_since}")
            since = next_since

    def read_records(self, records_schema: Mapping[str, Any], stream_slice: Optional[StreamSlice] = None) -> Iterable[Any]:
        if self.deleted:
            stream_slice = stream_slice or StreamSlice(partition={}, cursor_slice={})
            since = max(0, int(stream_slice.cursor_slice.get(START_KEY) or 0))  # the lookback taken off "all history"
            for values in self._feed("worklog/deleted", since):
                for value in values:
                    yield Record(data={"worklogId": str(value["worklogId"]), "updatedTime": value.get("updatedTime"),
                                       "properties": value.get("properties") or []},
                                 stream_name=self.name, associated_slice=stream_slice)
            return
        window = Window.of(stream_slice)
        ids = self._ids[window.first: len(self._ids) if window.stop is None else window.stop].tolist()
        if ids:
            yield from self._list(self._fetch(ids), stream_slice)
        self.windows.window_done(stream_slice, covered=True)

    def _fetch(self, ids: List[int]) -> List[Mapping[str, Any]]:
        return send_json(self.post_requester, "worklog/list", {"ids": ids}, expect_list=True)  # a JSON array, even empty

    def _list(self, worklogs: List[Mapping[str, Any]], stream_slice: StreamSlice) -> Iterable[Record]:
        allowed = self._issues_in_scope({str(w.get("issueId")) for w in worklogs})
        for worklog in worklogs:
            issue_id = str(worklog.get("issueId"))
            if allowed is None or issue_id in allowed:
                data = as_declared({**worklog, "id": str(worklog.get("id")), "issueId": issue_id}, self.name)
                yield Record(data=data, stream_name=self.name, associated_slice=stream_slice)

    def _issues_in_scope(self, issue_ids: Set[str]) -> Optional[Set[str]]:
        """The feed covers every project: keep worklogs of issues the `issues` stream would read (projects and filter)."""
        if not base_clauses(self.config):
            return None
        with self._scope_lock:  # windows run concurrently: an issue is looked up once
            return self._scoped(issue_ids)

    def _scoped(self, issue_ids: Set[str]) -> Set[str]:
        unknown = sorted(i for i in issue_ids if i not in self._allowed and i.isdigit())
        for offset in range(0, len(unknown), BATCH):
            batch = unknown[offset: offset + BATCH]
            search = search_for(self.config)
            body = search.body(ids_jql(self.config, batch), ["id"], search.id_page)
            found: Set[str] = set()
            for page in search.pages(self.post_requester, body, f"POST {search.path} (worklogs' issues in scope)"):
                found.update(str(issue["id"]) for issue in page["issues"])
            for issue_id in batch:
                self._allowed[issue_id] = issue_id in found
        return {i for i in issue_ids if self._allowed.get(i)}
