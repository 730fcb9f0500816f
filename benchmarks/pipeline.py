"""`meltano run tap-callrail target-postgres` into a throwaway local PostgreSQL, timed.

The repo's meltano.yml is copied into a cached project folder (installed once per version of
the file), exactly as users run it; only the target settings under comparison are overridden
through TARGET_POSTGRES_* variables. Every run loads into its own empty schema with its own
state id, so each is a full load.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.runner import BIN, hermetic_env, measure

REPO = Path(__file__).resolve().parents[1]
MELTANO = str(BIN / "meltano")
PROJECTS = Path(tempfile.gettempdir()) / "tap-callrail-bench-meltano"
DATABASE = "warehouse"


# target-postgres 0.8.1 defaults of the settings the benchmark compares.
TARGET_DEFAULTS = {"use_copy": "false", "validate_records": "true", "batch_size_rows": "10000"}


def shipped_settings() -> dict[str, str]:
    """The compared target settings as the repo's meltano.yml sets them."""
    import yaml

    project = yaml.safe_load((REPO / "meltano.yml").read_text())
    loader = next(p for p in project["plugins"]["loaders"] if p["name"] == "target-postgres")
    config = loader.get("config") or {}
    return {k: str(config[k]).lower() for k in TARGET_DEFAULTS if k in config}


def project() -> Path:
    """An installed copy of the repo's meltano.yml (`meltano install` runs once per version)."""
    source = (REPO / "meltano.yml").read_text()
    # `pip_url: -e .` means the repo; the copy lives elsewhere, so name the repo explicitly.
    copied = re.sub(r"(?m)^(\s*pip_url:\s*)-e \.\s*$", rf"\1-e {REPO}", source)
    root = PROJECTS / hashlib.sha256(copied.encode()).hexdigest()[:12]
    if not (root / ".installed").exists():
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
        (root / "meltano.yml").write_text(copied)
        proc = subprocess.run(
            [MELTANO, "install"],
            cwd=root,
            env=hermetic_env(MELTANO_SEND_ANONYMOUS_USAGE_STATS="false"),
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=900,
            check=False,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"meltano install failed:\n{proc.stderr[-3000:]}")
        (root / ".installed").touch()
    return root


@dataclass
class Warehouse:
    pg: Any
    base: Path

    @classmethod
    def start(cls) -> Warehouse:
        from devtools.localpg import LocalPostgres, free_port

        # The system temp folder, which the postgres user can reach when we run as root.
        base = Path(tempfile.mkdtemp(prefix="tap-callrail-bench-pg-"))
        pg = LocalPostgres(base, free_port()).start()
        pg.create_database(DATABASE)
        return cls(pg, base)

    def stop(self) -> None:
        self.pg.destroy()
        shutil.rmtree(self.base, ignore_errors=True)

    @property
    def url(self) -> str:
        return str(self.pg.sqlalchemy_url(DATABASE))

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        with self.pg.connect(DATABASE) as conn:
            return list(conn.execute(sql).fetchall())

    def table_rows(self, schema: str) -> dict[str, int]:
        tables = [
            r[0]
            for r in self.query(f"SELECT table_name FROM information_schema.tables WHERE table_schema = '{schema}'")
        ]
        return {t: int(self.query(f'SELECT count(*) FROM "{schema}"."{t}"')[0][0]) for t in sorted(tables)}

    def differing_rows(self, schema: str, other: str) -> dict[str, int]:
        """Rows of each table that are not in the other schema's table (either way), _sdc_* aside.

        Compared as values (numeric 42 = 42.0, jsonb by content), not as text.
        """
        differing = {}
        for table in sorted(set(self.table_rows(schema)) | set(self.table_rows(other))):
            columns = [
                r[0]
                for r in self.query(
                    "SELECT column_name FROM information_schema.columns "
                    f"WHERE table_schema = '{schema}' AND table_name = '{table}' ORDER BY column_name"
                )
                if not r[0].startswith("_sdc_")
            ]
            select = ", ".join(f'"{c}"' for c in columns)
            a, b = f'SELECT {select} FROM "{schema}"."{table}"', f'SELECT {select} FROM "{other}"."{table}"'
            count = self.query(
                f"SELECT (SELECT count(*) FROM ({a} EXCEPT ALL {b}) x) + (SELECT count(*) FROM ({b} EXCEPT ALL {a}) y)"
            )
            if count[0][0]:
                differing[table] = int(count[0][0])
        return differing


def run(
    root: Path,
    warehouse: Warehouse,
    api_url: str,
    api_key: str,
    schema: str,
    target_settings: dict[str, str],
    logs: Path,
) -> dict[str, Any]:
    """One `meltano run` into `schema`; wall and CPU (meltano, tap and target together)."""
    env = hermetic_env(
        MELTANO_SEND_ANONYMOUS_USAGE_STATS="false",
        TAP_CALLRAIL_API_KEY=api_key,
        TAP_CALLRAIL_API_URL=api_url,
        TAP_CALLRAIL_REQUESTS_PER_HOUR="0",
        TAP_CALLRAIL_REQUESTS_PER_DAY="0",
        TARGET_POSTGRES_SQLALCHEMY_URL=warehouse.url,
        TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA=schema,
        **{f"TARGET_POSTGRES_{k.upper()}": v for k, v in target_settings.items()},
    )
    logs.mkdir(parents=True, exist_ok=True)
    result = measure(
        # --full-refresh and a fresh state id: the cached project must never turn this into a delta run.
        [
            MELTANO,
            "run",
            "--full-refresh",
            "--state-id-suffix",
            f"{schema}-{time.time_ns()}",
            "tap-callrail",
            "target-postgres",
        ],
        stderr=logs / f"{schema}.log",
        stdout=logs / f"{schema}.out",
        env=env,
        cwd=root,
    ).check()
    rows = warehouse.table_rows(schema)
    return {
        "schema": schema,
        "settings": target_settings,
        "wall_s": round(result.wall_s, 2),
        "cpu_s": round(result.cpu_s, 2),
        "max_rss_mb": round(result.max_rss_mb, 1),  # the largest of meltano, tap and target
        "rows": sum(rows.values()),
        "calls_rows": rows.get("calls", 0),
        "rows_per_s": round(sum(rows.values()) / result.wall_s),
    }
