"""The one base stream: every CallRail rule lives here once.

URL and auth header, offset pagination, `fields=` from the catalog, date windows with
lookback and the retention floor, per-company request series, error wording, and the
deletes-only-after-a-complete-read rule for full-table streams.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Generator, Iterable, Iterator
from datetime import datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple
from urllib.parse import urlencode

import msgspec
import requests
from singer_sdk import RESTStream
from singer_sdk.authenticators import APIKeyAuthenticator
from singer_sdk.exceptions import RetriableAPIError
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.mapper import SameRecordTransform
from singer_sdk.pagination import PageNumberPaginator
from singer_sdk.singerlib import RecordMessage
from singer_sdk.singerlib.catalog import REPLICATION_INCREMENTAL

from tap_callrail.errors import CallRailAuthError, CallRailNotFoundError, CallRailRequestError
from tap_callrail.masking import MASK, mask_secrets
from tap_callrail.normalize import RecordNormalizer
from tap_callrail.output import MessageWriter, RecordShaper
from tap_callrail.pages import PagePlan
from tap_callrail.quality import UNCONVERTIBLE_VALUE, properties_read
from tap_callrail.retry import RETRIABLE_EXCEPTIONS, UnexpectedBody
from tap_callrail.schemas import OPTIONAL_FIELDS, SCHEMAS
from tap_callrail.timeutil import (
    UTC,
    is_date_only,
    parse_setting_datetime,
    parse_timestamp,
    request_minute,
    retention_floor,
    to_canonical,
)

if TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

    from tap_callrail.scope import Scope

DEFAULT_API_URL = "https://api.callrail.com/v3"
PAGE_SIZE = 250  # CallRail's maximum for list endpoints (callrail-api.md §2.1)
# Dates are sent in UTC, so the window bounds mean the same instants whatever the key
# owner's time zone is (callrail-api.md §2.5).
REQUEST_TIME_ZONE = "Etc/UTC"
MAX_RESTARTS = 3
#: How far past now a replication value may be and still count as now (clocks differ).
FUTURE_TOLERANCE = timedelta(minutes=5)
BODY_CHUNK_BYTES = 1 << 20


class ForbiddenError(Exception):
    """HTTP 403: the plan or the key's user lacks this feature for this account/company."""


class HeaderKeyAuthenticator(APIKeyAuthenticator):
    """The API key in the Authorization header, and the URL left as it is.

    The SDK's authenticator also parses and re-encodes the URL's query on every request to add
    query-string keys, of which a header key has none: twice per request, character by
    character over the whole `fields=` list (issue 6).
    """

    def authenticate_request(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers.update(self.auth_headers)
        return request


def _count(value: Any) -> int | None:
    """A page's `total_records`/`total_pages`/`per_page` if it is a count, else None."""
    return value if type(value) is int and value >= 0 else None


class CallRailPaginator(PageNumberPaginator):
    """Page numbers, ending as soon as the pages read say the series is over.

    The series ends at the first empty page, once the records received reach `total_records`,
    at `total_pages`, or, on a page that carries neither count (some endpoints omit them), at a
    short page. The page number asked for is the truth, whatever number the body echoes, and a
    `total_pages` beyond the records only earns a warning: an API that ignores `page` or
    overstates its pages cannot make the tap request pages for ever.
    """

    def __init__(self, start_value: int = 1) -> None:
        super().__init__(start_value)
        self.received = 0
        self._more = True
        #: `total_pages` when it claimed more pages than the records filled, else None.
        self.overstated_pages: int | None = None

    def observe(self, body: dict, item_count: int) -> None:
        """Take what the page just read says of the series (not the page: it is freed first)."""
        page = self.current_value
        self.received += item_count
        total_records = _count(body.get("total_records"))
        total_pages = _count(body.get("total_pages")) or None
        per_page = min(_count(body.get("per_page")) or PAGE_SIZE, PAGE_SIZE)
        if item_count == 0:
            self._more = False
        elif total_records is not None:
            self._more = self.received < total_records
        elif total_pages is None:
            self._more = item_count >= per_page
        if total_pages is not None and page >= total_pages:
            self._more = False
        elif total_pages is not None and not self._more:
            self.overstated_pages = total_pages

    def has_more(self, response: requests.Response) -> bool:
        return self._more


class RecordPage(NamedTuple):
    """The new records of one page, in order; `ready`: each is already shaped to be written.

    `repeated`: the page held records and every one of them had been read before in this pass
    over its series (an API repeating pages): the series ends there.
    """

    records: list[dict[str, Any]]
    ready: bool
    repeated: bool = False


class Series:
    """One paginated request series within a partition (e.g. one company's integrations)."""

    def __init__(self, label: str, params: dict[str, Any] | None = None) -> None:
        self.label = label
        self.params = params or {}


class CallRailStream(RESTStream[int]):
    """Base stream for CallRail API v3 list endpoints under `/a/{account_id}/`."""

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

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("schema", SCHEMAS[self.name])
        super().__init__(*args, **kwargs)
        self._normalize = RecordNormalizer(self.schema)
        self._request_label = self.name
        self.read_complete = True
        self.may_delete = False  # this run may mark absent rows deleted (set by `sync`)
        self._clamp_warned = False
        self._future_limit: tuple[float, str] = (-math.inf, "")
        self._window: tuple[str, str] | None = None
        self._records_read = 0
        self._shaper: RecordShaper | None = None
        self._plan: PagePlan | None = None
        self._plan_compiled = False
        self._parse_typed = False  # while this stream requests a page of its own records
        self._expected_key: str | None = None  # the list key the page being requested must hold
        self._page_typed = False  # the last page was parsed by the plan
        self._prepared: dict | None = None  # the record get_records last yielded, if ready to write
        self._extracted_at: datetime | None = None  # when the page being written was received
        self._direct: tuple[MessageWriter, list[str]] | None = None
        self._direct_checked = False
        self._undeclared_checked = False

    # -- wiring -----------------------------------------------------------------

    @property
    def scope(self) -> Scope:
        return self._tap.scope  # type: ignore[attr-defined,no-any-return]

    @property
    def url_base(self) -> str:
        return str(self.config.get("api_url") or DEFAULT_API_URL).rstrip("/")

    @cached_property
    def authenticator(self) -> APIKeyAuthenticator:
        return HeaderKeyAuthenticator(
            key="Authorization",
            # Surrounding whitespace (a key pasted from a file ends in a newline) is no part of it.
            value=f'Token token="{str(self.config["api_key"]).strip()}"',
            location="header",
        )

    @property
    def requests_session(self) -> requests.Session:
        session = super().requests_session
        if session.trust_env:
            # The proxy settings of the environment (HTTPS_PROXY, NO_PROXY, ...) are read once
            # for CallRail's host: requests would scan the environment three times per request.
            session.proxies.update(requests.utils.get_environ_proxies(self.url_base))
            session.trust_env = False
        return session

    @property
    def user_agent(self) -> str:
        return str(self.config.get("user_agent") or "tap-callrail")

    @property
    def is_sorted(self) -> bool:
        # Sorted ascending on the replication key, so state advances during the run and
        # a killed backfill resumes near where it stopped. Sort checks stay off because
        # each delta run starts `lookback_window_days` before the bookmark on purpose.
        return self.sort_key is not None

    @property
    def check_sorted(self) -> bool:
        return False

    @property
    def emit_activate_version_messages(self) -> bool:
        # The SDK would emit ACTIVATE_VERSION when a stream *starts*, so a run failing
        # midway would mark every row not yet re-read as deleted. `sync` emits it at the
        # end instead, and only after a complete read.
        return False

    def get_new_paginator(self) -> CallRailPaginator:
        return CallRailPaginator(start_value=1)

    @property
    def partitions(self) -> list[dict] | None:
        return self.scope.partitions_for(self)

    # -- requests ---------------------------------------------------------------

    def selected_optional_fields(self) -> list[str]:
        """Optional fields to request: exactly those selected in the catalog."""
        return sorted(name for name in OPTIONAL_FIELDS.get(self.name, ()) if self.mask.get(("properties", name), True))

    def request_series(self, context: Context) -> list[Series]:
        """The request series that together make up one partition."""
        account_id = context["account_id"]
        if "company_id" in context:
            return [Series(f"company {context['company_id']}", {"company_id": context["company_id"]})]
        if not (self.per_company or self.company_filter):
            return [Series("all companies")]
        restricted = self.scope.company_filter(account_id)
        if self.per_company:
            companies = self.scope.companies(account_id) if restricted is None else restricted
            return [Series(f"company {company_id}", {"company_id": company_id}) for company_id in companies]
        if self.company_filter and restricted is not None:
            return [Series(f"company {c}", {"company_id": c}) for c in restricted]
        return [Series("all companies")]

    def base_params(self, context: Context, series: Series) -> dict[str, Any]:
        params: dict[str, Any] = {"per_page": PAGE_SIZE}
        fields = self.selected_optional_fields()
        if fields:
            params["fields"] = ",".join(fields)
        if self.sort_key:
            params["sort"] = self.sort_key
            params["order"] = "asc"
        if self.date_filtered:
            start, end = self.date_window(context)
            self._window = (to_canonical(start), to_canonical(end))
            self._tap.sync_stats.window(self.name, context.get("account_id"), *self._window)  # type: ignore[attr-defined]
            params["start_date"] = request_minute(start)
            params["end_date"] = request_minute(end)
            params["time_zone"] = REQUEST_TIME_ZONE
        params.update(series.params)
        return params

    def request_url(self, context: Context | None) -> str:
        return self.get_url(context)

    def send(
        self,
        url: str,
        params: dict[str, Any] | str,
        context: Context | None,
        *,
        typed: bool = False,
        item_key: str | None = None,
    ) -> dict:
        """GET one page (with retries and the rate budget) and return its parsed body.

        `params`: a dict, or a query string already encoded. `typed`: the page holds this
        stream's own records, parsed by its plan when it can be. `item_key`: the body must be
        a page with a list under this key; without it, a single object with an `id`. Any
        other 200 is retried like an unreadable body, and fails the run when it persists.
        """
        prepared = self.build_prepared_request(method="GET", url=url, params=params, headers=self.http_headers)
        self._parse_typed = typed and self.record_plan() is not None
        self._expected_key = item_key
        try:
            response = self.request_decorator(self._request)(prepared, context)
        finally:
            self._parse_typed = False
        body: Any = getattr(response, _PARSED_BODY, _UNPARSED)
        return response.json() if body is _UNPARSED else body  # type: ignore[no-any-return]

    def _request(self, prepared_request: requests.PreparedRequest, context: Context | None) -> requests.Response:
        """The SDK's `_request`, reading the body in 1 MiB chunks instead of requests' 10 KiB.

        A page of calls with every field is ~1 MB: a hundred reads through requests and
        urllib3 cost more CPU than parsing it (issue 6). Read errors surface as requests'
        own exceptions, as with `response.content`.
        """
        authenticated = self.authenticator(prepared_request)
        response = self.requests_session.send(
            authenticated, timeout=self.timeout, allow_redirects=self.allow_redirects, stream=True
        )
        try:
            response._content = b"".join(response.iter_content(BODY_CHUNK_BYTES))
            response._content_consumed = True
        finally:
            response.close()  # back to the pool (the body was read to its end) or closed
        self._write_request_duration_log(
            endpoint=self.path,
            response=response,
            context=context,
            extra_tags={"url": authenticated.path_url} if self._LOG_REQUEST_METRIC_URLS else None,
        )
        self.validate_response(response)
        return response

    def request_decorator(self, func: Any) -> Any:
        """Retries (tap_callrail.retry) around every request, each attempt within the rate budget."""
        tap = self._tap
        stats = tap.sync_stats  # type: ignore[attr-defined]
        last_fault: list[int | None] = []

        def attempt(prepared: requests.PreparedRequest, context: Context | None) -> requests.Response:
            try:
                return func(prepared, context)  # type: ignore[no-any-return]
            except RETRIABLE_EXCEPTIONS as exc:
                response = getattr(exc, "response", None)
                status = response.status_code if response is not None else None
                if status == 429:
                    stats.rate_limited(self.name, account_of(context, prepared))
                last_fault.append(status)
                raise

        def before_attempt(target: Any) -> None:
            account = target.account_id
            if last_fault:
                stats.retry(self.name, account, last_fault.pop())
            stats.request(self.name, account)
            waited = tap.rate_budget.acquire(account or "(accounts list)")  # type: ignore[attr-defined]
            tap.progress.waited(self.name, account or "-", waited)  # type: ignore[attr-defined]

        return tap.retry_policy.decorate(attempt, stream=self.name, before_attempt=before_attempt)  # type: ignore[attr-defined]

    def pages(
        self,
        url: str,
        params: dict[str, Any],
        context: Context | None,
        item_key: str | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Every page body of one paginated request series."""
        typed = item_key is None
        item_key = item_key or self.item_key
        paginator = self.get_new_paginator()
        # Encoded once per series, not per page: `fields=` lists every optional field, and
        # urlencode quotes it character by character (issue 6). Its commas stay literal, as
        # CallRail writes them (`fields=a,b`, callrail-api.md): urllib3 re-checks every URL
        # several times per request, and each `%2C` costs it a call.
        kept = {key: value for key, value in params.items() if value is not None and key != "page"}
        query = urlencode(kept, safe=",")
        query += "&page=" if query else "page="
        with self.get_http_request_counter() as counter:
            counter.with_context(context)
            while not paginator.finished:
                body = self.send(url, f"{query}{paginator.current_value}", context, typed=typed, item_key=item_key)
                counter.increment()
                yield body
                paginator.observe(body, len(body[item_key]))
                # The page is freed before the next one is requested, so that one's records reuse
                # its memory: parsed while it was still held, they cost ~15% more CPU.
                del body
                paginator.advance(None)  # type: ignore[arg-type]
        if paginator.overstated_pages is not None:
            self.logger.warning(
                "%s: CallRail said %d pages, but the records ended on page %d (%d records); "
                "no further pages were requested.",
                self._request_label,
                paginator.overstated_pages,
                paginator.current_value,
                paginator.received,
            )

    def fetch_object(self, path: str, *, label: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """GET a single object outside the stream's own series (account resolution)."""
        self._request_label = label
        return self.send(self.url_base + path, params or {}, None, item_key=None)

    def fetch_pages(self, path: str, item_key: str, *, label: str) -> Iterator[dict[str, Any]]:
        """Every item of a list endpoint outside the stream's own series."""
        self._request_label = label
        for body in self.pages(self.url_base + path, {"per_page": PAGE_SIZE}, None, item_key):
            yield from body[item_key]

    def validate_response(self, response: requests.Response) -> None:
        status = response.status_code
        where = f"{self._request_label} ({response.request.path_url.split('?')[0] if response.request else self.path})"
        if status == 401:
            raise CallRailAuthError(
                f"CallRail rejected the API key (HTTP 401) while reading {where}. "
                "Check the api_key setting (TAP_CALLRAIL_API_KEY): it must be an active "
                "CallRail API v3 key of a user who can see these accounts."
            )
        if status == 403:
            raise ForbiddenError(callrail_message(response))
        if status == 429 or status >= 500:
            raise RetriableAPIError(f"HTTP {status} from CallRail for {where}: {callrail_message(response)}", response)
        if status == 404:
            raise CallRailNotFoundError(
                f"CallRail has no such resource for {where} (HTTP 404): {callrail_message(response)}"
            )
        if status >= 400:
            raise CallRailRequestError(
                f"CallRail refused the request for {where} (HTTP {status}): {callrail_message(response)}"
            )
        try:
            body = self.parse_page(response)
        except ValueError as exc:
            # A 200 with a cut or garbled body is a transport fault: ask again.
            raise RetriableAPIError(f"CallRail sent an unreadable (non-JSON) body for {where}", response) from exc
        problem = unexpected_body(body, self._expected_key)
        if problem:
            raise UnexpectedBody(problem, response)
        setattr(response, _PARSED_BODY, body)  # parsed once; send() returns it

    def parse_page(self, response: requests.Response) -> Any:
        """The parsed body: by the stream's plan for a page of its own records, else untyped."""
        plan = self._plan if self._parse_typed else None
        if plan is not None and (response.encoding or "").lower() in ("utf-8", "utf8"):
            body = plan.decode(response.content)
            # A typed page keeps only the keys a page has: anything else is judged untyped.
            if body is not None and isinstance(body.get(self.item_key), list):
                self._page_typed = True
                if not self._undeclared_checked and body.get(self.item_key):
                    self.warn_undeclared(parse_body(response))
                return body
        self._page_typed = False
        return parse_body(response)

    def warn_undeclared(self, body: Any) -> None:
        """Warn, as the SDK would, of properties CallRail sends that the schema lacks.

        A typed page leaves them out without a word, so the first page of records of each
        run is also read untyped to look for them: a new CallRail field shows on every record.
        """
        self._undeclared_checked = True
        items = body.get(self.item_key) if isinstance(body, dict) else None
        known = self.schema["properties"].keys()
        undeclared = sorted({key for item in items or [] if isinstance(item, dict) for key in item} - known)
        if undeclared:
            self.logger.warning(
                "Properties %s were present in the '%s' stream but not found in catalog schema. Ignoring.",
                tuple(undeclared),
                self.name,
            )

    # -- date window -------------------------------------------------------------

    def now(self) -> datetime:
        return datetime.now(tz=UTC)

    def future_limit(self) -> str:
        """now + `FUTURE_TOLERANCE` as canonical UTC text: a replication value past it is not a bookmark."""
        tick = time.monotonic()
        if tick - self._future_limit[0] >= 1.0:
            self._future_limit = (tick, to_canonical(self.now() + FUTURE_TOLERANCE))
        return self._future_limit[1]

    def date_window(self, context: Context | None) -> tuple[datetime, datetime]:
        """The [start, end] instants this partition reads.

        Start is the later of `start_date` and (bookmark - `lookback_window_days`),
        never before CallRail's retention floor; end is `end_date` or now.
        """
        now = self.now()
        floor = retention_floor(now)
        configured = self.config.get("start_date")
        start = parse_setting_datetime(configured) if configured else floor
        bookmark = self.bookmark(context)
        if bookmark is not None:
            lookback = timedelta(days=int(self.config.get("lookback_window_days", 7)))
            start = max(start, bookmark - lookback)
        if start < floor:
            if configured and not self._clamp_warned:
                self._clamp_warned = True
                self.logger.warning(
                    "%s: start_date %s is older than CallRail keeps data (25 months); reading from %s.",
                    self.name,
                    configured,
                    request_minute(floor),
                )
            start = floor
        end_setting = self.config.get("end_date")
        end = parse_setting_datetime(end_setting) if end_setting else now
        if end_setting and is_date_only(end_setting):
            # Like CallRail, a date-only end_date includes that whole day.
            end += timedelta(days=1, minutes=-1)
        return start, max(end, start)

    def bookmark(self, context: Context | None) -> datetime | None:
        """This partition's bookmark as it stood when the run started, if any."""
        if not self.replication_key:
            return None
        state = self.get_context_state(context)
        value = state.get("starting_replication_value") or state.get("replication_key_value")
        if not value or value == self.config.get("start_date"):
            return None
        return parse_timestamp(str(value))

    # -- reading ----------------------------------------------------------------

    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        """Every record of the partition, one at a time, for the SDK's own per-record loop."""
        try:
            for page in self.get_record_pages(context):
                for record in page.records:
                    self._prepared = record if page.ready else None
                    yield record
        finally:
            self._prepared = None

    def get_record_pages(self, context: Context | None) -> Iterator[RecordPage]:
        """Every page of the partition: its records read for the first time, in order."""
        if context is None:  # no partition: nothing CallRail can be asked for
            return
        account_id = context.get("account_id")
        stats = self._tap.sync_stats  # type: ignore[attr-defined]
        stats.started(self.name, account_id)
        emitted: set[Any] = set()
        self._records_read = 0
        try:
            try:
                series_list = self.request_series(context)
            except ForbiddenError as exc:
                series_list = []
                self.skip_forbidden(f"{self.name} {account_id} (listing its companies)", exc)
            for series in series_list:
                try:
                    yield from self.read_series(context, series, emitted)
                except ForbiddenError as exc:
                    self.skip_forbidden(f"{self.name} {account_id} {series.label}", exc)
        finally:
            stats.finished(self.name, account_id)
            self._tap.progress.done(self.name, str(account_id), self._records_read)  # type: ignore[attr-defined]

    def skip_forbidden(self, label: str, exc: ForbiddenError) -> None:
        """403 below accounts: a feature the plan lacks. Skip it, finish the rest, delete nothing."""
        self.read_complete = False
        self.logger.warning(
            "Skipping %s: CallRail answered 403 (%s). The plan or the API key's user "
            "lacks this feature here; the rest of the sync goes on.",
            label,
            exc,
        )

    def read_series(self, context: Context, series: Series, emitted: set[Any]) -> Iterator[RecordPage]:
        """Read every page of one series, surviving records deleted while paging.

        Offset pages shift when CallRail deletes a record mid-read (a call marked spam, a
        tag removed), which would silently skip one record. A drop in `total_records`
        restarts the series; records already emitted are not emitted twice. A page that
        repeats records already read in this pass ends the series (an API ignoring `page`).
        """
        url = self.request_url(context)
        params = self.base_params(context, series)
        self._request_label = self.name
        if context.get("account_id"):
            self._request_label += f" for account {context['account_id']}"
        if series.params.get("company_id"):
            self._request_label += f", company {series.params['company_id']}"
        for _attempt in range(MAX_RESTARTS + 1):
            restart = repeated = False
            first_total = final_total = None
            pages_read = 0
            read: set[Any] = set()  # keys read in this pass (streams whose reads can delete rows)
            for body in self.pages(url, params, context):
                items = body[self.item_key]
                total = _count(body.get("total_records"))
                if pages_read == 0:
                    first_total = total
                elif total is not None and first_total is not None and total < first_total:
                    restart = True
                    break
                final_total = total if total is not None else final_total
                pages_read += 1
                self._extracted_at = datetime.now(tz=UTC)
                page = self.new_records(items, context, series, emitted, read)
                yield page
                self.report_page(context, items)
                self._tap.write_held_records()  # type: ignore[attr-defined]
                repeated = page.repeated
                del body, items, page  # freed before the next page is read (see `pages`)
                if repeated:
                    break
            if restart:
                self.logger.info(
                    "%s: CallRail deleted records while they were being read; reading again.",
                    self._request_label,
                )
                params = self.restart_params(params)
                continue
            if repeated:
                self.incomplete(f"page {pages_read} repeated records already read; the series ends there")
            elif self.verifies_reads:
                self.verify_series(url, context, series, read, final_total, pages_read)
            return
        self.incomplete(f"records kept changing while read {MAX_RESTARTS + 1} times")

    @property
    def verifies_reads(self) -> bool:
        """True when this run's read of the stream may mark rows deleted, so it must be proven complete."""
        return self.may_delete and self.read_complete

    def verify_series(
        self,
        url: str,
        context: Context,
        series: Series,
        read: set[Any],
        total: int | None,
        pages_read: int,
    ) -> None:
        """Prove a full-table series was read completely before its absent rows may be marked deleted.

        The distinct records read must equal CallRail's final `total_records`. Counting cannot
        see a record deleted from a page already read while another is added further on: the
        pages shift by one and a record that still exists is never read. So a series of more
        than one page is listed a second time (the same pages, default fields only): every
        record listed then must have been read the first time.
        """
        if total is not None and len(read) != total:
            self.incomplete(f"read {len(read)} distinct records where CallRail counted {total}")
            return
        if pages_read <= 1:
            return
        params = {key: value for key, value in self.base_params(context, series).items() if key != "fields"}
        listed: set[Any] = set()
        for body in self.pages(url, params, context, self.item_key):
            new = {self.record_key(item, context) for item in body[self.item_key]} - listed
            if not new:
                break
            listed |= new
        unread = listed - read
        if unread:
            self.incomplete(
                f"{len(unread)} record(s) listed on a second pass were not read on the first "
                "(pages shifted while they were read)"
            )

    def incomplete(self, why: str) -> None:
        """This run's read of the stream is not complete: warn once, and mark nothing deleted."""
        if self.read_complete and self.may_delete:
            self.logger.warning("%s: %s; no rows are marked deleted this run.", self._request_label, why)
        else:
            self.logger.warning("%s: %s.", self._request_label, why)
        self.read_complete = False

    def new_records(
        self,
        items: list[dict],
        context: Context,
        series: Series,
        emitted: set[Any],
        read: set[Any] | None = None,
    ) -> RecordPage:
        """The page's records made ready, without those already read in this series.

        `read`: the keys read so far in this pass over the series, updated.
        """
        ready = self.page_readiness()
        company_id = series.params.get("company_id") if self.per_company else None
        record_key, remember, seen = self.record_key, self.remember, self.already_read
        read = set() if read is None else read
        # A sorted stream knows a repeat by its order, and keeps no key of a whole backfill.
        track_pass = self.sort_key is None
        nulled_untyped = self._normalize.nulled
        nulled_typed = self._plan.nulled if self._plan is not None else []
        records = []
        all_ready = True
        fresh = 0
        for item in items:
            if company_id and item.get("company_id") is None:
                item["company_id"] = company_id
            if ready(item) is None:
                all_ready = False
            if nulled_untyped or nulled_typed:
                self.report_nulls(item, context)
            key = record_key(item, context)
            already = seen(emitted, key, item)
            if track_pass:
                if key not in read:
                    read.add(key)
                    fresh += 1
            elif not already:
                fresh += 1
            if already:
                continue
            remember(emitted, key, item)
            records.append(item)
        if not all_ready and self._page_typed and self._plan is not None:
            for record in records:
                self._plan.as_dicts(record)  # the SDK's path reads dicts
        self._records_read += len(records)
        return RecordPage(records, all_ready, bool(items) and fresh == 0)

    def report_nulls(self, record: dict, context: Context) -> None:
        """Count the values just turned into null because they do not fit their type."""
        quality = self._tap.quality  # type: ignore[attr-defined]
        for nulled in (self._normalize.nulled, self._plan.nulled if self._plan is not None else []):
            for name in nulled:
                quality.flag(self.name, context.get("account_id"), UNCONVERTIBLE_VALUE, name, record.get("id"))
            nulled.clear()

    def report_page(self, context: Context, items: list[dict]) -> None:
        position = None
        window = None
        if self.date_filtered and self._window:
            window = (self._window[0][:10], self._window[1][:10])
            key = self.replication_key or ""
            if items and items[-1].get(key):
                position = str(items[-1][key])[:10]
        self._tap.progress.page(  # type: ignore[attr-defined]
            self.name, str(context.get("account_id")), self._records_read, position, window
        )

    def record_key(self, record: dict, context: Context) -> Any:
        return record.get("id")

    def already_read(self, emitted: set[Any], key: Any, record: dict) -> bool:
        return key in emitted

    def remember(self, emitted: set[Any], key: Any, record: dict) -> None:
        emitted.add(key)

    def restart_params(self, params: dict[str, Any]) -> dict[str, Any]:
        return params

    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        if context:
            row["account_id"] = context["account_id"]
        account_id = row.get("account_id") if context else row.get("id")
        self._tap.quality.check(self.name, row, account_id)  # type: ignore[attr-defined]
        self._tap.sync_stats.record(self.name, account_id)  # type: ignore[attr-defined]
        return self.hide_secrets(row)

    def post_process_page(self, records: list[dict], context: Context | None) -> list[dict]:
        """What `post_process` does to each record of a page, with the page counted at once."""
        if not context:  # each record is its own account (the accounts stream)
            return [row for record in records if (row := self.post_process(record, context)) is not None]
        account_id = context["account_id"]
        for record in records:
            record["account_id"] = account_id
        self._tap.quality.check_many(self.name, records, account_id)  # type: ignore[attr-defined]
        self._tap.sync_stats.record(self.name, account_id, len(records))  # type: ignore[attr-defined]
        if self.masked_properties or self.masked_objects:
            for record in records:
                self.hide_secrets(record)
        return records

    def hide_secrets(self, row: dict) -> dict:
        """The record with secrets CallRail returns in data replaced, in place."""
        for name in self.masked_properties:
            if row.get(name) not in (None, ""):
                row[name] = MASK
        for name in self.masked_objects:
            if row.get(name) is not None:
                row[name] = mask_secrets(row[name])
        return row

    # -- writing -----------------------------------------------------------------

    def record_plan(self) -> PagePlan | None:
        """The stream's page plan and shaper, made once its catalog selection is known.

        Both replace per-record SDK work that dominated the tap's CPU (issue 6); a catalog they
        do not model exactly (tap_callrail/output.py) keeps the SDK's own path for every record.
        """
        if not self._plan_compiled:
            recursive = self.TYPE_CONFORMANCE_LEVEL == TypeConformanceLevel.RECURSIVE
            same_schema = self.effective_schema == self.schema
            self._shaper = RecordShaper.compile(self.schema, self.mask) if recursive and same_schema else None
            if self._shaper is not None:
                # Objects that masking or the quality checks read stay dicts (pages.py).
                read = set(self.masked_objects) | properties_read(self.name)
                self._plan = PagePlan(self.item_key, self.schema, self._shaper.selected, read)
            self._plan_compiled = True
        return self._plan

    def page_readiness(self) -> Callable[[dict], dict | None]:
        """For the page just received: what makes one of its records ready to write.

        The function returns the record when it is also shaped (nothing left for the SDK to
        prune or conform), else None. A page the plan parsed needs timestamps and its loose
        properties converted, and the shaper for just those; any other page, normalize.py.
        """
        plan, shaper, normalize = self._plan, self._shaper, self._normalize
        if not self._page_typed or plan is None or shaper is None:
            def untyped(record: dict) -> dict | None:
                normalize(record)
                return None

            return untyped
        prepare, fix_loose, as_dicts = plan.prepare, shaper.fixer(plan.loose), plan.as_dicts

        def typed(record: dict) -> dict | None:
            ready = fix_loose(prepare(record))
            if ready is None:
                as_dicts(record)  # for the SDK's shaping
            return ready

        return typed

    def _write_record_message(self, record: dict) -> None:
        """RECORD messages of one record, pruned and conformed by a plan made once per stream.

        Replaces the SDK's per-record schema walk and message objects, the largest CPU cost of
        a backfill (issue 6); records the shaper does not model take the SDK's own path.
        """
        if record is self._prepared:
            shaped: dict | None = record
        else:
            self.record_plan()
            shaped = self._shaper(record) if self._shaper is not None else None
        if shaped is None:
            super()._write_record_message(record)
            return
        extracted = self._extracted_at or datetime.now(tz=UTC)
        unmapped = self._direct_writes()
        if unmapped is not None:  # the usual case: nothing to decide per record
            lines, aliases = unmapped
            lines.write_records(aliases, (shaped,), self._stream_version, extracted)
            self.state_manager.is_flushed = False
            return
        if shaped is self._prepared and self._plan is not None:
            self._plan.as_dicts(shaped)  # stream maps read dicts
        for stream_map in self.stream_maps:
            mapped = stream_map.transform(shaped)
            if mapped is not None:
                self._tap.write_message(
                    RecordMessage(
                        stream=stream_map.stream_alias,
                        record=mapped,
                        version=self._stream_version,
                        time_extracted=extracted,
                    )
                )
        self.state_manager.is_flushed = False

    def write_page(self, records: list[dict], ready: bool) -> None:
        """RECORD messages of a page's records, written at once where nothing differs per record."""
        unmapped = self._direct_writes() if ready else None
        if unmapped is None:
            for record in records:
                self._prepared = record if ready else None
                self._write_record_message(record)
            self._prepared = None
            return
        lines, aliases = unmapped
        lines.write_records(aliases, records, self._stream_version, self._extracted_at or datetime.now(tz=UTC))
        self.state_manager.is_flushed = False

    def _direct_writes(self) -> tuple[MessageWriter, list[str]] | None:
        """The writer and stream names when every record goes out unmapped (no stream maps)."""
        if not self._direct_checked:
            self._direct_checked = True
            writer = self._tap.message_writer
            unmapped = all(
                type(stream_map) is SameRecordTransform and not stream_map.flattening_enabled
                for stream_map in self.stream_maps
            )
            if unmapped and isinstance(writer, MessageWriter):
                self._direct = (writer, [stream_map.stream_alias for stream_map in self.stream_maps])
        return self._direct

    def _sync_records(
        self,
        context: Context | None = None,
        *,
        write_messages: bool = True,
    ) -> Generator[dict, Any, None]:
        """The SDK's `_sync_records`, a page at a time: the same records and bookmarks, in the same order.

        The SDK post-processes, writes and bookmarks each record in turn; on a backfill that
        per-record bookkeeping cost more CPU than parsing the pages (issue 6). Here each page is
        post-processed, written and bookmarked at once, and a STATE message that falls due
        within a page follows that page. Dry runs (`--test`), child streams and runs that write
        no messages keep the SDK's own loop.
        """
        if not (write_messages and self.selected and not self.child_streams and self.ABORT_AT_RECORD_COUNT is None):
            yield from super()._sync_records(context, write_messages=write_messages)
            return
        record_counter = self.get_record_counter()
        timer = self.get_sync_timer()
        written = 0
        with record_counter, timer:
            for partition in [context] if context is not None else self.partitions or [{}]:
                record_counter.with_context(partition)
                timer.with_context(partition)
                current_context = partition or None
                state_context = self._get_state_partition_context(current_context)
                self._write_starting_replication_value(current_context)
                for page in self.get_record_pages(current_context):
                    records = self.post_process_page(page.records, current_context)
                    if not records:
                        continue
                    for key, value in (state_context or {}).items():  # what `_process_record` adds
                        for record in records:
                            record.setdefault(key, value)
                    self.write_page(records, page.ready)
                    self.increment_page_state(records, current_context)
                    before, written = written, written + len(records)
                    if before // self.STATE_MSG_FREQUENCY != written // self.STATE_MSG_FREQUENCY:
                        self._write_state_message()
                    record_counter.increment(len(records))
                    yield from records
                    del page, records  # freed before the next page is read (see `pages`)
                if current_context == state_context:
                    self._finalize_state(self.get_context_state(current_context))
        if not context:
            self._finalize_state(self.stream_state)
        self._write_state_message()

    def increment_page_state(self, records: list[dict], context: Context | None) -> None:
        """Advance the bookmark over a page, as `_increment_stream_state` on each record would.

        Sort order is not checked (`check_sorted`), so each value replaces the last: the last
        record decides, unless a record lacks a value (the SDK warns of each such record). A
        value in the future is emitted as data (the quality checks count it) but never becomes
        the bookmark: every later run would ask for calls after it and never read one again.
        """
        key = self.replication_key
        if self.replication_method != REPLICATION_INCREMENTAL or not key:
            return
        limit = self.future_limit()
        records = [record for record in records if not str(record.get(key) or "") > limit]
        if not records:
            return
        if all(record.get(key) is not None for record in records):
            self._increment_stream_state(records[-1], context=context)
            return
        for record in records:
            self._increment_stream_state(record, context=context)

    # -- deletes -------------------------------------------------------------------

    def sync(self, context: Context | None = None) -> None:  # type: ignore[misc]  # no later SDK hook
        """Sync, then let the target mark missing rows deleted, if that is safe.

        Only full-table streams, only when `emit_activate_version_messages` is on, only
        after every partition was read completely, and never in a run narrowed by
        `account_ids` or `company_ids` (the table also holds rows this run did not read).
        """
        self.read_complete = True
        self.may_delete = False
        version = None
        # Dated streams (text messages too) never delete: conversations outside the window,
        # or purged after 25 months, stay in the warehouse.
        full_table = self.replication_key is None and not self.date_filtered
        if full_table and self.config.get("emit_activate_version_messages"):
            version = int(time.time() * 1000)
            # Records carry this version; ACTIVATE_VERSION follows only after the read.
            self._stream_version = version
            self.may_delete = self.selected and not self.scope.narrowed
        super().sync(context)
        if version is not None and self.selected and self.read_complete:
            if self.scope.narrowed:
                self.logger.info(
                    "%s: deletes not applied because account_ids/company_ids narrow this run.",
                    self.name,
                )
                return
            self._write_activate_version_message(version)


def unexpected_body(body: Any, item_key: str | None) -> str | None:
    """Why a 200 body is not what CallRail documents, or None when it is.

    A list endpoint answers an object with a list under its key; a single-object endpoint an
    object with an `id`. The reason names only the body's keys and CallRail's `error` text,
    never its records (they hold names, phone numbers and the settings of integrations).
    """
    if not isinstance(body, dict):
        return f"a JSON {type(body).__name__} instead of an object"
    wanted = item_key or "id"
    value = body.get(wanted)
    if (isinstance(value, list) if item_key else value is not None) and not body.get("error"):
        return None
    keys = ", ".join(sorted(str(key) for key in body)[:8]) or "none"
    problem = f"no '{wanted}' list in it" if item_key else "no 'id' in it"
    if item_key and wanted in body:
        problem = f"'{wanted}' is {type(value).__name__ if value is not None else 'null'}, not a list"
    error = body.get("error")
    if error:
        problem += f"; CallRail says: {error if isinstance(error, str) else json.dumps(error)}"
    return f"{problem} (keys: {keys})"


def account_of(context: Context | None, prepared: requests.PreparedRequest) -> str | None:
    """The account a request is for: from the partition, else from `/a/{id}/` in the path."""
    if context and context.get("account_id"):
        return str(context["account_id"])
    parts = (prepared.path_url or "").split("?")[0].split("/")
    if "a" in parts and parts.index("a") + 1 < len(parts):
        return parts[parts.index("a") + 1].removesuffix(".json")
    return None


_PARSED_BODY = "_callrail_body"
_UNPARSED = object()


def parse_body(response: requests.Response) -> Any:
    """The JSON body of a response, read as `response.json()` reads it, several times faster.

    msgspec parses the raw bytes when they are declared UTF-8; whatever it refuses (another
    encoding, NaN, a number beyond float range, a lone surrogate) goes to `response.json()`.
    """
    if (response.encoding or "").lower() in ("utf-8", "utf8"):
        try:
            return msgspec.json.decode(response.content)
        except ValueError:  # msgspec.DecodeError, or UnicodeDecodeError for bytes not in UTF-8
            pass
    return response.json()


def callrail_message(response: requests.Response) -> str:
    """CallRail's own error text: the JSON `error` value, else the start of the body."""
    try:
        body = response.json()
    except ValueError:
        return (response.text or response.reason or "").strip()[:200]
    if isinstance(body, dict):
        for key in ("error", "errors", "message"):
            if body.get(key):
                value = body[key]
                return value if isinstance(value, str) else json.dumps(value)
    return json.dumps(body)[:200]


class SortedCallRailStream(CallRailStream):
    """An incremental stream sorted ascending on its replication key.

    Only ids at the latest replication minute are remembered, so memory stays flat on a
    million-call backfill; a restart after a mid-read delete resumes from that minute. A record
    before that minute was read already (an API repeating pages) and is not emitted again. A
    replication value in the future neither moves that minute nor becomes the bookmark.
    """

    date_filtered = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._latest_value: str | None = None
        self._unordered: set[Any] = set()  # ids of records without a usable replication value

    def _minute(self, record: dict) -> str | None:
        # Records are already normalised: the canonical UTC string's first 16 characters are
        # its minute, the resolution of CallRail's date filter.
        value = record.get(self.replication_key or "")
        if not value or str(value) > self.future_limit():
            return None
        return str(value)[:16]

    def already_read(self, emitted: set[Any], key: Any, record: dict) -> bool:
        minute = self._minute(record)
        if minute is None:
            return key in self._unordered
        if self._latest_value is not None and minute < self._latest_value:
            return True
        return minute == self._latest_value and key in emitted

    def remember(self, emitted: set[Any], key: Any, record: dict) -> None:
        minute = self._minute(record)
        if minute is None:
            self._unordered.add(key)
            return
        if minute != self._latest_value:
            emitted.clear()
            self._latest_value = minute
        emitted.add(key)

    def restart_params(self, params: dict[str, Any]) -> dict[str, Any]:
        if not self._latest_value:
            return params
        return {**params, "start_date": self._latest_value}

    def read_series(self, context: Context, series: Series, emitted: set[Any]) -> Iterator[RecordPage]:
        self._latest_value = None
        self._unordered.clear()
        emitted.clear()
        yield from super().read_series(context, series, emitted)
