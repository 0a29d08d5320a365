"""The sync session of the issue family: what its streams share during one read. Python because streams of the CDK
share nothing; here the selected search views share each `search/jql` page (fetched once), the id indexes that
windows are cut from, the custom field names, a few prefetch threads and a memory-bounded hand-off (the spool);
`issue_changelogs` and `issue_field_history` share each `changelog/bulkfetch` page the same way.

Lifecycle: `SessionHolder` belongs to one source object. `SourceJira.read` opens a session for the catalog's streams
and closes it when the read ends (threads stopped, spooled files deleted); opening a second while one is live is an
error. The issue-family components are bound to the holder when the CDK builds their stream
(`source_jira/cdk_adapter.py`) and ask it for the live session when they read.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import queue
import tempfile
import threading
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable, Deque, Dict, Iterable, Iterator, List, Mapping, Optional, Set, Tuple

import orjson
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.declarative.requesters.http_requester import HttpRequester
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_jira.components.http import send_json
from source_jira.components.config import DATACENTER
from source_jira.components.issue_family.backend import search_for
from source_jira.components.issue_family.index import IssueIndex
from source_jira.components.issue_family.jql import window_jql
from source_jira.components.pagination import PageProgress
from source_jira.limiter import CEILING_DEFAULT, FAN_OUT_PREFIX

SEARCH_VIEWS = ("issues", "issue_comments", "issue_attachments", "pull_requests")  # streams that read the same search pages
CHANGELOG_VIEWS = ("issue_changelogs", "issue_field_history")  # streams that read the same bulkfetch pages
# On Data Center the changelogs come in the search pages (`expand=changelog` carries whole histories): one chain
DATACENTER_SEARCH_VIEWS = ("issues", "issue_comments", "issue_attachments", "issue_changelogs", "issue_field_history")
# Per-issue child streams (children.py): a search of their own per window, or the search views' pages when those
# carry every field (search.joint_views)
PER_ISSUE_VIEWS = ("issue_watchers", "issue_votes", "issue_remote_links", "issue_properties", "issue_transitions")
BACKGROUND_THREADS = 6  # prefetch threads of a session, on top of the CDK's workers
# per-issue requests (children.py) in flight at once, all per-issue streams together: the read's ceiling of requests in
# flight (limiter.ceiling_of: `num_workers`), so that they alone can use the whole budget the limiter grants
PER_ISSUE_QUEUED = 16  # per-issue requests of one window queued at once (memory bound; the threads are the session's)
COMMENT_PREFETCH = 16  # incomplete issues' comment lists loaded ahead of `issue_comments` (memory bound)
CHANGELOG_PAGES_AT_ONCE = 2  # bulkfetch pages fetched and held at a time (see changelogs.py)
SPOOL_MEMORY = 16 * 1024 * 1024
LIGHT_OVERHEAD = 4  # parsed Python objects take a few times their JSON size (read_shared `light`)


class Spool:
    """Hand-off of compact per-view payloads between streams: kept as they are (parsed objects, no copy) up to a
    budget, then on disk, so a sync of a whole site never holds the site's comments in memory when one stream runs
    far ahead of another. An entry is charged the byte size of the response it came from (an upper bound of its own
    JSON size; Python objects take a few times their JSON size, hence a budget well under the memory target)."""

    def __init__(self, memory_budget: int = SPOOL_MEMORY) -> None:
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

    def take(self, ticket: Tuple[str, Any, int], keep: bool = False) -> Any:
        """The payload of `ticket`, which is then spent (unless `keep`: another reader takes it later)."""
        kind, value, charge = ticket
        if kind == "mem":
            if not keep:
                with self._lock:
                    self._in_memory -= charge
            return value
        with open(value, "rb") as handle:
            data = handle.read()
        if not keep:
            os.unlink(value)
        return orjson.loads(data)

    def close(self) -> None:
        with self._lock:
            directory, self._dir = self._dir, None
        if directory is not None:
            directory.cleanup()


class SharedIssues:
    """A page's issues as Jira sent them, spooled once for the views of another kind than the one that fetched it
    (read_shared `kin`): each makes its own part when it takes them; the last one spends the ticket."""

    def __init__(self, ticket: Tuple[str, Any, int], readers: int) -> None:
        self._ticket = ticket
        self._readers = readers
        self._lock = threading.Lock()

    def take(self, spool: Spool) -> Any:
        with self._lock:
            self._readers -= 1
            last = self._readers <= 0
        return spool.take(self._ticket, keep=not last)


class SharedPages:
    """The pages of one chain (a window's search, a batch's bulkfetch), fetched once and handed to every view that
    reads it (single flight). Each entry: {"token": the next page's token, "last": bool, "tickets": {view: ticket}}."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pages: List[Dict[str, Any]] = []


class OrderedSlots:
    """At most `size` holders at a time, the free slot going to the waiting window that comes first in time (`key`).
    Bulkfetch pages are fetched a few at a time (memory); granting them oldest window first finishes windows in
    order, so the state (the low-water mark of finished windows, windows.py) keeps moving and a kill interrupts at
    most `size` windows instead of every window running (integration_tests/test_e2e_resume.py)."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._held = 0
        self._waiting: List[Any] = []
        self._ready = threading.Condition()

    @contextlib.contextmanager
    def slot(self, key: Any) -> Iterator[None]:
        with self._ready:
            self._waiting.append(key)
            self._ready.wait_for(lambda: self._held < self._size and min(self._waiting) == key)
            self._waiting.remove(key)
            self._held += 1
            self._ready.notify_all()  # the next in line may take a second free slot
        try:
            yield
        finally:
            with self._ready:
                self._held -= 1
                self._ready.notify_all()


class OrderedExecutor:
    """Threads that run the waiting task that comes first (`order`, then submission), not the oldest submitted: the
    per-issue requests of the oldest window go first, so windows finish nearly in order and the state follows
    (windows.py). Same `shutdown(wait, cancel_futures)` as a ThreadPoolExecutor."""

    def __init__(self, threads: int, name: str) -> None:
        self._tasks: "queue.PriorityQueue[Tuple[Any, int, Any]]" = queue.PriorityQueue()
        self._count = itertools.count()
        self._threads = [threading.Thread(target=self._work, name=f"{name}-{n}", daemon=True) for n in range(threads)]
        for thread in self._threads:
            thread.start()

    def submit(self, order: Tuple[int, ...], function: Callable[..., Any], *args: Any) -> "Future[Any]":
        future: "Future[Any]" = Future()
        self._tasks.put((order, next(self._count), (future, function, args)))
        return future

    def _work(self) -> None:
        while True:
            _, _, task = self._tasks.get()
            if task is None:
                return
            future, function, args = task
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(function(*args))
            except BaseException as error:  # handed to whoever waits on the future
                future.set_exception(error)

    def shutdown(self, wait: bool = True, cancel_futures: bool = False) -> None:
        if cancel_futures:
            while True:
                try:
                    _, _, task = self._tasks.get_nowait()
                except queue.Empty:
                    break
                if task is not None:
                    task[0].cancel()
        for _ in self._threads:
            self._tasks.put(((float("inf"),), next(self._count), None))  # after every task still waiting
        if wait:
            for thread in self._threads:
                thread.join()


# fetch(previous token) -> (the page, its size in bytes, the next page's token or None)
Fetch = Callable[[Optional[str]], Tuple[Any, int, Optional[str]]]
# part(page, view) -> what `view` keeps of the page
Part = Callable[[Any, str], Any]


class SyncSession:
    """What the issue-family streams of one read share. Thread-safe: windows of all streams run on the CDK's
    workers at once."""

    def __init__(self, selected: Iterable[str], per_issue_threads: int = CEILING_DEFAULT,
                 stated: Iterable[str] = ()) -> None:
        self.selected: Set[str] = set(selected)
        self.stated: Set[str] = set(stated)  # the selected streams that start from a saved state
        self.per_issue_threads = max(1, int(per_issue_threads))
        self.spool = Spool()
        self.changelog_slots = OrderedSlots(CHANGELOG_PAGES_AT_ONCE)
        self._lock = threading.Lock()
        self._indexes: Dict[Tuple[str, bool], IssueIndex] = {}
        self._shared: Dict[Any, SharedPages] = {}
        self._chains: Dict[Any, Any] = {}
        self._fields: Optional[Dict[str, Mapping[str, Any]]] = None
        self._projects: Optional[Dict[str, Mapping[str, Any]]] = None
        self._fields_lock = threading.Lock()
        self._pool: Optional[ThreadPoolExecutor] = None
        self._per_issue_pool: Optional[OrderedExecutor] = None
        self._comment_loads: Dict[str, "Future[Any]"] = {}
        self._closed = False

    # --- background requests -------------------------------------------------------------------------------------
    def background(self, function: Callable[..., Any], *args: Any) -> "Future[Any]":
        """Run a request off the partition's thread so that it overlaps the window's page chain. The partition that
        needs the result waits for it and re-raises its error, so a failure fails that partition."""
        with self._lock:
            if self._closed:
                raise AirbyteTracedException(message="The issue family's sync session is closed.", failure_type=FailureType.system_error)
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=BACKGROUND_THREADS, thread_name_prefix="jira-prefetch")
            return self._pool.submit(function, *args)

    def per_issue(self, function: Callable[..., Any], *args: Any, order: Tuple[int, ...] = (-1,)) -> "Future[Any]":
        """Run one issue's request(s) of a per-issue stream (children.py) on the session's per-issue threads: at most
        `per_issue_threads` in flight for the whole read, whatever the number of streams and windows, the oldest window
        first (`order`: the window's start and first position; the default goes before every window). Every request
        still goes through the stream's requester and the read's request budget (source_jira/limiter.py)."""
        with self._lock:
            if self._closed:
                raise AirbyteTracedException(message="The issue family's sync session is closed.", failure_type=FailureType.system_error)
            if self._per_issue_pool is None:
                self._per_issue_pool = OrderedExecutor(self.per_issue_threads, FAN_OUT_PREFIX)
            return self._per_issue_pool.submit(order, function, *args)

    def per_issue_in_order(self, work: Iterable[Tuple[Any, Optional[Callable[[], Any]]]],
                           order: Tuple[int, ...]) -> Iterator[Tuple[Any, Any]]:
        """(item, its call's answer, or None when it has no call) for each (item, call) of `work`, in `work`'s order,
        the calls running on the per-issue threads (`per_issue`) with at most PER_ISSUE_QUEUED of this caller's
        waiting at once. A call's error is raised here, when its item's turn comes."""
        waiting: Deque[Tuple[Any, Optional["Future[Any]"]]] = deque()
        for item, call in work:
            waiting.append((item, None if call is None else self.per_issue(call, order=order)))
            while waiting and (len(waiting) > PER_ISSUE_QUEUED or waiting[0][1] is None or waiting[0][1].done()):
                done, future = waiting.popleft()
                yield done, None if future is None else future.result()
        while waiting:
            done, future = waiting.popleft()
            yield done, None if future is None else future.result()

    def prefetch_comments(self, issue_id: str, load: Callable[[], Any]) -> None:
        """Start loading the rest of an incomplete issue's comments as soon as its search page is here. At most
        COMMENT_PREFETCH lists wait for their reader; beyond that they load when asked (`comments_of`)."""
        with self._lock:
            if issue_id in self._comment_loads or len(self._comment_loads) >= COMMENT_PREFETCH:
                return
        future = self.background(load)
        with self._lock:
            self._comment_loads.setdefault(issue_id, future)

    def comments_of(self, issue_id: str, load: Callable[[], Any]) -> "Future[Any]":
        """The comment list started by `prefetch_comments` (taken: each is read once), else started now."""
        with self._lock:
            future = self._comment_loads.pop(issue_id, None)
        return future if future is not None else self.background(load)

    # --- shared reads ------------------------------------------------------------------------------------------
    def consumers(self, views: Iterable[str], fetching_view: str) -> Set[str]:
        """The other views of `views` that will ask for the same pages in this read."""
        return {view for view in views if view in self.selected and view != fetching_view}

    def read_shared(self, key: Any, view: str, others: Set[str], fetch: Fetch, part: Part, where: str,
                    kin: Optional[Set[str]] = None, light: Iterable[str] = ()) -> Iterator[Any]:
        """`view`'s part of each page of the chain `key`, the chain fetched once for `view` and `others`: whichever
        view asks for a page first fetches it and spools the others' parts (a page whose part was not kept is
        fetched again). `kin`: the other views `part` can make (default: all); a view of another kind (a per-issue
        stream and a search view sharing one search) gets the page's issues as they came, and makes its part itself
        when it takes them. A spooled part is charged the size of the page it came from, or (views in `light`, whose
        parts are a few fields per issue) its own JSON size times LIGHT_OVERHEAD. A token seen twice in the chain
        fails loudly."""
        with self._lock:
            chain = self._shared.get(key)
            if chain is None:
                chain = self._shared[key] = SharedPages()
        progress = PageProgress(where)
        number = 0
        while True:
            with chain.lock:
                previous = chain.pages[number - 1]["token"] if number else None
                if number < len(chain.pages):
                    entry = chain.pages[number]
                    ticket = entry["tickets"].pop(view, None)
                    if isinstance(ticket, SharedIssues):  # spooled by a view of another kind: this view makes its part
                        payload = part({"issues": ticket.take(self.spool)}, view)
                    else:
                        payload = self.spool.take(ticket) if ticket is not None else None
                    if payload is None:  # this view's part was not kept (e.g. a view the catalog did not announce)
                        payload = part(fetch(previous)[0], view)
                else:
                    page, size, upcoming = fetch(previous)
                    if upcoming is not None and (upcoming == previous or any(p["token"] == upcoming for p in chain.pages)):
                        progress.stalled(f"Jira sent the page token {upcoming[:60]!r} a second time")
                    aliens = {other for other in others if kin is not None and other not in kin}
                    tickets: Dict[str, Any] = {}
                    for other in others - aliens:
                        payload = part(page, other)
                        charge = LIGHT_OVERHEAD * len(orjson.dumps(payload)) if other in light else size
                        tickets[other] = self.spool.put(payload, charge)
                    if aliens:
                        shared = SharedIssues(self.spool.put(page.get("issues") or [], size), len(aliens))
                        tickets.update(dict.fromkeys(aliens, shared))
                    entry = {"token": upcoming, "last": upcoming is None, "tickets": tickets}
                    chain.pages.append(entry)
                    payload = part(page, view)
                    del page
            yield payload
            number += 1
            if entry["last"]:
                return

    def chain(self, key: Any, make: Callable[[], Any]) -> Any:
        """The page chain (backend.py) of a shared search, one per key: every view fetching its pages goes through the
        same one (a Data Center chain remembers the issues it returned and the `total` it saw)."""
        with self._lock:
            chain = self._chains.get(key)
            if chain is None:
                chain = self._chains[key] = make()
            return chain

    def index(self, requester: HttpRequester, config: Mapping[str, Any], lower: int, upper: Optional[int],
              with_times: bool = False) -> IssueIndex:
        search = search_for(config)
        if search.deployment == DATACENTER:  # one scan serves both kinds: it always carries `updated`
            key = (window_jql(config, lower, upper, order=""), True)
        else:
            key = (window_jql(config, lower, upper), with_times)
        with self._lock:
            index = self._indexes.get(key)
            if index is None:
                index = self._indexes[key] = IssueIndex(key[0], key[1], search, clauses=window_jql(config, lower, upper, order=""))
        index.load(requester)
        return index

    def field_names(self, requester: HttpRequester) -> Dict[str, Mapping[str, Any]]:
        """`GET /field` once per read: custom field names by id."""
        with self._fields_lock:
            if self._fields is None:
                fields = send_json(requester, "field", expect_list=True)
                self._fields = {f["id"]: f for f in fields if isinstance(f, Mapping) and f.get("id")}
            return self._fields

    def projects_by_key(self, requester: HttpRequester, config: Mapping[str, Any]) -> Dict[str, Mapping[str, Any]]:
        """The projects once per read (`GET project/search` on Cloud, `GET project` on Data Center): `{key: {"id",
        "key"}}` of every project the account sees, for rows that name their issue's project (the changelog answer
        gives the issue id only)."""
        with self._fields_lock:
            if self._projects is None:
                self._projects = search_for(config).projects(requester)
            return self._projects

    def close(self) -> None:
        with self._lock:
            self._closed = True
            pools = [self._pool, self._per_issue_pool]
            self._pool = self._per_issue_pool = None
            self._comment_loads.clear()
        for pool in pools:
            if pool is not None:
                pool.shutdown(wait=False, cancel_futures=True)
        self.spool.close()


class SessionHolder:
    """Owned by one source object: the issue family's session of the read in progress, if any."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._live: Optional[SyncSession] = None

    @contextlib.contextmanager
    def open(self, selected: Iterable[str], per_issue_threads: int = CEILING_DEFAULT,
             stated: Iterable[str] = ()) -> Iterator[SyncSession]:
        session = SyncSession(selected, per_issue_threads, stated)
        with self._lock:
            if self._live is not None:
                raise RuntimeError("An issue-family sync session is already open on this source: one read at a time.")
            self._live = session
        try:
            yield session
        finally:
            with self._lock:
                self._live = None
            session.close()

    def current(self) -> SyncSession:
        with self._lock:
            session = self._live
        if session is None:
            raise AirbyteTracedException(
                message="The issue-family streams were read outside a sync session (SourceJira.read opens it).",
                failure_type=FailureType.system_error,
            )
        return session
