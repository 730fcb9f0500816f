"""Offset pagination: every page once, `per_page=250`, and never a request past the last page."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import requests
import requests_mock as rm

from callrail_emulator import Emulator
from tap_callrail.schemas import OPTIONAL_FIELDS, SCHEMAS
from tests.callrail import base_config, make_call, populate, run_sync, sent

FIRST_CALL = datetime(2026, 11, 10, tzinfo=timezone.utc)


def _add_calls(fake: Emulator, count: int) -> None:
    fake.add_account("ACC01")
    fake.put(
        "calls",
        "ACC01",
        [
            make_call(i, "COM01A", (FIRST_CALL + timedelta(minutes=i)).strftime("%Y-%m-%dT%H:%M:%SZ"), id=f"CAL{i:04d}")
            for i in range(count)
        ],
    )


def _add_leads(fake: Emulator, count: int) -> None:
    fake.add_account("ACC01")
    fake.put("leads", "ACC01", [{"id": f"PER{i:04d}", "company_id": "COM01A"} for i in range(count)])


def _pages(fake: Emulator, stream: str) -> list[int]:
    return [int(r.params["page"]) for r in sent(fake, stream)]


def test_calls_reads_every_page_once_and_stops_on_total_pages(fake: Emulator) -> None:
    _add_calls(fake, 600)

    result = run_sync(base_config(), streams={"calls"})

    assert sorted(_pages(fake, "calls")) == [1, 2, 3]  # pages 2 and 3 are in flight together
    ids = [r["id"] for r in result.records("calls")]
    assert len(ids) == 600
    assert len(set(ids)) == 600


def test_full_last_page_is_not_followed_by_a_request_for_the_empty_page(fake: Emulator) -> None:
    _add_calls(fake, 500)

    result = run_sync(base_config(), streams={"calls"})

    assert _pages(fake, "calls") == [1, 2]
    assert len(result.records("calls")) == 500


def test_single_page_stream_makes_one_request(fake: Emulator) -> None:
    _add_leads(fake, 3)

    result = run_sync(base_config(), streams={"leads"})

    assert _pages(fake, "leads") == [1]
    assert len(result.records("leads")) == 3


def test_without_total_pages_a_short_page_ends_the_series(fake: Emulator) -> None:
    fake.set_paging(total_pages=False)
    _add_leads(fake, 300)

    result = run_sync(base_config(), streams={"leads"})

    assert _pages(fake, "leads") == [1, 2]
    assert len({r["id"] for r in result.records("leads")}) == 300


def test_without_total_pages_total_records_ends_a_full_last_page_without_the_empty_page(fake: Emulator) -> None:
    fake.set_paging(total_pages=False)
    _add_leads(fake, 250)

    result = run_sync(base_config(), streams={"leads"})

    assert _pages(fake, "leads") == [1]
    assert len(result.records("leads")) == 250


def test_without_any_count_a_full_last_page_ends_on_the_empty_page_after_it(fake: Emulator) -> None:
    fake.set_paging(total_pages=False, total_records=False)
    _add_leads(fake, 250)

    result = run_sync(base_config(), streams={"leads"})

    assert _pages(fake, "leads") == [1, 2]
    assert len(result.records("leads")) == 250


def test_many_small_pages_follow_total_pages_not_the_page_size(fake: Emulator) -> None:
    # CallRail may serve fewer items than asked for; total_pages is what counts.
    fake.set_paging(page_size=2)
    _add_leads(fake, 7)

    result = run_sync(base_config(), streams={"leads"})

    assert _pages(fake, "leads") == [1, 2, 3, 4]
    assert sorted(r["id"] for r in result.records("leads")) == [f"PER{i:04d}" for i in range(7)]


def test_every_list_request_asks_for_250_per_page_and_thread_messages_for_100(fake: Emulator) -> None:
    fake.set_paging(page_size=2)
    populate(fake)

    run_sync(base_config(), streams=set(SCHEMAS))

    messages = sent(fake, "sms_thread_messages")
    assert messages and all(r.params.get("per_page") == "100" for r in messages)
    # Daily counts are one answer per window of at most 200 days, not pages.
    list_requests = [r for r in sent(fake) if r.stream not in ("account", "sms_thread_messages", "calls_timeseries")]
    assert {r.stream for r in list_requests} >= set(SCHEMAS) - {"sms_thread_messages", "calls_timeseries"}
    assert all(r.params.get("per_page") == "250" for r in list_requests), [
        (r.path, r.params) for r in list_requests if r.params.get("per_page") != "250"
    ]
    assert all("page" in r.params for r in list_requests)


def test_page_urls_carry_the_parameters_and_each_page_number(fake: Emulator, requests_mock: rm.Mocker) -> None:
    # The query is encoded once per series and each page number appended; `fields=` keeps its
    # commas literal, as CallRail documents it, and nothing else in the URL needs quoting.
    _add_calls(fake, 600)

    run_sync(base_config(), streams={"calls"})

    urls = [request.url for request in requests_mock.request_history if "/calls.json" in request.url]
    urls.sort(key=lambda url: int(parse_qs(urlsplit(url).query)["page"][0]))  # sent in any order
    assert len(urls) == 3
    first = parse_qs(urlsplit(urls[0]).query, keep_blank_values=True)
    for number, url in enumerate(urls, start=1):
        query = url.split("?", 1)[1]
        assert query.endswith(f"&page={number}")
        params = parse_qs(query, keep_blank_values=True)
        assert params == {**first, "page": [str(number)]}
        assert "%2C" not in query and set(params["fields"][0].split(",")) == OPTIONAL_FIELDS["calls"]
        assert url == requests.Request("GET", url).prepare().url  # already in requests' own form
        assert params["per_page"] == ["250"] and params["sort"] == ["start_time"]
