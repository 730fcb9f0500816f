"""Time handling: every timestamp leaves the tap as one canonical UTC string.

CallRail renders some timestamps in the requesting user's time zone with an offset
(call start_time, tag/user created_at), others in UTC with `Z`, and a few in a
non-ISO form (`2026-02-10 03:43:50 -0500`). Bookmarks are
compared as strings by the SDK, so one fixed format is the only safe output.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

UTC = timezone.utc
CANONICAL_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
# CallRail accepts a date or a date with hours and minutes as start_date/end_date.
REQUEST_FORMAT = "%Y-%m-%dT%H:%M"
# Communication records are purged after 25 months; a request reaching further errors.
RETENTION_MONTHS = 25
RETENTION_MARGIN = timedelta(days=1)

_SPACE_OFFSET = re.compile(r"^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) ?([+-]\d{2}:?\d{2}|Z|UTC)?$")


def parse_timestamp(value: str) -> datetime:
    """Parse a CallRail timestamp (any of its renderings) into an aware datetime.

    A value without an offset is taken as UTC, which is how CallRail documents the
    fields that carry no offset.
    """
    text = value.strip()
    if text[10:11] == "T" and text[-6:-5] in ("+", "-") and text[-3:-2] == ":" and " " not in text:
        # Already `…T…±HH:MM`, as CallRail renders most timestamps: the rewriting below
        # would leave it unchanged (a fast path; a backfill parses millions of these).
        return datetime.fromisoformat(text)
    match = _SPACE_OFFSET.match(text)
    if match:
        day, clock, offset = match.groups()
        if offset in (None, "Z", "UTC"):
            offset = "+00:00"
        elif ":" not in offset:
            offset = f"{offset[:3]}:{offset[3:]}"
        text = f"{day}T{clock}{offset}"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def to_canonical(value: datetime) -> str:
    """Format an instant as the tap's canonical UTC string."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    elif value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    if value.year < 1000:  # strftime's %Y does not pad years before 1000; isoformat would
        return value.strftime(CANONICAL_FORMAT)
    # The same text as CANONICAL_FORMAT, at a third of strftime's cost.
    return value.isoformat(timespec="microseconds")[:-6] + "Z"


def canonical_timestamp(value: str) -> str:
    """Re-render a CallRail timestamp string in canonical UTC form."""
    # CallRail's usual rendering in UTC, `…T…:SS.mmm+00:00` or `…Z` (time_zone=Etc/UTC),
    # needs only three zeros: checked and rendered here, as `_canonical_utc_text` would.
    body = value[:-6] if value[-6:] == "+00:00" else value[:-1] if value[-1:] == "Z" else ""
    if len(body) == 23 and body[19] == "." and body[10] == "T" and body[0] != "0":
        _fromisoformat(body)  # raises on a non-instant, as the general path does
        return body + "000Z"
    text = value.strip()
    return _canonical_utc_text(text) or to_canonical(parse_timestamp(text))


_fromisoformat = datetime.fromisoformat


def _canonical_utc_text(text: str) -> str | None:
    """The canonical form of a UTC timestamp that needs no arithmetic, by slicing; else None.

    `YYYY-MM-DDTHH:MM:SS[.f…]` ending `+00:00` or `Z` (CallRail's rendering with
    time_zone=Etc/UTC) only needs its fraction padded to 6 digits. A backfill has millions.
    """
    if text.endswith("+00:00"):
        body = text[:-6]
    elif text.endswith("Z"):
        body = text[:-1]
    else:
        return None
    fraction = body[20:]
    if len(body) < 19 or body[10] != "T" or body[0] == "0":  # years before 1000 keep strftime's form
        return None
    if len(body) > 19 and (body[19] != "." or not 1 <= len(fraction) <= 6):
        return None
    datetime.fromisoformat(f"{body}+00:00")  # what parse_timestamp parses: raises on a non-instant
    return f"{body[:19]}.{fraction:0<6}Z"


def parse_setting_datetime(value: str | date | datetime) -> datetime:
    """Parse a start_date/end_date setting: a date or an ISO 8601 date-time."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    text = value.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return datetime.fromisoformat(text).replace(tzinfo=UTC)
    return parse_timestamp(text)


def is_date_only(value: object) -> bool:
    """True for a setting written as a plain date (`2025-01-31`)."""
    return isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()) is not None


def retention_floor(now: datetime) -> datetime:
    """The earliest instant CallRail still holds, plus a day of safety margin."""
    month_index = now.year * 12 + (now.month - 1) - RETENTION_MONTHS
    year, month = divmod(month_index, 12)
    try:
        floor = now.replace(year=year, month=month + 1)
    except ValueError:  # e.g. the 31st in a 30-day month: round up, never down
        year, month = divmod(month_index + 1, 12)
        floor = now.replace(year=year, month=month + 1, day=1)
    return floor + RETENTION_MARGIN


def request_minute(value: datetime) -> str:
    """Format an instant as CallRail's `YYYY-MM-DDTHH:MM` date filter, in UTC."""
    return value.astimezone(UTC).strftime(REQUEST_FORMAT)
