"""What a delta run re-reads: expensive full-table streams on a cadence, text messages until the
bookmark. (Short and deep lookback of calls and form submissions: test_date_window.py.)"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

import pytest

from callrail_emulator import Emulator
from tests.callrail import base_config, populate, run_sync, sent

CADENCE = ("leads", "integrations", "outbound_caller_ids")
EVERY_RUN = ("accounts", "companies", "users", "tags", "trackers", "notifications")
FULL_TABLE = (*EVERY_RUN, *CADENCE)


def _activated(result, stream: str) -> bool:  # type: ignore[no-untyped-def]
    return bool(result.of_type("ACTIVATE_VERSION", stream))


def _read_at(result, stream: str) -> dict[str, str | None]:  # type: ignore[no-untyped-def]
    return {p["context"]["account_id"]: p.get("read_completely_at") for p in result.bookmarks(stream)}


def _age_mark(state: dict, stream: str, account: str, value: str) -> dict:
    for partition in state["bookmarks"][stream]["partitions"]:
        if partition["context"]["account_id"] == account:
            partition["read_completely_at"] = value
    return state


# -- full-table streams on a cadence ---------------------------------------------------------------


def test_a_delta_run_skips_the_expensive_streams_read_completely_within_the_refresh_period(
    fake: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    populate(fake)
    config = base_config(emit_activate_version_messages=True)
    first = run_sync(config, streams=set(FULL_TABLE))
    fake.reset_requests()

    with caplog.at_level(logging.INFO):
        second = run_sync(config, state=first.state, streams=set(FULL_TABLE))

    for stream in CADENCE:
        assert _read_at(first, stream) == dict.fromkeys(("ACC01", "ACC02"), "2026-11-26T12:00:00.000000Z")
        assert _activated(first, stream)
        assert sent(fake, stream) == []
        assert second.records(stream) == []
        assert not _activated(second, stream)  # nothing read: nothing may be marked deleted
        assert _read_at(second, stream) == _read_at(first, stream)
        for account in ("ACC01", "ACC02"):
            assert f"{stream} {account}: read completely 0 min ago, next due in 24 h" in caplog.text
    for stream in EVERY_RUN:
        assert sent(fake, stream), stream
        assert _activated(second, stream), stream
    report = "\n".join(r.getMessage() for r in caplog.records if "skipped: read completely" in r.getMessage())
    assert "integrations" in report and "leads" in report


@pytest.mark.parametrize("refresh_hours", [0, 1])
def test_the_expensive_streams_are_read_again_once_due(fake: Emulator, refresh_hours: int) -> None:
    populate(fake)
    first = run_sync(base_config(emit_activate_version_messages=True), streams=set(CADENCE))
    state = first.state
    if refresh_hours:
        for stream in CADENCE:
            for account in ("ACC01", "ACC02"):
                _age_mark(state, stream, account, "2026-11-26T10:55:00.000000Z")  # 65 min ago
    fake.reset_requests()

    second = run_sync(
        base_config(emit_activate_version_messages=True, full_table_refresh_hours=refresh_hours),
        state=state,
        streams=set(CADENCE),
    )

    for stream in CADENCE:
        assert sent(fake, stream)
        assert {r["id"] for r in second.records(stream)} == {r["id"] for r in first.records(stream)}
        assert _activated(second, stream)


def test_one_account_due_reads_every_account_so_deletes_cover_the_whole_table(fake: Emulator) -> None:
    populate(fake)
    config = base_config(emit_activate_version_messages=True)
    first = run_sync(config, streams={"leads"})
    state = _age_mark(first.state, "leads", "ACC02", "2026-11-25T11:00:00.000000Z")  # 25 h ago
    gone = first.records("leads")[0]
    fake.delete("leads", gone["account_id"], gone["id"])
    fake.reset_requests()

    second = run_sync(config, state=state, streams={"leads"})

    assert {r.account_id for r in sent(fake, "leads")} == {"ACC01", "ACC02"}
    assert _activated(second, "leads")
    assert gone["id"] not in {r["id"] for r in second.records("leads")}
    assert len(second.records("leads")) == len(first.records("leads")) - 1
    assert set(_read_at(second, "leads").values()) == {"2026-11-26T12:00:00.000000Z"}


def test_a_read_that_fails_is_not_remembered_and_is_due_next_run(fake: Emulator) -> None:
    populate(fake)
    fake.persistent_fault(500, "/a/ACC02/leads.json")
    config = base_config(emit_activate_version_messages=True)

    failed = run_sync(config, streams={"leads"}, raise_errors=False)

    assert failed.error is not None
    assert not _activated(failed, "leads")
    assert _read_at(failed, "leads").get("ACC02") is None
    fake.clear_faults()
    fake.reset_requests()
    rerun = run_sync(config, state=failed.state, streams={"leads"})
    assert {r.account_id for r in sent(fake, "leads")} == {"ACC01", "ACC02"}
    assert _activated(rerun, "leads")


def test_a_403_on_one_company_is_not_a_complete_read_and_stays_due(fake: Emulator) -> None:
    populate(fake, accounts=1)
    fake.persistent_fault(403, "/a/ACC01/integrations.json")
    config = base_config(emit_activate_version_messages=True)

    first = run_sync(config, streams={"integrations"})

    assert not _activated(first, "integrations")
    assert _read_at(first, "integrations") == {"ACC01": None}


# -- text messages: newest first, read until the bookmark ------------------------------------------


def _conversation(n: int, last_message_at: str) -> dict:
    return {
        "id": f"K{n:04d}",
        "company_id": "COM01A",
        "initial_tracker_id": "TRK01",
        "current_tracker_id": "TRK01",
        "customer_name": f"Customer {n}",
        "customer_phone_number": f"+1555000{n:04d}",
        "initial_tracker_number": "+15550001111",
        "current_tracker_number": "+15550001111",
        "last_message_at": last_message_at,
        "state": "active",
        "company_time_zone": "America/New_York",
        "formatted_customer_phone_number": "555",
        "formatted_initial_tracker_number": "555",
        "formatted_current_tracker_number": "555",
        "formatted_customer_name": f"Customer {n}",
        "recent_messages": [],
    }


def _texts(fake: Emulator, count: int) -> list[str]:
    """`count` conversations, one an hour back from 2026-11-26T11:00Z; their ids, newest first."""
    fake.add_account("ACC01", numeric_id=100000001)
    fake.put("companies", "ACC01", [{"id": "COM01A", "name": "A", "time_zone": "America/New_York"}])
    newest = datetime(2026, 11, 26, 11, tzinfo=timezone.utc)
    conversations = [
        _conversation(n, (newest - timedelta(hours=n)).strftime("%Y-%m-%dT%H:%M:%SZ")) for n in range(count)
    ]
    fake.put("text_messages", "ACC01", conversations)
    return [c["id"] for c in conversations]


def test_text_messages_delta_stops_at_the_page_that_reaches_past_the_bookmark(fake: Emulator) -> None:
    ids = _texts(fake, 40)
    fake.set_paging(page_size=4)
    first = run_sync(base_config(), streams={"text_messages"})
    assert [r["id"] for r in first.records("text_messages")] == ids
    assert first.bookmarks("text_messages")[0]["replication_key_value"] == "2026-11-26T11:00:00.000000Z"
    fake.put("text_messages", "ACC01", [{"id": ids[30], "last_message_at": "2026-11-26T11:30:00Z"}])  # a new text
    fake.reset_requests()

    second = run_sync(base_config(), state=first.state, streams={"text_messages"})

    # Bookmark 11:00 minus 6 h = 05:00: page 2 ends at 05:00 (not older), page 3 at 01:00, so
    # reading stops after page 3: 3 requests, not 10.
    requests = sent(fake, "text_messages")
    assert [r.params["page"] for r in requests] == ["1", "2", "3"]
    assert {r.params["start_date"] for r in requests} == {"2026-11-01T00:00"}  # the whole window, always
    emitted = [r["id"] for r in second.records("text_messages")]
    assert emitted[0] == ids[30]
    assert emitted == [ids[30], *ids[:11]]
    assert second.bookmarks("text_messages")[0]["replication_key_value"] == "2026-11-26T11:30:00.000000Z"


def test_text_messages_out_of_order_read_the_whole_window(fake: Emulator, caplog: pytest.LogCaptureFixture) -> None:
    ids = _texts(fake, 40)
    fake.set_paging(page_size=4)
    first = run_sync(base_config(), streams={"text_messages"})
    fake.put("text_messages", "ACC01", [{"id": ids[5], "last_message_at": "2026-11-26T11:00:00Z"}])
    fake.hostile("reverse_items", "text-messages", pages=(1,))
    fake.reset_requests()

    with caplog.at_level(logging.WARNING):
        second = run_sync(base_config(), state=first.state, streams={"text_messages"})

    assert len(sent(fake, "text_messages")) == 10
    assert sorted(r["id"] for r in second.records("text_messages")) == sorted(ids)
    assert "not newest first" in caplog.text and "reading the whole window this run" in caplog.text


def test_a_text_messages_run_killed_before_its_stop_point_keeps_the_old_bookmark(fake: Emulator) -> None:
    ids = _texts(fake, 40)
    fake.set_paging(page_size=4)
    first = run_sync(base_config(), streams={"text_messages"})
    changed = [ids[9], ids[10]]  # rise to the top: pages 1 and 2 hold every change
    fake.put("text_messages", "ACC01", [
        {"id": changed[0], "last_message_at": "2026-11-26T11:40:00Z"},
        {"id": changed[1], "last_message_at": "2026-11-26T11:20:00Z"},
    ])
    fake.after_page("text_messages", "ACC01", 1, lambda f: f.persistent_fault(503, "/a/ACC01/text-messages.json"))

    killed = run_sync(base_config(), state=first.state, streams={"text_messages"}, raise_errors=False)

    assert killed.error is not None
    assert changed[0] in {r["id"] for r in killed.records("text_messages")}
    assert killed.bookmarks("text_messages")[0]["replication_key_value"] == "2026-11-26T11:00:00.000000Z"
    fake.clear_faults()
    rerun = run_sync(base_config(), state=killed.state, streams={"text_messages"})
    assert set(changed) <= {r["id"] for r in rerun.records("text_messages")}
    assert rerun.bookmarks("text_messages")[0]["replication_key_value"] == "2026-11-26T11:40:00.000000Z"


def test_text_messages_without_state_read_every_page(fake: Emulator) -> None:
    ids = _texts(fake, 40)
    fake.set_paging(page_size=4)

    full = run_sync(base_config(), streams={"text_messages"})

    assert len(sent(fake, "text_messages")) == 10
    assert [r["id"] for r in full.records("text_messages")] == ids
    assert not full.of_type("ACTIVATE_VERSION", "text_messages")
