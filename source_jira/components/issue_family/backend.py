"""How the issue family searches Jira: Cloud's `search/jql` (keyset pages with `nextPageToken`) or Data Center's
`search` (`startAt` pages under a result window). Python because the two differ in paging, page caps and drift, and
every issue-family stream (search views, changelogs, id indexes, the worklogs' scope check) goes through one of them.

Data Center (README "Jira Data Center"):
* pages are `startAt` offsets, and a search refuses to page past its result window (10,000 issues): a range larger
  than that is read in segments, each a new search from the `created` minute the previous one reached (issues of
  that minute are read twice and kept once), never by one deep `startAt` walk;
* pages are ordered by `created` (which never changes), so an issue updated during the read does not move: its
  neighbours are not shifted past a page boundary. An issue leaving the range (updated past a window's end, or
  deleted) does shift them: the search's `total` drops, and the pass is read again from the start, keeping each
  issue once;
* `expand=changelog` carries every history entry (there is no `changelog/bulkfetch`), so changelogs come from the
  same pages as the issues.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Iterator, List, Mapping, Optional, Set, Tuple

from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.declarative.requesters.http_requester import HttpRequester
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_jira.components.config import DATACENTER, deployment_of
from source_jira.components.http import next_token, send_json, sized_json, token_pages
from source_jira.components.issue_family.jql import floor_minute, jira_ms
from source_jira.components.pagination import PageProgress

RESULT_WINDOW = 10_000  # Data Center refuses startAt + maxResults beyond this
DRIFT_PASSES = 3  # passes over a Data Center range whose `total` keeps dropping before the read fails loudly

# fetch(previous token) -> (the page, its size in bytes, the next page's token or None)
Fetched = Tuple[Any, int, Optional[str]]


class CloudSearch:
    """Jira Cloud: POST search/jql, keyset pages (`nextPageToken`); 5,000 a page when only id/key are asked."""

    deployment = "cloud"
    path = "search/jql"
    issue_page = 100  # Jira's cap on a page with fields
    id_page = 5000  # Jira's cap on an id-only page
    changelogs_in_pages = False
    order = " ORDER BY updated ASC, id ASC"

    def body(self, jql: str, fields: List[str], page_size: int, expand: Optional[List[str]] = None) -> Dict[str, Any]:
        body: Dict[str, Any] = {"jql": jql, "fields": fields, "maxResults": page_size}
        if expand:
            body["expand"] = ",".join(expand)
        return body

    def chain(self, requester: HttpRequester, body: Mapping[str, Any]) -> "Chain":
        return CloudChain(self, requester, dict(body))

    def pages(self, requester: HttpRequester, body: Mapping[str, Any], where: str) -> Iterator[Dict[str, Any]]:
        yield from token_pages(requester, self.path, body, "issues", where)

    def scan(self, requester: HttpRequester, clauses: str, fields: List[str], where: str) -> Iterator[Mapping[str, Any]]:
        """Every issue of a JQL range (clauses without ORDER BY), in id order."""
        body = self.body(clauses + " ORDER BY id ASC", fields, self.id_page if set(fields) <= {"id", "key"} else self.issue_page)
        for page in self.pages(requester, body, where):
            yield from page["issues"]

    def projects(self, requester: HttpRequester) -> Dict[str, Mapping[str, Any]]:
        """`{key: {"id", "key"}}` of every project the account sees: GET project/search, 50 a page."""
        projects: Dict[str, Mapping[str, Any]] = {}
        progress = PageProgress("GET project/search")
        start = 0
        while True:
            page = send_json(requester, "project/search", params={"startAt": start, "maxResults": 50}, expect="values")
            for project in page["values"]:
                projects[str(project.get("key"))] = {"id": str(project.get("id")), "key": project.get("key")}
            start += len(page["values"])
            if page.get("isLast", True) or not page["values"]:
                return projects
            progress.advance(start)


class DataCenterSearch(CloudSearch):
    """Jira Data Center / Server: POST search, `startAt` pages of what the server allows, under a result window."""

    deployment = DATACENTER
    path = "search"
    issue_page = 250  # asked for pages with every field (and whole histories); the server may allow fewer
    id_page = 1000  # asked for pages of a few fields; `maxResults` is capped by the site (1,000 by default)
    changelogs_in_pages = True
    order = " ORDER BY created ASC, key ASC"  # `created` never changes: an update does not move an issue

    def body(self, jql: str, fields: List[str], page_size: int, expand: Optional[List[str]] = None) -> Dict[str, Any]:
        body: Dict[str, Any] = {"jql": jql, "fields": fields, "maxResults": page_size}
        if expand:
            body["expand"] = list(expand)
        return body

    def chain(self, requester: HttpRequester, body: Mapping[str, Any]) -> "Chain":
        return OffsetChain(self, requester, dict(body))

    def pages(self, requester: HttpRequester, body: Mapping[str, Any], where: str) -> Iterator[Dict[str, Any]]:
        chain = self.chain(requester, body)
        token: Optional[str] = None
        while True:
            page, _, token = chain.fetch(token)
            yield page
            if token is None:
                return

    def scan(self, requester: HttpRequester, clauses: str, fields: List[str], where: str) -> Iterator[Mapping[str, Any]]:
        """Every issue of a JQL range, in `created` order, past the result window: each segment of up to 10,000
        issues is a new search from the `created` minute the previous one reached."""
        seen: Set[str] = set()
        floor: Optional[int] = None
        wanted = list(dict.fromkeys(list(fields) + ["created"]))
        while True:
            jql = clauses + (f" AND created >= {floor}" if floor is not None else "") + self.order
            chain = OffsetChain(self, requester, self.body(jql, wanted, self.id_page), seen=seen, segmented=True)
            token: Optional[str] = None
            last_created: Optional[int] = None
            while True:
                page, _, token = chain.fetch(token)
                for issue in page["issues"]:
                    last_created = jira_ms((issue.get("fields") or {}).get("created")) or last_created
                    yield issue
                if token is None:
                    break
            if not chain.window_full:
                return
            reached = floor_minute(last_created or 0)
            if floor is not None and reached <= floor:
                raise AirbyteTracedException(
                    message=f"{where}: more than {RESULT_WINDOW:,} issues were created within one minute "
                    f"({reached} ms); Jira Data Center cannot page past {RESULT_WINDOW:,} results of one search, and "
                    "no narrower search exists. Narrow `projects` or `issues_jql_filter`.",
                    failure_type=FailureType.system_error,
                )
            floor = reached

    def projects(self, requester: HttpRequester) -> Dict[str, Mapping[str, Any]]:
        """`{key: {"id", "key"}}` of every project the account sees: GET project (one list)."""
        answer = send_json(requester, "project", expect_list=True)
        return {str(p.get("key")): {"id": str(p.get("id")), "key": p.get("key")} for p in answer if isinstance(p, Mapping)}


class Chain:
    """The pages of one search, fetched in order: `fetch(previous token) -> (page, size, next token)`."""

    def fetch(self, token: Optional[str]) -> Fetched:
        raise NotImplementedError


@dataclass
class CloudChain(Chain):
    search: CloudSearch
    requester: HttpRequester
    body: Dict[str, Any]

    def fetch(self, token: Optional[str]) -> Fetched:
        page, size = sized_json(self.requester, self.search.path, self.body | ({"nextPageToken": token} if token else {}), expect="issues")
        return page, size, next_token(page)


@dataclass
class OffsetChain(Chain):
    """Data Center `startAt` pages of one search. Issues already returned are left out of later pages (a shift
    repeats some); when `total` drops between pages, issues may have been shifted past the offset, so the pass
    starts over and keeps each issue once. Tokens are `pass:offset`. `window_full`: the result window ended it."""

    search: CloudSearch
    requester: HttpRequester
    body: Dict[str, Any]
    seen: Set[str] = field(default_factory=set)
    segmented: bool = False  # the caller continues past the result window (`scan`); else reaching it is an error
    window_full: bool = False
    _total: Optional[int] = None
    _passes: int = 0

    def fetch(self, token: Optional[str]) -> Fetched:
        passes, start = (int(part) for part in token.split(":", 1)) if token else (0, 0)
        if passes != self._passes:  # a new pass over the search (its `total` dropped)
            self._passes, self._total = passes, None
            if passes >= DRIFT_PASSES:
                raise AirbyteTracedException(
                    message=f"POST {self.search.path}: the search's result count kept dropping while it was read "
                    f"({DRIFT_PASSES} passes): issues are being moved or deleted faster than they can be read; try again later.",
                    failure_type=FailureType.transient_error,
                )
        size = max(1, min(int(self.body.get("maxResults") or 50), RESULT_WINDOW - start))
        page, nbytes = sized_json(self.requester, self.search.path, self.body | {"startAt": start, "maxResults": size}, expect="issues")
        issues = page["issues"]
        total = page.get("total") if isinstance(page.get("total"), int) else None
        dropped = self._total is not None and total is not None and total < self._total
        if self._total is None or (total is not None and total > self._total):
            self._total = total
        fresh = []
        for issue in issues:
            issue_id = str(issue.get("id"))
            if issue_id not in self.seen:
                self.seen.add(issue_id)
                fresh.append(issue)
        page = dict(page, issues=fresh)
        reached = start + len(issues)
        if dropped:
            return page, nbytes, f"{self._passes + 1}:0"
        if not issues or (total is not None and reached >= total):
            return page, nbytes, None
        if reached >= RESULT_WINDOW:
            if not self.segmented:
                raise AirbyteTracedException(
                    message=f"POST {self.search.path}: one window of the read holds more than {RESULT_WINDOW:,} issues "
                    f"(their `updated` share a minute: a bulk edit), more than Jira Data Center pages through in one search. "
                    "Narrow `projects` or `issues_jql_filter` for this sync, or raise the site's result window.",
                    failure_type=FailureType.system_error,
                )
            self.window_full = True
            return page, nbytes, None
        return page, nbytes, f"{self._passes}:{reached}"


def search_for(config: Mapping[str, Any]) -> CloudSearch:
    """The search of the config's deployment."""
    return DataCenterSearch() if deployment_of(config) == DATACENTER else CloudSearch()
