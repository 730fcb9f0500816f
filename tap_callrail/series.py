"""Reading one request series: pagination that always ends, a restart when pages shift, each
record once, and proof that a full-table read was complete before its absent rows may be deleted.

CallRail pages by offset (`page`, `per_page`), so a record deleted while a series is read shifts
every later record back by one and one would be skipped (https://apidocs.callrail.com/#pagination).
With requests in flight (inflight.py) later pages are requested before earlier ones are answered;
`list_pages` says why that needs one more rule.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Generator, Iterable, Iterator
from contextlib import closing
from typing import Any, TypeVar

from tap_callrail.api import PAGE_SIZE, CallRailClient, Request, encode_query
from tap_callrail.inflight import InFlight, Page

T = TypeVar("T")
#: No requests in flight: each page is requested when it is due, on the reading thread.
SEQUENTIAL = InFlight(1)

#: Times a series is read again from its start (or last minute) when its count drops mid-read.
MAX_RESTARTS = 3


def count(value: Any) -> int | None:
    """A page's `total_records`/`total_pages`/`per_page` if it is a count, else None."""
    return value if type(value) is int and value >= 0 else None


class PageCount:
    """Page numbers, ending as soon as the pages read say the series is over.

    The series ends at the first empty page, once the records received reach `total_records`,
    at `total_pages`, or, on a page that carries neither count (some endpoints omit them), at a
    short page. The page number asked for is the truth, whatever number the body echoes, and a
    `total_pages` beyond the records only earns a warning: an API that ignores `page` or
    overstates its pages cannot make the tap request pages for ever.
    """

    def __init__(self) -> None:
        self.page = 1
        self.received = 0
        self.more = True
        #: `total_pages` when it claimed more pages than the records filled, else None.
        self.overstated_pages: int | None = None

    def observe(self, body: dict[str, Any], item_count: int) -> None:
        """Take what the page just read says of the series."""
        self.received += item_count
        total_records = count(body.get("total_records"))
        total_pages = count(body.get("total_pages")) or None
        per_page = min(count(body.get("per_page")) or PAGE_SIZE, PAGE_SIZE)
        if item_count == 0:
            self.more = False
        elif total_records is not None:
            self.more = self.received < total_records
        elif total_pages is None:
            self.more = item_count >= per_page
        if total_pages is not None and self.page >= total_pages:
            self.more = False
        elif total_pages is not None and not self.more:
            self.overstated_pages = total_pages
        if self.more:
            self.page += 1


def page_requests(request: Request, params: dict[str, Any]) -> Callable[[int], Request]:
    """The request of each page of a series: its query encoded once, each page number appended."""
    query = encode_query({key: value for key, value in params.items() if key != "page"})
    query += "&page=" if query else "page="
    return lambda number: Request(request.url, f"{query}{number}", request.target, request.label)


class PagesAhead:
    """Pages of one series requested before their turn: only planned ones, at most `width` at once.

    The plan is what page 1 counts, min(total_pages, ceil(total_records / 250)) pages, or
    nothing when it leaves a count out. Each page notes whether it was requested after the page
    before it was answered, as a read one page after another would have.
    """

    def __init__(self, send: Callable[[int], Page], width: int, first: Page | None = None) -> None:
        self._send = send
        self._width = width
        self._pending: dict[int, tuple[Page, bool]] = {1: (first, True)} if first else {}
        self._planned = 0

    def plan(self, first: dict[str, Any]) -> None:
        total_records, total_pages = count(first.get("total_records")), count(first.get("total_pages"))
        if self._width and total_records is not None and total_pages is not None:
            self._planned = min(total_pages, math.ceil(total_records / PAGE_SIZE))

    def fill(self, due: int) -> None:
        """Request planned pages from page `due` on, until `width` of them are pending."""
        number = max(self._pending, default=due - 1) + 1
        while len(self._pending) < self._width and number <= self._planned:
            before = self._pending.get(number - 1)
            self._pending[number] = (self._send(number), before is None or before[0].done())
            number += 1

    def take(self, number: int) -> tuple[Page, bool] | None:
        """Page `number` if it was requested ahead, and whether the page before it was answered first."""
        return self._pending.pop(number, None)

    def drop(self) -> None:
        """Request nothing more ahead in this pass; cancel what has not started, never read the rest."""
        self._planned = 0
        for page, _ in self._pending.values():
            page.cancel()
        self._pending.clear()


def list_pages(
    client: CallRailClient,
    request: Request,
    params: dict[str, Any],
    item_key: str,
    logger: logging.Logger | logging.LoggerAdapter,
    *,
    inflight: InFlight = SEQUENTIAL,
    first: Page | None = None,
    plan_ahead: bool = True,
) -> Generator[dict[str, Any], None, None]:
    """Every page body of one series (`request` without its query), until `PageCount` says it is over.

    With requests in flight, the planned pages after the one being read are requested ahead
    (`first`: page 1 already is); bodies are still yielded strictly in page order, an error is
    raised when its page is due, and pages requested past the series' end are never read. After
    a page whose `total_records` moved, nothing more is requested until the next page: its
    reader may start the series over, and the pages then in flight are wasted.

    Offset pagination asks one more rule of pages requested ahead. Read one after another, an
    insert between two reads only repeats a record on the next page (deduplicated), and a delete
    shows as a drop of `total_records` (SeriesReader reads again). Requested ahead, page k+1 may
    be answered before page k: a record inserted in between pushes the last record of page k onto
    page k+1, which was answered without it, and that record is lost. So a page requested before
    the page before it was answered must count the same `total_records` as that page; when it
    does not, it and every page requested ahead are dropped, it is requested again now, and the
    rest of this pass is read one page after another, where the rules above hold
    (https://apidocs.callrail.com/#pagination).

    `plan_ahead=False`: the reader may stop at any page (a newest-first stop point), so no page
    is requested before its turn.
    """
    page_request = page_requests(request, params)
    width = inflight.width if plan_ahead else 0
    ahead = PagesAhead(lambda number: inflight.send(client, page_request(number), item_key), width, first)
    counter = PageCount()
    previous_total: int | None = None
    try:
        while counter.more:
            number = counter.page
            page, in_order = ahead.take(number) or (None, True)
            body = page.result() if page else inflight.get(client, page_request(number), item_key)
            total = count(body.get("total_records"))
            if not in_order and total != previous_total:
                ahead.drop()
                body = inflight.get(client, page_request(number), item_key)
                total = count(body.get("total_records"))
            if number == 1:
                ahead.plan(body)
            counter.observe(body, len(body[item_key]))
            if counter.more and (number == 1 or total == previous_total):
                ahead.fill(counter.page)
            previous_total = total
            yield body
    finally:
        ahead.drop()
    if counter.overstated_pages is not None:
        logger.warning(
            "%s: CallRail said %d pages, but the records ended on page %d (%d records); "
            "no further pages were requested.",
            request.label,
            counter.overstated_pages,
            counter.page,
            counter.received,
        )


class Dedup:
    """Which records of a partition were emitted already (every key: full-table streams are small)."""

    def __init__(self) -> None:
        self.emitted: set[Any] = set()

    def start_series(self) -> None:
        """A new series of the partition begins (records repeat across companies: keep the keys)."""

    def admit(self, key: Any, record: dict[str, Any]) -> bool:
        """True, and remembered, when the record was not emitted before."""
        if key in self.emitted:
            return False
        self.emitted.add(key)
        return True

    def restart_params(self, params: dict[str, Any]) -> dict[str, Any]:
        """The query that reads a series again after its pages shifted: from its start."""
        return params

    @property
    def tracks_passes(self) -> bool:
        """True when a repeated page is told by keys read in the pass (False: by the sort order)."""
        return True


class SortedDedup(Dedup):
    """Records sorted ascending on `replication_key`: only the keys at the latest minute are kept.

    Memory stays flat on a million-call backfill. A record before that minute was read already
    (an API repeating pages) and is not emitted again; after a restart the series is read from
    that minute (CallRail's date filter has minute resolution). A value past `future_limit()`
    (a call dated 2999) neither moves that minute nor hides the records after it.
    """

    def __init__(self, replication_key: str, future_limit: Callable[[], str]) -> None:
        super().__init__()
        self._key = replication_key
        self._future_limit = future_limit
        self.latest: str | None = None
        self._unordered: set[Any] = set()  # keys of records without a usable replication value

    def start_series(self) -> None:
        self.emitted.clear()
        self._unordered.clear()
        self.latest = None

    def admit(self, key: Any, record: dict[str, Any]) -> bool:
        # Records are normalised: the canonical UTC text's first 16 characters are its minute.
        value = record.get(self._key)
        if not value or str(value) > self._future_limit():
            if key in self._unordered:
                return False
            self._unordered.add(key)
            return True
        minute = str(value)[:16]
        if minute != self.latest:
            if self.latest is not None and minute < self.latest:
                return False
            self.emitted.clear()
            self.latest = minute
        elif key in self.emitted:
            return False
        self.emitted.add(key)
        return True

    def restart_params(self, params: dict[str, Any]) -> dict[str, Any]:
        return {**params, "start_date": self.latest} if self.latest else params

    @property
    def tracks_passes(self) -> bool:
        return False


class NewestFirst:
    """Where a newest-first series may stop: at the page that reaches back past `stop_before`.

    CallRail lists text conversations newest first by their last message, but does not say so,
    nor what its date filter means for them. So every page is checked: values must not rise
    from one record to the next. While they do not, a page whose oldest record is older than
    `stop_before` holds every record still newer (the pages after it hold only older ones),
    so reading ends there. Once values rise, the order is not what the stop relies on, and the
    series is read to its end (one line says why). Records without a value are emitted and
    never decide the stop.
    """

    def __init__(self, key: str, stop_before: str, logger: logging.Logger | logging.LoggerAdapter, label: str) -> None:
        self._key = key
        self.stop_before = stop_before
        self._logger = logger
        self._label = label
        self._previous: str | None = None
        self.ordered = True
        self.stopped_early = False

    def start_pass(self) -> None:
        """The series is read (again) from its first page."""
        self._previous = None

    def __call__(self, items: list[dict[str, Any]]) -> bool:
        """Take a page's records (normalised, so values compare as text): True when reading may end."""
        values = [str(item.get(self._key) or "") for item in items]
        for value in values:
            if not value:
                continue
            if self.ordered and self._previous is not None and value > self._previous:
                self.ordered = False
                self._logger.warning(
                    "%s: records are not newest first (%s %s after %s); reading the whole window this run.",
                    self._label,
                    self._key,
                    value,
                    self._previous,
                )
            self._previous = value
        oldest = next((value for value in reversed(values) if value), None)
        if not self.ordered or oldest is None or oldest >= self.stop_before:
            return False
        self.stopped_early = True
        return True


class SeriesReader:
    """Reads the series of one stream through the client, a page of new records at a time.

    `key` names a record; `verify`: the read may mark rows deleted, so prove it complete.
    `complete` turns False, with one warning saying why, when a read was not.
    """

    def __init__(
        self,
        client: CallRailClient,
        *,
        item_key: str,
        key: Callable[[dict[str, Any]], Any],
        dedup: Dedup,
        logger: logging.Logger | logging.LoggerAdapter,
        verify: bool = False,
        inflight: InFlight = SEQUENTIAL,
    ) -> None:
        self._client = client
        self._inflight = inflight
        self._item_key = item_key
        self._key = key
        self.dedup = dedup
        self._logger = logger
        self.verify = verify
        self.complete = True
        #: Records skipped because they had no primary key (never emitted: the target keys on it).
        self.keyless = 0

    def pages(
        self, request: Request, params: dict[str, Any], first: Page | None = None, *, plan_ahead: bool = True
    ) -> Generator[dict[str, Any], None, None]:
        return list_pages(
            self._client,
            request,
            params,
            self._item_key,
            self._logger,
            inflight=self._inflight,
            first=first,
            plan_ahead=plan_ahead,
        )

    def ahead(
        self, planned: Iterable[tuple[T, Request, dict[str, Any]]]
    ) -> Iterator[tuple[tuple[T, Request, dict[str, Any]], Page | None]]:
        """Each planned series (anything, its request, its query) with its page 1 requested ahead,
        while the first pages of the next ones are too, as many as requests may be in flight.

        A series of one page per company (integrations of 120 companies) is then read without
        waiting for CallRail between companies. Page 1 is read, or its error raised, when its
        series' turn comes (`read(..., first=)`).
        """

        def send(plan: tuple[T, Request, dict[str, Any]]) -> Page:
            return self._inflight.send(self._client, page_requests(plan[1], plan[2])(1), self._item_key)

        return self._inflight.ahead(planned, send)

    def read(
        self,
        request: Request,
        params: dict[str, Any],
        prepare: Callable[[dict[str, Any]], Any],
        first: Page | None = None,
        *,
        until: NewestFirst | None = None,
    ) -> Iterator[list[dict]]:
        """The new records of each page of one series, in order.

        `prepare` makes a raw record what the stream emits (types, company id) before it is keyed.
        `first`: page 1, requested ahead (`ahead`); a pass read again requests its own.
        `until` sees each page's records once they are emitted; True ends the series there, as
        complete (e.g. `NewestFirst`; only for streams that never mark rows deleted).

        A drop in `total_records` means records were deleted while they were read: the series
        is read again (records already emitted are not emitted twice). A page whose records
        were all read before in this pass ends the series (an API repeating pages).
        """
        label = request.label
        self.dedup.start_series()
        for _attempt in range(MAX_RESTARTS + 1):
            restart = repeated = False
            if until is not None:
                until.start_pass()
            first_total = final_total = None
            pages_read = 0
            read: set[Any] = set()  # keys read in this pass
            with closing(self.pages(request, params, first, plan_ahead=until is None)) as pages:
                first = None
                for body in pages:
                    items = body[self._item_key]
                    total = count(body.get("total_records"))
                    if pages_read == 0:
                        first_total = total
                    elif total is not None and first_total is not None and total < first_total:
                        restart = True
                        break
                    final_total = total if total is not None else final_total
                    pages_read += 1
                    records, fresh = self._new_records(items, read, prepare)
                    yield records
                    repeated = bool(items) and not fresh
                    if repeated or (until is not None and until(items)):
                        break
            if restart:
                self._logger.info("%s: CallRail deleted records while they were being read; reading again.", label)
                params = self.dedup.restart_params(params)
                continue
            if repeated:
                self.incomplete(label, f"page {pages_read} repeated records already read; the series ends there")
            elif self.verify and self.complete:
                self._verify(request, params, read, final_total, pages_read)
            return
        self.incomplete(label, f"records kept changing while read {MAX_RESTARTS + 1} times")

    def _new_records(
        self, items: list[dict[str, Any]], read: set[Any], prepare: Callable[[dict[str, Any]], Any]
    ) -> tuple[list[dict[str, Any]], int]:
        """The page's records not emitted before, and how many of its records are new to this pass."""
        dedup, key_of = self.dedup, self._key
        records = []
        fresh = 0
        tracks_passes = dedup.tracks_passes
        for item in items:
            prepare(item)
            key = key_of(item)
            if key is None:
                self.keyless += 1
                continue
            new = dedup.admit(key, item)
            if tracks_passes:
                if key not in read:
                    read.add(key)
                    fresh += 1
            elif new:
                fresh += 1
            if new:
                records.append(item)
        return records, fresh

    def _verify(
        self,
        request: Request,
        params: dict[str, Any],
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
            self.incomplete(request.label, f"read {len(read)} distinct records where CallRail counted {total}")
            return
        if pages_read <= 1:
            return
        listing = {key: value for key, value in params.items() if key != "fields"}
        listed: set[Any] = set()
        with closing(self.pages(request, listing)) as pages:
            for body in pages:
                new = {self._key(item) for item in body[self._item_key]} - listed - {None}
                if not new:
                    break
                listed |= new
        unread = listed - read
        if unread:
            self.incomplete(
                request.label,
                f"{len(unread)} record(s) listed on a second pass were not read on the first "
                "(pages shifted while they were read)",
            )

    def incomplete(self, label: str, why: str) -> None:
        """This read is not complete: say why once, and mark nothing deleted."""
        suffix = "; no rows are marked deleted this run" if self.verify and self.complete else ""
        self._logger.warning("%s: %s%s.", label, why, suffix)
        self.complete = False
