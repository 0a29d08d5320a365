"""`issues`, `issue_comments`, `issue_attachments` and `pull_requests`: views of the same search pages (`search/jql` on
Cloud, `search` on Data Center, where `issue_changelogs` and `issue_field_history` read them too). Python because a
page is fetched once per sync for every selected view (whichever view asks first fetches it and leaves the others
their compact part, in the session's spool), and an incomplete comment page is completed per issue in the
background while the window goes on."""

from __future__ import annotations

from concurrent.futures import Future
import functools
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterable, Iterator, List, Mapping, Optional, Tuple

from airbyte_cdk.sources.declarative.requesters.http_requester import HttpRequester
from airbyte_cdk.sources.types import Record, StreamSlice

from source_jira.components.http import send_json, send_optional
from source_jira.components.issue_family.jql import jira_ms, window_jql
from source_jira.components.issue_family.records import (
    attachment_payload,
    comment_payload,
    custom_name_counts,
    development_field,
    field_history_rows,
    issue_record,
    per_issue_part,
    pull_request_payload,
    rfc3339,
)
from source_jira.components.issue_family.retriever import WindowedRetriever
from source_jira.components.issue_family.session import CHANGELOG_VIEWS, DATACENTER_SEARCH_VIEWS, PER_ISSUE_VIEWS, SEARCH_VIEWS
from source_jira.components.issue_family.windows import Window
from source_jira.components.pagination import PageProgress

HISTORY = "issue_field_history"
COMMENT_PAGE = 5000  # asked of `issue/{id}/comment`; Jira caps it whatever is asked (the page says how many came)


WHOLE_ISSUE_VIEWS = frozenset({"issues", "issue_comments", "issue_attachments"})  # on Data Center: every field asked


def search_views(search: Any) -> Tuple[str, ...]:
    return DATACENTER_SEARCH_VIEWS if search.changelogs_in_pages else SEARCH_VIEWS


def joint_views(session: Any, search: Any) -> Tuple[str, ...]:
    """The selected streams that read one window's search pages. The search views always; the per-issue streams
    (children.py) too when a search view is selected whose pages carry every field (always on Cloud; on Data Center
    when `issues`, `issue_comments` or `issue_attachments` is) and none of them starts from a saved state (a first
    sync, a full refresh: then all have the same windows, cut from the read's one index). `watches`, `votes` and
    `updated` are fields, and the pages then also expand `transitions` for `issue_transitions`. Otherwise the
    per-issue streams search on their own, with a light page (a stream added later, whose state lags, never reads
    whole-field pages that no other stream wants)."""
    views = search_views(search)
    selected = session.selected
    joining = (selected & set(views)) | (selected & set(PER_ISSUE_VIEWS))
    if (selected & set(views) and selected & set(PER_ISSUE_VIEWS) and not joining & session.stated
            and (not search.changelogs_in_pages or selected & WHOLE_ISSUE_VIEWS)):
        return views + PER_ISSUE_VIEWS
    return views


def search_body(session: Any, search: Any, config: Mapping[str, Any], name: str, jql: str) -> Dict[str, Any]:
    """The body of a window's search for every stream of joint_views (one chain: it is fetched once for all)."""
    selected = session.selected | {name}
    transitions = ["transitions"] if "issue_transitions" in joint_views(session, search) and "issue_transitions" in selected else []
    if not search.changelogs_in_pages:
        expand = (["renderedFields"] if config.get("render_fields") else []) + transitions
        return search.body(jql, ["*all"], search.issue_page, expand)
    expand = ["changelog"] if selected & set(CHANGELOG_VIEWS) else []
    if config.get("render_fields") and "issues" in selected:
        expand.append("renderedFields")
    fields = ["*all"] if selected & WHOLE_ISSUE_VIEWS else ["created", "updated", "project"]
    return search.body(jql, fields, search.issue_page, expand + transitions)  # whole histories weigh as much as fields


class SearchViews:
    """The views of one window's search pages, for every retriever that reads them (mixed into a WindowedRetriever):
    the search views here, and on Data Center the changelog views too (`expand=changelog` carries whole histories
    there, so `issue_changelogs` and `issue_field_history` read the same pages as `issues`), and the per-issue
    streams when they join (joint_views). Whichever view asks for a page first fetches it and makes every other
    selected view's part of it (session.read_shared)."""

    def _search_body(self, jql: str) -> Dict[str, Any]:
        return search_body(self.session, self.search, self.config, self.name, jql)

    def _payloads(self, issues: List[Mapping[str, Any]], view: str) -> Any:
        if not issues:
            return []
        requester = self.get_requester or self.requester
        if view == "issues":
            fields_by_id = self.session.field_names(requester)
            return [issue_record(issue, fields_by_id) for issue in issues]
        if view == "issue_comments":
            payloads = [comment_payload(issue) for issue in issues]
            for item in payloads:  # the rest of an incomplete comment list starts loading as soon as its page is here
                if not item["complete"]:
                    self.session.prefetch_comments(item["issueId"], self._comment_loader(item))
            return payloads
        if view == "pull_requests":
            dev_field = development_field(self.session.field_names(requester))
            return [pull_request_payload(issue, dev_field) for issue in issues]
        if view in CHANGELOG_VIEWS:
            return self._changelog_rows(issues, view)
        return [attachment_payload(issue) for issue in issues]

    def _changelog_rows(self, issues: List[Mapping[str, Any]], view: str) -> List[Dict[str, Any]]:
        """Data Center: every history entry of each issue (the embedded changelog, completed with `GET issue/{id}
        ?expand=changelog` when its `total` says entries are missing), not yet filtered by the read's lower bound
        (each reading view filters by its own window)."""
        requester = self.get_requester or self.requester
        if view == HISTORY:
            fields_by_id = self.session.field_names(requester)
            counts = custom_name_counts(fields_by_id)
        rows: List[Dict[str, Any]] = []
        for issue in issues:
            issue_id, issue_key = str(issue["id"]), issue.get("key")
            changelog = issue.get("changelog") or {}
            histories = changelog.get("histories") or []
            if isinstance(changelog.get("total"), int) and changelog["total"] > len(histories):
                whole = send_json(requester, f"issue/{issue_id}", params={"expand": "changelog", "fields": "created"})
                histories = ((whole or {}).get("changelog") or {}).get("histories") or histories
            for history in histories:
                if view != HISTORY:
                    rows.append({**history, "issueId": issue_id})
                    continue
                project = (issue.get("fields") or {}).get("project") or {}
                rows.extend(field_history_rows(history, issue_id, issue_key, {"id": str(project.get("id")), "key": project.get("key")},
                                               fields_by_id, counts))
        return rows

    def _pages(self, jql: str) -> Iterator[Any]:
        """This view's payload of each page of the window, fetching a page only if no other view has."""
        others = self.session.consumers(joint_views(self.session, self.search), self.name)
        where = f"POST {self.search.path}"
        if not others:
            for page in self.search.pages(self.requester, self._search_body(jql), where):
                yield self._payloads(page["issues"], self.name)
            return

        def part(page: Mapping[str, Any], view: str) -> Any:
            return per_issue_part(page, view) if view in PER_ISSUE_VIEWS else self._payloads(page["issues"], view)

        chain = self.session.chain(("search", jql), lambda: self.search.chain(self.requester, self._search_body(jql)))
        yield from self.session.read_shared(("search", jql), self.name, others, chain.fetch, part, where, light=PER_ISSUE_VIEWS)

    def _comment_loader(self, item: Mapping[str, Any]) -> Any:
        return lambda: list(self._all_comments(item["issueId"], item["comments"]))

    def _all_comments(self, issue_id: str, embedded: List[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
        """The embedded page, then the per-issue comment pages from where it stopped — only for an issue whose
        embedded page is incomplete. Jira caps the page size whatever we ask: the next offset is startAt + what came."""
        requester = self.get_requester or self.requester
        seen = set()
        for comment in embedded:
            seen.add(str(comment.get("id")))
            yield comment
        start = len(embedded)
        progress = PageProgress(f"GET issue/{issue_id}/comment")
        while True:
            page = send_json(requester, f"issue/{issue_id}/comment", params={"startAt": start, "maxResults": COMMENT_PAGE, "orderBy": "created"}, expect="comments")
            comments = page["comments"]
            new = 0
            for comment in comments:
                if str(comment.get("id")) not in seen:  # a comment added meanwhile can shift the pages by one
                    seen.add(str(comment.get("id")))
                    new += 1
                    yield comment
            if comments and not new:  # a whole page of comments already read: the server ignores startAt
                progress.stalled(f"Jira answered startAt={start} with comments already read")
            start += len(comments)
            total = page.get("total")
            if not comments or (total is not None and start >= total) or page.get("isLast") is True:
                return


@dataclass
class IssueSearchRetriever(SearchViews, WindowedRetriever):
    dev_requester: Optional[HttpRequester] = None  # pull_requests: GET rest/dev-status/latest/issue/detail

    reads_search_pages = True

    def _filters_children(self) -> bool:
        return self.name in ("issue_comments", "issue_attachments")  # filtered by their own time

    def _plan(self, coarse: List[Tuple[int, int]]) -> List[Window]:
        if self.name in ("issues", "pull_requests"):  # `/field` loads while the id scan runs, not after page one
            self.session.background(self.session.field_names, self.get_requester or self.requester)
        return super()._plan(coarse)

    def read_records(self, records_schema: Mapping[str, Any], stream_slice: Optional[StreamSlice] = None) -> Iterable[Any]:
        window = Window.of(stream_slice)
        jql = window_jql(self.config, window.query_lower, window.query_upper, order=self.search.order)
        if self.name == "pull_requests":  # an issue's dev-status requests run on the per-issue threads
            work = ((item, self._pull_request_call(item)) for payload in self._pages(jql) for item in payload)
            for item, found in self.session.per_issue_in_order(work, (window.start, window.first)):
                for pull_request in found or []:
                    yield self._record(pull_request, stream_slice)
                self.windows.visited(rfc3339(item.get("updated")), stream_slice)
            self.windows.window_done(stream_slice)
            return
        incomplete: List[Tuple[Mapping[str, Any], "Future[Any]"]] = []
        for payload in self._pages(jql):
            for item in payload:
                if self.name == "issues":
                    yield self._record(item, stream_slice)
                elif self.name == "issue_comments":
                    if not item["complete"]:  # its other comment pages load in the background while the window goes on
                        incomplete.append((item, self.session.comments_of(item["issueId"], self._comment_loader(item))))
                        continue
                    yield from self._children(item, "comments", item["comments"], "updated", window, stream_slice)
                else:
                    yield from self._children(item, "attachments", item["attachments"], "created", window, stream_slice)
        for item, future in incomplete:  # same window: it closes (and the state moves past it) only after these
            yield from self._children(item, "comments", future.result(), "updated", window, stream_slice)
        self.windows.window_done(stream_slice)

    def _children(self, item: Mapping[str, Any], kind: str, children: Iterable[Mapping[str, Any]], time_field: str,
                  window: Window, stream_slice: StreamSlice) -> Iterable[Record]:
        """An issue's comments or attachments newer than the read's lower bound; then the issue counts as handled."""
        for child in children:
            if window.sync_lower <= 0 or (jira_ms(child.get(time_field)) or 0) >= window.sync_lower:
                yield self._record({**child, "issueId": item["issueId"], "issueKey": item["issueKey"]}, stream_slice)
        self.windows.visited(item.get("updated"), stream_slice)

    def _pull_request_call(self, item: Mapping[str, Any]) -> Optional[Callable[[], List[Mapping[str, Any]]]]:
        """The issue's dev-status requests, or None when its Development field says it has no pull request."""
        return None if item["apps"] == [] else functools.partial(self._pull_requests, item)

    def _pull_requests(self, item: Mapping[str, Any]) -> List[Mapping[str, Any]]:
        """The pull requests of an issue with development information: one dev-status request per application type
        (issues without any, as their Development field says, cost nothing). The dev-status API is undocumented."""
        apps = item["apps"]
        if apps is None:  # the field says there is some, but not where: ask the summary
            summary = send_optional(self.dev_requester, "issue/summary", params={"issueId": item["issueId"]}) or {}
            by_type = ((summary.get("summary") or {}).get("pullrequest") or {}).get("byInstanceType") or {}
            apps = [app for app, info in by_type.items() if isinstance(info, Mapping) and (info.get("count") or 0) > 0]
        issue_updated = rfc3339(item.get("updated"))
        found: List[Mapping[str, Any]] = []
        for app in apps:
            answer = send_optional(self.dev_requester, "issue/detail",
                                   params={"issueId": item["issueId"], "applicationType": app, "dataType": "pullrequest"}) or {}
            for detail in answer.get("detail") or []:
                for pull_request in detail.get("pullRequests") or []:
                    found.append({**pull_request, "issueId": item["issueId"], "issueKey": item["issueKey"],
                                  "issueUpdated": issue_updated, "applicationType": app})
        return found
