"""The SDK's standard tap tests, run against the emulated CallRail with two accounts and many pages.

The SDK's runner builds the tap while the test class is built (at collection, which makes no
request) and syncs once per class, so the emulator lives for the whole module rather than per test.
Hermetic: `parse_env_config=False`, so no TAP_CALLRAIL_* variable or .env can leak in.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import pytest
import requests_mock
from singer_sdk.testing import SuiteConfig, get_tap_test_class

from callrail_emulator import Emulator
from tap_callrail.client import CallRailStream
from tap_callrail.schemas import SCHEMAS
from tap_callrail.tap import TapCallRail
from tests.callrail import API_KEY, base_config, make_call, populate, select_streams, serve
from tests.conftest import NOW, CliResult

CONFIG = base_config()

pytestmark = pytest.mark.filterwarnings(
    # The SDK's own soft checks: optional properties that the sample data leaves out.
    "ignore:Fields in transformed catalog but not in records:UserWarning",
    "ignore:No records were available to test:UserWarning",
)


@pytest.fixture(scope="module", autouse=True)
def callrail() -> Iterator[Emulator]:
    with pytest.MonkeyPatch.context() as patch, requests_mock.Mocker() as mocker:
        patch.setattr(CallRailStream, "now", lambda self: NOW)
        emu = Emulator(accounts=0, api_key=API_KEY, now=NOW)
        emu.set_paging(page_size=2)
        populate(emu)
        serve(emu, mocker)
        yield emu


TestTapCallRail = get_tap_test_class(
    TapCallRail,
    config=CONFIG,
    # Every stream, the fan-outs that are off by default too (selecting them makes no request).
    catalog=select_streams(CONFIG, set(SCHEMAS)),
    parse_env_config=False,
    suite_config=SuiteConfig(max_records_limit=150, ignore_no_records=False),
)


# -- the CLI surface ---------------------------------------------------------------------------


def test_discover_lists_every_stream_with_keys_and_makes_no_request(
    callrail: Emulator, cli: Callable[..., CliResult]
) -> None:
    before = len(callrail.requests)

    result = cli(CONFIG, "--discover")

    assert result.exit_code == 0, result.output[-2000:]
    assert len(callrail.requests) == before
    catalog = json.loads(result.stdout)
    keys = {s["tap_stream_id"]: s["key_properties"] for s in catalog["streams"]}
    assert keys == {
        "accounts": ["id"],
        "companies": ["id"],
        "users": ["account_id", "id"],
        "tags": ["id"],
        "trackers": ["id"],
        "calls_timeseries": ["company_id", "date"],
        "calls": ["id"],
        "form_submissions": ["id"],
        "text_messages": ["id"],
        "leads": ["id"],
        "integrations": ["id"],
        "notifications": ["id"],
        "outbound_caller_ids": ["id"],
        "sms_threads": ["id"],
        "sms_thread_messages": ["id"],
        "call_page_views": ["call_id", "position"],
        "lead_timelines": ["person_id", "event_key"],
    }
    replication = {s["tap_stream_id"]: s.get("replication_key") for s in catalog["streams"]}
    assert {k: v for k, v in replication.items() if v} == {
        "calls": "start_time",
        "form_submissions": "submitted_at",
        "text_messages": "last_message_at",
        "sms_threads": "last_message_at",
        "sms_thread_messages": "created_at",
        "calls_timeseries": "date",
        "call_page_views": "call_start_time",
    }
    off_by_default = {
        s["tap_stream_id"]
        for s in catalog["streams"]
        for item in s["metadata"]
        if item["breadcrumb"] == [] and not item["metadata"].get("selected-by-default", True)
    }
    assert off_by_default == {"call_page_views", "lead_timelines"}


def test_about_markdown_lists_every_setting(cli: Callable[..., CliResult]) -> None:
    result = cli(None, "--about", "--format", "markdown")

    assert result.exit_code == 0, result.output[-2000:]
    for setting in (
        "api_key",
        "account_ids",
        "company_ids",
        "start_date",
        "end_date",
        "lookback_window_days",
        "api_url",
        "user_agent",
        "requests_per_hour",
        "requests_per_day",
        "max_retries",
        "backoff_max_seconds",
        "data_quality",
        "stream_maps",
        "flattening_enabled",
    ):
        assert f"| {setting} |" in result.stdout, setting


def test_about_lists_the_emit_activate_version_messages_setting(cli: Callable[..., CliResult]) -> None:
    result = cli(None, "--about", "--format", "markdown")

    assert "| emit_activate_version_messages |" in result.stdout


def test_connection_test_reads_and_exits_cleanly_without_error_lines(
    callrail: Emulator, cli: Callable[..., CliResult]
) -> None:
    result = cli(CONFIG, "--test")

    assert result.exit_code == 0, result.output[-2000:]
    assert "Traceback" not in result.output
    # The dry run stops each stream after one record by raising; that is no error of the run.
    assert "An unhandled error occurred" not in result.output
    assert "ERROR" not in result.output


def test_connection_test_asks_for_no_page_ahead_of_its_turn(callrail: Emulator, cli: Callable[..., CliResult]) -> None:
    # 600 calls: three pages CallRail counts, which a full read would request ahead.
    calls = [make_call(n, "COM01A", f"2026-11-2{n % 5}T10:{n % 60:02d}:00Z") for n in range(600)]
    callrail.put("calls", "ACC01", calls)
    callrail.set_paging()
    made = []
    for width in (1, 4):
        before = len(callrail.requests)
        assert cli({**CONFIG, "max_concurrent_requests": width}, "--test").exit_code == 0
        made.append(len(callrail.requests) - before)

    assert made[0] == made[1] > 0
