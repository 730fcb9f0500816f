"""The README's table for users of the old Django integration: the commands not covered elsewhere.

`--start-date/--end-date` (a one-off backfill that leaves the bookmarks as they were),
`--company-id` (`company_ids`) and `--dry-run` (`meltano invoke tap-callrail --test`).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from .pipeline import PIPELINE, utc_naive

pytestmark = pytest.mark.e2e


def test_range_backfill_with_no_state_update_loads_the_range_and_keeps_the_bookmarks(meltano, warehouse, emulator):
    api = emulator(accounts=1)
    emu = api.emu
    schema = suffix = "e2e_backfill"
    state_id = f"{PIPELINE}:{suffix}"
    start = (datetime.now(timezone.utc) - timedelta(days=60)).date()
    end = start + timedelta(days=20)
    meltano.run(schema, api.url, suffix, TAP_CALLRAIL__SELECT='["calls.*"]')
    before = meltano.state(state_id, meltano.env())
    with warehouse.pg.connect(warehouse.database) as conn:
        conn.execute(f'TRUNCATE "{schema}".calls')

    meltano.run(
        schema,
        api.url,
        suffix,
        "--full-refresh",
        "--no-state-update",
        TAP_CALLRAIL__SELECT='["calls.*"]',
        TAP_CALLRAIL_START_DATE=start.isoformat(),
        TAP_CALLRAIL_END_DATE=end.isoformat(),
    )

    assert meltano.state(state_id, meltano.env()) == before
    in_range = {str(c["id"]) for c in emu.records("calls") if start <= utc_naive(c["start_time"]).date() <= end}
    assert in_range, "the emulator has no calls in the range; widen it"
    loaded = set(warehouse.ids(schema, "calls"))
    assert loaded == in_range


def test_company_ids_load_only_those_companies(meltano, warehouse, emulator):
    api = emulator(accounts=1)
    emu = api.emu
    account = emu.account_ids[0]
    company = emu.company_ids(account)[0]
    schema = suffix = "e2e_company_ids"

    meltano.run(
        schema,
        api.url,
        suffix,
        TAP_CALLRAIL__SELECT='["calls.*", "trackers.*", "companies.*"]',
        TAP_CALLRAIL_COMPANY_IDS=json.dumps([company]),
    )

    assert warehouse.ids(schema, "companies") == [company]
    calls = warehouse.query(f'SELECT DISTINCT company_id FROM "{schema}".calls')
    assert calls == [(company,)]
    expected = sorted(str(c["id"]) for c in emu.records("calls", account) if c["company_id"] == company)
    assert warehouse.ids(schema, "calls") == expected
    assert warehouse.deleted(schema) == {}


def test_dry_run_reads_one_record_per_stream_and_writes_nothing(meltano, warehouse, emulator):
    api = emulator()
    schema = "e2e_dry_run"

    proc = meltano.command("invoke", "tap-callrail", "--test", env=meltano.env(schema, api.url))

    records = [
        json.loads(line)
        for line in proc.stdout.splitlines()
        if line.startswith('{"type":"RECORD"') or line.startswith('{"type": "RECORD"')
    ]
    per_stream: dict[str, int] = {}
    for record in records:
        per_stream[record["stream"]] = per_stream.get(record["stream"], 0) + 1
    assert per_stream, proc.stderr[-2000:]
    assert max(per_stream.values()) == 1
    assert warehouse.tables(schema) == set()
    assert "ACTIVATE_VERSION" not in proc.stdout
