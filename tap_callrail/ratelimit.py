"""Client-side rate budget that keeps each account inside CallRail's request limits.

CallRail allows 1,000 requests per hour and 10,000 per day per account, for all read
endpoints together, and only signals the limit with a 429 that carries no documented
Retry-After. Being throttled mid-backfill costs far more than
pacing ourselves, so every request of a run (all streams, retries included) first
takes a slot from its account's budget here.

The windows are rolling, not clock-aligned: a request made at t counts against the
hour until t + 3600 s and against the day until t + 86400 s. The budget lives for one
run only; a run started right after another can still meet a 429, which the retry
policy (retry.py) handles. A 429 answers for the whole account, so with requests in
flight (inflight.py) it pauses every request of that account (`pause`), not only the
one that got it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

# Long waits are split so that a user watching the log sees a line at least this often.
PROGRESS_INTERVAL_SECONDS = 60.0

# Float arithmetic on "first stamp + window" can land a hair short of the instant the
# stamp leaves the window; a microsecond of slack keeps a fake clock from spinning.
_SLACK_SECONDS = 1e-6


@dataclass(frozen=True)
class _Window:
    setting: str
    name: str
    seconds: float
    limit: int


@dataclass
class _Account:
    # One deque per limited window, oldest request first; each holds at most `limit` stamps.
    stamps: dict[_Window, deque[float]]
    waits: int = 0
    waited_seconds: float = 0.0
    # No request starts before this instant (after a 429); the first one held says so.
    paused_until: float = float("-inf")
    pause_announced: bool = True


@dataclass(frozen=True)
class _Verdict:
    wait: float
    window: _Window | None = None  # None: a pause after a 429
    used: int = 0


class RateBudget:
    """Per-account budget of requests per rolling hour and per rolling day.

    ``per_hour`` / ``per_day`` are the tap settings ``requests_per_hour`` /
    ``requests_per_day``; 0 means unlimited. ``clock`` measures the windows (monotonic),
    ``wall_clock`` only dates the "resuming at" log lines. Thread-safe: one lock guards
    the ledgers, and it is never held while sleeping.
    """

    def __init__(
        self,
        per_hour: int,
        per_day: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        logger: logging.Logger | None = None,
    ) -> None:
        for setting, value in (("requests_per_hour", per_hour), ("requests_per_day", per_day)):
            if value < 0:
                raise ValueError(f"{setting} must be 0 (unlimited) or a positive number")
        self.per_hour = per_hour
        self.per_day = per_day
        self._windows = tuple(
            window
            for window in (
                _Window("requests_per_hour", "hour", 3600.0, per_hour),
                _Window("requests_per_day", "day", 86400.0, per_day),
            )
            if window.limit > 0
        )
        self._clock = clock
        self._wall_clock = wall_clock
        self._sleep = sleep
        self._log = logger or logging.getLogger(__name__)
        self._lock = threading.Lock()
        self._accounts: dict[str, _Account] = {}

    def acquire(self, account_id: str, *, heed_pause: bool = True) -> float:
        """Block until ``account_id`` may send a request, record it, return seconds waited.

        ``heed_pause=False``: the retry of the request that got the 429 has waited it out already.
        """
        started = self._clock()
        slept = announced = False
        while True:
            with self._lock:
                account = self._account(account_id)
                now = self._clock()
                verdict = self._verdict(account, now, heed_pause)
                if verdict.wait <= 0:
                    for stamps in account.stamps.values():
                        stamps.append(now)
                    waited = now - started if slept else 0.0
                    if slept:
                        account.waits += 1
                        account.waited_seconds += waited
                    return waited
                held = verdict.window is None and not account.pause_announced
                account.pause_announced |= held
            if verdict.window is not None:
                self._announce(account_id, verdict, first=not announced)
                announced = True
            elif held:
                self._announce_pause(account_id, verdict.wait)
            slept = True
            self._sleep(min(verdict.wait, PROGRESS_INTERVAL_SECONDS))

    def pause(self, account_id: str, seconds: float) -> None:
        """CallRail answered 429 asking for `seconds`: no request of the account starts before then.

        The request that got the 429 waits as long anyway (retry.RetryPolicy) and then acquires
        with ``heed_pause=False``; this holds the account's other requests in flight too. The
        first request held says so, in one line.
        """
        with self._lock:
            account = self._account(account_id)
            until = self._clock() + seconds
            if until > account.paused_until:
                account.paused_until = until
                account.pause_announced = False

    def remaining(self, account_id: str) -> tuple[int | None, int | None]:
        """Requests ``account_id`` may still send now: (this hour, this day); None = unlimited."""
        with self._lock:
            account = self._account(account_id)
            self._evict(account, self._clock())
            left = {w.name: w.limit - len(s) for w, s in account.stamps.items()}
        return left.get("hour"), left.get("day")

    @property
    def waits(self) -> dict[str, int]:
        """How many requests had to wait for the budget, per account."""
        with self._lock:
            return {acc: ledger.waits for acc, ledger in self._accounts.items()}

    @property
    def waited_seconds(self) -> dict[str, float]:
        """Total seconds spent waiting for the budget, per account."""
        with self._lock:
            return {acc: ledger.waited_seconds for acc, ledger in self._accounts.items()}

    def _account(self, account_id: str) -> _Account:
        account = self._accounts.get(account_id)
        if account is None:
            account = _Account({w: deque(maxlen=w.limit) for w in self._windows})
            self._accounts[account_id] = account
        return account

    @staticmethod
    def _evict(account: _Account, now: float) -> None:
        for window, stamps in account.stamps.items():
            while stamps and stamps[0] + window.seconds <= now + _SLACK_SECONDS:
                stamps.popleft()

    def _verdict(self, account: _Account, now: float, heed_pause: bool = True) -> _Verdict:
        self._evict(account, now)
        pause = account.paused_until - now if heed_pause else 0.0
        verdict = _Verdict(wait=pause if pause > _SLACK_SECONDS else 0.0)
        for window, stamps in account.stamps.items():
            if len(stamps) >= window.limit:
                wait = stamps[0] + window.seconds - now
                if wait > verdict.wait:
                    verdict = _Verdict(wait, window, len(stamps))
        return verdict

    def _announce(self, account_id: str, verdict: _Verdict, *, first: bool) -> None:
        window = verdict.window
        assert window is not None  # only called for a verdict that waits
        resume = datetime.fromtimestamp(self._wall_clock() + verdict.wait, tz=timezone.utc)
        resume_at = resume.strftime("%Y-%m-%dT%H:%M:%SZ")
        if first:
            self._log.info(
                "Rate budget: %d requests to account %s in the last %s (limit %s=%d); waiting %s s, resuming at %s",
                verdict.used,
                account_id,
                window.name,
                window.setting,
                window.limit,
                _seconds(verdict.wait),
                resume_at,
            )
        else:
            self._log.info(
                "Rate budget: still waiting for account %s (limit %s=%d); %s s left, resuming at %s",
                account_id,
                window.setting,
                window.limit,
                _seconds(verdict.wait),
                resume_at,
            )

    def _announce_pause(self, account_id: str, wait: float) -> None:
        resume = datetime.fromtimestamp(self._wall_clock() + wait, tz=timezone.utc)
        self._log.info(
            "Rate budget: CallRail answered 429 for account %s; its requests wait %s s, resuming at %s",
            account_id,
            _seconds(wait),
            resume.strftime("%Y-%m-%dT%H:%M:%SZ"),
        )


def _seconds(value: float) -> str:
    return f"{value:.0f}" if value >= 10 else f"{value:.3g}"
