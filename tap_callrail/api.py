"""CallRail's HTTP API v3: one session, the key in a header, retries and the rate budget.

Knows nothing of Singer. `CallRailClient.get` sends one request (retried per `retry.RetryPolicy`,
each attempt inside the account's `RateBudget`) and returns the parsed body, checked to be what
CallRail documents: a page with a list under the endpoint's key, or a single object with an `id`.
Anything else is an exception whose message is one line a user can act on.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlencode, urlsplit

import msgspec
import requests

from tap_callrail.errors import CallRailAuthError, CallRailNotFoundError, CallRailRequestError
from tap_callrail.ratelimit import RateBudget
from tap_callrail.retry import (
    Answer,
    CallRailAnswerError,
    RequestTarget,
    RetryPolicy,
    UnexpectedBody,
    callrail_error_text,
)

DEFAULT_API_URL = "https://api.callrail.com/v3"
#: CallRail's maximum page size for list endpoints (https://apidocs.callrail.com/#pagination).
PAGE_SIZE = 250
BODY_CHUNK_BYTES = 1 << 20
#: Answers retried: rate limited, and the server errors of CallRail and its gateways.
RETRIED_STATUSES = frozenset({429, 500, 502, 503, 504})


class ForbiddenError(Exception):
    """HTTP 403: the plan or the key's user lacks this feature for this account/company."""


class RequestObserver(Protocol):
    """What the client tells the run about each attempt (the sync report and progress lines)."""

    def attempt(self, target: RequestTarget, retry: bool, status: int | None, waited: float) -> None:
        """An attempt is about to be sent (`retry`: after a fault, of HTTP `status` if any)."""

    def rate_limited(self, target: RequestTarget) -> None:
        """CallRail answered 429."""


@dataclass(frozen=True)
class Request:
    """One GET: the URL without query, the encoded query, and what it is for (for messages)."""

    url: str
    query: str
    target: RequestTarget
    label: str


def encode_query(params: Mapping[str, Any]) -> str:
    """The query string of `params`, with the commas of `fields=a,b` left as CallRail writes them."""
    return urlencode({key: value for key, value in params.items() if value is not None}, safe=",")


class CallRailClient:
    """Sends GET requests to CallRail and returns their checked, parsed bodies. Thread-safe."""

    def __init__(
        self,
        *,
        api_url: str,
        api_key: str,
        retry: RetryPolicy,
        budget: RateBudget,
        user_agent: str = "tap-callrail",
        timeout: float = 300,
        observer: RequestObserver | None = None,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self._retry = retry
        self._budget = budget
        self._timeout = timeout
        self._observer = observer
        # Surrounding whitespace (a key pasted from a file ends in a newline) is no part of it.
        self._headers = {
            "Authorization": f'Token token="{api_key.strip()}"',
            "User-Agent": user_agent,
            "Accept": "application/json",
        }
        self._local = threading.local()
        # The environment's proxy settings (HTTPS_PROXY, NO_PROXY, ...) for CallRail's host, read once.
        self._proxies = requests.utils.get_environ_proxies(self.api_url)

    def request(self, path: str, query: str, *, stream: str, account_id: str | None, label: str) -> Request:
        """A GET of `path` under the API URL, named for messages by stream, account and label."""
        url = self.api_url + path
        return Request(url, query, RequestTarget(stream, account_id, "GET", urlsplit(url).path), label)

    @property
    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
            session.trust_env = False
            session.proxies.update(self._proxies)
        return session

    def get(self, request: Request, *, item_key: str | None) -> dict[str, Any]:
        """GET `request` and return its body: a page with a list under `item_key`, else an object with an `id`."""
        retry_of: list[int | None] = []

        def before_attempt(target: RequestTarget) -> None:
            waited = self._budget.acquire(target.account_id or "(accounts list)")
            if self._observer is not None:
                retry = bool(retry_of)
                self._observer.attempt(target, retry, retry_of.pop() if retry else None, waited)

        def attempt() -> dict[str, Any]:
            try:
                return self._send(request, item_key)
            except CallRailAnswerError as exc:
                status = exc.answer.status_code
                if status == 429 and self._observer is not None:
                    self._observer.rate_limited(request.target)
                retry_of.append(status)
                raise
            except (requests.exceptions.RequestException, ConnectionResetError):
                retry_of.append(None)
                raise

        return self._retry.call(attempt, request.target, before_attempt=before_attempt)

    def _send(self, request: Request, item_key: str | None) -> dict[str, Any]:
        url = f"{request.url}?{request.query}" if request.query else request.url
        response = self._session.get(url, headers=self._headers, timeout=self._timeout, stream=True)
        with response:
            answer = Answer.of(response, b"".join(response.iter_content(BODY_CHUNK_BYTES)))
        where = f"{request.label} ({request.target.path})"
        status = answer.status_code
        if status == 401:
            raise CallRailAuthError(
                f"CallRail rejected the API key (HTTP 401) while reading {where}. "
                "Check the api_key setting (TAP_CALLRAIL_API_KEY): it must be an active "
                "CallRail API v3 key of a user who can see these accounts."
            )
        if status == 403:
            raise ForbiddenError(callrail_error_text(answer))
        if status in RETRIED_STATUSES:
            raise CallRailAnswerError(f"HTTP {status} from CallRail for {where}", answer)
        if status == 404:
            raise CallRailNotFoundError(
                f"CallRail has no such resource for {where} (HTTP 404): {callrail_error_text(answer)}"
            )
        if status >= 300:
            raise CallRailRequestError(
                f"CallRail refused the request for {where} (HTTP {status}): {callrail_error_text(answer)}"
            )
        try:
            parsed = parse_json(answer.content)
        except ValueError as exc:
            # A 200 with a cut or garbled body is a transport fault: ask again.
            raise CallRailAnswerError(f"CallRail sent an unreadable (non-JSON) body for {where}", answer) from exc
        problem = unexpected_body(parsed, item_key)
        if problem:
            raise UnexpectedBody(problem, answer)
        return parsed  # type: ignore[no-any-return]


def parse_json(body: bytes) -> Any:
    """The JSON value of a body; msgspec for speed, the standard library for what it refuses (NaN)."""
    try:
        return msgspec.json.decode(body)
    except msgspec.DecodeError:
        return json.loads(body)


def unexpected_body(body: Any, item_key: str | None) -> str | None:
    """Why a 200 body is not what CallRail documents, or None when it is.

    A list endpoint answers an object with a list under its key; a single-object endpoint an
    object with an `id`. The reason names only the body's keys and CallRail's `error` text,
    never its records (they hold names, phone numbers and the settings of integrations).
    """
    if not isinstance(body, dict):
        return f"a JSON {type(body).__name__} instead of an object"
    wanted = item_key or "id"
    value = body.get(wanted)
    if (isinstance(value, list) if item_key else value is not None) and not body.get("error"):
        return None
    keys = ", ".join(sorted(str(key) for key in body)[:8]) or "none"
    problem = f"no '{wanted}' list in it" if item_key else "no 'id' in it"
    if item_key and wanted in body:
        problem = f"'{wanted}' is {type(value).__name__ if value is not None else 'null'}, not a list"
    error = body.get("error")
    if error:
        problem += f"; CallRail says: {error if isinstance(error, str) else json.dumps(error)}"
    return f"{problem} (keys: {keys})"

