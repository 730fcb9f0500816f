"""Auth header forms, the 401 body, account ids in paths, unknown paths."""

from __future__ import annotations

import requests

from callrail_emulator import Emulator

from .support import Client


def test_missing_or_wrong_key_is_401_with_plain_text_body(emu: Emulator) -> None:
    for headers in ({}, {"Authorization": 'Token token="nope"'}, {"Authorization": "Bearer x"}):
        response = requests.get(f"{emu.base_url}/a.json", headers=headers, timeout=5)
        assert response.status_code == 401
        assert response.text == "HTTP Token: Access denied."
        assert response.headers["Content-Type"].startswith("text/plain")


def test_quoted_and_unquoted_token_are_both_accepted(emu: Emulator) -> None:
    for value in ('Token token="test-key"', "Token token=test-key"):
        response = requests.get(
            f"{emu.base_url}/a.json", headers={"Authorization": value}, timeout=5
        )
        assert response.status_code == 200


def test_accounts_list_offers_numeric_id_only_when_asked(client: Client, emu: Emulator) -> None:
    plain = client.ok("/a.json")
    assert plain["total_records"] == 2
    assert {a["id"] for a in plain["accounts"]} == set(emu.account_ids)
    assert all("numeric_id" not in a for a in plain["accounts"])
    with_numeric = client.ok("/a.json", fields="numeric_id")
    numeric = {a["id"]: a["numeric_id"] for a in with_numeric["accounts"]}
    assert numeric == {a: emu.numeric_id(a) for a in emu.account_ids}
    assert all(100_000_000 <= n <= 999_999_999 for n in numeric.values())


def test_single_account_by_masked_or_numeric_id(client: Client, account: str, emu: Emulator) -> None:
    by_masked = client.ok(f"/a/{account}.json")
    by_numeric = client.ok(f"/a/{emu.numeric_id(account)}.json")
    assert by_masked == by_numeric
    assert by_masked["id"] == account
    assert "created_at" not in by_masked


def test_unknown_account_is_404_json(client: Client) -> None:
    for path in ("/a/ACC0000.json", "/a/123456789/calls.json"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.json() == {"error": "Not Found"}


def test_numeric_account_id_serves_the_same_lists(client: Client, account: str, emu: Emulator) -> None:
    numeric = emu.numeric_id(account)
    for endpoint in ("companies.json", "users.json", "tags.json", "leads.json"):
        assert client.ok(f"/a/{numeric}/{endpoint}") == client.ok(f"/a/{account}/{endpoint}")


def test_unknown_resource_is_404(client: Client, account: str) -> None:
    assert client.get(f"/a/{account}/webhooks.json").status_code == 404
    assert client.get(f"/a/{account}/calls").status_code == 404  # no .json, no format=json
