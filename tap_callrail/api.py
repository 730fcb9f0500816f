"""CallRail's HTTP API v3: one session, the key in a header, retries and the rate budget.

Knows nothing of Singer. `CallRailClient.get` sends one request (retried per `retry.RetryPolicy`,
each attempt inside the account's `RateBudget`) and returns the parsed body, checked to be what
CallRail documents: a page with a list under the endpoint's key, or a single object with an `id`.
Anything else is an exception whose message is one line a user can act on.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlencode, urljoin, urlsplit

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
#: Largest body read, once decoded (gzip or not): a page of 250 calls with every field is ~1 MB.
MAX_BODY_BYTES = 256 << 20
#: Redirects followed for one request, each within the API URL's origin.
MAX_REDIRECTS = 5
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
        max_body_bytes: int = MAX_BODY_BYTES,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self._origin = _origin(self.api_url)
        self._max_body = max_body_bytes
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

    @property
    def _worker(self) -> ThreadPoolExecutor:
        """The thread that sends this thread's requests, so that waiting for one can end on time."""
        worker: ThreadPoolExecutor | None = getattr(self._local, "worker", None)
        if worker is None:
            worker = self._local.worker = ThreadPoolExecutor(1, thread_name_prefix="callrail-request")
        return worker

    def _fetch(self, url: str, where: str) -> Answer:
        """The answer for `url`, all of it within `timeout` seconds, redirects kept within the API's origin."""
        deadline = time.monotonic() + self._timeout
        for _hop in range(MAX_REDIRECTS + 1):
            answer, location = self._within(deadline, url)
            if location is None:
                return answer
            target = urljoin(url, location)
            if _origin(target) != self._origin:
                raise CallRailRequestError(
                    f"CallRail redirected {where} to {_origin(target) or location[:60]!r}, outside the API URL "
                    f"{self._origin!r}; the tap follows redirects only within it. Check the api_url setting."
                )
            url = target
        raise CallRailRequestError(
            f"CallRail redirected {where} more than {MAX_REDIRECTS} times; check the api_url setting."
        )

    def _within(self, deadline: float, url: str) -> tuple[Answer, str | None]:
        """One exchange, ended at `deadline` however slowly the server answers or trickles its body."""
        started: list[requests.Response] = []
        future = self._worker.submit(self._exchange, url, deadline, started)
        try:
            return future.result(timeout=max(0.0, deadline - time.monotonic()))
        except FutureTimeout:
            if started:
                started[0].raw.shutdown()  # ends the read the worker is blocked in
            else:  # still waiting for headers: leave that thread to the server, use a new one
                self._worker.shutdown(wait=False)
                self._local.worker = None
            raise requests.exceptions.Timeout(
                f"no complete answer within request_timeout_seconds={self._timeout:g}"
            ) from None

    def _exchange(self, url: str, deadline: float, started: list[requests.Response]) -> tuple[Answer, str | None]:
        remaining = max(0.1, deadline - time.monotonic())
        response = self._session.get(
            url, headers=self._headers, timeout=remaining, stream=True, allow_redirects=False
        )
        started.append(response)
        with response:
            if response.is_redirect:
                return Answer.of(response, b""), response.headers.get("location", "")
            body = bytearray()
            for chunk in response.iter_content(BODY_CHUNK_BYTES):
                body += chunk
                if len(body) > self._max_body:
                    raise CallRailRequestError(
                        f"CallRail's answer for {url.split('?')[0]} is larger than {self._max_body >> 20} MB "
                        "once decoded; a page is about 1 MB. Check api_url (a proxy may answer instead)."
                    )
        return Answer.of(response, bytes(body)), None

    def get(self, request: Request, *, item_key: str | None) -> dict[str, Any]:
        """GET `request` and return its body: a page with a list under `item_key`, else an object with an `id`."""
        retry_of: list[int | None] = []
        account = request.target.account_id or "(accounts list)"

        def before_attempt(target: RequestTarget) -> None:
            # The retry of a 429 has waited that pause out itself (before_wait, then the policy's sleep).
            waited = self._budget.acquire(account, heed_pause=not retry_of or retry_of[-1] != 429)
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

        def before_wait(exc: BaseException, seconds: float) -> None:
            # A 429 answers for the whole account: its other requests in flight wait as long.
            if isinstance(exc, CallRailAnswerError) and exc.answer.status_code == 429:
                self._budget.pause(account, seconds)

        return self._retry.call(attempt, request.target, before_attempt=before_attempt, before_wait=before_wait)

    def _send(self, request: Request, item_key: str | None) -> dict[str, Any]:
        url = f"{request.url}?{request.query}" if request.query else request.url
        where = f"{request.label} ({request.target.path})"
        answer = self._fetch(url, where)
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
        except RecursionError:
            raise CallRailRequestError(
                f"CallRail's answer for {where} is JSON nested deeper than Python reads; it is not a CallRail page."
            ) from None
        except ValueError as exc:
            # A 200 with a cut or garbled body is a transport fault: ask again.
            raise CallRailAnswerError(f"CallRail sent an unreadable (non-JSON) body for {where}", answer) from exc
        problem = unexpected_body(parsed, item_key)
        if problem:
            raise UnexpectedBody(problem, answer)
        return parsed  # type: ignore[no-any-return]


def _origin(url: str) -> str:
    """scheme://host[:port] of a URL, lower-cased; '' for one without a host (file:, data:)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return ""
    return f"{parts.scheme}://{parts.netloc.lower()}"


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

