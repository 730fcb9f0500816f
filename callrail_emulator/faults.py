"""Injected failures: every n-th request, a burst of 429s, or a persistent outage (of one path).

Callers hold the emulator's lock; this class keeps no lock of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime

from callrail_emulator.errors import (
    ACCESS_DENIED_BODY,
    NOT_FOUND,
    PERMISSION_DENIED,
    TOO_MANY_REQUESTS,
)
from callrail_emulator.wire import Request, Response, json_response

KINDS = ("500", "502", "503", "504", "429", "drop", "truncated_json")

_HTML = (
    "<!DOCTYPE html><html><head><title>{title}</title></head>"
    "<body><h1>{title}</h1><p>{text}</p></body></html>"
)


def fault_response(
    kind: str, retry_after: int | datetime | None = None, message: str | None = None
) -> Response:
    """The answer for one injected failure of `kind` (see KINDS; any 4xx/5xx code also works);
    `message`: a JSON `{"error": message}` body instead of the status's usual one."""
    if kind == "drop":
        return Response(0, drop=True)
    if kind == "truncated_json":
        return Response(200, truncate=True)
    status = int(kind)
    if message is not None:
        return json_response(status, {"error": message})
    if status == 401:
        plain = [("Content-Type", "text/plain; charset=utf-8")]
        return Response(401, ACCESS_DENIED_BODY.encode(), plain)
    if status in (403, 404):
        return json_response(status, {"error": PERMISSION_DENIED if status == 403 else NOT_FOUND})
    if status == 429:
        headers = []
        if isinstance(retry_after, datetime):
            headers.append(("Retry-After", format_datetime(retry_after, usegmt=True)))
        elif retry_after is not None:
            headers.append(("Retry-After", str(int(retry_after))))
        return json_response(429, {"error": TOO_MANY_REQUESTS}, headers)
    if status == 500:
        return json_response(500, {"error": "Internal Server Error"})
    # Gateways and maintenance pages answer in HTML, not JSON (callrail-api.md §3: 503).
    title = {502: "502 Bad Gateway", 503: "503 Service Unavailable", 504: "504 Gateway Timeout"}
    text = "CallRail is down for maintenance. Please try again shortly."
    body = _HTML.format(title=title.get(status, str(status)), text=text).encode()
    return Response(status, body, [("Content-Type", "text/html; charset=utf-8")])


def _check_kind(kind: str | int) -> str:
    kind = str(kind)
    if kind not in KINDS and not (kind.isdigit() and 400 <= int(kind) <= 599):
        raise ValueError(f"unknown fault kind {kind!r}; use one of {KINDS} or an HTTP status")
    return kind


@dataclass
class Faults:
    every: int = 0
    kinds: tuple[str, ...] = ()
    counted: int = 0
    injected: int = 0
    rate_limited: int = 0
    retry_after: int | datetime | None = None
    # (path_contains, company_id) -> (kind, message); (None, None) is every request
    persistent: dict[tuple[str | None, str | None], tuple[str, str | None]] = field(
        default_factory=dict
    )

    def set_every(self, n: int, kinds: tuple[str | int, ...]) -> None:
        if n < 1:
            raise ValueError("n must be >= 1")
        if not kinds:
            raise ValueError("kinds must not be empty")
        self.kinds = tuple(_check_kind(k) for k in kinds)
        self.every, self.counted, self.injected = n, 0, 0

    def set_rate_limit(self, count: int, retry_after: int | datetime | None) -> None:
        self.rate_limited, self.retry_after = max(0, int(count)), retry_after

    def set_persistent(
        self,
        status: str | int,
        path_contains: str | None = None,
        company_id: str | None = None,
        message: str | None = None,
    ) -> None:
        self.persistent[(path_contains, company_id)] = (_check_kind(status), message)

    def clear(self) -> None:
        self.every, self.kinds, self.counted, self.injected = 0, (), 0, 0
        self.rate_limited, self.retry_after = 0, None
        self.persistent.clear()

    def next_fault(self, req: Request) -> Response | None:
        """The fault for the request being served now, if any; counts every request."""
        self.counted += 1
        for (path, company_id), (kind, message) in self.persistent.items():
            if (path is None or path in req.path) and (
                company_id is None or req.param("company_id") == company_id
            ):
                return fault_response(kind, message=message)
        if self.rate_limited > 0:
            self.rate_limited -= 1
            return fault_response("429", self.retry_after)
        if self.every and self.counted % self.every == 0:
            kind = self.kinds[self.injected % len(self.kinds)]
            self.injected += 1
            return fault_response(kind)
        return None

    def describe(self) -> dict[str, object]:
        return {
            "every": self.every,
            "kinds": list(self.kinds),
            "rate_limited_remaining": self.rate_limited,
            "retry_after": self.retry_after.isoformat()
            if isinstance(self.retry_after, datetime) else self.retry_after,
            "persistent": [
                {"status": kind, "path_contains": path, "company_id": company, "message": message}
                for (path, company), (kind, message) in self.persistent.items()
            ],
        }
