"""Injected faults: every n-th request, 429 bursts with Retry-After, persistent outages."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
import requests

from callrail_emulator import Emulator

from .support import Client


def test_fault_every_rotates_through_each_kind(client: Client, account: str, emu: Emulator) -> None:
    emu.fault_every(2, kinds=("500", "503", "drop", "truncated_json"))
    path = f"/a/{account}/companies.json"
    assert client.get(path).status_code == 200
    failed = client.get(path)
    assert failed.status_code == 500 and failed.json() == {"error": "Internal Server Error"}
    assert client.get(path).status_code == 200
    maintenance = client.get(path)
    assert maintenance.status_code == 503
    assert maintenance.headers["Content-Type"].startswith("text/html")
    assert client.get(path).status_code == 200
    with pytest.raises(requests.ConnectionError):
        client.get(path)
    assert client.get(path).status_code == 200
    truncated = client.get(path)
    assert truncated.status_code == 200
    with pytest.raises(requests.JSONDecodeError):
        truncated.json()
    assert emu.request_count(status=500) == 1
    assert emu.request_count(status=503) == 1
    assert emu.request_count(path_contains="companies.json") == 8
    assert sum(1 for r in emu.requests if r["status"] is None) == 1


def test_rate_limit_with_retry_after_seconds(client: Client, account: str, emu: Emulator) -> None:
    emu.rate_limit(2, retry_after=7)
    for _ in range(2):
        response = client.get(f"/a/{account}/users.json")
        assert response.status_code == 429
        assert response.headers["Retry-After"] == "7"
        assert "too many requests" in response.json()["error"]
    assert client.get(f"/a/{account}/users.json").status_code == 200


def test_rate_limit_with_retry_after_as_http_date(client: Client, account: str, emu: Emulator) -> None:
    emu.rate_limit(1, retry_after=datetime(2026, 11, 26, 16, 0, tzinfo=timezone.utc))
    response = client.get(f"/a/{account}/users.json")
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "Thu, 26 Nov 2026 16:00:00 GMT"
    emu.rate_limit(1)
    assert "Retry-After" not in client.get(f"/a/{account}/users.json").headers


def test_persistent_fault_until_cleared(client: Client, account: str, emu: Emulator) -> None:
    emu.persistent_fault(status=502)
    assert [client.get(f"/a/{account}/tags.json").status_code for _ in range(3)] == [502] * 3
    emu.clear_faults()
    assert client.get(f"/a/{account}/tags.json").status_code == 200


def test_request_log_records_path_query_status_and_account(
    client: Client, account: str, emu: Emulator
) -> None:
    emu.reset_requests()
    client.get(f"/a/{emu.numeric_id(account)}/calls.json", per_page=5)
    entry = emu.requests[-1]
    assert entry["method"] == "GET"
    assert entry["path"].endswith("/calls.json")
    assert entry["query"] == {"per_page": ["5"]}
    assert entry["status"] == 200
    assert entry["account_id"] == account
    assert emu.request_count() == 1
    emu.reset_requests()
    assert emu.request_count() == 0


def test_persistent_fault_of_one_path_and_company(
    client: Client, account: str, emu: Emulator
) -> None:
    company = emu.company_ids(account)[0]
    emu.persistent_fault(400, f"/a/{account}/integrations.json", company_id=company,
                         message="Invalid field requested: utmz")
    emu.persistent_fault(401, f"/a/{account}/users.json")
    failed = client.get(f"/a/{account}/integrations.json", company_id=company)
    assert failed.status_code == 400 and failed.json() == {"error": "Invalid field requested: utmz"}
    other = emu.company_ids(account)[1]
    assert client.get(f"/a/{account}/integrations.json", company_id=other).status_code == 200
    denied = client.get(f"/a/{account}/users.json")
    assert denied.status_code == 401 and denied.text == "HTTP Token: Access denied."
    assert client.get(f"/a/{account}/tags.json").status_code == 200
    emu.clear_faults()
    assert client.get(f"/a/{account}/users.json").status_code == 200


def test_request_log_names_the_stream_asked_for(
    client: Client, account: str, emu: Emulator
) -> None:
    emu.reset_requests()
    client.get("/a.json")
    client.get(f"/a/{account}.json")
    client.get(f"/a/{account}/text-messages.json")
    client.get(f"/a/{account}/calls/CAL0.json")
    client.get("/a/nowhere")
    streams = [r["stream"] for r in emu.requests]
    assert streams == ["accounts", "account", "text_messages", "call", None]
