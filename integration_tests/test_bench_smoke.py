"""The benchmark harness (bench/harness.py) keeps working: its own functions on a tiny site, for OUR connector only
(the official connector needs PyPI and minutes, so it is never run here), plus the fake's opt-in legacy search that
the harness relies on to run the official connector. Not a timed test: no number is asserted against a limit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests

from bench import harness
from integration_tests.fake_jira import FakeJira


def test_legacy_search_is_opt_in_and_pages_every_issue():
    with FakeJira(issues=30, seed=3) as fake:
        r = requests.get(f"{fake.base_url}/rest/api/3/search", params={"jql": "order by updated asc"},
                         auth=(fake.email, fake.api_token), verify=fake.ca_path, timeout=30)
        assert r.status_code == 410 and "search/jql" in r.json()["errorMessages"][0]
    with FakeJira(issues=30, seed=3, legacy_search=True) as fake:
        ids, start = [], 0
        while True:
            r = requests.get(f"{fake.base_url}/rest/api/3/search",
                             params={"jql": "updated >= \"1970-01-01\" ORDER BY updated asc", "startAt": start, "maxResults": 7,
                                     "fields": "*all", "expand": "changelog"},
                             auth=(fake.email, fake.api_token), verify=fake.ca_path, timeout=30)
            assert r.status_code == 200, r.text
            body = r.json()
            assert body["startAt"] == start and body["maxResults"] == 7 and body["total"] == 30
            for issue in body["issues"]:
                assert "changelog" in issue and issue["fields"]["project"]["key"]
            ids += [i["id"] for i in body["issues"]]
            start += body["maxResults"]
            if start >= body["total"]:
                break
        assert sorted(ids) == sorted(i for (i,) in fake.ground_truth("issues")) and len(ids) == len(set(ids))
        assert fake.request_counts() == {"GET /rest/api/3/search": 5}


def test_ca_block_is_replaced_not_appended(tmp_path: Path):
    bundle = tmp_path / "cacert.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\nPUBLIC\n-----END CERTIFICATE-----")
    harness.replace_ca_block(bundle, "-----BEGIN CERTIFICATE-----\nFAKE1\n-----END CERTIFICATE-----\n")
    harness.replace_ca_block(bundle, "-----BEGIN CERTIFICATE-----\nFAKE2\n-----END CERTIFICATE-----\n")
    text = bundle.read_text()
    assert text.count(harness._CA_BEGIN) == 1 and "FAKE2" in text and "FAKE1" not in text and text.startswith("-----BEGIN")
    assert "PUBLIC\n-----END CERTIFICATE-----\n" + harness._CA_BEGIN in text


def test_summarize_collapsed_stacks():
    raw = ("process 1;thread (0x1);main (run.py:10);read (a.py:5);parse (b.py:7) 6\n"
           "process 1;thread (0x1);main (run.py:10);read (a.py:6) 3\n"
           "process 1;thread (0x2);work (c.py:1);parse (b.py:8) 1\n")
    self_pct, incl_pct, total = harness.summarize_collapsed(raw)
    assert total == 10
    assert dict(self_pct) == {"parse (b.py)": 70.0, "read (a.py)": 30.0}
    assert dict(incl_pct)["main (run.py)"] == 90.0 and dict(incl_pct)["parse (b.py)"] == 70.0


@pytest.mark.e2e
def test_harness_measures_our_connector_on_a_tiny_site(tmp_path: Path):
    ours = harness.ours_connector()
    with harness.FakeProcess(issues=50, latency_ms=0, seed=5) as fake:
        truth = harness.ground_truth_counts(fake, harness.TRUTH_STREAMS)
        assert truth["issues"] == 50 and all(truth[s] > 0 for s in harness.TRUTH_STREAMS)
        discovered = harness.discover(ours, fake.info, tmp_path)
        row = harness.measure(ours, fake, discovered, "issue_family", timeout=600, truth=truth)
        # counters were reset before the read: what is counted is this read's requests only
        assert fake.client.request_counts() == row["requests_by_endpoint"]

    assert row["status"] == "ok", (row["status"], row["errors"], row["stderr_tail"])
    assert row["streams"] == list(harness.CASES["issue_family"]) and row["streams_missing"] == []
    assert row["records_by_stream"] == truth  # every record of the four streams, counted from stdout
    assert row["records"] == sum(truth.values())
    assert row["wall_s"] > 0 and row["cpu_s"] > 0 and 10 < row["peak_rss_mb"] < 4000
    assert row["requests_total"] == sum(row["requests_by_endpoint"].values()) > 0
    assert any("search" in ep for ep in row["requests_by_endpoint"])
    assert row["requests_per_100_issues"] == pytest.approx(2 * row["requests_total"], abs=0.01)

    rows = [row]
    md = harness.render_markdown(rows, rows, {"date": "today", "machine": "test"})
    assert "| 50 | 0 ms | issue_family | ours |" in md and "Size sweep" in md
    assert any(t["target"].startswith("≤ 3 requests") for t in harness.targets(rows, rows))
    json.dumps({"rows": rows, "ratios": harness.ratios(rows), "targets": harness.targets(rows, rows)})


def test_peak_rss_is_the_childs_own_not_the_harness_high_water_mark():
    """A child started by this (large) process inherits its high-water mark in `ru_maxrss`; the harness reads the
    child's own VmHWM, which starts afresh at exec."""
    import os
    import subprocess
    import sys

    ballast = bytearray(300 * 1024 * 1024)
    for i in range(0, len(ballast), 4096):  # touch every page: 300 MB resident in this process
        ballast[i] = 1
    code = "import sys; b = bytearray(80 * 1024 * 1024); b[::4096] = b'x' * len(b[::4096]); sys.stdout.close(); import time; time.sleep(0.3)"
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
    peak = harness.HighWaterMark(proc.pid, every=0.05)
    proc.stdout.read()
    peak.stop()
    os.wait4(proc.pid, 0)
    del ballast
    assert 80 <= peak.mb < 200, peak.mb  # ru_maxrss says >= 300 here (this process's ballast)
