"""SMS threads and their messages through a real `meltano run` into PostgreSQL: a full run, one
thread receives a new message, and the delta asks for the messages of that thread only (besides
any thread still inside the lookback), leaving the tables equal to the emulator."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from .faults import api_requests, threads_asked
from .pipeline import PIPELINE, assert_equals_emulator

pytestmark = pytest.mark.e2e

SMS_STREAMS = ("sms_threads", "sms_thread_messages")
LOOKBACK = timedelta(hours=6)  # lookback_hours, the default


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_a_thread_receiving_a_message_is_the_only_changed_thread_read_and_the_tables_equal_the_emulator(
    meltano, warehouse, emulator
):
    api = emulator(accounts=1, calls_per_account=50, history_days=60, sms_threads_per_account=8)
    emu = api.emu
    schema = suffix = "e2e_sms_threads"
    account = emu.account_ids[0]
    threads = {t["id"]: _instant(t["last_message_at"]) for t in emu.records("sms_threads", account)}

    meltano.run(schema, api.url, suffix)

    assert threads_asked(emu) == sorted(threads)  # the full run reads every thread's messages
    assert_equals_emulator(warehouse, schema, emu, streams=SMS_STREAMS)
    state = meltano.state(f"{PIPELINE}:{suffix}", meltano.env())
    partitions = state["bookmarks"]["sms_thread_messages"]["partitions"]
    assert [p["context"] for p in partitions] == [{"account_id": account}]  # one bookmark, not one per thread
    bookmark = _instant(partitions[0]["replication_key_value"])
    assert bookmark >= max(threads.values())  # the newest message (lists may print whole seconds)

    changed = min(threads, key=threads.__getitem__)  # the thread quiet the longest
    emu.reset_requests()
    message_id = emu.add_sms_message(account, changed, "Can you call me back?")
    meltano.run(schema, api.url, suffix)

    inside_lookback = {t for t, last in threads.items() if last >= bookmark - LOOKBACK}
    assert threads_asked(emu) == sorted({changed} | inside_lookback)
    assert len(inside_lookback) == 1  # only the thread that set the bookmark
    assert sum("/sms-threads.json" in r["path"] for r in api_requests(emu)) == 1
    assert warehouse.query(
        f'SELECT thread_id, content FROM "{schema}".sms_thread_messages WHERE id = %s', (message_id,)
    ) == [(changed, "Can you call me back?")]
    assert_equals_emulator(warehouse, schema, emu, streams=SMS_STREAMS)
    deleted = warehouse.deleted(schema)
    assert deleted.get("sms_threads", []) == deleted.get("sms_thread_messages", []) == []
