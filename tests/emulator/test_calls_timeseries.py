"""calls/timeseries.json: counts per local day computed from the very calls calls.json lists,
every day of the range present, at most 200 buckets, `fields=` choosing the counts."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any

import pytest

from callrail_emulator import Emulator
from callrail_emulator.timeseries import COUNT_FIELDS

from .support import Client

EVERY_COUNT = "total_calls,answered_calls,missed_calls,first_time_callers,average_duration,leads"


def _timeseries(client: Client, account: str, **params: Any) -> dict[str, Any]:
    return client.ok(f"/a/{account}/calls/timeseries.json", **params)


def _expected(calls: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The counts of each local day, from calls listed with the same zone and company."""
    by_day: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for call in calls:
        by_day[call["start_time"][:10]].append(call)
    expected = {}
    for day, held in by_day.items():
        durations = [c["duration"] for c in held if c["duration"] is not None]
        expected[day] = {
            "total_calls": len(held),
            "answered_calls": sum(c["answered"] is True for c in held),
            "missed_calls": sum(c["answered"] is not True for c in held),
            "first_time_callers": sum(c["first_call"] is True for c in held),
            "average_duration": round(sum(durations) / len(durations), 2),
            "leads": sum(c["lead_status"] == "good_lead" for c in held),
        }
    return expected


@pytest.mark.parametrize("zone", ["America/Los_Angeles", "Europe/London"])
def test_daily_counts_are_those_of_the_calls_listed_for_the_company_in_the_zone(
    client: Client, account: str, emu: Emulator, zone: str
) -> None:
    company = emu.company_ids(account)[0]
    window = {"start_date": "2026-06-01", "end_date": "2026-11-26", "time_zone": zone, "company_id": company}
    calls = client.calls(account, fields="first_call,lead_status", **window)

    body = _timeseries(client, account, interval="day", fields=EVERY_COUNT, **window)

    expected = _expected(calls)
    served = {point["date"]: {k: v for k, v in point.items() if k != "date"} for point in body["data"]}
    assert {day: counts for day, counts in served.items() if counts["total_calls"]} == expected
    assert body["total_results"]["total_calls"] == len(calls)
    assert body["time_zone"] == zone


def test_every_day_of_the_range_is_a_data_point_empty_ones_count_zero(client: Client, account: str) -> None:
    body = _timeseries(client, account, start_date="2026-11-01", end_date="2026-11-26", time_zone="Etc/UTC")

    days = [point["date"] for point in body["data"]]
    assert days == [str(date(2026, 11, 1) + timedelta(days=n)) for n in range(26)]
    assert all(set(point) == {"date", "total_calls"} for point in body["data"])  # no fields=: total_calls only
    assert body["start_date"] == "2026-11-01T00:00:00+0000"
    assert body["end_date"] == "2026-11-26T23:59:59+0000"


def test_two_hundred_days_are_served_and_two_hundred_and_one_are_refused(client: Client, account: str) -> None:
    first = date(2026, 5, 11)
    served = _timeseries(client, account, start_date=str(first), end_date=str(first + timedelta(days=199)))
    assert len(served["data"]) == 200

    response = client.get(
        f"/a/{account}/calls/timeseries.json", start_date=str(first), end_date=str(first + timedelta(days=200))
    )

    assert response.status_code == 400
    assert "200" in response.json()["error"]


def test_weeks_and_months_sum_the_days(client: Client, account: str) -> None:
    window = {"start_date": "2026-06-01", "end_date": "2026-11-29", "time_zone": "America/Chicago"}
    days = _timeseries(client, account, **window)["data"]

    weeks = _timeseries(client, account, interval="week", **window)["data"]
    months = _timeseries(client, account, interval="month", **window)["data"]

    assert [point["date"] for point in weeks][:2] == ["2026-06-01", "2026-06-08"]  # Mondays
    assert [point["date"] for point in months] == [f"2026-{m:02d}-01" for m in range(6, 12)]
    total = sum(point["total_calls"] for point in days)
    assert sum(point["total_calls"] for point in weeks) == sum(point["total_calls"] for point in months) == total


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"fields": "total_calls,calls_per_hour"}, "Invalid field: calls_per_hour"),
        ({"interval": "hour"}, "Invalid interval: hour (not emulated)"),
        ({"interval": "fortnight"}, "Invalid interval: fortnight"),
        ({"time_zone": "Mars/Olympus"}, "Invalid time_zone: Mars/Olympus"),
    ],
)
def test_bad_parameters_are_a_400_naming_the_value(
    client: Client, account: str, params: dict[str, str], error: str
) -> None:
    response = client.get(
        f"/a/{account}/calls/timeseries.json", start_date="2026-11-01", end_date="2026-11-26", **params
    )

    assert response.status_code == 400
    assert response.json() == {"error": error}


def test_a_forbidden_timeseries_is_a_403_and_requests_are_logged_as_the_report(
    client: Client, account: str, emu: Emulator
) -> None:
    emu.forbid(account, "calls_timeseries")

    response = client.get(f"/a/{account}/calls/timeseries.json", start_date="2026-11-01", end_date="2026-11-26")

    assert response.status_code == 403
    assert emu.requests[-1]["stream"] == "calls_timeseries"
    assert "calls_timeseries" in next(a["forbidden"] for a in emu.state()["accounts"] if a["id"] == account)


def test_the_python_api_answers_what_the_endpoint_does_without_logging_a_request(
    client: Client, account: str, emu: Emulator
) -> None:
    company = emu.company_ids(account)[1]
    window = {"start_date": "2026-10-01", "end_date": "2026-11-26", "time_zone": "America/Phoenix"}
    served = _timeseries(client, account, company_id=company, fields=",".join(COUNT_FIELDS), **window)["data"]
    logged = len(emu.requests)

    assert emu.calls_timeseries(account, company, **window) == served
    assert len(emu.requests) == logged


def test_calls_given_with_put_are_counted_in_their_company_and_local_day() -> None:
    emu = Emulator(accounts=0)
    account = emu.add_account("ACC01")
    emu.put("companies", account, [{"id": "COM1", "time_zone": "America/New_York"}, {"id": "COM2"}])
    emu.put(
        "calls",
        account,
        [
            {"id": "CAL1", "company_id": "COM1", "start_time": "2026-11-20T03:30:00Z", "answered": True},
            {"id": "CAL2", "company_id": "COM1", "start_time": "2026-11-20T12:00:00Z", "answered": False},
            {"id": "CAL3", "company_id": "COM2", "start_time": "2026-11-20T12:00:00Z", "answered": True},
        ],
    )

    data = emu.calls_timeseries(account, "COM1", "2026-11-19", "2026-11-20", "America/New_York")

    assert [(p["date"], p["total_calls"], p["answered_calls"]) for p in data] == [
        ("2026-11-19", 1, 1),  # 03:30 UTC is the evening before in New York
        ("2026-11-20", 1, 0),
    ]
