"""What a run may leave for later: the expensive full-table streams and the deep lookback.

Leads, integrations and outbound caller ids cost every page, or a request per company, and
change rarely: they are read in full once per `full_table_refresh_hours`. Calls, form
submissions and texts re-read a short `lookback_hours` before their bookmark every run and the
deep `lookback_window_days` once per that period. When each was last done is kept in the
partition's state (`planning.READ_COMPLETELY_AT`, `planning.DEEP_LOOKBACK_AT`), written only
after a complete read, so a failed run leaves it due.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, ClassVar

from singer_sdk import Stream

from tap_callrail.planning import (
    DEEP_LOOKBACK_AT,
    READ_COMPLETELY_AT,
    bookmark,
    hours_text,
    is_due,
    last_done,
    lookback,
)
from tap_callrail.series import NewestFirst
from tap_callrail.timeutil import to_canonical

if TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

    from tap_callrail.services import RunServices


class DueWork(Stream):
    """The cadence of a stream's expensive reads, decided per run from its partitions' state."""

    services: RunServices
    #: Expensive to read (a request per company, or every page) and rarely changed: read in full
    #: once per `full_table_refresh_hours`, skipped in the runs between.
    refresh_on_cadence: ClassVar[bool] = False
    #: Listed newest first on the replication key, which the date filter may not mean: every run
    #: requests the whole window and stops reading once the pages are older than the bookmark.
    newest_first: ClassVar[bool] = False
    #: Parts of partitions skipped so far (a 403, a vanished company): such a read is not complete.
    skips: int = 0
    read_complete: bool

    def now(self) -> datetime:
        raise NotImplementedError

    @cached_property
    def run_started(self) -> datetime:
        """When this stream began its run: what is due is decided, and remembered, as of then."""
        return self.now()

    def refresh_period(self) -> timedelta:
        return timedelta(hours=int(self.config.get("full_table_refresh_hours", 24)))

    @cached_property
    def refresh_due(self) -> bool:
        """A cadence stream is read when any of its partitions is due, and then all of them are.

        target-postgres marks rows deleted per table, so deletes need every partition read in
        one run: reading only the due accounts would never prove a whole table complete.
        """
        now = self.run_started
        return any(
            is_due(last_done(self.get_context_state(partition), READ_COMPLETELY_AT, now), now, self.refresh_period())
            for partition in self.partitions or [{}]
        )

    def deep_lookback_due(self, context: Context | None) -> bool:
        """The partition re-reads `lookback_window_days` this run (else `lookback_hours`)."""
        now = self.run_started
        return is_due(last_done(self.get_context_state(context), DEEP_LOOKBACK_AT, now), now, self.refresh_period())

    def lookback(self, context: Context | None) -> timedelta:
        """How far before its bookmark the partition re-reads this run."""
        return lookback(
            deep=self.deep_lookback_due(context),
            lookback_hours=int(self.config.get("lookback_hours", 6)),
            lookback_days=int(self.config.get("lookback_window_days", 7)),
        )

    def since(self, context: Context | None) -> datetime | None:
        """The partition's bookmark as the run started, or None for a first (or full) read."""
        if not self.replication_key:
            return None
        return bookmark(self.get_context_state(context), self.config.get("start_date"))

    def skip_not_due(self, context: Context) -> None:
        """A cadence stream not due this run: one line and a report row; nothing is marked deleted."""
        self.read_complete = False
        account_id = str(context["account_id"])
        now = self.run_started
        last = last_done(self.get_context_state(context), READ_COMPLETELY_AT, now)
        if last is None:  # cannot happen while any due partition makes every partition due
            why = "not due"
        else:
            due = last + self.refresh_period() - now
            why = f"read completely {hours_text(now - last)} ago, next due in {hours_text(due)}"
        self.logger.info("%s %s: %s (full_table_refresh_hours).", self.name, account_id, why)
        self.services.stats.note(self.name, account_id, f"skipped: {why}")

    def remember_complete_read(self, context: Context) -> None:
        """Write in the partition's state what this complete read makes unnecessary for a while."""
        state = self.get_context_state(context)
        started = to_canonical(self.run_started)
        if self.refresh_on_cadence:
            state[READ_COMPLETELY_AT] = started
        if self.replication_key and self.deep_lookback_due(context):
            state[DEEP_LOOKBACK_AT] = started

    def stop_point(self, context: Context, label: str) -> NewestFirst | None:
        """For a newest-first stream with a bookmark: where reading may end (series.NewestFirst)."""
        since = self.since(context) if self.newest_first else None
        if since is None or not self.replication_key:
            return None
        return NewestFirst(self.replication_key, to_canonical(since - self.lookback(context)), self.logger, label)
