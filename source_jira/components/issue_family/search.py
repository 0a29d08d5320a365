"""`issues`, `issue_comments`, `issue_attachments` and `pull_requests`: views of the same `search/jql` pages. Python because a
page is fetched once per sync for every selected view (whichever view asks first fetches it and leaves the others
their compact part, in the session's spool), and an incomplete comment page is completed per issue in the
background while the window goes on."""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Dict, Iterable, Iterator, List, Mapping, Optional, Tuple

from airbyte_cdk.sources.declarative.requesters.http_requester import HttpRequester
from airbyte_cdk.sources.types import Record, StreamSlice

from source_jira.components.http import next_token, send_json, send_optional, sized_json, token_pages
from source_jira.components.issue_family.index import ISSUE_PAGE, SEARCH_PATH
from source_jira.components.issue_family.jql import jira_ms, window_jql
from source_jira.components.issue_family.records import (
    attachment_payload,
    comment_payload,
    development_field,
    issue_record,
    pull_request_payload,
    rfc3339,
)
from source_jira.components.issue_family.retriever import WindowedRetriever
from source_jira.components.issue_family.session import SEARCH_VIEWS
from source_jira.components.issue_family.windows import Window
from source_jira.components.pagination import PageProgress

COMMENT_PAGE = 5000  # asked of `issue/{id}/comment`; Jira caps it whatever is asked (the page says how many came)


@dataclass
class IssueSearchRetriever(WindowedRetriever):
    dev_requester: Optional[HttpRequester] = None  # pull_requests: GET rest/dev-status/latest/issue/detail

    def _holds_state(self) -> bool:
        return self.name in ("issue_comments", "issue_attachments")  # filtered by their own time

    def _plan(self, coarse: List[Tuple[int, int]]) -> List[Window]:
        if self.name in ("issues", "pull_requests"):  # `/field` loads while the id scan runs, not after page one
            self.session.background(self.session.field_names, self.get_requester or self.requester)
        return super()._plan(coarse)

    def _search_body(self, jql: str) -> Dict[str, Any]:
        body: Dict[str, Any] = {"jql": jql, "fields": ["*all"], "maxResults": ISSUE_PAGE}
        if self.config.get("render_fields"):
            body["expand"] = "renderedFields"
        return body

    def _payloads(self, issues: List[Mapping[str, Any]], view: str) -> Any:
        if not issues:
            return []
        if view == "issues":
            fields_by_id = self.session.field_names(self.get_requester or self.requester)
            return [issue_record(issue, fields_by_id) for issue in issues]
        if view == "issue_comments":
            payloads = [comment_payload(issue) for issue in issues]
            for item in payloads:  # the rest of an incomplete comment list starts loading as soon as its page is here
                if not item["complete"]:
                    self.session.prefetch_comments(item["issueId"], self._comment_loader(item))
            return payloads
        if view == "pull_requests":
            dev_field = development_field(self.session.field_names(self.get_requester or self.requester))
            return [pull_request_payload(issue, dev_field) for issue in issues]
        return [attachment_payload(issue) for issue in issues]

    def _pages(self, jql: str) -> Iterator[Any]:
        """This view's payload of each page of the window, fetching a page only if no other view has."""
        others = self.session.consumers(SEARCH_VIEWS, self.name)
        if not others:
            for page in token_pages(self.requester, SEARCH_PATH, self._search_body(jql), "issues", f"POST {SEARCH_PATH}"):
                yield self._payloads(page["issues"], self.name)
            return

        def fetch(token: Optional[str]) -> Tuple[Any, int, Optional[str]]:
            page, size = sized_json(self.requester, SEARCH_PATH, self._search_body(jql) | ({"nextPageToken": token} if token else {}), expect="issues")
            return page, size, next_token(page)

        yield from self.session.read_shared(("search", jql), self.name, others, fetch,
                                            lambda page, view: self._payloads(page["issues"], view), f"POST {SEARCH_PATH}")

    def read_records(self, records_schema: Mapping[str, Any], stream_slice: Optional[StreamSlice] = None) -> Iterable[Any]:
        window = Window.of(stream_slice)
        jql = window_jql(self.config, window.query_lower, window.query_upper)
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
                elif self.name == "pull_requests":
                    yield from self._pull_requests(item, stream_slice)
                else:
                    yield from self._children(item, "attachments", item["attachments"], "created", window, stream_slice)
        for item, future in incomplete:  # same window: the state moves only when the window is done
            yield from self._children(item, "comments", future.result(), "updated", window, stream_slice)
        self.windows.window_done(stream_slice)

    def _children(self, item: Mapping[str, Any], kind: str, children: Iterable[Mapping[str, Any]], time_field: str,
                  window: Window, stream_slice: StreamSlice) -> Iterable[Record]:
        """An issue's comments or attachments newer than the read's lower bound; then the issue counts as handled."""
        for child in children:
            if window.sync_lower <= 0 or (jira_ms(child.get(time_field)) or 0) >= window.sync_lower:
                yield self._record({**child, "issueId": item["issueId"], "issueKey": item["issueKey"]}, stream_slice)
        self.windows.visited(item.get("updated"), stream_slice)

    def _pull_requests(self, item: Mapping[str, Any], stream_slice: StreamSlice) -> Iterable[Record]:
        """The pull requests of an issue with development information: one dev-status request per application type
        (issues without any, as their Development field says, cost nothing). The dev-status API is undocumented."""
        apps = item["apps"]
        if apps is None:  # the field says there is some, but not where: ask the summary
            summary = send_optional(self.dev_requester, "issue/summary", params={"issueId": item["issueId"]}) or {}
            by_type = ((summary.get("summary") or {}).get("pullrequest") or {}).get("byInstanceType") or {}
            apps = [app for app, info in by_type.items() if isinstance(info, Mapping) and (info.get("count") or 0) > 0]
        issue_updated = rfc3339(item.get("updated"))
        for app in apps:
            answer = send_optional(self.dev_requester, "issue/detail",
                                   params={"issueId": item["issueId"], "applicationType": app, "dataType": "pullrequest"}) or {}
            for detail in answer.get("detail") or []:
                for pull_request in detail.get("pullRequests") or []:
                    yield self._record({**pull_request, "issueId": item["issueId"], "issueKey": item["issueKey"],
                                        "issueUpdated": issue_updated, "applicationType": app}, stream_slice)
        self.windows.visited(issue_updated, stream_slice)

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
