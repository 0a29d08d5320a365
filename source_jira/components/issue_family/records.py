"""The records the search views make of a `search/jql` page. Python because custom fields are renamed from the
site's `/field` list (read once per sync) and each page is cut into the compact parts other views need.

* `issues`: Jira's issue as it is, plus top-level `created`, `updated`, `projectId`, `projectKey` and `custom_fields`
  (custom fields under their names, options resolved: `{"Story Points": 5, "Team": "Platform"}`);
* `issue_comments`: the embedded comment page of each issue, and whether it is complete (`total` <= what came);
* `issue_attachments`: the embedded attachment metadata of each issue."""

from __future__ import annotations

from typing import Any, Dict, Mapping


def issue_record(issue: Mapping[str, Any], fields_by_id: Mapping[str, Mapping[str, Any]]) -> Dict[str, Any]:
    fields = issue.get("fields") or {}
    record = dict(issue)
    project = fields.get("project") or {}
    record["created"] = fields.get("created")
    record["updated"] = fields.get("updated")
    record["projectId"] = project.get("id")
    record["projectKey"] = project.get("key")
    record["custom_fields"] = readable_custom_fields(fields, fields_by_id)
    return record


def readable_custom_fields(fields: Mapping[str, Any], fields_by_id: Mapping[str, Mapping[str, Any]]) -> Dict[str, Any]:
    """Custom fields under their human names, options resolved to their values (`{"Story Points": 5}`)."""
    out: Dict[str, Any] = {}
    names: Dict[str, int] = {}
    for meta in fields_by_id.values():
        if meta.get("custom"):
            names[meta.get("name") or meta["id"]] = names.get(meta.get("name") or meta["id"], 0) + 1
    for field_id, value in fields.items():
        if not field_id.startswith("customfield_"):
            continue
        meta = fields_by_id.get(field_id)
        name = (meta or {}).get("name") or field_id
        if names.get(name, 0) > 1:
            name = f"{name} ({field_id})"
        out[name] = readable_value(value)
    return out


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


def attachment_payload(issue: Mapping[str, Any]) -> Dict[str, Any]:
    fields = issue.get("fields") or {}
    return {"issueId": str(issue["id"]), "issueKey": issue.get("key"), "updated": fields.get("updated"),
            "attachments": fields.get("attachment") or []}
