"""fields=: defaults always, optional only when named, unknown names rejected."""

from __future__ import annotations

import pytest

from callrail_emulator import Emulator
from callrail_emulator.calls import BLANKED_FIELDS
from callrail_emulator.fields import DEFAULT_FIELDS, OPTIONAL_FIELDS, SINGLE_CALL_ONLY_FIELDS, STREAMS

from .support import API_KEY, NOW, Client

WINDOW = {"start_date": "2024-12-01", "end_date": "2026-11-26", "time_zone": "Etc/UTC"}


def test_calls_without_fields_carry_exactly_the_default_fields(client: Client, account: str) -> None:
    calls = client.ok(f"/a/{account}/calls.json", **WINDOW)["calls"]
    assert calls
    assert all(set(c) == set(DEFAULT_FIELDS["calls"]) for c in calls)


def test_named_optional_fields_are_added(client: Client, account: str) -> None:
    calls = client.ok(f"/a/{account}/calls.json", fields="tags,milestones,company_id", **WINDOW)
    for call in calls["calls"]:
        assert set(call) == {*DEFAULT_FIELDS["calls"], "tags", "milestones", "company_id"}


def test_every_optional_call_field_can_be_asked_for(client: Client, account: str) -> None:
    names = ",".join(OPTIONAL_FIELDS["calls"]) + ",agent_email"
    call = client.ok(f"/a/{account}/calls.json", fields=names, per_page=1, **WINDOW)["calls"][0]
    assert set(call) == {*DEFAULT_FIELDS["calls"], *OPTIONAL_FIELDS["calls"]}


def test_unknown_field_is_400_naming_it(client: Client, account: str) -> None:
    response = client.get(f"/a/{account}/calls.json", fields="tags,utma", **WINDOW)
    assert response.status_code == 400
    assert response.json() == {"error": "Invalid field: utma"}


@pytest.mark.parametrize("name", SINGLE_CALL_ONLY_FIELDS)
def test_single_call_fields_exist_only_on_the_single_call_endpoint(
    client: Client, account: str, emu: Emulator, name: str
) -> None:
    assert client.get(f"/a/{account}/calls.json", fields=name, **WINDOW).status_code == 400
    call_id = sorted(emu.ids("calls", account))[0]
    call = client.ok(f"/a/{account}/calls/{call_id}.json", fields=name)
    assert name in call


def test_optional_fields_of_other_streams(client: Client, account: str, emu: Emulator) -> None:
    company = emu.company_ids(account)[0]
    plain = client.ok(f"/a/{account}/integrations.json", company_id=company)["integrations"][0]
    assert "signing_key" not in plain
    full = client.ok(f"/a/{account}/integrations.json", company_id=company, fields="signing_key")
    assert full["integrations"][0]["signing_key"]
    trackers = client.ok(f"/a/{account}/trackers.json", fields="campaign_name,swap_targets")
    assert all({"campaign_name", "swap_targets"} <= set(t) for t in trackers["trackers"])


def test_leads_fields_narrow_the_record(client: Client, account: str) -> None:
    lead = client.ok(f"/a/{account}/leads.json", fields="name,email")["leads"][0]
    assert set(lead) == {"id", "name", "email"}


def test_records_render_every_default_and_optional_field(emu: Emulator) -> None:
    for stream in STREAMS:
        expected = {*DEFAULT_FIELDS[stream], *OPTIONAL_FIELDS[stream]}
        records = emu.records(stream)
        assert records, stream
        assert all(set(r) == expected for r in records), stream


def test_field_lists_match_the_taps_lists() -> None:
    tap_schemas = pytest.importorskip("tap_callrail.schemas")
    stamped = {"account_id"}  # the tap adds it to every record; CallRail does not send it
    for stream in STREAMS:
        tap_all = set(tap_schemas.DEFAULT_FIELDS[stream]) | set(tap_schemas.OPTIONAL_FIELDS[stream])
        ours = set(DEFAULT_FIELDS[stream]) | set(OPTIONAL_FIELDS[stream])
        # For integrations the tap also stamps the company it asked for.
        stamped_here = stamped | {"company_id"} if stream == "integrations" else stamped
        assert tap_all - stamped_here == ours, stream
        assert set(tap_schemas.OPTIONAL_FIELDS[stream]) <= ours, stream


def test_one_call_in_about_32_carries_empty_strings_in_its_object_and_list_fields(
    client: Client, account: str
) -> None:
    calls = client.calls(account, fields=",".join(BLANKED_FIELDS), **WINDOW)
    blank = [c for c in calls if c["custom"] == ""]

    assert 0 < len(blank) < len(calls) / 10
    assert all(c[name] == "" for c in blank for name in BLANKED_FIELDS)
    assert not any(c[name] == "" for c in calls if c not in blank for name in BLANKED_FIELDS)


def test_the_same_seed_blanks_the_same_calls(emu: Emulator) -> None:
    def blanked(emulator: Emulator) -> list[str]:
        return [c["id"] for c in emulator.records("calls") if c["custom"] == ""]

    assert blanked(emu) == blanked(Emulator(seed=7, api_key=API_KEY, now=NOW))
    assert blanked(emu) != blanked(Emulator(seed=8, api_key=API_KEY, now=NOW))


def test_keypad_entries_come_as_the_documented_pair_and_as_a_list_of_pairs(emu: Emulator) -> None:
    entries = [c["keypad_entries"] for c in emu.records("calls") if c["keypad_entries"] not in (None, "")]
    pairs = [e for e in entries if isinstance(e, dict)]
    lists = [e for e in entries if isinstance(e, list)]

    assert pairs and lists and len(pairs) + len(lists) == len(entries)
    assert all(set(e) == {"name", "value"} for e in pairs)
    assert all(set(item) == {"name", "value"} for e in lists for item in e)
