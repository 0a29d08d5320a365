"""The issue family: issues, their comments, attachments, changelogs, worklogs and per-issue children, read in bulk.

Start here, then read in this order:
* `jql.py` — time values and the JQL of a window (epoch-ms bounds, minute floors, the shared project/filter clauses);
* `session.py` — the sync session one read shares (opened and closed by `SourceJira.read`): shared search pages,
  the spool, id indexes, prefetch threads, the `/field` names;
* `index.py` — the id index windows are cut from (id-only search pages of 5,000);
* `windows.py` — the typed `Window`, the state rule, and the only code that touches the CDK's cursor;
* `retriever.py` — the base retriever (session binding, window planning, a window's ids);
* one module per kind of stream: `search.py` (issues, issue_comments, issue_attachments), `changelogs.py`
  (issue_changelogs), `worklogs.py` (issue_worklogs, issue_worklogs_deleted), `children.py` (the per-issue streams,
  each configured in the manifest).
Each stream's manifest block is under `definitions.streams.<name>` in manifest.yaml; the rules users must know are
in README.md ("Incremental rules")."""
