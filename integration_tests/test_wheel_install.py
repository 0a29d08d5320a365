"""The installed command finds its manifest and schemas from a wheel install, not only from a checkout."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_install_runs_spec_and_discover(tmp_path):
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(dist), str(ROOT)],
        check=True, capture_output=True, timeout=300,
    )
    wheel = next(dist.glob("source_jira_bulk-*.whl"))
    target = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(target)
    site = next((target / "lib").glob("python*/site-packages"))
    # install the wheel's files only; its dependencies come from this test's environment via PYTHONPATH
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site), str(wheel)],
        check=True, capture_output=True, timeout=300,
    )
    files = {p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file()}
    assert "source_jira/manifest.yaml" in files
    assert "source_jira/schemas/projects.json" in files

    script = target / "bin" / "source-jira"
    if not script.exists():  # pip --target does not write console scripts: call the entry point the same way
        script.write_text(f"#!{target}/bin/python\nfrom source_jira.run import run\nrun()\n")
        script.chmod(0o755)
    env = dict(os.environ, PYTHONPATH=sysconfig.get_paths()["purelib"])
    env.pop("PYTHONHOME", None)
    run_dir = tmp_path / "elsewhere"
    run_dir.mkdir()
    spec = subprocess.run([str(script), "spec"], cwd=run_dir, capture_output=True, text=True, env=env, timeout=120)
    messages = [json.loads(line) for line in spec.stdout.splitlines() if line.strip()]
    spec_msg = next(m for m in messages if m["type"] == "SPEC")
    assert "domain" in spec_msg["spec"]["connectionSpecification"]["properties"]

    where = subprocess.run(
        [str(target / "bin" / "python"), "-c", "import source_jira; print(source_jira.__file__)"],
        cwd=run_dir, capture_output=True, text=True, env=env, timeout=60,
    )
    assert str(site) in where.stdout, f"not the wheel's package: {where.stdout} {where.stderr}"

    config = tmp_path / "config.json"
    config.write_text(json.dumps({"domain": "acme.atlassian.net", "credentials": {"auth_type": "api_token", "email": "a@b.c", "api_token": "t"}}))
    discover = subprocess.run([str(script), "discover", "--config", str(config)], cwd=run_dir, capture_output=True, text=True, env=env, timeout=120)
    catalog = next(json.loads(l) for l in discover.stdout.splitlines() if '"CATALOG"' in l)
    names = {s["name"] for s in catalog["catalog"]["streams"]}
    assert {"projects", "users", "issue_fields"} <= names
