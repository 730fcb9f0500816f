"""SMS threads and their messages: every thread's messages on a first read, then only those of the
threads that changed, one bookmark per partition, never a deletion."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

import pytest

from callrail_emulator import Emulator
from tests.callrail import base_config, populate, run_sync, sent

BOTH = {"sms_threads", "sms_thread_messages"}
NEW_TEXT = datetime(2026, 11, 26, 11, 0, tzinfo=timezone.utc)


def _threads(fake: Emulator, days_back: tuple[int, ...] = (4, 8, 12, 16)) -> list[str]:
    """One account; a thread per entry of `days_back` (its last message that many days before
    2026-11-26T10:00Z, newest first), each with three messages an hour apart; their ids."""
    fake.add_account("ACC01", numeric_id=100000001, name="Account ACC01")
    fake.put("companies", "ACC01", [{"id": "COM01A", "name": "A", "status": "active"}])
    ids = [f"TH{n}" for n in range(len(days_back))]
    threads, messages = [], []
    for thread_id, days in zip(ids, days_back, strict=True):
        last = datetime(2026, 11, 26, 10, tzinfo=timezone.utc) - timedelta(days=days)
        threads.append({"id": thread_id, "company_id": "COM01A", "last_message_at": _stamp(last), "state": "active"})
        messages += [
            {"id": f"SCI{thread_id}{m}", "thread_id": thread_id, "content": f"text {m}",
             "created_at": _stamp(last - timedelta(hours=m)), "direction": "incoming", "message_type": "sms"}
            for m in range(3)
        ]
    fake.put("sms_threads", "ACC01", threads)
    fake.put("sms_thread_messages", "ACC01", messages)
    return ids


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _threads_read(fake: Emulator) -> list[str]:
    return sorted(s.path.rsplit("/", 1)[1].removesuffix(".json") for s in sent(fake, "sms_thread_messages"))


def test_a_full_run_reads_every_thread_and_every_message(fake: Emulator) -> None:
    populate(fake)

    result = run_sync(base_config(), streams=BOTH)

    for account in ("ACC01", "ACC02"):
        threads = {str(r["id"]) for r in result.records("sms_threads") if r["account_id"] == account}
        assert threads == fake.ids("sms_threads", account)
        messages = [r for r in result.records("sms_thread_messages") if r["account_id"] == account]
        assert sorted(r["id"] for r in messages) == sorted(fake.ids("sms_thread_messages", account))
        assert {r["thread_id"] for r in messages} == threads
        assert len(sent(fake, "sms_thread_messages", account)) == len(threads)  # one request per thread
    assert all(s.params["per_page"] == "100" for s in sent(fake, "sms_thread_messages"))
    assert all("last_message_at" in s.params["fields"] for s in sent(fake, "sms_threads"))


def test_a_delta_reads_messages_only_of_threads_newer_than_the_bookmark_minus_the_lookback(fake: Emulator) -> None:
    ids = _threads(fake)
    first = run_sync(base_config(), streams=BOTH)
    assert len(first.records("sms_thread_messages")) == 12
    new_id = fake.add_sms_message("ACC01", ids[2], "Still open on Saturday?", at=NEW_TEXT)
    fake.reset_requests()

    second = run_sync(base_config(), state=first.state, streams=BOTH)

    # The changed thread, and the one at the old bookmark (inside the 6-hour lookback); not the others.
    assert _threads_read(fake) == sorted([ids[2], ids[0]])
    assert new_id in {r["id"] for r in second.records("sms_thread_messages")}
    assert second.bookmarks("sms_thread_messages")[0]["replication_key_value"] == "2026-11-26T11:00:00.000000Z"
    assert second.bookmarks("sms_threads")[0]["replication_key_value"] == "2026-11-26T11:00:00.000000Z"


def test_a_delta_where_only_the_newest_thread_changed_costs_one_thread_list_and_one_thread(fake: Emulator) -> None:
    ids = _threads(fake)
    fake.set_paging(page_size=1)
    first = run_sync(base_config(), streams=BOTH)
    new_id = fake.add_sms_message("ACC01", ids[0], at=NEW_TEXT)
    fake.reset_requests()

    second = run_sync(base_config(), state=first.state, streams=BOTH)

    assert set(_threads_read(fake)) == {ids[0]}
    assert len(sent(fake, "sms_threads")) == 2  # the list stops at the page past the bookmark
    assert [r["id"] for r in second.records("sms_thread_messages")][:1] == [new_id]


def test_messages_older_than_the_bookmark_minus_the_lookback_are_not_paged_for(fake: Emulator) -> None:
    fake.add_account("ACC01", numeric_id=100000001)
    fake.put("sms_threads", "ACC01", [{"id": "TH0", "last_message_at": "2026-11-25T10:00:00.000Z"}])
    last = datetime(2026, 11, 25, 10, tzinfo=timezone.utc)
    fake.put("sms_thread_messages", "ACC01", [
        {"id": f"SCI{m:03d}", "thread_id": "TH0", "created_at": _stamp(last - timedelta(hours=m))} for m in range(250)
    ])
    first = run_sync(base_config(), streams=BOTH)
    assert len(first.records("sms_thread_messages")) == 250
    assert len(sent(fake, "sms_thread_messages")) == 3  # 100 a page
    fake.add_sms_message("ACC01", "TH0", at=NEW_TEXT)
    fake.reset_requests()

    second = run_sync(base_config(), state=first.state, streams=BOTH)

    assert len(sent(fake, "sms_thread_messages")) == 1
    assert len(second.records("sms_thread_messages")) == 100


def test_state_holds_one_bookmark_per_partition_never_one_per_thread(fake: Emulator) -> None:
    populate(fake)

    accounts = run_sync(base_config(), streams=BOTH)
    companies = run_sync(base_config(company_ids=["COM01A", "COM01B", "COM02A"]), streams=BOTH)

    for stream in BOTH:
        assert [p["context"] for p in accounts.bookmarks(stream)] == [{"account_id": "ACC01"}, {"account_id": "ACC02"}]
        assert [p["context"] for p in companies.bookmarks(stream)] == [
            {"account_id": "ACC01", "company_id": "COM01A"},
            {"account_id": "ACC01", "company_id": "COM01B"},
            {"account_id": "ACC02", "company_id": "COM02A"},
        ]
    assert {r["thread_id"] for r in companies.records("sms_thread_messages")} == {"TH01A", "TH01B", "TH02A"}


def test_a_plan_without_sms_skips_the_partition_with_one_warning(
    fake: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    populate(fake)
    fake.forbid("ACC02", "sms_threads")

    with caplog.at_level(logging.WARNING):
        result = run_sync(base_config(), streams=BOTH)

    assert {r["account_id"] for r in result.records("sms_thread_messages")} == {"ACC01"}
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and "ACC02" in r.getMessage()]
    assert len(warnings) == 1 and "403" in warnings[0]


def test_a_403_on_thread_messages_warns_once_per_partition_and_keeps_the_threads(
    fake: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    populate(fake)
    fake.forbid("ACC02", "sms_thread_messages")

    with caplog.at_level(logging.WARNING):
        result = run_sync(base_config(), streams=BOTH)

    assert {r["account_id"] for r in result.records("sms_threads")} == {"ACC01", "ACC02"}
    assert {r["account_id"] for r in result.records("sms_thread_messages")} == {"ACC01"}
    assert len(sent(fake, "sms_thread_messages", "ACC02")) == 1
    assert len([r for r in caplog.records if r.levelno == logging.WARNING and "403" in r.getMessage()]) == 1


def test_neither_stream_ever_sends_activate_version(fake: Emulator) -> None:
    populate(fake)

    result = run_sync(base_config(emit_activate_version_messages=True), streams=BOTH)

    assert result.records("sms_thread_messages")
    assert result.of_type("ACTIVATE_VERSION", "sms_threads") == []
    assert result.of_type("ACTIVATE_VERSION", "sms_thread_messages") == []


def test_selecting_only_the_messages_reads_the_thread_list_without_emitting_it(fake: Emulator) -> None:
    ids = _threads(fake)

    first = run_sync(base_config(), streams={"sms_thread_messages"})
    fake.add_sms_message("ACC01", ids[0], at=NEW_TEXT)
    fake.reset_requests()
    second = run_sync(base_config(), state=first.state, streams={"sms_thread_messages"})

    assert len(first.records("sms_thread_messages")) == 12
    assert first.records("sms_threads") == [] and first.of_type("SCHEMA", "sms_threads") == []
    assert "sms_threads" not in first.state["bookmarks"] or not any(
        "replication_key_value" in p for p in first.bookmarks("sms_threads")
    )
    assert _threads_read(fake) == [ids[0]]
    assert second.bookmarks("sms_thread_messages")[0]["replication_key_value"] == "2026-11-26T11:00:00.000000Z"


def test_selecting_the_messages_later_reads_every_thread_once_though_the_threads_have_a_bookmark(
    fake: Emulator,
) -> None:
    ids = _threads(fake)
    threads_only = run_sync(base_config(), streams={"sms_threads"})
    fake.reset_requests()

    both = run_sync(base_config(), state=threads_only.state, streams=BOTH)

    assert _threads_read(fake) == sorted(ids)
    assert len(both.records("sms_thread_messages")) == 12
