"""Requests in flight: CallRail answers in hundreds of milliseconds, so later pages are asked early.

One bounded pool per run (`max_concurrent_requests` workers). Its threads only send requests
(`CallRailClient.get` is thread-safe: a session per thread, a locked rate budget); records,
state, stats of records, progress and record logging stay on the thread that reads the pages,
which takes the answers strictly in page order (series.py). With `max_concurrent_requests=1`
there is no pool: every request is sent on the reading thread when its page is due.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from tap_callrail.api import CallRailClient, Request

T = TypeVar("T")
Page = Future[dict[str, Any]]


class RunEnded(Exception):
    """The run ended while a request sent ahead waited to be retried or for the budget: it is dropped."""


class InFlight:
    """The run's pool of request senders, `width` wide (0: none, every request on the caller's thread)."""

    def __init__(self, max_concurrent_requests: int) -> None:
        self.width = max_concurrent_requests if max_concurrent_requests > 1 else 0
        self._pool: ThreadPoolExecutor | None = None
        self._ended = threading.Event()

    def send(self, client: CallRailClient, request: Request, item_key: str) -> Page:
        """Send `request` on a worker thread; its body (or its error) when the Future is read."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.width, thread_name_prefix="tap-callrail-inflight")
        return self._pool.submit(client.get, request, item_key=item_key)

    def get(self, client: CallRailClient, request: Request, item_key: str) -> dict[str, Any]:
        """Send `request` now and wait for its body: through the pool when there is one, so that the
        pages of every series together never have more than `width` requests in flight."""
        return self.send(client, request, item_key).result() if self.width else client.get(request, item_key=item_key)

    def ahead(self, items: Iterable[T], send: Callable[[T], Page]) -> Iterator[tuple[T, Page | None]]:
        """Each item with its request already sent, while up to `width` items after it are sent too.

        The pages sent for items not reached when the caller stops are cancelled, or, already
        running, left to finish unread.
        """
        if not self.width:
            yield from ((item, None) for item in items)
            return
        queue: list[tuple[T, Page]] = []
        pending = iter(items)
        try:
            while True:
                for item in pending:
                    queue.append((item, send(item)))
                    if len(queue) > self.width:
                        break
                if not queue:
                    return
                yield queue.pop(0)
        finally:
            for _, page in queue:
                page.cancel()

    def sleep(self, seconds: float) -> None:
        """Wait between retries or for the rate budget; a run that ended drops the request instead.

        A request sent ahead may still wait (a backoff, a Retry-After) when the run fails; the
        process must not stay alive for it.
        """
        if self._ended.wait(seconds):
            raise RunEnded("the run ended while this request waited")

    def close(self) -> None:
        """The run is over: cancel the requests not started, and make the waiting ones give up."""
        self._ended.set()
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
