"""``python -m integration_tests.fake_jira``: serve a fake Jira site until SIGTERM/SIGINT.

Prints one JSON line on stdout: base_url, domain, port, ca_path, email, api_token, deployment (and a few more;
with ``--datacenter`` also context_path, root_url, pat, username and password).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading

from .core import FakeJira


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m integration_tests.fake_jira", description=__doc__)
    ap.add_argument("--issues", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--timezone", default="America/Los_Angeles")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--latency-ms", type=int, default=0)
    ap.add_argument("--email", default="demo@example.com")
    ap.add_argument("--api-token", default="fake-token-123")
    ap.add_argument("--bearer-token", default=None)
    ap.add_argument("--legacy-search", action="store_true",
                    help="serve the removed /rest/api/3/search (startAt/total) instead of a 410, "
                         "to benchmark connectors written before its removal")
    ap.add_argument("--datacenter", action="store_true",
                    help="serve a Jira Data Center site (REST API v2 under the context path, PAT or Basic auth)")
    ap.add_argument("--context-path", default=None,
                    help="Data Center context path (default /jira; '' serves at the root)")
    ap.add_argument("--pat", default="fake-pat-token", help="Data Center personal access token")
    ap.add_argument("--username", default="jdoe-admin", help="Data Center username (Basic auth)")
    ap.add_argument("--password", default="fake-password", help="Data Center password (Basic auth)")
    args = ap.parse_args(argv)
    if args.context_path is not None and not args.datacenter:
        ap.error("--context-path needs --datacenter")
    dc_kwargs = {}
    if args.datacenter:
        dc_kwargs = {"deployment": "datacenter", "context_path": args.context_path, "pat": args.pat,
                     "dc_username": args.username, "dc_password": args.password}

    fake = FakeJira(issues=args.issues, seed=args.seed, timezone=args.timezone, email=args.email,
                    api_token=args.api_token, bearer_token=args.bearer_token,
                    latency_ms=args.latency_ms, port=args.port, legacy_search=args.legacy_search, **dc_kwargs)
    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    fake.start()
    info = fake.info()
    sys.stdout.write(json.dumps(info) + "\n")
    sys.stdout.flush()
    try:
        while not stop.wait(0.5):
            pass
    finally:
        fake.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
