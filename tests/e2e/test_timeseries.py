"""calls_timeseries through a real `meltano run` into PostgreSQL: the table holds CallRail's own
daily counts per company (the emulator's, each company in its own time zone); an hourly delta
asks for none; the run due a day later asks once per company and lands the counts that changed."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from .faults import api_requests
from .pipeline import PIPELINE
from .test_delta_cost import _age_state

pytestmark = pytest.mark.e2e

COUNTS = ("total_calls", "answered_calls", "missed_calls", "first_time_callers", "average_duration", "leads")


def _timeseries_requests(emu: Any) -> list[dict[str, Any]]:
    return [r for r in api_requests(emu) if r["path"].endswith("/calls/timeseries.json")]


def _loaded(warehouse: Any, schema: str, company_id: str) -> dict[str, tuple[Any, ...]]:
    rows = warehouse.query(
        f'SELECT date::text, time_zone, {", ".join(COUNTS)} FROM "{schema}".calls_timeseries '
        "WHERE company_id = %s ORDER BY date",
        (company_id,),
    )
    return {day: (zone, *(float(v) if v is not None else None for v in counts)) for day, zone, *counts in rows}


def _assert_equals_emulator(warehouse: Any, schema: str, emu: Any, account: str) -> dict[str, str]:
    """Every company's rows: one per day from its first to its today, the emulator's counts in its zone.

    Returns each company's first day loaded.
    """
    firsts = {}
    for company in emu.records("companies", account):
        zone = company["time_zone"]
        loaded = _loaded(warehouse, schema, company["id"])
        days = sorted(loaded)
        assert days, company["id"]
        today = emu.clock().astimezone(ZoneInfo(zone)).date()
        assert days[-1] == str(today)
        assert len(days) == (today - date.fromisoformat(days[0])).days + 1  # no day missing
        served = emu.calls_timeseries(account, company["id"], days[0], days[-1], zone)
        expected = {p["date"]: (zone, *(float(p[name]) for name in COUNTS)) for p in served}
        assert loaded == expected, company["id"]
        firsts[company["id"]] = days[0]
    return firsts


def test_daily_counts_equal_the_emulators_and_are_read_once_a_day_one_request_per_company(meltano, warehouse, emulator):
    api = emulator(accounts=1, companies_per_account=3, calls_per_account=300, history_days=60)
    emu = api.emu
    account = emu.account_ids[0]
    companies = emu.company_ids(account)
    schema = suffix = "e2e_timeseries"
    state_id = f"{PIPELINE}:{suffix}"

    meltano.run(schema, api.url, suffix)

    firsts = _assert_equals_emulator(warehouse, schema, emu, account)
    # A first read reaches back to CallRail's retention: about 760 days, 4 windows of at most 200.
    assert len(_timeseries_requests(emu)) == 4 * len(companies)
    assert all(r["query"]["interval"] == ["day"] for r in _timeseries_requests(emu))

    # An hour later: not due, no request.
    emu.reset_requests()
    added = emu.add_calls(account, 3)
    meltano.run(schema, api.url, suffix)
    assert _timeseries_requests(emu) == []
    assert set(added) <= set(warehouse.ids(schema, "calls", account))

    # A day later: due, one request per company from the last day read (the account's newest)
    # minus lookback_window_days (7), to each company's today; a call removed as spam 3 days ago.
    spam = next(c for c in emu.records("calls", account)[::-1] if c["start_time"] < _days_ago(emu, 3))
    emu.mark_spam(account, spam["id"])
    _age_state(meltano, state_id, 25)
    last_read = meltano.state(state_id, meltano.env())["bookmarks"]["calls_timeseries"]["partitions"][0]
    emu.reset_requests()
    meltano.run(schema, api.url, suffix)

    made = _timeseries_requests(emu)
    assert sorted(r["query"]["company_id"][0] for r in made) == sorted(companies)
    since = date.fromisoformat(last_read["replication_key_value"]) - timedelta(days=7)
    for request in made:
        today = emu.clock().astimezone(ZoneInfo(request["query"]["time_zone"][0])).date()
        assert (request["query"]["start_date"], request["query"]["end_date"]) == ([str(since)], [str(today)])
    assert _assert_equals_emulator(warehouse, schema, emu, account) == firsts  # the spam call is no longer counted
    deleted = warehouse.query(f'SELECT count(*) FROM "{schema}".calls_timeseries WHERE _sdc_deleted_at IS NOT NULL')
    assert deleted == [(0,)]


def _days_ago(emu: Any, days: int) -> str:
    return (emu.clock() - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%S")
