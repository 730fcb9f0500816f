"""The pieces of the end-to-end tests: the warehouse, the Meltano project, comparisons."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from devtools.localpg import LocalPostgres
from tap_callrail.schemas import SCHEMAS

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
MELTANO = str(BIN / "meltano")
DATABASE = "warehouse"
API_KEY = "test-key"
PIPELINE = "dev:tap-callrail-to-target-postgres"

# Streams keyed by something other than `id`: compared on their own (tests/e2e/test_fanouts.py,
# test_timeseries.py). The opt-in fan-outs are also deselected in meltano.yml.
FAN_OUTS = ("call_page_views", "lead_timelines")
SCHEMA_KEYS = {
    "call_page_views": ("call_id", "position"),
    "lead_timelines": ("person_id", "event_key"),
    "calls_timeseries": ("company_id", "date"),
}
STREAMS = tuple(s for s in SCHEMAS if s not in SCHEMA_KEYS)  # keyed by id, read by a default run
# The environment of every subprocess drops what a developer may have set for real runs.
HERMETIC_PREFIXES = ("TAP_CALLRAIL_", "TARGET_POSTGRES_", "MELTANO_")


def hermetic_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(HERMETIC_PREFIXES)}
    env.update(
        MELTANO_SEND_ANONYMOUS_USAGE_STATS="false",
        MELTANO_CLI_LOG_LEVEL="info",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def tail(text: str, lines: int = 60) -> str:
    return "\n".join(text.splitlines()[-lines:])


# --------------------------------------------------------------------------- PostgreSQL


@dataclass
class Warehouse:
    """The test PostgreSQL, with small query helpers."""

    pg: LocalPostgres
    database: str = DATABASE

    @property
    def sqlalchemy_url(self) -> str:
        return self.pg.sqlalchemy_url(self.database)

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self.pg.connect(self.database) as conn:
            return conn.execute(sql, params).fetchall()  # type: ignore[no-any-return]

    def tables(self, schema: str) -> set[str]:
        rows = self.query("SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (schema,))
        return {r[0] for r in rows}

    def columns(self, schema: str, table: str) -> set[str]:
        rows = self.query(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s",
            (schema, table),
        )
        return {r[0] for r in rows}

    def ids(self, schema: str, table: str, account_id: str | None = None) -> list[str]:
        """Every id in the table (deleted-marked rows included), sorted, duplicates kept."""
        where, params = "", ()
        if account_id is not None:
            column = "id" if table == "accounts" else "account_id"
            where, params = f" WHERE {column}::text = %s", (account_id,)
        rows = self.query(f'SELECT id::text FROM "{schema}"."{table}"{where}', params)
        return sorted(r[0] for r in rows)

    def deleted(self, schema: str) -> dict[str, list[str]]:
        """Rows marked deleted (`_sdc_deleted_at`), per table (by id, or `a/b` for a compound key without id)."""
        marked: dict[str, list[str]] = {}
        for table in sorted(self.tables(schema)):
            if "_sdc_deleted_at" not in self.columns(schema, table):
                continue
            key = f"concat_ws('/', {', '.join(SCHEMA_KEYS[table])})" if table in SCHEMA_KEYS else "id::text"
            rows = self.query(f'SELECT {key} FROM "{schema}"."{table}" WHERE _sdc_deleted_at IS NOT NULL')
            if rows:
                marked[table] = sorted(r[0] for r in rows)
        return marked

    def duplicates(self, schema: str, table: str) -> list[tuple[Any, ...]]:
        key = "account_id, id" if table == "users" else "id"
        return self.query(f'SELECT {key}, count(*) FROM "{schema}"."{table}" GROUP BY {key} HAVING count(*) > 1')


# --------------------------------------------------------------------------- Meltano


@dataclass
class MeltanoProject:
    """The repo's meltano.yml, installed once in a temp folder."""

    root: Path
    warehouse: Warehouse
    logs: Path
    runs: int = field(default=0)

    def env(self, schema: str | None = None, api_url: str | None = None, **extra: str) -> dict:
        env = hermetic_env(
            TARGET_POSTGRES_SQLALCHEMY_URL=self.warehouse.sqlalchemy_url,
            TAP_CALLRAIL_API_KEY=API_KEY,
            TAP_CALLRAIL_REQUESTS_PER_HOUR="0",
            TAP_CALLRAIL_REQUESTS_PER_DAY="0",
            TAP_CALLRAIL_MAX_RETRIES="2",
            TAP_CALLRAIL_BACKOFF_MAX_SECONDS="1",
        )
        if schema:
            env["TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA"] = schema
        if api_url:
            env["TAP_CALLRAIL_API_URL"] = api_url
        env.update(extra)
        return env

    def command(
        self, *args: str, env: dict[str, str] | None = None, check: bool = True, timeout: int = 600
    ) -> subprocess.CompletedProcess[str]:
        """`meltano ARGS` in the project; stdout and stderr kept apart, both saved in logs/."""
        self.runs += 1
        proc = subprocess.run(
            [MELTANO, *args],
            cwd=self.root,
            env=env or hermetic_env(),
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=timeout,
            check=False,
        )
        name = re.sub(r"[^A-Za-z0-9]+", "-", " ".join(args))[:60]
        (self.logs / f"{self.runs:03d}-{name}.log").write_text(proc.stdout + proc.stderr)
        if check and proc.returncode != 0:
            raise AssertionError(f"meltano {' '.join(args)} exited {proc.returncode}:\n{tail(proc.stderr)}")
        return proc

    def run(
        self,
        schema: str,
        api_url: str,
        suffix: str,
        *flags: str,
        check: bool = True,
        **extra_env: str,
    ) -> subprocess.CompletedProcess[str]:
        """`meltano run --state-id-suffix SUFFIX tap-callrail target-postgres` into SCHEMA."""
        return self.command(
            "run",
            "--state-id-suffix",
            suffix,
            *flags,
            "tap-callrail",
            "target-postgres",
            env=self.env(schema, api_url, **extra_env),
            check=check,
        )

    def popen(
        self, args: list[str], env: dict[str, str], log: Path, *, new_session: bool = False
    ) -> subprocess.Popen[bytes]:
        """`meltano ARGS` in the background, output to LOG (in its own process group if asked)."""
        with log.open("wb") as handle:
            return subprocess.Popen(
                [MELTANO, *args],
                cwd=self.root,
                env=env,
                stdout=handle,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=new_session,
            )

    def state(self, state_id: str, env: dict[str, str] | None = None) -> dict[str, Any]:
        """The stored Singer state of STATE_ID ({} when there is none)."""
        proc = self.command("state", "get", state_id, env=env, check=False)
        if proc.returncode != 0 or not proc.stdout.strip():
            return {}
        return dict(json.loads(proc.stdout).get("singer_state") or {})

    def plugin_executable(self, plugin_type: str, name: str) -> str:
        return str(self.root / ".meltano" / plugin_type / name / "venv" / "bin" / name)


# --------------------------------------------------------------------------- emulator


@dataclass
class RunningEmulator:
    emu: Any
    url: str


def wait_for(predicate: Any, timeout: float, interval: float = 0.01) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


# --------------------------------------------------------------------------- comparisons


def utc_naive(value: Any) -> datetime | None:
    """An API or warehouse timestamp as a naive UTC datetime (target-postgres stores UTC naive)."""
    if value is None:
        return None
    stamp = value
    if not isinstance(stamp, datetime):
        stamp = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if stamp.tzinfo is not None:
        stamp = stamp.astimezone(timezone.utc).replace(tzinfo=None)
    return stamp


def expected_ids(emu: Any, stream: str, account_id: str) -> list[str]:
    """What the API serves for this account (none where its plan answers 403)."""
    if stream == "accounts":
        return [account_id]
    forbidden = next(a["forbidden"] for a in emu.state()["accounts"] if a["id"] == account_id)
    if stream in forbidden:
        return []
    return sorted(str(i) for i in emu.ids(stream, account_id))


def assert_equals_emulator(
    wh: Warehouse,
    schema: str,
    emu: Any,
    streams: tuple[str, ...] = STREAMS,
    accounts: list[str] | None = None,
    kept: dict[str, set[str]] | None = None,
) -> None:
    """Every table holds exactly the emulator's ids, per account, each once.

    `kept`: ids the warehouse keeps although the API no longer lists them (soft-deleted rows,
    calls removed as spam), per stream.
    """
    tables = wh.tables(schema)
    problems = []
    for stream in streams:
        for account_id in accounts if accounts is not None else emu.account_ids:
            want = expected_ids(emu, stream, account_id)
            got = wh.ids(schema, stream, account_id) if stream in tables else []
            if kept and kept.get(stream):
                want = sorted(set(want) | (kept[stream] & set(got)))
            if got != want:
                missing = sorted(set(want) - set(got))[:5]
                extra = sorted(set(got) - set(want))[:5]
                problems.append(
                    f"{stream} {account_id}: {len(got)} rows, emulator has {len(want)} "
                    f"(missing e.g. {missing}, unexpected e.g. {extra})"
                )
        if stream in tables and (dups := wh.duplicates(schema, stream)):
            problems.append(f"{stream}: duplicate keys {dups[:5]}")
    assert not problems, "warehouse differs from the emulator:\n" + "\n".join(problems)
