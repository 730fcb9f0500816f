"""What to ask CallRail for, as pure functions: request series, list parameters, date windows.

No HTTP and no Singer here, so each rule can be tested with plain values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from tap_callrail.api import PAGE_SIZE
from tap_callrail.timeutil import (
    is_date_only,
    parse_setting_datetime,
    parse_timestamp,
    request_minute,
    retention_floor,
)

# Dates are sent in UTC, so the window bounds mean the same instants whatever the key owner's
# time zone is (https://apidocs.callrail.com/#time-zones).
REQUEST_TIME_ZONE = "Etc/UTC"


@dataclass(frozen=True)
class Series:
    """One paginated request series within a partition (e.g. one company's integrations)."""

    label: str
    params: dict[str, Any] = field(default_factory=dict)


def request_series(
    context: dict[str, Any],
    *,
    per_company: bool,
    company_filter: bool,
    restricted: Sequence[str] | None,
    companies: Sequence[str] | None,
) -> list[Series]:
    """The request series that together make up one partition.

    `per_company`: the endpoint requires `company_id`, so each company is its own series.
    `company_filter`: the endpoint takes `company_id`, used when the run is `restricted` to
    companies. `companies`: every company of the account (needed only for `per_company`).
    """
    if "company_id" in context:
        return [Series(f"company {context['company_id']}", {"company_id": context["company_id"]})]
    if per_company:
        chosen = restricted if restricted is not None else companies or []
        return [Series(f"company {company}", {"company_id": company}) for company in chosen]
    if company_filter and restricted is not None:
        return [Series(f"company {company}", {"company_id": company}) for company in restricted]
    return [Series("all companies")]


def list_params(
    *,
    fields: Sequence[str] = (),
    sort_key: str | None = None,
    window: tuple[datetime, datetime] | None = None,
    series: Series | None = None,
) -> dict[str, Any]:
    """The query of a list series, without its page number.

    Optional `fields` are asked for by name; a sorted stream asks for ascending order on its
    key; a dated one for an explicit window in UTC (without dates CallRail answers only the
    last 7 days).
    """
    params: dict[str, Any] = {"per_page": PAGE_SIZE}
    if fields:
        params["fields"] = ",".join(fields)
    if sort_key:
        params["sort"] = sort_key
        params["order"] = "asc"
    if window is not None:
        params["start_date"] = request_minute(window[0])
        params["end_date"] = request_minute(window[1])
        params["time_zone"] = REQUEST_TIME_ZONE
    if series is not None:
        params.update(series.params)
    return params


@dataclass(frozen=True)
class Window:
    """A partition's date window, and whether `start_date` had to be raised to CallRail's retention."""

    start: datetime
    end: datetime
    clamped: bool = False


def bookmark(state: dict[str, Any], start_date: Any = None) -> datetime | None:
    """A partition's bookmark as it stood when the run started (the SDK's starting value), if any."""
    value = state.get("starting_replication_value") or state.get("replication_key_value")
    if not value or value == start_date:
        return None
    return parse_timestamp(str(value))


def date_window(
    now: datetime,
    *,
    start_date: Any = None,
    end_date: Any = None,
    bookmark: datetime | None = None,
    lookback: timedelta = timedelta(days=7),
) -> Window:
    """The [start, end] instants a partition reads.

    Start is the later of `start_date` and (bookmark - `lookback`), never before CallRail's
    retention floor (25 months); end is `end_date` or now. A date-only `end_date` includes
    that whole day, as CallRail reads it.
    """
    floor = retention_floor(now)
    start = parse_setting_datetime(start_date) if start_date else floor
    if bookmark is not None:
        start = max(start, bookmark - lookback)
    clamped = start < floor and bool(start_date)
    start = max(start, floor)
    end = parse_setting_datetime(end_date) if end_date else now
    if end_date and is_date_only(end_date):
        end += timedelta(days=1, minutes=-1)
    return Window(start, max(end, start), clamped)


# -- what is due this run ------------------------------------------------------------------

#: Partition state key: when an expensive full-table stream was last read completely.
READ_COMPLETELY_AT = "read_completely_at"
#: Partition state key: when an incremental stream last re-read its deep lookback window.
DEEP_LOOKBACK_AT = "deep_lookback_at"
#: A scheduler starts runs a little early or late: this much short of the period counts as due.
DUE_SLACK = timedelta(minutes=10)


def last_done(state: dict[str, Any], key: str, now: datetime) -> datetime | None:
    """When the partition last did `key`, from its state; None if never, unreadable or in the future."""
    value = state.get(key)
    if not isinstance(value, str):
        return None
    try:
        moment = parse_timestamp(value)
    except (ValueError, OverflowError):
        return None
    return moment if moment <= now + DUE_SLACK else None


def is_due(last: datetime | None, now: datetime, every: timedelta) -> bool:
    """True when a task done at `last` (None: never) is due again at `now`; every=0: every run."""
    return every <= timedelta(0) or last is None or now - last >= every - min(DUE_SLACK, every / 2)


def lookback(*, deep: bool, lookback_hours: int, lookback_days: int) -> timedelta:
    """How far before the bookmark a partition re-reads: the short window, or the deep one when due."""
    short, long = timedelta(hours=lookback_hours), timedelta(days=lookback_days)
    return max(short, long) if deep else short


def hours_text(span: timedelta) -> str:
    """A span as people say it in a log line: `3 h`, `45 min`, `2 d 5 h`."""
    minutes = max(0, int(span.total_seconds() // 60))
    if minutes < 60:
        return f"{minutes} min"
    hours = minutes // 60
    return f"{hours} h" if hours < 48 else f"{hours // 24} d {hours % 24} h"


# -- CallRail's own daily counts (calls/timeseries.json) --------------------------------------

#: Data points calls/timeseries.json returns at most per request (https://apidocs.callrail.com/).
TIMESERIES_MAX_DAYS = 200


@dataclass(frozen=True)
class Days:
    """The local days one company's counts are read for, and whether `start_date` had to be raised."""

    first: date
    last: date
    clamped: bool = False


def timeseries_days(
    now: datetime,
    zone: tzinfo,
    *,
    start_date: Any = None,
    end_date: Any = None,
    bookmark: date | None = None,
    lookback_days: int = 7,
) -> Days:
    """The first and last day (in the company's zone) a company's daily counts are read for.

    From the bookmark minus `lookback_days` (at least one day: the bookmark's own day was partial,
    and companies of one account end their days at different instants); without a bookmark from
    `start_date`; never before CallRail's retention floor (the day after it, so that the first
    day's midnight is inside it too). To today, or the day of `end_date`.
    """
    today = now.astimezone(zone).date()
    floor = retention_floor(now).astimezone(zone).date() + timedelta(days=1)
    first = local_day(start_date, zone) if start_date else floor
    if bookmark is not None:
        first = max(first, bookmark - timedelta(days=max(lookback_days, 1)))
    clamped = first < floor and bool(start_date)
    first = max(first, floor)
    last = min(today, local_day(end_date, zone)) if end_date else today
    return Days(first, max(first, last), clamped)


def local_day(setting: Any, zone: tzinfo) -> date:
    """The day a start_date/end_date setting names in `zone` (a plain date is that very day)."""
    if is_date_only(setting):
        return date.fromisoformat(str(setting).strip())
    return parse_setting_datetime(setting).astimezone(zone).date()


def day_windows(first: date, last: date, days: int = TIMESERIES_MAX_DAYS) -> list[tuple[date, date]]:
    """[first, last] cut into consecutive inclusive windows of at most `days` days, oldest first."""
    windows = []
    while first <= last:
        end = min(last, first + timedelta(days=days - 1))
        windows.append((first, end))
        first = end + timedelta(days=1)
    return windows


def timeseries_series(company: Series, days: Days, time_zone: str) -> list[Series]:
    """One company's request series: its days in windows CallRail answers whole, in its zone."""
    return [
        Series(
            f"{company.label}, {first}..{last}",
            {**company.params, "start_date": first.isoformat(), "end_date": last.isoformat(), "time_zone": time_zone},
        )
        for first, last in day_windows(days.first, days.last)
    ]


def timeseries_params(*, fields: Sequence[str], series: Series) -> dict[str, Any]:
    """The query of one series of daily counts (no paging: one window is one answer)."""
    params: dict[str, Any] = {"interval": "day"}
    if fields:
        params["fields"] = ",".join(fields)
    params.update(series.params)
    return params
