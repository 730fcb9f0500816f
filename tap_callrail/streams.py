"""One class per CallRail entity; each reads like a row of the endpoint table.

Paths, item keys and filters: https://apidocs.callrail.com/. Schemas: tap_callrail/schemas.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import tzinfo
from typing import TYPE_CHECKING, Any, ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from typing_extensions import override

from tap_callrail.client import CallRailStream, SortedCallRailStream
from tap_callrail.errors import CallRailNotFoundError
from tap_callrail.planning import REQUEST_TIME_ZONE, Series, timeseries_days, timeseries_params, timeseries_series
from tap_callrail.series import NewestFirst
from tap_callrail.timeutil import UTC, to_canonical

if TYPE_CHECKING:
    from singer_sdk import Tap
    from singer_sdk.helpers.types import Context

    from tap_callrail.services import RunServices

#: The thread endpoint lists at most 100 messages a page (https://apidocs.callrail.com/).
MESSAGES_PER_PAGE = 100
#: A call's page views come on one page in practice; the general maximum keeps it one request.
PAGE_VIEWS_PER_PAGE = 250
#: The lead timeline endpoint lists at most 250 events a page.
TIMELINE_PER_PAGE = 250
#: lead_timelines' mark in its partition state: records up to this time named leads already read.
LEADS_NAMED_THROUGH = "leads_named_through"
#: Timeline event fields kept as columns; every other field goes into `details`.
TIMELINE_COLUMNS = frozenset({"type", "id", "event_date", "event_key", "person_id"})


class AccountsStream(CallRailStream):
    """Accounts the API key can see (`/a.json`), or the configured `account_ids`."""

    name = "accounts"
    path = "/a.json"
    item_key = "accounts"

    @property
    @override
    def partitions(self) -> list[dict] | None:
        return None  # one list for the API key

    @override
    def get_record_pages(self, context: Context | None) -> Iterator[list[dict[str, Any]]]:
        scope = self.services.scope
        prepare = self.records.preparer(None)
        if self.config.get("account_ids"):
            # The scope fetched each configured account with this stream's fields.
            accounts = [dict(account) for account in scope.account_records()]
            for account in accounts:
                prepare(account)
            yield accounts
            return
        reader = self.reader({})
        request = self.services.client.request(self.path, "", stream=self.name, account_id=None, label=self.name)
        params = self.series_params({}, Series("all accounts"))
        read: list[dict] = []
        for records in reader.read(request, params, prepare):
            read.extend(dict(record) for record in records)
            yield records
        if reader.complete:
            scope.adopt_accounts(read)  # the scope needs this list too: one request, not two
        else:
            self.read_complete = False


class CompaniesStream(CallRailStream):
    """Companies of every status (`disabled` ones stay listed with `disabled_at`).

    companies.json takes no company_id filter: all are read, the configured ones kept.
    """

    name = "companies"
    path = "/a/{account_id}/companies.json"
    item_key = "companies"

    @override
    def get_record_pages(self, context: Context | None) -> Iterator[list[dict[str, Any]]]:
        restricted = self.services.scope.company_filter(context["account_id"]) if context else None
        read: list[str] = []
        time_zones: dict[str, str | None] = {}
        for records in super().get_record_pages(context):
            read.extend(str(record.get("id")) for record in records)
            time_zones.update((str(record.get("id")), record.get("time_zone")) for record in records)
            yield records if restricted is None else [record for record in records if record.get("id") in restricted]
        if context and self.read_complete:
            # The per-company streams need this list too: one request, not two.
            self.services.scope.adopt_companies(context["account_id"], read, time_zones)


class UsersStream(CallRailStream):
    """Users; one user can belong to several accounts, hence the compound key."""

    name = "users"
    path = "/a/{account_id}/users.json"
    item_key = "users"
    primary_keys: ClassVar[tuple[str, ...]] = ("account_id", "id")
    company_filter = True


class TagsStream(CallRailStream):
    """Tags of every status, account-level and company-level."""

    name = "tags"
    path = "/a/{account_id}/tags.json"
    item_key = "tags"
    company_filter = True

    @override
    def request_series(self, context: Context) -> list[Series]:
        series = super().request_series(context)
        if self.services.scope.company_filter(context["account_id"]) is not None:
            # Restricted to companies: their tags plus the account-level ones.
            series.append(Series("account-level tags", {"tag_level": "account"}))
        return series


class TrackersStream(CallRailStream):
    """Trackers of every status (source and session)."""

    name = "trackers"
    path = "/a/{account_id}/trackers.json"
    item_key = "trackers"
    company_filter = True


class NamesLeads(CallRailStream):
    """Records that carry `person_id`: each emitted one tells lead_timelines which lead it names, and when."""

    @override
    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        if context:
            self.services.note_lead(
                str(context["account_id"]), row.get("person_id"), row.get(self.replication_key or "")
            )
        return super().post_process(row, context)


class CallsStream(NamesLeads, SortedCallRailStream):
    """Calls, incremental on start_time with a lookback for later edits.

    With call_page_views selected, each new call from a session tracker hands its id on (the
    SDK reads a child right after the parent record, so the calls' own bookmark never passes a
    call whose page views were not read).
    """

    name = "calls"
    path = "/a/{account_id}/calls.json"
    item_key = "calls"
    replication_key = "start_time"
    sort_key = "start_time"
    company_filter = True

    def page_views_stream(self) -> CallPageViewsStream | None:
        """The page views stream, when this run reads it."""
        return next((s for s in self.child_streams if isinstance(s, CallPageViewsStream) and s.selected), None)

    @override
    def selected_optional_fields(self) -> list[str]:
        wanted = set(super().selected_optional_fields())
        if self.page_views_stream() is not None:
            wanted.add("session_uuid")  # only calls from session trackers have one, and page views
        if self.services.leads_wanted():
            wanted.add("person_id")
        return sorted(wanted)

    @override
    def generate_child_contexts(self, record: dict, context: Context | None) -> Iterable[Context | None]:
        page_views = self.page_views_stream()
        if page_views is None or context is None or not record.get("session_uuid"):
            return
        since = page_views.calls_since(context)
        started = record.get(self.replication_key or "")
        if started is not None and (since is None or str(started) > since):
            yield {**context, "call_id": record["id"], "call_start_time": started}

    @override
    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        if not self.selected:  # read only for call_page_views: not emitted, so not counted
            return row
        return super().post_process(row, context)


class CallsTimeseriesStream(CallRailStream):
    """CallRail's own daily call counts per company, for reconciling a warehouse's counts with them.

    Days are the company's (its time zone, as CallRail's dashboard shows them). Read once per
    full_table_refresh_hours, one request per company (planning.timeseries_days): from the
    partition's last day read minus lookback_window_days, so today's partial counts and later
    changes (spam removed) are read again. Counts are history: nothing is ever marked deleted.
    """

    name = "calls_timeseries"
    path = "/a/{account_id}/calls/timeseries.json"
    item_key = "data"
    primary_keys: ClassVar[tuple[str, ...]] = ("company_id", "date")
    replication_key = "date"
    per_company = True
    refresh_on_cadence = True
    history = True

    def __init__(self, tap: Tap, services: RunServices) -> None:
        super().__init__(tap, services)
        self._zoneless: set[str] = set()

    def company_zone(self, account_id: str, company_id: str) -> str:
        """The time zone a company's days are read in: its own, else UTC (with one warning)."""
        zone = self.services.scope.time_zone(account_id, company_id)
        if zone:
            return zone
        if company_id not in self._zoneless:
            self._zoneless.add(company_id)
            self.logger.warning("%s: company %s has no time zone; its days are read in UTC.", self.name, company_id)
        return REQUEST_TIME_ZONE

    @override
    def request_series(self, context: Context) -> list[Series]:
        since = self.since(context)
        series = []
        for company in super().request_series(context):
            zone = self.company_zone(str(context["account_id"]), str(company.params["company_id"]))
            days = timeseries_days(
                self.now(),
                zone_info(zone),
                start_date=self.config.get("start_date"),
                end_date=self.config.get("end_date"),
                bookmark=since.date() if since else None,
                lookback_days=int(self.config.get("lookback_window_days", 7)),
            )
            if days.clamped and not self._clamp_warned:
                self._clamp_warned = True
                self.logger.warning(
                    "%s: start_date is older than CallRail keeps data (25 months); reading from %s.",
                    self.name,
                    days.first,
                )
            series += timeseries_series(company, days, zone)
        return series

    @override
    def series_params(self, context: Context, series: Series) -> dict[str, Any]:
        return timeseries_params(fields=self.selected_optional_fields(), series=series)

    @override
    def record_key(self, record: dict[str, Any]) -> Any:
        company_id, day = record.get("company_id"), record.get("date")
        return None if company_id is None or day is None else (company_id, day)

    @override
    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        if context and row.get("company_id"):
            row["time_zone"] = self.company_zone(str(context["account_id"]), str(row["company_id"]))
        return super().post_process(row, context)


def zone_info(name: str) -> tzinfo:
    """The zone whose today ends a company's days; UTC for a name this machine does not know
    (CallRail may print Rails names such as `Eastern Time (US & Canada)`: they are still sent as given)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


class FormSubmissionsStream(NamesLeads, SortedCallRailStream):
    """Form submissions, incremental on submitted_at with a lookback for later edits."""

    name = "form_submissions"
    path = "/a/{account_id}/form_submissions.json"
    item_key = "form_submissions"
    replication_key = "submitted_at"
    sort_key = "submitted_at"
    company_filter = True


class TextMessagesStream(CallRailStream):
    """Text conversations, incremental on last_message_at, newest first.

    CallRail does not document which timestamp its date filter applies to for conversations,
    so every run requests the whole window from start_date and stops reading at the first
    page older than the bookmark minus the lookback (series.NewestFirst).
    """

    name = "text_messages"
    path = "/a/{account_id}/text-messages.json"
    item_key = "conversations"
    replication_key = "last_message_at"
    company_filter = True
    date_filtered = True
    newest_first = True


class LeadsStream(CallRailStream):
    """Leads (people); no date filter exists, so read in full, once per full_table_refresh_hours."""

    name = "leads"
    path = "/a/{account_id}/leads.json"
    item_key = "leads"
    company_filter = True
    refresh_on_cadence = True


class IntegrationsStream(CallRailStream):
    """Integrations, one request per company (once per full_table_refresh_hours); secrets masked."""

    name = "integrations"
    path = "/a/{account_id}/integrations.json"
    item_key = "integrations"
    per_company = True
    refresh_on_cadence = True
    masked_properties = ("signing_key",)
    masked_objects = ("config",)


class NotificationsStream(CallRailStream):
    """Notification settings; account-wide (CallRail ignores company_id here)."""

    name = "notifications"
    path = "/a/{account_id}/notifications.json"
    item_key = "notifications"


class OutboundCallerIdsStream(CallRailStream):
    """Outbound caller ids, one request per company (once per full_table_refresh_hours); codes masked."""

    name = "outbound_caller_ids"
    path = "/a/{account_id}/caller_ids.json"
    item_key = "caller_ids"
    per_company = True
    refresh_on_cadence = True
    masked_properties = ("validation_code",)


def partition_of(context: Context) -> tuple[Any, Any]:
    """The sms_threads partition a context belongs to (a thread's context names its thread too)."""
    return context.get("account_id"), context.get("company_id")


def read_back_to(stream: CallRailStream, context: Context) -> str | None:
    """A newest-first partition's oldest value still worth reading: bookmark minus lookback (None: all)."""
    since = stream.since(context)
    return None if since is None else to_canonical(since - stream.lookback(context))


class SmsThreadsStream(CallRailStream):
    """SMS threads (notes, tags, value, lead qualification), incremental on last_message_at, newest first.

    Read like text_messages: CallRail does not say which timestamp its date filter applies to
    for threads, so the whole window from start_date is requested and reading stops at the page
    older than the bookmark minus the lookback. With sms_thread_messages selected, the same pass
    serves it: it reaches back to that stream's own point too, and each thread newer than it
    hands its id on.
    """

    name = "sms_threads"
    path = "/a/{account_id}/sms-threads.json"
    item_key = "sms_threads"
    replication_key = "last_message_at"
    company_filter = True
    date_filtered = True
    newest_first = True

    @override
    def selected_optional_fields(self) -> list[str]:
        # Threads are picked by last_message_at even when only sms_thread_messages is selected.
        return sorted({*super().selected_optional_fields(), "last_message_at"})

    def messages_stream(self) -> SmsThreadMessagesStream | None:
        """The messages stream, when this run reads it."""
        return next((s for s in self.child_streams if isinstance(s, SmsThreadMessagesStream) and s.selected), None)

    @override
    def stop_point(self, context: Context, label: str) -> NewestFirst | None:
        points = [read_back_to(self, context)] if self.selected else []
        messages = self.messages_stream()
        if messages is not None:
            points.append(messages.threads_since(context))
        known = [point for point in points if point is not None]
        if not known or len(known) < len(points):
            return None  # a first read of either stream lists every thread
        return NewestFirst(self.replication_key, min(known), self.logger, label)

    @override
    def generate_child_contexts(self, record: dict, context: Context | None) -> Iterable[Context | None]:
        messages = self.messages_stream()
        if messages is None or context is None:
            return
        since = messages.threads_since(context)
        last = record.get(self.replication_key)
        if since is None or last is None or str(last) >= since:
            yield {**context, "thread_id": record["id"]}

    @override
    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        if not self.selected:  # read only for the messages stream: not emitted, so not counted
            return row
        return super().post_process(row, context)


class SmsThreadMessagesStream(CallRailStream):
    """Messages of the SMS threads that changed, newest first; a child of sms_threads.

    A child, not a second thread listing: the thread list is read once per run for both streams
    (sms_threads.generate_child_contexts), and a delta costs one request per thread whose
    last_message_at is newer than this stream's bookmark minus the lookback; a first read gets
    every thread's messages. State stays one bookmark per sms_threads partition, never per
    thread (`state_partitioning_keys` drop `thread_id`): the newest created_at seen, committed
    when the run ends (unsorted, as text_messages). Within a changed thread, pages older than
    that point are not read. Selecting only this stream reads the thread list without emitting
    it, and leaves the bookmarks of sms_threads as they were.
    """

    name = "sms_thread_messages"
    path = "/a/{account_id}/sms-threads/{thread_id}.json"
    item_key = "messages"
    replication_key = "created_at"
    company_filter = True  # partitions as sms_threads: per company when company_ids is set
    newest_first = True
    parent_stream_type = SmsThreadsStream

    def __init__(self, tap: Tap, services: RunServices) -> None:
        super().__init__(tap, services)
        self.state_partitioning_keys = ("account_id", "company_id")
        self._threads_since: dict[tuple[Any, Any], str | None] = {}
        self._forbidden: set[tuple[Any, Any]] = set()

    def threads_since(self, context: Context) -> str | None:
        """Threads and messages older than this were read before (None: read all); fixed for the run.

        Fixed because each thread's read updates the partition's state (its deep lookback).
        """
        key = partition_of(context)
        if key not in self._threads_since:
            self._threads_since[key] = read_back_to(self, context)
        return self._threads_since[key]

    @override
    def get_record_pages(self, context: Context | None) -> Iterator[list[dict[str, Any]]]:
        # A 403 (the plan lacks SMS) holds for every thread of the partition: one warning, not one each.
        key = partition_of(context) if context else None
        if key is None or key in self._forbidden:
            return
        skips = self.skips
        yield from super().get_record_pages(context)
        if self.skips > skips:
            self._forbidden.add(key)

    @override
    def stop_point(self, context: Context, label: str) -> NewestFirst | None:
        since = self.threads_since(context)
        return None if since is None else NewestFirst(self.replication_key or "", since, self.logger, label)

    @override
    def request_series(self, context: Context) -> list[Series]:
        return [Series(f"thread {context['thread_id']}")]

    @override
    def series_params(self, context: Context, series: Series) -> dict[str, Any]:
        params = {**super().series_params(context, series), "per_page": MESSAGES_PER_PAGE}
        if self.mask.get(("properties", "error"), True):
            params["with_msg_errors"] = "true"
        return params

    @override
    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        if context:
            row["thread_id"] = context["thread_id"]
        return super().post_process(row, context)


class CallPageViewsStream(CallRailStream):
    """Pages the visitor viewed before calling, for new calls from session trackers; a child of calls.

    Off by default: one request per such call. Page views do not change after the call, so
    only calls newer than this stream's bookmark (the start_time of the newest call whose page
    views were read, one per calls partition, committed when the run ends) are asked for; the
    calls the lookback re-reads are not. A call CallRail removed as spam answers 404: skipped.
    """

    name = "call_page_views"
    path = "/a/{account_id}/calls/{call_id}/page_views.json"
    item_key = "page_views"
    primary_keys: ClassVar[tuple[str, ...]] = ("call_id", "position")
    replication_key = "call_start_time"
    company_filter = True  # partitions as calls: per company when company_ids is set
    history = True
    selected_by_default = False
    parent_stream_type = CallsStream

    def __init__(self, tap: Tap, services: RunServices) -> None:
        super().__init__(tap, services)
        self.state_partitioning_keys = ("account_id", "company_id")
        self._calls_since: dict[tuple[Any, Any], str | None] = {}

    def calls_since(self, context: Context) -> str | None:
        """Calls that started at or before this had their page views read (None: none yet); fixed for the run."""
        key = partition_of(context)
        if key not in self._calls_since:
            since = self.since(context)
            self._calls_since[key] = None if since is None else to_canonical(since)
        return self._calls_since[key]

    @override
    def request_series(self, context: Context) -> list[Series]:
        return [Series(f"call {context['call_id']}")]

    @override
    def series_params(self, context: Context, series: Series) -> dict[str, Any]:
        return {"per_page": PAGE_VIEWS_PER_PAGE}

    @override
    def record_key(self, record: dict[str, Any]) -> Any:
        return record.get("created_at"), record.get("page_url"), record.get("referrer_url")

    @override
    def get_record_pages(self, context: Context | None) -> Iterator[list[dict[str, Any]]]:
        views: list[dict[str, Any]] = []
        try:
            for records in super().get_record_pages(context):
                views.extend(records)
        except CallRailNotFoundError:
            call = context.get("call_id") if context else None
            self.logger.info("call_page_views: call %s answered 404 (removed as spam or deleted); skipped.", call)
            return
        # Listed newest first; numbered from the first page viewed (ties keep CallRail's order).
        views.reverse()
        views.sort(key=lambda view: str(view.get("created_at") or ""))
        for position, view in enumerate(views, start=1):
            view["position"] = position
        if views:
            yield views

    @override
    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        if context:
            row["call_id"] = context["call_id"]
            row["call_start_time"] = context["call_start_time"]
        return super().post_process(row, context)


class LeadTimelinesStream(CallRailStream):
    """The timeline of each lead (person_id) a new call or form submission of this run names.

    Off by default: one request (per 250 events) per lead. The SDK syncs streams in name order,
    so it runs after calls and form_submissions and sees the person_ids of the records they
    emitted (texts and SMS threads name no person; tests/test_fanouts.py holds the order). A
    timeline gains events when its lead calls or writes again, so only the leads named by
    records newer than the partition's `leads_named_through` mark are read (the calls
    and forms the lookback re-reads name leads read before); the mark, the newest such record
    time, is saved only after every lead of the partition was read. A first read, or a
    cleared state, reads every lead named. Events are history: upserted on (person_id,
    event_key), never marked deleted.
    """

    name = "lead_timelines"
    path = "/a/{account_id}/leads/{person_id}/timeline.json"
    item_key = "timeline"
    primary_keys: ClassVar[tuple[str, ...]] = ("person_id", "event_key")
    history = True
    selected_by_default = False

    def __init__(self, tap: Tap, services: RunServices) -> None:
        super().__init__(tap, services)
        services.lead_timelines = self
        self.state_partitioning_keys = ("account_id",)  # one state per account, never one per lead

    @property
    @override
    def partitions(self) -> list[dict] | None:
        return self.services.scope.partitions(incremental=False, company_filter=False)

    @override
    def get_record_pages(self, context: Context | None) -> Iterator[list[dict[str, Any]]]:
        if context is None:
            return
        account_id = str(context["account_id"])
        state = self.get_context_state(context)
        named = self.services.leads_seen(account_id)
        through = str(state.get(LEADS_NAMED_THROUGH) or "")
        people = sorted(person for person, when in named.items() if not through or not when or when > through)
        self.logger.info(
            "lead_timelines %s: %d of the %d leads this run's calls and form submissions name are new since %s.",
            account_id,
            len(people),
            len(named),
            through or "the first read",
        )
        for person_id in people:
            try:
                for records in super().get_record_pages({**context, "person_id": person_id}):
                    for record in records:
                        record["person_id"] = person_id
                    yield records
            except CallRailNotFoundError:
                self.logger.info("lead_timelines: lead %s answered 404 (merged or deleted); skipped.", person_id)
        state[LEADS_NAMED_THROUGH] = max([through, *named.values()])

    @override
    def request_series(self, context: Context) -> list[Series]:
        return [Series(f"lead {context['person_id']}")]

    @override
    def series_params(self, context: Context, series: Series) -> dict[str, Any]:
        return {"per_page": TIMELINE_PER_PAGE}

    @override
    def preparer(self, account_id: str, company_id: str | None) -> Callable[[dict[str, Any]], None]:
        prepare = super().preparer(account_id, company_id)

        def shape(event: dict[str, Any]) -> None:
            details = {name: event.pop(name) for name in list(event) if name not in TIMELINE_COLUMNS}
            event["details"] = details or None
            if event.get("id") not in (None, ""):
                event["id"] = str(event["id"])
                event["event_key"] = f"{event.get('type')}:{event['id']}"
            elif event.get("event_date"):
                event["event_key"] = f"{event.get('type')}@{event['event_date']}"
            prepare(event)

        return shape

    @override
    def record_key(self, record: dict[str, Any]) -> Any:
        return record.get("event_key")


STREAM_TYPES: tuple[type[CallRailStream], ...] = (
    AccountsStream,
    CompaniesStream,
    UsersStream,
    TagsStream,
    TrackersStream,
    CallsStream,
    CallsTimeseriesStream,
    FormSubmissionsStream,
    TextMessagesStream,
    LeadsStream,
    IntegrationsStream,
    NotificationsStream,
    OutboundCallerIdsStream,
    SmsThreadsStream,
    SmsThreadMessagesStream,
    CallPageViewsStream,
    LeadTimelinesStream,  # synced after calls and form_submissions (by name): reads the leads they name
)
