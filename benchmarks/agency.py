"""The agency shape: one account, many client companies, CallRail's latency. What a delta costs.

    .venv/bin/python -m benchmarks.agency            # 120 companies, 30,000 calls over a year, 300 ms
    .venv/bin/python -m benchmarks.agency --quick    # tiny, no latency (what the tests run)
    .venv/bin/python -m benchmarks.agency --concurrency 1   # one request at a time (default: the tap's)
    .venv/bin/python -m benchmarks.agency --fan-outs  # page views and lead timelines selected too

Three runs of every stream with the default settings: a full load; an hourly delta after a few
edited and new calls (the expensive full-table streams not due, the short lookback); and the
day's due run (every expensive stream read in full, the deep lookback), made due by ageing the
marks in the state as 24 hours would. For each: requests per stream and wall time. Then the
requests a day of 23 hourly deltas and one due run, at 50, 120 and 300 companies (the
per-company streams scaled), next to CallRail's daily cap of 10,000 per account.
"""

from __future__ import annotations

import argparse
import copy
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
#: What the tap remembers in each partition's state to skip work that is not due.
DUE_MARKS = ("read_completely_at", "deep_lookback_at")


def measure(
    companies: int,
    calls: int,
    latency: float,
    work: Path,
    extra: dict[str, Any],
    *,
    fan_outs: bool = False,
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
    config = {"api_key": API_KEY, "api_url": url, "requests_per_hour": 0, "requests_per_day": 0, **extra}
    catalog = every_stream_catalog(work, config) if fan_outs else None
    try:
        account = emu.account_ids[0]
        full = _run(emu, work, "agency-full", config, None, catalog)
        emu.add_calls(account, 5)
        emu.edit_calls(account, 3)
        delta = _run(emu, work, "agency-delta", config, full.pop("state"), catalog)
        emu.add_calls(account, 5)
        due = _run(emu, work, "agency-due", config, aged(delta.pop("state")), catalog)
        due.pop("state")
    finally:
        emu.stop()
    hourly, daily = Counter(delta["requests_by_stream"]), Counter(due["requests_by_stream"])
    if fan_outs:
        extra = {**extra, "streams": "every stream, fan-outs included"}
    return {"companies": companies, "calls": calls, "latency_s": latency, "settings": extra,
            "full": full, "delta": delta, "due": due, "per_day": per_day(hourly, daily, companies)}


def aged(state: dict[str, Any]) -> dict[str, Any]:
    """The state as the run 24 hours later sees it: every expensive stream and deep lookback due."""
    state = copy.deepcopy(state)
    for bookmark in state.get("bookmarks", {}).values():
        for partition in bookmark.get("partitions", [bookmark]):
            for mark in DUE_MARKS:
                partition.pop(mark, None)
    return state


def every_stream_catalog(work: Path, config: dict[str, Any]) -> dict[str, Any]:
    """The discovered catalog with every stream selected, the opt-in page views and lead timelines too."""
    run_tap(work, "agency-discover", config, capture=True, extra_args=("--discover",))
    catalog: dict[str, Any] = json.loads((work / "agency-discover.out.jsonl").read_text())
    for entry in catalog["streams"]:
        for item in entry["metadata"]:
            if item["breadcrumb"] == []:
                item["metadata"]["selected"] = True
    return catalog


def _run(
    emu: Emulator, work: Path, name: str, config: dict[str, Any], state: dict | None, catalog: dict | None
) -> dict[str, Any]:
    first = len(emu.requests)
    started = time.monotonic()
    run = run_tap(work, name, config, catalog=catalog, state=state, capture=True)
    wall = time.monotonic() - started
    made = requests_by_stream(emu.requests[first:])
    output = scan_output(run.stdout_path)  # type: ignore[arg-type]
    return {"requests": sum(made.values()), "requests_by_stream": dict(made), "wall_s": round(wall, 1),
            "records": sum(output.records.values()), "state": output.state}


def per_day(hourly: Counter[str], daily: Counter[str], companies: int) -> dict[int, int]:
    """Requests a day of 23 hourly deltas and one due run, the per-company streams scaled."""

    def at(run: Counter[str], n: int) -> float:
        per_company = sum(run[stream] for stream in PER_COMPANY) / companies
        return sum(count for stream, count in run.items() if stream not in PER_COMPANY) + per_company * n

    return {n: round((HOURLY_RUNS - 1) * at(hourly, n) + at(daily, n)) for n in COMPANY_COUNTS}


def render(result: dict[str, Any]) -> str:
    full, delta, due = result["full"], result["delta"], result["due"]
    settings = ", ".join(f"{k}={v}" for k, v in result["settings"].items()) or "default settings"
    lines = [
        f"Agency: 1 account, {result['companies']} companies, {result['calls']:,} calls over a year, "
        f"{result['latency_s'] * 1000:.0f} ms per answer ({settings})",
        "",
        "| run | requests | wall (s) | records |",
        "|---|---|---|---|",
        f"| full load | {full['requests']} | {full['wall_s']} | {full['records']:,} |",
        f"| hourly delta (5 new, 3 edited calls) | {delta['requests']} | {delta['wall_s']} | {delta['records']:,} |",
        f"| daily due run (full tables, deep lookback) | {due['requests']} | {due['wall_s']} | {due['records']:,} |",
        "",
    ]
    for name, run in (("Hourly delta", delta), ("Due run", due)):
        lines.append(f"{name} requests by stream: " + ", ".join(
            f"{stream} {count}" for stream, count in sorted(run["requests_by_stream"].items())
        ))
    lines += [
        "",
        f"| companies | requests a day ({HOURLY_RUNS - 1} hourly deltas + 1 due run) | CallRail's daily cap |",
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
    parser.add_argument("--fan-outs", action="store_true", help="select call_page_views and lead_timelines too")
    parser.add_argument("--setting", action="append", default=[], metavar="NAME=JSON",
                        help="a tap setting for every run, e.g. full_table_refresh_hours=0 (repeatable)")
    args = parser.parse_args(argv)
    extra = {}
    for item in args.setting:
        name, _, value = item.partition("=")
        extra[name] = json.loads(value)
    if args.concurrency is not None:
        extra["max_concurrent_requests"] = args.concurrency
    if args.quick:
        args.companies, args.calls, args.latency = 6, 600, 0.0
    work = Path(tempfile.mkdtemp(prefix="tap-callrail-agency-"))
    try:
        result = measure(args.companies, args.calls, args.latency, work, extra, fan_outs=args.fan_outs)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(render(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
