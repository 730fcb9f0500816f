"""What every stream of one run shares: the CallRail client, the scope, the report, the checks.

The client is called from the threads of the requests in flight (inflight.py) too, so what it
reports into (`attempt`, `rate_limited`: SyncStats, Progress, the rate budget) is thread-safe.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from functools import cached_property
from typing import Any

from singer_sdk import Stream

from tap_callrail.api import DEFAULT_API_URL, CallRailClient
from tap_callrail.inflight import InFlight
from tap_callrail.quality import QualityChecker
from tap_callrail.ratelimit import RateBudget
from tap_callrail.report import Progress, SyncStats
from tap_callrail.retry import RequestTarget, RetryPolicy
from tap_callrail.scope import Scope


class RunServices:
    """Built once per run from the settings; each part is made when first used, except the
    counters the request threads report into (made here, never first on one of those threads)."""

    def __init__(self, config: Mapping[str, Any], logger: logging.Logger) -> None:
        self._config = config
        self._logger = logger
        self.stats = SyncStats()
        self.progress = Progress(logger)
        #: The lead_timelines stream, which reads the leads the other streams name (streams.py).
        self.lead_timelines: Stream | None = None
        self._leads: dict[str, dict[str, str]] = {}

    def leads_wanted(self) -> bool:
        """Whether this run reads lead timelines (then calls ask for person_id)."""
        return self.lead_timelines is not None and self.lead_timelines.selected

    def note_lead(self, account_id: str, person_id: Any, named_at: Any) -> None:
        """A lead an emitted record names, as of the record's time; `anonymous` and empty values name none."""
        if person_id and person_id != "anonymous" and self.leads_wanted():
            leads = self._leads.setdefault(account_id, {})
            when = str(named_at or "")
            leads[str(person_id)] = max(leads.get(str(person_id), ""), when)

    def leads_seen(self, account_id: str) -> dict[str, str]:
        """The leads this run named in an account, each with the newest time a record named it."""
        return dict(self._leads.get(account_id, {}))

    @cached_property
    def quality(self) -> QualityChecker:
        return QualityChecker(str(self._config.get("data_quality", "warn")))

    @cached_property
    def inflight(self) -> InFlight:
        """Requests sent ahead of the page being read, `max_concurrent_requests` at most (1: none)."""
        return InFlight(int(self._config.get("max_concurrent_requests", 4)))

    @cached_property
    def budget(self) -> RateBudget:
        """Requests per account per rolling hour/day, shared by every stream of the run."""
        return RateBudget(
            int(self._config.get("requests_per_hour", 1000)),
            int(self._config.get("requests_per_day", 10000)),
            logger=self._logger,
            sleep=self.inflight.sleep,
        )

    @cached_property
    def retry(self) -> RetryPolicy:
        key = str(self._config.get("api_key", ""))
        return RetryPolicy(
            int(self._config.get("max_retries", 5)),
            float(self._config.get("backoff_max_seconds", 60)),
            logger=self._logger,
            secrets=[key, key.strip()],
            max_wait_seconds=float(self._config.get("max_wait_seconds", 3600)),
            sleep=self.inflight.sleep,
        )

    @cached_property
    def client(self) -> CallRailClient:
        return CallRailClient(
            api_url=str(self._config.get("api_url") or DEFAULT_API_URL),
            api_key=str(self._config.get("api_key", "")),
            user_agent=str(self._config.get("user_agent") or "tap-callrail"),
            retry=self.retry,
            budget=self.budget,
            timeout=float(self._config.get("request_timeout_seconds", 300)),
            observer=self,
        )

    @cached_property
    def scope(self) -> Scope:
        """Accounts and companies of this run, resolved on first use."""
        return Scope(self._config, self.client, self._logger)

    def close(self) -> None:
        """The run is over: requests still in flight are abandoned, and the process may exit at once."""
        self.inflight.close()

    # -- what the client reports of each request (api.RequestObserver) ---------------------

    def attempt(self, target: RequestTarget, retry: bool, status: int | None, waited: float) -> None:
        if retry:
            self.stats.retry(target.stream, target.account_id, status)
        self.stats.request(target.stream, target.account_id)
        self.progress.waited(target.stream, target.account_id or "-", waited)

    def rate_limited(self, target: RequestTarget) -> None:
        self.stats.rate_limited(target.stream, target.account_id)
