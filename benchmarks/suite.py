"""The benchmark suite: every figure of issue 6 in one run, printed as tables and saved as JSON.

    .venv/bin/python -m benchmarks            # full run (~10-15 min on 2 cores)
    .venv/bin/python -m benchmarks --quick    # tiny sizes, seconds; what tests/test_benchmarks.py runs

Sections (benchmarks/README.md explains each figure):
  emulator   the emulator's own serving ceiling (it must not be what limits the tap)
  requests   full load and delta run: requests made ÷ minimum possible
  cpu        tap CPU per 100,000 calls (all optional fields) vs a replay-from-disk ceiling
  memory     peak RSS of the tap, small vs large backfill
  budget     wall time under CallRail's 1,000/h and 10,000/day, from the request counts
  pipeline   rows/s of `meltano run tap-callrail target-postgres`, per target setting
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from benchmarks import budget, pipeline
from benchmarks.ceiling import record_pages
from benchmarks.runner import PYTHON, TAP, ProcessRun, measure, run_tap, scan_output
from benchmarks.scenario import (
    API_KEY,
    calls_only,
    changed_thread_counts,
    efficiency,
    minimum_requests,
    partition_counts,
    records_expected,
    requests_by_stream,
    start_emulator,
    stream_of,
    tap_config,
    window_total,
)

REPO = Path(__file__).resolve().parents[1]
LATEST = REPO / "benchmarks" / "results" / "latest.json"
NEW_CALLS = 100  # calls that arrive between the full load and the delta run
EDITED_CALLS = 50  # recent calls edited in between (tags, notes…), re-read through the lookback
LOOKBACK_HOURS = 6  # the tap's default lookback_hours: an hourly delta re-reads this much
#: Read in full once per full_table_refresh_hours (24 by default): not in a delta an hour later.
CADENCE_STREAMS = ("leads", "integrations", "outbound_caller_ids", "calls_timeseries")
# target-postgres settings compared; unset ones keep the target's defaults (use_copy false,
# validate_records true, batch_size_rows 10,000 from the SDK).
PIPELINE_SETTINGS: tuple[dict[str, str], ...] = (
    {"use_copy": "false", "validate_records": "true"},
    {"use_copy": "true", "validate_records": "true"},
    {"use_copy": "true", "validate_records": "false"},
    {"use_copy": "true", "validate_records": "false", "batch_size_rows": "50000"},
)


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    work = Path(tempfile.mkdtemp(prefix="tap-callrail-bench-"))
    results: dict[str, Any] = {"machine": _machine(args)}
    started = time.monotonic()
    try:
        results["emulator"] = _emulator_ceiling(args)
        catalog = _discover(work)
        results["requests"] = [_full_and_delta(size, work) for size in args.sizes]
        results["cpu"] = _cpu(args.cpu_size, catalog, work, args.repeat)
        results["memory"] = _memory(args.memory_sizes, work)
        results["budget"] = _budget(results)
        if args.pipeline_size:
            results["pipeline"] = _pipeline(args.pipeline_size, work)
    finally:
        if args.keep:
            print(f"work folder kept: {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    results["machine"]["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    results["machine"]["duration_s"] = round(time.monotonic() - started, 1)
    print(render(results))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nJSON: {args.output}")
    return 0


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description="tap-callrail benchmarks (issue 6)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes (seconds); no pipeline")
    parser.add_argument("--sizes", type=_ints, help="calls for the full-load/delta runs (default 10000,100000)")
    parser.add_argument("--cpu-size", type=int, help="calls for the CPU run (default 100000)")
    parser.add_argument("--memory-sizes", type=_ints, help="calls for the memory runs (default 10000,1000000)")
    parser.add_argument("--pipeline-size", type=int, help="calls for the meltano runs; 0 skips them (default 100000)")
    parser.add_argument(
        "--output", type=Path, help=f"JSON file (default {LATEST.relative_to(REPO)}; --quick: a temp file)"
    )
    parser.add_argument("--repeat", type=int, help="CPU runs of tap and ceiling, least counts (default 5; --quick 1)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (configs, logs)")
    args = parser.parse_args(argv)
    quick = args.quick
    args.sizes = args.sizes or ([1000] if quick else [10_000, 100_000])
    args.cpu_size = args.cpu_size or (2000 if quick else 100_000)
    args.repeat = args.repeat or (1 if quick else 5)
    args.memory_sizes = args.memory_sizes or ([1000, 5000] if quick else [10_000, 1_000_000])
    if args.pipeline_size is None:
        args.pipeline_size = 0 if quick else 100_000
    if args.output is None:
        args.output = Path(tempfile.gettempdir()) / "tap-callrail-bench-quick.json" if quick else LATEST
    return args


def _ints(text: str) -> list[int]:
    return [int(x.replace("_", "")) for x in text.split(",") if x.strip()]


# --------------------------------------------------------------------------- sections


def _machine(args: argparse.Namespace) -> dict[str, Any]:
    model = ""
    try:
        model = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    except (OSError, StopIteration):
        model = platform.processor()
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True, check=False
    ).stdout.strip()
    from importlib.metadata import version

    return {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cores": os.cpu_count(),
        "cpu": model,
        "python": platform.python_version(),
        "singer_sdk": version("singer-sdk"),
        "commit": commit,
        "quick": bool(args.quick),
        "load_average_start": [round(x, 2) for x in os.getloadavg()],
    }


def _emulator_ceiling(args: argparse.Namespace) -> dict[str, Any]:
    from callrail_emulator.bench import serving_ceiling

    return serving_ceiling(pages=20 if args.quick else 200, quiet=True)


def _discover(work: Path) -> dict[str, Any]:
    out = work / "catalog.json"
    config = work / "discover.config.json"
    config.write_text(json.dumps({"api_key": API_KEY, "api_url": "http://127.0.0.1:9/v3"}))
    measure([TAP, "--config", str(config), "--discover"], stdout=out, stderr=work / "discover.err.log").check()
    return dict(json.loads(out.read_text()))


def _run_figures(run: ProcessRun, records: int) -> dict[str, Any]:
    return {
        "wall_s": round(run.wall_s, 2),
        "cpu_s": round(run.cpu_s, 2),
        "max_rss_mb": round(run.max_rss_mb, 1),
        "records_per_s": round(records / run.wall_s) if run.wall_s else None,
    }


def _full_and_delta(size: int, work: Path) -> dict[str, Any]:
    """A full load of every stream, then a delta run from its state after new and edited calls."""
    server = start_emulator(size)
    log = server.emu.requests
    try:
        counts = partition_counts(server)
        first = len(log)
        run = run_tap(work, f"full-{size}", tap_config(server), capture=True)
        made = requests_by_stream(log[first:])
        output = scan_output(run.stdout_path)  # type: ignore[arg-type]
        expected = records_expected(counts)
        full = efficiency(made, minimum_requests(counts))
        full.update(_run_figures(run, sum(output.records.values())))
        full["records"] = dict(output.records)
        full["records_match"] = dict(output.records) == {s: n for s, n in expected.items() if n}

        server.emu.add_calls(server.account_id, NEW_CALLS)
        server.emu.edit_calls(server.account_id, EDITED_CALLS)
        counts = partition_counts(server)
        for stream in CADENCE_STREAMS:
            counts[stream] = []
        counts["sms_thread_messages"] = changed_thread_counts(server, output.state)
        first = len(log)
        run = run_tap(work, f"delta-{size}", tap_config(server), state=output.state, capture=True)
        entries = log[first:]
        made = requests_by_stream(entries)
        delta_output = scan_output(run.stdout_path)  # type: ignore[arg-type]
        windows = {}
        for stream in ("calls", "form_submissions"):
            window = _dated_window(stream, entries, output.state)
            counts[stream] = [window_total(server, stream, window["start_date"], window["end_date"])]
            windows[stream] = window
        delta = efficiency(made, minimum_requests(counts))
        delta.update(_run_figures(run, sum(delta_output.records.values())))
        delta["records"] = dict(delta_output.records)
        delta["records_match"] = dict(delta_output.records) == {s: n for s, n in records_expected(counts).items() if n}
        delta["windows"] = windows
        delta["new_calls"] = NEW_CALLS
        delta["edited_calls"] = EDITED_CALLS
        return {"calls": size, "full": full, "delta": delta}
    finally:
        server.stop()


def _dated_window(stream: str, entries: list[dict[str, Any]], state: dict[str, Any]) -> dict[str, Any]:
    """The window the delta run asked for, and whether it starts at bookmark - lookback."""
    queries = [e["query"] for e in entries if stream_of(e["path"]) == stream]
    start, end = queries[0]["start_date"][0], queries[0]["end_date"][0]
    partitions = state.get("bookmarks", {}).get(stream, {}).get("partitions") or [{}]
    bookmark = partitions[0].get("replication_key_value")
    expected = None
    if bookmark:
        moment = datetime.fromisoformat(bookmark.replace("Z", "+00:00")) - timedelta(hours=LOOKBACK_HOURS)
        expected = moment.strftime("%Y-%m-%dT%H:%M")
    return {
        "bookmark": bookmark,
        "start_date": start,
        "end_date": end,
        "expected_start_date": expected,
        "starts_at_lookback": start == expected,
        "same_window_every_page": all(q["start_date"][0] == start for q in queries),
    }


def _cpu(size: int, catalog: dict[str, Any], work: Path, repeat: int) -> dict[str, Any]:
    """Tap CPU for `size` calls (calls only, every optional field) vs the replay ceiling.

    Tap and ceiling runs alternate `repeat` times and the least CPU of each counts (other load
    on the machine only ever adds CPU time); every sample is kept in the JSON.
    """
    server = start_emulator(size)
    log = server.emu.requests
    selected = calls_only(catalog)
    account = server.account_id
    pages, empty = work / "pages", work / "no-pages"
    empty.mkdir(exist_ok=True)
    taps: list[ProcessRun] = []
    ceilings: list[ProcessRun] = []
    startups: list[ProcessRun] = []
    ceiling_startups: list[ProcessRun] = []
    try:
        # Fixed cost: imports, catalog, one request that finds no calls.
        now = server.emu.clock().strftime("%Y-%m-%dT%H:%M:%SZ")
        for attempt in range(repeat):
            first = len(log)
            taps.append(run_tap(work, f"cpu-{attempt}", tap_config(server), catalog=selected))
            if attempt == 0:
                entries = log[first:]
                calls_pages = [e for e in entries if stream_of(e["path"]) == "calls"]
                auth = {"authorization": f'Token token="{API_KEY}"'}
                page_bytes = record_pages(server.emu, calls_pages, pages, auth)
            ceilings.append(_ceiling(pages, account, work / f"ceiling-{attempt}.err.log"))
            startups.append(run_tap(work, f"startup-{attempt}", tap_config(server, start_date=now), catalog=selected))
            ceiling_startups.append(_ceiling(empty, account, work / f"ceiling-startup-{attempt}.err.log"))
    finally:
        server.stop()
        shutil.rmtree(pages, ignore_errors=True)
    tap, ceiling = _least_cpu(taps), _least_cpu(ceilings)
    startup, ceiling_startup = _least_cpu(startups), _least_cpu(ceiling_startups)
    per_100k = 100_000 / size
    tap_marginal = tap.cpu_s - startup.cpu_s
    ceiling_marginal = ceiling.cpu_s - ceiling_startup.cpu_s
    return {
        "calls": size,
        "repeat": repeat,
        "requests": len(entries),
        "calls_requests": len(calls_pages),
        "minimum_requests": math.ceil(size / 250),
        "page_mb": round(page_bytes / 1e6, 1),
        "tap": _run_figures(tap, size),
        "tap_startup": _run_figures(startup, 0),
        "ceiling": _run_figures(ceiling, size),
        "ceiling_startup": _run_figures(ceiling_startup, 0),
        "samples_cpu_s": {
            "tap": [round(r.cpu_s, 2) for r in taps],
            "ceiling": [round(r.cpu_s, 2) for r in ceilings],
            "tap_startup": [round(r.cpu_s, 2) for r in startups],
            "ceiling_startup": [round(r.cpu_s, 3) for r in ceiling_startups],
        },
        "tap_cpu_per_100k_s": round(tap.cpu_s * per_100k, 2),
        "tap_marginal_cpu_per_100k_s": round(tap_marginal * per_100k, 2),
        "ceiling_cpu_per_100k_s": round(ceiling.cpu_s * per_100k, 2),
        "ceiling_marginal_cpu_per_100k_s": round(ceiling_marginal * per_100k, 2),
        "ratio": round(tap.cpu_s / ceiling.cpu_s, 2),
        "ratio_marginal": round(tap_marginal / ceiling_marginal, 2) if ceiling_marginal > 0 else None,
        "seconds_per_request": round(tap.wall_s / max(len(entries), 1), 4),
    }


def _ceiling(pages: Path, account: str, stderr: Path) -> ProcessRun:
    argv = [PYTHON, "-m", "benchmarks.ceiling", str(pages), "calls", "calls", account]
    return measure(argv, stderr=stderr, cwd=REPO).check()


def _least_cpu(runs: list[ProcessRun]) -> ProcessRun:
    return min(runs, key=lambda run: run.cpu_s)


def _memory(sizes: list[int], work: Path) -> dict[str, Any]:
    """Peak RSS of full loads (every stream, stdout to /dev/null) at each size."""
    runs = []
    for size in sizes:
        server = start_emulator(size)
        try:
            counts = partition_counts(server)
            first = len(server.emu.requests)
            run = run_tap(work, f"memory-{size}", tap_config(server))
            made = requests_by_stream(server.emu.requests[first:])
        finally:
            server.stop()
        figures = _run_figures(run, sum(records_expected(counts).values()))
        figures.update(
            calls=size, **{k: v for k, v in efficiency(made, minimum_requests(counts)).items() if k != "by_stream"}
        )
        runs.append(figures)
    smallest, largest = runs[0], runs[-1]
    return {"runs": runs, "rss_ratio": round(largest["max_rss_mb"] / smallest["max_rss_mb"], 3)}


def _budget(results: dict[str, Any]) -> dict[str, Any]:
    """Wall time under CallRail's budget for each measured full load, and a planning table."""
    loads = [(r["calls"], r["full"]) for r in results["requests"]]
    loads += [(r["calls"], r) for r in results["memory"]["runs"] if r["calls"] not in dict(loads)]
    smallest = min(results["requests"], key=lambda r: r["calls"])["full"]
    other = smallest["requests"] - smallest["by_stream"]["calls"]["made"]
    per_request = results["cpu"]["seconds_per_request"]
    measured = []
    for calls, load in sorted(loads):
        seconds = budget.limiter_seconds(load["requests"], per_request)
        measured.append(
            {
                "calls": calls,
                "requests": load["requests"],
                "budget_seconds": round(seconds, 1),
                "budget": budget.human(seconds),
            }
        )
    planned = [budget.plan(calls, other, per_request) for calls in (250_000, 2_500_000, 5_000_000)]
    for row in planned:
        row["budget"] = budget.human(row["budget_seconds"])
    return {"seconds_per_request": per_request, "other_requests": other, "measured": measured, "planned": planned}


def _pipeline(size: int, work: Path) -> dict[str, Any]:
    root = pipeline.project()
    warehouse = pipeline.Warehouse.start()
    server = start_emulator(size)
    runs = []
    try:
        for number, settings in enumerate(PIPELINE_SETTINGS):
            runs.append(
                pipeline.run(root, warehouse, server.url, API_KEY, f"bench_{number}", settings, work / "meltano")
            )
        differing = {r["schema"]: warehouse.differing_rows(runs[0]["schema"], r["schema"]) for r in runs[1:]}
    finally:
        server.stop()
        warehouse.stop()
    shipped = pipeline.shipped_settings()
    for run in runs:
        run["shipped"] = all(shipped.get(k, pipeline.TARGET_DEFAULTS[k]) == v for k, v in run["settings"].items())
    return {"calls": size, "runs": runs, "differing_rows": differing, "identical_loads": not any(differing.values())}


# --------------------------------------------------------------------------- table


def render(results: dict[str, Any]) -> str:
    m = results["machine"]
    lines = [
        f"tap-callrail benchmarks — {m['date']}, {m['cores']} cores ({m['cpu']}), Python {m['python']}, "
        f"singer-sdk {m['singer_sdk']}, commit {m['commit']}{' (quick)' if m['quick'] else ''}",
        "",
    ]
    e = results["emulator"]
    lines.append(
        f"Emulator serving ceiling: {e['http_records_per_s']:,} calls/s over HTTP "
        f"({e['http_pages_per_s']} pages/s of {e['per_page']}, {e['bytes_per_record']} B/call)"
    )
    lines += ["", "Request efficiency (requests made ÷ minimum: 1 per 250 records per stream and partition)"]
    lines.append(
        _table(
            ["calls", "run", "requests", "minimum", "ratio", "records", "match", "wall s", "records/s"],
            [
                [
                    f"{r['calls']:,}",
                    kind,
                    r[kind]["requests"],
                    r[kind]["minimum"],
                    f"{r[kind]['ratio']:.3f}",
                    f"{sum(r[kind]['records'].values()):,}",
                    "yes" if r[kind]["records_match"] else "NO",
                    r[kind]["wall_s"],
                    f"{r[kind]['records_per_s']:,}",
                ]
                for r in results["requests"]
                for kind in ("full", "delta")
            ],
        )
    )
    for r in results["requests"]:
        w = r["delta"]["windows"]["calls"]
        lines.append(
            f"  delta at {r['calls']:,}: calls read from {w['start_date']} (bookmark - {LOOKBACK_HOURS} h = "
            f"{w['expected_start_date']}: {'yes' if w['starts_at_lookback'] else 'NO'}), "
            f"{r['delta']['records'].get('calls', 0):,} calls in {r['delta']['by_stream']['calls']['made']} requests"
        )
    c = results["cpu"]
    lines += ["", f"Tap CPU, {c['calls']:,} calls, every optional field, stdout to /dev/null"]
    lines.append(
        _table(
            ["", "CPU s", "CPU s/100k", "marginal s/100k", "wall s", "records/s", "peak RSS MB"],
            [
                [
                    "tap-callrail",
                    c["tap"]["cpu_s"],
                    c["tap_cpu_per_100k_s"],
                    c["tap_marginal_cpu_per_100k_s"],
                    c["tap"]["wall_s"],
                    f"{c['tap']['records_per_s']:,}",
                    c["tap"]["max_rss_mb"],
                ],
                ["  startup (0 calls)", c["tap_startup"]["cpu_s"], "", "", c["tap_startup"]["wall_s"], "", ""],
                [
                    "ceiling (orjson replay)",
                    c["ceiling"]["cpu_s"],
                    c["ceiling_cpu_per_100k_s"],
                    c["ceiling_marginal_cpu_per_100k_s"],
                    c["ceiling"]["wall_s"],
                    f"{c['ceiling']['records_per_s']:,}",
                    c["ceiling"]["max_rss_mb"],
                ],
            ],
        )
    )
    lines.append(
        f"  tap ÷ ceiling: {c['ratio']}x (whole process), {c['ratio_marginal']}x (without start-up); "
        f"{c['requests']} requests (minimum {c['minimum_requests']}), {c['page_mb']} MB of pages"
    )
    mem = results["memory"]
    lines += ["", "Memory: full load of every stream, peak RSS of the tap"]
    lines.append(
        _table(
            ["calls", "peak RSS MB", "requests", "ratio", "wall s", "records/s"],
            [
                [
                    f"{r['calls']:,}",
                    r["max_rss_mb"],
                    r["requests"],
                    f"{r['ratio']:.3f}",
                    r["wall_s"],
                    f"{r['records_per_s']:,}",
                ]
                for r in mem["runs"]
            ],
        )
    )
    lines.append(f"  largest ÷ smallest: {mem['rss_ratio']}x")
    b = results["budget"]
    lines += [
        "",
        "Budget-bound time (1,000 requests/h, 10,000/day per account; "
        f"{b['seconds_per_request']} s of work per request)",
    ]
    lines.append(
        _table(
            ["calls", "requests", "wall time", ""],
            [[f"{r['calls']:,}", f"{r['requests']:,}", r["budget"], "measured"] for r in b["measured"]]
            + [[f"{r['calls']:,}", f"{r['requests']:,}", r["budget"], "planned"] for r in b["planned"]],
        )
    )
    if "pipeline" in results:
        p = results["pipeline"]
        lines += ["", f"Pipeline: meltano run tap-callrail target-postgres, {p['calls']:,} calls, full load"]
        lines.append(
            _table(
                ["target settings", "rows", "wall s", "rows/s", "CPU s", "peak RSS MB"],
                [
                    [
                        ", ".join(f"{k}={v}" for k, v in r["settings"].items())
                        + (" (meltano.yml)" if r["shipped"] else ""),
                        f"{r['rows']:,}",
                        r["wall_s"],
                        f"{r['rows_per_s']:,}",
                        r["cpu_s"],
                        r["max_rss_mb"],
                    ]
                    for r in p["runs"]
                ],
            )
        )
        lines.append(f"  identical calls tables across settings: {'yes' if p['identical_loads'] else 'NO'}")
    return "\n".join(lines)


def _table(header: list[str], rows: list[list[Any]]) -> str:
    cells = [[str(x) for x in header]] + [[str(x) for x in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    out = []
    for n, row in enumerate(cells):
        out.append(
            "  "
            + "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True)))
        )
        if n == 0:
            out.append("  " + "  ".join("-" * w for w in widths))
    return "\n".join(out)
