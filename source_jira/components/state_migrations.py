"""Saved states of Airbyte's official Jira connector, continued. Python because the CDK's built-in state migrations
only turn a flat state into a per-partition one (LegacyToPerPartitionStateMigration), while a user switching from
the official connector brings the opposite: its per-partition and per-issue states (`airbyte-source-jira` 4.x:
`{"use_global_cursor": false, "states": [{"partition": {"issue_id": …}, "cursor": {"updated": …}}, …],
"state": {"updated": …}, "parent_state": {"issues": {…}}, "lookback_window": …}`).

Each is turned into this connector's own state for the stream, continuing from where the official sync stopped: the
oldest of the official's stream-wide cursors (its own and its parent's), so nothing newer is skipped; the next
state message is this connector's alone (no official keys left beside it). Flat official states
(`{"updated": "2026-06-30T04:00:00-0700"}`) need no migration: the streams read that format."""

from __future__ import annotations

from dataclasses import InitVar, dataclass
from datetime import datetime, timezone
from typing import Any, List, Mapping, Optional

from airbyte_cdk.sources.declarative.migrations.state_migration import StateMigration
from airbyte_cdk.sources.types import Config

from source_jira.components.agile_checkpoints import RESUME_KEY

OFFICIAL_KEYS = ("states", "parent_state")


def _instant(value: Any) -> Optional[datetime]:
    """A cursor value of the official connector (`2026-12-05T01:43:06-0800`, with or without fractions; epoch ms)."""
    if value is None or value == "":
        return None
    text = str(value)
    if text.lstrip("-").isdigit():
        return datetime.fromtimestamp(int(text) / 1000, tz=timezone.utc)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        for fmt in ("%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z"):
            try:
                parsed = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
        else:
            return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


@dataclass
class OfficialConnectorState(StateMigration):
    """`cursor_field`: this stream's cursor; `official_field`: the official's cursor for the same stream (`updated`);
    `global_cursor`: this stream keeps one cursor for all partitions (the agile issue streams), written as the
    CDK's global-cursor state; else a flat state in epoch milliseconds (the issue family)."""

    config: Config
    parameters: InitVar[Mapping[str, Any]]
    cursor_field: str = "updated"
    official_field: str = "updated"
    global_cursor: bool = False
    lookback_window: int = 0

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        pass

    def should_migrate(self, stream_state: Mapping[str, Any]) -> bool:
        if not isinstance(stream_state, Mapping):
            return False
        if any(key in stream_state for key in OFFICIAL_KEYS):
            # this connector's own agile state: `parent_state` is only its resume marker (agile_checkpoints.py)
            return "states" in stream_state or set(stream_state.get("parent_state") or {}) != {RESUME_KEY}
        # the official's global-cursor form without partitions, on a stream of ours that keeps a flat state
        return not self.global_cursor and isinstance(stream_state.get("state"), Mapping)

    def migrate(self, stream_state: Mapping[str, Any]) -> Mapping[str, Any]:
        candidates: List[datetime] = []
        own = stream_state.get("state")
        if isinstance(own, Mapping):
            candidates += [t for t in [_instant(own.get(self.official_field))] if t]
        parents = stream_state.get("parent_state")
        for parent in (parents.values() if isinstance(parents, Mapping) else []):
            if isinstance(parent, Mapping):
                value = (parent.get("state") or {}).get(self.official_field) if isinstance(parent.get("state"), Mapping) else parent.get(self.official_field)
                candidates += [t for t in [_instant(value)] if t]
        if not candidates:  # per-partition cursors only: the oldest of them
            for entry in stream_state.get("states") or []:
                cursor = entry.get("cursor") if isinstance(entry, Mapping) else None
                if isinstance(cursor, Mapping):
                    candidates += [t for t in [_instant(cursor.get(self.official_field))] if t]
        if not candidates:
            return {}  # nothing usable: read from the start date
        oldest = min(candidates)
        if self.global_cursor:
            lookback = stream_state.get("lookback_window")
            return {"use_global_cursor": True,
                    "state": {self.cursor_field: oldest.strftime("%Y-%m-%dT%H:%M:%S.%f%z")},
                    "lookback_window": int(lookback) if isinstance(lookback, (int, float)) else self.lookback_window}
        return {self.cursor_field: str(int(oldest.timestamp() * 1000))}
