"""Filters (status, company, tag level, tracker type), sorting, required company_id, 403s."""

from __future__ import annotations

from collections import Counter

from callrail_emulator import Emulator

from .support import Client

PERMISSION = {"error": "You do not have permission to perform the requested action"}
WINDOW = {"start_date": "2024-12-01", "end_date": "2026-11-26", "time_zone": "Etc/UTC"}


def test_companies_include_disabled_by_default_and_filter_by_status(
    client: Client, account: str
) -> None:
    companies = client.ok(f"/a/{account}/companies.json")["companies"]
    assert Counter(c["status"] for c in companies) == {"active": 2, "disabled": 1}
    disabled = next(c for c in companies if c["status"] == "disabled")
    assert disabled["disabled_at"]
    only = client.ok(f"/a/{account}/companies.json", status="disabled")["companies"]
    assert [c["id"] for c in only] == [disabled["id"]]


def test_tags_by_level_and_company(client: Client, account: str, emu: Emulator) -> None:
    account_tags = client.ok(f"/a/{account}/tags.json", tag_level="account")["tags"]
    assert account_tags and all(t["company_id"] is None for t in account_tags)
    assert all(isinstance(t["id"], int) for t in account_tags)
    company = emu.company_ids(account)[1]
    company_tags = client.ok(f"/a/{account}/tags.json", company_id=company)["tags"]
    assert company_tags and all(t["company_id"] == company for t in company_tags)
    statuses = {t["status"] for t in client.ok(f"/a/{account}/tags.json")["tags"]}
    assert statuses == {"enabled", "disabled"}


def test_trackers_filter_by_company_status_and_type(client: Client, account: str, emu: Emulator) -> None:
    trackers = client.ok(f"/a/{account}/trackers.json")["trackers"]
    assert {t["type"] for t in trackers} == {"source", "session"}
    assert any(t["status"] == "disabled" and t["disabled_at"] for t in trackers)
    company = emu.company_ids(account)[0]
    mine = client.ok(f"/a/{account}/trackers.json", company_id=company)["trackers"]
    assert mine and all(t["company"]["id"] == company for t in mine)
    sessions = client.ok(f"/a/{account}/trackers.json", type="session")["trackers"]
    assert sessions and all(t["type"] == "session" for t in sessions)


def test_calls_filter_by_company(client: Client, account: str, emu: Emulator) -> None:
    everything = emu.records("calls", account)
    for company in emu.company_ids(account):
        expected = {c["id"] for c in everything if c["company_id"] == company}
        got = client.calls(account, company_id=company, **WINDOW)
        assert {c["id"] for c in got} == expected


def test_users_of_a_company_and_the_user_shared_by_two_accounts(
    client: Client, emu: Emulator
) -> None:
    first, second = emu.account_ids
    users_first = {u["id"]: u for u in client.ok(f"/a/{first}/users.json")["users"]}
    users_second = {u["id"] for u in client.ok(f"/a/{second}/users.json")["users"]}
    shared = set(users_first) & users_second
    assert len(shared) == 1
    assert len(users_first[shared.pop()]["companies"]) == 2
    company = emu.company_ids(first)[1]
    members = client.ok(f"/a/{first}/users.json", company_id=company)["users"]
    assert members and all(company in {c["id"] for c in u["companies"]} for u in members)


def test_integrations_and_caller_ids_require_company_id(client: Client, account: str, emu: Emulator) -> None:
    for endpoint in ("integrations.json", "caller_ids.json"):
        response = client.get(f"/a/{account}/{endpoint}")
        assert response.status_code == 400
        assert "company_id" in response.json()["error"]
    company = emu.company_ids(account)[0]
    integration = client.ok(f"/a/{account}/integrations.json", company_id=company)["integrations"]
    assert len(integration) == 1 and isinstance(integration[0]["id"], int)
    caller_ids = client.ok(f"/a/{account}/caller_ids.json", company_id=company)["caller_ids"]
    assert len(caller_ids) == 2 and all(c["validation_code"] for c in caller_ids)


def test_caller_ids_are_403_on_the_second_accounts_plan(client: Client, emu: Emulator) -> None:
    second = emu.account_ids[1]
    response = client.get(f"/a/{second}/caller_ids.json", company_id=emu.company_ids(second)[0])
    assert response.status_code == 403
    assert response.json() == PERMISSION


def test_forbid_makes_a_stream_403_until_faults_are_cleared(
    client: Client, account: str, emu: Emulator
) -> None:
    path = f"/a/{account}/form_submissions.json"
    assert client.get(path).status_code == 200
    emu.forbid(account, "form_submissions")
    assert client.get(path).status_code == 403
    assert client.get(path).json() == PERMISSION
    emu.clear_faults()
    assert client.get(path).status_code == 200


def test_forbidden_option_at_construction() -> None:
    emu = Emulator(forbidden={(0, "form_submissions")}, accounts_without_caller_ids=())
    with emu:
        client = Client(emu.base_url)
        first, second = emu.account_ids
        assert client.get(f"/a/{first}/form_submissions.json").status_code == 403
        assert client.get(f"/a/{second}/form_submissions.json").status_code == 200
        company = emu.company_ids(second)[0]
        assert client.get(f"/a/{second}/caller_ids.json", company_id=company).status_code == 200


def test_calls_sort_ascending_or_newest_first_by_default(client: Client, account: str) -> None:
    newest_first = client.ok(f"/a/{account}/calls.json", per_page=250, **WINDOW)["calls"]
    assert [c["start_time"] for c in newest_first] == sorted(
        (c["start_time"] for c in newest_first), reverse=True
    )
    ascending = client.ok(f"/a/{account}/calls.json", per_page=250, sort="start_time",
                          order="asc", **WINDOW)["calls"]
    assert [c["start_time"] for c in ascending] == sorted(c["start_time"] for c in ascending)
    assert ascending[0]["start_time"] < newest_first[-1]["start_time"]


def test_forms_sort_on_submitted_at_and_companies_on_name(client: Client, account: str) -> None:
    forms = client.ok(f"/a/{account}/form_submissions.json", sort="submitted_at", order="asc",
                      date_range="last_30_days")["form_submissions"]
    stamps = [f["submitted_at"] for f in forms]
    assert stamps == sorted(stamps)
    names = [c["name"] for c in client.ok(f"/a/{account}/companies.json", sort="name",
                                           order="desc")["companies"]]
    assert names == sorted(names, reverse=True)
    assert client.get(f"/a/{account}/companies.json", sort="bogus").status_code == 400


def test_calls_sort_on_another_field(client: Client, account: str) -> None:
    calls = client.ok(f"/a/{account}/calls.json", sort="duration", order="asc", per_page=250,
                      **WINDOW)["calls"]
    durations = [c["duration"] for c in calls]
    assert durations == sorted(durations)
