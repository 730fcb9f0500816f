"""What travels over HTTP: the parsed request and the answer to send."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Request:
    method: str
    path: str  # without the query string, still percent-encoded
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: bytes = b""
    base_url: str = "http://127.0.0.1"  # scheme://host[:port] the client used

    def param(self, name: str) -> str | None:
        """The last value of query parameter `name` (Rails semantics), or None."""
        values = self.query.get(name)
        return values[-1] if values else None


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    drop: bool = False  # close the connection without answering
    truncate: bool = False  # cut the body of the real answer and send it as a 200
    hang: float = 0.0  # seconds to hold the connection open without answering at all
    trickle: float = 0.0  # seconds between the body's bytes, sent one at a time


def json_response(
    status: int, payload: Any, headers: list[tuple[str, str]] | None = None
) -> Response:
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    return json_bytes_response(status, body, headers)


def json_bytes_response(
    status: int, body: bytes, headers: list[tuple[str, str]] | None = None
) -> Response:
    return Response(
        status, body, [("Content-Type", "application/json; charset=utf-8"), *(headers or [])]
    )
