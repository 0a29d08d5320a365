"""End-to-end: the real `source-jira` command against the fake Jira Cloud for the agile streams. Ids equal the fake's
ground truth, no duplicate primary keys, boards without sprints (kanban, team-managed with sprints off) are skipped
without error, records valid against the discovered schemas, and a second incremental read starts from a small state."""

from __future__ import annotations

import json

import pytest

from integration_tests.conftest import (
    assert_ids_equal_ground_truth,
    assert_valid_against_schemas,
    configured_catalog,
    run_connector,
)

AGILE_STREAMS = ["boards", "sprints", "sprint_issues", "board_issues", "board_configuration", "epics"]


@pytest.fixture(scope="module")
def agile_read(fake_jira):
    config = fake_jira.config()
    discovered = run_connector("discover", config=config, ca_path=fake_jira.ca_path).catalog()
    assert discovered, "discover returned no catalog"
    catalog = configured_catalog(discovered, AGILE_STREAMS)
    result = run_connector("read", config=config, catalog=catalog, ca_path=fake_jira.ca_path)
    return discovered, catalog, result


def test_agile_read_succeeds_without_errors(agile_read):
    _, _, result = agile_read
    assert result.returncode == 0, result.stderr[-2000:]
    assert not result.errors(), result.errors()


@pytest.mark.parametrize("stream", AGILE_STREAMS)
def test_agile_ids_equal_ground_truth(agile_read, fake_jira, stream):
    _, _, result = agile_read
    records = result.records(stream)
    assert records, f"{stream}: no records"
    assert_ids_equal_ground_truth(stream, records, fake_jira)


def test_agile_records_valid_against_schemas(agile_read):
    discovered, _, result = agile_read
    by_stream = result.records_by_stream()
    assert set(by_stream) == set(AGILE_STREAMS)
    assert_valid_against_schemas(discovered, by_stream)


def test_boards_without_sprints_are_skipped_and_logged_once(agile_read, fake_jira):
    _, _, result = agile_read
    boards = {b["id"]: b for b in result.records("boards")}
    kanban = [bid for bid, b in boards.items() if b["type"] == "kanban"]
    assert kanban, "the fake should have a kanban board"
    skip_logs = [m for m in result.logs() if "does not support sprints" in m]
    # the kanban boards are never asked; the other boards without sprints are asked once and skipped once each
    for bid in kanban:
        assert not any(f"/board/{bid}/sprint" in m for m in skip_logs)
    # once per board and per stream reading sprints (here `sprints` and the parent of `sprint_issues`), never per page
    assert skip_logs, "the fake's team-managed board without sprints was not skipped"
    assert all(skip_logs.count(m) <= 2 for m in skip_logs), skip_logs
    sprint_boards = {s["boardId"] for s in result.records("sprints")}
    assert not sprint_boards & set(kanban)
    assert all(boards[bid]["type"] in ("scrum", "simple") for bid in sprint_boards)


def test_sprint_records_carry_the_board_they_were_read_from_and_utc_dates(agile_read):
    _, _, result = agile_read
    for sprint in result.records("sprints"):
        assert isinstance(sprint["boardId"], int)
        for key in ("startDate", "endDate", "completeDate", "createdDate"):
            if sprint.get(key):
                assert sprint[key].endswith("Z"), (key, sprint[key])


def test_sprint_issues_carry_key_status_and_story_points(agile_read):
    _, _, result = agile_read
    records = result.records("sprint_issues")
    assert all(r.get("key") and r.get("status") and r.get("updated") for r in records)
    assert any(isinstance(r.get("storyPoints"), (int, float)) for r in records), "no story points resolved"


def test_second_incremental_read_starts_from_a_small_global_state(agile_read, fake_jira):
    _, catalog, result = agile_read
    state = result.final_state()
    by_name = {s["stream"]["stream_descriptor"]["name"]: s["stream"]["stream_state"] for s in state}
    for stream in ("sprint_issues", "board_issues"):
        stream_state = by_name[stream]
        assert stream_state.get("use_global_cursor") is True, stream_state
        assert not stream_state.get("states"), f"{stream}: per-partition state"
        assert len(json.dumps(stream_state)) < 500, stream_state
    again = run_connector("read", config=fake_jira.config(), catalog=catalog, state=state, ca_path=fake_jira.ca_path)
    assert again.returncode == 0 and not again.errors(), again.errors()
    # nothing changed on the site: only the lookback window can re-read issues, far fewer than the first read
    for stream in ("sprint_issues", "board_issues"):
        assert len(again.records(stream)) < len(result.records(stream)) / 2, stream
