"""Answers CallRail does not document, on purpose: what a misbehaving API or proxy might send.

Each mode rewrites the 200 answers of list endpoints whose path contains `path_contains`
(every API path when None), optionally only for the page numbers in `pages`:

| mode | the answer |
|---|---|
| `error_body` | `{"error": "Internal error"}` with status 200 |
| `missing_key` | the page without its list key (e.g. no `companies`) |
| `null_key` | the list key holds `null` |
| `string_key` | the list key holds a string |
| `json_list` | a JSON list instead of an object |
| `lying_total_pages` | `total_pages` says 1,000,000 (records and `total_records` are real) |
| `page_echo_one` | every page says `"page": 1` |
| `ignore_page` | page 1 for every page asked, without `total_pages` and `total_records` |
| `reverse_items` | the page's records in reverse order (a list out of its documented order) |
| `shift` | once page `after_page` is served: the record at sorted `position` deleted, |
|  | a new one added at the end of the sort order (`total_records` unchanged); once |
| `trickle` | the body one byte a second |
| `hang` | the connection accepted and never answered (for a minute) |
| `gzip_bomb` | 1 MB of gzip that expands to 1 GiB (`Content-Encoding: gzip`) |
| `deep_json` | a JSON body nested 100,000 deep |
| `redirect_loop` / `redirect_file` / `redirect_other_origin` | 302 to itself, to `file:///etc/passwd`, |
|  | to the same path on `localhost` instead of the address asked (another origin) |
| `company_404` | requests with `company_id` of the company at sorted `position` answer 404 |
| `vanish_company` | the same, and that company is deleted from the account at its first 404 |

Callers hold the emulator's lock; this class keeps no lock of its own.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from typing import Any

from callrail_emulator.wire import Request, Response, json_response

MODES = (
    "error_body",
    "missing_key",
    "null_key",
    "string_key",
    "json_list",
    "lying_total_pages",
    "page_echo_one",
    "ignore_page",
    "reverse_items",
    "shift",
    "trickle",
    "hang",
    "gzip_bomb",
    "deep_json",
    "redirect_loop",
    "redirect_file",
    "redirect_other_origin",
    "company_404",
    "vanish_company",
)
#: The modes that replace the whole answer, whatever the endpoint would have said.
_TRANSPORT = ("trickle", "hang", "gzip_bomb", "deep_json", "redirect_loop", "redirect_file", "redirect_other_origin")


@dataclass
class Hostile:
    mode: str | None = None
    path_contains: str | None = None
    pages: tuple[int, ...] = ()
    after_page: int = 1
    position: int = 0
    shifted: bool = False
    served: int = 0
    company: str | None = None  # the company company_404/vanish_company aim at, once chosen

    def set(
        self,
        mode: str,
        path_contains: str | None = None,
        *,
        pages: tuple[int, ...] | list[int] = (),
        after_page: int = 1,
        position: int = 0,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown hostile mode {mode!r}; use one of {MODES}")
        self.mode, self.path_contains, self.pages = mode, path_contains, tuple(int(p) for p in pages)
        self.after_page, self.position, self.shifted, self.served = int(after_page), int(position), False, 0
        self.company = None

    def clear(self) -> None:
        self.mode, self.path_contains, self.pages, self.shifted, self.served = None, None, (), False, 0
        self.company = None

    def applies(self, req: Request) -> bool:
        if self.mode is None or req.path.startswith("/_emulator/"):
            return False
        if self.path_contains is not None and self.path_contains not in req.path:
            return False
        return not self.pages or _page(req) in self.pages

    def before(self, req: Request) -> Request:
        """The request as the API should read it (ignore_page: always page 1)."""
        if self.mode == "ignore_page" and self.applies(req):
            query = {**req.query, "page": ["1"]}
            return Request(req.method, req.path, query, req.headers, req.body, req.base_url)
        return req

    def company_gone(self, req: Request, company_id: str | None) -> Response | None:
        """For `company_404`/`vanish_company`: the 404 of a request for the target company, if it is one."""
        if self.mode not in ("company_404", "vanish_company") or company_id is None:
            return None
        if req.param("company_id") != company_id:
            return None
        self.served += 1
        return json_response(404, {"error": "Not Found"})

    def after(self, req: Request, response: Response) -> tuple[Response, bool]:
        """The answer to send, and whether the `shift` mutation is due now."""
        if not self.applies(req) or response.status != 200 or response.drop or response.truncate:
            return response, False
        self.served += 1
        if self.mode in _TRANSPORT:
            return _transport(self.mode, req, response), False
        if self.mode == "shift":
            due = not self.shifted and _page(req) == self.after_page
            self.shifted = self.shifted or due
            return response, due
        try:
            body = json.loads(response.body)
        except ValueError:
            return response, False
        if not isinstance(body, dict):
            return response, False
        key = next((k for k, v in body.items() if isinstance(v, list)), None)
        headers = [(k, v) for k, v in response.headers if k.lower() not in ("content-type", "link")]
        if self.mode == "error_body":
            return json_response(200, {"error": "Internal error"}, headers), False
        if self.mode == "json_list":
            return json_response(200, [], headers), False
        if key is None:  # a single object: only the page modes above apply
            return response, False
        if self.mode == "missing_key":
            del body[key]
        elif self.mode == "null_key":
            body[key] = None
        elif self.mode == "string_key":
            body[key] = "unavailable"
        elif self.mode == "lying_total_pages":
            body["total_pages"] = 1_000_000
        elif self.mode == "page_echo_one":
            body["page"] = 1
        elif self.mode == "reverse_items" and isinstance(body[key], list):
            body[key].reverse()
        elif self.mode == "ignore_page":
            body.pop("total_pages", None)
            body.pop("total_records", None)
        return json_response(200, body, headers), False

    def describe(self) -> dict[str, Any]:
        return {"mode": self.mode, "path_contains": self.path_contains, "pages": list(self.pages),
                "served": self.served}


_BOMB: bytes | None = None


def _gzip_bomb() -> bytes:
    """1 GiB of zeros, gzipped once (about 1 MB)."""
    global _BOMB
    if _BOMB is None:
        packer = zlib.compressobj(9, zlib.DEFLATED, 31)
        zeros = bytes(1 << 20)
        _BOMB = b"".join(packer.compress(zeros) for _ in range(1024)) + packer.flush()
    return _BOMB


def _transport(mode: str, req: Request, response: Response) -> Response:
    json_type = [("Content-Type", "application/json; charset=utf-8")]
    if mode == "trickle":
        return Response(200, response.body, response.headers, trickle=1.0)
    if mode == "hang":
        return Response(0, hang=60.0)
    if mode == "gzip_bomb":
        return Response(200, _gzip_bomb(), [*json_type, ("Content-Encoding", "gzip")])
    if mode == "deep_json":
        return Response(200, b"[" * 100_000 + b"]" * 100_000, json_type)
    query = "&".join(f"{k}={v}" for k, values in req.query.items() for v in values)
    here = f"{req.path}?{query}" if query else req.path
    location = {
        "redirect_loop": f"{req.base_url}{here}",
        "redirect_file": "file:///etc/passwd",
        "redirect_other_origin": f"{req.base_url.replace('127.0.0.1', 'localhost')}{here}",
    }[mode]
    return Response(302, b"", [("Location", location)])


def _page(req: Request) -> int:
    try:
        return int(req.param("page") or 1)
    except ValueError:
        return 1
