"""JQL and Jira time values of the issue family: bounds, quoting and the clauses every issue search shares.
Python because the windows are cut at run time from the issues found (the manifest's JQL templates cannot know them).

Rules (README, "Incremental rules"): bounds are epoch milliseconds (zone-free; date strings are read in the user's
zone), `>=` below and `<` above, floored to the minute (JQL compares at minute precision)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, List, Mapping, Optional

MINUTE_MS = 60_000

# Before this instant (1973-03-03) no Jira existed: a lower bound below it means "all history" (no start date, or the
# lookback taken off 0), never a literal to send — Jira documents date strings and periods, and epoch milliseconds of
# a real instant work, but `updated >= 0` (or a negative number) is refused by Jira-compatible servers.
REAL_INSTANT_MS = 100_000_000_000
# The documented date format used when a query would otherwise have no restriction at all (`search/jql` refuses an
# unbounded query): read in the user's zone, which cannot matter this far before any Jira data.
ALL_HISTORY_CLAUSE = 'updated >= "1970-01-01"'
ORDER = " ORDER BY updated ASC, id ASC"


def jira_ms(value: Any) -> Optional[int]:
    """Epoch ms of a Jira datetime (`2025-01-01T14:17:25.435-0800`, any zone) or of an epoch-ms value."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)):
        return int(value)
    text = str(value)
    if text.lstrip("-").isdigit():
        return int(text)
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


def floor_minute(ms: int) -> int:
    return ms - ms % MINUTE_MS


def jql_quote(value: str) -> str:
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def base_clauses(config: Mapping[str, Any]) -> List[str]:
    """What every issue-derived search shares: the configured projects and the extra JQL filter."""
    clauses = []
    projects = [str(p).strip() for p in (config.get("projects") or []) if str(p).strip()]
    if projects:
        clauses.append("project in (" + ", ".join(jql_quote(p) for p in projects) + ")")
    extra = (config.get("issues_jql_filter") or "").strip()
    if extra:
        clauses.append(f"({extra})")
    return clauses


def lower_bound_clauses(lower_ms: Optional[int], bounded: bool) -> List[str]:
    """The `updated >=` clause of a search: epoch ms of a real instant; none for "all history" when the query is
    restricted otherwise, else the documented all-history date."""
    if lower_ms is not None and int(lower_ms) >= REAL_INSTANT_MS:
        return [f"updated >= {int(lower_ms)}"]
    return [] if bounded else [ALL_HISTORY_CLAUSE]


def window_jql(config: Mapping[str, Any], lower_ms: int, upper_ms: Optional[int], order: str = ORDER) -> str:
    """The search of one window: `updated >= lower AND updated < upper`, in `updated` order (or `order`; "" for none)."""
    clauses = base_clauses(config)
    upper = [f"updated < {int(upper_ms)}"] if upper_ms is not None else []
    clauses += lower_bound_clauses(lower_ms, bounded=bool(clauses or upper)) + upper
    return " AND ".join(clauses) + order


def ids_jql(config: Mapping[str, Any], issue_ids: List[str]) -> str:
    """The issues among `issue_ids` that the configured projects and filter admit."""
    return " AND ".join(base_clauses(config) + ["id in (" + ", ".join(issue_ids) + ")"])
