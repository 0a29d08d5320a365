"""The README's demo command keeps working: a small site, full and incremental reads, a per-stream table."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("site", [[], ["--datacenter"]], ids=["cloud", "datacenter"])
def test_demo_runs_check_discover_full_and_incremental_reads(site):
    proc = subprocess.run(
        [sys.executable, "-m", "integration_tests.demo", "--issues", "120", "--workers", "4"] + site,
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    out = proc.stdout
    assert proc.returncode == 0, out[-3000:] + proc.stderr[-2000:]
    assert "SUCCEEDED" in out
    full = re.search(r"Full read: (\d+) records", out)
    incremental = re.search(r"Incremental read: (\d+) records", out)
    assert full and incremental, out[-3000:]
    assert int(full.group(1)) > int(incremental.group(1)) > 0
    # the per-stream table lists every stream with its records, e.g. "  issues   120   …"
    assert re.search(r"^  issues +120 ", out, re.M), out
    assert "ERROR" not in out
