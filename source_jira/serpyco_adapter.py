"""The one place that reaches into serpyco-rs's private names, written for the pinned serpyco-rs (PINNED_SERPYCO in
pyproject.toml). Imported by `source_jira/_runtime.py` before airbyte_cdk, so it must not import airbyte_cdk itself.

Importing `airbyte_cdk.models` builds serpyco-rs serializers for the protocol classes, and serpyco-rs builds a JSON
schema for each, reading every field's docstring with `inspect.getsource` + `ast.parse` of the whole module
(`get_attributes_doc`, looked up by name in `serpyco_rs._describe` and `serpyco_rs._json_schema._convert`): about
0.5 s of CPU at every start. Those docstrings only become `description` strings of serpyco's JSON schema, which
nothing here asks for; serialization and validation do not read them. So the doc lookup answers "no docs": same
serializers, same output (unit_tests/test_issue_performance.py compares it byte for byte).

`skip_attribute_docs` checks the shape first (the installed version is the pin, the modules and functions exist).
When it is not the one this was written for, nothing is replaced and one line on stderr says so: a missing speed-up
is not worth failing a sync. unit_tests/test_packaging.py fails instead, when the pin moves without this being
re-checked or the shortcut is not applied.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import sys
from typing import Any, Dict, List

PINNED_SERPYCO = "1.23.0"
_DOC_LOOKUPS = ("serpyco_rs._describe", "serpyco_rs._json_schema._convert")  # each has its own `get_attributes_doc`


def _no_attribute_docs(_cls: object) -> Dict[str, str]:
    return {}


def shape_problems() -> List[str]:
    """What differs from the serpyco-rs this was written for ([] when nothing does)."""
    problems = []
    try:
        installed = importlib.metadata.version("serpyco-rs")
    except importlib.metadata.PackageNotFoundError:
        installed = "not installed"
    if installed != PINNED_SERPYCO:
        problems.append(f"version {installed}")
    for name in _DOC_LOOKUPS:
        try:
            module = importlib.import_module(name)
        except ImportError:
            problems.append(f"module {name}")
            continue
        if not callable(getattr(module, "get_attributes_doc", None)):
            problems.append(f"{name}.get_attributes_doc")
    return problems


def skip_attribute_docs() -> bool:
    """Have serpyco-rs skip field docstrings; False (and one line on stderr) when its shape is not the expected one."""
    problems = shape_problems()
    if problems:
        sys.stderr.write(
            f"source-jira: serpyco-rs is not the version its start-up shortcut was written for ({PINNED_SERPYCO}): "
            f"{', '.join(problems)}; starting without it (about 0.5 s slower)\n"
        )
        return False
    for name in _DOC_LOOKUPS:
        sys.modules[name].get_attributes_doc = _no_attribute_docs  # type: ignore[attr-defined]
    return True


def attribute_docs_skipped() -> bool:
    """Whether every doc lookup of serpyco-rs is the shortcut."""
    modules: List[Any] = [sys.modules.get(name) for name in _DOC_LOOKUPS]
    return all(getattr(module, "get_attributes_doc", None) is _no_attribute_docs for module in modules)
