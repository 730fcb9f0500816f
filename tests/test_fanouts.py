"""The opt-in fan-outs: page views of new session-tracker calls, timelines of the leads a run names."""

from __future__ import annotations

import logging
from datetime import datetime, timezone

import pytest
import requests_mock as rm

from callrail_emulator import Emulator
from tap_callrail.streams import NamesLeads
from tap_callrail.tap import TapCallRail
from tests.callrail import base_config, discovered_catalog, make_call, populate, run_sync, sent

PAGE_VIEWS = {"calls", "call_page_views"}
TIMELINES = {"calls", "form_submissions", "lead_timelines"}


def _session_calls(fake: Emulator, account: str = "ACC01") -> set[str]:
    return {c["id"] for c in fake.records("calls", account) if c.get("session_uuid")}


def _page_view_calls(fake: Emulator) -> list[str]:
    return [r.path.split("/")[-2] for r in sent(fake, "call_page_views")]


# -- call_page_views -------------------------------------------------------------------------------


def test_a_first_read_asks_page_views_of_every_session_tracker_call_once(fake: Emulator) -> None:
    populate(fake, accounts=1)

    result = run_sync(base_config(), streams=PAGE_VIEWS)

    assert sorted(_page_view_calls(fake)) == sorted(_session_calls(fake))
    views = result.records("call_page_views")
    assert {v["call_id"] for v in views} == _session_calls(fake)
    for call_id in _session_calls(fake):
        served = fake.records("calls", "ACC01")
        started = next(c["start_time"] for c in served if c["id"] == call_id)
        mine = [v for v in views if v["call_id"] == call_id]
        # Numbered from the first page viewed; CallRail lists them newest first.
        assert [v["position"] for v in mine] == list(range(1, len(mine) + 1))
        assert [v["created_at"] for v in mine] == sorted(v["created_at"] for v in mine)
        assert all(v["call_start_time"] == _utc(started) for v in mine)


def test_a_delta_asks_page_views_only_of_the_new_session_tracker_call(fake: Emulator) -> None:
    populate(fake, accounts=1)
    fake.put("calls", "ACC01", [make_call(7, "COM01A", "2026-11-26T09:00:00Z", session_uuid="recent-visit")])
    first = run_sync(base_config(), streams=PAGE_VIEWS)
    assert "CAL01A007" in _page_view_calls(fake)
    fake.put(
        "calls",
        "ACC01",
        [
            make_call(5, "COM01A", "2026-11-26T10:00:00Z", session_uuid="new-visit"),
            make_call(6, "COM01A", "2026-11-26T10:05:00Z"),  # a source tracker: no session
        ],
    )
    fake.reset_requests()

    second = run_sync(base_config(), state=first.state, streams=PAGE_VIEWS)

    assert _page_view_calls(fake) == ["CAL01A005"]
    assert {v["call_id"] for v in second.records("call_page_views")} == {"CAL01A005"}
    # The session call the lookback re-read was not asked again.
    assert "CAL01A007" in {c["id"] for c in second.records("calls")}


def test_page_views_of_a_call_removed_as_spam_are_skipped_and_the_rest_read(
    fake: Emulator, requests_mock: rm.Mocker, caplog: pytest.LogCaptureFixture
) -> None:
    populate(fake, accounts=1)
    requests_mock.get(
        "https://callrail.test/v3/a/ACC01/calls/CAL01A001/page_views.json",
        status_code=404,
        json={"error": "Not found"},
    )

    with caplog.at_level(logging.INFO):
        result = run_sync(base_config(), streams=PAGE_VIEWS)

    assert {v["call_id"] for v in result.records("call_page_views")} == _session_calls(fake) - {"CAL01A001"}
    assert "CAL01A001 answered 404" in caplog.text


def test_page_views_ask_for_session_uuid_even_when_calls_deselect_it(fake: Emulator) -> None:
    populate(fake, accounts=1)

    run_sync(base_config(), streams=PAGE_VIEWS)

    assert all("session_uuid" in r.params["fields"].split(",") for r in sent(fake, "calls"))


def test_selecting_page_views_leaves_calls_incremental_with_their_bookmark(fake: Emulator) -> None:
    populate(fake, accounts=1)
    catalog = discovered_catalog(base_config())

    result = run_sync(base_config(), streams=PAGE_VIEWS, catalog=None)

    calls = next(s for s in catalog["streams"] if s["tap_stream_id"] == "calls")
    assert calls["replication_method"] == "INCREMENTAL"
    assert all(b.get("replication_key_value") for b in result.bookmarks("calls"))
    # One bookmark per calls partition, never one per call.
    assert [b["context"] for b in result.bookmarks("call_page_views")] == [{"account_id": "ACC01"}]
    assert all(b.get("replication_key_value") for b in result.bookmarks("call_page_views"))


def test_page_views_alone_read_calls_without_emitting_them(fake: Emulator) -> None:
    populate(fake, accounts=1)

    result = run_sync(base_config(), streams={"call_page_views"})

    assert not result.records("calls")
    assert {v["call_id"] for v in result.records("call_page_views")} == _session_calls(fake)


# -- lead_timelines --------------------------------------------------------------------------------


def test_timelines_are_read_once_per_lead_the_run_named_after_every_other_stream(fake: Emulator) -> None:
    populate(fake, accounts=1)
    fake.put(
        "form_submissions",
        "ACC01",
        [{"id": "FORX", "company_id": "COM01A", "person_id": "PERCOM01A1", "submitted_at": "2026-11-25T12:00:00.000Z"}],
    )

    result = run_sync(base_config(), streams=TIMELINES)

    asked = [r.path.split("/")[-2] for r in sent(fake, "lead_timelines")]
    assert sorted(asked) == ["PERCOM01A1", "PERCOM01B1"]  # 'anonymous' names nobody
    streams = [r.stream for r in sent(fake)]
    assert streams.index("lead_timelines") > max(i for i, s in enumerate(streams) if s != "lead_timelines")
    events = result.records("lead_timelines")
    keys = {(e["person_id"], e["event_key"]) for e in events}
    assert ("PERCOM01A1", "call:CAL01A001") in keys
    assert ("PERCOM01A1", "form_submission:FORX") in keys
    milestone = next(e for e in events if e["type"] == "milestone" and e["person_id"] == "PERCOM01A1")
    assert milestone.get("id") is None and milestone["event_key"].startswith("milestone@")
    call = next(e for e in events if e["event_key"] == "call:CAL01A001")
    assert call["details"]["duration"] == 42  # type-specific fields kept whole


def test_calls_ask_for_person_id_only_when_timelines_are_read(fake: Emulator) -> None:
    populate(fake, accounts=1)
    catalog = discovered_catalog(base_config())
    for entry in catalog["streams"]:
        for item in entry["metadata"]:
            if item["breadcrumb"] == ["properties", "person_id"]:
                item["metadata"]["selected"] = False

    run_sync(base_config(), streams={"calls"}, catalog=_selected(catalog, {"calls"}))
    without = sent(fake, "calls")
    fake.reset_requests()
    run_sync(base_config(), catalog=_selected(catalog, {"calls", "lead_timelines"}))

    assert all("person_id" not in r.params["fields"].split(",") for r in without)
    assert all("person_id" in r.params["fields"].split(",") for r in sent(fake, "calls"))
    assert sent(fake, "lead_timelines")


def test_a_default_run_asks_no_page_views_or_timelines(fake: Emulator) -> None:
    populate(fake, accounts=1)

    tap = TapCallRail(config=base_config(), parse_env_config=False)
    selected = {name for name, stream in tap.streams.items() if stream.selected}

    assert selected == set(tap.streams) - {"call_page_views", "lead_timelines"}
    run_sync(base_config())
    assert not sent(fake, "call_page_views")
    assert not sent(fake, "lead_timelines")


def _selected(catalog: dict, streams: set[str]) -> dict:
    for entry in catalog["streams"]:
        for item in entry["metadata"]:
            if item["breadcrumb"] == []:
                item["metadata"]["selected"] = entry["tap_stream_id"] in streams
    return catalog


def _utc(text: str) -> str:
    moment = datetime.fromisoformat(text.replace(" -0500", "-05:00").replace("Z", "+00:00").replace(" ", "T"))
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def test_a_delta_reads_only_the_timelines_of_leads_named_by_new_records(fake: Emulator) -> None:
    populate(fake, accounts=1)
    # Within the lookback of the next run: re-read then, its lead must not be asked again.
    fake.put("calls", "ACC01", [make_call(7, "COM01A", "2026-11-26T09:00:00Z", person_id="PERRECENT")])
    first = run_sync(base_config(), streams=TIMELINES)
    assert "PERRECENT" in [r.path.split("/")[-2] for r in sent(fake, "lead_timelines")]
    fake.put("calls", "ACC01", [make_call(8, "COM01B", "2026-11-26T10:00:00Z", person_id="PERNEW")])
    fake.reset_requests()

    second = run_sync(base_config(), state=first.state, streams=TIMELINES)

    assert "CAL01A007" in {c["id"] for c in second.records("calls")}  # the lookback re-read it
    assert [r.path.split("/")[-2] for r in sent(fake, "lead_timelines")] == ["PERNEW"]
    (mark,) = [p["leads_named_through"] for p in second.bookmarks("lead_timelines")]
    assert mark.startswith("2026-11-26T10:00:00")


def test_a_failed_timeline_read_keeps_the_mark_so_the_next_run_reads_those_leads(
    fake: Emulator, requests_mock: rm.Mocker
) -> None:
    populate(fake, accounts=1)
    requests_mock.get(
        "https://callrail.test/v3/a/ACC01/leads/PERCOM01B1/timeline.json", status_code=500, json={"error": "boom"}
    )

    failed = run_sync(base_config(), streams=TIMELINES, raise_errors=False)

    assert failed.error is not None
    assert all("leads_named_through" not in p for p in failed.bookmarks("lead_timelines"))


def test_lead_timelines_sync_after_every_stream_that_names_leads() -> None:
    tap = TapCallRail(config=base_config(), parse_env_config=False)
    order = list(tap.streams)  # the order sync_all reads them in

    naming = [name for name, stream in tap.streams.items() if isinstance(stream, NamesLeads)]

    assert naming == ["calls", "form_submissions"]
    assert all(order.index(name) < order.index("lead_timelines") for name in naming)
