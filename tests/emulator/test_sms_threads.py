"""SMS threads and the messages of each thread, as the emulator serves them."""

from __future__ import annotations

from datetime import timedelta

from callrail_emulator import Emulator
from callrail_emulator.fields import DEFAULT_FIELDS, OPTIONAL_FIELDS

from .support import NOW, Client

ALL_TIME = {"start_date": (NOW - timedelta(days=700)).strftime("%Y-%m-%d"), "end_date": NOW.strftime("%Y-%m-%d")}


def _threads(client: Client, account: str, **params: str) -> list[dict]:
    body = client.ok(f"/a/{account}/sms-threads.json", **ALL_TIME, **params)
    threads: list[dict] = body["sms_threads"]
    return threads


def test_threads_list_every_documented_field_newest_first(client: Client, account: str) -> None:
    threads = _threads(client, account, fields=",".join(OPTIONAL_FIELDS["sms_threads"]))

    assert len(threads) == 6
    assert all(set(t) == {*DEFAULT_FIELDS["sms_threads"], *OPTIONAL_FIELDS["sms_threads"]} for t in threads)
    lasts = [t["last_message_at"][:19] for t in threads]
    assert lasts == sorted(lasts, reverse=True)
    assert all(set(t) == set(DEFAULT_FIELDS["sms_threads"]) for t in _threads(client, account))


def test_threads_honour_company_id_and_need_both_dates(client: Client, emu: Emulator, account: str) -> None:
    company = _threads(client, account)[0]["company_id"]

    assert {t["company_id"] for t in _threads(client, account, company_id=company)} == {company}
    response = client.get(f"/a/{account}/sms-threads.json", start_date=ALL_TIME["start_date"])
    assert response.status_code == 400
    assert "together" in response.json()["error"]


def test_thread_messages_are_newest_first_at_most_100_a_page(client: Client, emu: Emulator, account: str) -> None:
    thread = _threads(client, account)[0]["id"]
    path = f"/a/{account}/sms-threads/{thread}.json"

    body = client.ok(path, per_page=2)
    assert client.get(path, per_page=101).status_code == 400
    assert client.get(f"/a/{account}/sms-threads/NOPE1.json").status_code == 404

    assert body["per_page"] == 2 and body["total_records"] == emu.thread_message_counts(account)[thread]
    created = [m["created_at"] for m in body["messages"]]
    assert created == sorted(created, reverse=True)
    assert all(set(m) == set(DEFAULT_FIELDS["sms_thread_messages"]) for m in body["messages"])
    errors = client.ok(path, with_msg_errors="true")["messages"]
    assert all("error" in m for m in errors)


def test_a_new_message_moves_its_thread_to_the_top(client: Client, emu: Emulator, account: str) -> None:
    oldest = _threads(client, account, fields="last_message_at")[-1]["id"]

    message_id = emu.add_sms_message(account, oldest, "Any news?", at=NOW - timedelta(minutes=1))

    top = _threads(client, account, fields="last_message_at")[0]
    assert top["id"] == oldest and top["last_message_at"].startswith("2026-")
    newest = client.ok(f"/a/{account}/sms-threads/{oldest}.json")["messages"][0]
    assert (newest["id"], newest["content"]) == (message_id, "Any news?")


def test_a_plan_without_sms_answers_403_for_threads_and_their_messages(
    client: Client, emu: Emulator, account: str
) -> None:
    thread = _threads(client, account)[0]["id"]

    emu.forbid(account, "sms_threads")

    assert client.get(f"/a/{account}/sms-threads.json").status_code == 403
    assert client.get(f"/a/{account}/sms-threads/{thread}.json").status_code == 403
