"""The tap's fast paths give exactly what the slow paths they replace gave (issue 6)."""

from __future__ import annotations

import copy
import gc
import io
import json
import logging
import math
import random
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
import requests
from singer_sdk import RESTStream
from singer_sdk.helpers._catalog import pop_deselected_record_properties
from singer_sdk.helpers._typing import conform_record_data_types
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.singerlib import ActivateVersionMessage, RecordMessage, SchemaMessage, StateMessage
from singer_sdk.singerlib.catalog import SelectionMask
from singer_sdk.singerlib.encoding import SimpleSingerWriter

from callrail_emulator import Emulator
from tap_callrail.client import CallRailStream, parse_body
from tap_callrail.normalize import UNCHANGED
from tap_callrail.output import GC_YOUNG_THRESHOLD, MessageWriter, RecordShaper, fewer_garbage_collections
from tap_callrail.tap import TapCallRail
from tap_callrail.timeutil import _SPACE_OFFSET, canonical_timestamp
from tests.fake_callrail import FakeCallRail, base_config, discovered_catalog, populate, run_sync


def response(body: bytes, content_type: str = "application/json; charset=utf-8") -> requests.Response:
    made = requests.Response()
    made.status_code = 200
    made._content = body
    made.headers["Content-Type"] = content_type
    made.encoding = requests.utils.get_encoding_from_headers(made.headers)
    return made


@pytest.mark.parametrize(
    "body",
    [
        b'{"calls": [{"id": "CAL1", "duration": 37, "value": 12.5, "tags": ["A"], "note": null}]}',
        '{"name": "Café Zoë — Brooklyn", "emoji": "📞", "escaped": "\\u00e9\\n"}'.encode(),
        b'{"big": 123456789012345678901234567890, "neg": -0, "exp": 1.5e300, "tiny": 5e-324}',
        b'{"dup": 1, "dup": 2}',
        b'{"nan": NaN, "inf": Infinity}',  # not JSON
        b'{"huge": 1e400}',  # beyond float range
        b'{"surrogate": "\\ud83d"}',  # a lone surrogate
        b'[1, 2.0, "3", true, false, null, {}, []]',
    ],
)
def test_parse_body_reads_bodies_like_requests(body: bytes) -> None:
    try:
        slow = response(body).json()
    except ValueError:
        with pytest.raises(ValueError):
            parse_body(response(body))
        return
    assert repr(parse_body(response(body))) == repr(slow)  # repr: 1 == 1.0 == True would hide type changes


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ('{"name": "Müller"}'.encode("latin-1"), "application/json; charset=iso-8859-1"),
        ('{"name": "Müller"}'.encode(), "text/plain"),  # requests decodes text/* as ISO-8859-1
        (b'{"name": "M\xfcller"}', "application/json; charset=utf-8"),  # not UTF-8 despite the header
        ('\ufeff{"bom": true}'.encode(), "application/json; charset=utf-8"),
    ],
)
def test_parse_body_leaves_other_encodings_to_requests(body: bytes, content_type: str) -> None:
    try:
        slow = response(body, content_type).json()
    except ValueError:
        with pytest.raises(ValueError):
            parse_body(response(body, content_type))
        return
    assert parse_body(response(body, content_type)) == slow


def test_parse_body_rejects_a_cut_body_as_requests_does() -> None:
    with pytest.raises(ValueError):
        parse_body(response(b'{"calls": [{"id": "CAL1"'))


def test_parse_body_keeps_floats_bit_for_bit() -> None:
    values = [0.1, 1 / 3, 2.5e-308, 1.7976931348623157e308, 123456.789, -0.0, math.pi]
    body = ("[" + ",".join(repr(v) for v in values) + "]").encode()
    assert [v.hex() for v in parse_body(response(body))] == [v.hex() for v in values]


def singer_messages() -> list[Any]:
    extracted = datetime(2026, 3, 1, 14, 5, 9, 123456, tzinfo=timezone.utc)
    record = {
        "id": "CAL1",
        "customer_name": "Ana María Núñez — Café",
        "duration": 37,
        "value": Decimal("12.50"),
        "ratio": 0.1,
        "big": 123456789012345678901234567890,
        "tags": ["Booked", "Ünïcode"],
        "milestones": {"first_touch": {"event_date": None, "url_utm_params": {}}},
        "answered": False,
    }
    return [
        SchemaMessage("calls", {"type": "object", "properties": {"id": {"type": "string"}}}, ["id"], ["start_time"]),
        RecordMessage(stream="calls", record=record, time_extracted=extracted),
        RecordMessage(stream="calls", record={"id": "CAL2"}, version=1700000000000, time_extracted=extracted),
        StateMessage({"bookmarks": {"calls": {"replication_key_value": "2026-03-01T14:05:09.000000Z"}}}),
        ActivateVersionMessage("accounts", 1700000000000),
    ]


def test_message_writer_lines_decode_to_what_the_sdk_writer_wrote() -> None:
    fast, slow = MessageWriter(), SimpleSingerWriter()
    for message in singer_messages():
        fast_line, slow_line = fast.format_message(message), slow.format_message(message) + "\n"
        assert fast_line.endswith(b"\n") and fast_line.count(b"\n") == 1
        assert json.loads(fast_line, parse_float=Decimal) == json.loads(slow_line, parse_float=Decimal)
        if not isinstance(message, RecordMessage):
            assert fast_line == slow_line.encode()  # SCHEMA, STATE, ACTIVATE_VERSION: byte for byte


def test_message_writer_keeps_the_sdk_form_of_time_extracted() -> None:
    line = MessageWriter().format_message(singer_messages()[1])
    assert json.loads(line)["time_extracted"] == "2026-03-01T14:05:09.123456+00:00"


def test_message_writer_writes_one_flushed_line_per_message(capfdbinary: pytest.CaptureFixture[bytes]) -> None:
    writer = MessageWriter()
    for message in singer_messages():
        writer.write_message(message)
    lines = capfdbinary.readouterr().out.splitlines()
    assert [json.loads(line)["type"] for line in lines] == ["SCHEMA", "RECORD", "RECORD", "STATE", "ACTIVATE_VERSION"]


def test_message_writer_also_writes_to_a_text_only_stdout(monkeypatch: pytest.MonkeyPatch) -> None:
    captured = io.StringIO()
    monkeypatch.setattr(sys, "stdout", captured)
    writer = MessageWriter()
    writer.write_message(singer_messages()[1])
    writer.flush_records()
    assert json.loads(captured.getvalue())["record"]["customer_name"] == "Ana María Núñez — Café"


@pytest.mark.parametrize("version", [None, 1700000000000])
def test_write_records_writes_the_line_of_the_record_message_it_replaces(
    version: int | None, capfdbinary: pytest.CaptureFixture[bytes]
) -> None:
    message = singer_messages()[1]
    assert isinstance(message, RecordMessage) and message.time_extracted is not None
    expected = MessageWriter().format_message(
        RecordMessage(stream="calls", record=message.record, version=version, time_extracted=message.time_extracted)
    )
    writer = MessageWriter()
    writer.write_records(("calls",), (message.record,), version, message.time_extracted)
    writer.write_records(("calls",), (message.record,), version, message.time_extracted)
    writer.flush_records()
    assert capfdbinary.readouterr().out == expected * 2


def test_record_lines_wait_for_the_page_end_and_never_follow_the_state_after_them(
    capfdbinary: pytest.CaptureFixture[bytes],
) -> None:
    writer = MessageWriter()
    extracted = datetime(2026, 3, 1, tzinfo=timezone.utc)
    writer.write_records(("calls",), ({"id": "CAL1"},), None, extracted)
    writer.write_message(RecordMessage(stream="calls", record={"id": "CAL2"}, time_extracted=extracted))
    assert capfdbinary.readouterr().out == b""  # held back: one write per page, not per record
    writer.write_message(StateMessage({"bookmarks": {}}))
    lines = [json.loads(line) for line in capfdbinary.readouterr().out.splitlines()]
    assert [(m["type"], m.get("record")) for m in lines] == [
        ("RECORD", {"id": "CAL1"}),
        ("RECORD", {"id": "CAL2"}),
        ("STATE", None),
    ]
    writer.write_records(("calls",), ({"id": "CAL3"},), None, extracted)
    writer.flush_records()
    assert json.loads(capfdbinary.readouterr().out)["record"] == {"id": "CAL3"}


# --------------------------------------------------------------------------- record shaping


def sdk_shaped(record: dict, schema: dict, mask: Any) -> dict:
    """What the SDK's own _generate_record_messages does to a record before writing it."""
    record = copy.deepcopy(record)
    pop_deselected_record_properties(record, schema, mask)
    return conform_record_data_types("s", record, schema, TypeConformanceLevel.RECURSIVE, logging.getLogger("t"))


def tap_masks() -> dict[str, tuple[dict, Any]]:
    tap = TapCallRail(config={"api_key": "k"}, parse_env_config=False)
    return {name: (stream.schema, stream.mask) for name, stream in tap.streams.items()}


def test_every_stream_gets_a_compiled_shaper() -> None:
    for name, (schema, mask) in tap_masks().items():
        assert RecordShaper.compile(schema, mask) is not None, name


ODD_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": ["string"]},
        "value": {"type": ["number", "null"]},
        "flag": {"type": ["boolean", "null"]},
        "points": {"type": ["array", "null"], "items": {"type": ["number"]}},
        "strict": {"type": ["object", "null"], "properties": {"a": {"type": ["number", "null"]}}},
        "loose": {
            "type": ["object", "null"],
            "properties": {"a": {"type": ["number", "null"]}},
            "additionalProperties": True,
        },
        "rows": {
            "type": ["array", "null"],
            "items": {
                "type": "object",
                "properties": {"x": {"type": ["number", "null"]}},
                "additionalProperties": True,
            },
        },
        "free": {"type": ["object", "null"]},
        "gone": {"type": ["string", "null"]},
    },
}


@pytest.mark.parametrize(
    "record",
    [
        {"id": "1", "value": 1.5, "flag": True, "points": [1.0, 2], "free": {"n": float("nan")}},
        {"id": "2", "value": float("nan"), "points": [float("inf"), 3.5], "loose": {"a": float("-inf"), "extra": 1}},
        {"id": "3", "value": Decimal("NaN"), "flag": 1.0, "strict": {"a": 2.5}, "rows": [{"x": float("nan"), "y": 1}]},
        {"id": "4", "flag": 0, "rows": [{"x": 1}, "not a dict"], "gone": "dropped: deselected"},
        {"id": "5", "value": None, "flag": None, "strict": None, "rows": None, "gone": None},
    ],
)
def test_shaper_does_what_the_sdk_does(record: dict) -> None:
    mask = SelectionMask({(): True, ("properties", "gone"): False})
    shaper = RecordShaper.compile(ODD_SCHEMA, mask)
    assert shaper is not None
    expected = sdk_shaped(record, ODD_SCHEMA, mask)
    assert repr(shaper(copy.deepcopy(record))) == repr(expected)  # repr: nan != nan


@pytest.mark.parametrize(
    "record",
    [
        {"id": "1", "unknown": 1},  # a property the schema lacks: the SDK drops it and warns
        {"id": "2", "strict": {"a": 1, "unknown": 2}},  # the same, inside an object without additionalProperties
    ],
)
def test_shaper_hands_records_it_does_not_model_to_the_sdk(record: dict) -> None:
    shaper = RecordShaper.compile(ODD_SCHEMA, SelectionMask({(): True}))
    assert shaper is not None
    assert shaper(copy.deepcopy(record)) is None


@pytest.mark.parametrize(
    ("schema", "mask"),
    [
        (ODD_SCHEMA, SelectionMask({(): True, ("properties", "strict", "properties", "a"): False})),
        ({"type": "object", "properties": {"x": {"anyOf": [{"type": "string"}, {"type": "null"}]}}}, SelectionMask()),
        ({"type": "object", "properties": {"x": {"description": "no type"}}}, SelectionMask()),
        ({"type": "object", "properties": {"x": {"type": "array", "items": {"type": "object"}}}}, SelectionMask()),
    ],
)
def test_shaper_leaves_schemas_and_selections_it_does_not_model_to_the_sdk(schema: dict, mask: Any) -> None:
    assert RecordShaper.compile(schema, mask) is None


@pytest.fixture(scope="module")
def emulator_url() -> Iterator[str]:
    emu = Emulator(seed=7, api_key="k", calls_per_account=600, now=datetime.now(timezone.utc) - timedelta(hours=1))
    account = emu.account_ids[0]
    emu.add_bad_record("calls", account, value="$1,234.50", duration="12", tags=[{"id": 1, "name": "X"}])
    emu.add_bad_record("calls", account, speaker_percent=[{"agent": 0.25}, {"customer": 0.75}], answered="true")
    emu.add_bad_record("form_submissions", account, value="12", customer_email="not an email")
    yield emu.start()
    emu.stop()


def comparable(messages: list[dict]) -> list[dict]:
    for message in messages:
        message.pop("time_extracted", None)
        if "version" in message:
            message["version"] = "version"
    return messages


@pytest.mark.parametrize("deselect", [(), ("customer_name", "note", "milestones", "value")])
def test_a_whole_sync_writes_the_same_messages_as_the_sdks_own_shaping(
    emulator_url: str, deselect: tuple[str, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = {
        "api_key": "k",
        "api_url": emulator_url,
        "requests_per_hour": 0,
        "requests_per_day": 0,
        "emit_activate_version_messages": True,
    }
    catalog = discovered_catalog(config)
    for entry in catalog["streams"]:
        for item in entry["metadata"]:
            if item["breadcrumb"][-1:] and item["breadcrumb"][-1] in deselect:
                item["metadata"]["selected"] = False
    fast = comparable(run_sync(config, catalog=catalog).messages)
    monkeypatch.setattr(RecordShaper, "compile", classmethod(lambda cls, schema, mask: None))
    sdk = comparable(run_sync(config, catalog=catalog).messages)
    assert len(fast) > 1300
    assert fast == sdk


@pytest.mark.parametrize("reference", ["the SDK's record loop", "the SDK's record loop and shaping"])
def test_syncing_a_page_at_a_time_writes_the_messages_the_sdks_record_loop_writes(
    emulator_url: str, reference: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A STATE every 250 records: on page ends in the first account (250 calls a page), within the
    # second account's pages (its count starts after the first's 602 calls).
    monkeypatch.setattr(CallRailStream, "STATE_MSG_FREQUENCY", 250)
    config = {"api_key": "k", "api_url": emulator_url, "requests_per_hour": 0, "requests_per_day": 0}
    by_page = comparable(run_sync(config).messages)
    monkeypatch.setattr(CallRailStream, "_sync_records", RESTStream._sync_records)
    if "shaping" in reference:
        monkeypatch.setattr(RecordShaper, "compile", classmethod(lambda cls, schema, mask: None))
    by_record = comparable(run_sync(config).messages)
    for message in by_page + by_record:
        if message["type"] == "STATE":  # the run's start time, not a bookmark
            for bookmark in message["value"]["bookmarks"].values():
                bookmark.pop("replication_key_signpost", None)

    def without_states(messages: list[dict]) -> list[dict]:
        return [message for message in messages if message["type"] != "STATE"]

    assert without_states(by_page) == without_states(by_record)
    assert by_page[-1] == by_record[-1]
    page_states = [index for index, message in enumerate(by_page) if message["type"] == "STATE"]
    assert len(page_states) == len([message for message in by_record if message["type"] == "STATE"])
    # A STATE that falls due within a page follows the page, with the bookmark of its last call.
    after_calls = [index for index in page_states[:-1] if by_page[index - 1].get("stream") == "calls"]
    assert len(after_calls) == 5  # 1,202 calls in two accounts: after 250, 500, 750, 1,000 and all of them
    for index in after_calls:
        last = by_page[index - 1]["record"]
        partitions = by_page[index]["value"]["bookmarks"]["calls"]["partitions"]
        (own,) = [p for p in partitions if p["context"]["account_id"] == last["account_id"]]
        assert own["replication_key_value"] == last["start_time"]


def test_a_property_the_schema_lacks_is_dropped_with_one_warning(
    fake: FakeCallRail, caplog: pytest.LogCaptureFixture
) -> None:
    populate(fake, accounts=1)
    for record in fake.records("calls", "ACC01"):
        record["brand_new_field"] = "CallRail added it"  # as a new CallRail field: on every record
    with caplog.at_level(logging.WARNING):
        result = run_sync(base_config(), streams={"calls"})
    assert result.records("calls")
    assert all("brand_new_field" not in record for record in result.records("calls"))
    warned = [r.getMessage() for r in caplog.records if "brand_new_field" in r.getMessage()]
    assert warned == [
        "Properties ('brand_new_field',) were present in the 'calls' stream but not found in catalog schema. Ignoring."
    ]


FIRST_TOUCH_SOURCE = "milestones['first_touch']['source'] if milestones and milestones.get('first_touch') else None"


@pytest.mark.parametrize(
    "extra",
    [
        {
            "stream_maps": {
                "calls": {"customer_name": "__NULL__", "milestone_source": FIRST_TOUCH_SOURCE},
                "calls_copy": {"__source__": "calls"},
            }
        },
        {"flattening_enabled": True, "flattening_max_depth": 1},
    ],
    ids=["stream_maps", "flattening"],
)
def test_stream_maps_and_flattening_see_the_records_the_sdks_own_shaping_gives(
    emulator_url: str, extra: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = {"api_key": "k", "api_url": emulator_url, "requests_per_hour": 0, "requests_per_day": 0, **extra}
    catalog = discovered_catalog(config)
    fast = flattened_as_data(comparable(run_sync(config, catalog=catalog).messages))
    monkeypatch.setattr(RecordShaper, "compile", classmethod(lambda cls, schema, mask: None))
    sdk = flattened_as_data(comparable(run_sync(config, catalog=catalog).messages))
    assert len(fast) > 1300
    assert fast == sdk


def flattened_as_data(messages: list[dict]) -> list[dict]:
    """Flattening writes nested objects as JSON text; the fast path lists their keys in schema order."""
    for message in messages:
        record = message.get("record") or {}
        for name, value in record.items():
            if isinstance(value, str) and value[:1] in "{[" and value:
                record[name] = json.loads(value)
    return messages


# --------------------------------------------------------------------------- timestamps


def reference_canonical(value: str) -> str:
    """canonical_timestamp as it was written before its fast paths: always normalise, strftime."""
    text = value.strip()
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
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def timestamp_renderings() -> list[str]:
    fixed = [
        "2024-12-27T10:14:56.802+00:00",
        "2024-12-27T10:14:56-05:00",
        "2024-12-27 10:14:56 -0500",
        "2024-12-27T10:14:56.802Z",
        "2024-12-27T10:14:56",
        "2024-12-27T10:14",
        "2024-12-27",
        "2024-12-27T10:14:56.802+0530",
        "2024-12-27T10:14:56.802 +05:30",
        " 2024-12-27T10:14:56.802+00:00 ",
        "2024-12-27T10:14:56 UTC",
        "0999-01-01T00:00:00+00:00",
        "0001-01-01T00:30:00+01:00",
        "9999-12-31T23:59:59.999999-01:00",
        "2024-02-30T10:00:00+00:00",
        "garbage",
        "+00:00",
        "2024-12-27T10:14:56Z",
        "2024-12-27T10:14:56.8+00:00",
        "2024-12-27T10:14:56.1234567+00:00",
        "2024-12-27T10:14:56.+00:00",
        "2024-12-27T10:14:56.80a+00:00",
        "2024-13-27T10:14:56.802+00:00",
        "2024-12-27T24:00:00+00:00",
        "2024-12-27t10:14:56.802z",
        "0999-12-27T10:14:56.802Z",
        "2024-12-27T10:14Z",
        "2024-12-27T10:14:56.802-00:00",
        "\t2024-12-27T10:14:56.802Z\n",
    ]
    rng = random.Random(6)
    start = datetime(2000, 1, 1, tzinfo=timezone.utc)
    for _ in range(2000):
        moment = start + timedelta(microseconds=rng.randrange(10**16))
        zone = timezone(timedelta(minutes=rng.randrange(-900, 900)))
        timespec = rng.choice(["seconds", "milliseconds", "microseconds"])
        fixed.append(moment.astimezone(zone).isoformat(timespec=timespec))
        fixed.append(moment.isoformat(timespec=timespec).replace("+00:00", rng.choice(["+00:00", "Z"])))
    return fixed


def test_canonical_timestamp_fast_paths_render_what_the_general_path_renders() -> None:
    for value in timestamp_renderings():
        try:
            expected = reference_canonical(value)
        except (ValueError, OverflowError) as exc:
            with pytest.raises(type(exc)):
                canonical_timestamp(value)
            continue
        assert canonical_timestamp(value) == expected, value


# --------------------------------------------------------------------------- normaliser


@pytest.mark.parametrize(
    "value", ["", "x", "Café", "$1.00", 0, 1, -7, 10**30, True, False, {}, {"a": [1]}, {"name": "n", "value": 1}]
)
def test_normaliser_skips_only_values_its_converter_returns_unchanged(value: Any) -> None:
    for converter, unchanged in UNCHANGED.items():
        if type(value) is unchanged:
            assert converter(value) is value


# --------------------------------------------------------------------------- garbage collection


def test_garbage_collection_is_rarer_during_a_sync_and_restored_after() -> None:
    before = gc.get_threshold()
    with fewer_garbage_collections():
        assert gc.get_threshold()[0] >= GC_YOUNG_THRESHOLD
        assert gc.get_threshold()[1:] == before[1:]
    assert gc.get_threshold() == before
    with pytest.raises(RuntimeError), fewer_garbage_collections():
        raise RuntimeError("a failing sync")
    assert gc.get_threshold() == before
