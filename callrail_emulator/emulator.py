"""`Emulator`: the data set, its mutations, fault injection, the request log and the server."""

from __future__ import annotations

import copy
import json
import random
import threading
import time
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from typing import Any

from callrail_emulator import fields as catalogue
from callrail_emulator.api import CallRailApi
from callrail_emulator.calls import AccountCalls, CallFactory
from callrail_emulator.dataset import (
    DAY_MS,
    AccountData,
    DataConfig,
    build_accounts,
    new_account,
    sms_message,
)
from callrail_emulator.faults import Faults
from callrail_emulator.hostile import Hostile
from callrail_emulator.ids import masked_id, short_id
from callrail_emulator.render import (
    EXTRA_FIELDS,
    UTC_MS,
    Stamp,
    Verbatim,
    render_record,
    sort_value,
)
from callrail_emulator.timeseries import COUNT_FIELDS, MAX_BUCKETS
from callrail_emulator.timeutil import UTC, parse_stamp, retention_cutoff_ms, to_ms, zone
from callrail_emulator.wire import Request, Response

_ID_PREFIX = {
    "companies": "COM", "users": "USR", "trackers": "TRK", "form_submissions": "FOR",
    "leads": "PER",
}
_UTC_ZONE = zone("Etc/UTC")


def _default_edit(generation: int) -> dict[str, Any]:
    return {
        "note": f"Edited by the emulator (#{generation})",
        "tags": ["Edited", f"Edit {generation}"],
        "lead_status": "good_lead",
        "value": 100 + generation,
        "customer_name": f"Edited Caller {generation}",
    }


class Emulator:
    """An in-process CallRail API v3 (read side) with a deterministic, seeded data set.

    `Emulator()` holds 2 accounts; the second account's plan lacks outbound caller ids
    (caller_ids.json answers 403). The package docstring lists what the data set holds.
    `Emulator(accounts=0)` holds nothing: `add_account` and `put` give it exactly what a test
    says.
    """

    def __init__(
        self,
        seed: int = 7,
        api_key: str = "test-key",
        accounts: int = 2,
        calls_per_account: int = 300,
        user_time_zone: str = "America/New_York",
        now: datetime | None = None,
        *,
        history_days: int = 700,
        companies_per_account: int = 3,
        users_per_account: int = 5,
        tags_per_account: int = 6,
        trackers_per_account: int = 4,
        form_submissions_per_account: int = 40,
        conversations_per_account: int = 25,
        leads_per_account: int = 20,
        integrations_per_company: int = 1,
        notifications_per_account: int = 3,
        caller_ids_per_company: int = 2,
        sms_threads_per_account: int = 6,
        accounts_without_caller_ids: Iterable[int] = (1,),
        forbidden: Iterable[tuple[int | str, str]] = (),
        latency: float = 0.0,
    ) -> None:
        if now is not None and now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        if accounts < 0 or companies_per_account < 1 or trackers_per_account < 1:
            raise ValueError("need at least one company and tracker per account")
        self.api_key = api_key
        self.user_time_zone = zone(user_time_zone)
        self._fixed_now = now
        anchor = now or datetime.now(UTC)
        self._config = DataConfig(
            seed=seed,
            accounts=accounts,
            anchor_ms=to_ms(anchor),
            history_days=history_days,
            calls_per_account=calls_per_account,
            companies_per_account=companies_per_account,
            users_per_account=users_per_account,
            tags_per_account=tags_per_account,
            trackers_per_account=trackers_per_account,
            form_submissions_per_account=form_submissions_per_account,
            conversations_per_account=conversations_per_account,
            leads_per_account=leads_per_account,
            integrations_per_company=integrations_per_company,
            notifications_per_account=notifications_per_account,
            caller_ids_per_company=caller_ids_per_company,
            sms_threads_per_account=sms_threads_per_account,
        )
        self._accounts: list[AccountData] = build_accounts(self._config)
        end_ms = self._config.anchor_ms - 600_000  # the newest call ended ~10 minutes ago
        # Generated calls by account index; an account from add_account() keeps its calls in
        # streams["calls"] like any other list.
        self._calls = {
            a.index: AccountCalls(
                CallFactory(seed, a, calls_per_account, end_ms, history_days * DAY_MS)
            )
            for a in self._accounts
        }
        self._lock = threading.RLock()
        self._faults = Faults()
        self._hostile = Hostile()
        self._plan_forbidden = {
            (self._account(a).index, "outbound_caller_ids")
            for a in accounts_without_caller_ids if isinstance(a, str) or a < accounts
        }
        self._plan_forbidden |= {
            (self._account(a).index, catalogue.canonical_stream(s)) for a, s in forbidden
        }
        self._runtime_forbidden: set[tuple[int, str]] = set()
        self._edit_generation = 0
        self._bad_records = 0
        self._page_size: int | None = None
        self._totals = {"total_pages": True, "total_records": True}
        self._page_hooks: dict[tuple[str, int | None, int], Callable[[Emulator], Any]] = {}
        self.requests: list[dict[str, Any]] = []
        self._api = CallRailApi(self)
        self._server: Any = None
        #: Seconds the HTTP server waits before each API answer (CallRail's real latency is ~0.3 s).
        self.latency = float(latency)

    # --- identity ----------------------------------------------------------------------------

    @property
    def account_ids(self) -> list[str]:
        return [a.id for a in self._accounts]

    def numeric_id(self, account_id: str | int) -> int:
        return self._account(account_id).numeric_id

    def company_ids(self, account_id: str | int) -> list[str]:
        with self._lock:
            return [c["id"] for c in self._account(account_id).streams["companies"]]

    def clock(self) -> datetime:
        """The emulator's "now": the fixed `now` if one was given, else the real time."""
        return self._fixed_now or datetime.now(UTC)

    def set_now(self, moment: datetime | None) -> None:
        """Freeze the clock at `moment` (None: follow the real time again)."""
        if moment is not None and moment.tzinfo is None:
            raise ValueError("moment must be timezone-aware")
        with self._lock:
            self._fixed_now = moment

    # --- what CallRail currently holds -------------------------------------------------------

    def records(
        self, stream: str, account_id: str | int | None = None, all_fields: bool = True
    ) -> list[dict[str, Any]]:
        """Records as the API renders them with time_zone=Etc/UTC (all optional fields)."""
        stream = catalogue.canonical_stream(stream)
        fields = catalogue.DEFAULT_FIELDS[stream]
        if all_fields:
            fields += catalogue.OPTIONAL_FIELDS[stream]
        with self._lock:
            accounts = self._accounts if account_id is None else [self._account(account_id)]
            if stream == "accounts":
                return [render_record(a.record, fields, _UTC_ZONE) for a in accounts]
            out: list[dict[str, Any]] = []
            cutoff = retention_cutoff_ms(self.clock())
            for account in accounts:
                if stream == "calls" and account.index in self._calls:
                    calls = self._calls[account.index]
                    _, items = calls.window(cutoff, 2**62, None, False, 0, 2**62)
                    out += [calls.render_dict(t, i, _UTC_ZONE, fields) for t, i in items]
                    continue
                key = catalogue.DATE_FILTERED.get(stream)
                out += [
                    render_record(r, fields, _UTC_ZONE) for r in account.streams[stream]
                    if key is None or r[key].ms >= cutoff
                ]
            return out

    def thread_message_counts(self, account_id: str | int) -> dict[str, int]:
        """Messages per SMS thread of an account (every thread, those without messages too)."""
        with self._lock:
            streams = self._account(account_id).streams
            counts = {str(t["id"]): 0 for t in streams["sms_threads"]}
            for message in streams["sms_thread_messages"]:
                counts[message["thread_id"]] = counts.get(message["thread_id"], 0) + 1
            return counts

    def calls_timeseries(
        self, account_id: str | int, company_id: str | None, start_date: str, end_date: str, time_zone: str
    ) -> list[dict[str, Any]]:
        """Daily counts as timeseries.json answers them, every count asked for (no logged request).

        For comparisons: the very answers the tap gets, over any range (asked for 200 days at a time).
        """
        first, last = date.fromisoformat(start_date), date.fromisoformat(end_date)
        data: list[dict[str, Any]] = []
        while first <= last:
            end = min(last, first + timedelta(days=MAX_BUCKETS - 1))
            params = {
                "interval": ["day"],
                "start_date": [first.isoformat()],
                "end_date": [end.isoformat()],
                "time_zone": [time_zone],
                "fields": [",".join(COUNT_FIELDS)],
                **({"company_id": [company_id]} if company_id else {}),
            }
            path = f"/v3/a/{self._account(account_id).id}/calls/timeseries.json"
            request = Request("GET", path, params, {"authorization": f'Token token="{self.api_key}"'})
            with self._lock:
                response = self._api.handle(request)
            if response.status != 200:
                raise ValueError(f"timeseries.json answered {response.status}: {response.body.decode()}")
            data += json.loads(response.body)["data"]
            first = end + timedelta(days=1)
        return data

    def ids(self, stream: str, account_id: str | int | None = None) -> set[Any]:
        stream = catalogue.canonical_stream(stream)
        if stream != "calls":
            return {r["id"] for r in self.records(stream, account_id, all_fields=False)}
        with self._lock:
            accounts = self._accounts if account_id is None else [self._account(account_id)]
            cutoff = retention_cutoff_ms(self.clock())
            found: set[Any] = set()
            for account in accounts:
                if account.index not in self._calls:
                    found |= {r["id"] for r in self.records("calls", account.id, False)}
                    continue
                calls = self._calls[account.index]
                _, items = calls.window(cutoff, 2**62, None, False, 0, 2**62)
                found |= {
                    calls.overrides.get(i, {}).get("id") or calls.factory.ids.id_of(i)
                    for _t, i in items
                }
            return found

    # --- contents a test sets --------------------------------------------------------------

    def add_account(
        self, account_id: str | None = None, numeric_id: int | None = None, name: str | None = None
    ) -> str:
        """A new account that holds no records (put() fills it); returns its id."""
        with self._lock:
            index = len(self._accounts)
            account = new_account(self._config.seed, index, account_id, numeric_id, name)
            for token in (account.id, str(account.numeric_id)):
                if self._account_by_token(token) is not None:
                    raise ValueError(f"an account is already known as {token}")
            account.streams = {s: [] for s in (*catalogue.ENDPOINTS, *catalogue.NESTED_ENDPOINTS)}
            self._accounts.append(account)
            return account.id

    def put(self, stream: str, account_id: str | int, records: Iterable[dict[str, Any]]) -> None:
        """Store `records` in a stream of an account, printed as given.

        A record whose id the stream already holds updates that record's fields; any other is
        added. The date a stream is filtered on (`catalogue.DATE_FILTERED`) is required of a new
        record, as text in a form CallRail prints. Names outside the stream's field lists are
        served like a field CallRail added. Calls go only into accounts from add_account():
        generated calls are a function of their index.
        """
        stream = catalogue.canonical_stream(stream)
        if stream == "accounts":
            raise ValueError("accounts come from the constructor or add_account()")
        key = catalogue.DATE_FILTERED.get(stream) or catalogue.ORDERED_BY.get(stream)
        known = catalogue.known_fields(stream) | catalogue.STORED_ONLY_FIELDS.get(stream, set())
        if stream == "calls":
            known |= set(catalogue.SINGLE_CALL_ONLY_FIELDS)
        with self._lock:
            account = self._account(account_id)
            if stream not in account.streams:
                raise ValueError(f"account {account.id} has generated calls; put() calls into an "
                                 "account made by add_account()")
            held = account.streams[stream]
            by_id = {str(r["id"]): r for r in held}
            for given in records:
                record = copy.deepcopy(dict(given))
                if "id" not in record:
                    raise ValueError(f"a {stream} record without an id: {given!r}")
                target = by_id.get(str(record["id"]))
                if key is not None:
                    if isinstance(record.get(key), str):
                        record[key] = Verbatim(parse_stamp(record[key]), record[key])
                    if (key in record or target is None) and not isinstance(record.get(key), Stamp):
                        raise ValueError(f"{stream} records need {key} as a timestamp: {given!r}")
                if target is None:
                    target = by_id[str(record["id"])] = {}
                    held.append(target)
                target.update(record)
                target[EXTRA_FIELDS] = tuple(
                    name for name in target if name not in known and name != EXTRA_FIELDS
                )

    # --- mutations ---------------------------------------------------------------------------

    def edit_calls(self, account_id: str | int, n: int, **changes: Any) -> list[str]:
        """Edit the n most recent calls (tags, note, lead_status, value, customer_name …)."""
        with self._lock:
            calls = self._generated_calls(account_id)
            cutoff = retention_cutoff_ms(self.clock())
            _, items = calls.window(cutoff, 2**62, None, True, 0, n)
            self._edit_generation += 1
            update = changes or _default_edit(self._edit_generation)
            for _t, i in items:
                calls.edits.setdefault(i, {}).update(copy.deepcopy(update))
            return [calls.factory.ids.id_of(i) for _t, i in items]

    def add_calls(
        self, account_id: str | int, n: int, start: datetime | None = None
    ) -> list[str]:
        """n new calls after the current latest one (before "now"), or from `start` on."""
        with self._lock:
            calls = self._generated_calls(account_id)
            if start is not None:
                times = [to_ms(start) + k * 1000 for k in range(n)]
            else:
                now_ms = to_ms(self.clock())
                latest = calls.latest_ms(retention_cutoff_ms(self.clock())) or now_ms - 3_600_000
                step = max(1, min(60_000, (now_ms - latest - 1) // (n + 1)))
                times = [latest + step * (k + 1) for k in range(n)]
            return [calls.factory.ids.id_of(calls.add(t)) for t in times]

    def mark_spam(self, account_id: str | int, call_id: str) -> None:
        """The call disappears from lists and its detail answers 404 (callrail-api.md §7.3)."""
        with self._lock:
            if "calls" in self._account(account_id).streams:
                self.delete("calls", account_id, call_id)
                return
            calls = self._calls[self._account(account_id).index]
            index = calls.factory.ids.index_of(call_id)
            if index is None or calls.start_of(index) is None:
                raise KeyError(f"no call {call_id} in account {account_id}")
            calls.spam.add(index)

    def delete(self, stream: str, account_id: str | int, record_id: Any) -> None:
        """Hard delete: the record is gone from every list (calls: same as mark_spam)."""
        stream = catalogue.canonical_stream(stream)
        if stream == "calls" and "calls" not in self._account(account_id).streams:
            self.mark_spam(account_id, record_id)
            return
        if stream == "accounts":
            raise ValueError("accounts cannot be deleted")
        with self._lock:
            records = self._account(account_id).streams[stream]
            kept = [r for r in records if str(r["id"]) != str(record_id)]
            if len(kept) == len(records):
                raise KeyError(f"no {stream} record {record_id!r} in account {account_id}")
            records[:] = kept

    def disable(self, stream: str, account_id: str | int, record_id: str) -> None:
        """Soft delete of a company or tracker: status disabled, disabled_at now (§7.3)."""
        stream = catalogue.canonical_stream(stream)
        if stream not in ("companies", "trackers"):
            raise ValueError("only companies and trackers are soft-deleted")
        with self._lock:
            for record in self._account(account_id).streams[stream]:
                if record["id"] == record_id:
                    record["status"] = "disabled"
                    record["disabled_at"] = Stamp(to_ms(self.clock()), UTC_MS)
                    return
            raise KeyError(f"no {stream} record {record_id!r} in account {account_id}")

    def add_bad_record(self, stream: str, account_id: str | int, **fields: Any) -> Any:
        """Add a record like the existing ones with `fields` overridden; returns its id."""
        stream = catalogue.canonical_stream(stream)
        if stream == "accounts":
            raise ValueError("add_bad_record does not support accounts")
        with self._lock:
            account = self._account(account_id)
            self._bad_records += 1
            now_ms = to_ms(self.clock())
            if stream == "calls" and account.index in self._calls:
                calls = self._calls[account.index]
                index = calls.add(now_ms - 60_000, fields)
                return fields.get("id", calls.factory.ids.id_of(index))
            records = account.streams[stream]
            template = next(iter(records), None) or _first_record(self._accounts, stream)
            record = copy.deepcopy(template)
            record["id"] = self._new_id(stream, account, records)
            key = catalogue.DATE_FILTERED.get(stream)
            if key:
                record[key] = Stamp(now_ms - 60_000, record[key].style)
            record.update(fields)
            known = catalogue.known_fields(stream)
            record[EXTRA_FIELDS] = tuple(name for name in fields if name not in known)
            records.append(record)
            return record["id"]

    def add_sms_message(
        self,
        account_id: str | int,
        thread_id: str,
        content: str = "Is this still available?",
        at: datetime | None = None,
    ) -> str:
        """A new message in an SMS thread, at `at` (default now); the thread's last_message_at
        moves to it. Returns the message id."""
        with self._lock:
            account = self._account(account_id)
            thread = next((t for t in account.streams["sms_threads"] if str(t["id"]) == thread_id), None)
            if thread is None:
                raise KeyError(f"no SMS thread {thread_id!r} in account {account_id}")
            self._bad_records += 1
            at_ms = to_ms(at or self.clock())
            message_id = masked_id("SCI", self._config.seed, "added", account.index, self._bad_records)
            rng = random.Random(message_id)
            message = sms_message(message_id, thread_id, at_ms, rng, content)
            account.streams["sms_thread_messages"].append(message)
            thread["last_message_at"] = Stamp(at_ms, UTC_MS)
            return message_id

    def _target_company(self, req: Request) -> str | None:
        """The company the company_404/vanish_company modes aim at: sorted `position` of the account's."""
        if self._hostile.mode not in ("company_404", "vanish_company"):
            return None
        target = self._hostile.company
        if target is None:
            token = self._api.account_token(req.path)
            account = self._account_by_token(token) if token else None
            if account is None:
                return None
            ordered = sorted(account.streams["companies"], key=lambda r: sort_value(r.get("name")))
            if not ordered:
                return None
            target = self._hostile.company = ordered[self._hostile.position]["id"]
        return str(target)

    def _vanish(self, req: Request) -> None:
        token = self._api.account_token(req.path)
        account = self._account_by_token(token) if token else None
        if account is not None:
            companies = account.streams["companies"]
            companies[:] = [c for c in companies if c["id"] != req.param("company_id")]

    def _shift(self, req: Request) -> None:
        """Delete the record at the hostile `position` of this list and add one at its end."""
        token = self._api.account_token(req.path)
        stream = self._api.stream_of(req.path)
        if token is None or stream not in catalogue.ENDPOINTS or stream == "calls":
            raise ValueError(f"shift works on the small lists under /a/{{account}}/, not {req.path}")
        account = self._account(token)
        records = account.streams[stream]
        sort_field = catalogue.DEFAULT_SORT[stream][0]
        ordered = sorted(records, key=lambda r: str(r["id"]))
        ordered.sort(key=lambda r: sort_value(r.get(sort_field)))
        gone = ordered[self._hostile.position]
        added = copy.deepcopy(ordered[-1])
        self._bad_records += 1
        added["id"] = self._new_id(stream, account, records)
        if isinstance(added.get(sort_field), str):
            added[sort_field] += " (added)"  # sorts right after the last one
        records[:] = [r for r in records if r is not gone] + [added]

    def _new_id(self, stream: str, account: AccountData, records: list[dict[str, Any]]) -> Any:
        seed = self._config.seed
        if stream in _ID_PREFIX:
            return masked_id(_ID_PREFIX[stream], seed, "bad", account.index, self._bad_records)
        if stream == "text_messages":
            return short_id(seed, "bad", account.index, self._bad_records)
        existing = [r["id"] for r in records if isinstance(r["id"], int)]
        return max(existing, default=9_000_000 + account.index * 10_000) + 1

    # --- how pages are answered -----------------------------------------------------------

    def set_paging(
        self, page_size: int | None = None, *, total_pages: bool = True, total_records: bool = True
    ) -> None:
        """From now on serve at most `page_size` items a page whatever per_page asks (None: as
        asked), and leave `total_pages` / `total_records` out of list bodies when False (some
        endpoints omit them, callrail-api.md §2.1)."""
        if page_size is not None and page_size < 1:
            raise ValueError("page_size must be >= 1")
        with self._lock:
            self._page_size = page_size
            self._totals = {"total_pages": total_pages, "total_records": total_records}

    def after_page(
        self,
        stream: str,
        account_id: str | int | None,
        page: int,
        hook: Callable[[Emulator], Any],
    ) -> None:
        """Call `hook(emulator)` once, right after page `page` of a list is answered with 200 (the
        accounts list: account_id None), to change the data while a client pages through it.
        In-process only."""
        stream = catalogue.canonical_stream(stream)
        with self._lock:
            index = None if account_id is None else self._account(account_id).index
            self._page_hooks[(stream, index, int(page))] = hook

    # --- request log -------------------------------------------------------------------------

    def request_count(self, path_contains: str | None = None, status: int | None = None) -> int:
        with self._lock:
            return sum(
                1 for r in self.requests
                if (path_contains is None or path_contains in r["path"])
                and (status is None or r["status"] == status)
            )

    def reset_requests(self) -> None:
        with self._lock:
            self.requests.clear()

    # --- faults ------------------------------------------------------------------------------

    def fault_every(
        self, n: int, kinds: Iterable[str | int] = ("500", "503", "drop", "truncated_json")
    ) -> None:
        """Every n-th API request from now on fails, rotating through `kinds`."""
        with self._lock:
            self._faults.set_every(n, tuple(kinds))

    def rate_limit(self, count: int, retry_after: int | datetime | None = None) -> None:
        """The next `count` API requests get 429 (Retry-After in seconds or as an HTTP-date)."""
        with self._lock:
            self._faults.set_rate_limit(count, retry_after)

    def persistent_fault(
        self,
        status: int | str = 500,
        path_contains: str | None = None,
        *,
        company_id: str | None = None,
        message: str | None = None,
    ) -> None:
        """Every API request fails with `status` (or "drop"/"truncated_json") until cleared.

        Only requests whose path contains `path_contains`, and that ask for `company_id`, when
        given; `message`: answer `{"error": message}` instead of the status's usual body.
        """
        with self._lock:
            self._faults.set_persistent(status, path_contains, company_id, message)

    def hostile(
        self,
        mode: str,
        path_contains: str | None = None,
        *,
        pages: Iterable[int] = (),
        after_page: int = 1,
        position: int = 0,
    ) -> None:
        """Answer undocumented things from now on (callrail_emulator/hostile.py lists the modes)."""
        with self._lock:
            self._hostile.set(mode, path_contains, pages=tuple(pages), after_page=after_page, position=position)

    def forbid(self, account_id: str | int, stream: str) -> None:
        with self._lock:
            index = self._account(account_id).index
            self._runtime_forbidden.add((index, catalogue.canonical_stream(stream)))

    def clear_faults(self) -> None:
        """Remove injected faults and forbid() calls (not the plan restrictions, not paging)."""
        with self._lock:
            self._faults.clear()
            self._hostile.clear()
            self._runtime_forbidden.clear()

    # --- serving -----------------------------------------------------------------------------

    def start(self, port: int = 0, host: str = "127.0.0.1") -> str:
        """Serve in a daemon thread; returns the base URL `http://host:port/v3`."""
        from callrail_emulator.server import EmulatorServer

        if self._server is not None:
            raise RuntimeError("already started")
        self._server = EmulatorServer(self, host, port)
        self._server.start()
        return self.base_url

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("not started")
        return f"http://{self._server.host}:{self._server.port}/v3"

    def __enter__(self) -> Emulator:
        if self._server is None:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def dispatch(self, req: Request) -> Response:
        """Answer one HTTP request (API or control surface) and log API requests."""
        if req.path.startswith("/_emulator/"):
            from callrail_emulator.control import handle_control

            return handle_control(self, req)
        with self._lock:
            fault = self._faults.next_fault(req)
            gone = self._hostile.company_gone(req, self._target_company(req))
            if gone is not None:
                if self._hostile.mode == "vanish_company":
                    self._vanish(req)
                fault, response = gone, gone
            elif fault is None or fault.truncate:
                response = self._api.handle(self._hostile.before(req))
                if fault is not None:
                    cut = max(1, len(response.body) // 2)
                    response = Response(200, response.body[:cut], response.headers)
                else:
                    response, shift_due = self._hostile.after(req, response)
                    if shift_due:
                        self._shift(req)
            else:
                response = fault
            token = self._api.account_token(req.path)
            account = self._account_by_token(token) if token else None
            stream = self._api.stream_of(req.path)
            self.requests.append({
                "method": req.method,
                "path": req.path,
                "query": {k: list(v) for k, v in req.query.items()},
                "status": None if response.drop else response.status,
                "account_id": account.id if account else None,
                "stream": stream,
                "ts": time.time(),
                "fault": fault is not None,
            })
            if fault is None and response.status == 200 and stream is not None:
                key = (stream, account.index if account else None, _page(req))
                hook = self._page_hooks.pop(key, None)
                if hook is not None:
                    hook(self)
        return response

    # --- internals shared with api.py / control.py --------------------------------------------

    def _account(self, key: str | int) -> AccountData:
        if isinstance(key, int) and not isinstance(key, bool) and 0 <= key < len(self._accounts):
            return self._accounts[key]
        account = self._account_by_token(str(key))
        if account is None:
            raise KeyError(f"unknown account {key!r}")
        return account

    def _account_by_token(self, token: str) -> AccountData | None:
        """The account a path names by masked id (`ACC…`) or 9-digit numeric id."""
        for account in self._accounts:
            if token == account.id or token == str(account.numeric_id):
                return account
        return None

    def _generated_calls(self, account_id: str | int) -> AccountCalls:
        account = self._account(account_id)
        if account.index not in self._calls:
            raise ValueError(f"account {account.id} holds calls given to put(); change them there")
        return self._calls[account.index]

    def _is_forbidden(self, index: int, stream: str) -> bool:
        keys = {(index, stream)}
        if stream in catalogue.NESTED_ENDPOINTS:  # a plan without the parent lacks its lists too
            keys.add((index, catalogue.NESTED_ENDPOINTS[stream][0]))
        return bool(keys & (self._plan_forbidden | self._runtime_forbidden))

    def state(self) -> dict[str, Any]:
        """A JSON-ready summary for GET /_emulator/state."""
        with self._lock:
            cutoff = retention_cutoff_ms(self.clock())
            accounts = []
            for account in self._accounts:
                counts = {s: len(v) for s, v in account.streams.items()}
                if account.index in self._calls:
                    calls = self._calls[account.index]
                    counts["calls"] = calls.window(cutoff, 2**62, None, False, 0, 0)[0]
                accounts.append({
                    "id": account.id,
                    "numeric_id": account.numeric_id,
                    "name": account.record["name"],
                    "company_ids": [c["id"] for c in account.streams["companies"]],
                    "counts": counts,
                    "forbidden": sorted(
                        s for s in (*catalogue.STREAMS[1:], *catalogue.REPORTS)
                        if self._is_forbidden(account.index, s)
                    ),
                })
            return {
                "base_url": self.base_url if self._server else None,
                "now": self.clock().isoformat(),
                "user_time_zone": self.user_time_zone.key,
                "seed": self._config.seed,
                "accounts": accounts,
                "faults": self._faults.describe(),
                "hostile": self._hostile.describe(),
                "paging": {"page_size": self._page_size, **self._totals},
                "requests": len(self.requests),
            }


def _page(req: Request) -> int:
    try:
        return int(req.param("page") or 1)
    except ValueError:
        return 1


def _first_record(accounts: list[AccountData], stream: str) -> dict[str, Any]:
    for account in accounts:
        if account.streams.get(stream):
            return account.streams[stream][0]
    raise ValueError(f"no {stream} record to copy")

