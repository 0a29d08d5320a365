"""The fake site's state: deterministic generation, mutations, visibility and ground truth.

Generation is compact: issues are ``__slots__`` objects, their children (histories, comments,
worklogs, attachments) are tuples; text bodies and changelog items are derived lazily from ids
(see :class:`Lcg`), and JSON is rendered per request (``render.py``).

Concurrency: mutations take ``Site.lock`` and replace child lists copy-on-write, so request
threads can read without locking and always see a consistent list.
"""

from __future__ import annotations

import random
import threading
import unicodedata
import time
import uuid
from bisect import insort
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Iterable

from . import catalog as C
from . import servicedesk as JSM
from .timefmt import DAY_MS, zone

MASK64 = (1 << 64) - 1
MISSING = object()  # "emailAddress" key absent (privacy)


class Lcg:
    """Tiny deterministic generator for lazily derived content (bodies, changelog items)."""

    __slots__ = ("s",)

    def __init__(self, *parts: int) -> None:
        s = 0xCBF29CE484222325
        for p in parts:
            s = ((s ^ (p & MASK64)) * 0x100000001B3) & MASK64
            s ^= s >> 29
        self.s = s or 1

    def next(self) -> int:
        self.s = (self.s * 6364136223846793005 + 1442695040888963407) & MASK64
        return self.s >> 33

    def below(self, n: int) -> int:
        return self.next() % n

    def choice(self, seq):
        return seq[self.next() % len(seq)]

    def chance(self, p: float) -> bool:
        return (self.next() & 0xFFFFFF) < p * 0x1000000

    def words(self, lo: int, hi: int) -> str:
        n = lo + self.below(hi - lo + 1)
        w = C.WORDS
        return " ".join(w[self.next() % len(w)] for _ in range(n))


class SearchCache:
    """LRU of evaluated queries: (sort keys, issues) per (jql, reconcile, version, tz, time bucket)."""

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self.data: OrderedDict = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key):
        with self.lock:
            v = self.data.get(key)
            if v is not None:
                self.data.move_to_end(key)
            return v

    def put(self, key, value) -> None:
        with self.lock:
            self.data[key] = value
            self.data.move_to_end(key)
            while len(self.data) > self.size:
                self.data.popitem(last=False)


# --------------------------------------------------------------------------------------------
# model objects
# --------------------------------------------------------------------------------------------


@dataclass(slots=True)
class User:
    idx: int
    account_id: str
    account_type: str  # atlassian | app | customer
    display_name: str
    email: Any  # str, None (null) or MISSING (absent)
    active: bool
    tz: str
    locale: str
    # Data Center identity (no accountId there): username, user key, e-mail (always present on Data Center)
    name: str = ""
    key: str = ""
    dc_email: str = ""


@dataclass(slots=True)
class Group:
    group_id: str
    name: str
    members: list  # user idx


@dataclass(slots=True)
class IssueType:
    id: str
    name: str
    level: int
    subtask: bool
    description: str
    avatar_id: int
    project_id: int | None  # team-managed scope


@dataclass(slots=True)
class Status:
    id: str
    name: str
    cat: int
    description: str
    project_id: int | None


@dataclass(slots=True)
class Version:
    id: str
    name: str
    project_id: int
    description: str
    start_ms: int | None
    release_ms: int | None
    released: bool
    archived: bool


@dataclass(slots=True)
class Component:
    id: str
    name: str
    project_id: int
    project_key: str
    description: str
    lead: int | None
    assignee_type: str


@dataclass(slots=True)
class Project:
    idx: int
    id: int
    key: str
    name: str
    simplified: bool
    type_key: str
    category: tuple | None
    lead: int
    description: str
    weight: float
    issue_types: list = field(default_factory=list)
    statuses: list = field(default_factory=list)
    versions: list = field(default_factory=list)
    components: list = field(default_factory=list)
    avatar_id: str = "10400"
    custom_avatars: list = field(default_factory=list)
    email: str | None = None
    uuid: str | None = None
    workflow_id: str = ""
    key_counter: int = 0
    has_security: bool = False


@dataclass(slots=True)
class Board:
    id: int
    name: str
    type: str  # scrum | kanban | simple
    projects: list  # Project objects in the board's filter
    filter_id: str
    sprints_enabled: bool
    sprint_ids: list = field(default_factory=list)  # sprints listed on the board


@dataclass(slots=True)
class Sprint:
    id: int
    name: str
    state: str  # closed | active | future
    start: int | None
    end: int | None
    complete: int | None
    created: int
    origin_board: int
    goal: str


class Issue:
    __slots__ = (
        "idx", "id", "key", "project", "itype", "status", "priority", "resolution", "resolved",
        "assignee", "reporter", "creator", "created", "updated", "due", "summary", "has_desc",
        "env", "labels", "versions", "fix_versions", "components", "story_points", "team", "areas",
        "customer", "accept", "severity", "start_date", "parent", "epic", "subtasks", "sprints",
        "security", "flagged", "links", "histories", "comments", "worklogs", "attachments",
        "watchers", "voters", "remote_links", "properties", "estimate", "deleted", "write_ms",
        "epic_name", "status_changed",
    )

    def __init__(self) -> None:
        self.deleted = False
        self.write_ms = 0
        self.subtasks = []
        self.links = []


# Child tuples
# history:    (id, created, author, items)  items: int seed (lazy) | list of item dicts
# comment:    (id, created, updated, author, update_author, seed, restricted)
# worklog:    (id, created, updated, started, author, seconds, seed)
# attachment: (id, created, author, filename, size, mime)
# remote link:(id, seed)
# property:   (key, seed)
H_ID, H_CREATED, H_AUTHOR, H_ITEMS = range(4)
W_ID, W_CREATED, W_UPDATED, W_STARTED, W_AUTHOR, W_SECONDS, W_SEED = range(7)

PROPERTY_KEYS = ["support.ticket", "myapp.sync-state", "com.acme.risk", "dev.review"]

# Ground-truth streams whose content changes when issues are deleted (their PKs vanish with the
# issue): every issue-derived stream plus the agile membership streams and epics.
DEPENDS_ON_DELETED = frozenset({
    "issues", "issue_ids", "issue_changelogs", "issue_field_history", "issue_comments", "issue_worklogs", "pull_requests",
    "issue_attachments", "issue_watchers", "issue_votes", "issue_remote_links",
    "issue_properties", "issue_transitions", "sprint_issues", "board_issues", "epics",
})
# Streams that take the ``projects`` filter in ground_truth(): the issue-derived ones.
PROJECT_FILTERED = frozenset(DEPENDS_ON_DELETED - {"epics"})

STREAM_PKS: dict[str, list[str]] = {
    "issues": ["id"], "issue_ids": ["id"], "issue_changelogs": ["id"], "issue_comments": ["id"],
    "issue_field_history": ["changelogId", "itemIndex"],
    "issue_worklogs": ["id"], "issue_worklogs_deleted": ["worklogId"], "issue_attachments": ["id"], "issue_watchers": ["issueId", "accountId"],
    "issue_votes": ["issueId", "accountId"], "issue_remote_links": ["id"],
    "issue_properties": ["issueId", "key"], "issue_transitions": ["issueId", "id"],
    "boards": ["id"], "sprints": ["id"], "sprint_issues": ["sprintId", "issueId"],
    "board_issues": ["boardId", "issueId"], "board_configuration": ["id"], "epics": ["boardId", "id"],
    "projects": ["id"], "project_versions": ["id"], "project_components": ["id"],
    "project_categories": ["id"], "project_roles": ["id"], "project_types": ["key"],
    "project_avatars": ["projectId", "id"], "project_email": ["projectId"], "users": ["accountId"],
    "groups": ["groupId"], "group_members": ["groupId", "accountId"], "issue_fields": ["id"],
    "issue_custom_field_contexts": ["fieldId", "id"],
    "issue_custom_field_options": ["fieldId", "contextId", "id"], "issue_types": ["id"],
    "issue_priorities": ["id"], "issue_resolutions": ["id"], "workflow_statuses": ["id"],
    "workflow_status_categories": ["id"], "issue_link_types": ["id"], "labels": ["label"],
    "issue_security_schemes": ["id"], "issue_type_schemes": ["id"],
    "issue_type_screen_schemes": ["id"], "issue_field_configurations": ["id"],
    "field_configurations": ["id"],
    "workflows": ["id"], "workflow_schemes": ["id"], "permission_schemes": ["id"],
    "issue_notification_schemes": ["id"], "notification_schemes": ["id"], "screens": ["id"],
    "screen_tabs": ["screenId", "id"], "screen_tab_fields": ["screenId", "tabId", "id"],
    "screen_schemes": ["id"], "filters": ["id"], "filter_sharing": ["filterId", "id"],
    "dashboards": ["id"], "application_roles": ["key"], "time_tracking": ["key"],
    "server_info": ["baseUrl"], "myself": ["accountId"], "permissions": ["key"],
    "filter_favourite": ["id"], "filter_my": ["id"], "my_permissions": ["scope", "key"],
    "pull_requests": ["issueId", "repositoryId", "id"],
    "audit_records": ["id"], "priority_schemes": ["id"],
    # streams of the official connector kept for migration
    "avatars": ["avatarType", "id"], "issue_navigator_settings": ["value"], "jira_settings": ["id"],
    "project_permission_schemes": ["projectId", "id"], "users_groups_detailed": ["accountId"],
} | JSM.JSM_STREAM_PKS  # Jira Service Management (servicedesk.py)

DEPLOYMENTS = ("cloud", "datacenter")

# Streams a Jira Data Center site does not offer (no endpoint there: dev-status, project e-mail, custom field
# contexts/options, labels, issue type (screen) schemes, field configurations, workflow/screen schemes, filter
# search and "my filters", the audit log).
CLOUD_ONLY_STREAMS = frozenset({
    "pull_requests", "project_email", "issue_custom_field_contexts", "issue_custom_field_options", "labels",
    "issue_type_schemes", "issue_type_screen_schemes", "issue_field_configurations", "workflow_schemes",
    "screen_schemes", "filters", "filter_sharing", "filter_my", "audit_records",
})

# Old aliases in STREAM_PKS (same ground truth as issue_field_configurations / issue_notification_schemes) that
# no connector offers; a Data Center site leaves them out so that its stream list is exactly what it offers.
CLOUD_ALIASES = frozenset({"field_configurations", "notification_schemes"})

# Data Center: users are keyed by user ``key`` (no accountId), groups and workflows by name (no ids).
STREAM_PKS_DC: dict[str, list[str]] = {
    s: list(pk) for s, pk in STREAM_PKS.items() if s not in CLOUD_ONLY_STREAMS and s not in CLOUD_ALIASES
} | {
    "users": ["key"], "myself": ["key"], "issue_watchers": ["issueId", "key"], "issue_votes": ["issueId", "key"],
    "groups": ["name"], "group_members": ["groupName", "key"], "users_groups_detailed": ["key"],
    "workflows": ["name"],
} | JSM.JSM_STREAM_PKS_DC

# Users whose Data Center key is their (old) username rather than JIRAUSER1xxxx (user 0: "jdoe", renamed)
LEGACY_KEY_USERS = frozenset({1, 2, 11, 50})

PROJECT_SPECS = [
    # key, name, simplified, type, category idx, weight, board specs
    ("PLAT", "Platform", False, "software", 0, 0.24),
    ("MOB", "Mobile", False, "software", 0, 0.16),
    ("WEB", "Web App", True, "software", 0, 0.16),
    ("OPS", "Operations", False, "software", 2, 0.12),
    ("DATA", "Data Platform", True, "software", 0, 0.12),
    ("MKT", "Marketing", False, "business", 1, 0.08),
    ("SEC", "Security", False, "software", 2, 0.12),
]


def _hex(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


class Site:
    """Everything the fake serves. ``now_ms()`` is wall clock + offset."""

    def __init__(self, issues: int = 2000, seed: int = 42, timezone: str = "America/Los_Angeles",
                 email: str = "demo@example.com", anchor_ms: int | None = None, deployment: str = "cloud",
                 dc_username: str = "jdoe-admin") -> None:
        if deployment not in DEPLOYMENTS:
            raise ValueError(f"deployment must be one of {DEPLOYMENTS}, not {deployment!r}")
        self.deployment = deployment
        self.dc = deployment == "datacenter"
        self.dc_username = dc_username
        # Data Center search limits (FakeJira sets them): jira.search.views.default.max and the result window
        self.search_max_results = 1000
        self.result_window: int | None = 10000
        self.lock = threading.RLock()
        self.seed = seed
        self.n_issues = issues
        self.tz_name = timezone
        self.tz = zone(timezone)
        self.email = email
        self.now_offset_ms = 0
        self.anchor = anchor_ms if anchor_ms is not None else (int(time.time()) * 1000)
        self.version = 0  # bumped on every mutation (search caches key on it)
        self.index_lag_ms = 0
        self.hidden: set[int] = set()
        self.base_url = "https://127.0.0.1"
        self.mut_rng = random.Random(seed * 7919 + 1)
        self._writes: list = []  # recently mutated issues (index-lag bookkeeping)
        self.search_cache = SearchCache()
        self.jsm_enabled = True  # Jira Service Management (servicedesk.py); FakeJira(jsm=False): a site without it
        self.jsm_agent = True  # FakeJira(jsm_agent=False): the account is no agent of the service desks
        self.approvals_field_links = True  # False: the Approvals field shows approvals without `_links` (servicedesk.py)
        self._generate()

    # ----------------------------------------------------------------------------------------
    def now_ms(self) -> int:
        return int(time.time() * 1000) + self.now_offset_ms

    # ----------------------------------------------------------------------------------------
    # generation
    # ----------------------------------------------------------------------------------------
    def _generate(self) -> None:
        rng = random.Random(self.seed)
        self._gen_users(rng)
        self._gen_dc_identities()
        self._gen_groups(rng)
        self._gen_catalog_ids(rng)
        self._gen_projects(rng)
        self._gen_boards_and_sprints(rng)
        self._gen_issues(rng)
        self._assign_board_sprints()
        self._gen_config(rng)
        self._build_worklog_index()

    def _gen_users(self, rng: random.Random) -> None:
        users = []
        used = set()

        def name() -> str:
            while True:
                n = f"{rng.choice(C.FIRST_NAMES)} {rng.choice(C.LAST_NAMES)}"
                if n not in used:
                    used.add(n)
                    return n

        users.append(User(0, _hex(rng, 24), "atlassian", "Demo Admin", self.email, True,
                          self.tz_name, "en_US"))
        for i in range(1, 50):
            dn = name()
            r = rng.random()
            if r < 0.5:
                em: Any = dn.lower().replace(" ", ".").replace("ä", "a") + "@example.com"
            elif r < 0.85:
                em = MISSING
            else:
                em = None
            if i % 3 == 0:
                aid = f"712020:{_uuid(rng)}"
            else:
                aid = _hex(rng, 24)
            active = i not in (7, 19, 23, 38, 44)
            users.append(User(i, aid, "atlassian", dn, em, active, rng.choice(C.TIME_ZONES),
                              rng.choice(["en_US", "en_GB", "de_DE", "fr_FR", "ja_JP"])))
        apps = ["Automation for Jira", "GitHub for Jira", "Slack", "Jira Outlook", "Trello",
                "Opsgenie", "Statuspage"]
        for j, dn in enumerate(apps):
            users.append(User(len(users), f"557058:{_uuid(rng)}", "app", dn, MISSING, j != 5,
                              "UTC", "en_US"))
        for dn in ("Customer One", "Customer Two", "Customer Three"):
            users.append(User(len(users), f"qm:{_uuid(rng)}:{_uuid(rng)}", "customer", dn,
                              None, True, "UTC", "en_US"))
        self.users = users
        self.user_by_account = {u.account_id: u for u in users}
        self.humans = [u.idx for u in users if u.account_type == "atlassian" and u.active]
        self.apps = [u.idx for u in users if u.account_type == "app"]

    def _gen_dc_identities(self) -> None:
        """Data Center names every user by username (``name``) and user key (``key``), never by accountId.
        Derived from the display names (no RNG draw, so Cloud generation is untouched). Keys are
        ``JIRAUSER1xxxx`` for accounts created since Jira 8.4 and the old username for a few older ones;
        user 0 (the connector's account) is an old account renamed since: key ``jdoe``, name ``dc_username``.
        Cloud's app and customer accounts are ordinary (service) users there."""
        taken: set[str] = set()
        for u in self.users:
            if u.idx == 0:
                name = self.dc_username
            else:
                ascii_dn = unicodedata.normalize("NFKD", u.display_name).encode("ascii", "ignore").decode()
                parts = ascii_dn.lower().split(" ", 1)
                if u.account_type == "app":
                    name = "-".join(ascii_dn.lower().split())
                else:
                    name = parts[0] + ("." + parts[1].replace(" ", "-") if len(parts) > 1 else "")
            base, n = name, 1
            while name.lower() in taken:
                n += 1
                name = f"{base}{n}"
            taken.add(name.lower())
            u.name = name
            if u.idx == 0:
                u.key = "jdoe"
            elif u.idx in LEGACY_KEY_USERS:
                u.key = name.lower()
            else:
                u.key = f"JIRAUSER{10100 + u.idx}"
            if isinstance(u.email, str):
                u.dc_email = u.email
            else:
                u.dc_email = f"{name.lower()}@{'apps.' if u.account_type == 'app' else ''}example.com"
        self.user_by_dc = {}
        for u in self.users:  # JQL and /user take a username or a user key (case-insensitive)
            self.user_by_dc.setdefault(u.key.lower(), u)
        for u in self.users:
            self.user_by_dc[u.name.lower()] = u

    def _gen_groups(self, rng: random.Random) -> None:
        humans_all = [u.idx for u in self.users if u.account_type == "atlassian"]
        spec = [
            ("site-admins", [0, 1, 2]),
            ("jira-admins", [0, 1, 2, 3]),
            ("jira-software-users", humans_all),
            ("jira-servicemanagement-users", [0] + rng.sample(humans_all[1:], 6)),
            ("administrators", [0, 1]),
            ("developers", sorted(rng.sample(humans_all[1:], 22) + [7, 19])),
            ("qa", sorted(rng.sample(humans_all[1:], 8))),
            ("product", sorted(rng.sample(humans_all[1:], 6))),
            ("support", sorted(set(rng.sample(humans_all[1:], 5)) | {23})),
            ("confluence-users", []),
        ]
        self.groups = [Group(_uuid(rng), n, sorted(set(m))) for n, m in spec]

    def _gen_catalog_ids(self, rng: random.Random) -> None:
        # custom field contexts and options
        ctx_id = 10100
        opt_id = 10200
        self.cf_contexts: dict[str, list] = {}  # field id -> [(ctx id, name, global, project key, [(opt id, value)])]
        self.cf_options: dict[str, dict] = {}  # field id -> {value: opt id}
        for fid, name, schema, searcher, contexts in C.CUSTOM_FIELDS:
            ctxs = []
            if not contexts:
                contexts = [(f"Default Configuration Scheme for {name}", True, None, [])]
            for cname, is_global, pkey, values in contexts:
                opts = []
                for v in values:
                    opts.append((str(opt_id), v))
                    opt_id += 1
                ctxs.append((str(ctx_id), cname, is_global, pkey, opts))
                ctx_id += 1
            self.cf_contexts[fid] = ctxs
        self.global_statuses = [Status(i, n, c, d, None) for i, n, c, d in C.GLOBAL_STATUSES]
        self.global_types = [IssueType(i, n, lv, st, d, av, None) for i, n, lv, st, d, av in C.GLOBAL_ISSUE_TYPES]

    def _gen_projects(self, rng: random.Random) -> None:
        projects = []
        statuses = list(self.global_statuses)
        types = list(self.global_types)
        next_status = 10100
        next_type = 10010
        version_id = 10000
        comp_id = 10000
        avatar_custom = 10500
        for idx, (key, name, simplified, tkey, cat, weight) in enumerate(PROJECT_SPECS):
            p = Project(idx, 10000 + idx, key, name, simplified, tkey, C.PROJECT_CATEGORIES[cat],
                        rng.choice(self.humans[:20]), f"{name} team work. " + " ".join(rng.sample(C.WORDS, 6)),
                        weight)
            if simplified:
                p.uuid = _uuid(rng)
                for tname, lvl, st, av in C.TEAM_ISSUE_TYPES:
                    it = IssueType(str(next_type), tname, lvl, st, f"{tname} (team-managed)", av, p.id)
                    next_type += 1
                    p.issue_types.append(it)
                    types.append(it)
                for sname, cat_id in C.TEAM_STATUSES:
                    s = Status(str(next_status), sname, cat_id, "", p.id)
                    next_status += 1
                    p.statuses.append(s)
                    statuses.append(s)
            else:
                if tkey == "business":
                    p.issue_types = [t for t in self.global_types if t.name in ("Epic", "Task", "Sub-task")]
                else:
                    p.issue_types = list(self.global_types)
                p.statuses = list(self.global_statuses)
            # versions
            nver = 0 if tkey == "business" else rng.randint(3, 6)
            t0 = self.anchor - 700 * DAY_MS
            for v in range(nver):
                start = t0 + v * 120 * DAY_MS + rng.randint(0, 20) * DAY_MS
                rel = start + rng.randint(30, 110) * DAY_MS
                released = rel < self.anchor
                p.versions.append(Version(str(version_id), f"{key.lower()}-{1 + v // 3}.{v % 3}.0", p.id,
                                          rng.choice(["", "Minor release", "Major release with API changes"]),
                                          start if rng.random() < 0.7 else None,
                                          rel if rng.random() < 0.9 else None, released,
                                          released and v == 0))
                version_id += 1
            ncomp = 0 if simplified else rng.randint(2, 5)
            for c in range(ncomp):
                cname = ["Backend", "Frontend", "API", "Database", "Infra", "Docs"][c]
                p.components.append(Component(str(comp_id), cname, p.id, key, f"{cname} of {name}",
                                              rng.choice(self.humans) if rng.random() < 0.6 else None,
                                              rng.choice(["PROJECT_DEFAULT", "COMPONENT_LEAD", "UNASSIGNED"])))
                comp_id += 1
            p.avatar_id = str(10400 + rng.randint(0, 11))
            if idx in (0, 3):
                p.custom_avatars = [str(avatar_custom)]
                avatar_custom += 1
                p.avatar_id = p.custom_avatars[0]
            p.email = f"{key.lower()}@example.com" if idx % 2 == 0 else None
            p.has_security = key == "SEC"
            projects.append(p)
        self.projects = projects
        self.project_by_key = {p.key: p for p in projects}
        self.project_by_id = {p.id: p for p in projects}
        self.statuses = statuses
        self.status_by_id = {s.id: s for s in statuses}
        self.issue_types = types
        self.issue_type_by_id = {t.id: t for t in types}
        self.versions_by_id = {v.id: v for p in projects for v in p.versions}
        self.components_by_id = {c.id: c for p in projects for c in p.components}

    def _gen_boards_and_sprints(self, rng: random.Random) -> None:
        P = self.project_by_key
        specs = [
            ("PLAT board", "scrum", ["PLAT"], True),
            ("PLAT Kanban", "kanban", ["PLAT"], False),
            ("MOB board", "scrum", ["MOB"], True),
            ("Cross-team planning", "scrum", ["PLAT", "MOB"], True),
            ("WEB board", "simple", ["WEB"], True),
            ("OPS board", "kanban", ["OPS"], False),
            ("DATA board", "simple", ["DATA"], False),
            ("SEC board", "scrum", ["SEC"], True),
        ]
        self.boards = []
        for i, (name, btype, keys, sprints) in enumerate(specs):
            self.boards.append(Board(i + 1, name, btype, [P[k] for k in keys], str(10000 + i), sprints))
        self.board_by_id = {b.id: b for b in self.boards}
        # sprints: two-week cadence per sprint-enabled board (the cross-team board has a few of its own)
        raw = []
        for b in self.boards:
            if not b.sprints_enabled:
                continue
            key = b.projects[0].key if len(b.projects) == 1 else "XT"
            if len(b.projects) > 1:
                start = self.anchor - 70 * DAY_MS
                count_future = 1
            else:
                start = self.anchor - rng.randint(300, 560) * DAY_MS
                count_future = rng.randint(1, 2)
            start -= start % (3_600_000)
            n = 0
            t = start
            while True:
                n += 1
                end = t + 14 * DAY_MS
                if end <= self.anchor:
                    state = "closed"
                elif t <= self.anchor:
                    state = "active"
                else:
                    state = "future"
                goal = rng.choice(["", "", "Ship the new onboarding flow", "Stabilise the release",
                                   "Burn down tech debt", "Performance week"])
                raw.append([t, b.id, f"{key} Sprint {n}", state, t, end,
                            end + rng.randint(0, 2) * 3_600_000 if state == "closed" else None,
                            t - rng.randint(1, 5) * DAY_MS, goal])
                if state == "future":
                    count_future -= 1
                    if count_future <= 0:
                        break
                t = end
        raw.sort(key=lambda r: (r[0], r[1]))
        self.sprints = []
        for i, (_, bid, name, state, st, en, comp, created, goal) in enumerate(raw):
            if state == "future":
                st2, en2 = None, None
            else:
                st2, en2 = st, en
            self.sprints.append(Sprint(i + 1, name, state, st2, en2, comp, created, bid, goal))
        self.sprint_by_id = {s.id: s for s in self.sprints}
        self._sprint_windows = {}
        for (t0, bid, name, state, st, en, comp, created, goal), sp in zip(raw, self.sprints):
            self._sprint_windows.setdefault(bid, []).append((st, en, sp))

    def _gen_issues(self, rng: random.Random) -> None:
        n = self.n_issues
        span = 730 * DAY_MS
        start = self.anchor - span
        createds = sorted(start + int(span * (rng.random() ** 0.8)) for _ in range(n))
        projects = self.projects
        weights = [p.weight for p in projects]
        cum = []
        acc = 0.0
        for w in weights:
            acc += w
            cum.append(acc)
        humans = self.humans
        apps = self.apps
        labels = C.LABELS
        issues: list[Issue] = []
        self.issues = issues
        self.issue_by_id: dict[int, Issue] = {}
        self.issue_by_key: dict[str, Issue] = {}
        hist_id = 10000
        com_id = 10000
        wl_id = 10000
        att_id = 10000
        rl_id = 10000
        link_id = 10000
        recent_by_project: dict[int, list] = {p.idx: [] for p in projects}
        epics_by_project: dict[int, list] = {p.idx: [] for p in projects}
        team_opts = [o[0] for o in self.cf_contexts["customfield_10030"][0][4]]
        area_opts = [o[0] for o in self.cf_contexts["customfield_10031"][0][4]]
        sev_global = [o[0] for o in self.cf_contexts["customfield_10034"][0][4]]
        sev_sec = [o[0] for o in self.cf_contexts["customfield_10034"][1][4]]
        sprint_board_for_project = {}
        for b in self.boards:
            if b.sprints_enabled and len(b.projects) == 1:
                sprint_board_for_project[b.projects[0].idx] = b.id
        xt_board = next(b for b in self.boards if len(b.projects) > 1)
        xt_windows = self._sprint_windows.get(xt_board.id, [])
        anchor = self.anchor
        # guarantee the heavy tails exist whatever the size: >100 histories, >20 comments, >20 worklogs
        heavy = {n // 3: "h", n // 2: "c", (2 * n) // 3: "w", (3 * n) // 4: "c", (5 * n) // 6: "w"} if n >= 6 else {}
        rnd = rng.random

        def randint(a: int, b: int) -> int:  # ~3x cheaper than Random.randint
            return a + int(rnd() * (b - a + 1))

        def choice(seq):
            return seq[int(rnd() * len(seq))]
        for i in range(n):
            created = createds[i]
            r = rnd() * acc
            pidx = 0
            while pidx < len(cum) - 1 and r > cum[pidx]:
                pidx += 1
            p = projects[pidx]
            it = Issue()
            it.idx = i
            it.id = 10000 + i
            p.key_counter += 1
            it.key = f"{p.key}-{p.key_counter}"
            it.project = p
            # type
            types = {t.name: t for t in p.issue_types}
            sub_name = "Subtask" if p.simplified else "Sub-task"
            r = rnd()
            recent = recent_by_project[p.idx]
            if p.type_key == "business":
                tname = "Epic" if r < 0.05 else ("Sub-task" if r < 0.2 and recent else "Task")
            else:
                if r < 0.05:
                    tname = "Epic"
                elif r < 0.40:
                    tname = "Story"
                elif r < 0.65:
                    tname = "Task"
                elif r < 0.85:
                    tname = "Bug"
                else:
                    tname = sub_name if recent else "Task"
            it.itype = types[tname]
            age_days = (anchor - created) / DAY_MS
            # updated
            if rnd() < 0.08:
                updated = anchor - randint(60_000, 3 * DAY_MS)
                if updated < created:
                    updated = created + randint(1000, 60_000)
            else:
                updated = created + int(rng.expovariate(1 / (8 * DAY_MS)))
            updated = min(updated, anchor - 60_000)
            if updated <= created:
                updated = created + 1000
            # status
            done_p = min(0.9, age_days / 120)
            st_list = p.statuses
            if rnd() < done_p:
                status = next(s for s in st_list if s.cat == 3)
            else:
                cands = [s for s in st_list if s.cat != 3]
                status = choice(cands)
            it.status = status
            if status.cat == 3:
                rr = rnd()
                it.resolution = 0 if rr < 0.8 else (1 if rr < 0.9 else (2 if rr < 0.95 else 3))
                it.resolved = updated - randint(0, max(1, min(updated - created, DAY_MS)))
                if it.resolved < created:
                    it.resolved = created
            else:
                it.resolution = -1
                it.resolved = None
            it.status_changed = it.resolved or (created + (updated - created) // 2)
            it.priority = choice((0, 1, 2, 2, 2, 2, 3, 3, 4))
            it.reporter = choice(humans) if rnd() < 0.95 else choice(apps)
            it.creator = it.reporter
            it.assignee = choice(humans) if rnd() < 0.8 else -1
            it.created = created
            it.updated = updated
            it.due = created + randint(5, 60) * DAY_MS if rnd() < 0.25 else None
            it.summary = f"{Lcg(self.seed, it.id, 1).words(3, 8).capitalize()}"
            it.has_desc = rnd() < 0.85
            it.env = rnd() < 0.1
            it.labels = tuple(sorted(set(choice(labels) for _ in range(choice((0, 0, 1, 1, 2, 3))))))
            vers = p.versions
            it.fix_versions = (choice(vers),) if vers and rnd() < 0.5 else ()
            it.versions = (choice(vers),) if vers and tname == "Bug" and rnd() < 0.6 else ()
            comps = p.components
            it.components = tuple(sorted({choice(comps).id for _ in range(randint(1, 2))})) if comps and rnd() < 0.6 else ()
            is_software = p.type_key == "software"
            it.story_points = float(choice((1, 2, 3, 5, 8, 13))) if is_software and tname in ("Story", "Bug", "Task") and rnd() < 0.7 else None
            it.team = choice(team_opts) if rnd() < 0.6 else None
            it.areas = tuple(sorted(set(choice(area_opts) for _ in range(randint(1, 3))))) if rnd() < 0.3 else ()
            it.customer = f"{choice(['Acme', 'Globex', 'Initech', 'Umbrella', 'Hooli'])} Corp" if rnd() < 0.2 else None
            it.accept = rnd() < 0.3
            it.severity = (choice(sev_sec) if p.key == "SEC" else choice(sev_global)) if tname == "Bug" else None
            it.start_date = created + randint(0, 10) * DAY_MS if rnd() < 0.2 else None
            it.security = p.has_security and rnd() < 0.3
            it.flagged = rnd() < 0.03
            it.estimate = choice((3600, 7200, 14400, 28800, 57600)) if rnd() < 0.4 else None
            it.epic_name = Lcg(self.seed, it.id, 2).words(2, 3).title() if tname == "Epic" else None
            # hierarchy
            it.parent = None
            it.epic = None
            if it.itype.subtask:
                parent = choice(recent[-40:])
                it.parent = parent
                parent.subtasks.append(it)
            elif tname != "Epic" and epics_by_project[p.idx] and rnd() < 0.5:
                it.epic = choice(epics_by_project[p.idx][-8:])
                it.parent = it.epic
            if tname == "Epic":
                epics_by_project[p.idx].append(it)
            elif not it.itype.subtask:
                recent.append(it)
                if len(recent) > 200:
                    del recent[:100]
            # sprints
            it.sprints = ()
            if tname != "Epic":
                if it.itype.subtask and it.parent is not None:
                    it.sprints = it.parent.sprints
                else:
                    bid = sprint_board_for_project.get(p.idx)
                    wins = self._sprint_windows.get(bid) if bid is not None else None
                    if wins and created >= wins[0][0] - 30 * DAY_MS and rnd() < 0.75:
                        sel = None
                        for k, (st, en, sp) in enumerate(wins):
                            if created < en:
                                sel = k
                                break
                        if sel is None:
                            sel = len(wins) - 1
                        chosen = [wins[sel][2]]
                        if sel + 1 < len(wins) and rnd() < 0.25:
                            chosen.append(wins[sel + 1][2])
                        if p.key in ("PLAT", "MOB") and xt_windows and rnd() < 0.15:
                            for st, en, sp in xt_windows:
                                if st <= created < en or (created < st and sp.state != "closed"):
                                    chosen.append(sp)
                                    break
                        it.sprints = tuple(sorted({s.id for s in chosen}))
            # links
            if recent and rnd() < 0.08:
                other = choice(recent[-60:])
                if other is not it:
                    lt = randint(0, len(C.LINK_TYPES) - 1)
                    it.links.append((link_id, lt, other, True))
                    other.links.append((link_id, lt, it, False))
                    link_id += 1
            # children -------------------------------------------------------------------
            life = updated - created
            # histories: most 1-10, ~1.5% > 100
            r = rnd()
            hv = heavy.get(i)
            if r < 0.015 or hv == "h":
                nh = randint(101, 240)
            else:
                nh = choice((1, 1, 2, 2, 3, 3, 4, 5, 6, 7, 8, 10))
            ht = sorted(created + 1000 + int(rnd() * (life - 1000)) if life > 1000 else updated for _ in range(nh - 1))
            ht.append(updated)
            hists = []
            for t in ht:
                author = choice(humans) if rnd() < 0.9 else choice(apps)
                hists.append((hist_id, t, author, hist_id))
                hist_id += 1
            it.histories = hists
            # comments: most 0-5, ~1% > 20
            r = rnd()
            if r < 0.01 or hv == "c":
                nc = randint(21, 60)
            else:
                nc = choice((0, 0, 0, 1, 1, 2, 2, 3, 4, 5))
            coms = []
            if nc:
                ct = sorted(created + int(rnd() * life) for _ in range(nc))
                for t in ct:
                    cu = t if rnd() < 0.9 else min(updated, t + int(rnd() * (updated - t)))
                    a = choice(humans) if rnd() < 0.93 else choice(apps)
                    coms.append((com_id, t, cu, a, a, com_id, rnd() < 0.05))
                    com_id += 1
            it.comments = coms
            # worklogs: mostly 0-5, ~1% > 20
            r = rnd()
            if r < 0.01 or hv == "w":
                nw = randint(21, 45)
            else:
                nw = choice((0, 0, 0, 0, 0, 1, 1, 2, 3, 5))
            wls = []
            if nw:
                wt = sorted(created + int(rnd() * life) for _ in range(nw))
                for t in wt:
                    wu = t if rnd() < 0.9 else min(updated, t + int(rnd() * (updated - t)))
                    started = max(created, t - randint(0, 2 * DAY_MS))
                    secs = choice((900, 1800, 3600, 5400, 7200, 14400, 28800))
                    wls.append((wl_id, t, wu, started, choice(humans), secs, wl_id))
                    wl_id += 1
            it.worklogs = wls
            # attachments
            na = choice((0, 0, 0, 0, 0, 0, 1, 1, 2, 3))
            atts = []
            for _ in range(na):
                ext, mime = choice(C.MIME_TYPES)
                atts.append((att_id, created + int(rnd() * life), choice(humans),
                             f"{choice(C.WORDS)}-{att_id % 97}.{ext}", randint(200, 5_000_000), mime))
                att_id += 1
            it.attachments = atts
            w = {it.reporter}
            if it.assignee >= 0:
                w.add(it.assignee)
            for _ in range(choice((0, 0, 1, 2))):
                w.add(choice(humans))
            it.watchers = tuple(sorted(w))
            it.voters = tuple(sorted({choice(humans) for _ in range(choice((0, 0, 0, 0, 1, 1, 2, 3)))}))
            rls = []
            for _ in range(choice((0, 0, 0, 0, 0, 0, 1, 1, 2))):
                rls.append((rl_id, rl_id))
                rl_id += 1
            it.remote_links = tuple(rls)
            props = []
            if rnd() < 0.3:
                for k in rng.sample(PROPERTY_KEYS, choice((1, 1, 2))):
                    props.append((k, randint(1, 10**6)))
            it.properties = tuple(props)
            issues.append(it)
            self.issue_by_id[it.id] = it
            self.issue_by_key[it.key] = it
        self.counters = {"history": hist_id, "comment": com_id, "worklog": wl_id, "attachment": att_id,
                         "remote_link": rl_id, "issue": 10000 + n}
        self.label_vocab = sorted({lab for it in issues for lab in it.labels})

    def _assign_board_sprints(self) -> None:
        members: dict[int, set] = {}
        for it in self.issues:
            for sid in it.sprints:
                members.setdefault(sid, set()).add(it.project.idx)
        for b in self.boards:
            if not b.sprints_enabled:
                continue
            pidx = {p.idx for p in b.projects}
            b.sprint_ids = [s.id for s in self.sprints
                            if s.origin_board == b.id or (members.get(s.id, set()) & pidx)]

    def _gen_config(self, rng: random.Random) -> None:
        """Schemes, screens, filters, dashboards, workflows, audit log ..."""
        P = self.projects
        classic = [p for p in P if not p.simplified]
        # workflows (new API shape; ids are UUIDs)
        self.workflows = []
        wf_default = {"id": _uuid(rng), "name": "jira", "description": "The default Jira workflow.",
                      "project": None, "statuses": self.global_statuses[:4]}
        self.workflows.append(wf_default)
        for p in P:
            wf = {"id": _uuid(rng), "name": f"Software Simplified Workflow for Project {p.key}" if not p.simplified else f"{p.name} workflow",
                  "description": "Generated by Jira Software version 1001.0.0-SNAPSHOT." if not p.simplified else "",
                  "project": p if p.simplified else None, "statuses": p.statuses}
            p.workflow_id = wf["id"]
            self.workflows.append(wf)
        # workflow schemes (int ids)
        self.workflow_schemes = [{"id": 10000, "name": "Default Workflow Scheme", "default": "jira", "projects": []}]
        for i, p in enumerate(classic):
            self.workflow_schemes.append({"id": 10001 + i, "name": f"{p.key}: Software Simplified Workflow Scheme",
                                          "default": f"Software Simplified Workflow for Project {p.key}", "projects": [p]})
        # permission schemes (the default one really is id 0)
        self.permission_schemes = [
            {"id": 0, "name": "Default Permission Scheme", "description": "This is the default Permission Scheme. Any new projects that are created will be assigned this scheme."},
            {"id": 10000, "name": "Restricted Permission Scheme", "description": "Browse limited to members"},
            {"id": 10001, "name": "SEC permission scheme", "description": "Security project"},
        ]
        self.notification_schemes = [
            {"id": 10000, "name": "Default Notification Scheme", "description": None},
            {"id": 10001, "name": "Quiet scheme", "description": "Only assignee and reporter"},
        ]
        self.security_schemes = [
            {"id": 10000, "name": "SEC security scheme", "description": "Restrict security issues",
             "defaultSecurityLevelId": 10001,
             "levels": [(10000, "Internal", "Employees only"), (10001, "Security team", "Security team only")]},
        ]
        self.field_configurations = [
            {"id": 10000, "name": "Default Field Configuration", "description": "The default field configuration", "isDefault": True},
            {"id": 10001, "name": "Bug Field Configuration", "description": "Required environment for bugs"},
            {"id": 10002, "name": "SEC Field Configuration", "description": ""},
        ]
        self.issue_type_schemes = [{"id": "10000", "name": "Default Issue Type Scheme",
                                    "description": "Default issue type scheme is the list of global issue types. All newly created issue types will automatically be added to this scheme.",
                                    "defaultIssueTypeId": "10002", "isDefault": True}]
        for i, p in enumerate(classic):
            self.issue_type_schemes.append({"id": str(10001 + i), "name": f"{p.key}: Scrum Issue Type Scheme",
                                            "description": "", "defaultIssueTypeId": "10001"})
        self.issue_type_screen_schemes = [{"id": "1", "name": "Default Issue Type Screen Scheme",
                                           "description": "The default issue type screen scheme"}]
        for i, p in enumerate(classic):
            self.issue_type_screen_schemes.append({"id": str(10000 + i), "name": f"{p.key}: Scrum Issue Type Screen Scheme",
                                                   "description": ""})
        # screens, tabs, fields
        all_field_ids = [f[0] for f in C.SYSTEM_FIELDS if f[0] not in ("issuekey", "thumbnail", "lastViewed", "aggregateprogress", "progress", "workratio", "aggregatetimespent", "aggregatetimeestimate", "aggregatetimeoriginalestimate", "statuscategorychangedate", "created", "updated", "creator", "subtasks", "watches", "votes", "status", "resolutiondate")]
        all_field_ids += [f[0] for f in C.CUSTOM_FIELDS if f[0] not in ("customfield_10000", "customfield_10019", JSM.APPROVALS_FIELD)]
        self.screens = []
        screen_names = [(1, "Default Screen"), (2, "Resolve Issue Screen"), (3, "Workflow Screen")]
        sid = 10000
        for p in classic:
            screen_names.append((sid, f"{p.key}: Scrum Default Issue Screen"))
            screen_names.append((sid + 1, f"{p.key}: Scrum Bug Screen"))
            sid += 2
        tab_id = 10000
        for s_id, s_name in screen_names:
            tabs = []
            for t in range(rng.choice((1, 1, 2, 3))):
                tname = ["Field Tab", "Details", "Time tracking"][t]
                fields = rng.sample(all_field_ids, rng.randint(3, 14))
                if t == 0 and "summary" not in fields:
                    fields.insert(0, "summary")
                tabs.append((tab_id, tname, fields))
                tab_id += 1
            self.screens.append({"id": s_id, "name": s_name, "description": "", "tabs": tabs})
        self.screen_schemes = [{"id": 1, "name": "Default Screen Scheme", "description": "Default Screen Scheme",
                                "screens": {"default": 1}}]
        for i, p in enumerate(classic):
            base = 10000 + 2 * i
            self.screen_schemes.append({"id": 10000 + i, "name": f"{p.key}: Scrum Default Screen Scheme",
                                        "description": "", "screens": {"default": base, "create": base}})
            self.screen_schemes.append({"id": 10100 + i, "name": f"{p.key}: Scrum Bug Screen Scheme",
                                        "description": "", "screens": {"default": base + 1}})
        # filters + share permissions (share ids are ints, unique site-wide)
        share_id = 10000
        self.filters = []
        for b in self.boards:
            pk = b.projects[0]
            jql = " OR ".join(f"project = {p.key}" for p in b.projects) + " ORDER BY Rank ASC"
            shares = [{"id": share_id, "type": "project", "project": pk}]
            share_id += 1
            self.filters.append({"id": b.filter_id, "name": f"Filter for {b.name}", "owner": pk.lead,
                                 "jql": jql, "description": "", "shares": shares,
                                 "favouritedCount": 1})
        user_filters = [
            ("My open issues", "assignee = currentUser() AND resolution = Unresolved ORDER BY priority DESC", []),
            ("Reported by me", "reporter = currentUser() ORDER BY created DESC", [{"type": "global"}]),
            ("Recently updated", "updated >= -1w ORDER BY updated DESC", [{"type": "loggedin"}]),
            ("Open bugs", "issuetype = Bug AND resolution = Unresolved", [{"type": "group", "group": "developers"}, {"type": "group", "group": "qa"}]),
            ("Security backlog", "project = SEC AND statusCategory != Done", [{"type": "project", "project": self.project_by_key["SEC"], "role": 10002}]),
            ("Release blockers", "labels = release-blocker", [{"type": "user", "user": 3}, {"type": "global"}]),
            ("Mobile crashes", "project = MOB AND text ~ crash", []),
            ("Data team", "project = DATA", [{"type": "project", "project": self.project_by_key["DATA"]}]),
        ]
        next_fid = 10000 + len(self.boards)
        for name, jql, shares in user_filters:
            sh = []
            for s in shares:
                s = dict(s)
                s["id"] = share_id
                share_id += 1
                sh.append(s)
            owner = rng.choice(self.humans[:15])
            self.filters.append({"id": str(next_fid), "name": name, "owner": 0 if name == "My open issues" else owner,
                                 "jql": jql, "description": rng.choice(["", "Team filter"]), "shares": sh,
                                 "favouritedCount": rng.randint(0, 6)})
            next_fid += 1
        self.filter_by_id = {f["id"]: f for f in self.filters}
        # the connector's account (user 0) has starred every other filter that anybody starred
        self.favourite_filter_ids = {f["id"] for i, f in enumerate(self.filters) if f["favouritedCount"] > 0 and i % 2 == 0}
        # dashboards
        self.dashboards = [{"id": "10000", "name": "Default dashboard", "owner": None, "system": True,
                            "shares": [{"id": share_id, "type": "global"}]}]
        share_id += 1
        for i, name in enumerate(["Engineering overview", "Sprint health", "Support queue", "Security posture", "My dashboard"]):
            shares = []
            if i < 3:
                shares.append({"id": share_id, "type": "loggedin"})
                share_id += 1
            self.dashboards.append({"id": str(10001 + i), "name": name, "owner": rng.choice(self.humans[:15]),
                                    "system": False, "shares": shares})
        # priority schemes
        self.priority_schemes = [
            {"id": "1", "name": "Default priority scheme", "description": "This is the default priority scheme used by all new and unassigned projects",
             "default": "3", "isDefault": True, "priorities": [p[0] for p in C.PRIORITIES], "projects": []},
            {"id": "10000", "name": "Incident priorities", "description": "Security and ops", "default": "2",
             "isDefault": False, "priorities": ["1", "2", "3"], "projects": [self.project_by_key["SEC"], self.project_by_key["OPS"]]},
        ]
        # audit records (int ids), newest first when served
        self.audit = []
        for i in range(150):
            cat, summary, otype = rng.choice(C.AUDIT_CATEGORIES)
            created = self.anchor - 700 * DAY_MS + int(700 * DAY_MS * (i + rng.random()) / 150)
            self.audit.append({"id": 10000 + i, "created": created, "category": cat, "summary": summary,
                               "objectType": otype, "author": rng.choice(self.humans[:5] + [0]),
                               "object": rng.choice(self.users).display_name if otype in ("USER", "GROUP") else rng.choice(P).name})
        self.system_avatars = [str(10400 + i) for i in range(12)]  # project system avatars
        self.system_avatars_by_type = {"project": self.system_avatars,
                                       "issuetype": [str(10300 + i) for i in range(20)],
                                       "user": [str(10600 + i) for i in range(10)]}
        self.cloud_id = _uuid(rng)

    def _build_worklog_index(self) -> None:
        idx = []
        where = {}
        for it in self.issues:
            for w in it.worklogs:
                idx.append((w[W_UPDATED], w[W_ID]))
                where[w[W_ID]] = it
        idx.sort()
        self.wl_index = idx  # sorted (updated, id) of live worklogs
        self.wl_issue = where  # worklog id -> Issue
        self.wl_deleted: list[tuple[int, int]] = []  # sorted (deleted ms, id)

    # ----------------------------------------------------------------------------------------
    # lookups
    # ----------------------------------------------------------------------------------------
    def find_issue(self, id_or_key: Any, include_deleted: bool = False) -> Issue | None:
        it = None
        s = str(id_or_key)
        if s.isdigit():
            it = self.issue_by_id.get(int(s))
        else:
            it = self.issue_by_key.get(s.upper())
        if it is None or (it.deleted and not include_deleted):
            return None
        return it

    def find_project(self, id_or_key: Any) -> Project | None:
        s = str(id_or_key)
        if s.isdigit():
            return self.project_by_id.get(int(s))
        return self.project_by_key.get(s.upper())

    def live_issues(self) -> Iterable[Issue]:
        return (it for it in self.issues if not it.deleted)

    def searchable(self, it: Issue, now: int, reconcile: frozenset | set = frozenset()) -> bool:
        """Visible to search (JQL/agile) — deleted, hidden and not-yet-indexed issues are not."""
        if it.deleted:
            return False
        if it.id in reconcile:
            return True
        if it.id in self.hidden:
            return False
        if self.index_lag_ms and it.write_ms and now < it.write_ms + self.index_lag_ms:
            return False
        return True

    def lag_pending(self, now: int) -> bool:
        if not self.index_lag_ms:
            return False
        return any(now < it.write_ms + self.index_lag_ms for it in self._writes)

    def transitions_for(self, it: Issue) -> list[tuple[str, str, Status]]:
        """(transition id, name, target status) — global "any status" transitions of a simplified workflow."""
        out = []
        for k, s in enumerate(it.project.statuses):
            if s.id == it.status.id:
                continue
            out.append((str(11 + 10 * k), s.name, s))
        return out

    # ----------------------------------------------------------------------------------------
    # mutations (thread-safe, copy-on-write)
    # ----------------------------------------------------------------------------------------
    def _pick(self, n_or_ids: Any, pool_filter=None) -> list[Issue]:
        if isinstance(n_or_ids, int) and not isinstance(n_or_ids, bool):
            pool = [it for it in self.issues if not it.deleted and (pool_filter is None or pool_filter(it))]
            n = min(n_or_ids, len(pool))
            return self.mut_rng.sample(pool, n)
        if isinstance(n_or_ids, (str, bytes)):
            n_or_ids = [n_or_ids]
        out = []
        for x in n_or_ids:
            it = self.find_issue(x)
            if it is None:
                raise KeyError(f"issue {x!r} does not exist")
            out.append(it)
        return out

    def _touch(self, it: Issue, when: int, exact: bool = False) -> None:
        it.updated = when if exact else max(it.updated, when)
        it.write_ms = self.now_ms()
        self._writes.append(it)
        if len(self._writes) > 10000:
            del self._writes[:5000]

    def _when(self, when: Any) -> int:
        if when is None:
            return self.now_ms()
        if hasattr(when, "timestamp"):
            return int(when.timestamp() * 1000)
        return int(when)

    def _new_history(self, it: Issue, when: int, items: list, author: int = 0) -> None:
        hid = self.counters["history"]
        self.counters["history"] += 1
        it.histories = it.histories + [(hid, when, author, items)]

    def update_issues(self, n_or_ids: Any, when: Any = None, status: str | None = None,
                      summary: str | None = None) -> list[str]:
        with self.lock:
            t = self._when(when)
            out = []
            for it in self._pick(n_or_ids):
                items = []
                if status is not None:
                    target = next((s for s in it.project.statuses if s.name.lower() == status.lower() or s.id == status), None)
                    if target is None:
                        raise KeyError(f"status {status!r} not in project {it.project.key}")
                    items.append(self._status_item(it, target))
                    self._set_status(it, target, t)
                if summary is not None or not items:
                    new = summary if summary is not None else f"{it.summary.split(' (')[0]} (rev {len(it.histories) + 1})"
                    items.append({"field": "summary", "fieldtype": "jira", "fieldId": "summary",
                                  "from": None, "fromString": it.summary, "to": None, "toString": new})
                    it.summary = new
                self._new_history(it, t, items)
                self._touch(it, t, exact=True)
                out.append(str(it.id))
            self.version += 1
            return out

    def create_issues(self, n: int = 1, project: str | None = None, when: Any = None,
                      issue_type: str = "Task") -> list[str]:
        """New issues (created = updated = now or ``when``) in ``project`` (key/id; default: spread
        over the software projects). Returns their ids."""
        with self.lock:
            t = self._when(when)
            if project is not None:
                p0 = self.find_project(project)
                if p0 is None:
                    raise KeyError(f"unknown project {project!r}")
                pool = [p0]
            else:
                pool = [p for p in self.projects if p.type_key == "software"]
            out = []
            for k in range(n):
                p = pool[self.mut_rng.randrange(len(pool))]
                it = Issue()
                it.idx = len(self.issues)
                it.id = self.counters["issue"]
                self.counters["issue"] += 1
                p.key_counter += 1
                it.key = f"{p.key}-{p.key_counter}"
                it.project = p
                types = {x.name.lower(): x for x in p.issue_types}
                it.itype = types.get(issue_type.lower()) or types.get("task") or p.issue_types[0]
                it.status = next(s for s in p.statuses if s.cat == 2)
                it.priority = 2
                it.resolution, it.resolved, it.status_changed = -1, None, t
                it.reporter = it.creator = self.mut_rng.choice(self.humans)
                it.assignee = -1
                it.created = it.updated = t
                it.due = it.story_points = it.team = it.customer = it.severity = it.start_date = None
                it.estimate = it.epic_name = it.parent = it.epic = None
                it.summary = f"New issue {it.key}"
                it.has_desc, it.env, it.accept, it.security, it.flagged = True, False, False, False, False
                it.labels = it.versions = it.fix_versions = it.components = it.areas = ()
                it.sprints = it.voters = it.remote_links = it.properties = ()
                it.watchers = (it.reporter,)
                it.histories, it.comments, it.worklogs, it.attachments = [], [], [], []
                self.issue_by_id[it.id] = it
                self.issue_by_key[it.key] = it
                self.issues.append(it)
                self._touch(it, t, exact=True)
                out.append(str(it.id))
            self.version += 1
            return out

    def _status_item(self, it: Issue, target: Status) -> dict:
        return {"field": "status", "fieldtype": "jira", "fieldId": "status", "from": it.status.id,
                "fromString": it.status.name, "to": target.id, "toString": target.name}

    def _set_status(self, it: Issue, target: Status, t: int) -> None:
        it.status = target
        it.status_changed = t
        if target.cat == 3:
            if it.resolution < 0:
                it.resolution = 0
            it.resolved = t
        else:
            it.resolution = -1
            it.resolved = None

    def add_comments(self, n_issues: Any, per_issue: int = 1, when: Any = None) -> list[str]:
        with self.lock:
            t = self._when(when)
            out = []
            for it in self._pick(n_issues):
                new = []
                for _ in range(per_issue):
                    cid = self.counters["comment"]
                    self.counters["comment"] += 1
                    a = self.mut_rng.choice(self.humans)
                    new.append((cid, t, t, a, a, cid, False))
                    out.append(str(cid))
                it.comments = it.comments + new
                self._touch(it, t)
            self.version += 1
            return out

    def add_worklogs(self, n_issues: Any, per_issue: int = 1, when: Any = None) -> list[str]:
        with self.lock:
            t = self._when(when)
            out = []
            idx = list(self.wl_index)
            for it in self._pick(n_issues):
                new = []
                before = sum(w[W_SECONDS] for w in it.worklogs)
                for _ in range(per_issue):
                    wid = self.counters["worklog"]
                    self.counters["worklog"] += 1
                    secs = self.mut_rng.choice((900, 1800, 3600, 7200))
                    new.append((wid, t, t, t - secs * 1000, self.mut_rng.choice(self.humans), secs, wid))
                    insort(idx, (t, wid))
                    self.wl_issue[wid] = it
                    out.append(str(wid))
                it.worklogs = it.worklogs + new
                after = before + sum(w[W_SECONDS] for w in new)
                self._new_history(it, t, [
                    {"field": "timespent", "fieldtype": "jira", "fieldId": "timespent", "from": str(before) if before else None,
                     "fromString": str(before) if before else None, "to": str(after), "toString": str(after)},
                    {"field": "WorklogId", "fieldtype": "jira", "from": None, "fromString": None,
                     "to": str(new[-1][W_ID]), "toString": str(new[-1][W_ID])},
                ])
                self._touch(it, t)
            self.wl_index = idx
            self.version += 1
            return out

    def delete_issues(self, n_or_ids: Any, when: Any = None) -> list[str]:
        with self.lock:
            t = self._when(when)
            victims = self._pick(n_or_ids)
            expanded = []
            seen = set()
            for it in victims:
                for x in [it] + list(it.subtasks):
                    if x.id not in seen and not x.deleted:
                        seen.add(x.id)
                        expanded.append(x)
            gone = set()
            deleted = list(self.wl_deleted)
            for it in expanded:
                it.deleted = True
                for w in it.worklogs:
                    gone.add(w[W_ID])
                    insort(deleted, (t, w[W_ID]))
                if it.parent is not None and it in it.parent.subtasks:
                    it.parent.subtasks = [s for s in it.parent.subtasks if s is not it]
            if gone:
                self.wl_index = [e for e in self.wl_index if e[1] not in gone]
            self.wl_deleted = deleted
            self.version += 1
            return [str(it.id) for it in expanded]

    def delete_worklogs(self, n: Any = 1, when: Any = None) -> list[str]:
        """Delete ``n`` random worklogs (int) or the given worklog ids (list)."""
        with self.lock:
            t = self._when(when)
            if isinstance(n, int) and not isinstance(n, bool):
                live = [e[1] for e in self.wl_index]
                ids = self.mut_rng.sample(live, min(n, len(live)))
            else:
                ids = [int(x) for x in n]
            deleted = list(self.wl_deleted)
            gone = set()
            for wid in ids:
                it = self.wl_issue.get(wid)
                if it is None or it.deleted or not any(w[W_ID] == wid for w in it.worklogs):
                    raise KeyError(f"worklog {wid} does not exist")
                before = sum(w[W_SECONDS] for w in it.worklogs)
                it.worklogs = [w for w in it.worklogs if w[W_ID] != wid]
                after = sum(w[W_SECONDS] for w in it.worklogs)
                self._new_history(it, t, [
                    {"field": "timespent", "fieldtype": "jira", "fieldId": "timespent", "from": str(before),
                     "fromString": str(before), "to": str(after) if after else None, "toString": str(after) if after else None},
                    {"field": "WorklogId", "fieldtype": "jira", "from": str(wid), "fromString": str(wid), "to": None, "toString": None},
                ])
                self._touch(it, t)
                gone.add(wid)
                insort(deleted, (t, wid))
            self.wl_index = [e for e in self.wl_index if e[1] not in gone]
            self.wl_deleted = deleted
            self.version += 1
            return [str(w) for w in ids]

    def set_index_lag(self, seconds: float) -> None:
        with self.lock:
            self.index_lag_ms = int(seconds * 1000)
            self.version += 1

    def hide_from_search(self, ids: Iterable[Any]) -> None:
        with self.lock:
            for x in ids:
                it = self.find_issue(x, include_deleted=True)
                if it is None:
                    raise KeyError(f"issue {x!r} does not exist")
                self.hidden.add(it.id)
            self.version += 1

    def reveal(self, ids: Iterable[Any] | None = None) -> None:
        with self.lock:
            if ids is None:
                self.hidden.clear()
            else:
                for x in ids:
                    it = self.find_issue(x, include_deleted=True)
                    if it is not None:
                        self.hidden.discard(it.id)
            self.version += 1

    def set_timezone(self, tz: str) -> None:
        with self.lock:
            self.tz = zone(tz)
            self.tz_name = tz
            self.users[0].tz = tz
            self.version += 1

    def set_now_offset(self, seconds: float) -> None:
        with self.lock:
            self.now_offset_ms = int(seconds * 1000)
            self.version += 1

    # ----------------------------------------------------------------------------------------
    # ground truth
    # ----------------------------------------------------------------------------------------
    @property
    def stream_pks(self) -> dict[str, list[str]]:
        """The streams this site offers and their primary keys (Data Center: ``STREAM_PKS_DC``)."""
        return STREAM_PKS_DC if self.dc else STREAM_PKS

    def ground_truth(self, stream: str, projects: Iterable[str] | None = None) -> set[tuple]:
        if stream not in self.stream_pks:
            if self.dc and stream in STREAM_PKS:
                raise KeyError(f"stream {stream!r} is not offered by a Jira Data Center site (Cloud only)")
            raise KeyError(f"unknown stream {stream!r}")
        if stream == "my_permissions":
            return self._my_permissions(projects)
        if stream in JSM.JSM_STREAMS:  # Jira Service Management: servicedesk.py
            return JSM.ground_truth(self, stream)
        keys = None
        if projects:
            keys = set()
            for k in projects:
                p = self.find_project(k)
                if p is None:
                    raise KeyError(f"unknown project {k!r}")
                keys.add(p.idx)
        if stream in PROJECT_FILTERED:
            issues = [it for it in self.issues if not it.deleted and (keys is None or it.project.idx in keys)]
        else:
            issues = [it for it in self.issues if not it.deleted]
        fn = (getattr(self, "_gt_dc_" + stream, None) if self.dc else None) or getattr(self, "_gt_" + stream, None)
        if fn is None:
            raise KeyError(stream)
        return set(fn(issues))

    # issue family -- all depend on deleted issues
    def _gt_issues(self, issues):
        return ((str(it.id),) for it in issues)

    _gt_issue_ids = _gt_issues

    def _gt_issue_changelogs(self, issues):
        return ((str(h[0]),) for it in issues for h in it.histories)

    def _gt_issue_field_history(self, issues):
        from integration_tests.fake_jira.render import Renderer  # the items are rendered from the seed

        render = Renderer(self)
        return ((str(h[0]), i) for it in issues for h in it.histories for i, _ in enumerate(render.history_items(it, h)))

    def _gt_pull_requests(self, issues):
        from integration_tests.fake_jira.render import Renderer

        render = Renderer(self)
        return {(str(it.id), pr["repositoryId"], pr["id"]) for it in issues for _, pr in render.pull_requests(it)}

    def _gt_issue_comments(self, issues):
        return ((str(c[0]),) for it in issues for c in it.comments)

    def _gt_issue_worklogs(self, issues):
        return ((str(w[0]),) for it in issues for w in it.worklogs)

    def _gt_issue_worklogs_deleted(self, issues):
        # every deletion in the /worklog/deleted feed (it covers all projects; its last minute shows up later)
        return ((wid,) for _, wid in self.wl_deleted)

    def _gt_issue_attachments(self, issues):
        return ((str(a[0]),) for it in issues for a in it.attachments)

    def _gt_issue_watchers(self, issues):
        return ((str(it.id), self.users[u].account_id) for it in issues for u in it.watchers)

    def _gt_issue_votes(self, issues):
        return ((str(it.id), self.users[u].account_id) for it in issues for u in it.voters)

    def _gt_issue_remote_links(self, issues):
        return ((r[0],) for it in issues for r in it.remote_links)

    def _gt_issue_properties(self, issues):
        return ((str(it.id), k) for it in issues for k, _ in it.properties)

    def _gt_issue_transitions(self, issues):
        return ((str(it.id), t[0]) for it in issues for t in self.transitions_for(it))

    def _gt_sprint_issues(self, issues):
        return ((sid, str(it.id)) for it in issues for sid in it.sprints)

    def _gt_board_issues(self, issues):
        out = []
        for b in self.boards:
            pids = {p.idx for p in b.projects}
            out.extend((b.id, str(it.id)) for it in issues if it.project.idx in pids)
        return out

    def _gt_epics(self, issues):
        out = []
        for b in self.boards:
            if b.type == "simple":
                continue
            pids = {p.idx for p in b.projects}
            out.extend((b.id, it.id) for it in issues if it.project.idx in pids and it.itype.level == 1)
        return out

    # agile (static)
    def _gt_boards(self, issues):
        return ((b.id,) for b in self.boards)

    def _gt_sprints(self, issues):
        return ((s.id,) for s in self.sprints)

    def _gt_board_configuration(self, issues):
        return ((b.id,) for b in self.boards)

    # projects and people
    def _gt_projects(self, issues):
        return ((str(p.id),) for p in self.projects)

    def _gt_project_versions(self, issues):
        return ((v.id,) for p in self.projects for v in p.versions)

    def _gt_project_components(self, issues):
        return ((c.id,) for p in self.projects for c in p.components)

    def _gt_project_categories(self, issues):
        return ((c[0],) for c in C.PROJECT_CATEGORIES)

    def _gt_project_roles(self, issues):
        return ((r[0],) for r in C.PROJECT_ROLES)

    def _gt_project_types(self, issues):
        return ((t[0],) for t in C.PROJECT_TYPES)

    def _gt_project_avatars(self, issues):
        out = []
        for p in self.projects:
            out.extend((str(p.id), a) for a in self.system_avatars)
            out.extend((str(p.id), a) for a in p.custom_avatars)
        return out

    def _gt_project_email(self, issues):
        return ((str(p.id),) for p in self.projects)

    def _gt_users(self, issues):
        return ((u.account_id,) for u in self.users)

    def _gt_groups(self, issues):
        return ((g.group_id,) for g in self.groups)

    def _gt_group_members(self, issues):
        # all members, inactive ones included (/group/member needs includeInactiveUsers=true for them)
        return ((g.group_id, self.users[m].account_id) for g in self.groups for m in g.members)

    # issue metadata
    def _gt_issue_fields(self, issues):
        return [(f[0],) for f in C.SYSTEM_FIELDS] + [(f[0],) for f in C.CUSTOM_FIELDS]

    def _gt_issue_custom_field_contexts(self, issues):
        return ((fid, c[0]) for fid, ctxs in self.cf_contexts.items() for c in ctxs)

    def _gt_issue_custom_field_options(self, issues):
        return ((fid, c[0], o[0]) for fid, ctxs in self.cf_contexts.items() for c in ctxs for o in c[4])

    def _gt_issue_types(self, issues):
        return ((t.id,) for t in self.issue_types)

    def _gt_issue_priorities(self, issues):
        return ((p[0],) for p in C.PRIORITIES)

    def _gt_issue_resolutions(self, issues):
        return ((r[0],) for r in C.RESOLUTIONS)

    def _gt_workflow_statuses(self, issues):
        return ((s.id,) for s in self.statuses)

    def _gt_workflow_status_categories(self, issues):
        return ((c[0],) for c in C.STATUS_CATEGORIES)

    def _gt_issue_link_types(self, issues):
        return ((lt[0],) for lt in C.LINK_TYPES)

    def _gt_labels(self, issues):
        # the label vocabulary as generated; deleting issues does not shrink it
        return ((lab,) for lab in self.label_vocab)

    def _gt_issue_security_schemes(self, issues):
        return ((s["id"],) for s in self.security_schemes)

    def _gt_issue_type_schemes(self, issues):
        return ((s["id"],) for s in self.issue_type_schemes)

    def _gt_issue_type_screen_schemes(self, issues):
        return ((s["id"],) for s in self.issue_type_screen_schemes)

    def _gt_issue_field_configurations(self, issues):
        return ((s["id"],) for s in self.field_configurations)

    _gt_field_configurations = _gt_issue_field_configurations

    # configuration
    def _gt_workflows(self, issues):
        return ((w["id"],) for w in self.workflows)

    def _gt_workflow_schemes(self, issues):
        return ((w["id"],) for w in self.workflow_schemes)

    def _gt_permission_schemes(self, issues):
        return ((s["id"],) for s in self.permission_schemes)

    def _gt_issue_notification_schemes(self, issues):
        return ((s["id"],) for s in self.notification_schemes)

    _gt_notification_schemes = _gt_issue_notification_schemes

    def _gt_screens(self, issues):
        return ((s["id"],) for s in self.screens)

    def _gt_screen_tabs(self, issues):
        return ((s["id"], t[0]) for s in self.screens for t in s["tabs"])

    def _gt_screen_tab_fields(self, issues):
        return ((s["id"], t[0], f) for s in self.screens for t in s["tabs"] for f in t[2])

    def _gt_screen_schemes(self, issues):
        return ((s["id"],) for s in self.screen_schemes)

    def _gt_filters(self, issues):
        return ((f["id"],) for f in self.filters)

    def _gt_filter_favourite(self, issues):
        return ((f["id"],) for f in self.filters if f["id"] in self.favourite_filter_ids)

    def _gt_filter_my(self, issues):
        return ((f["id"],) for f in self.filters if f["owner"] == 0 or f["id"] in self.favourite_filter_ids)

    def _my_permissions(self, projects):
        """One row per (scope, permission the connector asks): the global scope and each configured project."""
        from integration_tests.fake_jira.catalog import MY_PERMISSIONS_ASKED

        return {(scope, key) for scope in ["global"] + list(projects or []) for key in MY_PERMISSIONS_ASKED}

    def _gt_filter_sharing(self, issues):
        return ((f["id"], s["id"]) for f in self.filters for s in f["shares"])

    def _gt_dashboards(self, issues):
        return ((d["id"],) for d in self.dashboards)

    def _gt_application_roles(self, issues):
        return ((r[0],) for r in C.APPLICATION_ROLES)

    def _gt_time_tracking(self, issues):
        return ((t[0],) for t in C.TIME_TRACKING_PROVIDERS)

    def _gt_server_info(self, issues):
        return [(self.base_url,)]

    def _gt_myself(self, issues):
        return [(self.users[0].account_id,)]

    def _gt_permissions(self, issues):
        return ((p[0],) for p in C.PERMISSIONS)

    def _gt_audit_records(self, issues):
        return ((a["id"],) for a in self.audit)

    def _gt_priority_schemes(self, issues):
        return ((s["id"],) for s in self.priority_schemes)

    # official-connector streams
    def _gt_avatars(self, issues):
        return ((t, a) for t, ids in self.system_avatars_by_type.items() for a in ids)

    def _gt_issue_navigator_settings(self, issues):
        return ((v,) for _, v in C.NAVIGATOR_COLUMNS)

    def _gt_jira_settings(self, issues):
        return ((p[0],) for p in C.APPLICATION_PROPERTIES)

    def _gt_project_permission_schemes(self, issues):
        # issue security levels per project (``/project/{id}/securitylevel``)
        return ((str(p.id), str(lv[0])) for p in self.projects if p.has_security
                for lv in self.security_schemes[0]["levels"])

    def _gt_users_groups_detailed(self, issues):
        return ((u.account_id,) for u in self.users)

    # Data Center forms (users by key, groups and workflows by name)
    def _gt_dc_users(self, issues):
        return ((u.key,) for u in self.users)

    _gt_dc_users_groups_detailed = _gt_dc_users

    def _gt_dc_myself(self, issues):
        return [(self.users[0].key,)]

    def _gt_dc_issue_watchers(self, issues):
        return ((str(it.id), self.users[u].key) for it in issues for u in it.watchers)

    def _gt_dc_issue_votes(self, issues):
        return ((str(it.id), self.users[u].key) for it in issues for u in it.voters)

    def _gt_dc_groups(self, issues):
        return ((g.name,) for g in self.groups)

    def _gt_dc_group_members(self, issues):
        # all members, inactive ones included (/group/member needs includeInactiveUsers=true for them)
        return ((g.name, self.users[m].key) for g in self.groups for m in g.members)

    def _gt_dc_workflows(self, issues):
        return ((w["name"],) for w in self.workflows)
