#!/usr/bin/env python3
"""Build the manifest-only form of the connector: what Airbyte's generic runner `source-declarative-manifest`
(image airbyte/source-declarative-manifest) loads, a `manifest.yaml` plus one `components.py` (docs/manifest-only.md).

    python scripts/build_manifest_only.py                    # into build/manifest-only/
    python scripts/build_manifest_only.py --out DIR

From the repo's manifest.yaml and the package source_jira/ it writes:
* `manifest.yaml`: the same manifest (its `$ref`s kept) with every `class_name: source_jira.<module>.<Class>` renamed
  `source_declarative_manifest.components.<Class>`, and every stream's JsonFileSchemaLoader replaced by an
  InlineSchemaLoader holding its schema file (source_jira/schemas/<$parameters.name>.json). Comments are not kept.
* `components.py`: every module of source_jira/ embedded as text, served under its own name (`source_jira.…`) by an
  import hook that takes precedence over any installed source_jira, and each class the manifest names bound at its
  top level. The package's `__init__` is not embedded as it is (it imports SourceJira and tunes the process, which
  the generic runner never uses): an empty package stands in for it.
* `checksums.json`: md5 and sha256 of components.py, for a config that injects it (`__injected_components_py_checksums`).

Every step fails loudly: two named classes of one name, a named class its module does not define, a stream whose
schema file is missing, a schema loader this build does not know, any JsonFileSchemaLoader left in a stream, an
embedded module that does not read back byte for byte.
"""

from __future__ import annotations

import argparse
import ast
import copy
import hashlib
import json
import sys
from pathlib import Path
from typing import Any, Dict, Iterator, List, Mapping, Tuple

import yaml
from airbyte_cdk.sources.declarative.parsers.manifest_component_transformer import ManifestComponentTransformer
from airbyte_cdk.sources.declarative.parsers.manifest_reference_resolver import ManifestReferenceResolver

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "source_jira"
SDM_MODULE = "source_declarative_manifest.components"
DEFAULT_OUT = ROOT / "build" / "manifest-only"
PACKAGE_INIT_STANDIN = '"""source_jira as embedded in components.py: its modules only (not SourceJira, not the process set-up)."""\n'
STREAM_TYPES = ("DeclarativeStream",)

Path_ = Tuple[Any, ...]  # a path into the manifest: keys and list indexes


class BuildError(RuntimeError):
    pass


# ---------------------------------------------------------------------------------------------------------- manifest
def resolved(manifest: Mapping[str, Any]) -> Dict[str, Any]:
    """The manifest as the CDK reads it: `$ref`s resolved, types and `$parameters` propagated (same paths)."""
    document = copy.deepcopy(dict(manifest))
    document.setdefault("type", "DeclarativeSource")
    return ManifestComponentTransformer().propagate_types_and_parameters("", ManifestReferenceResolver().preprocess_manifest(document), {})


def at(tree: Any, path: Path_) -> Any:
    for key in path:
        tree = tree[key]
    return tree


def ref_path(ref: str) -> Path_:
    if not ref.startswith("#/"):
        raise BuildError(f"unsupported $ref {ref!r} (only '#/…' paths)")
    return tuple(int(part) if part.isdigit() else part for part in ref[2:].split("/"))


def follow(manifest: Any, path: Path_) -> Path_:
    """The written path of a node: `$ref`s on the way (a `$ref` key, or a value that is a `#/…` string) followed."""
    node = at(manifest, path)
    while isinstance(node, str) and node.startswith("#/"):
        path = ref_path(node)
        node = at(manifest, path)
    return path


def locate(manifest: Any, path: Path_) -> Path_:
    """Where a node of the resolved manifest is written in the manifest itself."""
    written: Path_ = ()
    for key in path:
        written = follow(manifest, written)
        node = at(manifest, written)
        while isinstance(node, dict) and key not in node and "$ref" in node:
            written = follow(manifest, ref_path(node["$ref"]))
            node = at(manifest, written)
        written += (key,)
    return follow(manifest, written)


def walk(tree: Any, path: Path_ = ()) -> Iterator[Tuple[Path_, Any]]:
    yield path, tree
    items = tree.items() if isinstance(tree, dict) else enumerate(tree) if isinstance(tree, list) else ()
    for key, value in items:
        yield from walk(value, path + (key,))


def stream_name(component: Mapping[str, Any]) -> Any:
    return (component.get("$parameters") or {}).get("name") or component.get("name")


def file_loaded_streams(full: Mapping[str, Any]) -> Iterator[Tuple[Path_, Mapping[str, Any]]]:
    """The streams (top-level ones and those nested in them, e.g. parents) that load their schema from a file."""
    for path, component in walk(full.get("streams", []), ("streams",)):
        if (isinstance(component, dict) and component.get("type") in STREAM_TYPES
                and (component.get("schema_loader") or {}).get("type") == "JsonFileSchemaLoader"):
            yield path, component


def schema_home(manifest: Mapping[str, Any], full: Mapping[str, Any], written: Path_, name: str) -> Path_:
    """Where a stream's inline schema goes: the deepest node of its `$ref` chain that is still this stream (same
    name), up to the node that gives it its schema loader. So `streams: [$ref: #/definitions/streams/issues]` puts it
    in definitions.streams.issues, not beside the list entry nor in the template `issues` refers to."""
    home = written
    while True:
        node = at(manifest, home)
        if "schema_loader" in node or "$ref" not in node:
            return home
        target = follow(manifest, ref_path(node["$ref"]))
        target_full = at(full, target)
        if not isinstance(target_full, dict) or stream_name(target_full) != name:
            return home
        home = target


def inline_schemas(manifest: Dict[str, Any], schemas_dir: Path) -> List[str]:
    """Give every stream that loads its schema from a file an InlineSchemaLoader with that file's JSON."""
    full = resolved(manifest)
    homes: Dict[Path_, str] = {}
    for path, component in file_loaded_streams(full):
        loader = component["schema_loader"]
        where = "/".join(map(str, path))
        if loader.get("file_path"):
            raise BuildError(f"{where}: JsonFileSchemaLoader with an explicit file_path is not supported")
        name = (loader.get("$parameters") or {}).get("name")  # what the CDK's default file path interpolates
        if not name or name != stream_name(component):
            raise BuildError(f"{where}: stream {stream_name(component)!r} would load the schema file of {name!r}")
        home = schema_home(manifest, full, locate(manifest, path), name)
        if homes.setdefault(home, name) != name:
            raise BuildError(f"{'/'.join(map(str, home))}: one stream block, two schema names ({homes[home]}, {name})")
    for home, name in homes.items():
        schema_file = schemas_dir / f"{name}.json"
        if not schema_file.is_file():
            raise BuildError(f"stream {name}: no schema file {schema_file}")
        at(manifest, home)["schema_loader"] = {"type": "InlineSchemaLoader", "schema": json.loads(schema_file.read_text())}
    left = sorted({str(stream_name(c)) for _, c in file_loaded_streams(resolved(manifest))})
    if left:
        raise BuildError(f"streams still loading their schema from a file: {', '.join(left)}")
    return sorted(set(homes.values()))


def rename_classes(manifest: Any) -> Dict[str, str]:
    """`class_name: source_jira.<module>.<Class>` -> `source_declarative_manifest.components.<Class>`; returns
    {Class: module}."""
    named: Dict[str, str] = {}
    for _, component in walk(manifest):
        value = component.get("class_name") if isinstance(component, dict) else None
        if not isinstance(value, str) or not value.startswith(PACKAGE + "."):
            continue
        module, _, cls = value.rpartition(".")
        if named.setdefault(cls, module) != module:
            raise BuildError(f"two classes named {cls}: {named[cls]}.{cls} and {module}.{cls}; rename one")
        component["class_name"] = f"{SDM_MODULE}.{cls}"
    leftovers = [p for p, v in walk(manifest) if isinstance(v, str) and v.startswith(PACKAGE + ".")]
    if leftovers:
        raise BuildError(f"manifest values still naming {PACKAGE} modules at {['/'.join(map(str, p)) for p in leftovers]}")
    return named


# -------------------------------------------------------------------------------------------------------- components
def package_sources(package_dir: Path) -> Dict[str, Tuple[bool, str, str]]:
    """{module name: (is a package, path in the repo, source)} for every .py of the package."""
    sources: Dict[str, Tuple[bool, str, str]] = {}
    for file in sorted(package_dir.rglob("*.py")):
        relative = file.relative_to(package_dir.parent)
        parts = list(relative.with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts.pop()
        name = ".".join(parts)
        text = PACKAGE_INIT_STANDIN if name == PACKAGE else file.read_text(encoding="utf-8")
        sources[name] = (is_package, relative.as_posix(), text)
    return sources


def defines(source: str, name: str) -> bool:
    """Whether a module's top level defines (or imports) `name`."""
    for node in ast.parse(source).body:
        if isinstance(node, ast.ClassDef) and node.name == name:
            return True
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                return True
        if isinstance(node, ast.ImportFrom) and any((a.asname or a.name) == name for a in node.names):
            return True
    return False


def text_literal(text: str) -> str:
    """`text` as a triple-quoted Python literal that reads back byte for byte."""
    body = text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"').replace("\r", "\\r")
    if body.endswith('"'):
        body = body[:-1] + '\\"'
    return '"""' + body + '"""'


COMPONENTS_HEAD = '''"""Components of the Jira source in the manifest-only form. GENERATED by scripts/build_manifest_only.py from the
package source_jira/ of the source-jira repository: do not edit; change the package and build again
(docs/manifest-only.md).

The package's modules are embedded below as text (`_SOURCES`) and served under their own names (`source_jira.…`) by
an import hook placed first on `sys.meta_path`, so this one file runs the code it was built from even where another
source_jira is installed. The classes manifest.yaml names (`source_declarative_manifest.components.<Class>`) are
bound at the end of this file.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys

_PACKAGE = "source_jira"
_ORIGIN = "components.py:"  # a module's origin: where it is embedded, and its path in the repository

'''

COMPONENTS_HOOK = '''

class _EmbeddedSourceJira(importlib.abc.MetaPathFinder, importlib.abc.InspectLoader):
    """Finds and loads the embedded modules, and gives tracebacks their lines (get_source)."""

    embedded_source_jira = True

    def find_spec(self, fullname, path=None, target=None):
        entry = _SOURCES.get(fullname)
        if entry is None:
            return None
        is_package, relative, _ = entry
        return importlib.machinery.ModuleSpec(fullname, self, origin=_ORIGIN + relative, is_package=is_package)

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        code = compile(self.get_source(module.__name__), module.__spec__.origin, "exec", dont_inherit=True)
        exec(code, module.__dict__)

    def get_source(self, fullname):
        if fullname not in _SOURCES:
            raise ImportError(f"{fullname} is not embedded in components.py", name=fullname)
        return _SOURCES[fullname][2]

    def is_package(self, fullname):
        return _SOURCES[fullname][0]


def _install():
    sys.meta_path[:] = [f for f in sys.meta_path if not getattr(f, "embedded_source_jira", False)]
    loaded = sys.modules.get(_PACKAGE)
    if loaded is not None and not (getattr(getattr(loaded, "__spec__", None), "origin", None) or "").startswith(_ORIGIN):
        raise ImportError(
            f"components.py: another {_PACKAGE} is already imported in this process ({getattr(loaded, '__file__', loaded)}); "
            "the manifest-only form runs only the modules embedded in it."
        )
    sys.meta_path.insert(0, _EmbeddedSourceJira())


_install()


def _named(module, name):
    return getattr(importlib.import_module(module), name)


'''


def components_text(sources: Mapping[str, Tuple[bool, str, str]], named: Mapping[str, str]) -> str:
    lines = [COMPONENTS_HEAD, "_SOURCES = {\n"]
    for name, (is_package, relative, text) in sources.items():
        lines.append(f"    {name!r}: ({is_package!r}, {relative!r}, {text_literal(text)}),\n")
    lines.append("}\n")
    lines.append(COMPONENTS_HOOK)
    for cls in sorted(named):
        lines.append(f"{cls} = _named({named[cls]!r}, {cls!r})\n")
    lines.append(f"\n__all__ = {sorted(named)!r}\n")
    return "".join(lines)


def embedded_sources(text: str) -> Any:
    """`_SOURCES` read back from a generated components.py (without running it)."""
    for node in ast.parse(text).body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "_SOURCES" for t in node.targets):
            return ast.literal_eval(node.value)
    raise BuildError("components.py has no _SOURCES")


# ------------------------------------------------------------------------------------------------------------- build
MANIFEST_HEAD = (
    "# GENERATED by scripts/build_manifest_only.py from the source-jira repository's manifest.yaml: do not edit.\n"
    "# The manifest-only form (docs/manifest-only.md): custom classes live in components.py, schemas are inline.\n"
    "# The annotated original (comments explain each block) is manifest.yaml at the repository root.\n"
)


def build(out: Path, root: Path = ROOT) -> Dict[str, Any]:
    manifest = yaml.safe_load((root / "manifest.yaml").read_text(encoding="utf-8"))
    named = rename_classes(manifest)
    sources = package_sources(root / PACKAGE)
    for cls, module in sorted(named.items()):
        if module not in sources or not defines(sources[module][2], cls):
            raise BuildError(f"manifest names {module}.{cls}, which source_jira does not define")
    streams = inline_schemas(manifest, root / PACKAGE / "schemas")

    manifest_text = MANIFEST_HEAD + yaml.safe_dump(manifest, sort_keys=False, allow_unicode=True, width=120)
    if yaml.safe_load(manifest_text) != manifest:
        raise BuildError("the written manifest does not read back as built")
    components = components_text(sources, named)
    if embedded_sources(components) != dict(sources):
        raise BuildError("an embedded module does not read back byte for byte")
    compile(components, "components.py", "exec", dont_inherit=True)

    out.mkdir(parents=True, exist_ok=True)
    (out / "manifest.yaml").write_text(manifest_text, encoding="utf-8")
    (out / "components.py").write_text(components, encoding="utf-8")
    checksums = {kind: getattr(hashlib, kind)(components.encode()).hexdigest() for kind in ("md5", "sha256")}
    (out / "checksums.json").write_text(json.dumps(checksums, indent=2) + "\n", encoding="utf-8")
    return {"out": str(out), "classes": sorted(named), "modules": len(sources), "inline_schemas": streams}


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output directory (default {DEFAULT_OUT.relative_to(ROOT)})")
    args = parser.parse_args(argv)
    try:
        summary = build(args.out.resolve())
    except BuildError as exc:
        print(f"build_manifest_only: {exc}", file=sys.stderr)
        return 1
    print(f"{summary['out']}: manifest.yaml ({len(summary['inline_schemas'])} inline schemas, {len(summary['classes'])} classes), "
          f"components.py ({summary['modules']} embedded modules), checksums.json")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
