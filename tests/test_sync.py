"""Whole syncs against multi-page, multi-account data: exactly once, bookmarks, deltas, deletes."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import pytest
import requests_mock as rm

from callrail_emulator import Emulator
from callrail_emulator.fields import DATE_FILTERED, ENDPOINTS
from callrail_emulator.timeutil import parse_stamp
from tests.callrail import base_config, discovered_catalog, make_call, populate, run_sync, sent

CANONICAL = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")
# Keys as the catalog declares them to the target.
PRIMARY_KEYS = {s["tap_stream_id"]: s["key_properties"] for s in discovered_catalog(base_config())["streams"]}
INCREMENTAL = {"calls": "start_time", "form_submissions": "submitted_at"}
# The newest-first streams are incremental too, and never delete.
NEWEST_FIRST = {"text_messages", "sms_threads", "sms_thread_messages"}
# Daily counts, page views and lead timelines are history: never marked deleted (the last two
# are also off by default: one request per call or lead).
HISTORY = {"calls_timeseries", "call_page_views", "lead_timelines"}
FULL_TABLE = sorted(set(PRIMARY_KEYS) - set(INCREMENTAL) - NEWEST_FIRST - HISTORY)
PER_COMPANY = ("integrations", "outbound_caller_ids")


def _in_window(fake: Emulator, stream: str, account: str, start: str) -> set[str]:
    date_field = DATE_FILTERED.get(stream)
    lower, upper = parse_stamp(start), parse_stamp(fake.clock().isoformat())
    return {
        str(r["id"])
        for r in fake.records(stream, account)
        if date_field is None or lower <= parse_stamp(r[date_field]) <= upper
    }


def test_multi_page_multi_account_sync_emits_every_record_exactly_once(fake: Emulator) -> None:
    fake.set_paging(page_size=2)
    populate(fake, accounts=2)

    result = run_sync(base_config(start_date="2026-11-01"))

    assert sorted(r["id"] for r in result.records("accounts")) == ["ACC01", "ACC02"]
    for stream in ENDPOINTS:
        for account in ("ACC01", "ACC02"):
            emitted = [str(r["id"]) for r in result.records(stream) if r["account_id"] == account]
            expected = _in_window(fake, stream, account, "2026-11-01T00:00:00Z")
            assert expected, (stream, account)
            assert Counter(emitted) == Counter(expected), (stream, account)
    assert len(sent(fake, "calls", "ACC01")) == 4  # 8 calls, 2 per page


@pytest.mark.parametrize("company_ids", [None, ["COM01A", "COM01B", "COM02A", "COM02B"]])
def test_primary_keys_are_unique_within_a_sync(fake: Emulator, company_ids: list[str] | None) -> None:
    fake.set_paging(page_size=2)
    populate(fake, accounts=2)

    result = run_sync(base_config(company_ids=company_ids), streams=set(PRIMARY_KEYS))

    for stream, keys in PRIMARY_KEYS.items():
        values = [tuple(r[k] for k in keys) for r in result.records(stream)]
        assert values, stream
        assert all(None not in v for v in values), stream
        duplicates = [v for v, n in Counter(values).items() if n > 1]
        assert not duplicates, (stream, duplicates)


def test_every_record_carries_its_account_and_fan_outs_their_company(fake: Emulator) -> None:
    populate(fake, accounts=2)

    result = run_sync(base_config())

    for stream in ENDPOINTS:
        for record in result.records(stream):
            assert record["account_id"] in ("ACC01", "ACC02"), (stream, record)
            assert str(record["id"]) in _in_window(fake, stream, record["account_id"], "2000-01-01T00:00:00Z")
    for stream in PER_COMPANY:
        for record in result.records(stream):
            assert record["company_id"].startswith(f"COM{record['account_id'][3:]}"), record


def test_integrations_get_the_company_they_were_read_for(fake: Emulator) -> None:
    # CallRail's integration objects carry no company_id; the tap adds the one it asked for.
    populate(fake, accounts=1)
    assert all("company_id" not in r for r in fake.records("integrations", "ACC01"))

    result = run_sync(base_config(), streams={"integrations"})

    assert sorted((r["id"], r["company_id"]) for r in result.records("integrations")) == [
        (5065, "COM01A"),
        (5066, "COM01B"),
    ]


def test_requests_carry_the_token_header_and_the_user_agent(fake: Emulator, requests_mock: rm.Mocker) -> None:
    populate(fake, accounts=1)

    run_sync(base_config(user_agent="acme-elt/2.0", api_url="https://callrail.test/v3/"), streams={"leads"})

    assert requests_mock.request_history
    for request in requests_mock.request_history:
        assert request.headers["Authorization"] == 'Token token="sk-test-5e3f9a1c7d"'
        assert request.headers["User-Agent"] == "acme-elt/2.0"
        assert "//a" not in request.path


# -- bookmarks and delta runs ---------------------------------------------------------------------


@pytest.mark.parametrize(("stream", "key"), INCREMENTAL.items())
def test_bookmarks_are_kept_per_account_in_canonical_utc(fake: Emulator, stream: str, key: str) -> None:
    fake.set_paging(page_size=2)
    populate(fake, accounts=2)

    result = run_sync(base_config(), streams={stream})

    partitions = result.bookmarks(stream)
    assert sorted(p["context"]["account_id"] for p in partitions) == ["ACC01", "ACC02"]
    for partition in partitions:
        account = partition["context"]["account_id"]
        assert partition["replication_key"] == key
        assert CANONICAL.match(partition["replication_key_value"]), partition
        newest = max(r[key] for r in result.records(stream) if r["account_id"] == account)
        assert partition["replication_key_value"] == newest
        assert "progress_markers" not in partition


def test_calls_bookmark_is_the_latest_instant_not_the_latest_string(fake: Emulator) -> None:
    fake.add_account("ACC01")
    fake.put(
        "calls",
        "ACC01",
        [
            # 23:30 in New York is later than 02:00Z the same day, though its string sorts first.
            make_call(1, "COM01A", "2026-11-20T23:30:00.000-05:00"),
            make_call(2, "COM01A", "2026-11-21T02:00:00Z"),
        ],
    )

    result = run_sync(base_config(), streams={"calls"})

    assert result.bookmarks("calls")[0]["replication_key_value"] == "2026-11-21T04:30:00.000000Z"


def test_second_run_with_the_first_runs_state_reads_only_the_short_lookback_window(fake: Emulator) -> None:
    fake.set_paging(page_size=2)
    populate(fake, accounts=2)
    fake.put("calls", "ACC01", [make_call(6, "COM01A", "2026-11-24T08:00:00Z")])  # 5 h before the bookmark
    first = run_sync(base_config(start_date="2026-11-01", lookback_window_days=7))
    bookmark = {p["context"]["account_id"]: p["replication_key_value"] for p in first.bookmarks("calls")}
    assert bookmark["ACC01"] == "2026-11-24T13:00:00.000000Z"
    fake.put("calls", "ACC01", [make_call(5, "COM01A", "2026-11-25T09:00:00Z")])
    fake.put(
        "form_submissions",
        "ACC02",
        [{"id": "FORNEW", "company_id": "COM02A", "submitted_at": "2026-11-25T10:00:00Z"}],
    )
    fake.reset_requests()

    second = run_sync(base_config(start_date="2026-11-01", lookback_window_days=7), state=first.state)

    # The first run read the deep lookback (all of it); the second, an hour later, 6 hours.
    for account in ("ACC01", "ACC02"):
        starts = {r.params["start_date"] for r in sent(fake, "calls", account)}
        assert starts == {"2026-11-24T07:00"}
    window_start = parse_stamp("2026-11-24T07:00:00Z")
    expected_calls = {
        (a, r["id"])
        for a in ("ACC01", "ACC02")
        for r in fake.records("calls", a)
        if parse_stamp(r["start_time"]) >= window_start
    }
    emitted_calls = [(r["account_id"], r["id"]) for r in second.records("calls")]
    assert Counter(emitted_calls) == Counter(expected_calls)
    assert ("ACC01", "CAL01A005") in emitted_calls
    assert ("ACC01", "CAL01A006") in emitted_calls  # inside the short lookback
    assert ("ACC01", "CAL01A001") not in emitted_calls  # 10 Nov: before the lookback window
    emitted_forms = {(r["account_id"], r["id"]) for r in second.records("form_submissions")}
    assert ("ACC02", "FORNEW") in emitted_forms
    assert all(r["submitted_at"] >= "2026-11-13" for r in second.records("form_submissions"))
    new_bookmarks = {p["context"]["account_id"]: p["replication_key_value"] for p in second.bookmarks("calls")}
    assert new_bookmarks == {"ACC01": "2026-11-25T09:00:00.000000Z", "ACC02": bookmark["ACC02"]}


def test_delta_run_with_no_new_records_keeps_the_bookmarks(fake: Emulator) -> None:
    populate(fake, accounts=1)
    first = run_sync(base_config(), streams={"calls", "form_submissions"})

    second = run_sync(base_config(), state=first.state, streams={"calls", "form_submissions"})

    for stream in INCREMENTAL:
        before = {p["context"]["account_id"]: p["replication_key_value"] for p in first.bookmarks(stream)}
        after = {p["context"]["account_id"]: p["replication_key_value"] for p in second.bookmarks(stream)}
        assert after == before
        assert second.records(stream)  # the lookback window was re-read


# -- deletes (ACTIVATE_VERSION) ---------------------------------------------------------------------


def test_complete_full_table_read_emits_activate_version_after_its_records(fake: Emulator) -> None:
    fake.set_paging(page_size=2)
    populate(fake, accounts=2)

    result = run_sync(base_config(emit_activate_version_messages=True))

    messages = result.messages
    for stream in FULL_TABLE:
        activations = [i for i, m in enumerate(messages) if m["type"] == "ACTIVATE_VERSION" and m["stream"] == stream]
        records = [i for i, m in enumerate(messages) if m["type"] == "RECORD" and m["stream"] == stream]
        assert len(activations) == 1, stream
        assert records and max(records) < activations[0], stream
        version = messages[activations[0]]["version"]
        assert {messages[i].get("version") for i in records} == {version}, stream


def test_incremental_streams_never_emit_activate_version(fake: Emulator) -> None:
    populate(fake, accounts=1)

    result = run_sync(base_config(emit_activate_version_messages=True))

    for stream in INCREMENTAL:
        assert result.records(stream)
        assert not result.of_type("ACTIVATE_VERSION", stream)


def test_history_streams_never_emit_activate_version(fake: Emulator) -> None:
    populate(fake, accounts=1)

    result = run_sync(base_config(emit_activate_version_messages=True), streams=HISTORY | {"calls"})

    for stream in HISTORY:
        assert result.records(stream)
        assert not result.of_type("ACTIVATE_VERSION", stream)


def test_no_activate_version_unless_the_setting_is_on(fake: Emulator) -> None:
    populate(fake, accounts=1)

    result = run_sync(base_config())

    assert not result.of_type("ACTIVATE_VERSION")


@pytest.mark.parametrize("narrowing", [{"account_ids": ["ACC01"]}, {"company_ids": ["COM01A"]}])
def test_runs_narrowed_by_account_or_company_ids_emit_no_activate_version(fake: Emulator, narrowing: dict) -> None:
    populate(fake, accounts=2)

    result = run_sync(base_config(emit_activate_version_messages=True, **narrowing))

    assert result.records("trackers")
    assert not result.of_type("ACTIVATE_VERSION")


def test_text_messages_read_bounded_by_end_date_emits_no_activate_version(fake: Emulator) -> None:
    populate(fake, accounts=1)

    result = run_sync(
        base_config(emit_activate_version_messages=True, end_date="2026-11-15T00:00:00Z"),
        streams={"text_messages", "trackers"},
    )

    assert result.of_type("ACTIVATE_VERSION", "trackers")
    assert not result.of_type("ACTIVATE_VERSION", "text_messages")


# -- records deleted while the tap pages through them ----------------------------------------------


def _calls_every_minute(fake: Emulator, count: int, same_minute: range = range(0)) -> list[str]:
    fake.add_account("ACC01")
    start = datetime(2026, 11, 10, tzinfo=timezone.utc)
    calls = []
    for i in range(count):
        minute = same_minute.start if i in same_minute else i
        at = start + timedelta(minutes=minute, seconds=i % 60 if i in same_minute else 0)
        calls.append(make_call(i, "COM01A", at.strftime("%Y-%m-%dT%H:%M:%SZ"), id=f"CAL{i:04d}"))
    fake.put("calls", "ACC01", calls)
    return [c["id"] for c in calls]


def _delete(stream: str, record_id: str) -> Callable[[Emulator], None]:
    return lambda fake: fake.delete(stream, "ACC01", record_id)


def test_full_table_read_restarts_when_a_record_is_deleted_mid_read(fake: Emulator) -> None:
    fake.add_account("ACC01")
    ids = [f"PER{i:04d}" for i in range(600)]
    fake.put("leads", "ACC01", [{"id": i} for i in ids])
    fake.after_page("leads", "ACC01", 1, _delete("leads", "PER0010"))

    # One request at a time, so the requests below are the rule itself (tests/test_inflight.py: concurrently).
    result = run_sync(base_config(emit_activate_version_messages=True, max_concurrent_requests=1), streams={"leads"})

    emitted = [r["id"] for r in result.records("leads")]
    assert Counter(emitted) == Counter(ids)  # the deleted one was read before it went
    # Pages 1-2, the restart 1-3, then the second listing that proves the read before deletes.
    assert [r.params["page"] for r in sent(fake, "leads")] == ["1", "2", "1", "2", "3", "1", "2", "3"]


def test_sorted_read_restarts_from_the_last_minute_when_a_record_is_deleted(fake: Emulator) -> None:
    ids = _calls_every_minute(fake, 600)
    fake.after_page("calls", "ACC01", 1, _delete("calls", "CAL0010"))

    result = run_sync(base_config(max_concurrent_requests=1), streams={"calls"})

    emitted = [r["id"] for r in result.records("calls")]
    assert Counter(emitted) == Counter(ids)
    restart = sent(fake, "calls")[2]
    assert (restart.params["page"], restart.params["start_date"]) == ("1", "2026-11-10T04:09")  # call 249's minute


def test_sorted_restart_inside_a_busy_minute_loses_and_repeats_nothing(fake: Emulator) -> None:
    ids = _calls_every_minute(fake, 600, same_minute=range(240, 262))
    fake.after_page("calls", "ACC01", 1, _delete("calls", "CAL0003"))

    result = run_sync(base_config(), streams={"calls"})

    assert Counter(r["id"] for r in result.records("calls")) == Counter(ids)


def test_killed_backfill_resumes_from_the_last_state_it_wrote(fake: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    from tap_callrail.streams import CallsStream

    monkeypatch.setattr(CallsStream, "STATE_MSG_FREQUENCY", 100)
    # One request at a time: the fault must come before page 3 is asked for (tests/test_inflight.py
    # covers a run failing with requests in flight).
    ids = _calls_every_minute(fake, 700)
    fake.after_page(
        "calls", "ACC01", 2, lambda f: f.persistent_fault(503, "/a/ACC01/calls.json", message="maintenance")
    )

    config = base_config(lookback_window_days=0, lookback_hours=0, max_concurrent_requests=1)
    killed = run_sync(config, streams={"calls"}, raise_errors=False)

    assert killed.error is not None
    assert len(killed.records("calls")) == 500
    saved = killed.bookmarks("calls")[0]["replication_key_value"]
    assert saved == "2026-11-10T08:19:00.000000Z"  # call 499, the last of page 2
    fake.clear_faults()
    fake.reset_requests()

    resumed = run_sync(config, state=killed.state, streams={"calls"})

    assert sent(fake, "calls")[0].params["start_date"] == "2026-11-10T08:19"
    assert {r["id"] for r in killed.records("calls")} | {r["id"] for r in resumed.records("calls")} == set(ids)
    assert len(resumed.records("calls")) == 201  # call 499 again, then 500-699


def test_text_messages_never_emit_activate_version_even_on_a_complete_read(fake: Emulator) -> None:
    populate(fake, accounts=1)

    result = run_sync(base_config(emit_activate_version_messages=True), streams={"text_messages"})

    assert result.records("text_messages")
    assert not result.of_type("ACTIVATE_VERSION", "text_messages")
