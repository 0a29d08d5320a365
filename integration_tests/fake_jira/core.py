"""``FakeJira``: the public facade (start/stop, config, ground truth, mutations, faults, counters), for a Jira
Cloud site or (``deployment="datacenter"``) a Jira Data Center one."""

from __future__ import annotations

import base64
import os
import shutil
import ssl
import threading
import time
from collections import Counter
from typing import Any, Iterable

from .server import FakeServer, Faults, TokenBucket, make_tls, new_tempdir
from .site import DEPENDS_ON_DELETED, DEPLOYMENTS, PROJECT_FILTERED, Site


class FakeJira:
    """A deterministic fake Jira Cloud site served over HTTPS on 127.0.0.1.

    ``FakeJira(issues=2000, seed=42, timezone="America/Los_Angeles", email=..., api_token=...,
    bearer_token=None, latency_ms=0)``; ``start()`` / ``stop()`` or use it as a context manager.

    ``deployment="datacenter"`` serves a Jira Data Center site instead (see the package docstring):
    ``context_path`` (default ``/jira``), credentials ``pat`` (``Authorization: Bearer``) or
    ``dc_username``/``dc_password`` (Basic), ``search_max_results`` (jira.search.views.default.max) and
    ``result_window`` (the search platform's limit on ``startAt + maxResults``; None: no limit).
    """

    def __init__(self, issues: int = 2000, seed: int = 42, timezone: str = "America/Los_Angeles",
                 email: str = "demo@example.com", api_token: str = "fake-token-123",
                 bearer_token: str | None = None, latency_ms: int = 0, port: int = 0,
                 host: str = "127.0.0.1", now_ms: int | None = None,
                 oauth_client_id: str = "fake-client-id", oauth_client_secret: str = "fake-client-secret",
                 oauth_refresh_token: str = "fake-refresh-token-0", legacy_search: bool = False,
                 deployment: str = "cloud", context_path: str | None = None, dc_username: str = "jdoe-admin",
                 dc_password: str = "fake-password", pat: str = "fake-pat-token", search_max_results: int = 1000,
                 result_window: int | None = 10000, jsm: bool = True, jsm_agent: bool = True) -> None:
        if deployment not in DEPLOYMENTS:
            raise ValueError(f"deployment must be one of {DEPLOYMENTS}, not {deployment!r}")
        self.deployment = deployment
        dc = deployment == "datacenter"
        if context_path is None:
            context_path = "/jira" if dc else ""
        elif context_path and not dc:
            raise ValueError("context_path is for deployment='datacenter' (Jira Cloud serves at the root)")
        context_path = context_path.strip()
        if context_path:
            context_path = "/" + context_path.strip("/")
        self.context_path = context_path
        self.dc_username = dc_username
        self.dc_password = dc_password
        self.pat = pat
        self.email = email
        self.oauth_client_id = oauth_client_id
        self.oauth_client_secret = oauth_client_secret
        self._refresh_tokens = {oauth_refresh_token}
        self._access_tokens: dict[str, float] = {}
        self._oauth_n = 0
        self.api_token = api_token
        self.bearer_token = bearer_token
        self.latency_ms = latency_ms
        self.host = host
        self._want_port = port
        self.site = Site(issues=issues, seed=seed, timezone=timezone, email=email, anchor_ms=now_ms,
                         deployment=deployment, dc_username=dc_username)
        self.site.jsm_enabled, self.site.jsm_agent = bool(jsm), bool(jsm_agent)  # servicedesk.py
        self.site.search_max_results = int(search_max_results)
        self.site.result_window = int(result_window) if result_window else None
        # serve the removed GET/POST /rest/api/3/search (startAt/total) instead of its 410 — benchmark only
        self.site.legacy_search = bool(legacy_search)
        self.faults = Faults()
        self.rate_limit: TokenBucket | None = None  # set_rate_limit
        self._arrivals: list[float] = []  # time.monotonic() of every API request received (request_times)
        self._counts: Counter = Counter()
        self._fault_counts: Counter = Counter()
        self._fault_by_endpoint: Counter = Counter()
        self._total = 0
        self._in_flight: Counter = Counter()  # requests being served now, by endpoint (latency included)
        self._peak_in_flight: Counter = Counter()  # the most served at once since the last reset, by endpoint
        self._internal_errors: list[str] = []
        self._count_lock = threading.Lock()
        self._forbidden: set[str] = set()
        self._missing: set[str] = set()
        self._server: FakeServer | None = None
        self._thread: threading.Thread | None = None
        self._tmp: str | None = None
        self.ca_path: str | None = None
        self.port: int | None = None
        self._basic = {"Basic " + base64.b64encode(f"{email}:{api_token}".encode()).decode()}
        self._dc_basic = "Basic " + base64.b64encode(f"{dc_username}:{dc_password}".encode()).decode()

    # ------------------------------------------------------------------------------------------
    # lifecycle
    # ------------------------------------------------------------------------------------------
    def start(self) -> "FakeJira":
        if self._server is not None:
            return self
        self._tmp = new_tempdir()
        ca, chain, key = make_tls(self._tmp)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(chain, key)
        self.ca_path = ca
        self._server = FakeServer((self.host, self._want_port), self, ctx)
        self.port = self._server.server_address[1]
        self.site.base_url = self.base_url
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.2},
                                        name=f"fake-jira-{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        srv = self._server
        if srv is None:
            return
        self._server = None
        srv.shutdown()
        srv.close_all()
        srv.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def __enter__(self) -> "FakeJira":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def is_datacenter(self) -> bool:
        return self.deployment == "datacenter"

    @property
    def root_url(self) -> str:
        """The server's root (control endpoints ``/_fake/...`` live here; on Cloud it is ``base_url``)."""
        return f"https://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """Jira's base URL: the root on Cloud, the root plus the context path on Data Center."""
        return f"https://{self.host}:{self.port}{self.context_path}"

    @property
    def domain(self) -> str:
        """What a user types as the site (Data Center: the context path kept)."""
        return f"{self.host}:{self.port}{self.context_path}"

    def config(self, auth: str | None = None, **overrides: Any) -> dict:
        """A connector config for this site. Cloud: e-mail + API token (``auth`` omitted or "api_token").
        Data Center: ``auth="pat"`` (personal access token, the default) or ``auth="basic"`` (username + password)."""
        if self.is_datacenter:
            if auth in (None, "pat"):
                creds: dict[str, Any] = {"auth_type": "pat", "personal_access_token": self.pat}
            elif auth == "basic":
                creds = {"auth_type": "basic", "username": self.dc_username, "password": self.dc_password}
            else:
                raise ValueError(f"auth must be 'pat' or 'basic' on a Data Center site, not {auth!r}")
        else:
            if auth not in (None, "api_token"):
                raise ValueError(f"auth must be 'api_token' (or omitted) on a Cloud site, not {auth!r}")
            creds = {"auth_type": "api_token", "email": self.email, "api_token": self.api_token}
        cfg: dict[str, Any] = {
            "domain": self.domain,
            "credentials": creds,
            "num_workers": 4,
            "lookback_window_minutes": 5,
        }
        cfg.update(overrides)
        return cfg

    def info(self) -> dict:
        d = {"base_url": self.base_url, "domain": self.domain, "port": self.port, "ca_path": self.ca_path,
             "email": self.email, "api_token": self.api_token, "bearer_token": self.bearer_token,
             "issues": self.site.n_issues, "seed": self.site.seed, "timezone": self.site.tz_name,
             "cloud_id": self.site.cloud_id, "deployment": self.deployment}
        if self.is_datacenter:
            d.update({"root_url": self.root_url, "context_path": self.context_path, "pat": self.pat,
                      "username": self.dc_username, "password": self.dc_password,
                      "search_max_results": self.site.search_max_results, "result_window": self.site.result_window})
        return d

    # ------------------------------------------------------------------------------------------
    # ground truth
    # ------------------------------------------------------------------------------------------
    def ground_truth(self, stream: str, projects: Iterable[str] | None = None) -> set[tuple]:
        """Set of PK tuples for ``stream`` in the site's current state (deleted issues excluded;
        index lag and hide_from_search are ignored: they are transient). ``projects`` (keys or ids)
        filters the issue-derived streams (see ``PROJECT_FILTERED``) and is ignored for the others."""
        return self.site.ground_truth(stream, projects)

    def ground_truth_pk(self, stream: str) -> list[str]:
        pks = self.site.stream_pks
        if stream not in pks:
            self.site.ground_truth(stream)  # raises the KeyError naming the stream (and why)
        return list(pks[stream])

    def streams(self) -> list[str]:
        """The streams this site offers (Data Center: ``STREAM_PKS_DC``)."""
        return sorted(self.site.stream_pks)

    stream_names = streams

    depends_on_deleted = DEPENDS_ON_DELETED
    project_filtered = PROJECT_FILTERED

    # ------------------------------------------------------------------------------------------
    # counters
    # ------------------------------------------------------------------------------------------
    def _note_total(self) -> None:
        with self._count_lock:
            self._total += 1
            self._arrivals.append(time.monotonic())

    def _note_request(self, key: str) -> None:
        with self._count_lock:
            self._counts[key] += 1

    def _note_in_flight(self, key: str, delta: int) -> None:
        with self._count_lock:
            self._in_flight[key] += delta
            self._in_flight["*"] += delta
            for k in (key, "*"):
                self._peak_in_flight[k] = max(self._peak_in_flight[k], self._in_flight[k])

    def _note_fault(self, kind: str, key: str) -> None:
        with self._count_lock:
            self._fault_counts[kind] += 1
            self._fault_by_endpoint[f"{kind} {key}"] += 1

    def _note_internal_error(self, request: str, tb: str) -> None:
        with self._count_lock:
            self._internal_errors.append(f"{request}\n{tb}")

    def internal_errors(self) -> list[str]:
        """Tracebacks of exceptions raised inside the fake (answered as 500s) — should stay empty."""
        with self._count_lock:
            return list(self._internal_errors)

    def request_counts(self) -> dict[str, int]:
        """Served (non-fault) requests: ``"METHOD /path/template" -> count``."""
        with self._count_lock:
            return dict(self._counts)

    def peak_in_flight(self) -> dict[str, int]:
        """The most requests served at the same time since the last reset (latency included), by
        ``"METHOD /path/template"``; ``"*"``: all endpoints together."""
        with self._count_lock:
            return dict(self._peak_in_flight)

    def fault_counts(self, by_endpoint: bool = False) -> dict[str, int]:
        """Injected faults by kind (``429``, ``500``, ``502``, ``503``, ``504``, ``reset``,
        ``truncated``, ``corrupt_json``; ``rate_limited``: refused by ``set_rate_limit``'s bucket), or by ``"kind METHOD /template"`` with by_endpoint."""
        with self._count_lock:
            return dict(self._fault_by_endpoint if by_endpoint else self._fault_counts)

    def total_requests(self) -> int:
        """All API requests received (served + faulted), control endpoints excluded."""
        with self._count_lock:
            return self._total

    def request_times(self) -> list[float]:
        """When each API request arrived (``time.monotonic()`` of this process, in arrival order; served, faulted
        and rate-limited alike) since the last reset."""
        with self._count_lock:
            return list(self._arrivals)

    def max_requests_in_window(self, seconds: float = 1.0) -> int:
        """The most API requests that arrived within any ``seconds`` (a sliding window over ``request_times``)."""
        times, best, lo = self.request_times(), 0, 0
        for hi, t in enumerate(times):
            while t - times[lo] >= seconds:
                lo += 1
            best = max(best, hi - lo + 1)
        return best

    def reset_counts(self) -> None:
        with self._count_lock:
            self._arrivals.clear()
            self._counts.clear()
            self._fault_counts.clear()
            self._fault_by_endpoint.clear()
            self._peak_in_flight = Counter(+self._in_flight)  # what is being served right now still counts
            self._total = 0

    # ------------------------------------------------------------------------------------------
    # auth / permissions
    # ------------------------------------------------------------------------------------------
    def _authenticated(self, header: str | None) -> bool:
        if not header:
            return False
        if self.is_datacenter:  # a personal access token or username + password, nothing else
            if header.startswith("Bearer "):
                return header[7:].strip() == self.pat
            return header == self._dc_basic
        if header in self._basic:
            return True
        if header.startswith("Bearer "):
            tok = header[7:]
            if self.bearer_token and tok == self.bearer_token:
                return True
            exp = self._access_tokens.get(tok)
            return exp is not None and exp > time.time()
        return False

    def _oauth_refresh(self, form: dict) -> tuple[int, dict]:
        """Refresh-token grant with rotation: each refresh token works once; the answer carries a
        new one. Access tokens it issues are accepted as ``Authorization: Bearer``."""
        if form.get("grant_type") != "refresh_token":
            return 400, {"error": "unsupported_grant_type", "error_description": "Unsupported grant type"}
        if form.get("client_id") != self.oauth_client_id or form.get("client_secret") != self.oauth_client_secret:
            return 401, {"error": "access_denied", "error_description": "Unauthorized"}
        with self._count_lock:
            rt = form.get("refresh_token")
            if rt not in self._refresh_tokens:
                return 403, {"error": "unauthorized_client", "error_description": "refresh_token is invalid"}
            self._refresh_tokens.discard(rt)
            self._oauth_n += 1
            access = f"fake-access-{self._oauth_n}-{base64.urlsafe_b64encode(os.urandom(9)).decode()}"
            new_rt = f"fake-refresh-token-{self._oauth_n}"
            self._refresh_tokens.add(new_rt)
            self._access_tokens[access] = time.time() + 3600
        return 200, {"access_token": access, "expires_in": 3600, "token_type": "Bearer", "refresh_token": new_rt,
                     "scope": "read:jira-work read:jira-user offline_access"}

    def oauth_config(self, **overrides: Any) -> dict:
        """A config using the OAuth2.0 credentials this fake accepts (token URL: ``{base_url}/oauth/token``;
        API calls may also go to ``{base_url}/ex/jira/{cloud_id}/rest/...``)."""
        with self._count_lock:
            rt = sorted(self._refresh_tokens)[-1]
        cfg = self.config(credentials={"auth_type": "oauth2.0", "client_id": self.oauth_client_id,
                                       "client_secret": self.oauth_client_secret, "refresh_token": rt,
                                       "cloud_id": self.site.cloud_id})
        cfg.update(overrides)
        return cfg

    def set_forbidden(self, path_prefix_or_template: str) -> None:
        """That endpoint (exact template such as ``/rest/api/3/auditing/record``, or any path
        prefix) answers 403 with Jira's body."""
        self._forbidden.add(path_prefix_or_template)

    def clear_forbidden(self, path_prefix_or_template: str | None = None) -> None:
        if path_prefix_or_template is None:
            self._forbidden.clear()
        else:
            self._forbidden.discard(path_prefix_or_template)

    def _is_forbidden(self, template: str, path: str) -> bool:
        return self._matches(self._forbidden, template, path)

    def set_missing(self, path_prefix_or_template: str) -> None:
        """That endpoint does not exist on this site (a plan or edition without it): Jira's own 404 body."""
        self._missing.add(path_prefix_or_template)

    def clear_missing(self) -> None:
        self._missing.clear()

    def _is_missing(self, template: str, path: str) -> bool:
        return self._matches(self._missing, template, path)

    @staticmethod
    def _matches(prefixes: set, template: str, path: str) -> bool:
        return any(f == template or path.startswith(f) or template.startswith(f) for f in prefixes)

    # ------------------------------------------------------------------------------------------
    # faults
    # ------------------------------------------------------------------------------------------
    def set_faults(self, rate_429: float = 0.0, rate_5xx: float = 0.0, rate_reset: float = 0.0,
                   rate_truncated: float = 0.0, rate_corrupt_json: float = 0.0, latency_ms: int = 0,
                   retry_after: int = 1, seed: int = 0, paths: Iterable[str] | str | None = None) -> None:
        """Deterministic fault injection (one RNG, seeded). ``paths``: templates, ``"METHOD template"``
        or path prefixes the faults apply to (None = every API endpoint)."""
        self.faults = Faults(rate_429, rate_5xx, rate_reset, rate_truncated, rate_corrupt_json, latency_ms,
                             retry_after, seed, list(paths) if paths is not None and not isinstance(paths, str) else paths)

    def clear_faults(self) -> None:
        self.faults = Faults()

    def set_rate_limit(self, rate: float = 20.0, burst: float = 10.0, per_endpoint: bool = False) -> None:
        """Jira's burst limit as a token bucket (``server.TokenBucket``): ``rate`` requests a second, ``burst`` saved
        up, for the whole site or (``per_endpoint``) each endpoint; a request beyond it is a 429 with Jira's
        headers, counted as ``fault_counts()["rate_limited"]``."""
        self.rate_limit = TokenBucket(rate, burst, per_endpoint)

    def clear_rate_limit(self) -> None:
        self.rate_limit = None

    # ------------------------------------------------------------------------------------------
    # mutations (delegated to the site; all thread-safe)
    # ------------------------------------------------------------------------------------------
    def update_issues(self, n_or_ids: Any, when: Any = None, status: str | None = None,
                      summary: str | None = None) -> list[str]:
        """Bump ``updated`` (to now, or ``when`` = epoch ms/datetime) and append a changelog history
        (a summary change, or a status transition with ``status=``). Returns the issue ids."""
        return self.site.update_issues(n_or_ids, when=when, status=status, summary=summary)

    def create_issues(self, n: int = 1, project: str | None = None, when: Any = None,
                      issue_type: str = "Task") -> list[str]:
        """Adds ``n`` new issues (subject to index lag like any write). Returns their ids."""
        return self.site.create_issues(n, project=project, when=when, issue_type=issue_type)

    def add_comments(self, n_issues: Any, per_issue: int = 1, when: Any = None) -> list[str]:
        return self.site.add_comments(n_issues, per_issue, when)

    def add_worklogs(self, n_issues: Any, per_issue: int = 1, when: Any = None) -> list[str]:
        return self.site.add_worklogs(n_issues, per_issue, when)

    def delete_issues(self, n_or_ids: Any, when: Any = None) -> list[str]:
        """Deletes the issues (and their sub-tasks). Returns every deleted issue id."""
        return self.site.delete_issues(n_or_ids, when)

    def delete_worklogs(self, n: Any = 1, when: Any = None) -> list[str]:
        return self.site.delete_worklogs(n, when)

    def set_index_lag(self, seconds: float) -> None:
        self.site.set_index_lag(seconds)

    def hide_from_search(self, ids: Iterable[Any]) -> None:
        self.site.hide_from_search(ids)

    def reveal(self, ids: Iterable[Any] | None = None) -> None:
        self.site.reveal(ids)

    def set_timezone(self, tz: str) -> None:
        self.site.set_timezone(tz)

    def set_now_offset(self, seconds: float) -> None:
        """Shift the fake's clock (mutation times, the worklog feed's last-minute rule, index lag,
        relative JQL dates) by ``seconds``."""
        self.site.set_now_offset(seconds)

    def now_ms(self) -> int:
        return self.site.now_ms()

    # ------------------------------------------------------------------------------------------
    # control plane (``/_fake/<name>``)
    # ------------------------------------------------------------------------------------------
    _CONTROL = {
        "update_issues", "create_issues", "add_comments", "add_worklogs", "delete_issues", "delete_worklogs",
        "set_index_lag", "hide_from_search", "reveal", "set_timezone", "set_now_offset",
        "set_forbidden", "clear_forbidden", "set_missing", "clear_missing", "set_faults", "clear_faults", "ground_truth",
        "set_rate_limit", "clear_rate_limit", "max_requests_in_window",
        "ground_truth_pk", "request_counts", "reset_counts", "fault_counts", "total_requests", "peak_in_flight",
        "info", "config", "oauth_config", "streams", "stream_names", "now_ms", "internal_errors",
    }

    def control(self, name: str, kwargs: dict) -> Any:
        if name not in self._CONTROL:
            raise KeyError(f"unknown control endpoint {name!r}; known: {sorted(self._CONTROL)}")
        result = getattr(self, name)(**kwargs)
        if isinstance(result, (set, frozenset)):
            result = sorted((list(t) for t in result), key=lambda t: [str(x) for x in t])
        return result
