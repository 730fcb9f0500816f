"""The emulated CallRail API v3 read side: routing, auth, parameters, pagination, rendering.

`CallRailApi.handle` turns one `Request` into one `Response`; the caller (the emulator) holds
its lock, injects faults and logs the request.
"""

from __future__ import annotations

import json
import math
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from callrail_emulator import fanouts, timeseries
from callrail_emulator import fields as catalogue
from callrail_emulator.calls import AccountCalls
from callrail_emulator.dataset import AccountData
from callrail_emulator.errors import ACCESS_DENIED_BODY, ApiError, bad_request, forbidden, not_found
from callrail_emulator.render import render_record, sort_value
from callrail_emulator.timeutil import date_window, retention_cutoff_ms, zone
from callrail_emulator.wire import Request, Response, json_bytes_response, json_response

if TYPE_CHECKING:
    from callrail_emulator.emulator import Emulator

MAX_PER_PAGE = 250
DEFAULT_PER_PAGE = 100

_AUTH = re.compile(r'Token\s+token=(?:"([^"]*)"|([^\s",]+))\s*')
_ACCOUNT = re.compile(r"/v3/a/([^/]+)\.json")
_SINGLE_CALL = re.compile(r"/v3/a/([^/]+)/calls/([^/]+)\.json")
_TIMESERIES = re.compile(r"/v3/a/([^/]+)/calls/timeseries\.json")
_SMS_THREAD = re.compile(r"/v3/a/([^/]+)/sms-threads/([^/]+)\.json")
_PAGE_VIEWS = re.compile(r"/v3/a/([^/]+)/calls/([^/]+)/page_views\.json")
_TIMELINE = re.compile(r"/v3/a/([^/]+)/leads/([^/]+)/timeline\.json")
_RESOURCE = re.compile(r"/v3/a/([^/]+)/([^/]+?)(\.json)?")
_API_SORT = re.compile(r"api_sort\[\]\[(\w+)\]")
_STREAM_OF_FILE = {
    file.removesuffix(".json"): stream for stream, file in catalogue.ENDPOINTS.items()
}
_RELATIVE_KEYS = {"page", "offset", "relative_pagination", "format", "per_page"}


class CallRailApi:
    def __init__(self, emulator: Emulator) -> None:
        self.emu = emulator

    def handle(self, req: Request) -> Response:
        try:
            return self._route(req)
        except ApiError as exc:
            return json_response(exc.status, exc.body())

    def authorized(self, header: str | None) -> bool:
        match = _AUTH.fullmatch(header or "")
        if match is None:
            return False
        return (match[1] if match[1] is not None else match[2]) == self.emu.api_key

    def account_token(self, path: str) -> str | None:
        """The account id written in `path` (masked or numeric), if the path has one."""
        match = _ACCOUNT.fullmatch(path) or _RESOURCE.fullmatch(path)
        if match is None:
            match = _SINGLE_CALL.fullmatch(path) or _SMS_THREAD.fullmatch(path)
        if match is None:
            match = _PAGE_VIEWS.fullmatch(path) or _TIMELINE.fullmatch(path)
        return match[1] if match else None

    @staticmethod
    def stream_of(path: str) -> str | None:
        """What `path` asks for: the stream of a list, `account` or `call` (one object), or None."""
        if path == "/v3/a.json":
            return "accounts"
        if _ACCOUNT.fullmatch(path):
            return "account"
        if _TIMESERIES.fullmatch(path):
            return "calls_timeseries"
        if _SINGLE_CALL.fullmatch(path):
            return "call"
        if _SMS_THREAD.fullmatch(path):
            return "sms_thread_messages"
        if _PAGE_VIEWS.fullmatch(path):
            return "call_page_views"
        if _TIMELINE.fullmatch(path):
            return "lead_timelines"
        match = _RESOURCE.fullmatch(path)
        return _STREAM_OF_FILE.get(match[2]) if match else None

    # --- routing -----------------------------------------------------------------------------

    def _route(self, req: Request) -> Response:
        if not self.authorized(req.headers.get("authorization")):
            return Response(401, ACCESS_DENIED_BODY.encode(), [
                ("Content-Type", "text/plain; charset=utf-8"),
                ("WWW-Authenticate", 'Token realm="Application"'),
            ])
        if req.method not in ("GET", "HEAD"):
            raise ApiError(405, "Method Not Allowed")
        if req.path == "/v3/a.json":
            return self._accounts(req)
        match = _ACCOUNT.fullmatch(req.path)
        if match:
            account = self._account(match[1])
            fields = self._fields(req, "accounts")
            return json_response(200, render_record(account.record, fields, self._tz(req)))
        match = _TIMESERIES.fullmatch(req.path)
        if match:
            return self._calls_timeseries(req, self._account(match[1]))
        match = _SINGLE_CALL.fullmatch(req.path)
        if match:
            return self._single_call(req, self._account(match[1]), match[2])
        match = _SMS_THREAD.fullmatch(req.path)
        if match:
            return self._thread_messages(req, self._account(match[1]), match[2])
        match = _PAGE_VIEWS.fullmatch(req.path)
        if match:
            return self._page_views(req, self._account(match[1]), match[2])
        match = _TIMELINE.fullmatch(req.path)
        if match:
            return self._timeline(req, self._account(match[1]), match[2])
        match = _RESOURCE.fullmatch(req.path)
        if match is None:
            raise not_found()
        token, name, suffix = match.groups()
        stream = _STREAM_OF_FILE.get(name)
        # Relative pagination's next_page URL has no `.json` but carries `format=json` (§2.2).
        if stream is None or (suffix is None and req.param("format") != "json"):
            raise not_found()
        account = self._account(token)
        if self.emu._is_forbidden(account.index, stream):
            raise forbidden()
        if stream == "calls" and account.index in self.emu._calls:
            return self._calls(req, account, token)
        return self._small_list(req, account, stream)

    def _account(self, token: str) -> AccountData:
        account = self.emu._account_by_token(token)
        if account is None:
            raise not_found()
        return account

    # --- parameters --------------------------------------------------------------------------

    @staticmethod
    def _int(req: Request, name: str, default: int) -> int:
        raw = req.param(name)
        if raw is None or raw == "":
            return default
        try:
            return int(raw)
        except ValueError:
            raise bad_request(f"Invalid {name}: {raw}") from None

    def _paging(self, req: Request, limit: int = MAX_PER_PAGE) -> tuple[int, int]:
        page = self._int(req, "page", 1)
        per_page = self._int(req, "per_page", min(DEFAULT_PER_PAGE, limit))
        if page < 1:
            raise bad_request(f"Invalid page: {page}")
        if not 1 <= per_page <= limit:
            raise bad_request(f"per_page must be between 1 and {limit}")
        return page, per_page

    def _served(self, per_page: int) -> int:
        """How many items a page holds: per_page, or fewer under Emulator.set_paging."""
        return min(per_page, self.emu._page_size or per_page)

    def _counts(self, total: int, total_pages: int) -> dict[str, int]:
        """total_pages and total_records, less those Emulator.set_paging leaves out."""
        counts = {"total_pages": total_pages, "total_records": total}
        return {k: v for k, v in counts.items() if self.emu._totals[k]}

    def _tz(self, req: Request) -> ZoneInfo:
        name = req.param("time_zone")
        return zone(name) if name else self.emu.user_time_zone

    @staticmethod
    def _fields(req: Request, stream: str, single_call: bool = False) -> tuple[str, ...]:
        """Field names to render, in CallRail's order; an unknown name is a 400."""
        raw = req.param("fields") or ""
        asked = [name.strip() for name in raw.split(",") if name.strip()]
        extra = catalogue.SINGLE_CALL_ONLY_FIELDS if single_call else ()
        known = catalogue.known_fields(stream) | set(extra)
        for name in asked:
            if name not in known:
                raise bad_request(f"Invalid field: {name}")
        default = catalogue.DEFAULT_FIELDS[stream]
        if stream in catalogue.NARROWING_FIELDS_STREAMS and asked:
            return tuple(f for f in default if f == "id" or f in asked)
        chosen = set(asked)
        optional = (*catalogue.OPTIONAL_FIELDS[stream], *extra)
        return default + tuple(f for f in optional if f in chosen)

    @staticmethod
    def _sort(req: Request, stream: str) -> tuple[str, bool]:
        """(field, descending) from `sort`/`order` or Relative pagination's `api_sort[][f]`."""
        field, order = catalogue.DEFAULT_SORT[stream]
        for key, values in req.query.items():
            match = _API_SORT.fullmatch(key)
            if match:
                field, order = match[1], values[-1]
        field = req.param("sort") or field
        order = (req.param("order") or order).lower()
        if field not in catalogue.SORTABLE[stream]:
            raise bad_request(f"Invalid sort: {field}")
        if order not in ("asc", "desc"):
            raise bad_request(f"Invalid order: {order}")
        return field, order == "desc"

    def _window(self, req: Request, tz: ZoneInfo) -> tuple[int, int]:
        params = {k: v for k in ("date_range", "start_date", "end_date") if (v := req.param(k))}
        return date_window(params, tz, self.emu.clock())

    # --- endpoints ---------------------------------------------------------------------------

    def _accounts(self, req: Request) -> Response:
        fields = self._fields(req, "accounts")
        page, per_page = self._paging(req)
        sort_field, descending = self._sort(req, "accounts")
        records = [a.record for a in self.emu._accounts]
        hipaa = req.param("hipaa_account")
        if hipaa in ("true", "false"):
            records = [r for r in records if r["hipaa_account"] == (hipaa == "true")]
        return self._page_of(req, "accounts", records, fields, page, per_page,
                             sort_field, descending, self._tz(req))

    def _small_list(self, req: Request, account: AccountData, stream: str) -> Response:
        fields = self._fields(req, stream)
        page, per_page = self._paging(req)
        tz = self._tz(req)
        company_id = req.param("company_id") or None
        if stream in catalogue.COMPANY_ID_REQUIRED and company_id is None:
            raise bad_request("Missing required parameter: company_id")
        records = account.streams[stream]
        if stream == "sms_threads" and bool(req.param("start_date")) != bool(req.param("end_date")):
            raise bad_request("start_date and end_date must be used together")
        if stream in catalogue.DATE_FILTERED:
            start, end = self._window(req, tz)
            key = catalogue.DATE_FILTERED[stream]
            records = [r for r in records if start <= r[key].ms <= end]
        records = _filter(stream, records, req, company_id)
        sort_field, descending = self._sort(req, stream)
        return self._page_of(req, stream, records, fields, page, per_page,
                             sort_field, descending, tz)

    def _page_of(
        self,
        req: Request,
        stream: str,
        records: list[dict[str, Any]],
        fields: tuple[str, ...],
        page: int,
        per_page: int,
        sort_field: str,
        descending: bool,
        tz: ZoneInfo,
    ) -> Response:
        ordered = sorted(records, key=lambda r: str(r["id"]))
        ordered.sort(key=lambda r: sort_value(r.get(sort_field)), reverse=descending)
        total = len(ordered)
        size = self._served(per_page)
        total_pages = math.ceil(total / size)
        chosen = ordered[(page - 1) * size: page * size]
        body = {
            "page": page,
            "per_page": per_page,
            **self._counts(total, total_pages),
            catalogue.ITEM_KEYS[stream]: [render_record(r, fields, tz) for r in chosen],
        }
        return json_response(200, body, _next_link(req, page, total_pages))

    def _calls(self, req: Request, account: AccountData, token: str) -> Response:
        fields = self._fields(req, "calls")
        tz = self._tz(req)
        calls = self.emu._calls[account.index]
        start, end = self._window(req, tz)
        start = max(start, retention_cutoff_ms(self.emu.clock()))
        slots = _call_slots(req, account, calls)
        sort_field, descending = self._sort(req, "calls")
        relative = req.param("relative_pagination") == "true"
        if relative:
            _, per_page = self._paging(req)
            page = self._int(req, "offset", 0) + 1
            if page < 1:
                raise bad_request("Invalid offset")
        else:
            page, per_page = self._paging(req)
        size = self._served(per_page)
        first = (page - 1) * size
        if sort_field == "start_time":
            total, items = calls.window(start, end, slots, descending, first, size)
            records = calls.render_page(items, tz, fields)
        else:
            total, records = _sorted_calls(
                calls, start, end, slots, sort_field, descending, first, size, tz, fields
            )
        if relative:
            has_next = page * size < total
            next_url = _relative_next(req, token, page, per_page, sort_field, descending)
            head: dict[str, Any] = {
                "next_page": next_url if has_next else None, "has_next_page": has_next,
            }
            headers = [("Link", f'<{next_url}>; rel="next"')] if has_next else []
        else:
            total_pages = math.ceil(total / size)
            head = {"page": page, "per_page": per_page, **self._counts(total, total_pages)}
            headers = _next_link(req, page, total_pages)
        start_text = json.dumps(head, separators=(",", ":"))[:-1] + ',"calls":['
        return json_bytes_response(200, b"".join((start_text.encode(), records, b"]}")), headers)

    def _single_call(self, req: Request, account: AccountData, call_id: str) -> Response:
        if self.emu._is_forbidden(account.index, "calls"):
            raise forbidden()
        fields = self._fields(req, "calls", single_call=True)
        tz = self._tz(req)
        if account.index not in self.emu._calls:  # calls given to Emulator.put
            cutoff = retention_cutoff_ms(self.emu.clock())
            held = [
                r for r in account.streams["calls"]
                if str(r["id"]) == call_id and r["start_time"].ms >= cutoff
            ]
            if not held:
                raise not_found()
            return json_response(200, render_record(held[0], fields, tz))
        calls = self.emu._calls[account.index]
        index = calls.factory.ids.index_of(call_id)
        start = calls.start_of(index) if index is not None else None
        if index is None or start is None or index in calls.spam:
            raise not_found()
        if start < retention_cutoff_ms(self.emu.clock()):
            raise not_found()
        return json_bytes_response(200, calls.render_page([(start, index)], tz, fields))

    def _calls_timeseries(self, req: Request, account: AccountData) -> Response:
        """Call counts per day (or week, month, year) of the account or one company (timeseries.py)."""
        if self.emu._is_forbidden(account.index, "calls_timeseries"):
            raise forbidden()
        fields = timeseries.count_fields(req.param("fields"))
        tz = self._tz(req)
        start, end = self._window(req, tz)
        generated = self.emu._calls.get(account.index)

        def calls() -> list[tuple[int, dict[str, Any]]]:
            if generated is None:  # calls given to Emulator.put
                return timeseries.stored_calls(account, start, end, req.param("company_id") or None)
            return timeseries.generated_calls(generated, start, end, _call_slots(req, account, generated))

        interval = req.param("interval") or "day"
        return json_response(200, timeseries.timeseries(calls, (start, end), tz, interval, fields))

    def _thread_messages(self, req: Request, account: AccountData, thread_id: str) -> Response:
        """One SMS thread with a page of its messages, newest first (at most 100 a page)."""
        if self.emu._is_forbidden(account.index, "sms_thread_messages"):
            raise forbidden()
        thread = next((t for t in account.streams["sms_threads"] if str(t["id"]) == thread_id), None)
        if thread is None:
            raise not_found()
        page, per_page = self._paging(req, catalogue.MAX_PER_PAGE["sms_thread_messages"])
        tz = self._tz(req)
        fields = catalogue.DEFAULT_FIELDS["sms_thread_messages"]
        if req.param("with_msg_errors") == "true":
            fields += (catalogue.MESSAGE_ERROR_FIELD,)
        messages = [m for m in account.streams["sms_thread_messages"] if m["thread_id"] == thread_id]
        thread_fields = catalogue.DEFAULT_FIELDS["sms_threads"] + catalogue.OPTIONAL_FIELDS["sms_threads"]
        listing = json.loads(self._page_of(req, "sms_thread_messages", messages, fields, page, per_page,
                                           "created_at", True, tz).body)
        body = {**render_record(thread, thread_fields, tz), **listing}
        total_pages = listing.get("total_pages", math.ceil(len(messages) / self._served(per_page)))
        return json_response(200, body, _next_link(req, page, total_pages))


    def _page_views(self, req: Request, account: AccountData, call_id: str) -> Response:
        """A call's page views, newest first; 404 for a call CallRail does not list (spam)."""
        if self.emu._is_forbidden(account.index, "calls"):
            raise forbidden()
        call = fanouts.call_of(self.emu, account, call_id)
        if call is None:
            raise not_found()
        return self._listing(req, "page_views", fanouts.page_views(call), {})

    def _timeline(self, req: Request, account: AccountData, person_id: str) -> Response:
        """A lead's timeline events, newest first (at most 250 a page), with the lead."""
        if self.emu._is_forbidden(account.index, "leads"):
            raise forbidden()
        found = fanouts.lead_timeline(self.emu, account, person_id)
        if found is None:
            raise not_found()
        lead, events = found
        return self._listing(req, "timeline", events, {"lead": lead})

    def _listing(self, req: Request, key: str, items: list[dict[str, Any]], head: dict[str, Any]) -> Response:
        """A numbered page of `items` (already in their order) under `key`."""
        page, per_page = self._paging(req)
        size = self._served(per_page)
        total_pages = math.ceil(len(items) / size)
        body = {
            **head,
            "page": page,
            "per_page": per_page,
            **self._counts(len(items), total_pages),
            key: items[(page - 1) * size: page * size],
        }
        return json_response(200, body, _next_link(req, page, total_pages))


def _filter(
    stream: str, records: list[dict[str, Any]], req: Request, company_id: str | None
) -> list[dict[str, Any]]:
    out = list(records)  # a record given to Emulator.put may lack any field but its id
    if company_id and stream in catalogue.COMPANY_FILTERED:
        if stream == "users":
            out = [r for r in out if any(c["id"] == company_id for c in r.get("companies") or ())]
        elif stream == "trackers":
            out = [r for r in out if (r.get("company") or {}).get("id") == company_id]
        else:
            out = [r for r in out if r.get("company_id") == company_id]
    tracker_id = req.param("tracker_id")
    if tracker_id and stream == "calls":  # calls given to Emulator.put
        out = [r for r in out if r.get("tracker_id") == tracker_id]
    allowed = {
        "companies": {"status": ("active", "disabled")},
        "tags": {"status": ("enabled", "disabled"), "tag_level": ("company", "account")},
        "trackers": {"status": ("active", "disabled"), "type": ("source", "session")},
    }.get(stream, {})
    for param, values in allowed.items():
        wanted = req.param(param)
        if not wanted:
            continue
        if wanted not in values:
            raise bad_request(f"Invalid {param}: {wanted}")
        out = [r for r in out if r.get(param) == wanted]
    if stream == "tags" and req.param("tag_level") == "account" and company_id:
        raise bad_request("tag_level=account cannot be combined with company_id")
    return out


def _call_slots(req: Request, account: AccountData, calls: AccountCalls) -> set[int] | None:
    """Tracker slots a company_id / tracker_id filter keeps (None: no filter)."""
    company_id = req.param("company_id") or None
    tracker_id = req.param("tracker_id") or None
    if company_id is None and tracker_id is None:
        return None
    factory = calls.factory
    return {
        slot for slot, tid in enumerate(factory.tracker_ids)
        if (company_id is None or factory.tracker_company[slot] == company_id)
        and (tracker_id is None or tid == tracker_id)
    }


def _sorted_calls(
    calls: AccountCalls,
    start: int,
    end: int,
    slots: set[int] | None,
    sort_field: str,
    descending: bool,
    first: int,
    per_page: int,
    tz: ZoneInfo,
    fields: tuple[str, ...],
) -> tuple[int, bytes]:
    """Calls sorted on a field other than start_time: materialised, fine for small data sets."""
    total, items = calls.window(start, end, slots, False, 0, 2**62)
    wanted = fields if sort_field in fields else (*fields, sort_field)
    records = [calls.render_dict(t, i, tz, wanted) for t, i in items]
    records.sort(key=lambda r: sort_value(r.get(sort_field)), reverse=descending)
    chosen = records[first: first + per_page]
    if sort_field not in fields:
        for record in chosen:
            record.pop(sort_field, None)
    texts = [json.dumps(r, ensure_ascii=False, separators=(",", ":")) for r in chosen]
    return total, ",".join(texts).encode()


def _next_link(req: Request, page: int, total_pages: int) -> list[tuple[str, str]]:
    """`Link: <…page=n+1…>; rel="next"` while a next page exists (Airbyte follows it, §2.1)."""
    if page >= total_pages:
        return []
    pairs = [(k, v) for k, values in req.query.items() if k != "page" for v in values]
    pairs.append(("page", str(page + 1)))
    return [("Link", f'<{req.base_url}{req.path}?{urlencode(pairs)}>; rel="next"')]


def _relative_next(
    req: Request, token: str, page: int, per_page: int, sort_field: str, descending: bool
) -> str:
    """next_page as documented: no `.json`, format=json, offset, page=1, api_sort (§2.2)."""
    pairs = [
        (k, v) for k, values in req.query.items()
        if k not in _RELATIVE_KEYS and k not in ("sort", "order") and not _API_SORT.fullmatch(k)
        for v in values
    ]
    pairs += [
        ("format", "json"),
        ("offset", str(page)),
        ("page", "1"),
        ("per_page", str(per_page)),
        ("relative_pagination", "true"),
        (f"api_sort[][{sort_field}]", "desc" if descending else "asc"),
    ]
    return f"{req.base_url}/v3/a/{token}/calls?{urlencode(pairs)}"
