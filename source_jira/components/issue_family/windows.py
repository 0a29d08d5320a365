"""Windows of the issue family, and the only code that touches the CDK's cursor. Python because the CDK slices a
stream by time steps, while these windows are cut by issue count (from the id index) and their state rule — the
newest issue `updated` actually handled, never "now" — needs visits that produce no record.

* `Window`: one partition of an issue-family stream — its JQL bounds, its positions in the id index, and the lower
  bound child records are filtered by. It travels in the CDK's StreamSlice (`extra_fields`), typed.
* `WindowedCursor`: wraps the stream's `ConcurrentCursor` (airbyte-cdk, see PINNED_CDK in source_jira/cdk_adapter.py):
  its slices become the windows, and issues handled without a record are observed. Its shape is checked when the
  stream is built; a CDK that changed it fails loudly (`CdkShapeError`) instead of silently reading one window.
* The state rule of streams whose records are filtered by their own time (comments, changelog entries,
  attachments: `hold_state=True`): their cursor may only move when EVERY window of the read is done. A window
  finished early covers its issues, but the children of issues in unfinished windows can be older than it, and the
  next sync would filter them out for good (integration_tests/test_e2e_resume.py caught it after a kill -9). So
  their values are only noted, and the last window to finish observes the newest value of the read.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Callable, Iterable, List, Optional, Tuple

from airbyte_cdk.sources.streams.concurrent.cursor import ConcurrentCursor
from airbyte_cdk.sources.types import Record, StreamSlice

from source_jira.cdk_adapter import PINNED_CDK, CdkShapeError
from source_jira.components.issue_family.jql import floor_minute, jira_ms

START_KEY, END_KEY = "start_time", "end_time"  # the declarative cursor's slice boundary fields (epoch ms, `%ms`)
WINDOW_KEY = "issue_family_window"


@dataclass(frozen=True)
class Window:
    start: int  # the slice's start and end, as the CDK's state records them (epoch ms)
    end: int
    query_lower: int  # the window's search: updated >= query_lower AND updated < query_upper (None: no upper bound)
    query_upper: Optional[int]
    first: int  # the window's issues in the id index: positions first .. stop-1 (stop None: to the end)
    stop: Optional[int]
    index_lower: int  # the JQL range of that index
    index_upper: Optional[int]
    sync_lower: int  # the read's lower bound: child records older than it were read by an earlier sync

    def to_slice(self) -> StreamSlice:
        return StreamSlice(partition={}, cursor_slice={START_KEY: str(self.start), END_KEY: str(self.end)},
                           extra_fields={WINDOW_KEY: self})

    @staticmethod
    def of(stream_slice: Optional[StreamSlice]) -> "Window":
        window = (stream_slice.extra_fields if stream_slice is not None else {}).get(WINDOW_KEY)
        if not isinstance(window, Window):
            raise CdkShapeError(f"an issue-family partition came without its window (slice {stream_slice!r}): "
                                "the CDK did not read the slices WindowedCursor made")
        return window

    @property
    def done_value(self) -> int:
        """A cursor value safe to observe once every issue of the window was handled: its issues all have
        `updated` below the next window's start (or, for the last window, at least its own start)."""
        if self.query_upper is not None and self.stop is not None:
            return int(self.query_upper) - 1
        return self.start


def cut_windows(coarse: List[Tuple[int, int]], cuts_of: Callable[[int, Optional[int]], List[Tuple[int, int]]]) -> List[Window]:
    """The windows of a read. `coarse`: the CDK's slices (start, end) — one `[state - lookback, now]` in practice;
    `cuts_of(lower, upper)`: the `(start time, first position)` of every window after the first in that range."""
    windows: List[Window] = []
    sync_lower: Optional[int] = None
    for number, (lower, end) in enumerate(coarse):
        query_lower = floor_minute(lower)
        query_upper = None if number == len(coarse) - 1 else floor_minute(end + 1)
        sync_lower = query_lower if sync_lower is None else sync_lower
        cuts = [c for c in cuts_of(query_lower, query_upper) if query_upper is None or c[0] < query_upper]
        starts = [(lower, 0)] + cuts
        for i, (start, position) in enumerate(starts):
            following = cuts[i] if i < len(cuts) else None
            windows.append(Window(
                start=start,
                end=following[0] - 1 if following else end,
                query_lower=query_lower if i == 0 else start,
                query_upper=following[0] if following else query_upper,
                first=position,
                stop=following[1] if following else None,
                index_lower=query_lower,
                index_upper=query_upper,
                sync_lower=sync_lower,
            ))
    return windows


def check_cursor_shape(cursor: Any, stream: str) -> None:
    problems = []
    if not isinstance(cursor, ConcurrentCursor):
        problems.append(f"the stream's cursor is a {type(cursor).__name__}, not a ConcurrentCursor")
    for name in ("stream_slices", "observe"):
        if not callable(getattr(cursor, name, None)):
            problems.append(f"ConcurrentCursor.{name}")
    if not isinstance(getattr(getattr(cursor, "cursor_field", None), "cursor_field_key", None), str):
        problems.append("ConcurrentCursor.cursor_field.cursor_field_key")
    if problems:
        raise CdkShapeError(f"{stream}: airbyte-cdk is not the version source-jira was written for ({PINNED_CDK}): {'; '.join(problems)}")


class WindowedCursor:
    """The stream's ConcurrentCursor, slicing by `plan` (the retriever's windows) and fed issues handled."""

    def __init__(self, cursor: Any, stream: str, plan: Callable[[List[Tuple[int, int]]], List[Window]], hold_state: bool) -> None:
        check_cursor_shape(cursor, stream)
        self._cursor = cursor
        self._stream = stream
        self._plan = plan
        self.key: str = cursor.cursor_field.cursor_field_key
        self._slices = cursor.stream_slices
        self._observe = cursor.observe
        self._lock = threading.Lock()
        self._total: Optional[int] = None
        self._done = 0
        self._held: Optional[int] = None
        self.hold_state = hold_state
        cursor.stream_slices = self._windows  # the partition generator asks the cursor for its slices
        if hold_state:
            cursor.observe = lambda record: self._note(record.data.get(self.key))  # records' values are held too

    def _windows(self) -> Iterable[StreamSlice]:
        coarse = []
        for piece in self._slices():
            bounds = piece.cursor_slice
            if START_KEY not in bounds or END_KEY not in bounds:
                raise CdkShapeError(f"{self._stream}: the CDK's slice {dict(bounds)!r} has no {START_KEY}/{END_KEY}")
            coarse.append((int(bounds[START_KEY]), int(bounds[END_KEY])))
        windows = self._plan(coarse)
        with self._lock:
            self._total, self._done, self._held = len(windows), 0, None
        for window in windows:
            yield window.to_slice()

    def visited(self, updated: Any, stream_slice: StreamSlice) -> None:
        """An issue was fully handled, whether or not it produced a record of this stream."""
        if self.hold_state:
            self._note(updated)
        elif updated:
            self._observe(Record(data={self.key: updated}, stream_name=self._stream, associated_slice=stream_slice))

    def window_done(self, stream_slice: StreamSlice, covered: bool = False) -> None:
        """Every issue of the window was handled (`covered`: observe the window's own safe value too); for a
        stream that holds its state, the last window of the read observes the newest value held."""
        if covered:
            self.visited(str(Window.of(stream_slice).done_value), stream_slice)
        if not self.hold_state:
            return
        with self._lock:
            self._done += 1
            last = self._total is not None and self._done >= self._total
            value = self._held
        if last and value is not None:
            self._observe(Record(data={self.key: str(value)}, stream_name=self._stream, associated_slice=stream_slice))

    def _note(self, updated: Any) -> None:
        try:
            value = jira_ms(updated)
        except (TypeError, ValueError):  # as the CDK's cursor: a record without a usable cursor value moves nothing
            return
        if value is not None:
            with self._lock:
                self._held = value if self._held is None else max(self._held, value)
