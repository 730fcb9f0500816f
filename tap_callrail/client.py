"""The base stream: a CallRail list endpoint under `/a/{account_id}/`, read through `get_records`.

Each stream class (streams.py) says what it reads; this class wires the parts to the SDK: the
partitions and series to request (planning.py), reading them (series.py, through the client in
api.py), and shaping each record (normalise, mask, check) in `post_process`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote

from singer_sdk import Stream
from singer_sdk.helpers.conform import TypeConformanceLevel
from typing_extensions import override

from tap_callrail.api import ForbiddenError, Request
from tap_callrail.due import DueWork
from tap_callrail.errors import CallRailNotFoundError
from tap_callrail.planning import Series, date_window, list_params, request_series
from tap_callrail.quality import MISSING_PRIMARY_KEY
from tap_callrail.records import RecordPipeline
from tap_callrail.schemas import OPTIONAL_FIELDS, SCHEMAS
from tap_callrail.sdk_compat import ActivateVersionAfterCompleteRead, BookmarkNeverPastNow
from tap_callrail.series import SEQUENTIAL, Dedup, SeriesReader, SortedDedup
from tap_callrail.timeutil import UTC, request_minute, to_canonical

if TYPE_CHECKING:
    from singer_sdk import Tap
    from singer_sdk.helpers.types import Context

    from tap_callrail.services import RunServices

#: How far past now a replication value may be and still count as now (clocks differ).
FUTURE_TOLERANCE = timedelta(minutes=5)


class CallRailStream(DueWork, ActivateVersionAfterCompleteRead, BookmarkNeverPastNow, Stream):
    """Base stream for CallRail API v3 list endpoints under `/a/{account_id}/`."""

    # normalize.RecordNormalizer already gives every record its schema's types and no other
    # property, so the SDK's own per-record schema walk would only repeat it.
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE

    #: Endpoint path under the API URL, with `{account_id}`.
    path: ClassVar[str]
    #: JSON key that holds the page's items (e.g. `calls`, `conversations`).
    item_key: ClassVar[str]
    primary_keys: ClassVar[tuple[str, ...]] = ("id",)
    #: The endpoint takes `company_id`; with `company_ids` set it is read per company.
    company_filter: ClassVar[bool] = False
    #: The endpoint requires `company_id`: read once per company of the account.
    per_company: ClassVar[bool] = False
    #: The endpoint takes start_date/end_date/time_zone.
    date_filtered: ClassVar[bool] = False
    #: `sort` parameter sent with `order=asc` (the replication key of sorted streams).
    sort_key: ClassVar[str | None] = None
    #: Property values replaced by `***` (secrets CallRail returns in data).
    masked_properties: ClassVar[tuple[str, ...]] = ()
    #: Object properties whose secret-named entries and credential URLs are masked.
    masked_objects: ClassVar[tuple[str, ...]] = ()
    #: Rows are history (page views, timelines, daily counts): never marked deleted.
    history: ClassVar[bool] = False

    def __init__(self, tap: Tap, services: RunServices) -> None:
        super().__init__(tap, schema=SCHEMAS[self.name])
        self.services = services
        self.records = RecordPipeline(
            self.name,
            self.schema,
            quality=services.quality,
            stats=services.stats,
            logger=self.logger,
            masked_properties=self.masked_properties,
            masked_objects=self.masked_objects,
        )
        self._clamp_warned = False
        self._future_limit: tuple[float, str] = (-math.inf, "")

    # -- how the SDK sees the stream ----------------------------------------------------

    @property
    @override
    def is_sorted(self) -> bool:
        # Sorted ascending on the replication key, so state advances during the run and a killed
        # backfill resumes near where it stopped. Sort checks stay off because each delta run
        # starts a lookback before the bookmark on purpose.
        return self.sort_key is not None

    @property
    @override
    def check_sorted(self) -> bool:
        # Unsorted streams (text messages, newest first) keep the greatest value seen as their
        # bookmark only with the check on: without it the SDK keeps the last value read.
        return not self.is_sorted

    @property
    @override
    def partitions(self) -> list[dict] | None:
        return self.services.scope.partitions(
            incremental=bool(self.replication_key), company_filter=self.company_filter
        )

    @override
    def deletes_allowed(self) -> bool:
        # Dated streams (text messages too) never delete: conversations outside the window, or
        # purged after 25 months, stay in the warehouse. A run narrowed by account_ids or
        # company_ids reads only part of a table that holds every account's rows.
        full_table = self.replication_key is None and not self.date_filtered and not self.history
        if not (full_table and self.config.get("emit_activate_version_messages")):
            return False
        if self.services.scope.narrowed:
            self.logger.info("%s: deletes not applied because account_ids/company_ids narrow this run.", self.name)
            return False
        return True

    def now(self) -> datetime:
        return datetime.now(tz=UTC)

    @override
    def future_limit(self) -> str:
        tick = time.monotonic()
        if tick - self._future_limit[0] >= 1.0:
            self._future_limit = (tick, to_canonical(self.now() + FUTURE_TOLERANCE))
        return self._future_limit[1]

    # -- what to request -------------------------------------------------------------------

    def selected_optional_fields(self) -> list[str]:
        """Optional fields to request: exactly those selected in the catalog."""
        return sorted(name for name in OPTIONAL_FIELDS.get(self.name, ()) if self.mask.get(("properties", name), True))

    def request_series(self, context: Context) -> list[Series]:
        """The request series that together make up one partition."""
        scope = self.services.scope
        restricted = scope.company_filter(context["account_id"]) if (self.per_company or self.company_filter) else None
        companies = scope.companies(context["account_id"]) if self.per_company and restricted is None else None
        return request_series(
            dict(context),
            per_company=self.per_company,
            company_filter=self.company_filter,
            restricted=restricted,
            companies=companies,
        )

    def series_params(self, context: Context, series: Series) -> dict[str, Any]:
        window = None
        if self.date_filtered:
            window = self.date_window(context)
            self.services.stats.window(
                self.name, context.get("account_id"), to_canonical(window[0]), to_canonical(window[1])
            )
        return list_params(fields=self.selected_optional_fields(), sort_key=self.sort_key, window=window, series=series)

    def date_window(self, context: Context | None) -> tuple[datetime, datetime]:
        """The [start, end] instants this partition reads (planning.date_window)."""
        configured = self.config.get("start_date")
        window = date_window(
            self.now(),
            start_date=configured,
            end_date=self.config.get("end_date"),
            # Newest-first streams request the whole window; the bookmark only ends their reading.
            bookmark=None if self.newest_first else self.since(context),
            lookback=self.lookback(context),
        )
        if window.clamped and not self._clamp_warned:
            self._clamp_warned = True
            self.logger.warning(
                "%s: start_date %s is older than CallRail keeps data (25 months); reading from %s.",
                self.name,
                configured,
                request_minute(window.start),
            )
        return window.start, window.end

    # -- reading ---------------------------------------------------------------------------

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        for page in self.get_record_pages(context):
            yield from page

    def get_record_pages(self, context: Context | None) -> Iterator[list[dict[str, Any]]]:
        """The new records of each page of the partition, in order."""
        if context is None:  # no partition: nothing CallRail can be asked for
            return
        account_id = str(context["account_id"])
        services = self.services
        if self.refresh_on_cadence and not self.refresh_due:
            self.skip_not_due(context)
            return
        services.stats.started(self.name, account_id)
        reader = self.reader(context)
        records_read = 0
        skips = self.skips
        try:
            try:
                series_list = self.request_series(context)
            except ForbiddenError as exc:
                series_list = []
                self.skip(f"{self.name} {account_id} (listing its companies)", forbidden(exc))
            vanished = 0
            planned = (self.plan_series(context, account_id, series) for series in series_list)
            for (series, request, params), first in reader.ahead(planned):
                company_id = series.params.get("company_id")
                label = request.label
                try:
                    prepare = self.preparer(account_id, company_id if self.per_company else None)
                    until = self.stop_point(context, label)
                    for records in reader.read(request, params, prepare, first, until=until):
                        records_read += len(records)
                        self.report_page(account_id, records_read, records)
                        yield records
                except ForbiddenError as exc:
                    self.skip(f"{self.name} {account_id} {series.label}", forbidden(exc))
                except CallRailNotFoundError:
                    # A company deleted while the run reads: its series answers 404. Skip it if the
                    # company list agrees it is gone; 404 for a listed company, or for every company
                    # (a wrong api_url), stops the run.
                    vanished += 1
                    if (
                        not company_id
                        or vanished == len(series_list)
                        or not services.scope.vanished(account_id, company_id)
                    ):
                        raise
                    self.skip(label, "CallRail answered 404 and no longer lists the company (deleted mid-run)")
            self.report_keyless(f"{self.name} for account {account_id}", account_id, reader)
            if reader.complete and self.skips == skips:
                self.remember_complete_read(context)
        finally:
            if not reader.complete:
                self.read_complete = False
            services.stats.finished(self.name, account_id)
            services.progress.done(self.name, account_id, records_read)

    def preparer(self, account_id: str, company_id: str | None) -> Callable[[dict[str, Any]], None]:
        """What makes a raw record of one series what the stream emits (records.RecordPipeline)."""
        return self.records.preparer(account_id, company_id)

    def plan_series(self, context: Context, account_id: str, series: Series) -> tuple[Series, Request, dict[str, Any]]:
        """One series of the partition: its list request (named for messages) and its query."""
        company_id = series.params.get("company_id")
        label = f"{self.name} for account {account_id}" + (f", company {company_id}" if company_id else "")
        path = self.path.format(**{key: quote(str(value), safe="") for key, value in context.items()})
        request = self.services.client.request(path, "", stream=self.name, account_id=account_id, label=label)
        return series, request, self.series_params(context, series)

    def reader(self, context: Context) -> SeriesReader:
        """How this partition's series are read: each record once, and proven complete where deletes follow."""
        dedup = SortedDedup(self.replication_key or "", self.future_limit) if self.sort_key else Dedup()
        return SeriesReader(
            self.services.client,
            item_key=self.item_key,
            key=self.record_key,
            dedup=dedup,
            logger=self.logger,
            verify=self.may_delete,
            # `--test` stops at the first record (the SDK sets ABORT_AT_RECORD_COUNT): ask nothing ahead.
            inflight=self.services.inflight if self.ABORT_AT_RECORD_COUNT is None else SEQUENTIAL,
        )

    def report_keyless(self, label: str, account_id: str, reader: SeriesReader) -> None:
        """Records without their primary key are never emitted: say so, and count them as findings."""
        if reader.keyless:
            self.logger.warning(
                "%s: %d record(s) without %s skipped; CallRail sent them without their key.",
                label,
                reader.keyless,
                "/".join(self.primary_keys),
            )
            for _ in range(reader.keyless):
                self.services.quality.flag(self.name, account_id, MISSING_PRIMARY_KEY, self.primary_keys[-1], None)
            reader.keyless = 0

    def record_key(self, record: dict[str, Any]) -> Any:
        return record.get("id")

    def skip(self, label: str, why: str) -> None:
        """Skip part of a partition, finish the rest, and mark nothing deleted in this stream this run."""
        self.read_complete = False
        self.skips += 1
        self.logger.warning("Skipping %s: %s; the rest of the sync goes on, nothing is marked deleted.", label, why)

    def report_page(self, account_id: str, records_read: int, records: list[dict[str, Any]]) -> None:
        position = window = None
        if self.date_filtered:
            row = self.services.stats.row(self.name, account_id)
            if row.window_start and row.window_end:
                window = (row.window_start[:10], row.window_end[:10])
            key = self.replication_key or ""
            if records and records[-1].get(key):
                position = str(records[-1][key])[:10]
        self.services.progress.page(self.name, account_id, records_read, position, window)

    # -- each record -----------------------------------------------------------------------

    @override
    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        if context:
            row["account_id"] = context["account_id"]
        return self.records.finish(row, row.get("account_id") if context else row.get("id"))


def forbidden(exc: ForbiddenError) -> str:
    return f"CallRail answered 403 ({exc}). The plan or the API key's user lacks this feature here"


class SortedCallRailStream(CallRailStream):
    """An incremental stream sorted ascending on its replication key (series.SortedDedup)."""

    date_filtered = True
