"""Delta runs that cost what changed (real `meltano run` into PostgreSQL, the emulator over HTTP).

The hourly delta reads the cheap streams, calls and form submissions over the short lookback and
texts down to their bookmark; the expensive full-table streams and the deep lookback wait until
due (`full_table_refresh_hours`). "24 hours later" is made by ageing the marks in Meltano's
state, as the clock would.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from .faults import api_requests, kill_group, start_meltano, tap_lines
from .pipeline import PIPELINE, STREAMS, assert_equals_emulator, utc_naive, wait_for

pytestmark = pytest.mark.e2e

CADENCE = ("leads", "integrations", "outbound_caller_ids")
MARKS = ("read_completely_at", "deep_lookback_at")


def _requests_by_stream(emu: Any) -> Counter[str]:
    def stream(path: str) -> str:
        name = path.rsplit("/", 1)[-1].removesuffix(".json")
        if "/sms-threads/" in path:
            return "sms_thread_messages"
        return {
            "a": "accounts",
            "text-messages": "text_messages",
            "caller_ids": "outbound_caller_ids",
            "sms-threads": "sms_threads",
        }.get(name, name)

    return Counter(stream(r["path"]) for r in api_requests(emu))


def _age_state(meltano: Any, state_id: str, hours: float) -> None:
    """Move every due mark in the stored state `hours` into the past (what the clock would do)."""
    state = meltano.state(state_id, meltano.env())
    for bookmark in state["bookmarks"].values():
        for partition in bookmark.get("partitions", []):
            for mark in MARKS:
                if mark in partition:
                    moment = datetime.fromisoformat(partition[mark].replace("Z", "+00:00")) - timedelta(hours=hours)
                    partition[mark] = moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    meltano.command("state", "set", "--force", state_id, json.dumps({"singer_state": state}), env=meltano.env())


def test_an_hourly_delta_costs_one_request_per_cheap_stream_and_loads_every_change(meltano, warehouse, emulator):
    api = emulator(accounts=1, companies_per_account=40, calls_per_account=1500, history_days=60)
    emu = api.emu
    schema = suffix = "e2e_hourly_delta"
    meltano.run(schema, api.url, suffix)
    account = emu.account_ids[0]
    emu.reset_requests()
    added = emu.add_calls(account, 4)
    edited = emu.edit_calls(account, 1, note="edited within the hour")

    proc = meltano.run(schema, api.url, suffix)

    made = _requests_by_stream(emu)
    assert made == Counter(
        {
            s: 1
            for s in (
                "accounts",
                "companies",
                "users",
                "tags",
                "trackers",
                "notifications",
                "calls",
                "form_submissions",
                "text_messages",
                "sms_threads",
                "sms_thread_messages",  # the thread at the bookmark, inside the lookback
            )
        }
    ), made  # 11 requests; the full load made 40 per per-company stream
    for stream in CADENCE:
        assert any(f"{stream} {account}: read completely" in line for line in tap_lines(proc.stderr)), stream
    assert set(added) <= set(warehouse.ids(schema, "calls", account))
    assert warehouse.query(f'SELECT note FROM "{schema}".calls WHERE id = %s', (edited[0],)) == [
        ("edited within the hour",)
    ]
    assert_equals_emulator(warehouse, schema, emu)
    assert warehouse.deleted(schema) == {}


def test_a_stream_not_due_marks_nothing_and_a_due_one_marks_its_vanished_rows(meltano, warehouse, emulator):
    api = emulator(accounts=1)
    emu = api.emu
    schema = suffix = "e2e_cadence_deletes"
    state_id = f"{PIPELINE}:{suffix}"
    meltano.run(schema, api.url, suffix)
    account = emu.account_ids[0]
    gone = {stream: str(sorted(emu.ids(stream, account))[0]) for stream in ("leads", "integrations")}
    for stream, record_id in gone.items():
        emu.delete(stream, account, record_id)

    meltano.run(schema, api.url, suffix)  # an hour later: not due

    assert warehouse.deleted(schema) == {}
    for stream, record_id in gone.items():
        assert record_id in warehouse.ids(schema, stream, account), stream  # the row stays, unmarked

    _age_state(meltano, state_id, 25)
    meltano.run(schema, api.url, suffix)  # a day later: due

    assert warehouse.deleted(schema) == {stream: [record_id] for stream, record_id in gone.items()}
    assert_equals_emulator(warehouse, schema, emu, kept={s: {i} for s, i in gone.items()})


def test_accounts_that_fall_due_at_different_times_never_mark_each_others_rows(meltano, warehouse, emulator):
    api = emulator(accounts=2)
    emu = api.emu
    first, second = emu.account_ids
    schema = suffix = "e2e_cadence_two_accounts"
    # The agency adds its second account later: until then the job reads only the first.
    meltano.run(schema, api.url, suffix, TAP_CALLRAIL_ACCOUNT_IDS=json.dumps([first]))
    gone = str(sorted(emu.ids("leads", first))[0])
    emu.delete("leads", first, gone)

    # Both accounts now: the second was never read, so leads are due for both (one table).
    meltano.run(schema, api.url, suffix)

    assert warehouse.deleted(schema) == {"leads": [gone]}
    assert_equals_emulator(warehouse, schema, emu, kept={"leads": {gone}})
    for account in (first, second):
        assert warehouse.ids(schema, "leads", account)
    # An hour later a lead of the second account goes: not due, nothing marked, nothing lost.
    later = str(sorted(emu.ids("leads", second))[0])
    emu.delete("leads", second, later)
    meltano.run(schema, api.url, suffix)
    assert warehouse.deleted(schema) == {"leads": [gone]}
    assert later in warehouse.ids(schema, "leads", second)


def test_a_deep_run_lands_an_edit_to_a_three_day_old_call_that_the_hourly_run_does_not_reach(
    meltano, warehouse, emulator
):
    # 300 calls over 30 days: one every 2.4 hours.
    api = emulator(accounts=1, calls_per_account=300, history_days=30)
    emu = api.emu
    account = emu.account_ids[0]
    schema = suffix = "e2e_deep_lookback"
    state_id = f"{PIPELINE}:{suffix}"
    meltano.run(schema, api.url, suffix)
    note = "edited three days later"
    edited = set(emu.edit_calls(account, 110, note=note))  # the 110 newest: about 5 days of calls
    started = {c["id"]: utc_naive(c["start_time"]) for c in emu.records("calls", account) if c["id"] in edited}
    newest = max(started.values())
    old = sorted(i for i, t in started.items() if newest - t > timedelta(days=3))
    recent = sorted(i for i, t in started.items() if newest - t < timedelta(hours=5))
    assert old and recent

    def notes(ids: list[str]) -> set[Any]:
        return {n for (n,) in warehouse.query(f'SELECT note FROM "{schema}".calls WHERE id = ANY(%s)', (ids,))}

    meltano.run(schema, api.url, suffix)  # hourly: 6 hours back

    assert notes(recent) == {note}
    assert note not in notes(old)

    _age_state(meltano, state_id, 25)
    meltano.run(schema, api.url, suffix)  # the deep lookback is due: 7 days back

    assert notes(old) == {note}
    assert_equals_emulator(warehouse, schema, emu)


def _conversations(emu: Any, account: str) -> dict[str, str]:
    return {c["id"]: c["last_message_at"] for c in emu.records("text_messages", account)}


def _texted(emu: Any, account: str, ids: list[str], newest: datetime) -> None:
    """New messages in these conversations, one a minute back from `newest`."""
    emu.put(
        "text_messages",
        account,
        [
            {"id": i, "last_message_at": (newest - timedelta(minutes=k)).strftime("%Y-%m-%dT%H:%M:%S.000Z")}
            for k, i in enumerate(ids)
        ],
    )


def _loaded_last_message_at(warehouse: Any, schema: str, ids: list[str]) -> dict[str, Any]:
    rows = warehouse.query(f'SELECT id, last_message_at FROM "{schema}".text_messages WHERE id = ANY(%s)', (ids,))
    return {i: utc_naive(t) for i, t in rows}


def test_text_messages_stop_early_read_all_when_out_of_order_and_a_kill_loses_no_conversation(
    meltano, warehouse, emulator, tmp_path
):
    api = emulator(accounts=1, conversations_per_account=60)
    emu = api.emu
    emu.set_paging(page_size=10)  # 6 pages of conversations
    account = emu.account_ids[0]
    schema = suffix = "e2e_texts"
    state_id = f"{PIPELINE}:{suffix}"
    meltano.run(schema, api.url, suffix)
    assert _requests_by_stream(emu)["text_messages"] == 6
    by_age = sorted(_conversations(emu, account), key=_conversations(emu, account).get)
    now = (datetime.now(timezone.utc) - timedelta(minutes=1)).replace(microsecond=0)

    # Ordered: a new text in the oldest conversation brings it to page 1, where reading stops.
    emu.reset_requests()
    _texted(emu, account, by_age[:1], now)
    meltano.run(schema, api.url, suffix)
    assert _requests_by_stream(emu)["text_messages"] == 1
    assert _loaded_last_message_at(warehouse, schema, by_age[:1]) == {by_age[0]: utc_naive(now)}

    # Out of order: the first page reversed; the run says so and reads every page.
    emu.reset_requests()
    emu.hostile("reverse_items", "text-messages", pages=(1,))
    _texted(emu, account, by_age[1:2], now)
    proc = meltano.run(schema, api.url, suffix)
    emu.clear_faults()
    assert _requests_by_stream(emu)["text_messages"] == 6
    assert any("not newest first" in line for line in tap_lines(proc.stderr))
    assert_equals_emulator(warehouse, schema, emu, streams=("text_messages",))

    # Killed before the stop point: 15 conversations changed (pages 1-2); page 2 never answers.
    before = meltano.state(state_id, meltano.env())["bookmarks"]["text_messages"]["partitions"][0]
    changed = by_age[2:17]
    _texted(emu, account, changed, now)
    emu.reset_requests()
    emu.hostile("hang", "text-messages", pages=(2,))
    log = tmp_path / "killed.log"
    proc = start_meltano(
        meltano,
        ["run", "--state-id-suffix", suffix, "tap-callrail", "target-postgres"],
        meltano.env(schema, api.url),
        log,
    )
    try:
        assert wait_for(lambda: _requests_by_stream(emu)["text_messages"] >= 2, 240, 0.05), log.read_text()[-3000:]
        kill_group(proc)
    finally:
        if proc.poll() is None:
            kill_group(proc)
    emu.clear_faults()
    after_kill = meltano.state(state_id, meltano.env())["bookmarks"]["text_messages"]["partitions"][0]
    assert after_kill.get("replication_key_value") == before["replication_key_value"]

    meltano.run(schema, api.url, suffix, "--force")

    expected = {i: utc_naive(t) for i, t in _conversations(emu, account).items() if i in changed}
    assert _loaded_last_message_at(warehouse, schema, changed) == expected
    assert_equals_emulator(warehouse, schema, emu, streams=STREAMS)
    final = meltano.state(state_id, meltano.env())["bookmarks"]["text_messages"]["partitions"][0]
    assert utc_naive(final["replication_key_value"]) == utc_naive(now)
