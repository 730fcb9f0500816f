"""Checks of settings and state made before the first request, each a one-line message."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from tap_callrail.timeutil import UTC, parse_setting_datetime, parse_timestamp

#: How far past now a date may be and still count as now (clocks differ).
FUTURE_TOLERANCE = timedelta(minutes=5)

#: A lookback longer than CallRail's 25-month retention reads nothing more.
MAX_LOOKBACK_DAYS = 800
#: Upper bounds of whole-number settings, and why.
MOST: dict[str, tuple[int, str]] = {
    "lookback_window_days": (MAX_LOOKBACK_DAYS, "CallRail keeps 25 months"),
    "lookback_hours": (MAX_LOOKBACK_DAYS * 24, "CallRail keeps 25 months"),
    "full_table_refresh_hours": (24 * 366, "a year"),
}
#: Settings in seconds, with their smallest sane value (a backoff under a second hammers CallRail).
NUMBERS_AT_LEAST: dict[str, float] = {
    "backoff_max_seconds": 1,
    "request_timeout_seconds": 1,
    "max_wait_seconds": 0,
}
#: Requests in flight at once: 1 is one after another; more than 32 only earns 429s from CallRail.
MAX_CONCURRENT_REQUESTS = 32
#: Ids go into URL paths: anything but an id is refused before the first request.
IDS = (
    ("account_ids", re.compile(r"(ACC[A-Za-z0-9]+|[0-9]+)"), "ACC8154748ae6bd4e278a7cddd38a662f1f or 123456789"),
    ("company_ids", re.compile(r"COM[A-Za-z0-9]+"), "COM8154748ae6bd4e278a7cddd38a662f1f"),
)

NON_NEGATIVE_INTEGERS = (
    "lookback_window_days",
    "lookback_hours",
    "full_table_refresh_hours",
    "requests_per_hour",
    "requests_per_day",
    "max_retries",
)


def config_problems(config: Mapping[str, Any]) -> list[str]:
    """Every problem with the settings, one line each, naming the setting and what it expects."""
    problems: list[str] = []
    key_problem = api_key_problem(config.get("api_key"))
    if key_problem:
        problems.append(key_problem)
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
    if "start_date" in dates and dates["start_date"] > datetime.now(tz=UTC) + FUTURE_TOLERANCE:
        problems.append(
            f"start_date {config['start_date']!r} is in the future: nothing could be read after it. "
            "Set start_date to a past date, or leave it empty for CallRail's whole retention."
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
    for name, most in MOST.items():
        value = config.get(name)
        if isinstance(value, int) and value > most[0]:
            problems.append(f"{name} must be at most {most[0]:,} ({most[1]}), got {value!r}.")
    concurrency = config.get("max_concurrent_requests")
    if concurrency is not None and (
        not isinstance(concurrency, int)
        or isinstance(concurrency, bool)
        or not 1 <= concurrency <= MAX_CONCURRENT_REQUESTS
    ):
        problems.append(
            f"max_concurrent_requests must be a whole number from 1 to {MAX_CONCURRENT_REQUESTS}, got {concurrency!r}."
        )
    for name, least in NUMBERS_AT_LEAST.items():
        value = config.get(name)
        # The SDK reads JSON config numbers with a fraction as Decimal.
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, (int, float, Decimal)) or not least <= value < 10**9
        ):
            problems.append(f"{name} must be a number of seconds from {least} to 1,000,000,000, got {value!r}.")
    for name, pattern, example in IDS:
        value = config.get(name)
        if value is None:
            continue
        bad = [item for item in value if not (isinstance(item, str) and pattern.fullmatch(item.strip()))]
        if not isinstance(value, list) or bad:
            shown = ", ".join(repr(item) for item in (bad or [value])[:3])
            problems.append(f"{name}: {shown} is not a CallRail id; use ids like {example} (from CallRail's URLs).")
    return problems


#: Characters an HTTP header value cannot carry (http.client refuses them).
_HEADER_UNSAFE = {chr(code) for code in range(32)} | {chr(127)}


def api_key_problem(value: Any) -> str | None:
    """Why an `api_key` setting cannot be used, or None; the message never shows the key."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return "api_key is empty: set TAP_CALLRAIL_API_KEY (or api_key in the config) to a CallRail API v3 key."
    if not isinstance(value, str):
        return (
            f"api_key must be a string (text), got a {type(value).__name__}: quote it in the config "
            "file, or set TAP_CALLRAIL_API_KEY."
        )
    key = value.strip()
    if any(char in _HEADER_UNSAFE for char in key) or not key.isascii() or '"' in key:
        return (
            "api_key holds a character an HTTP header cannot carry (a line break, tab, quote or "
            "non-ASCII character inside it): copy the key again from CallRail (Settings → API Keys)."
        )
    return None


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
    for stream, bookmark in bookmarks.items():
        partitions = bookmark.get("partitions", [])
        if not isinstance(partitions, list) or not all(isinstance(p, dict) for p in partitions):
            return f'--state: "partitions" of stream {stream!r} must be a list of objects, as the tap writes them.'
        for where in (bookmark, *partitions):
            problem = _bookmark_problem(stream, where)
            if problem:
                return problem
    return None


def _bookmark_problem(stream: str, bookmark: dict[str, Any]) -> str | None:
    """Why one stream or partition bookmark cannot be resumed from, or None.

    A bookmark in the future would make every run ask for records after it and never read
    one again; clamping it to now would silently skip every record since it went bad. So the
    run stops and says how to repair the state.
    """
    value = bookmark.get("replication_key_value")
    if value is None:
        return None
    context = bookmark.get("context")
    where = f"stream {stream!r}" + (f", partition {json.dumps(context, sort_keys=True)}" if context else "")
    fix = (
        f"Set a past bookmark with `meltano state set` (or edit the state file), or sync {stream} again "
        "from start_date with `meltano run --full-refresh`."
    )
    try:
        moment = parse_timestamp(value) if isinstance(value, str) else None
    except (ValueError, OverflowError):
        moment = None
    if moment is None:
        return f"--state: the bookmark of {where} is {json.dumps(value)}, not a timestamp. {fix}"
    if moment > datetime.now(tz=UTC) + FUTURE_TOLERANCE:
        return f"--state: the bookmark of {where} is {value}, in the future. {fix}"
    return None
