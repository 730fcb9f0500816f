"""Every place the tap relies on a private or `@final` member of singer-sdk, each with why.

Checked against singer-sdk 0.54.9 and 0.55.0b7; `tests/test_sdk_compat.py` fails when the SDK
behaviour a mixin relies on changes. Nothing else in the tap overrides or calls SDK internals.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from singer_sdk import Stream, Tap
from singer_sdk.exceptions import ConfigValidationError
from singer_sdk.mapper import RemoveRecordTransform
from singer_sdk.singerlib import ActivateVersionMessage
from singer_sdk.singerlib.catalog import REPLICATION_INCREMENTAL
from typing_extensions import override

if TYPE_CHECKING:
    from singer_sdk.helpers.types import Context


class ActivateVersionAfterCompleteRead(Stream):
    """ACTIVATE_VERSION at the end of a full-table stream, and only after a complete read.

    The SDK sends it when a stream *starts* (`Stream.sync`, `@final`), so a run failing midway
    would let the target mark every row not yet re-read as deleted, and it offers no hook after
    the records. Records must carry the version (`_stream_version`, private) or the target
    marks them deleted too.
    """

    #: Whether this run's read of the stream may mark absent rows deleted (set in `sync`).
    may_delete: bool = False
    #: False once any part of the read was not complete (a 403, a shifted or repeated page).
    read_complete: bool = True

    @property
    @override
    def emit_activate_version_messages(self) -> bool:
        return False  # never at the start: `sync` sends it at the end

    def deletes_allowed(self) -> bool:
        """True when this stream's rows may be marked deleted after a complete read this run."""
        return False

    @override  # type: ignore[misc]  # @final in the SDK
    def sync(self, context: Context | None = None) -> None:
        self.read_complete = True
        self.may_delete = self.selected and self.deletes_allowed()
        version = int(time.time() * 1000) if self.may_delete else None
        if version is not None:
            self._stream_version = version
        super().sync(context)
        if version is not None and self.read_complete:
            for stream_map in self.stream_maps:
                if not isinstance(stream_map, RemoveRecordTransform):  # a stream the maps removed
                    self._tap.write_message(ActivateVersionMessage(stream=stream_map.stream_alias, version=version))


class BookmarkNeverPastNow(Stream):
    """A replication value in the future is emitted as data but never becomes the bookmark.

    A sorted stream's bookmark follows each record (`_increment_stream_state`, private); the
    SDK's signpost, which caps bookmarks at the sync's start, applies to unsorted streams only.
    A call dated 2999 would make every later run ask for calls after 2998 and read none again.
    """

    def future_limit(self) -> str:
        """The latest replication value that may become a bookmark (canonical UTC text)."""
        raise NotImplementedError

    @override
    def _increment_stream_state(self, latest_record: dict[str, Any], *, context: Context | None = None) -> None:
        key = self.replication_key
        if self.replication_method == REPLICATION_INCREMENTAL and key:
            value = latest_record.get(key)
            if value is not None and str(value) > self.future_limit():
                return
        super()._increment_stream_state(latest_record, context=context)


class SettingsCheckedFirst(Tap):
    """The tap's own one-line settings checks, before the SDK's schema validation.

    The SDK validates settings in `_validate_config` (private) and its schema errors quote the
    value: an `api_key` given as a number would be printed. The key is checked first, in words
    that never show it, then the SDK's checks, then `settings_problems`.
    """

    def key_problem(self) -> str | None:
        """Why the API key setting cannot be used, or None."""
        return None

    def settings_problems(self) -> list[str]:
        """Every other problem with the settings, one line each."""
        return []

    @override
    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        problem = self.key_problem()
        errors = [problem] if problem else super()._validate_config(raise_errors=raise_errors)
        errors = errors or self.settings_problems()
        if errors and raise_errors:
            raise ConfigValidationError("Config validation failed", errors=errors)
        return errors


class AfterSyncHook(Tap):
    """A hook once every stream has synced or the run failed (`Tap.sync_all` is `@final`).

    The sync report and the data-quality verdict need the end of the whole run.
    """

    def after_sync(self, *, completed: bool) -> None:
        """Runs after the last stream; `completed`: no stream failed (then it may raise)."""

    @override  # type: ignore[misc]  # @final in the SDK
    def sync_all(self) -> None:
        completed = False
        try:
            super().sync_all()
            completed = True
        finally:
            if not completed:
                self.after_sync(completed=False)
        self.after_sync(completed=True)
