"""RateBudget: rolling hour/day limits per account, announced waits, bounded memory."""

from __future__ import annotations

import logging
import random
import threading
from bisect import bisect_right
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

import pytest

from tap_callrail.ratelimit import PROGRESS_INTERVAL_SECONDS, RateBudget

HOUR = 3600.0
DAY = 86400.0
# The fake wall clock reads 2026-11-27T02:00:00Z when the fake monotonic clock reads 0.
WALL_AT_ZERO = datetime(2026, 11, 27, 2, 0, 0, tzinfo=timezone.utc).timestamp()


class FakeTime:
    """A monotonic clock that only moves when the code under test sleeps (or a test says so)."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def clock(self) -> float:
        return self.now

    def wall(self) -> float:
        return WALL_AT_ZERO + self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def fake() -> FakeTime:
    return FakeTime()


def budget(fake: FakeTime, per_hour: int, per_day: int) -> RateBudget:
    return RateBudget(
        per_hour,
        per_day,
        clock=fake.clock,
        wall_clock=fake.wall,
        sleep=fake.sleep,
        logger=logging.getLogger("test.ratelimit"),
    )


def assert_window_bound(stamps: list[float], span: float, limit: int) -> None:
    """No rolling window (t - span, t] holds more than `limit` of the sorted stamps."""
    for i, t in enumerate(stamps):
        # A microsecond of tolerance for float rounding at the window edge.
        oldest_inside = bisect_right(stamps, t - span + 1e-6, 0, i + 1)
        assert i + 1 - oldest_inside <= limit, f"{i + 1 - oldest_inside} requests in {span} s"


def sent_at(fake: FakeTime, rate: RateBudget, account: str) -> float:
    rate.acquire(account)
    return fake.now


def test_fourth_request_in_an_hour_waits_until_the_first_leaves_the_window(fake):
    rate = budget(fake, per_hour=3, per_day=0)
    for _ in range(3):
        assert rate.acquire("ACC1") == 0.0
        fake.advance(10)

    waited = rate.acquire("ACC1")

    assert waited == pytest.approx(HOUR - 30)
    assert fake.now == pytest.approx(HOUR)
    assert sum(fake.sleeps) == pytest.approx(HOUR - 30)


def test_window_is_rolling_so_the_next_request_waits_for_the_second_stamp(fake):
    rate = budget(fake, per_hour=3, per_day=0)
    stamps = [sent_at(fake, rate, "ACC1")]
    fake.advance(10)
    stamps.append(sent_at(fake, rate, "ACC1"))
    fake.advance(10)
    stamps.append(sent_at(fake, rate, "ACC1"))
    stamps.append(sent_at(fake, rate, "ACC1"))  # waits for stamps[0] to leave

    stamps.append(sent_at(fake, rate, "ACC1"))  # waits for stamps[1] to leave

    assert stamps[3] == pytest.approx(stamps[0] + HOUR)
    assert stamps[4] == pytest.approx(stamps[1] + HOUR)


def test_streams_share_one_budget_per_account(fake):
    rate = budget(fake, per_hour=2, per_day=0)
    rate.acquire("ACC1")  # e.g. calls
    rate.acquire("ACC1")  # e.g. users, same account

    assert rate.acquire("ACC1") == pytest.approx(HOUR)  # e.g. tags


def test_accounts_do_not_share_a_budget(fake):
    rate = budget(fake, per_hour=2, per_day=0)
    for account in ("ACC1", "ACC2", "ACC3"):
        assert rate.acquire(account) == 0.0
        assert rate.acquire(account) == 0.0

    assert fake.sleeps == []
    assert rate.remaining("ACC1") == (0, None)
    assert rate.remaining("ACC4") == (2, None)


def test_rolling_day_bound_waits_until_the_oldest_request_of_the_day_expires(fake):
    rate = budget(fake, per_hour=0, per_day=5)
    first = sent_at(fake, rate, "ACC1")
    for _ in range(4):
        fake.advance(HOUR)
        rate.acquire("ACC1")

    sixth = sent_at(fake, rate, "ACC1")

    assert sixth == pytest.approx(first + DAY)
    assert rate.remaining("ACC1") == (None, 0)


def test_hour_and_day_limits_apply_together(fake):
    rate = budget(fake, per_hour=2, per_day=3)
    stamps = [sent_at(fake, rate, "ACC1") for _ in range(4)]

    assert stamps[:2] == [0.0, 0.0]
    assert stamps[2] == pytest.approx(HOUR)  # the hour was full
    assert stamps[3] == pytest.approx(DAY)  # the day was full


def test_bursts_across_accounts_never_exceed_either_rolling_window(fake):
    per_hour, per_day = 5, 12
    rate = budget(fake, per_hour=per_hour, per_day=per_day)
    rng = random.Random(20261127)
    sent: dict[str, list[float]] = {"ACC1": [], "ACC2": [], "ACC3": []}

    for _ in range(400):
        fake.advance(rng.choice([0, 0, 0, 1, 30, 600, 5000]))
        account = rng.choice(list(sent))
        sent[account].append(sent_at(fake, rate, account))

    for stamps in sent.values():
        assert_window_bound(stamps, HOUR, per_hour)
        assert_window_bound(stamps, DAY, per_day)
    assert sum(len(stamps) for stamps in sent.values()) == 400


def test_concurrent_streams_never_exceed_the_hour(fake):
    # Each thread remembers the last clock value it read: the instant acquire() recorded.
    last_read = threading.local()

    def clock() -> float:
        last_read.value = fake.clock()
        return last_read.value

    rate = RateBudget(4, 0, clock=clock, wall_clock=fake.wall, sleep=fake.sleep)
    stamps: list[float] = []
    lock = threading.Lock()

    def stream() -> None:
        for _ in range(3):
            rate.acquire("ACC1")
            with lock:
                stamps.append(last_read.value)

    threads = [threading.Thread(target=stream) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=5)

    assert len(stamps) == 12
    assert_window_bound(sorted(stamps), HOUR, 4)


def test_wait_is_announced_with_reason_limit_and_resume_time(fake, caplog):
    caplog.set_level(logging.INFO, logger="test.ratelimit")
    rate = budget(fake, per_hour=3, per_day=0)
    for _ in range(3):
        rate.acquire("ACC123")
    fake.advance(HOUR - 312)

    rate.acquire("ACC123")

    first = caplog.records[0].getMessage()
    assert first == (
        "Rate budget: 3 requests to account ACC123 in the last hour "
        "(limit requests_per_hour=3); waiting 312 s, resuming at 2026-11-27T03:00:00Z"
    )


def test_long_wait_logs_progress_at_least_every_minute(fake, caplog):
    caplog.set_level(logging.INFO, logger="test.ratelimit")
    rate = budget(fake, per_hour=1, per_day=0)
    rate.acquire("ACC1")
    fake.advance(HOUR - 200)

    rate.acquire("ACC1")

    assert fake.sleeps == [60, 60, 60, 20]
    assert all(s <= PROGRESS_INTERVAL_SECONDS for s in fake.sleeps)
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == len(fake.sleeps)  # one line before each sleep
    assert "waiting 200 s" in messages[0]
    assert messages[1] == (
        "Rate budget: still waiting for account ACC1 (limit requests_per_hour=1); "
        "140 s left, resuming at 2026-11-27T03:00:00Z"
    )
    assert "20 s left" in messages[-1]


def test_short_wait_logs_one_line(fake, caplog):
    caplog.set_level(logging.INFO, logger="test.ratelimit")
    rate = budget(fake, per_hour=1, per_day=0)
    rate.acquire("ACC1")
    fake.advance(HOUR - 2.5)

    assert rate.acquire("ACC1") == pytest.approx(2.5)

    assert len(caplog.records) == 1
    assert "waiting 2.5 s" in caplog.records[0].getMessage()


def test_unlimited_never_waits_and_keeps_no_stamps(fake, caplog):
    caplog.set_level(logging.INFO, logger="test.ratelimit")
    rate = budget(fake, per_hour=0, per_day=0)

    for _ in range(20_000):
        assert rate.acquire("ACC1") == 0.0

    assert fake.sleeps == []
    assert caplog.records == []
    assert rate.remaining("ACC1") == (None, None)
    assert rate.waits == {"ACC1": 0}
    assert not any(rate._accounts["ACC1"].stamps.values())  # memory: nothing recorded


def test_memory_stays_bounded_by_the_limits(fake):
    rate = budget(fake, per_hour=50, per_day=200)
    for _ in range(5_000):
        rate.acquire("ACC1")
        fake.advance(7)

    # Internal check: the ledger never holds more stamps than the limits allow.
    lengths = sorted(len(stamps) for stamps in rate._accounts["ACC1"].stamps.values())
    assert lengths[0] <= 50 and lengths[1] <= 200


def test_waits_and_waited_seconds_are_reported_per_account(fake):
    rate = budget(fake, per_hour=1, per_day=0)
    rate.acquire("ACC1")
    rate.acquire("ACC1")  # waits an hour
    rate.acquire("ACC2")

    assert rate.waits == {"ACC1": 1, "ACC2": 0}
    assert rate.waited_seconds == {"ACC1": pytest.approx(HOUR), "ACC2": 0.0}


def test_remaining_counts_down_and_recovers_as_the_window_rolls(fake):
    rate = budget(fake, per_hour=3, per_day=10)
    rate.acquire("ACC1")
    fake.advance(1800)
    rate.acquire("ACC1")

    assert rate.remaining("ACC1") == (1, 8)
    fake.advance(1800)
    assert rate.remaining("ACC1") == (2, 8)


@pytest.mark.parametrize(("per_hour", "per_day"), [(-1, 0), (0, -5)])
def test_negative_limits_are_rejected(per_hour, per_day):
    with pytest.raises(ValueError, match="must be 0 \\(unlimited\\) or a positive number"):
        RateBudget(per_hour, per_day)


# -- a 429 pauses the whole account ------------------------------------------------------------


def test_a_429_pause_holds_the_next_request_of_that_account_until_it_ends_and_no_other_account(fake):
    rate = budget(fake, per_hour=0, per_day=0)
    rate.pause("ACC1", 30)

    assert rate.acquire("ACC2") == 0.0
    assert rate.acquire("ACC1") == 30.0
    assert fake.now == 30
    assert rate.acquire("ACC1") == 0.0
    assert rate.acquire("ACC1", heed_pause=False) == 0.0


def test_a_429_pause_holds_every_worker_of_that_account_and_says_so_in_one_line(fake, caplog):
    caplog.set_level(logging.INFO, logger="test.ratelimit")
    workers = 4
    # The fake clock moves once every worker sleeps, by the pause: all of them were held together.
    together = threading.Barrier(workers, action=lambda: fake.advance(30), timeout=5)

    def sleep(seconds: float) -> None:
        fake.sleeps.append(seconds)
        together.wait()

    log = logging.getLogger("test.ratelimit")
    rate = RateBudget(0, 0, clock=fake.clock, wall_clock=fake.wall, sleep=sleep, logger=log)
    rate.pause("ACC1", 30)

    with ThreadPoolExecutor(workers) as pool:
        waited = list(pool.map(lambda _: rate.acquire("ACC1"), range(workers)))

    assert waited == [30.0] * workers
    assert fake.sleeps == [30.0] * workers
    assert [r.getMessage() for r in caplog.records] == [
        "Rate budget: CallRail answered 429 for account ACC1; its requests wait 30 s, resuming at 2026-11-27T02:00:30Z"
    ]


def test_a_shorter_429_pause_never_cuts_a_longer_one_short(fake, caplog):
    caplog.set_level(logging.INFO, logger="test.ratelimit")
    rate = budget(fake, per_hour=0, per_day=0)
    rate.pause("ACC1", 30)
    fake.advance(5)
    rate.pause("ACC1", 10)

    assert rate.acquire("ACC1") == 25.0
    rate.pause("ACC1", 60)
    assert rate.acquire("ACC1") == 60.0
    assert len(caplog.records) == 2  # each pause said once
