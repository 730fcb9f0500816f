"""Bad settings and state, through the real `tap-callrail` command against the emulator.

Each is refused before the first request (the emulator sees none) with one log line that names
the setting, exit code 1 and no stack trace. The cases run as parallel subprocesses once per
module; each test reads its own case's result.
"""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from callrail_emulator import Emulator
from tap_callrail.settings import config_problems

TAP = str(Path(sys.executable).parent / "tap-callrail")
KEY = "bad-input-key"
DROP = object()  # remove the setting from the config

# case id: (settings changed from a valid config, state file text, words the one line must hold)
CASES: dict[str, tuple[dict[str, Any], str | None, tuple[str, ...]]] = {
    "missing_api_key": ({"api_key": DROP}, None, ("api_key",)),
    "empty_api_key": ({"api_key": " "}, None, ("api_key",)),
    "malformed_start_date": ({"start_date": "last tuesday"}, None, ("start_date", "last tuesday")),
    "impossible_end_date": ({"end_date": "2026-02-30"}, None, ("end_date", "2026-02-30")),
    "end_date_before_start_date": (
        {"start_date": "2026-03-01", "end_date": "2026-02-01"},
        None,
        ("end_date", "start_date"),
    ),
    "negative_lookback_window_days": ({"lookback_window_days": -1}, None, ("lookback_window_days", "-1")),
    "negative_requests_per_hour": ({"requests_per_hour": -10}, None, ("requests_per_hour", "-10")),
    "negative_requests_per_day": ({"requests_per_day": -1}, None, ("requests_per_day", "-1")),
    "negative_max_retries": ({"max_retries": -3}, None, ("max_retries", "-3")),
    "zero_backoff_max_seconds": ({"backoff_max_seconds": 0}, None, ("backoff_max_seconds",)),
    "negative_fractional_backoff_max_seconds": ({"backoff_max_seconds": -0.5}, None, ("backoff_max_seconds",)),
    "unknown_data_quality_mode": ({"data_quality": "strict"}, None, ("data_quality",)),
    "state_not_json": ({}, '{"bookmarks": {"calls": ', ("--state", "JSON")),
    "state_not_an_object": ({}, "[1, 2]", ("--state",)),
    "state_bookmarks_not_objects": ({}, '{"bookmarks": {"calls": "2026-01-01"}}', ("--state", "bookmarks")),
    "state_partitions_not_a_list": ({}, '{"bookmarks": {"calls": {"partitions": "x"}}}', ("--state", "partitions")),
    "state_bookmark_garbage": (
        {},
        '{"bookmarks": {"calls": {"replication_key": "start_time", "replication_key_value": "garbage"}}}',
        ("--state", "'calls'", "not a timestamp"),
    ),
    "huge_lookback_window_days": ({"lookback_window_days": 100000000}, None, ("lookback_window_days",)),
    "backoff_under_a_second": ({"backoff_max_seconds": 0.001}, None, ("backoff_max_seconds",)),
    "zero_request_timeout_seconds": ({"request_timeout_seconds": 0}, None, ("request_timeout_seconds",)),
    "negative_max_wait_seconds": ({"max_wait_seconds": -1}, None, ("max_wait_seconds",)),
    "zero_max_concurrent_requests": ({"max_concurrent_requests": 0}, None, ("max_concurrent_requests", "0")),
    "max_concurrent_requests_not_a_number": ({"max_concurrent_requests": "x"}, None, ("max_concurrent_requests",)),
    "account_id_with_a_path": ({"account_ids": ["../../x"]}, None, ("account_ids", "../../x")),
    "account_id_with_a_query": ({"account_ids": ["ACC1?x=1&"]}, None, ("account_ids",)),
    "account_id_naming_another": ({"account_ids": ["ACC1/../ACC2"]}, None, ("account_ids",)),
    "company_id_not_an_id": ({"company_ids": ["COM1 OR 1=1"]}, None, ("company_ids",)),
}


def _run_case(workdir: Path, name: str) -> tuple[subprocess.CompletedProcess[str], int]:
    """Run one case against its own emulator; returns the result and the requests it served."""
    changes, state, _ = CASES[name]
    emu = Emulator(seed=3, api_key=KEY, accounts=1, calls_per_account=10)
    url = emu.start(port=0)
    config: dict[str, Any] = {"api_key": KEY, "api_url": url, "requests_per_hour": 0, "requests_per_day": 0}
    for setting, value in changes.items():
        if value is DROP:
            config.pop(setting)
        else:
            config[setting] = value
    (workdir / f"{name}.json").write_text(json.dumps(config))
    argv = [TAP, "--config", str(workdir / f"{name}.json")]
    if state is not None:
        (workdir / f"{name}.state.json").write_text(state)
        argv += ["--state", str(workdir / f"{name}.state.json")]
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120, check=False)
        return proc, emu.request_count()
    finally:
        emu.stop()


@pytest.fixture(scope="module")
def refused(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[subprocess.CompletedProcess[str], int]]:
    workdir = tmp_path_factory.mktemp("bad-input")
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {name: pool.submit(_run_case, workdir, name) for name in CASES}
        return {name: future.result() for name, future in futures.items()}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_is_refused_before_the_first_request_with_one_line(refused, case: str) -> None:
    proc, requests = refused[case]
    words = CASES[case][2]
    output = proc.stdout + proc.stderr

    assert proc.returncode == 1, output[-2000:]
    assert "Traceback" not in output
    assert proc.stdout == "", "no Singer message may be written"
    errors = [line for line in proc.stderr.splitlines() if "| ERROR" in line]
    assert len(errors) == 1, output[-2000:]
    assert all(word in errors[0] for word in words), errors[0]
    assert requests == 0, "the emulator was asked before the input was checked"


def test_fractional_backoff_read_from_a_json_config_is_accepted() -> None:
    # The SDK reads `"backoff_max_seconds": 1.5` from a config file as Decimal("1.5").
    assert config_problems({"api_key": "k", "backoff_max_seconds": Decimal("1.5")}) == []
    assert len(config_problems({"api_key": "k", "backoff_max_seconds": Decimal("0.5")})) == 1
