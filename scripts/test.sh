#!/usr/bin/env bash
# README command 2, on a fresh clone:   bash scripts/test.sh [pytest arguments]
#
# Sets up .venv (fast when it is already there), makes sure a PostgreSQL server can be started for
# the end-to-end tests (Debian package as root, else the pgserver wheel), and runs the whole pytest
# suite, end-to-end tests included. Exits non-zero on any failure, and also when no test ran.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=devtools/bootstrap.sh
source devtools/bootstrap.sh

setup_venv
ensure_postgres_server
export PATH="$PWD/$VENV/bin:$PATH"

status=0
"$PY" -m pytest "$@" || status=$?
if [ "$status" = 5 ]; then
    echo "scripts/test.sh: pytest collected no tests; that is a failure." >&2
fi
exit "$status"
