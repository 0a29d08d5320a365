"""The connector's image, built from our Dockerfile and run the way Airbyte runs it: `<image> spec|check|discover|read`.

No Docker engine here: the image is built and run with podman (rootful, runc), FROM a local stand-in for Airbyte's
python-connector-base (`localhost/python-base`, built by scripts/podman_base.sh) passed as the BASE_IMAGE build arg;
the Dockerfile's default base stays Airbyte's. The container reaches the fake Jira on 127.0.0.1 through
`--network host`, with the fake's CA mounted and REQUESTS_CA_BUNDLE pointing at it.
Skipped, saying why, where podman or the base image is absent (scripts/podman_base.sh sets both up)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import List, Optional

import pytest
import yaml

from integration_tests.conftest import RunResult, assert_ids_equal_ground_truth, configured_catalog
from integration_tests.podman import LIMITS, PODMAN, REQUIRE_ENV, ROOT, build_image, package_version, podman_unavailable

READ_STREAMS = ["projects", "users", "issue_fields"]

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture(scope="module")
def image() -> str:
    reason = podman_unavailable()
    if reason:
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return build_image()


def run_image(image: str, args: List[str], mount: Optional[Path] = None, env: Optional[dict] = None) -> RunResult:
    command = PODMAN + ["run", "--rm", "--network", "host", *LIMITS]
    if mount is not None:
        command += ["-v", f"{mount}:/secrets:ro"]
    for key, value in (env or {}).items():
        command += ["-e", f"{key}={value}"]
    proc = subprocess.run(command + [image, *args], capture_output=True, text=True, timeout=600)
    messages = []
    for line in proc.stdout.splitlines():
        if line.strip():
            try:
                messages.append(json.loads(line))
            except json.JSONDecodeError:
                raise AssertionError(f"non-protocol line on the image's stdout: {line[:200]!r}\nstderr: {proc.stderr[-2000:]}") from None
    return RunResult(proc.returncode, messages, proc.stderr, proc.stdout)


@pytest.fixture
def secrets_dir(tmp_path, fake_jira) -> Path:
    """A directory for /secrets in the container, readable by its user `airbyte` (uid 1000): config, CA."""
    folder = tmp_path / "secrets"
    folder.mkdir()
    shutil.copyfile(fake_jira.ca_path, folder / "ca.pem")
    (folder / "config.json").write_text(json.dumps(fake_jira.config()))
    for path in (tmp_path, folder, *folder.iterdir()):
        path.chmod(0o755 if path.is_dir() else 0o644)
    return folder


CA_ENV = {"REQUESTS_CA_BUNDLE": "/secrets/ca.pem"}


def test_image_is_built_the_airbyte_way(image):
    inspect = subprocess.run(PODMAN + ["image", "inspect", image], capture_output=True, text=True, timeout=60)
    assert inspect.returncode == 0, inspect.stderr
    config = json.loads(inspect.stdout)[0]["Config"]
    assert config["Entrypoint"] == ["/entrypoint.sh"]
    assert "AIRBYTE_ENTRYPOINT=/entrypoint.sh" in config["Env"]
    assert config["User"] == "airbyte"
    assert config["Labels"]["io.airbyte.name"] == yaml.safe_load((ROOT / "metadata.yaml").read_text())["data"]["dockerRepository"]
    assert config["Labels"]["io.airbyte.version"] == package_version()


def test_spec_in_the_image_matches_the_package(image):
    result = run_image(image, ["spec"])
    assert result.returncode == 0, result.stderr[-2000:]
    specs = [m["spec"] for m in result.messages if m["type"] == "SPEC"]
    assert len(specs) == 1
    manifest = yaml.safe_load((ROOT / "manifest.yaml").read_text())
    assert specs[0]["connectionSpecification"]["properties"].keys() == manifest["spec"]["connection_specification"]["properties"].keys()
    assert specs[0].get("documentationUrl") == manifest["spec"].get("documentation_url")


def test_check_in_the_image(image, secrets_dir, fake_jira):
    ok = run_image(image, ["check", "--config", "/secrets/config.json"], mount=secrets_dir, env=CA_ENV)
    assert ok.connection_status() == {"status": "SUCCEEDED"}, (ok.connection_status(), ok.stderr[-2000:])

    config = fake_jira.config()
    config["credentials"]["api_token"] = "wrong-token"
    (secrets_dir / "config.json").write_text(json.dumps(config))
    bad = run_image(image, ["check", "--config", "/secrets/config.json"], mount=secrets_dir, env=CA_ENV)
    status = bad.connection_status()
    assert status and status["status"] == "FAILED" and "401" in status["message"], status
    assert "wrong-token" not in bad.stdout + bad.stderr


def test_discover_and_read_in_the_image(image, secrets_dir, fake_jira):
    discovered = run_image(image, ["discover", "--config", "/secrets/config.json"], mount=secrets_dir, env=CA_ENV)
    assert discovered.returncode == 0 and discovered.catalog(), discovered.stderr[-2000:]
    catalog = configured_catalog(discovered.catalog(), READ_STREAMS)
    (secrets_dir / "catalog.json").write_text(json.dumps(catalog))
    (secrets_dir / "catalog.json").chmod(0o644)

    result = run_image(image, ["read", "--config", "/secrets/config.json", "--catalog", "/secrets/catalog.json"],
                       mount=secrets_dir, env=CA_ENV)
    assert result.returncode == 0 and not result.errors(), (result.errors(), result.stderr[-2000:])
    by_stream = result.records_by_stream()
    assert sorted(by_stream) == sorted(READ_STREAMS)
    for stream in READ_STREAMS:
        assert_ids_equal_ground_truth(stream, by_stream[stream], fake_jira)
