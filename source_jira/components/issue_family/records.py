"""The records the search views make of a `search/jql` page. Python because custom fields are renamed from the
site's `/field` list (read once per sync) and each page is cut into the compact parts other views need.

* `issues`: Jira's issue as it is, plus top-level `created`, `updated`, `projectId`, `projectKey`, `custom_fields`
  (custom fields under their names, options resolved: `{"Story Points": 5, "Team": "Platform"}`) and the plain text
  of the description and environment (`descriptionText`, `environmentText`);
* `issue_comments`: the embedded comment page of each issue, and whether it is complete (`total` <= what came);
* `issue_attachments`: the embedded attachment metadata of each issue;
* a per-issue stream (children.py): each issue's id, `updated`, and its count or its records on the page.
And the rows `issue_field_history` makes of a changelog entry (one per changed field, multi-value changes split
into the values added and removed)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from types import MappingProxyType
from typing import Any, Dict, List, Mapping, Optional

from source_jira.components.adf import adf_text, as_adf
from source_jira.components.issue_family.jql import jira_ms


def issue_record(issue: Mapping[str, Any], fields_by_id: Mapping[str, Mapping[str, Any]]) -> Dict[str, Any]:
    fields = issue.get("fields") or {}
    record = dict(issue)
    record.pop("transitions", None)  # asked for issue_transitions when it shares these pages (search.joint_views)
    project = fields.get("project") or {}
    record["created"] = rfc3339(fields.get("created"))
    record["updated"] = rfc3339(fields.get("updated"))
    record["projectId"] = project.get("id")
    record["projectKey"] = project.get("key")
    record["custom_fields"] = readable_custom_fields(fields, fields_by_id)
    record["descriptionText"] = adf_text(fields.get("description"))
    record["environmentText"] = adf_text(fields.get("environment"))
    return record


def custom_field_name(field_id: str, fields_by_id: Mapping[str, Mapping[str, Any]], counts: Mapping[str, int]) -> str:
    """A custom field's human name; `name (customfield_N)` when several custom fields share the name."""
    name = (fields_by_id.get(field_id) or {}).get("name") or field_id
    return f"{name} ({field_id})" if counts.get(name, 0) > 1 else name


def custom_name_counts(fields_by_id: Mapping[str, Mapping[str, Any]]) -> Dict[str, int]:
    counts: Dict[str, int] = {}
    for meta in fields_by_id.values():
        if meta.get("custom"):
            name = meta.get("name") or meta["id"]
            counts[name] = counts.get(name, 0) + 1
    return counts


def readable_custom_fields(fields: Mapping[str, Any], fields_by_id: Mapping[str, Mapping[str, Any]]) -> Dict[str, Any]:
    """Custom fields under their human names, options resolved to their values (`{"Story Points": 5}`)."""
    counts = custom_name_counts(fields_by_id)
    return {custom_field_name(field_id, fields_by_id, counts): readable_value(value)
            for field_id, value in fields.items() if field_id.startswith("customfield_")}


def readable_value(value: Any) -> Any:
    if isinstance(value, list):
        return [readable_value(v) for v in value]
    if isinstance(value, Mapping):
        if "value" in value:
            child = value.get("child")
            if isinstance(child, Mapping) and "value" in child:
                return f"{value['value']} - {child['value']}"
            return value["value"]
        for key in ("displayName", "name", "key"):
            if key in value and value[key] is not None:
                return value[key]
        if value.get("type") == "doc":  # Atlassian document format: keep it as it is
            return value
        return value
    return value


def comment_payload(issue: Mapping[str, Any]) -> Dict[str, Any]:
    page = (issue.get("fields") or {}).get("comment") or {}
    comments = page.get("comments") or []
    total = page.get("total")
    return {
        "issueId": str(issue["id"]),
        "issueKey": issue.get("key"),
        "updated": (issue.get("fields") or {}).get("updated"),
        "comments": comments,
        "complete": total is None or total <= len(comments),
    }


ON_PAGE = MappingProxyType({"issue_transitions": "transitions"})  # per-issue streams whose records a page carries (this `expand`)
COUNTS = MappingProxyType({"issue_watchers": ("watches", "watchCount"), "issue_votes": ("votes", "votes")})  # field, how many it says


def per_issue_part(page: Mapping[str, Any], view: str) -> List[Dict[str, Any]]:
    """What per-issue stream `view` (children.py) keeps of a search page: per issue its id, `updated` (epoch ms, as
    text), and the count or the records the page gives that stream."""
    items = []
    for issue in page.get("issues") or []:
        fields = issue.get("fields") or {}
        item: Dict[str, Any] = {"issueId": str(issue["id"]), "issueUpdated": str(jira_ms(fields.get("updated")) or 0)}
        if view in COUNTS:
            field, count = COUNTS[view]
            value = (fields.get(field) or {}).get(count)
            item["count"] = value if isinstance(value, int) and not isinstance(value, bool) else None
        elif view in ON_PAGE:
            item["records"] = [t for t in issue.get(ON_PAGE[view]) or [] if isinstance(t, Mapping)]
        items.append(item)
    return items


def attachment_payload(issue: Mapping[str, Any]) -> Dict[str, Any]:
    fields = issue.get("fields") or {}
    return {"issueId": str(issue["id"]), "issueKey": issue.get("key"), "updated": fields.get("updated"),
            "attachments": fields.get("attachment") or []}


# Multi-value fields whose changelog items each add or remove ONE value (`from`/`to` is that value's id).
ONE_VALUE_PER_ITEM = frozenset({"components", "fixVersions", "versions", "Component", "Fix Version", "Version"})


def rfc3339(value: Any) -> Any:
    """A Jira time (`2024-07-13T11:20:22.273-0700`) as RFC 3339 in UTC (`2024-07-13T18:20:22.273Z`): the same
    instant, in the one form every destination reads right (DuckDB via PyAirbyte keeps an offset's local clock time
    and drops the offset). Values that are not times with an offset are left as they are."""
    if not isinstance(value, str) or "T" not in value:
        return value
    try:
        parsed = datetime.fromisoformat(value)  # Python 3.11+ reads `-0700` and `Z`
    except ValueError:
        return value
    if parsed.tzinfo is None:
        return value
    u = parsed.astimezone(timezone.utc)
    return f"{u.year:04d}-{u.month:02d}-{u.day:02d}T{u.hour:02d}:{u.minute:02d}:{u.second:02d}.{u.microsecond // 1000:03d}Z"


# The top-level times of each stream's records, declared `format: date-time` in its schema: written as RFC 3339 in
# UTC (Jira writes `-0700`, which destinations do not read as an offset). Raw nested Jira objects keep Jira's form.
RECORD_TIMES = MappingProxyType({
    "issue_comments": ("created", "updated"),
    "issue_attachments": ("created",),
    "issue_changelogs": ("created",),
    "issue_worklogs": ("created", "updated", "started"),
})


# Rich text: one type (the ADF document) and its plain text beside it, made here from the document (no request).
RICH_TEXT = MappingProxyType({
    "issue_comments": (("body", "bodyText"),),
    "issue_worklogs": (("comment", "commentText"),),
})


def as_declared(data: Dict[str, Any], stream: str) -> Dict[str, Any]:
    """A record as the stream declares it: its times RFC 3339 (UTC), its rich text an ADF document plus plain text."""
    for key in RECORD_TIMES.get(stream, ()):
        if key in data:
            data[key] = rfc3339(data[key])
    for key, text_key in RICH_TEXT.get(stream, ()):
        if key in data:
            data[key] = as_adf(data[key])
            data[text_key] = adf_text(data[key])
    return data


def split_values(field_id: str, text: Any) -> List[str]:
    """The values of a multi-value field as a changelog item writes them: labels space-separated, other lists
    comma-separated (optionally in brackets)."""
    if text is None:
        return []
    text = str(text).strip()
    if field_id == "labels":
        return text.split()
    text = text[1:-1] if text.startswith("[") and text.endswith("]") else text
    return [part.strip() for part in text.split(",") if part.strip()]


def added_removed(item: Mapping[str, Any], field_id: str, multi_value: bool) -> "tuple[Optional[List[str]], Optional[List[str]]]":
    """The values that entered and left a multi-value field in one changelog item (None for single-value fields)."""
    if field_id in ONE_VALUE_PER_ITEM or item.get("field") in ONE_VALUE_PER_ITEM:
        added = [str(item["toString"])] if item.get("to") not in (None, "") or item.get("toString") else []
        removed = [str(item["fromString"])] if item.get("from") not in (None, "") or item.get("fromString") else []
        return added, removed
    if not multi_value:
        return None, None
    before, after = split_values(field_id, item.get("fromString")), split_values(field_id, item.get("toString"))
    return [v for v in after if v not in before], [v for v in before if v not in after]


def field_history_rows(history: Mapping[str, Any], issue_id: str, issue_key: Optional[str], project: Mapping[str, Any],
                       fields_by_id: Mapping[str, Mapping[str, Any]], counts: Mapping[str, int]) -> List[Dict[str, Any]]:
    """One row per item of a changelog entry: what changed, from what to what, when and by whom."""
    author = history.get("author") or {}
    rows = []
    for position, item in enumerate(history.get("items") or []):
        field_id = str(item.get("fieldId") or item.get("field") or "")
        meta = fields_by_id.get(field_id) or {}
        name = custom_field_name(field_id, fields_by_id, counts) if field_id.startswith("customfield_") and meta else item.get("field")
        multi = (meta.get("schema") or {}).get("type") == "array" or field_id == "labels"
        added, removed = added_removed(item, field_id, multi)
        rows.append({
            "changelogId": str(history.get("id")),
            "itemIndex": position,
            "issueId": issue_id,
            "issueKey": issue_key,
            "projectId": project.get("id"),
            "projectKey": project.get("key"),
            "created": rfc3339(history.get("created")),
            "authorAccountId": author.get("accountId") or author.get("key"),
            "fieldId": field_id or None,
            "field": name,
            "fieldtype": item.get("fieldtype"),
            "from": item.get("from"),
            "fromString": item.get("fromString"),
            "to": item.get("to"),
            "toString": item.get("toString"),
            "added": added,
            "removed": removed,
        })
    return rows


DEV_FIELD = ":devsummarycf"  # the schema.custom suffix of Jira's Development field


def development_field(fields_by_id: Mapping[str, Mapping[str, Any]]) -> Optional[str]:
    """The id of the site's Development field (it summarises the development information of an issue)."""
    for field_id, meta in fields_by_id.items():
        if str((meta.get("schema") or {}).get("custom") or "").endswith(DEV_FIELD):
            return field_id
    return None


def pull_request_apps(value: Any) -> Optional[List[str]]:
    """The application types (GitHub, bitbucket, ...) holding pull requests of an issue, from its Development field:
    [] when it has none; None when the field says there are some but not where (then ask dev-status's summary)."""
    if value in (None, "", "{}"):
        return []
    text = str(value)
    if "pullrequest" not in text:
        return []
    if "json=" in text:
        try:
            summary = json.loads(text.split("json=", 1)[1][:-1])
            by_type = (((summary.get("cachedValue") or {}).get("summary") or {}).get("pullrequest") or {}).get("byInstanceType") or {}
            return [app for app, info in by_type.items() if isinstance(info, Mapping) and (info.get("count") or 0) > 0]
        except (ValueError, AttributeError):
            return None
    return None


def pull_request_payload(issue: Mapping[str, Any], dev_field: Optional[str]) -> Optional[Dict[str, Any]]:
    """What `pull_requests` keeps of an issue of a search page: only issues with development information."""
    fields = issue.get("fields") or {}
    apps = pull_request_apps(fields.get(dev_field)) if dev_field else []
    return {"issueId": str(issue["id"]), "issueKey": issue.get("key"), "updated": fields.get("updated"), "apps": apps}
