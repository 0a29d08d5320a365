"""Checks of the files a user hands the connector (config, state) that say in one line what is wrong and what to do.
Python because the CDK's validation answers with a schema dump ("... is not valid under any of the given schemas",
`"issues" is not of type "object"`) or a parser error that names no stream ("No format in [...] matching ...")."""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional

from airbyte_cdk.sources.declarative.datetime.datetime_parser import DatetimeParser


def credentials_problem(config: Mapping[str, Any], spec: Mapping[str, Any]) -> Optional[str]:
    """The credentials lack a field their `auth_type` requires (by the spec's own oneOf branch), or name no known
    auth type."""
    creds = config.get("credentials")
    branches = (((spec.get("connection_specification") or {}).get("properties") or {}).get("credentials") or {}).get("oneOf") or []
    kinds = {}
    for branch in branches:
        const = ((branch.get("properties") or {}).get("auth_type") or {}).get("const")
        if const:
            kinds[const] = branch
    if not isinstance(creds, Mapping):
        return "The config has no 'credentials' object: give one with auth_type " + " or ".join(f"'{k}'" for k in kinds) + "."
    kind = creds.get("auth_type")
    branch = kinds.get(kind)
    if branch is None:
        return f"credentials.auth_type '{kind}' is not one of " + ", ".join(f"'{k}'" for k in kinds) + "."
    missing = [name for name in branch.get("required") or [] if name != "auth_type" and (creds.get(name) in (None, "") or str(creds.get(name)).strip() == "")]
    if missing:
        titles = [f"'{name}' ({(branch.get('properties') or {}).get(name, {}).get('title', name)})" for name in missing]
        return f"The credentials of type '{kind}' lack {', '.join(titles)}: add {'it' if len(missing) == 1 else 'them'} to the config."
    return None


def state_shape_problem(raw: Any) -> Optional[str]:
    """A state file must be a list of Airbyte state messages (STREAM or GLOBAL, or a legacy object of stream states)."""
    example = 'e.g. [{"type": "STREAM", "stream": {"stream_descriptor": {"name": "issues"}, "stream_state": {"updated": "…"}}}]'
    if isinstance(raw, Mapping):  # the legacy form: {stream name: stream state}
        for name, value in raw.items():
            if not isinstance(value, Mapping):
                return f"The state of stream '{name}' is {type(value).__name__} {str(value)[:40]!r}, not an object: the state file is not one this connector wrote ({example})."
        return None
    if not isinstance(raw, list):
        return f"The state file holds {type(raw).__name__}, not a list of Airbyte state messages ({example})."
    for number, message in enumerate(raw):
        if not isinstance(message, Mapping):
            return f"State entry {number + 1} is {type(message).__name__} {str(message)[:40]!r}, not an Airbyte state message ({example})."
        kind = message.get("type", "LEGACY" if "data" in message else None)
        if kind == "STREAM":
            stream = message.get("stream") or {}
            name = (stream.get("stream_descriptor") or {}).get("name")
            if not name:
                return f"State entry {number + 1} names no stream (stream.stream_descriptor.name) ({example})."
            value = stream.get("stream_state")
            if value is not None and not isinstance(value, Mapping):
                return f"The state of stream '{name}' is {type(value).__name__} {str(value)[:40]!r}, not an object: the state file is not one this connector wrote ({example})."
        elif kind not in ("GLOBAL", "LEGACY"):
            return f"State entry {number + 1} has type {kind!r}; expected STREAM or GLOBAL ({example})."
    return None


def per_stream_states(raw: Any) -> List[Dict[str, Any]]:
    """A state file as per-stream state messages. The legacy forms — an object of stream states, and LEGACY messages
    (`{"type": "LEGACY", "data": {stream: state}}`, as older connectors and platforms wrote them) — become one STREAM
    message per stream; the CDK would otherwise ignore them and read everything again."""
    if isinstance(raw, Mapping):
        raw = [{"type": "LEGACY", "data": raw}]
    messages: List[Dict[str, Any]] = []
    for message in raw if isinstance(raw, list) else []:
        kind = message.get("type", "LEGACY" if "data" in message else None)
        if kind == "LEGACY":
            for name, value in (message.get("data") or {}).items():
                if isinstance(value, Mapping):
                    messages.append({"type": "STREAM", "stream": {"stream_descriptor": {"name": name}, "stream_state": dict(value)}})
        else:
            messages.append(dict(message))
    return messages


def _stream_states(messages: List[Any]) -> Dict[str, Mapping[str, Any]]:
    states: Dict[str, Mapping[str, Any]] = {}
    for message in messages or []:
        data = message if isinstance(message, Mapping) else getattr(message, "__dict__", {})
        stream = getattr(message, "stream", None)
        if stream is not None and getattr(stream, "stream_descriptor", None) is not None:
            value = stream.stream_state
            value = value.__dict__ if value is not None and not isinstance(value, Mapping) else value
            states[stream.stream_descriptor.name] = value or {}
        elif isinstance(data, Mapping) and data.get("type") == "STREAM":
            states[data["stream"]["stream_descriptor"]["name"]] = data["stream"].get("stream_state") or {}
    return states


def stated_streams(messages: Optional[List[Any]]) -> List[str]:
    """The streams a read's state messages give a non-empty state."""
    return sorted(name for name, value in _stream_states(messages or []).items() if value)


def cursor_problem(messages: List[Any], stream_configs: List[Mapping[str, Any]]) -> Optional[str]:
    """A saved cursor value its stream cannot parse (the CDK's error names no stream)."""
    states = _stream_states(messages)
    parser = DatetimeParser()
    for config in stream_configs:
        name = config.get("name")
        cursor = config.get("incremental_sync") or {}
        field = cursor.get("cursor_field")
        if name not in states or not field:
            continue
        state = states[name]
        value = state.get(field) if isinstance(state, Mapping) else None
        if value is None and isinstance(state.get("state"), Mapping):
            value = state["state"].get(field)
        if value is None:
            continue
        formats = list(cursor.get("cursor_datetime_formats") or []) + [cursor.get("datetime_format")]
        formats = list(dict.fromkeys(f for f in formats if f))
        if not any(_parses(parser, str(value), f) for f in formats):
            return (f"The saved state of stream '{name}' has {field} = {str(value)[:40]!r}, which is not a date-time this "
                    f"stream reads ({', '.join(formats)}): reset the stream, or fix the state file.")
    return None


def _parses(parser: DatetimeParser, value: str, fmt: str) -> bool:
    try:
        parser.parse(value, fmt)
        return True
    except (ValueError, TypeError, OverflowError):
        return False
