"""Data-quality checks: each check fires on bad data, stays silent on good data, alters nothing."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta, timezone

import pytest

from tap_callrail.quality import (
    FUTURE_TIMESTAMP,
    MALFORMED_EMAIL,
    MISSING_DURATION,
    NEGATIVE_DURATION,
    NON_E164_PHONE,
    SEEN_LIMIT,
    UNEXPECTED_ENUM_VALUE,
    UNKNOWN_ACCOUNT,
    UNKNOWN_COMPANY,
    Finding,
    QualityChecker,
)

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
ACCOUNT = "ACC1"

GOOD: dict[str, dict] = {
    "accounts": {"id": ACCOUNT, "name": "Acme", "numeric_id": 123456789},
    "companies": {
        "id": "COM1",
        "status": "active",
        "created_at": "2025-01-01T00:00:00.000000Z",
        "disabled_at": None,
    },
    "calls": {
        "id": "CAL1",
        "company_id": "COM1",
        "customer_phone_number": "+15551234567",
        "tracking_phone_number": "+15557654321",
        "business_phone_number": None,
        "agent_email": "agent@example.com",
        "direction": "inbound",
        "lead_status": None,
        "call_type": "answered",
        "duration": 42,
        "start_time": "2026-02-28T10:00:00.000000Z",
        "created_at": "2026-02-28T10:00:01.000000Z",
        "good_lead_call_time": None,
    },
    "form_submissions": {
        "id": "FOR1",
        "company_id": "COM1",
        "customer_phone_number": "",
        "customer_email": "jane@example.org",
        "lead_status": "good_lead",
        "submitted_at": "2026-02-01T08:00:00.000000Z",
    },
    "text_messages": {
        "id": "KZaGR",
        "company_id": "COM1",
        "customer_phone_number": "+442071234567",
        "state": "archived",
        "last_message_at": "2026-03-01T11:59:00.000000Z",
    },
    "leads": {
        "id": "PER1",
        "company_id": "COM1",
        "phone": "+15551234567",
        "email": None,
        "created_at": "2026-01-01T00:00:00.000000Z",
    },
    "trackers": {
        "id": "TRK1",
        "company": {"id": "COM1", "name": "Acme"},
        "type": "session",
        "status": "disabled",
        "tracking_numbers": ["+15550000001", "+15550000002"],
        "destination_number": "+15551234567",
        "created_at": "2025-06-01T00:00:00.000000Z",
        "disabled_at": "2026-01-01T00:00:00.000000Z",
    },
    "tags": {
        "id": 7,
        "company_id": None,
        "status": "enabled",
        "tag_level": "account",
        "created_at": "2025-06-01T09:00:00.000-05:00",
    },
    "users": {
        "id": "USR1",
        "email": "admin@example.com",
        "role": "admin",
        "created_at": "2025-06-01T00:00:00.000000Z",
    },
    "integrations": {"id": 3, "company_id": "COM1", "state": "pending", "type": "Webhooks"},
    "notifications": {
        "id": 4,
        "company_id": None,
        "email": None,
        "alert_type": "missed_and_vm",
    },
    "outbound_caller_ids": {
        "id": 5,
        "company_id": "COM1",
        "phone_number": "+15551234567",
        "created_at": "2025-06-01T00:00:00.000000Z",
    },
}

BAD_VALUES = [
    ("calls", "customer_phone_number", "555-123-4567", NON_E164_PHONE),
    ("calls", "tracking_phone_number", "15557654321", NON_E164_PHONE),
    ("calls", "business_phone_number", "+0123", NON_E164_PHONE),
    ("form_submissions", "customer_phone_number", "(555) 123 4567", NON_E164_PHONE),
    ("text_messages", "customer_phone_number", "+1 555 123 4567", NON_E164_PHONE),
    ("leads", "phone", "5551234567", NON_E164_PHONE),
    ("trackers", "tracking_numbers", ["+15550000001", "5550000002"], NON_E164_PHONE),
    ("trackers", "destination_number", 15551234567, NON_E164_PHONE),
    ("outbound_caller_ids", "phone_number", "+1555123456789012", NON_E164_PHONE),
    ("users", "email", "admin.example.com", MALFORMED_EMAIL),
    ("form_submissions", "customer_email", "jane@localhost", MALFORMED_EMAIL),
    ("leads", "email", "a b@example.com", MALFORMED_EMAIL),
    ("notifications", "email", "@example.com", MALFORMED_EMAIL),
    ("calls", "agent_email", "agent@@example.com", MALFORMED_EMAIL),
    ("calls", "direction", "internal", UNEXPECTED_ENUM_VALUE),
    ("calls", "lead_status", "not_scored", UNEXPECTED_ENUM_VALUE),
    ("calls", "call_type", "busy", UNEXPECTED_ENUM_VALUE),
    ("form_submissions", "lead_status", "maybe", UNEXPECTED_ENUM_VALUE),
    ("trackers", "type", "pool", UNEXPECTED_ENUM_VALUE),
    ("trackers", "status", "deleted", UNEXPECTED_ENUM_VALUE),
    ("companies", "status", "paused", UNEXPECTED_ENUM_VALUE),
    ("tags", "status", "active", UNEXPECTED_ENUM_VALUE),
    ("tags", "tag_level", "user", UNEXPECTED_ENUM_VALUE),
    ("users", "role", "owner", UNEXPECTED_ENUM_VALUE),
    ("text_messages", "state", "open", UNEXPECTED_ENUM_VALUE),
    ("integrations", "state", "broken", UNEXPECTED_ENUM_VALUE),
    ("notifications", "alert_type", "sms", UNEXPECTED_ENUM_VALUE),
    ("calls", "start_time", "2026-03-01T13:00:00.000000Z", FUTURE_TIMESTAMP),
    ("calls", "created_at", "2026-03-01T09:00:00.000-05:00", FUTURE_TIMESTAMP),
    ("form_submissions", "submitted_at", "2027-01-01T00:00:00.000000Z", FUTURE_TIMESTAMP),
    ("text_messages", "last_message_at", "2026-03-02T00:00:00.000000Z", FUTURE_TIMESTAMP),
    ("companies", "created_at", "2026-04-01T00:00:00.000000Z", FUTURE_TIMESTAMP),
    ("trackers", "disabled_at", "2026-04-01T00:00:00.000000Z", FUTURE_TIMESTAMP),
    ("tags", "created_at", "2026-03-01T08:00:00.000-05:00", FUTURE_TIMESTAMP),
    ("users", "created_at", "2026-03-01T12:10:00.000000Z", FUTURE_TIMESTAMP),
    ("leads", "created_at", "2026-12-01T00:00:00.000000Z", FUTURE_TIMESTAMP),
    ("outbound_caller_ids", "created_at", "2026-03-05T00:00:00.000000Z", FUTURE_TIMESTAMP),
    ("calls", "duration", -5, NEGATIVE_DURATION),
    ("calls", "duration", None, MISSING_DURATION),
]


def checker(mode: str = "warn") -> QualityChecker:
    return QualityChecker(mode, now=NOW)


def findings_of(check: QualityChecker) -> dict[tuple[str, str, str | None], Finding]:
    return {(f.stream, f.check, f.field): f for f in check.finish()}


@pytest.mark.parametrize("stream", sorted(GOOD))
def test_good_records_have_no_findings(stream: str) -> None:
    quality = checker()
    quality.check("accounts", GOOD["accounts"])
    quality.check("companies", GOOD["companies"], account_id=ACCOUNT)
    quality.check(stream, GOOD[stream], account_id=ACCOUNT)
    assert quality.finish() == []


@pytest.mark.parametrize("stream", sorted(GOOD))
def test_records_with_only_nulls_have_no_findings(stream: str) -> None:
    nulls: dict[str, object] = {name: None for name in GOOD[stream]}
    nulls["id"] = GOOD[stream]["id"]
    if stream == "calls":
        nulls["start_time"] = "2026-03-01T11:30:00.000000Z"
    quality = checker()
    quality.check(stream, nulls, account_id=ACCOUNT)
    assert quality.finish() == []


@pytest.mark.parametrize(("stream", "field", "value", "check"), BAD_VALUES)
def test_each_check_flags_a_bad_value(stream: str, field: str, value: object, check: str) -> None:
    record = {**GOOD[stream], field: value}
    quality = checker()
    quality.check(stream, record, account_id=ACCOUNT)
    found = quality.finish()
    assert [(f.stream, f.check, f.field, f.count) for f in found] == [(stream, check, field, 1)]
    assert found[0].account_id == ACCOUNT
    assert found[0].examples == (str(GOOD[stream]["id"]),)


@pytest.mark.parametrize(("stream", "field", "value", "check"), BAD_VALUES)
def test_records_are_never_mutated(stream: str, field: str, value: object, check: str) -> None:
    record = {**GOOD[stream], field: value, "account_id": ACCOUNT}
    before = copy.deepcopy(record)
    quality = checker()
    quality.check("companies", {"id": "COM2"})
    quality.check(stream, record)
    quality.finish()
    assert record == before


def test_checks_read_account_id_from_the_record_when_not_given() -> None:
    quality = checker()
    quality.check("users", {**GOOD["users"], "email": "nope", "account_id": "ACC9"})
    assert quality.finish()[0].account_id == "ACC9"


def test_enum_findings_show_the_unexpected_values() -> None:
    quality = checker()
    for index, direction in enumerate(["internal", "internal", "transfer"]):
        quality.check("calls", {**GOOD["calls"], "id": f"CAL{index}", "direction": direction})
    (finding,) = quality.finish()
    assert finding.values == ("internal", "transfer")
    assert finding.count == 3


def test_phone_and_email_findings_never_show_the_value() -> None:
    quality = checker()
    quality.check("leads", {**GOOD["leads"], "phone": "5551234567", "email": "x"})
    for finding in quality.finish():
        assert finding.values == ()
    assert "5551234567" not in "\n".join(quality.summary_lines())


@pytest.mark.parametrize("call_type", ["abandonded", "abandoned", "voicemail_transcription"])
def test_both_spellings_of_abandoned_call_type_are_accepted(call_type: str) -> None:
    quality = checker()
    quality.check("calls", {**GOOD["calls"], "call_type": call_type})
    assert quality.finish() == []


def test_notification_only_users_are_tolerated() -> None:
    quality = checker()
    quality.check("users", {**GOOD["users"], "role": "notification"})
    assert quality.finish() == []


def test_call_without_duration_is_in_progress_within_the_last_hour() -> None:
    quality = checker()
    recent = {**GOOD["calls"], "duration": None, "start_time": "2026-03-01T11:05:00.000000Z"}
    quality.check("calls", recent)
    assert quality.finish() == []


def test_call_without_duration_older_than_an_hour_is_missing_its_duration() -> None:
    quality = checker()
    old = {**GOOD["calls"], "duration": None, "start_time": "2026-03-01T05:55:00.000-05:00"}
    quality.check("calls", old)
    assert [f.check for f in quality.finish()] == [MISSING_DURATION]


def test_call_without_duration_or_start_time_is_missing_its_duration() -> None:
    quality = checker()
    quality.check("calls", {**GOOD["calls"], "duration": None, "start_time": None})
    assert [f.check for f in quality.finish()] == [MISSING_DURATION]


def test_call_duration_zero_is_fine_and_absent_duration_is_not_checked() -> None:
    quality = checker()
    quality.check("calls", {**GOOD["calls"], "duration": 0})
    quality.check("calls", {k: v for k, v in GOOD["calls"].items() if k != "duration"})
    assert quality.finish() == []


def test_timestamps_a_few_minutes_ahead_are_tolerated() -> None:
    quality = checker()
    ahead = (NOW + timedelta(minutes=4)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    quality.check("users", {**GOOD["users"], "created_at": ahead})
    assert quality.finish() == []


def test_a_timestamp_counts_as_future_only_past_the_tolerance_to_the_microsecond() -> None:
    limit = NOW + timedelta(minutes=5)
    for rendering in ("%Y-%m-%dT%H:%M:%S.%fZ", "%Y-%m-%dT%H:%M:%S.%f+00:00"):
        quality = checker()
        quality.check("users", {**GOOD["users"], "id": "at", "created_at": limit.strftime(rendering)})
        later = limit + timedelta(microseconds=1)
        quality.check("users", {**GOOD["users"], "id": "past", "created_at": later.strftime(rendering)})
        findings = quality.finish()
        assert [(f.check, f.count, f.examples) for f in findings] == [(FUTURE_TIMESTAMP, 1, ("past",))], rendering


def test_now_can_be_a_callable_read_as_the_run_goes() -> None:
    moments = iter([NOW, NOW + timedelta(hours=2)])
    quality = QualityChecker(now=lambda: next(moments))
    record = {**GOOD["users"], "created_at": "2026-03-01T13:00:00.000000Z"}
    quality.check("users", record)
    quality.check("users", record)
    assert quality.finish()[0].count == 1


def test_examples_are_capped_at_three_but_every_record_is_counted() -> None:
    quality = checker()
    for index in range(10):
        quality.check("users", {**GOOD["users"], "id": f"USR{index}", "email": "bad"})
    (finding,) = quality.finish()
    assert finding.count == 10
    assert finding.examples == ("USR0", "USR1", "USR2")


def test_findings_are_counted_per_account() -> None:
    quality = checker()
    quality.check("users", {**GOOD["users"], "email": "bad"}, account_id="ACC1")
    quality.check("users", {**GOOD["users"], "email": "bad"}, account_id="ACC1")
    quality.check("users", {**GOOD["users"], "email": "bad"}, account_id="ACC2")
    counts = {f.account_id: f.count for f in quality.finish()}
    assert counts == {"ACC1": 2, "ACC2": 1}


def test_referential_check_finds_a_call_of_a_company_never_synced() -> None:
    quality = checker()
    quality.check("accounts", GOOD["accounts"])
    quality.check("companies", GOOD["companies"], account_id=ACCOUNT)
    quality.check("calls", {**GOOD["calls"], "id": "CAL7", "company_id": "COM9"}, ACCOUNT)
    quality.check("calls", GOOD["calls"], account_id=ACCOUNT)
    found = findings_of(quality)
    assert set(found) == {("calls", UNKNOWN_COMPANY, "company_id")}
    finding = found[("calls", UNKNOWN_COMPANY, "company_id")]
    assert (finding.count, finding.examples, finding.values) == (1, ("CAL7",), ("COM9",))
    assert finding.account_id == ACCOUNT


def test_referential_check_does_not_depend_on_stream_order() -> None:
    quality = checker()
    quality.check("calls", GOOD["calls"], account_id=ACCOUNT)
    quality.check("trackers", {**GOOD["trackers"], "company": {"id": "COM8"}}, ACCOUNT)
    quality.check("companies", GOOD["companies"], account_id=ACCOUNT)
    assert [(f.stream, f.check, f.values) for f in quality.finish()] == [("trackers", UNKNOWN_COMPANY, ("COM8",))]


def test_referential_check_is_skipped_when_companies_were_not_synced() -> None:
    quality = checker()
    quality.check("calls", {**GOOD["calls"], "company_id": "COM9"}, account_id=ACCOUNT)
    assert quality.finish() == []


def test_referential_check_finds_records_of_an_account_never_synced() -> None:
    quality = checker()
    quality.check("accounts", GOOD["accounts"])
    quality.check("users", GOOD["users"], account_id="ACC2")
    quality.check("users", GOOD["users"], account_id=ACCOUNT)
    quality.check("leads", GOOD["leads"], account_id="123456789")
    found = findings_of(quality)
    assert set(found) == {("users", UNKNOWN_ACCOUNT, "account_id")}
    assert found[("users", UNKNOWN_ACCOUNT, "account_id")].account_id == "ACC2"


def test_off_mode_checks_nothing() -> None:
    quality = checker("off")
    quality.check("companies", GOOD["companies"])
    for stream, field, value, _check in BAD_VALUES:
        quality.check(stream, {**GOOD[stream], field: value}, account_id="ACC9")
    assert quality.finish() == []
    assert not quality.failed
    assert quality.summary() == "Data quality: checks off (data_quality=off)"


def test_fail_mode_sets_failed_only_with_findings() -> None:
    quality = checker("fail")
    quality.check("users", GOOD["users"])
    assert not quality.failed
    quality.check("users", {**GOOD["users"], "email": "bad"})
    assert quality.failed


def test_warn_mode_never_fails() -> None:
    quality = checker("warn")
    quality.check("users", {**GOOD["users"], "email": "bad"})
    assert quality.finish()
    assert not quality.failed


def test_unknown_mode_is_rejected() -> None:
    with pytest.raises(ValueError, match="data_quality"):
        QualityChecker("strict")


def test_finish_can_be_called_repeatedly() -> None:
    quality = checker()
    quality.check("companies", GOOD["companies"])
    quality.check("calls", {**GOOD["calls"], "company_id": "COM9", "duration": -1})
    assert quality.finish() == quality.finish()


def test_summary_is_one_line_with_total_mode_and_examples() -> None:
    quality = checker("fail")
    quality.check("calls", {**GOOD["calls"], "id": "CAL1", "customer_phone_number": "555"})
    quality.check("calls", {**GOOD["calls"], "id": "CAL2", "customer_phone_number": "555"}, "A2")
    quality.check("users", {**GOOD["users"], "email": "bad"})
    assert quality.summary() == (
        "Data quality: 3 findings (data_quality=fail): "
        "calls non_e164_phone[customer_phone_number] \u00d72 (CAL1, CAL2); "
        "users malformed_email[email] \u00d71 (USR1)"
    )


def test_summary_lines_list_each_finding_per_account() -> None:
    quality = checker()
    quality.check("calls", {**GOOD["calls"], "direction": "sideways"}, account_id="ACC1")
    lines = quality.summary_lines()
    assert lines[0].startswith("Data quality: 1 finding (data_quality=warn)")
    assert lines[1] == ("  calls unexpected_enum_value[direction] account=ACC1: 1 values 'sideways' e.g. CAL1")


def test_summary_without_findings() -> None:
    assert checker().summary() == "Data quality: no findings (data_quality=warn)"


def test_summary_names_at_most_five_groups() -> None:
    quality = checker()
    record = {
        **GOOD["calls"],
        "customer_phone_number": "1",
        "tracking_phone_number": "2",
        "business_phone_number": "3",
        "agent_email": "x",
        "direction": "y",
        "call_type": "z",
    }
    quality.check("calls", record)
    assert quality.summary().endswith("\u2026 and 1 more")


def test_a_value_well_formed_as_a_phone_is_still_checked_as_an_email_and_vice_versa() -> None:
    # Well-formed values are remembered per kind to spare the regular expressions (issue 6).
    quality = checker()
    phone, email = "+15551234567", "agent@example.com"
    quality.check("calls", {**GOOD["calls"], "id": "first"})
    quality.check("calls", {**GOOD["calls"], "id": "swapped", "customer_phone_number": email, "agent_email": phone})
    quality.check("calls", {**GOOD["calls"], "id": "again"})
    findings = {(f.check, f.field): (f.count, f.examples) for f in quality.finish()}
    assert findings == {
        (NON_E164_PHONE, "customer_phone_number"): (1, ("swapped",)),
        (MALFORMED_EMAIL, "agent_email"): (1, ("swapped",)),
    }


def test_remembering_well_formed_values_stays_bounded_and_never_hides_a_bad_one() -> None:
    quality = checker()
    phones = [f"+1555{n:07d}" for n in range(SEEN_LIMIT * 2)]
    records = [{**GOOD["calls"], "id": f"CAL{n}", "customer_phone_number": phone} for n, phone in enumerate(phones)]
    records[SEEN_LIMIT + 7]["customer_phone_number"] = "555-0100"
    quality.check_many("calls", records, ACCOUNT)
    (finding,) = [f for f in quality.finish() if f.check == NON_E164_PHONE]
    assert (finding.count, finding.examples) == (1, (f"CAL{SEEN_LIMIT + 7}",))
    assert len(quality._phones_seen) <= SEEN_LIMIT
