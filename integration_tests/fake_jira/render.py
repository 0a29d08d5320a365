"""JSON renderings of site objects in Jira Cloud's shapes, or Jira Data Center's on a Data Center site
(``/rest/api/2``: wiki-markup strings for rich text, users by ``key``/``name``, whole changelogs)."""

from __future__ import annotations

import json

import html
from typing import Any
from urllib.parse import quote

from . import catalog as C
from . import servicedesk as JSM
from .site import MISSING, H_ITEMS, Issue, Lcg, Site, W_SECONDS
from .timefmt import fmt_date, fmt_platform, fmt_user_date, fmt_utc

EMBED_PAGE = 20  # fields.comment / fields.worklog embed at most 20 entries
CHANGELOG_EXPAND = 40  # expand=changelog embeds the 40 newest histories

ALL_FIELDS = [f[0] for f in C.SYSTEM_FIELDS if f[0] not in ("issuekey", "thumbnail")] + [f[0] for f in C.CUSTOM_FIELDS]
NAVIGABLE = [f[0] for f in C.SYSTEM_FIELDS if f[3] and f[0] not in ("issuekey", "thumbnail")] + [f[0] for f in C.CUSTOM_FIELDS]
ALL_FIELD_SET = set(ALL_FIELDS)
FIELD_NAMES = {f[0]: f[1] for f in C.SYSTEM_FIELDS} | {f[0]: f[1] for f in C.CUSTOM_FIELDS}
FIELD_SCHEMA = {f[0]: f[2] for f in C.SYSTEM_FIELDS if f[2]} | {f[0]: f[2] for f in C.CUSTOM_FIELDS}


def adf(text: str | None) -> dict | None:
    if text is None:
        return None
    return {"type": "doc", "version": 1,
            "content": [{"type": "paragraph", "content": [{"type": "text", "text": text}]}]}


def wiki(text: str | None, *seed: int) -> str | None:
    """Jira Data Center's rich text: a wiki-markup string (the same words as Cloud's document, sometimes
    decorated with emphasis, a bullet list, a heading or a code block — derived from ``seed``)."""
    if text is None:
        return None
    lc = Lcg(*seed, 21)
    kind = lc.below(5)
    if kind == 1:
        first, _, rest = text.partition(" ")
        return f"*{first}* {rest}".rstrip()
    if kind == 2:
        return f"{text}\n\n* {lc.words(2, 4)}\n* {lc.words(2, 4)}"
    if kind == 3:
        return f"h3. {lc.words(1, 3).capitalize()}\n{text}"
    if kind == 4:
        return f"{text}\n{{code}}{lc.words(2, 5)}{{code}}"
    return text


def html_p(text: str | None) -> str | None:
    return None if text is None else f"<p>{html.escape(text)}</p>"


def duration(secs: int) -> str:
    parts = []
    for unit, size in (("w", 5 * 8 * 3600), ("d", 8 * 3600), ("h", 3600), ("m", 60)):
        if secs >= size:
            parts.append(f"{secs // size}{unit}")
            secs %= size
    return " ".join(parts) or "0m"


def parse_fields_param(raw: Any) -> tuple[list[str] | None, bool]:
    """Returns (wanted field ids or None for the default, id/key-only?).

    ``raw`` is a list of strings (repeated params / JSON list) or None. Default = ``id`` only.
    """
    if raw is None:
        return [], True
    items = []
    for r in raw if isinstance(raw, list) else [raw]:
        for x in str(r).split(","):
            x = x.strip()
            if x:
                items.append(x)
    if not items:
        return [], True
    wanted: list[str] = []
    seen = set()
    minus = set()
    for x in items:
        if x.startswith("-"):
            minus.add(x[1:])
            continue
        if x == "*all":
            add = ALL_FIELDS
        elif x == "*navigable":
            add = NAVIGABLE
        elif x in ("id", "key", "issuekey"):
            add = []
        else:
            add = [x]
        for f in add:
            if f not in seen:
                seen.add(f)
                wanted.append(f)
    wanted = [f for f in wanted if f not in minus]
    only_ids = all(f in ("id", "key", "issuekey") for f in items if not f.startswith("-"))
    return wanted, only_ids


class Renderer:
    def __init__(self, site: Site, tz=None) -> None:
        self.site = site
        self.tz = tz or site.tz
        self.base = site.base_url
        self.dc = site.dc  # Jira Data Center shapes (REST API v2)
        self.api = self.base + ("/rest/api/2" if self.dc else "/rest/api/3")
        self._users: dict[int, dict] = {}

    # -- small things ---------------------------------------------------------------------------
    def dt(self, ms: int | None) -> str | None:
        return None if ms is None else fmt_platform(ms, self.tz)

    def rich(self, text: str | None, *seed: int) -> Any:
        """Rich text as the deployment writes it: an ADF document on Cloud, a wiki-markup string on Data Center."""
        if text is None:
            return None
        return wiki(text, self.site.seed, *seed) if self.dc else adf(text)

    def user_ref(self, idx: int) -> str:
        """How a changelog item or a property names a user: accountId on Cloud, the user key on Data Center."""
        u = self.site.users[idx]
        return u.key if self.dc else u.account_id

    def group_ref(self, g) -> dict:
        if self.dc:
            return {"name": g.name, "self": f"{self.api}/group?groupname={quote(g.name)}"}
        return {"name": g.name, "groupId": g.group_id, "self": f"{self.api}/group?groupId={g.group_id}"}

    def avatar_urls(self, seed: str) -> dict:
        b = f"https://avatar-management--avatars.us-west-2.prod.public.atl-paas.net/{seed}"
        return {"48x48": f"{b}/48", "24x24": f"{b}/24", "16x16": f"{b}/16", "32x32": f"{b}/32"}

    def user(self, idx: int | None) -> dict | None:
        if idx is None or idx < 0:
            return None
        d = self._users.get(idx)
        if d is None and self.dc:
            u = self.site.users[idx]
            av = f"{self.base}/secure/useravatar?ownerId={quote(u.key)}&avatarId={10300 + idx % 30}"
            d = {"self": f"{self.api}/user?username={quote(u.name)}", "key": u.key, "name": u.name,
                 "emailAddress": u.dc_email, "displayName": u.display_name, "active": u.active,
                 "timeZone": self.site.tz_name if idx == 0 else u.tz,
                 "avatarUrls": {"48x48": av, "24x24": av + "&size=small", "16x16": av + "&size=xsmall",
                                "32x32": av + "&size=medium"}}
            self._users[idx] = d
        if d is None:
            u = self.site.users[idx]
            d = {"self": f"{self.api}/user?accountId={u.account_id}", "accountId": u.account_id}
            if u.email is not MISSING:
                d["emailAddress"] = u.email
            d["avatarUrls"] = self.avatar_urls(u.account_id)
            d["displayName"] = u.display_name
            d["active"] = u.active
            d["timeZone"] = self.site.tz_name if idx == 0 else u.tz
            d["accountType"] = u.account_type
            self._users[idx] = d
        return d

    def user_full(self, idx: int, expand: set | None = None) -> dict:
        u = self.site.users[idx]
        d = dict(self.user(idx))
        d["locale"] = u.locale
        groups = [g for g in self.site.groups if idx in g.members]
        d["groups"] = {"size": len(groups), "items": [self.group_ref(g) for g in groups] if expand and "groups" in expand else []}
        roles = [r for r in C.APPLICATION_ROLES if any(g.name in r[2] for g in groups)]
        d["applicationRoles"] = {"size": len(roles), "items": [{"key": r[0], "name": r[1]} for r in roles] if expand and "applicationRoles" in expand else []}
        d["expand"] = "groups,applicationRoles"
        return d

    def status_category(self, cid: int) -> dict:
        c = C.STATUS_CATEGORY_BY_ID[cid]
        return {"self": f"{self.api}/statuscategory/{c[0]}", "id": c[0], "key": c[1], "colorName": c[2], "name": c[3]}

    def status(self, s) -> dict:
        d = {"self": f"{self.api}/status/{s.id}", "description": s.description,
             "iconUrl": f"{self.base}/images/icons/statuses/generic.png", "name": s.name, "id": s.id,
             "statusCategory": self.status_category(s.cat)}
        if s.project_id is not None and not self.dc:
            d["scope"] = {"type": "PROJECT", "project": {"id": str(s.project_id)}}
        return d

    def issuetype(self, t) -> dict:
        d = {"self": f"{self.api}/issuetype/{t.id}", "id": t.id, "description": t.description,
             "iconUrl": f"{self.api}/universal_avatar/view/type/issuetype/avatar/{t.avatar_id}?size=medium",
             "name": t.name, "subtask": t.subtask, "avatarId": t.avatar_id}
        if self.dc:
            return d
        d["hierarchyLevel"] = t.level
        if t.project_id is not None:
            d["entityId"] = f"{t.project_id}-{t.id}"
            d["scope"] = {"type": "PROJECT", "project": {"id": str(t.project_id)}}
        return d

    def priority(self, k: int) -> dict:
        p = C.PRIORITIES[k]
        return {"self": f"{self.api}/priority/{p[0]}", "iconUrl": f"{self.base}/images/icons/priorities/{p[3]}",
                "name": p[1], "id": p[0]}

    def resolution(self, k: int) -> dict | None:
        if k < 0:
            return None
        r = C.RESOLUTIONS[k]
        return {"self": f"{self.api}/resolution/{r[0]}", "id": r[0], "description": r[2], "name": r[1]}

    def project_short(self, p) -> dict:
        d = {"self": f"{self.api}/project/{p.id}", "id": str(p.id), "key": p.key, "name": p.name,
             "projectTypeKey": p.type_key, "simplified": p.simplified,
             "avatarUrls": self.project_avatar_urls(p)}
        if self.dc:  # no team-managed projects on Data Center
            del d["simplified"]
        if p.category:
            d["projectCategory"] = self.project_category(p.category)
        return d

    def project_avatar_urls(self, p) -> dict:
        b = f"{self.api}/universal_avatar/view/type/project/avatar/{p.avatar_id}"
        return {"48x48": b, "24x24": b + "?size=small", "16x16": b + "?size=xsmall", "32x32": b + "?size=medium"}

    def project_category(self, c) -> dict:
        return {"self": f"{self.api}/projectCategory/{c[0]}", "id": c[0], "description": c[2], "name": c[1]}

    def version(self, v) -> dict:
        d = {"self": f"{self.api}/version/{v.id}", "id": v.id, "description": v.description, "name": v.name,
             "archived": v.archived, "released": v.released}
        if v.start_ms is not None:
            d["startDate"] = fmt_date(v.start_ms, self.tz)
        if v.release_ms is not None:
            d["releaseDate"] = fmt_date(v.release_ms, self.tz)
            if not v.released:
                d["overdue"] = v.release_ms < self.site.now_ms()
            d["userReleaseDate"] = fmt_user_date(v.release_ms, self.tz)
        if v.start_ms is not None:
            d["userStartDate"] = fmt_user_date(v.start_ms, self.tz)
        d["projectId"] = v.project_id
        return d

    def component(self, c, full: bool = False) -> dict:
        d = {"self": f"{self.api}/component/{c.id}", "id": c.id, "name": c.name, "description": c.description}
        if full:
            p = self.site.project_by_id[c.project_id]
            if c.lead is not None:
                d["lead"] = self.user(c.lead)
            d["assigneeType"] = c.assignee_type
            real = c.lead if c.assignee_type == "COMPONENT_LEAD" and c.lead is not None else p.lead
            d["assignee"] = self.user(real) if c.assignee_type != "UNASSIGNED" else None
            d["realAssigneeType"] = "COMPONENT_LEAD" if c.assignee_type == "COMPONENT_LEAD" and c.lead is not None else "PROJECT_DEFAULT"
            d["realAssignee"] = self.user(real)
            d["isAssigneeTypeValid"] = c.assignee_type != "COMPONENT_LEAD" or c.lead is not None
            d["project"] = c.project_key
            d["projectId"] = c.project_id
        return d

    def option(self, fid: str, oid: str | None) -> dict | None:
        if oid is None:
            return None
        return {"self": f"{self.api}/customFieldOption/{oid}", "value": self.site_option_value(fid, oid), "id": oid}

    def site_option_value(self, fid: str, oid: str) -> str:
        for ctx in self.site.cf_contexts[fid]:
            for o_id, val in ctx[4]:
                if o_id == oid:
                    return val
        return ""

    def sprint_field(self, sid: int) -> dict:
        s = self.site.sprint_by_id[sid]
        d = {"id": s.id, "name": s.name, "state": s.state, "boardId": s.origin_board, "goal": s.goal}
        if s.start is not None:
            d["startDate"] = fmt_utc(s.start)
            d["endDate"] = fmt_utc(s.end)
        if s.complete is not None:
            d["completeDate"] = fmt_utc(s.complete)
        return d

    def sprint(self, s) -> dict:
        d = {"id": s.id, "self": f"{self.base}/rest/agile/1.0/sprint/{s.id}", "state": s.state, "name": s.name}
        if s.start is not None:
            d["startDate"] = fmt_utc(s.start)
            d["endDate"] = fmt_utc(s.end)
        if s.complete is not None:
            d["completeDate"] = fmt_utc(s.complete)
        if s.start is not None:
            d["activatedDate"] = fmt_utc(s.start)
        d["createdDate"] = fmt_utc(s.created)
        d["originBoardId"] = s.origin_board
        d["goal"] = s.goal
        return d

    # -- issue children -------------------------------------------------------------------------
    def comment_body(self, seed: int) -> str:
        return Lcg(self.site.seed, seed, 11).words(4, 30).capitalize() + "."

    def comment(self, it: Issue, c: tuple, rendered: bool = False) -> dict:
        cid, created, updated, author, upd_author, seed, restricted = c
        text = self.comment_body(seed)
        d = {"self": f"{self.api}/issue/{it.id}/comment/{cid}", "id": str(cid), "author": self.user(author),
             "body": self.rich(text, seed, 11), "updateAuthor": self.user(upd_author), "created": self.dt(created),
             "updated": self.dt(updated)}
        if not self.dc:
            d["jsdPublic"] = True
        if restricted:
            d["visibility"] = {"type": "role", "value": "Administrators"}
            if not self.dc:
                d["visibility"]["identifier"] = "10002"
        if rendered:
            d["renderedBody"] = html_p(text)
        return d

    def worklog_comment(self, seed: int) -> str | None:
        lc = Lcg(self.site.seed, seed, 12)
        if lc.chance(0.3):
            return None
        return lc.words(2, 12).capitalize()

    def worklog(self, it: Issue, w: tuple) -> dict:
        wid, created, updated, started, author, secs, seed = w
        d = {"self": f"{self.api}/issue/{it.id}/worklog/{wid}", "author": self.user(author),
             "updateAuthor": self.user(author)}
        text = self.worklog_comment(seed)
        if text is not None:
            d["comment"] = self.rich(text, seed, 12)
        d.update({"created": self.dt(created), "updated": self.dt(updated), "started": self.dt(started),
                  "timeSpent": duration(secs), "timeSpentSeconds": secs, "id": str(wid), "issueId": str(it.id)})
        return d

    def attachment(self, a: tuple) -> dict:
        aid, created, author, name, size, mime = a
        d = {"self": f"{self.api}/attachment/{aid}", "id": str(aid), "filename": name, "author": self.user(author),
             "created": self.dt(created), "size": size, "mimeType": mime,
             "content": f"{self.base}/secure/attachment/{aid}/{quote(name)}" if self.dc else f"{self.api}/attachment/content/{aid}"}
        if mime.startswith("image/"):
            d["thumbnail"] = f"{self.base}/secure/thumbnail/{aid}/_thumb_{aid}.png" if self.dc else f"{self.api}/attachment/thumbnail/{aid}"
        return d

    def history_items(self, it: Issue, h: tuple) -> list:
        items = h[H_ITEMS]
        if isinstance(items, list):
            return items
        lc = Lcg(self.site.seed, items, 13)
        out = []
        for _ in range(1 + (1 if lc.chance(0.25) else 0)):
            kind = lc.below(11)
            if kind <= 2:
                sts = it.project.statuses
                a, b = lc.choice(sts), lc.choice(sts)
                out.append({"field": "status", "fieldtype": "jira", "fieldId": "status", "from": a.id,
                            "fromString": a.name, "to": b.id, "toString": b.name})
            elif kind == 3:
                humans = self.site.humans
                a, b = self.site.users[lc.choice(humans)], self.site.users[lc.choice(humans)]
                if self.dc:  # Data Center names the users by key
                    out.append({"field": "assignee", "fieldtype": "jira", "fieldId": "assignee", "from": a.key,
                                "fromString": a.display_name, "to": b.key, "toString": b.display_name})
                    continue
                out.append({"field": "assignee", "fieldtype": "jira", "fieldId": "assignee",
                            "from": a.account_id, "fromString": a.display_name, "to": b.account_id,
                            "toString": b.display_name, "tmpFromAccountId": a.account_id,
                            "tmpToAccountId": b.account_id})
            elif kind == 4:
                a, b = C.PRIORITIES[lc.below(5)], C.PRIORITIES[lc.below(5)]
                out.append({"field": "priority", "fieldtype": "jira", "fieldId": "priority", "from": a[0],
                            "fromString": a[1], "to": b[0], "toString": b[1]})
            elif kind == 5:
                out.append({"field": "Story Points", "fieldtype": "custom", "fieldId": "customfield_10016",
                            "from": None, "fromString": None, "to": None, "toString": str(lc.choice((1, 2, 3, 5, 8)))})
            elif kind == 6:  # labels: Jira writes the whole list before and after, space-separated
                before = sorted({lc.choice(C.LABELS) for _ in range(lc.below(3))})
                after = sorted((set(before) - ({before[0]} if before and lc.chance(0.5) else set())) | {lc.choice(C.LABELS)})
                out.append({"field": "labels", "fieldtype": "jira", "fieldId": "labels", "from": None,
                            "fromString": " ".join(before), "to": None, "toString": " ".join(after)})
            elif kind == 7 and it.sprints:  # Sprint: the ids and names before and after, comma-separated
                names = [self.site.sprint_by_id[sid] for sid in it.sprints[:2]]
                before, after = names[:-1], names
                out.append({"field": "Sprint", "fieldtype": "custom", "fieldId": "customfield_10020",
                            "from": ", ".join(str(x.id) for x in before), "fromString": ", ".join(x.name for x in before),
                            "to": ", ".join(str(x.id) for x in after), "toString": ", ".join(x.name for x in after)})
            elif kind == 8 and it.project.components:  # components: one item per value added or removed
                comp = lc.choice(it.project.components)
                if lc.chance(0.5):
                    out.append({"field": "Component", "fieldtype": "jira", "fieldId": "components", "from": None,
                                "fromString": None, "to": comp.id, "toString": comp.name})
                else:
                    out.append({"field": "Component", "fieldtype": "jira", "fieldId": "components", "from": comp.id,
                                "fromString": comp.name, "to": None, "toString": None})
            elif kind == 9:  # a multi-checkbox custom field: the option lists before and after
                before = "[Impediment]" if lc.chance(0.5) else ""
                after = "" if before else "[Impediment]"
                out.append({"field": "Flagged", "fieldtype": "custom", "fieldId": "customfield_10021",
                            "from": None, "fromString": before or None, "to": None, "toString": after or None})
            else:
                out.append({"field": "description", "fieldtype": "jira", "fieldId": "description",
                            "from": None, "fromString": lc.words(3, 10), "to": None, "toString": lc.words(3, 12)})
        return out

    # -- development information (Jira's undocumented dev-status API) -------------------------------------------
    def pull_requests(self, it: Issue) -> list:
        """(application type, pull request) linked to the issue: about one issue in eight has 1-3 of them."""
        lc = Lcg(self.site.seed, it.id, 17)
        if not lc.chance(0.125):
            return []
        out = []
        for n in range(1 + lc.below(3)):
            app = lc.choice(("GitHub", "bitbucket"))
            repo = lc.choice(("backend", "web", "mobile"))
            number = 100 + 300 * n + lc.below(300)  # unique within the issue
            state = lc.choice(("OPEN", "MERGED", "MERGED", "DECLINED"))
            author = self.site.users[lc.choice(self.site.humans)]
            out.append((app, {
                "author": {"name": author.display_name, "avatar": ""},
                "id": f"#{number}", "name": f"{it.key}: change {n + 1}", "commentCount": lc.below(6),
                "source": {"branch": f"feature/{it.key.lower()}-{n}", "url": f"https://git.example/{repo}/tree/feature"},
                "destination": {"branch": "main", "url": f"https://git.example/{repo}/tree/main"},
                "reviewers": [], "status": state, "url": f"https://git.example/{repo}/pull/{number}",
                "lastUpdate": self.dt(it.updated), "repositoryId": f"{app.lower()}-{repo}", "repositoryName": repo,
                "repositoryUrl": f"https://git.example/{repo}"}))
        return out

    def development_field(self, it: Issue) -> str:
        """The Development field as Jira Cloud writes it: "{}" without development information, else a summary string
        whose `json` part names the counts per application type."""
        prs = self.pull_requests(it)
        if not prs:
            return "{}"
        by_type: dict = {}
        for app, _ in prs:
            by_type[app] = {"count": by_type.get(app, {}).get("count", 0) + 1, "name": app}
        summary = {"cachedValue": {"errors": [], "summary": {"pullrequest": {"overall": {
            "count": len(prs), "lastUpdated": self.dt(it.updated), "stateCount": len(prs), "state": "OPEN",
            "details": {"openCount": sum(1 for _, p in prs if p["status"] == "OPEN"), "total": len(prs)}, "open": True},
            "byInstanceType": by_type}}}, "isStale": False}
        return (f"{{pullrequest={{dataType=pullrequest, state=OPEN, stateCount={len(prs)}}}, "
                f"json={json.dumps(summary, separators=(',', ':'))}}}")

    def history(self, it: Issue, h: tuple, field_ids: set | None = None) -> dict | None:
        items = self.history_items(it, h)
        if field_ids:
            items = [x for x in items if x.get("fieldId") in field_ids or x.get("field") in field_ids]
            if not items:
                return None
        return {"id": str(h[0]), "author": self.user(h[2]), "created": self.dt(h[1]), "items": items}

    # -- issue ----------------------------------------------------------------------------------
    def description_text(self, it: Issue) -> str | None:
        if not it.has_desc:
            return None
        return Lcg(self.site.seed, it.id, 5).words(8, 60).capitalize() + "."

    def issue_ref(self, other: Issue) -> dict:
        return {"id": str(other.id), "key": other.key, "self": f"{self.api}/issue/{other.id}",
                "fields": {"summary": other.summary, "status": self.status(other.status),
                           "priority": self.priority(other.priority), "issuetype": self.issuetype(other.itype)}}

    def comment_page(self, it: Issue, rendered: bool = False) -> dict:
        coms = it.comments
        return {"comments": [self.comment(it, c, rendered) for c in coms[:EMBED_PAGE]],
                "self": f"{self.api}/issue/{it.id}/comment", "maxResults": EMBED_PAGE,
                "total": len(coms), "startAt": 0}

    def worklog_page(self, it: Issue) -> dict:
        wls = it.worklogs
        return {"startAt": 0, "maxResults": EMBED_PAGE, "total": len(wls),
                "worklogs": [self.worklog(it, w) for w in wls[:EMBED_PAGE]]}

    def field_value(self, it: Issue, f: str, agile: bool = False) -> Any:
        site = self.site
        if f == "summary":
            return it.summary
        if f == "status":
            return self.status(it.status)
        if f == "issuetype":
            return self.issuetype(it.itype)
        if f == "project":
            return self.project_short(it.project)
        if f == "created":
            return self.dt(it.created)
        if f == "updated":
            return self.dt(it.updated)
        if f == "priority":
            return self.priority(it.priority)
        if f in ("assignee", "reporter", "creator"):
            return self.user(getattr(it, f))
        if f == "resolution":
            return self.resolution(it.resolution)
        if f == "resolutiondate":
            return self.dt(it.resolved)
        if f == "statuscategorychangedate":
            return self.dt(it.status_changed)
        if f == "labels":
            return list(it.labels)
        if f == "description":
            return self.rich(self.description_text(it), it.id, 5)
        if f == "environment":
            return self.rich(Lcg(site.seed, it.id, 6).words(3, 8), it.id, 6) if it.env else None
        if f == "duedate":
            return fmt_date(it.due, self.tz) if it.due is not None else None
        if f == "fixVersions":
            return [self.version(v) for v in it.fix_versions]
        if f == "versions":
            return [self.version(v) for v in it.versions]
        if f == "components":
            return [self.component(site.components_by_id[c]) for c in it.components]
        if f == "comment":
            return self.comment_page(it)
        if f == "worklog":
            return self.worklog_page(it)
        if f == "attachment":
            return [self.attachment(a) for a in it.attachments]
        if f == "subtasks":
            return [self.issue_ref(s) for s in it.subtasks if not s.deleted]
        if f == "issuelinks":
            out = []
            for lid, lt, other, outward in it.links:
                if other.deleted:
                    continue
                t = C.LINK_TYPES[lt]
                d = {"id": str(lid), "self": f"{self.api}/issueLink/{lid}",
                     "type": {"id": t[0], "name": t[1], "inward": t[2], "outward": t[3], "self": f"{self.api}/issueLinkType/{t[0]}"}}
                d["outwardIssue" if outward else "inwardIssue"] = self.issue_ref(other)
                out.append(d)
            return out
        if f == "watches":
            return {"self": f"{self.api}/issue/{it.key}/watchers", "watchCount": len(it.watchers), "isWatching": 0 in it.watchers}
        if f == "votes":
            return {"self": f"{self.api}/issue/{it.key}/votes", "votes": len(it.voters), "hasVoted": 0 in it.voters}
        if f in ("timespent", "aggregatetimespent"):
            s = sum(w[W_SECONDS] for w in it.worklogs)
            return s or None
        if f in ("timeoriginalestimate", "aggregatetimeoriginalestimate"):
            return it.estimate
        if f in ("timeestimate", "aggregatetimeestimate"):
            if it.estimate is None:
                return None
            return max(0, it.estimate - sum(w[W_SECONDS] for w in it.worklogs))
        if f in ("progress", "aggregateprogress"):
            spent = sum(w[W_SECONDS] for w in it.worklogs)
            rem = max(0, (it.estimate or 0) - spent)
            d = {"progress": spent, "total": spent + rem}
            if spent + rem:
                d["percent"] = int(100 * spent / (spent + rem))
            return d
        if f == "workratio":
            if not it.estimate:
                return -1
            return int(100 * sum(w[W_SECONDS] for w in it.worklogs) / it.estimate)
        if f == "timetracking":
            if it.estimate is None and not it.worklogs:
                return {}
            spent = sum(w[W_SECONDS] for w in it.worklogs)
            d = {}
            if it.estimate is not None:
                rem = max(0, it.estimate - spent)
                d.update({"originalEstimate": duration(it.estimate), "remainingEstimate": duration(rem),
                          "originalEstimateSeconds": it.estimate, "remainingEstimateSeconds": rem})
            if spent:
                d.update({"timeSpent": duration(spent), "timeSpentSeconds": spent})
            return d
        if f == "lastViewed":
            return None
        if f == "security":
            if not it.security:
                return None
            return {"self": f"{self.api}/securitylevel/10000", "id": "10000", "description": "Employees only", "name": "Internal"}
        if f == "parent":
            return self.issue_ref(it.parent) if it.parent is not None and not it.parent.deleted else None
        # custom fields
        if f == "customfield_10000":
            return self.development_field(it)
        if f == "customfield_10011":
            return it.epic_name
        if f == "customfield_10014":
            if it.epic is not None and not it.project.simplified and not it.epic.deleted:
                return it.epic.key
            return None
        if f == "customfield_10015":
            return fmt_date(it.start_date, self.tz) if it.start_date is not None else None
        if f == "customfield_10016":
            return it.story_points
        if f == "customfield_10019":
            return f"0|i{it.idx:05x}:"
        if f == "customfield_10020":
            return [self.sprint_field(s) for s in it.sprints] or None
        if f == "customfield_10021":
            if not it.flagged:
                return None
            oid = site.cf_contexts["customfield_10021"][0][4][0][0]
            return [self.option("customfield_10021", oid)]
        if f == "customfield_10030":
            return self.option("customfield_10030", it.team)
        if f == "customfield_10031":
            return [self.option("customfield_10031", o) for o in it.areas] or None
        if f == "customfield_10032":
            return it.customer
        if f == "customfield_10033":
            return self.rich(Lcg(site.seed, it.id, 7).words(5, 20), it.id, 7) if it.accept else None
        if f == "customfield_10034":
            return self.option("customfield_10034", it.severity)
        if f == JSM.APPROVALS_FIELD:
            return JSM.approvals_field_value(site, self, it)
        return MISSING

    def issue(self, it: Issue, fields: list[str] | None, expand: set | None = None,
              properties: list[str] | None = None, agile: bool = False, id_only: bool = False) -> dict:
        """Issue bean. ``fields`` = wanted field ids (already expanded); ``id_only`` = the default
        ``fields=id`` of /search/jql (just ``{"id": ...}``)."""
        if id_only and not expand and not properties:
            return {"id": str(it.id)}
        base = f"{self.base}/rest/agile/1.0" if agile else self.api
        d = {"expand": "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations",
             "id": str(it.id), "self": f"{base}/issue/{it.id}", "key": it.key}
        if fields is not None:
            fd = {}
            for f in fields:
                if f == "parent" and (it.parent is None or it.parent.deleted or (self.dc and not it.itype.subtask)):
                    continue  # Data Center: only sub-tasks have a parent (epics link through the Epic Link field)
                if f == "security" and not it.project.has_security:
                    continue
                v = self.field_value(it, f, agile)
                if v is not MISSING:
                    fd[f] = v
            if agile:
                if "sprint" in fields or len(fields) > 20:
                    act = [self.sprint(self.site.sprint_by_id[s]) for s in it.sprints if self.site.sprint_by_id[s].state == "active"]
                    fd["sprint"] = act[0] if act else None
                    fd["closedSprints"] = [self.sprint(self.site.sprint_by_id[s]) for s in it.sprints if self.site.sprint_by_id[s].state == "closed"]
                    fd["flagged"] = it.flagged
                if ("epic" in fields or len(fields) > 20) and not it.project.simplified:
                    e = it.epic
                    fd["epic"] = self.agile_epic(e) if e is not None and not e.deleted else None
            d["fields"] = fd
        if expand:
            if "renderedFields" in expand:
                rf: dict[str, Any] = {}
                for f in fields or ALL_FIELDS:
                    if f == "description":
                        rf[f] = html_p(self.description_text(it)) or ""
                    elif f == "comment":
                        rf[f] = self.comment_page(it, rendered=True)
                        for c in rf[f]["comments"]:
                            c["body"] = c.pop("renderedBody")
                    elif f == "environment":
                        rf[f] = html_p(Lcg(self.site.seed, it.id, 6).words(3, 8)) if it.env else ""
                    elif f in ("created", "updated", "resolutiondate", "lastViewed", "statuscategorychangedate"):
                        rf[f] = None
                    elif f in ALL_FIELD_SET:
                        rf[f] = None
                d["renderedFields"] = rf
            if "names" in expand:
                d["names"] = {f: FIELD_NAMES.get(f, f) for f in (fields or [])}
            if "schema" in expand:
                d["schema"] = {f: FIELD_SCHEMA[f] for f in (fields or []) if f in FIELD_SCHEMA}
            if "transitions" in expand:
                d["transitions"] = [self.transition(t) for t in self.site.transitions_for(it)]
            if "operations" in expand:
                d["operations"] = {"linkGroups": []}
            if "editmeta" in expand:
                d["editmeta"] = {"fields": {}}
            if "versionedRepresentations" in expand:
                d["versionedRepresentations"] = {}
            if "changelog" in expand:
                hs = it.histories
                # Cloud embeds the 40 newest, newest first; Data Center the whole history, oldest first
                newest = list(hs) if self.dc else hs[-CHANGELOG_EXPAND:][::-1]
                d["changelog"] = {"startAt": 0, "maxResults": len(newest), "total": len(hs),
                                  "histories": [self.history(it, h) for h in newest]}
        if properties:
            props = {}
            want_all = "*all" in properties
            for k, seed in it.properties:
                if want_all or k in properties:
                    props[k] = self.property_value(it, k, seed)
            d["properties"] = props
        return d

    def transition(self, t) -> dict:
        tid, name, s = t
        return {"id": tid, "name": name, "to": self.status(s), "hasScreen": False, "isGlobal": True,
                "isInitial": False, "isAvailable": True, "isConditional": False, "isLooped": False}

    def property_value(self, it: Issue, key: str, seed: int) -> Any:
        lc = Lcg(self.site.seed, seed, 14)
        if key == "support.ticket":
            return {"ticket": f"SUP-{seed % 10000}", "channel": lc.choice(["email", "chat", "phone"])}
        if key == "myapp.sync-state":
            return {"synced": lc.chance(0.8), "revision": seed % 97}
        if key == "com.acme.risk":
            return {"score": seed % 100, "reviewed": lc.chance(0.5)}
        return {"reviewers": [self.user_ref(lc.choice(self.site.humans))]}

    def remote_link(self, it: Issue, r: tuple) -> dict:
        rid, seed = r
        lc = Lcg(self.site.seed, seed, 15)
        kind = lc.below(3)
        if kind == 0:
            url = f"https://github.com/acme/{lc.choice(['api', 'web', 'mobile'])}/pull/{seed % 5000}"
            app = {"type": "com.github", "name": "GitHub"}
            rel = "mentioned in"
        elif kind == 1:
            url = f"https://acme.atlassian.net/wiki/spaces/ENG/pages/{seed}"
            app = {"type": "com.atlassian.confluence", "name": "Confluence"}
            rel = "Wiki Page"
        else:
            url = f"https://support.example.com/tickets/{seed % 90000}"
            app = {"type": "com.acme.tracker", "name": "Acme Support"}
            rel = "causes"
        return {"id": rid, "self": f"{self.api}/issue/{it.key}/remotelink/{rid}",
                "globalId": f"system={url}", "application": app, "relationship": rel,
                "object": {"url": url, "title": lc.words(2, 6).capitalize(), "summary": lc.words(3, 10),
                           "icon": {"url16x16": "https://example.com/favicon.ico", "title": app["name"]},
                           "status": {"resolved": lc.chance(0.5), "icon": {}}}}

    def agile_epic(self, e: Issue) -> dict:
        return {"id": e.id, "key": e.key, "self": f"{self.base}/rest/agile/1.0/epic/{e.id}",
                "name": e.epic_name or e.summary, "summary": e.summary,
                "color": {"key": f"color_{1 + e.id % 14}"}, "done": e.status.cat == 3}
