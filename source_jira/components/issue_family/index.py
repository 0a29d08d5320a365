"""The id index a read's windows are cut from. Python because windows of ~N issues need the issues' positions in
`updated` order, which only a scan of the search can tell.

An index holds the ids (and keys) of every issue in a JQL range, in `updated` order, from id-only pages of 5,000
(Jira returns 5,000 only when nothing but id/key is asked: about 0.02 requests per 100 issues). Windows of about N issues are cut
at positions N, 2N, ...; only the cut issues' `updated` is then fetched (100 per request) and floored to the minute.
`with_times` (per-issue streams) asks `updated` for every issue instead (100 per page), to carry it on records."""

from __future__ import annotations

import threading
from array import array
from typing import Any, Dict, List, Optional, Tuple

from airbyte_cdk.sources.declarative.requesters.http_requester import HttpRequester

from source_jira.components.config import DATACENTER
from source_jira.components.http import send_json, token_pages
from source_jira.components.issue_family.backend import CloudSearch
from source_jira.components.issue_family.jql import floor_minute, jira_ms

SEARCH_PATH = "search/jql"
ISSUE_PAGE = 100  # Jira's cap on a search page with fields
ID_PAGE = 5000  # Jira's cap on an id-only search page


class IdColumn:
    """Issue ids by position, as text (what every caller uses), held as 8-byte integers while every id is a plain
    decimal number (as Jira's are): a 200,000-issue index is 1.6 MB instead of ~13 MB of strings. An id that would not
    come back the same (`"007"`, not a number) switches the column to plain text, so nothing is ever altered."""

    __slots__ = ("_numbers", "_texts")

    def __init__(self) -> None:
        self._numbers: Optional[array] = array("q")
        self._texts: List[str] = []

    def append(self, issue_id: str) -> None:
        numbers = self._numbers
        if numbers is not None:
            if issue_id.isascii() and issue_id.isdigit() and len(issue_id) < 19 and (issue_id == "0" or issue_id[0] != "0"):
                numbers.append(int(issue_id))
                return
            self._texts, self._numbers = [str(n) for n in numbers], None
        self._texts.append(issue_id)

    def __len__(self) -> int:
        return len(self._numbers) if self._numbers is not None else len(self._texts)

    def __getitem__(self, where: Any) -> Any:
        if self._numbers is None:
            return self._texts[where]
        found = self._numbers[where]
        return [str(n) for n in found] if isinstance(where, slice) else str(found)


class IssueIndex:
    def __init__(self, jql: str, with_times: bool = False, search: Optional[CloudSearch] = None, clauses: str = "") -> None:
        self.jql = jql
        self.search = search or CloudSearch()
        self.clauses = clauses  # the range without ORDER BY (Data Center scans it in `created` order)
        self.with_times = with_times or self.search.deployment == DATACENTER
        self._lock = threading.Lock()
        self.loaded = False
        self.ids = IdColumn()
        self.times = array("q")  # `updated` (epoch ms) by position (with_times)
        self.keys: List[Optional[str]] = []  # issue keys by position (not with_times)
        self._windows: Dict[int, List[Tuple[int, int]]] = {}
        self._cut_times: Dict[int, Optional[int]] = {}  # position -> `updated` (None: deleted since the scan)

    def load(self, requester: HttpRequester) -> None:
        with self._lock:
            if self.loaded:
                return
            if self.search.deployment == DATACENTER:
                self._scan(requester)
                self.loaded = True
                return
            body = {"jql": self.jql, "fields": ["updated"] if self.with_times else ["id", "key"], "maxResults": ID_PAGE}
            for page in token_pages(requester, SEARCH_PATH, body, "issues", f"POST {SEARCH_PATH} (issue id scan)"):
                for issue in page["issues"]:
                    self.ids.append(str(issue["id"]))
                    if self.with_times:
                        self.times.append(jira_ms((issue.get("fields") or {}).get("updated")) or 0)
                    else:
                        self.keys.append(issue.get("key"))
            self.loaded = True

    def _scan(self, requester: HttpRequester) -> None:
        """Data Center: the range read whole in `created` order (past the result window, backend.py), then put in
        `updated` order here; every issue's `updated` is known, so no cut needs a look-up."""
        rows = []
        for issue in self.search.scan(requester, self.clauses, ["updated"], f"POST {self.search.path} (issue id scan)"):
            rows.append((jira_ms((issue.get("fields") or {}).get("updated")) or 0, int(issue["id"]), str(issue["id"]), issue.get("key")))
        rows.sort()
        self.times = array("q", (row[0] for row in rows))
        for row in rows:
            self.ids.append(row[2])
        self.keys = [row[3] for row in rows]

    def cuts(self, requester: HttpRequester, lower: int, window_size: int) -> List[Tuple[int, int]]:
        """`(minute-aligned start time, first position)` of every window after the first. A window aims a little
        under N issues so that issues sharing the cut's minute still fit its last page."""
        with self._lock:
            if window_size in self._windows:
                return self._windows[window_size]
            positions = self._positions(window_size)
            times: Dict[int, Optional[int]] = {}
            if self.with_times:
                times = {pos: self.times[pos] for pos in positions}
            else:
                missing = [pos for pos in positions if pos not in self._cut_times]
                if missing:
                    self._look_up(requester, missing)
                times = {pos: self._cut_times.get(pos) for pos in positions}
            cuts: List[Tuple[int, int]] = []
            last = floor_minute(lower)
            for pos in positions:
                if times.get(pos) is None:  # deleted since the scan: no cut there
                    continue
                cut = floor_minute(int(times[pos]))
                if cut > last:
                    cuts.append((cut, pos))
                    last = cut
            self._windows[window_size] = cuts
            return cuts

    def _positions(self, window_size: int) -> List[int]:
        step = max(1, window_size - window_size // 50)
        return list(range(step, len(self.ids), step))

    def _look_up(self, requester: HttpRequester, positions: List[int]) -> None:
        """`updated` of the issues at these positions (100 a request); None for an issue deleted since the scan."""
        for offset in range(0, len(positions), ISSUE_PAGE):
            chunk = positions[offset: offset + ISSUE_PAGE]
            wanted = {self.ids[pos]: pos for pos in chunk}
            body = {"jql": "id in (" + ", ".join(wanted) + ")", "fields": ["updated"], "maxResults": ISSUE_PAGE}
            page = send_json(requester, SEARCH_PATH, body, expect="issues")
            for pos in chunk:
                self._cut_times.setdefault(pos, None)
            for issue in page["issues"]:
                if str(issue["id"]) in wanted:
                    self._cut_times[wanted[str(issue["id"])]] = jira_ms((issue.get("fields") or {}).get("updated")) or 0

