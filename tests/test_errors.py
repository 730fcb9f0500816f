"""Expected failures: 401 stops at once, 403 skips one partition, 400 stops with CallRail's words.

Each is checked on the in-process sync and through the CLI (click's CliRunner, so requests-mock
still applies): a non-zero exit where the run stops, one clear line, no stack trace, no API key.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest

from callrail_emulator import Emulator
from tap_callrail.errors import CallRailAuthError, CallRailRequestError
from tests.callrail import API_KEY, base_config, populate, run_sync, sent
from tests.conftest import CliResult


def _stopped_cleanly(result: CliResult) -> bool:
    """Ended by the tap's own exit, not by an exception escaping the command."""
    return result.exception is None or isinstance(result.exception, SystemExit)


def _error_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if "| ERROR" in line or line.startswith("ERROR")]


# -- 401 ------------------------------------------------------------------------------------------


def test_rejected_api_key_stops_at_once_naming_the_setting_not_the_key(fake: Emulator) -> None:
    populate(fake)
    fake.api_key = "the-real-key"

    with pytest.raises(CallRailAuthError) as raised:
        run_sync(base_config(max_retries=5, backoff_max_seconds=1))

    message = str(raised.value)
    assert "api_key" in message
    assert "401" in message
    assert API_KEY not in message
    assert "\n" not in message
    assert len(fake.requests) == 1


def test_key_revoked_mid_run_stops_on_the_401_of_a_lower_stream(fake: Emulator) -> None:
    populate(fake)
    fake.persistent_fault(401, "/a/ACC01/calls.json")

    with pytest.raises(CallRailAuthError, match="api_key"):
        run_sync(base_config(max_retries=5, backoff_max_seconds=1), streams={"calls", "leads"})

    assert len(sent(fake, "calls", "ACC01")) == 1
    assert not sent(fake, "calls", "ACC02")


def test_cli_rejected_api_key_exits_non_zero_with_one_line_and_no_traceback(
    fake: Emulator, cli: Callable[..., CliResult]
) -> None:
    populate(fake)
    fake.api_key = "the-real-key"

    result = cli(base_config())
    code, output = result.exit_code, result.output

    assert code != 0
    assert _stopped_cleanly(result)
    assert "Traceback" not in output
    assert API_KEY not in output
    assert any("api_key" in line and "401" in line for line in _error_lines(output)), output[-2000:]
    assert len(_error_lines(output)) == 1, "an expected failure is reported in exactly one ERROR line"


# -- 403 ------------------------------------------------------------------------------------------


def test_403_skips_that_account_of_the_stream_and_the_sync_finishes(
    fake: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    populate(fake)
    fake.forbid("ACC01", "leads")

    with caplog.at_level(logging.WARNING):
        result = run_sync(base_config())

    assert {r["account_id"] for r in result.records("leads")} == {"ACC02"}
    assert {r["account_id"] for r in result.records("calls")} == {"ACC01", "ACC02"}
    assert {r["account_id"] for r in result.records("users")} == {"ACC01", "ACC02"}
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and "403" in r.getMessage()]
    assert len(warnings) == 1
    assert "leads" in warnings[0]
    assert "ACC01" in warnings[0]


def test_403_for_one_company_names_stream_account_and_company_and_keeps_the_others(
    fake: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    populate(fake)
    fake.persistent_fault(403, "/a/ACC01/caller_ids.json", company_id="COM01B")

    with caplog.at_level(logging.WARNING):
        result = run_sync(base_config(), streams={"outbound_caller_ids"})

    assert sorted(r["company_id"] for r in result.records("outbound_caller_ids")) == ["COM01A", "COM02A", "COM02B"]
    warnings = [r.getMessage() for r in caplog.records if "403" in r.getMessage()]
    assert len(warnings) == 1
    assert all(name in warnings[0] for name in ("outbound_caller_ids", "ACC01", "COM01B"))


def test_403_on_an_incremental_stream_skips_the_partition_and_keeps_other_bookmarks(fake: Emulator) -> None:
    populate(fake)
    fake.forbid("ACC02", "form_submissions")

    result = run_sync(base_config(), streams={"form_submissions"})

    assert {r["account_id"] for r in result.records("form_submissions")} == {"ACC01"}
    bookmarked = {
        p["context"]["account_id"] for p in result.bookmarks("form_submissions") if "replication_key_value" in p
    }
    assert bookmarked == {"ACC01"}


def test_403_skipped_full_table_stream_emits_no_activate_version(fake: Emulator) -> None:
    populate(fake)
    fake.forbid("ACC02", "leads")

    result = run_sync(base_config(emit_activate_version_messages=True), streams={"leads", "trackers"})

    assert result.records("leads")
    assert not result.of_type("ACTIVATE_VERSION", "leads")
    assert result.of_type("ACTIVATE_VERSION", "trackers")


def test_cli_403_warns_and_exits_zero(fake: Emulator, cli: Callable[..., CliResult]) -> None:
    populate(fake)
    fake.forbid("ACC01", "text_messages")

    result = cli(base_config())
    code, output = result.exit_code, result.output

    assert code == 0
    assert _stopped_cleanly(result)
    assert "Traceback" not in output
    assert any("WARNING" in line and "text_messages" in line and "ACC01" in line for line in output.splitlines())


# -- 400 ------------------------------------------------------------------------------------------


def test_400_stops_with_callrails_message_and_the_stream(fake: Emulator) -> None:
    populate(fake)
    fake.persistent_fault(400, "/a/ACC01/calls.json", message="Invalid field requested: utmz")

    with pytest.raises(CallRailRequestError) as raised:
        run_sync(base_config(max_retries=5, backoff_max_seconds=1), streams={"calls"})

    message = str(raised.value)
    assert "Invalid field requested: utmz" in message
    assert "calls" in message
    assert "400" in message
    assert "\n" not in message
    assert len(sent(fake, "calls")) == 1


def test_cli_400_exits_non_zero_with_callrails_message_and_no_traceback(
    fake: Emulator, cli: Callable[..., CliResult]
) -> None:
    populate(fake)
    fake.persistent_fault(400, "/a/ACC02/trackers.json", message="You must have at least one active company.")

    result = cli(base_config())
    code, output = result.exit_code, result.output

    assert code != 0
    assert _stopped_cleanly(result)
    assert "Traceback" not in output
    errors = [line for line in _error_lines(output) if "You must have at least one active company." in line]
    assert errors and "trackers" in errors[0], output[-2000:]


def test_403_on_the_company_list_skips_the_fan_outs_of_that_account(fake: Emulator) -> None:
    populate(fake)
    fake.forbid("ACC01", "companies")

    result = run_sync(base_config(), streams={"companies", "integrations"})

    assert {r["account_id"] for r in result.records("companies")} == {"ACC02"}
    assert {r["account_id"] for r in result.records("integrations")} == {"ACC02"}


# -- ids CallRail does not know ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("setting", "value"), [("account_ids", ["ACC01", "ACC77"]), ("company_ids", ["COM01A", "COM77X"])]
)
def test_cli_unknown_configured_id_exits_non_zero_naming_it(
    fake: Emulator, cli: Callable[..., CliResult], setting: str, value: list[str]
) -> None:
    populate(fake)

    result = cli(base_config(**{setting: value}))

    assert result.exit_code != 0
    assert _stopped_cleanly(result)
    assert "Traceback" not in result.output
    assert [line for line in _error_lines(result.output) if value[1] in line and setting in line], result.output[-2000:]
