"""Airbyte source connector for Jira Cloud (declarative manifest + a few Python components)."""

import source_jira._runtime  # noqa: F401  (before airbyte_cdk is imported: see the module)
from source_jira.source import SourceJira

__all__ = ["SourceJira"]
