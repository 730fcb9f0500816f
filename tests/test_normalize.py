"""Every timestamp leaves in one UTC form; drifting CallRail types leave as their schema's type."""

from __future__ import annotations

import logging
import re
from decimal import Decimal
from typing import Any

import jsonschema
import pytest
import requests_mock as rm

from callrail_emulator import Emulator
from callrail_emulator.calls import BLANKED_FIELDS
from tap_callrail.client import CallRailStream
from tap_callrail.normalize import RecordNormalizer
from tap_callrail.schemas import SCHEMAS
from tap_callrail.timeutil import canonical_timestamp
from tests.callrail import API_KEY, base_config, make_call, populate, run_sync, serve
from tests.conftest import NOW

CANONICAL = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")


def _canonical_checker() -> jsonschema.FormatChecker:
    checker = jsonschema.FormatChecker()

    @checker.checks("date-time")
    def is_canonical_utc(value: object) -> bool:
        return not isinstance(value, str) or bool(CANONICAL.match(value))

    return checker


@pytest.mark.parametrize(
    ("callrail", "emitted"),
    [
        ("2026-02-10T03:43:50-05:00", "2026-02-10T08:43:50.000000Z"),
        ("2026-02-10T08:43:50Z", "2026-02-10T08:43:50.000000Z"),
        ("2026-02-10 03:43:50 -0500", "2026-02-10T08:43:50.000000Z"),
        ("2026-02-10T03:43:50.123-05:00", "2026-02-10T08:43:50.123000Z"),
        ("2026-02-10T08:43:50.123Z", "2026-02-10T08:43:50.123000Z"),
        ("2026-02-10T08:43:50-0000", "2026-02-10T08:43:50.000000Z"),
        ("2026-02-10T23:30:00.000-05:00", "2026-02-11T04:30:00.000000Z"),
        ("2026-02-10T08:43:50+01:00", "2026-02-10T07:43:50.000000Z"),
    ],
)
def test_callrail_timestamps_become_canonical_utc(callrail: str, emitted: str) -> None:
    assert canonical_timestamp(callrail) == emitted


def test_call_timestamps_are_emitted_in_utc_including_nested_ones(fake: Emulator) -> None:
    fake.add_account("ACC01")
    fake.put(
        "calls",
        "ACC01",
        [
            make_call(1, "COM01A", "2026-11-10T09:15:30.250-05:00"),
            make_call(2, "COM01A", "2026-11-11 03:43:50 -0500", created_at="2026-11-11T08:43:51Z"),
        ],
    )

    result = run_sync(base_config(), streams={"calls"})

    first, second = sorted(result.records("calls"), key=lambda r: r["start_time"])
    assert first["start_time"] == "2026-11-10T14:15:30.250000Z"
    assert first["milestones"]["first_touch"]["event_date"] == "2026-11-02T15:00:00.000000Z"
    assert second["start_time"] == "2026-11-11T08:43:50.000000Z"
    assert second["created_at"] == "2026-11-11T08:43:51.000000Z"


def test_drifting_call_types_are_normalised_to_the_schema() -> None:
    normalize = RecordNormalizer(SCHEMAS["calls"])

    call = normalize(
        {
            "id": 123456789,
            "start_time": "2026-02-10T03:43:50-05:00",
            "recording_duration": "27",
            "duration": 42.0,
            "tags": [{"id": 7, "name": "Sales"}, "Follow up"],
            "value": "$1.00",
            "speaker_percent": [{"agent": 40}, {"customer": "60"}],
            "keypad_entries": [{"name": "menu", "value": "2"}, {"name": "zip", "value": "10001"}],
            "company_id": 98765,
            "good_lead_call_id": "123",
            "call_summary": ["Caller asked for a quote.", "Agent booked a visit."],
            "first_call": "true",
        }
    )

    assert call["id"] == "123456789"
    assert call["recording_duration"] == 27
    assert call["duration"] == 42
    assert call["tags"] == ["Sales", "Follow up"]
    assert call["value"] == Decimal("1.00")
    assert call["speaker_percent"] == {"agent": 40, "customer": Decimal("60")}
    assert call["keypad_entries"] == {"menu": "2", "zip": "10001"}
    assert call["company_id"] == "98765"
    assert call["good_lead_call_id"] == 123
    assert call["call_summary"] == "Caller asked for a quote.\nAgent booked a visit."
    assert call["first_call"] is True


def test_integer_recording_duration_and_object_speaker_percent_are_kept() -> None:
    normalize = RecordNormalizer(SCHEMAS["calls"])

    call = normalize({"id": "CAL1", "recording_duration": 31, "speaker_percent": {"agent": 55, "customer": 45}})

    assert call["recording_duration"] == 31
    assert call["speaker_percent"] == {"agent": 55, "customer": 45}


def test_tag_id_sent_as_a_string_becomes_an_integer() -> None:
    assert RecordNormalizer(SCHEMAS["tags"])({"id": "42", "name": "VIP"})["id"] == 42


def test_every_emitted_record_validates_against_its_stream_schema(fake: Emulator) -> None:
    fake.set_paging(page_size=2)
    populate(fake)
    fake.put(
        "calls",
        "ACC01",
        [make_call(9, "COM01A", "2026-11-12T10:00:00-05:00", id=555001, recording_duration=12, value="$12.50")],
    )
    fake.put(
        "tags",
        "ACC01",
        [{"id": "4242", "name": "String id", "tag_level": "account", "created_at": "2025-04-01 08:00:00 -0400"}],
    )

    result = run_sync(base_config())

    schemas = {m["stream"]: m["schema"] for m in result.of_type("SCHEMA")}
    assert len(schemas) == 15
    checked = 0
    for stream, schema in schemas.items():
        validator = jsonschema.Draft7Validator(schema, format_checker=_canonical_checker())
        records = result.records(stream)
        assert records, stream
        for record in records:
            errors = [f"{'.'.join(map(str, e.path))}: {e.message}" for e in validator.iter_errors(record)]
            assert not errors, (stream, record.get("id"), errors)
            checked += 1
    assert checked > 50


def test_the_date_time_check_rejects_non_canonical_timestamps() -> None:
    # The schema test above is only as strict as this check.
    validator = jsonschema.Draft7Validator(
        {"properties": {"t": {"type": "string", "format": "date-time"}}}, format_checker=_canonical_checker()
    )
    assert not validator.is_valid({"t": "2026-02-10T08:43:50+00:00"})
    assert not validator.is_valid({"t": "2026-02-10T08:43:50Z"})
    assert validator.is_valid({"t": "2026-02-10T08:43:50.000000Z"})


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1456", 1456),
        (" 42 ", 42),
        ("12.0", 12),
        ("12.5", None),
        ("Infinity", None),
        ("NaN", None),
        ("x", None),
        (float("inf"), None),
        (float("nan"), None),
        (7.0, 7),
    ],
)
def test_integer_properties_take_what_is_an_integer_and_null_the_rest(value: object, expected: int | None) -> None:
    assert RecordNormalizer(SCHEMAS["calls"])({"id": "CAL1", "duration": value})["duration"] == expected


@pytest.mark.parametrize("value", ["1e999999", "1e300000000", "-9e99", "99999999999999999999", Decimal("1e999999")])
def test_integers_beyond_a_bigint_become_null_without_converting_them(value: object) -> None:
    normalize = RecordNormalizer(SCHEMAS["calls"])

    record = normalize({"id": "CAL1", "duration": value})

    assert record["duration"] is None
    assert normalize.nulled == ["duration"]  # reported, never a silent null


@pytest.mark.parametrize("value", ["1e999999", "-1e400", Decimal("Infinity"), Decimal("NaN")])
def test_numbers_beyond_a_double_become_null(value: object) -> None:
    assert RecordNormalizer(SCHEMAS["calls"])({"id": "CAL1", "value": value})["value"] is None


def test_an_empty_string_becomes_null_without_a_finding() -> None:
    normalize = RecordNormalizer(SCHEMAS["calls"])

    assert normalize({"id": "CAL1", "duration": ""})["duration"] is None
    assert normalize.nulled == []


# --------------------------------------------------------------------------- "" for objects and lists

BLANKS = ["", "   ", "\t\n"]
# The object and list fields seen as "" in CallRail's webhook-shaped call bodies.
SEEN_BLANK = ["keywords_spotted", "speaker_percent", "custom", "keypad_entries", "waveforms"]


def _validator(stream: str) -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(SCHEMAS[stream], format_checker=_canonical_checker())


def _errors(stream: str, record: dict) -> list[str]:
    return [f"{'.'.join(map(str, e.path))}: {e.message}" for e in _validator(stream).iter_errors(record)]


@pytest.mark.parametrize("blank", BLANKS)
@pytest.mark.parametrize("field", SEEN_BLANK)
def test_an_empty_string_for_an_object_or_list_field_becomes_null_without_a_finding(field: str, blank: str) -> None:
    normalize = RecordNormalizer(SCHEMAS["calls"])

    record = normalize({"id": "CAL1", "account_id": "ACC1", field: blank})

    assert record[field] is None
    assert normalize.nulled == []
    assert _errors("calls", record) == []


def _container_paths(schema: dict, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every object or list property, nested ones and those of list items (`[]`) included."""
    paths = []
    for name, prop in schema.get("properties", {}).items():
        here = (*path, name)
        kinds = set(prop["type"]) if isinstance(prop["type"], list) else {prop["type"]}
        if kinds & {"object", "array"}:
            paths.append(here)
        paths += _container_paths(prop, here)
        if "items" in prop:
            paths += _container_paths(prop["items"], (*here, "[]"))
    return paths


def _holding(path: tuple[str, ...], value: Any) -> Any:
    """A value that holds `value` at `path` (`[]`: a list of one element)."""
    if not path:
        return value
    head, *rest = path
    inner = _holding(tuple(rest), value)
    return [inner] if head == "[]" else {head: inner}


def _at(value: Any, path: tuple[str, ...]) -> Any:
    for step in path:
        value = value[0] if step == "[]" else value[step]
    return value


def test_every_object_and_list_property_of_every_stream_takes_an_empty_string_as_null() -> None:
    checked = 0
    for stream, schema in SCHEMAS.items():
        for path in _container_paths(schema):
            normalize = RecordNormalizer(schema)
            record = normalize({"id": "1", **_holding(path, "")})

            assert _at(record, path) is None, (stream, path)
            assert normalize.nulled == [], (stream, path)
            checked += 1
    assert checked > 40  # nested ones too: milestones' URL parameters, recent messages' media, …


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ({"name": "Press 1 for sales", "value": "1"}, {"Press 1 for sales": "1"}),  # as documented
        ([{"name": "Press 1 for sales", "value": "1"}], {"Press 1 for sales": "1"}),
        (
            [{"name": "Press 1 for sales", "value": "1"}, {"name": "Zip code", "value": "30301"}],
            {"Press 1 for sales": "1", "Zip code": "30301"},
        ),
        ('{"name": "Press 1 for sales", "value": "1"}', {"Press 1 for sales": "1"}),
        ({"Press 1 for sales": "1"}, {"Press 1 for sales": "1"}),  # already the map
        ([], None),
        ("", None),
        (" ", None),
    ],
)
def test_keypad_entries_land_as_one_step_to_keys_map_whatever_shape_callrail_sends(sent: Any, stored: Any) -> None:
    normalize = RecordNormalizer(SCHEMAS["calls"])

    record = normalize({"id": "CAL1", "account_id": "ACC1", "keypad_entries": sent})

    assert record["keypad_entries"] == stored
    assert normalize.nulled == []
    assert _errors("calls", record) == []


def test_only_keypad_entries_turn_a_name_value_pair_into_a_map() -> None:
    form = {"name": "Jane", "value": "Quote for a roof"}  # a form whose fields are called name and value

    record = RecordNormalizer(SCHEMAS["form_submissions"])({"id": "FOR1", "form_data": dict(form)})

    assert record["form_data"] == form


def test_a_call_summary_sent_as_a_list_is_stored_as_its_lines_joined() -> None:
    record = RecordNormalizer(SCHEMAS["calls"])({"id": "CAL1", "call_summary": ["Asked for a quote.", "Booked."]})

    assert record["call_summary"] == "Asked for a quote.\nBooked."
    assert "newlines" in SCHEMAS["calls"]["properties"]["call_summary"]["description"]


WEBHOOK_SHAPED = {
    "keywords_spotted": "",
    "speaker_percent": "",
    "custom": "",
    "keypad_entries": "",
    "waveforms": "",
    "value": "",
    "recording_duration": "",
    "good_lead_call_id": "",
}


def test_calls_with_empty_strings_sync_as_nulls_that_validate_and_are_no_findings(
    fake: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    fake.add_account("ACC01")
    fake.put(
        "calls",
        "ACC01",
        [
            make_call(1, "COM01A", "2026-11-10T09:00:00-05:00", **WEBHOOK_SHAPED),
            make_call(2, "COM01A", "2026-11-11T09:00:00-05:00", keypad_entries={"name": "Menu", "value": "2"}),
            make_call(3, "COM01A", "2026-11-12T09:00:00-05:00", keypad_entries=[{"name": "Menu", "value": "2"}]),
        ],
    )

    with caplog.at_level(logging.INFO):
        result = run_sync(base_config(data_quality="warn"), streams={"calls"})

    [schema] = [m["schema"] for m in result.of_type("SCHEMA", "calls")]
    validator = jsonschema.Draft7Validator(schema, format_checker=_canonical_checker())
    blank, single, listed = sorted(result.records("calls"), key=lambda r: r["start_time"])
    assert {name: blank[name] for name in WEBHOOK_SHAPED} == dict.fromkeys(WEBHOOK_SHAPED)
    assert single["keypad_entries"] == listed["keypad_entries"] == {"Menu": "2"}
    for record in (blank, single, listed):
        assert not list(validator.iter_errors(record)), record["id"]
    assert "unconvertible_value" not in caplog.text
    assert "Data quality: no findings" in caplog.text


def test_the_emulators_blank_fields_and_both_keypad_shapes_land_as_null_and_one_map(
    monkeypatch: pytest.MonkeyPatch, requests_mock: rm.Mocker
) -> None:
    monkeypatch.setattr(CallRailStream, "now", lambda self: NOW)
    emu = Emulator(seed=7, api_key=API_KEY, accounts=1, calls_per_account=600, now=NOW)
    serve(emu, requests_mock)
    sent = {c["id"]: c for c in emu.records("calls")}

    result = run_sync(base_config(start_date="2024-11-01"), streams={"calls"})

    records = {r["id"]: r for r in result.records("calls")}
    assert records.keys() == sent.keys()
    blank = [i for i, c in sent.items() if c["custom"] == ""]
    assert blank and all(records[i][name] is None for i in blank for name in BLANKED_FIELDS)
    shapes = {type(c["keypad_entries"]) for c in sent.values()}
    assert {dict, list} <= shapes
    for call_id, call in sent.items():
        entries = call["keypad_entries"]
        pairs = [entries] if isinstance(entries, dict) else entries if isinstance(entries, list) else []
        expected = {p["name"]: p["value"] for p in pairs} or None
        assert records[call_id]["keypad_entries"] == expected, call_id
    [schema] = [m["schema"] for m in result.of_type("SCHEMA", "calls")]
    validator = jsonschema.Draft7Validator(schema)
    assert not [r["id"] for r in records.values() if not validator.is_valid(r)]


def test_a_talk_share_sent_as_speaker_percent_pairs_keeps_every_speaker() -> None:
    normalize = RecordNormalizer(SCHEMAS["calls"])

    call = normalize(
        {
            "id": "CAL1",
            "speaker_percent": [{"speaker": "agent", "percent": 62}, {"speaker": "customer", "percent": 38}],
        }
    )

    assert call["speaker_percent"] == {"agent": 62, "customer": 38}  # the shape the list endpoint prints


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ({"id": "MFL1", "name": "Auto-reply"}, {"id": "MFL1", "name": "Auto-reply"}),
        ("MFL1", {"value": "MFL1"}),
        ("", None),
        (None, None),
    ],
)
def test_tracker_message_flow_lands_as_one_object_whatever_shape_callrail_sends(sent: Any, stored: Any) -> None:
    record = {"id": "TRK1", "account_id": "ACC01", "message_flow": sent}

    RecordNormalizer(SCHEMAS["trackers"])(record)

    assert record["message_flow"] == stored
    jsonschema.validate(record, SCHEMAS["trackers"])
