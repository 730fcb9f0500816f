"""Full load: one `meltano run` puts every CallRail entity of every account into PostgreSQL."""

from __future__ import annotations

import pytest

from .pipeline import STREAMS, assert_equals_emulator, utc_naive

pytestmark = pytest.mark.e2e


def test_full_load_equals_the_emulator_for_every_table_and_account(meltano, warehouse, emulator):
    api = emulator()
    emu = api.emu
    schema = "e2e_full_load"

    meltano.run(schema, api.url, "full_load")

    tables = warehouse.tables(schema)
    with_data = {s for s in STREAMS if any(emu.ids(s, a) for a in emu.account_ids)}
    assert with_data <= tables, f"tables missing: {sorted(with_data - tables)}"
    assert_equals_emulator(warehouse, schema, emu)
    assert warehouse.deleted(schema) == {}


def test_full_load_keeps_values_timestamps_as_instants_and_objects_as_json(meltano, warehouse, emulator):
    api = emulator(seed=11)
    emu = api.emu
    schema = "e2e_full_load_values"

    meltano.run(schema, api.url, "full_load_values")

    checked = 0
    for account_id in emu.account_ids:
        for call in emu.records("calls", account_id)[::29]:
            row = warehouse.query(
                f"SELECT start_time, duration, customer_phone_number, jsonb_typeof(milestones), "
                f"milestones #>> '{{first_touch,source}}', "
                f"(milestones #>> '{{first_touch,event_date}}') "
                f'FROM "{schema}".calls WHERE id = %s',
                (call["id"],),
            )
            assert len(row) == 1, f"call {call['id']} not loaded exactly once"
            start_time, duration, phone, milestones_type, first_source, first_date = row[0]
            # CallRail sends start_time with the offset of the requested zone; same instant.
            assert start_time == utc_naive(call["start_time"])
            assert duration == (None if call.get("duration") is None else int(call["duration"]))
            assert phone == call.get("customer_phone_number")
            milestones = call.get("milestones")
            if milestones:
                assert milestones_type == "object"
                first_touch = milestones.get("first_touch") or {}
                assert first_source == first_touch.get("source")
                assert utc_naive(first_date) == utc_naive(first_touch.get("event_date"))
            checked += 1
        for form in emu.records("form_submissions", account_id)[::7]:
            (submitted_at,) = warehouse.query(
                f'SELECT submitted_at FROM "{schema}".form_submissions WHERE id = %s',
                (form["id"],),
            )[0]
            assert submitted_at == utc_naive(form["submitted_at"])
    assert checked >= 10
