"""scripts/build_manifest_only.py (docs/manifest-only.md): the repo's manifest builds with every stream's schema inline
and every class renamed; a class-name clash or a missing schema fails the build; embedded text reads back exactly.
The build run by the generic runner end to end: integration_tests/test_manifest_only.py."""

from __future__ import annotations

import ast
import importlib.util
import json
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
_SPEC = importlib.util.spec_from_file_location("build_manifest_only", ROOT / "scripts" / "build_manifest_only.py")
build_manifest_only = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(build_manifest_only)


def _repo(tmp_path: Path, manifest: dict, modules: dict, schemas: dict) -> Path:
    root = tmp_path / "repo"
    for name, text in {"source_jira/__init__.py": "", **modules}.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    (root / "source_jira" / "schemas").mkdir(parents=True, exist_ok=True)
    for name, schema in schemas.items():
        (root / "source_jira" / "schemas" / f"{name}.json").write_text(json.dumps(schema))
    (root / "manifest.yaml").write_text(yaml.safe_dump(manifest))
    return root


def _stream(name: str, **extra: object) -> dict:
    return {"type": "DeclarativeStream", "name": name, "$parameters": {"name": name}, "schema_loader": {"type": "JsonFileSchemaLoader"}, **extra}


def test_the_repo_builds_with_every_stream_schema_inline_and_every_class_renamed(tmp_path):
    summary = build_manifest_only.build(tmp_path)
    manifest = yaml.safe_load((tmp_path / "manifest.yaml").read_text())
    entries = build_manifest_only.resolved(manifest)["streams"]
    # Cloud and Data Center forms (ConditionalStreams) are streams of the manifest too
    streams = [s for e in entries for s in (e["streams"] if e.get("type") == "ConditionalStreams" else [e])]
    assert streams and sorted(set(s["name"] for s in streams)) == sorted(set(summary["inline_schemas"]))
    for stream in streams:
        schema_file = ROOT / "source_jira" / "schemas" / f"{stream['name']}.json"
        assert stream["schema_loader"]["type"] == "InlineSchemaLoader", stream["name"]
        assert stream["schema_loader"]["schema"] == json.loads(schema_file.read_text()), stream["name"]
    names = [v for _, v in build_manifest_only.walk(manifest) if isinstance(v, dict) and "class_name" in v]
    assert names and all(v["class_name"].startswith("source_declarative_manifest.components.") for v in names)
    bound = {n.targets[0].id for n in ast.parse((tmp_path / "components.py").read_text()).body
             if isinstance(n, ast.Assign) and isinstance(n.targets[0], ast.Name)}
    assert {v["class_name"].rsplit(".", 1)[1] for v in names} <= bound


def test_two_classes_of_one_name_fail_the_build(tmp_path):
    manifest = {"streams": [_stream("x", transformations=[
        {"type": "CustomTransformation", "class_name": "source_jira.components.a.Same"},
        {"type": "CustomTransformation", "class_name": "source_jira.components.b.Same"},
    ])]}
    root = _repo(tmp_path, manifest, {"source_jira/components/a.py": "class Same: pass\n", "source_jira/components/b.py": "class Same: pass\n"}, {"x": {}})
    with pytest.raises(build_manifest_only.BuildError, match="two classes named Same"):
        build_manifest_only.build(tmp_path / "out", root=root)


def test_a_stream_without_its_schema_file_fails_the_build(tmp_path):
    manifest = {"definitions": {"streams": {"x": _stream("x")}}, "streams": [{"$ref": "#/definitions/streams/x"}]}
    with pytest.raises(build_manifest_only.BuildError, match="stream x: no schema file"):
        build_manifest_only.build(tmp_path / "out", root=_repo(tmp_path, manifest, {}, {}))


def test_a_streams_schema_goes_into_its_own_block_once(tmp_path):
    template = {"type": "DeclarativeStream", "schema_loader": {"type": "JsonFileSchemaLoader"}}
    manifest = {"definitions": {"template": template, "streams": {
        "x": {"$ref": "#/definitions/template", "name": "x", "$parameters": {"name": "x"}},
        "x_again": {"$ref": "#/definitions/streams/x"},
    }}, "streams": [{"$ref": "#/definitions/streams/x"}, {"$ref": "#/definitions/streams/x_again"}]}
    build_manifest_only.build(tmp_path / "out", root=_repo(tmp_path, manifest, {}, {"x": {"type": "object"}}))
    built = yaml.safe_load((tmp_path / "out" / "manifest.yaml").read_text())
    homes = ["/".join(map(str, p)) for p, v in build_manifest_only.walk(built) if isinstance(v, dict) and v.get("type") == "InlineSchemaLoader"]
    assert homes == ["definitions/streams/x/schema_loader"]
    assert built["definitions"]["template"]["schema_loader"] == {"type": "JsonFileSchemaLoader"}


@pytest.mark.parametrize("text", ['a """ b\n', 'ends in a quote"', "back\\slash \\n \\\\", "crlf\r\nline\n", "'''", ""])
def test_embedded_text_reads_back_exactly(text):
    assert ast.literal_eval(build_manifest_only.text_literal(text)) == text
