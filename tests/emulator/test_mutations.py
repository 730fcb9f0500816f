"""Mutation hooks: edits, new calls, spam, deletes, soft deletes, bad records; control surface."""

from __future__ import annotations

import requests

from callrail_emulator import Emulator

from .support import Client

WINDOW = {"start_date": "2024-12-01", "end_date": "2026-11-26", "time_zone": "Etc/UTC"}


def test_edit_calls_changes_the_most_recent_calls(client: Client, account: str, emu: Emulator) -> None:
    edited = emu.edit_calls(account, 3, note="called back", lead_status="not_a_lead")
    newest = client.ok(f"/a/{account}/calls.json", per_page=3, fields="note,lead_status",
                       **WINDOW)["calls"]
    assert [c["id"] for c in newest] == edited
    assert all(c["note"] == "called back" and c["lead_status"] == "not_a_lead" for c in newest)
    default_edit = emu.edit_calls(account, 1)
    record = next(c for c in emu.records("calls", account) if c["id"] == default_edit[0])
    assert record["note"].startswith("Edited") and record["customer_name"].startswith("Edited")


def test_added_calls_follow_the_latest_and_precede_now(client: Client, account: str, emu: Emulator) -> None:
    before = emu.ids("calls", account)
    latest = max(c["start_time"] for c in emu.records("calls", account))
    added = emu.add_calls(account, 4)
    assert len(set(added)) == 4 and not set(added) & before
    fresh = client.ok(f"/a/{account}/calls.json", sort="start_time", order="asc",
                      start_date="2026-11-26T00:00", end_date="2026-11-26T15:30",
                      time_zone="Etc/UTC", per_page=250)["calls"]
    assert [c["id"] for c in fresh][-4:] == added
    assert all(c["start_time"] > latest for c in fresh[-4:])
    assert emu.ids("calls", account) == before | set(added)


def test_marked_spam_disappears_and_its_detail_is_404(client: Client, account: str, emu: Emulator) -> None:
    victim = sorted(emu.ids("calls", account))[0]
    assert client.get(f"/a/{account}/calls/{victim}.json").status_code == 200
    emu.mark_spam(account, victim)
    assert victim not in {c["id"] for c in client.calls(account, **WINDOW)}
    assert client.ok(f"/a/{account}/calls.json", **WINDOW)["total_records"] == 299
    assert client.get(f"/a/{account}/calls/{victim}.json").status_code == 404


def test_delete_removes_records_from_lists(client: Client, account: str, emu: Emulator) -> None:
    tag_id = sorted(emu.ids("tags", account))[0]
    emu.delete("tags", account, tag_id)
    assert tag_id not in {t["id"] for t in client.ok(f"/a/{account}/tags.json")["tags"]}
    user_id = sorted(emu.ids("users", account))[-1]
    emu.delete("users", account, user_id)
    assert user_id not in emu.ids("users", account)


def test_disable_soft_deletes_a_company(client: Client, account: str, emu: Emulator) -> None:
    company = emu.company_ids(account)[0]
    emu.disable("companies", account, company)
    record = next(c for c in client.ok(f"/a/{account}/companies.json")["companies"]
                  if c["id"] == company)
    assert record["status"] == "disabled" and record["disabled_at"].endswith("Z")


def test_bad_records_carry_the_overrides(client: Client, account: str, emu: Emulator) -> None:
    call_id = emu.add_bad_record("calls", account, duration=-5, customer_phone_number="12")
    call = next(c for c in client.calls(account, **WINDOW) if c["id"] == call_id)
    assert call["duration"] == -5 and call["customer_phone_number"] == "12"
    lead_id = emu.add_bad_record("leads", account, email="not-an-email", surprise_field=1)
    lead = next(x for x in client.ok(f"/a/{account}/leads.json")["leads"] if x["id"] == lead_id)
    assert lead["email"] == "not-an-email" and lead["surprise_field"] == 1


def test_control_surface_drives_a_running_emulator(account: str, emu: Emulator) -> None:
    root = emu.base_url.removesuffix("/v3") + "/_emulator"
    edited = requests.post(f"{root}/edit_calls", json={"account_id": account, "n": 2}, timeout=5)
    assert edited.status_code == 200 and len(edited.json()["ids"]) == 2
    added = requests.post(f"{root}/add_calls", json={"account_id": account, "n": 1}, timeout=5)
    new_id = added.json()["ids"][0]
    assert new_id in emu.ids("calls", account)
    spam = requests.post(f"{root}/mark_spam", json={"account_id": account, "call_id": new_id},
                         timeout=5)
    assert spam.status_code == 200 and new_id not in emu.ids("calls", account)
    tag = sorted(emu.ids("tags", account))[0]
    requests.post(f"{root}/delete", json={"stream": "tags", "account_id": account,
                                          "record_id": tag}, timeout=5)
    assert tag not in emu.ids("tags", account)
    requests.post(f"{root}/rate_limit", json={"count": 1, "retry_after": 3}, timeout=5)
    client = Client(emu.base_url)
    assert client.get("/a.json").status_code == 429
    requests.post(f"{root}/persistent_fault", json={"status": 503}, timeout=5)
    assert client.get("/a.json").status_code == 503
    requests.post(f"{root}/clear_faults", json={}, timeout=5)
    requests.post(f"{root}/fault_every", json={"n": 1, "kinds": ["500"]}, timeout=5)
    assert client.get("/a.json").status_code == 500
    requests.post(f"{root}/clear_faults", timeout=5)
    count = requests.get(f"{root}/requests/count", params={"status": 429}, timeout=5).json()
    assert count == {"count": 1}
    state = requests.get(f"{root}/state", timeout=5).json()
    assert [a["id"] for a in state["accounts"]] == emu.account_ids
    assert state["accounts"][0]["counts"]["calls"] == 300
    bad = requests.post(f"{root}/mark_spam", json={"account_id": account, "call_id": "CALx"},
                        timeout=5)
    assert bad.status_code == 400


def test_after_page_hook_runs_once_after_that_page_is_served(
    client: Client, account: str, emu: Emulator
) -> None:
    victim = sorted(emu.ids("leads", account))[0]
    emu.after_page("leads", account, 2, lambda e: e.delete("leads", account, victim))
    assert client.ok(f"/a/{account}/leads.json", per_page=5)["total_records"] == 20
    emu.persistent_fault(503, "leads.json")
    assert client.get(f"/a/{account}/leads.json", per_page=5, page=2).status_code == 503
    emu.clear_faults()
    assert client.ok(f"/a/{account}/leads.json", per_page=5, page=2)["total_records"] == 20
    assert client.ok(f"/a/{account}/leads.json", per_page=5, page=2)["total_records"] == 19
    assert victim not in emu.ids("leads", account)
