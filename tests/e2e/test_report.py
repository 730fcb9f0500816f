"""The sync report, progress lines and data_quality=fail, checked against what really happened.

Plain `tap-callrail` runs against the emulator (no Meltano, no PostgreSQL): the report is about
the tap, and the emulator's own request log is the independent witness of requests, retries
and 429s.
"""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest

from .faults import api_requests, arm_at, records_per_stream_account, run_tap, tap_config
from .pipeline import API_KEY

pytestmark = pytest.mark.e2e

# Endpoints read by exactly one stream (companies.json is also read to resolve the fan-outs).
STREAM_OF_ENDPOINT = {
    "calls.json": "calls",
    "form_submissions.json": "form_submissions",
    "text-messages.json": "text_messages",
    "leads.json": "leads",
    "tags.json": "tags",
    "trackers.json": "trackers",
    "users.json": "users",
    "notifications.json": "notifications",
    "integrations.json": "integrations",
    "caller_ids.json": "outbound_caller_ids",
}


def _by_account(rows, figure) -> Counter:
    counts: Counter = Counter()
    for row in rows:
        counts[row["tags"]["account_id"]] += figure(row)
    return +counts


def test_report_figures_equal_records_emitted_and_the_emulators_requests_retries_and_429s(emulator, tmp_path):
    api = emulator()
    emu = api.emu
    # Every 6th request fails (all transient kinds), plus 429 bursts with and without Retry-After.
    emu.fault_every(6, kinds=("500", "503", "drop", "truncated_json", "502", "504"))
    arm_at(
        emu,
        {
            2: lambda: emu.rate_limit(2, retry_after=0),
            17: lambda: emu.rate_limit(3),
        },
    )

    run = run_tap(tmp_path, tap_config(api.url, API_KEY, max_retries=5, backoff_max_seconds=1))

    assert run.returncode == 0, "\n".join(run.log[-30:])
    served = api_requests(emu)
    rows = run.metrics("sync_report")
    assert rows, "no sync_report METRIC lines"

    # Records: what the tap emitted, per stream and account.
    emitted = records_per_stream_account((m["stream"], m["record"]) for m in run.messages if m["type"] == "RECORD")
    reported = Counter({(r["tags"]["stream"], r["tags"]["account_id"]): r["value"] for r in rows})
    assert +reported == emitted

    # Requests, retries and 429s: what the emulator saw, per account (None: the accounts list).
    assert sum(r["tags"]["requests"] for r in rows) == len(served)
    assert _by_account(rows, lambda r: r["tags"]["requests"]) == +Counter(r["account_id"] for r in served)
    faults = [r for r in served if r["fault"]]
    assert len(faults) >= 8, "the fault hooks did not fire"
    assert _by_account(rows, lambda r: r["tags"]["retries"]) == +Counter(r["account_id"] for r in faults)
    throttled = [r for r in served if r["status"] == 429]
    assert len(throttled) == 5
    assert _by_account(rows, lambda r: r["tags"]["rate_limited"]) == +Counter(r["account_id"] for r in throttled)
    for row in rows:
        assert sum(row["tags"]["retries_by_status"].values()) == row["tags"]["retries"]
    assert sum(r["tags"]["retries_by_status"].get("429", 0) for r in rows) == 5
    assert sum(r["tags"]["retries_by_status"].get("connection", 0) for r in rows) == sum(
        1 for r in faults if r["status"] is None
    )

    # Per stream too, where an endpoint belongs to one stream.
    per_stream: Counter = Counter()
    for r in served:
        stream = STREAM_OF_ENDPOINT.get(r["path"].rsplit("/", 1)[-1])
        if stream:
            per_stream[(stream, r["account_id"])] += 1
    for row in rows:
        key = (row["tags"]["stream"], row["tags"]["account_id"])
        if key[0] in STREAM_OF_ENDPOINT.values():
            assert row["tags"]["requests"] == per_stream[key], key

    # The human table's total line carries the same figures.
    total = next(line for line in run.log if re.search(r"\|\s+total\s+\d", line))
    numbers = [int(n) for n in total.split("|")[-1].split()[1:5]]
    assert numbers == [
        sum(emitted.values()),
        len(served),
        len(faults),
        len(throttled),
    ], total


_PROGRESS = re.compile(
    r"Progress: calls (?P<account>ACC\w+): (?P<records>\d+) records, (?P<pages>\d+) pages, "
    r"(?P<at>\d{4}-\d\d-\d\d) of (?P<start>\d{4}-\d\d-\d\d) \u2192 (?P<end>\d{4}-\d\d-\d\d) \((?P<share>\d+)%\)"
)


def test_progress_lines_name_window_positions_in_a_long_run(emulator, tmp_path):
    api = emulator(accounts=1, calls_per_account=20_000)  # 80 pages of calls
    account_id = api.emu.account_ids[0]

    run = run_tap(tmp_path, tap_config(api.url, API_KEY))

    assert run.returncode == 0, "\n".join(run.log[-30:])
    lines = [m for line in run.log if (m := _PROGRESS.search(line))]
    assert len(lines) >= 3, "\n".join(run.log)
    (report,) = [r for r in run.metrics("sync_report") if r["tags"]["stream"] == "calls"]
    window = (report["tags"]["window_start"][:10], report["tags"]["window_end"][:10])
    positions = []
    for match in lines:
        assert match["account"] == account_id
        assert (match["start"], match["end"]) == window
        assert match["start"] <= match["at"] <= match["end"]
        positions.append((int(match["records"]), int(match["pages"]), match["at"], int(match["share"])))
    assert positions == sorted(positions), "progress must only move forward"
    assert len({p[0] for p in positions}) == len(positions)
    assert any(f"Progress: calls {account_id}: done, 20000 records, 80 pages" in line for line in run.log)


def test_tiny_run_logs_no_progress_only_the_report(emulator, tmp_path):
    api = emulator(accounts=1, calls_per_account=50)

    run = run_tap(tmp_path, tap_config(api.url, API_KEY))

    assert run.returncode == 0, "\n".join(run.log[-30:])
    assert not [line for line in run.log if "Progress:" in line or "Rate budget" in line]
    assert any("Sync report (" in line for line in run.log)
    assert run.metrics("sync_report")
    # Apart from the report table, the data-quality summary and the SDK's one line per stream
    # (or partition), a tiny run says next to nothing.
    report_rows = len(run.metrics("sync_report")) + 3
    others = [
        line
        for line in run.log
        if line.strip()
        and not re.search(
            r"Beginning sync of|Starting incremental sync of|Skipping outbound_caller_ids|"
            # The SDK's own: the fan-outs it wires and skips (off by default), its unsorted streams.
            r"as child stream to|Skipping deselected stream|Stream is assumed to be unsorted",
            line,
        )
    ]
    assert len(others) <= report_rows + 12, "\n".join(others)


def _without_run_times(state: dict) -> dict:
    """The state without the marks that say when this run read what (they differ from run to run)."""
    text = json.dumps(state)
    return json.loads(re.sub(r'"(read_completely_at|deep_lookback_at)": "[^"]*"', r'"\1": "…"', text))


def test_data_quality_fail_exits_non_zero_after_every_record_and_the_final_state(emulator, tmp_path):
    api = emulator()
    emu = api.emu
    account_id = emu.account_ids[0]
    bad_id = str(emu.add_bad_record("outbound_caller_ids", account_id, phone_number="555-0100"))

    runs = {
        mode: run_tap(tmp_path, tap_config(api.url, API_KEY, data_quality=mode)) for mode in ("warn", "fail", "off")
    }

    warn, fail, off = runs["warn"], runs["fail"], runs["off"]
    assert warn.returncode == 0 and off.returncode == 0
    assert fail.returncode != 0
    # Every record and the final state were written before the run failed (the same state but
    # for the times each run read its streams completely).
    assert fail.messages[-1]["type"] == "STATE"
    assert _without_run_times(fail.messages[-1]["value"]) == _without_run_times(warn.messages[-1]["value"])
    # Records go out unchanged in every mode (the bad phone number included).
    for run in runs.values():
        assert run.records() == warn.records()
    (bad,) = [r for r in warn.records("outbound_caller_ids") if str(r["id"]) == bad_id]
    assert bad["phone_number"] == "555-0100"
    # The findings: named in fail's last error line and in METRIC lines; none when off.
    errors = [line for line in fail.log if "| ERROR" in line]
    assert errors and "data_quality=fail" in errors[-1], "\n".join(fail.log[-20:])
    assert any(
        f"outbound_caller_ids non_e164_phone[phone_number] account={account_id}: 1 e.g. {bad_id}" in line
        for line in fail.log
    ), "\n".join(fail.log[-20:])
    for run in (warn, fail):
        (finding,) = [
            f["tags"]
            for f in run.metrics("data_quality_finding")
            if f["tags"]["stream"] == "outbound_caller_ids" and f["tags"]["account_id"] == account_id
        ]
        assert finding["check"] == "non_e164_phone" and bad_id in finding["examples"]
    assert off.metrics("data_quality_finding") == []
    assert all("Traceback" not in run.stderr for run in runs.values())
