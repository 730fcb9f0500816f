"""Offset pagination: totals, the 250 cap, the page past the end, the Link header."""

from __future__ import annotations

import math

from callrail_emulator import Emulator

from .support import Client


def test_page_metadata_and_default_per_page(client: Client, account: str, emu: Emulator) -> None:
    body = client.ok(f"/a/{account}/leads.json")
    assert body["page"] == 1
    assert body["per_page"] == 100
    assert body["total_records"] == 20
    assert body["total_pages"] == 1
    assert len(body["leads"]) == 20


def test_paging_through_calls_yields_every_call_once(client: Client, account: str, emu: Emulator) -> None:
    params = {"start_date": "2024-12-01", "end_date": "2026-11-26", "time_zone": "Etc/UTC"}
    first = client.ok(f"/a/{account}/calls.json", per_page=7, **params)
    assert first["total_records"] == 300
    assert first["total_pages"] == math.ceil(300 / 7)
    seen: list[str] = []
    for page in range(1, first["total_pages"] + 1):
        body = client.ok(f"/a/{account}/calls.json", per_page=7, page=page, **params)
        seen += [c["id"] for c in body["calls"]]
    assert len(seen) == len(set(seen)) == 300
    assert set(seen) == emu.ids("calls", account)


def test_per_page_above_250_is_400(client: Client, account: str) -> None:
    response = client.get(f"/a/{account}/companies.json", per_page=251)
    assert response.status_code == 400
    assert "error" in response.json()
    assert client.get(f"/a/{account}/companies.json", per_page=250).status_code == 200


def test_page_past_the_end_is_an_empty_list(client: Client, account: str) -> None:
    body = client.ok(f"/a/{account}/tags.json", page=9)
    assert body["tags"] == []
    assert body["total_records"] == 6
    assert body["page"] == 9


def test_link_header_points_to_the_next_page_until_the_last(client: Client, account: str) -> None:
    response = client.get(f"/a/{account}/form_submissions.json", per_page=2, date_range="last_30_days")
    body = response.json()
    assert body["total_pages"] >= 2
    link = response.headers["Link"]
    assert link.endswith('>; rel="next"')
    next_url = link[1:link.index(">")]
    assert "page=2" in next_url and "per_page=2" in next_url
    follow = client.session.get(next_url, timeout=5).json()
    assert follow["page"] == 2
    last = client.get(
        f"/a/{account}/form_submissions.json", per_page=2, date_range="last_30_days",
        page=body["total_pages"],
    )
    assert "Link" not in last.headers


def test_set_paging_serves_fewer_items_and_counts_pages_by_them(
    client: Client, account: str, emu: Emulator
) -> None:
    emu.set_paging(page_size=3)
    body = client.ok(f"/a/{account}/leads.json", per_page=250, page=7)
    assert (body["per_page"], body["total_pages"], body["total_records"]) == (250, 7, 20)
    assert len(body["leads"]) == 2
    calls = client.ok(f"/a/{account}/calls.json", per_page=250, date_range="last_30_days")
    assert len(calls["calls"]) == min(3, calls["total_records"])
    emu.set_paging(total_pages=False)
    body = client.ok(f"/a/{account}/leads.json")
    assert "total_pages" not in body and body["total_records"] == 20 and len(body["leads"]) == 20
    emu.set_paging(total_pages=False, total_records=False)
    assert set(client.ok("/a.json")) == {"page", "per_page", "accounts"}
