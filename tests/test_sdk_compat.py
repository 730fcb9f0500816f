"""The singer-sdk behaviour each mixin of tap_callrail/sdk_compat.py relies on.

Each test fails when an SDK release changes what the mixin counts on: the private or `@final`
member it overrides or sets must still be the one the SDK uses.
"""

from __future__ import annotations

import inspect
import logging

import pytest
from singer_sdk import Stream, Tap
from singer_sdk.exceptions import ConfigValidationError

from callrail_emulator import Emulator
from tap_callrail.sdk_compat import (
    ActivateVersionAfterCompleteRead,
    AfterSyncHook,
    BookmarkNeverPastNow,
    SettingsCheckedFirst,
)
from tap_callrail.tap import TapCallRail
from tests.callrail import base_config, make_call, populate, run_sync


def test_each_overridden_sdk_member_still_exists_where_the_mixin_expects_it() -> None:
    assert inspect.isfunction(Stream.sync)
    assert inspect.isfunction(Stream._increment_stream_state)
    assert list(inspect.signature(Stream._increment_stream_state).parameters) == ["self", "latest_record", "context"]
    assert inspect.isfunction(Tap.sync_all)
    assert inspect.isfunction(Tap._validate_config)
    for mixin, member in (
        (ActivateVersionAfterCompleteRead, "sync"),
        (BookmarkNeverPastNow, "_increment_stream_state"),
        (AfterSyncHook, "sync_all"),
        (SettingsCheckedFirst, "_validate_config"),
    ):
        assert member in vars(mixin), (mixin, member)


def test_records_carry_the_version_set_before_the_sdks_sync_and_activate_version_follows_them(
    fake: Emulator,
) -> None:
    # ActivateVersionAfterCompleteRead sets `_stream_version` and relies on the SDK's RECORD
    # messages carrying it; without it the target would mark the rows just loaded deleted.
    populate(fake, accounts=1)

    result = run_sync(base_config(emit_activate_version_messages=True), streams={"companies"})

    kinds = [m["type"] for m in result.messages if m.get("stream") == "companies"]
    versions = {m["version"] for m in result.of_type("RECORD", "companies")}
    [activate] = result.of_type("ACTIVATE_VERSION", "companies")
    assert kinds.index("ACTIVATE_VERSION") > max(i for i, kind in enumerate(kinds) if kind == "RECORD")
    assert versions == {activate["version"]}


def test_the_sdk_advances_a_sorted_streams_bookmark_through_increment_stream_state(
    fake: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # BookmarkNeverPastNow filters there: if the SDK stopped calling it, a future value would pass.
    fake.add_account("ACC01")
    fake.put("calls", "ACC01", [make_call(i, "COM01A", f"2026-11-20T10:0{i}:00Z") for i in range(3)])
    seen: list[str] = []
    original = BookmarkNeverPastNow._increment_stream_state

    def spy(self, latest_record, *, context=None):  # type: ignore[no-untyped-def]
        seen.append(latest_record["start_time"])
        original(self, latest_record, context=context)

    monkeypatch.setattr(BookmarkNeverPastNow, "_increment_stream_state", spy)

    result = run_sync(base_config(), streams={"calls"})

    assert seen == [r["start_time"] for r in result.records("calls")] and len(seen) == 3
    assert result.bookmarks("calls")[0]["replication_key_value"] == seen[-1]


def test_a_future_value_is_never_handed_to_the_sdks_state() -> None:
    tap = TapCallRail(config=base_config(), parse_env_config=False)
    calls = tap.streams["calls"]
    calls.future_limit = lambda: "2026-11-26T12:05:00.000000Z"  # type: ignore[method-assign]
    context = {"account_id": "ACC01"}

    calls._increment_stream_state({"start_time": "2026-11-26T11:00:00.000000Z"}, context=context)
    calls._increment_stream_state({"start_time": "2999-01-01T00:00:00.000000Z"}, context=context)

    assert calls.get_context_state(context)["replication_key_value"] == "2026-11-26T11:00:00.000000Z"


def test_the_sdk_validates_settings_through_validate_config() -> None:
    # SettingsCheckedFirst words the key's problem itself: the SDK's schema error would print it.
    with pytest.raises(ConfigValidationError) as raised:
        TapCallRail(config={"api_key": 987654321}, parse_env_config=False)

    assert raised.value.errors and all("987654321" not in error for error in raised.value.errors)
    assert "api_key" in raised.value.errors[0]


def test_the_sync_report_is_logged_after_the_last_stream(fake: Emulator, caplog: pytest.LogCaptureFixture) -> None:
    populate(fake, accounts=1)

    with caplog.at_level(logging.INFO):
        run_sync(base_config(), streams={"tags"})

    messages = [record.getMessage() for record in caplog.records]
    report = next(i for i, message in enumerate(messages) if message.startswith("Sync report"))
    assert report > max(i for i, message in enumerate(messages) if "sync of 'tags'" in message)
