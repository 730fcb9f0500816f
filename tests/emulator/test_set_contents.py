"""Contents a test sets: accounts from add_account, records from put, served like generated ones."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from callrail_emulator import Emulator

from .support import API_KEY, NOW, Client

WINDOW = {"start_date": "2026-11-01", "end_date": "2026-11-26", "time_zone": "Etc/UTC"}


@pytest.fixture
def empty() -> Iterator[Emulator]:
    emulator = Emulator(accounts=0, api_key=API_KEY, now=NOW)
    emulator.start()
    yield emulator
    emulator.stop()


@pytest.fixture
def held(empty: Emulator) -> Client:
    return Client(empty.base_url)


def test_an_empty_emulator_lists_no_account(held: Client) -> None:
    assert held.ok("/a.json")["accounts"] == []


def test_added_accounts_hold_nothing_and_answer_by_either_id(empty: Emulator, held: Client) -> None:
    assert empty.add_account("ACC01", numeric_id=100000001, name="Acme") == "ACC01"
    generated = empty.add_account()
    assert held.ok("/a/100000001.json", fields="numeric_id") == {
        "id": "ACC01", "name": "Acme", "outbound_recording_enabled": True, "hipaa_account": False,
        "numeric_id": 100000001,
    }
    assert sorted(a["id"] for a in held.ok("/a.json")["accounts"]) == sorted(["ACC01", generated])
    assert held.ok("/a/ACC01/leads.json")["leads"] == []
    assert held.ok("/a/ACC01/calls.json", **WINDOW)["total_records"] == 0
    with pytest.raises(ValueError):
        empty.add_account("ACC02", numeric_id=100000001)


def test_put_records_are_served_as_given_with_callrails_paging_and_filters(
    empty: Emulator, held: Client
) -> None:
    empty.add_account("ACC01")
    empty.put("form_submissions", "ACC01", [
        {"id": f"FOR{i}", "company_id": "COMA" if i % 2 else "COMB",
         "submitted_at": f"2026-11-{10 + i:02d}T12:00:00.000Z", "value": i}
        for i in range(5)
    ])
    body = held.ok("/a/ACC01/form_submissions.json", per_page=2, sort="submitted_at",
                   order="asc", **WINDOW)
    assert (body["total_pages"], body["total_records"]) == (3, 5)
    assert body["form_submissions"] == [
        {"id": "FOR0", "company_id": "COMB", "submitted_at": "2026-11-10T12:00:00.000Z"},
        {"id": "FOR1", "company_id": "COMA", "submitted_at": "2026-11-11T12:00:00.000Z"},
    ]
    narrowed = held.ok("/a/ACC01/form_submissions.json", company_id="COMA", fields="value",
                       start_date="2026-11-11", end_date="2026-11-13T11:59", time_zone="Etc/UTC")
    assert [(f["id"], f["value"]) for f in narrowed["form_submissions"]] == [("FOR1", 1)]
    assert held.get("/a/ACC01/form_submissions.json", fields="bogus").status_code == 400


def test_put_calls_keep_their_drifting_forms_and_are_filtered_on_the_instant(
    empty: Emulator, held: Client
) -> None:
    empty.add_account("ACC01")
    empty.put("calls", "ACC01", [
        {"id": "CAL1", "start_time": "2026-11-20 03:43:50 -0500", "company_id": "COMA",
         "tags": [{"id": 7, "name": "Sales"}, "VIP"]},
        {"id": 2, "start_time": "2026-11-20T08:00:00Z", "company_id": "COMB"},
    ])
    calls = held.ok("/a/ACC01/calls.json", fields="tags,company_id", sort="start_time",
                    order="asc", **WINDOW)["calls"]
    assert calls == [
        {"id": 2, "start_time": "2026-11-20T08:00:00Z", "company_id": "COMB"},
        {"id": "CAL1", "start_time": "2026-11-20 03:43:50 -0500", "company_id": "COMA",
         "tags": [{"id": 7, "name": "Sales"}, "VIP"]},
    ]
    later = held.ok("/a/ACC01/calls.json", start_date="2026-11-20T08:01",
                    end_date="2026-11-26", time_zone="Etc/UTC")["calls"]
    assert [c["id"] for c in later] == ["CAL1"]
    assert held.ok("/a/ACC01/calls/CAL1.json")["id"] == "CAL1"
    assert held.get("/a/ACC01/calls/CAL9.json").status_code == 404
    assert empty.ids("calls", "ACC01") == {"CAL1", 2}


def test_put_updates_a_held_record_and_unknown_fields_are_served(
    empty: Emulator, held: Client
) -> None:
    empty.add_account("ACC01")
    empty.put("integrations", "ACC01", [
        {"id": 1, "company_id": "COMA", "type": "Webhooks", "state": "active", "config": {}},
    ])
    empty.put("integrations", "ACC01", [{"id": 1, "state": "disabled", "brand_new": True}])
    assert held.ok("/a/ACC01/integrations.json", company_id="COMA")["integrations"] == [
        {"id": 1, "type": "Webhooks", "state": "disabled", "config": {}, "brand_new": True},
    ]
    assert held.ok("/a/ACC01/integrations.json", company_id="COMB")["integrations"] == []
    assert held.get("/a/ACC01/integrations.json").status_code == 400


def test_put_refuses_what_it_cannot_serve() -> None:
    emu = Emulator(accounts=1, calls_per_account=5, now=NOW)
    account = emu.account_ids[0]
    with pytest.raises(ValueError, match="generated calls"):
        emu.put("calls", account, [{"id": "CAL1", "start_time": "2026-11-20T08:00:00Z"}])
    with pytest.raises(ValueError, match="submitted_at"):
        emu.put("form_submissions", account, [{"id": "FORNEW"}])
    held = sorted(emu.ids("form_submissions", account))[0]
    with pytest.raises(ValueError, match="submitted_at"):
        emu.put("form_submissions", account, [{"id": held, "submitted_at": None}])
    with pytest.raises(ValueError, match="not a timestamp"):
        emu.put("form_submissions", account, [{"id": held, "submitted_at": "last Tuesday"}])
    with pytest.raises(ValueError, match="without an id"):
        emu.put("leads", account, [{"name": "Jane"}])
    emu.put("leads", account, [{"id": "PERNEW", "name": "Jane"}])
    assert "PERNEW" in emu.ids("leads", account)


def test_contents_and_paging_over_the_control_surface(empty: Emulator, held: Client) -> None:
    root = empty.base_url.removesuffix("/v3") + "/_emulator"
    added = requests.post(f"{root}/add_account", json={"account_id": "ACC01"}, timeout=5).json()
    assert added == {"id": "ACC01"}
    leads = [{"id": f"PER{i}", "name": f"Lead {i}"} for i in range(3)]
    requests.post(f"{root}/put", json={"stream": "leads", "account_id": "ACC01", "records": leads},
                  timeout=5)
    requests.post(f"{root}/set_paging", json={"page_size": 2, "total_pages": False}, timeout=5)
    body = held.ok("/a/ACC01/leads.json")
    assert body == {"page": 1, "per_page": 100, "total_records": 3, "leads": leads[:2]}
    state = requests.get(f"{root}/state", timeout=5).json()
    assert state["paging"] == {"page_size": 2, "total_pages": False, "total_records": True}
    assert state["accounts"][0]["counts"]["leads"] == 3
