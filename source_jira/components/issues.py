"""The issue family's engine. Python because the manifest cannot say: cut JQL windows by issue count from a cheap
id-only scan, share one `search/jql` page between `issues`, `issue_comments` and `issue_attachments`, batch
changelog ids 1,000 at a time, or advance a cursor over issues that produced no child record.

How it fits the CDK (airbyte-cdk 7.39.1):
* every stream here is a plain DeclarativeStream with a DatetimeBasedCursor (`%ms` slice bounds, one coarse window
  `[state - lookback, now]`), so state, checkpointing and the state message are the CDK's own;
* its CustomRetriever receives the stream's ConcurrentCursor (`cursor` kwarg) and replaces that cursor's
  `stream_slices` with adaptive windows (~`window_size` issues each, from `IssueIndex`), so windows run concurrently;
* the cursor is fed the *issue's* `updated` for every issue visited (`Cursor.observe`), so the saved state is the
  newest issue `updated` actually seen — never "now", and the same value for every issue-derived stream.
The rules are written once in README.md, section "Incremental rules".
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from bisect import bisect_left
from dataclasses import InitVar, dataclass, field
from datetime import datetime
from typing import Any, Callable, Dict, Iterable, Iterator, List, Mapping, MutableMapping, Optional, Sequence, Set, Tuple

import orjson
from airbyte_cdk.sources.declarative.requesters.http_requester import HttpRequester
from airbyte_cdk.sources.declarative.retrievers.retriever import Retriever
from airbyte_cdk.sources.types import Config, Record, StreamSlice

from airbyte_cdk.models import FailureType
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_jira.components.pagination import PageProgress
from source_jira.components.reliability import endpoint, parsed_json

LOGGER = logging.getLogger("airbyte")

MINUTE_MS = 60_000
SEARCH_PATH = "search/jql"
ISSUE_PAGE = 100  # Jira's cap on a search page with fields
ID_PAGE = 5000  # Jira's cap on an id-only search page
START_KEY, END_KEY = "start_time", "end_time"
SEARCH_VIEWS = ("issues", "issue_comments", "issue_attachments")
BACKGROUND_THREADS = 6  # prefetch threads of a sync (SyncHub.background), on top of the CDK's workers
COMMENT_PREFETCH = 16  # incomplete issues' comment lists loaded ahead of `issue_comments` (memory bound)
CHANGELOG_PAGES_AT_ONCE = 2  # bulkfetch pages fetched and held at a time (memory: see ChangelogRetriever)
CHILD_TIME_FILTERED = ("issue_comments", "issue_attachments", "issue_changelogs")  # records kept if >= sync_lower


# ----------------------------------------------------------------------------------------------------- helpers
def jira_ms(value: Any) -> Optional[int]:
    """Epoch ms of a Jira datetime (`2025-01-01T14:17:25.435-0800`, any zone) or of an epoch-ms value."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)):
        return int(value)
    text = str(value)
    if text.lstrip("-").isdigit():
        return int(text)
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


def floor_minute(ms: int) -> int:
    return ms - ms % MINUTE_MS


def jql_quote(value: str) -> str:
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def base_clauses(config: Mapping[str, Any]) -> List[str]:
    """What every issue-derived search shares: the configured projects and the extra JQL filter."""
    clauses = []
    projects = [str(p).strip() for p in (config.get("projects") or []) if str(p).strip()]
    if projects:
        clauses.append("project in (" + ", ".join(jql_quote(p) for p in projects) + ")")
    extra = (config.get("issues_jql_filter") or "").strip()
    if extra:
        clauses.append(f"({extra})")
    return clauses


# Before this instant (1973-03-03) no Jira existed: a lower bound below it means "all history" (no start date, or the
# lookback taken off 0), never a literal to send — Jira documents date strings and periods, and epoch milliseconds of
# a real instant work, but `updated >= 0` (or a negative number) is refused by Jira-compatible servers.
REAL_INSTANT_MS = 100_000_000_000
# The documented date format used when a query would otherwise have no restriction at all (`search/jql` refuses an
# unbounded query): read in the user's zone, which cannot matter this far before any Jira data.
ALL_HISTORY_CLAUSE = 'updated >= "1970-01-01"'


def lower_bound_clauses(lower_ms: Optional[int], bounded: bool) -> List[str]:
    """The `updated >=` clause of a search: epoch ms of a real instant; none for "all history" when the query is
    restricted otherwise, else the documented all-history date."""
    if lower_ms is not None and int(lower_ms) >= REAL_INSTANT_MS:
        return [f"updated >= {int(lower_ms)}"]
    return [] if bounded else [ALL_HISTORY_CLAUSE]


def window_jql(config: Mapping[str, Any], lower_ms: int, upper_ms: Optional[int]) -> str:
    """Epoch milliseconds are zone-free (date strings are read in the user's zone); `>=` lower, `<` upper."""
    clauses = base_clauses(config)
    upper = [f"updated < {int(upper_ms)}"] if upper_ms is not None else []
    clauses += lower_bound_clauses(lower_ms, bounded=bool(clauses or upper)) + upper
    return " AND ".join(clauses) + " ORDER BY updated ASC, id ASC"


def send_json(requester: HttpRequester, path: str, body: Optional[Mapping[str, Any]] = None,
              params: Optional[Mapping[str, Any]] = None, expect: Optional[str] = None, expect_list: bool = False) -> Any:
    """One request through the manifest's requester (auth, error handler, retries); the body parsed once.
    `expect`: the list every answer of this endpoint carries (a `{}` from a gateway is no empty page);
    `expect_list`: the answer itself is a list."""
    response = requester.send_request(path=path, request_body_json=body, request_params=params)
    page = parsed_json(response)  # parsed (and checked) once by the shared error handler
    if expect is not None or expect_list:
        require_list(page, expect, response)
    return page


def require_list(page: Any, key: Optional[str], response: Any) -> None:
    """The answer carries the list Jira always sends (`page[key]`, or the answer itself when `key` is None)."""
    found = page if key is None else page.get(key) if isinstance(page, Mapping) else None
    if isinstance(found, list):
        return
    if isinstance(page, Mapping):
        got = ("keys " + ", ".join(sorted(map(str, page))[:6])) if page else "an empty object"
    else:
        got = type(page).__name__
    wanted = f"has no '{key}' list" if key else "is not a list"
    message = f"{endpoint(response)}: the answer {wanted} ({got}), so it is not Jira's answer; stopped rather than read it as an empty page."
    raise AirbyteTracedException(message=message, internal_message=message, failure_type=FailureType.system_error)


def next_token(page: Mapping[str, Any]) -> Optional[str]:
    """The next page's token of a token-paged answer, None on the last page."""
    token = page.get("nextPageToken")
    if page.get("isLast", not token) or not token:
        return None
    return str(token)


# ----------------------------------------------------------------------------------------------------- the sync hub
class SyncHub:
    """Per-sync shared state: the streams the catalog selected, id indexes, shared search pages, the field names."""

    def __init__(self, selected: Optional[Iterable[str]] = None) -> None:
        self.selected: Set[str] = set(selected or [])
        self.lock = threading.Lock()
        self.indexes: Dict[Tuple, "IssueIndex"] = {}
        self.feeds: Dict[str, "WindowFeed"] = {}
        self.fields: Optional[Dict[str, Mapping[str, Any]]] = None
        self.fields_lock = threading.Lock()
        self.spool = Spool()
        self._pool: Optional[ThreadPoolExecutor] = None
        self._pool_lock = threading.Lock()
        self.changelog_slots = threading.BoundedSemaphore(CHANGELOG_PAGES_AT_ONCE)
        self._comment_loads: Dict[str, "Future[Any]"] = {}

    def background(self, function: Callable[..., Any], *args: Any) -> "Future[Any]":
        """Run a request off the partition's thread so that it overlaps the window's page chain (the per-issue comment
        pages of an incomplete issue, the `/field` list). A few threads only; the partition that needs the result
        waits for it and re-raises its error, so a failure fails that partition as before."""
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=BACKGROUND_THREADS, thread_name_prefix="jira-prefetch")
            return self._pool.submit(function, *args)

    def prefetch_comments(self, issue_id: str, load: Callable[[], Any]) -> None:
        """Start loading the rest of an incomplete issue's comments as soon as its search page is here, so that the
        `issue_comments` window finds them loaded. At most COMMENT_PREFETCH lists wait for their reader: when
        `issue_comments` runs far behind the page fetches, the lists are loaded when it asks (`comments_of`)."""
        with self.lock:
            if issue_id in self._comment_loads or len(self._comment_loads) >= COMMENT_PREFETCH:
                return
            self._comment_loads[issue_id] = self.background(load)

    def comments_of(self, issue_id: str, load: Callable[[], Any]) -> "Future[Any]":
        """The comment list started by `prefetch_comments` (taken: each is read once), else started now."""
        with self.lock:
            future = self._comment_loads.pop(issue_id, None)
        return future if future is not None else self.background(load)

    def close(self) -> None:
        with self._pool_lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)

    def consumers(self, fetching_view: str) -> Set[str]:
        """The other search views that will ask for the same pages in this sync."""
        return {view for view in SEARCH_VIEWS if view in self.selected and view != fetching_view}

    def index(self, requester: HttpRequester, config: Mapping[str, Any], lower: int, upper: Optional[int],
              with_times: bool = False) -> "IssueIndex":
        key = (window_jql(config, lower, upper), with_times)
        with self.lock:
            index = self.indexes.get(key)
            if index is None:
                index = self.indexes[key] = IssueIndex(key[0], with_times)
        index.load(requester)
        return index

    def feed(self, jql: str) -> "WindowFeed":
        with self.lock:
            feed = self.feeds.get(jql)
            if feed is None:
                feed = self.feeds[jql] = WindowFeed(jql)
            return feed

    def field_names(self, requester: HttpRequester) -> Dict[str, Mapping[str, Any]]:
        with self.fields_lock:
            if self.fields is None:
                fields = send_json(requester, "field") or []
                self.fields = {f["id"]: f for f in fields if isinstance(f, Mapping) and f.get("id")}
            return self.fields


_HUB: Optional[SyncHub] = None


def new_sync(catalog: Any = None) -> None:
    """Called once per source instance (one sync): which streams are selected, and a clean hub."""
    global _HUB
    if _HUB is not None:
        _HUB.close()
    names = []
    if catalog is not None:
        for configured in getattr(catalog, "streams", []) or []:
            names.append(configured.stream.name)
    _HUB = SyncHub(names)


def hub() -> SyncHub:
    global _HUB
    if _HUB is None:
        _HUB = SyncHub()
    return _HUB


class Spool:
    """Hand-off of compact per-view payloads between streams: kept as they are (parsed objects, no copy) up to a
    budget, then on disk, so a sync of a whole site never holds the site's comments in memory when one stream runs
    far ahead of another. An entry is charged the byte size of the response it came from (an upper bound of its own
    JSON size; Python objects take a few times their JSON size, hence a budget well under the memory target)."""

    def __init__(self, memory_budget: int = 16 * 1024 * 1024) -> None:
        self._budget = memory_budget
        self._in_memory = 0
        self._lock = threading.Lock()
        self._dir: Optional[tempfile.TemporaryDirectory] = None
        self._seq = 0

    def put(self, payload: Any, charge: int) -> Tuple[str, Any, int]:
        charge = max(1, int(charge))
        with self._lock:
            if self._in_memory + charge <= self._budget:
                self._in_memory += charge
                return ("mem", payload, charge)
            if self._dir is None:
                self._dir = tempfile.TemporaryDirectory(prefix="source-jira-spool-")
            self._seq += 1
            path = os.path.join(self._dir.name, f"{self._seq}.json")
        with open(path, "wb") as handle:
            handle.write(orjson.dumps(payload))
        return ("disk", path, 0)

    def take(self, ticket: Tuple[str, Any, int]) -> Any:
        kind, value, charge = ticket
        if kind == "mem":
            with self._lock:
                self._in_memory -= charge
            return value
        with open(value, "rb") as handle:
            data = handle.read()
        os.unlink(value)
        return orjson.loads(data)


# ----------------------------------------------------------------------------------------------------- id index
class IssueIndex:
    """The ids of every issue in a JQL range, in `updated` order, from id-only pages of 5,000 (Jira returns 5,000 only
    when nothing but id/key is asked: about 0.02 requests per 100 issues). Windows of about N issues are cut at
    positions N, 2N, ...; only the cut issues' `updated` is then fetched (100 per request) and floored to the minute.
    `with_times` (per-issue streams) asks `updated` for every issue instead (100 per page), to carry it on records."""

    def __init__(self, jql: str, with_times: bool = False) -> None:
        self.jql = jql
        self.with_times = with_times
        self._lock = threading.Lock()
        self.loaded = False
        self.ids: List[str] = []
        self.times: List[int] = []
        self._windows: Dict[int, List[Tuple[int, int]]] = {}
        self._cut_times: Dict[int, Optional[int]] = {}  # position -> `updated` (None: deleted since the scan)

    def load(self, requester: HttpRequester) -> None:
        with self._lock:
            if self.loaded:
                return
            token = None
            progress = PageProgress(f"POST {SEARCH_PATH} (issue id scan)")
            while True:
                body: Dict[str, Any] = {"jql": self.jql, "fields": ["updated"] if self.with_times else ["id"], "maxResults": ID_PAGE}
                if token:
                    body["nextPageToken"] = token
                page = send_json(requester, SEARCH_PATH, body, expect="issues")
                for issue in page["issues"]:
                    self.ids.append(str(issue["id"]))
                    if self.with_times:
                        self.times.append(jira_ms((issue.get("fields") or {}).get("updated")) or 0)
                token = next_token(page)
                if token is None:
                    break
                progress.advance(token)
            self.loaded = True

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
                    # when the last request has room (100 ids a request), it also asks the cuts of windows half this
                    # size: the issue windows (500) then need no request after the changelog windows' (1,000)
                    extra = [p for p in self._positions(window_size // 2) if p not in self._cut_times and p not in missing]
                    if window_size // 2 >= ISSUE_PAGE and len(extra) <= -len(missing) % ISSUE_PAGE:
                        missing += extra
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
            page = send_json(requester, SEARCH_PATH, {"jql": "id in (" + ", ".join(wanted) + ")", "fields": ["updated"], "maxResults": ISSUE_PAGE}, expect="issues")
            for pos in chunk:
                self._cut_times.setdefault(pos, None)
            for issue in page.get("issues") or []:
                if str(issue["id"]) in wanted:
                    self._cut_times[wanted[str(issue["id"])]] = jira_ms((issue.get("fields") or {}).get("updated")) or 0


# ----------------------------------------------------------------------------------------------------- shared pages
class WindowFeed:
    """The pages of one window's search, fetched once and handed to every selected search view (single flight)."""

    def __init__(self, jql: str) -> None:
        self.jql = jql
        self.lock = threading.Lock()
        self.pages: List[Dict[str, Any]] = []  # each: {"token": next token, "last": bool, "tickets": {view: ticket}}


# ----------------------------------------------------------------------------------------------------- base retriever
class CursorOwnedRetriever(Retriever):
    """The stream's ConcurrentCursor holds the state (one cursor per stream): the retriever keeps none of its own."""

    @property
    def state(self) -> Mapping[str, Any]:
        return {}

    @state.setter
    def state(self, value: Mapping[str, Any]) -> None:
        pass


@dataclass
class IssueWindowRetriever(CursorOwnedRetriever):
    """Base of every issue-derived retriever: adaptive windows over the stream's own ConcurrentCursor."""

    config: Config
    parameters: InitVar[Mapping[str, Any]]
    requester: HttpRequester  # POST: search/jql, changelog/bulkfetch
    get_requester: Optional[HttpRequester] = None  # GET: field, per-issue endpoints
    cursor: Any = None
    name: str = ""
    window_size: Any = 500
    view: str = ""

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self._parameters = parameters or {}
        self.name = self.name or self._parameters.get("name", "")
        self.view = self.view or self.name
        self._window_size = max(1, int(self.window_size or 500))
        self._sync_lower: Optional[int] = None
        self._finish_lock = threading.Lock()
        self._windows_total: Optional[int] = None
        self._windows_done = 0
        self._deferred_max: Optional[int] = None
        self._observe: Optional[Callable[[Record], None]] = None
        if self.cursor is not None and hasattr(self.cursor, "stream_slices") and hasattr(self.cursor, "observe"):
            original = self.cursor.stream_slices
            self.cursor.stream_slices = lambda: self._adaptive_slices(original)  # type: ignore[method-assign]
            if self.view in CHILD_TIME_FILTERED:
                # State of a stream whose records are filtered by their own time (`>= sync_lower`, from the saved
                # state) may only move when EVERY window is done: a window finished early covers its issues, but the
                # comments / changelog entries / attachments of issues in unfinished windows can be older than it,
                # and the next sync would filter them out for good (integration_tests/test_e2e_resume.py caught it
                # after a kill -9). So records and visits are only noted; the last window to finish observes the
                # newest value of the whole sync.
                self._observe = self.cursor.observe
                self.cursor.observe = lambda record: self._note(record.data.get(self._cursor_key()))  # type: ignore[method-assign]

    # --- Retriever interface -------------------------------------------------------------------------------
    def stream_slices(self) -> Iterable[Optional[StreamSlice]]:  # not used by the concurrent framework
        yield from self.cursor.stream_slices() if self.cursor else [StreamSlice(partition={}, cursor_slice={})]

    # --- windows ---------------------------------------------------------------------------------------------
    with_times = False

    def _adaptive_slices(self, original: Callable[[], Iterable[StreamSlice]]) -> Iterable[StreamSlice]:
        windows = list(self._windows(original))
        with self._finish_lock:
            self._windows_total, self._windows_done, self._deferred_max = len(windows), 0, None
        yield from windows

    def _windows(self, original: Callable[[], Iterable[StreamSlice]]) -> Iterable[StreamSlice]:
        coarse = list(original())
        for number, piece in enumerate(coarse):
            lower = int(piece.cursor_slice[START_KEY])
            end = int(piece.cursor_slice[END_KEY])
            is_last = number == len(coarse) - 1
            query_lower = floor_minute(lower)
            query_upper = None if is_last else floor_minute(end + 1)
            if number == 0:
                self._sync_lower = query_lower
            index = hub().index(self.requester, self.config, query_lower, query_upper, self.with_times)
            cuts = [c for c in index.cuts(self.requester, query_lower, self._window_size) if query_upper is None or c[0] < query_upper]
            starts = [(lower, 0)] + cuts
            for i, (start, position) in enumerate(starts):
                following = cuts[i] if i < len(cuts) else None
                yield StreamSlice(
                    partition={},
                    cursor_slice={START_KEY: str(start), END_KEY: str(following[0] - 1 if following else end)},
                    extra_fields={
                        "q_lower": query_lower if i == 0 else start,
                        "q_upper": following[0] if following else query_upper,
                        "pos_start": position,
                        "pos_end": following[1] if following else None,
                        "sync_lower": self._sync_lower if self._sync_lower is not None else query_lower,
                        "index_lower": query_lower,
                        "index_upper": query_upper,
                    },
                )

    def _window(self, stream_slice: StreamSlice) -> Tuple[int, Optional[int], int]:
        extra = stream_slice.extra_fields or {}
        if "q_lower" in extra:
            return int(extra["q_lower"]), extra.get("q_upper"), int(extra.get("sync_lower", extra["q_lower"]))
        lower = floor_minute(int(stream_slice.cursor_slice.get(START_KEY, 0)))
        return lower, None, lower

    def _window_ids(self, stream_slice: StreamSlice) -> List[Tuple[Optional[int], str]]:
        """The ids of this window by position in the index (each id in exactly one window), with `updated` when known."""
        extra = stream_slice.extra_fields or {}
        lower, _, _ = self._window(stream_slice)
        index = hub().index(self.requester, self.config, int(extra.get("index_lower", lower)), extra.get("index_upper"), self.with_times)
        start, end = int(extra.get("pos_start") or 0), extra.get("pos_end")
        end = len(index.ids) if end is None else int(end)
        times = index.times[start:end] if index.with_times else [None] * (end - start)
        return list(zip(times, index.ids[start:end]))

    def _window_done(self, stream_slice: StreamSlice) -> None:
        """Every issue of the window was handled: its issues all have `updated` below the next cut (or, for the last
        window, at least its start), so that value is safe to observe."""
        extra = stream_slice.extra_fields or {}
        upper = extra.get("q_upper")
        value = (int(upper) - 1) if upper is not None and extra.get("pos_end") is not None else int(stream_slice.cursor_slice.get(START_KEY, 0))
        self._visited(str(value), stream_slice)

    def _visited(self, updated: Any, stream_slice: StreamSlice) -> None:
        """Tell the cursor an issue was fully handled even when it produced no record of this stream."""
        if self._observe is not None:
            self._note(updated)
            return
        if self.cursor is not None and updated:
            self.cursor.observe(Record(data={self._cursor_key(): updated}, stream_name=self.name, associated_slice=stream_slice))

    def _note(self, updated: Any) -> None:
        try:
            value = jira_ms(updated)
        except (TypeError, ValueError):  # as the CDK's cursor: a record without a usable cursor value moves nothing
            return
        if value is not None:
            with self._finish_lock:
                self._deferred_max = value if self._deferred_max is None else max(self._deferred_max, value)

    def _finish(self, stream_slice: StreamSlice) -> None:
        """A window of a time-filtered child stream is done; the last one observes the newest value of the sync."""
        if self._observe is None:
            return
        with self._finish_lock:
            self._windows_done += 1
            last = self._windows_total is not None and self._windows_done >= self._windows_total
            value = self._deferred_max
        if last and value is not None:
            self._observe(Record(data={self._cursor_key(): str(value)}, stream_name=self.name, associated_slice=stream_slice))

    def _cursor_key(self) -> str:
        field_obj = getattr(self.cursor, "cursor_field", None)
        return getattr(field_obj, "cursor_field_key", "updated")

    def _record(self, data: Mapping[str, Any], stream_slice: StreamSlice) -> Record:
        return Record(data=data, stream_name=self.name, associated_slice=stream_slice)


# ----------------------------------------------------------------------------------------------------- search views
def issue_record(issue: Mapping[str, Any], fields_by_id: Mapping[str, Mapping[str, Any]]) -> Dict[str, Any]:
    fields = issue.get("fields") or {}
    record = dict(issue)
    project = fields.get("project") or {}
    record["created"] = fields.get("created")
    record["updated"] = fields.get("updated")
    record["projectId"] = project.get("id")
    record["projectKey"] = project.get("key")
    record["custom_fields"] = readable_custom_fields(fields, fields_by_id)
    return record


def readable_custom_fields(fields: Mapping[str, Any], fields_by_id: Mapping[str, Mapping[str, Any]]) -> Dict[str, Any]:
    """Custom fields under their human names, options resolved to their values (`{"Story Points": 5}`)."""
    out: Dict[str, Any] = {}
    names: Dict[str, int] = {}
    for meta in fields_by_id.values():
        if meta.get("custom"):
            names[meta.get("name") or meta["id"]] = names.get(meta.get("name") or meta["id"], 0) + 1
    for field_id, value in fields.items():
        if not field_id.startswith("customfield_"):
            continue
        meta = fields_by_id.get(field_id)
        name = (meta or {}).get("name") or field_id
        if names.get(name, 0) > 1:
            name = f"{name} ({field_id})"
        out[name] = readable_value(value)
    return out


def readable_value(value: Any) -> Any:
    if isinstance(value, list):
        return [readable_value(v) for v in value]
    if isinstance(value, Mapping):
        if "value" in value:
            child = value.get("child")
            if isinstance(child, Mapping) and "value" in child:
                return f"{value['value']} - {child['value']}"
            return value["value"]
        for key in ("displayName", "name", "key"):
            if key in value and value[key] is not None:
                return value[key]
        if value.get("type") == "doc":  # Atlassian document format: keep it as it is
            return value
        return value
    return value


def comment_payload(issue: Mapping[str, Any]) -> Dict[str, Any]:
    page = (issue.get("fields") or {}).get("comment") or {}
    comments = page.get("comments") or []
    total = page.get("total")
    return {
        "issueId": str(issue["id"]),
        "issueKey": issue.get("key"),
        "updated": (issue.get("fields") or {}).get("updated"),
        "comments": comments,
        "complete": total is None or total <= len(comments),
    }


def attachment_payload(issue: Mapping[str, Any]) -> Dict[str, Any]:
    fields = issue.get("fields") or {}
    return {"issueId": str(issue["id"]), "issueKey": issue.get("key"), "updated": fields.get("updated"),
            "attachments": fields.get("attachment") or []}


@dataclass
class IssueSearchRetriever(IssueWindowRetriever):
    """`issues`, `issue_comments` and `issue_attachments` read the same `search/jql` pages, fetched once per sync:
    whichever view asks first fetches the page and leaves the other selected views their compact part."""

    def _adaptive_slices(self, original: Callable[[], Iterable[StreamSlice]]) -> Iterable[StreamSlice]:
        if self.view == "issues":  # `/field` (custom field names) loads while the id scan runs, not after page one
            hub().background(hub().field_names, self.get_requester or self.requester)
        yield from super()._adaptive_slices(original)

    def _search_body(self, jql: str, token: Optional[str]) -> Dict[str, Any]:
        body: Dict[str, Any] = {"jql": jql, "fields": ["*all"], "maxResults": ISSUE_PAGE}
        if self.config.get("render_fields"):
            body["expand"] = "renderedFields"
        if token:
            body["nextPageToken"] = token
        return body

    def _payloads(self, issues: List[Mapping[str, Any]], view: str) -> Any:
        if not issues:
            return []
        if view == "issues":
            fields_by_id = hub().field_names(self.get_requester or self.requester)
            return [issue_record(issue, fields_by_id) for issue in issues]
        if view == "issue_comments":
            payloads = [comment_payload(issue) for issue in issues]
            for item in payloads:  # the rest of an incomplete comment list starts loading as soon as its page is here
                if not item["complete"]:
                    hub().prefetch_comments(item["issueId"], lambda i=item: list(self._all_comments(i["issueId"], i["comments"])))
            return payloads
        return [attachment_payload(issue) for issue in issues]

    def _pages(self, jql: str) -> Iterator[Any]:
        """This view's payload of each page of the window, fetching a page only if no other view has."""
        shared = hub().consumers(self.view)
        feed = hub().feed(jql) if shared else None
        number = 0
        token: Optional[str] = None
        progress = PageProgress(f"POST {SEARCH_PATH}")
        while True:
            if feed is None:
                page = send_json(self.requester, SEARCH_PATH, self._search_body(jql, token), expect="issues")
                yield self._payloads(page["issues"], self.view)
                token = next_token(page)
                if token is None:
                    return
                progress.advance(token)
                continue
            with feed.lock:
                if number < len(feed.pages):
                    entry = feed.pages[number]
                    ticket = entry["tickets"].pop(self.view, None)
                    payload = hub().spool.take(ticket) if ticket is not None else None
                    if payload is None:  # this view's part was not kept (e.g. a view the catalog did not announce)
                        previous = feed.pages[number - 1]["token"] if number else None
                        page = send_json(self.requester, SEARCH_PATH, self._search_body(jql, previous), expect="issues")
                        payload = self._payloads(page["issues"], self.view)
                else:
                    previous = feed.pages[number - 1]["token"] if number else None
                    response = self.requester.send_request(path=SEARCH_PATH, request_body_json=self._search_body(jql, previous))
                    page = parsed_json(response)  # as send_json, plus the body's size to charge the spool
                    require_list(page, "issues", response)
                    size = len(response.content or b"") if response is not None else 0
                    issues = page["issues"]
                    upcoming = next_token(page)
                    if upcoming is not None and (upcoming == previous or any(p["token"] == upcoming for p in feed.pages)):
                        progress.stalled(f"Jira sent the page token {upcoming[:60]!r} a second time")
                    tickets = {view: hub().spool.put(self._payloads(issues, view), size) for view in shared}
                    entry = {"token": upcoming, "last": upcoming is None, "tickets": tickets}
                    feed.pages.append(entry)
                    payload = self._payloads(issues, self.view)
            yield payload
            number += 1
            if entry["last"]:
                return

    def read_records(self, records_schema: Mapping[str, Any], stream_slice: Optional[StreamSlice] = None) -> Iterable[Any]:
        stream_slice = stream_slice or StreamSlice(partition={}, cursor_slice={})
        lower, upper, sync_lower = self._window(stream_slice)
        jql = window_jql(self.config, lower, upper)
        incomplete: List[Tuple[Mapping[str, Any], "Future[Any]"]] = []
        for payload in self._pages(jql):
            for item in payload:
                if self.view == "issues":
                    yield self._record(item, stream_slice)
                elif self.view == "issue_comments":
                    if not item["complete"]:  # its other comment pages load in the background while the window goes on
                        incomplete.append((item, hub().comments_of(item["issueId"], lambda i=item: list(self._all_comments(i["issueId"], i["comments"])))))
                        continue
                    yield from self._comments(item, item["comments"], sync_lower, stream_slice)
                    self._visited(item.get("updated"), stream_slice)
                else:
                    for attachment in item["attachments"]:
                        if sync_lower <= 0 or (jira_ms(attachment.get("created")) or 0) >= sync_lower:
                            yield self._record({**attachment, "issueId": item["issueId"], "issueKey": item["issueKey"]}, stream_slice)
                    self._visited(item.get("updated"), stream_slice)
        for item, future in incomplete:  # same window: the state moves only when the window is done
            yield from self._comments(item, future.result(), sync_lower, stream_slice)
            self._visited(item.get("updated"), stream_slice)
        self._finish(stream_slice)

    def _comments(self, item: Mapping[str, Any], comments: Iterable[Mapping[str, Any]], sync_lower: int,
                  stream_slice: StreamSlice) -> Iterable[Record]:
        for comment in comments:
            if sync_lower <= 0 or (jira_ms(comment.get("updated")) or 0) >= sync_lower:
                yield self._record({**comment, "issueId": item["issueId"], "issueKey": item["issueKey"]}, stream_slice)

    def _all_comments(self, issue_id: str, embedded: List[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
        """The embedded page, then the per-issue comment pages from where it stopped — only for an issue whose
        embedded page is incomplete. Jira caps the page size whatever we ask: the next offset is startAt + what came."""
        requester = self.get_requester or self.requester
        seen = set()
        for comment in embedded:
            seen.add(str(comment.get("id")))
            yield comment
        start = len(embedded)
        progress = PageProgress(f"GET issue/{issue_id}/comment")
        while True:
            page = send_json(requester, f"issue/{issue_id}/comment", params={"startAt": start, "maxResults": 5000, "orderBy": "created"}, expect="comments")
            comments = page["comments"]
            new = 0
            for comment in comments:
                if str(comment.get("id")) not in seen:  # a comment added meanwhile can shift the pages by one
                    seen.add(str(comment.get("id")))
                    new += 1
                    yield comment
            if comments and not new:  # a whole page of comments already read: the server ignores startAt
                progress.stalled(f"Jira answered startAt={start} with comments already read")
            start += len(comments)
            total = page.get("total")
            if not comments or (total is not None and start >= total) or page.get("isLast") is True:
                return


# ----------------------------------------------------------------------------------------------------- changelogs
@dataclass
class ChangelogRetriever(IssueWindowRetriever):
    """Full histories through `POST changelog/bulkfetch`, up to 1,000 issue ids a call (ids from the index)."""

    batch_size: Any = 1000

    def read_records(self, records_schema: Mapping[str, Any], stream_slice: Optional[StreamSlice] = None) -> Iterable[Any]:
        stream_slice = stream_slice or StreamSlice(partition={}, cursor_slice={})
        _, _, sync_lower = self._window(stream_slice)
        entries = self._window_ids(stream_slice)
        size = max(1, min(1000, int(self.batch_size or 1000)))
        for offset in range(0, len(entries), size):
            batch = entries[offset: offset + size]
            token = None
            progress = PageProgress("POST changelog/bulkfetch")
            while True:
                body: Dict[str, Any] = {"issueIdsOrKeys": [issue_id for _, issue_id in batch], "maxResults": 10000}
                if token:
                    body["nextPageToken"] = token
                # A bulkfetch page is the biggest thing a sync holds (1,000 issues' histories: several MB of JSON, a
                # few times that as objects), and it is held until the main thread has written its records: only
                # CHANGELOG_PAGES_AT_ONCE are fetched and held at a time, and each is let go entry by entry.
                with hub().changelog_slots:
                    page = send_json(self.requester, "changelog/bulkfetch", body, expect="issueChangeLogs")
                    token = page.get("nextPageToken")
                    last = not token or page.get("isLast") is True
                    if not last:
                        progress.advance(token)
                    logs = list(reversed(page.pop("issueChangeLogs", None) or []))
                    del page
                    while logs:
                        entry = logs.pop()
                        issue_id = str(entry.get("issueId"))
                        for history in entry.get("changeHistories") or []:
                            if sync_lower <= 0 or (jira_ms(history.get("created")) or 0) >= sync_lower:
                                yield self._record({**history, "issueId": issue_id}, stream_slice)
                if last:
                    break
        self._window_done(stream_slice)
        self._finish(stream_slice)


# ----------------------------------------------------------------------------------------------------- per-issue children
@dataclass
class IssueChildRetriever(IssueWindowRetriever):
    """One request per changed issue (ids from the index): watchers, votes, remote links, properties, transitions.
    A 404 (issue deleted since the index was read) skips that issue; nothing else is ignored."""

    kind: str = ""
    with_times = True

    def read_records(self, records_schema: Mapping[str, Any], stream_slice: Optional[StreamSlice] = None) -> Iterable[Any]:
        stream_slice = stream_slice or StreamSlice(partition={}, cursor_slice={})
        for updated, issue_id in self._window_ids(stream_slice):
            issue_updated = str(updated)
            for data in self._children(issue_id):
                yield self._record({**data, "issueId": issue_id, "issueUpdated": issue_updated}, stream_slice)
            self._visited(issue_updated, stream_slice)

    def _get(self, path: str, params: Optional[Mapping[str, Any]] = None) -> Any:
        response = (self.get_requester or self.requester).send_request(path=path, request_params=params)
        if response is None or response.status_code == 404 or not response.content:
            return None
        return parsed_json(response)

    def _children(self, issue_id: str) -> Iterable[Mapping[str, Any]]:
        kind = self.kind or self.name
        if kind == "issue_watchers":
            body = self._get(f"issue/{issue_id}/watchers") or {}
            return [w for w in body.get("watchers") or [] if w.get("accountId")]
        if kind == "issue_votes":
            body = self._get(f"issue/{issue_id}/votes") or {}
            return [v for v in body.get("voters") or [] if v.get("accountId")]
        if kind == "issue_remote_links":
            return list(self._get(f"issue/{issue_id}/remotelink") or [])  # `id` stays the integer Jira sends
        if kind == "issue_transitions":
            body = self._get(f"issue/{issue_id}/transitions") or {}
            return body.get("transitions") or []
        if kind == "issue_properties":
            body = self._get(f"issue/{issue_id}/properties") or {}
            out = []
            for entry in body.get("keys") or []:
                value = self._get(f"issue/{issue_id}/properties/{entry['key']}")
                if value is not None:
                    out.append({"key": entry["key"], "value": value.get("value")})
            return out
        raise ValueError(f"unknown per-issue stream {kind}")
