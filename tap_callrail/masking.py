"""Secrets inside CallRail data never leave the tap.

An integration's `config` can hold third-party API keys, tokens and webhook URLs, and
`signing_key` is a webhook secret. Values are replaced by
`***`; the keys stay so the warehouse still shows which settings exist.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, urlsplit

MASK = "***"

# Whole words only: `api_key` and `authToken` are secrets, `keywords` and `author` are not.
SECRET_WORDS = frozenset(
    {"token", "key", "secret", "password", "auth", "passwd", "apikey", "authorization", "credentials"}
)
_WORD_SPLIT = re.compile(r"[^A-Za-z0-9]+|(?<=[a-z0-9])(?=[A-Z])")
# Chat webhook URLs embed their credential in the path.
_CHAT_WEBHOOK_HOSTS = (
    "hooks.slack.com",
    "discord.com",
    "discordapp.com",
    "chat.googleapis.com",
    "webhook.office.com",
    "outlook.office.com",
)


def is_secret_name(name: str) -> bool:
    """True when a key name contains a secret word as a whole word (`api_key`, not `keywords`)."""
    words = {word.lower() for word in _WORD_SPLIT.split(name) if word}
    return bool(words & SECRET_WORDS)


def url_carries_credentials(value: str) -> bool:
    """True for URLs with user:password@, a secret-named query parameter, or a chat webhook."""
    if "://" not in value:
        return False
    try:
        parts = urlsplit(value.strip())
    except ValueError:
        return False
    host = (parts.hostname or "").lower()
    if parts.password or (parts.username and "@" in parts.netloc):
        return True
    if any(host == chat or host.endswith("." + chat) for chat in _CHAT_WEBHOOK_HOSTS):
        return True
    return any(is_secret_name(name) for name, _ in parse_qsl(parts.query, keep_blank_values=True))


def mask_secrets(value: Any) -> Any:
    """Return a copy of `value` with secret-named entries and credential URLs masked."""
    if isinstance(value, dict):
        return {
            key: (MASK if value[key] not in (None, "") and is_secret_name(str(key)) else mask_secrets(value[key]))
            for key in value
        }
    if isinstance(value, list):
        return [mask_secrets(item) for item in value]
    if isinstance(value, str) and url_carries_credentials(value):
        return MASK
    return value
