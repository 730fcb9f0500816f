"""tap-callrail: settings and the list of streams."""

from __future__ import annotations

import io
import logging
import sys
from collections.abc import Mapping
from functools import cached_property
from typing import Any

import click
from singer_sdk import typing as th
from singer_sdk.exceptions import (
    AbortedSyncFailedException,
    AbortedSyncPausedException,
    ConfigValidationError,
    MaxRecordsLimitException,
)
from singer_sdk.singerlib import StateMessage
from typing_extensions import override

from tap_callrail.api import DEFAULT_API_URL
from tap_callrail.client import CallRailStream
from tap_callrail.errors import CallRailError, DataQualityError
from tap_callrail.output import LineWriter
from tap_callrail.quality import UNCONVERTIBLE_VALUE
from tap_callrail.report import emit_metrics, render_report
from tap_callrail.sdk_compat import AfterSyncHook, SettingsCheckedFirst
from tap_callrail.services import RunServices
from tap_callrail.settings import api_key_problem, config_problems, state_problems
from tap_callrail.streams import STREAM_TYPES


def _quiet_expected_failures(record: logging.LogRecord) -> bool:
    """Drop the SDK's "An unhandled error occurred while syncing" line for expected failures.

    The SDK logs it at ERROR while an exception leaves a stream; for a CallRailError the
    tap's own one-line message follows, and "unhandled error" would read as a crash. `--test`
    stops each stream after one record by raising an abort caused by the record limit: that
    is the dry run succeeding.
    """
    if record.getMessage().startswith("An unhandled error occurred while syncing"):
        error = sys.exc_info()[1]
        dry_run_stop = isinstance(error, (AbortedSyncFailedException, AbortedSyncPausedException)) and isinstance(
            error.__cause__, MaxRecordsLimitException
        )
        return not (isinstance(error, CallRailError) or dry_run_stop)
    return True


class TapCallRail(SettingsCheckedFirst, AfterSyncHook):
    """Singer tap for CallRail API v3."""

    name = "tap-callrail"
    message_writer_class = LineWriter

    config_jsonschema = th.PropertiesList(
        th.Property(
            "api_key",
            th.StringType,
            required=True,
            secret=True,
            title="API key",
            description="CallRail API v3 key (Settings → API Keys). It sees exactly what its user sees.",
        ),
        th.Property(
            "account_ids",
            th.ArrayType(th.StringType),
            title="Account ids",
            description="Accounts to sync, as ACC… or numeric ids. Default: every account the key can see.",
        ),
        th.Property(
            "company_ids",
            th.ArrayType(th.StringType),
            title="Company ids",
            description="Restrict company-scoped streams to these companies (COM… ids). Default: all.",
        ),
        th.Property(
            "start_date",
            th.StringType,
            title="Start date",
            description="Earliest data for calls, form submissions, texts and daily call counts (ISO 8601 "
            "date or date-time). Default and floor: CallRail's 25-month retention plus one day.",
        ),
        th.Property(
            "end_date",
            th.StringType,
            title="End date",
            description="Latest data for the dated streams (ISO 8601). Default: now.",
        ),
        th.Property(
            "lookback_window_days",
            th.IntegerType,
            default=7,
            title="Lookback window (days)",
            description="The deep lookback: how far before the bookmark calls, form submissions and "
            "texts are re-read once per full_table_refresh_hours, for late edits (tags, notes, lead "
            "status, recordings); daily call counts re-read as many days at each read.",
        ),
        th.Property(
            "lookback_hours",
            th.IntegerType,
            default=6,
            title="Lookback (hours)",
            description="The short lookback: how far before the bookmark every run re-reads calls, "
            "form submissions and texts, for the edits that come within hours.",
        ),
        th.Property(
            "full_table_refresh_hours",
            th.IntegerType,
            default=24,
            title="Full-table refresh (hours)",
            description="How often leads, integrations and outbound caller ids are read in full (and "
            "marked deleted where gone), daily call counts read, and the deep lookback re-read. 0 = every run.",
        ),
        th.Property(
            "api_url",
            th.StringType,
            default=DEFAULT_API_URL,
            title="API URL",
            description="Base URL of the CallRail API v3 (for proxies, the emulator and tests).",
        ),
        th.Property(
            "user_agent",
            th.StringType,
            title="User agent",
            description="User-Agent header sent to CallRail. Default: tap-callrail.",
        ),
        th.Property(
            "requests_per_hour",
            th.IntegerType,
            default=1000,
            title="Requests per hour",
            description="Rate budget per account in any rolling hour (CallRail allows 1,000). 0 = unlimited.",
        ),
        th.Property(
            "requests_per_day",
            th.IntegerType,
            default=10000,
            title="Requests per day",
            description="Rate budget per account in any rolling day (CallRail allows 10,000). 0 = unlimited.",
        ),
        th.Property(
            "max_retries",
            th.IntegerType,
            default=5,
            title="Max retries",
            description="Retries after the first try for HTTP 429, 500, 502, 503 and 504, dropped "
            "connections, timeouts, and bodies that are not the JSON page CallRail documents.",
        ),
        th.Property(
            "backoff_max_seconds",
            th.NumberType,
            default=60,
            title="Backoff cap (seconds)",
            description="Cap of the exponential wait between retries (at least 1). A Retry-After "
            "from CallRail is waited as asked, up to max_wait_seconds.",
        ),
        th.Property(
            "request_timeout_seconds",
            th.NumberType,
            default=300,
            title="Request timeout (seconds)",
            description="Longest one request may take, from connecting to the last byte of the answer, "
            "however slowly the server sends it; a request that takes longer is retried.",
        ),
        th.Property(
            "max_concurrent_requests",
            th.IntegerType,
            default=4,
            title="Requests in flight",
            description="Requests sent to CallRail at once (1 to 32): the next pages of a list and the next "
            "companies' lists are asked for while one is read; records and state still come out in "
            "order. 1 = one request after another.",
        ),
        th.Property(
            "max_wait_seconds",
            th.NumberType,
            default=3600,
            title="Longest wait (seconds)",
            description="Longest wait CallRail may ask for (Retry-After); a longer one ends the run at once, "
            "with the state of everything read saved, and says when to run again.",
        ),
        th.Property(
            "data_quality",
            th.StringType,
            default="warn",
            allowed_values=["warn", "fail", "off"],
            title="Data quality",
            description="Data-quality checks: warn (report findings), fail (report, then exit "
            "non-zero after all records and state are written) or off.",
        ),
        th.Property(
            "emit_activate_version_messages",
            th.BooleanType,
            default=False,
            title="Mark deleted rows",
            description="Let the target mark rows gone from CallRail as deleted in the full-table "
            "streams; sent only after a complete, un-narrowed read of a whole stream.",
        ),
    ).to_dict()

    @override
    def key_problem(self) -> str | None:
        return api_key_problem(self.config.get("api_key"))

    @override
    def settings_problems(self) -> list[str]:
        return config_problems(self.config)

    @cached_property
    def services(self) -> RunServices:
        """What the streams of this run share: the client, the scope, the report and the checks."""
        services = RunServices(self.config, self.logger)
        services.scope.account_fields = lambda: self.streams["accounts"].selected_optional_fields()  # type: ignore[attr-defined]
        return services

    @override
    def discover_streams(self) -> list[CallRailStream]:
        streams = [stream_type(tap=self, services=self.services) for stream_type in STREAM_TYPES]
        for stream in streams:
            # By name: singer-sdk 0.55 hands streams a LoggerAdapter of this logger, which takes no filter.
            logging.getLogger(f"{self.name}.{stream.name}").addFilter(_quiet_expected_failures)
        if isinstance(self.message_writer, LineWriter):
            self.message_writer.on_unencodable = self._count_unencodable
        return streams

    @override
    def after_sync(self, *, completed: bool) -> None:
        """Log the sync report; in data_quality=fail mode, fail after every record and state is written."""
        self.services.close()
        if not completed:
            # What was emitted is in the state (bookmarks follow written records): a rerun resumes after it.
            self.write_message(StateMessage(value=self.state))
        services = self.services
        findings = services.quality.finish()
        for line in render_report(services.stats, findings).splitlines():
            self.logger.info("%s", line)
        emit_metrics(services.stats, findings, self.metrics_logger)
        for line in services.quality.summary_lines():
            self.logger.log(logging.WARNING if findings else logging.INFO, "%s", line)
        if completed and services.quality.failed:
            raise DataQualityError(services.quality.summary())

    def _count_unencodable(self, stream: str, record: Mapping[str, Any], name: str) -> None:
        account = record.get("account_id") if stream != "accounts" else record.get("id")
        account_id = None if account is None else str(account)
        self.services.quality.flag(stream, account_id, UNCONVERTIBLE_VALUE, name, record.get("id"))

    @classmethod
    def invoke(cls, *, state: Any = None, **kwargs: Any) -> None:  # type: ignore[override]
        """Run a sync; expected failures end as one line and exit code 1."""
        if state is not None:
            text = state.read()
            problem = state_problems(text)
            if problem:
                cls.logger.error(problem)
                sys.exit(1)
            state = io.StringIO(text)
        try:
            super().invoke(state=state, **kwargs)
        except ConfigValidationError as exc:
            for error in exc.errors:
                cls.logger.error(error)
            sys.exit(1)
        except CallRailError as exc:
            cls.logger.error("%s", exc)
            sys.exit(1)

    @classmethod
    def cb_config(cls, ctx: Any, param: Any, value: tuple[str, ...]) -> Any:
        """`--config FILE`: a missing or malformed file is one line, not a stack trace."""
        try:
            return super().cb_config(ctx, param, value)
        except FileNotFoundError as exc:
            raise click.BadParameter(f"{exc} Pass the path of a JSON file of settings.") from None
        except ValueError as exc:
            raise click.BadParameter(f"the config file is not valid JSON ({exc}).") from None

    @classmethod
    def cb_test(cls, ctx: Any, param: Any, value: str) -> None:  # type: ignore[override]
        """`--test`: read one record per stream, writing nothing to a target."""
        try:
            super().cb_test(ctx, param, value)
        except CallRailError as exc:
            cls.logger.error("%s", exc)
            ctx.exit(1)


if __name__ == "__main__":
    TapCallRail.cli()
