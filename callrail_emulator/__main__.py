"""`python -m callrail_emulator`: serve the emulator until SIGTERM/SIGINT."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

from callrail_emulator.emulator import Emulator


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m callrail_emulator", description="Serve a CallRail API v3 emulator."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--api-key", default="demo-key")
    parser.add_argument("--accounts", type=int, default=2)
    parser.add_argument("--calls-per-account", type=int, default=300)
    parser.add_argument("--history-days", type=int, default=700)
    parser.add_argument("--user-time-zone", default="America/New_York")
    parser.add_argument("--port-file", type=Path, help="write the listening port to this file")
    args = parser.parse_args(argv)

    emu = Emulator(
        seed=args.seed,
        api_key=args.api_key,
        accounts=args.accounts,
        calls_per_account=args.calls_per_account,
        user_time_zone=args.user_time_zone,
        history_days=args.history_days,
    )
    url = emu.start(port=args.port, host=args.host)
    if args.port_file:
        args.port_file.write_text(f"{url.rsplit(':', 1)[1].split('/')[0]}\n")
    print(f"CallRail emulator on {url} (api key: {args.api_key})", flush=True)

    stopped = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopped.set())
    stopped.wait()
    emu.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
