"""The connection parts dbt needs, derived from TARGET_POSTGRES_SQLALCHEMY_URL.

target-postgres takes a URL or five parts; dbt-postgres takes only the parts
(TARGET_POSTGRES_HOST, _PORT, _USER, _PASSWORD, _DATABASE, read by transform/profiles/profiles.yml).
Where only the URL is set (the quickstart's local server, a Unix socket with the pgserver backend),
this prints the parts for a dotenv file or a shell:

    python -m devtools.warehouse_env            # KEY=value lines (the URL from the environment, else .env)
    eval "$(python -m devtools.warehouse_env --export)"
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
URL_SETTING = "TARGET_POSTGRES_SQLALCHEMY_URL"


def parts_from_url(url: str) -> dict[str, str]:
    """TARGET_POSTGRES_* parts of a SQLAlchemy URL; a Unix socket folder (``?host=/dir``) is the host."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    query_host = parsed.query.get("host")
    query_port = parsed.query.get("port")
    host = (query_host if isinstance(query_host, str) else None) or parsed.host or "localhost"
    port = parsed.port or (query_port if isinstance(query_port, str) else None) or 5432
    parts = {
        "TARGET_POSTGRES_HOST": host,
        "TARGET_POSTGRES_PORT": str(port),
        "TARGET_POSTGRES_USER": parsed.username or "",
        "TARGET_POSTGRES_PASSWORD": parsed.password or "",
        "TARGET_POSTGRES_DATABASE": parsed.database or "",
    }
    return {key: value for key, value in parts.items() if value}


def dotenv_line(key: str, value: str) -> str:
    """KEY='value' as python-dotenv (and so Meltano) reads it back."""
    if "${" in value:
        # python-dotenv expands ${NAME} even inside single quotes, and has no escape for it.
        raise ValueError(f"{key} holds '${{', which a dotenv file cannot keep; set it in the environment")
    escaped = value.replace("\\", "\\\\").replace("'", "\\'")
    return f"{key}='{escaped}'"


def configured_url() -> str | None:
    """TARGET_POSTGRES_SQLALCHEMY_URL from the environment, else from .env (Meltano's precedence)."""
    from dotenv import dotenv_values

    if os.environ.get(URL_SETTING):
        return os.environ[URL_SETTING]
    dotenv = dotenv_values(ROOT / ".env") if (ROOT / ".env").exists() else {}
    return dotenv.get(URL_SETTING) or None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.warehouse_env", description=__doc__.splitlines()[0])
    parser.add_argument("--export", action="store_true", help="shell `export` lines instead of KEY=value")
    args = parser.parse_args(argv)
    url = configured_url()
    if not url:
        print(f"warehouse_env: {URL_SETTING} is not set (environment or .env)", file=sys.stderr)
        return 1
    for key, value in parts_from_url(url).items():
        print(f"export {key}={shlex.quote(value)}" if args.export else dotenv_line(key, value))
    return 0


if __name__ == "__main__":
    sys.exit(main())
