"""`GET /v3/a/{account_id}/calls/timeseries.json`: CallRail's own call counts per day, computed
from the emulator's calls, so a test can check a warehouse against them (callrail-api.md §4).

What each count means here, since CallRail does not define them beyond their names:

- `total_calls`: the calls that started in the bucket (every direction), as `calls.json` lists them;
- `answered_calls` / `missed_calls`: those with `answered` true / not true (voicemail is answered);
- `first_time_callers`: those with `first_call` true;
- `leads`: those with `lead_status` `good_lead`;
- `average_duration`: the mean `duration` in seconds of those with a duration, rounded to two
  decimals (0 for a bucket without calls); `formatted_average_duration` the same as `1m 05s`.

A call belongs to the bucket of its start's local date in `time_zone` (else the key owner's zone).
Buckets: `interval=day` (the default), `week` (Monday to Sunday), `month`, `year`; `hour` is not
emulated (400). More than 200 buckets in the range is a 400, as CallRail answers (gotcha 15).
Without `fields=` only `total_calls` is counted.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from callrail_emulator.calls import AccountCalls
from callrail_emulator.dataset import AccountData
from callrail_emulator.errors import bad_request
from callrail_emulator.timeutil import from_ms

#: Buckets one request may hold (callrail-api.md §7.15).
MAX_BUCKETS = 200
#: Names `fields=` accepts, in the order they are printed.
COUNT_FIELDS: tuple[str, ...] = (
    "total_calls",
    "answered_calls",
    "missed_calls",
    "first_time_callers",
    "average_duration",
    "formatted_average_duration",
    "leads",
)
DEFAULT_COUNT_FIELDS: tuple[str, ...] = ("total_calls",)
#: What a call contributes to the counts: its start (ms) and the fields the counts read.
_CALL_FIELDS = ("id", "start_time", "answered", "first_call", "duration", "lead_status")

BUCKETS: dict[str, Callable[[date], date]] = {
    "day": lambda day: day,
    "week": lambda day: day - timedelta(days=day.weekday()),
    "month": lambda day: day.replace(day=1),
    "year": lambda day: day.replace(month=1, day=1),
}


def count_fields(raw: str | None) -> tuple[str, ...]:
    """The counts `fields=` asks for, in CallRail's order; an unknown name is a 400."""
    asked = {name.strip() for name in (raw or "").split(",") if name.strip()}
    for name in sorted(asked):
        if name not in COUNT_FIELDS:
            raise bad_request(f"Invalid field: {name}")
    return tuple(name for name in COUNT_FIELDS if name in asked) or DEFAULT_COUNT_FIELDS


def buckets(first: date, last: date, interval: str) -> list[date]:
    """The first day of every bucket from `first` to `last` (inclusive); 400 past 200 of them."""
    if interval not in BUCKETS:
        raise bad_request(f"Invalid interval: {interval}" + (" (not emulated)" if interval == "hour" else ""))
    start_of = BUCKETS[interval]
    found: list[date] = []
    day = first
    while day <= last:
        bucket = start_of(day)
        if not found or found[-1] != bucket:
            found.append(bucket)
            if len(found) > MAX_BUCKETS:
                raise bad_request(f"Too many data points: at most {MAX_BUCKETS} per request; narrow the date range")
        day += timedelta(days=1)
    return found


def generated_calls(calls: AccountCalls, start: int, end: int, slots: set[int] | None) -> list[tuple[int, dict]]:
    """(start ms, call) of the generated calls started in [start, end] (of the tracker slots)."""
    _, items = calls.window(start, end, slots, False, 0, 2**62)
    if not items:
        return []
    rendered = json.loads(b"[" + calls.render_page(items, ZoneInfo("Etc/UTC"), _CALL_FIELDS) + b"]")
    return [(t, call) for (t, _i), call in zip(items, rendered, strict=True)]


def stored_calls(account: AccountData, start: int, end: int, company_id: str | None) -> list[tuple[int, dict]]:
    """(start ms, call) of the calls a test gave with `Emulator.put`, started in [start, end]."""
    return [
        (call["start_time"].ms, call)
        for call in account.streams["calls"]
        if start <= call["start_time"].ms <= end and company_id in (None, call.get("company_id"))
    ]


def timeseries(
    calls: Callable[[], Iterable[tuple[int, dict[str, Any]]]],
    window: tuple[int, int],
    tz: ZoneInfo,
    interval: str,
    fields: tuple[str, ...],
) -> dict[str, Any]:
    """The response body: the range echoed, the totals, and every bucket's counts (zeros included).

    `calls` gives (start ms, call) of the calls in `window`; asked for only once the range is valid.
    """
    start, end = window
    first, last = from_ms(start, tz), from_ms(end, tz)
    days = buckets(first.date(), last.date(), interval)
    start_of = BUCKETS[interval]
    grouped: dict[date, list[dict[str, Any]]] = {day: [] for day in days}
    every: list[dict[str, Any]] = []
    for started, call in calls():
        grouped[start_of(from_ms(started, tz).date())].append(call)
        every.append(call)
    return {
        "start_date": first.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "end_date": last.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "time_zone": tz.key,
        "total_results": counts(every, fields),
        "data": [{"date": day.isoformat(), **counts(grouped[day], fields)} for day in days],
    }


def counts(calls: list[dict[str, Any]], fields: tuple[str, ...]) -> dict[str, Any]:
    """The asked-for counts of some calls (definitions in the module docstring)."""
    durations = [call["duration"] for call in calls if isinstance(call.get("duration"), int)]
    average = round(sum(durations) / len(durations), 2) if durations else 0.0
    seconds = round(average)
    values: dict[str, Any] = {
        "total_calls": len(calls),
        "answered_calls": sum(1 for call in calls if call.get("answered") is True),
        "missed_calls": sum(1 for call in calls if call.get("answered") is not True),
        "first_time_callers": sum(1 for call in calls if call.get("first_call") is True),
        "average_duration": average,
        "formatted_average_duration": f"{seconds // 60}m {seconds % 60:02d}s",
        "leads": sum(1 for call in calls if call.get("lead_status") == "good_lead"),
    }
    return {name: values[name] for name in fields}
