"""Plain text of Atlassian Document Format (ADF): what an analyst greps and a search index wants, made locally from
the rich text Jira already sent (no request). Python because no declarative transformation walks a document tree.

Blocks (paragraphs, headings, list items, table rows, code blocks, quotes, panels) end with a line break; list
items start with "- "; table cells are separated by " | "; hard breaks are line breaks; mentions, emoji, dates,
statuses and links render as the text Jira shows for them; media and unknown inline nodes render as nothing."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, List, Mapping, Optional

BLOCKS = frozenset({"paragraph", "heading", "codeBlock", "blockquote", "panel", "rule", "mediaSingle", "mediaGroup",
                    "decisionItem", "taskItem", "expand", "nestedExpand", "layoutColumn"})


def adf_text(document: Any) -> Optional[str]:
    """The plain text of an ADF document (a string is returned as it is; None stays None)."""
    if document is None:
        return None
    if isinstance(document, str):
        return document
    if not isinstance(document, Mapping):
        return None
    out: List[str] = []
    _walk(document, out)
    text = "".join(out)
    lines = [line.rstrip() for line in text.split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines)


def as_adf(value: Any) -> Any:
    """Rich text as one type: an ADF document. A plain string (Jira's v2 API, Data Center) becomes one paragraph per
    line; a document or None is returned as it is."""
    if not isinstance(value, str):
        return value
    paragraphs = [{"type": "paragraph", "content": [{"type": "text", "text": line}] if line else []} for line in value.split("\n")]
    return {"type": "doc", "version": 1, "content": paragraphs}


def _walk(node: Mapping[str, Any], out: List[str]) -> None:
    kind = node.get("type")
    attrs = node.get("attrs") if isinstance(node.get("attrs"), Mapping) else {}
    if kind == "text":
        out.append(str(node.get("text") or ""))
        return
    if kind == "hardBreak":
        out.append("\n")
        return
    if kind in ("mention", "emoji", "status"):
        out.append(str(attrs.get("text") or attrs.get("shortName") or ""))
        return
    if kind == "date":
        stamp = attrs.get("timestamp")
        try:
            out.append(datetime.fromtimestamp(int(stamp) / 1000, tz=timezone.utc).strftime("%Y-%m-%d"))
        except (TypeError, ValueError, OverflowError):
            pass
        return
    if kind in ("inlineCard", "blockCard", "embedCard"):
        out.append(str(attrs.get("url") or ""))
        if kind != "inlineCard":
            out.append("\n")
        return
    if kind == "listItem":
        out.append("- ")
    if kind == "tableRow":
        cells = []
        for cell in node.get("content") or []:
            if isinstance(cell, Mapping):
                inner: List[str] = []
                for child in cell.get("content") or []:
                    if isinstance(child, Mapping):
                        _walk(child, inner)
                cells.append(" ".join("".join(inner).split()))
        out.append(" | ".join(cells) + "\n")
        return
    for child in node.get("content") or []:
        if isinstance(child, Mapping):
            _walk(child, out)
    if kind in BLOCKS or kind == "listItem":
        if not out or not out[-1].endswith("\n"):
            out.append("\n")
