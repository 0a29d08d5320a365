"""The issue family's structure: one sync session per read (owned by the source, closed after), typed windows, the
CDK cursor touched in one place with its shape checked, and no module-level mutable state anywhere in source_jira."""

from __future__ import annotations

import ast
import threading
from pathlib import Path

import pytest
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_jira.cdk_adapter import CdkShapeError
from source_jira.components.issue_family.retriever import SessionBound
from source_jira.components.issue_family.session import SessionHolder
from source_jira.components.issue_family.windows import Window, WindowedCursor, cut_windows

PACKAGE = Path(__file__).resolve().parents[1] / "source_jira"


def test_one_session_at_a_time_and_closed_after_the_read():
    holder = SessionHolder()
    with holder.open(["issues"]) as session:
        assert holder.current() is session
        with pytest.raises(RuntimeError, match="already open"):
            with holder.open(["issues"]):
                pass
        ran = session.background(threading.get_ident).result(timeout=5)
        assert ran != threading.get_ident()
    with pytest.raises(AirbyteTracedException, match="outside a sync session"):
        holder.current()
    with pytest.raises(AirbyteTracedException, match="closed"):
        session.background(lambda: None)


def test_two_sources_do_not_share_a_session():
    first, second = SessionHolder(), SessionHolder()
    with first.open(["issues"]) as one, second.open(["issues"]) as two:
        assert one is not two
        one.close()
        assert two.background(lambda: 42).result(timeout=5) == 42  # closing one read's session leaves the other's


def test_a_component_built_outside_the_source_reads_through_a_session_of_its_own():
    component, other = SessionBound(), SessionBound()
    assert component.session is component.session  # one for its life, opened on first use
    assert component.session is not other.session  # shared with no other stream
    assert component.session.consumers(["issues", "issue_comments"], "issues") == set()


def test_a_cursor_of_another_shape_fails_loudly_instead_of_reading_one_window():
    class NotTheCdksCursor:
        def stream_slices(self):
            return []

    with pytest.raises(CdkShapeError, match="issues: airbyte-cdk is not the version"):
        WindowedCursor(NotTheCdksCursor(), "issues", plan=lambda coarse: [], children_floor=False)


def test_windows_are_typed_and_cover_the_range_without_overlap():
    minute = 60_000
    lower, end = 1_700_000_000_000 + 123, 1_700_000_000_000 + 100 * minute
    cuts = [(1_700_000_000_000 + 10 * minute, 480), (1_700_000_000_000 + 20 * minute, 960)]
    windows = cut_windows([(lower, end)], lambda lo, up: cuts)
    assert [(w.first, w.stop) for w in windows] == [(0, 480), (480, 960), (960, None)]
    assert windows[0].query_lower == lower - lower % minute and windows[-1].query_upper is None
    assert all(a.query_upper == b.query_lower for a, b in zip(windows, windows[1:]))
    assert all(w.sync_lower == windows[0].query_lower for w in windows)
    assert Window.of(windows[1].to_slice()) == windows[1]
    with pytest.raises(CdkShapeError, match="without its window"):
        Window.of(None)


def _mutable_module_state(path: Path) -> list:
    tree = ast.parse(path.read_text())
    found = []
    for node in tree.body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            value = node.value
            mutable = isinstance(value, (ast.List, ast.Dict, ast.Set, ast.ListComp, ast.DictComp, ast.SetComp)) or (
                isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id in ("list", "dict", "set", "defaultdict")
            )
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = [t.id for t in targets if isinstance(t, ast.Name)]
            if mutable and names != ["__all__"]:
                found.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno} {', '.join(names)}")
    for node in ast.walk(tree):
        if isinstance(node, ast.Global):
            found.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno} global {', '.join(node.names)}")
    return found


def test_no_module_level_mutable_state():
    found = [hit for path in sorted(PACKAGE.rglob("*.py")) for hit in _mutable_module_state(path)]
    assert not found, f"module-level mutable state (use a tuple/frozenset/MappingProxyType, or an object's field): {found}"
