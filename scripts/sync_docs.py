#!/usr/bin/env python3
"""Mirror README.md's `## Streams` section into docs/jira.md (between its BEGIN/END streams markers), so the docs
page lists exactly the streams the README documents. Run it after adding or changing streams:
    python scripts/sync_docs.py          # rewrite docs/jira.md
    python scripts/sync_docs.py --check  # exit 1 if docs/jira.md is out of date
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs" / "jira.md"
BEGIN = re.compile(r"^<!-- BEGIN streams:.*-->$", re.MULTILINE)
END = re.compile(r"^<!-- END streams -->$", re.MULTILINE)


def readme_streams_section(readme: str) -> str:
    match = re.search(r"^## Streams[ \t]*\n(.*?)(?=^## |\Z)", readme, re.MULTILINE | re.DOTALL)
    if not match:
        raise SystemExit("README.md has no '## Streams' section")
    body = match.group(1)
    body = re.sub(r"^<!--.*?-->\n", "", body, flags=re.MULTILINE)  # the README's own editing notes
    body = re.sub(r"\]\(#", "](../README.md#", body)  # in-page links of the README point back at it
    return body.strip("\n")


def synced(docs: str, section: str) -> str:
    begin, end = BEGIN.search(docs), END.search(docs)
    if not begin or not end or end.start() < begin.end():
        raise SystemExit("docs/jira.md lacks the BEGIN/END streams markers")
    return docs[: begin.end()] + "\n" + section + "\n" + docs[end.start() :]


def main(argv: list[str]) -> int:
    docs = DOCS.read_text()
    new = synced(docs, readme_streams_section(README.read_text()))
    if "--check" in argv:
        if new != docs:
            print("docs/jira.md's streams table is out of date: run `python scripts/sync_docs.py`", file=sys.stderr)
            return 1
        return 0
    if new != docs:
        DOCS.write_text(new)
        print("docs/jira.md: streams section updated from README.md")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
