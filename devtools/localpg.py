"""A throwaway local PostgreSQL for the quickstart and the end-to-end tests, without Docker.

Two ways to get a server, tried in this order:

* ``debian``: the server binaries of the Debian ``postgresql`` package
  (``/usr/lib/postgresql/*/bin``, or ``initdb``/``pg_ctl`` on PATH). Postgres refuses to run as
  root, so as root every server command runs as the ``postgres`` user through ``runuser``, and the
  cluster lives where that user can reach it. The server listens on TCP ``127.0.0.1:<port>`` only.
* ``pgserver``: the ``pgserver`` wheel from PyPI (PostgreSQL in a wheel). It listens on a Unix
  socket only, so clients connect through :meth:`LocalPostgres.sqlalchemy_url`.

Authentication is ``trust``: this server is for local demos and tests, never for real data. The
password in the URLs is there because target-postgres insists on one.

The folder given as ``data_dir`` holds ``localpg.json`` (which backend, where the cluster lives, the
port), so ``stop``/``status``/``url`` from another process find the same server.

CLI (used by scripts/quickstart.sh)::

    python -m devtools.localpg start [--database warehouse]
    python -m devtools.localpg url [--database warehouse]
    python -m devtools.localpg status
    python -m devtools.localpg stop
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import hashlib
import json
import os
import pwd
import shlex
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

DEFAULT_DATA_DIR = Path(__file__).resolve().parent.parent / ".pgdata"
DEFAULT_PORT = 55432
DEFAULT_DATABASE = "warehouse"
SUPERUSER = "postgres"
PASSWORD = "postgres"
STATE_FILE = "localpg.json"
# Postgres refuses to run as root; the Debian package creates this system user.
DEBIAN_SYSTEM_USER = "postgres"


class LocalPostgresError(RuntimeError):
    """The local server could not be started, stopped or reached."""


def _is_root() -> bool:
    return os.geteuid() == 0


def find_server_binaries() -> Path | None:
    """Folder holding initdb, pg_ctl and postgres from a system install, newest version first."""
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda p: [int(x) if x.isdigit() else 0 for x in Path(p).parent.name.split(".")],
        reverse=True,
    )
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(str(Path(on_path).resolve().parent))
    for folder in candidates:
        path = Path(folder)
        if all((path / exe).exists() for exe in ("initdb", "pg_ctl", "postgres")):
            return path
    return None


def _import_pgserver() -> Any:
    # platformdirs warns at import time when XDG_RUNTIME_DIR is unset (CI, root shells).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgserver
        import pgserver._commands
    return pgserver


def pgserver_available() -> bool:
    try:
        _import_pgserver()
    except ImportError:
        return False
    return True


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _reachable_by_others(path: Path) -> bool:
    """True if every existing ancestor of ``path`` lets other users traverse it (o+x)."""
    return all(not parent.exists() or bool(parent.stat().st_mode & stat.S_IXOTH) for parent in [path, *path.parents])


def _temp_cluster_dir(data_dir: Path, backend: str) -> Path:
    digest = hashlib.sha256(str(data_dir).encode()).hexdigest()[:10]
    return Path(tempfile.gettempdir()) / f"tap-callrail-pg-{backend}-{digest}"


class LocalPostgres:
    """One local PostgreSQL cluster: ``LocalPostgres(data_dir, port).start()``."""

    def __init__(
        self,
        data_dir: str | Path = DEFAULT_DATA_DIR,
        port: int = DEFAULT_PORT,
        backend: str | None = None,
    ) -> None:
        self.data_dir = Path(data_dir).expanduser().resolve()
        self.port = int(port)
        # "debian" or "pgserver"; None picks the first available. LOCALPG_BACKEND forces one.
        self.backend: str | None = backend or os.environ.get("LOCALPG_BACKEND") or None
        self.cluster_dir: Path | None = None
        self.bin_dir: Path | None = None
        self.socket_dir: Path | None = None
        self._load_state()

    # ---------------------------------------------------------------- state
    @property
    def _state_path(self) -> Path:
        return self.data_dir / STATE_FILE

    def _load_state(self) -> None:
        if not self._state_path.exists():
            return
        state = json.loads(self._state_path.read_text())
        self.backend = state["backend"]
        self.cluster_dir = Path(state["cluster_dir"])
        self.bin_dir = Path(state["bin_dir"]) if state.get("bin_dir") else None
        self.socket_dir = Path(state["socket_dir"]) if state.get("socket_dir") else None
        self.port = int(state["port"])

    def _save_state(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        state = {
            "backend": self.backend,
            "cluster_dir": str(self.cluster_dir),
            "bin_dir": str(self.bin_dir) if self.bin_dir else None,
            "socket_dir": str(self.socket_dir) if self.socket_dir else None,
            "port": self.port,
        }
        self._state_path.write_text(json.dumps(state, indent=2) + "\n")

    # ------------------------------------------------------------ lifecycle
    def start(self) -> LocalPostgres:
        """Start the server (initialising the cluster the first time); no-op if it already runs."""
        if self.is_running():
            return self
        if self.backend == "debian" and self.bin_dir is None:
            self.bin_dir = find_server_binaries()
            if self.bin_dir is None:
                raise LocalPostgresError("LOCALPG_BACKEND=debian but no PostgreSQL server binaries found.")
        if self.backend is None:
            self.bin_dir = find_server_binaries()
            if self.bin_dir is not None:
                self.backend = "debian"
            elif pgserver_available():
                self.backend = "pgserver"
            else:
                raise LocalPostgresError(
                    "No PostgreSQL server found. Install one of: the Debian package "
                    "(`apt-get install -y postgresql`) or the pgserver wheel "
                    "(`uv pip install pgserver` in .venv); or point TARGET_POSTGRES_* at your own "
                    "server."
                )
        if self.backend == "debian":
            self._start_debian()
        else:
            self._start_pgserver()
        self._save_state()
        self._wait_until_accepting()
        return self

    def stop(self) -> None:
        """Stop the server if it runs; the data stays, so a later ``start`` finds the tables."""
        if self.cluster_dir is None or not (self.cluster_dir / "PG_VERSION").exists():
            return
        if not self.is_running():
            return
        self._pg_ctl(["-m", "fast", "-w", "stop"], check=True)

    def destroy(self) -> None:
        """Stop the server and delete its cluster and state (used by tests)."""
        self.stop()
        if self.cluster_dir is not None:
            shutil.rmtree(self.cluster_dir, ignore_errors=True)
        with contextlib.suppress(FileNotFoundError):
            self._state_path.unlink()

    def is_running(self) -> bool:
        if self.cluster_dir is None or not (self.cluster_dir / "PG_VERSION").exists():
            return False
        return self._pg_ctl(["status"], check=False).returncode == 0

    # ------------------------------------------------------------ debian
    def _system_user(self) -> str | None:
        if not _is_root():
            return None
        return DEBIAN_SYSTEM_USER if self.backend == "debian" else "pgserver"

    def _as_server_user(self, argv: list[str]) -> list[str]:
        user = self._system_user()
        if user is None:
            return argv
        return ["runuser", "-u", user, "--", *argv]

    def _start_debian(self) -> None:
        assert self.bin_dir is not None
        if not port_is_free(self.port):
            raise LocalPostgresError(
                f"Port {self.port} on 127.0.0.1 is already in use; pick another with --port (or LOCALPG_PORT)."
            )
        if self.cluster_dir is None:
            self.cluster_dir = self._choose_cluster_dir()
        user = self._system_user()
        if user is not None:
            try:
                entry = pwd.getpwnam(user)
            except KeyError as exc:
                raise LocalPostgresError(
                    f"Running as root but there is no '{user}' system user to run PostgreSQL as "
                    "(the Debian postgresql package creates it)."
                ) from exc
            self.cluster_dir.mkdir(parents=True, exist_ok=True)
            os.chown(self.cluster_dir, entry.pw_uid, entry.pw_gid)
            self.cluster_dir.chmod(0o700)
        else:
            self.cluster_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not (self.cluster_dir / "PG_VERSION").exists():
            self._run(
                self._as_server_user(
                    [
                        str(self.bin_dir / "initdb"),
                        "-D",
                        str(self.cluster_dir),
                        "-U",
                        SUPERUSER,
                        "--auth=trust",
                        "-E",
                        "UTF8",
                        "--locale=C.UTF-8",
                        "--no-sync",
                    ]
                ),
                "initdb",
            )
        server_options = " ".join(
            [
                f"-p {self.port}",
                "-c listen_addresses=127.0.0.1",
                # TCP only: the default socket folder (/var/run/postgresql) may not be ours.
                "-c unix_socket_directories=''",
                "-c TimeZone=UTC",
                "-c fsync=off",
                "-c synchronous_commit=off",
                "-c full_page_writes=off",
                "-c max_connections=200",
            ]
        )
        self._pg_ctl(
            [
                "-o",
                server_options,
                "-l",
                str(self.cluster_dir / "server.log"),
                "-w",
                "-t",
                "60",
                "start",
            ],
            check=True,
        )

    def _choose_cluster_dir(self) -> Path:
        preferred = self.data_dir / "cluster"
        if not _is_root() or _reachable_by_others(self.data_dir):
            return preferred
        # As root, the postgres user cannot enter e.g. /root: use the system temp folder.
        return _temp_cluster_dir(self.data_dir, "debian")

    def _pg_ctl(self, args: list[str], *, check: bool) -> subprocess.CompletedProcess[str]:
        assert self.cluster_dir is not None
        if self.backend == "pgserver":
            pg_ctl = str(Path(_import_pgserver()._commands.POSTGRES_BIN_PATH) / "pg_ctl")
        else:
            assert self.bin_dir is not None
            pg_ctl = str(self.bin_dir / "pg_ctl")
        argv = self._as_server_user([pg_ctl, "-D", str(self.cluster_dir), *args])
        # pg_ctl start leaves the postmaster holding inherited pipes: capture through a file.
        with tempfile.TemporaryFile("w+") as out:
            proc = subprocess.run(
                argv,
                stdout=out,
                stderr=subprocess.STDOUT,
                text=True,
                stdin=subprocess.DEVNULL,
                cwd=tempfile.gettempdir(),
                check=False,
            )
            out.seek(0)
            output = out.read()
        result = subprocess.CompletedProcess(argv, proc.returncode, output, "")
        if check and proc.returncode != 0:
            log = self._server_log_tail()
            raise LocalPostgresError(f"pg_ctl {' '.join(args[-1:])} failed:\n{output}\n{log}")
        return result

    def _server_log_tail(self) -> str:
        if self.cluster_dir is None:
            return ""
        for name in ("server.log", "log"):
            path = self.cluster_dir / name
            with contextlib.suppress(OSError):
                return "server log:\n" + "\n".join(path.read_text().splitlines()[-20:])
        return ""

    def _run(self, argv: list[str], what: str) -> None:
        proc = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            cwd=tempfile.gettempdir(),
            check=False,
        )
        if proc.returncode != 0:
            raise LocalPostgresError(f"{what} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")

    # ------------------------------------------------------------ pgserver
    def _start_pgserver(self) -> None:
        pgserver = _import_pgserver()
        if self.cluster_dir is None:
            # As root, pgserver opens read/traverse permission on every parent of its folder:
            # keep it in the system temp folder rather than widen the repo's parents.
            self.cluster_dir = _temp_cluster_dir(self.data_dir, "pgserver") if _is_root() else self.data_dir / "cluster"
        self.cluster_dir.parent.mkdir(parents=True, exist_ok=True)
        server = pgserver.get_server(self.cluster_dir, cleanup_mode=None)
        info = server.get_postmaster_info()
        self.socket_dir = Path(info.socket_dir) if info.socket_dir else self.cluster_dir
        # The socket file is named after the server's port (always 5432 in pgserver).
        self.port = int(info.port) if info.port else 5432

    # ------------------------------------------------------------ clients
    def _require_started(self) -> None:
        if self.backend is None or self.cluster_dir is None:
            raise LocalPostgresError(
                f"No local PostgreSQL has been started from {self.data_dir}; run "
                "`python -m devtools.localpg start` first."
            )

    def sqlalchemy_url(self, database: str = DEFAULT_DATABASE) -> str:
        """SQLAlchemy URL (psycopg 3) that target-postgres and Meltano accept."""
        self._require_started()
        if self.backend == "pgserver":
            return f"postgresql+psycopg://{SUPERUSER}:{PASSWORD}@/{database}?host={self.socket_dir}&port={self.port}"
        return f"postgresql+psycopg://{SUPERUSER}:{PASSWORD}@127.0.0.1:{self.port}/{database}"

    def conninfo(self, database: str = DEFAULT_DATABASE) -> str:
        """libpq connection string for psycopg / psql."""
        self._require_started()
        host = str(self.socket_dir) if self.backend == "pgserver" else "127.0.0.1"
        return f"host={host} port={self.port} user={SUPERUSER} password={PASSWORD} dbname={database}"

    def psql_command(self, database: str = DEFAULT_DATABASE) -> str:
        """A shell command that opens psql on ``database``."""
        self._require_started()
        psql = shutil.which("psql")
        if psql is None and self.backend == "pgserver":
            psql = str(Path(_import_pgserver()._commands.POSTGRES_BIN_PATH) / "psql")
        host = str(self.socket_dir) if self.backend == "pgserver" else "127.0.0.1"
        return " ".join(
            shlex.quote(part)
            for part in [
                psql or "psql",
                "-h",
                host,
                "-p",
                str(self.port),
                "-U",
                SUPERUSER,
                database,
            ]
        )

    def connect(self, database: str = DEFAULT_DATABASE, **kwargs: Any) -> Any:
        """A psycopg connection (psycopg 3 is a dev dependency)."""
        import psycopg

        return psycopg.connect(self.conninfo(database), **kwargs)

    def create_database(self, name: str) -> None:
        """Create ``name`` unless it exists."""
        with self.connect("postgres", autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{name}"')

    def _wait_until_accepting(self, timeout: float = 30.0) -> None:
        try:
            import psycopg
        except ImportError:
            return
        deadline = time.monotonic() + timeout
        while True:
            try:
                with psycopg.connect(self.conninfo("postgres"), connect_timeout=3):
                    return
            except psycopg.OperationalError as exc:
                if time.monotonic() > deadline:
                    raise LocalPostgresError(f"PostgreSQL did not accept connections: {exc}") from exc
                time.sleep(0.2)


def _from_env(args: argparse.Namespace) -> LocalPostgres:
    return LocalPostgres(args.data_dir, args.port)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devtools.localpg",
        description="Start/stop a local PostgreSQL for the quickstart (no Docker).",
    )
    parser.add_argument("command", choices=["start", "stop", "status", "url", "psql", "destroy"])
    parser.add_argument(
        "--data-dir",
        default=os.environ.get("LOCALPG_DATA_DIR", str(DEFAULT_DATA_DIR)),
        help="folder for the server's state (default: .pgdata in the repo; env LOCALPG_DATA_DIR)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("LOCALPG_PORT", DEFAULT_PORT)),
        help=f"TCP port on 127.0.0.1 (default {DEFAULT_PORT}; env LOCALPG_PORT)",
    )
    parser.add_argument(
        "--database",
        default=DEFAULT_DATABASE,
        help=f"database to create on start / name in url and psql (default {DEFAULT_DATABASE})",
    )
    args = parser.parse_args(argv)
    pg = _from_env(args)
    try:
        if args.command == "start":
            already = pg.is_running()
            pg.start()
            pg.create_database(args.database)
            verb = "already running" if already else "started"
            print(
                f"PostgreSQL ({pg.backend}) {verb}: {pg.sqlalchemy_url(args.database)}",
                file=sys.stderr,
            )
        elif args.command == "stop":
            running = pg.is_running()
            pg.stop()
            print("PostgreSQL stopped." if running else "PostgreSQL was not running.", file=sys.stderr)
        elif args.command == "destroy":
            pg.destroy()
            print("PostgreSQL stopped and its data deleted.", file=sys.stderr)
        elif args.command == "status":
            if pg.is_running():
                print(f"running ({pg.backend}, cluster {pg.cluster_dir}, port {pg.port})")
                return 0
            print("stopped")
            return 3
        elif args.command == "url":
            print(pg.sqlalchemy_url(args.database))
        elif args.command == "psql":
            print(pg.psql_command(args.database))
    except LocalPostgresError as exc:
        print(f"localpg: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
