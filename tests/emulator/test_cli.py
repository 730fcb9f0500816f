"""`python -m callrail_emulator` serves until SIGTERM and tells scripts its port."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[2]


def test_cli_prints_its_url_writes_the_port_and_stops_on_sigterm(tmp_path: Path) -> None:
    port_file = tmp_path / "port"
    process = subprocess.Popen(
        [sys.executable, "-m", "callrail_emulator", "--port", "0", "--seed", "7",
         "--api-key", "demo-key", "--calls-per-account", "50", "--port-file", str(port_file)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        line = process.stdout.readline() if process.stdout else ""
        port = port_file.read_text().strip()
        assert line.strip() == f"CallRail emulator on http://127.0.0.1:{port}/v3 (api key: demo-key)"
        response = requests.get(f"http://127.0.0.1:{port}/v3/a.json",
                                headers={"Authorization": "Token token=demo-key"}, timeout=5)
        assert response.status_code == 200
    finally:
        process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 5
        while process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
    assert process.returncode == 0
