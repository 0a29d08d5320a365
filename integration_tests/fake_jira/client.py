"""Drive a fake started elsewhere (e.g. by the CLI) through its ``/_fake/<name>`` control endpoints.

    c = FakeJiraClient(info["base_url"], info["ca_path"])
    c.update_issues(5); c.ground_truth("issues", projects=["PLAT"]); c.request_counts()
"""

from __future__ import annotations

from typing import Any

import requests


class FakeJiraClient:
    def __init__(self, base_url: str, ca_path: str | None = None, timeout: float = 60) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()
        # per-request ``verify``: a Session's own ``verify`` loses to $REQUESTS_CA_BUNDLE in requests
        self.verify = ca_path if ca_path else True
        self.timeout = timeout

    def call(self, name: str, **kwargs: Any) -> Any:
        r = self.session.post(f"{self.base_url}/_fake/{name}", json=kwargs, timeout=self.timeout,
                              verify=self.verify)
        if r.status_code != 200:
            raise RuntimeError(f"/_fake/{name} -> {r.status_code}: {r.text}")
        return r.json()["result"]

    def ground_truth(self, stream: str, projects: list[str] | None = None) -> set[tuple]:
        return {tuple(row) for row in self.call("ground_truth", stream=stream, projects=projects)}

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        return lambda **kw: self.call(name, **kw)
