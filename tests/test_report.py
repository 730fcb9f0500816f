"""Sync report and progress lines: the figures shown are the figures counted."""

from __future__ import annotations

import json
import logging
import threading

import pytest
from singer_sdk.logging import StructuredFormatter

from tap_callrail.quality import Finding
from tap_callrail.report import Progress, SyncStats, emit_metrics, render_report

METRICS_LOGGER = "singer_sdk.metrics"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def filled_stats(clock: FakeClock) -> SyncStats:
    stats = SyncStats(clock=clock)
    stats.started("calls", "ACC1")
    stats.window("calls", "ACC1", "2024-11-01T00:00:00.000000Z", "2025-01-01T00:00:00.000000Z")
    stats.window("calls", "ACC1", "2025-01-01T00:00:00.000000Z", "2025-03-14T12:30:00.000000Z")
    for _ in range(7):
        stats.request("calls", "ACC1")
    stats.retry("calls", "ACC1", 429)
    stats.retry("calls", "ACC1", 503)
    stats.retry("calls", "ACC1", None)
    stats.rate_limited("calls", "ACC1")
    stats.record("calls", "ACC1", 1000)
    stats.record("calls", "ACC1")
    clock.advance(20.0)
    stats.finished("calls", "ACC1")
    stats.started("users", "ACC1")
    stats.request("users", "ACC1")
    stats.record("users", "ACC1", 3)
    clock.advance(0.5)
    stats.finished("users", "ACC1")
    return stats


FINDINGS = [
    Finding("calls", "non_e164_phone", 2, ("CAL1", "CAL2"), "ACC1", "customer_phone_number"),
    Finding("calls", "unknown_company", 1, ("CAL3",), "ACC1", "company_id", ("COM9",)),
    Finding("leads", "malformed_email", 4, ("PER1",), "ACC2", "email"),
]


def test_stats_rows_hold_the_counters_fed_in() -> None:
    calls, users = filled_stats(FakeClock()).rows()
    assert (calls.stream, calls.account_id) == ("calls", "ACC1")
    assert (calls.records, calls.requests, calls.retries, calls.rate_limited) == (1001, 7, 3, 1)
    assert calls.retries_by_status == {"429": 1, "503": 1, "connection": 1}
    assert calls.duration_seconds == 20.0
    assert calls.records_per_second == pytest.approx(50.05)
    assert (calls.window_start, calls.window_end) == (
        "2024-11-01T00:00:00.000000Z",
        "2025-03-14T12:30:00.000000Z",
    )
    assert (users.records, users.requests, users.duration_seconds) == (3, 1, 0.5)
    assert users.window_start is None


def test_time_is_summed_over_parts_and_counts_up_to_now_while_running() -> None:
    clock = FakeClock()
    stats = SyncStats(clock=clock)
    for _ in range(2):
        stats.started("integrations", "ACC1")
        clock.advance(3.0)
        stats.finished("integrations", "ACC1")
    stats.started("integrations", "ACC1")
    clock.advance(1.0)
    assert stats.row("integrations", "ACC1").duration_seconds == 7.0


def test_stats_are_thread_safe() -> None:
    stats = SyncStats()

    def work() -> None:
        for _ in range(5000):
            stats.record("calls", "ACC1")
            stats.request("calls", "ACC1")

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    row = stats.row("calls", "ACC1")
    assert (row.records, row.requests) == (40000, 40000)


def table_rows(report: str) -> dict[tuple[str, str], list[str]]:
    """Split each data line on runs of two or more spaces, keyed by (stream, account)."""
    lines = report.splitlines()
    rows = {}
    for line in lines[2:]:
        cells = [cell for cell in line.split("  ") if cell.strip()]
        cells = [cell.strip() for cell in cells]
        if cells[0] == "total":
            rows[("total", "")] = cells[1:]
        else:
            rows[(cells[0], cells[1])] = cells[2:]
    return rows


def test_report_table_shows_the_counted_figures() -> None:
    report = render_report(filled_stats(FakeClock()), FINDINGS)
    lines = report.splitlines()
    assert lines[0].startswith("Sync report")
    assert lines[1].split() == [
        "stream", "account", "records", "requests", "retries", "429s",
        "time", "(s)", "records/s", "window", "/", "note", "dq", "findings",
    ]  # fmt: skip
    rows = table_rows(report)
    assert rows[("calls", "ACC1")] == [
        "1001", "7", "3", "1", "20.0", "50.0", "2024-11-01 \u2192 2025-03-14 12:30", "3",
    ]  # fmt: skip
    assert rows[("users", "ACC1")] == ["3", "1", "0", "0", "0.5", "6.0", "0"]
    assert rows[("leads", "ACC2")] == ["0", "0", "0", "0", "0.0", "-", "4"]
    assert rows[("total", "")] == ["1004", "8", "3", "1", "20.5", "49.0", "7"]


def test_report_without_timing_shows_no_rate() -> None:
    stats = SyncStats()
    stats.record("accounts", None, 2)
    rows = table_rows(render_report(stats))
    assert rows[("accounts", "-")] == ["2", "0", "0", "0", "0.0", "-", "0"]


def metric_points(caplog: pytest.LogCaptureFixture) -> list[dict]:
    points = []
    for record in caplog.records:
        assert record.name == METRICS_LOGGER
        message = record.getMessage()
        assert message.startswith("METRIC: ")
        points.append(json.loads(message.removeprefix("METRIC: ")))
    return points


def test_metrics_are_sdk_metric_lines_with_the_report_figures(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger=METRICS_LOGGER)
    emit_metrics(filled_stats(FakeClock()), FINDINGS)
    points = metric_points(caplog)
    reports = {(p["tags"]["stream"], p["tags"]["account_id"]): p for p in points
               if p["metric"] == "sync_report"}  # fmt: skip
    calls = reports[("calls", "ACC1")]
    assert calls["type"] == "counter"
    assert calls["value"] == 1001
    tags = calls["tags"]
    assert (tags["requests"], tags["retries"], tags["rate_limited"]) == (7, 3, 1)
    assert tags["retries_by_status"] == {"429": 1, "503": 1, "connection": 1}
    assert tags["duration_seconds"] == 20.0
    assert tags["records_per_second"] == 50.05
    assert tags["window_start"] == "2024-11-01T00:00:00.000000Z"
    assert tags["window_end"] == "2025-03-14T12:30:00.000000Z"
    assert tags["dq_findings"] == 3
    assert reports[("leads", "ACC2")]["value"] == 0
    assert reports[("leads", "ACC2")]["tags"]["dq_findings"] == 4
    assert reports[("users", "ACC1")]["tags"]["window_start"] is None
    dq = [p for p in points if p["metric"] == "data_quality_finding"]
    assert [(p["tags"]["check"], p["value"]) for p in dq] == [
        ("non_e164_phone", 2),
        ("unknown_company", 1),
        ("malformed_email", 4),
    ]
    assert dq[1]["tags"]["values"] == ["COM9"]
    assert dq[0]["tags"]["examples"] == ["CAL1", "CAL2"]


def test_metrics_go_to_the_logger_given(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("tap-callrail.test-metrics")
    caplog.set_level(logging.INFO, logger=logger.name)
    stats = SyncStats()
    stats.record("tags", "ACC1", 5)
    emit_metrics(stats, [], logger)
    (record,) = caplog.records
    assert record.name == logger.name
    assert json.loads(record.getMessage().removeprefix("METRIC: "))["value"] == 5


WINDOW = ("2024-11-01T00:00:00.000000Z", "2026-11-26T00:00:00.000000Z")
POSITION = "2025-03-14T00:00:00.000000Z"


def progress_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records]


@pytest.fixture
def progress_log(caplog: pytest.LogCaptureFixture) -> logging.Logger:
    logger = logging.getLogger("tap-callrail.test-progress")
    caplog.set_level(logging.INFO, logger=logger.name)
    return logger


def test_progress_line_after_every_n_pages_with_window_position(
    progress_log: logging.Logger, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock()
    progress = Progress(progress_log, clock=clock)
    for page in range(1, 41):
        clock.advance(0.5)
        progress.page("calls", "ACC1", page * 250, POSITION, WINDOW)
    lines = progress_lines(caplog)
    assert len(lines) == 2
    assert lines[0].startswith("Progress: calls ACC1: 5000 records, 20 pages, ")
    assert "2025-03-14 of 2024-11-01 \u2192 2026-11-26 (18%)" in lines[0]
    assert lines[1].startswith("Progress: calls ACC1: 10000 records, 40 pages, ")


def test_progress_line_after_every_t_seconds(progress_log: logging.Logger, caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    progress = Progress(progress_log, clock=clock)
    progress.page("users", "ACC1", 250)
    clock.advance(29.0)
    progress.page("users", "ACC1", 500)
    assert progress_lines(caplog) == []
    clock.advance(1.0)
    progress.page("users", "ACC1", 750)
    assert progress_lines(caplog) == ["Progress: users ACC1: 750 records, 3 pages, 30 s, 25.0 records/s"]


def test_tiny_partition_logs_no_progress(progress_log: logging.Logger, caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    progress = Progress(progress_log, clock=clock)
    for page in range(1, 20):
        clock.advance(1.0)
        progress.page("calls", "ACC1", page * 250, POSITION, WINDOW)
    progress.done("calls", "ACC1", 19 * 250)
    assert progress_lines(caplog) == []


def test_partitions_are_paced_separately(progress_log: logging.Logger, caplog: pytest.LogCaptureFixture) -> None:
    progress = Progress(progress_log, every_pages=3, clock=FakeClock())
    for _ in range(2):
        progress.page("calls", "ACC1", 1)
        progress.page("calls", "ACC2", 1)
    assert progress_lines(caplog) == []
    progress.page("calls", "ACC2", 1)
    assert [line.split(":")[1] for line in progress_lines(caplog)] == [" calls ACC2"]


def test_rate_budget_waits_are_summed_into_the_next_progress_line(
    progress_log: logging.Logger, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock()
    progress = Progress(progress_log, every_pages=2, clock=clock)
    progress.waited("calls", "ACC1", 0.0)
    progress.waited("calls", "ACC1", 1200.0)
    progress.page("calls", "ACC1", 250)
    progress.waited("calls", "ACC1", 600.4)
    progress.page("calls", "ACC1", 500)
    (line,) = progress_lines(caplog)
    assert line.endswith("rate budget waits 2 (1800 s)")


def test_a_long_wait_makes_the_next_page_log_progress(
    progress_log: logging.Logger, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock()
    progress = Progress(progress_log, clock=clock)
    progress.page("calls", "ACC1", 250, POSITION, WINDOW)
    clock.advance(1800.0)
    progress.waited("calls", "ACC1", 1800.0)
    progress.page("calls", "ACC1", 500, POSITION, WINDOW)
    (line,) = progress_lines(caplog)
    assert line == (
        "Progress: calls ACC1: 500 records, 2 pages, 2025-03-14 of 2024-11-01 \u2192 2026-11-26 (18%), "
        "1800 s, 0.3 records/s, rate budget waits 1 (1800 s)"
    )


def test_done_logs_totals_only_for_partitions_that_showed_progress(
    progress_log: logging.Logger, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock()
    progress = Progress(progress_log, every_pages=2, clock=clock)
    progress.page("calls", "ACC1", 250)
    progress.page("calls", "ACC1", 500)
    clock.advance(12.0)
    progress.page("calls", "ACC1", 600)
    progress.done("calls", "ACC1", 600)
    assert progress_lines(caplog)[-1] == "Progress: calls ACC1: done, 600 records, 3 pages in 12 s"


class ListHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_metrics_are_recognised_by_the_sdk_structured_log_format() -> None:
    stats = SyncStats()
    stats.record("tags", "ACC1", 2)
    logger = logging.getLogger("tap-callrail.test-structured")
    handler = ListHandler()
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        emit_metrics(stats, [], logger)
    finally:
        logger.removeHandler(handler)
    (record,) = handler.records
    line = json.loads(StructuredFormatter().format(record))
    assert line["message"] == "METRIC"
    assert line["metric_info"]["metric"] == "sync_report"
    assert line["metric_info"]["value"] == 2
