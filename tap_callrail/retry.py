"""What CallRail failures are retried, how long the tap waits, and how it gives up.

The SDK's own retries never read Retry-After, add random jitter and sleep with
``time.sleep``, so their waits could be neither honoured exactly, explained in the log, nor
tested without real time. ``api.CallRailClient`` sends every request through
``RetryPolicy.call`` instead.

Retried: HTTP 429, 500, 502, 503 and 504, a 200 whose body is not JSON or not the page
CallRail documents (``UnexpectedBody``), and dropped, reset or timed-out connections.
CallRail documents no Retry-After but clients report one on 429; when any retried
response carries it, it is honoured exactly, even beyond ``backoff_max_seconds``, up to
``max_wait_seconds``: a longer wait ends the run at once (``CallRailWaitTooLong``), so a
server asking for years never holds a run. Otherwise the wait is ``base * 2**(retry-1)``
capped at ``backoff_max_seconds``. Each wait is one log line. Waits are deterministic unless a ``jitter`` function is
given: one tap paces one account, so there is no herd of clients to spread out, and
exact waits make the log and the tests predictable.

No message built here contains the API key, a query string or a full URL: requests
are named by stream, account and path, and response bodies are scrubbed.
"""

from __future__ import annotations

import json
import logging
import math
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from typing import Any, TypeVar

import requests
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError

from tap_callrail.errors import CallRailError

R = TypeVar("R")

RETRIABLE_EXCEPTIONS: tuple[type[BaseException], ...] = (
    RetriableAPIError,
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
    ConnectionResetError,
)

_ERROR_TEXT_LIMIT = 200
_ACCOUNT_IN_PATH = re.compile(r"/a/([^/]+?)(?:\.json)?(?:/|$)")
_AUTH_TOKEN = re.compile(r"(Token\s+token=)\"?[^\"\s,;]*\"?", re.IGNORECASE)
_QUERY_STRING = re.compile(r"\?[^\s'\")]*")
_HTML_TAG = re.compile(r"<[^>]*>")
# A page's <head> only repeats its <h1> (the <title>), so it is left out of messages.
_HTML_HEAD = re.compile(r"<head\b.*?</head>", re.IGNORECASE | re.DOTALL)


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date).

    A time in the past or a negative number gives 0; a missing or unreadable value
    gives None, so the caller falls back to exponential backoff.
    """
    text = (value or "").strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        seconds = (_as_utc(when) - _as_utc(now)).total_seconds()
    if not math.isfinite(seconds):
        return None
    return max(seconds, 0.0)


def _as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment


def backoff_seconds(
    attempt: int,
    *,
    cap: float,
    base: float = 1.0,
    jitter: Callable[[float], float] | None = None,
) -> float:
    """Wait before retry number ``attempt`` (1-based): ``base * 2**(attempt-1)``, capped.

    ``jitter`` (e.g. ``backoff.full_jitter``) may reshape the wait; the result is still
    kept within [0, cap]. Without it the wait is deterministic.
    """
    if attempt < 1:
        raise ValueError("attempt counts retries from 1")
    wait = min(cap, base * 2.0 ** min(attempt - 1, 64))
    if jitter is not None:
        wait = min(cap, max(0.0, jitter(wait)))
    return wait


@dataclass(frozen=True)
class Answer:
    """What CallRail answered, kept after the connection is released: status, headers and body.

    It reads like the parts of a `requests.Response` that messages and retries look at.
    """

    status_code: int
    reason: str
    headers: Mapping[str, str]
    content: bytes

    @classmethod
    def of(cls, response: requests.Response, body: bytes) -> Answer:
        return cls(response.status_code, response.reason or "", response.headers, body)

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return json.loads(self.content)


class CallRailAnswerError(RetriableAPIError):
    """A retriable answer (429, 5xx, a 200 that is not JSON), with the answer kept for messages."""

    def __init__(self, message: str, answer: Answer) -> None:
        super().__init__(message)
        self.answer = answer


def callrail_error_text(
    response: requests.Response | Answer,
    *,
    secrets: Iterable[str] = (),
    limit: int = _ERROR_TEXT_LIMIT,
) -> str:
    """CallRail's own explanation of a response: the JSON ``error`` value, else the body.

    One line, at most ``limit`` characters, with HTML tags, query strings and the API key
    removed; the reason phrase (e.g. "Service Unavailable") when the body is empty. A JSON
    body cut short is never quoted: it holds CallRail data (names, phone numbers, the
    settings of integrations), which must not reach the log.
    """
    try:
        body = response.json()
    except ValueError:
        body = None
        if response.status_code == HTTPStatus.OK and (response.text or "").lstrip()[:1] in ("{", "["):
            return f"JSON cut short or malformed ({len(response.content)} bytes)"
    if isinstance(body, dict) and body.get("error"):
        error = body["error"]
        text = error if isinstance(error, str) else json.dumps(error, separators=(",", ":"))
    else:
        text = _HTML_TAG.sub(" ", _HTML_HEAD.sub(" ", response.text or ""))
    text = _one_line(text, secrets)
    if not text:
        text = response.reason or _reason_phrase(response.status_code)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _reason_phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "(empty body)"


def _one_line(text: str, secrets: Iterable[str]) -> str:
    text = _AUTH_TOKEN.sub(r"\1***", text)
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return " ".join(_QUERY_STRING.sub("", text).split())


class UnexpectedBody(CallRailAnswerError):
    """A 200 whose JSON is not what CallRail documents for the endpoint (e.g. no list under its key).

    Retried like an unreadable body: a proxy or an API fault, never an empty page. `what` says
    why without quoting the records.
    """

    def __init__(self, what: str, answer: Answer) -> None:
        super().__init__(what, answer)
        self.what = what


@dataclass(frozen=True)
class RequestTarget:
    """The request being retried, named without its query string or credentials."""

    stream: str
    account_id: str | None
    method: str
    path: str

    def __str__(self) -> str:
        account = self.account_id or "(none)"
        return f"stream '{self.stream}', account {account}, {self.method} {self.path}"


class CallRailWaitTooLong(CallRailError):
    """CallRail asked for a wait (Retry-After) longer than ``max_wait_seconds``: the run ends now."""


class CallRailRequestFailed(CallRailError, FatalAPIError):
    """A request still failed after ``max_retries`` retries; the message is one line.

    A ``CallRailError``, so the tap ends the run with this line instead of a traceback.
    """

    def __init__(
        self,
        target: RequestTarget,
        *,
        attempts: int,
        max_retries: int,
        status: int | None,
        fault: str,
        error_text: str,
    ) -> None:
        self.target = target
        self.attempts = attempts
        self.max_retries = max_retries
        self.status = status
        self.error_text = error_text
        message = (
            f"CallRail request failed after {attempts} attempts (max_retries={max_retries}): "
            f"{target}: {fault}: {error_text}"
        )
        if status == HTTPStatus.TOO_MANY_REQUESTS:
            message += (
                " (rate limited: lower requests_per_hour/requests_per_day, or raise max_retries/backoff_max_seconds)"
            )
        super().__init__(message)


class RetryPolicy:
    """Retry CallRail requests per the rules in this module's docstring.

    ``max_retries``, ``backoff_max_seconds`` and ``max_wait_seconds`` are the tap settings of the
    same names.
    ``sleep`` and ``now`` are injectable so waits can be checked without real time;
    ``secrets`` (the API key) are scrubbed from every message as a last line of defence.
    """

    def __init__(
        self,
        max_retries: int = 5,
        backoff_max_seconds: float = 60.0,
        *,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], datetime] = _utc_now,
        logger: logging.Logger | None = None,
        jitter: Callable[[float], float] | None = None,
        backoff_base: float = 1.0,
        secrets: Iterable[str] = (),
        max_wait_seconds: float = 3600,
    ) -> None:
        if max_retries < 0:
            raise ValueError("max_retries must be 0 or more")
        if backoff_max_seconds <= 0:
            raise ValueError("backoff_max_seconds must be more than 0")
        self.max_retries = max_retries
        self.backoff_max_seconds = float(backoff_max_seconds)
        self.max_wait_seconds = float(max_wait_seconds)
        self._sleep = sleep
        self._now = now
        self._log = logger or logging.getLogger(__name__)
        self._jitter = jitter
        self._backoff_base = backoff_base
        self._secrets = tuple(s for s in secrets if s)

    def call(
        self,
        func: Callable[[], R],
        target: RequestTarget,
        *,
        before_attempt: Callable[[RequestTarget], object] | None = None,
        before_wait: Callable[[BaseException, float], object] | None = None,
    ) -> R:
        """``func()`` with this policy: retried on the faults above, then ``CallRailRequestFailed``.

        ``before_attempt`` runs before every attempt, retries included (each one is a request
        CallRail counts), e.g. to take a slot of the rate budget; ``before_wait`` before each
        wait, with the fault and the seconds about to be waited. Other errors (401, 403, 404,
        any other 4xx) pass straight through.
        """
        attempt = 1
        while True:
            if before_attempt is not None:
                before_attempt(target)
            try:
                return func()
            except RETRIABLE_EXCEPTIONS as exc:
                if attempt > self.max_retries:
                    raise self._give_up(target, exc, attempt) from exc
                self._wait(target, exc, attempt, before_wait)
            attempt += 1

    def _plan(self, exc: BaseException, attempt: int) -> tuple[float, str]:
        response = _response_of(exc)
        if response is not None:
            header = response.headers.get("Retry-After")
            seconds = parse_retry_after(header, self._now())
            if seconds is not None:
                return seconds, f"Retry-After: {_one_line(header or '', self._secrets)}"
        seconds = backoff_seconds(attempt, cap=self.backoff_max_seconds, base=self._backoff_base, jitter=self._jitter)
        cap = _secs(self.backoff_max_seconds)
        return seconds, f"exponential backoff, capped at backoff_max_seconds={cap}"

    def _wait(
        self,
        target: RequestTarget,
        exc: BaseException,
        attempt: int,
        before_wait: Callable[[BaseException, float], object] | None,
    ) -> None:
        seconds, reason = self._plan(exc, attempt)
        if seconds > self.max_wait_seconds:
            resume = self._now() + timedelta(seconds=min(seconds, 10**10))
            raise CallRailWaitTooLong(
                f"CallRail asked {target} to wait {_duration(seconds)} ({reason}) after "
                f"{self._fault_text(exc)}, longer than max_wait_seconds={_secs(self.max_wait_seconds)}. "
                f"Everything read so far is saved in the state; run again after {resume:%Y-%m-%d %H:%M} UTC."
            )
        self._log.warning(
            "Retrying %s after %s: retry %d of %d in %s s (%s)",
            target,
            self._fault_text(exc),
            attempt,
            self.max_retries,
            _secs(seconds),
            reason,
        )
        if before_wait is not None:
            before_wait(exc, seconds)
        if seconds > 0:
            self._sleep(seconds)

    def _give_up(self, target: RequestTarget, exc: BaseException, attempts: int) -> CallRailRequestFailed:
        response = _response_of(exc)
        return CallRailRequestFailed(
            target,
            attempts=attempts,
            max_retries=self.max_retries,
            status=None if response is None else response.status_code,
            fault=_fault_label(exc),
            error_text=self._error_text(exc),
        )

    def _fault_text(self, exc: BaseException) -> str:
        return f"{_fault_label(exc)} ({self._error_text(exc)})"

    def _error_text(self, exc: BaseException) -> str:
        if isinstance(exc, UnexpectedBody):
            text = _one_line(exc.what, self._secrets)
            return text if len(text) <= _ERROR_TEXT_LIMIT else text[: _ERROR_TEXT_LIMIT - 3] + "..."
        response = _response_of(exc)
        if response is not None:
            return callrail_error_text(response, secrets=self._secrets)
        detail = _one_line(str(exc), self._secrets)
        if len(detail) > _ERROR_TEXT_LIMIT:
            # Connection errors put the root cause ("Connection refused") last.
            detail = detail[:60] + " ... " + detail[-(_ERROR_TEXT_LIMIT - 65) :]
        return detail or "no details"


def _response_of(exc: BaseException) -> Answer | requests.Response | None:
    if isinstance(exc, CallRailAnswerError):
        return exc.answer
    response = getattr(exc, "response", None)
    return response if isinstance(response, requests.Response) else None


def _fault_label(exc: BaseException) -> str:
    response = _response_of(exc)
    if response is None:
        return type(exc).__name__
    if isinstance(exc, UnexpectedBody):
        return "HTTP 200 that is not a CallRail page"
    if response.status_code == HTTPStatus.OK:
        return "HTTP 200 with a body that is not JSON"
    return f"HTTP {response.status_code}"


def _duration(seconds: float) -> str:
    """A wait in words: seconds, hours or days."""
    if seconds < 3600:
        return f"{_secs(seconds)} s"
    if seconds < 86400 * 2:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:,.0f} days"


def _secs(value: float) -> str:
    return f"{value:.0f}" if value >= 10 else f"{value:.3g}"
