"""Helpers of the fault-injection tests: driving the emulator, running the tap, reading its output.

Reuses tests/e2e/pipeline.py (the warehouse, the Meltano project, comparisons) and adds what the
reliability, report and secrets tests need on top: a request hook on the emulator (slow it down,
arm a fault at the n-th request), a `meltano run` in its own process group (to kill -9 all of
it), plain `tap-callrail` runs against the emulator, and parsers for Singer messages and the
sync report's METRIC lines.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import sqlite3
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from .pipeline import BIN, MeltanoProject, Warehouse, hermetic_env, utc_naive

TAP = str(BIN / "tap-callrail")
# A key that is easy to find in any output; the emulator accepts exactly this one.
CANARY = "sk-SECRET-canary-1234"

# Settings for fast fault runs: no rate budget, 1 s backoff cap.
FAST = {"requests_per_hour": 0, "requests_per_day": 0, "max_retries": 2, "backoff_max_seconds": 1}

# --------------------------------------------------------------------------- emulator hooks


def on_request(emu: Any, hook: Callable[[int, Any], None]) -> None:
    """Call `hook(n, request)` before the emulator serves its n-th API request (1-based).

    The hook runs in the server thread, outside the emulator's lock, so it may sleep or arm
    faults (`emu.rate_limit`, `emu.persistent_fault`, ...) for the request being served.
    Control requests (`/_emulator/...`) are not counted.
    """
    served = emu.dispatch
    counter = {"n": 0}
    lock = threading.Lock()

    def dispatch(req: Any) -> Any:
        if not req.path.startswith("/_emulator/"):
            with lock:
                counter["n"] += 1
                n = counter["n"]
            hook(n, req)
        return served(req)

    emu.dispatch = dispatch


def slow_down(emu: Any, seconds: float, path_contains: str) -> Callable[[], None]:
    """Every API request whose path contains `path_contains` takes `seconds` longer, until the
    returned function is called."""
    active = threading.Event()
    active.set()

    def hook(_n: int, req: Any) -> None:
        if active.is_set() and path_contains in req.path:
            time.sleep(seconds)

    on_request(emu, hook)
    return active.clear


def arm_at(emu: Any, actions: dict[int, Callable[[], None]]) -> None:
    """Run `actions[n]()` just before the n-th API request is served (so it can hit that one)."""
    pending = dict(actions)

    def hook(n: int, _req: Any) -> None:
        action = pending.pop(n, None)
        if action is not None:
            action()

    on_request(emu, hook)


def api_requests(emu: Any) -> list[dict[str, Any]]:
    """The emulator's log of API requests (a copy)."""
    with emu._lock:
        return [dict(r) for r in emu.requests]


def threads_asked(emu: Any) -> list[str]:
    """The SMS threads whose messages were requested, sorted (one entry per request)."""
    return sorted(
        r["path"].rsplit("/", 1)[1].removesuffix(".json") for r in api_requests(emu) if "/sms-threads/" in r["path"]
    )


# --------------------------------------------------------------------------- plain tap runs


@dataclass
class TapRun:
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def messages(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stdout.splitlines() if line.startswith("{")]

    def records(self, stream: str | None = None) -> list[dict[str, Any]]:
        return [
            m["record"]
            for m in self.messages
            if m.get("type") == "RECORD" and (stream is None or m["stream"] == stream)
        ]

    def metrics(self, name: str) -> list[dict[str, Any]]:
        return metric_points(self.stderr, name)

    @property
    def log(self) -> list[str]:
        """stderr lines that are not METRIC lines."""
        return [line for line in self.stderr.splitlines() if "METRIC:" not in line]


def tap_config(url: str, api_key: str, **settings: Any) -> dict[str, Any]:
    return {"api_key": api_key, "api_url": url, **FAST, **settings}


def run_tap(
    workdir: Path,
    config: dict[str, Any] | None,
    *args: str,
    state: str | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 300,
) -> TapRun:
    """`tap-callrail [--config FILE] ARGS [--state FILE]` as a subprocess; output kept in memory
    and saved next to the config, for debugging a failed test."""
    argv = [TAP]
    tag = f"{len(list(workdir.glob('tap-*.stderr')))}"
    if config is not None:
        path = workdir / f"tap-{tag}.config.json"
        path.write_text(json.dumps(config))
        argv += ["--config", str(path)]
    argv += list(args)
    if state is not None:
        path = workdir / f"tap-{tag}.state.json"
        path.write_text(state)
        argv += ["--state", str(path)]
    started = time.monotonic()
    proc = subprocess.run(
        argv,
        env=env or hermetic_env(),
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=timeout,
        check=False,
    )
    (workdir / f"tap-{tag}.stderr").write_text(proc.stderr)
    return TapRun(proc.returncode, proc.stdout, proc.stderr, time.monotonic() - started)


_METRIC = re.compile(r"METRIC: (\{.*\})\s*$")


def metric_points(text: str, name: str) -> list[dict[str, Any]]:
    """The SDK METRIC points named `name` in a log."""
    points = []
    for line in text.splitlines():
        match = _METRIC.search(line)
        if match:
            point = json.loads(match.group(1))
            if point.get("metric") == name:
                points.append(point)
    return points


def records_per_stream_account(records: Iterable[tuple[str, dict[str, Any]]]) -> Counter[tuple[str, str]]:
    """How many (stream, record) pairs there are per stream and account."""
    counts: Counter[tuple[str, str]] = Counter()
    for stream, record in records:
        account = record["id"] if stream == "accounts" else record["account_id"]
        counts[(stream, str(account))] += 1
    return counts


# --------------------------------------------------------------------------- meltano runs


def start_meltano(meltano: MeltanoProject, args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """`meltano ARGS` in its own process group (see `kill_group`), output to LOG."""
    return meltano.popen(args, env, log, new_session=True)


def kill_group(proc: subprocess.Popen[bytes]) -> None:
    """kill -9 the whole process group: Meltano, the tap and the target, at once."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)

    def group_gone() -> bool:
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            return True
        return False

    deadline = time.monotonic() + 30
    while not group_gone():
        assert time.monotonic() < deadline, "processes of the killed run are still alive"
        time.sleep(0.05)


def stored_state(meltano: MeltanoProject, state_id: str) -> dict[str, Any]:
    """The state Meltano holds for STATE_ID right now, read straight from its system database.

    Cheap enough to poll while a run is going on (`meltano state get` takes seconds); the
    tests still use `meltano state get` for what they assert.
    """
    path = meltano.root / ".meltano" / "meltano.db"
    if not path.exists():
        return {}
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1) as conn:
            row = conn.execute(
                "SELECT partial_state, completed_state FROM state WHERE state_id = ?", (state_id,)
            ).fetchone()
    except sqlite3.Error:
        return {}
    if not row:
        return {}
    merged: dict[str, Any] = {}
    for blob in (row[1], row[0]):
        if blob:
            merged.update((json.loads(blob) or {}).get("singer_state") or {})
    return merged


def calls_bookmarks(state: dict[str, Any]) -> dict[str, str]:
    """{account_id: replication_key_value} of the calls stream's partitions in a Singer state."""
    partitions = ((state.get("bookmarks") or {}).get("calls") or {}).get("partitions") or []
    return {
        p["context"]["account_id"]: p["replication_key_value"] for p in partitions if p.get("replication_key_value")
    }


def tap_lines(meltano_output: str) -> list[str]:
    """The lines Meltano relayed from tap-callrail."""
    return [line for line in meltano_output.splitlines() if re.search(r"\]\s+tap-callrail\b", line)]


# --------------------------------------------------------------------------- warehouse checks

# A few fields per table whose current values must have landed (besides the ids).
CURRENT_FIELDS = {
    "calls": ("start_time", "duration", "customer_phone_number", "lead_status", "note"),
    "companies": ("name", "status"),
    "tags": ("name", "status"),
    "trackers": ("name", "status"),
    "users": ("email", "role"),
    "form_submissions": ("submitted_at", "customer_email"),
}


def _same(value: Any, want: Any) -> bool:
    if want is None or value is None:
        return value is None and want is None
    if isinstance(value, datetime):
        return value == utc_naive(want)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value) == float(want)
    return str(value) == str(want)


def assert_current_values(wh: Warehouse, schema: str, emu: Any, every: int = 7) -> None:
    """Every `every`-th record of a few tables holds CallRail's current values."""
    problems = []
    checked = 0
    for stream, fields in CURRENT_FIELDS.items():
        if stream not in wh.tables(schema):
            continue
        for account_id in emu.account_ids:
            for record in emu.records(stream, account_id)[::every]:
                where = "id::text = %s" + (" AND account_id = %s" if stream == "users" else "")
                params = (str(record["id"]), account_id) if stream == "users" else (str(record["id"]),)
                rows = wh.query(f'SELECT {", ".join(fields)} FROM "{schema}"."{stream}" WHERE {where}', params)
                if len(rows) != 1:
                    problems.append(f"{stream} {record['id']}: {len(rows)} rows")
                    continue
                for name, value in zip(fields, rows[0], strict=True):
                    if not _same(value, record.get(name)):
                        problems.append(f"{stream} {record['id']}.{name}: {value!r} != {record.get(name)!r}")
                checked += 1
    assert checked >= 10, f"only {checked} records compared"
    assert not problems, "warehouse values differ from the emulator:\n" + "\n".join(problems[:20])


def max_loaded(wh: Warehouse, schema: str, table: str, column: str) -> dict[str, Any]:
    """{account_id: max(column)} of the rows loaded."""
    rows = wh.query(f'SELECT account_id, max({column}) FROM "{schema}"."{table}" GROUP BY account_id')
    return {str(account): value for account, value in rows}


def assert_state_within_loaded(wh: Warehouse, schema: str, state: dict[str, Any]) -> dict[str, str]:
    """Every calls bookmark is at or before the newest call loaded for that account."""
    bookmarks = calls_bookmarks(state)
    loaded = max_loaded(wh, schema, "calls", "start_time") if "calls" in wh.tables(schema) else {}
    for account_id, value in bookmarks.items():
        newest = loaded.get(account_id)
        assert newest is not None, f"state has a calls bookmark for {account_id} but no call of it was loaded"
        assert utc_naive(value) <= newest, f"calls bookmark {value} of {account_id} is past the newest loaded {newest}"
    return bookmarks


def text_everywhere(wh: Warehouse, schema: str) -> str:
    """Every row of every table of SCHEMA as text (all columns, jsonb included)."""
    chunks: list[str] = []
    for table in sorted(wh.tables(schema)):
        rows = wh.query(f'SELECT t::text FROM "{schema}"."{table}" AS t')
        chunks.extend(r[0] for r in rows)
    return "\n".join(chunks)
