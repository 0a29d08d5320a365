"""PyAirbyte end to end: the connector read through PyAirbyte (`airbyte` on PyPI) into its default local DuckDB cache,
and the tables and rows checked against the fake Jira's ground truth.

PyAirbyte lives in a venv of its own (scripts/pyairbyte_venv.sh installs pyproject's `demo` extra there), because it
pins much of its world; it drives our installed `source-jira` through `local_executable=`. The venv is created on
first use; the test is skipped only when PyAirbyte cannot be installed (e.g. no package index reachable)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

try:
    import tomllib
except ImportError:  # pragma: no cover - Python 3.10
    import tomli as tomllib

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.e2e

# projects, users, issue_fields always; issues when the connector discovers it.
STREAMS = ["projects", "users", "issue_fields", "issues"]
REQUIRED = {"projects", "users", "issue_fields"}


def _pyairbyte_python() -> Path:
    override = os.environ.get("PYAIRBYTE_PYTHON")
    if override:
        return Path(override)
    venv = Path(os.environ.get("PYAIRBYTE_VENV", ROOT / ".venv-pyairbyte"))
    return (venv if venv.is_absolute() else ROOT / venv) / "bin" / "python"


@pytest.fixture(scope="module")
def pyairbyte_python() -> Path:
    python = _pyairbyte_python()
    setup = subprocess.run(
        ["bash", str(ROOT / "scripts" / "pyairbyte_venv.sh")],
        cwd=ROOT, capture_output=True, text=True, timeout=900,
        env=dict(os.environ, PYTHON=os.environ.get("PYTHON", "python3")),
    ) if "PYAIRBYTE_PYTHON" not in os.environ else None
    if setup is not None and setup.returncode != 0:
        tail = "\n".join((setup.stdout + setup.stderr).strip().splitlines()[-8:])
        pytest.skip(f"PyAirbyte could not be installed (scripts/pyairbyte_venv.sh failed):\n{tail}")
    probe = subprocess.run([str(python), "-c", "import airbyte, duckdb"], capture_output=True, text=True,
                           env=dict(os.environ, DO_NOT_TRACK="1", AIRBYTE_OFFLINE_MODE="1"), timeout=300)
    if probe.returncode != 0:
        pytest.skip(f"PyAirbyte is not importable with {python}: {probe.stderr.strip().splitlines()[-1:]}")
    return python


def test_pyairbyte_reads_into_duckdb(pyairbyte_python, fake_jira, tmp_path):
    executable = shutil.which("source-jira", path=str(Path(sys.executable).parent)) or shutil.which("source-jira")
    assert executable, "the source-jira command is not installed in this environment"
    request = {"config": fake_jira.config(), "executable": executable, "streams": STREAMS}
    env = dict(os.environ)
    env.update(
        REQUESTS_CA_BUNDLE=str(fake_jira.ca_path),
        AIRBYTE_OFFLINE_MODE="1",  # no registry look-up, no telemetry: the connector is a local executable
        DO_NOT_TRACK="1",
    )
    env.pop("AIRBYTE_CACHE_ROOT", None)  # PyAirbyte's default: ./.cache under the working directory
    proc = subprocess.run(
        [str(pyairbyte_python), str(ROOT / "integration_tests" / "pyairbyte_read.py"), json.dumps(request)],
        cwd=tmp_path, capture_output=True, text=True, env=env, timeout=900,
    )
    assert proc.returncode == 0, f"PyAirbyte read failed:\n{proc.stderr[-4000:]}"
    report = json.loads(proc.stdout.strip().splitlines()[-1])

    # The default cache: a DuckDB file under the working directory's .cache/.
    db_path = Path(report["db_path"])
    assert db_path == tmp_path / ".cache" / "default_cache" / "default_cache.duckdb"
    assert db_path.is_file()

    expected = [s for s in STREAMS if s in REQUIRED or s in report["available"]]
    assert sorted(report["streams"]) == sorted(expected)
    for name in expected:
        landed = report["streams"][name]
        assert landed["table"] in report["tables"], f"{name}: table {landed['table']} not in the cache"
        truth = {tuple(str(v) for v in key) for key in fake_jira.ground_truth(name)}
        assert landed["primary_key"] == list(fake_jira.ground_truth_pk(name))
        got = [tuple(str(v) for v in row) for row in landed["pk_values"]]
        assert landed["count"] == len(truth) == landed["records_read"], f"{name}: {landed['count']} rows, truth {len(truth)}"
        assert len(set(got)) == len(got), f"{name}: duplicate primary keys in the cache"
        assert set(got) == truth, f"{name}: ids in DuckDB differ from the fake's ground truth"

    # Date-times land as the instant they are: RFC 3339 offsets (Jira's -0700 once became local clock time in DuckDB)
    if "issues" in expected:
        landed = report["issues_updated_epoch_ms"]
        assert landed, "no issues.updated read back from DuckDB"
        truth = {str(it.id): it.updated for it in fake_jira.site.issues}
        wrong = {key: (value, truth[key]) for key, value in landed.items() if abs(value - truth[key]) >= 1}
        assert not wrong, f"issues.updated in DuckDB differs from the UTC instant: {dict(list(wrong.items())[:3])}"


# ----------------------------------------------------------------------------------------------------------------
# The other ways to run the connector in PyAirbyte without Airbyte's registry (README, "PyAirbyte"): `pip_url=`
# (PyAirbyte installs it into a venv of its own) and `docker_image=` (its image). AIRBYTE_OFFLINE_MODE=1 matters
# beyond telemetry: online, PyAirbyte would take the registry's entry for the name `source-jira`, Airbyte's official
# connector (and `docker_image=True` means its image, airbyte/source-jira).
# ----------------------------------------------------------------------------------------------------------------

INSTALLED_STREAMS = ["projects", "users", "issue_fields"]


def _read_with(pyairbyte_python: Path, fake_jira, cwd: Path, how: dict, env_changes: dict, timeout: int) -> dict:
    request = {"config": fake_jira.config(), "streams": INSTALLED_STREAMS, **how}
    env = dict(os.environ)
    env.update(REQUESTS_CA_BUNDLE=str(fake_jira.ca_path), AIRBYTE_OFFLINE_MODE="1", DO_NOT_TRACK="1")
    env.update(env_changes)
    env.pop("AIRBYTE_CACHE_ROOT", None)
    proc = subprocess.run(
        [str(pyairbyte_python), str(ROOT / "integration_tests" / "pyairbyte_read.py"), json.dumps(request)],
        cwd=cwd, capture_output=True, text=True, env=env, timeout=timeout,
    )
    assert proc.returncode == 0, f"PyAirbyte read failed:\n{proc.stderr[-4000:]}"
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _assert_streams_match_ground_truth(report: dict, fake_jira) -> None:
    assert sorted(report["streams"]) == sorted(INSTALLED_STREAMS)
    for name in INSTALLED_STREAMS:
        landed = report["streams"][name]
        truth = {tuple(str(v) for v in key) for key in fake_jira.ground_truth(name)}
        got = {tuple(str(v) for v in row) for row in landed["pk_values"]}
        assert landed["count"] == len(truth) == landed["records_read"], f"{name}: {landed['count']} rows, truth {len(truth)}"
        assert got == truth, f"{name}: ids in DuckDB differ from the fake's ground truth"


def _index_and_fake_ca_bundle(fake_jira, folder: Path) -> str:
    """One CA bundle for both: the package index's (pip reads REQUESTS_CA_BUNDLE over its own --cert) and the fake's."""
    import certifi

    system = next((Path(p) for p in (os.environ.get("PIP_CERT"), os.environ.get("SSL_CERT_FILE"), certifi.where())
                   if p and Path(p).is_file()))
    bundle = folder / "ca-bundle.pem"
    bundle.write_text(system.read_text().rstrip("\n") + "\n" + Path(fake_jira.ca_path).read_text())
    return str(bundle)


@pytest.mark.slow
def test_pyairbyte_installs_this_checkout_with_pip_url(pyairbyte_python, fake_jira, tmp_path):
    """`pip_url=<this checkout>`: PyAirbyte makes `.venv-source-jira` under its working directory and pip-installs the
    checkout there, its dependencies from the package index (about 75 s here; the whole test about 1.5 minutes),
    then runs that venv's `source-jira`."""
    pip_env = {"REQUESTS_CA_BUNDLE": _index_and_fake_ca_bundle(fake_jira, tmp_path)}
    if shutil.which("uv") is None:  # PyAirbyte installs with uv; without it, with pip (`pip --python <venv>`)
        pip_env.update(AIRBYTE_NO_UV="1", PATH=f"{pyairbyte_python.parent}{os.pathsep}{os.environ.get('PATH', '')}")
    report = _read_with(pyairbyte_python, fake_jira, tmp_path, {"pip_url": str(ROOT)}, pip_env, timeout=600)
    _assert_streams_match_ground_truth(report, fake_jira)

    venv = tmp_path / ".venv-source-jira"
    assert report["install"]["venv"] == str(venv)
    installed = subprocess.run(
        [str(venv / "bin" / "python"), "-c",
         "import importlib.metadata as m, json; d = m.distribution('source-jira-bulk'); "
         "print(json.dumps({'version': d.version, 'url': json.loads(d.read_text('direct_url.json'))['url']}))"],
        capture_output=True, text=True, timeout=60,
    )
    assert installed.returncode == 0, installed.stderr[-2000:]
    what = json.loads(installed.stdout)
    assert what["url"] == ROOT.as_uri()  # this checkout, not a package from an index
    assert what["version"] == tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert (venv / "bin" / "source-jira").is_file()


def test_pyairbyte_runs_the_docker_image(pyairbyte_python, fake_jira, tmp_path):
    """`docker_image="source-jira-bulk:<tag>"`: PyAirbyte runs `docker run --rm -i ... <image>`. Here `docker` is podman
    (integration_tests/podman.py) and the image is built from the Dockerfile; without podman the test is skipped."""
    from integration_tests.podman import REQUIRE_ENV, build_image, podman_as_docker, podman_unavailable

    reason = podman_unavailable()
    if reason:
        if os.environ.get(REQUIRE_ENV):
            pytest.fail(reason)
        pytest.skip(f"docker_image= needs a container engine: {reason}")
    image = build_image()
    with podman_as_docker(str(fake_jira.ca_path)) as changes:
        # PyAirbyte hands the config to the container as a file it wrote (mode 0600, owned by this user): in rootful
        # podman the image's `airbyte` user may not read it, so the container runs as this user here.
        shim_dir = tmp_path / "docker-as-user"
        shim_dir.mkdir()
        podman = shutil.which("podman")
        (shim_dir / "docker").write_text(
            "#!/bin/sh\n"
            f'if [ "$1" = run ]; then shift; exec {podman} run --user "$(id -u):$(id -g)" "$@"; fi\n'
            f'exec {podman} "$@"\n'
        )
        (shim_dir / "docker").chmod(0o755)
        env_changes = dict(changes, PATH=f"{shim_dir}{os.pathsep}{changes['PATH']}")
        report = _read_with(pyairbyte_python, fake_jira, tmp_path, {"docker_image": image}, env_changes, timeout=600)
    _assert_streams_match_ground_truth(report, fake_jira)
    assert report["install"]["executable"][:2] == ["docker", "run"] and image in report["install"]["executable"]
