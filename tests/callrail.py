"""The CallRail the unit tests talk to: the emulator, answering through requests-mock, no sockets.

`serve` hands every request for the fake API's host to `Emulator.dispatch`, exactly as the
emulator's HTTP server does for the end-to-end tests, so both see the very same CallRail: its
paging, date windows, filters, `fields=` and errors all come from `callrail_emulator/`. What a
test sets (accounts, records, paging, failures, hooks) it sets on the emulator itself
(callrail_emulator/README.md). Also here: running the tap in-process, and a standard data set.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
import requests_mock

from callrail_emulator import Emulator
from callrail_emulator.wire import Request
from tap_callrail.tap import TapCallRail

API_URL = "https://callrail.test/v3"
API_KEY = "sk-test-5e3f9a1c7d"


def serve(emu: Emulator, mocker: requests_mock.Mocker, api_url: str = API_URL) -> None:
    """Answer every request for `api_url`'s host from `emu`, as its HTTP server would."""
    parts = urlsplit(api_url)
    origin = f"{parts.scheme}://{parts.netloc}"

    def answer(request: Any, context: Any) -> bytes:
        url = urlsplit(request.url)
        body = request.body or b""
        response = emu.dispatch(
            Request(
                method=request.method,
                path=url.path,
                query=parse_qs(url.query, keep_blank_values=True),
                headers={name.lower(): value for name, value in request.headers.items()},
                body=body.encode() if isinstance(body, str) else body,
                base_url=origin,
            )
        )
        if response.drop:
            raise requests.exceptions.ConnectionError("the emulator closed the connection without answering")
        context.status_code = response.status
        context.headers.update(response.headers)
        return response.body

    mocker.register_uri(requests_mock.ANY, re.compile(re.escape(origin) + "/"), content=answer)


@dataclass
class Sent:
    """One request the emulator answered, with the last value of each query parameter."""

    path: str
    params: dict[str, str]
    stream: str | None  # a list's stream, `account` or `call` (callrail_emulator/README.md)
    account_id: str | None  # the masked id, however the path named the account


def sent(emu: Emulator, stream: str | None = None, account_id: str | None = None) -> list[Sent]:
    """The requests the emulator answered, optionally of one stream and one account."""
    return [
        Sent(r["path"], {k: v[-1] for k, v in r["query"].items()}, r["stream"], r["account_id"])
        for r in emu.requests
        if stream in (None, r["stream"]) and account_id in (None, r["account_id"])
    ]


# -- running the tap -----------------------------------------------------------------------


@dataclass
class SyncResult:
    """Everything one sync wrote to stdout, parsed."""

    messages: list[dict]
    #: The exception that ended the sync, when run with `raise_errors=False`.
    error: BaseException | None = None

    def records(self, stream: str) -> list[dict]:
        return [m["record"] for m in self.messages if m["type"] == "RECORD" and m["stream"] == stream]

    def of_type(self, kind: str, stream: str | None = None) -> list[dict]:
        return [m for m in self.messages if m["type"] == kind and stream in (None, m.get("stream"))]

    @property
    def state(self) -> dict:
        states = self.of_type("STATE")
        return states[-1]["value"] if states else {}

    def bookmarks(self, stream: str) -> list[dict]:
        """Per-partition bookmarks of a stream in the final state."""
        entry = self.state.get("bookmarks", {}).get(stream, {})
        return entry.get("partitions", [entry] if entry else [])


def base_config(**overrides: Any) -> dict:
    config: dict[str, Any] = {
        "api_key": API_KEY,
        "api_url": API_URL,
        "start_date": "2026-11-01",
        "requests_per_hour": 0,
        "requests_per_day": 0,
        "max_retries": 0,
        "data_quality": "off",
    }
    config.update(overrides)
    return {k: v for k, v in config.items() if v is not None}


def run_sync(
    config: dict,
    *,
    state: dict | None = None,
    catalog: dict | None = None,
    streams: set[str] | None = None,
    raise_errors: bool = True,
) -> SyncResult:
    """Run a whole sync in-process and return its Singer messages.

    `streams` selects only those streams (by deselecting the others in the discovered catalog).
    With `raise_errors=False` a failing sync returns what it wrote before failing, and the error.
    """
    if streams is not None and catalog is None:
        catalog = select_streams(config, streams)
    tap = TapCallRail(config=config, state=state, catalog=catalog, parse_env_config=False)
    out = io.StringIO()
    error = None
    try:
        with contextlib.redirect_stdout(out):
            tap.sync_all()
    except Exception as exc:
        if raise_errors:
            raise
        error = exc
    return SyncResult([json.loads(line) for line in out.getvalue().splitlines() if line.strip()], error)


def discovered_catalog(config: dict) -> dict:
    return TapCallRail(config=config, parse_env_config=False).catalog_dict


def select_streams(config: dict, streams: set[str], catalog: dict | None = None) -> dict:
    """A catalog selecting exactly `streams`, every property of them included."""
    catalog = copy.deepcopy(catalog or discovered_catalog(config))
    for entry in catalog["streams"]:
        for item in entry["metadata"]:
            if item["breadcrumb"] == []:
                item["metadata"]["selected"] = entry["tap_stream_id"] in streams
    return catalog


def deselect_properties(catalog: dict, stream: str, names: set[str]) -> dict:
    """Return a copy of `catalog` with some properties of one stream deselected."""
    catalog = copy.deepcopy(catalog)
    for entry in catalog["streams"]:
        if entry["tap_stream_id"] != stream:
            continue
        for item in entry["metadata"]:
            if item["breadcrumb"][:1] == ["properties"] and item["breadcrumb"][1] in names:
                item["metadata"]["selected"] = False
    return catalog


# -- a standard multi-account, multi-company data set ------------------------------------------


def make_call(n: int, company_id: str, start_time: str, **extra: Any) -> dict:
    """A call as CallRail lists it with every optional field asked for, in its drifting types."""
    call = {
        "id": f"CAL{company_id[3:]}{n:03d}",
        "start_time": start_time,
        "direction": "inbound",
        "answered": True,
        "voicemail": False,
        "duration": 42,
        "customer_name": "Jane Roe",
        "customer_phone_number": "+15555550100",
        "business_phone_number": "+15555550101",
        "tracking_phone_number": "+15555550102",
        "recording": "https://api.callrail.com/v3/a/ACC/calls/CAL/recording.json",
        "recording_duration": "27",
        "company_id": company_id,
        "created_at": start_time,
        "tags": [{"id": 7, "name": "Sales"}, "Follow up"],
        "value": "$1.00",
        "speaker_percent": [{"agent": 40}, {"customer": 60}],
        "keypad_entries": [{"name": "menu", "value": "2"}],
        "milestones": {"first_touch": {"event_date": "2026-11-02T10:00:00.000-05:00", "source": "Google"}},
        "good_lead_call_id": 123456789,
        "lead_status": "good_lead",
    }
    call.update(extra)
    return call


def populate(emu: Emulator, accounts: int = 2) -> None:
    """Two accounts, two companies each, records in every stream, timestamps in CallRail's mixed forms.

    Every dated record lies between 2026-11-10 and 2026-11-24.
    """

    def add(stream: str, account: str, *records: dict) -> None:
        emu.put(stream, account, records)

    for n in range(1, accounts + 1):
        account = f"ACC{n:02d}"
        emu.add_account(account, numeric_id=100000000 + n, name=f"Account {account}")
        companies = [f"COM{n:02d}A", f"COM{n:02d}B"]
        add(
            "companies",
            account,
            *[
                {
                    "id": c,
                    "name": f"Company {c}",
                    "status": "active",
                    "time_zone": "America/New_York",
                    "created_at": "2025-01-01T00:00:00.000Z",
                    "disabled_at": None,
                    "swap_cookie_duration": 6,
                }
                for c in companies
            ],
        )
        add(
            "users",
            account,
            {
                "id": "USRSHARED",
                "email": "owner@example.com",
                "role": "admin",
                "accepted": True,
                "created_at": "2025-02-01T09:00:00.000-05:00",
                "companies": [{"id": c, "name": c} for c in companies],
            },
            {
                "id": f"USR{n:02d}B",
                "email": f"b{n}@example.com",
                "role": "reporting",
                "accepted": False,
                "created_at": "2025-03-01T09:00:00Z",
                "companies": [{"id": companies[1], "name": companies[1]}],
            },
        )
        add(
            "tags",
            account,
            *[
                {
                    "id": 100 * n + i,
                    "name": f"Tag {i}",
                    "tag_level": "company",
                    "company_id": c,
                    "status": "enabled",
                    "created_at": "2025-04-01T08:00:00.000-04:00",
                }
                for i, c in enumerate(companies, start=1)
            ],
            {
                "id": 100 * n + 9,
                "name": "Account tag",
                "tag_level": "account",
                "company_id": None,
                "status": "enabled",
                "created_at": "2025-04-01T08:00:00.000-04:00",
            },
        )
        add(
            "trackers",
            account,
            *[
                {
                    "id": f"TRK{c[3:]}",
                    "name": f"Tracker {c}",
                    "type": "source",
                    "status": "active",
                    "company": {"id": c, "name": c},
                    "tracking_numbers": ["+15555550102"],
                    "call_flow": {"type": "basic", "recording_enabled": True},
                    "source": {"type": "search", "search_engine": "google"},
                    "created_at": "2025-05-01T00:00:00Z",
                }
                for c in companies
            ],
        )
        for c in companies:
            add(
                "calls",
                account,
                make_call(1, c, "2026-11-10T09:15:30.250-05:00", session_uuid=f"{c}-visit", person_id=f"PER{c}1"),
                make_call(2, c, "2026-11-15T14:00:00Z", recording_duration=31, person_id=f"PER{c}1"),
                make_call(3, c, "2026-11-20 03:43:50 -0500", tags=["VIP"], value=None),
                make_call(4, c, "2026-11-24T08:00:00.000-05:00", speaker_percent={"agent": 55, "customer": 45}),
            )
            add(
                "form_submissions",
                account,
                *[
                    {
                        "id": f"FOR{c[3:]}{i}",
                        "company_id": c,
                        "person_id": "anonymous",
                        "form_data": {"name": "Jane", "message": "Call me"},
                        "submitted_at": f"2026-11-{10 + 5 * i:02d}T12:00:00.000Z",
                        "first_form": i == 0,
                        "value": "5",
                        "tags": [{"id": 9, "name": "Web"}],
                    }
                    for i in range(3)
                ],
            )
            add(
                "text_messages",
                account,
                {
                    "id": f"KZ{c[3:]}",
                    "company_id": c,
                    "last_message_at": "2026-11-21T10:00:00.000Z",
                    "state": "active",
                    "recent_messages": [
                        {
                            "direction": "incoming",
                            "content": "Hi",
                            "created_at": "2026-11-21T10:00:00.000Z",
                            "type": "sms",
                            "media_urls": [],
                        }
                    ],
                },
            )
            add(
                "sms_threads",
                account,
                {
                    "id": f"TH{c[3:]}",
                    "company_id": c,
                    "last_message_at": "2026-11-22T10:00:00.000Z",
                    "state": "active",
                    "tags": ["Lead"],
                    "value": 150,
                    "lead_qualification": "good_lead",
                },
            )
            add(
                "sms_thread_messages",
                account,
                *[
                    {
                        "id": f"SCI{c[3:]}{m}",
                        "thread_id": f"TH{c[3:]}",
                        "content": f"Message {m}",
                        "created_at": f"2026-11-2{m}T10:00:00.000Z",
                        "direction": "incoming",
                        "message_type": "sms",
                        "status": "sent",
                        "media_urls": [],
                    }
                    for m in (1, 2)
                ],
            )
            add(
                "leads",
                account,
                {
                    "id": f"PER{c[3:]}",
                    "name": "Jane Roe",
                    "company_id": c,
                    "created_at": "2026-01-05T00:00:00Z",
                },
            )
            add(
                "integrations",
                account,
                {
                    "id": 5000 * n + ord(c[-1]),
                    "company_id": c,  # answers the company_id filter; CallRail prints no company here
                    "type": "Webhooks",
                    "state": "active",
                    "config": {
                        "post_call_webhook": ["https://user:pw@hooks.example.com/in"],
                        "api_key": "thirdparty-secret",
                        "keywords": "plumbing",
                    },
                    "signing_key": "whsec-123",
                },
            )
            add(
                "outbound_caller_ids",
                account,
                {
                    "id": 7000 * n + ord(c[-1]),
                    "company_id": c,
                    "name": "Main line",
                    "phone_number": "+15555550103",
                    "verified": True,
                    "validation_code": "4321",
                    "created_at": "2025-06-01T00:00:00Z",
                },
            )
        add(
            "notifications",
            account,
            {"id": 900 * n + 1, "name": "All calls", "company_id": None, "alert_type": "all", "send_email": True},
            {"id": 900 * n + 2, "name": "Company A", "company_id": companies[0], "alert_type": "vm_only"},
        )
