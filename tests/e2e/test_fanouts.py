"""The opt-in fan-outs through a real `meltano run` into PostgreSQL.

With every stream selected: a full run, then one SMS thread receives a message, two calls are
edited and new calls arrive (one from a session tracker); the delta asks for the messages of the
changed thread, the page views of the new session-tracker call and the timelines of the new
calls' leads only, and the tables equal the emulator. A default run (meltano.yml deselects the
fan-outs) asks for neither and keeps calls incremental.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from callrail_emulator import fanouts

from .faults import api_requests, threads_asked
from .pipeline import PIPELINE, assert_equals_emulator, utc_naive

pytestmark = pytest.mark.e2e

EVERY_STREAM = json.dumps(["*.*"])  # TAP_CALLRAIL__SELECT: Meltano's select, overridden
LOOKBACK = timedelta(hours=6)  # lookback_hours, the default


def _asked(emu: Any, marker: str, position: int) -> list[str]:
    """The ids a fan-out asked for: path segment `position` of each request whose path holds `marker`."""
    return sorted(r["path"].split("/")[position] for r in api_requests(emu) if marker in r["path"])


def _page_view_calls(emu: Any) -> list[str]:
    return _asked(emu, "/page_views.json", -2)


def _expected_page_views(emu: Any, account: str, calls: set[str]) -> list[tuple[Any, ...]]:
    """(call_id, position, page_url, viewed at) of the emulator's page views of `calls`, 1 = first viewed."""
    rows = []
    for call in emu.records("calls", account):
        if call["id"] in calls:
            views = sorted(fanouts.page_views(call), key=lambda v: v["created_at"])
            rows += [(call["id"], n, v["page_url"], utc_naive(v["created_at"])) for n, v in enumerate(views, 1)]
    return sorted(rows)


def _warehouse_page_views(warehouse: Any, schema: str) -> list[tuple[Any, ...]]:
    return sorted(warehouse.query(f'SELECT call_id, position, page_url, created_at FROM "{schema}".call_page_views'))


def _session_calls(emu: Any, account: str) -> set[str]:
    return {c["id"] for c in emu.records("calls", account) if c.get("session_uuid")}


def test_a_delta_reads_page_views_of_the_new_session_call_and_messages_of_the_changed_thread_only(
    meltano, warehouse, emulator
):
    api = emulator(accounts=1, calls_per_account=60, history_days=60, sms_threads_per_account=6)
    emu = api.emu
    schema = suffix = "e2e_fanouts"
    account = emu.account_ids[0]
    every_stream = {"TAP_CALLRAIL__SELECT": EVERY_STREAM}

    meltano.run(schema, api.url, suffix, **every_stream)

    loaded_calls = set(warehouse.ids(schema, "calls"))
    session = _session_calls(emu, account) & loaded_calls
    assert session and _page_view_calls(emu) == sorted(session)
    assert _warehouse_page_views(warehouse, schema) == _expected_page_views(emu, account, session)
    # Lead timelines: one request per lead the run's calls and form submissions named.
    named = {
        row[0]
        for table in ("calls", "form_submissions")
        for row in warehouse.query(f'SELECT DISTINCT person_id FROM "{schema}".{table} WHERE person_id IS NOT NULL')
    } - {"anonymous"}
    assert named and _asked(emu, "/timeline.json", -2) == sorted(named)
    for person in sorted(named)[:5]:
        _lead, events = fanouts.lead_timeline(emu, emu._account(account), person)
        want = sorted(f"{e['type']}:{e['id']}" if e.get("id") else f"{e['type']}@" for e in events)
        got = warehouse.query(
            f'SELECT event_key FROM "{schema}".lead_timelines WHERE person_id = %s ORDER BY event_key', (person,)
        )
        assert sorted(k if not k.startswith("milestone@") else "milestone@" for (k,) in got) == want

    threads = {t["id"]: utc_naive(t["last_message_at"]) for t in emu.records("sms_threads", account)}
    state = meltano.state(f"{PIPELINE}:{suffix}", meltano.env())
    thread_bookmark = utc_naive(state["bookmarks"]["sms_thread_messages"]["partitions"][0]["replication_key_value"])
    changed_thread = min(threads, key=threads.__getitem__)
    emu.add_sms_message(account, changed_thread, "Is Saturday still open?")
    edited = emu.edit_calls(account, 2)
    new_calls: list[str] = []
    while not _session_calls(emu, account) & set(new_calls):
        new_calls += emu.add_calls(account, 1)
    new_session = _session_calls(emu, account) & set(new_calls)
    emu.reset_requests()

    meltano.run(schema, api.url, suffix, **every_stream)

    assert _page_view_calls(emu) == sorted(new_session)  # exactly the new session-tracker call
    # Timelines of the leads the new calls name; the edited and re-read calls name leads read before.
    new_leads = {c["person_id"] for c in emu.records("calls", account) if c["id"] in new_calls}
    assert _asked(emu, "/timeline.json", -2) == sorted(new_leads)
    inside_lookback = {t for t, last in threads.items() if last >= thread_bookmark - LOOKBACK}
    assert threads_asked(emu) == sorted({changed_thread} | inside_lookback)
    assert_equals_emulator(warehouse, schema, emu)
    session = _session_calls(emu, account) & set(warehouse.ids(schema, "calls"))
    assert _warehouse_page_views(warehouse, schema) == _expected_page_views(emu, account, session)
    edited_notes = warehouse.query(
        f'SELECT id, note FROM "{schema}".calls WHERE id = ANY(%s) ORDER BY id', (sorted(edited),)
    )
    served = {c["id"]: c.get("note") for c in emu.records("calls", account) if c["id"] in edited}
    assert dict(edited_notes) == served
    deleted = warehouse.deleted(schema)
    assert deleted.get("call_page_views", []) == deleted.get("lead_timelines", []) == []


def test_a_default_run_asks_no_page_views_or_timelines_and_calls_stay_incremental(meltano, warehouse, emulator):
    api = emulator(accounts=1, calls_per_account=40, history_days=60)
    emu = api.emu
    schema = suffix = "e2e_fanouts_default"

    meltano.run(schema, api.url, suffix)
    state = meltano.state(f"{PIPELINE}:{suffix}", meltano.env())
    (calls_bookmark,) = [p["replication_key_value"] for p in state["bookmarks"]["calls"]["partitions"]]
    emu.add_calls(emu.account_ids[0], 3)
    emu.reset_requests()
    meltano.run(schema, api.url, suffix)

    assert not _page_view_calls(emu) and not _asked(emu, "/timeline.json", -2)
    assert not {"call_page_views", "lead_timelines"} & warehouse.tables(schema)
    starts = {r["query"]["start_date"][0] for r in api_requests(emu) if r["path"].endswith("/calls.json")}
    # The delta asked calls from near its bookmark, not from start_date: still incremental.
    earliest = utc_naive(calls_bookmark) - LOOKBACK - timedelta(minutes=1)
    assert starts and all(utc_naive(start + ":00Z") >= earliest for start in starts)
    assert_equals_emulator(warehouse, schema, emu)
