"""Airbyte source connector for Jira Cloud (declarative manifest + a few Python components)."""

from source_jira.source import SourceJira

__all__ = ["SourceJira"]
