"""The benchmark suite keeps working: one run at its quick size, asserting figures, never timings."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

pytest.importorskip("orjson")  # the ceiling script's JSON library (dev extra)

from benchmarks import budget
from benchmarks.markdown import markdown
from benchmarks.suite import main


@pytest.fixture(scope="module")
def figures(tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("bench") / "quick.json"
    assert main(["--quick", "--output", str(out)]) == 0
    return dict(json.loads(Path(out).read_text()))


def test_quick_run_reports_every_section(figures: dict) -> None:
    assert {"machine", "emulator", "requests", "cpu", "memory", "budget"} <= set(figures)
    assert figures["machine"]["quick"] is True
    assert figures["emulator"]["http_records_per_s"] > 0


def test_full_load_and_delta_read_every_record_with_at_least_the_minimum_requests(figures: dict) -> None:
    for run in figures["requests"]:
        for kind in ("full", "delta"):
            assert run[kind]["records_match"], run[kind]
            assert run[kind]["requests"] >= run[kind]["minimum"] > 0
            assert run[kind]["ratio"] >= 1
        assert run["full"]["records"]["calls"] == run["calls"]


def test_delta_run_reads_calls_from_bookmark_minus_lookback(figures: dict) -> None:
    for run in figures["requests"]:
        window = run["delta"]["windows"]["calls"]
        assert window["starts_at_lookback"], window
        assert window["same_window_every_page"]
        assert run["delta"]["records"]["calls"] >= run["delta"]["new_calls"]


def test_cpu_section_compares_the_tap_with_the_replay_ceiling(figures: dict) -> None:
    cpu = figures["cpu"]
    assert cpu["calls_requests"] == math.ceil(cpu["calls"] / 250)
    assert cpu["page_mb"] > 0
    for run in ("tap", "tap_startup", "ceiling"):
        assert cpu[run]["cpu_s"] > 0
    assert cpu["ratio"] > 0


def test_memory_and_budget_figures_are_produced(figures: dict) -> None:
    runs = figures["memory"]["runs"]
    assert [r["calls"] for r in runs] == sorted(r["calls"] for r in runs)
    assert all(r["max_rss_mb"] > 0 and r["ratio"] >= 1 for r in runs)
    measured = figures["budget"]["measured"]
    assert [r["requests"] for r in measured] == sorted(r["requests"] for r in measured)


def test_budget_follows_callrails_hourly_and_daily_limits() -> None:
    assert budget.limiter_seconds(1000, 0.0) == 0.0
    assert budget.limiter_seconds(1001, 0.0) == pytest.approx(3600)
    # 10,000 requests in the first 9 hours, then the day is spent: the next waits for hour 24.
    assert budget.limiter_seconds(10_001, 0.0) == pytest.approx(86_400)


def test_readme_tables_render_from_the_figures(figures: dict) -> None:
    text = markdown(figures)
    assert "requests ÷ minimum, full load" in text
    assert "| tap start-up (no calls) |" in text


def test_the_agency_benchmark_counts_the_requests_of_a_full_load_and_an_hourly_delta(tmp_path: Path) -> None:
    from benchmarks import agency

    out = tmp_path / "agency.json"
    assert agency.main(["--quick", "--json", str(out)]) == 0
    result = json.loads(out.read_text())

    full, delta, due = result["full"], result["delta"], result["due"]
    assert full["records"] > delta["records"] > 0
    assert 0 < delta["requests"] < due["requests"] <= full["requests"]
    # The expensive streams cost one request per company, and only in the day's due run.
    for stream in ("integrations", "outbound_caller_ids"):
        assert stream not in delta["requests_by_stream"]
        assert due["requests_by_stream"][stream] == full["requests_by_stream"][stream] == result["companies"]
    assert "leads" not in delta["requests_by_stream"]
    per_day = {int(n): requests for n, requests in result["per_day"].items()}
    assert per_day[50] < per_day[120] < per_day[300]
    # Three per-company requests (integrations, caller ids, daily counts), once a day.
    assert per_day[300] - per_day[120] == 3 * (300 - 120)
