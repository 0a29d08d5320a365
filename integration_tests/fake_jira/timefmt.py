"""Time helpers: Jira's datetime renderings and JQL date parsing.

All instants are kept as epoch milliseconds (int). Platform responses render them in the
``/myself`` user's zone as ``2025-01-01T14:17:25.435-0800``; agile sprint dates are UTC ``...Z``.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

UTC = timezone.utc
MINUTE_MS = 60_000
DAY_MS = 86_400_000


@lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def fmt_platform(ms: int, tz: ZoneInfo) -> str:
    """``2025-01-01T14:17:25.435-0800`` (milliseconds, offset without colon)."""
    dt = datetime.fromtimestamp(ms // 1000, tz)
    off = dt.utcoffset()
    secs = off.days * 86400 + off.seconds
    sign = "+" if secs >= 0 else "-"
    secs = abs(secs)
    return (
        f"{dt.year:04d}-{dt.month:02d}-{dt.day:02d}T{dt.hour:02d}:{dt.minute:02d}:{dt.second:02d}"
        f".{ms % 1000:03d}{sign}{secs // 3600:02d}{(secs % 3600) // 60:02d}"
    )


def fmt_utc(ms: int) -> str:
    """``2025-01-01T22:17:25.435Z`` (agile sprint dates)."""
    dt = datetime.fromtimestamp(ms // 1000, UTC)
    return (
        f"{dt.year:04d}-{dt.month:02d}-{dt.day:02d}T{dt.hour:02d}:{dt.minute:02d}:{dt.second:02d}"
        f".{ms % 1000:03d}Z"
    )


def fmt_date(ms: int, tz: ZoneInfo) -> str:
    """``2025-01-01`` in the given zone (due dates, release dates)."""
    return datetime.fromtimestamp(ms // 1000, tz).strftime("%Y-%m-%d")


def fmt_user_date(ms: int, tz: ZoneInfo) -> str:
    """``01/Jan/25`` (Jira's "userReleaseDate" style)."""
    return datetime.fromtimestamp(ms // 1000, tz).strftime("%d/%b/%y")


def minute_floor(ms: int) -> int:
    return ms - (ms % MINUTE_MS)


def local_to_ms(year: int, month: int, day: int, hour: int, minute: int, tz: ZoneInfo) -> int:
    dt = datetime(year, month, day, hour, minute, tzinfo=tz)
    return int(dt.timestamp()) * 1000


_JQL_DATE = re.compile(
    r"^(\d{4})([/-])(\d{1,2})\2(\d{1,2})(?:\s+(\d{1,2}):(\d{2}))?$"
)
_JQL_PERIOD = re.compile(r"^([+-])?\s*((?:\d+\s*[wdhm]\s*)+)$", re.I)
_PERIOD_PART = re.compile(r"(\d+)\s*([wdhm])", re.I)
_PERIOD_MS = {"w": 7 * DAY_MS, "d": DAY_MS, "h": 3_600_000, "m": MINUTE_MS}


class JqlDateError(ValueError):
    pass


def parse_jql_date(value: str, tz: ZoneInfo, now_ms: int) -> int:
    """Parse a JQL date operand into epoch ms (minute resolution, like Jira).

    Accepts ``yyyy/MM/dd HH:mm``, ``yyyy-MM-dd HH:mm``, ``yyyy/MM/dd``, ``yyyy-MM-dd`` (read in the
    user's zone), a bare 12-13 digit integer (epoch milliseconds of a real instant, zone-free) and periods relative to now
    (``-5d``, ``-1h``, ``4w 2d``). Anything else, seconds included, raises :class:`JqlDateError`.
    """
    v = value.strip()
    if re.fullmatch(r"\d{12,13}", v):
        # Jira documents only date strings and periods; epoch milliseconds of a real instant (1973-2286) work in
        # practice. A degenerate literal (`0`, a negative or short number) is refused, as Jira-compatible servers do.
        return int(v)
    m = _JQL_DATE.match(v)
    if m:
        y, _, mo, d, hh, mm = m.groups()
        try:
            return local_to_ms(int(y), int(mo), int(d), int(hh or 0), int(mm or 0), tz)
        except ValueError as exc:
            raise JqlDateError(str(exc)) from exc
    m = _JQL_PERIOD.match(v)
    if m:
        sign = -1 if m.group(1) == "-" else 1
        total = sum(int(n) * _PERIOD_MS[u.lower()] for n, u in _PERIOD_PART.findall(m.group(2)))
        return minute_floor(now_ms) + sign * total
    raise JqlDateError(v)


def start_of_day(now_ms: int, tz: ZoneInfo) -> int:
    dt = datetime.fromtimestamp(now_ms // 1000, tz)
    return int(datetime(dt.year, dt.month, dt.day, tzinfo=tz).timestamp()) * 1000


def parse_iso(value: str, tz: ZoneInfo) -> int:
    """Lenient ISO-8601 parser for query params (``from``/``to`` of the audit log)."""
    v = value.strip()
    if re.fullmatch(r"-?\d{9,}", v):
        return int(v)
    v = v.replace("Z", "+00:00")
    m = re.match(r"^(.*[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)([+-]\d{2})(\d{2})$", v)
    if m:
        v = f"{m.group(1)}{m.group(2)}:{m.group(3)}"
    dt = datetime.fromisoformat(v)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=tz)
    return int(dt.timestamp() * 1000)


__all__ = [
    "UTC",
    "MINUTE_MS",
    "DAY_MS",
    "zone",
    "fmt_platform",
    "fmt_utc",
    "fmt_date",
    "fmt_user_date",
    "minute_floor",
    "parse_jql_date",
    "JqlDateError",
    "parse_iso",
    "start_of_day",
]
