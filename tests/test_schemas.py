"""The stream schemas and field lists, checked against callrail-api.md §5 and §6."""

from __future__ import annotations

import jsonschema
import pytest

from tap_callrail.schemas import DEFAULT_FIELDS, OPTIONAL_FIELDS, SCHEMAS, TAP_ADDED_FIELDS


def _names(names: str) -> set[str]:
    return set(names.split())


STREAMS = [
    "accounts", "companies", "users", "tags", "trackers", "calls", "form_submissions",
    "text_messages", "leads", "integrations", "notifications", "outbound_caller_ids", "sms_threads",
    "sms_thread_messages", "calls_timeseries", "call_page_views", "lead_timelines",
]  # fmt: skip

# callrail-api.md §5.1, written out again here so the test is an independent spec.
CALLS_DOCUMENTED_DEFAULT = _names(
    "id answered business_phone_number customer_city customer_state customer_country "
    "customer_name customer_phone_number direction duration recording recording_duration "
    "recording_player start_time tracking_phone_number voicemail agent_email"
)
# callrail-api.md §5.2, the list endpoint's optional fields.
CALLS_DOCUMENTED_OPTIONAL = _names(
    "call_highlights call_summary call_type campaign company_id company_name company_time_zone "
    "created_at custom device_type fbclid gclid msclkid ga first_call formatted_call_type "
    "formatted_customer_location formatted_business_phone_number formatted_customer_name "
    "formatted_customer_name_or_phone_number formatted_customer_phone_number formatted_duration "
    "formatted_tracking_phone_number formatted_tracking_source formatted_value good_lead_call_id "
    "good_lead_call_time keypad_entries keywords keywords_spotted landing_page_url "
    "last_requested_url referrer_domain referring_url lead_status medium milestones note "
    "person_id prior_calls sentiment session_uuid source source_name speaker_percent tags "
    "timeline_url total_calls tracker_id transcription utm_campaign utm_content utm_medium "
    "utm_source utm_term value voice_assist_message waveforms zip_code lead_score "
    "lead_explanation"
)
CALLS_SINGLE_CALL_ONLY = {"conversational_transcript", "integration_data"}
UNDOCUMENTED = _names("utma utmb utmc utmv utmz detail_tags lead_score_explanation")

STRING_IDS = {
    "accounts": "id",
    "companies": "id",
    "users": "id",
    "trackers": "id",
    "calls": "id",
    "form_submissions": "id",
    "text_messages": "id",
    "leads": "id",
}
INTEGER_IDS = ("tags", "integrations", "notifications", "outbound_caller_ids")
MASKED_REFERENCES = [
    ("calls", "company_id"),
    ("calls", "tracker_id"),
    ("calls", "person_id"),
    ("form_submissions", "company_id"),
    ("form_submissions", "person_id"),
    ("text_messages", "company_id"),
    ("text_messages", "initial_tracker_id"),
    ("text_messages", "current_tracker_id"),
    ("tags", "company_id"),
    ("leads", "company_id"),
    ("integrations", "company_id"),
    ("notifications", "user_id"),
    ("notifications", "company_id"),
    ("notifications", "tracker_id"),
    ("outbound_caller_ids", "company_id"),
]

NESTED = [
    ("calls", "milestones", "object"),
    ("calls", "custom", "object"),
    ("calls", "keypad_entries", "object"),
    ("calls", "speaker_percent", "object"),
    ("calls", "voice_assist_message", "object"),
    ("calls", "tags", "array"),
    ("calls", "keywords_spotted", "array"),
    ("calls", "call_highlights", "array"),
    ("calls", "waveforms", "array"),
    ("calls", "zip_code", "array"),
    ("form_submissions", "form_data", "object"),
    ("form_submissions", "milestones", "object"),
    ("form_submissions", "tags", "array"),
    ("text_messages", "recent_messages", "array"),
    ("trackers", "call_flow", "object"),
    ("trackers", "source", "object"),
    ("trackers", "company", "object"),
    ("trackers", "tracking_numbers", "array"),
    ("trackers", "swap_targets", "array"),
    ("users", "companies", "array"),
    ("companies", "verified_caller_ids", "array"),
    ("integrations", "config", "object"),
]

TIMESTAMPS = [
    ("calls", "start_time"),
    ("calls", "created_at"),
    ("calls", "good_lead_call_time"),
    ("form_submissions", "submitted_at"),
    ("text_messages", "last_message_at"),
    ("sms_threads", "last_message_at"),
    ("sms_thread_messages", "created_at"),
    ("companies", "created_at"),
    ("companies", "disabled_at"),
    ("trackers", "created_at"),
    ("trackers", "disabled_at"),
    ("tags", "created_at"),
    ("users", "created_at"),
    ("leads", "created_at"),
    ("outbound_caller_ids", "created_at"),
]


def _types(schema: dict) -> set[str]:
    kind = schema["type"]
    return {kind} if isinstance(kind, str) else set(kind)


def _walk(schema: dict, path: str = ""):
    """Yield (path, property schema) for every declared property, nested ones included."""
    for name, prop in schema.get("properties", {}).items():
        here = f"{path}.{name}" if path else name
        yield here, prop
        yield from _walk(prop, here)
        if "items" in prop:
            yield from _walk(prop["items"], f"{here}[]")


def _prop(stream: str, name: str) -> dict:
    return SCHEMAS[stream]["properties"][name]


def test_every_stream_has_a_schema_and_field_lists():
    assert list(SCHEMAS) == STREAMS
    assert set(DEFAULT_FIELDS) == set(OPTIONAL_FIELDS) == set(TAP_ADDED_FIELDS) == set(STREAMS)


@pytest.mark.parametrize("stream", STREAMS)
def test_schema_is_valid_json_schema(stream):
    jsonschema.Draft7Validator.check_schema(SCHEMAS[stream])


@pytest.mark.parametrize("stream", STREAMS)
def test_every_property_has_a_description(stream):
    for path, prop in _walk(SCHEMAS[stream]):
        assert prop.get("description", "").strip(), f"{stream}.{path} has no description"
        assert "\n" not in prop["description"], f"{stream}.{path} description is not one line"


@pytest.mark.parametrize("stream", STREAMS)
def test_only_id_account_id_and_thread_id_are_required(stream):
    required = set(SCHEMAS[stream].get("required", []))
    expected = {"id"} if stream == "accounts" else {"id", "account_id"}
    if stream == "sms_thread_messages":
        expected.add("thread_id")  # stamped by the tap from the thread it read
    if stream == "calls_timeseries":
        expected = {"account_id", "company_id", "date"}  # its key: the company and the day
    if stream == "call_page_views":  # no id from CallRail: the key is stamped by the tap
        expected = {"account_id", "call_id", "position"}
    if stream == "lead_timelines":
        expected = {"account_id", "person_id", "event_key"}
    assert required == expected
    for name, prop in SCHEMAS[stream]["properties"].items():
        if name not in expected:
            assert "null" in _types(prop), f"{stream}.{name} must be nullable"


@pytest.mark.parametrize("stream", [s for s in STREAMS if s != "accounts"])
def test_per_account_streams_carry_account_id_as_string(stream):
    assert _types(_prop(stream, "account_id")) == {"string"}
    assert "account_id" in TAP_ADDED_FIELDS[stream]


@pytest.mark.parametrize("stream", ["integrations", "outbound_caller_ids"])
def test_per_company_fan_out_streams_carry_company_id(stream):
    assert _types(_prop(stream, "company_id")) == {"string", "null"}


@pytest.mark.parametrize("stream", list(STRING_IDS))
def test_masked_and_short_ids_are_strings(stream):
    assert _types(_prop(stream, "id")) == {"string"}


@pytest.mark.parametrize("stream", INTEGER_IDS)
def test_integer_ids_are_integers(stream):
    assert _types(_prop(stream, "id")) == {"integer"}


@pytest.mark.parametrize(("stream", "field"), MASKED_REFERENCES)
def test_references_to_masked_ids_are_strings(stream, field):
    assert _types(_prop(stream, field)) == {"string", "null"}


def test_integer_valued_call_fields():
    for field in ("good_lead_call_id", "recording_duration", "duration", "prior_calls"):
        assert _types(_prop("calls", field)) == {"integer", "null"}, field
    assert _types(_prop("accounts", "numeric_id")) == {"integer", "null"}


@pytest.mark.parametrize(("stream", "field", "kind"), NESTED)
def test_nested_fields_are_objects_or_arrays_never_strings(stream, field, kind):
    assert _types(_prop(stream, field)) == {kind, "null"}


def test_milestones_object_has_the_four_stages_with_documented_keys():
    stage_keys = _names(
        "event_date ad_position campaign device keywords landing landing_page_url_params "
        "match_type medium referrer referrer_url_params session_browser url_utm_params source"
    )
    for stream in ("calls", "form_submissions"):
        stages = _prop(stream, "milestones")["properties"]
        assert set(stages) == {"first_touch", "lead_created", "qualified", "last_touch"}
        for stage in stages.values():
            assert _types(stage) == {"object", "null"}
            assert set(stage["properties"]) == stage_keys


def test_tags_on_calls_and_forms_are_arrays_of_names():
    for stream in ("calls", "form_submissions"):
        assert _prop(stream, "tags")["items"]["type"] == ["string"]


def test_polymorphic_objects_accept_undeclared_keys():
    for stream, field in [
        ("trackers", "call_flow"),
        ("trackers", "source"),
        ("form_submissions", "form_data"),
        ("calls", "custom"),
        ("calls", "keypad_entries"),
        ("integrations", "config"),
    ]:
        assert _prop(stream, field)["additionalProperties"] is True, f"{stream}.{field}"


@pytest.mark.parametrize(("stream", "field"), TIMESTAMPS)
def test_timestamps_are_date_time(stream, field):
    prop = _prop(stream, field)
    assert prop["format"] == "date-time"
    assert _types(prop) == {"string", "null"}


def test_money_fields_are_numbers():
    for stream in ("calls", "form_submissions"):
        assert _types(_prop(stream, "value")) == {"number", "null"}
    assert _types(_prop("calls", "formatted_value")) == {"string", "null"}


def test_call_summary_is_a_string():
    assert _types(_prop("calls", "call_summary")) == {"string", "null"}


def test_calls_schema_has_every_documented_list_field_and_no_single_call_ones():
    properties = set(SCHEMAS["calls"]["properties"])
    assert properties >= CALLS_DOCUMENTED_DEFAULT | CALLS_DOCUMENTED_OPTIONAL
    assert not properties & CALLS_SINGLE_CALL_ONLY
    assert not (DEFAULT_FIELDS["calls"] | OPTIONAL_FIELDS["calls"]) & CALLS_SINGLE_CALL_ONLY


def test_calls_fields_to_request_are_the_documented_optional_list_plus_agent_email():
    assert OPTIONAL_FIELDS["calls"] == CALLS_DOCUMENTED_OPTIONAL | {"agent_email"}


def test_optional_fields_match_the_fact_sheet():
    expected = {
        **dict.fromkeys(STREAMS, frozenset()),
        "calls": CALLS_DOCUMENTED_OPTIONAL | {"agent_email"},
        "form_submissions": _names(
            "company_name lead_status value note tags utm_source utm_medium utm_campaign "
            "form_name timeline_url milestones"
        ),
        "companies": {"verified_caller_ids"},
        "trackers": {"campaign_name", "swap_targets"},
        "text_messages": {"lead_status", "source"},
        "accounts": {"numeric_id"},
        "integrations": {"signing_key"},
        "sms_threads": _names(
            "last_message_at formatted_customer_phone_number formatted_initial_tracking_number "
            "formatted_current_tracking_number formatted_customer_name"
        ),
        # §4 "calls timeseries": the summary's fields, less the display string formatted_average_duration.
        "calls_timeseries": _names(
            "total_calls missed_calls answered_calls first_time_callers average_duration leads"
        ),
    }
    assert expected == OPTIONAL_FIELDS


@pytest.mark.parametrize("stream", STREAMS)
def test_schema_properties_are_exactly_the_default_and_optional_fields(stream):
    properties = set(SCHEMAS[stream]["properties"])
    assert properties == DEFAULT_FIELDS[stream] | OPTIONAL_FIELDS[stream]
    assert TAP_ADDED_FIELDS[stream] <= DEFAULT_FIELDS[stream]


@pytest.mark.parametrize("stream", STREAMS)
def test_default_and_optional_fields_are_disjoint(stream):
    assert not DEFAULT_FIELDS[stream] & OPTIONAL_FIELDS[stream]


@pytest.mark.parametrize("stream", STREAMS)
def test_tap_added_fields_are_never_requested(stream):
    assert not TAP_ADDED_FIELDS[stream] & OPTIONAL_FIELDS[stream]


@pytest.mark.parametrize("stream", STREAMS)
def test_no_undocumented_field_names(stream):
    names = {path.rsplit(".", 1)[-1] for path, _ in _walk(SCHEMAS[stream])}
    assert not names & UNDOCUMENTED
    assert not any(name.startswith("utm") and "_" not in name for name in names)


def test_notifications_carry_the_company_tracker_and_agent_callrail_names_on_them():
    # callrail-api.md §6: create/update responses show them; the list documents no optional fields.
    for name in ("company_name", "tracker_name", "agent_id", "agent_name"):
        assert _types(_prop("notifications", name)) == {"string", "null"}, name
        assert name in DEFAULT_FIELDS["notifications"]
    assert not OPTIONAL_FIELDS["notifications"]


def test_conversations_carry_no_undocumented_tracker_or_company_name():
    assert "tracker_name" not in SCHEMAS["text_messages"]["properties"]
    assert "company_name" not in SCHEMAS["text_messages"]["properties"]


def test_secrets_are_flagged():
    for stream, field in [
        ("integrations", "config"),
        ("integrations", "signing_key"),
        ("outbound_caller_ids", "validation_code"),
    ]:
        assert _prop(stream, field).get("secret") is True, f"{stream}.{field}"


def test_a_normalised_call_record_validates():
    record = {
        "id": "CAL8154748ae6bd4e278a7cddd38a662f4f",
        "account_id": "ACC8154748ae6bd4e278a7cddd38a662f4f",
        "start_time": "2026-03-01T14:05:09.000000Z",
        "answered": True,
        "duration": 27,
        "recording_duration": 27,
        "value": 1.5,
        "good_lead_call_id": 123456789,
        "tags": ["Existing Customer"],
        "speaker_percent": {"agent": 60, "customer": 40},
        "keypad_entries": {"Menu": "1"},
        "milestones": {
            "first_touch": {"event_date": "2026-02-28T10:00:00.000000Z", "source": "Google"},
            "lead_created": None,
            "qualified": None,
            "last_touch": None,
        },
        "keywords_spotted": [
            {"keyword": "estimate", "locations": [{"speaker": "customer", "start": 12.5}]}
        ],
        "call_summary": "Asked for a quote.",
        "zip_code": ["30301"],
    }
    validator = jsonschema.Draft7Validator(
        SCHEMAS["calls"], format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER
    )
    assert not list(validator.iter_errors(record))


@pytest.mark.parametrize(
    ("field", "raw"),
    [
        ("recording_duration", "27"),
        ("tags", [{"id": 1, "name": "x"}]),
        ("speaker_percent", [{"agent": 60}]),
        ("call_summary", ["a", "b"]),
        ("keypad_entries", '{"Menu": "1"}'),
    ],
)
def test_unnormalised_call_values_are_rejected(field, raw):
    record = {"id": "CAL1", "account_id": "ACC1", field: raw}
    assert list(jsonschema.Draft7Validator(SCHEMAS["calls"]).iter_errors(record))
