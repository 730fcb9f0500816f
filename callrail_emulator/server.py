"""HTTP plumbing: a ThreadingHTTPServer in a daemon thread that hands requests to the emulator."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

from callrail_emulator.wire import Request, Response

if TYPE_CHECKING:
    from callrail_emulator.emulator import Emulator


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the tap's requests.Session expects
    server_version = "CallRailEmulator/1.0"
    disable_nagle_algorithm = True  # headers and body go out in separate writes
    server: _Server

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        url = urlsplit(self.path)
        host = self.headers.get("Host") or f"{self.server.host}:{self.server.port}"
        req = Request(
            method=self.command,
            path=url.path,
            query=parse_qs(url.query, keep_blank_values=True),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
            base_url=f"http://{host}",
        )
        emulator = self.server.emulator
        if emulator.latency and not url.path.startswith("/_emulator/"):
            time.sleep(emulator.latency)  # outside the emulator's lock: answers overlap as CallRail's do
        response = emulator.dispatch(req)
        if response.hang:
            time.sleep(response.hang)  # accepted, never answered
            response = Response(0, drop=True)
        if response.drop:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.send_response(response.status)
        for name, value in response.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command == "HEAD":
            return
        if not response.trickle:
            self.wfile.write(response.body)
            return
        with contextlib.suppress(OSError):  # the client gave up
            for byte in response.body:
                self.wfile.write(bytes((byte,)))
                self.wfile.flush()
                time.sleep(response.trickle)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _serve

    def log_message(self, format: str, *args: object) -> None:
        """Silent: the emulator keeps its own request log."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, emulator: Emulator, host: str, port: int) -> None:
        self.emulator = emulator
        super().__init__((host, port), _Handler)
        self.host, self.port = str(self.server_address[0]), int(self.server_address[1])


class EmulatorServer:
    def __init__(self, emulator: Emulator, host: str, port: int) -> None:
        self._server = _Server(emulator, host, port)
        self.host: str = str(self._server.host)
        self.port: int = int(self._server.port)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},  # stop() waits for one poll
            name=f"callrail-emulator:{self.port}",
            daemon=True,
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
