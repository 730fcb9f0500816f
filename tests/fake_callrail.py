"""A small in-process fake of CallRail API v3 on requests-mock, and a way to run the tap on it.

The fake serves what the tap asks for the way CallRail documents it (callrail-api.md §2, §4):
offset pages sliced by `page`/`per_page`, `company_id` and `tag_level` filters, the date filter of
calls, form submissions and conversations (both ends inclusive, minute resolution, 7 days when no
dates are sent), `sort=…&order=asc`, 401 for a wrong key and 400 for `per_page` over 250 or a
missing `company_id` on integrations/caller_ids. Tests add records, make an endpoint answer an
error, or hook a page to change the data while the tap pages through it. Keys of stored records that
start with `_` are the fake's own (e.g. `_company` for integrations, which carry no company_id)
and are never served.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests_mock

from tap_callrail.tap import TapCallRail

API_URL = "https://callrail.test/v3"
API_KEY = "sk-test-5e3f9a1c7d"

# stream name -> (file name under /a/{account_id}/, item key, date-filtered field)
ENDPOINTS: dict[str, tuple[str, str, str | None]] = {
    "companies": ("companies.json", "companies", None),
    "users": ("users.json", "users", None),
    "tags": ("tags.json", "tags", None),
    "trackers": ("trackers.json", "trackers", None),
    "calls": ("calls.json", "calls", "start_time"),
    "form_submissions": ("form_submissions.json", "form_submissions", "submitted_at"),
    "text_messages": ("text-messages.json", "conversations", "last_message_at"),
    "leads": ("leads.json", "leads", None),
    "integrations": ("integrations.json", "integrations", None),
    "notifications": ("notifications.json", "notifications", None),
    "outbound_caller_ids": ("caller_ids.json", "caller_ids", None),
}
STREAM_BY_FILE = {file: stream for stream, (file, _, _) in ENDPOINTS.items()}
REQUIRES_COMPANY = {"integrations", "outbound_caller_ids"}
# CallRail ignores company_id on these (callrail-api.md §4).
NO_COMPANY_FILTER = {"companies", "notifications"}
MAX_PER_PAGE = 250

_ACCOUNT_PATH = re.compile(r"^/v3/a/([^/]+)\.json$")
_LIST_PATH = re.compile(r"^/v3/a/([^/]+)/([a-z_-]+\.json)$")


def parse_instant(value: str) -> datetime:
    """A CallRail timestamp (ISO 8601 with offset or Z, or `YYYY-MM-DD HH:MM:SS -0500`)."""
    text = value.strip().replace(" ", "T", 1)
    text = re.sub(r"\s*([+-]\d{2})(\d{2})$", r"\1:\2", text)
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _request_bound(value: str, *, end: bool) -> datetime:
    """CallRail's date filter: a date or `YYYY-MM-DDTHH:MM`, both ends inclusive."""
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        day = datetime.fromisoformat(value).replace(tzinfo=timezone.utc)
        return day + timedelta(days=1) if end else day
    minute = datetime.strptime(value, "%Y-%m-%dT%H:%M").replace(tzinfo=timezone.utc)
    return minute + timedelta(minutes=1) if end else minute


def _company_ids(record: dict) -> set[str]:
    ids = {record.get("company_id"), record.get("_company")}
    if isinstance(record.get("company"), dict):
        ids.add(record["company"].get("id"))
    ids |= {c.get("id") for c in record.get("companies") or [] if isinstance(c, dict)}
    return {str(i) for i in ids if i}


@dataclass
class Request:
    """One request the tap sent, with its query parameters (last value of each)."""

    path: str
    params: dict[str, str]
    stream: str | None
    account_id: str | None


@dataclass
class _Failure:
    status: int
    body: str
    company_id: str | None


@dataclass
class FakeCallRail:
    """CallRail's read API for one API key, served through a started `requests_mock.Mocker`."""

    mocker: requests_mock.Mocker
    api_url: str = API_URL
    api_key: str = API_KEY
    #: Serve at most this many items per page whatever `per_page` says (to get many pages cheaply).
    page_size: int | None = None
    #: Leave `total_pages` out of list bodies (some endpoints do, callrail-api.md §2.1).
    omit_total_pages: bool = False
    #: Leave `total_records` out of list bodies too (no count at all: only a short page ends a series).
    omit_total_records: bool = False
    #: The server's clock, for the 7-day default window when no dates are sent.
    now: datetime = field(default_factory=lambda: datetime(2026, 11, 26, 12, tzinfo=timezone.utc))
    accounts: list[dict] = field(default_factory=list)
    data: dict[tuple[str, str], list[dict]] = field(default_factory=dict)
    failures: dict[tuple[str, str], _Failure] = field(default_factory=dict)
    page_hooks: dict[tuple[str, str, int], Callable[[FakeCallRail], None]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        host = urlsplit(self.api_url)
        self._prefix = f"{host.scheme}://{host.netloc}"
        self.mocker.get(re.compile(re.escape(self._prefix) + "/"), text=self._respond)

    # -- data ------------------------------------------------------------------------

    def add_account(self, account_id: str, numeric_id: int | None = None, name: str = "") -> dict:
        account = {
            "id": account_id,
            "name": name or f"Account {account_id}",
            "outbound_recording_enabled": True,
            "hipaa_account": False,
            "numeric_id": numeric_id,
        }
        self.accounts.append(account)
        return account

    def add(self, stream: str, account_id: str, *records: dict) -> None:
        self.data.setdefault((stream, account_id), []).extend(records)

    def records(self, stream: str, account_id: str) -> list[dict]:
        return self.data.setdefault((stream, account_id), [])

    def fail(
        self,
        stream: str,
        account_id: str,
        status: int,
        body: Any = None,
        *,
        company_id: str | None = None,
    ) -> None:
        """Make an endpoint (optionally only for one company_id) answer with an error status."""
        text = body if isinstance(body, str) else json.dumps(body or {"error": f"HTTP {status}"})
        self.failures[(stream, account_id)] = _Failure(status, text, company_id)

    def after_page(self, stream: str, account_id: str, page: int, hook: Callable[[FakeCallRail], None]) -> None:
        """Run `hook` once, right after serving `page` of a stream (e.g. to delete a record)."""
        self.page_hooks[(stream, account_id, page)] = hook

    # -- what the tap asked for ----------------------------------------------------------

    def requests(self, stream: str | None = None, account_id: str | None = None) -> list[Request]:
        sent = []
        for request in self.mocker.request_history:
            parts = urlsplit(request.url)
            params = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
            name, account = self._route(parts.path)
            if (stream is None or name == stream) and (account_id is None or account == account_id):
                sent.append(Request(parts.path, params, name, account))
        return sent

    # -- serving ---------------------------------------------------------------------------

    def _route(self, path: str) -> tuple[str | None, str | None]:
        if path == "/v3/a.json":
            return "accounts", None
        if match := _ACCOUNT_PATH.match(path):
            return "account", match.group(1)
        if match := _LIST_PATH.match(path):
            return STREAM_BY_FILE.get(match.group(2)), match.group(1)
        return None, None

    def _respond(self, request: Any, context: Any) -> str:
        parts = urlsplit(request.url)
        params = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        auth = request.headers.get("Authorization", "")
        if auth not in (f'Token token="{self.api_key}"', f"Token token={self.api_key}"):
            context.status_code = 401
            return "HTTP Token: Access denied.\n"
        stream, account_id = self._route(parts.path)
        if stream is None:
            context.status_code = 404
            return json.dumps({"error": "Not found"})
        if int(params.get("per_page", 100)) > MAX_PER_PAGE:
            context.status_code = 400
            return json.dumps({"error": "per_page must be at most 250"})
        if stream == "accounts":
            return self._page(stream, None, [self._account(a, params) for a in self.accounts], params)
        if stream == "account":
            for account in self.accounts:
                if account_id in (account["id"], str(account["numeric_id"])):
                    if (failure := self.failures.get(("account", account["id"]))) is not None:
                        context.status_code = failure.status
                        return failure.body
                    return json.dumps(self._account(account, params))
            context.status_code = 404
            return json.dumps({"error": "Not found"})
        assert account_id is not None
        if not any(account_id == a["id"] for a in self.accounts):
            context.status_code = 404
            return json.dumps({"error": "Not found"})
        failure = self.failures.get((stream, account_id))
        if failure and failure.company_id in (None, params.get("company_id")):
            context.status_code = failure.status
            return failure.body
        if stream in REQUIRES_COMPANY and not params.get("company_id"):
            context.status_code = 400
            return json.dumps({"error": "company_id is required"})
        items = self._select(stream, account_id, params)
        return self._page(stream, account_id, items, params)

    def _account(self, account: dict, params: dict) -> dict:
        shown = {k: v for k, v in account.items() if k != "numeric_id"}
        if "numeric_id" in params.get("fields", "").split(","):
            shown["numeric_id"] = account["numeric_id"]
        return shown

    def _select(self, stream: str, account_id: str, params: dict) -> list[dict]:
        items = list(self.records(stream, account_id))
        company_id = params.get("company_id")
        if company_id and stream not in NO_COMPANY_FILTER:
            items = [i for i in items if company_id in _company_ids(i)]
        if stream == "tags" and params.get("tag_level"):
            items = [i for i in items if i.get("tag_level") == params["tag_level"]]
        date_field = ENDPOINTS[stream][2]
        if date_field:
            if "start_date" in params or "end_date" in params:
                start = _request_bound(params.get("start_date", "2000-01-01"), end=False)
                end = _request_bound(params["end_date"], end=True) if "end_date" in params else self.now
            else:  # CallRail's silent default: `recent`, the last 7 days
                start, end = self.now - timedelta(days=7), self.now
            items = [i for i in items if start <= parse_instant(i[date_field]) < end]
        if params.get("sort"):
            items.sort(key=lambda i: parse_instant(i[params["sort"]]), reverse=params.get("order") == "desc")
        return items

    def _page(self, stream: str, account_id: str | None, items: list[dict], params: dict) -> str:
        per_page = int(params.get("per_page", 100))
        size = min(per_page, self.page_size or per_page)
        page = int(params.get("page", 1))
        total_pages = max(1, -(-len(items) // size))
        chunk = items[(page - 1) * size : page * size]
        body: dict[str, Any] = {
            "page": page,
            "per_page": per_page,
            "total_pages": total_pages,
            "total_records": len(items),
            ENDPOINTS[stream][1] if stream in ENDPOINTS else "accounts": [_served(item) for item in chunk],
        }
        if self.omit_total_pages:
            del body["total_pages"]
        if self.omit_total_records:
            del body["total_records"]
        if (hook := self.page_hooks.pop((stream, account_id or "", page), None)) is not None:
            hook(self)
        return json.dumps(body)


def _served(record: dict) -> dict:
    """A copy of a stored record as CallRail sends it: keys starting with `_` are the fake's own."""
    return {k: copy.deepcopy(v) for k, v in record.items() if not k.startswith("_")}


# -- running the tap against the fake --------------------------------------------------------


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


def populate(fake: FakeCallRail, accounts: int = 2) -> None:
    """Two accounts, two companies each, records in every stream, timestamps in CallRail's mixed forms."""
    for n in range(1, accounts + 1):
        account = f"ACC{n:02d}"
        fake.add_account(account, numeric_id=100000000 + n)
        companies = [f"COM{n:02d}A", f"COM{n:02d}B"]
        fake.add(
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
        fake.add(
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
        fake.add(
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
        fake.add(
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
            fake.add(
                "calls",
                account,
                make_call(1, c, "2026-11-10T09:15:30.250-05:00"),
                make_call(2, c, "2026-11-15T14:00:00Z", recording_duration=31),
                make_call(3, c, "2026-11-20 03:43:50 -0500", tags=["VIP"], value=None),
                make_call(4, c, "2026-11-24T08:00:00.000-05:00", speaker_percent={"agent": 55, "customer": 45}),
            )
            fake.add(
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
            fake.add(
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
            fake.add(
                "leads",
                account,
                {
                    "id": f"PER{c[3:]}",
                    "name": "Jane Roe",
                    "company_id": c,
                    "created_at": "2026-01-05T00:00:00Z",
                },
            )
            fake.add(
                "integrations",
                account,
                {
                    "id": 5000 * n + ord(c[-1]),
                    "_company": c,  # integrations carry no company_id (callrail-api.md §6)
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
            fake.add(
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
        fake.add(
            "notifications",
            account,
            {"id": 900 * n + 1, "name": "All calls", "company_id": None, "alert_type": "all", "send_email": True},
            {"id": 900 * n + 2, "name": "Company A", "company_id": companies[0], "alert_type": "vm_only"},
        )
