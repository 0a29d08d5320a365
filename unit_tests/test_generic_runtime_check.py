"""The manifest's own `check` (what the CDK's generic runner and `DeclarativeSourceTestSuite` run, without
SourceJira's pre-flight) fails in seconds on a site that does not resolve, not after minutes of retries."""

from __future__ import annotations

import logging
import socket
import time

from airbyte_cdk.models import Status
from airbyte_cdk.sources.declarative.yaml_declarative_source import YamlDeclarativeSource

from source_jira.source import manifest_path

CONFIG = {"domain": "jira-site-that-does-not-exist.invalid",
          "credentials": {"auth_type": "api_token", "email": "nobody@example.com", "api_token": "not-a-real-token"}}


def test_manifest_check_on_an_unresolvable_site_fails_fast(monkeypatch):
    def no_such_host(*args, **kwargs):  # no packet leaves: the look-up itself fails, as for an unknown name
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_host)
    source = YamlDeclarativeSource(path_to_yaml=manifest_path(), config=dict(CONFIG))
    started = time.monotonic()
    status = source.check(logging.getLogger("test"), dict(CONFIG))
    elapsed = time.monotonic() - started
    assert status.status == Status.FAILED
    assert "was not found (DNS lookup failed" in status.message, status.message
    assert elapsed < 20, f"check took {elapsed:.0f} s"
