"""Helpers for scripts/quickstart.sh (README command 1).

python -m devtools.quickstart configured [--parts]
    Prints `HAVE_API_KEY=0|1 HAVE_TARGET=0|1` for the shell: whether the user configured a
    CallRail key and their own PostgreSQL, in the environment or in .env. With --parts: exit 0
    when TARGET_POSTGRES_HOST is set (dbt then needs nothing derived), else 1.
python -m devtools.quickstart check-target --environment demo [--env-file .meltano/demo.env]
    Connects to PostgreSQL with the loader's effective settings before the run; a missing or wrong
    one is reported in one line (exit 1) instead of target-postgres's traceback.
python -m devtools.quickstart demo-env --api-url URL [--output .meltano/demo.env]
    Writes what a new shell needs to rerun the demo (`meltano --env-file .meltano/demo.env
    --environment demo run ...`): the emulator's address, the database settings of this shell or
    .env, and the connection parts dbt needs when only a URL is set. Never .env itself.
python -m devtools.quickstart summary --environment demo [--local] [--env-file .meltano/demo.env]
    Rows per table in the target schema, read with the loader's own effective configuration
    (`meltano config print target-postgres`), one example answer from the marts, then how to
    open them with psql.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

from devtools.localpg import DEFAULT_DATA_DIR, LocalPostgres
from devtools.warehouse_env import dotenv_line, parts_from_url

ROOT = Path(__file__).resolve().parent.parent
TARGET_SETTINGS = (
    "TARGET_POSTGRES_SQLALCHEMY_URL",
    "TARGET_POSTGRES_HOST",
    "TARGET_POSTGRES_PORT",
    "TARGET_POSTGRES_USER",
    "TARGET_POSTGRES_PASSWORD",
    "TARGET_POSTGRES_DATABASE",
)
# README "Querying", question 1 (the README's query, 5 rows).
EXAMPLE_QUESTION = "calls and leads per source per local day, per company"
EXAMPLE_SQL = """
SELECT d.local_date, c.company_name, d.source, d.calls, d.answered_calls, d.good_leads, d.form_submissions
FROM {schema}_analytics.daily_company_source_performance AS d
JOIN {schema}_staging.stg_callrail__companies AS c USING (company_id)
ORDER BY d.local_date DESC, d.calls + d.form_submissions DESC
LIMIT 5
"""


def _settings(names: list[str]) -> dict[str, str]:
    """Values of ``names`` from the environment, else from .env (Meltano's own precedence)."""
    from dotenv import dotenv_values

    dotenv = dotenv_values(ROOT / ".env") if (ROOT / ".env").exists() else {}
    found = {}
    for name in names:
        value = os.environ.get(name) or dotenv.get(name) or ""
        if value.strip():
            found[name] = value
    return found


def configured() -> str:
    have_key = bool(_settings(["TAP_CALLRAIL_API_KEY"]))
    have_target = bool(_settings(["TARGET_POSTGRES_SQLALCHEMY_URL", "TARGET_POSTGRES_HOST"]))
    return f"HAVE_API_KEY={int(have_key)} HAVE_TARGET={int(have_target)}"


def target_config(environment: str, env_file: str | None = None) -> dict[str, Any]:
    meltano = str(Path(sys.executable).parent / "meltano")
    env_file_args = ["--env-file", env_file] if env_file else []
    out = subprocess.run(
        [meltano, *env_file_args, "--environment", environment, "config", "--unsafe", "print", "target-postgres"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return dict(json.loads(out.stdout))


def connection_kwargs(config: dict[str, Any]) -> dict[str, Any]:
    if config.get("sqlalchemy_url"):
        parts = parts_from_url(config["sqlalchemy_url"])
        return {
            "host": parts.get("TARGET_POSTGRES_HOST"),
            "port": parts.get("TARGET_POSTGRES_PORT"),
            "user": parts.get("TARGET_POSTGRES_USER"),
            "password": parts.get("TARGET_POSTGRES_PASSWORD"),
            "dbname": parts.get("TARGET_POSTGRES_DATABASE"),
        }
    return {
        "host": config.get("host", "localhost"),
        "port": config.get("port", 5432),
        "user": config.get("user"),
        "password": config.get("password"),
        "dbname": config.get("database"),
    }


def check_target(environment: str, env_file: str | None) -> int:
    """One line naming the target setting that is missing or wrong; exit 1 then."""
    import psycopg

    config = target_config(environment, env_file)
    kwargs = connection_kwargs(config)
    where = f"{kwargs['host']}:{kwargs['port']}/{kwargs['dbname']} as {kwargs['user']}"
    problem = None
    if not config.get("sqlalchemy_url") and not config.get("host"):
        problem = "no database set (TARGET_POSTGRES_SQLALCHEMY_URL or TARGET_POSTGRES_HOST)"
    elif not kwargs.get("user") or not kwargs.get("dbname"):
        problem = "TARGET_POSTGRES_USER or TARGET_POSTGRES_DATABASE is missing"
    elif not kwargs.get("password"):
        problem = "TARGET_POSTGRES_PASSWORD is missing (target-postgres needs one, any if the server trusts you)"
    else:
        try:
            with psycopg.connect(**{k: v for k, v in kwargs.items() if v is not None}, connect_timeout=10):
                pass
        except psycopg.Error as exc:
            reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0].removeprefix("connection failed: ")
            problem = f"cannot connect to {where}: {reason}"
    if problem:
        fix = "fix TARGET_POSTGRES_* in .env or the environment"
        print(f"Database settings (environment {environment}): {problem}; {fix}.")
        return 1
    return 0


def demo_env(api_url: str, output: Path) -> int:
    """The demo's own dotenv file: emulator address, database settings, dbt's connection parts."""
    from dotenv import dotenv_values

    dotenv = dotenv_values(ROOT / ".env") if (ROOT / ".env").exists() else {}
    values = {"TAP_CALLRAIL_API_URL": api_url}
    for name in TARGET_SETTINGS:
        value = os.environ.get(name) or dotenv.get(name)
        if value:
            values[name] = value
    if values.get("TARGET_POSTGRES_SQLALCHEMY_URL") and not values.get("TARGET_POSTGRES_HOST"):
        values.update(parts_from_url(values["TARGET_POSTGRES_SQLALCHEMY_URL"]))
    lines = [
        "# Written by scripts/quickstart.sh for the demo environment only (the CallRail emulator and",
        "# the demo's database). Rerun the demo in a new shell with:",
        "#   .venv/bin/meltano --env-file .meltano/demo.env --environment demo \\",
        "#       run tap-callrail target-postgres dbt-postgres:build",
        *(dotenv_line(name, value) for name, value in values.items()),
    ]
    output.parent.mkdir(parents=True, exist_ok=True)
    output.touch(mode=0o600)
    output.write_text("\n".join(lines) + "\n")
    return 0


def example_answer(kwargs: dict[str, Any], schema: str) -> list[tuple[Any, ...]]:
    import psycopg

    with psycopg.connect(**{k: v for k, v in kwargs.items() if v is not None}) as conn:
        return conn.execute(EXAMPLE_SQL.format(schema=schema)).fetchall()  # type: ignore[no-any-return]


def row_counts(kwargs: dict[str, Any], schema: str) -> list[tuple[str, int, int]]:
    import psycopg
    from psycopg import sql

    counts = []
    with psycopg.connect(**{k: v for k, v in kwargs.items() if v is not None}) as conn:
        tables = conn.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = %s AND table_type = 'BASE TABLE' ORDER BY table_name",
            (schema,),
        ).fetchall()
        for (table,) in tables:
            name = sql.Identifier(schema, table)
            total = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(name)).fetchone()
            has_deleted = conn.execute(
                "SELECT 1 FROM information_schema.columns "
                "WHERE table_schema = %s AND table_name = %s AND column_name = '_sdc_deleted_at'",
                (schema, table),
            ).fetchone()
            deleted = (0,)
            if has_deleted:
                query = sql.SQL("SELECT count(*) FROM {} WHERE _sdc_deleted_at IS NOT NULL")
                deleted = conn.execute(query.format(name)).fetchone() or (0,)
            counts.append((table, int(total[0]) if total else 0, int(deleted[0])))
    return counts


def summary(environment: str, local: bool, env_file: str | None = None) -> int:
    config = target_config(environment, env_file)
    schema = config.get("default_target_schema") or "callrail"
    kwargs = connection_kwargs(config)
    counts = row_counts(kwargs, schema)
    print(f"\nRows per table in {kwargs['dbname']}.{schema}:")
    if not counts:
        print("  (no tables)")
    for table, total, deleted in counts:
        note = f"   ({deleted} marked deleted)" if deleted else ""
        print(f"  {table:<22} {total:>8}{note}")
    if local:
        data_dir = os.environ.get("LOCALPG_DATA_DIR", str(DEFAULT_DATA_DIR))
        psql = LocalPostgres(data_dir).psql_command(kwargs["dbname"])
    else:
        conn = " ".join(f"{k}={v}" for k, v in kwargs.items() if v is not None and k != "password")
        psql = f"psql {shlex.quote(conn)}"
    print(f"\nOne answer from the marts ({schema}_analytics), README \"Querying\": {EXAMPLE_QUESTION}:")
    header = ("local_date", "company", "source", "calls", "answered", "good_leads", "forms")
    widths = (10, 26, 24, 5, 8, 10, 5)
    for row in [header, *example_answer(kwargs, schema)]:
        print("  " + "  ".join(f"{value!s:<{width}}" for value, width in zip(row, widths, strict=True)))
    print("\nLook at them with psql:")
    print(f"  {psql}")
    print(f"  then e.g.:  SELECT * FROM {schema}_analytics.fct_calls ORDER BY started_at DESC LIMIT 5;")
    return 0 if counts else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.quickstart")
    sub = parser.add_subparsers(dest="command", required=True)
    parts = sub.add_parser("configured")
    parts.add_argument("--parts", action="store_true", help="exit 0 if TARGET_POSTGRES_HOST is set, else 1")
    check = sub.add_parser("check-target")
    check.add_argument("--environment", default="dev")
    check.add_argument("--env-file", help="Meltano's --env-file (the demo's .meltano/demo.env)")
    demo = sub.add_parser("demo-env")
    demo.add_argument("--api-url", required=True, help="the running emulator's base URL")
    demo.add_argument("--output", default=str(ROOT / ".meltano" / "demo.env"))
    show = sub.add_parser("summary")
    show.add_argument("--environment", default="dev")
    show.add_argument("--local", action="store_true", help="devtools.localpg's server")
    show.add_argument("--env-file", help="Meltano's --env-file (the demo's .meltano/demo.env)")
    args = parser.parse_args(argv)
    if args.command == "configured":
        if args.parts:
            return 0 if _settings(["TARGET_POSTGRES_HOST"]) else 1
        print(configured())
        return 0
    if args.command == "check-target":
        return check_target(args.environment, args.env_file)
    if args.command == "demo-env":
        return demo_env(args.api_url, Path(args.output))
    return summary(args.environment, args.local, args.env_file)


if __name__ == "__main__":
    sys.exit(main())
