"""What a run did: progress lines while it runs, a sync report when it ends.

- `Progress` logs one line per stream and account every `every_pages` pages or `every_seconds`
  seconds, whichever comes first, with the waits for the rate budget so far. A partition
  that finishes within its first interval logs nothing. (A wait itself, with its expected
  end, is announced by `ratelimit.RateBudget` when it starts, so it is not repeated here.)
- `SyncStats` counts records, requests, retries and 429s per (stream, account_id), with the
  date window synced and the time spent. It is thread-safe.
- `render_report` turns the counters and the data-quality findings into one table for people;
  `emit_metrics` logs the same figures as SDK METRIC lines for machines.

METRIC lines follow singer_sdk.metrics: `METRIC: {"type", "metric", "value", "tags"}` logged at
INFO on the logger "singer_sdk.metrics" (the SDK's structured-logging formatter also
recognises them). Two metrics, one line each:

    sync_report           per (stream, account_id); value = records; tags: stream,
                          account_id, requests, retries, retries_by_status {"429": n, ...},
                          rate_limited, duration_seconds, records_per_second (null when no
                          time was measured), window_start, window_end (null when not a
                          dated stream), dq_findings
    data_quality_finding  per finding; value = count; tags: stream, account_id, check, field,
                          examples (record ids), values (offending enum values / unknown ids)

Both carry the `pid` tag as the SDK's own metrics do.
"""

from __future__ import annotations

import enum
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import timezone
from typing import Any, cast

from singer_sdk import metrics

from tap_callrail.quality import Finding, try_parse_timestamp

_Key = tuple[str, str | None]


class ReportMetric(str, enum.Enum):
    """Metric names of the sync report; the SDK's `Metric` enum has no member for them."""

    SYNC_REPORT = "sync_report"
    DATA_QUALITY_FINDING = "data_quality_finding"


@dataclass(frozen=True)
class SyncRow:
    """The figures of one stream and account, as the report shows them."""

    stream: str
    account_id: str | None
    records: int
    requests: int
    retries: int
    rate_limited: int
    duration_seconds: float
    window_start: str | None = None
    window_end: str | None = None
    retries_by_status: dict[str, int] = dataclass_field(default_factory=dict)
    #: Why the stream read less than usual for this account (e.g. skipped, not due).
    note: str | None = None

    @property
    def records_per_second(self) -> float | None:
        """Records per second of measured time; None if no time was measured."""
        return self.records / self.duration_seconds if self.duration_seconds > 0 else None


@dataclass
class _Counters:
    records: int = 0
    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    retries_by_status: dict[str, int] = dataclass_field(default_factory=dict)
    window_start: str | None = None
    window_end: str | None = None
    note: str | None = None
    elapsed: float = 0.0
    running_since: float | None = None


class SyncStats:
    """Thread-safe counters per (stream, account_id) for one run.

    `account` may be None for figures that belong to no account (e.g. the accounts list).

    - `request`: every HTTP request sent, retried ones included.
    - `retry`: every request that is sent again; `status` is the HTTP status that caused it
      (None for a connection error). Shown per status in METRIC lines.
    - `rate_limited`: every 429 response. A retried 429 counts as a request, a retry and a
      rate-limited response.
    - `window`: a date window requested; the report shows the union of all windows.
      Start and end must be ISO-8601 strings in one form so they compare as strings
      (the tap's canonical UTC form, or dates).
    - `started` / `finished`: time spent, summed when a stream and account are synced in
      several parts (e.g. one per company).
    """

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._counters: dict[_Key, _Counters] = {}

    def _get(self, stream: str, account: str | None) -> _Counters:
        key = (stream, None if account is None else str(account))
        counters = self._counters.get(key)
        if counters is None:
            counters = self._counters[key] = _Counters()
        return counters

    def record(self, stream: str, account: str | None, count: int = 1) -> None:
        """Count `count` records synced."""
        with self._lock:
            self._get(stream, account).records += count

    def request(self, stream: str, account: str | None) -> None:
        """Count one HTTP request sent."""
        with self._lock:
            self._get(stream, account).requests += 1

    def retry(self, stream: str, account: str | None, status: int | None = None) -> None:
        """Count one request that is sent again because of `status`."""
        label = "connection" if status is None else str(status)
        with self._lock:
            counters = self._get(stream, account)
            counters.retries += 1
            counters.retries_by_status[label] = counters.retries_by_status.get(label, 0) + 1

    def rate_limited(self, stream: str, account: str | None) -> None:
        """Count one 429 response."""
        with self._lock:
            self._get(stream, account).rate_limited += 1

    def window(self, stream: str, account: str | None, start: str, end: str) -> None:
        """Widen the window synced to include `start`..`end`."""
        with self._lock:
            counters = self._get(stream, account)
            if counters.window_start is None or start < counters.window_start:
                counters.window_start = start
            if counters.window_end is None or end > counters.window_end:
                counters.window_end = end

    def note(self, stream: str, account: str | None, text: str) -> None:
        """Say in the report why this stream and account read less than usual."""
        with self._lock:
            self._get(stream, account).note = text

    def started(self, stream: str, account: str | None) -> None:
        """Start timing; a second call before `finished` keeps the first start."""
        now = self._clock()
        with self._lock:
            counters = self._get(stream, account)
            if counters.running_since is None:
                counters.running_since = now

    def finished(self, stream: str, account: str | None) -> None:
        """Stop timing and add the time since `started`."""
        now = self._clock()
        with self._lock:
            counters = self._get(stream, account)
            if counters.running_since is not None:
                counters.elapsed += now - counters.running_since
                counters.running_since = None

    def row(self, stream: str, account: str | None) -> SyncRow:
        """The figures of one stream and account so far."""
        now = self._clock()
        with self._lock:
            key = (stream, None if account is None else str(account))
            return self._row(key, self._counters.get(key) or _Counters(), now)

    def rows(self) -> list[SyncRow]:
        """The figures of every stream and account, in the order they were first counted.

        A stream still being timed counts the time up to now.
        """
        now = self._clock()
        with self._lock:
            return [self._row(key, counters, now) for key, counters in self._counters.items()]

    @staticmethod
    def _row(key: _Key, counters: _Counters, now: float) -> SyncRow:
        elapsed = counters.elapsed
        if counters.running_since is not None:
            elapsed += now - counters.running_since
        return SyncRow(
            stream=key[0],
            account_id=key[1],
            records=counters.records,
            requests=counters.requests,
            retries=counters.retries,
            rate_limited=counters.rate_limited,
            duration_seconds=elapsed,
            window_start=counters.window_start,
            window_end=counters.window_end,
            retries_by_status=dict(counters.retries_by_status),
            note=counters.note,
        )


def _dq_counts(findings: Iterable[Finding]) -> dict[_Key, int]:
    counts: dict[_Key, int] = {}
    for finding in findings:
        key = (finding.stream, finding.account_id)
        counts[key] = counts.get(key, 0) + finding.count
    return counts


def _rows_with_findings(stats: SyncStats, dq: dict[_Key, int]) -> list[SyncRow]:
    """The stats rows, plus an empty row for findings of a stream and account never counted."""
    rows = stats.rows()
    known = {(row.stream, row.account_id) for row in rows}
    rows.extend(SyncRow(stream, account, 0, 0, 0, 0, 0.0) for stream, account in dq if (stream, account) not in known)
    return rows


def _short(timestamp: str | None) -> str:
    """A timestamp as people read it in a table: the date, plus HH:MM unless midnight UTC."""
    if not timestamp:
        return ""
    moment = try_parse_timestamp(timestamp)
    if moment is None:
        return timestamp
    moment = moment.astimezone(timezone.utc)
    if (moment.hour, moment.minute, moment.second, moment.microsecond) == (0, 0, 0, 0):
        return moment.strftime("%Y-%m-%d")
    return moment.strftime("%Y-%m-%d %H:%M")


def _window_text(start: str | None, end: str | None) -> str:
    if start is None and end is None:
        return ""
    return f"{_short(start)} \u2192 {_short(end)}"


_COLUMNS = (
    "stream",
    "account",
    "records",
    "requests",
    "retries",
    "429s",
    "time (s)",
    "records/s",
    "window / note",
    "dq findings",
)
_LEFT_ALIGNED = {"stream", "account", "window / note"}


def render_report(stats: SyncStats, findings: Iterable[Finding] = ()) -> str:
    """The sync report as one table: a header, one line per stream and account, a total."""
    dq = _dq_counts(findings)
    rows = _rows_with_findings(stats, dq)
    table: list[tuple[str, ...]] = []
    for row in rows:
        rate = row.records_per_second
        table.append(
            (
                row.stream,
                row.account_id or "-",
                str(row.records),
                str(row.requests),
                str(row.retries),
                str(row.rate_limited),
                f"{row.duration_seconds:.1f}",
                "-" if rate is None else f"{rate:.1f}",
                row.note or _window_text(row.window_start, row.window_end),
                str(dq.get((row.stream, row.account_id), 0)),
            )
        )
    total_seconds = sum(row.duration_seconds for row in rows)
    total_records = sum(row.records for row in rows)
    table.append(
        (
            "total",
            "",
            str(total_records),
            str(sum(row.requests for row in rows)),
            str(sum(row.retries for row in rows)),
            str(sum(row.rate_limited for row in rows)),
            f"{total_seconds:.1f}",
            f"{total_records / total_seconds:.1f}" if total_seconds > 0 else "-",
            "",
            str(sum(dq.values())),
        )
    )
    widths = [max(len(line[i]) for line in (_COLUMNS, *table)) for i in range(len(_COLUMNS))]

    def render(cells: tuple[str, ...]) -> str:
        return "  ".join(
            cell.ljust(width) if name in _LEFT_ALIGNED else cell.rjust(width)
            for name, cell, width in zip(_COLUMNS, cells, widths, strict=True)
        ).rstrip()

    lines = [f"Sync report ({len(rows)} stream/account rows):", render(_COLUMNS)]
    lines.extend(render(cells) for cells in table)
    return "\n".join(lines)


def _point(metric: ReportMetric, value: int, tags: dict[str, Any]) -> metrics.Point[int]:
    tags["pid"] = os.getpid()
    # Point only reads `.value` of its metric, which ReportMetric provides like Metric does.
    return metrics.Point("counter", cast(metrics.Metric, metric), value, tags)


def emit_metrics(
    stats: SyncStats,
    findings: Iterable[Finding] = (),
    logger: logging.Logger | None = None,
) -> None:
    """Log the report figures as METRIC lines (shape in the module docstring).

    `logger` defaults to the SDK's metrics logger, "singer_sdk.metrics".
    """
    logger = logger or metrics.get_metrics_logger()
    findings = list(findings)
    dq = _dq_counts(findings)
    for row in _rows_with_findings(stats, dq):
        rate = row.records_per_second
        tags: dict[str, Any] = {
            "stream": row.stream,
            "account_id": row.account_id,
            "requests": row.requests,
            "retries": row.retries,
            "retries_by_status": row.retries_by_status,
            "rate_limited": row.rate_limited,
            "duration_seconds": round(row.duration_seconds, 3),
            "records_per_second": None if rate is None else round(rate, 3),
            "window_start": row.window_start,
            "window_end": row.window_end,
            "dq_findings": dq.get((row.stream, row.account_id), 0),
        }
        metrics.log(logger, _point(ReportMetric.SYNC_REPORT, row.records, tags))
    for finding in findings:
        tags = {
            "stream": finding.stream,
            "account_id": finding.account_id,
            "check": finding.check,
            "field": finding.field,
            "examples": list(finding.examples),
            "values": list(finding.values),
        }
        metrics.log(logger, _point(ReportMetric.DATA_QUALITY_FINDING, finding.count, tags))


@dataclass
class _Partition:
    started: float
    last_logged: float
    pages: int = 0
    pages_since_log: int = 0
    logged: bool = False
    waits: int = 0
    waited_seconds: float = 0.0


def _position_text(position: str | None, window: tuple[str, str] | None) -> str:
    if position is None:
        return ""
    if window is None:
        return f"at {_short(position)}"
    text = f"{_short(position)} of {_short(window[0])} \u2192 {_short(window[1])}"
    moments = [try_parse_timestamp(value) for value in (position, *window)]
    at, start, end = moments
    if at is not None and start is not None and end is not None and end > start:
        share = min(max((at - start) / (end - start), 0.0), 1.0)
        text += f" ({share:.0%})"
    return text


class Progress:
    """Progress lines for long syncs, one partition (stream and account) at a time.

    `page` is called after every page; it logs when `every_pages` pages or `every_seconds`
    seconds have passed since the partition's first page or its last line. `waited` notes a
    wait for the rate budget, shown summed in the next line. `done` forgets the partition
    and, if it logged progress, logs its totals.
    """

    def __init__(
        self,
        logger: logging.Logger,
        *,
        every_pages: int = 20,
        every_seconds: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._logger = logger
        self._every_pages = every_pages
        self._every_seconds = every_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._partitions: dict[tuple[str, str], _Partition] = {}

    def _partition(self, stream: str, partition_label: str, now: float) -> _Partition:
        key = (stream, partition_label)
        partition = self._partitions.get(key)
        if partition is None:
            partition = self._partitions[key] = _Partition(started=now, last_logged=now)
        return partition

    def page(
        self,
        stream: str,
        partition_label: str,
        records_so_far: int,
        position: str | None = None,
        window: tuple[str, str] | None = None,
    ) -> None:
        """Note one page synced; log a progress line when one is due.

        `position` is where the sync is in the date `window` (e.g. the last record's
        `start_time`); both are None for streams without dates.
        """
        now = self._clock()
        with self._lock:
            partition = self._partition(stream, partition_label, now)
            partition.pages += 1
            partition.pages_since_log += 1
            due = (
                self._every_pages > 0 and partition.pages_since_log >= self._every_pages
            ) or now - partition.last_logged >= self._every_seconds
            if not due:
                return
            partition.pages_since_log = 0
            partition.last_logged = now
            partition.logged = True
            elapsed = now - partition.started
            parts = [f"{records_so_far} records", f"{partition.pages} pages"]
            where = _position_text(position, window)
            if where:
                parts.append(where)
            parts.append(f"{elapsed:.0f} s")
            if elapsed > 0:
                parts.append(f"{records_so_far / elapsed:.1f} records/s")
            if partition.waits:
                parts.append(f"rate budget waits {partition.waits} ({partition.waited_seconds:.0f} s)")
        self._logger.info("Progress: %s %s: %s", stream, partition_label, ", ".join(parts))

    def waited(self, stream: str, partition_label: str, seconds: float) -> None:
        """Note `seconds` spent waiting for the rate budget (0 = no wait, not counted)."""
        if seconds <= 0:
            return
        now = self._clock()
        with self._lock:
            partition = self._partition(stream, partition_label, now)
            partition.waits += 1
            partition.waited_seconds += seconds

    def done(self, stream: str, partition_label: str, records: int) -> None:
        """Forget a finished partition; log its totals if it logged progress before."""
        now = self._clock()
        with self._lock:
            partition = self._partitions.pop((stream, partition_label), None)
        if partition is None or not partition.logged:
            return
        self._logger.info(
            "Progress: %s %s: done, %d records, %d pages in %.0f s",
            stream,
            partition_label,
            records,
            partition.pages,
            now - partition.started,
        )
