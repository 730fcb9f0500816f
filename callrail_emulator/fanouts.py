"""Lists under one call or one lead: a session-tracker call's page views, a lead's timeline.

Both are computed from what the emulator holds, so they follow its calls and form submissions
(edits, additions, spam) without being stored: page views from the call's id and start time
(callrail-api.md §6: referrer_url, page_url, created_at, no id; only calls from session trackers
have them), a timeline from the calls and form submissions naming the lead, plus the lead's
first-touch milestone, which CallRail sends without an id.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from callrail_emulator import fields as catalogue
from callrail_emulator.render import render_record
from callrail_emulator.timeutil import retention_cutoff_ms

if TYPE_CHECKING:
    from callrail_emulator.dataset import AccountData
    from callrail_emulator.emulator import Emulator

_UTC = ZoneInfo("Etc/UTC")
PAGES = ("/", "/services", "/pricing", "/reviews", "/contact", "/blog/spring-checklist")
REFERRERS = ("https://www.google.com/", "https://www.bing.com/", "https://www.facebook.com/", None)
#: Fields of a call event on a timeline, besides type, id and event_date.
CALL_EVENT_FIELDS = ("duration", "answered", "direction", "source", "tracking_phone_number")
FORM_EVENT_FIELDS = ("form_name", "form_url", "source")


def _utc_text(moment: datetime) -> str:
    return moment.astimezone(_UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def call_of(emu: Emulator, account: AccountData, call_id: str) -> dict[str, Any] | None:
    """Call `call_id` with every list field, rendered in UTC; None when CallRail would answer 404."""
    fields = catalogue.DEFAULT_FIELDS["calls"] + catalogue.OPTIONAL_FIELDS["calls"]
    cutoff = retention_cutoff_ms(emu.clock())
    if account.index not in emu._calls:  # calls given to Emulator.put
        held = [r for r in account.streams["calls"] if str(r["id"]) == call_id and r["start_time"].ms >= cutoff]
        return render_record(held[0], fields, _UTC) if held else None
    calls = emu._calls[account.index]
    index = calls.factory.ids.index_of(call_id)
    start = calls.start_of(index) if index is not None else None
    if index is None or start is None or index in calls.spam or start < cutoff:
        return None
    return calls.render_dict(start, index, _UTC, fields)


def page_views(call: dict[str, Any]) -> list[dict[str, Any]]:
    """The pages the caller's session viewed before the call, newest first (none without a session)."""
    if not call.get("session_uuid"):
        return []
    digest = hashlib.sha256(f"page-views:{call['id']}".encode()).digest()
    started = datetime.fromisoformat(str(call["start_time"]))
    count = 1 + digest[0] % 4
    views: list[dict[str, Any]] = []
    referrer = REFERRERS[digest[1] % len(REFERRERS)]
    for k in range(count):
        page = "https://www.example.com" + PAGES[digest[2 + k] % len(PAGES)]
        viewed = started - timedelta(seconds=40 * (count - k) + digest[6 + k] % 30, milliseconds=digest[10 + k])
        views.append({"referrer_url": referrer, "page_url": page, "created_at": _utc_text(viewed)})
        referrer = page
    views.reverse()
    return views


def lead_timeline(emu: Emulator, account: AccountData, person_id: str) -> tuple[dict[str, Any], list[dict]] | None:
    """(lead, events newest first) of a lead, or None for a lead the account does not know."""
    events: list[dict[str, Any]] = []
    for call in emu.records("calls", account.id):
        if call.get("person_id") == person_id:
            started = datetime.fromisoformat(str(call["start_time"]))
            event = {"type": "call", "id": call["id"], "event_date": _utc_text(started)}
            events.append({**event, **{name: call.get(name) for name in CALL_EVENT_FIELDS}})
    for form in emu.records("form_submissions", account.id):
        if form.get("person_id") == person_id:
            submitted = datetime.fromisoformat(str(form["submitted_at"]).replace("Z", "+00:00"))
            event = {"type": "form_submission", "id": form["id"], "event_date": _utc_text(submitted)}
            events.append({**event, **{name: form.get(name) for name in FORM_EVENT_FIELDS}})
    lead = next((r for r in emu.records("leads", account.id) if r["id"] == person_id), None)
    if not events and lead is None:
        return None
    if events:
        first = min(events, key=lambda e: e["event_date"])
        events.append({"type": "milestone", "event_date": first["event_date"], "name": "first_touch",
                       "source": first.get("source")})
    events.sort(key=lambda e: (e["event_date"], e["type"], str(e.get("id"))), reverse=True)
    return lead or {"id": person_id}, events
