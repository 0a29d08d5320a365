"""Packaging the Airbyte way: metadata.yaml is complete for Airbyte's registry and agrees with pyproject.toml, the
Dockerfile and the manifest; the Dockerfile's default base is Airbyte's real python-connector-base."""

from __future__ import annotations

import re
import sys
import uuid
from pathlib import Path

import pytest
import yaml

from unit_tests.conftest import manifest_stream_refs

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent

# Airbyte's official Jira source (airbyte-source-jira 4.0.0): this connector is a drop-in for its users, not it.
OFFICIAL_DEFINITION_ID = "68e63de2-bb83-4c7e-93fa-a8a9051e3993"
OFFICIAL_IMAGE = "airbyte/source-jira"
OFFICIAL_PACKAGE = "airbyte-source-jira"

REQUIRED_DATA_KEYS = {
    # ConnectorMetadataDefinitionV0's required keys, plus what Airbyte's registry and build expect of a connector.
    "name", "definitionId", "connectorType", "dockerRepository", "dockerImageTag", "license", "documentationUrl",
    "githubIssueLabel", "connectorSubtype", "releaseStage", "supportLevel", "connectorBuildOptions", "allowedHosts",
    "ab_internal", "tags", "remoteRegistries", "icon",
}


@pytest.fixture(scope="module")
def metadata() -> dict:
    return yaml.safe_load((ROOT / "metadata.yaml").read_text())


@pytest.fixture(scope="module")
def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


@pytest.fixture(scope="module")
def manifest() -> dict:
    return yaml.safe_load((ROOT / "manifest.yaml").read_text())


def manifest_stream_names(manifest: dict) -> set:
    from airbyte_cdk.sources.declarative.parsers.manifest_reference_resolver import ManifestReferenceResolver

    resolved = ManifestReferenceResolver().preprocess_manifest(manifest)
    entries = resolved["streams"]
    streams = [s for e in entries for s in (e["streams"] if e.get("type") == "ConditionalStreams" else [e])]
    return {stream.get("name") or stream.get("$parameters", {}).get("name") for stream in streams}


def dockerfile_default_base() -> str:
    match = re.search(r"^ARG BASE_IMAGE=(\S+)$", (ROOT / "Dockerfile").read_text(), re.MULTILINE)
    assert match, "the Dockerfile must declare `ARG BASE_IMAGE=<default>`"
    return match.group(1)


def test_metadata_has_every_required_key(metadata):
    assert metadata.get("metadataSpecVersion") == "1.0"
    data = metadata["data"]
    missing = REQUIRED_DATA_KEYS - set(data)
    assert not missing, f"metadata.yaml lacks {sorted(missing)}"
    assert str(uuid.UUID(data["definitionId"])) == data["definitionId"]
    assert data["connectorType"] == "source"
    assert data["connectorSubtype"] == "api"
    assert "Jira" in data["name"]
    assert data["releaseStage"] in {"alpha", "beta", "generally_available", "custom"}
    assert data["supportLevel"] in {"community", "certified", "archived"}
    assert data["ab_internal"]["sl"] in {0, 100, 200, 300}
    assert data["ab_internal"]["ql"] in {0, 100, 200, 300, 400, 500, 600}
    assert {"language:python", "cdk:low-code"} <= set(data["tags"])
    # No public docs site: a URL, or the docs page of this repository.
    url = data["documentationUrl"]
    assert url.startswith("https://") or (ROOT / url).is_file(), url
    assert (ROOT / data["icon"]).is_file(), f"icon {data['icon']} is missing"


def test_image_tag_is_the_package_version(metadata, pyproject):
    assert metadata["data"]["dockerImageTag"] == pyproject["project"]["version"]


def test_identity_is_its_own_not_the_official_connectors(metadata, pyproject):
    """A new definition, image and package: Airbyte's registry, Docker Hub and PyPI must not mistake it for the
    official connector (whose configs and states it takes over: docs/migration.md). The command stays `source-jira`."""
    data = metadata["data"]
    assert data["definitionId"] != OFFICIAL_DEFINITION_ID
    assert uuid.UUID(data["definitionId"]).version == 4
    assert data["dockerRepository"] != OFFICIAL_IMAGE and not data["dockerRepository"].startswith("airbyte/")
    names = {data["remoteRegistries"]["pypi"]["packageName"], pyproject["project"]["name"]}
    assert OFFICIAL_PACKAGE not in names and not any(name.startswith("airbyte-source-") for name in names)
    assert "docs.airbyte.com" not in data["documentationUrl"]
    assert list(pyproject["project"]["scripts"]) == ["source-jira"]
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert f"LABEL io.airbyte.name={data['dockerRepository']}\n" in dockerfile
    assert OFFICIAL_IMAGE not in dockerfile


def test_pypi_registry_names_this_package(metadata, pyproject):
    pypi = metadata["data"]["remoteRegistries"]["pypi"]
    assert pypi["enabled"] is True
    assert pypi["packageName"] == pyproject["project"]["name"]


def test_base_image_is_airbytes_pinned_and_matches_the_dockerfile(metadata):
    base = metadata["data"]["connectorBuildOptions"]["baseImage"]
    assert re.fullmatch(r"docker\.io/airbyte/python-connector-base:\d+\.\d+\.\d+@sha256:[0-9a-f]{64}", base), base
    assert dockerfile_default_base() == base


def test_dockerfile_runs_the_packaged_command(pyproject):
    text = (ROOT / "Dockerfile").read_text()
    command = next(iter(pyproject["project"]["scripts"]))
    assert command == "source-jira"
    assert f'exec {command} "$@"' in text
    assert 'ENTRYPOINT ["/entrypoint.sh"]' in text and 'AIRBYTE_ENTRYPOINT="/entrypoint.sh"' in text
    assert re.search(r"^USER airbyte$", text, re.MULTILINE)


def test_allowed_hosts_cover_every_host_the_manifest_calls(metadata, manifest):
    hosts = set(metadata["data"]["allowedHosts"]["hosts"])
    assert {"${domain}", "api.atlassian.com", "auth.atlassian.com"} <= hosts
    # What the connector calls: the manifest's definitions and streams (not the spec's help texts) and the Python.
    text = yaml.safe_dump({k: manifest.get(k) for k in ("definitions", "streams")})
    text += "".join(p.read_text() for p in (ROOT / "source_jira").rglob("*.py"))
    called = set(re.findall(r"https://([a-z0-9.-]+\.atlassian\.com)/", text))
    assert called, "expected the manifest to call Atlassian's OAuth hosts"
    assert called <= hosts, f"hosts called but not allowed: {sorted(called - hosts)}"


def test_documentation_url_matches_the_spec(metadata, manifest):
    """The spec's documentation_url, when there is one, is metadata's and an absolute URL: the protocol wants a URL
    and PyAirbyte refuses the SPEC message otherwise. A repository path (no public docs site) stays out of the spec."""
    url = manifest["spec"].get("documentation_url")
    if metadata["data"]["documentationUrl"].startswith("https://"):
        assert url == metadata["data"]["documentationUrl"]
    else:
        assert url is None
    from airbyte_cdk.models import ConnectorSpecification  # noqa: F401 - the emitted spec has no relative URL
    from source_jira import SourceJira
    import logging

    emitted = SourceJira(config=None).spec(logging.getLogger("test")).documentationUrl
    assert emitted is None or emitted.startswith("https://"), emitted


def test_suggested_streams_exist(metadata, manifest):
    names = manifest_stream_names(manifest)
    suggested = metadata["data"].get("suggestedStreams", {}).get("streams", [])
    assert suggested and set(suggested) <= names, f"unknown suggested streams: {sorted(set(suggested) - names)}"


def test_acceptance_test_config_points_at_this_connector(metadata):
    config = yaml.safe_load((ROOT / "acceptance-test-config.yml").read_text())
    assert config["connector_image"] == f"{metadata['data']['dockerRepository']}:dev"
    for section, body in config["acceptance_tests"].items():
        for test in body.get("tests", []):
            path = test.get("config_path")
            if path and not path.startswith("secrets/"):
                assert (ROOT / path).is_file(), f"{section}: {path} does not exist"
            catalog = test.get("configured_catalog_path")
            if catalog:
                assert (ROOT / catalog).is_file(), f"{section}: {catalog} does not exist"


def test_docs_page_documents_every_config_key(manifest):
    docs = (ROOT / "docs" / "jira.md").read_text()
    spec = manifest["spec"]["connection_specification"]
    keys = set(spec["properties"])
    saved_forms = set()
    for option in spec["properties"]["credentials"]["oneOf"]:
        if option.get("airbyte_hidden"):  # the official connector's saved forms: not offered, documented as migration
            saved_forms.add(option["properties"]["auth_type"]["const"])
            continue
        keys |= {f"credentials.{key}" for key in option["properties"] if key != "auth_type"}
        keys.add(option["properties"]["auth_type"]["const"])
    undocumented = sorted(key for key in keys if f"`{key}`" not in docs)
    assert not undocumented, f"docs/jira.md does not document {undocumented}"
    migration = (ROOT / "docs" / "migration.md").read_text()
    assert all(f'`"{form}"`' in migration for form in saved_forms), saved_forms


def test_docs_streams_section_mirrors_the_readme():
    import subprocess

    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "sync_docs.py"), "--check"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_readme_streams_tables_list_every_stream_of_the_manifest():
    """The README's streams tables are the users' reference: every stream the manifest declares has a row."""
    manifest = yaml.safe_load((ROOT / "manifest.yaml").read_text())
    names = sorted({ref.rsplit("/", 1)[-1] for _, ref in manifest_stream_refs(manifest)})
    readme = (ROOT / "README.md").read_text()
    missing = [name for name in names if not re.search(rf"^\| `{name}` \|", readme, re.M)]
    assert names
    assert not missing, f"streams without a README row: {missing}"


def test_cdk_pin_matches_the_adapter_and_its_shape_check():
    """The CDK's private names are used only in source_jira/cdk_adapter.py, checked against PINNED_CDK: moving the pin
    in pyproject.toml without re-checking them (and updating PINNED_CDK) fails here."""
    import importlib.metadata
    import re
    from pathlib import Path

    from source_jira import SourceJira, cdk_adapter

    pyproject = (Path(__file__).resolve().parent.parent / "pyproject.toml").read_text()
    assert re.search(r'"airbyte-cdk==([0-9.]+)"', pyproject).group(1) == cdk_adapter.PINNED_CDK
    assert importlib.metadata.version("airbyte-cdk") == cdk_adapter.PINNED_CDK
    cdk_adapter.check_shape(SourceJira(config={"domain": "a.atlassian.net", "credentials": {"auth_type": "api_token", "email": "e", "api_token": "t"}}))


def test_serpyco_pin_matches_the_adapter_and_its_shortcut_is_applied():
    """serpyco-rs's private names are used only in source_jira/serpyco_adapter.py, checked against PINNED_SERPYCO:
    moving the pin without re-checking them (and updating PINNED_SERPYCO) fails here, as does a shortcut left out
    (the adapter then only says so on stderr, and the start-up is 0.5 s slower)."""
    import importlib.metadata

    from packaging.requirements import Requirement

    from source_jira import serpyco_adapter

    pyproject = (ROOT / "pyproject.toml").read_text()
    assert re.search(r'"serpyco-rs==([0-9.]+)"', pyproject).group(1) == serpyco_adapter.PINNED_SERPYCO
    assert importlib.metadata.version("serpyco-rs") == serpyco_adapter.PINNED_SERPYCO
    assert serpyco_adapter.shape_problems() == []
    assert serpyco_adapter.attribute_docs_skipped()
    cdk_needs = [r for r in importlib.metadata.requires("airbyte-cdk") or [] if r.lower().startswith("serpyco-rs")]
    assert cdk_needs and Requirement(cdk_needs[0]).specifier.contains(serpyco_adapter.PINNED_SERPYCO), cdk_needs
