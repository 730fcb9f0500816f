"""Helpers for scripts/quickstart.sh (README command 1).

python -m devtools.quickstart configured
    Prints `HAVE_API_KEY=0|1 HAVE_TARGET=0|1` for the shell: whether the user configured a
    CallRail key and their own PostgreSQL, in the environment or in .env.
python -m devtools.quickstart summary --environment demo [--local]
    Rows per table in the target schema, read with the loader's own effective configuration
    (`meltano config print target-postgres`), then how to open them with psql.
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

ROOT = Path(__file__).resolve().parent.parent


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


def target_config(environment: str) -> dict[str, Any]:
    meltano = str(Path(sys.executable).parent / "meltano")
    out = subprocess.run(
        [meltano, "--environment", environment, "config", "--unsafe", "print", "target-postgres"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return dict(json.loads(out.stdout))


def connection_kwargs(config: dict[str, Any]) -> dict[str, Any]:
    if config.get("sqlalchemy_url"):
        from sqlalchemy.engine import make_url

        url = make_url(config["sqlalchemy_url"])
        return {
            "host": url.query.get("host") or url.host or "localhost",
            "port": url.port or url.query.get("port") or 5432,
            "user": url.username,
            "password": url.password,
            "dbname": url.database,
        }
    return {
        "host": config.get("host", "localhost"),
        "port": config.get("port", 5432),
        "user": config.get("user"),
        "password": config.get("password"),
        "dbname": config.get("database"),
    }


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


def summary(environment: str, local: bool) -> int:
    config = target_config(environment)
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
    print("\nLook at them with psql:")
    print(f"  {psql}")
    print(f"  then e.g.:  SELECT id, start_time, duration FROM {schema}.calls LIMIT 5;")
    return 0 if counts else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.quickstart")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("configured")
    show = sub.add_parser("summary")
    show.add_argument("--environment", default="dev")
    show.add_argument("--local", action="store_true", help="devtools.localpg's server")
    args = parser.parse_args(argv)
    if args.command == "configured":
        print(configured())
        return 0
    return summary(args.environment, args.local)


if __name__ == "__main__":
    sys.exit(main())
