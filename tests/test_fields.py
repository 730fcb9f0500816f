"""`fields=`: exactly the optional fields selected in the catalog, and only documented names."""

from __future__ import annotations

import pytest

from callrail_emulator import Emulator
from tap_callrail.schemas import OPTIONAL_FIELDS
from tests.callrail import (
    base_config,
    deselect_properties,
    discovered_catalog,
    populate,
    run_sync,
    select_streams,
    sent,
)


def _fields(fake: Emulator, stream: str) -> list[set[str] | None]:
    return [set(r.params["fields"].split(",")) if "fields" in r.params else None for r in sent(fake, stream)]


def test_calls_request_every_optional_field_when_all_are_selected(fake: Emulator) -> None:
    populate(fake, accounts=1)

    run_sync(base_config(), streams={"calls"})

    assert _fields(fake, "calls") == [set(OPTIONAL_FIELDS["calls"])]


def test_a_field_deselected_in_the_catalog_leaves_the_request_and_the_records(fake: Emulator) -> None:
    populate(fake, accounts=1)
    config = base_config()
    catalog = deselect_properties(select_streams(config, {"calls"}), "calls", {"note", "value"})

    result = run_sync(config, catalog=catalog)

    assert _fields(fake, "calls") == [set(OPTIONAL_FIELDS["calls"]) - {"note", "value"}]
    assert result.records("calls")
    assert all("value" not in r and "note" not in r for r in result.records("calls"))


@pytest.mark.parametrize("stream", ["calls", "form_submissions", "trackers", "companies", "text_messages"])
def test_deselecting_every_optional_field_drops_the_fields_parameter(fake: Emulator, stream: str) -> None:
    populate(fake, accounts=1)
    config = base_config()
    catalog = deselect_properties(select_streams(config, {stream}), stream, set(OPTIONAL_FIELDS[stream]))

    run_sync(config, catalog=catalog)

    assert sent(fake, stream)
    assert _fields(fake, stream) == [None] * len(sent(fake, stream))


def test_configured_accounts_request_numeric_id_only_when_selected(fake: Emulator) -> None:
    populate(fake, accounts=1)
    config = base_config(account_ids=["ACC01"])
    catalog = deselect_properties(select_streams(config, {"accounts"}), "accounts", {"numeric_id"})

    run_sync(config, streams={"accounts"})
    run_sync(config, catalog=catalog)

    asked = [r.params.get("fields") for r in sent(fake, "account")]
    assert "numeric_id" in asked
    assert asked[-1] is None


def test_fields_never_name_anything_outside_the_documented_optional_fields(fake: Emulator) -> None:
    fake.set_paging(page_size=2)
    populate(fake)

    run_sync(base_config())

    asked = [r for r in sent(fake) if "fields" in r.params]
    assert {r.stream for r in asked} >= {"calls", "form_submissions", "trackers", "companies", "text_messages"}
    for request in asked:
        stream = "accounts" if request.stream == "account" else str(request.stream)
        assert set(request.params["fields"].split(",")) <= OPTIONAL_FIELDS[stream], request


@pytest.mark.parametrize("stream", [s for s, names in OPTIONAL_FIELDS.items() if not names])
def test_streams_without_optional_fields_send_no_fields_parameter(fake: Emulator, stream: str) -> None:
    populate(fake, accounts=1)

    # Lead timelines are read for the leads the run's calls name.
    run_sync(base_config(), streams={stream, "calls"} if stream == "lead_timelines" else {stream})

    assert sent(fake, stream)
    assert all("fields" not in r.params for r in sent(fake, stream))


def test_single_call_only_fields_are_not_part_of_the_calls_stream() -> None:
    catalog = discovered_catalog(base_config())
    calls = next(s for s in catalog["streams"] if s["tap_stream_id"] == "calls")

    for name in ("conversational_transcript", "integration_data"):
        assert name not in OPTIONAL_FIELDS["calls"]
        assert name not in calls["schema"]["properties"]
