"""Benchmark of this connector against Airbyte's official Jira connector on the fake Jira Cloud (see bench/harness.py)."""
