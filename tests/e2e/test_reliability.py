"""Faults injected into the emulator during real `meltano run`s into PostgreSQL (issue 4).

Each test ends with the warehouse equal to the emulator: the same ids per table and account,
no duplicates, and current values in a few fields. The Meltano project runs with
`max_retries=2`, `backoff_max_seconds=1` and no rate budget (pipeline.MeltanoProject.env).
"""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta, timezone

import pytest

from .faults import (
    api_requests,
    arm_at,
    assert_current_values,
    assert_state_within_loaded,
    calls_bookmarks,
    kill_group,
    on_request,
    slow_down,
    start_meltano,
    tap_lines,
)
from .pipeline import PIPELINE, assert_equals_emulator, utc_naive, wait_for

pytestmark = pytest.mark.e2e


def _run_args(suffix: str, *flags: str) -> list[str]:
    return ["run", "--state-id-suffix", suffix, *flags, "tap-callrail", "target-postgres"]


def test_every_fifth_request_failing_in_rotation_still_loads_exactly_the_emulator(meltano, warehouse, emulator):
    api = emulator()
    emu = api.emu
    schema = suffix = "e2e_fault_every_5th"
    emu.fault_every(5)  # 500, 503 (HTML), dropped connection, truncated JSON, 500, ...

    proc = meltano.run(schema, api.url, suffix)

    faults = [r for r in api_requests(emu) if r["fault"]]
    assert len(faults) >= 6
    # 200 = a truncated body, None = a dropped connection.
    assert {r["status"] for r in faults} == {500, 503, None, 200}
    retried = [line for line in tap_lines(proc.stderr) if "Retrying stream" in line]
    assert len(retried) == len(faults)
    # A cut page holds CallRail data: it is described, never quoted in the log.
    cut = [line for line in retried if "HTTP 200 with a body that is not JSON" in line]
    assert cut and all("JSON cut short" in line and '"page"' not in line for line in cut), cut
    # The maintenance page is named once (its <title> repeats its <h1>).
    maintenance = [line for line in retried if "HTTP 503" in line]
    assert maintenance and all(line.count("503 Service Unavailable") == 1 for line in maintenance), maintenance
    assert_equals_emulator(warehouse, schema, emu)
    assert_current_values(warehouse, schema, emu)
    assert warehouse.deleted(schema) == {}
    assert calls_bookmarks(meltano.state(f"{PIPELINE}:{suffix}", meltano.env())).keys() == set(emu.account_ids)


def test_429_storms_with_and_without_retry_after_still_load_exactly_the_emulator(meltano, warehouse, emulator):
    api = emulator()
    emu = api.emu
    schema = suffix = "e2e_429_storms"
    # Three storms of three 429s each: Retry-After in seconds, as an HTTP date, and none.
    arm_at(
        emu,
        {
            1: lambda: emu.rate_limit(3, retry_after=1),
            12: lambda: emu.rate_limit(3, retry_after=datetime.now(timezone.utc) + timedelta(seconds=2)),
            24: lambda: emu.rate_limit(3),
        },
    )

    proc = meltano.run(schema, api.url, suffix, TAP_CALLRAIL_MAX_RETRIES="4")

    assert sum(1 for r in api_requests(emu) if r["status"] == 429) == 9
    retried = [line for line in tap_lines(proc.stderr) if "Retrying" in line and "HTTP 429" in line]
    assert len(retried) == 9, "\n".join(retried)
    assert sum("(Retry-After: 1)" in line for line in retried) == 3
    assert sum(re.search(r"\(Retry-After: \w{3}, \d\d \w{3} \d{4} ", line) is not None for line in retried) == 3
    assert sum("exponential backoff" in line for line in retried) == 3
    assert_equals_emulator(warehouse, schema, emu)
    assert_current_values(warehouse, schema, emu)
    assert warehouse.deleted(schema) == {}


def test_pipeline_killed_mid_stream_then_forced_rerun_leaves_exactly_the_emulator(
    meltano, warehouse, emulator, tmp_path
):
    api = emulator(calls_per_account=2500)  # 10 pages of calls per account
    emu = api.emu
    schema = suffix = "e2e_killed"
    state_id = f"{PIPELINE}:{suffix}"
    second = emu.account_ids[1]
    # The second account's calls take a few seconds, so that the kill lands inside them.
    full_speed = slow_down(emu, 0.4, f"/{second}/calls.json")
    # Small target batches: calls rows are committed while the tap is still reading calls.
    env = meltano.env(schema, api.url, TARGET_POSTGRES_BATCH_SIZE_ROWS="1000")

    def calls_pages(account_id: str) -> int:
        return sum(1 for r in api_requests(emu) if r["path"].endswith(f"/{account_id}/calls.json"))

    def loaded_calls() -> int:
        if "calls" not in warehouse.tables(schema):
            return 0
        return int(warehouse.query(f'SELECT count(*) FROM "{schema}".calls')[0][0])

    proc = start_meltano(meltano, _run_args(suffix), env, tmp_path / "killed-run.log")
    try:
        assert wait_for(lambda: calls_pages(second) >= 2 and loaded_calls() >= 1000, 240, 0.05), (
            tmp_path / "killed-run.log"
        ).read_text()[-3000:]
        assert proc.poll() is None, "the run ended before it could be killed"
        kill_group(proc)
    finally:
        if proc.poll() is None:
            kill_group(proc)
    read_before_kill = calls_pages(second)
    assert read_before_kill < 10, "killed too late: the calls of the last account were all read"

    # What survived the kill: some rows, and a state that claims no more than was loaded.
    loaded = loaded_calls()
    assert 0 < loaded < 5000
    assert_state_within_loaded(warehouse, schema, meltano.state(state_id, meltano.env()))
    assert warehouse.deleted(schema) == {}

    # Meltano still sees the killed run as alive (heartbeat < 5 min) and refuses to start...
    refused = meltano.run(schema, api.url, suffix, check=False)
    assert refused.returncode != 0
    assert "already running" in refused.stderr and "--force" in refused.stderr
    # ...until told to.
    full_speed()
    meltano.run(schema, api.url, suffix, "--force")

    assert_equals_emulator(warehouse, schema, emu)
    assert_current_values(warehouse, schema, emu)
    assert warehouse.deleted(schema) == {}
    assert calls_bookmarks(meltano.state(state_id, meltano.env())).keys() == set(emu.account_ids)


def test_persistent_500_fails_fast_with_one_clear_line_and_state_within_what_was_loaded(
    meltano, warehouse, emulator, tmp_path
):
    api = emulator()
    emu = api.emu
    schema = suffix = "e2e_persistent_500"
    state_id = f"{PIPELINE}:{suffix}"
    meltano.run(schema, api.url, suffix)
    first = emu.account_ids[0]

    # Changes the failing delta run must handle: new and edited calls (read before the failure)
    # and a tracker deleted at the source (read after it, so it must not be marked deleted).
    added = emu.add_calls(first, 3)
    edited = emu.edit_calls(first, 2, note="edited before the outage")
    gone_tracker = str(sorted(emu.ids("trackers", first))[0])
    emu.delete("trackers", first, gone_tracker)
    armed: dict[str, float] = {}

    def outage_from_notifications_on(_n: int, req) -> None:
        # CallRail breaks for good when the run first asks for notifications (after calls,
        # companies and form_submissions were read; leads and integrations are not due).
        if "at" not in armed and req.path.endswith("/notifications.json"):
            emu.persistent_fault(500)
            armed["at"] = time.monotonic()

    on_request(emu, outage_from_notifications_on)
    log = tmp_path / "outage.log"
    started = time.monotonic()
    proc = start_meltano(meltano, _run_args(suffix), meltano.env(schema, api.url), log)
    try:
        returncode = proc.wait(timeout=300)
    finally:
        if proc.poll() is None:
            kill_group(proc)
    ended = time.monotonic()
    output = log.read_text()

    assert returncode != 0, output[-3000:]
    assert "at" in armed, "the outage was never armed"
    assert ended - armed["at"] < 60, f"took {ended - armed['at']:.0f} s to give up"
    assert ended - started < 120
    failed = [line for line in tap_lines(output) if "CallRail request failed" in line]
    assert len(failed) == 1, "\n".join(tap_lines(output)[-20:])
    line = failed[0]
    for part in (
        "stream 'notifications'",
        f"account {first}",
        f"GET /v3/a/{first}/notifications.json",
        "HTTP 500",
        "Internal Server Error",
        "max_retries=2",
    ):
        assert part in line, (part, line)
    assert "Traceback" not in "\n".join(tap_lines(output))

    # State: the calls bookmarks moved to the new calls, which were loaded; not beyond them.
    state = meltano.state(state_id, meltano.env())
    bookmarks = assert_state_within_loaded(warehouse, schema, state)
    assert set(bookmarks) == set(emu.account_ids)
    newest = max(utc_naive(c["start_time"]) for c in emu.records("calls", first))
    assert utc_naive(bookmarks[first]) == newest, "the bookmark should reach the newest call, which was loaded"
    assert set(added) <= set(warehouse.ids(schema, "calls", first))
    notes = warehouse.query(f'SELECT note FROM "{schema}".calls WHERE id = ANY(%s)', (edited,))
    assert [n for (n,) in notes] == ["edited before the outage"] * 2
    # Nothing is marked deleted by a run that failed, and nothing is lost or doubled.
    assert warehouse.deleted(schema) == {}
    assert_equals_emulator(warehouse, schema, emu, kept={"trackers": {gone_tracker}})
    assert_current_values(warehouse, schema, emu)


def test_a_200_error_body_for_the_account_list_fails_the_run_and_leaves_every_row_unmarked(
    meltano, warehouse, emulator
):
    api = emulator()
    emu = api.emu
    schema = suffix = "e2e_error_body"
    meltano.run(schema, api.url, suffix)
    assert_equals_emulator(warehouse, schema, emu)
    emu.hostile("error_body", "/a.json")  # 200 {"error": "Internal error"}, as a proxy or an API fault might

    proc = meltano.run(schema, api.url, suffix, check=False)

    assert proc.returncode != 0
    errors = [line for line in tap_lines(proc.stderr) if "not a CallRail page" in line]
    assert errors and "/a.json" in errors[0] and "Internal error" in errors[0], tap_lines(proc.stderr)[-20:]
    assert warehouse.deleted(schema) == {}  # before: ACTIVATE_VERSION for every full-table stream
    assert_equals_emulator(warehouse, schema, emu)
