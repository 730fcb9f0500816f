"""Data-quality checks: count what looks wrong in CallRail data, never change it.

The tap hands every record to `QualityChecker.check` as it is synced. The checker only reads
the record: nothing is dropped, altered or re-typed, so the warehouse always gets what CallRail
sent. What looks wrong is counted per (stream, account_id, check, field), with up to
`MAX_EXAMPLES` record ids as examples. Examples are record ids, never the offending value,
because phone numbers and emails are personal data.

Checks (names as they appear in findings, the report and METRIC lines):

- `non_e164_phone`: a phone number that is not E.164.
- `malformed_email`: an email address without the shape `local@domain.tld`.
- `negative_duration`: a call with a negative `duration`.
- `missing_duration`: a call with `duration` null that is not in progress. CallRail leaves
  `duration` null while a call is in progress; a call that started more than
  `in_progress_window` ago should have one.
- `unexpected_enum_value`: a value outside the documented enum.
- `future_timestamp`: a timestamp more than `future_tolerance` after now.
- `unconvertible_value`: a value that does not fit its property's type (`answered: "yes"`, a
  number such as `"1e999999"` beyond any column), written as null. The tap reports these as it
  converts records (`flag`).
- `missing_primary_key`: a record CallRail sent without its key; it is never emitted.
- `unknown_company` / `unknown_account`: a record whose `company_id` / `account_id` is not
  among the companies / accounts synced in this run. Streams sync one after another, so this
  check runs in `finish()`; until then only the distinct referenced ids are kept (with a count
  and a few example record ids), never the records. It is skipped when the run synced no
  `companies` (or no `accounts`) records, since there is nothing to compare with.

A null value, an empty string or an absent key is never a finding: optional fields are often
null, and a field not requested with `fields=` is absent.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import datetime, timedelta, timezone
from typing import Any

from tap_callrail.timeutil import parse_timestamp, to_canonical

MODES = ("warn", "fail", "off")
MAX_EXAMPLES = 3

NON_E164_PHONE = "non_e164_phone"
MALFORMED_EMAIL = "malformed_email"
NEGATIVE_DURATION = "negative_duration"
MISSING_DURATION = "missing_duration"
UNEXPECTED_ENUM_VALUE = "unexpected_enum_value"
FUTURE_TIMESTAMP = "future_timestamp"
UNKNOWN_COMPANY = "unknown_company"
UNKNOWN_ACCOUNT = "unknown_account"
UNCONVERTIBLE_VALUE = "unconvertible_value"
MISSING_PRIMARY_KEY = "missing_primary_key"

# E.164: "+", a country code that does not start with 0, at most 15 digits in all.
_E164 = re.compile(r"\+[1-9]\d{1,14}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_E164_MATCH = _E164.fullmatch
_EMAIL_MATCH = _EMAIL.fullmatch

# CallRail's documented values (https://apidocs.callrail.com/); null, like every null, is never a finding.
_LEAD_STATUS = frozenset({"good_lead", "not_a_lead", "previously_marked_good_lead"})
# The call docs spell it "abandonded"; the API may well say "abandoned", so both are accepted.
_CALL_TYPE = frozenset(
    {
        "abandonded",
        "abandoned",
        "answered",
        "in_progress",
        "missed",
        "outbound",
        "voicemail",
        "voicemail_transcription",
    }
)
# The docs list admin/manager/reporting; notification-only users also exist in real accounts,
# so flagging them would raise a finding on every such account.
_USER_ROLE = frozenset({"admin", "manager", "reporting", "notification"})


@dataclass(frozen=True)
class _Rules:
    """What to check on one stream's records: field names per check."""

    phones: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    enums: tuple[tuple[str, frozenset[str]], ...] = ()
    timestamps: tuple[str, ...] = ()
    call_duration: bool = False


_NO_RULES = _Rules()

_RULES: dict[str, _Rules] = {
    "calls": _Rules(
        phones=("customer_phone_number", "tracking_phone_number", "business_phone_number"),
        emails=("agent_email",),
        enums=(
            ("direction", frozenset({"inbound", "outbound"})),
            ("lead_status", _LEAD_STATUS),
            ("call_type", _CALL_TYPE),
        ),
        timestamps=("start_time", "created_at", "good_lead_call_time"),
        call_duration=True,
    ),
    "form_submissions": _Rules(
        phones=("customer_phone_number",),
        emails=("customer_email",),
        enums=(("lead_status", _LEAD_STATUS),),
        timestamps=("submitted_at",),
    ),
    "text_messages": _Rules(
        phones=("customer_phone_number",),
        enums=(("state", frozenset({"active", "archived"})),),
        timestamps=("last_message_at",),
    ),
    "leads": _Rules(phones=("phone",), emails=("email",), timestamps=("created_at",)),
    "trackers": _Rules(
        phones=("tracking_numbers", "destination_number"),
        enums=(
            ("type", frozenset({"source", "session"})),
            ("status", frozenset({"active", "disabled"})),
        ),
        timestamps=("created_at", "disabled_at"),
    ),
    "companies": _Rules(
        enums=(("status", frozenset({"active", "disabled"})),),
        timestamps=("created_at", "disabled_at"),
    ),
    "tags": _Rules(
        enums=(
            ("status", frozenset({"enabled", "disabled"})),
            ("tag_level", frozenset({"company", "account"})),
        ),
        timestamps=("created_at",),
    ),
    "users": _Rules(emails=("email",), enums=(("role", _USER_ROLE),), timestamps=("created_at",)),
    "integrations": _Rules(
        enums=(("state", frozenset({"active", "disabled", "pending", "failed"})),),
    ),
    "notifications": _Rules(
        emails=("email",),
        enums=(("alert_type", frozenset({"all", "first_call", "missed_and_vm", "vm_only"})),),
    ),
    "outbound_caller_ids": _Rules(phones=("phone_number",), timestamps=("created_at",)),
}


@dataclass(frozen=True)
class Finding:
    """How many records of one stream and account failed one check on one field.

    `examples` are up to `MAX_EXAMPLES` record ids. `values` are up to `MAX_EXAMPLES` offending
    values, filled only where they are not personal data (enum values, unknown ids).
    """

    stream: str
    check: str
    count: int
    examples: tuple[str, ...] = ()
    account_id: str | None = None
    field: str | None = None
    values: tuple[str, ...] = ()

    def label(self) -> str:
        """`stream check[field]`, the name of this finding in log lines."""
        if self.field is None:
            return f"{self.stream} {self.check}"
        return f"{self.stream} {self.check}[{self.field}]"


@dataclass
class _Tally:
    count: int = 0
    examples: list[str] = dataclass_field(default_factory=list)
    values: list[str] = dataclass_field(default_factory=list)

    def add(self, record_id: object, value: object = None, count: int = 1) -> None:
        self.count += count
        if record_id is not None and len(self.examples) < MAX_EXAMPLES:
            example = str(record_id)
            if example not in self.examples:
                self.examples.append(example)
        if value is not None and len(self.values) < MAX_EXAMPLES:
            shown = value if isinstance(value, str) else repr(value)
            if shown not in self.values:
                self.values.append(shown)

    def finding(self, stream: str, account: str | None, check: str, name: str) -> Finding:
        return Finding(
            stream=stream,
            check=check,
            count=self.count,
            examples=tuple(self.examples),
            account_id=account,
            field=name,
            values=tuple(self.values),
        )

    def merge(self, other: _Tally, value: object = None) -> None:
        self.count += other.count
        for example in other.examples:
            self.add(example, count=0)
        if value is not None:
            self.add(None, value, count=0)


def try_parse_timestamp(value: object) -> datetime | None:
    """An aware datetime from any CallRail rendering of a timestamp; None if it is not one."""
    if not isinstance(value, str) or not value:
        return None
    try:
        # Fast path: records arrive normalised to the tap's canonical UTC form, which
        # fromisoformat reads directly; timeutil handles every other CallRail rendering.
        moment = datetime.fromisoformat(value)
    except ValueError:
        try:
            return parse_timestamp(value)
        except ValueError:
            return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


#: Well-formed values remembered per kind before the set starts over (memory stays flat).
SEEN_LIMIT = 4096


def _remember(seen: set[str], value: str) -> None:
    if len(seen) >= SEEN_LIMIT:
        seen.clear()
    seen.add(value)


def _is_phone(value: object) -> bool:
    if isinstance(value, str):
        return value == "" or _E164.fullmatch(value) is not None
    if isinstance(value, list):
        # Tracker `tracking_numbers` is an array of E.164 strings.
        return all(item is None or _is_phone(item) for item in value)
    return False


def _is_email(value: object) -> bool:
    return isinstance(value, str) and (value == "" or _EMAIL.fullmatch(value) is not None)


def _as_number(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


class QualityChecker:
    """Counts data-quality findings per (stream, account_id, check, field); never alters data.

    `mode` is the `data_quality` setting: `warn` reports findings, `fail` also makes `failed`
    true when there are any, `off` checks nothing. `now` is the current time (a datetime, or a
    callable returning one) for the future-timestamp and in-progress-call checks.
    """

    def __init__(
        self,
        mode: str = "warn",
        *,
        now: datetime | Callable[[], datetime] | None = None,
        future_tolerance: timedelta = timedelta(minutes=5),
        in_progress_window: timedelta = timedelta(hours=1),
    ) -> None:
        if mode not in MODES:
            msg = f"data_quality must be one of {', '.join(MODES)}, got {mode!r}"
            raise ValueError(msg)
        self.mode = mode
        # The real clock is read at most once a second for the future-timestamp check.
        self._clock_reuse = 1.0 if now is None else math.inf if isinstance(now, datetime) else 0.0
        self._limit = ""
        self._limit_until = -math.inf
        if now is None:
            self._now: Callable[[], datetime] = _utcnow
        elif isinstance(now, datetime):
            fixed = now
            self._now = lambda: fixed
        else:
            self._now = now
        self._future_tolerance = future_tolerance
        self._in_progress_window = in_progress_window
        self._lock = threading.Lock()
        self._tallies: dict[tuple[str, str | None, str, str], _Tally] = {}
        self._references = _References()
        # Phone numbers and emails lately seen well formed. A business's tracking and business
        # numbers and its agents' emails recur on most of its calls: a set lookup costs a
        # fraction of the regular expression.
        self._phones_seen: set[str] = set()
        self._emails_seen: set[str] = set()

    def check(self, stream: str, record: Mapping[str, Any], account_id: str | None = None) -> None:
        """Look at one record of `stream` as it is synced; the record is only read.

        `account_id` defaults to the record's own `account_id`.
        """
        self.check_many(stream, (record,), account_id)

    def check_many(self, stream: str, records: Iterable[Mapping[str, Any]], account_id: str | None = None) -> None:
        """`check` each of `records` in turn (a page of them: the rules are looked up once)."""
        if self.mode == "off":
            return
        rules = _RULES.get(stream, _NO_RULES)
        check_values, remember_references = self._check_values, self._references.remember
        with self._lock:
            limit = self._future_limit() if rules.timestamps else ""  # "now" once per page
            for record in records:
                account = account_id if account_id is not None else record.get("account_id")
                if account is not None and type(account) is not str:
                    account = str(account)
                check_values(stream, account, rules, record, limit)
                remember_references(stream, account, record)

    def flag(self, stream: str, account_id: str | None, check: str, field: str, record_id: object) -> None:
        """Count one finding the tap made itself (e.g. `unconvertible_value`) for this record."""
        if self.mode == "off":
            return
        with self._lock:
            self._flag(stream, account_id, check, field, record_id)

    def finish(self) -> list[Finding]:
        """All findings so far, including the referential checks. Safe to call repeatedly."""
        with self._lock:
            findings = [
                tally.finding(stream, account, check, name)
                for (stream, account, check, name), tally in self._tallies.items()
            ]
            findings.extend(self._references.unknown_companies())
            findings.extend(self._references.unknown_accounts())
        return findings

    @property
    def failed(self) -> bool:
        """True when `data_quality` is `fail` and the run has findings."""
        return self.mode == "fail" and bool(self.finish())

    def summary(self) -> str:
        """One log line: total, mode and the findings merged over accounts."""
        if self.mode == "off":
            return "Data quality: checks off (data_quality=off)"
        findings = self.finish()
        if not findings:
            return f"Data quality: no findings (data_quality={self.mode})"
        merged: dict[str, _Tally] = {}
        for finding in findings:
            tally = merged.setdefault(finding.label(), _Tally())
            tally.merge(_Tally(finding.count, list(finding.examples)))
        total = sum(tally.count for tally in merged.values())
        shown = [
            f"{label} \u00d7{tally.count} ({', '.join(tally.examples)})"
            if tally.examples
            else f"{label} \u00d7{tally.count}"
            for label, tally in list(merged.items())[:5]
        ]
        if len(merged) > 5:
            shown.append(f"\u2026 and {len(merged) - 5} more")
        noun = "finding" if total == 1 else "findings"
        return f"Data quality: {total} {noun} (data_quality={self.mode}): " + "; ".join(shown)

    def summary_lines(self) -> list[str]:
        """`summary()` followed by one line per finding, per account."""
        lines = [self.summary()]
        for finding in self.finish():
            line = f"  {finding.label()} account={finding.account_id or '-'}: {finding.count}"
            if finding.values:
                line += " values " + ", ".join(repr(value) for value in finding.values)
            if finding.examples:
                line += " e.g. " + ", ".join(finding.examples)
            lines.append(line)
        return lines

    def _flag(
        self,
        stream: str,
        account: str | None,
        check: str,
        name: str,
        record_id: object,
        value: object = None,
    ) -> None:
        key = (stream, account, check, name)
        tally = self._tallies.get(key)
        if tally is None:
            tally = self._tallies[key] = _Tally()
        tally.add(record_id, value)

    def _check_values(
        self,
        stream: str,
        account: str | None,
        rules: _Rules,
        record: Mapping[str, Any],
        limit: str,
    ) -> None:
        # Runs for every record of a backfill: the usual value of each check is
        # tested inline, anything else goes to the general test. `limit`: `_future_limit()`.
        get = record.get
        record_id = get("id")
        for names, seen, matches, well_formed, check in (
            (rules.phones, self._phones_seen, _E164_MATCH, _is_phone, NON_E164_PHONE),
            (rules.emails, self._emails_seen, _EMAIL_MATCH, _is_email, MALFORMED_EMAIL),
        ):
            for name in names:
                value = get(name)
                if value is None or (type(value) is str and value in seen):
                    continue
                if type(value) is str and matches(value):
                    _remember(seen, value)
                elif not well_formed(value):
                    self._flag(stream, account, check, name, record_id)
        for name, allowed in rules.enums:
            value = get(name)
            if value is not None and not (type(value) is str and value in allowed):
                self._flag(stream, account, UNEXPECTED_ENUM_VALUE, name, record_id, value)
        now: datetime | None = None
        for name in rules.timestamps:
            value = get(name)
            if value is None:
                continue
            if type(value) is str and len(value) == 27 and value[26] == "Z" and value[19] == "." and value[10] == "T":
                # The tap's canonical UTC text (records are normalised): compares as instants do.
                if value > limit:
                    self._flag(stream, account, FUTURE_TIMESTAMP, name, record_id)
                continue
            moment = try_parse_timestamp(value)
            if moment is None:
                continue
            now = now or self._now()
            if moment - now > self._future_tolerance:
                self._flag(stream, account, FUTURE_TIMESTAMP, name, record_id)
        if rules.call_duration and "duration" in record:
            duration = record["duration"]
            if type(duration) is int and duration >= 0:
                return
            self._check_call_duration(stream, account, record, now)

    def _future_limit(self) -> str:
        """now + `future_tolerance` in canonical UTC text."""
        tick = time.monotonic()
        if tick >= self._limit_until:
            self._limit = to_canonical(self._now() + self._future_tolerance)
            self._limit_until = tick + self._clock_reuse
        return self._limit

    def _check_call_duration(
        self,
        stream: str,
        account: str | None,
        record: Mapping[str, Any],
        now: datetime | None,
    ) -> None:
        record_id = record.get("id")
        duration = _as_number(record["duration"])
        if duration is not None:
            if duration < 0:
                self._flag(stream, account, NEGATIVE_DURATION, "duration", record_id)
            return
        started = try_parse_timestamp(record.get("start_time"))
        if started is None or (now or self._now()) - started > self._in_progress_window:
            self._flag(stream, account, MISSING_DURATION, "duration", record_id)


class _References:
    """Which accounts and companies the run synced, and which ones its records refer to.

    Streams sync one after another, so references are judged at the end (`unknown_*`); until
    then only the distinct referenced ids are kept, with a count and a few example record ids.
    """

    def __init__(self) -> None:
        self._accounts: set[str] = set()
        self._companies: set[str] = set()
        self._account_refs: dict[tuple[str, str], _Tally] = {}
        self._company_refs: dict[tuple[str, str | None, str], _Tally] = {}

    def remember(self, stream: str, account: str | None, record: Mapping[str, Any]) -> None:
        record_id = record.get("id")
        if stream == "accounts":
            # The tap may address an account by its masked or its numeric id.
            for name in ("id", "numeric_id"):
                if record.get(name) is not None:
                    self._accounts.add(str(record[name]))
            return
        if account is not None:
            account_tally = self._account_refs.get((stream, account))
            if account_tally is None:
                account_tally = self._account_refs[(stream, account)] = _Tally()
            account_tally.add(record_id)
        if stream == "companies":
            if record_id is not None:
                self._companies.add(str(record_id))
            return
        company = record.get("company_id")
        if company is None and stream == "trackers":
            nested = record.get("company")
            if isinstance(nested, Mapping):
                company = nested.get("id")
        if company is None or company == "":
            return
        key = (stream, account, str(company))
        company_tally = self._company_refs.get(key)
        if company_tally is None:
            company_tally = self._company_refs[key] = _Tally()
        company_tally.add(record_id)

    def unknown_companies(self) -> list[Finding]:
        if not self._companies:
            return []
        merged: dict[tuple[str, str | None], _Tally] = {}
        for (stream, account, company), tally in self._company_refs.items():
            if company not in self._companies:
                merged.setdefault((stream, account), _Tally()).merge(tally, value=company)
        return [
            tally.finding(stream, account, UNKNOWN_COMPANY, "company_id") for (stream, account), tally in merged.items()
        ]

    def unknown_accounts(self) -> list[Finding]:
        if not self._accounts:
            return []
        unknown = []
        for (stream, account), tally in self._account_refs.items():
            if account not in self._accounts:
                found = _Tally(tally.count, list(tally.examples), [account])
                unknown.append(found.finding(stream, account, UNKNOWN_ACCOUNT, "account_id"))
        return unknown
