"""How records leave the tap: pruned and conformed by a plan made once, written with msgspec.

A backfill is hundreds of thousands of RECORD lines of ~80 fields each, so the per-record work
of the SDK dominated the tap's CPU (issue 6, benchmarks/README.md):

- `RecordShaper` does what the SDK's `pop_deselected_record_properties` and
  `conform_record_data_types` (RECURSIVE) do to a record, which walk every property against
  the schema and the selection mask, with a plan compiled once per stream. Records have
  already been normalised to their schema types (normalize.py), so what is left to do is
  dropping deselected properties, null for a non-finite number, and booleans. Whatever it
  does not model exactly (a property the schema lacks, a deselected nested property, a
  catalog schema that differs from the tap's) goes to the SDK's own code instead.
- `fewer_garbage_collections` makes Python's cycle collector run less often during a sync.
- `MessageWriter` encodes RECORD lines with msgspec, as the SDK's `singer_sdk.contrib.msgspec`
  writer does, instead of simplejson into a text stream (~7 s of CPU per 100,000 calls, now
  under 1 s). The lines decode to the same messages; `time_extracted` keeps the default
  writer's form (`…+00:00`, where msgspec would write `…Z`), and the rare SCHEMA, STATE and
  ACTIVATE_VERSION lines are still written by the SDK's serializer, byte for byte as before.
"""

from __future__ import annotations

import ctypes
import gc
import math
import sys
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from typing import Any

import msgspec
from singer_sdk.singerlib import Message, RecordMessage
from singer_sdk.singerlib.encoding import GenericSingerWriter
from singer_sdk.singerlib.json import serialize_json

from tap_callrail.normalize import fix_in_place


def _unsupported(value: Any) -> Any:
    # What the SDK's simplejson default does with a type JSON has no form for.
    return value.isoformat(sep="T") if isinstance(value, datetime) else str(value)


_encode_into = msgspec.json.Encoder(enc_hook=_unsupported, decimal_format="number").encode_into


#: RECORD lines held back before they are written out, unless a page ends or another message comes first.
RECORD_BATCH_BYTES = 1 << 20


class MessageWriter(GenericSingerWriter[bytes, Message]):
    """Singer messages to stdout, one JSON line each.

    RECORD lines are written in batches, at the end of each page or every `RECORD_BATCH_BYTES`
    (one write instead of one flushed write per record: ~1 s of system CPU per 100,000 calls).
    Any other message first writes the records before it and is flushed at once, so a target
    never reads a STATE before the records it covers.
    """

    def __init__(self) -> None:
        #: Called with (stream, record, property) for each value written as null because it
        #: cannot be encoded as JSON; the tap counts it as a data-quality finding.
        self.on_unencodable: Callable[[str, Mapping[str, Any], str], None] | None = None
        self._buffer = bytearray()
        self._records = bytearray()
        self._heads: dict[str, bytes] = {}
        self._tail_extracted: datetime | None = None
        self._tail_version: int | None = None
        self._tail = b""

    def serialize_message(self, message: Message) -> bytes:
        if type(message) is RecordMessage:
            data = message.to_dict()
            extracted = data.get("time_extracted")
            if isinstance(extracted, datetime):
                data["time_extracted"] = extracted.isoformat(sep="T")
            try:
                _encode_into(data, self._buffer)
            except (TypeError, ValueError, OverflowError):
                data["record"] = self._encodable(message.stream, data["record"])
                _encode_into(data, self._buffer)
            self._buffer.extend(b"\n")
            return bytes(self._buffer)
        return (serialize_json(message.to_dict()) + "\n").encode()

    def write_records(
        self,
        streams: Sequence[str],
        records: Iterable[Any],
        version: int | None,
        extracted: datetime,
    ) -> None:
        """The RECORD lines `serialize_message` writes for these records, without building them.

        Each record goes to each of `streams` (aliases of one stream) in turn.
        """
        heads = [self._head(stream) for stream in streams]
        if extracted is not self._tail_extracted or version != self._tail_version:
            self._tail_extracted, self._tail_version = extracted, version
            stamp = msgspec.json.encode(extracted.isoformat(sep="T"))
            versioned = b"" if version is None else b',"version":%d' % version
            self._tail = versioned + b',"time_extracted":' + stamp + b"}\n"
        tail, lines, encode_into = self._tail, self._records, _encode_into
        for record in records:
            for stream, head in zip(streams, heads, strict=True):
                # A line is only ever kept whole: what a failed encoding left is cut off again.
                start = len(lines)
                lines += head
                try:
                    encode_into(record, lines, -1)
                except (TypeError, ValueError, OverflowError):
                    del lines[start + len(head) :]
                    encode_into(self._encodable(stream, record), lines, -1)
                lines += tail
            if len(lines) >= RECORD_BATCH_BYTES:
                self.flush_records()

    def _encodable(self, stream: str, record: Any) -> dict[str, Any]:
        """A copy of the record with each value JSON cannot carry (e.g. an infinite decimal) as null."""
        fields = record if isinstance(record, dict) else msgspec.structs.asdict(record)
        kept = dict(fields)
        for name, value in fields.items():
            try:
                _encode_into(value, bytearray())
            except (TypeError, ValueError, OverflowError):
                kept[name] = None
                if self.on_unencodable is not None:
                    self.on_unencodable(stream, fields, name)
        return kept

    def _head(self, stream: str) -> bytes:
        head = self._heads.get(stream)
        if head is None:
            head = self._heads[stream] = b'{"type":"RECORD","stream":' + msgspec.json.encode(stream) + b',"record":'
        return head

    def write_message(self, message: Message) -> None:
        self._records += self.format_message(message)
        if type(message) is not RecordMessage or len(self._records) >= RECORD_BATCH_BYTES:
            self.flush_records()

    def flush_records(self) -> None:
        """Write out every line held back."""
        if not self._records:
            return
        out = sys.stdout
        binary = getattr(out, "buffer", None)
        if binary is None:  # a text-only stdout (e.g. tests capturing it into a StringIO)
            out.write(self._records.decode())
        else:
            binary.write(self._records)
        self._records.clear()
        out.flush()


# Young-generation allocations between two cycle collections during a sync (Python's default: 700).
GC_YOUNG_THRESHOLD = 100_000


@contextmanager
def fewer_garbage_collections() -> Iterator[None]:
    """Let the cycle collector run after 100,000 allocations instead of 700, for a sync.

    Each page allocates ~50,000 dicts, lists and strings that live until the page is written,
    so at the default threshold the collector scanned them over and over: ~20% of the tap's
    CPU on a backfill. Records hold no reference cycles (reference counting frees them), so
    memory does not grow; collections still happen, just rarely.
    """
    thresholds = gc.get_threshold()
    gc.set_threshold(max(thresholds[0], GC_YOUNG_THRESHOLD), *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)


# glibc's mallopt(3) parameters, and its defaults (the mmap threshold then adapts itself).
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_GLIBC_DEFAULT_THRESHOLD = 128 * 1024
#: During a sync, blocks up to this size come from the heap and freed ones are reused.
LARGE_BLOCK_BYTES = 32 << 20


@contextmanager
def large_blocks_reused() -> Iterator[bool]:
    """Keep ~1 MB page buffers in the heap for a sync, instead of mapping them anew each page.

    Every page allocates a few blocks of about 1 MB (the body, the lines written out). glibc
    maps such blocks fresh and hands them back when freed, so each page paid ~800 page faults:
    about 1 s of system CPU per 100,000 calls (issue 6). Raising the mmap and trim thresholds
    lets freed blocks be reused; memory stays flat (a few MB more). Yields False where the
    C library has no mallopt (not glibc); nothing changes there.
    """
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        yield False
        return
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    changed = bool(mallopt(_M_MMAP_THRESHOLD, LARGE_BLOCK_BYTES)) and bool(
        mallopt(_M_TRIM_THRESHOLD, 2 * LARGE_BLOCK_BYTES)
    )
    try:
        yield changed
    finally:
        if changed:
            mallopt(_M_MMAP_THRESHOLD, _GLIBC_DEFAULT_THRESHOLD)
            mallopt(_M_TRIM_THRESHOLD, _GLIBC_DEFAULT_THRESHOLD)


Fix = Callable[[Any], Any]


class _Unsupported(Exception):
    """A schema or selection the shaper does not model: the stream keeps the SDK's path."""


class _Fallback(Exception):
    """A record the shaper does not model (a property its schema lacks): the SDK shapes it."""


class RecordShaper:
    """Prunes deselected properties and conforms types as the SDK would, for one stream.

    Call it with a normalised record; it returns the record to write, or None when the SDK
    must shape this one (the SDK then also logs its warning about unmapped properties).
    """

    def __init__(self, schema: dict[str, Any], selected: frozenset[str]) -> None:
        self.selected = selected
        self._properties = frozenset(schema["properties"])
        self._keep_unknown = bool(schema.get("additionalProperties"))
        self._fixes = _property_fixes(schema)
        self._fix = self.fixer(self._properties)

    @classmethod
    def compile(cls, schema: dict[str, Any], mask: Mapping[tuple[str, ...], bool]) -> RecordShaper | None:
        """The shaper for a stream's schema and selection mask; None if it cannot model them."""
        if not all(selected for breadcrumb, selected in mask.items() if len(breadcrumb) > 2):
            return None  # a nested property deselected in the catalog
        try:
            selected = frozenset(name for name in schema["properties"] if mask[("properties", name)])
            return cls(schema, selected)
        except (_Unsupported, KeyError, TypeError, AttributeError):
            return None

    def __call__(self, record: dict[str, Any]) -> dict[str, Any] | None:
        if not record.keys() <= self.selected:
            try:
                record = self._prune(record)
            except _Fallback:
                return None
        return self._fix(record)

    def fixer(self, names: Collection[str]) -> Callable[[dict[str, Any]], dict[str, Any] | None]:
        """The conformance of just these properties, for a record already pruned.

        Returns the record, or None when the SDK must shape it.
        """
        fixes = [(name, fix) for name, fix in self._fixes if name in names]

        def fix_record(record: dict[str, Any]) -> dict[str, Any] | None:
            try:
                return fix_in_place(record, fixes)
            except _Fallback:
                return None

        return fix_record

    def _prune(self, record: dict[str, Any]) -> dict[str, Any]:
        kept = {}
        for name, value in record.items():
            if name in self.selected:
                kept[name] = value
            elif name not in self._properties:
                if not self._keep_unknown:
                    raise _Fallback
                kept[name] = value
        return kept


def _property_fixes(schema: dict[str, Any]) -> list[tuple[str, Fix]]:
    fixes = []
    for name, prop in schema["properties"].items():
        fix = _fix_for(prop)
        if fix is not None:
            fixes.append((name, fix))
    return fixes


def _types(prop: dict[str, Any]) -> set[str]:
    if not isinstance(prop, dict) or "anyOf" in prop or "type" not in prop:
        raise _Unsupported
    declared = prop["type"]
    return {declared} if isinstance(declared, str) else set(declared)


def _fix_for(prop: dict[str, Any]) -> Fix | None:
    """What the SDK's conformance still changes in a normalised value of this property, if anything."""
    types = _types(prop)
    if "array" in types:
        items = prop.get("items")
        if types - {"array", "null"} or "prefixItems" in prop or not isinstance(items, dict):
            raise _Unsupported
        if "object" in _types(items) and "properties" not in items:
            raise _Unsupported  # the SDK conforms dict items against items["properties"]
        item_fix = _fix_for(items)
        if item_fix is None:
            return None
        return lambda value: [item_fix(item) for item in value] if type(value) is list else _primitive(value, prop)
    if "object" in types and "properties" in prop:
        if types - {"object", "null"}:
            raise _Unsupported
        known = frozenset(prop["properties"])
        keep_unknown = bool(prop.get("additionalProperties"))
        fixes = _property_fixes(prop)
        if keep_unknown and not fixes:
            return None

        def fix_object(value: Any) -> Any:
            if type(value) is not dict:
                return _primitive(value, prop)
            if not keep_unknown and not value.keys() <= known:
                raise _Fallback
            return fix_in_place(value, fixes)

        return fix_object
    if "number" in types:
        return _finite
    if _is_exclusive_boolean(prop):
        return _boolean
    if types <= {"string", "integer", "boolean", "object", "null"}:
        return None  # normalised values of these types pass the SDK's conformance unchanged
    raise _Unsupported


def _is_exclusive_boolean(prop: dict[str, Any]) -> bool:
    # The SDK's own test (singer_sdk.helpers._typing._is_exclusive_boolean_type).
    declared = prop["type"]
    return declared == "boolean" or declared == ["boolean"] or set(declared) == {"boolean", "null"}


def _finite(value: Any) -> Any:
    if isinstance(value, (float, Decimal)) and (math.isnan(value) or math.isinf(value)):
        return None
    return value


def _boolean(value: Any) -> Any:
    return _finite(value) if isinstance(value, (float, Decimal)) else value != 0


def _primitive(value: Any, prop: dict[str, Any]) -> Any:
    """The SDK's `_conform_primitive_property`, for the JSON types a normalised record holds."""
    if isinstance(value, (float, Decimal)):
        return _finite(value)
    if _is_exclusive_boolean(prop):
        return value != 0
    return value
