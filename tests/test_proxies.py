"""Requests reach CallRail through the proxy the environment names, as requests would send them.

The tap reads the proxy variables once per run instead of on every request (issue 6); a user
behind a proxy, or with NO_PROXY, must see no difference.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from tests.callrail import base_config, run_sync

ACCOUNTS_PAGE = {
    "page": 1,
    "per_page": 250,
    "total_pages": 1,
    "total_records": 1,
    "accounts": [{"id": "ACC1", "name": "Acme"}],
}


class _Recorder(BaseHTTPRequestHandler):
    """Answers every GET with one page of accounts and remembers the request target."""

    targets: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.targets.append(self.path)
        body = json.dumps(ACCOUNTS_PAGE).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def recorder() -> Iterator[tuple[str, list[str]]]:
    _Recorder.targets = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", _Recorder.targets
    finally:
        server.shutdown()
        server.server_close()


def test_requests_go_through_the_proxy_named_by_http_proxy(
    recorder: tuple[str, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    proxy, targets = recorder
    for name in ("HTTP_PROXY", "http_proxy"):
        monkeypatch.setenv(name, proxy)
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    config = {**base_config(), "api_url": "http://callrail.invalid/v3"}

    result = run_sync(config, streams={"accounts"})

    assert [record["id"] for record in result.records("accounts")] == ["ACC1"]
    # A proxy is asked for the absolute URL; CallRail's host itself is never looked up.
    assert targets and all(target.startswith("http://callrail.invalid/v3/a.json?") for target in targets)


def test_no_proxy_sends_requests_for_that_host_directly(
    recorder: tuple[str, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    server, targets = recorder
    for name in ("HTTP_PROXY", "http_proxy"):
        monkeypatch.setenv(name, "http://proxy.invalid:3128")
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.setenv(name, "127.0.0.1")
    config = {**base_config(), "api_url": f"{server}/v3"}

    result = run_sync(config, streams={"accounts"})

    assert [record["id"] for record in result.records("accounts")] == ["ACC1"]
    assert targets and all(target.startswith("/v3/a.json?") for target in targets)
