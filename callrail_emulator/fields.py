"""Stream catalogue of the emulated CallRail API v3: endpoints, item keys and field lists.

Field names follow callrail-api.md §5 (calls) and §6 (other resources). Tests cross-check the
tap's own field lists against these constants.
"""

from __future__ import annotations

STREAMS: tuple[str, ...] = (
    "accounts",
    "companies",
    "users",
    "tags",
    "trackers",
    "calls",
    "form_submissions",
    "text_messages",
    "leads",
    "integrations",
    "notifications",
    "outbound_caller_ids",
    "sms_threads",
    "sms_thread_messages",
)

# Tap stream name -> file name under /v3/a/{account_id}/ (accounts live at /v3/a.json).
ENDPOINTS: dict[str, str] = {
    "companies": "companies.json",
    "users": "users.json",
    "tags": "tags.json",
    "trackers": "trackers.json",
    "calls": "calls.json",
    "form_submissions": "form_submissions.json",
    "text_messages": "text-messages.json",
    "leads": "leads.json",
    "integrations": "integrations.json",
    "notifications": "notifications.json",
    "outbound_caller_ids": "caller_ids.json",
    "sms_threads": "sms-threads.json",
}

# Lists under one record of another stream: stream -> (parent stream, path under /v3/a/{account_id}/).
NESTED_ENDPOINTS: dict[str, tuple[str, str]] = {
    "sms_thread_messages": ("sms_threads", "sms-threads/{thread_id}.json"),
}

ITEM_KEYS: dict[str, str] = {
    "accounts": "accounts",
    "companies": "companies",
    "users": "users",
    "tags": "tags",
    "trackers": "trackers",
    "calls": "calls",
    "form_submissions": "form_submissions",
    "text_messages": "conversations",
    "leads": "leads",
    "integrations": "integrations",
    "notifications": "notifications",
    "outbound_caller_ids": "caller_ids",
    "sms_threads": "sms_threads",
    "sms_thread_messages": "messages",
}

# Other spellings accepted by Emulator methods that take a stream name.
STREAM_ALIASES: dict[str, str] = {
    "caller_ids": "outbound_caller_ids",
    "text-messages": "text_messages",
    "conversations": "text_messages",
    "sms-threads": "sms_threads",
}

DEFAULT_FIELDS: dict[str, tuple[str, ...]] = {
    "accounts": ("id", "name", "outbound_recording_enabled", "hipaa_account"),
    "companies": (
        "id", "name", "status", "time_zone", "created_at", "disabled_at", "dni_active",
        "script_url", "callscore_enabled", "lead_scoring_enabled", "swap_exclude_jquery",
        "swap_ppc_override", "swap_landing_override", "swap_cookie_duration",
        "swap_cookie_duration_unit", "callscribe_enabled", "keyword_spotting_enabled",
        "form_capture",
    ),
    "users": (
        "email", "id", "created_at", "role", "first_name", "last_name", "name", "accepted",
        "companies",
    ),
    "tags": (
        "id", "name", "tag_level", "color", "background_color", "company_id", "status",
        "created_at",
    ),
    "trackers": (
        "id", "name", "type", "status", "destination_number", "tracking_numbers",
        "whisper_message", "sms_enabled", "sms_supported", "company", "call_flow", "source",
        "created_at", "disabled_at", "message_flow",
    ),
    "calls": (
        "id", "answered", "business_phone_number", "customer_city", "customer_state",
        "customer_country", "customer_name", "customer_phone_number", "direction", "duration",
        "recording", "recording_duration", "recording_player", "start_time",
        "tracking_phone_number", "voicemail", "agent_email",
    ),
    "form_submissions": (
        "id", "company_id", "person_id", "form_data", "form_url", "landing_page_url",
        "referrer", "referring_url", "submitted_at", "first_form", "customer_phone_number",
        "customer_name", "customer_email", "formatted_customer_phone_number",
        "formatted_customer_name", "source", "keywords", "campaign", "medium",
    ),
    "text_messages": (
        "id", "company_id", "initial_tracker_id", "current_tracker_id", "customer_name",
        "customer_phone_number", "initial_tracking_number", "current_tracking_number",
        "last_message_at", "state", "company_time_zone", "formatted_customer_phone_number",
        "formatted_initial_tracking_number", "formatted_current_tracking_number",
        "formatted_customer_name", "recent_messages",
    ),
    "leads": ("id", "name", "phone", "email", "created_at", "company_id", "company_name"),
    "integrations": ("id", "type", "state", "config"),
    "notifications": (
        "id", "user_id", "email", "alert_type", "call_enabled", "company_id", "name",
        "send_desktop", "send_email", "send_push", "sms_enabled", "tracker_id", "company_name",
        "tracker_name", "agent_id", "agent_name",
    ),
    "outbound_caller_ids": (
        "id", "phone_number", "name", "company_id", "verified", "created_at", "validation_code",
    ),
    "sms_threads": (
        "id", "notes", "tags", "value", "lead_qualification", "company_id", "initial_tracker_id",
        "current_tracker_id", "customer_name", "customer_phone_number", "initial_tracking_number",
        "current_tracking_number", "state", "company_time_zone",
    ),
    "sms_thread_messages": (
        "id", "content", "created_at", "status", "direction", "message_type", "media_urls",
    ),
}

# Optional fields that the list endpoints return only when named in `fields=`.
OPTIONAL_FIELDS: dict[str, tuple[str, ...]] = {
    "accounts": ("numeric_id",),
    "companies": ("verified_caller_ids",),
    "users": (),
    "tags": (),
    "trackers": ("campaign_name", "swap_targets"),
    "calls": (
        "call_highlights", "call_summary", "call_type", "campaign", "company_id",
        "company_name", "company_time_zone", "created_at", "custom", "device_type", "fbclid",
        "gclid", "msclkid", "ga", "first_call", "formatted_call_type",
        "formatted_customer_location", "formatted_business_phone_number",
        "formatted_customer_name", "formatted_customer_name_or_phone_number",
        "formatted_customer_phone_number", "formatted_duration",
        "formatted_tracking_phone_number", "formatted_tracking_source", "formatted_value",
        "good_lead_call_id", "good_lead_call_time", "keypad_entries", "keywords",
        "keywords_spotted", "landing_page_url", "last_requested_url", "referrer_domain",
        "referring_url", "lead_status", "medium", "milestones", "note", "person_id",
        "prior_calls", "sentiment", "session_uuid", "source", "source_name", "speaker_percent",
        "tags", "timeline_url", "total_calls", "tracker_id", "transcription", "utm_campaign",
        "utm_content", "utm_medium", "utm_source", "utm_term", "value",
        "voice_assist_message", "waveforms", "zip_code", "lead_score", "lead_explanation",
    ),
    "form_submissions": (
        "company_name", "lead_status", "value", "note", "tags", "utm_source", "utm_medium",
        "utm_campaign", "form_name", "timeline_url", "milestones",
    ),
    "text_messages": ("lead_status", "source"),
    "leads": (),
    "integrations": ("signing_key",),
    "notifications": (),
    "outbound_caller_ids": (),
    "sms_threads": (
        "last_message_at", "formatted_customer_phone_number", "formatted_initial_tracking_number",
        "formatted_current_tracking_number", "formatted_customer_name",
    ),
    "sms_thread_messages": (),
}

# A thread's messages carry `error` only when asked with `with_msg_errors=true`.
MESSAGE_ERROR_FIELD = "error"

# Kept with a record to answer the company_id filter, never printed: an integration names no
# company (callrail-api.md §6).
STORED_ONLY_FIELDS: dict[str, frozenset[str]] = {
    "integrations": frozenset({"company_id"}),
    # A message names no thread; the thread is the path it is listed under.
    "sms_thread_messages": frozenset({"thread_id", MESSAGE_ERROR_FIELD}),
}

# Only GET /v3/a/{account_id}/calls/{id}.json knows these (callrail-api.md §5.2).
SINGLE_CALL_ONLY_FIELDS: tuple[str, ...] = ("conversational_transcript", "integration_data")

# Leads return every field by default; `fields=` narrows the set instead (callrail-api.md §4).
NARROWING_FIELDS_STREAMS: frozenset[str] = frozenset({"leads"})

# Fields accepted by `sort=`; the first entry of DEFAULT_SORT is used without `sort=`.
SORTABLE: dict[str, tuple[str, ...]] = {
    "accounts": ("name",),
    "companies": ("name", "created_at"),
    "users": ("email", "created_at", "first_name", "last_name"),
    "tags": ("name", "created_at"),
    "trackers": ("name", "created_at"),
    "calls": (
        "start_time", "customer_name", "customer_phone_number", "duration", "source",
        "customer_city", "customer_country", "landing_page_url", "device_type", "answered",
        "first_call", "source_name", "lead_status", "tags",
    ),
    "form_submissions": ("submitted_at", "form_url", "created_at"),
    "text_messages": ("last_message_at",),
    "leads": ("created_at", "name", "email"),
    "integrations": ("id",),
    "notifications": ("id",),
    "outbound_caller_ids": ("id", "created_at"),
    "sms_threads": ("last_message_at",),
    "sms_thread_messages": ("created_at",),
}

DEFAULT_SORT: dict[str, tuple[str, str]] = {
    "accounts": ("name", "asc"),
    "companies": ("name", "asc"),
    "users": ("email", "asc"),
    "tags": ("name", "asc"),
    "trackers": ("name", "asc"),
    "calls": ("start_time", "desc"),
    "form_submissions": ("submitted_at", "desc"),
    "text_messages": ("last_message_at", "desc"),
    "leads": ("created_at", "desc"),
    "integrations": ("id", "asc"),
    "notifications": ("id", "asc"),
    "outbound_caller_ids": ("id", "asc"),
    "sms_threads": ("last_message_at", "desc"),
    "sms_thread_messages": ("created_at", "desc"),
}

# Streams filtered by date_range / start_date / end_date, and the timestamp each one filters on.
DATE_FILTERED: dict[str, str] = {
    "calls": "start_time",
    "form_submissions": "submitted_at",
    "text_messages": "last_message_at",
    "sms_threads": "last_message_at",
}

# The timestamp a stream without a date filter is listed by, kept as an instant like the dated ones.
ORDERED_BY: dict[str, str] = {"sms_thread_messages": "created_at"}

# Streams that answer 400 without `company_id` (callrail-api.md §7.10).
COMPANY_ID_REQUIRED: frozenset[str] = frozenset({"integrations", "outbound_caller_ids"})

# Streams whose `company_id` query parameter filters the list.
COMPANY_FILTERED: frozenset[str] = frozenset({
    "users", "tags", "trackers", "calls", "form_submissions", "text_messages", "leads",
    "integrations", "outbound_caller_ids", "sms_threads",
})

# Largest per_page a stream's endpoint accepts where it is below the general 250.
MAX_PER_PAGE: dict[str, int] = {"sms_thread_messages": 100}


# Reports computed from the calls rather than lists of records (timeseries.py): stream -> path
# under /v3/a/{account_id}/ and the key of its data points.
REPORTS: dict[str, tuple[str, str]] = {"calls_timeseries": ("calls/timeseries.json", "data")}


def known_fields(stream: str) -> frozenset[str]:
    """Names accepted in `fields=` on the list endpoint of `stream`."""
    return frozenset(DEFAULT_FIELDS[stream]) | frozenset(OPTIONAL_FIELDS[stream])


def canonical_stream(name: str) -> str:
    """The tap's stream name for `name` (which may be an endpoint spelling)."""
    stream = STREAM_ALIASES.get(name, name)
    if stream not in ITEM_KEYS and stream not in REPORTS:
        raise ValueError(f"unknown stream: {name!r}")
    return stream
