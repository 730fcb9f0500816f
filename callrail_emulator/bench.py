"""How fast the emulator serves calls: the ceiling it puts on any tap benchmark run against it."""

from __future__ import annotations

import http.client
import json
import time
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from callrail_emulator.calls import CALL_FIELDS
from callrail_emulator.emulator import Emulator
from callrail_emulator.fields import DEFAULT_FIELDS
from callrail_emulator.wire import Request

_OPTIONAL = ",".join(f for f in CALL_FIELDS if f not in DEFAULT_FIELDS["calls"])


def serving_ceiling(
    pages: int = 200,
    per_page: int = 250,
    calls_per_account: int = 1_000_000,
    time_zone: str = "Etc/UTC",
    all_fields: bool = True,
    quiet: bool = False,
) -> dict[str, Any]:
    """Serve `pages` distinct pages of calls (every list field, or the defaults); print rates.

    `http_*` is measured end to end over one keep-alive connection from this process (the
    client only reads bytes); `render_*` is the same work without sockets. Both run on one
    core, as the emulator serves from one Python process.
    """
    emu = Emulator(seed=7, api_key="bench-key", accounts=1, calls_per_account=calls_per_account)
    account = emu.account_ids[0]
    end = emu.clock()
    start = end - timedelta(days=720)
    params = {
        "start_date": start.strftime("%Y-%m-%dT%H:%M"),
        "end_date": end.strftime("%Y-%m-%dT%H:%M"),
        "time_zone": time_zone,
        "sort": "start_time",
        "order": "asc",
        "per_page": per_page,
        "fields": _OPTIONAL if all_fields else "",
    }
    path = f"/v3/a/{account}/calls.json"
    first_page = 1000 if calls_per_account >= (1000 + pages) * per_page else 1

    def query(page: int) -> str:
        return urlencode({**params, "page": page})

    # In-process: the API handler alone.
    headers = {"authorization": 'Token token="bench-key"'}
    started = time.perf_counter()
    render_bytes = 0
    for page in range(first_page, first_page + pages):
        req = Request("GET", path, parse_qs(query(page)), headers)
        render_bytes += len(emu.dispatch(req).body)
    render_s = time.perf_counter() - started

    # Over HTTP.
    url = urlsplit(emu.start())
    conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=30)
    http_bytes = records = 0
    started = time.perf_counter()
    try:
        for page in range(first_page, first_page + pages):
            conn.request("GET", f"{path}?{query(page)}",
                         headers={"Authorization": 'Token token="bench-key"'})
            response = conn.getresponse()
            body = response.read()
            if response.status != 200:
                raise RuntimeError(f"page {page}: HTTP {response.status} {body[:200]!r}")
            http_bytes += len(body)
        http_s = time.perf_counter() - started
        last = json.loads(body)
        records = len(last["calls"]) * pages
        fields_per_record = len(last["calls"][0])
    finally:
        conn.close()
        emu.stop()
    result = {
        "pages": pages,
        "per_page": per_page,
        "calls_per_account": calls_per_account,
        "fields_per_record": fields_per_record,
        "time_zone": time_zone,
        "http_pages_per_s": round(pages / http_s, 1),
        "http_records_per_s": round(records / http_s),
        "http_mb_per_s": round(http_bytes / http_s / 1e6, 1),
        "render_pages_per_s": round(pages / render_s, 1),
        "render_records_per_s": round(records / render_s),
        "bytes_per_record": round(http_bytes / max(records, 1)),
    }
    if not quiet:
        print(
            f"emulator serving ceiling: {result['http_pages_per_s']} pages/s, "
            f"{result['http_records_per_s']} records/s over HTTP "
            f"({result['http_mb_per_s']} MB/s, {result['bytes_per_record']} B/record, "
            f"{fields_per_record} fields); in-process {result['render_pages_per_s']} pages/s"
        )
    return result
