"""One shared, adaptive budget for every request of a read (README, "Errors and retries").

Every HTTP request of a read passes through `transport.GuardedAdapter.send`, which takes a place here before sending
and gives it back once the answer is read (its status and headers with it). One `AdaptiveLimiter` is made per source
(per read or check, held by `cdk_adapter.TransportSettings`), never per module: two reads in one process share nothing.

It decides three things, for all threads at once (the CDK's workers, the issue family's prefetch and per-issue
threads):

* how many requests are in flight (`limit`): AIMD. It starts at `START` (never above the ceiling `num_workers`) and
  grows by one for every `limit` answers that came back without a refusal while the limit was in full use (requests
  were waiting for a place: latency, not Jira, is what holds the read back); it is cut for everyone at once: halved
  by the first 429, times 3/4 by the first near-limit warning (`X-RateLimit-NearLimit: true`, or
  `X-RateLimit-Remaining` under a fifth of `X-RateLimit-Limit`) and by any 503/504 or timeout. Never below `FLOOR`.
* how fast requests start (`pace`, requests per second): none until Jira first signals pressure. The first 429 sets
  it to 4/5 of the rate Jira accepted over the last `RATE_WINDOW` seconds, the first near-limit warning to 9/10 of
  it (when at least `PACE_EVIDENCE` answers show that rate). From then on the pace is what answers rate signals: a
  429 cuts it (to 4/5 of the accepted rate, at most 4/5 of itself) and leaves the in-flight limit alone (it only
  has to cover latency now), a near-limit warning holds it, and it grows by `PACE_STEP` request/s per second while
  it is what holds requests back and Jira says nothing. `max_requests_per_second` stays a hard ceiling on top, kept
  here where requests leave (with the budget on, the manifest's api_budget is dropped: cdk_adapter.mount_transport).
* when the next request may start (`not_before`): a `Retry-After` (or, for points-based quotas on OAuth traffic,
  `Beta-Retry-After`; the longer of the two) on a 429 or 503 pauses every new request until then, not only the
  thread that was told. Without either, a 429's `X-RateLimit-Reset` is used. A wait over `MAX_PAUSE` (5 minutes) pauses
  nobody: the stream told so fails loudly (reliability.JiraBackoff) instead of holding the others.

Signals are counted once per round: an answer to a request sent before the last cut says nothing new (the cut
already happened), so a burst of 429s to requests sent together halves the limit once, not eight times.
`RateLimit-Reason: jira-per-issue-on-write` concerns one issue, not the site: it pauses and cuts nothing.
Retries stay with the CDK's error handler (reliability.JiraBackoff honours the same headers per request).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from datetime import datetime, timezone
from typing import Any, Callable, Deque, Mapping, Optional

LOGGER = logging.getLogger("airbyte")

START = 8  # requests in flight at the start (the old fixed worker count), never above the ceiling
FLOOR = 1
CEILING_DEFAULT = 24  # `num_workers` unset
CUT_LIMITED = 0.5  # a 429
CUT_PRESSURE = 0.75  # near a limit, a 503/504, a timeout
NEAR_FRACTION = 0.2  # Atlassian: X-RateLimit-NearLimit is true when less than 20% of a budget remains
RATE_WINDOW = 2.0  # seconds of accepted answers the pace is measured on
PACE_AFTER_LIMITED = 0.8
PACE_AFTER_NEAR = 0.9
PACE_MIN = 0.5  # requests per second
PACE_EVIDENCE = 4  # accepted answers within RATE_WINDOW needed to measure a pace (fewer: no pace is set)
PACE_STEP = 1.0  # requests/s added per second while the pace is what holds requests back
MAX_PAUSE = 300.0  # JiraBackoff's max_header_wait_seconds: a longer wait fails that stream loudly, nobody is paused
PRESSURE_STATUSES = frozenset({503, 504})
LOCAL_REASONS = ("jira-per-issue-on-write",)
FAN_OUT_PREFIX = "jira-per-issue"  # threads whose requests give way to the others' (session.OrderedExecutor's names)


def _seconds(value: Optional[str]) -> Optional[float]:
    if value is None:
        return None
    try:
        return max(0.0, float(value.strip()))
    except ValueError:
        return None


def _until(value: Optional[str], now_utc: datetime) -> Optional[float]:
    """Seconds until an ISO date such as Jira's X-RateLimit-Reset (`2026-12-05T18:40Z`)."""
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - now_utc).total_seconds())


def _int(value: Optional[str]) -> Optional[int]:
    try:
        return int(str(value).strip()) if value is not None else None
    except ValueError:
        return None


def told_wait(status: int, headers: Mapping[str, str], now_utc: Optional[datetime] = None) -> Optional[float]:
    """How long Jira asked every request to wait: the longer of `Retry-After` and `Beta-Retry-After` (429 and 503),
    else, on a 429, the time to `X-RateLimit-Reset`; None when it did not say."""
    if status not in (429, 503):
        return None
    told = [w for w in (_seconds(headers.get("Retry-After")), _seconds(headers.get("Beta-Retry-After"))) if w is not None]
    if told:
        return max(told)
    if status == 429:
        return _until(headers.get("X-RateLimit-Reset"), now_utc or datetime.now(timezone.utc))
    return None


def near_limit(headers: Mapping[str, str]) -> bool:
    """Jira says a budget is nearly spent: `X-RateLimit-NearLimit: true` (or its `X-Beta-` form), or fewer than a
    fifth of `X-RateLimit-Limit` remain."""
    for name in ("X-RateLimit-NearLimit", "X-Beta-RateLimit-NearLimit"):
        if str(headers.get(name, "")).strip().lower() == "true":
            return True
    limit, remaining = _int(headers.get("X-RateLimit-Limit")), _int(headers.get("X-RateLimit-Remaining"))
    return limit is not None and remaining is not None and limit > 0 and remaining < NEAR_FRACTION * limit


class AdaptiveLimiter:
    """The shared budget of one read. `acquire()` blocks until a request may start and returns its ticket (the time
    it started); `release(ticket, status, headers)` or `release(ticket, error=exc)` gives the place back with what
    Jira said. `clock` is injectable for deterministic tests; `max_rate` is `max_requests_per_second`."""

    def __init__(self, ceiling: int = CEILING_DEFAULT, start: int = START, floor: int = FLOOR,
                 clock: Callable[[], float] = time.monotonic, max_rate: Optional[float] = None) -> None:
        self.ceiling = max(1, int(ceiling))
        # `max_requests_per_second`, kept here, where requests really leave (the CDK's api_budget would count a
        # request before this budget may hold it, so held requests could leave in a bunch past it; it is dropped).
        # The same windows as the manifest's: ceil(r) in any second, max(floor(60 r), ceil(r) + 1) in any minute.
        self._windows = [] if not max_rate else [
            (max(1, math.ceil(max_rate)), 1.0),
            (max(math.floor(max_rate * 60), max(1, math.ceil(max_rate)) + 1), 60.0)]
        self._sent: Deque[float] = deque()  # send times within the longest window (only with max_rate)
        self.floor = max(1, min(int(floor), self.ceiling))
        self.limit = float(max(self.floor, min(int(start), self.ceiling)))
        self.pace: Optional[float] = None
        self.not_before = 0.0
        self.in_flight = 0
        self.cuts = 0  # multiplicative decreases so far
        self.pauses = 0  # shared pauses so far
        self._clock = clock
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)  # waiting requests of other than fan-out threads
        self._fan_cond = threading.Condition(self._lock)  # waiting requests of fan-out threads
        self._next_slot = 0.0
        self._last_cut = -math.inf
        self._accepted: Deque[float] = deque()  # completion times of accepted answers within RATE_WINDOW
        self._first = None  # type: Optional[float]
        self._pace_bound = False  # a request waited for its pace slot since the pace last grew
        self._others_waiting = 0  # requests of other than fan-out threads waiting in acquire()
        self._fan_waiting = 0  # requests of fan-out threads waiting in acquire()

    # ---------------------------------------------------------------------------------------------------------------
    def delay(self, now: float) -> float:
        """Seconds until a request may start (0: now), without taking a place; math.inf while the limit is full."""
        if self.in_flight >= int(self.limit):
            return math.inf
        return max(0.0, self.not_before - now, (self._next_slot - now) if self.pace else 0.0, self._window_wait(now))

    def _window_wait(self, now: float) -> float:
        wait = 0.0
        for count, seconds in self._windows:
            while self._sent and self._sent[0] <= now - self._windows[-1][1]:
                self._sent.popleft()
            inside = [t for t in self._sent if t > now - seconds] if seconds < self._windows[-1][1] else list(self._sent)
            if len(inside) >= count:
                wait = max(wait, inside[len(inside) - count] + seconds - now)
        return wait

    def try_acquire(self, now: Optional[float] = None) -> Optional[float]:
        """Take a place if a request may start now: its ticket, else None."""
        with self._cond:
            now = self._clock() if now is None else now
            wait = self.delay(now)
            if wait > 0:
                self._note_wait(now, wait)
                return None
            return self._take(now)

    def acquire(self) -> float:
        """Blocks until this request may start. A request of a fan-out thread (its name starts with FAN_OUT_PREFIX:
        the issue family's per-issue threads) gives way to every other waiting request: a stream that pages one
        request after another (a board's issues, a request list) is never queued behind thousands of per-issue
        calls, and the fan-out still gets every place the others leave."""
        fan_out = threading.current_thread().name.startswith(FAN_OUT_PREFIX)
        cond = self._fan_cond if fan_out else self._cond
        with self._lock:
            if fan_out:
                self._fan_waiting += 1
            else:
                self._others_waiting += 1
            try:
                while True:
                    now = self._clock()
                    wait = self.delay(now)
                    if wait <= 0 and (not fan_out or self._others_waiting == 0):
                        return self._take(now)
                    if wait > 0:
                        self._note_wait(now, wait)
                    # the limit full, or a fan-out giving way: until woken (`_wake`), at most a second; a pause or
                    # the pace: until it is over
                    cond.wait(1.0 if wait == math.inf or wait <= 0 else min(wait, 1.0))
            finally:
                if fan_out:
                    self._fan_waiting -= 1
                else:
                    self._others_waiting -= 1
                    if not self._others_waiting:
                        self._wake()  # the places the others left go to the fan-out

    def _wake(self) -> None:
        """Wake as many waiting requests as there are free places, the others' first (one wake-up per place, not
        every waiting thread on every answer: with dozens of threads that was a good part of a read's CPU)."""
        free = int(self.limit) - self.in_flight
        if free <= 0:
            return
        if self._others_waiting:
            self._cond.notify(free)
            free -= self._others_waiting
        if free > 0 and self._fan_waiting:
            self._fan_cond.notify(free)

    def _note_wait(self, now: float, wait: float) -> None:
        if self.pace and wait != math.inf and wait <= self._next_slot - now:
            self._pace_bound = True  # held back by the pace, not by a pause or the limit

    def _take(self, now: float) -> float:
        self.in_flight += 1
        if self._first is None:
            self._first = now
        if self.pace:
            self._next_slot = max(now, self._next_slot) + 1.0 / self.pace
        if self._windows:
            self._sent.append(now)
        return now

    # ---------------------------------------------------------------------------------------------------------------
    def release(self, ticket: float, status: Optional[int] = None, headers: Optional[Mapping[str, str]] = None,
                error: Optional[BaseException] = None, now: Optional[float] = None) -> None:
        with self._cond:
            now = self._clock() if now is None else now
            full = self.in_flight >= int(self.limit)
            self.in_flight = max(0, self.in_flight - 1)
            try:
                self._learn(ticket, now, full, status, headers or {}, error)
            finally:
                self._wake()

    def _learn(self, ticket: float, now: float, full: bool, status: Optional[int], headers: Mapping[str, str],
               error: Optional[BaseException]) -> None:
        fresh = ticket > self._last_cut  # sent after the last cut: its answer is news
        reason = str(headers.get("RateLimit-Reason") or headers.get("X-Beta-RateLimit-Reason") or "").strip().lower()
        if status is not None and reason.startswith(LOCAL_REASONS):
            return  # one issue's write limit: nothing to change for the rest of the read
        if status is not None and status not in (429,) and status not in PRESSURE_STATUSES:
            self._accepted.append(now)
        while self._accepted and self._accepted[0] < now - RATE_WINDOW:
            self._accepted.popleft()
        wait = told_wait(status, headers) if status is not None else None
        if wait is not None and 0 < wait <= MAX_PAUSE:  # longer: JiraBackoff fails that stream at once, loudly
            until = now + wait
            if until > self.not_before:
                self.not_before = until
                self.pauses += 1
        if status == 429:
            if fresh:
                self._limited(now)
            return
        if (error is not None and _is_timeout(error)) or status in PRESSURE_STATUSES:
            if fresh:  # the server is struggling: fewer at once (a pace, if any, stays)
                self._cut(now, CUT_PRESSURE, "pressure")
            return
        if error is not None or status is None or status >= 500:
            return  # a failure that says nothing about load: neither up nor down
        if near_limit(headers):
            if self.pace is None:
                if fresh:  # the first warning: fewer at once, and hold about the rate Jira takes now
                    self.pace = self._measured(now, PACE_AFTER_NEAR)
                    self._cut(now, CUT_PRESSURE, "near a limit")
                return
            if fresh:  # with a pace: it holds (no growth); the in-flight limit still covers latency
                self._grow(full, pace=False)
            return
        if fresh:  # answers to requests sent before the last cut grow nothing
            self._grow(full, pace=True)

    def _measured(self, now: float, factor: float) -> Optional[float]:
        """`factor` times the rate Jira accepted over the last RATE_WINDOW seconds; None on too few answers."""
        if len(self._accepted) < PACE_EVIDENCE:
            return None
        span = RATE_WINDOW if self._first is None else max(0.5, min(RATE_WINDOW, now - self._first))
        return max(PACE_MIN, factor * len(self._accepted) / span)

    def _limited(self, now: float) -> None:
        """A 429. Without a pace: halve the in-flight limit and set a pace from the accepted rate. With one: the pace
        is what is wrong, cut it (to 4/5 of the accepted rate, at most 4/5 of itself); the in-flight limit only
        covers latency then and stays."""
        measured = self._measured(now, PACE_AFTER_LIMITED)
        if self.pace is None:
            self.pace = measured
            self._cut(now, CUT_LIMITED, "rate limited")
        else:
            cap = PACE_AFTER_LIMITED * self.pace
            self.pace = max(PACE_MIN, min(measured, cap) if measured is not None else cap)
            self._cut(now, 1.0, "rate limited")

    def _cut(self, now: float, factor: float, why: str) -> None:
        before = self.limit
        self.limit = max(float(self.floor), self.limit * factor)
        self._last_cut = now
        self._pace_bound = False
        self.cuts += 1
        LOGGER.debug(f"Request budget ({why}): in flight {before:.1f} -> {self.limit:.1f}, pace {_pace(self.pace)}")

    def _grow(self, full: bool, pace: bool) -> None:
        if full and self.limit < self.ceiling:
            self.limit = min(float(self.ceiling), self.limit + 1.0 / self.limit)
        if pace and self.pace and self._pace_bound:  # only while the pace is what holds requests back
            self.pace += PACE_STEP / self.pace  # about PACE_STEP requests/s more per second
            self._pace_bound = False


def _pace(pace: Optional[float]) -> str:
    return "none" if pace is None else f"{pace:.1f}/s"


def _is_timeout(error: BaseException) -> bool:
    import requests

    return isinstance(error, (requests.exceptions.Timeout, TimeoutError))


def from_config(config: Optional[Mapping[str, Any]]) -> Optional[AdaptiveLimiter]:
    """The read's limiter, or None when `adaptive_concurrency` is false (then `num_workers` requests run at once,
    each honouring Retry-After on its own, as before)."""
    config = config or {}
    if config.get("adaptive_concurrency") is False:
        return None
    try:
        max_rate = float(config.get("max_requests_per_second") or 0) or None
    except (TypeError, ValueError):
        max_rate = None
    return AdaptiveLimiter(ceiling=ceiling_of(config), max_rate=max_rate)


def ceiling_of(config: Optional[Mapping[str, Any]]) -> int:
    """The most requests a read has in flight: `num_workers` (CEILING_DEFAULT unset), 1 to 32."""
    try:
        ceiling = int((config or {}).get("num_workers") or CEILING_DEFAULT)
    except (TypeError, ValueError):
        ceiling = CEILING_DEFAULT
    return max(1, min(32, ceiling))
