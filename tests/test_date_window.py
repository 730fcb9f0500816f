"""Date windows of calls, form submissions and texts: explicit dates, lookback, retention floor."""

from __future__ import annotations

import logging
import re
from datetime import datetime, timezone

import pytest

from callrail_emulator import Emulator
from tap_callrail.timeutil import retention_floor
from tests.callrail import base_config, populate, run_sync, sent
from tests.conftest import NOW

DATED = ("calls", "form_submissions", "text_messages")
MINUTE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$")
FLOOR = "2024-10-27T12:00"  # NOW - 25 months + 1 day


def _state(stream: str, key: str, *partitions: tuple[str, str]) -> dict:
    return {
        "bookmarks": {
            stream: {
                "partitions": [
                    {"context": {"account_id": account}, "replication_key": key, "replication_key_value": value}
                    for account, value in partitions
                ]
            }
        }
    }


def _window(fake: Emulator, stream: str, account: str = "ACC01") -> tuple[str, str]:
    windows = {(r.params["start_date"], r.params["end_date"]) for r in sent(fake, stream, account)}
    assert len(windows) == 1, windows
    return windows.pop()


@pytest.mark.parametrize("stream", DATED)
def test_dated_streams_always_send_start_end_and_time_zone(fake: Emulator, stream: str) -> None:
    fake.set_paging(page_size=1)
    populate(fake)

    run_sync(base_config(), streams={stream})

    assert len(sent(fake, stream)) > 2
    for request in sent(fake, stream):
        assert MINUTE.match(request.params["start_date"]), request.params
        assert MINUTE.match(request.params["end_date"]), request.params
        assert request.params["time_zone"] == "Etc/UTC"


@pytest.mark.parametrize(("stream", "key"), [("calls", "start_time"), ("form_submissions", "submitted_at")])
def test_incremental_streams_sort_ascending_on_their_replication_key(fake: Emulator, stream: str, key: str) -> None:
    populate(fake, accounts=1)

    run_sync(base_config(), streams={stream})

    assert {(r.params["sort"], r.params["order"]) for r in sent(fake, stream)} == {(key, "asc")}


@pytest.mark.parametrize("stream", DATED)
def test_first_run_reads_from_start_date_to_now(fake: Emulator, stream: str) -> None:
    populate(fake, accounts=1)

    run_sync(base_config(start_date="2026-11-01"), streams={stream})

    assert _window(fake, stream) == ("2026-11-01T00:00", "2026-11-26T12:00")


def test_start_date_with_an_offset_is_sent_in_utc(fake: Emulator) -> None:
    populate(fake, accounts=1)

    run_sync(base_config(start_date="2026-11-01T08:30:00-05:00"), streams={"calls"})

    assert _window(fake, "calls")[0] == "2026-11-01T13:30"


@pytest.mark.parametrize("stream", DATED)
def test_without_start_date_reading_starts_at_the_retention_floor(fake: Emulator, stream: str) -> None:
    populate(fake, accounts=1)

    run_sync(base_config(start_date=None), streams={stream})

    assert _window(fake, stream) == (FLOOR, "2026-11-26T12:00")


def test_start_date_older_than_retention_is_clamped_with_a_warning(
    fake: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    populate(fake, accounts=1)

    with caplog.at_level(logging.WARNING):
        run_sync(base_config(start_date="2024-01-01"), streams={"calls"})

    assert _window(fake, "calls")[0] == FLOOR
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("start_date" in w and "2024-01-01" in w for w in warnings), warnings


def test_retention_floor_is_25_months_back_plus_one_day() -> None:
    assert retention_floor(NOW) == datetime(2024, 10, 27, 12, tzinfo=timezone.utc)
    # 31 March minus 25 months has no 31st: round up to 1 March, never down into purged data.
    assert retention_floor(datetime(2026, 3, 31, tzinfo=timezone.utc)) == datetime(2024, 3, 2, tzinfo=timezone.utc)
    assert retention_floor(datetime(2026, 1, 15, tzinfo=timezone.utc)) == datetime(2023, 12, 16, tzinfo=timezone.utc)


@pytest.mark.parametrize(("stream", "key"), [("calls", "start_time"), ("form_submissions", "submitted_at")])
def test_delta_run_starts_lookback_days_before_the_bookmark(fake: Emulator, stream: str, key: str) -> None:
    populate(fake, accounts=1)
    state = _state(stream, key, ("ACC01", "2026-11-20T15:30:45.123456Z"))

    run_sync(base_config(lookback_window_days=7), state=state, streams={stream})

    assert _window(fake, stream) == ("2026-11-13T15:30", "2026-11-26T12:00")


def test_lookback_of_zero_starts_at_the_bookmark_minute(fake: Emulator) -> None:
    populate(fake, accounts=1)
    state = _state("calls", "start_time", ("ACC01", "2026-11-20T15:30:45.123456Z"))

    run_sync(base_config(lookback_window_days=0, lookback_hours=0), state=state, streams={"calls"})

    assert _window(fake, "calls")[0] == "2026-11-20T15:30"


def test_bookmark_with_an_offset_is_compared_as_an_instant(fake: Emulator) -> None:
    populate(fake, accounts=1)
    state = _state("calls", "start_time", ("ACC01", "2026-11-20T10:30:00-05:00"))

    run_sync(base_config(lookback_window_days=1), state=state, streams={"calls"})

    assert _window(fake, "calls")[0] == "2026-11-19T15:30"


def test_start_date_later_than_bookmark_minus_lookback_wins(fake: Emulator) -> None:
    populate(fake, accounts=1)
    state = _state("calls", "start_time", ("ACC01", "2026-11-20T15:30:00.000000Z"))

    run_sync(base_config(start_date="2026-11-18", lookback_window_days=7), state=state, streams={"calls"})

    assert _window(fake, "calls")[0] == "2026-11-18T00:00"


def test_each_account_starts_from_its_own_bookmark(fake: Emulator) -> None:
    populate(fake, accounts=2)
    state = _state("calls", "start_time", ("ACC01", "2026-11-20T15:30:00.000000Z"))

    run_sync(base_config(lookback_window_days=2), state=state, streams={"calls"})

    assert _window(fake, "calls", "ACC01")[0] == "2026-11-18T15:30"
    assert _window(fake, "calls", "ACC02")[0] == "2026-11-01T00:00"


def test_text_messages_read_the_whole_window_whatever_the_state(fake: Emulator) -> None:
    populate(fake, accounts=1)
    state = _state("calls", "start_time", ("ACC01", "2026-11-20T15:30:00.000000Z"))

    run_sync(base_config(start_date="2026-11-02"), state=state, streams={"text_messages", "calls"})

    assert _window(fake, "text_messages")[0] == "2026-11-02T00:00"


@pytest.mark.parametrize("stream", DATED)
def test_end_date_bounds_the_window_and_the_records(fake: Emulator, stream: str) -> None:
    populate(fake, accounts=1)
    key = {"calls": "start_time", "form_submissions": "submitted_at", "text_messages": "last_message_at"}[stream]

    result = run_sync(base_config(end_date="2026-11-18T18:45:00Z"), streams={stream})

    assert _window(fake, stream)[1] == "2026-11-18T18:45"
    assert all(r[key] < "2026-11-18T18:46" for r in result.records(stream))


def test_date_only_end_date_includes_that_whole_day(fake: Emulator) -> None:
    populate(fake, accounts=1)

    run_sync(base_config(start_date="2026-11-01", end_date="2026-11-20"), streams={"calls"})

    assert _window(fake, "calls") == ("2026-11-01T00:00", "2026-11-20T23:59")


# -- short lookback every run, the deep one when due ---------------------------------------------


def _with_deep_lookback_at(state: dict, stream: str, value: str) -> dict:
    for partition in state["bookmarks"][stream]["partitions"]:
        partition["deep_lookback_at"] = value
    return state


@pytest.mark.parametrize(
    ("last_deep", "refresh_hours", "expected_start"),
    [
        ("2026-11-26T11:00:00.000000Z", 24, "2026-11-20T09:30"),  # deep read 1 h ago: 6 hours
        ("2026-11-25T11:00:00.000000Z", 24, "2026-11-13T15:30"),  # 25 h ago: due, 7 days
        ("2026-11-26T11:00:00.000000Z", 0, "2026-11-13T15:30"),  # refresh 0: deep every run
        ("2026-11-26T11:00:00.000000Z", 2, "2026-11-20T09:30"),
        ("2026-11-26T09:55:00.000000Z", 2, "2026-11-13T15:30"),  # 2 h 5 min ago: due
        ("2999-01-01T00:00:00.000000Z", 24, "2026-11-13T15:30"),  # a future mark never holds it back
        ("garbage", 24, "2026-11-13T15:30"),
    ],
)
def test_each_run_rereads_the_short_lookback_and_the_deep_one_when_due(
    fake: Emulator, last_deep: str, refresh_hours: int, expected_start: str
) -> None:
    populate(fake, accounts=1)
    state = _with_deep_lookback_at(
        _state("calls", "start_time", ("ACC01", "2026-11-20T15:30:45.123456Z")), "calls", last_deep
    )

    run_sync(
        base_config(lookback_window_days=7, lookback_hours=6, full_table_refresh_hours=refresh_hours),
        state=state,
        streams={"calls"},
    )

    assert _window(fake, "calls")[0] == expected_start


def test_a_complete_deep_read_is_remembered_and_a_short_one_keeps_the_earlier_mark(fake: Emulator) -> None:
    populate(fake, accounts=1)
    state = _state("calls", "start_time", ("ACC01", "2026-11-20T15:30:45.123456Z"))

    deep = run_sync(base_config(), state=state, streams={"calls"})
    short = run_sync(base_config(), state=deep.state, streams={"calls"})

    assert deep.bookmarks("calls")[0]["deep_lookback_at"] == "2026-11-26T12:00:00.000000Z"
    assert short.bookmarks("calls")[0]["deep_lookback_at"] == "2026-11-26T12:00:00.000000Z"
    starts = [r.params["start_date"] for r in sent(fake, "calls")]
    assert starts[0] == "2026-11-13T15:30"  # deep: 7 days before the bookmark
    assert starts[-1] < "2026-11-26T12:00" and starts[-1] > "2026-11-20T15:30"  # short: 6 h before the new one


def test_a_failed_deep_read_is_not_remembered(fake: Emulator) -> None:
    populate(fake, accounts=1)
    fake.persistent_fault(500, "/a/ACC01/calls.json")
    state = _state("calls", "start_time", ("ACC01", "2026-11-20T15:30:45.123456Z"))

    failed = run_sync(base_config(max_retries=0), state=state, streams={"calls"}, raise_errors=False)

    assert failed.error is not None
    assert "deep_lookback_at" not in failed.bookmarks("calls")[0]
