"""Which accounts and companies a run reads: discovery, `account_ids`, `company_ids`."""

from __future__ import annotations

import pytest

from callrail_emulator import Emulator
from tap_callrail.errors import CallRailConfigError
from tests.callrail import base_config, populate, run_sync, sent

COMPANY_STREAMS = ("calls", "trackers", "users", "leads", "form_submissions", "text_messages")


# -- accounts ------------------------------------------------------------------------------


def test_accounts_are_discovered_across_every_page_of_the_accounts_list(fake: Emulator) -> None:
    fake.set_paging(page_size=2)
    for n in range(1, 6):
        fake.add_account(f"ACC{n:02d}")
        fake.put("leads", f"ACC{n:02d}", [{"id": f"PER{n}"}])

    result = run_sync(base_config(), streams={"accounts", "leads"})

    assert sorted(r["id"] for r in result.records("accounts")) == [f"ACC{n:02d}" for n in range(1, 6)]
    assert sorted(r["account_id"] for r in result.records("leads")) == [f"ACC{n:02d}" for n in range(1, 6)]
    # Read once, by the accounts stream; the scope reuses that list (tests/test_request_efficiency.py).
    assert [r.params["page"] for r in sent(fake, "accounts")] == ["1", "2", "3"]


def test_numeric_account_id_is_normalised_to_the_masked_id(fake: Emulator) -> None:
    populate(fake)

    result = run_sync(base_config(account_ids=["100000001"]), streams={"accounts", "leads", "calls"})

    assert [r["id"] for r in result.records("accounts")] == ["ACC01"]
    assert {r["account_id"] for r in result.records("leads")} == {"ACC01"}
    assert {r["account_id"] for r in result.records("calls")} == {"ACC01"}
    assert [p["context"] for p in result.bookmarks("calls")] == [{"account_id": "ACC01"}]
    list_paths = {r.path for r in sent(fake) if r.stream not in ("account", "accounts")}
    assert list_paths and all(path.startswith("/v3/a/ACC01/") for path in list_paths), list_paths


def test_numeric_and_masked_id_of_one_account_collapse_into_one(fake: Emulator) -> None:
    populate(fake)

    result = run_sync(base_config(account_ids=["100000001", "ACC01"]), streams={"accounts", "leads", "calls"})

    assert [r["id"] for r in result.records("accounts")] == ["ACC01"]
    assert len(result.records("leads")) == len({r["id"] for r in result.records("leads")}) == 2
    assert len(sent(fake, "leads")) == 1
    assert len(result.bookmarks("calls")) == 1


def test_unknown_account_id_stops_the_run_naming_it(fake: Emulator) -> None:
    populate(fake)

    with pytest.raises(CallRailConfigError) as raised:
        run_sync(base_config(account_ids=["ACC01", "ACC77"]), streams={"accounts", "leads"})

    message = str(raised.value)
    assert "ACC77" in message
    assert "account_ids" in message
    assert "\n" not in message


def test_account_the_key_cannot_see_stops_the_run_naming_it(fake: Emulator) -> None:
    populate(fake)
    fake.persistent_fault(403, "/v3/a/ACC02.json")

    with pytest.raises(CallRailConfigError, match="ACC02"):
        run_sync(base_config(account_ids=["ACC02"]), streams={"accounts", "leads"})


# -- companies -------------------------------------------------------------------------------


@pytest.mark.parametrize("stream", COMPANY_STREAMS)
def test_company_ids_are_sent_as_company_id_on_each_company_filtered_endpoint(fake: Emulator, stream: str) -> None:
    populate(fake)

    run_sync(base_config(company_ids=["COM01A", "COM02B"]), streams={stream})

    asked = {(r.account_id, r.params.get("company_id")) for r in sent(fake, stream)}
    assert asked == {("ACC01", "COM01A"), ("ACC02", "COM02B")}


@pytest.mark.parametrize("stream", COMPANY_STREAMS)
def test_company_ids_keep_other_companies_records_out(fake: Emulator, stream: str) -> None:
    populate(fake)

    result = run_sync(base_config(company_ids=["COM01A"]), streams={stream})

    records = result.records(stream)
    assert records
    for record in records:
        companies = {record.get("company_id"), (record.get("company") or {}).get("id")}
        companies |= {c["id"] for c in record.get("companies") or []}
        assert "COM01A" in companies, record


def test_tags_read_configured_companies_plus_the_account_level_tags(fake: Emulator) -> None:
    populate(fake)

    result = run_sync(base_config(company_ids=["COM01A"]), streams={"tags"})

    series = [(r.params.get("company_id"), r.params.get("tag_level")) for r in sent(fake, "tags", "ACC01")]
    assert sorted(series, key=str) == sorted([("COM01A", None), (None, "account")], key=str)
    acc01 = [t for t in result.records("tags") if t["account_id"] == "ACC01"]
    assert sorted((t["name"], t["tag_level"]) for t in acc01) == [
        ("Account tag", "account"),
        ("Tag 1", "company"),
    ]


def test_companies_stream_emits_only_the_configured_companies(fake: Emulator) -> None:
    populate(fake)

    result = run_sync(base_config(company_ids=["COM01B", "COM02A"]), streams={"companies"})

    assert sorted(r["id"] for r in result.records("companies")) == ["COM01B", "COM02A"]


def test_notifications_stay_account_wide_when_company_ids_are_set(fake: Emulator) -> None:
    populate(fake)

    result = run_sync(base_config(company_ids=["COM01B"]), streams={"notifications"})

    assert all("company_id" not in r.params for r in sent(fake, "notifications"))
    acc01 = [r for r in result.records("notifications") if r["account_id"] == "ACC01"]
    assert sorted(r["name"] for r in acc01) == ["All calls", "Company A"]


def test_unknown_company_id_stops_the_run_naming_it(fake: Emulator) -> None:
    populate(fake)

    with pytest.raises(CallRailConfigError) as raised:
        run_sync(base_config(company_ids=["COM01A", "COM99Z"]), streams={"calls"})

    message = str(raised.value)
    assert "COM99Z" in message
    assert "company_ids" in message
    assert "\n" not in message


def test_user_of_two_configured_companies_is_emitted_once(fake: Emulator) -> None:
    populate(fake)

    result = run_sync(base_config(company_ids=["COM01A", "COM01B"]), streams={"users"})

    acc01 = [r["id"] for r in result.records("users") if r["account_id"] == "ACC01"]
    assert len(sent(fake, "users", "ACC01")) == 2  # one series per company
    assert sorted(acc01) == ["USR01B", "USRSHARED"]


@pytest.mark.parametrize(("stream", "key"), [("calls", "start_time"), ("form_submissions", "submitted_at")])
def test_incremental_bookmarks_are_kept_per_account_and_company(fake: Emulator, stream: str, key: str) -> None:
    populate(fake)
    fake.put("calls", "ACC01", [{"id": "CALLATE", "company_id": "COM01B", "start_time": "2026-11-25T00:00:00Z"}])
    fake.put(
        "form_submissions",
        "ACC01",
        [{"id": "FORLATE", "company_id": "COM01B", "submitted_at": "2026-11-25T00:00:00Z"}],
    )

    result = run_sync(base_config(company_ids=["COM01A", "COM01B", "COM02A"]), streams={stream})

    bookmarks = {
        (p["context"]["account_id"], p["context"]["company_id"]): p["replication_key_value"]
        for p in result.bookmarks(stream)
    }
    expected: dict[tuple[str, str], str] = {}
    for record in result.records(stream):
        partition = (record["account_id"], record["company_id"])
        expected[partition] = max(expected.get(partition, ""), record[key])
    assert set(bookmarks) == {("ACC01", "COM01A"), ("ACC01", "COM01B"), ("ACC02", "COM02A")}
    assert bookmarks == expected
    assert bookmarks[("ACC01", "COM01B")] == "2026-11-25T00:00:00.000000Z"


def test_company_scoped_fan_outs_are_read_once_per_company_of_the_account(fake: Emulator) -> None:
    populate(fake)

    result = run_sync(base_config(), streams={"integrations", "outbound_caller_ids"})

    for stream in ("integrations", "outbound_caller_ids"):
        asked = sorted((r.account_id, r.params["company_id"]) for r in sent(fake, stream))
        assert asked == [("ACC01", "COM01A"), ("ACC01", "COM01B"), ("ACC02", "COM02A"), ("ACC02", "COM02B")]
        assert sorted(r["company_id"] for r in result.records(stream)) == ["COM01A", "COM01B", "COM02A", "COM02B"]


@pytest.mark.parametrize("stream", ["integrations", "outbound_caller_ids"])
def test_company_ids_restrict_the_per_company_fan_outs(fake: Emulator, stream: str) -> None:
    populate(fake)

    result = run_sync(base_config(company_ids=["COM01A"]), streams={stream})

    assert {r.params["company_id"] for r in sent(fake, stream)} == {"COM01A"}
    assert {r["company_id"] for r in result.records(stream)} == {"COM01A"}
