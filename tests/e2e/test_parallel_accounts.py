"""Scale-out: one Meltano job per account, at the same time, state in a shared PostgreSQL.

Meltano keeps a plugin's catalog and state files in `.meltano/run/<plugin>/`, shared by every
run in one project folder: two concurrent runs there overwrite each other's catalog (seen:
"Invalid catalog"). So each job gets its own `MELTANO_SYS_DIR_ROOT` (as separate machines or
checkouts would), and only the system database, on PostgreSQL, is shared.
"""

from __future__ import annotations

import json

import pytest

from .pipeline import PIPELINE, STREAMS, assert_equals_emulator

pytestmark = pytest.mark.e2e


def test_one_job_per_account_runs_in_parallel_with_state_in_postgres(meltano, warehouse, emulator, scratch):
    api = emulator()
    emu = api.emu
    warehouse.pg.create_database("meltano_system")
    system_db = {"MELTANO_DATABASE_URI": warehouse.pg.sqlalchemy_url("meltano_system")}
    # Create the system tables once, before two jobs would race to migrate them.
    meltano.command("state", "list", env=meltano.env(**system_db))

    jobs = {}
    for n, account_id in enumerate(emu.account_ids):
        schema, suffix = f"e2e_parallel_{n}", f"account-{n}"
        env = meltano.env(
            schema,
            api.url,
            TAP_CALLRAIL_ACCOUNT_IDS=json.dumps([account_id]),
            MELTANO_SYS_DIR_ROOT=str(scratch / f"meltano-sys-{n}"),
            **system_db,
        )
        meltano.command("install", env=env, timeout=900)
        jobs[account_id] = (schema, suffix, env)

    running = []
    for _schema, suffix, env in jobs.values():
        args = ["run", "--state-id-suffix", suffix, "tap-callrail", "target-postgres"]
        log = scratch / f"{suffix}.log"
        running.append((suffix, log, meltano.popen(args, env, log)))
    for suffix, log, proc in running:
        assert proc.wait(timeout=900) == 0, f"{suffix} failed:\n{log.read_text()[-3000:]}"

    for account_id, (schema, suffix, _) in jobs.items():
        assert_equals_emulator(warehouse, schema, emu, accounts=[account_id])
        for stream in warehouse.tables(schema) & set(STREAMS):
            column = "id" if stream == "accounts" else "account_id"
            (others,) = warehouse.query(
                f'SELECT count(*) FROM "{schema}"."{stream}" WHERE {column}::text <> %s',
                (account_id,),
            )[0]
            assert others == 0, f"{schema}.{stream} holds rows of another account"
        assert warehouse.deleted(schema) == {}
        state = meltano.state(f"{PIPELINE}:{suffix}", meltano.env(**system_db))
        partitions = state["bookmarks"]["calls"]["partitions"]
        assert [p["context"]["account_id"] for p in partitions] == [account_id]

    listed = meltano.command("state", "list", env=meltano.env(**system_db)).stdout
    for _, suffix, _ in jobs.values():
        assert f"{PIPELINE}:{suffix}" in listed
