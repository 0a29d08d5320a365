"""docs/migration.md's table of differences from the official connector is what both connectors say (their specs and
catalogs, read by scripts/compare_official.py), not a hand-kept list that drifts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_migration_table_matches_both_connectors():
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "compare_official.py"), "--check"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, (
        "docs/migration.md differs from what the connectors say; run `python scripts/compare_official.py` and review "
        "the table (a new difference in the configuration needs its explanation in CONFIG_NOTES): " + result.stderr[-2000:]
    )


def test_official_snapshot_is_the_official_connector():
    snapshot = json.loads((ROOT / "scripts" / "official_source_jira_4.0.0.json").read_text())
    assert snapshot["connector"] == {
        "package": "airbyte-source-jira",
        "version": "4.0.0",
        "definitionId": "68e63de2-bb83-4c7e-93fa-a8a9051e3993",
        "image": "airbyte/source-jira",
    }
    assert {"issues", "issue_comments", "issue_worklogs", "projects", "users"} <= set(snapshot["streams"])
    assert {"email", "api_token", "domain"} <= set(snapshot["spec"]["required"])



def test_readme_links_the_migration_page():
    assert "(docs/migration.md)" in (ROOT / "README.md").read_text()
