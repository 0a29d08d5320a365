"""Checkpoints of `sprint_issues` and `board_issues`: a wrapper around their SubstreamPartitionRouter. Python because
the CDK's per-partition cursor keeps one global cursor that moves only when every sprint (or board) is done, and no
YAML says "resume after the last partition finished in order".

The partitions are read in the order of their ids (sprint or board ids only grow, so a sprint or board created
later sorts last). The CDK records this router's state with each partition it generates and, once every partition up
to it is closed, writes it into the stream's state as `parent_state` (the CDK's own mechanism for parent streams):

    {"use_global_cursor": true, "state": {"updated": …}, "lookback_window": …,
     "parent_state": {"resume": {"after": 1234, "since": 1764950000}}}

`after`: every partition up to that id was read in full from the global cursor (minus the lookback); `since`: when
(epoch seconds, the connector's clock) the interrupted read began. A resumed read with the same global cursor skips
those partitions. When the read is whole the marker leaves the state, the global cursor moves to the newest `updated`
seen, and the lookback the CDK keeps for the next sync (`lookback_window`, the sync's own duration) spans from the
interrupted read's start, so an issue that changed in a skipped partition after it was read is read next time.
A partition that is still running holds back every state after it, and a kill re-reads it: so only a tenth of the
stream's partitions (at least 1, at most `in_flight`) are open at a time (the next is handed to the CDK when one closes), which finishes them
nearly in order while the CDK's other workers read other streams. With fewer than 3 workers the CDK reads partitions
on the thread that generates them, so there is no gate (nor if no partition closed for GATE_TIMEOUT seconds); nor
when nothing reports closed partitions (the CDK's generic runner, which knows nothing of cdk_adapter): there every
partition is handed out at once, and a resumed read starts from the first partition again.
With `batch` (Cloud's `sprint_issues`: one issue search per run of sprints), runs of that many partitions in id order
are one slice each, keyed by the run's last id (so `after` says a whole run is done), with every id of the run in
`batch_field`. `source_jira/cdk_adapter.py` (`checkpoint_partitions`) binds the state the read was given, reports closed
partitions, and lets the CDK write a state message on every step of progress instead of every 10 minutes."""

from __future__ import annotations

import threading
import time
from dataclasses import InitVar, dataclass
from typing import Any, Iterable, List, Mapping, Optional, Tuple

from airbyte_cdk.sources.declarative.partition_routers.partition_router import PartitionRouter
from airbyte_cdk.sources.types import Config, StreamSlice, StreamState

RESUME_KEY = "resume"
GATE_TIMEOUT = 120.0  # seconds without a partition closing before the gate gives up for the rest of the read


def _order(value: Any) -> Tuple[int, Any]:
    text = str(value)
    return (0, int(text)) if text.lstrip("-").isdigit() else (1, text)


@dataclass
class CheckpointedPartitions(PartitionRouter):
    router: PartitionRouter
    partition_field: str
    config: Config
    parameters: InitVar[Mapping[str, Any]]
    in_flight: Any = 8  # partitions open at a time, at most (a tenth of them, at least one)
    batch: Any = 1  # partitions (in id order) read together: one slice with their ids, comma-separated, in batch_field
    batch_field: str = ""

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self._after: Optional[Tuple[int, Any]] = None  # a resumed read: partitions up to this one are done
        self._since: Optional[int] = None
        self._last: Optional[Any] = None  # the partition generated last
        self._finished = False
        self._open = 0
        self._gate = threading.Condition()
        self._gated = False  # until closed partitions are reported (watch_closing)
        self._room = 1

    def watch_closing(self) -> None:
        """Each closed partition will be reported (`closed`, by cdk_adapter.checkpoint_partitions): the gate may now
        hold partitions back. Without these reports it would wait GATE_TIMEOUT for a partition to close."""
        self._gated = int(self.config.get("num_workers", 8) or 8) >= 3 and int(self.in_flight or 0) > 0

    def closed(self) -> None:
        """The CDK closed one of this stream's partitions (cdk_adapter.checkpoint_partitions)."""
        with self._gate:
            self._open = max(0, self._open - 1)
            self._gate.notify_all()

    def _wait_for_room(self) -> None:
        """`<=`: the CDK asks for the next partition before it hands out the one it has (it looks one ahead), so one
        generated partition more than the room is not being read yet."""
        if not self._gated:
            return
        with self._gate:
            if not self._gate.wait_for(lambda: self._open <= self._room, timeout=GATE_TIMEOUT):
                self._gated = False  # nothing closed for minutes: never hold the read up on this gate
            self._open += 1

    def resume(self, parent_state: Optional[Mapping[str, Any]]) -> None:
        """The marker of the state this read was given (the CDK's `parent_state`), if any."""
        marker = (parent_state or {}).get(RESUME_KEY) if isinstance(parent_state, Mapping) else None
        if not isinstance(marker, Mapping) or marker.get("after") is None:
            return
        self._after = _order(marker["after"])
        since = marker.get("since")
        self._since = int(since) if isinstance(since, (int, float)) or str(since).isdigit() else None

    @property
    def started(self) -> Optional[int]:
        """When the read this one continues began (epoch seconds), else when this one began."""
        return self._since

    def stream_slices(self) -> Iterable[StreamSlice]:
        if self._since is None:
            self._since = int(time.time())
        self._finished = False
        partitions: List[StreamSlice] = list(self.router.stream_slices())
        partitions.sort(key=lambda p: _order(p.partition.get(self.partition_field)))
        if self._after is not None:
            partitions = [p for p in partitions if _order(p.partition.get(self.partition_field)) > self._after]
        partitions = self._batched(partitions)
        self._room = max(1, min(int(self.in_flight or 1), len(partitions) // 10))
        for partition in partitions:
            self._wait_for_room()
            self._last = partition.partition.get(self.partition_field)
            yield partition
        self._finished = True

    def _batched(self, partitions: List[StreamSlice]) -> List[StreamSlice]:
        """Runs of `batch` partitions as one slice each: keyed by the last one's id (the resume marker's `after`), with
        every id of the run in `batch_field`."""
        size = int(self.batch or 1)
        if size <= 1 or not self.batch_field:
            return partitions
        runs = [partitions[i:i + size] for i in range(0, len(partitions), size)]
        return [StreamSlice(partition={self.partition_field: run[-1].partition.get(self.partition_field),
                                       self.batch_field: ",".join(str(p.partition.get(self.partition_field)) for p in run)},
                            cursor_slice=run[-1].cursor_slice) for run in runs]

    def get_stream_state(self) -> Optional[Mapping[str, StreamState]]:
        """The marker for the partition generated last; nothing once every partition was generated and the CDK asks
        for the final state (the read is whole)."""
        if self._finished or self._last is None:
            return {}
        return {RESUME_KEY: {"after": self._last, "since": self._since}}

    def set_initial_state(self, stream_state: StreamState) -> None:
        self.router.set_initial_state(stream_state)

    def get_request_params(self, *, stream_state: Optional[StreamState] = None, stream_slice: Optional[StreamSlice] = None,
                           next_page_token: Optional[Mapping[str, Any]] = None) -> Mapping[str, Any]:
        return self.router.get_request_params(stream_state=stream_state, stream_slice=stream_slice, next_page_token=next_page_token)

    def get_request_headers(self, *, stream_state: Optional[StreamState] = None, stream_slice: Optional[StreamSlice] = None,
                            next_page_token: Optional[Mapping[str, Any]] = None) -> Mapping[str, Any]:
        return self.router.get_request_headers(stream_state=stream_state, stream_slice=stream_slice, next_page_token=next_page_token)

    def get_request_body_data(self, *, stream_state: Optional[StreamState] = None, stream_slice: Optional[StreamSlice] = None,
                              next_page_token: Optional[Mapping[str, Any]] = None) -> Any:
        return self.router.get_request_body_data(stream_state=stream_state, stream_slice=stream_slice, next_page_token=next_page_token)

    def get_request_body_json(self, *, stream_state: Optional[StreamState] = None, stream_slice: Optional[StreamSlice] = None,
                              next_page_token: Optional[Mapping[str, Any]] = None) -> Mapping[str, Any]:
        return self.router.get_request_body_json(stream_state=stream_state, stream_slice=stream_slice, next_page_token=next_page_token)
