"""RetryPolicy: which CallRail failures are retried, how long the tap waits, how it gives up."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any

import pytest
import requests

from tap_callrail.api import CallRailClient, ForbiddenError
from tap_callrail.errors import CallRailError
from tap_callrail.ratelimit import RateBudget
from tap_callrail.retry import (
    Answer,
    CallRailAnswerError,
    CallRailRequestFailed,
    CallRailWaitTooLong,
    RetryPolicy,
    backoff_seconds,
    callrail_error_text,
    parse_retry_after,
)

API_KEY = "0123456789abcdef0123456789abcdef"
BASE = "https://api.callrail.com/v3"
CALLS_URL = f"{BASE}/a/ACC123/calls.json"
NOW = datetime(2026, 11, 27, 3, 0, 0, tzinfo=timezone.utc)
PAGE = {"page": 1, "per_page": 250, "total_pages": 1, "total_records": 1, "calls": [{"id": "CAL1"}]}
LOGGER = "test.retry"


def make_policy(sleeps: list[float], **overrides: Any) -> RetryPolicy:
    settings: dict[str, Any] = {"max_retries": 5, "backoff_max_seconds": 60}
    settings.update(overrides)
    return RetryPolicy(
        settings.pop("max_retries"),
        settings.pop("backoff_max_seconds"),
        sleep=sleeps.append,
        now=lambda: NOW,
        logger=logging.getLogger(LOGGER),
        secrets=[API_KEY],
        **settings,
    )


def unlimited_budget() -> RateBudget:
    """No limit, on a clock that moves only when the budget waits (a 429's pause takes no real time)."""
    clock = [0.0]
    return RateBudget(0, 0, clock=lambda: clock[0], sleep=lambda seconds: clock.append(clock.pop() + seconds))


def fetch(
    policy: RetryPolicy, stream: str = "calls", budget: RateBudget | None = None, observer: Any = None
) -> dict[str, Any]:
    """Page 2 of ACC123's calls through the tap's CallRail client, retried by `policy`."""
    client = CallRailClient(
        api_url=BASE, api_key=API_KEY, retry=policy, budget=budget or unlimited_budget(), observer=observer
    )
    query = "page=2&per_page=250&start_date=2026-11-01T00%3A00"
    request = client.request("/a/ACC123/calls.json", query, stream=stream, account_id="ACC123", label=stream)
    return client.get(request, item_key="calls")


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO, logger=LOGGER)
    return caplog


# -- what is retried, and how long the tap waits --------------------------------------


def test_429_with_retry_after_seconds_waits_exactly_that_long(requests_mock, sleeps):
    requests_mock.get(
        CALLS_URL, [{"status_code": 429, "headers": {"Retry-After": "7"}}, {"json": PAGE}]
    )

    response = fetch(make_policy(sleeps))

    assert response== PAGE
    assert sleeps == [7.0]
    assert requests_mock.call_count == 2


def test_429_with_http_date_retry_after_waits_until_that_instant(requests_mock, sleeps):
    resume = format_datetime(NOW + timedelta(seconds=42), usegmt=True)
    assert resume == "Fri, 27 Nov 2026 03:00:42 GMT"
    requests_mock.get(
        CALLS_URL, [{"status_code": 429, "headers": {"Retry-After": resume}}, {"json": PAGE}]
    )

    fetch(make_policy(sleeps))

    assert sleeps == [42.0]


def test_429_without_retry_after_backs_off_exponentially_up_to_the_cap(requests_mock, sleeps):
    requests_mock.get(CALLS_URL, [{"status_code": 429}] * 5 + [{"json": PAGE}])

    fetch(make_policy(sleeps, backoff_max_seconds=5))

    assert sleeps == [1, 2, 4, 5, 5]


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_retried(requests_mock, sleeps, status):
    requests_mock.get(CALLS_URL, [{"status_code": status, "text": "oops"}, {"json": PAGE}])

    assert fetch(make_policy(sleeps))== PAGE
    assert sleeps == [1]


def test_503_with_retry_after_is_honoured(requests_mock, sleeps):
    requests_mock.get(
        CALLS_URL, [{"status_code": 503, "headers": {"Retry-After": "30"}}, {"json": PAGE}]
    )

    fetch(make_policy(sleeps))

    assert sleeps == [30]


@pytest.mark.parametrize(
    "fault",
    [
        requests.exceptions.ConnectionError("Connection aborted: connection reset by peer"),
        requests.exceptions.ReadTimeout("Read timed out. (read timeout=300)"),
        requests.exceptions.ConnectTimeout("Connect timed out"),
        requests.exceptions.ChunkedEncodingError("Connection broken: IncompleteRead"),
        ConnectionResetError(104, "Connection reset by peer"),
    ],
    ids=lambda exc: type(exc).__name__,
)
def test_dropped_and_timed_out_connections_are_retried(requests_mock, sleeps, fault):
    requests_mock.get(CALLS_URL, [{"exc": fault}, {"exc": fault}, {"json": PAGE}])

    assert fetch(make_policy(sleeps))== PAGE
    assert sleeps == [1, 2]


def test_200_with_a_body_that_is_not_json_is_retried(requests_mock, sleeps, log):
    requests_mock.get(
        CALLS_URL, [{"text": "<html><body>Bad gateway</body></html>"}, {"json": PAGE}]
    )

    assert fetch(make_policy(sleeps))== PAGE
    assert sleeps == [1]
    assert "HTTP 200 with a body that is not JSON (Bad gateway)" in log.records[0].getMessage()


@pytest.mark.parametrize("status", [400, 401, 403, 404, 406, 422, 501])
def test_other_answers_are_not_retried(requests_mock, sleeps, status):
    requests_mock.get(CALLS_URL, status_code=status, json={"error": "nope"})

    with pytest.raises((CallRailError, ForbiddenError)) as raised:
        fetch(make_policy(sleeps))

    assert not isinstance(raised.value, CallRailRequestFailed)
    assert requests_mock.call_count == 1
    assert sleeps == []


def test_retry_after_longer_than_the_backoff_cap_is_waited_as_asked_in_one_line(requests_mock, sleeps, log):
    requests_mock.get(
        CALLS_URL, [{"status_code": 429, "headers": {"Retry-After": "150"}}, {"json": PAGE}]
    )

    fetch(make_policy(sleeps, backoff_max_seconds=60))

    assert sleeps == [150]
    [message] = [r.getMessage() for r in log.records]
    assert message.endswith("retry 1 of 5 in 150 s (Retry-After: 150)")


@pytest.mark.parametrize(
    ("retry_after", "words"),
    [
        ("999999999", ("11,574 days", "Retry-After: 999999999", "max_wait_seconds=3600", "run again after 2058-")),
        ("Fri, 31 Dec 9999 23:59:59 GMT", ("days", "max_wait_seconds=3600", "run again after")),
    ],
)
def test_a_wait_longer_than_max_wait_seconds_ends_the_run_at_once_in_one_line(
    requests_mock, sleeps, log, retry_after, words
):
    requests_mock.get(CALLS_URL, status_code=429, headers={"Retry-After": retry_after})

    with pytest.raises(CallRailWaitTooLong) as raised:
        fetch(make_policy(sleeps))

    assert sleeps == [] and requests_mock.call_count == 1
    assert all(word in str(raised.value) for word in words), str(raised.value)
    assert "stream 'calls', account ACC123" in str(raised.value) and "\n" not in str(raised.value)
    assert isinstance(raised.value, CallRailError)


def test_each_retry_is_logged_with_stream_account_path_and_status(requests_mock, sleeps, log):
    requests_mock.get(
        CALLS_URL,
        [
            {"status_code": 429, "json": {"error": "The User or Agency has sent too many requests"}},
            {"json": PAGE},
        ],
    )

    fetch(make_policy(sleeps))

    [record] = log.records
    assert record.levelno == logging.WARNING
    assert record.getMessage() == (
        "Retrying stream 'calls', account ACC123, GET /v3/a/ACC123/calls.json after HTTP 429 "
        "(The User or Agency has sent too many requests): retry 1 of 5 in 1 s "
        "(exponential backoff, capped at backoff_max_seconds=60)"
    )


def test_logs_never_show_the_api_key_or_the_query_string(requests_mock, sleeps, log):
    echo = f'Unauthorized header Authorization: Token token="{API_KEY}" on {CALLS_URL}?page=2'
    requests_mock.get(CALLS_URL, [{"status_code": 500, "text": echo}, {"json": PAGE}])

    fetch(make_policy(sleeps))

    text = log.text
    assert API_KEY not in text
    assert "page=2" not in text
    assert 'Token token=***' in text


def test_max_retries_zero_tries_once(requests_mock, sleeps):
    requests_mock.get(CALLS_URL, status_code=503)

    with pytest.raises(CallRailRequestFailed):
        fetch(make_policy(sleeps, max_retries=0))

    assert requests_mock.call_count == 1
    assert sleeps == []


# -- giving up ---------------------------------------------------------------------


def test_gives_up_after_max_retries_with_one_clear_line(requests_mock, sleeps):
    requests_mock.get(CALLS_URL, status_code=503, json={"error": "We are down for maintenance"})

    with pytest.raises(CallRailRequestFailed) as raised:
        fetch(make_policy(sleeps, max_retries=2))

    error = raised.value
    assert str(error) == (
        "CallRail request failed after 3 attempts (max_retries=2): stream 'calls', "
        "account ACC123, GET /v3/a/ACC123/calls.json: HTTP 503: We are down for maintenance"
    )
    assert isinstance(error, CallRailError)  # the tap reports it as one line, exit code 1
    assert isinstance(error.__cause__, CallRailAnswerError)
    assert (error.status, error.attempts, error.target.account_id) == (503, 3, "ACC123")
    assert requests_mock.call_count == 3
    assert sleeps == [1, 2]


def test_giving_up_on_429_says_which_settings_to_change(requests_mock, sleeps):
    requests_mock.get(CALLS_URL, status_code=429, text="Too many requests")

    with pytest.raises(CallRailRequestFailed) as raised:
        fetch(make_policy(sleeps, max_retries=1))

    assert str(raised.value).endswith(
        "HTTP 429: Too many requests (rate limited: lower requests_per_hour/requests_per_day, "
        "or raise max_retries/backoff_max_seconds)"
    )


def test_giving_up_on_a_dead_connection_names_the_cause(requests_mock, sleeps):
    refused = requests.exceptions.ConnectionError(
        "HTTPSConnectionPool(host='api.callrail.com', port=443): Max retries exceeded with "
        "url: /v3/a/ACC123/calls.json?page=2&per_page=250 (Caused by NewConnectionError("
        "'<urllib3.connection.HTTPSConnection object at 0x7f>: Failed to establish a new "
        "connection: [Errno 111] Connection refused'))"
    )
    requests_mock.get(CALLS_URL, exc=refused)

    with pytest.raises(CallRailRequestFailed) as raised:
        fetch(make_policy(sleeps, max_retries=1))

    message = str(raised.value)
    assert message.startswith(
        "CallRail request failed after 2 attempts (max_retries=1): stream 'calls', "
        "account ACC123, GET /v3/a/ACC123/calls.json: ConnectionError: HTTPSConnectionPool"
    )
    assert "Connection refused" in message
    assert "per_page" not in message
    assert raised.value.status is None


def test_giving_up_never_shows_the_api_key(requests_mock, sleeps):
    requests_mock.get(CALLS_URL, status_code=500, json={"error": f"bad key {API_KEY}"})

    with pytest.raises(CallRailRequestFailed) as raised:
        fetch(make_policy(sleeps, max_retries=1))

    assert API_KEY not in str(raised.value)
    assert "bad key ***" in str(raised.value)
    assert "\n" not in str(raised.value)


# -- hooks for client.py: rate budget and sync report -----------------------------------


def test_every_attempt_takes_a_slot_from_the_rate_budget(requests_mock, sleeps):
    requests_mock.get(CALLS_URL, [{"status_code": 500}, {"json": PAGE}])
    budget = RateBudget(1000, 0, sleep=sleeps.append)

    fetch(make_policy(sleeps), budget=budget)

    assert budget.remaining("ACC123") == (998, None)


def test_streams_of_one_account_share_the_rate_budget(requests_mock):
    requests_mock.get(CALLS_URL, json=PAGE)
    clock = {"now": 0.0}
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        clock["now"] += seconds

    budget = RateBudget(2, 0, clock=lambda: clock["now"], sleep=sleep)
    policy = make_policy(sleeps)

    for stream in ("calls", "users", "tags"):
        fetch(policy, stream=stream, budget=budget)

    assert sum(sleeps) == pytest.approx(3600)  # the third stream waited for the hour
    assert budget.waits == {"ACC123": 1}


def test_a_429_holds_the_other_requests_of_that_account_for_its_retry_after(requests_mock):
    # While the request that got the 429 waits to retry, another request of the account and one of
    # another account start: only the first is held, as long as Retry-After asks.
    requests_mock.get(CALLS_URL, [{"status_code": 429, "headers": {"Retry-After": "7"}}, {"json": PAGE}])
    clock = {"now": 0.0}
    budget = RateBudget(0, 0, clock=lambda: clock["now"], sleep=lambda s: clock.update(now=clock["now"] + s))
    held: dict[str, float] = {}

    def retry_wait(seconds: float) -> None:
        held["same account"] = budget.acquire("ACC123")
        held["other account"] = budget.acquire("ACC999")

    policy = RetryPolicy(5, 60, sleep=retry_wait, now=lambda: NOW, logger=logging.getLogger(LOGGER))

    assert fetch(policy, budget=budget) == PAGE
    assert held == {"same account": 7.0, "other account": 0.0}


def test_the_request_that_got_the_429_is_not_held_again_by_its_own_pause(requests_mock, sleeps):
    requests_mock.get(CALLS_URL, [{"status_code": 429, "headers": {"Retry-After": "7"}}, {"json": PAGE}])
    budget = unlimited_budget()

    fetch(make_policy(sleeps), budget=budget)

    assert sleeps == [7.0]  # the retry policy's wait, and no other
    assert budget.waits == {"ACC123": 0}


class _Observer:
    """What the client reports of each attempt, as the sync report receives it."""

    def __init__(self) -> None:
        self.attempts: list[tuple[str, bool, int | None]] = []
        self.rate_limits: list[str] = []

    def attempt(self, target, retry, status, waited):  # type: ignore[no-untyped-def]
        self.attempts.append((target.stream, retry, status))

    def rate_limited(self, target):  # type: ignore[no-untyped-def]
        self.rate_limits.append(target.stream)


def test_retries_and_429s_are_reported_per_stream(requests_mock, sleeps):
    requests_mock.get(
        CALLS_URL,
        [{"status_code": 429, "headers": {"Retry-After": "3"}}, {"status_code": 502},
         {"json": PAGE}],
    )
    policy = make_policy(sleeps)
    observer = _Observer()

    fetch(policy, stream="calls", observer=observer)
    requests_mock.get(CALLS_URL, status_code=503)
    with pytest.raises(CallRailRequestFailed):
        fetch(policy, stream="tags", observer=observer)

    assert observer.attempts == [
        ("calls", False, None), ("calls", True, 429), ("calls", True, 502),
        ("tags", False, None), *[("tags", True, 503)] * 5,
    ]
    assert observer.rate_limits == ["calls"]
    assert sleeps == [3, 2, 1, 2, 4, 8, 16]


def test_jitter_function_reshapes_the_exponential_wait(requests_mock, sleeps):
    requests_mock.get(CALLS_URL, [{"status_code": 500}] * 2 + [{"json": PAGE}])

    fetch(make_policy(sleeps, jitter=lambda wait: wait / 2))

    assert sleeps == [0.5, 1.0]


# -- helpers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        (" 5 ", 5.0),
        ("0", 0.0),
        ("1.5", 1.5),
        ("-5", 0.0),
        ("Fri, 27 Nov 2026 03:01:00 GMT", 60.0),
        ("Fri, 27 Nov 2026 02:59:00 GMT", 0.0),
        ("Friday, 27-Nov-26 03:00:30 GMT", 30.0),
        (None, None),
        ("", None),
        ("soon", None),
        ("nan", None),
        ("inf", None),
        ("Fri, 99 Nov 2026 03:01:00 GMT", None),
    ],
)
def test_parse_retry_after(value, seconds):
    assert parse_retry_after(value, NOW) == seconds


def test_parse_retry_after_treats_a_naive_now_as_utc():
    assert parse_retry_after("Fri, 27 Nov 2026 03:00:10 GMT", NOW.replace(tzinfo=None)) == 10


def test_backoff_seconds_doubles_from_base_and_stops_at_the_cap():
    waits = [backoff_seconds(attempt, cap=60) for attempt in range(1, 9)]

    assert waits == [1, 2, 4, 8, 16, 32, 60, 60]
    assert backoff_seconds(3, cap=60, base=0.5) == 2
    assert backoff_seconds(10_000, cap=60) == 60


def test_backoff_seconds_keeps_jitter_within_zero_and_the_cap():
    assert backoff_seconds(2, cap=60, jitter=lambda w: w + 0.25) == 2.25
    assert backoff_seconds(7, cap=60, jitter=lambda w: w * 2) == 60
    assert backoff_seconds(1, cap=60, jitter=lambda w: -w) == 0


def test_backoff_seconds_counts_retries_from_one():
    with pytest.raises(ValueError, match="from 1"):
        backoff_seconds(0, cap=60)


def response(status: int, body: bytes = b"", content_type: str = "application/json") -> Answer:
    return Answer(status, "", {"Content-Type": content_type}, body)


@pytest.mark.parametrize(
    ("body", "text"),
    [
        (b'{"error": "You must have at least one active company."}',
         "You must have at least one active company."),
        (b'{"error": {"fields": ["bogus"]}}', '{"fields":["bogus"]}'),
        (b"<html><h1>502 Bad Gateway</h1>\n<p>nginx</p></html>", "502 Bad Gateway nginx"),
        (b"HTTP Token: Access denied.\n", "HTTP Token: Access denied."),
        (b"", "Service Unavailable"),
    ],
)
def test_callrail_error_text_prefers_the_json_error_value(body, text):
    assert callrail_error_text(response(503, body)) == text


def test_callrail_error_text_truncates_long_bodies():
    text = callrail_error_text(response(500, b"x" * 5000, "text/plain"))

    assert len(text) == 200
    assert text.endswith("...")


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"max_retries": -1}, "max_retries must be 0 or more"),
        ({"backoff_max_seconds": 0}, "backoff_max_seconds must be more than 0"),
    ],
)
def test_policy_rejects_impossible_settings(settings, message):
    with pytest.raises(ValueError, match=message):
        make_policy([], **settings)
