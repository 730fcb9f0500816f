"""Every timestamp leaves in one UTC form; drifting CallRail types leave as their schema's type."""

from __future__ import annotations

import re
from decimal import Decimal

import jsonschema
import pytest

from callrail_emulator import Emulator
from tap_callrail.normalize import RecordNormalizer
from tap_callrail.schemas import SCHEMAS
from tap_callrail.timeutil import canonical_timestamp
from tests.callrail import base_config, make_call, populate, run_sync

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
    assert len(schemas) == 14
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
