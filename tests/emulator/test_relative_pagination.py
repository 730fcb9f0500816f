"""Relative pagination on calls: next_page URLs followed verbatim, newest first, no totals."""

from __future__ import annotations

from callrail_emulator import Emulator

from .support import Client

WINDOW = {"start_date": "2024-12-01", "end_date": "2026-11-26", "time_zone": "Etc/UTC"}


def test_following_next_page_yields_every_call_newest_first(
    client: Client, account: str, emu: Emulator
) -> None:
    body = client.ok(f"/a/{account}/calls.json", relative_pagination="true", per_page=40,
                     fields="company_id", **WINDOW)
    assert "total_records" not in body and "total_pages" not in body
    calls = list(body["calls"])
    pages = 1
    while body["has_next_page"]:
        next_url = body["next_page"]
        assert "/calls?" in next_url and "format=json" in next_url
        assert "relative_pagination=true" in next_url and "start_date=2024-12-01" in next_url
        body = client.session.get(next_url, timeout=5).json()
        calls += body["calls"]
        pages += 1
    assert body["next_page"] is None
    assert pages == 8  # 300 calls / 40
    assert [c["id"] for c in calls] == [
        c["id"] for c in sorted(emu.records("calls", account), key=lambda c: c["start_time"],
                                reverse=True)
    ]
    assert all("company_id" in c for c in calls)


def test_offset_selects_a_page_by_index(client: Client, account: str) -> None:
    first = client.ok(f"/a/{account}/calls.json", relative_pagination="true", per_page=10,
                      **WINDOW)["calls"]
    third = client.ok(f"/a/{account}/calls.json", relative_pagination="true", per_page=10,
                      offset=2, **WINDOW)["calls"]
    everything = client.ok(f"/a/{account}/calls.json", per_page=30, **WINDOW)["calls"]
    assert first == everything[:10]
    assert third == everything[20:30]
