"""The adapters to private library names (source_jira/serpyco_adapter.py, source_jira/cdk_adapter.py): each checks
the library's shape before use and says what differs; the pins themselves are tested in test_packaging.py."""

from __future__ import annotations

import sys

from source_jira import serpyco_adapter


def test_the_serpyco_shortcut_is_left_out_with_one_line_when_the_shape_differs(monkeypatch, capsys):
    lookups = serpyco_adapter._DOC_LOOKUPS
    for name in lookups:
        monkeypatch.setattr(sys.modules[name], "get_attributes_doc", len)  # stands for serpyco-rs's own lookup
    monkeypatch.setattr(serpyco_adapter, "PINNED_SERPYCO", "0.0.1")
    monkeypatch.setattr(serpyco_adapter, "_DOC_LOOKUPS", lookups + ("serpyco_rs._no_such_module",))
    assert serpyco_adapter.skip_attribute_docs() is False
    said = capsys.readouterr().err
    assert said.count("\n") == 1 and "(0.0.1)" in said and "version 1.23.0" in said and "serpyco_rs._no_such_module" in said
    assert all(sys.modules[name].get_attributes_doc is len for name in lookups), "nothing is replaced on another shape"
    assert not serpyco_adapter.attribute_docs_skipped()
