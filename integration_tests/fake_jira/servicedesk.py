"""Jira Service Management (``/rest/servicedeskapi``) in the fake, on Cloud and on Data Center alike.

Two service desks on existing projects (OPS: desk 1, SEC: desk 2); every live issue of those projects is a customer
request. Everything a request shows is derived from its issue's current state, so an issue update (``update_issues``,
``add_comments``...) changes the request visibly and ground truth follows:

* request type: one of its desk's three (``id % 3``); ``Request new hardware``, ``Request access`` and ``Security
  review`` have an approval;
* status history (``request/{key}/status``, most recent first): the initial "Waiting for support" at ``created``,
  then the issue's current status at ``status_changed`` (one entry when that is ``created``);
* SLAs: "Time to first response" (goal 4 h) stopped by the first comment, "Time to resolution" (goal 5 days)
  stopped by the resolution; a metric not stopped has an ``ongoingCycle`` evaluated at the issue's ``updated``
  (elapsed = updated - start), breached when that passes the goal;
* comments: the issue's comments; restricted ones, and every third, are internal (``public: false``);
* participants: 0-2 users picked from the issue id; approvals: one per request whose type has one (approved when the
  issue is resolved, declined every fifth, else pending).

The platform side: the locked custom field "Approvals" (``APPROVALS_FIELD``, schema custom type
``com.atlassian.servicedesk.approvals-service:sd-approvals``) is in ``GET /field`` on Cloud and Data Center, and an issue
search (or ``GET issue``) asking for it gets, for a request, its approvals as ``request/{key}/approval`` shows them (the
same objects), ``null`` when it has none; an issue of another project (or a site without JSM) has ``null``.
``site.approvals_field_links = False``: the field shows the approvals without their ``_links`` (a form the connector
must not take for the endpoint's list).

Dimensions: request types (global ids), queues (ids per desk, ``includeCount=true`` gives ``issueCount``),
customers (several desks share some), organizations (global).

Strictness (Atlassian's servicedeskapi docs): pages are ``start``/``limit`` (capped at 50) with ``size``,
``isLastPage``, ``values``, ``_links``; ``servicedesk/{id}/customer`` and ``organization/{id}/user`` are experimental
and answer 412 without ``X-ExperimentalApi: opt-in``; a request list's embedded pages (``sla``, ``participant``,
``status``, ``comment`` expands) hold at most ``EMBEDDED`` entries (``isLastPage`` false beyond). ``FakeJira(jsm=False)``:
no JSM on the site, every servicedeskapi path is a 404. ``FakeJira(jsm_agent=False)``: the account is not an agent:
queues and customers are 403, the request list shows only the account's own requests (reporter or participant).
On Data Center the request list is always "my requests" (the account's own), as Jira Data Center documents; other
requests are read one by one (``request/{key}``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterable

from .timefmt import fmt_platform

if TYPE_CHECKING:  # site.py imports this module (the stream keys): no import of it at run time here
    from .site import Issue, Site

SDAPI = "/rest/servicedeskapi"
APPROVALS_FIELD = "customfield_10035"  # catalog.CUSTOM_FIELDS: "Approvals"
PAGE_CAP = 50
EMBEDDED = 10  # entries of an embedded page (expand) before `isLastPage: false`
HOUR_MS = 3_600_000
EXPERIMENTAL = ("This API is experimental. Experimental APIs are not guaranteed to be stable within the 3 month "
                "deprecation period. You can opt-in to this experimental API by setting the X-ExperimentalApi header to opt-in.")


@dataclass(frozen=True)
class Desk:
    id: int
    project_key: str
    name: str
    types: tuple  # (id, name, description, has_approval)
    queues: tuple  # (id, name, jql, predicate name)
    slas: tuple  # (id, name, goal ms, kind)


DESKS = (
    Desk(1, "OPS", "IT Help Desk",
         (("11", "Get IT help", "Ask for help with hardware or software.", False),
          ("12", "Request new hardware", "Laptops, monitors, phones.", True),
          ("13", "Report a system problem", "Something is broken.", False)),
         (("1", "All open", "resolution = EMPTY", "open"), ("2", "Resolved", "resolution IS NOT EMPTY", "resolved"),
          ("3", "All requests", "project = OPS", "all")),
         (("1", "Time to first response", 4 * HOUR_MS, "response"), ("2", "Time to resolution", 120 * HOUR_MS, "resolution"))),
    Desk(2, "SEC", "Security Desk",
         (("21", "Report a security incident", "Phishing, malware, lost devices.", False),
          ("22", "Request access", "Access to a system or a repository.", True),
          ("23", "Security review", "Review of a design or a vendor.", True)),
         (("1", "All open", "resolution = EMPTY", "open"), ("2", "Resolved", "resolution IS NOT EMPTY", "resolved")),
         (("3", "Time to first response", 4 * HOUR_MS, "response"), ("4", "Time to resolution", 120 * HOUR_MS, "resolution"))),
)
ORGANIZATIONS = (("1", "Acme Corp", (1, 2)), ("2", "Globex", (1,)), ("3", "Initech", (2,)), ("4", "Umbrella", (1, 2)))

# primary keys of the JSM streams (Data Center: users by key)
JSM_STREAM_PKS = {
    "service_desks": ["id"], "request_types": ["id"], "queues": ["serviceDeskId", "id"],
    "customers": ["serviceDeskId", "accountId"], "organizations": ["id"], "requests": ["issueId"],
    "request_slas": ["issueId", "id"], "request_comments": ["id"], "request_participants": ["issueId", "accountId"],
    "request_approvals": ["issueId", "id"], "request_status_history": ["issueId", "statusDateMillis"],
}
JSM_STREAM_PKS_DC = dict(JSM_STREAM_PKS) | {"customers": ["serviceDeskId", "key"], "request_participants": ["issueId", "key"]}
JSM_STREAMS = frozenset(JSM_STREAM_PKS)
PER_REQUEST_STREAMS = frozenset({"requests", "request_slas", "request_comments", "request_participants",
                                 "request_approvals", "request_status_history"})


# ----------------------------------------------------------------------------------------------------------------
# the model: everything derived from the site's issues
# ----------------------------------------------------------------------------------------------------------------
def desk_of(site: Site, it: Issue) -> Desk | None:
    return next((d for d in DESKS if d.project_key == it.project.key), None)


def desk_by_id(value: Any) -> Desk | None:
    return next((d for d in DESKS if str(d.id) == str(value)), None)


def requests_of(site: Site, desk: Desk | None = None) -> list[Issue]:
    keys = {d.project_key for d in ([desk] if desk else DESKS)}
    return [it for it in site.issues if not it.deleted and it.project.key in keys]


def request_type(desk: Desk, it: Issue) -> tuple:
    return desk.types[it.id % len(desk.types)]


def customers_of(site: Site, desk: Desk) -> list[int]:
    """User idx of the desk's customers (some in both desks)."""
    n = len(site.users)
    return [i for i in range(1, n) if (i % 2 == 0 if desk.id == 1 else i % 3 == 0)]


def participants_of(site: Site, it: Issue) -> list[int]:
    from .site import Lcg

    rng = Lcg(site.seed, it.id, 31)
    out: list[int] = []
    for _ in range(rng.below(3)):
        idx = rng.below(len(site.users))  # user 0 (the connector's account) too: what a non-agent sees
        if idx not in out and idx != it.reporter:
            out.append(idx)
    return out


def visible(site: Site, it: Issue) -> bool:
    """Whether a non-agent account (user 0) sees the request: its reporter or a participant."""
    return it.reporter == 0 or 0 in participants_of(site, it)


def status_history(site: Site, it: Issue) -> list[tuple]:
    """(name, category key, epoch ms), most recent first."""
    current = (it.status.name, {1: "undefined", 2: "new", 4: "indeterminate", 3: "done"}.get(it.status.cat, "new"))
    changed = it.status_changed or it.created
    if changed <= it.created:
        return [(current[0], current[1], it.created)]
    return [(current[0], current[1], changed), ("Waiting for support", "new", it.created)]


def comments_of(it: Issue) -> list[tuple]:
    """(comment tuple, public), oldest first."""
    return [(c, not c[6] and c[0] % 3 != 0) for c in it.comments]


def approvals_of(site: Site, desk: Desk, it: Issue) -> list[dict]:
    if not request_type(desk, it)[3]:
        return []
    created = it.created + HOUR_MS // 2
    if it.id % 5 == 0:
        decision, completed = "declined", min(it.updated, created + HOUR_MS)
    elif it.resolved:
        decision, completed = "approved", max(created, min(it.resolved, it.updated))
    else:
        decision, completed = "pending", None
    approver = site.humans[it.id % len(site.humans)]
    return [{"id": str(it.id * 10 + 1), "name": "Approve request", "decision": decision, "approver": approver,
             "created": min(created, it.updated), "completed": completed}]


def approvals_field_value(site: Site, renderer: Any, it: Issue) -> list | None:
    """The Approvals field of an issue (platform search / issue): the request's approvals, null when none."""
    d = desk_of(site, it) if getattr(site, "jsm_enabled", True) else None
    if d is None:
        return None
    j = JsmRenderer(site, renderer)
    values = [j.approval(it, a) for a in approvals_of(site, d, it)]
    if not getattr(site, "approvals_field_links", True):  # a site whose field shows approvals without their links
        values = [{k: v for k, v in a.items() if k != "_links"} for a in values]
    return values or None


def slas_of(site: Site, desk: Desk, it: Issue) -> list[dict]:
    """Each metric: its completed cycles and ongoing cycle (start, stop, breach time, breached, elapsed)."""
    out = []
    for sla_id, name, goal, kind in desk.slas:
        start = it.created
        if kind == "response":
            stop = min((c[1] for c in it.comments), default=None)
        else:
            stop = it.resolved
        if stop is not None:
            stop = max(start, min(stop, it.updated))
            elapsed = stop - start
            completed = [{"start": start, "stop": stop, "breach": start + goal, "breached": elapsed > goal,
                          "goal": goal, "elapsed": elapsed}]
            ongoing = None
        else:
            completed = []
            elapsed = max(0, it.updated - start)
            ongoing = {"start": start, "breach": start + goal, "breached": elapsed > goal, "goal": goal,
                       "elapsed": elapsed, "paused": False, "withinCalendarHours": True}
        out.append({"id": sla_id, "name": name, "completed": completed, "ongoing": ongoing})
    return out


# ----------------------------------------------------------------------------------------------------------------
# ground truth
# ----------------------------------------------------------------------------------------------------------------
def ground_truth(site: Site, stream: str, issues: Iterable[Issue] | None = None) -> set[tuple]:
    """PK tuples of a JSM stream; `issues`: only the requests of these issues (per-request streams)."""
    if not getattr(site, "jsm_enabled", True):
        return set()
    dc = site.dc
    user_id = (lambda i: site.users[i].key) if dc else (lambda i: site.users[i].account_id)
    agent = getattr(site, "jsm_agent", True)
    if stream == "service_desks":
        return {(str(d.id),) for d in DESKS}
    if stream == "request_types":
        return {(t[0],) for d in DESKS for t in d.types}
    if stream == "queues":
        return {(str(d.id), q[0]) for d in DESKS for q in d.queues} if agent else set()
    if stream == "customers":
        return {(str(d.id), user_id(i)) for d in DESKS for i in customers_of(site, d)} if agent else set()
    if stream == "organizations":
        return {(o[0],) for o in ORGANIZATIONS}
    wanted = None if issues is None else {it.id for it in issues}
    rows: set[tuple] = set()
    for d in DESKS:
        for it in requests_of(site, d):
            if wanted is not None and it.id not in wanted:
                continue
            if not agent and not visible(site, it):  # a non-agent sees its own requests only
                continue
            iid = str(it.id)
            if stream == "requests":
                rows.add((iid,))
            elif stream == "request_slas":
                rows |= {(iid, s["id"]) for s in slas_of(site, d, it)}
            elif stream == "request_comments":
                rows |= {(str(c[0]),) for c, public in comments_of(it) if public or agent}
            elif stream == "request_participants":
                rows |= {(iid, user_id(i)) for i in participants_of(site, it)}
            elif stream == "request_approvals":
                rows |= {(iid, a["id"]) for a in approvals_of(site, d, it)}
            elif stream == "request_status_history":
                rows |= {(iid, ms) for _, _, ms in status_history(site, it)}
            else:
                raise KeyError(stream)
    return rows


# ----------------------------------------------------------------------------------------------------------------
# rendering
# ----------------------------------------------------------------------------------------------------------------
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def date(site: Site, ms: int | None) -> dict | None:
    """JSM's DateDTO: `iso8601` (no fraction), `jira` (Jira's format, ms), `friendly`, `epochMillis`."""
    if ms is None:
        return None
    jira = fmt_platform(ms, site.tz)
    iso = jira[:19] + jira[23:]
    day = f"{int(jira[8:10]):02d}/{_MONTHS[int(jira[5:7]) - 1]}/{jira[2:4]}"
    hour = int(jira[11:13])
    friendly = f"{day} {hour % 12 or 12}:{jira[14:16]} {'PM' if hour >= 12 else 'AM'}"
    return {"iso8601": iso, "jira": jira, "friendly": friendly, "epochMillis": ms}


def duration(ms: int) -> dict:
    minutes = ms // 60_000
    return {"millis": ms, "friendly": f"{minutes // 60}h {minutes % 60}m"}


class JsmRenderer:
    def __init__(self, site: Site, renderer: Any) -> None:
        self.site = site
        self.r = renderer
        self.base = site.base_url + SDAPI

    def user(self, idx: int) -> dict:
        full = self.r.user(idx)
        if self.site.dc:
            out = {k: full.get(k) for k in ("key", "name", "emailAddress", "displayName", "active", "timeZone")}
        else:
            out = {k: full[k] for k in ("accountId", "emailAddress", "displayName", "active", "timeZone") if k in full}
        out["_links"] = {"jiraRest": full["self"], "avatarUrls": full.get("avatarUrls"), "self": full["self"]}
        return out

    def desk(self, d: Desk) -> dict:
        p = self.site.find_project(d.project_key)
        return {"id": str(d.id), "projectId": str(p.id), "projectName": p.name, "projectKey": p.key,
                "_links": {"self": f"{self.base}/servicedesk/{d.id}"}}

    def request_type(self, d: Desk, t: tuple) -> dict:
        return {"id": t[0], "_links": {"self": f"{self.base}/servicedesk/{d.id}/requesttype/{t[0]}"}, "name": t[1],
                "description": t[2], "helpText": "", "issueTypeId": "10001", "serviceDeskId": str(d.id),
                "portalId": str(d.id), "groupIds": [str(d.id * 10)]}

    def queue(self, d: Desk, q: tuple, count: bool) -> dict:
        out = {"id": q[0], "name": q[1], "jql": f"project = {d.project_key} AND {q[2]}" if q[3] != "all" else q[2],
               "fields": ["issuetype", "issuekey", "summary", "status"],
               "_links": {"self": f"{self.base}/servicedesk/{d.id}/queue/{q[0]}"}}
        if count:
            reqs = requests_of(self.site, d)
            pred = {"open": lambda it: not it.resolved, "resolved": lambda it: bool(it.resolved), "all": lambda it: True}[q[3]]
            out["issueCount"] = sum(1 for it in reqs if pred(it))
        return out

    def organization(self, o: tuple) -> dict:
        return {"id": o[0], "name": o[1], "_links": {"self": f"{self.base}/organization/{o[0]}"}}

    def sla(self, d: Desk, it: Issue, s: dict) -> dict:
        def cycle(c: dict, ongoing: bool) -> dict:
            out = {"startTime": date(self.site, c["start"]), "breached": c["breached"],
                   "goalDuration": duration(c["goal"]), "elapsedTime": duration(c["elapsed"]),
                   "remainingTime": duration(c["goal"] - c["elapsed"])}
            if ongoing:
                out["breachTime"] = date(self.site, c["breach"])
                out["paused"] = c["paused"]
                out["withinCalendarHours"] = c["withinCalendarHours"]
            else:
                out["stopTime"] = date(self.site, c["stop"])
                if c["breached"]:
                    out["breachTime"] = date(self.site, c["breach"])
            return out
        out = {"id": s["id"], "name": s["name"], "_links": {"self": f"{self.base}/request/{it.id}/sla/{s['id']}"},
               "completedCycles": [cycle(c, False) for c in s["completed"]]}
        if s["ongoing"]:
            out["ongoingCycle"] = cycle(s["ongoing"], True)
        return out

    def comment(self, it: Issue, c: tuple, public: bool) -> dict:
        return {"id": str(c[0]), "body": self.r.comment_body(c[5]), "public": public, "author": self.user(c[3]),
                "created": date(self.site, c[1]), "_links": {"self": f"{self.base}/request/{it.id}/comment/{c[0]}"}}

    def status(self, entry: tuple) -> dict:
        return {"status": entry[0], "statusCategory": entry[1].upper(), "statusDate": date(self.site, entry[2])}

    def approval(self, it: Issue, a: dict) -> dict:
        decision = a["decision"]
        out = {"id": a["id"], "name": a["name"], "finalDecision": decision,
               "canAnswerApproval": False,
               "approvers": [{"approver": self.user(a["approver"]), "approverDecision": decision}],
               "createdDate": date(self.site, a["created"]),
               "_links": {"self": f"{self.base}/request/{it.id}/approval/{a['id']}"}}
        if a["completed"] is not None:
            out["completedDate"] = date(self.site, a["completed"])
        return out

    def request(self, d: Desk, it: Issue, expand: set, agent: bool) -> dict:
        t = request_type(d, it)
        hist = status_history(self.site, it)
        out = {"_expands": sorted(e for e in ("participant", "status", "sla", "requestType", "serviceDesk", "comment", "action") if e),
               "issueId": str(it.id), "issueKey": it.key, "requestTypeId": t[0], "serviceDeskId": str(d.id),
               "createdDate": date(self.site, it.created), "reporter": self.user(it.reporter if it.reporter is not None else 0),
               "requestFieldValues": [{"fieldId": "summary", "label": "Summary", "value": it.summary}],
               "currentStatus": self.status(hist[0]),
               "_links": {"jiraRest": f"{self.r.api}/issue/{it.id}", "web": f"{self.site.base_url}/servicedesk/customer/portal/{d.id}/{it.key}",
                          "self": f"{self.base}/request/{it.id}"}}
        if "serviceDesk" in expand:
            out["serviceDesk"] = self.desk(d)
        if "requestType" in expand:
            out["requestType"] = self.request_type(d, t)
        if "status" in expand:
            out["status"] = embedded([self.status(h) for h in hist], f"{self.base}/request/{it.id}/status")
        if "participant" in expand:
            out["participants"] = embedded([self.user(i) for i in participants_of(self.site, it)],
                                           f"{self.base}/request/{it.id}/participant")
        if "sla" in expand:
            out["sla"] = embedded([self.sla(d, it, s) for s in slas_of(self.site, d, it)], f"{self.base}/request/{it.id}/sla")
        if "comment" in expand:
            out["comments"] = embedded([self.comment(it, c, p) for c, p in comments_of(it) if p or agent],
                                       f"{self.base}/request/{it.id}/comment")
        return out


def embedded(items: list, self_url: str) -> dict:
    shown = items[:EMBEDDED]
    return {"size": len(shown), "start": 0, "limit": EMBEDDED, "isLastPage": len(items) <= EMBEDDED, "values": shown,
            "_links": {"self": self_url}}


# ----------------------------------------------------------------------------------------------------------------
# routes
# ----------------------------------------------------------------------------------------------------------------
def register(route: Callable, HttpError: type) -> None:
    """Register the servicedeskapi routes (shared by Cloud and Data Center: the path is the same on both)."""

    def jsm(method: str, template: str, experimental: bool = False, agent_only: bool = False):
        def deco(fn):
            def handler(req):
                site = req.site
                if not getattr(site, "jsm_enabled", True):
                    raise HttpError(404, [f"null for uri: {site.base_url}{req.path}"])
                if experimental and (req.headers is None or (req.headers.get("X-ExperimentalApi") or "").lower() != "opt-in"):
                    raise HttpError(412, [EXPERIMENTAL])
                if agent_only and not getattr(site, "jsm_agent", True):
                    raise HttpError(403, ["You do not have permission to perform this operation."])
                return fn(req, JsmRenderer(site, req.r))
            route(method, SDAPI + template)(handler)
            return fn
        return deco

    def page(req, items: list, self_path: str) -> dict:
        try:
            start = int(req.q("start", 0) or 0)
            limit = int(req.q("limit", PAGE_CAP) or PAGE_CAP)
        except ValueError:
            raise HttpError(400, ["start and limit must be numbers."]) from None
        if start < 0 or limit < 0:
            raise HttpError(400, ["start and limit must not be negative."])
        limit = max(1, min(limit, PAGE_CAP))
        shown = items[start:start + limit]
        base = req.site.base_url
        links = {"base": base + SDAPI, "context": "", "self": base + self_path}
        last = start + len(shown) >= len(items)
        if not last:
            links["next"] = f"{base}{self_path}?start={start + len(shown)}&limit={limit}"
        if start > 0:
            links["prev"] = f"{base}{self_path}?start={max(0, start - limit)}&limit={limit}"
        return {"size": len(shown), "start": start, "limit": limit, "isLastPage": last, "values": shown, "_links": links}

    def desk_param(value: Any) -> Desk:
        d = desk_by_id(value) or next((x for x in DESKS if x.project_key == value), None)
        if d is None:
            raise HttpError(404, [f"Service Desk with id: {value} does not exist."])
        return d

    def find_request(req) -> tuple[Desk, Issue]:
        it = req.site.find_issue(req.params["issueIdOrKey"])
        d = desk_of(req.site, it) if it is not None else None
        if it is None or d is None or (not getattr(req.site, "jsm_agent", True) and not visible(req.site, it)):
            raise HttpError(404, ["The request could not be found, or you do not have permission to view it."])
        return d, it

    def expand_of(req) -> set:
        return set(req.qlist("expand") or [])

    @jsm("GET", "/servicedesk")
    def servicedesks(req, j):
        return page(req, [j.desk(d) for d in DESKS], SDAPI + "/servicedesk")

    @jsm("GET", "/servicedesk/{serviceDeskId}")
    def servicedesk(req, j):
        return j.desk(desk_param(req.params["serviceDeskId"]))

    @jsm("GET", "/servicedesk/{serviceDeskId}/requesttype")
    def request_types(req, j):
        d = desk_param(req.params["serviceDeskId"])
        return page(req, [j.request_type(d, t) for t in d.types], req.path)

    @jsm("GET", "/servicedesk/{serviceDeskId}/queue", agent_only=True)
    def queues(req, j):
        d = desk_param(req.params["serviceDeskId"])
        return page(req, [j.queue(d, q, req.qbool("includeCount")) for q in d.queues], req.path)

    @jsm("GET", "/servicedesk/{serviceDeskId}/customer", experimental=True, agent_only=True)
    def customers(req, j):
        d = desk_param(req.params["serviceDeskId"])
        return page(req, [j.user(i) for i in customers_of(req.site, d)], req.path)

    @jsm("GET", "/organization")
    def organizations(req, j):
        return page(req, [j.organization(o) for o in ORGANIZATIONS], req.path)

    @jsm("GET", "/organization/{organizationId}/user", experimental=True)
    def organization_users(req, j):
        o = next((o for o in ORGANIZATIONS if o[0] == req.params["organizationId"]), None)
        if o is None:
            raise HttpError(404, ["Organization does not exist."])
        users = sorted({i for d in DESKS if d.id in o[2] for i in customers_of(req.site, d)[: 3]})
        return page(req, [j.user(i) for i in users], req.path)

    @jsm("GET", "/request")
    def request_list(req, j):
        site = req.site
        status = req.q("requestStatus", "OPEN_REQUESTS")
        if status not in ("OPEN_REQUESTS", "CLOSED_REQUESTS", "ALL_REQUESTS"):
            raise HttpError(400, [f"Invalid requestStatus: {status}"])
        desk_id = req.q("serviceDeskId")
        desks = [desk_param(desk_id)] if desk_id else list(DESKS)
        agent = getattr(site, "jsm_agent", True) and not site.dc  # Data Center lists only the account's own requests
        reqs = [(d, it) for d in desks for it in requests_of(site, d)]
        if not agent:
            reqs = [(d, it) for d, it in reqs if visible(site, it)]
        if status == "OPEN_REQUESTS":
            reqs = [(d, it) for d, it in reqs if not it.resolved]
        elif status == "CLOSED_REQUESTS":
            reqs = [(d, it) for d, it in reqs if it.resolved]
        # "ordered chronologically by the latest activity": most recently updated first (ties: newest id)
        reqs.sort(key=lambda p: (-p[1].updated, -p[1].id))
        expand = expand_of(req)
        shown = page(req, reqs, req.path)
        agent_view = getattr(site, "jsm_agent", True)
        shown["values"] = [j.request(d, it, expand, agent_view) for d, it in shown["values"]]
        return shown

    @jsm("GET", "/request/{issueIdOrKey}")
    def request_get(req, j):
        d, it = find_request(req)
        return j.request(d, it, expand_of(req), getattr(req.site, "jsm_agent", True))

    @jsm("GET", "/request/{issueIdOrKey}/sla")
    def request_sla(req, j):
        d, it = find_request(req)
        return page(req, [j.sla(d, it, s) for s in slas_of(req.site, d, it)], req.path)

    @jsm("GET", "/request/{issueIdOrKey}/comment")
    def request_comments(req, j):
        d, it = find_request(req)
        agent = getattr(req.site, "jsm_agent", True)
        public, internal = req.qbool("public", True), req.qbool("internal", True) and agent
        rows = [j.comment(it, c, p) for c, p in comments_of(it) if (p and public) or (not p and internal)]
        return page(req, rows, req.path)

    @jsm("GET", "/request/{issueIdOrKey}/participant")
    def request_participants(req, j):
        d, it = find_request(req)
        return page(req, [j.user(i) for i in participants_of(req.site, it)], req.path)

    @jsm("GET", "/request/{issueIdOrKey}/approval")
    def request_approvals(req, j):
        d, it = find_request(req)
        return page(req, [j.approval(it, a) for a in approvals_of(req.site, d, it)], req.path)

    @jsm("GET", "/request/{issueIdOrKey}/status")
    def request_status(req, j):
        d, it = find_request(req)
        return page(req, [j.status(h) for h in status_history(req.site, it)], req.path)
