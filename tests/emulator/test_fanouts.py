"""Page views of session-tracker calls and lead timelines, as the emulator serves them."""

from __future__ import annotations

from callrail_emulator import Emulator

from .support import Client


def _calls(emu: Emulator, account: str) -> tuple[list[dict], list[dict]]:
    calls = emu.records("calls", account)
    return [c for c in calls if c.get("session_uuid")], [c for c in calls if not c.get("session_uuid")]


def test_a_session_tracker_call_lists_its_page_views_newest_first_before_the_call(
    emu: Emulator, client: Client, account: str
) -> None:
    session, _ = _calls(emu, account)
    call = session[0]
    body = client.ok(f"/a/{account}/calls/{call['id']}/page_views.json")
    views = body["page_views"]
    assert views and body["total_records"] == len(views)
    times = [view["created_at"] for view in views]
    assert times == sorted(times, reverse=True)
    assert all(set(view) == {"referrer_url", "page_url", "created_at"} for view in views)
    assert client.ok(f"/a/{account}/calls/{call['id']}/page_views.json")["page_views"] == views  # stable


def test_a_call_from_a_source_tracker_has_no_page_views(emu: Emulator, client: Client, account: str) -> None:
    _, plain = _calls(emu, account)
    assert client.ok(f"/a/{account}/calls/{plain[0]['id']}/page_views.json")["page_views"] == []


def test_page_views_of_a_call_removed_as_spam_answer_404(emu: Emulator, client: Client, account: str) -> None:
    session, _ = _calls(emu, account)
    emu.mark_spam(account, session[0]["id"])
    assert client.get(f"/a/{account}/calls/{session[0]['id']}/page_views.json").status_code == 404
    assert emu.requests[-1]["stream"] == "call_page_views"


def test_a_lead_timeline_lists_the_calls_naming_the_lead_and_a_milestone_without_id(
    emu: Emulator, client: Client, account: str
) -> None:
    call = emu.records("calls", account)[0]
    body = client.ok(f"/a/{account}/leads/{call['person_id']}/timeline.json")
    assert body["lead"]["id"] == call["person_id"]
    events = body["timeline"]
    assert {"type": "call", "id": call["id"]}.items() <= next(e for e in events if e["type"] == "call").items()
    milestone = next(e for e in events if e["type"] == "milestone")
    assert "id" not in milestone
    dates = [e["event_date"] for e in events]
    assert dates == sorted(dates, reverse=True)


def test_a_lead_timeline_lists_the_form_submissions_naming_the_lead(
    emu: Emulator, client: Client, account: str
) -> None:
    form = next(f for f in emu.records("form_submissions", account) if f["person_id"] != "anonymous")
    events = client.ok(f"/a/{account}/leads/{form['person_id']}/timeline.json")["timeline"]
    assert [e["id"] for e in events if e["type"] == "form_submission"] == [form["id"]]


def test_an_unknown_lead_answers_404_and_the_timeline_pages_by_per_page(
    emu: Emulator, client: Client, account: str
) -> None:
    assert client.get(f"/a/{account}/leads/PERnobody/timeline.json").status_code == 404
    call = emu.records("calls", account)[0]
    first = client.ok(f"/a/{account}/leads/{call['person_id']}/timeline.json", per_page=1)
    assert len(first["timeline"]) == 1 and first["total_pages"] == first["total_records"] >= 2
