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
_AUTH = 'Token token="bench-key"'


def serving_ceiling(
    pages: int = 200,
    per_page: int = 250,
    calls_per_account: int = 1_000_000,
    time_zone: str = "Etc/UTC",
    all_fields: bool = True,
    repeats: int = 3,
    quiet: bool = False,
) -> dict[str, Any]:
    """Serve `pages` distinct pages of calls (every list field, or the defaults); print rates.

    `http_*` is measured end to end over one keep-alive connection from this process (the
    client only reads bytes); `render_*` is the same requests without sockets. Both run on one
    core, as the emulator serves from one Python process. Each is the best of `repeats` runs
    over different pages, so other load on the machine lowers the figure less.
    """
    emu = Emulator(seed=7, api_key="bench-key", accounts=1, calls_per_account=calls_per_account)
    account = emu.account_ids[0]
    end = emu.clock()
    params = {
        "start_date": (end - timedelta(days=720)).strftime("%Y-%m-%dT%H:%M"),
        "end_date": end.strftime("%Y-%m-%dT%H:%M"),
        "time_zone": time_zone,
        "sort": "start_time",
        "order": "asc",
        "per_page": per_page,
        "fields": _OPTIONAL if all_fields else "",
    }
    path = f"/v3/a/{account}/calls.json"
    available = max(1, calls_per_account // per_page - pages)

    def targets(run: int) -> list[str]:
        first = 1 + (run * 997 * pages) % available
        return [f"{path}?{urlencode({**params, 'page': p})}" for p in range(first, first + pages)]

    render_s, http_s = [], []
    url = urlsplit(emu.start())
    conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=30)
    try:
        for run in range(repeats):
            requests = [Request("GET", path, parse_qs(t.split("?", 1)[1]), {"authorization": _AUTH})
                        for t in targets(2 * run)]
            started = time.perf_counter()
            for req in requests:
                emu.dispatch(req)
            render_s.append(time.perf_counter() - started)

            http_bytes = 0
            started = time.perf_counter()
            for target in targets(2 * run + 1):
                conn.request("GET", target, headers={"Authorization": _AUTH})
                response = conn.getresponse()
                body = response.read()
                if response.status != 200:
                    raise RuntimeError(f"{target}: HTTP {response.status} {body[:200]!r}")
                http_bytes += len(body)
            http_s.append(time.perf_counter() - started)
        sample = json.loads(body)["calls"]
    finally:
        conn.close()
        emu.stop()
    records = len(sample) * pages
    best_http, best_render = min(http_s), min(render_s)
    result = {
        "pages": pages,
        "per_page": per_page,
        "calls_per_account": calls_per_account,
        "fields_per_record": len(sample[0]),
        "time_zone": time_zone,
        "repeats": repeats,
        "http_pages_per_s": round(pages / best_http, 1),
        "http_records_per_s": round(records / best_http),
        "http_mb_per_s": round(http_bytes / best_http / 1e6, 1),
        "render_pages_per_s": round(pages / best_render, 1),
        "render_records_per_s": round(records / best_render),
        "bytes_per_record": round(http_bytes / max(records, 1)),
    }
    if not quiet:
        print(
            f"emulator serving ceiling: {result['http_pages_per_s']} pages/s, "
            f"{result['http_records_per_s']} records/s over HTTP "
            f"({result['http_mb_per_s']} MB/s, {result['bytes_per_record']} B/record, "
            f"{result['fields_per_record']} fields); in-process "
            f"{result['render_pages_per_s']} pages/s"
        )
    return result
