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

from source_jira.components.issue_family.records import as_declared
from source_jira.components.issue_family.session import SessionHolder, SyncSession
from source_jira.components.issue_family.windows import Window, WindowedCursor, cut_windows


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
    hold_state = False  # records are filtered by their own time: see windows.py for the state rule

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self._parameters = parameters or {}
        self.name = self.name or self._parameters.get("name", "")
        self._window_size = max(1, int(self.window_size or 500))
        self.windows = WindowedCursor(self.cursor, self.name, self._plan, hold_state=self._holds_state())

    def _holds_state(self) -> bool:
        return self.hold_state

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
