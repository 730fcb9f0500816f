"""Rendering of stored records: timestamps take the form CallRail prints for each field."""

from __future__ import annotations

import json
from typing import Any
from zoneinfo import ZoneInfo

from callrail_emulator.timeutil import iso_offset_ms, iso_utc_ms, iso_utc_s

OFFSET = "offset"  # offset of the effective time zone: call start_time, tag/user created_at
UTC_MS = "utc_ms"  # `…T14:05:09.119Z`
UTC_S = "utc_s"  # `…T14:05:09Z`
VERBATIM = "verbatim"  # the text a test gave (see Verbatim)


class Stamp:
    """An instant stored in a record, printed in `style` when the record is rendered."""

    __slots__ = ("ms", "style")

    def __init__(self, ms: int, style: str) -> None:
        self.ms = ms
        self.style = style

    def render(self, tz: ZoneInfo) -> str:
        if self.style == OFFSET:
            return iso_offset_ms(self.ms, tz)
        if self.style == UTC_MS:
            return iso_utc_ms(self.ms)
        return iso_utc_s(self.ms)

    def __repr__(self) -> str:
        return f"Stamp({self.ms}, {self.style!r})"


class Verbatim(Stamp):
    """An instant a test gave as text (Emulator.put): printed as given, whatever the time zone."""

    __slots__ = ("text",)

    def __init__(self, ms: int, text: str) -> None:
        super().__init__(ms, VERBATIM)
        self.text = text

    def render(self, tz: ZoneInfo) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"Verbatim({self.ms}, {self.text!r})"


def render_value(value: Any, tz: ZoneInfo) -> Any:
    if isinstance(value, Stamp):
        return value.render(tz)
    if isinstance(value, dict):
        return {k: render_value(v, tz) for k, v in value.items()}
    if isinstance(value, list):
        return [render_value(v, tz) for v in value]
    return value


# Key under which a record added by Emulator.add_bad_record lists its undocumented fields.
EXTRA_FIELDS = "__extra_fields__"


def render_record(record: dict[str, Any], fields: tuple[str, ...], tz: ZoneInfo) -> dict[str, Any]:
    """The record as the API prints it: `fields` in that order, then any undocumented extras."""
    names = (*fields, *record.get(EXTRA_FIELDS, ()))
    return {f: render_value(record[f], tz) for f in names if f in record}


def sort_value(value: Any) -> tuple[bool, bool, Any]:
    """A sortable form of a stored value: timestamps by instant, text after numbers, nulls last."""
    if isinstance(value, Stamp):
        value = value.ms
    elif isinstance(value, (list, dict)):
        value = json.dumps(value, ensure_ascii=False, sort_keys=True)
    if value is None:
        return (True, False, 0)
    return (False, isinstance(value, str), value)
