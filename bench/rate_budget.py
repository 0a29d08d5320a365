"""The adaptive request budget (source_jira/limiter.py) measured: our connector's whole catalog against the fake
(its own process, as in harness.py) with and without Jira's burst limit (the fake's token bucket, `--rate`/`--burst`),
the budget on (the defaults) and off (`adaptive_concurrency: false`, 8 fixed workers: the former behaviour).
Prints one Markdown row per read: wall, requests served, 429s, ideal wall (served ÷ rate) and the fake's busiest
second. Small runs only (a shared 2-core machine): `python -m bench.rate_budget --issues 500 --latency 100`."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from bench.harness import FakeProcess, configured_catalog, discover, ours_connector, read

MODES = {"off (8 fixed workers)": {"adaptive_concurrency": False, "num_workers": 8}, "adaptive (defaults)": {}}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--issues", type=int, default=500)
    ap.add_argument("--latency", type=int, default=100)
    ap.add_argument("--rate", type=float, default=20.0)
    ap.add_argument("--burst", type=float, default=10.0)
    ap.add_argument("--no-unlimited", action="store_true", help="only the reads under the token bucket")
    ap.add_argument("--timeout", type=float, default=1800)
    a = ap.parse_args(argv)
    conn = ours_connector()
    print("| bucket | budget | wall s | requests served | 429s | ideal s (served ÷ rate) | wall ÷ ideal | busiest second | records | rc |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    with FakeProcess(a.issues, latency_ms=a.latency, legacy_search=False) as fake, tempfile.TemporaryDirectory() as tmp:
        discovered = discover(conn, fake.info, Path(tmp))
        catalog, _, _ = configured_catalog(discovered, None)
        for bucket in ([True] if a.no_unlimited else [False, True]):
            for mode, extra in MODES.items():
                fake.client.reset_counts()
                if bucket:
                    fake.client.set_rate_limit(rate=a.rate, burst=a.burst)
                else:
                    fake.client.clear_rate_limit()
                info = dict(fake.info)
                config_of = conn.config
                conn.config = lambda i, extra=extra: {**config_of(i), **extra}  # type: ignore[method-assign]
                try:
                    r = read(conn, info, catalog, Path(tmp), a.timeout)
                finally:
                    conn.config = config_of  # type: ignore[method-assign]
                served = sum(fake.client.request_counts().values())
                limited = fake.client.fault_counts().get("rate_limited", 0)
                busiest = fake.client.max_requests_in_window(seconds=1.0)
                ideal = served / a.rate if bucket else None
                print(f"| {f'{a.rate:g}/s, burst {a.burst:g}' if bucket else 'none'} | {mode} | {r.wall_s:.1f} | {served} | "
                      f"{limited} | {f'{ideal:.1f}' if ideal else '–'} | {f'{r.wall_s / ideal:.2f}' if ideal else '–'} | "
                      f"{busiest} | {r.records} | {r.returncode} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
