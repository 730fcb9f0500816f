"""JSON schemas and field lists of the CallRail streams.

Each schema is the contract the warehouse sees. target-postgres cannot alter a column's type
once the table exists, so every type here is chosen to hold for every payload CallRail is known
to send; where CallRail drifts the client normalises the value to the type
declared here rather than the schema widening to a union.

Field names come from CallRail's API reference (https://apidocs.callrail.com/). `DEFAULT_FIELDS` are
returned without asking (plus the fields the tap stamps on each record); `OPTIONAL_FIELDS` must be
named in `fields=`, and asking for any other name gets a 400.

Where CallRail sends `""` (or only whitespace) for an object or list property, it means there is
nothing: the tap stores null (normalize.RecordNormalizer), never a value made from the string.
"""

from __future__ import annotations

from singer_sdk import typing as th

# Shared fragments. Aliases name what a value *is* in CallRail; the JSON type follows from it.

TEXT = th.StringType
FLAG = th.BooleanType
COUNT = th.IntegerType
# CallRail's masked ids (ACC…, COM…, CAL…, TRK…, USR…, FOR…, PER…) and the short conversation ids.
MASKED_ID = th.StringType
# Tags, integrations, notifications and caller ids use plain integer ids.
INTEGER_ID = th.IntegerType
# The tap emits every timestamp as UTC `YYYY-MM-DDTHH:MM:SS.ffffffZ` (contract, "Timestamps").
TIMESTAMP = th.DateTimeType
E164_PHONE = th.StringType
# Money: documented as an integer but written as "$1.00", so numeric keeps cents if they appear.
MONEY = th.DecimalType
URL = th.StringType
STRINGS = th.ArrayType(th.StringType)
# A JSON object whose keys CallRail does not fix (form fields, integration settings, …).
FREE_OBJECT = th.ObjectType(additional_properties=True)


def _p(
    name: str,
    kind: th.JSONTypeHelper | type[th.JSONTypeHelper],
    description: str,
    *,
    required: bool = False,
    secret: bool = False,
    deprecated: bool | None = None,
) -> th.Property:
    """Declare one column: name, type, one-line description (nullable unless required)."""
    return th.Property(
        name,
        kind,
        required=required,
        description=description,
        secret=secret,
        deprecated=deprecated,
    )


def _account_id() -> th.Property:
    description = "Account (ACC…) the record was read from; added by the tap."
    return _p("account_id", MASKED_ID, description, required=True)


def _names(names: str) -> frozenset[str]:
    return frozenset(names.split())


COMPANY_REF = th.ObjectType(
    _p("id", MASKED_ID, "Company id (COM…)."),
    _p("name", TEXT, "Company name."),
)

MILESTONE = th.ObjectType(
    _p("event_date", TIMESTAMP, "When the visitor reached this milestone."),
    _p("source", TEXT, "Marketing source attributed at this milestone."),
    _p("medium", TEXT, "Marketing medium, e.g. PPC, Organic, direct."),
    _p("campaign", TEXT, "Campaign attributed at this milestone."),
    _p("keywords", TEXT, "Search keywords, for paid sources."),
    _p("match_type", TEXT, "Ad keyword match type."),
    _p("ad_position", TEXT, "Position of the ad that was clicked."),
    _p("device", TEXT, "Device type of the visitor."),
    _p("session_browser", TEXT, "Browser of the visitor's session."),
    _p("landing", URL, "Landing page URL."),
    _p("landing_page_url_params", FREE_OBJECT, "Query parameters of the landing page URL."),
    _p("referrer", TEXT, "Referring site or source."),
    _p("referrer_url_params", FREE_OBJECT, "Query parameters of the referring URL."),
    _p("url_utm_params", FREE_OBJECT, "UTM parameters found on the landing URL."),
)

MILESTONES = th.ObjectType(
    _p("first_touch", MILESTONE, "Attribution of the visitor's first visit."),
    _p("lead_created", MILESTONE, "Attribution when the visitor first became a lead."),
    _p("qualified", MILESTONE, "Attribution when the lead was qualified."),
    _p("last_touch", MILESTONE, "Attribution of the latest visit before this interaction."),
)

# The tap reduces CallRail's {id, name} tag objects to their names.
TAG_NAMES = th.ArrayType(th.StringType)

KEYWORD_SPOT = th.ObjectType(
    _p("keyword", TEXT, "Keyword that was heard."),
    _p(
        "locations",
        th.ArrayType(
            th.ObjectType(
                _p("speaker", TEXT, "Who said it (agent or customer)."),
                _p("start", th.DecimalType, "Offset into the recording, in seconds."),
            ),
        ),
        "Every place in the call where the keyword was heard.",
    ),
)

SPEAKER_SHARE = th.ObjectType(
    _p("agent", th.DecimalType, "Share of talk time taken by the agent, in percent."),
    _p("customer", th.DecimalType, "Share of talk time taken by the customer, in percent."),
)

VOICE_ASSIST_MESSAGE = th.ObjectType(
    _p("contents", FREE_OBJECT, "What the caller left with Voice Assist."),
    _p("overrides", FREE_OBJECT, "Values corrected after the message was taken."),
    _p("recorded_at", TIMESTAMP, "When the message was recorded."),
    _p("urgency", TEXT, "Urgency Voice Assist assigned to the message."),
)

# Basic and advanced flows share `type` and `recording_enabled`; others pass through.
CALL_FLOW = th.ObjectType(
    _p("type", TEXT, "basic or advanced."),
    _p("recording_enabled", FLAG, "True when calls through this flow are recorded."),
    _p("destination_number", E164_PHONE, "Basic flow: number the call is forwarded to."),
    _p("greeting_text", TEXT, "Basic flow: text read to the caller before connecting."),
    _p("greeting_recording_url", URL, "Basic flow: recorded greeting played to the caller."),
    _p("steps", th.ArrayType(FREE_OBJECT), "Advanced flow: the routing steps."),
    additional_properties=True,
)

# Source trackers carry {type, …}; session trackers a map of engines to paid/organic lists.
TRACKER_SOURCE = th.ObjectType(
    _p("type", TEXT, "Kind of traffic the tracker matches, e.g. all, search, direct."),
    _p("search_engine", TEXT, "Source trackers: search engine matched."),
    _p("search_type", TEXT, "Source trackers: paid or organic search."),
    _p("inverted", FLAG, "Session trackers: True when the source rules are inverted."),
    additional_properties=True,
)

RECENT_MESSAGE = th.ObjectType(
    _p("direction", TEXT, "incoming or outgoing."),
    _p("content", TEXT, "Message text."),
    _p("created_at", TIMESTAMP, "When the message was sent or received."),
    _p("type", TEXT, "sms or mms."),
    _p("media_urls", STRINGS, "Attached media; these links expire."),
)

VERIFIED_CALLER_ID = th.ObjectType(
    _p("name", TEXT, "Label of the verified number."),
    _p("phone_number", E164_PHONE, "Verified number in E.164 form."),
)


# Schemas, one per stream, in the order of the contract's stream list.

ACCOUNTS = th.PropertiesList(
    _p("id", MASKED_ID, "Account id (ACC…), used in every /a/{account_id}/ path.", required=True),
    _p("name", TEXT, "Account name."),
    _p("outbound_recording_enabled", FLAG, "True when outbound calls are recorded."),
    _p("hipaa_account", FLAG, "True for a HIPAA account (recording links expire sooner)."),
    _p("numeric_id", INTEGER_ID, "Numeric account id shown in the web app's URLs."),
)

COMPANIES = th.PropertiesList(
    _p("id", MASKED_ID, "Company id (COM…).", required=True),
    _account_id(),
    _p("name", TEXT, "Company name."),
    _p("status", TEXT, "active or disabled; disabled companies stay listed."),
    _p("time_zone", TEXT, "Company time zone (IANA name)."),
    _p("created_at", TIMESTAMP, "When the company was created."),
    _p("disabled_at", TIMESTAMP, "When the company was disabled; null while active."),
    _p("dni_active", FLAG, "Whether the number-swap script is live; null if never installed."),
    _p("script_url", URL, "URL of the company's number-swap script."),
    _p("callscore_enabled", FLAG, "True when call scoring is on."),
    _p("lead_scoring_enabled", FLAG, "True when automatic lead scoring is on."),
    _p(
        "swap_exclude_jquery",
        FLAG,
        "Legacy number-swap option (deprecated by CallRail).",
        deprecated=True,
    ),
    _p("swap_ppc_override", FLAG, "Whether paid clicks override earlier swap attribution."),
    _p("swap_landing_override", TEXT, "Landing-page parameter that overrides swap attribution."),
    _p("swap_cookie_duration", COUNT, "How long the attribution cookie lasts, in the unit below."),
    _p("swap_cookie_duration_unit", TEXT, "Unit of swap_cookie_duration: months, weeks or days."),
    _p("callscribe_enabled", FLAG, "True when call transcription is on."),
    _p(
        "keyword_spotting_enabled",
        FLAG,
        "Legacy keyword spotting switch (deprecated by CallRail).",
        deprecated=True,
    ),
    _p("form_capture", FLAG, "True when website form submissions are captured."),
    _p(
        "verified_caller_ids",
        th.ArrayType(VERIFIED_CALLER_ID),
        "Numbers verified for use as outbound caller id.",
    ),
)

USERS = th.PropertiesList(
    _p("id", MASKED_ID, "User id (USR…).", required=True),
    _account_id(),
    _p("email", TEXT, "Login e-mail address."),
    _p("first_name", TEXT, "First name."),
    _p("last_name", TEXT, "Last name."),
    _p("name", TEXT, "Full display name."),
    _p("role", TEXT, "Permission level, e.g. admin, manager, reporting."),
    _p("accepted", FLAG, "True once the user has accepted the invitation."),
    _p("created_at", TIMESTAMP, "When the user was created."),
    _p("companies", th.ArrayType(COMPANY_REF), "Companies the user can access."),
)

TAGS = th.PropertiesList(
    _p("id", INTEGER_ID, "Tag id (an integer, unlike most CallRail ids).", required=True),
    _account_id(),
    _p("name", TEXT, "Tag name as applied to calls and forms."),
    _p("tag_level", TEXT, "company or account."),
    _p("company_id", MASKED_ID, "Owning company (COM…); null for account-level tags."),
    _p("color", TEXT, "Display colour name."),
    _p("background_color", TEXT, "Display background colour name."),
    _p("status", TEXT, "enabled or disabled."),
    _p("created_at", TIMESTAMP, "When the tag was created."),
)

TRACKERS = th.PropertiesList(
    _p("id", MASKED_ID, "Tracker id (TRK…).", required=True),
    _account_id(),
    _p("name", TEXT, "Tracker name."),
    _p("type", TEXT, "source (one number per source) or session (a visitor number pool)."),
    _p("status", TEXT, "active or disabled; disabled trackers stay listed."),
    _p("company", COMPANY_REF, "Company the tracker belongs to."),
    _p("destination_number", E164_PHONE, "Number calls are forwarded to."),
    _p("tracking_numbers", STRINGS, "Tracking numbers in E.164 form; a session pool has several."),
    _p("whisper_message", TEXT, "Message played to the answering party before connecting."),
    _p("sms_enabled", FLAG, "True when texting is turned on for the tracker."),
    _p("sms_supported", FLAG, "True when the tracking numbers can send and receive texts."),
    _p("call_flow", CALL_FLOW, "Routing configuration; its keys depend on its type."),
    _p("source", TRACKER_SOURCE, "Traffic the tracker matches; its keys depend on the type."),
    _p("created_at", TIMESTAMP, "When the tracker was created."),
    _p("disabled_at", TIMESTAMP, "When the tracker was disabled; null while active."),
    _p("campaign_name", TEXT, "Campaign label of the tracker."),
    _p("swap_targets", STRINGS, "Website numbers the swap script replaces."),
    _p(
        "message_flow",
        FREE_OBJECT,
        "Message flow answering texts to the tracker, as CallRail sends it (id MFL…, name); null when none. "
        "Its shape is not documented: an object is kept whole, a bare id as {value: id}.",
    ),
)

CALLS = th.PropertiesList(
    # Returned by default.
    _p("id", MASKED_ID, "Call id (CAL…).", required=True),
    _account_id(),
    _p("start_time", TIMESTAMP, "When the call started; the replication key."),
    _p("direction", TEXT, "inbound or outbound."),
    _p("answered", FLAG, "True when answered, including calls that reached voicemail."),
    _p("voicemail", FLAG, "True when the caller left a voicemail."),
    _p("duration", COUNT, "Length of the call in seconds; null while in progress."),
    _p("customer_name", TEXT, "Caller id name of the customer."),
    _p("customer_phone_number", E164_PHONE, "Customer's number in E.164 form."),
    _p("customer_city", TEXT, "Customer's city, derived from the number."),
    _p("customer_state", TEXT, "Customer's state (two letters), derived from the number."),
    _p("customer_country", TEXT, "Customer's country, derived from the number."),
    _p("business_phone_number", E164_PHONE, "Business number that answered the call."),
    _p("tracking_phone_number", E164_PHONE, "Tracking number that was dialled."),
    _p("recording", URL, "API address of the recording (redirects to the audio)."),
    _p("recording_duration", COUNT, "Length of the recording in seconds."),
    _p("recording_player", URL, "Address of the stand-alone recording player."),
    # Requested through fields=.
    _p("agent_email", TEXT, "E-mail address of the agent who took or placed the call."),
    _p("call_type", TEXT, "Outcome class, e.g. answered, missed, voicemail, outbound."),
    _p("created_at", TIMESTAMP, "When CallRail created the call record."),
    _p("company_id", MASKED_ID, "Company the call belongs to (COM…)."),
    _p("company_name", TEXT, "Name of the company the call belongs to."),
    _p("company_time_zone", TEXT, "Time zone of the company."),
    _p("tracker_id", MASKED_ID, "Tracker that received the call (TRK…)."),
    _p("source_name", TEXT, "Name of the tracker that received the call."),
    _p("person_id", MASKED_ID, "Lead (person) the caller is matched to (PER…)."),
    _p("first_call", FLAG, "True when this was the caller's first call."),
    _p("prior_calls", COUNT, "Earlier calls from the same caller; 0 for a first call."),
    _p("total_calls", COUNT, "All calls from this caller so far; grows with new calls."),
    _p("device_type", TEXT, "Visitor device, mobile or desktop (session trackers)."),
    _p("source", TEXT, "First-touch marketing source."),
    _p("medium", TEXT, "Marketing medium, e.g. PPC, Organic, direct."),
    _p("campaign", TEXT, "Marketing campaign."),
    _p("keywords", TEXT, "Search keywords (paid sources only)."),
    _p("landing_page_url", URL, "Page where the visitor's session began (session trackers)."),
    _p("last_requested_url", URL, "Last page the visitor viewed before calling."),
    _p("referrer_domain", TEXT, "Domain that referred the visitor."),
    _p("referring_url", URL, "Full referring URL."),
    _p("utm_source", TEXT, "utm_source parameter of the visit."),
    _p("utm_medium", TEXT, "utm_medium parameter of the visit."),
    _p("utm_campaign", TEXT, "utm_campaign parameter of the visit."),
    _p("utm_term", TEXT, "utm_term parameter of the visit."),
    _p("utm_content", TEXT, "utm_content parameter of the visit."),
    _p("gclid", TEXT, "Google Ads click id."),
    _p("fbclid", TEXT, "Facebook click id."),
    _p("msclkid", TEXT, "Microsoft Ads click id."),
    _p("ga", TEXT, "Google Analytics client id."),
    _p("session_uuid", TEXT, "Visitor session id (session trackers)."),
    _p("custom", FREE_OBJECT, 'Custom cookie values captured for the session; CallRail\'s "" is stored as null.'),
    _p("milestones", MILESTONES, "Attribution at each stage of the visitor's journey."),
    _p("timeline_url", URL, "Web-app page with the caller's full timeline."),
    _p("lead_status", TEXT, "good_lead, not_a_lead, previously_marked_good_lead, or null."),
    _p("good_lead_call_id", INTEGER_ID, "Numeric id of the call first marked a good lead."),
    _p("good_lead_call_time", TIMESTAMP, "When that good-lead call happened."),
    _p("lead_score", TEXT, "AI lead grade, from very poor to very good."),
    _p("lead_explanation", TEXT, "Why the AI gave that lead grade."),
    _p("value", MONEY, "Monetary value assigned to the call."),
    _p("note", TEXT, "Free-text note on the call."),
    _p("tags", TAG_NAMES, "Names of the tags on the call."),
    _p(
        "keypad_entries",
        FREE_OBJECT,
        "Keys pressed at keypad steps as one {step name: keys} map; CallRail documents one {name, value} "
        'pair and also sends a list of them, both stored as that map; "" or [] as null.',
    ),
    _p("zip_code", STRINGS, "Zip codes the caller entered for geo-routing."),
    _p("transcription", TEXT, "Call transcript (plan-gated; null without it)."),
    _p(
        "call_summary",
        TEXT,
        "AI summary of the call (plan-gated); text on the list endpoint, a list of lines on the "
        "single-call endpoint, stored joined by newlines.",
    ),
    _p("call_highlights", STRINGS, "Key terms found in the transcript."),
    _p(
        "keywords_spotted",
        th.ArrayType(KEYWORD_SPOT),
        'Tracked keywords heard in the call; CallRail\'s "" is stored as null.',
    ),
    _p("sentiment", TEXT, "Caller sentiment (plan-gated)."),
    _p(
        "speaker_percent",
        SPEAKER_SHARE,
        'Talk-time split between agent and customer; CallRail\'s "" is stored as null.',
    ),
    _p("voice_assist_message", VOICE_ASSIST_MESSAGE, "Message taken by Voice Assist."),
    _p("waveforms", STRINGS, "Image URLs of the recording's waveforms; CallRail's \"\" is stored as null."),
    _p("formatted_call_type", TEXT, "call_type as displayed."),
    _p("formatted_customer_location", TEXT, "Customer city and state as displayed."),
    _p("formatted_business_phone_number", TEXT, "business_phone_number as displayed."),
    _p("formatted_customer_name", TEXT, "customer_name as displayed."),
    _p("formatted_customer_name_or_phone_number", TEXT, "Customer name, else number, as shown."),
    _p("formatted_customer_phone_number", TEXT, "customer_phone_number as displayed."),
    _p("formatted_duration", TEXT, "duration as displayed."),
    _p("formatted_tracking_phone_number", TEXT, "tracking_phone_number as displayed."),
    _p("formatted_tracking_source", TEXT, "Tracking source as displayed."),
    _p("formatted_value", TEXT, "value as displayed: a currency amount, or a dash."),
)

FORM_SUBMISSIONS = th.PropertiesList(
    _p("id", MASKED_ID, "Form submission id (FOR…).", required=True),
    _account_id(),
    _p("submitted_at", TIMESTAMP, "When CallRail received the form; the replication key."),
    _p("company_id", MASKED_ID, "Company the form belongs to (COM…)."),
    _p("person_id", MASKED_ID, "Lead (person) id (PER…), or the literal 'anonymous'."),
    _p("form_data", FREE_OBJECT, "Submitted form fields, keyed by field name."),
    _p("form_url", URL, "Page the form was submitted on."),
    _p("landing_page_url", URL, "Page where the visitor's session began."),
    _p("referrer", TEXT, "Referring source, e.g. google_paid."),
    _p("referring_url", URL, "Full referring URL."),
    _p("first_form", FLAG, "True for the visitor's first form submission."),
    _p("customer_name", TEXT, "Name given on the form."),
    _p("customer_email", TEXT, "E-mail address given on the form."),
    _p("customer_phone_number", E164_PHONE, "Phone number given on the form, in E.164 form."),
    _p("formatted_customer_name", TEXT, "customer_name as displayed."),
    _p("formatted_customer_phone_number", TEXT, "customer_phone_number as displayed."),
    _p("source", TEXT, "Marketing source."),
    _p("medium", TEXT, "Marketing medium."),
    _p("campaign", TEXT, "Marketing campaign."),
    _p("keywords", TEXT, "Search keywords (paid sources only)."),
    _p("company_name", TEXT, "Name of the company the form belongs to."),
    _p("form_name", TEXT, "Name of the form."),
    _p("lead_status", TEXT, "good_lead, not_a_lead, previously_marked_good_lead, or null."),
    _p("value", MONEY, "Monetary value assigned to the submission."),
    _p("note", TEXT, "Free-text note on the submission."),
    _p("tags", TAG_NAMES, "Names of the tags on the submission."),
    _p("utm_source", TEXT, "utm_source parameter of the visit."),
    _p("utm_medium", TEXT, "utm_medium parameter of the visit."),
    _p("utm_campaign", TEXT, "utm_campaign parameter of the visit."),
    _p("timeline_url", URL, "Web-app page with the lead's full timeline."),
    _p("milestones", MILESTONES, "Attribution at each stage; every key may be null."),
)

TEXT_MESSAGES = th.PropertiesList(
    _p("id", MASKED_ID, "Conversation id (a short string such as KZaGR).", required=True),
    _account_id(),
    _p("company_id", MASKED_ID, "Company the conversation belongs to (COM…)."),
    _p("company_time_zone", TEXT, "Time zone of the company."),
    _p("initial_tracker_id", MASKED_ID, "Tracker of the first message (TRK…)."),
    _p("current_tracker_id", MASKED_ID, "Tracker now used for the conversation (TRK…)."),
    _p("initial_tracking_number", E164_PHONE, "Tracking number of the first message."),
    _p("current_tracking_number", E164_PHONE, "Tracking number now used."),
    _p("customer_name", TEXT, "Customer's name."),
    _p("customer_phone_number", E164_PHONE, "Customer's number in E.164 form."),
    _p("formatted_customer_name", TEXT, "customer_name as displayed."),
    _p("formatted_customer_phone_number", TEXT, "customer_phone_number as displayed."),
    _p("formatted_initial_tracking_number", TEXT, "initial_tracking_number as displayed."),
    _p("formatted_current_tracking_number", TEXT, "current_tracking_number as displayed."),
    _p("last_message_at", TIMESTAMP, "When the latest message was sent or received."),
    _p("state", TEXT, "active or archived."),
    _p("recent_messages", th.ArrayType(RECENT_MESSAGE), "At most the two newest messages."),
    _p("lead_status", TEXT, "previously_marked_good_lead or null."),
    _p("source", TEXT, "Marketing source of the conversation."),
)

SMS_THREADS = th.PropertiesList(
    _p("id", MASKED_ID, "SMS thread id (a short string such as KZaGR).", required=True),
    _account_id(),
    _p("company_id", MASKED_ID, "Company the thread belongs to (COM…)."),
    _p("company_time_zone", TEXT, "Time zone of the company."),
    _p("initial_tracker_id", MASKED_ID, "Tracker of the first message (TRK…)."),
    _p("current_tracker_id", MASKED_ID, "Tracker now used for the thread (TRK…)."),
    _p("initial_tracking_number", E164_PHONE, "Tracking number of the first message."),
    _p("current_tracking_number", E164_PHONE, "Tracking number now used."),
    _p("customer_name", TEXT, "Customer's name."),
    _p("customer_phone_number", E164_PHONE, "Customer's number in E.164 form."),
    _p("state", TEXT, "State of the thread, e.g. active or archived."),
    _p("notes", TEXT, "Free-text notes on the thread."),
    _p("tags", TAG_NAMES, "Names of the tags on the thread."),
    _p("value", MONEY, "Monetary value assigned to the thread."),
    _p("lead_qualification", TEXT, "good_lead, not_a_lead, or null."),
    _p("last_message_at", TIMESTAMP, "When the latest message was sent or received (requested via fields=)."),
    _p("formatted_customer_name", TEXT, "customer_name as displayed."),
    _p("formatted_customer_phone_number", TEXT, "customer_phone_number as displayed."),
    _p("formatted_initial_tracking_number", TEXT, "initial_tracking_number as displayed."),
    _p("formatted_current_tracking_number", TEXT, "current_tracking_number as displayed."),
)

SMS_THREAD_MESSAGES = th.PropertiesList(
    _p("id", MASKED_ID, "Message id (SCI…).", required=True),
    _account_id(),
    _p("thread_id", MASKED_ID, "SMS thread the message belongs to; added by the tap.", required=True),
    _p("content", TEXT, "Message text."),
    _p("created_at", TIMESTAMP, "When the message was sent or received."),
    _p("direction", TEXT, "incoming or outgoing."),
    _p("message_type", TEXT, "sms or mms."),
    _p("status", TEXT, "Delivery status CallRail reports, e.g. sent or error."),
    _p("media_urls", STRINGS, "MMS attachments; CallRail's links are not long-lived."),
    _p("error", TEXT, "Why the message failed, where it did (asked for with with_msg_errors=true)."),
)

LEADS = th.PropertiesList(
    _p("id", MASKED_ID, "Lead (person) id (PER…).", required=True),
    _account_id(),
    _p("name", TEXT, "Lead's name."),
    _p("phone", E164_PHONE, "Lead's number in E.164 form."),
    _p("email", TEXT, "Lead's e-mail address."),
    _p("company_id", MASKED_ID, "Company the lead belongs to (COM…)."),
    _p("company_name", TEXT, "Name of that company."),
    _p("created_at", TIMESTAMP, "When the lead was created."),
)

INTEGRATIONS = th.PropertiesList(
    _p("id", INTEGER_ID, "Integration id (an integer).", required=True),
    _account_id(),
    _p("company_id", MASKED_ID, "Company the integration was listed for (COM…); added by the tap."),
    _p("type", TEXT, "Integration kind, e.g. Webhooks, Custom, Slack; one of each per company."),
    _p("state", TEXT, "active, disabled, pending or failed."),
    _p("config", FREE_OBJECT, "Type-specific settings; may hold third-party keys.", secret=True),
    _p("signing_key", TEXT, "Secret used to sign webhook deliveries.", secret=True),
)

NOTIFICATIONS = th.PropertiesList(
    _p("id", INTEGER_ID, "Notification id (an integer).", required=True),
    _account_id(),
    _p("name", TEXT, "Name of the notification."),
    _p("user_id", MASKED_ID, "User who receives it (USR…)."),
    _p("email", TEXT, "Recipient address, for e-mail-only recipients."),
    _p("company_id", MASKED_ID, "Company it watches (COM…); null means all companies."),
    _p("tracker_id", MASKED_ID, "Tracker it watches (TRK…); null means all trackers."),
    _p("alert_type", TEXT, "Calls that trigger it: all, first_call, missed_and_vm or vm_only."),
    _p("call_enabled", FLAG, "True when calls trigger the notification."),
    _p("sms_enabled", FLAG, "True when text messages trigger the notification."),
    _p("send_desktop", FLAG, "True when delivered as a desktop alert."),
    _p("send_email", FLAG, "True when delivered by e-mail."),
    _p("send_push", FLAG, "True when delivered as a mobile push."),
    _p("company_name", TEXT, "Name of the company it watches; null means all companies."),
    _p("tracker_name", TEXT, "Name of the tracker it watches; null means all trackers."),
    _p("agent_id", MASKED_ID, "Id of the agent CallRail names on the notification, as text."),
    _p("agent_name", TEXT, "Name of the agent CallRail names on the notification."),
)

OUTBOUND_CALLER_IDS = th.PropertiesList(
    _p("id", INTEGER_ID, "Outbound caller id (an integer).", required=True),
    _account_id(),
    _p("company_id", MASKED_ID, "Company the number is registered for (COM…)."),
    _p("name", TEXT, "Label of the number."),
    _p("phone_number", E164_PHONE, "Number shown to people called, in E.164 form."),
    _p("verified", FLAG, "True once the number has been verified."),
    _p("validation_code", TEXT, "Code used to verify the number.", secret=True),
    _p("created_at", TIMESTAMP, "When the number was added."),
)

CALLS_TIMESERIES = th.PropertiesList(
    _account_id(),
    _p("company_id", MASKED_ID, "Company the counts are of (COM…); added by the tap.", required=True),
    _p("date", th.DateType, "Day the counts are of, as the company's time zone has it.", required=True),
    _p("time_zone", TEXT, "Time zone the day is in: the company's (Etc/UTC if it has none); added by the tap."),
    _p("total_calls", COUNT, "Calls that day, as CallRail counts them now (spam it removed is not counted)."),
    _p("answered_calls", COUNT, "Answered calls that day."),
    _p("missed_calls", COUNT, "Missed calls that day."),
    _p("first_time_callers", COUNT, "Calls that day from first-time callers."),
    _p("average_duration", th.NumberType, "Average call duration that day, in seconds."),
    _p("leads", COUNT, "Leads CallRail counts that day."),
)

CALL_PAGE_VIEWS = th.PropertiesList(
    _p("call_id", MASKED_ID, "Call the visitor's session led to (CAL…); added by the tap.", required=True),
    _p(
        "position",
        COUNT,
        "Place of the view in the session, 1 = the first page viewed (by created_at); added by the tap, "
        "since CallRail gives page views no id.",
        required=True,
    ),
    _account_id(),
    _p("call_start_time", TIMESTAMP, "When the call started; added by the tap (the stream's bookmark)."),
    _p("page_url", URL, "Page the visitor viewed."),
    _p("referrer_url", URL, "Page the visitor came from."),
    _p("created_at", TIMESTAMP, "When the page was viewed."),
)

LEAD_TIMELINES = th.PropertiesList(
    _p("person_id", MASKED_ID, "Lead (PER…) whose timeline holds the event; added by the tap.", required=True),
    _p(
        "event_key",
        TEXT,
        "`type:id` of the event (e.g. `call:CAL…`), or `type@event_date` where CallRail sends no id; added by the tap.",
        required=True,
    ),
    _account_id(),
    _p("type", TEXT, "call, form_submission, sms, chat or milestone."),
    _p("id", TEXT, "Id of the call, form submission or conversation the event is, as text (null for milestones)."),
    _p("event_date", TIMESTAMP, "When the event happened."),
    _p("details", FREE_OBJECT, "Every other field CallRail sends with the event, as sent (they differ by type)."),
)

SCHEMAS: dict[str, dict] = {
    "accounts": ACCOUNTS.to_dict(),
    "companies": COMPANIES.to_dict(),
    "users": USERS.to_dict(),
    "tags": TAGS.to_dict(),
    "trackers": TRACKERS.to_dict(),
    "calls": CALLS.to_dict(),
    "form_submissions": FORM_SUBMISSIONS.to_dict(),
    "text_messages": TEXT_MESSAGES.to_dict(),
    "leads": LEADS.to_dict(),
    "integrations": INTEGRATIONS.to_dict(),
    "notifications": NOTIFICATIONS.to_dict(),
    "outbound_caller_ids": OUTBOUND_CALLER_IDS.to_dict(),
    "sms_threads": SMS_THREADS.to_dict(),
    "sms_thread_messages": SMS_THREAD_MESSAGES.to_dict(),
    "calls_timeseries": CALLS_TIMESERIES.to_dict(),
    "call_page_views": CALL_PAGE_VIEWS.to_dict(),
    "lead_timelines": LEAD_TIMELINES.to_dict(),
}

# Fields the tap stamps on each record itself; never sent in fields=.
TAP_ADDED_FIELDS: dict[str, frozenset[str]] = {
    "accounts": frozenset(),
    "companies": _names("account_id"),
    "users": _names("account_id"),
    "tags": _names("account_id"),
    "trackers": _names("account_id"),
    "calls": _names("account_id"),
    "form_submissions": _names("account_id"),
    "text_messages": _names("account_id"),
    "leads": _names("account_id"),
    "integrations": _names("account_id company_id"),
    "notifications": _names("account_id"),
    "outbound_caller_ids": _names("account_id"),
    "sms_threads": _names("account_id"),
    "sms_thread_messages": _names("account_id thread_id"),
    "calls_timeseries": _names("account_id company_id time_zone"),
    "call_page_views": _names("account_id call_id call_start_time position"),
    "lead_timelines": _names("account_id person_id event_key details"),
}

# Returned without asking, plus the tap-added fields above.
DEFAULT_FIELDS: dict[str, frozenset[str]] = {
    "accounts": _names("id hipaa_account name outbound_recording_enabled"),
    "companies": _names(
        "id account_id callscore_enabled callscribe_enabled created_at disabled_at dni_active "
        "form_capture keyword_spotting_enabled lead_scoring_enabled name script_url status "
        "swap_cookie_duration swap_cookie_duration_unit swap_exclude_jquery swap_landing_override "
        "swap_ppc_override time_zone"
    ),
    "users": _names("id account_id accepted companies created_at email first_name last_name name role"),
    "tags": _names("id account_id background_color color company_id created_at name status tag_level"),
    "trackers": _names(
        "id account_id call_flow company created_at destination_number disabled_at name "
        "sms_enabled sms_supported source status tracking_numbers type whisper_message message_flow"
    ),
    "calls": _names(
        "id account_id answered business_phone_number customer_city customer_country "
        "customer_name customer_phone_number customer_state direction duration recording "
        "recording_duration recording_player start_time tracking_phone_number voicemail"
    ),
    "form_submissions": _names(
        "id account_id campaign company_id customer_email customer_name customer_phone_number "
        "first_form form_data form_url formatted_customer_name formatted_customer_phone_number "
        "keywords landing_page_url medium person_id referrer referring_url source submitted_at"
    ),
    "text_messages": _names(
        "id account_id company_id company_time_zone current_tracker_id current_tracking_number "
        "customer_name customer_phone_number formatted_current_tracking_number "
        "formatted_customer_name formatted_customer_phone_number "
        "formatted_initial_tracking_number initial_tracker_id initial_tracking_number "
        "last_message_at recent_messages state"
    ),
    "leads": _names("id account_id company_id company_name created_at email name phone"),
    "integrations": _names("id account_id company_id config state type"),
    "notifications": _names(
        "id account_id agent_id agent_name alert_type call_enabled company_id company_name email "
        "name send_desktop send_email send_push sms_enabled tracker_id tracker_name user_id"
    ),
    "outbound_caller_ids": _names("id account_id company_id created_at name phone_number validation_code verified"),
    "sms_threads": _names(
        "id account_id company_id company_time_zone current_tracker_id current_tracking_number "
        "customer_name customer_phone_number initial_tracker_id initial_tracking_number "
        "lead_qualification notes state tags value"
    ),
    # `error` comes only with with_msg_errors=true (a parameter, not a field name).
    "sms_thread_messages": _names(
        "id account_id content created_at direction error media_urls message_type status thread_id"
    ),
    "calls_timeseries": _names("account_id company_id date time_zone"),
    "call_page_views": _names("account_id call_id call_start_time created_at page_url position referrer_url"),
    # Every field of an event but its type, id and date lands in `details` (the tap puts it there).
    "lead_timelines": _names("account_id details event_date event_key id person_id type"),
}

# Must be named in fields=. Calls leaves out conversational_transcript and
# integration_data, which only the single-call endpoint accepts. agent_email is documented as
# optional though samples always carry it: asking is harmless, not asking could lose it.
OPTIONAL_FIELDS: dict[str, frozenset[str]] = {
    "accounts": _names("numeric_id"),
    "companies": _names("verified_caller_ids"),
    "users": frozenset(),
    "tags": frozenset(),
    "trackers": _names("campaign_name swap_targets"),
    "calls": _names(
        "agent_email call_highlights call_summary call_type campaign company_id company_name "
        "company_time_zone created_at custom device_type fbclid first_call "
        "formatted_business_phone_number formatted_call_type formatted_customer_location "
        "formatted_customer_name formatted_customer_name_or_phone_number "
        "formatted_customer_phone_number formatted_duration formatted_tracking_phone_number "
        "formatted_tracking_source formatted_value ga gclid good_lead_call_id good_lead_call_time "
        "keypad_entries keywords keywords_spotted landing_page_url last_requested_url "
        "lead_explanation lead_score lead_status medium milestones msclkid note person_id "
        "prior_calls referrer_domain referring_url sentiment session_uuid source source_name "
        "speaker_percent tags timeline_url total_calls tracker_id transcription utm_campaign "
        "utm_content utm_medium utm_source utm_term value voice_assist_message waveforms zip_code"
    ),
    "form_submissions": _names(
        "company_name form_name lead_status milestones note tags timeline_url utm_campaign utm_medium utm_source value"
    ),
    "text_messages": _names("lead_status source"),
    "leads": frozenset(),
    "integrations": _names("signing_key"),
    "notifications": frozenset(),
    "outbound_caller_ids": frozenset(),
    "sms_threads": _names(
        "formatted_current_tracking_number formatted_customer_name formatted_customer_phone_number "
        "formatted_initial_tracking_number last_message_at"
    ),
    "sms_thread_messages": frozenset(),
    # The counts of calls/timeseries.json; formatted_average_duration, a display string of
    # average_duration, is not asked for.
    "calls_timeseries": _names("answered_calls average_duration first_time_callers leads missed_calls total_calls"),
    "call_page_views": frozenset(),
    "lead_timelines": frozenset(),
}
