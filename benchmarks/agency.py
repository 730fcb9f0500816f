"""The agency shape: one account, many client companies, CallRail's latency. What a delta costs.

    .venv/bin/python -m benchmarks.agency            # 120 companies, 30,000 calls over a year, 300 ms
    .venv/bin/python -m benchmarks.agency --quick    # tiny, no latency (what the tests run)
    .venv/bin/python -m benchmarks.agency --concurrency 1   # one request at a time (default: the tap's)

A full load of every stream, then an hourly delta after a few edited and new calls: requests per
stream and wall time of each, and the requests a day that 24 such deltas would need at 50, 120 and
300 companies next to CallRail's daily cap of 10,000 per account. The per-company streams
(integrations, outbound caller ids) cost one request per company each; the rest is scaled as is.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from benchmarks.runner import run_tap, scan_output
from benchmarks.scenario import API_KEY, PER_COMPANY, requests_by_stream
from callrail_emulator import Emulator

DAILY_CAP = 10_000
HOURLY_RUNS = 24
COMPANY_COUNTS = (50, 120, 300)


def measure(
    companies: int, calls: int, latency: float, work: Path, concurrency: int | None = None
) -> dict[str, Any]:
    emu = Emulator(
        seed=11,
        api_key=API_KEY,
        accounts=1,
        calls_per_account=calls,
        companies_per_account=companies,
        history_days=365,
        accounts_without_caller_ids=(),
        latency=latency,
    )
    url = emu.start(port=0)
    config: dict[str, Any] = {"api_key": API_KEY, "api_url": url, "requests_per_hour": 0, "requests_per_day": 0}
    if concurrency is not None:
        config["max_concurrent_requests"] = concurrency
    try:
        account = emu.account_ids[0]
        full = _run(emu, work, "agency-full", config, None)
        emu.add_calls(account, 5)
        emu.edit_calls(account, 3)
        delta = _run(emu, work, "agency-delta", config, full.pop("state"))
        delta.pop("state")
    finally:
        emu.stop()
    return {"companies": companies, "calls": calls, "latency_s": latency, "concurrency": concurrency,
            "full": full, "delta": delta, "per_day": per_day(Counter(delta["requests_by_stream"]), companies)}


def _run(emu: Emulator, work: Path, name: str, config: dict[str, Any], state: dict | None) -> dict[str, Any]:
    first = len(emu.requests)
    started = time.monotonic()
    run = run_tap(work, name, config, state=state, capture=True)
    wall = time.monotonic() - started
    made = requests_by_stream(emu.requests[first:])
    output = scan_output(run.stdout_path)  # type: ignore[arg-type]
    return {"requests": sum(made.values()), "requests_by_stream": dict(made), "wall_s": round(wall, 1),
            "records": sum(output.records.values()), "state": output.state}


def per_day(delta: Counter[str], companies: int) -> dict[int, int]:
    """Requests a day of 24 hourly deltas, the per-company streams scaled to other company counts."""
    per_company = sum(delta[stream] for stream in PER_COMPANY) / companies
    rest = sum(count for stream, count in delta.items() if stream not in PER_COMPANY)
    return {n: round(HOURLY_RUNS * (rest + per_company * n)) for n in COMPANY_COUNTS}


def render(result: dict[str, Any]) -> str:
    full, delta = result["full"], result["delta"]
    lines = [
        f"Agency: 1 account, {result['companies']} companies, {result['calls']:,} calls over a year, "
        f"{result['latency_s'] * 1000:.0f} ms per answer, max_concurrent_requests "
        f"{result['concurrency'] or 'as the tap defaults'}",
        "",
        "| run | requests | wall (s) | records |",
        "|---|---|---|---|",
        f"| full load | {full['requests']} | {full['wall_s']} | {full['records']:,} |",
        f"| hourly delta (5 new, 3 edited calls) | {delta['requests']} | {delta['wall_s']} | {delta['records']:,} |",
        "",
        "Delta requests by stream: " + ", ".join(
            f"{stream} {count}" for stream, count in sorted(delta["requests_by_stream"].items())
        ),
        "",
        f"| companies | requests a day ({HOURLY_RUNS} hourly deltas) | CallRail's daily cap |",
        "|---|---|---|",
    ]
    lines += [f"| {n} | {requests:,} | {DAILY_CAP:,} |" for n, requests in result["per_day"].items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.agency", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="6 companies, 600 calls, no latency")
    parser.add_argument("--companies", type=int, default=120)
    parser.add_argument("--calls", type=int, default=30_000)
    parser.add_argument("--latency", type=float, default=0.3, help="seconds per answer")
    parser.add_argument("--concurrency", type=int, help="max_concurrent_requests (default: the tap's)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    if args.quick:
        args.companies, args.calls, args.latency = 6, 600, 0.0
    work = Path(tempfile.mkdtemp(prefix="tap-callrail-agency-"))
    try:
        result = measure(args.companies, args.calls, args.latency, work, args.concurrency)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(render(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
