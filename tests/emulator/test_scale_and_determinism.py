"""A million calls served lazily; the same seed always gives the same data."""

from __future__ import annotations

import time
import tracemalloc

from callrail_emulator import Emulator
from callrail_emulator.bench import serving_ceiling

from .support import NOW, Client


def test_a_million_calls_are_served_without_holding_them() -> None:
    tracemalloc.start()
    emu = Emulator(seed=11, accounts=1, calls_per_account=1_000_000, now=NOW)
    with emu:
        client = Client(emu.base_url)
        account = emu.account_ids[0]
        started = time.perf_counter()
        body = client.ok(f"/a/{account}/calls.json", page=3000, per_page=250, sort="start_time",
                         order="asc", start_date="2024-11-01", end_date="2026-11-26",
                         time_zone="Etc/UTC", fields="milestones,tags,company_id")
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert body["total_records"] == 1_000_000
    assert len(body["calls"]) == 250
    stamps = [c["start_time"] for c in body["calls"]]
    assert stamps == sorted(stamps) and len(set(stamps)) == 250
    assert elapsed < 1.0
    assert peak < 60_000_000


def test_same_seed_same_data_different_seed_different_ids() -> None:
    one, two, other = Emulator(seed=5, now=NOW), Emulator(seed=5, now=NOW), Emulator(seed=6, now=NOW)
    assert one.account_ids == two.account_ids
    for stream in ("companies", "calls", "form_submissions", "text_messages", "users"):
        assert one.records(stream) == two.records(stream)
    assert not set(one.account_ids) & set(other.account_ids)


def test_serving_ceiling_reports_rates() -> None:
    result = serving_ceiling(pages=3, calls_per_account=10_000, repeats=1, quiet=True)
    assert result["http_pages_per_s"] > 0 and result["render_records_per_s"] > 0
    assert result["fields_per_record"] == 78
