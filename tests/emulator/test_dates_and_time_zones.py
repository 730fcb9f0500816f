"""Date windows (inclusive, interpreted in a time zone), the 7-day default, retention, offsets."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from callrail_emulator import Emulator

from .support import NOW, Client

RETENTION_ERROR = {
    "error": "The date range you have requested is outside of your data retention period. "
    "Please revise your date range."
}
NEW_YORK = ZoneInfo("America/New_York")


def _start(call: dict) -> datetime:
    return datetime.fromisoformat(call["start_time"])


def _ids(client: Client, account: str, **params: str) -> set[str]:
    return {c["id"] for c in client.calls(account, **params)}


def test_minute_bounds_are_inclusive_at_both_ends(client: Client, account: str, emu: Emulator) -> None:
    call = emu.records("calls", account)[150]
    minute = _start(call).strftime("%Y-%m-%dT%H:%M")
    assert call["id"] in _ids(client, account, start_date=minute, end_date=minute, time_zone="Etc/UTC")
    before = (_start(call) - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M")
    after = (_start(call) + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M")
    assert call["id"] not in _ids(
        client, account, start_date=before, end_date=before, time_zone="Etc/UTC"
    )
    assert call["id"] not in _ids(client, account, start_date=after, end_date=after, time_zone="Etc/UTC")


def test_date_only_bounds_cover_whole_days_in_the_requested_zone(
    client: Client, account: str, emu: Emulator
) -> None:
    zone = ZoneInfo("America/Los_Angeles")
    for call in emu.records("calls", account)[100:110]:
        day = _start(call).astimezone(zone).date()
        inside = _ids(client, account, start_date=str(day), end_date=str(day),
                      time_zone="America/Los_Angeles")
        assert call["id"] in inside
        next_day = str(day + timedelta(days=1))
        assert call["id"] not in _ids(client, account, start_date=next_day, end_date=next_day,
                                      time_zone="America/Los_Angeles")


def test_without_time_zone_dates_are_read_in_the_key_owners_zone(
    client: Client, account: str, emu: Emulator
) -> None:
    for call in emu.records("calls", account)[200:210]:
        day = str(_start(call).astimezone(NEW_YORK).date())
        assert call["id"] in _ids(client, account, start_date=day, end_date=day)


def test_start_time_carries_the_offset_of_the_effective_zone(client: Client, account: str) -> None:
    window = {"start_date": "2026-01-10", "end_date": "2026-07-10"}
    offsets = {c["start_time"][-6:] for c in client.calls(account, **window)}
    assert offsets == {"-05:00", "-04:00"}  # New York, across the DST change
    utc = client.calls(account, time_zone="Etc/UTC", **window)
    assert {c["start_time"][-6:] for c in utc} == {"+00:00"}
    berlin = client.ok(f"/a/{account}/calls.json", time_zone="Europe/Berlin", fields="created_at",
                       **window)["calls"][0]
    assert berlin["start_time"][-6:] in ("+01:00", "+02:00")
    assert berlin["created_at"][-6:] == berlin["start_time"][-6:]


def test_other_timestamps_print_in_utc(client: Client, account: str) -> None:
    company = client.ok(f"/a/{account}/companies.json")["companies"][0]
    assert company["created_at"].endswith("Z")
    tag = client.ok(f"/a/{account}/tags.json", time_zone="Asia/Tokyo")["tags"][0]
    assert tag["created_at"].endswith("+09:00")
    user = client.ok(f"/a/{account}/users.json")["users"][0]
    assert user["created_at"][-6:] in ("-05:00", "-04:00")
    form = client.ok(f"/a/{account}/form_submissions.json", date_range="last_30_days")
    assert all(f["submitted_at"].endswith("Z") for f in form["form_submissions"])


def test_no_date_parameter_means_the_last_seven_days_including_today(
    client: Client, account: str, emu: Emulator
) -> None:
    first_day = (NOW.astimezone(NEW_YORK) - timedelta(days=6)).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    expected = {c["id"] for c in emu.records("calls", account) if _start(c) >= first_day}
    assert expected
    assert _ids(client, account) == expected
    assert len(expected) < len(emu.records("calls", account))


def test_forms_and_conversations_filter_on_their_own_timestamps(
    client: Client, account: str, emu: Emulator
) -> None:
    for endpoint, key, stream, field in (
        ("form_submissions.json", "form_submissions", "form_submissions", "submitted_at"),
        ("text-messages.json", "conversations", "text_messages", "last_message_at"),
    ):
        body = client.ok(f"/a/{account}/{endpoint}", start_date="2026-06-01",
                         end_date="2026-11-26", time_zone="Etc/UTC", per_page=250)
        low = datetime.fromisoformat("2026-06-01T00:00:00+00:00")
        expected = {r["id"] for r in emu.records(stream, account)
                    if datetime.fromisoformat(r[field].replace("Z", "+00:00")) >= low}
        assert {r["id"] for r in body[key]} == expected


@pytest.mark.parametrize("params", [
    {"date_range": "all_time"},
    {"start_date": (NOW - timedelta(days=25 * 31)).strftime("%Y-%m-%d")},
    {"start_date": "2024-10-25T00:00", "end_date": "2025-01-01T00:00"},
])
def test_ranges_reaching_before_retention_are_400(client: Client, account: str, params: dict) -> None:
    for endpoint in ("calls.json", "form_submissions.json", "text-messages.json"):
        response = client.get(f"/a/{account}/{endpoint}", **params)
        assert response.status_code == 400
        assert response.json() == RETENTION_ERROR


def test_a_range_just_inside_retention_is_served(client: Client, account: str) -> None:
    response = client.get(f"/a/{account}/calls.json", start_date="2024-10-27", time_zone="Etc/UTC")
    assert response.status_code == 200


def test_invalid_time_zone_and_date_formats_are_400(client: Client, account: str) -> None:
    path = f"/a/{account}/calls.json"
    assert client.get(path, time_zone="Mars/Olympus").status_code == 400
    assert client.get(path, start_date="2026-11-01T10:00:00.000+00:00").status_code == 400
    assert client.get(path, date_range="forever").status_code == 400


@pytest.mark.parametrize("name", ["today", "yesterday", "last_7_days", "last_30_days", "recent"])
def test_named_ranges_are_served(client: Client, account: str, name: str) -> None:
    assert client.get(f"/a/{account}/calls.json", date_range=name).status_code == 200


def test_records_older_than_25_months_are_purged() -> None:
    emu = Emulator(seed=3, now=NOW, history_days=900, calls_per_account=900)
    calls = emu.records("calls", emu.account_ids[0])
    cutoff = datetime(2024, 10, 26, 15, 30, 12, tzinfo=NOW.tzinfo)
    assert calls and all(_start(c) >= cutoff for c in calls)
    assert len(calls) < 900
