#!/usr/bin/env bash
# README command 1, on a fresh clone:   bash scripts/quickstart.sh
#
# Sets up .venv, installs the Meltano plugins, starts a local PostgreSQL (unless you configured
# your own with TARGET_POSTGRES_HOST or TARGET_POSTGRES_SQLALCHEMY_URL), checks the database
# settings, then runs
#   meltano run tap-callrail target-postgres dbt-postgres:build
# (the tables, then the dbt models in transform/: staging views and marts) and prints one answer.
# With no TAP_CALLRAIL_API_KEY (environment or .env) it runs against the bundled CallRail emulator
# instead, in the Meltano environment `demo` (schema callrail_demo, its own state): DEMO DATA, and
# writes .meltano/demo.env (gitignored) so a new shell can rerun the demo with
#   .venv/bin/meltano --env-file .meltano/demo.env --environment demo run tap-callrail target-postgres dbt-postgres:build
# It leaves PostgreSQL (and the emulator) running so you can look at the rows, and prints how to
# stop them.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=devtools/bootstrap.sh
source devtools/bootstrap.sh

setup_venv
export PATH="$PWD/$VENV/bin:$PATH"

log "Installing the Meltano plugins (tap-callrail, target-postgres, dbt-postgres)"
meltano install

eval "$("$PY" -m devtools.quickstart configured)"

stop_hint=()
if [ "$HAVE_TARGET" = 0 ]; then
    ensure_postgres_server
    log "Starting the local PostgreSQL"
    "$PY" -m devtools.localpg start --database warehouse
    TARGET_POSTGRES_SQLALCHEMY_URL="$("$PY" -m devtools.localpg url --database warehouse)"
    export TARGET_POSTGRES_SQLALCHEMY_URL
    stop_hint+=("$VENV/bin/python -m devtools.localpg stop      # stop the local PostgreSQL")
    summary_flags=(--local)
else
    log "Using your PostgreSQL (TARGET_POSTGRES_* from the environment or .env)"
    summary_flags=()
fi

if [ "$HAVE_API_KEY" = 0 ]; then
    environment=demo
    mkdir -p .meltano
    # A demo emulator left running by an earlier quickstart: replace it (same data, same port).
    if [ -s .meltano/emulator.pid ]; then
        old_pid="$(cat .meltano/emulator.pid)"
        if grep -qa callrail_emulator "/proc/$old_pid/cmdline" 2>/dev/null; then
            kill "$old_pid" 2>/dev/null || true
            for _ in $(seq 1 50); do kill -0 "$old_pid" 2>/dev/null || break; sleep 0.1; done
        fi
    fi
    port_file=.meltano/emulator.port
    rm -f "$port_file"
    port=8765
    "$PY" -c "import sys; from devtools.localpg import port_is_free; sys.exit(0 if port_is_free($port) else 1)" \
        || port=0
    nohup "$PY" -m callrail_emulator --host 127.0.0.1 --port "$port" --seed 7 \
        --api-key demo-key --port-file "$port_file" > .meltano/emulator.log 2>&1 &
    emulator_pid=$!
    echo "$emulator_pid" > .meltano/emulator.pid
    for _ in $(seq 1 100); do
        [ -s "$port_file" ] && break
        kill -0 "$emulator_pid" 2>/dev/null || { cat .meltano/emulator.log >&2; exit 1; }
        sleep 0.2
    done
    [ -s "$port_file" ] || { log "The CallRail emulator did not start"; cat .meltano/emulator.log >&2; exit 1; }
    export TAP_CALLRAIL_API_URL="http://127.0.0.1:$(cat "$port_file")/v3"
    export TAP_CALLRAIL_API_KEY=demo-key
    # What a new shell needs to rerun the demo; only `--env-file .meltano/demo.env` reads it.
    "$PY" -m devtools.quickstart demo-env --api-url "$TAP_CALLRAIL_API_URL" --output .meltano/demo.env
    env_file_args=(--env-file .meltano/demo.env)
    stop_hint+=("kill $emulator_pid      # stop the CallRail emulator")
    cat >&2 <<EOF

################################################################################################
##                                                                                            ##
##   DEMO DATA: no TAP_CALLRAIL_API_KEY is configured, so this run reads the bundled CallRail ##
##   EMULATOR at $TAP_CALLRAIL_API_URL, not CallRail.
##   Meltano environment 'demo', target schema 'callrail_demo', its own state.                ##
##   For your real account: put TAP_CALLRAIL_API_KEY=... in .env (see .env.example)           ##
##   and run this script again.                                                               ##
##                                                                                            ##
################################################################################################

EOF
else
    environment="${MELTANO_ENVIRONMENT:-dev}"
    env_file_args=()
    log "Syncing your CallRail account (Meltano environment '$environment')"
fi

log "Checking the database settings"
"$PY" -m devtools.quickstart check-target --environment "$environment" "${env_file_args[@]}" || exit 1
# dbt takes host, port, user, password and database, not a URL: where a URL is set (environment or
# .env), target-postgres uses it, so dbt gets its parts.
if parts="$("$PY" -m devtools.warehouse_env --export 2>/dev/null)"; then
    if [ "$HAVE_TARGET" = 1 ] && [ "$HAVE_API_KEY" = 1 ] && ! "$PY" -m devtools.quickstart configured --parts; then
        log "dbt reads TARGET_POSTGRES_HOST/_PORT/_USER/_PASSWORD/_DATABASE, not the URL: derived for this run;"
        log "for later runs add them to .env with: $PY -m devtools.warehouse_env >> .env"
    fi
    eval "$parts"
fi

pipeline=(tap-callrail target-postgres dbt-postgres:build)
status=0
meltano "${env_file_args[@]}" --environment "$environment" run "${pipeline[@]}" || status=$?

if [ "$status" = 0 ]; then
    "$PY" -m devtools.quickstart summary --environment "$environment" "${summary_flags[@]}" \
        "${env_file_args[@]}" || true
    if [ "$environment" = demo ]; then
        echo -e "\n(The rows above are DEMO DATA from the CallRail emulator.)"
        echo "Rerun the demo in a new shell (while the emulator and PostgreSQL run):"
        echo "  .venv/bin/meltano --env-file .meltano/demo.env --environment demo run ${pipeline[*]}"
    fi
else
    log "meltano run failed (exit $status); see the log above."
    echo "If Meltano refuses because another run of this pipeline still looks alive (a run you" >&2
    echo "interrupted in the last 5 minutes), rerun with: meltano ${env_file_args[*]} --environment $environment run --force ${pipeline[*]}" >&2
fi
if [ "${#stop_hint[@]}" -gt 0 ]; then
    echo -e "\nLeft running for you; to stop:"
    printf '  %s\n' "${stop_hint[@]}"
fi
exit "$status"
