"""Entity selection: Meltano's `select` (here TAP_CALLRAIL__SELECT) narrows what is loaded."""

from __future__ import annotations

import pytest

from .pipeline import assert_equals_emulator

pytestmark = pytest.mark.e2e

OTHER_ENDPOINTS = (
    "/companies.json",
    "/users.json",
    "/tags.json",
    "/trackers.json",
    "/form_submissions.json",
    "/text-messages.json",
    "/leads.json",
    "/integrations.json",
    "/notifications.json",
    "/caller_ids.json",
)


def test_selecting_only_calls_loads_only_calls(meltano, warehouse, emulator):
    api = emulator()
    emu = api.emu
    schema = "e2e_select_calls"

    meltano.run(schema, api.url, "select_calls", TAP_CALLRAIL__SELECT='["calls.*"]')

    assert warehouse.tables(schema) == {"calls"}
    assert_equals_emulator(warehouse, schema, emu, streams=("calls",))
    assert {p: emu.request_count(path_contains=p) for p in OTHER_ENDPOINTS} == dict.fromkeys(OTHER_ENDPOINTS, 0)
