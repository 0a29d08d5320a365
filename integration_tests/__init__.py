"""Integration tests of source-jira (end-to-end against a fake Jira Cloud site)."""
