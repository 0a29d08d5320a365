"""A user switching from Airbyte's official connector keeps its saved state: the states `airbyte-source-jira` 4.0.0
writes (captured from it against the fake: integration_tests/official_states/) and the flat form its manifest
declares continue from where the official sync stopped (less the lookback), and the next state is this connector's
own, with no official key left beside it."""

from __future__ import annotations

import copy
import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from integration_tests.conftest import configured_catalog, run_connector

CAPTURED = json.loads((Path(__file__).parent / "official_states" / "airbyte-source-jira-4.0.0.json").read_text())
FAMILY = ["issues", "issue_comments", "issue_worklogs"]
LOOKBACK_MS = 5 * 60_000


def _jira_ms(text: str) -> int:
    return int(datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp() * 1000)


def _with_cursor(state, instant: str):
    """The captured state with every cursor value replaced by `instant` (the official's format)."""
    if isinstance(state, dict):
        return {k: (instant if k == "updated" and isinstance(v, str) else _with_cursor(v, instant)) for k, v in state.items()}
    if isinstance(state, list):
        return [_with_cursor(v, instant) for v in state]
    return state


def _messages(states):
    return [{"type": "STREAM", "stream": {"stream_descriptor": {"name": name}, "stream_state": value}} for name, value in states.items()]


@pytest.fixture(scope="module")
def site(fake_jira):
    discovered = run_connector("discover", fake_jira.config(), ca_path=fake_jira.ca_path).catalog()
    catalog = configured_catalog(discovered, FAMILY)
    full = run_connector("read", fake_jira.config(), catalog, ca_path=fake_jira.ca_path)
    assert full.returncode == 0, full.errors()
    times = sorted(_jira_ms(i["updated"]) for i in full.records("issues"))
    middle = times[len(times) // 2]
    zone = ZoneInfo(fake_jira.site.tz.key if hasattr(fake_jira.site.tz, "key") else "America/Los_Angeles")
    instant = datetime.fromtimestamp(middle / 1000, tz=zone).replace(microsecond=0)
    return catalog, full, instant


@pytest.mark.parametrize("form", ["nested 4.0.0 state", "flat declared state", "legacy state object", "LEGACY message"])
def test_official_state_continues_where_it_stopped(fake_jira, site, form):
    catalog, full, instant = site
    official = instant.strftime("%Y-%m-%dT%H:%M:%S%z")  # e.g. 2026-06-30T04:00:00-0700
    if form == "nested 4.0.0 state":
        states = {name: _with_cursor(copy.deepcopy(CAPTURED[name]), official) for name in FAMILY}
    else:
        states = {name: {"updated": official} for name in FAMILY}
    messages = _messages(states)
    if form == "legacy state object":  # what older platforms kept: {stream: state}
        messages = {name: {"updated": official} for name in FAMILY}
    elif form == "LEGACY message":
        messages = [{"type": "LEGACY", "data": {name: {"updated": official} for name in FAMILY}}]
    result = run_connector("read", fake_jira.config(), catalog, state=messages, ca_path=fake_jira.ca_path)
    assert result.returncode == 0 and not result.errors(), (result.errors(), result.stderr[-1500:])

    cut = int(instant.timestamp() * 1000)
    got = {i["id"] for i in result.records("issues")}
    newer = {i["id"] for i in full.records("issues") if _jira_ms(i["updated"]) >= cut}
    older = {i["id"] for i in full.records("issues") if _jira_ms(i["updated"]) < cut - LOOKBACK_MS - 60_000}
    assert newer <= got, f"{len(newer - got)} issues changed after the official sync were not read"
    assert not got & older, f"{len(got & older)} issues older than the official state (less the lookback) were read again"
    assert older, "the state's instant splits the site"
    for name in FAMILY:
        final = next(s["stream"]["stream_state"] for s in result.final_state() if s["stream"]["stream_descriptor"]["name"] == name)
        assert set(final) == {"updated"} and str(final["updated"]).isdigit(), f"{name}: not this connector's own state: {final}"
        assert int(final["updated"]) >= cut - LOOKBACK_MS, (name, final)


def test_official_agile_states_become_one_global_cursor(fake_jira, site):
    """The official connector keeps one cursor per sprint and per board (174 of them on a small site); this
    connector continues from the oldest stream-wide value with one global cursor, and keeps no partition list."""
    _, _, instant = site
    discovered = run_connector("discover", fake_jira.config(), ca_path=fake_jira.ca_path).catalog()
    agile = ["sprint_issues", "board_issues"]
    catalog = configured_catalog(discovered, agile)
    full = run_connector("read", fake_jira.config(), catalog, ca_path=fake_jira.ca_path)
    official = instant.strftime("%Y-%m-%dT%H:%M:%S%z")
    states = {name: _with_cursor(copy.deepcopy(CAPTURED[name]), official) for name in agile}
    result = run_connector("read", fake_jira.config(), catalog, state=_messages(states), ca_path=fake_jira.ca_path)
    assert result.returncode == 0 and not result.errors(), (result.errors(), result.stderr[-1500:])
    cut = int(instant.timestamp() * 1000)
    for name in agile:
        got = result.records(name)
        newer = [r for r in full.records(name) if _jira_ms(r["updated"]) >= cut]
        assert newer and {r["issueId"] for r in newer} <= {r["issueId"] for r in got}, name
        assert len(got) < len(full.records(name)), f"{name}: read everything again"
        final = next(s["stream"]["stream_state"] for s in result.final_state() if s["stream"]["stream_descriptor"]["name"] == name)
        assert final.get("use_global_cursor") is True and "states" not in final, f"{name}: {str(final)[:300]}"
