# Shared setup for scripts/quickstart.sh and scripts/test.sh. Source it from the repo root.
#
#   setup_venv              .venv with the tap and its dev extras (fast when already done)
#   ensure_postgres_server  a PostgreSQL server devtools.localpg can start (Debian package or pgserver)

VENV="${VENV:-.venv}"
PY="$VENV/bin/python"

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

setup_venv() {
    if [ ! -x "$PY" ]; then
        log "Creating $VENV"
        python3 -m venv "$VENV"
    fi
    if [ ! -x "$VENV/bin/uv" ]; then
        log "Installing uv into $VENV"
        "$PY" -m pip install --quiet --disable-pip-version-check uv
    fi
    # Reinstall only when pyproject.toml changed since the last install (or the tap is missing).
    local stamp="$VENV/.tap-callrail-installed"
    local want
    want="$(sha256sum pyproject.toml | cut -d' ' -f1)"
    if [ ! -x "$VENV/bin/tap-callrail" ] || [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
        log "Installing tap-callrail and its dev dependencies into $VENV"
        "$VENV/bin/uv" pip install --quiet --python "$PY" -e '.[dev]'
        echo "$want" > "$stamp"
    fi
}

_postgres_server_found() {
    "$PY" -c 'import sys
from devtools.localpg import find_server_binaries, pgserver_available
sys.exit(0 if find_server_binaries() or pgserver_available() else 1)'
}

ensure_postgres_server() {
    if _postgres_server_found; then
        return 0
    fi
    # As root with apt (CI, fresh Debian machines): the Debian server package. Otherwise, or if apt
    # fails: the pgserver wheel inside the venv, which needs no privileges.
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        log "No PostgreSQL server binaries: installing the Debian package 'postgresql'"
        if apt-get update -qq >&2 \
            && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
                postgresql >&2 \
            && _postgres_server_found; then
            return 0
        fi
        log "apt-get could not install PostgreSQL; falling back to the pgserver wheel"
    fi
    log "Installing the pgserver wheel (PostgreSQL in a Python wheel) into $VENV"
    "$VENV/bin/uv" pip install --quiet --python "$PY" pgserver
    _postgres_server_found
}
