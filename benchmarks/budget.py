"""How long CallRail's request budget makes a backfill take, computed with the tap's own limiter.

The tap's `RateBudget` (tap_callrail/ratelimit.py) runs on a simulated clock: every request
first takes a slot from the budget, then costs `seconds_per_request` of work (the measured
time per request of an unlimited run). The result is the wall time a real run needs under
CallRail's 1,000 requests per rolling hour and 10,000 per rolling day, per account.

    python -m benchmarks.budget 100000 1000000 5000000      # plan backfills of these sizes
"""

from __future__ import annotations

import argparse
import json
import logging
import math
from pathlib import Path
from typing import Any

from tap_callrail.ratelimit import RateBudget

CALLRAIL_PER_HOUR = 1000
CALLRAIL_PER_DAY = 10000
PAGE_SIZE = 250
LATEST = Path(__file__).resolve().parent / "results" / "latest.json"
# One account of the benchmark data set: the small streams and per-company series of a full load.
DEFAULT_OTHER_REQUESTS = 15
DEFAULT_SECONDS_PER_REQUEST = 0.25


def limiter_seconds(
    requests: int,
    seconds_per_request: float,
    per_hour: int = CALLRAIL_PER_HOUR,
    per_day: int = CALLRAIL_PER_DAY,
) -> float:
    """Wall seconds for `requests` requests of one account, waits included."""
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    quiet = logging.getLogger("benchmarks.budget.limiter")
    quiet.setLevel(logging.WARNING)
    budget = RateBudget(per_hour, per_day, clock=lambda: now[0], wall_clock=lambda: now[0], sleep=sleep, logger=quiet)
    for _ in range(requests):
        budget.acquire("account")
        now[0] += seconds_per_request
    return now[0]


def plan(calls: int, other_requests: int, seconds_per_request: float) -> dict[str, Any]:
    """A full backfill of `calls` calls in one account: requests and wall time under the budget."""
    requests = math.ceil(calls / PAGE_SIZE) + other_requests
    seconds = limiter_seconds(requests, seconds_per_request)
    return {
        "calls": calls,
        "requests": requests,
        "unlimited_seconds": round(requests * seconds_per_request, 1),
        "budget_seconds": round(seconds, 1),
        "budget_hours": round(seconds / 3600, 2),
    }


def human(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def _defaults() -> tuple[int, float]:
    """Figures of the last full benchmark run on this machine, if there is one."""
    try:
        latest = json.loads(LATEST.read_text())
        return int(latest["budget"]["other_requests"]), float(latest["budget"]["seconds_per_request"])
    except (OSError, ValueError, KeyError, TypeError):
        return DEFAULT_OTHER_REQUESTS, DEFAULT_SECONDS_PER_REQUEST


def main(argv: list[str] | None = None) -> int:
    other, per_request = _defaults()
    parser = argparse.ArgumentParser(prog="python -m benchmarks.budget", description=__doc__.splitlines()[0])
    parser.add_argument("calls", type=int, nargs="+", help="calls to backfill in one account")
    parser.add_argument("--other-requests", type=int, default=other, help=f"requests besides calls pages ({other})")
    parser.add_argument(
        "--seconds-per-request", type=float, default=per_request, help=f"work per request ({per_request})"
    )
    args = parser.parse_args(argv)
    print(f"{'calls':>12}  {'requests':>9}  {'unlimited':>10}  {'under 1000/h, 10000/day':>24}")
    for calls in args.calls:
        row = plan(calls, args.other_requests, args.seconds_per_request)
        print(
            f"{calls:>12,}  {row['requests']:>9,}  {human(row['unlimited_seconds']):>10}  "
            f"{human(row['budget_seconds']):>24}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
