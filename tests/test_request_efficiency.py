"""Every list is requested once per run: the scope reuses what the accounts and companies streams read.

CallRail allows 1,000 requests an hour; a run asks for each page once (issue 6, benchmarks/).
"""

from __future__ import annotations

from collections import Counter

from callrail_emulator import Emulator
from tap_callrail.schemas import SCHEMAS
from tests.callrail import base_config, populate, run_sync, sent

# calls_timeseries is synced before companies (the SDK syncs in name order) and needs the company
# time zones: its due run lists each account's companies once more (test_calls_timeseries.py).
ALL_STREAMS = set(SCHEMAS) - {"calls_timeseries"}


def request_counts(fake: Emulator) -> Counter[tuple[str | None, str | None, str]]:
    return Counter((r.path, r.params.get("company_id"), r.params.get("page", "")) for r in sent(fake))


def test_a_full_sync_requests_every_page_once(fake: Emulator) -> None:
    populate(fake)

    result = run_sync(base_config(), streams=ALL_STREAMS)

    assert result.records("integrations") and result.records("outbound_caller_ids")
    repeated = {request: n for request, n in request_counts(fake).items() if n > 1}
    assert repeated == {}
    assert len(sent(fake, "companies")) == 2  # one per account, shared with the per-company streams


def test_configured_accounts_are_fetched_once_each(fake: Emulator) -> None:
    populate(fake)

    result = run_sync(base_config(account_ids=["100000001", "ACC02"]), streams={"accounts", "leads"})

    assert sorted(r["id"] for r in result.records("accounts")) == ["ACC01", "ACC02"]
    assert sorted(r.path for r in sent(fake, "account")) == ["/v3/a/100000001.json", "/v3/a/ACC02.json"]


def test_per_company_streams_list_companies_themselves_when_companies_are_not_synced(fake: Emulator) -> None:
    populate(fake)

    result = run_sync(base_config(), streams={"integrations"})

    assert {r["account_id"] for r in result.records("integrations")} == {"ACC01", "ACC02"}
    assert len(sent(fake, "companies")) == 2
    assert len(sent(fake, "accounts")) == 1
