"""Schema-driven type normalisation: every emitted record validates against its schema.

CallRail's types drift: `recording_duration` is documented as a
string and seen as an integer, legacy ids arrive as numbers, `value` may be a currency
string, `speaker_percent` an object or an array, call tags plain names or `{id, name}`
objects, and webhook-shaped bodies carry `""` where an object or a list is documented. Each
property gets one converter, chosen once per stream from its schema.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from tap_callrail.timeutil import canonical_timestamp

Converter = Callable[[Any], Any]
logger = logging.getLogger(__name__)

#: Digits an integer may have: a bigint column holds 19, and turning a string such as
#: "1e999999" into a Python int would take minutes of CPU and a million digits.
MAX_INTEGER_DIGITS = 19
#: Largest decimal exponent of a number kept (a double reaches 308; no CallRail value comes close).
MAX_NUMBER_EXPONENT = 308


def _bounded(number: Decimal) -> bool:
    return number.is_finite() and abs(number.adjusted()) <= MAX_NUMBER_EXPONENT


def _as_string(value: Any) -> Any:
    if type(value) is str:
        return value
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return "\n".join(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, default=str)
    if isinstance(value, bool):
        return "true" if value else "false"
    if (
        isinstance(value, Decimal)
        and value.is_finite()
        and value.adjusted() < MAX_INTEGER_DIGITS
        and value == value.to_integral_value()
    ):
        return str(int(value))
    return str(value)


def _as_integer(value: Any) -> Any:
    """An int, or None for what is not a whole number that fits (checked before converting)."""
    if type(value) is int:
        return value
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float):
        return int(value) if math.isfinite(value) and value.is_integer() and abs(value) < 2**63 else None
    if isinstance(value, str):
        text = value.strip()
        if text.isdecimal() and len(text) < MAX_INTEGER_DIGITS:  # "1456": what Decimal would read, without it
            return int(text)
        try:
            value = Decimal(text)
        except InvalidOperation:
            return None
    if isinstance(value, Decimal):
        if not value.is_finite() or value.adjusted() >= MAX_INTEGER_DIGITS:
            return None
        return int(value) if value == value.to_integral_value() else None
    return None


def _as_number(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Decimal):
        return value if _bounded(value) else None
    if isinstance(value, str):
        # The write side of `value` takes "$1.00" / "1.00".
        text = value.strip().replace("$", "").replace(",", "")
        try:
            number = Decimal(text)
        except InvalidOperation:
            return None
        return number if _bounded(number) else None
    return None


def _as_boolean(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if isinstance(value, int):
        return bool(value)
    return None


def _as_object(value: Any) -> Any:
    if isinstance(value, dict):
        return value
    if isinstance(value, list):
        labelled = _labelled_pairs(value)
        if labelled is not None:
            return labelled
        if all(isinstance(item, dict) for item in value):
            merged: dict[str, Any] = {}
            for item in value:
                merged.update(item)
            return merged
        return {"values": value}
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError:
            return {"value": value}
        return parsed if isinstance(parsed, dict) else {"value": parsed}
    return {"value": value}


def _labelled_pairs(items: list[Any]) -> dict[str, Any] | None:
    """A list of two-key objects as one label -> value map, or None when it is not one.

    CallRail sends some objects as such lists: keypad entries as `[{name, value}]`, the talk
    share as `[{speaker, percent}]` where the list endpoint prints `{agent: 60, customer: 40}`.
    Merging the items would keep only the last; the label is the key whose values are distinct
    strings (the first such key by name, so `name` before `value`).
    """
    if not items or not all(type(item) is dict for item in items):
        return None
    keys = set(items[0])
    if len(keys) != 2 or any(set(item) != keys for item in items):
        return None
    for label in sorted(keys):
        labels = [item[label] for item in items]
        if all(type(text) is str for text in labels) and len(set(labels)) == len(labels):
            (value,) = keys - {label}
            return {text: item[value] for text, item in zip(labels, items, strict=True)}
    return None


#: Object properties CallRail documents as one `{name, value}` pair (Listing All Calls,
#: https://apidocs.callrail.com/) and also sends as a list of pairs: both are stored as one
#: name -> value map, an empty list as null.
NAME_VALUE_MAPS = frozenset({"keypad_entries"})


def _as_name_value_map(value: Any) -> Any:
    if type(value) is list and not value:
        return None
    pairs = value if type(value) is dict else _as_object(value)
    if len(pairs) == 2 and "name" in pairs and "value" in pairs:
        return {str(pairs["name"]): pairs["value"]}
    return pairs


def as_timestamp(value: Any) -> Any:
    if type(value) is str:
        known = _CANONICAL.get(value)
        if known is not None:
            return known
    if not isinstance(value, str) or not value:
        return None
    try:
        canonical = canonical_timestamp(value)
    except ValueError:
        logger.warning("Unparseable timestamp %r replaced by null", value)
        return None
    if len(_CANONICAL) >= _CANONICAL_SIZE:
        _CANONICAL.clear()
    _CANONICAL[value] = canonical
    return canonical


# Timestamps converted lately. A call's created_at is its start_time, and its lead_created and
# last_touch milestones often share theirs: about 3 of a call's 7 timestamps are repeats.
_CANONICAL: dict[str, str] = {}
_CANONICAL_SIZE = 4096


#: What an element converter returns for an element that cannot be kept (left out, and a finding).
_LEFT_OUT = object()


class _Partial(list):  # type: ignore[type-arg]
    """A converted list from which elements that did not fit were left out."""


def _array_of(item: Converter | None, unchanged: type | None = None) -> Converter:
    """Each element converted by `item`; a list whose elements are all `unchanged` is kept."""

    def convert(value: Any) -> Any:
        if type(value) is list:
            for element in value:
                if type(element) is not unchanged:
                    break
            else:
                return value  # empty (most arrays of a call), or nothing to convert
        values = value if isinstance(value, list) else [value]
        if item is None:
            return values
        converted = [item(element) for element in values]
        if any(element is _LEFT_OUT for element in converted):
            return _Partial(element for element in converted if element is not _LEFT_OUT)
        return converted

    return convert


def _tag_name(value: Any) -> Any:
    # Call and form tags arrive as names or as {id, name} objects; anything else (null, a number,
    # an object without a name) is left out and counted, never written as the text "None".
    if isinstance(value, dict):
        value = value.get("name")
    return value if isinstance(value, str) else _LEFT_OUT


def _types(schema: dict) -> set[str]:
    declared = schema.get("type", [])
    types = {declared} if isinstance(declared, str) else set(declared)
    if not types and "anyOf" in schema:
        for option in schema["anyOf"]:
            types |= _types(option)
    return types - {"null"}


def converter_for(
    schema: dict,
    path: str = "",
    unmapped: set[str] | None = None,
    nulled: list[str] | None = None,
) -> Converter | None:
    """Choose the converter that makes a value conform to a property's schema.

    `path` names the property, for what nested objects collect in `unmapped` and `nulled`.
    """
    types = _types(schema)
    if "string" in types and schema.get("format") == "date-time":
        return as_timestamp
    if "string" in types:
        return _as_string
    if "integer" in types:
        return _as_integer
    if "number" in types:
        return _as_number
    if "boolean" in types:
        return _as_boolean
    if "object" in types:
        if schema.get("properties"):
            nested = RecordNormalizer(schema, path, unmapped, nulled)
            return lambda value: nested(value if type(value) is dict else _as_object(value))
        return _as_object
    if "array" in types:
        items = schema.get("items") or {}
        if _types(items) == {"string"} and items.get("format") != "date-time":
            return _array_of(_tag_name, str)
        item = converter_for(items, path, unmapped, nulled) if items else None
        return _array_of(item, UNCHANGED.get(item) if item is not None else None)
    return None


# The type each converter returns unchanged: a value already of that exact type is skipped,
# which spares most calls on a backfill without changing any result.
UNCHANGED: dict[Converter, type] = {
    _as_string: str,
    _as_integer: int,
    _as_number: float,
    _as_boolean: bool,
    _as_object: dict,
}


class RecordNormalizer:
    """Makes a record conform to its schema, in place: every property of its type, no other property.

    `nulled` collects the names of the properties whose values it turned into null because they
    do not fit their type, for the caller to report and clear. Properties the schema does not
    declare (a field CallRail added) are removed and their paths collected in `unmapped`.

    An empty or whitespace-only string for an object or list property is CallRail saying there
    is nothing (webhook-shaped bodies do it): it becomes null, not a value made up from it, and is
    no finding, like `""` for any other type.
    """

    def __init__(
        self,
        schema: dict,
        path: str = "",
        unmapped: set[str] | None = None,
        nulled: list[str] | None = None,
    ) -> None:
        self.nulled: list[str] = [] if nulled is None else nulled
        self.unmapped: set[str] = set() if unmapped is None else unmapped
        properties = schema.get("properties", {})
        self._known = frozenset(properties)
        self._open = bool(schema.get("additionalProperties"))
        self._prefix = f"{path}." if path else ""
        # (path, the type its converter keeps unchanged, converter, True for an object or a list)
        self._converters: list[tuple[str, type | None, Converter, bool]] = []
        for name, prop in properties.items():
            if name in NAME_VALUE_MAPS:
                converter: Converter | None = _as_name_value_map
            else:
                converter = converter_for(prop, self._prefix + name, self.unmapped, self.nulled)
            if converter is not None:
                container = bool(_types(prop) & {"object", "array"})
                self._converters.append((self._prefix + name, UNCHANGED.get(converter), converter, container))

    def __call__(self, record: dict) -> dict:
        if not self._open and not self._known.issuperset(record):
            for name in [name for name in record if name not in self._known]:
                del record[name]
                self.unmapped.add(self._prefix + name)
        get = record.get
        cut = len(self._prefix)
        for path, unchanged, convert, container in self._converters:
            name = path[cut:]
            value = get(name)
            if value is not None and type(value) is not unchanged:
                if container and type(value) is str and not value.strip():
                    record[name] = None
                    continue
                converted = record[name] = convert(value)
                if converted is None and value != "" and not container:
                    self.nulled.append(path)  # does not fit its type: a finding, not a silent null
                elif type(converted) is _Partial:
                    record[name] = list(converted)
                    self.nulled.append(path)
        return record
