"""calls_timeseries: CallRail's daily counts per company, in the company's time zone, at most 200
days a request, read once per full_table_refresh_hours from the last day read minus the lookback,
never marked deleted."""

from __future__ import annotations

import logging
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from callrail_emulator import Emulator
from tap_callrail.planning import Days, day_windows, timeseries_days
from tests.callrail import base_config, populate, run_sync, sent

STREAM = {"calls_timeseries"}
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=timezone.utc)  # tests/conftest.py's clock


def _companies(fake: Emulator) -> None:
    """One account, two companies in different zones, one call each on 2026-11-20 (UTC 03:30)."""
    fake.add_account("ACC01", numeric_id=100000001)
    fake.put(
        "companies",
        "ACC01",
        [
            {"id": "COM01A", "name": "A", "status": "active", "time_zone": "America/Los_Angeles"},
            {"id": "COM01B", "name": "B", "status": "active", "time_zone": "Europe/London"},
        ],
    )
    fake.put(
        "calls",
        "ACC01",
        [
            {"id": "CAL1", "company_id": "COM01A", "start_time": "2026-11-20T03:30:00Z", "answered": True},
            {"id": "CAL2", "company_id": "COM01B", "start_time": "2026-11-20T03:30:00Z", "answered": False},
        ],
    )


def _total(result, company_id: str, day: str) -> int:  # type: ignore[no-untyped-def]
    rows = [r for r in result.records("calls_timeseries") if (r["company_id"], r["date"]) == (company_id, day)]
    assert len(rows) == 1
    return int(rows[0]["total_calls"])


def test_each_company_is_read_in_its_own_time_zone_with_plain_dates_and_every_count(fake: Emulator) -> None:
    _companies(fake)

    result = run_sync(base_config(start_date="2026-11-01"), streams=STREAM)

    params = {s.params["company_id"]: s.params for s in sent(fake, "calls_timeseries")}
    assert params["COM01A"]["time_zone"] == "America/Los_Angeles"
    assert params["COM01B"]["time_zone"] == "Europe/London"
    for company in ("COM01A", "COM01B"):
        assert params[company]["interval"] == "day"
        assert params[company]["start_date"] == "2026-11-01"
        assert params[company]["end_date"] == "2026-11-26"
        assert set(params[company]["fields"].split(",")) == {
            "total_calls", "answered_calls", "missed_calls", "first_time_callers", "average_duration", "leads",
        }  # fmt: skip
    # 03:30 UTC is the evening before in Los Angeles, the same day in London.
    assert (_total(result, "COM01A", "2026-11-19"), _total(result, "COM01A", "2026-11-20")) == (1, 0)
    assert (_total(result, "COM01B", "2026-11-19"), _total(result, "COM01B", "2026-11-20")) == (0, 1)
    record = next(r for r in result.records("calls_timeseries") if r["company_id"] == "COM01A")
    assert record["account_id"] == "ACC01"
    assert record["time_zone"] == "America/Los_Angeles"


def test_records_are_keyed_by_company_and_day_and_the_bookmark_is_the_last_day(fake: Emulator) -> None:
    _companies(fake)

    result = run_sync(base_config(start_date="2026-11-01"), streams=STREAM)

    schema = result.of_type("SCHEMA", "calls_timeseries")[0]
    assert schema["key_properties"] == ["company_id", "date"]
    assert schema["schema"]["properties"]["date"]["format"] == "date"
    keys = [(r["company_id"], r["date"]) for r in result.records("calls_timeseries")]
    assert len(keys) == len(set(keys)) == 2 * 26
    assert result.bookmarks("calls_timeseries")[0]["replication_key_value"] == "2026-11-26"


def test_a_first_read_longer_than_200_days_is_split_into_windows_of_at_most_200(fake: Emulator) -> None:
    _companies(fake)

    result = run_sync(base_config(start_date="2025-12-01", company_ids=["COM01A"]), streams=STREAM)

    windows = sorted((s.params["start_date"], s.params["end_date"]) for s in sent(fake, "calls_timeseries"))
    assert windows == [("2025-12-01", "2026-06-18"), ("2026-06-19", "2026-11-26")]
    days = [r["date"] for r in result.records("calls_timeseries")]
    assert len(days) == len(set(days)) == 361


def test_a_start_date_past_retention_is_raised_to_it_with_one_warning(
    fake: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    _companies(fake)

    with caplog.at_level(logging.WARNING):
        run_sync(base_config(start_date="2020-01-01"), streams=STREAM)

    firsts = {s.params["start_date"] for s in sent(fake, "calls_timeseries")}
    assert min(firsts) == "2024-10-28"  # 25 months and a day before 2026-11-26, and a day more
    assert len(sent(fake, "calls_timeseries")) == 2 * 4  # 760 days: 4 windows per company
    assert caplog.text.count("older than CallRail keeps data") == 1


def test_not_due_sends_no_request_and_says_so_once_per_account(
    fake: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    populate(fake)
    first = run_sync(base_config(), streams=STREAM)
    assert len(sent(fake, "calls_timeseries")) == 4  # one per company, two accounts of two
    fake.reset_requests()

    with caplog.at_level(logging.INFO):
        second = run_sync(base_config(), state=first.state, streams=STREAM)

    assert sent(fake, "calls_timeseries") == []
    assert second.records("calls_timeseries") == []
    for account in ("ACC01", "ACC02"):
        assert caplog.text.count(f"calls_timeseries {account}: read completely 0 min ago, next due in 24 h") == 1


def test_a_due_run_sends_one_request_per_company_from_the_last_day_minus_the_lookback(fake: Emulator) -> None:
    populate(fake)
    first = run_sync(base_config(), streams=STREAM)
    fake.reset_requests()

    due = run_sync(base_config(full_table_refresh_hours=0, lookback_window_days=3), state=first.state, streams=STREAM)

    requests = sent(fake, "calls_timeseries")
    assert sorted(s.params["company_id"] for s in requests) == ["COM01A", "COM01B", "COM02A", "COM02B"]
    assert {(s.params["start_date"], s.params["end_date"]) for s in requests} == {("2026-11-23", "2026-11-26")}
    assert len(due.records("calls_timeseries")) == 4 * 4


def test_company_ids_reads_only_those_companies(fake: Emulator) -> None:
    populate(fake)

    result = run_sync(base_config(company_ids=["COM01B"]), streams=STREAM)

    assert [s.params["company_id"] for s in sent(fake, "calls_timeseries")] == ["COM01B"]
    assert {r["company_id"] for r in result.records("calls_timeseries")} == {"COM01B"}


def test_a_403_skips_the_company_with_a_warning_and_the_rest_of_the_sync_goes_on(
    fake: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    populate(fake)
    fake.persistent_fault(403, "timeseries", company_id="COM01A")

    with caplog.at_level(logging.WARNING):
        result = run_sync(base_config(), streams={"calls_timeseries", "calls"})

    assert caplog.text.count("Skipping calls_timeseries ACC01 company COM01A") == 1
    assert {r["company_id"] for r in result.records("calls_timeseries")} == {"COM01B", "COM02A", "COM02B"}
    assert result.records("calls")
    read_at = {p["context"]["account_id"]: p.get("read_completely_at") for p in result.bookmarks("calls_timeseries")}
    assert read_at["ACC01"] is None  # not complete: due again next run
    assert read_at["ACC02"] == "2026-11-26T12:00:00.000000Z"


def test_no_activate_version_is_ever_sent_even_where_deletes_are_allowed(fake: Emulator) -> None:
    populate(fake)
    config = base_config(emit_activate_version_messages=True, full_table_refresh_hours=0)

    first = run_sync(config, streams=STREAM)
    second = run_sync(config, state=first.state, streams=STREAM)

    assert first.records("calls_timeseries")
    assert first.of_type("ACTIVATE_VERSION", "calls_timeseries") == []
    assert second.of_type("ACTIVATE_VERSION", "calls_timeseries") == []


def test_a_company_without_a_time_zone_is_read_in_utc_with_one_warning(
    fake: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    fake.add_account("ACC01", numeric_id=100000001)
    fake.put("companies", "ACC01", [{"id": "COM01A", "name": "A", "status": "active", "time_zone": None}])

    with caplog.at_level(logging.WARNING):
        result = run_sync(base_config(start_date="2026-11-20"), streams=STREAM)

    assert [s.params["time_zone"] for s in sent(fake, "calls_timeseries")] == ["Etc/UTC"]
    assert {r["time_zone"] for r in result.records("calls_timeseries")} == {"Etc/UTC"}
    assert caplog.text.count("company COM01A has no time zone") == 1


def test_the_time_zones_come_from_one_companies_listing_per_account(fake: Emulator) -> None:
    populate(fake)

    run_sync(base_config(), streams=STREAM)

    assert sorted(s.account_id for s in sent(fake, "companies")) == ["ACC01", "ACC02"]


# -- planning, without HTTP ---------------------------------------------------------------------------


def test_day_windows_hold_at_most_200_days_and_cover_the_range_once() -> None:
    windows = day_windows(date(2026, 1, 1), date(2026, 12, 31))

    assert windows == [
        (date(2026, 1, 1), date(2026, 7, 19)),
        (date(2026, 7, 20), date(2026, 12, 31)),
    ]
    assert day_windows(date(2026, 1, 1), date(2026, 1, 1)) == [(date(2026, 1, 1), date(2026, 1, 1))]


def test_today_is_the_company_zones_today_and_a_plain_start_date_is_that_day() -> None:
    late = datetime(2026, 11, 26, 23, 30, tzinfo=timezone.utc)
    auckland = timeseries_days(late, ZoneInfo("Pacific/Auckland"), start_date="2026-11-01")
    honolulu = timeseries_days(late, ZoneInfo("Pacific/Honolulu"), start_date="2026-11-01")

    assert auckland == Days(date(2026, 11, 1), date(2026, 11, 27))
    assert honolulu == Days(date(2026, 11, 1), date(2026, 11, 26))


def test_the_lookback_is_at_least_one_day_so_the_partial_last_day_is_read_again() -> None:
    zone = ZoneInfo("America/New_York")
    days = timeseries_days(NOW, zone, start_date="2026-01-01", bookmark=date(2026, 11, 25), lookback_days=0)

    assert days == Days(date(2026, 11, 24), date(2026, 11, 26))
