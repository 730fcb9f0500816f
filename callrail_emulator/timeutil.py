"""Time handling: CallRail's timestamp renderings, date-filter windows and data retention.

All instants are integer epoch milliseconds internally.
"""

from __future__ import annotations

import calendar
import re
import time
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from callrail_emulator.errors import RETENTION_EXCEEDED, bad_request

UTC = timezone.utc
RETENTION_MONTHS = 25  # callrail-api.md §2.5: communication records are purged after 25 months

_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_DATE_HM = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})")


def to_ms(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("aware datetime required")
    return calendar.timegm(moment.utctimetuple()) * 1000 + moment.microsecond // 1000


_OFFSET_AFTER_SPACE = re.compile(r"\s+([+-]\d{2}:?\d{2})$")


def parse_stamp(text: str) -> int:
    """Epoch ms of a timestamp in a form CallRail prints (`…Z`, `…-05:00`, `2026-11-20 03:43:50
    -0500`); without an offset it is UTC."""
    try:
        moment = datetime.fromisoformat(_OFFSET_AFTER_SPACE.sub(r"\1", text.strip()))
    except ValueError:
        raise ValueError(f"not a timestamp: {text!r}") from None
    return to_ms(moment if moment.tzinfo else moment.replace(tzinfo=UTC))


def from_ms(ms: int, tz: ZoneInfo | timezone = UTC) -> datetime:
    return datetime.fromtimestamp(ms // 1000, tz).replace(microsecond=(ms % 1000) * 1000)


def iso_offset_ms(ms: int, tz: ZoneInfo | timezone) -> str:
    """`2026-03-01T09:05:09.119-05:00`: call start_time, tag and user created_at."""
    return from_ms(ms, tz).isoformat(timespec="milliseconds")


def iso_utc_ms(ms: int) -> str:
    """`2026-03-01T14:05:09.119Z`."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + f".{ms % 1000:03d}Z"


def iso_utc_s(ms: int) -> str:
    """`2026-03-01T14:05:09Z` (no fraction, as some CallRail resources print it)."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ms // 1000))


def zone(name: str) -> ZoneInfo:
    """The IANA zone `name`; a bad name is a 400, as CallRail answers it."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise bad_request(f"Invalid time_zone: {name}") from exc


def months_before(moment: datetime, months: int) -> datetime:
    total = moment.year * 12 + (moment.month - 1) - months
    year, month = divmod(total, 12)
    month += 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def retention_cutoff_ms(now: datetime) -> int:
    return to_ms(months_before(now, RETENTION_MONTHS))


def _local_ms(day: date, tz: ZoneInfo, hour: int = 0, minute: int = 0) -> int:
    return to_ms(datetime(day.year, day.month, day.day, hour, minute, tzinfo=tz))


def _day_window(first: date, last: date, tz: ZoneInfo) -> tuple[int, int]:
    return _local_ms(first, tz), _local_ms(last + timedelta(days=1), tz) - 1


def _parse_bound(name: str, text: str, tz: ZoneInfo, is_end: bool) -> int:
    """Inclusive bound in ms: a date-only end means the whole day, an HH:MM end the whole minute."""
    try:
        match = _DATE_HM.fullmatch(text)
        if match:
            y, mo, d, h, mi = (int(x) for x in match.groups())
            start = to_ms(datetime(y, mo, d, h, mi, tzinfo=tz))
            return start + 59_999 if is_end else start
        match = _DATE.fullmatch(text)
        if match:
            day = date(*(int(x) for x in match.groups()))
            first, last = _day_window(day, day, tz)
            return last if is_end else first
    except ValueError:
        pass
    raise bad_request(f"Invalid {name}: {text}")


def date_window(params: dict[str, str], tz: ZoneInfo, now: datetime) -> tuple[int, int]:
    """The inclusive [start, end] ms window that `date_range`/`start_date`/`end_date` select.

    No date parameter at all means `recent`: the last 7 days including today
    (callrail-api.md §2.5, §7.1).
    """
    cutoff = retention_cutoff_ms(now)
    start_text, end_text = params.get("start_date"), params.get("end_date")
    if start_text or end_text:
        start = _parse_bound("start_date", start_text, tz, False) if start_text else cutoff
        end = _parse_bound("end_date", end_text, tz, True) if end_text else to_ms(now)
        if start > end:
            raise bad_request("start_date must be before end_date")
    else:
        start, end = _named_range(params.get("date_range") or "recent", tz, now)
    if start < cutoff:
        raise bad_request(RETENTION_EXCEEDED)
    return start, end


def _named_range(name: str, tz: ZoneInfo, now: datetime) -> tuple[int, int]:
    today = now.astimezone(tz).date()
    yesterday = today - timedelta(days=1)
    first_of_month = today.replace(day=1)
    if name == "recent":
        return _day_window(today - timedelta(days=6), today, tz)
    if name == "today":
        return _day_window(today, today, tz)
    if name == "yesterday":
        return _day_window(yesterday, yesterday, tz)
    if name == "last_7_days":
        return _day_window(today - timedelta(days=7), yesterday, tz)
    if name == "last_30_days":
        return _day_window(today - timedelta(days=30), yesterday, tz)
    if name == "this_month":
        return _day_window(first_of_month, today, tz)
    if name == "last_month":
        last_month_end = first_of_month - timedelta(days=1)
        return _day_window(last_month_end.replace(day=1), last_month_end, tz)
    if name == "this_year":
        return _day_window(today.replace(month=1, day=1), today, tz)
    if name == "last_year":
        return _day_window(date(today.year - 1, 1, 1), date(today.year - 1, 12, 31), tz)
    if name == "all_time":
        raise bad_request(RETENTION_EXCEEDED)
    raise bad_request(f"Invalid date_range: {name}")
