"""Settings and state are checked before the first request: one line naming the problem, exit 1."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
import requests_mock as rm

from callrail_emulator import Emulator
from tap_callrail.settings import api_key_problem, config_problems, state_problems
from tests.callrail import base_config
from tests.conftest import CliResult


def _assert_refused(result: CliResult, http: rm.Mocker, *names: str) -> None:
    assert result.exit_code != 0
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    naming = [line for line in result.output.splitlines() if all(name in line for name in names)]
    assert len(naming) == 1, result.output[-2000:]
    assert not http.request_history


@pytest.mark.parametrize(
    ("overrides", "names"),
    [
        ({"start_date": "yesterday"}, ("start_date", "yesterday")),
        ({"start_date": "2026-13-01"}, ("start_date", "2026-13-01")),
        ({"end_date": "2026-02-30"}, ("end_date", "2026-02-30")),
        ({"start_date": "2026-11-10", "end_date": "2026-11-01"}, ("end_date", "start_date")),
        ({"lookback_window_days": -1}, ("lookback_window_days", "-1")),
        ({"requests_per_hour": -5}, ("requests_per_hour", "-5")),
        ({"requests_per_day": -1}, ("requests_per_day", "-1")),
        ({"max_retries": -2}, ("max_retries", "-2")),
        ({"backoff_max_seconds": 0}, ("backoff_max_seconds",)),
        ({"backoff_max_seconds": -3}, ("backoff_max_seconds",)),
        ({"lookback_window_days": "seven"}, ("lookback_window_days",)),
        ({"api_key": ""}, ("api_key",)),
        ({"api_key": None}, ("api_key",)),
        ({"account_ids": ["ACC01", ""]}, ("account_ids",)),
        ({"data_quality": "sometimes"}, ("data_quality",)),
        ({"max_concurrent_requests": 0}, ("max_concurrent_requests", "0")),
        ({"max_concurrent_requests": "x"}, ("max_concurrent_requests", "x")),
        ({"max_concurrent_requests": 33}, ("max_concurrent_requests", "33")),
    ],
)
def test_bad_setting_is_refused_with_one_line_naming_it(
    fake: Emulator,
    requests_mock: rm.Mocker,
    cli: Callable[..., CliResult],
    overrides: dict,
    names: tuple[str, ...],
) -> None:
    config = base_config()
    config.update(overrides)

    result = cli({k: v for k, v in config.items() if v is not None})

    _assert_refused(result, requests_mock, *names)


def test_every_problem_is_reported_not_just_the_first() -> None:
    problems = config_problems({"api_key": "k", "start_date": "soon", "lookback_window_days": -1, "max_retries": -1})

    assert len(problems) == 3
    assert all("\n" not in p for p in problems)


@pytest.mark.parametrize(("value", "problems"), [(1, 0), (4, 0), (32, 0), (0, 1), (33, 1), (True, 1), (2.5, 1)])
def test_max_concurrent_requests_is_a_whole_number_from_1_to_32(value: object, problems: int) -> None:
    assert len(config_problems({"api_key": "k", "max_concurrent_requests": value})) == problems


def test_valid_settings_raise_no_problem() -> None:
    assert (
        config_problems(base_config(start_date="2026-01-31T14:00:00Z", end_date="2026-02-01", lookback_window_days=0))
        == []
    )


@pytest.mark.parametrize(
    "state",
    ['{"bookmarks": {', "[]", '{"bookmarks": []}', '{"bookmarks": {"calls": 5}}'],
)
def test_malformed_state_file_is_refused_with_one_line(
    fake: Emulator, requests_mock: rm.Mocker, cli: Callable[..., CliResult], state: str
) -> None:
    result = cli(base_config(), state=state)

    _assert_refused(result, requests_mock, "--state")


def test_empty_state_file_means_no_state() -> None:
    assert state_problems("") is None
    assert state_problems('{"bookmarks": {}}') is None


@pytest.mark.parametrize("content", [None, "{not json"])
def test_missing_or_malformed_config_file_is_one_line_without_traceback(tmp_path, content: str | None) -> None:
    import subprocess
    import sys

    path = tmp_path / "config.json"
    if content is not None:
        path.write_text(content)

    proc = subprocess.run(
        [sys.executable, "-m", "tap_callrail", "--config", str(path)], capture_output=True, text=True, timeout=60
    )

    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    assert [line for line in proc.stderr.splitlines() if line.startswith("Error: Invalid value for '--config'")]
    assert proc.stdout == ""


def _state(value: object, context: dict | None = None) -> str:
    partition = {"context": context or {"account_id": "ACC1"}, "replication_key": "start_time",
                 "replication_key_value": value}
    return json.dumps({"bookmarks": {"calls": {"partitions": [partition]}}})


def test_a_state_bookmark_in_the_past_is_accepted() -> None:
    assert state_problems(_state("2026-11-20T10:00:00.000000Z")) is None


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("2999-01-01T00:00:00.000000Z", ("in the future",)),
        ("garbage", ("not a timestamp",)),
        (12345, ("not a timestamp",)),
    ],
)
def test_a_bookmark_that_cannot_be_resumed_is_named_with_its_stream_partition_and_fix(
    value: object, words: tuple[str, ...]
) -> None:
    problem = state_problems(_state(value))

    assert problem is not None
    for word in (*words, "'calls'", "ACC1", "meltano state set", "--full-refresh"):
        assert word in problem


def test_partitions_that_are_not_a_list_of_objects_are_refused() -> None:
    assert "partitions" in (state_problems('{"bookmarks": {"calls": {"partitions": "x"}}}') or "")


@pytest.mark.parametrize("key", [123456, ["k"], "ab\ncd", "ab\tcd", 'ab"cd', "ключ"])
def test_an_api_key_a_header_cannot_carry_is_refused_without_showing_it(key: object) -> None:
    problem = api_key_problem(key)

    assert problem is not None and "api_key" in problem
    assert str(key) not in problem and repr(key) not in problem


@pytest.mark.parametrize("key", ["abc123", " abc123 ", "abc123\r\n"])
def test_whitespace_around_an_api_key_is_accepted(key: str) -> None:
    assert api_key_problem(key) is None
