"""The base of the issue family's retrievers. Python because these retrievers share a sync session and cut their own
windows, which a SimpleRetriever cannot do.

Every issue-family stream is a plain DeclarativeStream whose `incremental_sync` is the family's DatetimeBasedCursor
(`%ms` bounds, one coarse window `[state - lookback, now]`): state, checkpointing and the state message are the
CDK's own. The retriever receives the stream's ConcurrentCursor (`cursor` kwarg) and `WindowedCursor` (windows.py)
turns its slices into windows of ~`window_size` issues, which the CDK reads concurrently."""

from __future__ import annotations

from dataclasses import InitVar, dataclass
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple

from airbyte_cdk.sources.declarative.requesters.http_requester import HttpRequester
from airbyte_cdk.sources.declarative.retrievers.retriever import Retriever
from airbyte_cdk.sources.types import Config, Record, StreamSlice

from source_jira.components.issue_family.backend import search_for
from source_jira.components.issue_family.jql import ALL_HISTORY_CLAUSE, base_clauses
from source_jira.components.issue_family.records import as_declared
from source_jira.components.issue_family.session import SessionHolder, SyncSession
from source_jira.components.issue_family.windows import Window, WindowedCursor, cut_windows, gated_windows


DATACENTER_WINDOW = 500  # issues per window of the Data Center search views (two pages of 250 with whole histories)


class CursorOwnedRetriever(Retriever):
    """The stream's ConcurrentCursor holds the state (one cursor per stream): the retriever keeps none of its own."""

    @property
    def state(self) -> Mapping[str, Any]:
        return {}

    @state.setter
    def state(self, value: Mapping[str, Any]) -> None:
        pass

    def stream_slices(self) -> Iterable[Optional[StreamSlice]]:  # not used by the concurrent framework
        yield StreamSlice(partition={}, cursor_slice={})


class SessionBound:
    """A component that reads through the source's issue-family session. `SourceJira` binds its holder when the CDK
    builds the stream and opens one session per read, shared by every selected stream. Run by another runtime (the
    CDK's generic `source-declarative-manifest`, which knows nothing of SourceJira), the component opens a session of
    its own on first use: correct, but shared with no other stream (so nothing is fetched once for several)."""

    _holder: Optional[SessionHolder] = None
    _own: Optional[SyncSession] = None

    def bind_session_holder(self, holder: SessionHolder) -> None:
        self._holder = holder

    @property
    def session(self) -> SyncSession:
        if self._holder is not None:
            return self._holder.current()
        if self._own is None:
            self._own = SyncSession([getattr(self, "name", "")])
        return self._own


@dataclass
class WindowedRetriever(SessionBound, CursorOwnedRetriever):
    """Base of the retrievers that read the issues of their windows (search views, changelogs, per-issue children)."""

    config: Config
    parameters: InitVar[Mapping[str, Any]]
    requester: HttpRequester  # POST: search/jql, changelog/bulkfetch
    get_requester: Optional[HttpRequester] = None  # GET: field, per-issue endpoints
    cursor: Any = None
    name: str = ""
    window_size: Any = 500

    with_times = False  # the id index carries every issue's `updated` (per-issue streams put it on their records)
    children_floor = False  # records are filtered by their own time: see windows.py for the state rule
    reads_search_pages = False  # on Data Center: a view of the shared search pages (changelogs included)

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self._parameters = parameters or {}
        self.name = self.name or self._parameters.get("name", "")
        self.search = search_for(self.config)  # Cloud's search/jql or Data Center's search (backend.py)
        self._window_size = max(1, int(self.window_size or 500))
        if self.reads_search_pages and self.search.changelogs_in_pages:
            self._window_size = DATACENTER_WINDOW  # every view of the pages cuts the same windows, so they share them
        self.windows = WindowedCursor(self.cursor, self.name, self._plan, children_floor=self._filters_children(),
                                      open_windows=gated_windows(self.config))

    def _filters_children(self) -> bool:
        return self.children_floor

    def _plan(self, coarse: List[Tuple[int, int]]) -> List[Window]:
        session = self.session
        return cut_windows(coarse, lambda lower, upper: session.index(self.requester, self.config, lower, upper, self.with_times)
                           .cuts(self.requester, lower, self._window_size))

    def _window_ids(self, window: Window) -> List[Tuple[Optional[int], str]]:
        """The ids of this window by position in the index (each id in exactly one window), with `updated` when known."""
        index = self.session.index(self.requester, self.config, window.index_lower, window.index_upper, self.with_times)
        stop = len(index.ids) if window.stop is None else window.stop
        times = index.times[window.first:stop] if index.with_times else [None] * (stop - window.first)
        return list(zip(times, index.ids[window.first:stop]))

    def _record(self, data: Dict[str, Any], stream_slice: StreamSlice) -> Record:
        return Record(data=as_declared(data, self.name), stream_name=self.name, associated_slice=stream_slice)


@dataclass
class IssueIdScanRetriever(CursorOwnedRetriever):
    """`issue_ids` on Data Center: every issue id and key the configured projects and filter admit, read with the
    segmented scan (backend.py) because one search cannot page past the result window there. (On Cloud the stream is
    declarative: `search/jql` pages of 5,000 ids.)"""

    config: Config
    parameters: InitVar[Mapping[str, Any]]
    requester: HttpRequester
    name: str = "issue_ids"

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self.name = (parameters or {}).get("name", self.name)

    def read_records(self, records_schema: Mapping[str, Any], stream_slice: Optional[StreamSlice] = None) -> Iterable[Any]:
        search = search_for(self.config)
        clauses = " AND ".join(base_clauses(self.config)) or ALL_HISTORY_CLAUSE
        for issue in search.scan(self.requester, clauses, ["key"], f"POST {search.path} (issue ids)"):
            yield Record(data={"id": str(issue["id"]), "key": issue.get("key")}, stream_name=self.name, associated_slice=stream_slice)
