"""Windows of the issue family, and the only code that touches the CDK's cursor. Python because the CDK slices a
stream by time steps, while these windows are cut by issue count (from the id index) and their state rule — the
newest issue `updated` actually handled, never "now" — needs visits that produce no record.

* `Window`: one partition of an issue-family stream — its JQL bounds, its positions in the id index, and the lower
  bound child records are filtered by. It travels in the CDK's StreamSlice (`extra_fields`), typed.
* `WindowedCursor`: wraps the stream's `ConcurrentCursor` (airbyte-cdk, see PINNED_CDK in source_jira/cdk_adapter.py):
  its slices become the windows, and issues handled without a record are observed. Its shape is checked when the
  stream is built; a CDK that changed it fails loudly (`CdkShapeError`) instead of silently reading one window.
* Checkpoints follow the work: a window's partition closes when all its issues are handled, and the CDK's state is
  the low-water mark of the closed windows (the merged prefix, never past a window still running), so a kill loses at
  most the windows in flight.
* A window still running holds back every state after it, and a kill re-reads it: so a stream has at most
  `open_windows` (2) handed to the CDK and not closed yet, whatever the read's size; the next window is handed out
  when one closes. The CDK's other workers meanwhile read the other streams' windows. (More windows open on big reads
  kept the streams of one search further apart: their shared pages waited longer, 37 MB more at 50,000 issues.)
* Streams whose records are filtered by their own time (comments, changelog entries, attachments:
  `children_floor=True`) filter them by the read's lower bound (`Window.sync_lower`). A read that stops half-way has
  moved the cursor past finished windows only, but the children of issues in unfinished windows can be older than
  that cursor: the resumed read must filter them by the interrupted read's lower bound, not by its own. That bound
  travels in the state as `children_since` (epoch ms) while a read is unfinished, and leaves it when the last window
  closes (integration_tests/test_e2e_resume.py kills reads with SIGKILL and checks nothing is lost).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from typing import Any, Callable, Iterable, List, Optional, Tuple

from airbyte_cdk.sources.streams.concurrent.cursor import ConcurrentCursor
from airbyte_cdk.sources.types import Record, StreamSlice

from source_jira.cdk_adapter import PINNED_CDK, CdkShapeError, cursor_saved_state, cursor_state_problems
from source_jira.components.issue_family.jql import floor_minute, jira_ms

START_KEY, END_KEY = "start_time", "end_time"  # the declarative cursor's slice boundary fields (epoch ms, `%ms`)
WINDOW_KEY = "issue_family_window"
OPEN_WINDOWS = 2  # windows of one stream handed to the CDK and not closed yet
GATE_TIMEOUT = 120.0  # seconds without a window closing before the gate gives up for the rest of the read
CHILDREN_SINCE_KEY = "children_since"  # in the state of an unfinished read of a `children_floor` stream (epoch ms)


class WindowSlice(StreamSlice):
    """A window's slice, its hash worked out once: the CDK's cursor looks up every record's slice in a dict (its hash
    is JSON plus SHA-256 of the slice: ~5 % of a catalog read's CPU, recomputed for each record). Equal, and hashed
    equal, to the StreamSlice it would otherwise be."""

    def __hash__(self) -> int:
        cached = self.__dict__.get("_hash_once")
        if cached is None:
            cached = self.__dict__["_hash_once"] = super().__hash__()
        return cached


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
        return WindowSlice(partition={}, cursor_slice={START_KEY: str(self.start), END_KEY: str(self.end)},
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


def gated_windows(config: Any) -> int:
    """OPEN_WINDOWS, or 0 (no gate) with fewer than 3 workers: the CDK then generates and reads partitions on the
    same thread, and a generator waiting for a window to close would wait for itself."""
    return OPEN_WINDOWS if int((config or {}).get("num_workers", 8) or 8) >= 3 else 0


def check_cursor_shape(cursor: Any, stream: str) -> None:
    problems = []
    if not isinstance(cursor, ConcurrentCursor):
        problems.append(f"the stream's cursor is a {type(cursor).__name__}, not a ConcurrentCursor")
    for name in ("stream_slices", "observe", "close_partition"):
        if not callable(getattr(cursor, name, None)):
            problems.append(f"ConcurrentCursor.{name}")
    if not isinstance(getattr(getattr(cursor, "cursor_field", None), "cursor_field_key", None), str):
        problems.append("ConcurrentCursor.cursor_field.cursor_field_key")
    problems += cursor_state_problems(cursor)
    if problems:
        raise CdkShapeError(f"{stream}: airbyte-cdk is not the version source-jira was written for ({PINNED_CDK}): {'; '.join(problems)}")


class WindowedCursor:
    """The stream's ConcurrentCursor, slicing by `plan` (the retriever's windows) and fed issues handled."""

    def __init__(self, cursor: Any, stream: str, plan: Callable[[List[Tuple[int, int]]], List[Window]], children_floor: bool,
                 open_windows: int = 0) -> None:
        check_cursor_shape(cursor, stream)
        self._cursor = cursor
        self._stream = stream
        self._plan = plan
        self.key: str = cursor.cursor_field.cursor_field_key
        self._slices = cursor.stream_slices
        self._observe = cursor.observe
        self._close = cursor.close_partition
        self._lock = threading.Lock()
        self._open = 0  # windows of this read not closed yet
        self._open_windows = open_windows  # 0: no gate (the CDK reads partitions on the generating thread)
        self._handed = 0  # windows handed to the CDK and not closed yet
        self._gate = threading.Condition(self._lock)
        self.children_floor = children_floor
        cursor.stream_slices = self._windows  # the partition generator asks the cursor for its slices
        cursor.observe = self._observe_record  # the CDK observes every record of a partition
        cursor.close_partition = self._closed  # the CDK closes each partition once its records are written

    def _windows(self) -> Iterable[StreamSlice]:
        coarse = []
        for piece in self._slices():
            bounds = piece.cursor_slice
            if START_KEY not in bounds or END_KEY not in bounds:
                raise CdkShapeError(f"{self._stream}: the CDK's slice {dict(bounds)!r} has no {START_KEY}/{END_KEY}")
            coarse.append((int(bounds[START_KEY]), int(bounds[END_KEY])))
        windows = self._plan(coarse)
        if self.children_floor and windows:
            saved = cursor_saved_state(self._cursor)
            floor = windows[0].sync_lower
            if str(saved.get(CHILDREN_SINCE_KEY, "")).lstrip("-").isdigit():  # an interrupted read's lower bound
                floor = min(floor, int(saved[CHILDREN_SINCE_KEY]))
            windows = [replace(window, sync_lower=floor) for window in windows]
            saved[CHILDREN_SINCE_KEY] = str(floor)  # every state of this read carries it until the last window closes
        with self._lock:
            self._open, self._handed = len(windows), 0
        for window in windows:
            with self._gate:
                if self._open_windows and not self._gate.wait_for(lambda: self._handed < self._open_windows, timeout=GATE_TIMEOUT):
                    self._open_windows = 0  # nothing closed for minutes: never hold the read up on this gate
                self._handed += 1
            yield window.to_slice()

    def _closed(self, partition: Any) -> None:
        with self._lock:
            self._open -= 1
            self._handed -= 1
            last = self._open == 0
            self._gate.notify_all()
        if last and self.children_floor:
            cursor_saved_state(self._cursor).pop(CHILDREN_SINCE_KEY, None)  # the read is whole: the state it emits now
        self._close(partition)

    def _observe_record(self, record: Record) -> None:
        """A record newer than its window's upper bound (a changelog entry or worklog written after the window was
        cut) moves the state to that bound only: past it are windows that may still be running."""
        window = Window.of(record.associated_slice)
        if window.query_upper is not None and window.stop is not None:
            try:
                value = jira_ms(record.data.get(self.key))
            except (TypeError, ValueError):
                value = None
            if value is not None and value > window.done_value:
                record = Record(data={self.key: str(window.done_value)}, stream_name=self._stream,
                                associated_slice=record.associated_slice)
        self._observe(record)

    def visited(self, updated: Any, stream_slice: StreamSlice) -> None:
        """An issue was fully handled, whether or not it produced a record of this stream."""
        if updated:
            self._observe(Record(data={self.key: updated}, stream_name=self._stream, associated_slice=stream_slice))

    def window_done(self, stream_slice: StreamSlice, covered: bool = False) -> None:
        """Every issue of the window was handled (`covered`: observe the window's own safe value too, for streams
        that do not visit each issue)."""
        if covered:
            self.visited(str(Window.of(stream_slice).done_value), stream_slice)
