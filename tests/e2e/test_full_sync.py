"""Full sync: resetting state (`meltano state clear`, `--full-refresh`) re-reads everything."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from .pipeline import PIPELINE, assert_equals_emulator

pytestmark = pytest.mark.e2e


def _now_utc() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(seconds=1)


def _assert_every_call_resent(warehouse, schema: str, since: datetime) -> None:
    # A delta run would re-send only the lookback window; a full sync re-sends every call.
    (oldest,) = warehouse.query(f'SELECT min(_sdc_extracted_at) FROM "{schema}".calls')[0]
    assert oldest is not None and oldest >= since, (oldest, since)


def test_state_clear_and_full_refresh_reread_everything_without_duplicates(meltano, warehouse, emulator):
    api = emulator()
    emu = api.emu
    schema = suffix = "e2e_full_sync"
    state_id = f"{PIPELINE}:{suffix}"
    meltano.run(schema, api.url, suffix)
    assert meltano.state(state_id, meltano.env())["bookmarks"]["calls"]

    meltano.command("state", "clear", "--force", state_id, env=meltano.env())
    assert meltano.state(state_id, meltano.env()).get("bookmarks") in (None, {})
    since = _now_utc()
    meltano.run(schema, api.url, suffix)
    _assert_every_call_resent(warehouse, schema, since)
    assert_equals_emulator(warehouse, schema, emu)
    assert warehouse.deleted(schema) == {}

    since = _now_utc()
    meltano.run(schema, api.url, suffix, "--full-refresh")
    _assert_every_call_resent(warehouse, schema, since)
    assert_equals_emulator(warehouse, schema, emu)
    assert warehouse.deleted(schema) == {}
    assert meltano.state(state_id, meltano.env())["bookmarks"]["calls"]
