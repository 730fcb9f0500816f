"""Delta runs: edits land in place, new rows arrive, deletes become visible, and only then."""

from __future__ import annotations

import pytest

from .pipeline import PIPELINE, assert_equals_emulator, wait_for

pytestmark = pytest.mark.e2e

NOTE = "edited by the delta test"


def _calls_requests(emu) -> int:
    return emu.request_count(path_contains="/calls.json")


def test_delta_updates_in_place_adds_marks_deleted_tag_keeps_spam_and_reads_far_less(meltano, warehouse, emulator):
    api = emulator(calls_per_account=2000)
    emu = api.emu
    schema, suffix = "e2e_delta", "delta"
    meltano.run(schema, api.url, suffix)
    full_calls, full_total = _calls_requests(emu), emu.request_count()
    assert meltano.state(f"{PIPELINE}:{suffix}", meltano.env())["bookmarks"]["calls"]

    account_id = emu.account_ids[0]
    emu.reset_requests()
    edited = emu.edit_calls(account_id, 5, note=NOTE)
    if not edited:
        edited = [c["id"] for c in emu.records("calls", account_id) if c.get("note") == NOTE]
    edited_ids = {str(e["id"] if isinstance(e, dict) else e) for e in edited}
    added = emu.add_calls(account_id, 3)
    added_ids = {str(a["id"] if isinstance(a, dict) else a) for a in added or []}
    tag = sorted(emu.ids("tags", account_id))[0]
    deleted_tag = str(tag)
    emu.delete("tags", account_id, tag)
    recent = [str(c["id"]) for c in emu.records("calls", account_id, all_fields=False)[-20:]]
    spam_call = next(i for i in reversed(recent) if i not in edited_ids | added_ids)
    emu.mark_spam(account_id, spam_call)

    meltano.run(schema, api.url, suffix)

    assert len(edited_ids) == 5
    notes = warehouse.query(f'SELECT id, note FROM "{schema}".calls WHERE id = ANY(%s)', (sorted(edited_ids),))
    assert sorted(notes) == sorted((i, NOTE) for i in edited_ids)
    if added_ids:
        assert set(warehouse.ids(schema, "calls", account_id)) >= added_ids
    assert spam_call in warehouse.ids(schema, "calls", account_id), "the spam call must stay"
    assert warehouse.deleted(schema) == {"tags": [deleted_tag]}
    assert_equals_emulator(warehouse, schema, emu, kept={"tags": {deleted_tag}, "calls": {spam_call}})
    delta_calls = _calls_requests(emu)
    assert delta_calls * 3 <= full_calls, (delta_calls, full_calls)
    assert emu.request_count() < full_total


def test_run_failing_midway_marks_nothing_deleted(meltano, warehouse, emulator, scratch):
    api = emulator()
    emu = api.emu
    schema, suffix = "e2e_failing_run", "failing_run"
    meltano.run(schema, api.url, suffix)
    assert warehouse.deleted(schema) == {}

    # Rows gone at the source in streams the failing run will not read completely. The tap
    # syncs streams in name order (accounts, calls, companies, ..., leads, notifications, ...,
    # tags, ...) and accounts one after the other within each.
    account_id = emu.account_ids[-1]
    gone = {}
    for stream in ("leads", "notifications", "tags"):
        ids = sorted(emu.ids(stream, account_id))
        if ids:
            emu.delete(stream, account_id, ids[0])
            gone[stream] = [str(ids[0])]
    assert gone
    emu.reset_requests()

    log = scratch / "failing-run.log"
    args = ["run", "--state-id-suffix", suffix, "tap-callrail", "target-postgres"]
    proc = meltano.popen(args, meltano.env(schema, api.url), log)
    try:
        # Fail every request from the moment the first account's companies are read: the
        # companies table is then half re-read, and the later streams not read at all.
        assert wait_for(lambda: emu.request_count(path_contains="/companies.json") >= 1, 180)
        emu.persistent_fault(status=500)
        returncode = proc.wait(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
        emu.clear_faults()
    assert returncode != 0, log.read_text()[-3000:]
    assert warehouse.deleted(schema) == {}, "a failed run must not mark rows deleted"

    # The next complete run that reads them applies the deletes (leads are read once a day:
    # full_table_refresh_hours=0 makes this run read them).
    meltano.run(schema, api.url, suffix, TAP_CALLRAIL_FULL_TABLE_REFRESH_HOURS="0")
    assert warehouse.deleted(schema) == gone
