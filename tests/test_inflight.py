"""Requests in flight: the same messages as one request at a time, in the same order, for the same requests.

Each comparison runs the tap twice on two emulators built alike, with `max_concurrent_requests` 1
and 4, and compares every Singer message as devtools/compare_output.py does (RECORD
`time_extracted`, versions and STATE signposts are the run's wall clock). Requests are compared
as a multiset of (path, query): concurrently they are sent in another order, never more of them,
but where the series changes while it is read (a restart drops the pages then in flight).
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from callrail_emulator import Emulator
from callrail_emulator.faults import fault_response
from callrail_emulator.wire import Request, Response, json_response
from devtools.compare_output import canonical, comparable, compare
from tap_callrail.api import CallRailClient
from tap_callrail.api import Request as ApiRequest
from tap_callrail.client import CallRailStream
from tap_callrail.inflight import InFlight
from tests.callrail import API_KEY, SyncResult, base_config, make_call, run_sync
from tests.conftest import NOW

WIDTH = 4
FIRST = datetime(2026, 11, 10, tzinfo=timezone.utc)
Build = Callable[[Emulator], Any]


@dataclass
class Outcome:
    result: SyncResult
    emulator: Emulator

    @property
    def messages(self) -> list[str]:
        return [canonical(comparable(message)) for message in self.result.messages]

    def requests(self, *, answered_only: bool = False) -> Counter[tuple[str, str]]:
        return Counter(
            (r["path"], json.dumps(r["query"], sort_keys=True))
            for r in self.emulator.requests
            if not answered_only or (r["status"] == 200 and not r["fault"])
        )

    def pages(self, path_part: str) -> list[str]:
        return [r["query"]["page"][0] for r in self.emulator.requests if path_part in r["path"]]


@pytest.fixture
def sync(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Outcome]]:
    """Run the tap in-process on a fresh emulator that `build` fills, `width` requests in flight.

    Over HTTP on 127.0.0.1, so that requests really overlap (requests-mock sends one at a time).
    """
    monkeypatch.setattr(CallRailStream, "now", lambda self: NOW)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    started: list[Emulator] = []

    def run(build: Build, width: int, streams: set[str], **config: Any) -> Outcome:
        emu = Emulator(accounts=0, api_key=API_KEY, now=NOW)
        build(emu)
        started.append(emu)
        settings = base_config(api_url=emu.start(port=0), max_concurrent_requests=width, **config)
        return Outcome(run_sync(settings, streams=streams, raise_errors=False), emu)

    yield run
    for emu in started:
        emu.stop()


@pytest.fixture
def short_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retry backoffs of 10 ms instead of seconds (Retry-After pauses still last as asked)."""
    monkeypatch.setattr(InFlight, "sleep", lambda self, seconds: time.sleep(min(seconds, 0.01)))


def both(sync: Callable[..., Outcome], build: Build, streams: set[str], **config: Any) -> tuple[Outcome, Outcome]:
    one, many = sync(build, 1, streams, **config), sync(build, WIDTH, streams, **config)
    assert one.result.error is None, one.result.error
    assert many.result.error is None, many.result.error
    return one, many


# -- data sets ------------------------------------------------------------------------------------


def _stamp(minutes: int) -> str:
    return (FIRST + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _account(emu: Emulator, account_id: str) -> str:
    return account_id if account_id in emu.account_ids else emu.add_account(account_id)


def calls(count: int) -> Build:
    def build(emu: Emulator) -> None:
        _account(emu, "ACC01")
        emu.put(
            "calls",
            "ACC01",
            [make_call(i, "COM01A" if i % 3 else "COM01B", _stamp(i), id=f"CAL{i:05d}") for i in range(count)],
        )

    return build


def leads(count: int) -> Build:
    """Leads created a minute apart; CallRail lists the newest first."""

    def build(emu: Emulator) -> None:
        _account(emu, "ACC01")
        emu.put("leads", "ACC01", [{"id": f"PER{i:04d}", "created_at": _stamp(i)} for i in range(count)])

    return build


def companies(count: int) -> Build:
    def build(emu: Emulator) -> None:
        _account(emu, "ACC01")
        emu.put("companies", "ACC01", [{"id": f"COM{i:04d}", "name": f"Company {i:04d}"} for i in range(count)])

    return build


def agency(accounts: int = 2, companies_each: int = 25) -> Build:
    """Accounts of many companies, each with an integration and an outbound caller id."""

    def build(emu: Emulator) -> None:
        for n in range(1, accounts + 1):
            account = _account(emu, f"ACC{n:02d}")
            ids = [f"COM{n:02d}{i:03d}" for i in range(companies_each)]
            emu.put("companies", account, [{"id": c, "name": f"Company {c}", "status": "active"} for c in ids])
            emu.put(
                "integrations",
                account,
                [{"id": 1000 * n + i, "company_id": c, "type": "Webhooks"} for i, c in enumerate(ids)],
            )
            emu.put(
                "outbound_caller_ids",
                account,
                [{"id": 1000 * n + i, "company_id": c, "name": "Main line"} for i, c in enumerate(ids)],
            )

    return build


def then(*steps: Build) -> Build:
    def build(emu: Emulator) -> None:
        for step in steps:
            step(emu)

    return build


PER_COMPANY = {"companies", "integrations", "outbound_caller_ids"}


# -- the same output, the same requests -------------------------------------------------------------


def test_a_calls_backfill_read_concurrently_emits_the_same_messages_for_the_same_requests(sync) -> None:
    one, many = both(sync, calls(1600), {"calls"})

    assert len(one.result.records("calls")) == 1600
    assert many.messages == one.messages
    assert many.requests() == one.requests()
    assert len(one.pages("/calls.json")) == 7


def test_a_full_table_read_and_its_second_listing_concurrently_emit_the_same_messages(sync) -> None:
    one, many = both(sync, leads(1100), {"leads"}, emit_activate_version_messages=True)

    assert one.result.of_type("ACTIVATE_VERSION", "leads")
    assert many.messages == one.messages
    assert many.requests() == one.requests()
    assert len(one.pages("/leads.json")) == 10  # five pages read, five listed again


def test_per_company_streams_of_many_companies_emit_the_same_messages_for_the_same_requests(sync) -> None:
    one, many = both(sync, agency(), PER_COMPANY, emit_activate_version_messages=True)

    assert len(one.result.records("integrations")) == len(one.result.records("outbound_caller_ids")) == 50
    assert many.messages == one.messages
    assert many.requests() == one.requests()


def test_transient_faults_on_requests_in_flight_leave_the_messages_unchanged(sync, short_waits) -> None:
    def faults(emu: Emulator) -> None:
        emu.fault_every(4, ("500", "502", "drop", "truncated_json"))

    one, many = both(sync, then(calls(1600), agency(1, 10), faults), {"calls", *PER_COMPANY}, max_retries=5)

    assert many.messages == one.messages
    assert many.requests(answered_only=True) == one.requests(answered_only=True)
    assert sum(many.requests().values()) == sum(one.requests().values())  # one retry per fault, no other


def test_429s_with_retry_after_on_requests_in_flight_leave_the_messages_unchanged(sync, short_waits) -> None:
    def rate_limited(emu: Emulator) -> None:
        emu.after_page("calls", "ACC01", 1, lambda e: e.rate_limit(3, retry_after=1))

    one, many = both(sync, then(calls(1600), rate_limited), {"calls"}, max_retries=5)

    assert many.messages == one.messages
    assert many.requests(answered_only=True) == one.requests(answered_only=True)
    assert sum(1 for r in many.emulator.requests if r["status"] == 429) == 3


def test_a_lying_total_pages_costs_no_request_beyond_the_records(sync) -> None:
    def lying(emu: Emulator) -> None:
        emu.hostile("lying_total_pages", "/leads.json")

    one, many = both(sync, then(leads(800), lying), {"leads"}, emit_activate_version_messages=True)

    assert many.messages == one.messages
    assert many.requests() == one.requests()
    assert len(many.pages("/leads.json")) == 8  # 4 pages read, 4 listed again; none past the records


def test_pages_that_leave_their_counts_out_are_read_one_after_another(sync) -> None:
    def no_counts(emu: Emulator) -> None:
        emu.set_paging(total_records=False)

    one, many = both(sync, then(leads(800), no_counts), {"leads"})

    assert many.messages == one.messages
    assert many.pages("/leads.json") == one.pages("/leads.json") == ["1", "2", "3", "4"]


def test_pages_repeating_under_a_lying_total_pages_cost_at_most_the_requests_then_in_flight(sync) -> None:
    # Every page answers page 1's records while claiming 40 pages of 10,000 records.
    body = {"page": 1, "per_page": 250, "total_pages": 40, "total_records": 10_000,
            "leads": [{"id": f"PER{i:04d}", "created_at": _stamp(i)} for i in range(250)]}
    pages: dict[int, list[str]] = {}

    def repeating(width: int) -> Build:
        def build(emu: Emulator) -> None:
            _account(emu, "ACC01")
            dispatch = emu.dispatch

            def answer(req: Request) -> Response:
                if not req.path.endswith("/leads.json"):
                    return dispatch(req)
                pages.setdefault(width, []).append(req.param("page") or "")
                return json_response(200, body)

            emu.dispatch = answer  # type: ignore[method-assign]

        return build

    one, many = (sync(repeating(width), width, {"leads"}) for width in (1, WIDTH))

    assert len(one.result.records("leads")) == 250
    assert many.messages == one.messages
    assert pages[1] == ["1", "2"]  # page 2 repeats page 1 and ends the series
    assert 2 <= len(pages[WIDTH]) <= 2 + WIDTH  # plus at most the window in flight when it ended


# -- pages shifting while they are read ----------------------------------------------------------


def _delete(stream: str, record_id: str) -> Build:
    return lambda emu: emu.delete(stream, "ACC01", record_id)


@pytest.mark.parametrize(
    ("build", "stream"),
    [
        (then(leads(1100), lambda e: e.after_page("leads", "ACC01", 1, _delete("leads", "PER0500"))), "leads"),
        (then(calls(1600), lambda e: e.after_page("calls", "ACC01", 1, _delete("calls", "CAL00010"))), "calls"),
    ],
    ids=["full_table", "sorted"],
)
def test_a_delete_mid_read_restarts_and_emits_the_same_messages_costing_at_most_the_pages_in_flight(
    sync, build: Build, stream: str
) -> None:
    one, many = both(sync, build, {stream}, emit_activate_version_messages=True)

    assert many.messages == one.messages
    extra = many.requests() - one.requests()
    assert not one.requests() - many.requests()
    assert sum(extra.values()) <= WIDTH - 1  # the pages of the first pass in flight when it restarted


def test_a_delete_and_an_insert_after_page_1_emit_the_same_messages_and_mark_nothing_deleted(sync) -> None:
    def shift(emu: Emulator) -> None:
        emu.hostile("shift", "/companies.json", after_page=1, position=0)

    one, many = both(sync, then(companies(600), shift), {"companies"}, emit_activate_version_messages=True)

    assert not one.result.of_type("ACTIVATE_VERSION", "companies")
    assert many.messages == one.messages
    assert many.requests() == one.requests()


def test_an_insert_while_a_later_page_was_answered_first_loses_no_record(sync) -> None:
    # CallRail lists leads newest first, so a new lead pushes every other one a place down. Page 4
    # is answered before page 3, and a lead is created in between: page 3 then ends one lead earlier
    # than page 4 began, and that lead would be lost. The two pages' total_records differ.
    new_lead = [{"id": "PERNEW", "created_at": _stamp(5000)}]
    answered: list[str] = []

    def sequential(emu: Emulator) -> None:
        leads(1000)(emu)
        emu.after_page("leads", "ACC01", 3, lambda e: e.put("leads", "ACC01", new_lead))

    def racing(emu: Emulator) -> None:
        leads(1000)(emu)
        emu.after_page("leads", "ACC01", 4, lambda e: e.put("leads", "ACC01", new_lead))
        dispatch = emu.dispatch
        done = {"2": threading.Event(), "4": threading.Event()}

        def in_race_order(req: Request) -> Response:
            page = req.param("page") if req.path.endswith("/leads.json") else None
            if page in ("3", "4") and not done["4"].is_set():
                done["2" if page == "4" else "4"].wait(10)  # page 4 after page 2, page 3 after page 4
            response = dispatch(req)
            if page:
                answered.append(page)
                if page in done:
                    done[page].set()
            return response

        emu.dispatch = in_race_order  # type: ignore[method-assign]

    one = sync(sequential, 1, {"leads"})
    many = sync(racing, WIDTH, {"leads"})

    assert answered[:4] == ["1", "2", "4", "3"], (answered, many.result.error)  # the race happened
    emitted = [r["id"] for r in many.result.records("leads")]
    assert Counter(emitted) == Counter(f"PER{i:04d}" for i in range(1000))
    assert many.messages == one.messages
    assert sum(many.requests().values()) <= sum(one.requests().values()) + 2  # page 3 or 4 again, then page 4


# -- what fails where it failed --------------------------------------------------------------------


def test_a_403_and_a_vanished_company_of_first_pages_requested_ahead_are_skipped_where_they_were(
    sync, caplog: pytest.LogCaptureFixture
) -> None:
    def faults(emu: Emulator) -> None:
        emu.persistent_fault(403, "/integrations.json", company_id="COM01007")
        emu.hostile("vanish_company", position=12)

    outcomes = []
    for width in (1, WIDTH):
        caplog.clear()
        outcome = sync(then(agency(), faults), width, PER_COMPANY, emit_activate_version_messages=True)
        assert outcome.result.error is None, outcome.result.error
        outcomes.append((outcome, [r.getMessage() for r in caplog.records if r.getMessage().startswith("Skipping")]))
    (one, skipped_one), (many, skipped_many) = outcomes

    assert len(skipped_one) == 2, skipped_one
    assert skipped_many == skipped_one
    assert many.messages == one.messages
    assert not many.result.of_type("ACTIVATE_VERSION", "integrations")


def test_a_404_of_a_listed_company_requested_ahead_stops_the_run_with_the_same_error(sync) -> None:
    def faults(emu: Emulator) -> None:
        emu.hostile("company_404", position=5)

    one, many = (sync(then(agency(1, 12), faults), width, PER_COMPANY) for width in (1, WIDTH))

    assert one.result.error is not None and "404" in str(one.result.error)
    assert str(many.result.error) == str(one.result.error)
    assert many.messages == one.messages


def test_a_failed_run_abandons_requests_still_waiting_and_sends_no_more(
    sync, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Pages 3-5, in flight, are told to wait ten minutes; then page 2 is refused and the run fails.
    page_2_asked, one_waits = threading.Event(), threading.Event()
    pages_3_to_5_asked = threading.Barrier(3, timeout=10)
    sent: list[str] = []
    waiting: list[threading.Thread] = []
    sleep = InFlight.sleep

    def noting_who_waits(inflight: InFlight, seconds: float) -> None:
        waiting.append(threading.current_thread())
        one_waits.set()
        sleep(inflight, seconds)

    def build(emu: Emulator) -> None:
        leads(1200)(emu)
        dispatch = emu.dispatch

        def refuse(req: Request) -> Response:
            page = req.param("page") if req.path.endswith("/leads.json") else None
            sent.append(page or req.path)
            if page == "2":
                page_2_asked.set()
                one_waits.wait(10)
                return json_response(400, {"error": "Invalid page"})
            if page and page != "1":
                page_2_asked.wait(10)  # all asked before a 429 pauses the account
                pages_3_to_5_asked.wait()
                return fault_response("429", retry_after=600)
            return dispatch(req)

        emu.dispatch = refuse  # type: ignore[method-assign]

    monkeypatch.setattr(InFlight, "sleep", noting_who_waits)
    started = time.monotonic()
    outcome = sync(build, WIDTH, {"leads"}, max_retries=5)
    failed_after = time.monotonic() - started
    requests_at_failure = len(sent)
    for thread in waiting:
        thread.join(timeout=5)

    assert outcome.result.error is not None and "Invalid page" in str(outcome.result.error)
    assert failed_after < 30
    assert waiting, "no request waited: the case tests nothing"
    assert not [t.name for t in waiting if t.is_alive()], "a request thread still waits after the run ended"
    assert len(sent) == requests_at_failure


# -- how many requests, from where -------------------------------------------------------------------


@pytest.mark.parametrize("width", [2, 4])
def test_no_more_requests_are_in_flight_than_max_concurrent_requests(sync, width: int) -> None:
    in_flight = peak = 0
    lock = threading.Lock()

    def build(emu: Emulator) -> None:
        nonlocal in_flight, peak
        agency(1, 30)(emu)
        dispatch = emu.dispatch

        def slow(req: Request) -> Response:
            nonlocal in_flight, peak
            with lock:
                in_flight += 1
                peak = max(peak, in_flight)
            try:
                time.sleep(0.05)
                return dispatch(req)
            finally:
                with lock:
                    in_flight -= 1

        emu.dispatch = slow  # type: ignore[method-assign]

    outcome = sync(build, width, PER_COMPANY)

    assert outcome.result.error is None
    assert peak == width


def test_one_request_at_a_time_sends_every_request_from_the_reading_thread(
    sync, monkeypatch: pytest.MonkeyPatch
) -> None:
    senders: set[str] = set()
    get = CallRailClient.get

    def recording(client: CallRailClient, request: ApiRequest, *, item_key: str | None) -> dict[str, Any]:
        if request.url.endswith("/calls.json"):
            senders.add(threading.current_thread().name.split("_")[0])
        return get(client, request, item_key=item_key)

    monkeypatch.setattr(CallRailClient, "get", recording)
    by_width = {}
    for width in (1, WIDTH):
        senders.clear()
        assert sync(calls(800), width, {"calls"}).result.error is None
        by_width[width] = set(senders)

    assert by_width == {1: {"MainThread"}, WIDTH: {"tap-callrail-inflight"}}


# -- the real command over HTTP ------------------------------------------------------------------------

TAP = str(Path(sys.executable).parent / "tap-callrail")


def test_the_cli_over_http_writes_the_same_records_and_state_concurrently_as_one_at_a_time(tmp_path: Path) -> None:
    emu = Emulator(seed=5, api_key=API_KEY, accounts=2, calls_per_account=1500, companies_per_account=10,
                   latency=0.01)
    url = emu.start(port=0)
    outputs, requests = [], []
    try:
        for width in (1, WIDTH):
            config = {"api_key": API_KEY, "api_url": url, "requests_per_hour": 0, "requests_per_day": 0,
                      "emit_activate_version_messages": True, "max_concurrent_requests": width}
            (tmp_path / f"config-{width}.json").write_text(json.dumps(config))
            out = tmp_path / f"out-{width}.jsonl"
            first = len(emu.requests)
            with out.open("wb") as stdout:
                proc = subprocess.run([TAP, "--config", str(tmp_path / f"config-{width}.json")], stdout=stdout,
                                      stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, timeout=300, check=False)
            assert proc.returncode == 0, proc.stderr[-3000:]
            outputs.append(out)
            requests.append(Counter((r["path"], _undated(r["query"])) for r in emu.requests[first:]))
    finally:
        emu.stop()

    assert sum(1 for line in outputs[0].read_text().splitlines() if '"RECORD"' in line) > 3000
    assert compare(outputs[0], outputs[1]) == 0  # RECORD and STATE in order, as compare_output compares them
    assert requests[1] == requests[0]


def _undated(query: dict[str, list[str]]) -> str:
    """The query without the date window, which ends at each run's own now (a minute may turn between runs)."""
    return json.dumps({k: v for k, v in query.items() if k not in ("start_date", "end_date")}, sort_keys=True)
