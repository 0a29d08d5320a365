"""Route handlers: Jira Cloud platform (``/rest/api/3``) and agile (``/rest/agile/1.0``) endpoints, and on a
Data Center site the same resources under ``/rest/api/2`` (``match_dc``: its own forms where Data Center differs,
404 for the Cloud-only ones)."""

from __future__ import annotations

import base64
import datetime as _dt
import json
import re
import zlib
from bisect import bisect_left, bisect_right
from typing import Any, Callable
from urllib.parse import urlencode

from . import catalog as C
from .jql import Compiler, JqlError, Query
from .render import FIELD_NAMES, FIELD_SCHEMA, Renderer, parse_fields_param
from .servicedesk import SDAPI, register as register_servicedesk
from .site import Issue, SearchCache, Site, W_ID
from .timefmt import fmt_platform, parse_iso

API = "/rest/api/3"
API2 = "/rest/api/2"  # Jira Data Center's platform REST API
AGILE = "/rest/agile/1.0"
DC_VERSION = "9.12.2"


class HttpError(Exception):
    def __init__(self, status: int, messages: list[str] | None = None, errors: dict | None = None,
                 body: Any = None) -> None:
        super().__init__(status, messages)
        self.status = status
        self.body = body if body is not None else {"errorMessages": messages or [], "errors": errors or {}}


class Req:
    __slots__ = ("method", "path", "query", "body", "params", "site", "r", "template", "headers")

    def __init__(self, method: str, path: str, query: dict[str, list[str]], body: Any, site: Site,
                 headers=None) -> None:
        self.method = method
        self.path = path
        self.query = query
        self.body = body
        self.params: dict[str, str] = {}
        self.site = site
        self.r = Renderer(site)
        self.template = ""
        self.headers = headers

    def q(self, name: str, default: Any = None) -> Any:
        v = self.query.get(name)
        return v[0] if v else default

    def qlist(self, name: str) -> list[str] | None:
        v = self.query.get(name)
        if v is None:
            return None
        out = []
        for x in v:
            out.extend(p.strip() for p in x.split(",") if p.strip())
        return out

    def qint(self, name: str, default: int, lo: int | None = None, hi: int | None = None) -> int:
        v = self.q(name)
        if v is None or v == "":
            n = default
        else:
            try:
                n = int(v)
            except ValueError:
                raise HttpError(400, [f"The '{name}' parameter must be a number."]) from None
        if lo is not None and n < lo:
            n = lo
        if hi is not None and n > hi:
            n = hi
        return n

    def qbool(self, name: str, default: bool = False) -> bool:
        v = self.q(name)
        if v is None:
            return default
        return v.lower() == "true"


ROUTES: list[tuple[str, str, re.Pattern, Callable]] = []


def route(method: str, template: str, table: list | None = None):
    """Register a handler for `METHOD template` in `table` (ROUTES unless told)."""
    pattern = re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template) + "$")

    def deco(fn):
        (ROUTES if table is None else table).append((method, template, pattern, fn))
        return fn
    return deco


def match(method: str, path: str) -> tuple[Callable, str, dict] | None:
    """First literal-most route wins (``/project/search`` before ``/project/{id}``)."""
    best = None
    for m, tpl, pat, fn in _sorted_routes():
        if m != method:
            continue
        mm = pat.match(path)
        if mm:
            best = (fn, tpl, mm.groupdict())
            break
    return best


_SORTED: list = []


def _sorted_routes():
    global _SORTED
    if len(_SORTED) != len(ROUTES):
        _SORTED = sorted(ROUTES, key=lambda r: r[1].count("{"))
    return _SORTED


def known_path(path: str) -> bool:
    return any(pat.match(path) for _, _, pat, _ in ROUTES)


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------
def page_bean(req: Req, items: list, render: Callable, default_max: int = 50, cap: int = 50,
              self_path: str | None = None, with_total: bool = True) -> dict:
    start = req.qint("startAt", 0, lo=0)
    mx = req.qint("maxResults", default_max, lo=0)
    eff = min(mx, cap)
    chunk = items[start:start + eff]
    last = start + len(chunk) >= len(items)
    d: dict[str, Any] = {}
    path = self_path or req.path
    if self_path is not False:
        q = {k: v[0] for k, v in req.query.items()}
        d["self"] = f"{req.site.base_url}{path}?{urlencode(q)}" if q else f"{req.site.base_url}{path}"
        if not last:
            q2 = dict(q, startAt=start + eff, maxResults=eff)
            d["nextPage"] = f"{req.site.base_url}{path}?{urlencode(q2)}"
    d["maxResults"] = eff
    d["startAt"] = start
    if with_total:
        d["total"] = len(items)
    d["isLast"] = last
    d["values"] = [render(x) for x in chunk]
    return d


def agile_page(req: Req, items: list, render: Callable, total: bool = True) -> dict:
    start = req.qint("startAt", 0, lo=0)
    mx = min(req.qint("maxResults", 50, lo=0), 50)
    chunk = items[start:start + mx]
    d: dict[str, Any] = {"maxResults": mx, "startAt": start}
    if total:
        d["total"] = len(items)
    d["isLast"] = start + len(chunk) >= len(items)
    d["values"] = [render(x) for x in chunk]
    return d


def get_issue(req: Req, key: str = "issueIdOrKey") -> Issue:
    it = req.site.find_issue(req.params[key])
    if it is None:
        raise HttpError(404, ["Issue does not exist or you do not have permission to see it."])
    return it


def get_project(req: Req, key: str = "projectIdOrKey"):
    v = req.params[key]
    p = req.site.find_project(v)
    if p is None:
        kind = "id" if v.isdigit() else "key"
        raise HttpError(404, [f"No project could be found with {kind} '{v}'."])
    return p


def _b64(obj: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj, separators=(",", ":")).encode()).decode().rstrip("=")


def _unb64(tok: str) -> Any:
    try:
        pad = "=" * (-len(tok) % 4)
        return json.loads(base64.urlsafe_b64decode(tok + pad))
    except Exception:
        return None


def _expand_set(v: Any) -> set:
    if v is None:
        return set()
    if isinstance(v, list):
        out = set()
        for x in v:
            out |= {p.strip() for p in str(x).split(",") if p.strip()}
        return out
    return {p.strip() for p in str(v).split(",") if p.strip()}


# --------------------------------------------------------------------------------------------
# search
# --------------------------------------------------------------------------------------------
def evaluate(site: Site, jql: str, reconcile: frozenset = frozenset(), require_bounded: bool = True,
             extra: Callable[[Issue], bool] | None = None, extra_key: Any = None,
             default_order: Callable | None = None) -> tuple[list, list]:
    now = site.now_ms()
    cache: SearchCache = site.search_cache
    lag = site.lag_pending(now)
    key0 = (jql, reconcile, site.version, site.tz_name, extra_key)
    hit = cache.get(key0)
    if hit is not None:
        q_uses_now, minute, keys, issues = hit
        if not lag and (not q_uses_now or minute == now // 60000):
            return keys, issues
    comp = Compiler(site, site.tz, now)
    try:
        q: Query = comp.compile(jql, require_bounded=require_bounded)
    except JqlError as e:
        raise HttpError(400, [str(e)]) from None
    if default_order is not None and not re.search(r"(?i)\border\s+by\b", jql or ""):
        sort_key = default_order
    else:
        sort_key = q.sort_key
    pred = q.pred
    rows = []
    for it in site.issues:
        if not site.searchable(it, now, reconcile):
            continue
        if extra is not None and not extra(it):
            continue
        if pred is not None and not pred(it):
            continue
        rows.append((sort_key(it), it))
    rows.sort(key=lambda r: r[0])
    keys = [r[0] for r in rows]
    issues = [r[1] for r in rows]
    cache.put(key0, (q.uses_now, now // 60000, keys, issues))
    return keys, issues


def _search_params(req: Req) -> dict:
    if req.method == "POST":
        b = req.body if isinstance(req.body, dict) else {}
        return {"jql": b.get("jql", ""), "nextPageToken": b.get("nextPageToken"),
                "maxResults": b.get("maxResults"), "fields": b.get("fields"), "expand": b.get("expand"),
                "properties": b.get("properties"), "reconcileIssues": b.get("reconcileIssues"),
                "fieldsByKeys": b.get("fieldsByKeys")}
    return {"jql": req.q("jql", ""), "nextPageToken": req.q("nextPageToken"), "maxResults": req.q("maxResults"),
            "fields": req.query.get("fields"), "expand": req.q("expand"),
            "properties": req.query.get("properties"), "reconcileIssues": req.query.get("reconcileIssues"),
            "fieldsByKeys": req.q("fieldsByKeys")}


@route("GET", API + "/search/jql")
@route("POST", API + "/search/jql")
def search_jql(req: Req):
    p = _search_params(req)
    site = req.site
    jql = p["jql"] or ""
    rec_raw = p["reconcileIssues"] or []
    rec = []
    for x in rec_raw if isinstance(rec_raw, list) else [rec_raw]:
        for part in str(x).split(","):
            part = part.strip()
            if part:
                if not part.isdigit():
                    raise HttpError(400, ["reconcileIssues must contain issue ids (numbers)."])
                rec.append(int(part))
    if len(rec) > 50:
        raise HttpError(400, ["The number of issues to reconcile can't be more than 50."])
    wanted, only_ids = parse_fields_param(p["fields"])
    expand = _expand_set(p["expand"])
    props = p["properties"]
    if props is not None and not isinstance(props, list):
        props = [props]
    if props:
        props = [x.strip() for v in props for x in str(v).split(",") if x.strip()]
    cap = 5000 if only_ids and not expand and not props else 100
    mx_raw = p["maxResults"]
    try:
        mx = 50 if mx_raw in (None, "") else int(mx_raw)
    except (TypeError, ValueError):
        raise HttpError(400, ["The 'maxResults' parameter must be a number."]) from None
    mx = max(0, min(mx, cap))
    keys, issues = evaluate(site, jql, frozenset(rec))
    start = 0
    tok = p["nextPageToken"]
    jh = zlib.crc32(jql.encode())
    if tok:
        t = _unb64(str(tok))
        if not isinstance(t, dict) or t.get("h") != jh or not isinstance(t.get("k"), list):
            raise HttpError(400, ["The provided next page token is invalid or expired."])
        start = bisect_right(keys, tuple(t["k"]))
    chunk = issues[start:start + mx]
    last = start + len(chunk) >= len(issues)
    r = req.r
    fields = wanted if p["fields"] is not None else None
    exp_issue = expand - {"names", "schema"}
    out = [r.issue(it, fields, exp_issue, props, id_only=fields is None) for it in chunk]
    body: dict[str, Any] = {"issues": out}
    if "names" in expand:
        body["names"] = {f: FIELD_NAMES.get(f, f) for f in (wanted or [])}
    if "schema" in expand:
        body["schema"] = {f: FIELD_SCHEMA[f] for f in (wanted or []) if f in FIELD_SCHEMA}
    if not last and chunk:
        body["nextPageToken"] = _b64({"k": list(keys[start + len(chunk) - 1]), "h": jh})
    body["isLast"] = last or not chunk
    return body


@route("GET", API + "/search")
@route("POST", API + "/search")
def search_removed(req: Req):
    # the startAt/total search is gone from Jira Cloud (CHANGE-2046); ``FakeJira(legacy_search=True)`` serves it
    # again, only so that the benchmark can run connectors written before the removal (e.g. the official 4.0.0)
    if not getattr(req.site, "legacy_search", False):
        raise HttpError(410, ["The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. "
                              "A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046"])
    return search_legacy(req)


def search_legacy(req: Req) -> dict:
    """The removed ``/rest/api/3/search``: ``startAt``/``maxResults``/``total`` paging (100 a page at most),
    ``fields`` default ``*navigable``, ``expand`` as on ``/search/jql``; the JQL is re-evaluated per page."""
    if req.method == "POST":
        b = req.body if isinstance(req.body, dict) else {}
        jql, start_raw, mx_raw = b.get("jql", ""), b.get("startAt"), b.get("maxResults")
        fields_raw, expand_raw = b.get("fields"), b.get("expand")
    else:
        jql, start_raw, mx_raw = req.q("jql", ""), req.q("startAt"), req.q("maxResults")
        fields_raw, expand_raw = req.query.get("fields"), req.q("expand")
    try:
        start = max(0, int(start_raw or 0))
        mx = max(0, min(100, 50 if mx_raw in (None, "") else int(mx_raw)))
    except (TypeError, ValueError):
        raise HttpError(400, ["The 'startAt' and 'maxResults' parameters must be numbers."]) from None
    wanted, _ = parse_fields_param(fields_raw if fields_raw is not None else ["*navigable"])
    expand = _expand_set(expand_raw) - {"names", "schema"}
    _, issues = evaluate(req.site, jql or "", require_bounded=False)
    chunk = issues[start:start + mx]
    return {"expand": "schema,names", "startAt": start, "maxResults": mx, "total": len(issues),
            "issues": [req.r.issue(it, wanted, expand) for it in chunk]}


@route("POST", API + "/search/approximate-count")
def approximate_count(req: Req):
    jql = (req.body or {}).get("jql", "") if isinstance(req.body, dict) else ""
    _, issues = evaluate(req.site, jql)
    return {"count": len(issues)}


@route("GET", API + "/jql/autocompletedata")
def jql_autocomplete(req: Req):
    return {"visibleFieldNames": [], "visibleFunctionNames": [], "jqlReservedWords": ["and", "or", "not", "order", "by"]}


@route("POST", API + "/jql/parse")
def jql_parse(req: Req):
    b = req.body if isinstance(req.body, dict) else {}
    out = []
    for q in b.get("queries", []):
        try:
            Compiler(req.site, req.site.tz, req.site.now_ms()).compile(q, require_bounded=False)
            out.append({"query": q, "structure": {}, "errors": []})
        except JqlError as e:
            out.append({"query": q, "errors": [str(e)]})
    return {"queries": out}


# --------------------------------------------------------------------------------------------
# issues and their children
# --------------------------------------------------------------------------------------------
@route("GET", API + "/issue/{issueIdOrKey}")
def issue_get(req: Req):
    it = get_issue(req)
    raw = req.query.get("fields")
    wanted, _ = parse_fields_param(raw if raw is not None else ["*all"])
    props = req.qlist("properties")
    return req.r.issue(it, wanted, _expand_set(req.q("expand")), props)


@route("GET", API + "/issue/{issueIdOrKey}/comment")
def issue_comments(req: Req):
    it = get_issue(req)
    start = req.qint("startAt", 0, lo=0)
    mx = min(req.qint("maxResults", 50, lo=0), 100)
    coms = list(it.comments)
    order = req.q("orderBy", "created")
    if order.startswith("-"):
        coms.reverse()
    rendered = "renderedBody" in _expand_set(req.q("expand"))
    chunk = coms[start:start + mx]
    return {"startAt": start, "maxResults": mx, "total": len(coms),
            "comments": [req.r.comment(it, c, rendered) for c in chunk]}


@route("GET", API + "/issue/{issueIdOrKey}/comment/{id}")
def issue_comment(req: Req):
    it = get_issue(req)
    for c in it.comments:
        if str(c[0]) == req.params["id"]:
            return req.r.comment(it, c, "renderedBody" in _expand_set(req.q("expand")))
    raise HttpError(404, ["Can not find a comment for the id: " + req.params["id"] + "."])


@route("GET", API + "/issue/{issueIdOrKey}/worklog")
def issue_worklogs(req: Req):
    it = get_issue(req)
    start = req.qint("startAt", 0, lo=0)
    mx = min(req.qint("maxResults", 5000, lo=0), 100)
    wls = list(it.worklogs)
    after = req.qint("startedAfter", 0)
    before = req.qint("startedBefore", 0)
    if after:
        wls = [w for w in wls if w[3] >= after]
    if before:
        wls = [w for w in wls if w[3] < before]
    chunk = wls[start:start + mx]
    return {"startAt": start, "maxResults": mx, "total": len(wls),
            "worklogs": [req.r.worklog(it, w) for w in chunk]}


@route("GET", API + "/issue/{issueIdOrKey}/worklog/{id}")
def issue_worklog(req: Req):
    it = get_issue(req)
    for w in it.worklogs:
        if str(w[0]) == req.params["id"]:
            return req.r.worklog(it, w)
    raise HttpError(404, ["Cannot find worklog with id: " + req.params["id"]])


@route("GET", API + "/issue/{issueIdOrKey}/changelog")
def issue_changelog(req: Req):
    it = get_issue(req)
    start = req.qint("startAt", 0, lo=0)
    mx = min(req.qint("maxResults", 100, lo=0), 100)
    hs = it.histories
    chunk = hs[start:start + mx]
    last = start + len(chunk) >= len(hs)
    base = f"{req.r.api}/issue/{it.key}/changelog"
    d = {"self": f"{base}?maxResults={mx}&startAt={start}"}
    if not last:
        d["nextPage"] = f"{base}?maxResults={mx}&startAt={start + mx}"
    d.update({"maxResults": mx, "startAt": start, "total": len(hs), "isLast": last,
              "values": [req.r.history(it, h) for h in chunk]})
    return d


@route("POST", API + "/issue/{issueIdOrKey}/changelog/list")
def issue_changelog_list(req: Req):
    it = get_issue(req)
    ids = {str(x) for x in (req.body or {}).get("changelogIds", [])}
    hs = [h for h in it.histories if str(h[0]) in ids]
    return {"maxResults": 1000, "startAt": 0, "total": len(hs), "isLast": True,
            "values": [req.r.history(it, h) for h in hs]}


@route("GET", API + "/issue/{issueIdOrKey}/watchers")
def issue_watchers(req: Req):
    it = get_issue(req)
    return {"self": f"{req.r.api}/issue/{it.key}/watchers", "isWatching": 0 in it.watchers,
            "watchCount": len(it.watchers), "watchers": [req.r.user(u) for u in it.watchers]}


@route("GET", API + "/issue/{issueIdOrKey}/votes")
def issue_votes(req: Req):
    it = get_issue(req)
    return {"self": f"{req.r.api}/issue/{it.key}/votes", "votes": len(it.voters), "hasVoted": 0 in it.voters,
            "voters": [req.r.user(u) for u in it.voters]}


@route("GET", API + "/issue/{issueIdOrKey}/remotelink")
def issue_remote_links(req: Req):
    it = get_issue(req)
    return [req.r.remote_link(it, r) for r in it.remote_links]


@route("GET", API + "/issue/{issueIdOrKey}/remotelink/{linkId}")
def issue_remote_link(req: Req):
    it = get_issue(req)
    for r in it.remote_links:
        if str(r[0]) == req.params["linkId"]:
            return req.r.remote_link(it, r)
    raise HttpError(404, ["No remote link with id " + req.params["linkId"]])


@route("GET", API + "/issue/{issueIdOrKey}/properties")
def issue_property_keys(req: Req):
    it = get_issue(req)
    return {"keys": [{"self": f"{req.r.api}/issue/{it.id}/properties/{k}", "key": k} for k, _ in it.properties]}


@route("GET", API + "/issue/{issueIdOrKey}/properties/{propertyKey}")
def issue_property(req: Req):
    it = get_issue(req)
    for k, seed in it.properties:
        if k == req.params["propertyKey"]:
            return {"key": k, "value": req.r.property_value(it, k, seed)}
    raise HttpError(404, [f"The property with key '{req.params['propertyKey']}' does not exist."])


@route("GET", API + "/issue/{issueIdOrKey}/transitions")
def issue_transitions(req: Req):
    it = get_issue(req)
    return {"expand": "transitions", "transitions": [req.r.transition(t) for t in req.site.transitions_for(it)]}


@route("POST", API + "/changelog/bulkfetch")
def changelog_bulkfetch(req: Req):
    b = req.body if isinstance(req.body, dict) else {}
    ids = b.get("issueIdsOrKeys")
    if not isinstance(ids, list) or not ids:
        raise HttpError(400, ["issueIdsOrKeys must not be empty."])
    if len(ids) > 1000:
        raise HttpError(400, ["The number of issueIdsOrKeys must not exceed 1000."])
    field_ids = b.get("fieldIds") or []
    if len(field_ids) > 10:
        raise HttpError(400, ["The number of fieldIds must not exceed 10."])
    try:
        mx = int(b.get("maxResults") or 1000)
    except (TypeError, ValueError):
        raise HttpError(400, ["maxResults must be a number."]) from None
    mx = max(1, min(mx, 10000))
    site = req.site
    issues = []
    seen = set()
    for x in ids:
        it = site.find_issue(x)
        if it is not None and it.id not in seen:
            seen.add(it.id)
            issues.append(it)
    fset = set(field_ids)
    entries = []
    r = req.r
    for it in issues:
        for h in it.histories:
            entries.append((h[1], it.id, h[0], it, h))
    entries.sort(key=lambda e: (e[0], e[1], e[2]))
    h_req = zlib.crc32(json.dumps([sorted(seen), sorted(fset)]).encode())
    start = 0
    tok = b.get("nextPageToken")
    if tok:
        t = _unb64(str(tok))
        if not isinstance(t, dict) or t.get("h") != h_req:
            raise HttpError(400, ["The provided next page token is invalid or expired."])
        start = int(t.get("o", 0))
    out: list[dict] = []
    by_issue: dict[int, dict] = {}
    i = start
    count = 0
    while i < len(entries) and count < mx:
        _, iid, _, it, h = entries[i]
        i += 1
        hist = r.history(it, h, fset or None)
        if hist is None:
            continue
        count += 1
        grp = by_issue.get(iid)
        if grp is None:
            grp = by_issue[iid] = {"issueId": str(iid), "changeHistories": []}
            out.append(grp)
        grp["changeHistories"].append(hist)
    body: dict[str, Any] = {"issueChangeLogs": out}
    # skip trailing histories filtered out so a last page is reported as last
    if fset:
        while i < len(entries) and r.history(entries[i][3], entries[i][4], fset) is None:
            i += 1
    if i < len(entries):
        body["nextPageToken"] = _b64({"o": i, "h": h_req})
    return body


# --------------------------------------------------------------------------------------------
# worklog feeds
# --------------------------------------------------------------------------------------------
def _feed(req: Req, entries: list, kind: str):
    site = req.site
    try:
        since = int(req.q("since", "0") or 0)
    except ValueError:
        raise HttpError(400, ["since must be a number of milliseconds."]) from None
    cutoff = site.now_ms() - 60_000
    i = bisect_left(entries, (since, -1))
    vals = []
    while i < len(entries) and len(vals) < 1000:
        t, wid = entries[i]
        if t > cutoff:
            break
        vals.append({"worklogId": wid, "updatedTime": t, "properties": []})
        i += 1
    last = i >= len(entries) or entries[i][0] > cutoff
    until = vals[-1]["updatedTime"] if vals else since
    base = f"{req.r.api}/worklog/{kind}"
    d = {"values": vals, "since": since, "until": until, "self": f"{base}?since={since}"}
    if not last:
        d["nextPage"] = f"{base}?since={until}"
    d["lastPage"] = last
    return d


@route("GET", API + "/worklog/updated")
def worklog_updated(req: Req):
    return _feed(req, req.site.wl_index, "updated")


@route("GET", API + "/worklog/deleted")
def worklog_deleted(req: Req):
    return _feed(req, req.site.wl_deleted, "deleted")


@route("POST", API + "/worklog/list")
def worklog_list(req: Req):
    b = req.body if isinstance(req.body, dict) else {}
    ids = b.get("ids")
    if not isinstance(ids, list) or not ids:
        raise HttpError(400, ["ids must not be empty."])
    if len(ids) > 1000:
        raise HttpError(400, ["The number of worklog ids must not exceed 1000."])
    site = req.site
    out = []
    for x in sorted({int(v) for v in ids}):
        it = site.wl_issue.get(x)
        if it is None or it.deleted:
            continue
        for w in it.worklogs:
            if w[W_ID] == x:
                out.append(req.r.worklog(it, w))
                break
    return out


# --------------------------------------------------------------------------------------------
# projects
# --------------------------------------------------------------------------------------------
def project_full(req: Req, p, expand: set) -> dict:
    r = req.r
    d = {"expand": "description,lead,issueTypes,url,projectKeys,permissions,insight",
         "self": f"{r.api}/project/{p.id}", "id": str(p.id), "key": p.key}
    if "description" in expand:
        d["description"] = p.description
    if "lead" in expand:
        d["lead"] = r.user(p.lead)
    if "issueTypes" in expand or "issuetypes" in expand:
        d["issueTypes"] = [r.issuetype(t) for t in p.issue_types]
    d["name"] = p.name
    d["avatarUrls"] = r.project_avatar_urls(p)
    if "url" in expand:
        d["url"] = f"https://{p.key.lower()}.example.com"
    if "projectKeys" in expand:
        d["projectKeys"] = [p.key]
    if p.category:
        d["projectCategory"] = r.project_category(p.category)
    d["projectTypeKey"] = p.type_key
    if r.dc:  # Data Center: no team-managed projects, no privacy/insight expansions
        d["expand"] = "description,lead,issueTypes,url,projectKeys"
        d["archived"] = False
        return d
    d["simplified"] = p.simplified
    d["style"] = "next-gen" if p.simplified else "classic"
    d["isPrivate"] = False
    d["properties"] = {}
    if p.uuid:
        d["uuid"] = p.uuid
    if "permissions" in expand:
        d["permissions"] = {"canEdit": True}
    if "insight" in expand:
        its = [it for it in req.site.issues if it.project is p and not it.deleted]
        d["insight"] = {"totalIssueCount": len(its),
                        "lastIssueUpdateTime": r.dt(max((it.updated for it in its), default=None)) if its else None}
    return d


@route("GET", API + "/project/search")
def project_search(req: Req):
    site = req.site
    ps = list(site.projects)
    keys = req.query.get("keys")
    if keys:
        want = set()
        for k in keys:
            want |= {x.strip().upper() for x in k.split(",")}
        ps = [p for p in ps if p.key in want]
    ids = req.query.get("id")
    if ids:
        want_ids = {int(x) for v in ids for x in v.split(",") if x.strip().isdigit()}
        ps = [p for p in ps if p.id in want_ids]
    tk = req.q("typeKey")
    if tk:
        ps = [p for p in ps if p.type_key in tk.split(",")]
    query = req.q("query")
    if query:
        ps = [p for p in ps if query.lower() in p.name.lower() or query.lower() in p.key.lower()]
    order = req.q("orderBy", "key")
    if order.lstrip("+-") == "name":
        ps.sort(key=lambda p: p.name, reverse=order.startswith("-"))
    elif order.lstrip("+-") == "id":
        ps.sort(key=lambda p: p.id, reverse=order.startswith("-"))
    else:
        ps.sort(key=lambda p: p.key, reverse=order.startswith("-"))
    expand = _expand_set(req.q("expand"))
    return page_bean(req, ps, lambda p: project_full(req, p, expand), default_max=50, cap=50)


@route("GET", API + "/project")
def project_list(req: Req):
    expand = _expand_set(req.q("expand"))
    return [project_full(req, p, expand) for p in sorted(req.site.projects, key=lambda p: p.key)]


@route("GET", API + "/project/recent")
def project_recent(req: Req):
    return [project_full(req, p, set()) for p in req.site.projects[:5]]


@route("GET", API + "/project/type")
def project_types(req: Req):
    return [{"key": k, "formattedKey": n, "descriptionI18nKey": d,
             "icon": "PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciLz4=", "color": c}
            for k, n, d, c in C.PROJECT_TYPES]


@route("GET", API + "/project/type/accessible")
def project_types_accessible(req: Req):
    return project_types(req)


@route("GET", API + "/project/{projectIdOrKey}")
def project_get(req: Req):
    p = get_project(req)
    exp = _expand_set(req.q("expand")) | {"description", "lead", "issueTypes", "url", "projectKeys"}
    d = project_full(req, p, exp)
    d["components"] = [req.r.component(c, full=True) for c in p.components]
    d["versions"] = [req.r.version(v) for v in p.versions]
    d["assigneeType"] = "UNASSIGNED"
    d["roles"] = {name: f"{req.r.api}/project/{p.id}/role/{rid}" for rid, name, _ in C.PROJECT_ROLES}
    return d


@route("GET", API + "/project/{projectIdOrKey}/version")
def project_versions_paged(req: Req):
    p = get_project(req)
    vs = list(p.versions)
    status = req.q("status")
    if status:
        st = set(status.split(","))
        vs = [v for v in vs if ("released" in st and v.released) or ("unreleased" in st and not v.released)
              or ("archived" in st and v.archived)]
    return page_bean(req, vs, req.r.version, default_max=50, cap=50)


@route("GET", API + "/project/{projectIdOrKey}/versions")
def project_versions(req: Req):
    return [req.r.version(v) for v in get_project(req).versions]


@route("GET", API + "/project/{projectIdOrKey}/component")
def project_components_paged(req: Req):
    p = get_project(req)
    return page_bean(req, list(p.components), lambda c: req.r.component(c, full=True), default_max=50, cap=50)


@route("GET", API + "/project/{projectIdOrKey}/components")
def project_components(req: Req):
    return [req.r.component(c, full=True) for c in get_project(req).components]


@route("GET", API + "/project/{projectIdOrKey}/avatars")
def project_avatars(req: Req):
    p = get_project(req)
    site = req.site

    def av(aid, custom):
        d = {"id": aid, "isSystemAvatar": not custom, "isSelected": aid == p.avatar_id, "isDeletable": custom,
             "urls": {s: f"{req.r.api}/universal_avatar/view/type/project/avatar/{aid}?size={n}"
                      for s, n in (("16x16", "xsmall"), ("24x24", "small"), ("32x32", "medium"), ("48x48", "large"))}}
        if custom:
            d["owner"] = str(p.id)
        return d
    return {"system": [av(a, False) for a in site.system_avatars], "custom": [av(a, True) for a in p.custom_avatars]}


@route("GET", API + "/project/{projectIdOrKey}/email")
def project_email(req: Req):
    p = get_project(req)
    if p.email:
        return {"emailAddress": p.email, "emailAddressStatus": []}
    host = req.site.base_url.split("//", 1)[1]
    return {"emailAddress": f"jira@{host.split(':')[0]}", "emailAddressStatus": []}


@route("GET", API + "/project/{projectIdOrKey}/role")
def project_roles_map(req: Req):
    p = get_project(req)
    return {name: f"{req.r.api}/project/{p.id}/role/{rid}" for rid, name, _ in C.PROJECT_ROLES}


@route("GET", API + "/project/{projectIdOrKey}/role/{id}")
def project_role_get(req: Req):
    p = get_project(req)
    for rid, name, desc in C.PROJECT_ROLES:
        if str(rid) == req.params["id"]:
            d = role_json(req, (rid, name, desc))
            if req.r.dc:
                d["actors"] = [{"id": 10000 + k, "displayName": req.r.user(u)["displayName"], "type": "atlassian-user-role-actor",
                                "name": req.site.users[u].name, "avatarUrl": req.r.user(u)["avatarUrls"]["16x16"]}
                               for k, u in enumerate([p.lead])]
                return d
            d["actors"] = [{"id": 10000 + k, "displayName": req.r.user(u)["displayName"], "type": "atlassian-user-role-actor",
                            "actorUser": {"accountId": req.site.users[u].account_id}} for k, u in enumerate([p.lead])]
            return d
    raise HttpError(404, ["Can not retrieve project role with id " + req.params["id"]])


@route("GET", API + "/project/{projectIdOrKey}/statuses")
def project_statuses(req: Req):
    p = get_project(req)
    return [{"self": f"{req.r.api}/issuetype/{t.id}", "id": t.id, "name": t.name, "subtask": t.subtask,
             "statuses": [req.r.status(s) for s in p.statuses]} for t in p.issue_types]


@route("GET", API + "/project/{projectIdOrKey}/securitylevel")
def project_security_levels(req: Req):
    p = get_project(req)
    if not p.has_security:
        return {"levels": []}
    s = req.site.security_schemes[0]
    return {"levels": [{"self": f"{req.r.api}/securitylevel/{lid}", "id": str(lid), "description": d, "name": n}
                       for lid, n, d in s["levels"]]}


@route("GET", API + "/projectCategory")
def project_categories(req: Req):
    return [req.r.project_category(c) for c in C.PROJECT_CATEGORIES]


def role_json(req: Req, r) -> dict:
    rid, name, desc = r
    return {"self": f"{req.r.api}/role/{rid}", "name": name, "id": rid, "description": desc,
            "scope": None, "admin": name == "Administrators", "default": name == "Member",
            "roleConfigurable": True, "translatedName": name}


@route("GET", API + "/role")
def roles(req: Req):
    out = []
    for r in C.PROJECT_ROLES:
        d = role_json(req, r)
        d.pop("scope")
        d["actors"] = []
        out.append(d)
    return out


# --------------------------------------------------------------------------------------------
# users and groups
# --------------------------------------------------------------------------------------------
@route("GET", API + "/myself")
def myself(req: Req):
    return req.r.user_full(0, _expand_set(req.q("expand")))


@route("GET", API + "/users/search")
@route("GET", API + "/users")
@route("GET", API + "/user/search")
def users_search(req: Req):
    start = req.qint("startAt", 0, lo=0)
    mx = min(req.qint("maxResults", 50, lo=0), 1000)
    users = req.site.users
    if req.template.endswith("/user/search"):
        q = (req.q("query") or "").lower()
        users = [u for u in users if q in u.display_name.lower() or (isinstance(u.email, str) and q in u.email.lower())] if q else users
    return [req.r.user(u.idx) for u in users[start:start + mx]]


@route("GET", API + "/user")
def user_get(req: Req):
    aid = req.q("accountId")
    u = req.site.user_by_account.get(aid or "")
    if u is None:
        raise HttpError(404, ["Specified user does not exist or you do not have required permissions"])
    return req.r.user_full(u.idx, _expand_set(req.q("expand")))


@route("GET", API + "/user/groups")
def user_groups(req: Req):
    u = req.site.user_by_account.get(req.q("accountId") or "")
    if u is None:
        raise HttpError(404, ["Specified user does not exist or you do not have required permissions"])
    return [{"name": g.name, "groupId": g.group_id, "self": f"{req.r.api}/group?groupId={g.group_id}"}
            for g in req.site.groups if u.idx in g.members]


@route("GET", API + "/group/bulk")
def groups_bulk(req: Req):
    gs = list(req.site.groups)
    ids = req.qlist("groupId")
    if ids:
        gs = [g for g in gs if g.group_id in ids]
    names = req.qlist("groupName")
    if names:
        gs = [g for g in gs if g.name in names]
    return page_bean(req, gs, lambda g: {"name": g.name, "groupId": g.group_id}, default_max=50, cap=50)


@route("GET", API + "/group/member")
def group_members(req: Req):
    site = req.site
    gid = req.q("groupId")
    gname = req.q("groupname")
    g = next((g for g in site.groups if (gid and g.group_id == gid) or (gname and g.name == gname)), None)
    if g is None:
        raise HttpError(404, ["Specified group does not exist."] if (gid or gname) else ["You must specify a group name or a group id."])
    inactive = req.qbool("includeInactiveUsers", False)
    members = [m for m in g.members if inactive or site.users[m].active]

    def render(m):
        d = dict(req.r.user(m))
        d["timeZone"] = site.users[m].tz
        return d
    return page_bean(req, members, render, default_max=50, cap=50)


# --------------------------------------------------------------------------------------------
# issue metadata
# --------------------------------------------------------------------------------------------
def field_json(req: Req, f, custom: bool) -> dict:
    if custom:
        fid, name, schema, searcher, _ = f
        d = {"id": fid, "key": fid, "name": name, "untranslatedName": name, "custom": True, "orderable": True,
             "navigable": True, "searchable": True, "clauseNames": [f"cf[{fid.split('_')[1]}]", name]}
        d["schema"] = schema
        return d
    fid, name, schema, nav, order, search, clauses = f
    d = {"id": fid, "key": fid, "name": name, "custom": False, "orderable": order, "navigable": nav,
         "searchable": search, "clauseNames": clauses}
    if schema:
        d["schema"] = schema
    return d


@route("GET", API + "/field")
def fields(req: Req):
    return [field_json(req, f, False) for f in C.SYSTEM_FIELDS] + [field_json(req, f, True) for f in C.CUSTOM_FIELDS]


@route("GET", API + "/field/search")
def fields_search(req: Req):
    items = [field_json(req, f, False) for f in C.SYSTEM_FIELDS] + [field_json(req, f, True) for f in C.CUSTOM_FIELDS]
    t = req.qlist("type")
    if t == ["custom"]:
        items = [f for f in items if f["custom"]]
    elif t == ["system"]:
        items = [f for f in items if not f["custom"]]
    return page_bean(req, items, lambda x: x, default_max=50, cap=50)


def _custom_field(req: Req):
    fid = req.params["fieldId"]
    ctxs = req.site.cf_contexts.get(fid)
    if ctxs is None:
        raise HttpError(404, ["The custom field was not found."])
    return fid, ctxs


@route("GET", API + "/field/{fieldId}/context")
def field_contexts(req: Req):
    fid, ctxs = _custom_field(req)
    return page_bean(req, ctxs, lambda c: {"id": c[0], "name": c[1], "description": "",
                                           "isGlobalContext": c[2], "isAnyIssueType": True},
                     default_max=50, cap=50)


@route("GET", API + "/field/{fieldId}/context/{contextId}/option")
def field_context_options(req: Req):
    fid, ctxs = _custom_field(req)
    ctx = next((c for c in ctxs if c[0] == req.params["contextId"]), None)
    if ctx is None:
        raise HttpError(404, ["The context was not found."])
    if not ctx[4] and fid not in ("customfield_10021", "customfield_10030", "customfield_10031", "customfield_10034"):
        raise HttpError(400, ["The custom field doesn't support options."])
    return page_bean(req, ctx[4], lambda o: {"id": o[0], "value": o[1], "disabled": False}, default_max=100, cap=100)


@route("GET", API + "/field/{fieldId}/context/projectmapping")
def field_context_projects(req: Req):
    fid, ctxs = _custom_field(req)
    out = []
    for c in ctxs:
        if c[2]:
            out.append({"contextId": c[0], "isGlobalContext": True})
        else:
            out.append({"contextId": c[0], "projectId": str(req.site.find_project(c[3]).id)})
    return page_bean(req, out, lambda x: x)


@route("GET", API + "/issuetype")
def issue_types(req: Req):
    return [req.r.issuetype(t) for t in req.site.issue_types]


@route("GET", API + "/issuetype/{id}")
def issue_type(req: Req):
    t = req.site.issue_type_by_id.get(req.params["id"])
    if t is None:
        raise HttpError(404, ["The issue type ID is invalid."])
    return req.r.issuetype(t)


def priority_json(req, k):
    p = C.PRIORITIES[k]
    d = req.r.priority(k)
    d.update({"statusColor": p[2], "description": f"{p[1]} priority"})
    if not req.r.dc:
        d["isDefault"] = p[0] == "3"
    return d


@route("GET", API + "/priority")
def priorities(req: Req):
    return [priority_json(req, k) for k in range(len(C.PRIORITIES))]


@route("GET", API + "/priority/search")
def priorities_search(req: Req):
    return page_bean(req, list(range(len(C.PRIORITIES))), lambda k: priority_json(req, k), default_max=50, cap=50)


def resolution_json(req, k):
    d = req.r.resolution(k)
    if not req.r.dc:
        d["isDefault"] = k == 0
    return d


@route("GET", API + "/resolution")
def resolutions(req: Req):
    return [resolution_json(req, k) for k in range(len(C.RESOLUTIONS))]


@route("GET", API + "/resolution/search")
def resolutions_search(req: Req):
    return page_bean(req, list(range(len(C.RESOLUTIONS))), lambda k: resolution_json(req, k), default_max=50, cap=50)


@route("GET", API + "/status")
def statuses(req: Req):
    return [req.r.status(s) for s in req.site.statuses]


@route("GET", API + "/statuses/search")
def statuses_search(req: Req):
    def render(s):
        d = {"id": s.id, "name": s.name, "statusCategory": {2: "TODO", 4: "IN_PROGRESS", 3: "DONE"}.get(s.cat, "UNDEFINED"),
             "scope": {"type": "PROJECT", "project": {"id": str(s.project_id)}} if s.project_id else {"type": "GLOBAL"},
             "description": s.description, "usages": [], "workflowUsages": []}
        return d
    items = list(req.site.statuses)
    pid = req.q("projectId")
    if pid:
        items = [s for s in items if s.project_id in (None, int(pid))]
    return page_bean(req, items, render, default_max=200, cap=200)


@route("GET", API + "/statuscategory")
def status_categories(req: Req):
    return [req.r.status_category(c[0]) for c in C.STATUS_CATEGORIES]


@route("GET", API + "/issueLinkType")
def link_types(req: Req):
    return {"issueLinkTypes": [{"id": t[0], "name": t[1], "inward": t[2], "outward": t[3],
                                "self": f"{req.r.api}/issueLinkType/{t[0]}"} for t in C.LINK_TYPES]}


@route("GET", API + "/label")
def labels(req: Req):
    return page_bean(req, list(req.site.label_vocab), lambda x: x, default_max=1000, cap=1000)


@route("GET", API + "/issuesecurityschemes")
def security_schemes(req: Req):
    return {"issueSecuritySchemes": [{"self": f"{req.r.api}/issuesecurityschemes/{s['id']}", "id": s["id"],
                                      "name": s["name"], "description": s["description"],
                                      "defaultSecurityLevelId": s["defaultSecurityLevelId"]}
                                     for s in req.site.security_schemes]}


@route("GET", API + "/issuetypescheme")
def issue_type_schemes(req: Req):
    return page_bean(req, req.site.issue_type_schemes, dict, default_max=50, cap=50)


@route("GET", API + "/issuetypescreenscheme")
def issue_type_screen_schemes(req: Req):
    return page_bean(req, req.site.issue_type_screen_schemes, dict, default_max=25, cap=25)


@route("GET", API + "/fieldconfiguration")
def field_configurations(req: Req):
    return page_bean(req, req.site.field_configurations, dict, default_max=50, cap=50)


# --------------------------------------------------------------------------------------------
# configuration
# --------------------------------------------------------------------------------------------
def workflow_json(req: Req, w: dict, expand: set) -> dict:
    d = {"id": w["id"], "name": w["name"], "description": w["description"],
         "scope": {"type": "PROJECT", "project": {"id": str(w["project"].id)}} if w["project"] else {"type": "GLOBAL"},
         "version": {"id": w["id"][::-1], "versionNumber": 1}, "isEditable": w["name"] != "jira",
         "statuses": [{"statusReference": s.id, "layout": {"x": 100.0 * k, "y": 0.0}, "properties": {}, "deprecated": False}
                      for k, s in enumerate(w["statuses"])],
         "startPointLayout": {"x": -100.0, "y": 0.0}, "loopedTransitionContainerLayout": {"x": 0.0, "y": -100.0}}
    if "values.transitions" in expand or "transitions" in expand:
        d["transitions"] = [{"id": str(11 + 10 * k), "type": "GLOBAL", "toStatusReference": s.id, "name": s.name,
                             "description": "", "actions": [], "conditions": None, "validators": [],
                             "triggers": [], "properties": {}, "links": []}
                            for k, s in enumerate(w["statuses"])]
    return d


@route("GET", API + "/workflows/search")
def workflows_search(req: Req):
    expand = _expand_set(req.q("expand"))
    items = list(req.site.workflows)
    qs = req.q("queryString")
    if qs:
        items = [w for w in items if qs.lower() in w["name"].lower()]
    d = page_bean(req, items, lambda w: workflow_json(req, w, expand), default_max=50, cap=50)
    seen = {}
    for w in items:
        for s in w["statuses"]:
            seen.setdefault(s.id, s)
    d["statuses"] = [{"id": s.id, "name": s.name, "statusReference": s.id, "description": s.description,
                      "statusCategory": {2: "TODO", 4: "IN_PROGRESS", 3: "DONE"}.get(s.cat, "TODO"),
                      "scope": {"type": "PROJECT", "project": {"id": str(s.project_id)}} if s.project_id else {"type": "GLOBAL"}}
                     for s in seen.values()]
    return d


@route("GET", API + "/workflowscheme")
def workflow_schemes(req: Req):
    def render(s):
        d = {"id": s["id"], "name": s["name"], "description": "", "defaultWorkflow": s["default"],
             "issueTypeMappings": {}, "self": f"{req.r.api}/workflowscheme/{s['id']}"}
        return d
    return page_bean(req, req.site.workflow_schemes, render, default_max=50, cap=50)


@route("GET", API + "/permissionscheme")
def permission_schemes(req: Req):
    expand = _expand_set(req.q("expand"))
    out = []
    for s in req.site.permission_schemes:
        d = {"expand": "permissions,user,group,projectRole,field,all", "id": s["id"],
             "self": f"{req.r.api}/permissionscheme/{s['id']}", "name": s["name"], "description": s["description"]}
        if "permissions" in expand or "all" in expand:
            d["permissions"] = [{"id": 10000 + 100 * s["id"] + k, "self": f"{req.r.api}/permissionscheme/{s['id']}/permission/{10000 + k}",
                                 "holder": {"type": "projectRole", "parameter": "10002", "value": "10002"},
                                 "permission": p[0]} for k, p in enumerate(C.PERMISSIONS) if p[2] == "PROJECT"]
        out.append(d)
    return {"permissionSchemes": out}


@route("GET", API + "/notificationscheme")
def notification_schemes(req: Req):
    expand = _expand_set(req.q("expand"))

    def render(s):
        d = {"expand": "notificationSchemeEvents,user,group,projectRole,field,all", "id": s["id"],
             "self": f"{req.r.api}/notificationscheme/{s['id']}", "name": s["name"]}
        if s["description"] is not None:
            d["description"] = s["description"]
        if "all" in expand or "notificationSchemeEvents" in expand:
            d["notificationSchemeEvents"] = [{"event": {"id": 1, "name": "Issue created", "description": ""},
                                              "notifications": [{"id": 10000 + s["id"] % 100, "notificationType": "CurrentAssignee"}]}]
        return d
    return page_bean(req, req.site.notification_schemes, render, default_max=50, cap=50)


@route("GET", API + "/screens")
def screens(req: Req):
    return page_bean(req, req.site.screens, lambda s: {"id": s["id"], "name": s["name"], "description": s["description"]},
                     default_max=100, cap=100)


def _screen(req: Req):
    sid = req.params["screenId"]
    s = next((s for s in req.site.screens if str(s["id"]) == sid), None)
    if s is None:
        raise HttpError(404, [f"The screen with id '{sid}' does not exist."])
    return s


@route("GET", API + "/screens/{screenId}/tabs")
def screen_tabs(req: Req):
    s = _screen(req)
    return [{"id": t[0], "name": t[1]} for t in s["tabs"]]


BULK_TABS_MAX_IDS = 100  # screenId (or tabId) values one bulk call takes
BULK_TABS_MAX_RESULT = 100  # documented: "The maximum number is 100"


def _bulk_ids(req: Req, name: str) -> list[int]:
    values = req.query.get(name) or []
    if len(values) > BULK_TABS_MAX_IDS:
        raise HttpError(400, [f"The number of {name} values must not exceed {BULK_TABS_MAX_IDS}."])
    out = []
    for v in values:
        try:
            out.append(int(v))
        except ValueError:
            raise HttpError(400, [f"The '{name}' parameter must be a number, not '{v}'."]) from None
    return out


@route("GET", API + "/screens/tabs")
def screen_tabs_bulk(req: Req):
    """Jira Cloud's "Get bulk screen tabs" (Cloud only: CLOUD_ONLY): ``screenId`` and/or ``tabId`` repeated (at most
    100 each), ``startAt``, ``maxResult`` (singular; default and maximum 100, more is a 400 here). Neither id given is
    Jira's documented 400. Answer: a page ``{isLast, maxResults, startAt, total, values: [{screenId, tabId, tabName}]}``,
    screens in the order asked, tabs in screen order; unknown ids match nothing."""
    screen_ids, tab_ids = _bulk_ids(req, "screenId"), _bulk_ids(req, "tabId")
    if not screen_ids and not tab_ids:
        raise HttpError(400, ["The screen ID or the tab ID is empty."])
    start = req.qint("startAt", 0)
    mx = req.qint("maxResult", BULK_TABS_MAX_RESULT)
    if start < 0:
        raise HttpError(400, ["The 'startAt' parameter must not be negative."])
    if not 1 <= mx <= BULK_TABS_MAX_RESULT:
        raise HttpError(400, [f"The 'maxResult' parameter must be between 1 and {BULK_TABS_MAX_RESULT}."])
    by_id = {s["id"]: s for s in req.site.screens}
    wanted_tabs = set(tab_ids)
    if screen_ids:
        chosen = [by_id[i] for i in dict.fromkeys(screen_ids) if i in by_id]
    else:
        chosen = list(req.site.screens)
    tabs = [{"screenId": s["id"], "tabId": t[0], "tabName": t[1]} for s in chosen for t in s["tabs"]
            if not wanted_tabs or t[0] in wanted_tabs]
    chunk = tabs[start:start + mx]
    return {"isLast": start + len(chunk) >= len(tabs), "maxResults": mx, "startAt": start, "total": len(tabs),
            "values": chunk}


@route("GET", API + "/screens/{screenId}/tabs/{tabId}/fields")
def screen_tab_fields(req: Req):
    s = _screen(req)
    t = next((t for t in s["tabs"] if str(t[0]) == req.params["tabId"]), None)
    if t is None:
        raise HttpError(404, [f"The screen tab with id '{req.params['tabId']}' does not exist."])
    return [{"id": f, "name": FIELD_NAMES.get(f, f)} for f in t[2]]


@route("GET", API + "/screenscheme")
def screen_schemes(req: Req):
    return page_bean(req, req.site.screen_schemes, dict, default_max=25, cap=25)


def filter_share(req: Req, s: dict) -> dict:
    d = {"id": s["id"], "type": s["type"]}
    if s["type"] == "group":
        g = next(g for g in req.site.groups if g.name == s["group"])
        d["group"] = req.r.group_ref(g)
    elif s["type"] == "project":
        d["project"] = req.r.project_short(s["project"])
        if s.get("role"):
            d["role"] = {"self": f"{req.r.api}/project/{s['project'].id}/role/{s['role']}", "name": "Administrators", "id": s["role"]}
    elif s["type"] == "user":
        d["user"] = req.r.user(s["user"])
    return d


def filter_json(req: Req, f: dict, expand: set) -> dict:
    r = req.r
    d = {"expand": "description,owner,jql,viewUrl,searchUrl,favourite,favouritedCount,sharePermissions,isWritable,approximateLastUsed,subscriptions,sharedUsers",
         "self": f"{r.api}/filter/{f['id']}", "id": f["id"], "name": f["name"]}
    if "description" in expand:
        d["description"] = f["description"]
    if "owner" in expand:
        d["owner"] = r.user(f["owner"])
    if "jql" in expand:
        d["jql"] = f["jql"]
    if "viewUrl" in expand:
        d["viewUrl"] = f"{req.site.base_url}/issues/?filter={f['id']}"
    if "searchUrl" in expand:
        d["searchUrl"] = f"{r.api}/search?jql={f['jql']}" if r.dc else f"{r.api}/search/jql?jql={f['jql']}"
    if "favourite" in expand:
        d["favourite"] = f["favouritedCount"] > 0
    if "favouritedCount" in expand:
        d["favouritedCount"] = f["favouritedCount"]
    if "sharePermissions" in expand:
        d["sharePermissions"] = [filter_share(req, s) for s in f["shares"]]
    if "editPermissions" in expand:
        d["editPermissions"] = []
    if "isWritable" in expand:
        d["isWritable"] = True
    if "subscriptions" in expand:
        d["subscriptions"] = []
    return d


@route("GET", API + "/filter/search")
def filter_search(req: Req):
    expand = _expand_set(req.q("expand"))
    fs = list(req.site.filters)
    name = req.q("filterName")
    if name:
        fs = [f for f in fs if name.lower() in f["name"].lower()]
    ids = req.qlist("id")
    if ids:
        fs = [f for f in fs if f["id"] in ids]
    return page_bean(req, fs, lambda f: filter_json(req, f, expand), default_max=50, cap=100)


@route("GET", "/rest/dev-status/latest/issue/detail")
@route("GET", "/rest/dev-status/1.0/issue/detail")
def dev_status_detail(req: Req):
    """Jira's undocumented development-information API: the pull requests of one issue for one application type."""
    issue_id, app, kind = req.q("issueId"), req.q("applicationType"), req.q("dataType")
    if not issue_id or not app or not kind:
        raise HttpError(400, ["issueId, applicationType and dataType are required."])
    it = req.site.find_issue(issue_id)
    if it is None:
        raise HttpError(404, ["Issue does not exist or you do not have permission to see it."])
    prs = [p for a, p in req.r.pull_requests(it) if a == app] if kind == "pullrequest" else []
    return {"errors": [], "detail": [{"pullRequests": prs, "branches": [], "repositories": [],
                                      "_instance": {"name": app, "type": app, "id": app.lower(), "typeName": app}}]}


@route("GET", API + "/filter/favourite")
def filter_favourite(req: Req):
    """The connector's account's favourite filters: a bare list (no paging)."""
    expand = _expand_set(req.q("expand"))
    return [filter_json(req, f, expand) for f in req.site.filters if f["id"] in req.site.favourite_filter_ids]


@route("GET", API + "/filter/my")
def filter_my(req: Req):
    """Filters the account owns, plus its favourites with includeFavourites=true: a bare list."""
    expand = _expand_set(req.q("expand"))
    favourites = (req.q("includeFavourites") or "").lower() == "true"
    return [filter_json(req, f, expand) for f in req.site.filters
            if f["owner"] == 0 or (favourites and f["id"] in req.site.favourite_filter_ids)]


def _dc_numeric_id(req: Req, name: str = "id") -> None:
    """Data Center's resources take a numeric id: another segment is no resource at all (a 404, e.g. the
    Cloud-only ``filter/search``)."""
    if req.r.dc and not req.params[name].isdigit():
        raise HttpError(404, [f"null for uri: {req.site.base_url}{req.path}"])


@route("GET", API + "/filter/{id}")
def filter_get(req: Req):
    _dc_numeric_id(req)
    f = req.site.filter_by_id.get(req.params["id"])
    if f is None:
        raise HttpError(400, ["The selected filter is not available to you, perhaps it has been deleted or had its permissions changed."])
    return filter_json(req, f, {"description", "owner", "jql", "viewUrl", "searchUrl", "favourite",
                                "favouritedCount", "sharePermissions", "subscriptions"})


@route("GET", API + "/filter/{id}/permission")
def filter_permissions(req: Req):
    _dc_numeric_id(req)
    f = req.site.filter_by_id.get(req.params["id"])
    if f is None:
        raise HttpError(400, ["The selected filter is not available to you, perhaps it has been deleted or had its permissions changed."])
    return [filter_share(req, s) for s in f["shares"]]


def dashboard_json(req: Req, d: dict) -> dict:
    r = req.r
    out = {"id": d["id"], "isFavourite": d["id"] == "10000", "name": d["name"],
           "popularity": 1 + int(d["id"]) % 5, "self": f"{r.api}/dashboard/{d['id']}",
           "sharePermissions": [{"id": s["id"], "type": s["type"]} for s in d["shares"]],
           "editPermissions": [],
           "view": f"{req.site.base_url}/secure/Dashboard.jspa?selectPageId={d['id']}" if r.dc else f"{req.site.base_url}/jira/dashboards/{d['id']}",
           "isWritable": not d["system"], "systemDashboard": d["system"]}
    if d["owner"] is not None:
        out["owner"] = r.user(d["owner"])
    return out


@route("GET", API + "/dashboard/search")
def dashboard_search(req: Req):
    return page_bean(req, req.site.dashboards, lambda d: dashboard_json(req, d), default_max=50, cap=100)


@route("GET", API + "/dashboard")
def dashboards(req: Req):
    start = req.qint("startAt", 0, lo=0)
    mx = min(req.qint("maxResults", 20, lo=0), 1000)
    ds = req.site.dashboards
    chunk = ds[start:start + mx]
    d = {"startAt": start, "maxResults": mx, "total": len(ds), "dashboards": [dashboard_json(req, x) for x in chunk]}
    if start + mx < len(ds):
        d["next"] = f"{req.r.api}/dashboard?maxResults={mx}&startAt={start + mx}"
    if start > 0:
        d["prev"] = f"{req.r.api}/dashboard?maxResults={mx}&startAt={max(0, start - mx)}"
    return d


@route("GET", API + "/dashboard/{id}")
def dashboard_get(req: Req):
    d = next((d for d in req.site.dashboards if d["id"] == req.params["id"]), None)
    if d is None:
        raise HttpError(404, ["The dashboard with id '" + req.params["id"] + "' does not exist."])
    return dashboard_json(req, d)


@route("GET", API + "/applicationrole")
def application_roles(req: Req):
    n_users = sum(1 for u in req.site.users if u.account_type == "atlassian" and u.active)
    out = []
    for key, name, groups, defaults, seats in C.APPLICATION_ROLES:
        gd = [req.r.group_ref(g) for g in req.site.groups if g.name in groups]
        dd = [x for x in gd if x["name"] in defaults]
        count = n_users if key == "jira-software" else 7
        out.append({"key": key, "groups": groups, "groupDetails": gd, "name": name, "defaultGroups": defaults,
                    "defaultGroupsDetails": dd, "selectedByDefault": False, "defined": True,
                    "numberOfSeats": seats, "remainingSeats": seats - count, "userCount": count,
                    "userCountDescription": "users", "hasUnlimitedSeats": False, "platform": False})
    return out


@route("GET", API + "/configuration/timetracking/list")
def time_tracking_list(req: Req):
    return [{"key": k, "name": n, "url": u} for k, n, u in C.TIME_TRACKING_PROVIDERS]


@route("GET", API + "/configuration/timetracking")
def time_tracking(req: Req):
    k, n, u = C.TIME_TRACKING_PROVIDERS[0]
    return {"key": k, "name": n, "url": u}


@route("GET", API + "/configuration/timetracking/options")
def time_tracking_options(req: Req):
    return {"workingHoursPerDay": 8.0, "workingDaysPerWeek": 5.0, "timeFormat": "pretty", "defaultUnit": "minute"}


@route("GET", API + "/configuration")
def configuration(req: Req):
    return {"votingEnabled": True, "watchingEnabled": True, "unassignedIssuesAllowed": True,
            "subTasksEnabled": True, "issueLinkingEnabled": True, "timeTrackingEnabled": True,
            "attachmentsEnabled": True,
            "timeTrackingConfiguration": {"workingHoursPerDay": 8.0, "workingDaysPerWeek": 5.0,
                                          "timeFormat": "pretty", "defaultUnit": "minute"}}


@route("GET", API + "/serverInfo")
def server_info(req: Req):
    now = req.site.now_ms()
    if req.r.dc:
        return {"baseUrl": req.site.base_url, "version": DC_VERSION, "versionNumbers": [int(x) for x in DC_VERSION.split(".")],
                "deploymentType": "DataCenter", "buildNumber": 9120002,
                "buildDate": fmt_platform(req.site.anchor - 400 * 86_400_000, req.r.tz),
                "serverTime": fmt_platform(now, req.r.tz), "scmInfo": "5e1c9c3a7b0d8f2e4a6b1c3d5e7f9a0b1c2d3e4f",
                "serverTitle": "Jira"}
    return {"baseUrl": req.site.base_url, "displayUrl": req.site.base_url, "displayUrlServicedeskHelpCenter": req.site.base_url,
            "version": "1001.0.0-SNAPSHOT", "versionNumbers": [1001, 0, 0], "deploymentType": "Cloud",
            "buildNumber": 100289, "buildDate": fmt_platform(req.site.anchor - 3 * 86_400_000, req.r.tz),
            "serverTime": fmt_platform(now, req.r.tz), "scmInfo": "f2b3a0c8e1d1b2f1e3a9c0d4b5e6f7a8b9c0d1e2",
            "serverTitle": "Jira", "defaultLocale": {"locale": "en_US"}, "serverTimeZone": "Etc/UTC"}


@route("GET", API + "/permissions")
def permissions(req: Req):
    return {"permissions": {k: {"key": k, "name": n, "type": t, "description": d} for k, n, t, d in C.PERMISSIONS}}


@route("GET", API + "/mypermissions")
def my_permissions(req: Req):
    """Jira Cloud requires `permissions` (comma-separated keys); a project context is projectKey or projectId."""
    want = [k.strip() for v in (req.qlist("permissions") or []) for k in str(v).split(",") if k.strip()]
    if not want and req.r.dc:  # Data Center still answers every permission when none is named
        want = [p[0] for p in C.PERMISSIONS]
    if not want:
        raise HttpError(400, ["The 'permissions' query parameter is required."])
    known = {p[0] for p in C.PERMISSIONS}
    unknown = [k for k in want if k not in known]
    if unknown:
        raise HttpError(400, [f"Unrecognized permission keys: {', '.join(unknown)}"])
    key = req.q("projectKey")
    if key and req.site.find_project(key) is None:
        raise HttpError(404, [f"No project could be found with key '{key}'."])
    return {"permissions": {k: {"id": str(10000 + i), "key": k, "name": n, "type": t, "description": d, "havePermission": True}
                            for i, (k, n, t, d) in enumerate(C.PERMISSIONS) if k in want}}


@route("GET", API + "/application-properties")
def application_properties(req: Req):
    out = []
    for k, v, d, t in C.APPLICATION_PROPERTIES:
        if v is None:
            v = req.site.base_url
        out.append({"id": k, "key": k, "value": v, "name": d, "desc": d, "type": t, "defaultValue": v})
    return out


@route("GET", API + "/settings/columns")
def navigator_columns(req: Req):
    return [{"label": lab, "value": v} for lab, v in C.NAVIGATOR_COLUMNS]


@route("GET", API + "/avatar/{type}/system")
def system_avatars(req: Req):
    t = req.params["type"]
    ids = req.site.system_avatars_by_type.get(t)
    if ids is None:
        raise HttpError(400, [f"Invalid avatar type: {t}. Valid types are issuetype, project, user."])
    return {"system": [{"id": a, "isSystemAvatar": True, "isSelected": False, "isDeletable": False,
                        "fileName": f"{t}-{a}.svg",
                        "urls": {s: f"{req.r.api}/universal_avatar/view/type/{t}/avatar/{a}?size={n}"
                                 for s, n in (("16x16", "xsmall"), ("24x24", "small"), ("32x32", "medium"), ("48x48", "large"))}}
                       for a in ids]}


@route("GET", API + "/auditing/record")
def audit_records(req: Req):
    site = req.site
    offset = req.qint("offset", 0, lo=0)
    limit = min(req.qint("limit", 1000, lo=0), 1000)
    recs = sorted(site.audit, key=lambda a: -a["created"])
    frm = req.q("from")
    to = req.q("to")
    try:
        if frm:
            f = parse_iso(frm, site.tz)
            recs = [a for a in recs if a["created"] >= f]
        if to:
            t = parse_iso(to, site.tz)
            recs = [a for a in recs if a["created"] <= t]
    except ValueError:
        raise HttpError(400, ["Invalid date format for 'from' or 'to'."]) from None
    flt = req.q("filter")
    if flt:
        recs = [a for a in recs if flt.lower() in (a["summary"] + " " + a["category"]).lower()]
    chunk = recs[offset:offset + limit]
    r = req.r
    out = []
    for a in chunk:
        u = site.users[a["author"]]
        out.append({"id": a["id"], "summary": a["summary"], "remoteAddress": f"10.0.{a['id'] % 200}.{a['id'] % 97}",
                    "authorKey": u.account_id, "authorAccountId": u.account_id, "created": r.dt(a["created"]),
                    "category": a["category"], "eventSource": "", "description": "",
                    "objectItem": {"id": str(a["id"] % 1000), "name": a["object"], "typeName": a["objectType"]},
                    "changedValues": [], "associatedItems": []})
    return {"offset": offset, "limit": limit, "total": len(recs), "records": out}


@route("GET", API + "/priorityscheme")
def priority_schemes(req: Req):
    r = req.r

    def render(s):
        pr = [priority_json(req, k) for k, p in enumerate(C.PRIORITIES) if p[0] in s["priorities"]]
        projs = [r.project_short(p) for p in s["projects"]]
        return {"id": s["id"], "name": s["name"], "description": s["description"], "defaultPriorityId": s["default"],
                "isDefault": s["isDefault"], "self": f"{r.api}/priorityscheme/{s['id']}",
                "priorities": {"maxResults": 50, "startAt": 0, "total": len(pr), "isLast": True, "values": pr},
                "projects": {"maxResults": 50, "startAt": 0, "total": len(projs), "isLast": True, "values": projs}}
    return page_bean(req, req.site.priority_schemes, render, default_max=50, cap=50)


@route("GET", API + "/attachment/{id}")
def attachment_meta(req: Req):
    aid = req.params["id"]
    for it in req.site.issues:
        if it.deleted:
            continue
        for a in it.attachments:
            if str(a[0]) == aid:
                return req.r.attachment(a)
    raise HttpError(404, ["The attachment with id '" + aid + "' does not exist"])


# --------------------------------------------------------------------------------------------
# agile
# --------------------------------------------------------------------------------------------
def board_type(req: Req, b) -> str:
    """Data Center has no team-managed ("simple") boards: they show as scrum (with sprints) or kanban there."""
    if b.type == "simple" and req.r.dc:
        return "scrum" if b.sprints_enabled else "kanban"
    return b.type


def board_json(req: Req, b) -> dict:
    p = b.projects[0]
    return {"id": b.id, "self": f"{req.site.base_url}{AGILE}/board/{b.id}", "name": b.name, "type": board_type(req, b),
            "location": {"projectId": p.id, "displayName": f"{p.name} ({p.key})", "projectName": p.name,
                         "projectKey": p.key, "projectTypeKey": p.type_key,
                         "avatarURI": f"/rest/api/2/universal_avatar/view/type/project/avatar/{p.avatar_id}?size=small",
                         "name": f"{p.name} ({p.key})"},
            "isPrivate": False}


def get_board(req: Req):
    bid = req.params["boardId"]
    b = req.site.board_by_id.get(int(bid)) if bid.isdigit() else None
    if b is None:
        raise HttpError(404, ["Board does not exist or you do not have permission to see it."])
    return b


@route("GET", AGILE + "/board")
def boards(req: Req):
    bs = list(req.site.boards)
    t = req.q("type")
    if t:
        bs = [b for b in bs if board_type(req, b) in t.split(",")]
    name = req.q("name")
    if name:
        bs = [b for b in bs if name.lower() in b.name.lower()]
    pk = req.q("projectKeyOrId")
    if pk:
        p = req.site.find_project(pk)
        if p is None:
            raise HttpError(400, [f"No project could be found with key or id '{pk}'."])
        bs = [b for b in bs if p in b.projects]
    return agile_page(req, bs, lambda b: board_json(req, b))


@route("GET", AGILE + "/board/{boardId}")
def board_get(req: Req):
    return board_json(req, get_board(req))


@route("GET", AGILE + "/board/{boardId}/configuration")
def board_configuration(req: Req):
    b = get_board(req)
    p = b.projects[0]
    r = req.r
    sts = p.statuses
    cols = [("To Do", [s for s in sts if s.cat == 2]), ("In Progress", [s for s in sts if s.cat == 4]),
            ("Done", [s for s in sts if s.cat == 3])]
    d = {"id": b.id, "name": b.name, "type": board_type(req, b), "self": f"{req.site.base_url}{AGILE}/board/{b.id}/configuration",
         "location": {"type": "project", "key": p.key, "id": str(p.id), "self": f"{r.api}/project/{p.id}", "name": p.name},
         "filter": {"id": b.filter_id, "self": f"{r.api}/filter/{b.filter_id}"},
         "columnConfig": {"columns": [{"name": n, "statuses": [{"id": s.id, "self": f"{r.api}/status/{s.id}"} for s in ss]}
                                      for n, ss in cols],
                          "constraintType": "issueCount" if b.type != "simple" else "none"},
         "ranking": {"rankCustomFieldId": 10019}}
    if b.type == "kanban":
        d["subQuery"] = {"query": "fixVersion in unreleasedVersions() OR fixVersion is EMPTY"}
    else:
        d["estimation"] = {"type": "field", "field": {"fieldId": "customfield_10016", "displayName": "Story Points"}}
    return d


@route("GET", AGILE + "/board/{boardId}/sprint")
def board_sprints(req: Req):
    b = get_board(req)
    if not b.sprints_enabled:
        raise HttpError(400, ["The board does not support sprints"])
    sps = [req.site.sprint_by_id[s] for s in b.sprint_ids]
    state = req.qlist("state")
    if state:
        sps = [s for s in sps if s.state in state]
    return agile_page(req, sps, req.r.sprint)


@route("GET", AGILE + "/sprint/{sprintId}")
def sprint_get(req: Req):
    sid = req.params["sprintId"]
    s = req.site.sprint_by_id.get(int(sid)) if sid.isdigit() else None
    if s is None:
        raise HttpError(404, ["Sprint does not exist or you do not have permission to see it."])
    return req.r.sprint(s)


def _agile_issue_page(req: Req, extra, extra_key):
    jql = req.q("jql") or ""
    keys, issues = evaluate(req.site, jql, require_bounded=False, extra=extra, extra_key=extra_key,
                            default_order=lambda it: (it.idx,))
    start = req.qint("startAt", 0, lo=0)
    mx = min(req.qint("maxResults", 50, lo=0), 50)
    chunk = issues[start:start + mx]
    raw = req.query.get("fields")
    wanted, _ = parse_fields_param(raw if raw is not None else ["*navigable"])
    expand = _expand_set(req.q("expand"))
    return {"expand": "schema,names", "startAt": start, "maxResults": mx, "total": len(issues),
            "issues": [req.r.issue(it, wanted, expand, agile=True) for it in chunk]}


@route("GET", AGILE + "/board/{boardId}/issue")
def board_issues(req: Req):
    b = get_board(req)
    pids = frozenset(p.idx for p in b.projects)
    return _agile_issue_page(req, lambda it: it.project.idx in pids, ("board", b.id))


@route("GET", AGILE + "/board/{boardId}/backlog")
def board_backlog(req: Req):
    b = get_board(req)
    pids = frozenset(p.idx for p in b.projects)
    site = req.site

    def extra(it):
        return it.project.idx in pids and it.status.cat != 3 and not any(
            site.sprint_by_id[s].state in ("active", "future") for s in it.sprints)
    return _agile_issue_page(req, extra, ("backlog", b.id))


@route("GET", AGILE + "/sprint/{sprintId}/issue")
@route("GET", AGILE + "/board/{boardId}/sprint/{sprintId}/issue")
def sprint_issues(req: Req):
    sid = req.params["sprintId"]
    s = req.site.sprint_by_id.get(int(sid)) if sid.isdigit() else None
    if s is None:
        raise HttpError(404, ["Sprint does not exist or you do not have permission to see it."])
    if "boardId" in req.params:
        get_board(req)
    return _agile_issue_page(req, lambda it: s.id in it.sprints, ("sprint", s.id))


@route("GET", AGILE + "/board/{boardId}/epic")
def board_epics(req: Req):
    b = get_board(req)
    if b.type == "simple":
        eps = []
    else:
        pids = {p.idx for p in b.projects}
        eps = [it for it in req.site.issues if not it.deleted and it.project.idx in pids and it.itype.level == 1]
    done = req.q("done")
    if done is not None:
        want = done.lower() == "true"
        eps = [e for e in eps if (e.status.cat == 3) == want]
    return agile_page(req, eps, req.r.agile_epic)


@route("GET", AGILE + "/board/{boardId}/project")
def board_projects(req: Req):
    b = get_board(req)
    return agile_page(req, list(b.projects), req.r.project_short)


@route("GET", AGILE + "/issue/{issueIdOrKey}")
def agile_issue(req: Req):
    it = get_issue(req)
    raw = req.query.get("fields")
    wanted, _ = parse_fields_param(raw if raw is not None else ["*all"])
    return req.r.issue(it, wanted, _expand_set(req.q("expand")), agile=True)


# --------------------------------------------------------------------------------------------
# OAuth / site discovery helpers (``api.atlassian.com`` shapes, served from the same host)
# --------------------------------------------------------------------------------------------
@route("GET", "/oauth/token/accessible-resources")
def accessible_resources(req: Req):
    return [{"id": req.site.cloud_id, "url": req.site.base_url, "name": "fake-jira",
             "scopes": ["read:jira-work", "read:jira-user", "offline_access"],
             "avatarUrl": "https://site-admin-avatar-cdn.prod.public.atl-paas.net/avatars/240/flag.png"}]


@route("GET", "/_edge/tenant_info")
def tenant_info(req: Req):
    return {"cloudId": req.site.cloud_id}


# --------------------------------------------------------------------------------------------
# Jira Data Center (``/rest/api/2`` under the context path; the agile API as on Cloud)
# --------------------------------------------------------------------------------------------
DC_ROUTES: list[tuple[str, str, re.Pattern, Callable]] = []


def dc_route(method: str, template: str):
    """A Data Center form of a resource (wins over the shared Cloud handler of the same path)."""
    return route(method, template, DC_ROUTES)


# Cloud resources that do not exist on Data Center (a 404 there, as for any unknown resource)
CLOUD_ONLY = frozenset(API + t for t in (
    "/search/jql", "/search/approximate-count", "/jql/parse", "/changelog/bulkfetch",
    "/issue/{issueIdOrKey}/changelog", "/issue/{issueIdOrKey}/changelog/list",
    "/project/search", "/project/{projectIdOrKey}/email", "/project/{projectIdOrKey}/component",
    "/users/search", "/users", "/user/groups", "/group/bulk",
    "/field/search", "/field/{fieldId}/context", "/field/{fieldId}/context/{contextId}/option",
    "/field/{fieldId}/context/projectmapping", "/label", "/issuetypescheme", "/issuetypescreenscheme",
    "/fieldconfiguration", "/workflowscheme", "/workflows/search", "/screenscheme", "/statuses/search",
    "/filter/search", "/filter/my", "/auditing/record", "/priority/search", "/resolution/search",
    "/priorityscheme", "/dashboard/search", "/screens/tabs",
))


def match_dc(method: str, path: str) -> tuple[Callable, str, dict] | None:
    """Route a Data Center path (context path already removed). The template returned is the Data Center one
    (``/rest/api/2/...``): request counts, faults and ``set_forbidden``/``set_missing`` use it."""
    for m, tpl, pat, fn in sorted(DC_ROUTES, key=lambda r: r[1].count("{")):
        if m == method:
            mm = pat.match(path)
            if mm:
                return fn, tpl, mm.groupdict()
    if path.startswith(API2 + "/"):
        shared = API + path[len(API2):]
    elif path.startswith((AGILE + "/", SDAPI + "/")):
        shared = path
    else:
        return None  # /rest/api/3, dev-status, OAuth discovery ...: Cloud only
    # a Cloud-only resource is not there: the path falls to the next route, as on Jira
    # (``project/search`` is the project with key "search": a 404)
    for m, tpl, pat, fn in _sorted_routes():
        if m != method or tpl in CLOUD_ONLY:
            continue
        mm = pat.match(shared)
        if mm:
            return fn, (API2 + tpl[len(API):]) if tpl.startswith(API) else tpl, mm.groupdict()
    return None


def known_path_dc(path: str) -> bool:
    if any(pat.match(path) for _, _, pat, _ in DC_ROUTES):
        return True
    if path.startswith(API2 + "/"):
        shared = API + path[len(API2):]
    elif path.startswith((AGILE + "/", SDAPI + "/")):
        shared = path
    else:
        return False
    return any(pat.match(shared) and tpl not in CLOUD_ONLY for _, tpl, pat, _ in ROUTES)


def result_window_error(asked: int, window: int) -> HttpError:
    return HttpError(400, [f"Search limit exceeded. We couldn't complete your search because it requests {asked:,} results "
                           f"which exceeded the search platform limit of {window:,}. Try narrowing your search "
                           f"(for example with a range of created or updated dates) or reducing the page size."])


@dc_route("GET", API2 + "/search")
@dc_route("POST", API2 + "/search")
def dc_search(req: Req) -> dict:
    """``/rest/api/2/search``: startAt/maxResults/total paging, ``maxResults`` capped by
    jira.search.views.default.max (``search_max_results``), unbounded JQL allowed, ``fields`` default
    ``*navigable``, and no page beyond the result window (``startAt + maxResults > result_window`` is a 400).
    ``expand=changelog`` embeds whole histories (the renderer's Data Center form)."""
    site = req.site
    if req.method == "POST":
        b = req.body if isinstance(req.body, dict) else {}
        jql, start_raw, mx_raw = b.get("jql"), b.get("startAt"), b.get("maxResults")
        fields_raw, expand_raw, props = b.get("fields"), b.get("expand"), b.get("properties")
        validate = b.get("validateQuery")
    else:
        jql, start_raw, mx_raw = req.q("jql"), req.q("startAt"), req.q("maxResults")
        fields_raw, expand_raw, props = req.query.get("fields"), req.query.get("expand"), req.query.get("properties")
        validate = req.q("validateQuery")
    if validate is not None and str(validate).lower() not in ("true", "false", "strict", "warn", "none"):
        raise HttpError(400, [f"Invalid validateQuery value: '{validate}'."])
    try:
        start = max(0, int(start_raw or 0))
        mx = 50 if mx_raw in (None, "") else int(mx_raw)
    except (TypeError, ValueError):
        raise HttpError(400, ["The 'startAt' and 'maxResults' parameters must be numbers."]) from None
    if mx < 0:
        mx = 50
    mx = min(mx, site.search_max_results)
    window = site.result_window
    if window and start + mx > window:
        raise result_window_error(start + mx, window)
    if fields_raw in (None, [], ""):
        fields_raw = ["*navigable"]
    wanted, _ = parse_fields_param(fields_raw)
    expand = _expand_set(expand_raw)
    if props is not None and not isinstance(props, list):
        props = [props]
    if props:
        props = [x.strip() for v in props for x in str(v).split(",") if x.strip()]
    _, issues = evaluate(site, jql or "", require_bounded=False)
    chunk = issues[start:start + mx]
    r = req.r
    exp_issue = expand - {"names", "schema"}
    body: dict[str, Any] = {"expand": "schema,names", "startAt": start, "maxResults": mx, "total": len(issues),
                            "issues": [r.issue(it, wanted, exp_issue, props) for it in chunk]}
    if "names" in expand:
        body["names"] = {f: FIELD_NAMES.get(f, f) for f in (wanted or [])}
    if "schema" in expand:
        body["schema"] = {f: FIELD_SCHEMA[f] for f in (wanted or []) if f in FIELD_SCHEMA}
    return body


def _dc_user(req: Req):
    site = req.site
    key, name = req.q("key"), req.q("username")
    if not key and not name:
        raise HttpError(400, ["Either the 'username' or the 'key' query parameter must be provided."])
    if key:
        u = next((u for u in site.users if u.key == key), None)
        if u is None:
            raise HttpError(404, [f"The user with the key '{key}' does not exist."])
    else:
        u = next((u for u in site.users if u.name.lower() == name.lower()), None)
        if u is None:
            raise HttpError(404, [f"The user named '{name}' does not exist"])
    return u


@dc_route("GET", API2 + "/user")
def dc_user_get(req: Req):
    u = _dc_user(req)
    return req.r.user_full(u.idx, _expand_set(req.q("expand")))


@dc_route("GET", API2 + "/user/search")
def dc_user_search(req: Req):
    """``username`` (required) is matched as a prefix of the username, the e-mail address or any word of the
    display name ("." matches everybody); ``includeActive`` (default true), ``includeInactive`` (default false);
    startAt/maxResults (default 50, at most 1000); a bare list in username order."""
    q = req.q("username")
    if q is None or q == "":
        raise HttpError(400, ["The username query parameter was not provided"])
    q = q.lower()
    active, inactive = req.qbool("includeActive", True), req.qbool("includeInactive", False)
    start = req.qint("startAt", 0, lo=0)
    mx = req.qint("maxResults", 50, lo=0, hi=1000)

    def hit(u) -> bool:
        if q == ".":
            return True
        return (u.name.lower().startswith(q) or u.dc_email.lower().startswith(q)
                or u.display_name.lower().startswith(q) or any(w.startswith(q) for w in u.display_name.lower().split()))
    users = sorted((u for u in req.site.users if (active if u.active else inactive) and hit(u)), key=lambda u: u.name.lower())
    return [req.r.user(u.idx) for u in users[start:start + mx]]


@dc_route("GET", API2 + "/groups/picker")
def dc_groups_picker(req: Req):
    """Groups whose name contains ``query`` (case-insensitive), sorted by name, at most ``maxResults``
    (default: jira.ajax.autocomplete.limit, 20); ``exclude`` (repeatable), ``userName`` (only that user's groups)."""
    site = req.site
    q = (req.q("query") or "").lower()
    exclude = set(req.qlist("exclude") or [])
    gs = [g for g in site.groups if q in g.name.lower() and g.name not in exclude]
    uname = req.q("userName")
    if uname:
        u = site.user_by_dc.get(uname.lower())
        gs = [g for g in gs if u is not None and u.idx in g.members]
    gs.sort(key=lambda g: g.name.lower())
    mx = req.qint("maxResults", 20, lo=0)
    chunk = gs[:mx]

    def html_name(n: str) -> str:
        if not q:
            return n
        i = n.lower().find(q)
        return f"{n[:i]}<b>{n[i:i + len(q)]}</b>{n[i + len(q):]}"
    return {"header": f"Showing {len(chunk)} of {len(gs)} matching groups", "total": len(gs),
            "groups": [{"name": g.name, "html": html_name(g.name), "labels": []} for g in chunk]}


@dc_route("GET", API2 + "/group/member")
def dc_group_members(req: Req):
    site = req.site
    gname = req.q("groupname")
    if not gname:
        raise HttpError(400, ["The 'groupname' query parameter must be provided."])
    g = next((g for g in site.groups if g.name == gname), None)
    if g is None:
        raise HttpError(404, [f"The group named '{gname}' does not exist."])
    inactive = req.qbool("includeInactiveUsers", False)
    members = sorted((m for m in g.members if inactive or site.users[m].active), key=lambda m: site.users[m].name.lower())
    return page_bean(req, members, req.r.user, default_max=50, cap=50)


@dc_route("GET", API2 + "/priorityschemes")
def dc_priority_schemes(req: Req):
    r = req.r
    expand = _expand_set(req.q("expand"))
    start = req.qint("startAt", 0, lo=0)
    mx = req.qint("maxResults", 100, lo=0, hi=1000)
    items = req.site.priority_schemes
    chunk = items[start:start + mx]

    def render(s):
        d = {"expand": "projectKeys", "self": f"{r.api}/priorityschemes/{s['id']}", "id": s["id"], "name": s["name"],
             "description": s["description"], "defaultOptionId": s["default"], "optionIds": list(s["priorities"]),
             "defaultScheme": s["isDefault"]}
        if "schemes.projectKeys" in expand or "projectKeys" in expand:
            d["projectKeys"] = [p.key for p in s["projects"]]
        return d
    return {"expand": "schemes", "self": f"{r.api}/priorityschemes?startAt={start}&maxResults={mx}",
            "maxResults": mx, "startAt": start, "total": len(items), "schemes": [render(s) for s in chunk]}


def _dc_workflow_json(req: Req, k: int, w: dict) -> dict:
    r = req.r
    site = req.site
    modified = site.anchor - (30 + 37 * k) * 86_400_000 - k * 3_600_000
    who = site.users[site.humans[k % 5]]
    lt = _dt.datetime.fromtimestamp(modified / 1000, r.tz)  # Jira's complete date/time format: dd/MMM/yy h:mm a
    return {"name": w["name"], "description": w["description"],
            "lastModifiedDate": lt.strftime("%d/%b/%y ") + lt.strftime("%I:%M %p").lstrip("0"),
            "lastModifiedUser": who.display_name, "steps": len(w["statuses"]), "default": w["name"] == "jira"}


@dc_route("GET", API2 + "/workflow")
def dc_workflows(req: Req):
    """Every workflow by name (no ids on Data Center); ``workflowName`` answers that one workflow as an object."""
    wfs = req.site.workflows
    name = req.q("workflowName")
    if name:
        for k, w in enumerate(wfs):
            if w["name"] == name:
                return _dc_workflow_json(req, k, w)
        raise HttpError(404, [f"Workflow with name '{name}' does not exist."])
    return [_dc_workflow_json(req, k, w) for k, w in enumerate(wfs)]


# Jira Service Management (``/rest/servicedeskapi``, the same on Cloud and Data Center): servicedesk.py
register_servicedesk(route, HttpError)


__all__ = ["ROUTES", "DC_ROUTES", "match", "match_dc", "known_path", "known_path_dc", "HttpError", "Req", "API",
           "API2", "AGILE", "evaluate"]
