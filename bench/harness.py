"""Benchmark: this connector against Airbyte's official Jira connector (airbyte-source-jira 4.0.0) on the fake Jira
Cloud, in one run. Entry point: ``bash bench/run.sh`` (sets up the venvs), or ``.venv/bin/python -m bench.harness``.

For each site size and added latency it starts the fake (``python -m integration_tests.fake_jira``) once, runs
``discover`` with both connectors, then for each case reads the case's streams with each connector as a child
process and measures: wall time; CPU time (user+sys) and peak RSS of the connector process (``os.wait4`` rusage of
that child alone, not of the fake); records per stream (counted from stdout) and records/s; the requests the fake
served, in total and per endpoint (the fake's counters, reset before each read). Writes
``bench/results/latest.{md,json}`` and a plot (``records_per_s.png``) of records/s and peak RSS against site size.
``--profile`` instead records a py-spy profile of our connector on the issue-family case and ranks the hot spots.

The official 4.0.0 reads issues from ``GET /rest/api/3/search`` (startAt/total), which Atlassian removed from Jira
Cloud (CHANGE-2046, answered 410 by the fake and by real sites). The fake is started with ``--legacy-search`` so that
this endpoint answers as it did before, otherwise the official issue-derived streams could not be measured at all.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
DEFAULT_OFFICIAL_VENV = BENCH / ".venv-official"
OFFICIAL_SPEC = "airbyte-source-jira==4.0.0"
START_DATE = "2000-01-01T00:00:00Z"

# case -> streams (None = every stream the connector discovers). Streams a connector does not discover are left out
# for that connector and listed in the table ("missing").
CASES: Dict[str, Optional[Tuple[str, ...]]] = {
    "issues": ("issues",),
    "issue_family": ("issues", "issue_changelogs", "issue_comments", "issue_worklogs"),
    "catalog": None,
}
CASE_TITLES = {"issues": "issues", "issue_family": "issues + changelogs + comments + worklogs", "catalog": "whole catalog"}
# ground truth (record count on the site) is looked up for these streams when a case reads them
TRUTH_STREAMS = ("issues", "issue_changelogs", "issue_comments", "issue_worklogs")
# Jira Service Management (`--servicedesk`, ours only: the official connector has no JSM stream): the requests and
# every per-request stream, read together; the fake's desks are two of its projects (integration_tests/fake_jira/servicedesk.py)
SERVICEDESK_STREAMS = ("requests", "request_slas", "request_comments", "request_participants", "request_approvals",
                       "request_status_history")

_RECORD = re.compile(rb'^\{"type":\s*"RECORD",\s*"record":\s*\{(?:"namespace":\s*(?:null|"[^"]*"),\s*)?"stream":\s*"([^"]+)"')


# ----------------------------------------------------------------------------------------------------------------
# the fake Jira, as a process of its own (its CPU is not the connector's)
# ----------------------------------------------------------------------------------------------------------------
class FakeProcess:
    """``python -m integration_tests.fake_jira`` in a child process, driven through ``FakeJiraClient``."""

    def __init__(self, issues: int, latency_ms: int = 0, seed: int = 42, legacy_search: bool = True,
                 python: str = sys.executable, startup_timeout: float = 1800, datacenter: bool = False) -> None:
        self.issues, self.latency_ms, self.seed, self.datacenter = issues, latency_ms, seed, datacenter
        self.legacy_search, self.python, self.startup_timeout = legacy_search, python, startup_timeout
        self.proc: Optional[subprocess.Popen] = None
        self.info: Dict[str, Any] = {}
        self.client: Any = None
        self.startup_s = 0.0
        self._log = tempfile.TemporaryFile()

    def start(self) -> "FakeProcess":
        from integration_tests.fake_jira.client import FakeJiraClient

        args = [self.python, "-m", "integration_tests.fake_jira", "--issues", str(self.issues), "--seed", str(self.seed),
                "--latency-ms", str(self.latency_ms), "--port", "0"] + (["--legacy-search"] if self.legacy_search else [])
        if self.datacenter:  # a Jira Data Center site under /jira (only this connector reads one)
            args += ["--datacenter", "--context-path", "/jira"]
        t0 = time.perf_counter()
        self.proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=self._log, text=True)
        timer = threading.Timer(self.startup_timeout, self.proc.kill)
        timer.start()
        try:
            line = self.proc.stdout.readline()
        finally:
            timer.cancel()
        if not line:
            self._log.seek(0)
            raise RuntimeError(f"the fake Jira did not start: {self._log.read().decode(errors='replace')[-2000:]}")
        self.info = json.loads(line)
        self.startup_s = time.perf_counter() - t0
        self.client = FakeJiraClient(self.info["base_url"], self.info["ca_path"], timeout=1800)
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def __enter__(self) -> "FakeProcess":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


# ----------------------------------------------------------------------------------------------------------------
# the two connectors
# ----------------------------------------------------------------------------------------------------------------
@dataclass
class Connector:
    name: str  # "ours" | "official"
    exe: str
    python: str
    label: str = ""

    def config(self, info: Mapping[str, Any]) -> dict:
        """Each connector's own minimal config (its defaults for concurrency etc.)."""
        if self.name == "official":
            return {"domain": info["domain"], "email": info["email"], "api_token": info["api_token"], "start_date": START_DATE}
        if info.get("deployment") == "datacenter":
            return {"domain": info["domain"], "start_date": START_DATE,
                    "credentials": {"auth_type": "pat", "personal_access_token": info["pat"]}}
        return {"domain": info["domain"], "start_date": START_DATE,
                "credentials": {"auth_type": "api_token", "email": info["email"], "api_token": info["api_token"]}}

    def env(self, info: Mapping[str, Any]) -> dict:
        env = {k: v for k, v in os.environ.items() if k not in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "PYTHONPATH")}
        if self.name == "ours":
            env["REQUESTS_CA_BUNDLE"] = info["ca_path"]
        # the official connector (airbyte-cdk 6) ignores REQUESTS_CA_BUNDLE: trust_fake_ca() puts the fake's CA into
        # its venv's certifi bundle instead
        return env

    def prepare(self, info: Mapping[str, Any]) -> None:
        if self.name == "official":
            trust_fake_ca(self.python, info["ca_path"])


def ours_connector() -> Connector:
    exe = ROOT / ".venv" / "bin" / "source-jira"
    if not exe.exists():
        found = shutil.which("source-jira", path=str(Path(sys.executable).parent))
        if not found:
            raise RuntimeError("this connector's `source-jira` is not installed: run bash scripts/setup.sh")
        exe = Path(found)
    return Connector("ours", str(exe), str(exe.parent / "python"), "source-jira (this repository)")


def ensure_official_venv(venv: Path = DEFAULT_OFFICIAL_VENV, spec: str = OFFICIAL_SPEC, python: str = "python3") -> Connector:
    """A throwaway venv with the official connector from PyPI (created when missing)."""
    exe = venv / "bin" / "source-jira"
    if not exe.exists():
        print(f"[bench] creating {venv} with {spec} (PyPI, a minute or two)", file=sys.stderr, flush=True)
        subprocess.run([python, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check", spec],
                       check=True)
    return Connector("official", str(exe), str(venv / "bin" / "python"), f"official {spec.split('==')[-1]}")


_CA_BEGIN = "# >>> source-jira bench: fake Jira CA >>>"
_CA_END = "# <<< source-jira bench: fake Jira CA <<<"


def trust_fake_ca(venv_python: str, ca_path: str) -> str:
    """Put the fake's CA (a new one each time the fake starts) into the venv's certifi bundle, replacing the block
    written last time: idempotent, the bundle does not grow run after run."""
    where = subprocess.run([venv_python, "-c", "import certifi; print(certifi.where())"], check=True,
                           capture_output=True, text=True).stdout.strip()
    replace_ca_block(Path(where), Path(ca_path).read_text())
    return where


def replace_ca_block(bundle: Path, pem: str) -> None:
    text = bundle.read_text()
    text = re.sub(re.escape(_CA_BEGIN) + r".*?" + re.escape(_CA_END) + r"\n?", "", text, flags=re.S)
    if text and not text.endswith("\n"):
        text += "\n"
    bundle.write_text(text + f"{_CA_BEGIN}\n{pem.strip()}\n{_CA_END}\n")


# ----------------------------------------------------------------------------------------------------------------
# running a connector
# ----------------------------------------------------------------------------------------------------------------
@dataclass
class ReadResult:
    wall_s: float
    cpu_user_s: float
    cpu_sys_s: float
    peak_rss_mb: float
    returncode: Optional[int]
    timed_out: bool
    records_by_stream: Dict[str, int]
    states: int
    errors: List[str]
    stderr_tail: str

    @property
    def records(self) -> int:
        return sum(self.records_by_stream.values())


def _write_args(workdir: Path, command: str, config: dict, catalog: Optional[dict]) -> List[str]:
    (workdir / "config.json").write_text(json.dumps(config))
    args = [command, "--config", str(workdir / "config.json")]
    if catalog is not None:
        (workdir / "catalog.json").write_text(json.dumps(catalog))
        args += ["--catalog", str(workdir / "catalog.json")]
    return args


def discover(conn: Connector, info: Mapping[str, Any], workdir: Path, timeout: float = 600) -> dict:
    conn.prepare(info)
    args = _write_args(workdir, "discover", conn.config(info), None)
    # cwd: a scratch directory, never the repository (whose source_jira/ would shadow the official package)
    proc = subprocess.run([conn.exe] + args, capture_output=True, text=True, timeout=timeout, env=conn.env(info), cwd=workdir)
    for line in proc.stdout.splitlines():
        if line.startswith('{"type":"CATALOG"') or '"CATALOG"' in line[:40]:
            return json.loads(line)["catalog"]
    raise RuntimeError(f"{conn.name} discover gave no catalog (rc {proc.returncode}): {proc.stdout[-1500:]} {proc.stderr[-1500:]}")


def configured_catalog(discovered: Mapping[str, Any], streams: Optional[Iterable[str]]) -> Tuple[dict, List[str], List[str]]:
    """(configured catalog, selected stream names, wanted-but-not-discovered names). Incremental where supported
    (a first sync: no state), else full refresh."""
    by_name = {s["name"]: s for s in discovered["streams"]}
    wanted = list(by_name) if streams is None else list(streams)
    selected = [n for n in wanted if n in by_name]
    missing = [n for n in wanted if n not in by_name]
    configured = []
    for name in selected:
        s = by_name[name]
        incremental = "incremental" in s.get("supported_sync_modes", []) and (
            s.get("source_defined_cursor") or s.get("default_cursor_field"))
        entry = {"stream": s, "sync_mode": "incremental" if incremental else "full_refresh",
                 "destination_sync_mode": "append"}
        if incremental:
            entry["cursor_field"] = s.get("default_cursor_field", [])
        if s.get("source_defined_primary_key"):
            entry["primary_key"] = s["source_defined_primary_key"]
        configured.append(entry)
    return {"streams": configured}, selected, missing


class HighWaterMark:
    """A process's peak resident set (``VmHWM`` of /proc/<pid>/status, kB), read every ``every`` seconds by a thread
    and once more at stop(): VmHWM only grows while the process lives, so the last reading is the peak."""

    def __init__(self, pid: int, every: float = 0.5) -> None:
        self._path, self._every = f"/proc/{pid}/status", every
        self._kb = 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            with open(self._path) as status:
                for line in status:
                    if line.startswith("VmHWM:"):
                        self._kb = max(self._kb, int(line.split()[1]))
                        return
        except (OSError, ValueError, IndexError):
            pass

    def _run(self) -> None:
        while not self._done.wait(self._every):
            self._read()

    def stop(self) -> None:
        self._done.set()
        self._thread.join()
        self._read()

    @property
    def mb(self) -> float:
        return self._kb / 1024.0


def read(conn: Connector, info: Mapping[str, Any], catalog: dict, workdir: Path, timeout: float) -> ReadResult:
    """``source-jira read`` as a child process: CPU from its rusage (``os.wait4``), peak RSS from its own ``VmHWM``
    (HighWaterMark). Not ``ru_maxrss``: a child started with fork/vfork + exec inherits the high-water mark of the
    process that started it, so it reported this harness's own peak (439 MB once it held the ground truth of 200,000
    issues) for any connector smaller than that."""
    conn.prepare(info)
    args = _write_args(workdir, "read", conn.config(info), catalog)
    errf = tempfile.TemporaryFile()
    counts: Counter = Counter()
    errors: List[str] = []
    states = 0
    timed_out = threading.Event()
    t0 = time.perf_counter()
    proc = subprocess.Popen([conn.exe] + args, stdout=subprocess.PIPE, stderr=errf, env=conn.env(info), cwd=workdir,
                            bufsize=1 << 20)

    def kill() -> None:
        timed_out.set()
        try:
            proc.kill()
        except OSError:
            pass

    timer = threading.Timer(timeout, kill)
    timer.daemon = True
    timer.start()
    peak = HighWaterMark(proc.pid)
    try:
        for line in proc.stdout:
            m = _RECORD.match(line)
            if m:
                counts[m.group(1).decode()] += 1
                continue
            head = line[:60]
            if b'"RECORD"' in head:
                msg = json.loads(line)
                counts[msg["record"]["stream"]] += 1
            elif b'"STATE"' in head:
                states += 1
            elif b'"TRACE"' in head:
                msg = json.loads(line)
                if msg["trace"].get("type") == "ERROR":
                    errors.append(str(msg["trace"]["error"].get("message"))[:300])
    finally:
        peak.stop()  # stdout is closed: the process is exiting, its memory still mapped
        proc.stdout.close()
        _, status, ru = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
    errf.seek(0)
    stderr_tail = errf.read()[-2000:].decode(errors="replace")
    errf.close()
    return ReadResult(wall_s=wall, cpu_user_s=ru.ru_utime, cpu_sys_s=ru.ru_stime, peak_rss_mb=peak.mb,
                      returncode=proc.returncode, timed_out=timed_out.is_set(), records_by_stream=dict(counts),
                      states=states, errors=errors, stderr_tail=stderr_tail)


# ----------------------------------------------------------------------------------------------------------------
# one measurement = one connector x one case on one running fake
# ----------------------------------------------------------------------------------------------------------------
def measure(conn: Connector, fake: FakeProcess, discovered: dict, case: str, timeout: float,
            truth: Optional[Dict[str, int]] = None, streams: Optional[Sequence[str]] = None) -> dict:
    catalog, selected, missing = configured_catalog(discovered, CASES[case] if streams is None else streams)
    fake.client.reset_counts()
    with tempfile.TemporaryDirectory(prefix=f"bench-{conn.name}-") as tmp:
        r = read(conn, fake.info, catalog, Path(tmp), timeout)
    req = {k: int(v) for k, v in sorted(fake.client.request_counts().items(), key=lambda kv: -kv[1])}
    total_api = int(fake.client.total_requests())
    n = fake.issues
    cpu = r.cpu_user_s + r.cpu_sys_s
    row = {
        "connector": conn.name, "connector_label": conn.label, "case": case, "issues": n, "latency_ms": fake.latency_ms,
        "streams": selected, "streams_missing": missing,
        "wall_s": round(r.wall_s, 3), "cpu_user_s": round(r.cpu_user_s, 3), "cpu_sys_s": round(r.cpu_sys_s, 3),
        "cpu_s": round(cpu, 3), "peak_rss_mb": round(r.peak_rss_mb, 1),
        "records": r.records, "records_by_stream": dict(sorted(r.records_by_stream.items())),
        "records_per_s": round(r.records / r.wall_s, 1) if r.wall_s > 0 else None,
        "cpu_ms_per_1k_records": round(1e6 * cpu / r.records, 1) if r.records else None,
        "cpu_s_per_100_issues": round(100 * cpu / n, 4) if n else None,
        "requests_total": sum(req.values()), "requests_received": total_api,
        "requests_per_100_issues": round(100 * sum(req.values()) / n, 2) if n else None,
        "requests_by_endpoint": req,
        "requests_by_endpoint_per_100_issues": {k: round(100 * v / n, 2) for k, v in req.items()} if n else {},
        "returncode": r.returncode, "timed_out": r.timed_out, "timeout_s": timeout,
        "errors": r.errors[:20], "n_errors": len(r.errors), "states": r.states,
        "stderr_tail": r.stderr_tail if (r.returncode not in (0, None) and not r.errors) else "",
    }
    if truth:
        row["truth"] = {s: truth[s] for s in selected if s in truth}
    row["status"] = status_of(row)
    return row


def status_of(row: Mapping[str, Any]) -> str:
    if row["timed_out"]:
        return f"timed out after {row['timeout_s']:.0f} s"
    if row["returncode"] != 0 or row["n_errors"]:
        failed = sorted({m for e in row["errors"] for m in re.findall(r"(?:successfully: |, )(\w+): ", e)})
        what = f"stream(s) failed: {', '.join(failed)}" if failed else f"{row['n_errors']} error message(s)"
        return f"exit {row['returncode']}, {what}"
    short = [s for s, n in (row.get("truth") or {}).items() if row["records_by_stream"].get(s, 0) < n]
    if short:
        return "ok, incomplete: " + ", ".join(f"{s} {row['records_by_stream'].get(s, 0)}/{row['truth'][s]}" for s in short)
    return "ok"


def ground_truth_counts(fake: FakeProcess, streams: Iterable[str]) -> Dict[str, int]:
    out = {}
    for s in streams:
        try:
            out[s] = len(fake.client.ground_truth(s))
        except RuntimeError:
            pass
    return out


def run_matrix(connectors: Sequence[Connector], sizes: Sequence[int], latencies: Sequence[int], cases: Sequence[str],
               timeouts: Mapping[str, float], seed: int = 42, official_max_size: Optional[int] = None,
               log=print) -> List[dict]:
    rows: List[dict] = []
    for n in sizes:
        for lat in latencies:
            log(f"[bench] starting the fake: {n} issues, {lat} ms per request")
            with FakeProcess(n, lat, seed) as fake:
                log(f"[bench]   fake ready in {fake.startup_s:.1f} s at {fake.info['base_url']}")
                truth = ground_truth_counts(fake, TRUTH_STREAMS)
                discovered: Dict[str, dict] = {}
                for conn in connectors:
                    if conn.name == "official" and official_max_size is not None and n > official_max_size:
                        continue
                    with tempfile.TemporaryDirectory() as tmp:
                        discovered[conn.name] = discover(conn, fake.info, Path(tmp))
                for case in cases:
                    for conn in connectors:
                        if conn.name not in discovered:
                            log(f"[bench]   {case:13s} {conn.name:8s} skipped (site larger than --official-max-size)")
                            rows.append(skipped_row(conn, case, n, lat, f"not run (> {official_max_size} issues)"))
                            continue
                        row = measure(conn, fake, discovered[conn.name], case, timeouts[conn.name], truth)
                        rows.append(row)
                        log(f"[bench]   {case:13s} {conn.name:8s} wall {row['wall_s']:8.2f} s  cpu {row['cpu_s']:7.2f} s  "
                            f"rss {row['peak_rss_mb']:6.1f} MB  records {row['records']:7d}  "
                            f"requests {row['requests_total']:6d}  {row['status']}")
    return rows


def run_datacenter(conn: Connector, sizes: Sequence[int], latencies: Sequence[int], timeout: float, seed: int = 42,
                   log=print) -> List[dict]:
    """This connector alone (the official one reads Jira Cloud only) on a fake Jira Data Center: the issue-family case."""
    rows: List[dict] = []
    for n in sizes:
        for lat in latencies:
            log(f"[bench] starting a fake Jira Data Center: {n} issues, {lat} ms per request")
            with FakeProcess(n, lat, seed, legacy_search=False, datacenter=True) as fake:
                truth = ground_truth_counts(fake, TRUTH_STREAMS)
                with tempfile.TemporaryDirectory() as tmp:
                    discovered = discover(conn, fake.info, Path(tmp))
                row = dict(measure(conn, fake, discovered, "issue_family", timeout, truth), deployment="datacenter")
                rows.append(row)
                log(f"[bench]   datacenter    {conn.name:8s} wall {row['wall_s']:8.2f} s  cpu {row['cpu_s']:7.2f} s  "
                    f"rss {row['peak_rss_mb']:6.1f} MB  records {row['records']:7d}  requests {row['requests_total']:6d}  {row['status']}")
    return rows


def run_servicedesk(conn: Connector, sizes: Sequence[int], latencies: Sequence[int], timeout: float, seed: int = 42,
                    log=print) -> List[dict]:
    """This connector alone on the fake's Jira Service Management (Cloud, then Data Center): `requests` and the five
    per-request streams in one read; the measure is the requests made per 100 service requests."""
    rows: List[dict] = []
    for n in sizes:
        for lat in latencies:
            for datacenter in (False, True):
                where = "Data Center" if datacenter else "Cloud"
                log(f"[bench] starting a fake Jira {where} with service desks: {n} issues, {lat} ms per request")
                with FakeProcess(n, lat, seed, legacy_search=False, datacenter=datacenter) as fake:
                    truth = ground_truth_counts(fake, SERVICEDESK_STREAMS)
                    with tempfile.TemporaryDirectory() as tmp:
                        discovered = discover(conn, fake.info, Path(tmp))
                    row = dict(measure(conn, fake, discovered, "servicedesk", timeout, truth, streams=SERVICEDESK_STREAMS),
                               deployment="datacenter" if datacenter else "cloud")
                    served = truth.get("requests") or 0
                    row["service_requests"] = served
                    row["requests_per_100_service_requests"] = round(100 * row["requests_total"] / served, 1) if served else None
                    rows.append(row)
                    log(f"[bench]   servicedesk {where:11s} wall {row['wall_s']:8.2f} s  records {row['records']:7d}  "
                        f"requests {row['requests_total']:6d} for {served} service requests "
                        f"({_f(row['requests_per_100_service_requests'], '{:.0f}')} per 100)  {row['status']}")
    return rows


def skipped_row(conn: Connector, case: str, n: int, lat: int, why: str) -> dict:
    return {"connector": conn.name, "connector_label": conn.label, "case": case, "issues": n, "latency_ms": lat,
            "status": why, "skipped": True}


# ----------------------------------------------------------------------------------------------------------------
# report
# ----------------------------------------------------------------------------------------------------------------
def _f(v: Any, fmt: str = "{:.2f}") -> str:
    if v is None:
        return "—"
    if isinstance(v, (int,)) and not isinstance(v, bool):
        return f"{v:,}"
    return fmt.format(v)


def _ratio(a: Optional[float], b: Optional[float]) -> Optional[float]:
    if a is None or b is None or not b:
        return None
    return a / b


def _pair(rows: Sequence[dict], n: int, lat: int, case: str) -> Tuple[Optional[dict], Optional[dict]]:
    ours = next((r for r in rows if r["connector"] == "ours" and r["issues"] == n and r["latency_ms"] == lat and r["case"] == case), None)
    off = next((r for r in rows if r["connector"] == "official" and r["issues"] == n and r["latency_ms"] == lat and r["case"] == case), None)
    return ours, off


def _valid(r: Optional[dict]) -> bool:
    return bool(r) and not r.get("skipped") and not r.get("timed_out") and r.get("records", 0) > 0


def ratios(rows: Sequence[dict]) -> List[dict]:
    out = []
    keys = sorted({(r["issues"], r["latency_ms"], r["case"]) for r in rows}, key=lambda k: (k[0], k[1], list(CASES).index(k[2])))
    for n, lat, case in keys:
        ours, off = _pair(rows, n, lat, case)
        if not (_valid(ours) and off and not off.get("skipped")):
            continue
        item = {"issues": n, "latency_ms": lat, "case": case}
        if off.get("timed_out"):
            item["official_timed_out_after_s"] = off["timeout_s"]
            # the official run took at least its timeout: the wall ratio is an upper bound
            item["wall"] = _ratio(ours["wall_s"], off["timeout_s"])
            item["wall_is_upper_bound"] = True
        elif _valid(off):
            for k, key in (("wall", "wall_s"), ("cpu", "cpu_s"), ("cpu_per_1k_records", "cpu_ms_per_1k_records"),
                           ("cpu_per_100_issues", "cpu_s_per_100_issues"), ("peak_rss", "peak_rss_mb"),
                           ("requests", "requests_total"), ("records_per_s", "records_per_s")):
                item[k] = _ratio(ours.get(key), off.get(key))
        out.append(item)
    return out


SWEEP_TARGET = 200_000  # issue 19: the issue family's size sweep reaches this many issues
LINEAR_FROM = 10_000  # the smallest sweep size the linear-time check compares with
LINEAR_SLACK = 1.25  # "linear": seconds per issue at the largest size at most this many times the base's


def targets(rows: Sequence[dict], sweep: Sequence[dict]) -> List[dict]:
    """The issue's targets, evaluated on the issue-family case (2,000 issues, or the main size nearest to it)."""
    fam = [r for r in rows if r["case"] == "issue_family" and r["connector"] == "ours" and _valid(r)]
    out: List[dict] = []
    if not fam:
        return out
    n = min({r["issues"] for r in fam}, key=lambda s: abs(s - 2000))
    for lat, limit, label in ((100, 1 / 20, "wall time ≤ 1/20 of official at 100 ms"), (0, 1 / 5, "wall time ≤ 1/5 of official at 0 ms")):
        ours, off = _pair(rows, n, lat, "issue_family")
        if not _valid(ours) or not off or off.get("skipped"):
            out.append({"target": label, "issues": n, "value": None, "met": None, "note": "not measured"})
            continue
        if off.get("timed_out"):
            v = ours["wall_s"] / off["timeout_s"]
            out.append({"target": label, "issues": n, "value": v, "met": True if v <= limit else None,
                        "note": f"official timed out after {off['timeout_s']:.0f} s: ratio ≤ {v:.3f}"})
            continue
        v = ours["wall_s"] / off["wall_s"]
        out.append({"target": label, "issues": n, "value": v, "met": v <= limit,
                    "note": f"{ours['wall_s']:.1f} s vs {off['wall_s']:.1f} s (1/{1 / v:.1f})"})
    for r in fam:
        if r["issues"] == n:
            v = r["requests_per_100_issues"]
            out.append({"target": "≤ 3 requests per 100 issues", "issues": n, "latency_ms": r["latency_ms"], "value": v,
                        "met": v <= 3, "note": f"{r['requests_total']} requests"})
            break
    for lat in sorted({r["latency_ms"] for r in fam if r["issues"] == n}):
        ours, off = _pair(rows, n, lat, "issue_family")
        if _valid(ours) and _valid(off):
            v = ours["cpu_ms_per_1k_records"] / off["cpu_ms_per_1k_records"]
            v2 = ours["cpu_s_per_100_issues"] / off["cpu_s_per_100_issues"]
            out.append({"target": "CPU per 1,000 records ≤ 1/2 of official", "issues": n, "latency_ms": lat, "value": v,
                        "met": v <= 0.5, "note": f"{ours['cpu_ms_per_1k_records']:.0f} vs {off['cpu_ms_per_1k_records']:.0f} ms "
                                                 f"per 1k records; per issue read: {v2:.2f}× (our records include changelogs as rows)"})
    ours_sweep = sorted([r for r in list(sweep) + list(rows) if r["connector"] == "ours" and r["case"] == "issue_family"
                         and _valid(r) and r["latency_ms"] == 0], key=lambda r: r["issues"])
    by_size = {r["issues"]: r for r in ours_sweep}
    if by_size:
        big = max(by_size)
        rss = by_size[big]["peak_rss_mb"]
        note = f"{rss:.0f} MB at {big:,} issues"
        small = min(by_size)
        sub = None
        if big > small:
            growth = by_size[big]["peak_rss_mb"] / by_size[small]["peak_rss_mb"]
            sub = growth < big / small
            note += f"; ×{growth:.2f} RSS for ×{big / small:.0f} issues ({small:,} → {big:,})"
        out.append({"target": f"peak RSS ≤ 300 MB at {SWEEP_TARGET:,} issues, sub-linear growth", "issues": big,
                    "value": rss, "met": (rss <= 300 and (sub is not False)) if big >= SWEEP_TARGET else None,
                    "note": note + ("" if big >= SWEEP_TARGET else f" ({SWEEP_TARGET:,} not measured)")})
        # linear time: seconds per issue at the largest size against the smallest size of at least LINEAR_FROM issues
        # (below it fixed costs, start-up and discovery, dominate)
        base = min((n for n in by_size if n >= LINEAR_FROM and n < big), default=None)
        if base is not None:
            per_big = by_size[big]["wall_s"] / big
            per_base = by_size[base]["wall_s"] / base
            ratio = per_big / per_base
            out.append({"target": f"time grows linearly with issues (s per issue at {big:,} ≤ {LINEAR_SLACK} × at {base:,})",
                        "issues": big, "value": ratio, "met": ratio <= LINEAR_SLACK if big >= SWEEP_TARGET else None,
                        "note": f"{1000 * per_big:.2f} vs {1000 * per_base:.2f} ms per issue ({by_size[big]['wall_s']:.0f} s "
                                f"for {big:,}, {by_size[base]['wall_s']:.1f} s for {base:,})"})
            # the wall above includes waiting for the fake, which shares the same cores and costs more per request
            # on a bigger site; the connector's own CPU per issue says whether the connector scales linearly
            cpu_big, cpu_base = by_size[big]["cpu_s"] / big, by_size[base]["cpu_s"] / base
            cpu_ratio = cpu_big / cpu_base if cpu_base else float("inf")
            out.append({"target": f"the connector's CPU grows linearly with issues (CPU s per issue at {big:,} ≤ {LINEAR_SLACK} × at {base:,})",
                        "issues": big, "value": cpu_ratio, "met": cpu_ratio <= LINEAR_SLACK if big >= SWEEP_TARGET else None,
                        "note": f"{1000 * cpu_big:.2f} vs {1000 * cpu_base:.2f} ms of CPU per issue ({by_size[big]['cpu_s']:.0f} s "
                                f"for {big:,}, {by_size[base]['cpu_s']:.1f} s for {base:,})"})
    return out


def render_markdown(rows: Sequence[dict], sweep: Sequence[dict], meta: Mapping[str, Any]) -> str:
    L: List[str] = []
    L.append(f"_Measured {meta['date']} on this machine ({meta['machine']}); fake Jira and connectors share the same "
             f"cores, so treat the numbers as indicative (±10–20 % run to run)._")
    L.append("")
    L.append(f"Connectors: **ours** = {meta.get('ours', 'this repository')}; **official** = {meta.get('official', 'airbyte-source-jira 4.0.0')} "
             "(its default config: 5 workers). The fake runs with `--legacy-search`: the official connector reads issues "
             "from `GET /rest/api/3/search`, which Jira Cloud has removed (410, CHANGE-2046), so on a real site today "
             "its issue streams fail. The official connector has no `issue_changelogs` stream: it embeds the 40 newest "
             "changelog entries in each issue (`expand=changelog`), so in the issue-family case it reads 3 streams, ours 4.")
    L.append("")
    L.append("| issues | latency | case | connector | streams | wall s | CPU s | CPU ms / 1k rec | CPU s / 100 issues | peak RSS MB | records | records/s | requests | req / 100 issues | status |")
    L.append("|---:|---:|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in rows:
        if r.get("skipped"):
            L.append(f"| {r['issues']:,} | {r['latency_ms']} ms | {r['case']} | {r['connector']} | | | | | | | | | | | {r['status']} |")
            continue
        streams = "all " + str(len(r["streams"])) if r["case"] == "catalog" else ", ".join(r["streams"])
        if r["streams_missing"] and r["case"] != "catalog":
            streams += " (no " + ", ".join(r["streams_missing"]) + ")"
        L.append(f"| {r['issues']:,} | {r['latency_ms']} ms | {r['case']} | {r['connector']} | {streams} | {_f(r['wall_s'])} | "
                 f"{_f(r['cpu_s'])} | {_f(r['cpu_ms_per_1k_records'], '{:.0f}')} | {_f(r['cpu_s_per_100_issues'], '{:.3f}')} | "
                 f"{_f(r['peak_rss_mb'], '{:.0f}')} | {_f(r['records'])} | {_f(r['records_per_s'], '{:,.0f}')} | "
                 f"{_f(r['requests_total'])} | {_f(r['requests_per_100_issues'], '{:.1f}')} | {r['status']} |")
    rat = ratios(rows)
    if rat:
        L.append("")
        L.append("Ratios ours / official (below 1 = ours uses less; for records/s above 1 = ours is faster):")
        L.append("")
        L.append("| issues | latency | case | wall | CPU | CPU / 1k records | CPU / 100 issues | peak RSS | requests | records/s |")
        L.append("|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|")
        for x in rat:
            if x.get("wall_is_upper_bound"):
                L.append(f"| {x['issues']:,} | {x['latency_ms']} ms | {x['case']} | ≤ {x['wall']:.3f} (official timed out after "
                         f"{x['official_timed_out_after_s']:.0f} s) | | | | | | |")
                continue
            L.append(f"| {x['issues']:,} | {x['latency_ms']} ms | {x['case']} | {_f(x.get('wall'), '{:.3f}')} | {_f(x.get('cpu'), '{:.3f}')} | "
                     f"{_f(x.get('cpu_per_1k_records'), '{:.3f}')} | {_f(x.get('cpu_per_100_issues'), '{:.3f}')} | "
                     f"{_f(x.get('peak_rss'), '{:.2f}')} | {_f(x.get('requests'), '{:.3f}')} | {_f(x.get('records_per_s'), '{:.1f}')} |")
    # requests per endpoint, issue-family case, first latency
    fam = [r for r in rows if r["case"] == "issue_family" and not r.get("skipped")]
    if fam:
        n, lat = fam[0]["issues"], fam[0]["latency_ms"]
        ours, off = _pair(rows, n, lat, "issue_family")
        eps = Counter()
        for r in (ours, off):
            if r and not r.get("skipped"):
                eps.update(r["requests_by_endpoint"])
        L.append("")
        L.append(f"Requests per 100 issues by endpoint (issue-family case, {n:,} issues, {lat} ms):")
        L.append("")
        L.append("| endpoint | ours | official |")
        L.append("|---|---:|---:|")
        for ep, _ in eps.most_common():
            a = (ours or {}).get("requests_by_endpoint_per_100_issues", {}).get(ep) if ours and not ours.get("skipped") else None
            b = (off or {}).get("requests_by_endpoint_per_100_issues", {}).get(ep) if off and not off.get("skipped") else None
            L.append(f"| `{ep}` | {_f(a, '{:.2f}')} | {_f(b, '{:.2f}')} |")
    if sweep:
        L.append("")
        L.append("Size sweep (issue-family case, 0 ms latency; plot: `bench/results/records_per_s.png`):")
        L.append("")
        L.append("| issues | connector | wall s | CPU s | peak RSS MB | records | records/s | req / 100 issues | status |")
        L.append("|---:|---|---:|---:|---:|---:|---:|---:|---|")
        for r in sorted(sweep, key=lambda r: (r["issues"], r["connector"] != "ours")):
            if r.get("skipped"):
                L.append(f"| {r['issues']:,} | {r['connector']} | | | | | | | {r['status']} |")
                continue
            L.append(f"| {r['issues']:,} | {r['connector']} | {_f(r['wall_s'])} | {_f(r['cpu_s'])} | {_f(r['peak_rss_mb'], '{:.0f}')} | "
                     f"{_f(r['records'])} | {_f(r['records_per_s'], '{:,.0f}')} | {_f(r['requests_per_100_issues'], '{:.1f}')} | {r['status']} |")
    dc = list(meta.get("datacenter") or [])
    if dc:
        L.append("")
        L.append("Jira Data Center (issue-family case; this connector only — the official one reads Jira Cloud only). The fake "
                 "serves REST API v2 under `/jira`, `startAt` search pages and a 10,000-result window:")
        L.append("")
        L.append("| issues | latency | wall s | CPU s | peak RSS MB | records | records/s | requests | req / 100 issues | status |")
        L.append("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
        for r in dc:
            L.append(f"| {r['issues']:,} | {r['latency_ms']} ms | {_f(r['wall_s'])} | {_f(r['cpu_s'])} | {_f(r['peak_rss_mb'], '{:.0f}')} | "
                     f"{_f(r['records'])} | {_f(r['records_per_s'], '{:,.0f}')} | {_f(r['requests_total'])} | "
                     f"{_f(r['requests_per_100_issues'], '{:.2f}')} | {r['status']} |")
    sd = list(meta.get("servicedesk") or [])
    if sd:
        L.append("")
        L.append("Jira Service Management (`requests` and the five per-request streams in one read, a first sync; this "
                 "connector only — the official one has no JSM stream). Every request the connector made is counted, "
                 "the issue search and the desk lists included:")
        L.append("")
        L.append("| deployment | issues | service requests | latency | wall s | records | requests | req / 100 service requests | status |")
        L.append("|---|---:|---:|---:|---:|---:|---:|---:|---|")
        for r in sd:
            L.append(f"| {r['deployment']} | {r['issues']:,} | {r['service_requests']:,} | {r['latency_ms']} ms | {_f(r['wall_s'])} | "
                     f"{_f(r['records'])} | {_f(r['requests_total'])} | {_f(r['requests_per_100_service_requests'], '{:.0f}')} | {r['status']} |")
    tg = targets(rows, sweep)
    if tg:
        L.append("")
        L.append("Targets (issue-family case):")
        L.append("")
        L.append("| target | measured | met |")
        L.append("|---|---|---|")
        for t in tg:
            met = {True: "yes", False: "**no**", None: "n/a"}[t["met"]]
            val = "—" if t["value"] is None else f"{t['value']:.3f}"
            where = f"{t['issues']:,} issues" + (f", {t['latency_ms']} ms" if "latency_ms" in t else "")
            L.append(f"| {t['target']} ({where}) | {val}: {t['note']} | {met} |")
    return "\n".join(L) + "\n"


def plot(rows: Sequence[dict], path: Path) -> Optional[Path]:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("[bench] matplotlib is not installed (pip install -e '.[bench]'): no plot", file=sys.stderr)
        return None
    fam = [r for r in rows if r["case"] == "issue_family" and r["latency_ms"] == 0]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    for conn, style in (("ours", "o-"), ("official", "s--")):
        pts = sorted(((r["issues"], r) for r in fam if r["connector"] == conn and _valid(r)), key=lambda p: p[0])
        pts = list({n: r for n, r in pts}.items())
        if pts:
            ax1.plot([p[0] for p in pts], [p[1]["records_per_s"] for p in pts], style, label=conn)
            ax2.plot([p[0] for p in pts], [p[1]["peak_rss_mb"] for p in pts], style, label=conn)
        for r in fam:
            if r["connector"] == conn and r.get("timed_out"):
                ax1.annotate(f"{conn}: timed out\nafter {r['timeout_s']:.0f} s", (r["issues"], ax1.get_ylim()[0]),
                             fontsize=8, color="gray")
    for ax, title, ylabel in ((ax1, "records/s", "records per second"), (ax2, "peak RSS", "MB")):
        ax.set_xscale("log")
        ax.set_xlabel("issues on the site")
        ax.set_ylabel(ylabel)
        ax.set_title(f"{title}: issue family, 0 ms latency", fontsize=10)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
    ax1.set_ylim(bottom=0)
    ax2.set_ylim(bottom=0)
    fig.suptitle("issues + changelogs + comments + worklogs against site size (fake Jira, this machine)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


# ----------------------------------------------------------------------------------------------------------------
# profile (py-spy)
# ----------------------------------------------------------------------------------------------------------------
def summarize_collapsed(text: str, top: int = 25) -> Tuple[List[Tuple[str, float]], List[Tuple[str, float]], int]:
    """From py-spy's raw (collapsed) output: (self %, inclusive %) per function, and the sample count."""
    self_c: Counter = Counter()
    incl: Counter = Counter()
    total = 0
    for line in text.splitlines():
        stack, _, n = line.rpartition(" ")
        if not stack or not n.isdigit():
            continue
        n = int(n)
        total += n
        frames = [f for f in stack.split(";") if f and not f.startswith("process ") and not f.startswith("thread ")]
        if not frames:
            continue
        self_c[_frame(frames[-1])] += n
        for f in {_frame(f) for f in frames}:
            incl[f] += n
    pct = lambda c: [(k, 100.0 * v / total) for k, v in c.most_common(top)] if total else []
    return pct(self_c), pct(incl), total


def _frame(f: str) -> str:
    # "func (path/to/file.py:123)" -> "func (site-packages-relative path)" without the line number
    m = re.match(r"(.*) \((.*?)(?::\d+)?\)$", f)
    if not m:
        return f
    func, path = m.groups()
    path = re.sub(r".*site-packages/", "", path)
    path = re.sub(r".*/lib/python3\.\d+/", "<stdlib>/", path)
    path = path.replace(str(ROOT) + "/", "")
    return f"{func} ({path})"


def profile(issues: int, out_dir: Path, rate: int = 200, log=print) -> Path:
    pyspy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
    if not pyspy:
        raise RuntimeError("py-spy is not installed (pip install -e '.[bench]')")
    conn = ours_connector()
    out_dir.mkdir(parents=True, exist_ok=True)
    raw = out_dir / "profile_issue_family.txt"
    with FakeProcess(issues, 0) as fake, tempfile.TemporaryDirectory() as tmp:
        disc = discover(conn, fake.info, Path(tmp))
        catalog, _, _ = configured_catalog(disc, CASES["issue_family"])
        args = _write_args(Path(tmp), "read", conn.config(fake.info), catalog)
        t0 = time.perf_counter()
        proc = subprocess.run([pyspy, "record", "--format", "raw", "--rate", str(rate), "--nonblocking", "-o", str(raw),
                               "--", conn.exe] + args, env=conn.env(fake.info), cwd=tmp, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
        wall = time.perf_counter() - t0
        if proc.returncode != 0 or not raw.exists():
            raise RuntimeError(f"py-spy failed ({proc.returncode}): {proc.stderr[-1500:]}")
    self_pct, incl_pct, samples = summarize_collapsed(raw.read_text())
    L = [f"py-spy, {rate} Hz, our connector, issue-family case, {issues:,} issues, 0 ms latency: {samples} samples "
         f"(idle threads excluded), {wall:.1f} s wall under the profiler.", "", "Self time (where the CPU is):", "",
         "| % | function |", "|---:|---|"]
    L += [f"| {p:.1f} | `{k}` |" for k, p in self_pct]
    L += ["", "Inclusive time (the function and what it calls):", "", "| % | function |", "|---:|---|"]
    L += [f"| {p:.1f} | `{k}` |" for k, p in incl_pct]
    md = out_dir / "profile.md"
    md.write_text("\n".join(L) + "\n")
    log("\n".join(L))
    log(f"[bench] raw collapsed stacks (load into https://speedscope.app): {raw}")
    return md


# ----------------------------------------------------------------------------------------------------------------
# CLI
# ----------------------------------------------------------------------------------------------------------------
def _ints(s: str) -> List[int]:
    return [int(x) for x in s.split(",") if x.strip()]


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(prog="bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=_ints, default=[2000], help="issues on the site for the main table (default 2000)")
    ap.add_argument("--latency", type=_ints, default=[0, 100], help="added ms per request (default 0,100)")
    ap.add_argument("--cases", default=",".join(CASES), help=f"comma list of {', '.join(CASES)}")
    ap.add_argument("--sweep", type=_ints, default=[1000, 10000, 50000, 200000],
                    help="site sizes for the records/s plot (issue-family case, 0 ms; default 1000,10000,50000,200000)")
    ap.add_argument("--no-sweep", action="store_true")
    ap.add_argument("--connectors", default="ours,official")
    ap.add_argument("--official-venv", type=Path, default=Path(os.environ.get("BENCH_OFFICIAL_VENV", DEFAULT_OFFICIAL_VENV)))
    ap.add_argument("--official-timeout", type=float, default=900, help="seconds per official read before it is killed")
    ap.add_argument("--ours-timeout", type=float, default=3600)
    ap.add_argument("--official-max-size", type=int, default=10000,
                    help="sweep sizes above this run ours only (default 10000)")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--datacenter", type=_ints, default=[], help="issues of Jira Data Center sites to read (ours only), e.g. 2000,15000")
    ap.add_argument("--servicedesk", type=_ints, default=[],
                    help="issues of sites whose service desks are read (JSM requests + per-request streams, Cloud and Data Center, ours only), e.g. 2000")
    ap.add_argument("--out", type=Path, default=BENCH / "results")
    ap.add_argument("--no-plot", action="store_true")
    ap.add_argument("--quick", action="store_true", help="a smoke run: 300 issues, 0 ms, issues + issue_family, sweep 300,1000")
    ap.add_argument("--profile", action="store_true", help="only profile our connector with py-spy (issue family, 0 ms)")
    ap.add_argument("--profile-issues", type=int, default=2000)
    ap.add_argument("--from-json", type=Path, help="re-render the Markdown and the plot from a saved latest.json")
    a = ap.parse_args(argv)

    if a.from_json:
        saved = json.loads(a.from_json.read_text())
        md = render_markdown(saved["rows"], saved["sweep"], saved["meta"])
        a.out.mkdir(parents=True, exist_ok=True)
        (a.out / "latest.md").write_text(md)
        png = None if a.no_plot else plot(saved["sweep"], a.out / "records_per_s.png")
        print(md)
        print(f"[bench] re-rendered {a.out / 'latest.md'}" + (f", {png}" if png else ""))
        return 0

    if a.profile:
        profile(a.profile_issues, a.out)
        return 0
    if a.quick:
        a.sizes, a.latency, a.cases, a.sweep = [300], [0], "issues,issue_family", [300, 1000]
    cases = [c for c in a.cases.split(",") if c]
    unknown = set(cases) - set(CASES)
    if unknown:
        ap.error(f"unknown case(s) {sorted(unknown)}; known: {list(CASES)}")
    names = [c for c in a.connectors.split(",") if c]
    connectors = []
    for name in names:
        if name == "ours":
            connectors.append(ours_connector())
        elif name == "official":
            connectors.append(ensure_official_venv(a.official_venv))
        else:
            ap.error(f"unknown connector {name!r}")
    timeouts = {"ours": a.ours_timeout, "official": a.official_timeout}
    t0 = time.time()
    rows = run_matrix(connectors, a.sizes, a.latency, cases, timeouts, a.seed)
    sweep: List[dict] = []
    if not a.no_sweep:
        for n in a.sweep:
            have = [r for r in rows if r["issues"] == n and r["latency_ms"] == 0 and r["case"] == "issue_family"]
            if have:
                sweep += have
                continue
            sweep += run_matrix(connectors, [n], [0], ["issue_family"], timeouts, a.seed, official_max_size=a.official_max_size)
        # the main table's issue-family runs at 0 ms are points of the curve too
        sweep += [r for r in rows if r["latency_ms"] == 0 and r["case"] == "issue_family" and r not in sweep]
    datacenter = run_datacenter(ours_connector(), a.datacenter, a.latency, a.ours_timeout, a.seed) if a.datacenter else []
    servicedesk = run_servicedesk(ours_connector(), a.servicedesk, a.latency, a.ours_timeout, a.seed) if a.servicedesk else []
    meta = {"date": time.strftime("%Y-%m-%d %H:%M %Z"), "duration_s": round(time.time() - t0, 1), "datacenter": datacenter,
            "servicedesk": servicedesk,
            "machine": f"{platform.machine()}, {os.cpu_count()} cores shared, Python {platform.python_version()}",
            "ours": next((c.label for c in connectors if c.name == "ours"), None),
            "official": next((c.label for c in connectors if c.name == "official"), None),
            "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(a).items()}}
    a.out.mkdir(parents=True, exist_ok=True)
    md = render_markdown(rows, sweep, meta)
    (a.out / "latest.md").write_text(md)
    (a.out / "latest.json").write_text(json.dumps({"meta": meta, "rows": rows, "sweep": sweep, "ratios": ratios(rows),
                                                   "targets": targets(rows, sweep)}, indent=2, default=str))
    png = None if a.no_plot or not sweep else plot(sweep, a.out / "records_per_s.png")
    print()
    print(md)
    print(f"[bench] wrote {a.out / 'latest.md'}, {a.out / 'latest.json'}" + (f", {png}" if png else "")
          + f" in {meta['duration_s']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
