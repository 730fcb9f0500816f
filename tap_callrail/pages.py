"""Pages parsed against the stream's schema in C, so only values that break it reach Python.

A backfill is hundreds of thousands of records of ~80 properties each (issue 6), and checking
every value against its schema in Python (normalize.py) cost more than parsing the JSON.
`PagePlan` gives msgspec a typed description of a page instead, built from the selected
properties of the stream's schema: msgspec checks each value while it parses, which costs
less than parsing into untyped dicts, and leaves out the properties the catalog deselected.

- Objects with declared properties (milestones, speaker_percent) are parsed as structs that
  refuse keys the schema does not declare, then turned into dicts (`msgspec.to_builtins`,
  which leaves absent keys absent). A free-form object (`custom`) is a plain dict.
- A property CallRail sends in another type than the schema's (callrail-api.md §7.9:
  `recording_duration` as a string, `speaker_percent` as an array, tags as objects, or an
  object with an undeclared key) is named by msgspec's ValidationError. From then on it is
  parsed untyped and converted by normalize.py, and the page is parsed again.
- What Python still does per record: timestamps to canonical UTC text, and those loose
  properties, in one function written out for the plan (`_compile`): a backfill runs it for
  every record, and a generic loop over the properties cost more than the work itself.
- Anything else that breaks the description (a record that is not an object, an error that
  names no property, more than `MAX_LOOSE` loose properties) sends the page down the untyped
  path, which converts every property as before. Both paths emit the same records.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Callable, Collection
from typing import Any, TypedDict

import msgspec

from tap_callrail.normalize import (
    UNCHANGED,
    Converter,
    as_timestamp,
    converter_for,
    fix_in_place,
    known_timestamp,
    noting_nulls,
)

#: Properties a stream may turn loose before its pages are all parsed untyped.
MAX_LOOSE = 16
# Where msgspec says a value broke the description: "… - at `$.calls[12].recording_duration`".
_ERROR_PATH = re.compile(r"at `\$\.(\w+)\[\d+\]\.([A-Za-z_][A-Za-z0-9_]*)")
# The page keys the paginator and the restart check read; other keys of a page are not used.
_ENVELOPE = ("page", "per_page", "total_pages", "total_records")


class _Untyped(Exception):
    """A schema construct the description does not model: that property is parsed untyped."""


def _kinds(schema: Any) -> tuple[str, bool]:
    """The one JSON type a property declares besides null, and whether null is allowed."""
    if not isinstance(schema, dict) or {"anyOf", "oneOf", "allOf", "prefixItems"} & schema.keys():
        raise _Untyped
    declared = schema.get("type")
    types = {declared} if isinstance(declared, str) else set(declared) if isinstance(declared, list) else set()
    nullable = "null" in types
    types.discard("null")
    if len(types) != 1 or not all(isinstance(kind, str) for kind in types):
        raise _Untyped
    return types.pop(), nullable


def _typed(schema: Any, name: str) -> tuple[Any, bool]:
    """The type msgspec checks a property's values against, and whether it holds structs."""
    kind, nullable = _kinds(schema)
    base: Any
    structs = False
    if kind == "string":
        base = str
    elif kind == "integer":
        base = int
    elif kind == "number":
        base = int | float
    elif kind == "boolean":
        base = bool
    elif kind == "object":
        properties = schema.get("properties") or {}
        if properties:
            base, structs = _struct(name, properties), True
        else:
            base = dict[str, Any]  # free-form (custom, keypad_entries): every key is kept
    elif kind == "array":
        items, structs = _typed(schema.get("items") or {}, name)
        base = list[items]  # type: ignore[valid-type]
    else:
        raise _Untyped
    return (base | None if nullable else base), structs


def _struct(name: str, properties: dict[str, Any]) -> Any:
    """A struct of declared properties, each absent unless sent; undeclared keys are refused."""
    fields = []
    for prop_name, prop in properties.items():
        if not prop_name.isidentifier() or keyword.iskeyword(prop_name) or prop_name.startswith("_"):
            raise _Untyped
        fields.append((prop_name, _typed(prop, prop_name)[0] | msgspec.UnsetType, msgspec.UNSET))
    # gc=False: a struct holds parsed JSON values only, which cannot form a reference cycle.
    return msgspec.defstruct(f"{name}_object", fields, forbid_unknown_fields=True, gc=False)


def _timestamp_fix(schema: dict[str, Any], structs: bool = False) -> Converter | None:
    """What a value that passed `_typed(schema)` still needs: its timestamps in canonical UTC.

    `structs`: its objects are still structs (fixed by attribute), else dicts (by key).
    """
    if schema.get("format") == "date-time":
        return as_timestamp
    kind, _nullable = _kinds(schema)
    if kind == "object":
        properties = schema.get("properties") or {}
        fixes = [(key, fix) for key, prop in properties.items() if (fix := _timestamp_fix(prop, structs))]
        if not fixes:
            return None
        if not structs:
            return lambda value: fix_in_place(value, fixes)
        unset = msgspec.UNSET

        def fix_struct(value: Any) -> Any:
            for key, fix in fixes:
                item = getattr(value, key)
                if item is not None and item is not unset:
                    setattr(value, key, fix(item))
            return value

        return fix_struct
    if kind == "array":
        item_fix = _timestamp_fix(schema.get("items") or {}, structs)
        if item_fix is None:
            return None
        return lambda value: [None if item is None else item_fix(item) for item in value]
    return None


def _timestamp_paths(schema: dict[str, Any]) -> list[tuple[str, ...]] | None:
    """The attribute paths to the timestamps in a struct of this schema; None if any is in an array."""
    paths: list[tuple[str, ...]] = []
    for key, prop in (schema.get("properties") or {}).items():
        if prop.get("format") == "date-time":
            paths.append((key,))
        elif _timestamp_fix(prop) is not None:
            if _kinds(prop)[0] != "object":
                return None
            nested = _timestamp_paths(prop)
            if nested is None:
                return None
            paths.extend((key, *path) for path in nested)
    return paths


class _Step:
    """What a record's property needs: `convert` (unless null or of type `unchanged`), or
    the timestamps at these attribute paths (`()`: the value itself is one) made canonical."""

    def __init__(
        self,
        name: str,
        convert: Converter | None = None,
        unchanged: type | None = None,
        timestamps: list[tuple[str, ...]] | None = None,
    ) -> None:
        self.name, self.convert, self.unchanged, self.timestamps = name, convert, unchanged, timestamps or []


def _compile(steps: list[_Step]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """One function that takes a record through every step, written out in full.

    Run for every record of a backfill (issue 6): a loop over the steps, a call per nested
    object and a lookup per timestamp cost several times the work itself. Names reach the
    source only as string literals or, for struct fields, as checked identifiers (`_struct`).
    """
    namespace: dict[str, Any] = {"UNSET": msgspec.UNSET, "timestamp": as_timestamp, "known": known_timestamp}
    lines = ["def prepare(record):", "    get = record.get"]
    for number, step in enumerate(steps):
        key = repr(step.name)
        lines += [f"    value = get({key})", "    if value is not None:"]
        if step.convert is not None:
            namespace[f"convert{number}"] = step.convert
            namespace[f"unchanged{number}"] = step.unchanged
            lines += [
                f"        if type(value) is not unchanged{number}:",
                f"            record[{key}] = convert{number}(value)",
            ]
            continue
        for path in step.timestamps:
            if not path:
                lines.append(f"        record[{key}] = known(value) or timestamp(value)")
                continue
            indent, parent = "        ", "value"
            for depth, attribute in enumerate(path[:-1]):
                node = f"node{depth}"
                lines += [
                    f"{indent}{node} = {parent}.{attribute}",
                    f"{indent}if {node} is not None and {node} is not UNSET:",
                ]
                indent, parent = indent + "    ", node
            lines += [
                f"{indent}text = {parent}.{path[-1]}",
                f"{indent}if text is not None and text is not UNSET:",
                f"{indent}    {parent}.{path[-1]} = known(text) or timestamp(text)",
            ]
    lines.append("    return record")
    exec("\n".join(lines), namespace)  # the source is built above from checked names only
    return namespace["prepare"]  # type: ignore[no-any-return]


def _as_dicts(fix: Converter | None) -> Converter:
    """Structs to dicts (absent keys stay absent), then the timestamps, if any."""
    to_builtins = msgspec.to_builtins
    if fix is None:
        return to_builtins
    return lambda value: fix(to_builtins(value))


class PagePlan:
    """How one stream's pages are parsed and its records made ready, for one selection.

    Objects with declared properties stay msgspec structs in a prepared record, which the
    message writer encodes as it encodes dicts (absent keys absent): turning them into dicts
    cost a fifth of the tap's CPU (issue 6). `as_dicts` turns them into dicts in place, for
    whatever reads them (stream maps, the SDK's own shaping); properties in `dict_properties`
    (read by masking or the quality checks) are always dicts.
    """

    def __init__(
        self,
        item_key: str,
        schema: dict[str, Any],
        selected: Collection[str],
        dict_properties: Collection[str] = (),
    ) -> None:
        self.item_key = item_key
        self._properties: dict[str, Any] = schema.get("properties") or {}
        self._selected = [name for name in self._properties if name in selected]
        self._dict_properties = frozenset(dict_properties)
        #: Loose properties whose values were turned into null (normalize.noting_nulls), to report.
        self.nulled: list[str] = []
        self.loose: set[str] = set()
        self._untyped_only = False
        self._build()

    def _build(self) -> None:
        fields: dict[str, Any] = {}
        steps: list[_Step] = []
        structured: list[str] = []  # properties whose values may be structs
        for name in self._selected:
            prop = self._properties[name]
            try:
                if name in self.loose:
                    raise _Untyped
                typed, structs = _typed(prop, name)
            except _Untyped:
                # Taken as it comes and converted by normalize.py, as on the untyped path.
                fields[name] = Any
                converter = converter_for(prop)
                if converter is not None:
                    steps.append(_Step(name, noting_nulls(converter, name, self.nulled), UNCHANGED.get(converter)))
                continue
            fields[name] = typed
            if structs and name in self._dict_properties:
                steps.append(_Step(name, _as_dicts(_timestamp_fix(prop))))
                continue
            if structs:
                structured.append(name)
            if prop.get("format") == "date-time":
                steps.append(_Step(name, timestamps=[()]))  # a string, checked by msgspec
            elif structs and _kinds(prop)[0] == "object" and (paths := _timestamp_paths(prop)) is not None:
                if paths:
                    steps.append(_Step(name, timestamps=paths))
            elif (fix := _timestamp_fix(prop, structs)) is not None:
                steps.append(_Step(name, fix))
        envelope: dict[str, Any] = dict.fromkeys(_ENVELOPE, Any)
        envelope[self.item_key] = list[TypedDict(f"{self.item_key}_record", fields, total=False)]  # type: ignore[misc,operator]
        self._decoder = msgspec.json.Decoder(TypedDict(f"{self.item_key}_page", envelope, total=False))  # type: ignore[operator]
        #: Makes a record of a typed page what the untyped path makes of it (but for structs), in place.
        self.prepare = _compile(steps)
        self._structured = structured

    def as_dicts(self, record: dict[str, Any]) -> dict[str, Any]:
        """The prepared record with its structs turned into dicts, in place."""
        to_builtins = msgspec.to_builtins
        for name in self._structured:
            value = record.get(name)
            if value is not None:
                record[name] = to_builtins(value)
        return record

    def decode(self, content: bytes) -> dict[str, Any] | None:
        """The page, its records checked and pruned to the selection; None: parse it untyped."""
        while not self._untyped_only:
            try:
                return self._decoder.decode(content)  # type: ignore[no-any-return]
            except msgspec.ValidationError as exc:
                if not self._loosen(str(exc)):
                    return None
            except msgspec.DecodeError:
                return None  # not JSON msgspec reads: the untyped path decides what it is
        return None

    def _loosen(self, error: str) -> bool:
        """Parse the property the error names untyped from now on; False if it names none."""
        found = _ERROR_PATH.search(error)
        if found is None or found.group(1) != self.item_key:
            return False
        name = found.group(2)
        if name not in self._selected or name in self.loose:
            return False
        self.loose.add(name)
        if len(self.loose) > MAX_LOOSE:
            self._untyped_only = True
            return False
        self._build()
        return True
