"""Shared fixtures of the catalog unit tests: Jira-shaped bodies and the parent requests (projects, fields ...)."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any, Iterable, List, Mapping, Optional

from airbyte_cdk.test.mock_http import HttpMocker, HttpRequest, HttpResponse

from unit_tests.conftest import API

PROJECT_PARAMS = {"expand": "description,lead,issueTypes,url,projectKeys,insight", "status": "live", "maxResults": "50"}


def ok(body: Any, status: int = 200) -> HttpResponse:
    return HttpResponse(json.dumps(body), status)


def page(values: list, start: int = 0, is_last: bool = True, max_results: Optional[int] = None, total: Optional[int] = None) -> dict:
    return {
        "startAt": start,
        "maxResults": max_results if max_results is not None else 50,
        "total": total if total is not None else start + len(values),
        "isLast": is_last,
        "values": values,
    }


def user(i: int, email: Any = True) -> dict:
    u = {"accountId": f"acc-{i}", "accountType": "atlassian", "displayName": f"User {i}", "active": True,
         "avatarUrls": {"48x48": f"https://avatar/{i}"}, "self": f"{API}/user?accountId=acc-{i}"}
    if email is True:
        u["emailAddress"] = f"user{i}@acme.com"
    elif email is None:
        u["emailAddress"] = None
    return u


def project(pid: str, key: str) -> dict:
    return {"id": pid, "key": key, "name": f"Project {key}", "lead": user(1, email=None), "simplified": False}


def mock_projects(http: HttpMocker, projects: Iterable[tuple] = (("10000", "ALPHA"), ("10001", "BETA"))) -> None:
    values = [project(pid, key) for pid, key in projects]
    http.get(HttpRequest(f"{API}/project/search", query_params=PROJECT_PARAMS), ok(page(values)))


def get(http: HttpMocker, path: str, body: Any, status: int = 200, **params: str) -> None:
    http.get(HttpRequest(f"{API}/{path}", query_params=params or None), ok(body, status))


def assert_unique_pk(records: List[Mapping[str, Any]], pk: List[str]) -> None:
    keys = [tuple(r.get(k) for k in pk) for r in records]
    assert all(all(v is not None for v in key) for key in keys), f"null PK part in {keys}"
    dupes = [k for k, c in Counter(keys).items() if c > 1]
    assert not dupes, f"duplicate PKs {dupes}"
