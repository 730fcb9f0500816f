"""Records on their way through the tap: bodies parsed, timestamps made canonical, new CallRail fields."""

from __future__ import annotations

import json
import logging
import math
import random
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from callrail_emulator import Emulator
from tap_callrail.api import parse_json
from tap_callrail.normalize import UNCHANGED
from tap_callrail.timeutil import _SPACE_OFFSET, canonical_timestamp
from tests.callrail import base_config, discovered_catalog, populate, run_sync


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
def test_bodies_are_read_as_the_standard_library_reads_them(body: bytes) -> None:
    try:
        slow = json.loads(body)
    except ValueError:
        with pytest.raises(ValueError):
            parse_json(body)
        return
    assert repr(parse_json(body)) == repr(slow)  # repr: 1 == 1.0 == True would hide type changes


def test_a_cut_body_is_not_json() -> None:
    with pytest.raises(ValueError):
        parse_json(b'{"calls": [{"id": "CAL1"')


def test_floats_are_kept_bit_for_bit() -> None:
    values = [0.1, 1 / 3, 2.5e-308, 1.7976931348623157e308, 123456.789, -0.0, math.pi]
    body = ("[" + ",".join(repr(v) for v in values) + "]").encode()
    assert [v.hex() for v in parse_json(body)] == [v.hex() for v in values]


def test_a_property_the_schema_lacks_is_dropped_with_one_warning(
    fake: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    populate(fake, accounts=1)
    added = [{"id": c["id"], "brand_new_field": "CallRail added it"} for c in fake.records("calls", "ACC01")]
    fake.put("calls", "ACC01", added)  # as a new CallRail field: on every record
    with caplog.at_level(logging.WARNING):
        result = run_sync(base_config(), streams={"calls"})
    assert result.records("calls")
    assert all("brand_new_field" not in record for record in result.records("calls"))
    warned = [r.getMessage() for r in caplog.records if "brand_new_field" in r.getMessage()]
    assert warned == [
        "Properties ('brand_new_field',) were present in the 'calls' stream but not found in catalog schema. Ignoring."
    ]



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




# --------------------------------------------------------------------------- records without their key


def test_webhook_shaped_records_without_an_id_are_skipped_warned_and_counted(
    fake: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    populate(fake, accounts=1)
    keyed = {str(c["id"]) for c in fake.records("calls", "ACC01")}
    for n in (1, 2):  # as in a post-call webhook body: the masked id under resource_id, no id
        fake.add_bad_record("calls", "ACC01", id=None, resource_id=f"CALWEBHOOK{n}", keypad_entries="", waveforms="")

    with caplog.at_level(logging.INFO):
        result = run_sync(base_config(data_quality="warn"), streams={"calls"})

    messages = [r.getMessage() for r in caplog.records]
    assert {r["id"] for r in result.records("calls")} == keyed
    assert [m for m in messages if "without id" in m] == [
        "calls for account ACC01: 2 record(s) without id skipped; CallRail sent them without their key."
    ]
    metrics = [json.loads(m.removeprefix("METRIC: ")) for m in messages if m.startswith("METRIC: ")]
    [report_row] = [m for m in metrics if m["metric"] == "sync_report" and m["tags"]["stream"] == "calls"]
    [finding] = [m for m in metrics if m["metric"] == "data_quality_finding"]
    assert report_row["value"] == len(keyed) and report_row["tags"]["dq_findings"] == 2
    assert finding["value"] == 2
    assert (finding["tags"]["check"], finding["tags"]["account_id"]) == ("missing_primary_key", "ACC01")
    assert "  calls missing_primary_key[id] account=ACC01: 2" in messages


# --------------------------------------------------------------------------- fields added to the schemas


def test_the_documented_notification_fields_are_in_the_catalog_and_reach_the_records(fake: Emulator) -> None:
    populate(fake, accounts=1)
    watched = {
        "company_name": "Company COM01A",
        "tracker_name": "Tracker 01A",
        "agent_id": "USR01B",
        "agent_name": "Ann Agent",
    }
    fake.put("notifications", "ACC01", [{"id": 902, **watched}])

    catalog = discovered_catalog(base_config())
    result = run_sync(base_config(), streams={"notifications"})

    [entry] = [s for s in catalog["streams"] if s["tap_stream_id"] == "notifications"]
    assert set(watched) <= set(entry["schema"]["properties"])
    record = next(r for r in result.records("notifications") if r["id"] == 902)
    assert {name: record[name] for name in watched} == watched
