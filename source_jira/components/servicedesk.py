"""Jira Service Management: `requests` and the per-request streams (SLAs, comments, participants, approvals, status
history). Python because the requests to read are the issues the issue search finds changed (not a parent stream's
records), and one request-list page with `expand` carries the rows of many requests at once.

How a read goes (README "Jira Service Management"), per window of the stream's cursor (`updated` of the issue,
epoch ms, the issue family's rules: `>=` lower bound floored to the minute, state = newest `updated` handled):

1. `GET servicedesk` (paged): the desks and their projects. A site without JSM (404) or an account without access
   (403) skips the stream with one WARN (the requester's SkipForbiddenStream).
2. The issue search (`search_for(config)`: Cloud `search/jql`, Data Center `search`) over the desks' projects finds
   the changed issues and their `updated`.
3. Per desk, on Cloud: `GET request?serviceDeskId=…&requestStatus=ALL_REQUESTS&expand=<what the selected streams
   need>`, 50 a page, most recent activity first, until every changed request of the desk was seen (a first sync
   reads the whole list; an incremental one usually its first page), and only while another page costs less than
   reading the still-missing requests by key. Requests the list did not show (Data Center lists only the account's
   own requests; a request moved during the read; an issue that is no request) are read by key, concurrently on
   the read's per-issue threads, their records coming out in order: `GET request/{key}?expand=…` (404: skipped).
   Approvals have no expand: their search's Approvals field, or `GET request/{key}/approval` (below).
4. An embedded page that is not the last (`isLastPage: false`) is read in full from its own endpoint.

Approvals: JSM keeps a request's approvals in the locked custom field "Approvals" (schema custom type
`…approvals-service:sd-approvals`), whose value the issue search returns. When `request_approvals` is read, the field's
id is looked up once per read (`GET field`, the issue family's cached list) and asked for in step 2's search (one
search still serves every JSM stream: the streams of a read ask for the same fields). `GET request/{key}/approval` is
then skipped for a request whose field is explicitly empty (`null` or `[]`: no approvals), and for one whose field
holds the approvals as that endpoint lists them (each with its id, decision, approvers and a `_links.self` that is this
request's approval URL: those are the records) when the account is an agent of its desk (one `GET
servicedesk/{id}/queue` per desk says so: only agents may list queues, and an agent sees every request of the desk). No such field on the site, the field absent from an issue's `fields`,
or a value of any other form, and the endpoint is called as before — a request is never left without its approvals on
a guess.

The selected streams share steps 3's answers (`SharedRequests`): each list page and each `request/{key}` answer is
fetched once, with every expand the selected streams need, and handed to each of them.
"""

from __future__ import annotations

import functools
import json
import threading
from types import MappingProxyType
from dataclasses import InitVar, dataclass, field
from typing import Any, Dict, Iterable, Iterator, List, Mapping, Optional, Set, Tuple

from airbyte_cdk.sources.declarative.requesters.http_requester import HttpRequester
from airbyte_cdk.sources.types import Config, Record, StreamSlice

from source_jira.components.config import DATACENTER, deployment_of
from source_jira.components.http import require_list, send_json, send_optional
from source_jira.components.issue_family.backend import search_for
from source_jira.components.issue_family.jql import base_clauses, floor_minute, jira_ms, jql_quote, lower_bound_clauses
from source_jira.components.issue_family.retriever import CursorOwnedRetriever
from source_jira.components.pagination import PageProgress

PAGE = 50  # servicedeskapi's documented safe `limit`
START_KEY, END_KEY = "start_time", "end_time"  # the declarative cursor's slice bounds (epoch ms, `%ms`)

# stream -> (expand on the request, key of the embedded page, the request's own endpoint for that list)
VIEWS: Mapping[str, Tuple[str, Optional[str], Optional[str]]] = MappingProxyType({
    "requests": ("requestType,serviceDesk", None, None),
    "request_slas": ("sla", "sla", "sla"),
    "request_comments": ("comment", "comments", "comment"),
    "request_participants": ("participant", "participants", "participant"),
    "request_status_history": ("status", "status", "status"),
    "request_approvals": ("", None, "approval"),  # no expand: one call per request
})
EMBEDDED_KEYS = ("sla", "comments", "participants", "status", "attachments", "actions")
HELD_MAX = 2_000  # requests held for the other streams at once (memory bound); past it a stream fetches its own
SHARED_ATTRIBUTE = "servicedesk_requests"  # where the read's SharedRequests hangs on the issue-family session
APPROVALS_TYPE = "com.atlassian.servicedesk.approvals-service:sd-approvals"  # schema.custom of the "Approvals" field
APPROVALS_VIEW = "request_approvals"
# a wanted request: (issue id, updated ms, its approvals: False none, True ask the endpoint, or bytes: the field's
# list as compact JSON, held for the read)
Wanted = Tuple[str, int, Any]
APPROVALS_HELD_BYTES = 16 * 1024 * 1024  # the fields' approvals held for one read at most; past it, the endpoint
NOT_A_REQUEST = object()  # what reading a request by key gives when Jira says there is none (an immutable marker)


def approvals_field(fields_by_id: Mapping[str, Mapping[str, Any]]) -> Optional[str]:
    """The id of the site's Approvals field (`GET field`, by its schema's custom type), or None when it has none."""
    for field_id, meta in fields_by_id.items():
        if isinstance(meta, Mapping) and (meta.get("schema") or {}).get("custom") == APPROVALS_TYPE:
            return str(field_id)
    return None


def approvals_in_field(value: Any, issue_id: str, key: str) -> Optional[List[Mapping[str, Any]]]:
    """The request's approvals as its Approvals field holds them, when the value is recognisably what
    `GET request/{key}/approval` lists (a non-empty list of approvals, each with its id, `finalDecision`, `approvers`
    and a `_links.self` that is this very request's approval URL); else None (the endpoint is asked: a value of
    another form, or of another request, is never taken on a guess)."""
    if not isinstance(value, list) or not value:
        return None
    approvals: List[Mapping[str, Any]] = []
    for item in value:
        if not isinstance(item, Mapping) or not isinstance(item.get("approvers"), list):
            return None
        approval_id, decision = item.get("id"), item.get("finalDecision")
        link = (item.get("_links") or {}).get("self") if isinstance(item.get("_links"), Mapping) else None
        if approval_id in (None, "") or not isinstance(decision, str) or not isinstance(link, str):
            return None
        if not any(link.endswith(f"/request/{who}/approval/{approval_id}") for who in (issue_id, key) if who):
            return None
        approvals.append(item)
    return approvals


def may_have_approvals(issue_fields: Any, field_id: Optional[str]) -> bool:
    """Whether `GET request/{key}/approval` must be called for an issue of the search: False only when the Approvals
    field is there and explicitly empty (`null` or `[]`); no field on the site, the field absent from the issue's
    `fields`, or a value of another shape (non-empty, or not a list) → call, as if nothing were known."""
    if field_id is None or not isinstance(issue_fields, Mapping) or field_id not in issue_fields:
        return True
    value = issue_fields[field_id]
    return not (value is None or (isinstance(value, list) and not value))


@dataclass
class _Entry:
    waiting: Set[str]  # streams that have not taken it yet
    took: Set[str] = field(default_factory=set)  # streams that have
    ready: threading.Event = field(default_factory=threading.Event)
    value: Any = None
    failed: bool = False
    weight: int = 0


class SharedRequests:
    """What the per-request JSM streams of one read share: each request-list page and each `request/{key}` answer is
    fetched once (single flight), with every expand the selected streams need, and kept until every other selected
    stream has taken it (or finished its read: `finished`). At most HELD_MAX requests are kept; past that an answer
    is handed to the streams already waiting for it only, and the others fetch their own (correct, a few more calls)."""

    def __init__(self, selected: Iterable[str]) -> None:
        self.views: Set[str] = {v for v in selected if v in VIEWS}  # every one asks for the changed issues
        self.expanding: Set[str] = {v for v in self.views if VIEWS[v][0]}  # these ask for the requests too
        self.expand = ",".join(sorted({part for v in self.expanding for part in VIEWS[v][0].split(",")}))
        self._lock = threading.Lock()
        self._entries: Dict[Any, _Entry] = {}
        self._held = 0
        self._taken: Dict[Any, Set[str]] = {}  # keys of answers not kept (the bound): the streams that had them
        self._field_lock = threading.Lock()
        self._field_loaded = False
        self._approvals_field: Optional[str] = None
        self._agent: Dict[str, bool] = {}  # desk id -> the account is an agent of it (request_approvals)

    def approvals_field(self, load: Any) -> Optional[str]:
        """The Approvals field id for this read's changed-issues search, when `request_approvals` is selected (else
        None: the search asks for `updated` only). Loaded once per read (`load()`: the site's fields by id)."""
        if APPROVALS_VIEW not in self.views:
            return None
        with self._field_lock:
            if not self._field_loaded:
                self._approvals_field = approvals_field(load())
                self._field_loaded = True
            return self._approvals_field

    def agent_of(self, desk_id: str, probe: Any) -> bool:
        """Whether the account is an agent of the desk, asked (`probe()`) once per desk and read."""
        with self._field_lock:
            if desk_id not in self._agent:
                self._agent[desk_id] = bool(probe())
            return self._agent[desk_id]

    def get(self, key: Any, view: str, fetch: Any, weight: int = 1, requests: bool = True) -> Any:
        """The answer for `key`, fetched by the first stream that asks. `requests`: an answer with requests (asked by
        the streams that expand), else the changed issues (asked by every stream)."""
        with self._lock:
            entry = self._entries.get(key)
            owner = entry is None
            if owner:
                had = self._taken.pop(key, set()) | {view}
                entry = self._entries[key] = _Entry(waiting=set(self.expanding if requests else self.views) - had, took=had)
            else:
                entry.waiting.discard(view)
                entry.took.add(view)
        if owner:
            try:
                entry.value = fetch()
            except BaseException:
                entry.failed = True
                raise
            finally:
                with self._lock:
                    if entry.failed or not entry.waiting or self._held + weight > HELD_MAX:
                        if self._entries.get(key) is entry:
                            del self._entries[key]
                        if entry.waiting and not entry.failed:  # not kept: the streams still to come fetch their own
                            self._taken[key] = entry.took
                    else:
                        entry.weight = weight
                        self._held += weight
                entry.ready.set()
            return entry.value
        entry.ready.wait()
        if entry.failed:  # the owner's request failed (and failed its stream): try on our own
            return fetch()
        with self._lock:
            self._drop_if_taken(key, entry)
        return entry.value

    def finished(self, view: str) -> None:
        """`view` will ask for nothing more in this read: what only it still waited for is dropped."""
        with self._lock:
            for key, entry in list(self._entries.items()):
                entry.waiting.discard(view)
                self._drop_if_taken(key, entry)
            for key, had in list(self._taken.items()):
                had.add(view)
                if had >= self.views:
                    del self._taken[key]

    def _drop_if_taken(self, key: Any, entry: _Entry) -> None:
        if not entry.waiting and entry.ready.is_set() and self._entries.get(key) is entry:
            del self._entries[key]
            self._held -= entry.weight


def jsm_pages(requester: HttpRequester, path: str, params: Optional[Mapping[str, Any]] = None) -> Iterator[Mapping[str, Any]]:
    """Every page of a servicedeskapi list (`start`/`limit`, `isLastPage`). A skipped answer (the requester's
    handler: 404/403) ends the list with nothing."""
    progress = PageProgress(f"GET {path}")
    start = 0
    while True:
        page = send_optional(requester, path, params={**(params or {}), "start": start, "limit": PAGE})
        if page is None:
            return
        require_list(page, "values", None)
        yield page
        size = len(page["values"])
        if page.get("isLastPage", True) or size == 0:
            return
        start = int(page.get("start") or start) + size
        progress.advance(start)


@dataclass
class ServiceRequestRetriever(CursorOwnedRetriever):
    """The stream's ConcurrentCursor holds the state (slices, observed values, state messages): none kept here."""

    config: Config
    parameters: InitVar[Mapping[str, Any]]
    requester: HttpRequester  # the issue search (POST)
    desk_requester: HttpRequester  # GET servicedesk: 404/403 skip the stream with one WARN
    request_requester: HttpRequester  # per-request GETs: a request gone meanwhile (404) is skipped
    get_requester: Optional[HttpRequester] = None  # GET field (platform API): the Approvals field's id
    agent_requester: Optional[HttpRequester] = None  # GET servicedesk/{id}/queue: is the account an agent of the desk
    cursor: Any = None
    name: str = ""

    _holder: Any = None
    _own: Optional[SharedRequests] = None

    def _session(self) -> Any:
        if self._holder is None:
            return None
        try:
            return self._holder.current()
        except Exception:  # no live session (another runtime): this stream shares with no other
            return None

    def bind_session_holder(self, holder: Any) -> None:
        """SourceJira binds its issue-family session holder to every component that asks (source_jira/cdk_adapter.py):
        the read's session is where the selected JSM streams find their SharedRequests."""
        self._holder = holder

    def _shared(self) -> SharedRequests:
        session = self._session()
        attributes = getattr(session, "__dict__", None)
        if attributes is None:
            if self._own is None:
                self._own = SharedRequests([self.name])
            return self._own
        selected = getattr(session, "selected", None) or [self.name]
        return attributes.setdefault(SHARED_ATTRIBUTE, SharedRequests(selected))

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self._parameters = parameters or {}
        self.name = self.name or self._parameters.get("name", "")
        self.view = str(self._parameters.get("view") or self.name)
        self.expand, self.embedded, self.child = VIEWS[self.view]
        self.search = search_for(self.config)
        self.lists = deployment_of(self.config) != DATACENTER and bool(self.expand)

    def _fields_by_id(self) -> Mapping[str, Mapping[str, Any]]:
        """The site's fields (`GET field`, platform API): the issue family's list of this read when there is one (one
        request per read, shared with `issues`), else one request of this stream's own."""
        session = self._session()
        if session is not None and callable(getattr(session, "field_names", None)):
            return session.field_names(self.get_requester)
        return {f["id"]: f for f in send_json(self.get_requester, "field", expect_list=True) if isinstance(f, Mapping) and f.get("id")}

    def _bounds(self, stream_slice: Optional[StreamSlice]) -> Tuple[int, Optional[int]]:
        """The search's `updated >= lower` (floored to the minute) of the CDK's slice; no upper bound: the state is the
        newest `updated` handled, so an issue changed after the search is read by the next sync. A full refresh
        (no cursor bounds) reads everything."""
        bounds = stream_slice.cursor_slice if stream_slice is not None else {}
        lower = int(bounds[START_KEY]) if str(bounds.get(START_KEY, "")).lstrip("-").isdigit() else 0
        return floor_minute(max(0, lower)), None

    def _visited(self, updated: int, stream_slice: Optional[StreamSlice]) -> None:
        """A request fully handled, with or without records: the cursor may move to its issue's `updated`."""
        observe = getattr(self.cursor, "observe", None)
        if callable(observe) and stream_slice is not None:
            observe(Record(data={"issueUpdated": str(updated)}, stream_name=self.name, associated_slice=stream_slice))

    # --- reading -------------------------------------------------------------------------------------------------
    def read_records(self, records_schema: Mapping[str, Any], stream_slice: Optional[StreamSlice] = None) -> Iterable[Any]:
        shared = self._shared()
        try:
            yield from self._read(shared, stream_slice)
        finally:
            shared.finished(self.name)

    def _read(self, shared: SharedRequests, stream_slice: Optional[StreamSlice]) -> Iterable[Any]:
        desks = self._desks(shared)
        if not desks:
            return
        changed = self._changed(shared, desks, *self._bounds(stream_slice))
        for desk in desks:
            wanted = changed.get(str(desk.get("projectKey")), {})
            if not wanted:
                continue
            for (key, request), rows in self._in_order(self._work(shared, desk, wanted)):
                issue_id, updated, _ = wanted[key]
                base = {"issueId": str(issue_id), "issueKey": key, "issueUpdated": str(updated),
                        "serviceDeskId": str(desk.get("id"))}
                if rows is NOT_A_REQUEST:  # read by key: not a request (any more), or not visible: nothing to hand
                    continue
                if rows is None:  # no call of its own: approvals, from the field (none, or its list); else the request's rows
                    rows = self._field_approvals(wanted[key][2]) if self.view == APPROVALS_VIEW else self._rows(key, request)
                for row in rows:
                    yield Record(data={**row, **base}, stream_name=self.name, associated_slice=stream_slice)
                self._visited(updated, stream_slice)

    def _work(self, shared: SharedRequests, desk: Mapping[str, Any], wanted: Mapping[str, Wanted]
              ) -> Iterator[Tuple[Tuple[str, Optional[Mapping[str, Any]]], Optional[Any]]]:
        """((key, request), a call of its own or None) per wanted request: `request_approvals` calls the approval
        list of each request that may have approvals, the other streams a request the list did not show (both run
        concurrently by `_in_order`); else the rows come with the request of the list page."""
        for key, request in self._requests(shared, desk, wanted):
            if callable(request):  # not in a list page (Data Center lists none): read by key, its rows with it
                yield (key, None), functools.partial(self._rows_by_key, key, request)
                continue
            known = wanted[key][2]
            call = self.view == APPROVALS_VIEW and (known is True or (isinstance(known, bytes) and not self._agent_of(shared, desk)))
            yield (key, request), functools.partial(self._rows, key, request) if call else None

    def _in_order(self, work: Iterable[Tuple[Any, Optional[Any]]]) -> Iterator[Tuple[Any, Any]]:
        """(item, its call's answer or None), in `work`'s order; the calls run on the read's per-issue threads (the
        request budget has them give way to paging streams), or here, one after another, outside a sync session."""
        session = self._session()
        if session is not None and callable(getattr(session, "per_issue_in_order", None)):
            yield from session.per_issue_in_order(work, (-1,))
            return
        for item, call in work:
            yield item, None if call is None else call()

    def _desks(self, shared: "SharedRequests") -> List[Mapping[str, Any]]:
        """The service desks of the config's projects, listed once per read for every selected stream."""
        projects = {str(p).strip() for p in (self.config.get("projects") or []) if str(p).strip()}

        def listing() -> Tuple[str, Optional[List[Mapping[str, Any]]]]:
            pages = list(jsm_pages(self.desk_requester, "servicedesk"))  # none: skipped (JSM absent or not visible)
            return self.name, [d for page in pages for d in page["values"] if isinstance(d, Mapping)] if pages else None
        asked_by, desks = shared.get(("desks",), self.name, listing, weight=1, requests=False)
        if desks is None and asked_by != self.name:  # skipped: each stream asks on its own, and its handler says why
            asked_by, desks = listing()
        return [d for d in desks or [] if not projects or d.get("projectKey") in projects]

    def _changed(self, shared: "SharedRequests", desks: List[Mapping[str, Any]], lower: int,
                 upper: Optional[int]) -> Dict[str, Dict[str, Wanted]]:
        """`{project key: {issue key: (issue id, updated ms, approvals)}}` (Wanted) of the desks' issues changed in the
        window. With `request_approvals` selected the search also asks for the Approvals field (every stream of the
        read asks for the same fields, so one search serves them all)."""
        keys = sorted({str(d.get("projectKey")) for d in desks if d.get("projectKey")})
        clauses = base_clauses(self.config) + ["project in (" + ", ".join(jql_quote(k) for k in keys) + ")"]
        clauses += lower_bound_clauses(lower, bounded=True)
        if upper is not None:
            clauses.append(f"updated < {int(upper)}")
        jql = " AND ".join(clauses)
        field_id = shared.approvals_field(self._fields_by_id)
        fields = ["updated"] + ([field_id] if field_id else [])

        def scan() -> Dict[str, Dict[str, Wanted]]:
            found: Dict[str, Dict[str, Wanted]] = {}
            held = 0  # bytes of the fields' approvals kept (APPROVALS_HELD_BYTES: a huge first sync asks the rest)
            where = f"POST {self.search.path} (Jira Service Management: the service desks' changed issues)"
            for issue in self.search.scan(self.requester, jql, fields, where):
                key = str(issue.get("key") or "")
                issue_fields = issue.get("fields") or {}
                updated = jira_ms(issue_fields.get("updated"))
                if key and updated is not None:
                    issue_id = str(issue.get("id"))
                    approvals: Any = may_have_approvals(issue.get("fields"), field_id)
                    if approvals and field_id:  # the field's own list, when it is the endpoint's: no call
                        listed = approvals_in_field(issue_fields.get(field_id), issue_id, key)
                        packed = json.dumps(listed, separators=(",", ":")).encode() if listed and held < APPROVALS_HELD_BYTES else None
                        held += len(packed or b"")
                        approvals = packed or True
                    found.setdefault(key.rsplit("-", 1)[0], {})[key] = (issue_id, updated, approvals)
            return found

        # streams whose states agree (a first sync, or states moved together) share one search
        return shared.get(("changed", jql, tuple(fields)), self.name, scan, weight=1, requests=False)

    def _requests(self, shared: SharedRequests, desk: Mapping[str, Any],
                  wanted: Mapping[str, Wanted]) -> Iterator[Tuple[str, Optional[Mapping[str, Any]]]]:
        """(issue key, the request with the expands the selected streams need — or, for a request the list did not
        show, a call that reads it by key —, or None for approvals) of every wanted request of the desk."""
        missing: Set[str] = set(wanted)
        if not self.expand:  # approvals: nothing to expand, a request of its own per request
            for key in sorted(missing, key=lambda k: wanted[k][1]):
                yield key, None
            return
        expand = shared.expand if self.name in shared.expanding else self.expand
        if self.lists:
            desk_id = str(desk.get("id"))
            params = {"serviceDeskId": desk_id, "requestStatus": "ALL_REQUESTS", "expand": expand}
            progress = PageProgress("GET request")
            start, pages = 0, 0
            # another page only while it costs less than reading the still-missing requests by key: an issue of the
            # desk's project that is no request (or one the list does not show) never makes the whole list be read
            while len(missing) > pages:
                pages += 1
                page = shared.get(("page", desk_id, expand, start), self.name,
                                  lambda at=start: send_optional(self.request_requester, "request", params={**params, "start": at, "limit": PAGE}),
                                  weight=PAGE)
                if page is None:
                    break
                require_list(page, "values", None)
                for request in page["values"]:
                    key = str(request.get("issueKey") or "") if isinstance(request, Mapping) else ""
                    if key in missing:
                        missing.discard(key)
                        yield key, request
                size = len(page["values"])
                if page.get("isLastPage", True) or size == 0:
                    break
                start = int(page.get("start") or start) + size
                progress.advance(start)
        for key in sorted(missing, key=lambda k: wanted[k][1]):  # read by key, on the per-issue threads (_work)
            yield key, functools.partial(self._by_key, shared, key, expand)

    def _by_key(self, shared: SharedRequests, key: str, expand: str) -> Optional[Mapping[str, Any]]:
        """`GET request/{key}?expand=…`, once per read for every selected stream; None: not a request (any more), or
        not visible to this account (404)."""
        request = shared.get(("request", key, expand), self.name,
                             lambda: send_optional(self.request_requester, f"request/{key}", params={"expand": expand}))
        return request if isinstance(request, Mapping) else None

    def _agent_of(self, shared: SharedRequests, desk: Mapping[str, Any]) -> bool:
        """Whether the account is an agent of the desk (who sees every request of it), asked once per desk and read
        when its Approvals field is to stand for the approval endpoint: only an agent may list the desk's queues. A
        customer sees only some requests (the others' endpoint answers 404), so its approvals are asked one by one."""
        desk_id = str(desk.get("id") or "")
        if not desk_id or self.agent_requester is None:
            return False

        def probe() -> bool:
            answer = send_optional(self.agent_requester, f"servicedesk/{desk_id}/queue", params={"start": 0, "limit": 1})
            return isinstance(answer, Mapping) and isinstance(answer.get("values"), list)
        return shared.agent_of(desk_id, probe)

    @staticmethod
    def _field_approvals(known: Any) -> List[Mapping[str, Any]]:
        """A request's approvals known from the search's Approvals field: its list (bytes: compact JSON), or none
        (False: the field is empty)."""
        return list(json.loads(known)) if isinstance(known, bytes) else []

    def _rows_by_key(self, key: str, load: Any) -> Any:
        request = load()
        return NOT_A_REQUEST if request is None else self._rows(key, request)

    def _rows(self, key: str, request: Optional[Mapping[str, Any]]) -> List[Mapping[str, Any]]:
        if self.view == "requests":
            return [{k: v for k, v in (request or {}).items() if k not in EMBEDDED_KEYS}]
        embedded = (request or {}).get(self.embedded) if self.embedded else None
        if isinstance(embedded, Mapping) and isinstance(embedded.get("values"), list) and embedded.get("isLastPage", True):
            entries = embedded["values"]
        else:  # not embedded (approvals), or only its first part: the request's own list
            entries = [e for page in jsm_pages(self.request_requester, f"request/{key}/{self.child}") for e in page["values"]]
        rows = [dict(e) for e in entries if isinstance(e, Mapping)]
        if self.view == "request_status_history":
            for row in rows:
                row["statusDateMillis"] = ((row.get("statusDate") or {}).get("epochMillis"))
        return rows
