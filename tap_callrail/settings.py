"""Checks of settings and state made before the first request, each a one-line message."""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from tap_callrail.timeutil import parse_setting_datetime

NON_NEGATIVE_INTEGERS = (
    "lookback_window_days",
    "requests_per_hour",
    "requests_per_day",
    "max_retries",
)


def config_problems(config: Mapping[str, Any]) -> list[str]:
    """Every problem with the settings, one line each, naming the setting and what it expects."""
    problems: list[str] = []
    if not str(config.get("api_key") or "").strip():
        problems.append(
            "api_key is empty: set TAP_CALLRAIL_API_KEY (or api_key in the config) to a CallRail API v3 key."
        )
    dates = {}
    for name in ("start_date", "end_date"):
        value = config.get(name)
        if value in (None, ""):
            continue
        try:
            dates[name] = parse_setting_datetime(value)
        except (TypeError, ValueError):
            problems.append(
                f"{name} {value!r} is not a date: expected ISO 8601 such as 2025-01-31 or 2025-01-31T14:00:00Z."
            )
    if "start_date" in dates and "end_date" in dates and dates["end_date"] < dates["start_date"]:
        problems.append(
            f"end_date {config['end_date']!r} is before start_date {config['start_date']!r}: "
            "end_date must be on or after start_date."
        )
    for name in NON_NEGATIVE_INTEGERS:
        value = config.get(name)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
            problems.append(f"{name} must be a whole number ≥ 0, got {value!r}.")
    backoff = config.get("backoff_max_seconds")
    if backoff is not None and (
        # The SDK reads JSON config numbers with a fraction as Decimal.
        isinstance(backoff, bool) or not isinstance(backoff, (int, float, Decimal)) or backoff <= 0
    ):
        problems.append(f"backoff_max_seconds must be a number > 0, got {backoff!r}.")
    for name in ("account_ids", "company_ids"):
        value = config.get(name)
        if value is not None and not all(isinstance(item, str) and item.strip() for item in value):
            problems.append(f"{name} must be a list of non-empty ids, got {value!r}.")
    return problems


def state_problems(text: str) -> str | None:
    """Why a --state file cannot be used, or None when it is a Singer state."""
    if not text.strip():
        return None
    try:
        state = json.loads(text)
    except json.JSONDecodeError as exc:
        return (
            f"--state: the state file is not valid JSON ({exc.msg} at line {exc.lineno}); "
            'pass a Singer state such as {"bookmarks": {}}.'
        )
    if not isinstance(state, dict):
        return '--state: the state must be a JSON object such as {"bookmarks": {}}.'
    bookmarks = state.get("bookmarks", {})
    if not isinstance(bookmarks, dict) or not all(isinstance(v, dict) for v in bookmarks.values()):
        return '--state: "bookmarks" must map stream names to objects, as the tap writes them.'
    return None
