"""Container helpers for the image tests. There is no Docker engine on these machines and no image registry to pull
from: images are built and run with podman (rootful, runc) FROM a local stand-in for Airbyte's python-connector-base
(`localhost/python-base`, made by scripts/podman_base.sh), passed as the Dockerfile's BASE_IMAGE build arg.

`podman_as_docker()` makes the `docker` command the CDK's standard image tests call mean podman (as Debian's
podman-docker package does), with the host network (the fake Jira listens on 127.0.0.1), the ulimits this kernel
allows and the fake's CA trusted -- set in a containers.conf of its own (CONTAINERS_CONF), never in the machine's
configuration."""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Iterator, Optional

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
BASE_IMAGE = os.environ.get("SOURCE_JIRA_BASE_IMAGE", "localhost/python-base")
IMAGE = "localhost/source-jira:test"
PODMAN = ["podman", "--runtime", "runc"]
LIMITS = ["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1000:1000"]
REQUIRE_ENV = "SOURCE_JIRA_REQUIRE_IMAGE_TEST"  # set by .ci/run, which sets podman up: a missing piece is a failure

_built: dict = {}


def package_version() -> str:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


def podman_unavailable() -> Optional[str]:
    """None when podman and the base image are usable, else why not."""
    if shutil.which("podman") is None:
        return "podman is not installed: run `sudo bash scripts/podman_base.sh` to set up podman and the base image"
    if shutil.which("runc") is None:
        return "runc is not installed: run `sudo bash scripts/podman_base.sh`"
    try:
        probe = subprocess.run(PODMAN + ["image", "exists", BASE_IMAGE], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"podman does not answer ({exc.__class__.__name__}); rootful podman needs root"
    if probe.returncode != 0:
        return f"the local base image {BASE_IMAGE} is absent: run `sudo bash scripts/podman_base.sh`"
    return None


def build_image() -> str:
    """Build the connector image from our Dockerfile on the local base (once per test process). Test workers run
    side by side (pytest-xdist) and the tag is one for the machine: one build at a time, under a file lock."""
    if IMAGE in _built:
        return IMAGE
    with open(Path(tempfile.gettempdir()) / "source-jira-image-build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        return _build_image()


def _build_image() -> str:
    previous = subprocess.run(PODMAN + ["image", "inspect", "--format", "{{.Id}}", IMAGE], capture_output=True, text=True, timeout=60)
    build = subprocess.run(
        PODMAN + ["build", "--network", "host", "-v", "/etc/ssl/certs:/etc/ssl/certs:ro", *LIMITS,
                  "--build-arg", f"BASE_IMAGE={BASE_IMAGE}", "--build-arg", f"CONNECTOR_VERSION={package_version()}",
                  "-f", str(ROOT / "Dockerfile"), "-t", IMAGE, str(ROOT)],
        capture_output=True, text=True, timeout=1200,
    )
    if build.returncode != 0:
        raise AssertionError("podman build failed:\n" + "\n".join((build.stdout + build.stderr).splitlines()[-40:]))
    _built[IMAGE] = True
    old_id = previous.stdout.strip() if previous.returncode == 0 else ""
    current = subprocess.run(PODMAN + ["image", "inspect", "--format", "{{.Id}}", IMAGE], capture_output=True, text=True, timeout=60)
    if old_id and current.stdout.strip() != old_id:  # the image this tag named before: no dangling copies pile up
        subprocess.run(PODMAN + ["rmi", old_id], capture_output=True, timeout=120)
    return IMAGE


@contextlib.contextmanager
def podman_as_docker(ca_path: str) -> Iterator[dict]:
    """Make `docker` mean podman for this process, as Debian's podman-docker package does (a `docker` that execs
    podman, first on PATH), with a containers.conf of its own (CONTAINERS_CONF): runc, the ulimits this kernel
    allows, the host network (the fake listens on 127.0.0.1) and the fake's CA mounted and trusted. Yields the
    environment changes; os.environ is restored on exit."""
    with tempfile.TemporaryDirectory(prefix="source-jira-podman-") as tmp:
        folder = Path(tmp)
        ca_dir = folder / "ca"
        ca_dir.mkdir()
        shutil.copyfile(ca_path, ca_dir / "ca.pem")
        for path in (folder, ca_dir, ca_dir / "ca.pem"):
            path.chmod(0o755 if path.is_dir() else 0o644)
        conf = folder / "containers.conf"
        conf.write_text(
            "[containers]\n"
            'netns = "host"\n'
            'default_ulimits = ["nofile=1024:1024", "nproc=1000:1000"]\n'
            'env = ["REQUESTS_CA_BUNDLE=/fake-jira-ca/ca.pem"]\n'
            f'volumes = ["{ca_dir}:/fake-jira-ca:ro"]\n'
            "[engine]\n"
            'runtime = "runc"\n'
        )
        shim_dir = folder / "bin"
        shim_dir.mkdir()
        shim = shim_dir / "docker"
        shim.write_text(f'#!/bin/sh\n# docker -> podman (like Debian\'s podman-docker), for the CDK\'s image tests\nexec {shutil.which("podman")} "$@"\n')
        shim.chmod(0o755)
        changes = {"PATH": f"{shim_dir}{os.pathsep}{os.environ.get('PATH', '')}", "CONTAINERS_CONF": str(conf)}
        saved = {key: os.environ.get(key) for key in changes}
        os.environ.update(changes)
        try:
            yield changes
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
