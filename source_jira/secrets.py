"""Secret masking beyond the CDK's airbyte_secret fields: the base64 `email:token` of the Basic header (and its
`Basic …` form) never appears in logs, errors or traces either."""

from __future__ import annotations

import base64
from typing import Any, Mapping, Optional

from airbyte_cdk.utils.airbyte_secrets_utils import add_to_secrets

_SECRET_KEYS = frozenset({"api_token", "client_secret", "refresh_token", "access_token", "client_id", "service_account_token", "password"})


def secret_values(config: Optional[Mapping[str, Any]]) -> list:
    if not isinstance(config, Mapping):
        return []
    found: list = []
    creds = config.get("credentials") if isinstance(config.get("credentials"), Mapping) else {}
    for scope in (config, creds):
        for key in _SECRET_KEYS:
            value = scope.get(key)
            if isinstance(value, str) and value:
                found.append(value)
    email = creds.get("email") or config.get("email")
    token = creds.get("api_token") or config.get("api_token")
    if isinstance(email, str) and isinstance(token, str) and token:
        basic = base64.b64encode(f"{email}:{token}".encode()).decode()
        found.append(basic)
    return found


def register_config_secrets(config: Optional[Mapping[str, Any]]) -> None:
    for value in secret_values(config):
        add_to_secrets(value)
