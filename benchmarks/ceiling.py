"""The CPU ceiling for the tap: the least work that turns CallRail pages into Singer RECORD lines.

`record_pages` saves the pages a tap run was served (replaying its logged requests against the
emulator in-process, so they are byte-for-byte the same pages). Run as a script, this module
reads them back from disk, parses each with orjson and writes one RECORD line per item with
orjson (adding `account_id`, as the tap does) to stdout, buffered, and nothing else: no HTTP,
no normalisation, no checks, no state. The tap's CPU cost is compared with this one.

    python -m benchmarks.ceiling PAGES_DIR STREAM ITEM_KEY ACCOUNT_ID > /dev/null
"""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any


def record_pages(emu: Any, entries: list[dict[str, Any]], dest: Path, headers: dict[str, str]) -> int:
    """Fetch the logged requests again, in-process, and save each 200 body; returns bytes saved."""
    from callrail_emulator.wire import Request

    dest.mkdir(parents=True, exist_ok=True)
    saved = 0
    for number, entry in enumerate(entries):
        response = emu.dispatch(Request("GET", entry["path"], entry["query"], headers))
        if response.status != 200:
            raise RuntimeError(f"replaying {entry['path']}: HTTP {response.status}")
        (dest / f"page-{number:06d}.json").write_bytes(response.body)
        saved += len(response.body)
    return saved


def main(argv: list[str]) -> int:
    import orjson

    folder, stream, item_key, account_id = argv
    write = sys.stdout.buffer.write
    dumps = orjson.dumps
    newline = orjson.OPT_APPEND_NEWLINE
    for page in sorted(Path(folder).iterdir()):
        body = orjson.loads(page.read_bytes())
        extracted = datetime.now(timezone.utc).isoformat()
        for record in body[item_key]:
            record["account_id"] = account_id
            write(
                dumps(
                    {"type": "RECORD", "stream": stream, "record": record, "time_extracted": extracted}, option=newline
                )
            )
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
