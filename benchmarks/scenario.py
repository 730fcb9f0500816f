"""The data set, the tap settings and catalogs, and the request arithmetic of the benchmarks.

"Minimum requests" follows issue 6: one request per 250 records per stream and partition, at
least one per partition. A partition is what the API makes the tap ask for separately: the
account list once, each account for account-wide endpoints, each company for the endpoints
that require `company_id` (integrations, outbound caller ids, daily counts: 200 days a request),
each SMS thread for its messages (100 a page). The counts come from the
emulator's own data, never from what the tap did.
"""

from __future__ import annotations

import copy
import json
import math
import urllib.parse
import urllib.request
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from callrail_emulator import Emulator
from callrail_emulator.fields import ENDPOINTS, REPORTS, STREAMS
from callrail_emulator.timeutil import parse_stamp
from tap_callrail.timeutil import retention_floor

API_KEY = "bench-key"
PAGE_SIZE = 250
PER_COMPANY = ("integrations", "outbound_caller_ids", "calls_timeseries")
# Read once per SMS thread, at most 100 messages a page.
PER_THREAD = ("sms_thread_messages",)
PAGE_SIZES = {"sms_thread_messages": 100, "calls_timeseries": 200}
_STREAM_OF_FILE = {file: stream for stream, file in ENDPOINTS.items()}
_STREAM_OF_FILE.update({path.rsplit("/", 1)[-1]: stream for stream, (path, _key) in REPORTS.items()})


@dataclass
class Server:
    emu: Emulator
    url: str

    @property
    def account_id(self) -> str:
        return self.emu.account_ids[0]

    def stop(self) -> None:
        self.emu.stop()


def start_emulator(calls: int) -> Server:
    """One account holding `calls` calls (and the default small streams), served on 127.0.0.1.

    One account keeps the figures per account, which is how CallRail's budget counts; every
    stream is readable (no plan restrictions), so each request is a useful one.
    """
    emu = Emulator(
        seed=7,
        api_key=API_KEY,
        accounts=1,
        calls_per_account=calls,
        accounts_without_caller_ids=(),
    )
    return Server(emu, emu.start(port=0, host="127.0.0.1"))


def tap_config(server: Server, **extra: Any) -> dict[str, Any]:
    """Unlimited request budget: the benchmarks measure the tap, not the limiter."""
    return {
        "api_key": API_KEY,
        "api_url": server.url,
        "requests_per_hour": 0,
        "requests_per_day": 0,
        **extra,
    }


def calls_only(catalog: dict[str, Any]) -> dict[str, Any]:
    """The discovered catalog with only `calls` selected, every one of its properties included."""
    result = copy.deepcopy(catalog)
    for entry in result["streams"]:
        is_calls = entry["tap_stream_id"] == "calls"
        for item in entry["metadata"]:
            if item["breadcrumb"] == [] or is_calls:
                item["metadata"]["selected"] = is_calls
    return result


def stream_of(path: str) -> str:
    """The stream a logged request path belongs to (`/v3/a.json`, `/v3/a/ACC/calls.json` …)."""
    parts = path.strip("/").split("/")
    if len(parts) <= 3:  # v3/a.json or v3/a/ACC.json
        return "accounts"
    if parts[-2] == "sms-threads":  # v3/a/ACC/sms-threads/{thread_id}.json
        return "sms_thread_messages"
    if parts[-1] == "page_views.json":  # v3/a/ACC/calls/{call_id}/page_views.json
        return "call_page_views"
    if parts[-1] == "timeline.json":  # v3/a/ACC/leads/{person_id}/timeline.json
        return "lead_timelines"
    return _STREAM_OF_FILE.get(parts[-1], parts[-1])


def requests_by_stream(entries: list[dict[str, Any]]) -> Counter[str]:
    return Counter(stream_of(entry["path"]) for entry in entries)


def partition_counts(server: Server) -> dict[str, list[int]]:
    """Records per partition of every stream, as the emulator holds them now."""
    emu = server.emu
    accounts = emu.state()["accounts"]
    counts: dict[str, list[int]] = {"accounts": [len(accounts)]}
    for account in accounts:
        for stream in STREAMS[1:]:
            if stream in PER_COMPANY:
                counts.setdefault(stream, []).extend(
                    total_records(server, stream, {"company_id": company}) for company in account["company_ids"]
                )
            elif stream in PER_THREAD:
                counts.setdefault(stream, []).extend(emu.thread_message_counts(account["id"]).values())
            else:
                counts.setdefault(stream, []).append(account["counts"][stream])
        counts.setdefault("calls_timeseries", []).extend(first_read_days(emu, account["id"]))
    return counts


def first_read_days(emu: Emulator, account_id: str) -> list[int]:
    """Data points per company of a first read of calls_timeseries: one per day in the company's
    zone, from the day after the tap's retention floor (its first whole day) to today."""
    now = emu.clock()
    days = []
    for company in emu.records("companies", account_id):
        zone = ZoneInfo(company.get("time_zone") or "Etc/UTC")
        first = retention_floor(now).astimezone(zone).date() + timedelta(days=1)
        days.append((now.astimezone(zone).date() - first).days + 1)
    return days


def changed_thread_counts(server: Server, state: dict[str, Any], lookback_hours: int = 6) -> list[int]:
    """Messages per SMS thread a delta re-reads: threads whose last message is no older than the
    messages bookmark minus the short lookback."""
    emu = server.emu
    partitions = state.get("bookmarks", {}).get("sms_thread_messages", {}).get("partitions", [])
    marks = {p["context"]["account_id"]: p.get("replication_key_value") for p in partitions}
    counts = []
    for account_id in emu.account_ids:
        mark = marks.get(account_id)
        threads = {str(t["id"]): t.get("last_message_at") for t in emu.records("sms_threads", account_id)}
        per_thread = emu.thread_message_counts(account_id)
        since = parse_stamp(mark) - lookback_hours * 3_600_000 if mark else None
        counts += [
            per_thread[thread_id] for thread_id, last in threads.items()
            if since is None or last is None or parse_stamp(last) >= since
        ]
    return counts


def minimum_requests(counts: dict[str, list[int]]) -> dict[str, int]:
    return {
        stream: sum(max(1, math.ceil(n / PAGE_SIZES.get(stream, PAGE_SIZE))) for n in ns)
        for stream, ns in counts.items()
    }


def records_expected(counts: dict[str, list[int]]) -> dict[str, int]:
    return {stream: sum(ns) for stream, ns in counts.items()}


def window_total(server: Server, stream: str, start: str, end: str) -> int:
    """`total_records` CallRail reports for a dated stream's window (one probe request)."""
    return total_records(server, stream, {"start_date": start, "end_date": end, "time_zone": "Etc/UTC"})


def total_records(server: Server, stream: str, params: dict[str, str]) -> int:
    """`total_records` CallRail reports for one filtered list (one probe request, not the tap's)."""
    query = urllib.parse.urlencode({**params, "per_page": 1})
    request = urllib.request.Request(
        f"{server.url}/a/{server.account_id}/{ENDPOINTS[stream]}?{query}",
        headers={"Authorization": f'Token token="{API_KEY}"'},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return int(json.load(response)["total_records"])


def efficiency(made: Counter[str], minimum: dict[str, int]) -> dict[str, Any]:
    """Requests made against the minimum, in all and per stream."""
    total_made = sum(made.values())
    total_min = sum(minimum.values())
    return {
        "requests": total_made,
        "minimum": total_min,
        "ratio": round(total_made / total_min, 4) if total_min else None,
        "by_stream": {
            s: {"made": made.get(s, 0), "minimum": minimum.get(s, 0)} for s in sorted(set(made) | set(minimum))
        },
    }
