"""The README's result tables, rendered from a benchmark JSON (default: benchmarks/results/latest.json).

.venv/bin/python -m benchmarks.markdown [results.json]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

LATEST = Path(__file__).resolve().parent / "results" / "latest.json"


def markdown(r: dict[str, Any]) -> str:
    m, cpu, mem, budget = r["machine"], r["cpu"], r["memory"], r["budget"]
    full = {run["calls"]: run["full"] for run in r["requests"]}
    full.update({run["calls"]: run for run in mem["runs"] if run["calls"] not in full})
    delta = {run["calls"]: run["delta"] for run in r["requests"]}
    out = [
        f"Measured on {m['date']}: {m['cores']} cores ({m['cpu']}), Python {m['python']}, "
        f"singer-sdk {m['singer_sdk']}, commit `{m['commit']}`; the whole run took {m['duration_s'] / 60:.0f} min.",
        "",
        "| figure | result | target |",
        "|---|---|---|",
        "| requests ÷ minimum, full load ("
        + " / ".join(f"{calls:,}" for calls in sorted(full))
        + " calls) | "
        + " / ".join(f"{full[calls]['ratio']:.3f}" for calls in sorted(full))
        + " | ≤ 1.02 |",
        "| requests ÷ minimum, delta run ("
        + " / ".join(f"{calls:,}" for calls in sorted(delta))
        + " calls) | "
        + " / ".join(f"{delta[calls]['ratio']:.3f}" for calls in sorted(delta))
        + " | lookback window + new only |",
        f"| tap CPU per 100,000 calls, every optional field | {cpu['tap_cpu_per_100k_s']} s "
        f"(ceiling {cpu['ceiling_cpu_per_100k_s']} s): **{cpu['ratio']}x** "
        f"({cpu['ratio_marginal']}x without start-up) | ≤ 2x |",
        f"| records/s, tap end to end ({cpu['calls']:,} calls) | {cpu['tap']['records_per_s']:,} | |",
    ]
    if "pipeline" in r:
        p = r["pipeline"]
        shipped = next((run for run in p["runs"] if run["shipped"]), p["runs"][-1])
        default = p["runs"][0]
        out.append(
            f"| rows/s, `meltano run` into PostgreSQL ({p['calls']:,} calls) | {shipped['rows_per_s']:,} "
            f"(target-postgres defaults: {default['rows_per_s']:,}) | |"
        )
    small, large = mem["runs"][0], mem["runs"][-1]
    out += [
        f"| peak RSS of the tap, {small['calls']:,} vs {large['calls']:,} calls | {small['max_rss_mb']:.0f} MB vs "
        f"{large['max_rss_mb']:.0f} MB: **{mem['rss_ratio']}x** | ≤ 1.2x |",
        f"| emulator serving ceiling | {r['emulator']['http_records_per_s']:,} calls/s | not the bottleneck |",
        "",
        "Requests (one account; minimum = one request per 250 records per stream and partition, at least one):",
        "",
        "| calls | run | requests | minimum | ratio | records | wall s | records/s |",
        "|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for run in r["requests"]:
        for kind in ("full", "delta"):
            x = run[kind]
            out.append(
                f"| {run['calls']:,} | {kind} | {x['requests']:,} | {x['minimum']:,} | {x['ratio']:.3f} | "
                f"{sum(x['records'].values()):,} | {x['wall_s']} | {x['records_per_s']:,} |"
            )
    smallest = r["requests"][0]["full"]["records"]
    other_records = sum(smallest.values()) - smallest["calls"]  # the small streams, the same at every size
    for run in mem["runs"]:
        if run["calls"] not in delta:
            out.append(
                f"| {run['calls']:,} | full | {run['requests']:,} | {run['minimum']:,} | {run['ratio']:.3f} | "
                f"{run['calls'] + other_records:,} | {run['wall_s']} | {run['records_per_s']:,} |"
            )
    out += [
        "",
        f"Tap CPU ({cpu['calls']:,} calls, calls stream only, every optional field, stdout to /dev/null; "
        f"least of {cpu['repeat']} runs):",
        "",
        "| | CPU s | CPU s per 100,000 | without start-up | wall s | records/s |",
        "|---|---:|---:|---:|---:|---:|",
        f"| `tap-callrail` | {cpu['tap']['cpu_s']} | {cpu['tap_cpu_per_100k_s']} | "
        f"{cpu['tap_marginal_cpu_per_100k_s']} | {cpu['tap']['wall_s']} | {cpu['tap']['records_per_s']:,} |",
        f"| ceiling: orjson replay of the same pages | {cpu['ceiling']['cpu_s']} | "
        f"{cpu['ceiling_cpu_per_100k_s']} | {cpu['ceiling_marginal_cpu_per_100k_s']} | "
        f"{cpu['ceiling']['wall_s']} | {cpu['ceiling']['records_per_s']:,} |",
        f"| tap start-up (no calls) | {cpu['tap_startup']['cpu_s']} | | | {cpu['tap_startup']['wall_s']} | |",
    ]
    if "pipeline" in r:
        p = r["pipeline"]
        out += [
            "",
            f"Pipeline (`meltano run tap-callrail target-postgres`, {p['calls']:,} calls, full load, every stream):",
            "",
            "| target-postgres settings | rows | wall s | rows/s | CPU s | peak RSS MB |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for run in p["runs"]:
            settings = ", ".join(f"`{k}: {v}`" for k, v in run["settings"].items())
            settings += " **(meltano.yml)**" if run["shipped"] else ""
            out.append(
                f"| {settings} | {run['rows']:,} | {run['wall_s']} | {run['rows_per_s']:,} | {run['cpu_s']} | "
                f"{run['max_rss_mb']:.0f} |"
            )
        verdict = "identical" if p["identical_loads"] else f"NOT identical: {p['differing_rows']}"
        out.append(f"\nRows loaded with each setting compared as values: {verdict}.")
    out += [
        "",
        f"Budget-bound time (CallRail: 1,000 requests/hour, 10,000/day per account; "
        f"{budget['seconds_per_request']} s of work per request):",
        "",
        "| calls in one account | requests | wall time | |",
        "|---:|---:|---:|---|",
    ]
    out += [f"| {x['calls']:,} | {x['requests']:,} | {x['budget']} | measured |" for x in budget["measured"]]
    out += [f"| {x['calls']:,} | {x['requests']:,} | {x['budget']} | planned |" for x in budget["planned"]]
    return "\n".join(out)


def main(argv: list[str]) -> int:
    path = Path(argv[0]) if argv else LATEST
    print(markdown(json.loads(path.read_text())))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
