"""Per-issue child streams (`issue_watchers`, `issue_votes`, `issue_remote_links`, `issue_properties`,
`issue_transitions`), configured in the manifest (`issue_path`, `issue_query`, `records_path`, `entries_as`,
`require_field`, `detail_path`). Python because the issues of a window come from one search shared by
these streams, each asks per issue only what that search did not already tell, and each record carries its issue's
`updated` (`issueUpdated`, the cursor).

* One search per window for all selected per-issue streams (`search/jql` on Cloud, `search` on Data Center): each
  issue's id, `updated`, `watches.watchCount` and `votes.votes`, and with `expand=transitions` (when
  `issue_transitions` is selected) its transitions. Whichever stream asks for a page first fetches it for the others
  (session.read_shared). When a search view (`issues`, ...) is selected too, on a read without saved state, there
  is no such search: these streams read its pages, which carry every field and then expand `transitions` as well
  (search.joint_views).
* `issue_transitions` needs no request of its own: its records are the page's transitions. `issue_watchers` and
  `issue_votes` ask `issue/{id}/watchers` or `issue/{id}/votes` only for an issue whose count (COUNTS) is not 0.
  `issue_remote_links` asks every issue (nothing on the page tells). `issue_properties` asks one `GET issue/{id}
  ?properties=*all` per issue on Cloud; on Data Center (whose documentation does not promise `*all`) the keys, then
  each property.
* The requests of a window run concurrently on the session's per-issue threads (`num_workers` of them for the whole
  read: SyncSession.per_issue_threads), at most session.PER_ISSUE_QUEUED queued per window; records come out in the
  window's issue order as each issue's answer arrives, and the issue is then marked handled (`visited`: the state rule needs it).

An issue deleted between the search and its request answers 404: the manifest's per-issue requester skips that
answer (`definitions.issue_family.per_issue_requester`), and a skipped answer has no records here."""

from __future__ import annotations

import functools
import logging
import threading
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Callable, Dict, Iterable, Iterator, List, Mapping, Optional, Tuple
from urllib.parse import parse_qsl

import dpath
from airbyte_cdk.sources.types import StreamSlice

from source_jira.components.http import send_json, send_optional, token_pages
from source_jira.components.issue_family.jql import window_jql
from source_jira.components.issue_family.records import COUNTS, ON_PAGE, per_issue_part
from source_jira.components.issue_family.retriever import WindowedRetriever
from source_jira.components.issue_family.search import joint_views, search_body
from source_jira.components.issue_family.session import PER_ISSUE_VIEWS
from source_jira.components.issue_family.windows import Window

LOGGER = logging.getLogger("airbyte")
PAGE_FIELDS = ("updated", "watches", "votes")  # what the per-issue streams' own search page asks of every issue
# Cloud: a user's watched / voted issues are one id-only search (`watcher = "accountId"`, `voter = ...`, Atlassian's
# JQL fields), so a read with many issues and few users asks per user instead of per issue (ByUser below).
BY_USER = MappingProxyType({"issue_watchers": "watcher", "issue_votes": "voter"})
# Accounts not searched for: JSM customers have no Jira product access (they follow requests as participants, not as
# watchers), and an app's account does not vote. A watcher or voter of such a type still comes: its issue's count then
# differs from what the searches found, and that issue is asked on its own.
NOT_SEARCHED = MappingProxyType({"watcher": frozenset({"customer"}), "voter": frozenset({"customer", "app"})})
USER_FIELDS = ("self", "accountId", "accountType", "emailAddress", "displayName", "active", "timeZone", "avatarUrls")
USERS_PAGE = 1000  # asked of `users/search` (Jira may answer short pages: only an empty page ends the list)
BY_USER_FROM = 100  # issues in the read from which the users are listed at all (a smaller read asks per issue)
BY_USER_UP_TO = 100_000  # issues in the read up to which the per-user map is held (memory: ~20 MB at most)


@dataclass
class IssueChildRetriever(WindowedRetriever):
    issue_path: str = ""  # per issue, e.g. `issue/{issue_id}/votes` (none: the records come on the search page)
    issue_query: str = ""  # query string of that request, e.g. `fields=updated&properties=*all`
    records_path: Optional[List[str]] = None  # where the list is in the answer (none: the answer is the list)
    entries_as: str = ""  # `key_value`: the answer at records_path is `{key: value}`, one record `{key, value}` each
    require_field: str = ""  # keep only entries that carry this field (e.g. `accountId`: users Jira can name)
    detail_path: str = ""  # each listed entry's own answer is the record (e.g. `issue/{issue_id}/properties/{key}`)

    def read_records(self, records_schema: Mapping[str, Any], stream_slice: Optional[StreamSlice] = None) -> Iterable[Any]:
        window = Window.of(stream_slice)
        jql = window_jql(self.config, window.query_lower, window.query_upper, order=self.search.order)

        def work() -> Iterator[Tuple[Dict[str, Any], Optional[Callable[[], List[Mapping[str, Any]]]]]]:
            by_user: Optional[Dict[str, List[Mapping[str, Any]]]] = None
            for number, items in enumerate(self._pages(jql)):
                if number == 0 and self.name in BY_USER and not self.search.changelogs_in_pages:  # Cloud
                    by_user = self._by_user(window)
                for item in items:
                    yield item, self._call(item, by_user)

        for item, answer in self.session.per_issue_in_order(work(), (window.start, window.first)):  # oldest window first
            children = answer if answer is not None else item.get("records") or []
            for data in children:
                yield self._record({**data, "issueId": item["issueId"], "issueUpdated": item["issueUpdated"]}, stream_slice)
            self.windows.visited(item["issueUpdated"], stream_slice)  # then the issue counts as handled

    def _call(self, item: Dict[str, Any], by_user: Optional[Dict[str, List[Mapping[str, Any]]]] = None
              ) -> Optional[Callable[[], List[Mapping[str, Any]]]]:
        """The issue's request(s) to run on the session's per-issue threads; None when the page told enough: its
        records are on the page, its count is 0, or the per-user searches found exactly as many users as it says (a
        count the page did not give is no zero, and a count the searches do not match is asked of the issue)."""
        if self.name in ON_PAGE or (self.name in COUNTS and item.get("count") == 0):
            return None
        if by_user is not None and item.get("count") is not None and len(by_user.get(item["issueId"], ())) == item["count"]:
            item["records"] = by_user[item["issueId"]]
            return None
        return functools.partial(self._children, item["issueId"])

    # --- the window's search page, shared by the selected per-issue streams ---------------------------------------
    def _pages(self, jql: str) -> Iterator[List[Mapping[str, Any]]]:
        views = joint_views(self.session, self.search)
        if self.name in views and self.name in self.session.selected:  # the search views' pages carry what we need
            others = self.session.consumers(views, self.name)
            body = search_body(self.session, self.search, self.config, self.name, jql)
            chain = self.session.chain(("search", jql), lambda: self.search.chain(self.requester, body))
            yield from self.session.read_shared(("search", jql), self.name, others, chain.fetch, per_issue_part,
                                                f"POST {self.search.path}", kin=set(PER_ISSUE_VIEWS), light=PER_ISSUE_VIEWS)
            return
        others = self.session.consumers(PER_ISSUE_VIEWS, self.name)
        expand = sorted({ON_PAGE[view] for view in ON_PAGE if view in self.session.selected | {self.name}})
        body = self.search.body(jql, list(PAGE_FIELDS), self.search.issue_page, expand)  # the same for every stream of the read
        where = f"POST {self.search.path} (per-issue streams)"
        if not others:
            for page in self.search.pages(self.requester, body, where):
                yield per_issue_part(page, self.name)
            return
        chain = self.session.chain(("per_issue", jql), lambda: self.search.chain(self.requester, body))
        yield from self.session.read_shared(("per_issue", jql), self.name, others, chain.fetch, per_issue_part, where,
                                            light=PER_ISSUE_VIEWS)

    # --- one issue's own requests ---------------------------------------------------------------------------------
    def _children(self, issue_id: str) -> List[Mapping[str, Any]]:
        requester = self.get_requester or self.requester
        params = dict(parse_qsl(self.issue_query)) if self.issue_query else None
        answer = send_optional(requester, self.issue_path.format(issue_id=issue_id), params=params)
        found = dpath.get(answer, list(self.records_path), default=None) if self.records_path and isinstance(answer, Mapping) else answer
        if self.entries_as == "key_value":
            found = [{"key": key, "value": value} for key, value in found.items()] if isinstance(found, Mapping) else []
        entries = [e for e in found or [] if isinstance(e, Mapping) and (not self.require_field or e.get(self.require_field))]
        if not self.detail_path:
            return entries
        details = (send_optional(requester, self.detail_path.format(issue_id=issue_id, **entry)) for entry in entries)
        return [detail for detail in details if isinstance(detail, Mapping)]

    # --- Cloud: the watchers / voters of the read's issues, one search per user ------------------------------------
    def _by_user(self, window: Window) -> Optional[Dict[str, List[Mapping[str, Any]]]]:
        """`{issue id: [user]}` of the read's range (once per read, whichever window asks first), or None when asking
        per user would not cost fewer requests than asking per issue."""
        scope = window_jql(self.config, window.index_lower, window.index_upper, order="")
        index = self.session.index(self.requester, self.config, window.index_lower, window.index_upper, self.with_times)
        holder = self.session.chain(("by_user", self.name, scope), lambda: ByUser(BY_USER[self.name], scope, len(index.ids)))
        return holder.load(self)


class UserListing:
    """The site's users (`users/search`), listed once per read for both per-user shortcuts (watchers and voters). The
    listing stops early once the users who can watch (all but JSM customers) are at least half the read's issues:
    no shortcut would then be cheaper than asking per issue (`complete` is then False)."""

    def __init__(self, issues: int) -> None:
        self.issues = issues
        self._lock = threading.Lock()
        self._loaded: Optional[Tuple[List[Mapping[str, Any]], bool]] = None

    def load(self, requester: Any) -> Tuple[List[Mapping[str, Any]], bool]:
        with self._lock:
            if self._loaded is None:
                self._loaded = self._list(requester)
            return self._loaded

    def _list(self, requester: Any) -> Tuple[List[Mapping[str, Any]], bool]:
        users: List[Mapping[str, Any]] = []
        start = 0
        while True:
            page = send_json(requester, "users/search", params={"startAt": start, "maxResults": USERS_PAGE}, expect_list=True)
            start += len(page)
            users += [u for u in page if isinstance(u, Mapping) and u.get("accountId")]
            if not page:
                return users, True
            if sum(1 for u in users if u.get("accountType") not in NOT_SEARCHED["watcher"]) * 2 >= self.issues:
                return users, False


class ByUser:
    """One read's `{issue id: [user]}` for `watcher` or `voter`: every user of the site (UserListing), then one
    id-only search per user who can be one (NOT_SEARCHED) (`watcher = "accountId" AND <the read's range>`, 5,000 ids a page), the searches run on
    the session's per-issue threads. Used only when the users are fewer than half the read's issues (and the read has
    between BY_USER_FROM and BY_USER_UP_TO issues: the map is held for the whole read); an issue whose
    count on its search page differs from what these searches found is asked on its own (IssueChildRetriever._call),
    so a user the listing misses, or a change between the two, costs a request, never a record."""

    def __init__(self, field: str, scope: str, issues: int) -> None:
        self.field, self.scope, self.issues = field, scope, issues
        self._lock = threading.Lock()
        self._loaded = False
        self._found: Optional[Dict[str, List[Mapping[str, Any]]]] = None

    def load(self, retriever: IssueChildRetriever) -> Optional[Dict[str, List[Mapping[str, Any]]]]:
        with self._lock:
            if not self._loaded:
                try:
                    self._found = self._read(retriever) if BY_USER_FROM <= self.issues <= BY_USER_UP_TO else None
                except Exception as error:  # a shortcut only: the issues are asked one by one instead
                    LOGGER.warning(f"{retriever.name}: the per-user searches ({self.field} = user) failed ({error}); "
                                   "each issue with a non-zero count is asked on its own instead.")
                    self._found = None
                self._loaded = True
            return self._found

    def _read(self, retriever: IssueChildRetriever) -> Optional[Dict[str, List[Mapping[str, Any]]]]:
        skipped = NOT_SEARCHED.get(self.field, frozenset())
        listing = retriever.session.chain(("users", self.issues), lambda: UserListing(self.issues))
        every, complete = listing.load(retriever.get_requester or retriever.requester)
        users = [u for u in every if u.get("accountType") not in skipped]
        if not complete or len(users) * 2 >= self.issues:
            return None  # as many requests as asking per issue, or more
        searches = [(user, retriever.session.per_issue(self._issues_of, retriever, user["accountId"])) for user in users]
        found: Dict[str, List[Mapping[str, Any]]] = {}
        for user, search in searches:
            record = {k: user[k] for k in USER_FIELDS if k in user}  # one object per user, shared by its issues
            for issue_id in search.result():
                found.setdefault(issue_id, []).append(record)
        return found

    def _issues_of(self, retriever: IssueChildRetriever, account_id: str) -> List[str]:
        jql = f'{self.field} = "{account_id}" AND {self.scope}'
        body = retriever.search.body(jql, ["id"], retriever.search.id_page)
        where = f"POST {retriever.search.path} ({self.field} = one user)"
        return [str(issue["id"]) for page in token_pages(retriever.requester, retriever.search.path, body, "issues", where)
                for issue in page["issues"]]

