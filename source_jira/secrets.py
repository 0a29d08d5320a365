"""Secret masking beyond the CDK's airbyte_secret fields: the base64 `email:token` (Cloud) or `username:password`
(Data Center) of the Basic header (and its `Basic …` form) never appears in logs, errors or traces either."""

from __future__ import annotations

import base64
from typing import Any, Mapping, Optional

from airbyte_cdk.utils.airbyte_secrets_utils import add_to_secrets

_SECRET_KEYS = frozenset({"api_token", "client_secret", "refresh_token", "access_token", "client_id", "service_account_token", "password",
                          "personal_access_token"})


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
    for user, secret in ((creds.get("email") or config.get("email"), creds.get("api_token") or config.get("api_token")),
                         (creds.get("username"), creds.get("password"))):
        if isinstance(user, str) and isinstance(secret, str) and secret:
            found.append(base64.b64encode(f"{user}:{secret}".encode()).decode())
    return found


def register_config_secrets(config: Optional[Mapping[str, Any]]) -> None:
    for value in secret_values(config):
        add_to_secrets(value)
