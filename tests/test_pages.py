"""Pages parsed by a stream's plan give exactly the records the untyped path gives (issue 6)."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import msgspec
import pytest

from callrail_emulator import Emulator
from callrail_emulator.wire import Request
from tap_callrail.normalize import RecordNormalizer
from tap_callrail.output import RecordShaper
from tap_callrail.pages import MAX_LOOSE, PagePlan
from tap_callrail.schemas import SCHEMAS
from tap_callrail.tap import TapCallRail
from tests.fake_callrail import run_sync

ITEM_KEYS = {stream.name: stream.item_key for stream in TapCallRail(config={"api_key": "k"}).streams.values()}


def untyped_records(body: bytes, item_key: str, schema: dict, selected: frozenset[str]) -> list[dict | None]:
    """What the tap makes of a page without a plan: parse, normalize.py, then the shaper."""
    normalize, shaper = RecordNormalizer(schema), RecordShaper(schema, selected)
    return [shaper(normalize(item)) for item in msgspec.json.decode(body)[item_key]]


def planned_records(plan: PagePlan, body: bytes, shaper: RecordShaper) -> list[dict | None] | None:
    """What the tap makes of a page its plan parses; None when the plan hands it back."""
    page = plan.decode(body)
    if page is None:
        return None
    fix_loose = shaper.fixer(plan.loose)
    return [fix_loose(plan.as_dicts(plan.prepare(item))) for item in page[plan.item_key]]


@pytest.fixture(scope="module")
def served_pages() -> Iterator[dict[str, list[bytes]]]:
    """Every page a whole sync was served, by stream, from an emulator that also serves drift."""
    emu = Emulator(seed=11, api_key="k", calls_per_account=700, now=datetime.now(timezone.utc) - timedelta(hours=1))
    account = emu.account_ids[0]
    emu.add_bad_record("calls", account, value="$1,234.50", duration="12", tags=[{"id": 1, "name": "X"}])
    emu.add_bad_record("calls", account, speaker_percent=[{"agent": 0.25}, {"customer": 0.75}], answered="true")
    emu.add_bad_record("calls", account, milestones={"first_touch": {"event_date": "2024-12-27 10:14:56 -0500"}})
    emu.add_bad_record("form_submissions", account, value="12", customer_email="not an email")
    url = emu.start()
    try:
        run_sync({"api_key": "k", "api_url": url, "requests_per_hour": 0, "requests_per_day": 0})
        pages: dict[str, list[bytes]] = {}
        auth = {"authorization": 'Token token="k"'}
        for entry in list(emu.requests):  # dispatch logs requests too
            served = emu.dispatch(Request("GET", entry["path"], entry["query"], auth))
            body = msgspec.json.decode(served.body)
            for stream, item_key in ITEM_KEYS.items():
                if isinstance(body, dict) and item_key in body and "total_records" in body:
                    pages.setdefault(stream, []).append(served.body)
        yield pages
    finally:
        emu.stop()


def test_every_stream_pages_are_parsed_by_its_plan_as_the_untyped_path_reads_them(
    served_pages: dict[str, list[bytes]],
) -> None:
    assert set(served_pages) >= set(ITEM_KEYS) - {"accounts"}
    for stream, bodies in served_pages.items():
        schema = SCHEMAS[stream]
        selected = frozenset(schema["properties"])
        plan, shaper = PagePlan(ITEM_KEYS[stream], schema, selected), RecordShaper(schema, selected)
        for body in bodies:
            planned = planned_records(plan, body, shaper)
            assert planned is not None, stream
            assert planned == untyped_records(body, ITEM_KEYS[stream], schema, selected), stream


def test_drifted_properties_are_loosened_and_every_other_property_stays_typed(
    served_pages: dict[str, list[bytes]],
) -> None:
    schema = SCHEMAS["calls"]
    plan = PagePlan("calls", schema, frozenset(schema["properties"]))
    for body in served_pages["calls"]:
        assert plan.decode(body) is not None
    # The bad records above, and the emulator's own drift (callrail-api.md §7.9).
    assert {"value", "duration", "tags", "speaker_percent", "answered"} <= plan.loose
    assert "start_time" not in plan.loose and "customer_name" not in plan.loose


CALLS = SCHEMAS["calls"]


def page(*records: dict[str, Any]) -> bytes:
    return msgspec.json.encode({"page": 1, "total_pages": 1, "total_records": len(records), "calls": list(records)})


def both_paths(body: bytes, selected: frozenset[str] | None = None) -> tuple[list, list, PagePlan]:
    selected = selected or frozenset(CALLS["properties"])
    plan = PagePlan("calls", CALLS, selected)
    planned = planned_records(plan, body, RecordShaper(CALLS, selected))
    return planned or [], untyped_records(body, "calls", CALLS, selected), plan


def test_timestamps_come_out_in_canonical_utc_inside_objects_too() -> None:
    body = page(
        {
            "id": "CAL1",
            "start_time": "2024-12-27T10:14:56.802-05:00",
            "milestones": {"first_touch": {"event_date": "2024-12-27T10:14:56Z"}},
        }
    )
    planned, untyped, plan = both_paths(body)
    assert planned == untyped
    assert planned[0]["start_time"] == "2024-12-27T15:14:56.802000Z"
    assert planned[0]["milestones"] == {"first_touch": {"event_date": "2024-12-27T10:14:56.000000Z"}}
    assert not plan.loose


def test_timestamps_at_any_depth_of_objects_and_in_arrays_of_objects_are_made_canonical() -> None:
    # The plan writes out one function per selection (pages._compile): each shape of schema it
    # handles must give what normalize.py gives, whether a node on the way is null or absent.
    stamp = {"type": ["string", "null"], "format": "date-time"}
    leaf = {"type": ["object", "null"], "properties": {"at": stamp, "note": {"type": ["string", "null"]}}}
    schema = {
        "properties": {
            "id": {"type": ["string"]},
            "at": stamp,
            "outer": {"type": ["object", "null"], "properties": {"inner": leaf, "at": stamp}},
            "history": {"type": ["array", "null"], "items": leaf},
        }
    }
    records = [
        {
            "id": "A",
            "at": "2024-12-27T10:14:56.802-05:00",
            "outer": {"at": "2024-12-27T15:14:56Z", "inner": {"at": "2024-12-27 10:14:56 -0500", "note": "x"}},
            "history": [{"at": "2024-12-27T10:14:56+01:00"}, {"note": "no time"}],
        },
        {"id": "B", "at": None, "outer": {"inner": None}, "history": []},
        {"id": "C", "outer": {"inner": {"note": "y"}, "at": None}},
        {"id": "D", "outer": None, "history": None},
    ]
    body = msgspec.json.encode({"page": 1, "total_pages": 1, "items": records})
    selected = frozenset(schema["properties"])
    plan, shaper = PagePlan("items", schema, selected), RecordShaper(schema, selected)
    planned = planned_records(plan, body, shaper)
    assert planned == untyped_records(body, "items", schema, selected)
    assert not plan.loose
    first = planned[0] if planned else {}
    assert first["at"] == "2024-12-27T15:14:56.802000Z"
    assert first["outer"] == {
        "at": "2024-12-27T15:14:56.000000Z",
        "inner": {"at": "2024-12-27T15:14:56.000000Z", "note": "x"},
    }
    assert first["history"] == [{"at": "2024-12-27T09:14:56.000000Z"}, {"note": "no time"}]


def test_keys_absent_from_an_object_stay_absent_not_null() -> None:
    planned, untyped, _plan = both_paths(page({"id": "CAL1", "milestones": {"last_touch": {"source": "Yelp"}}}))
    assert planned == untyped == [{"id": "CAL1", "milestones": {"last_touch": {"source": "Yelp"}}}]


def test_an_undeclared_key_in_an_open_object_is_kept_by_loosening_that_property() -> None:
    record = {"id": "CAL1", "speaker_percent": {"agent": 40, "customer": 60, "silence": 3}, "custom": {"x": [1]}}
    planned, untyped, plan = both_paths(page(record))
    assert planned == untyped
    assert planned[0]["speaker_percent"] == {"agent": 40, "customer": 60, "silence": 3}
    assert planned[0]["custom"] == {"x": [1]}
    assert plan.loose == {"speaker_percent"}


def test_values_of_another_type_are_converted_as_the_untyped_path_converts_them() -> None:
    record = {
        "id": 12345,
        "duration": "61",
        "recording_duration": 60.0,
        "answered": "TRUE",
        "value": "$1,234.50",
        "tags": [{"id": 1, "name": "VIP"}, "Existing"],
        "speaker_percent": [{"agent": 25}, {"customer": 75}],
    }
    planned, untyped, plan = both_paths(page(record))
    assert planned == untyped
    assert planned[0]["id"] == "12345" and planned[0]["duration"] == 61 and planned[0]["tags"] == ["VIP", "Existing"]
    assert plan.loose == {"id", "duration", "recording_duration", "answered", "value", "tags", "speaker_percent"}


def test_deselected_properties_are_left_out_as_the_shaper_leaves_them_out() -> None:
    selected = frozenset(CALLS["properties"]) - {"customer_name", "milestones"}
    record = {"id": "CAL1", "customer_name": "Ana", "milestones": {"first_touch": {}}, "note": "hi"}
    planned, untyped, _plan = both_paths(page(record), selected)
    assert planned == untyped == [{"id": "CAL1", "note": "hi"}]


def test_the_page_keys_the_paginator_reads_are_kept() -> None:
    parsed = PagePlan("calls", CALLS, frozenset(CALLS["properties"])).decode(page({"id": "CAL1"}))
    assert parsed == {"page": 1, "total_pages": 1, "total_records": 1, "calls": [{"id": "CAL1"}]}


@pytest.mark.parametrize(
    "body",
    [
        b'{"calls": ["not an object"]}',
        b'{"calls": {"id": "CAL1"}}',
        b'{"calls": [{"id": "CAL1"}], "total_records": 1',  # cut short
        b'{"calls": [{"id": "CAL1", "value": NaN}]}',  # not JSON: the untyped path decides
    ],
)
def test_pages_the_plan_cannot_describe_go_to_the_untyped_path(body: bytes) -> None:
    assert PagePlan("calls", CALLS, frozenset(CALLS["properties"])).decode(body) is None


def test_after_too_many_loose_properties_every_page_goes_to_the_untyped_path() -> None:
    strings = [name for name, prop in CALLS["properties"].items() if prop["type"] == ["string", "null"]]
    plan = PagePlan("calls", CALLS, frozenset(CALLS["properties"]))
    drifted = dict.fromkeys(strings[: MAX_LOOSE + 1], 7)
    assert plan.decode(page({"id": "CAL1", **drifted})) is None
    assert plan.decode(page({"id": "CAL2"})) is None


def test_a_record_keeps_its_own_values_when_the_page_is_parsed_again() -> None:
    first = {"id": "CAL1", "duration": 10, "note": "a"}
    second = {"id": "CAL2", "duration": "20", "note": "b"}
    planned, untyped, _plan = both_paths(page(copy.deepcopy(first), copy.deepcopy(second)))
    assert planned == untyped == [first, {**second, "duration": 20}]


def test_objects_stay_structs_that_encode_as_their_dicts_unless_something_reads_them() -> None:
    selected = frozenset(CALLS["properties"])
    record = {
        "id": "CAL1",
        "milestones": {"first_touch": {"event_date": "2024-12-27T10:14:56.802Z", "source": "Yelp"}},
        "voice_assist_message": {"urgency": "high"},
    }
    plan = PagePlan("calls", CALLS, selected, dict_properties={"voice_assist_message"})
    page_ = plan.decode(page(record))
    assert page_ is not None
    prepared = plan.prepare(page_["calls"][0])
    assert isinstance(prepared["milestones"], msgspec.Struct)
    assert prepared["voice_assist_message"] == {"urgency": "high"}  # read by masking or checks: a dict
    encoded = msgspec.json.decode(msgspec.json.encode(prepared))
    assert encoded == plan.as_dicts(prepared) == untyped_records(page(record), "calls", CALLS, selected)[0]
    assert isinstance(prepared["milestones"], dict)
