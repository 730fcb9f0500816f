"""The deterministic data set of everything except calls (which `calls.py` generates lazily).

Every record is a dict holding all default and optional fields; timestamps are `Stamp`s so
they can be printed in the requested time zone. All randomness comes from `random.Random`
seeded with a string, which is stable across runs and Python processes.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from callrail_emulator import pools
from callrail_emulator.ids import masked_id, numeric_account_id, short_id
from callrail_emulator.render import OFFSET, UTC_MS, UTC_S, Stamp

DAY_MS = 86_400_000


@dataclass(frozen=True)
class DataConfig:
    seed: int = 7
    accounts: int = 2
    anchor_ms: int = 0  # "now" when the data set was built
    history_days: int = 700
    calls_per_account: int = 300
    companies_per_account: int = 3
    users_per_account: int = 5
    tags_per_account: int = 6
    trackers_per_account: int = 4
    form_submissions_per_account: int = 40
    conversations_per_account: int = 25
    leads_per_account: int = 20
    integrations_per_company: int = 1
    notifications_per_account: int = 3
    caller_ids_per_company: int = 2
    sms_threads_per_account: int = 6


@dataclass
class AccountData:
    index: int
    id: str
    numeric_id: int
    record: dict[str, Any]
    streams: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def company(self, company_id: str | None) -> dict[str, Any] | None:
        return next((c for c in self.streams["companies"] if c["id"] == company_id), None)


def e164(rng: random.Random, area: str = "404") -> str:
    return f"+1{area}{rng.randint(200, 999)}{rng.randint(0, 9999):04d}"


def formatted_phone(number: str | None) -> str | None:
    """CallRail's display form `404-555-1234`; anything that is not +1 and 10 digits stays as is."""
    if number and len(number) == 12 and number.startswith("+1") and number[1:].isdigit():
        return f"{number[2:5]}-{number[5:8]}-{number[8:]}"
    return number


def customer_phone(rng: random.Random, area: str) -> str:
    if rng.random() < 0.06:
        return rng.choice(pools.MALFORMED_PHONES)
    return e164(rng, area)


def customer_email(rng: random.Random, name: str) -> str | None:
    roll = rng.random()
    if roll < 0.08:
        return rng.choice(pools.MALFORMED_EMAILS)
    if roll < 0.12:
        return None
    local = "".join(ch for ch in name.lower() if ch.isascii() and ch.isalnum()) or "customer"
    return f"{local}{rng.randint(1, 99)}@example.com"


def milestones(rng: random.Random, at_ms: int, empty: bool = False) -> dict[str, Any]:
    """The milestones object of calls and form submissions (callrail-api.md §5.2)."""
    keys = ("first_touch", "lead_created", "qualified", "last_touch")
    if empty:
        return {k: _milestone(None, None) for k in keys}
    first = at_ms - rng.randint(1, 30) * DAY_MS
    return {
        "first_touch": _milestone(Stamp(first, UTC_MS), rng.choice(pools.SESSION_SOURCES)),
        "lead_created": _milestone(Stamp(at_ms, UTC_MS), rng.choice(pools.SESSION_SOURCES)),
        "qualified": _milestone(None, None),
        "last_touch": _milestone(Stamp(at_ms, UTC_MS), rng.choice(pools.SESSION_SOURCES)),
    }


def _milestone(event_date: Stamp | None, source: tuple[Any, ...] | None) -> dict[str, Any]:
    if source is None:
        return {
            "event_date": None, "ad_position": None, "campaign": None, "device": None,
            "keywords": None, "landing": None, "landing_page_url_params": {},
            "match_type": None, "medium": None, "referrer": None, "referrer_url_params": {},
            "session_browser": None, "url_utm_params": {}, "source": None,
        }
    name, medium, campaign, keywords, utm_source, utm_medium, referrer, device = source
    utm = {"utm_source": utm_source, "utm_medium": utm_medium} if utm_source else {}
    return {
        "event_date": event_date,
        "ad_position": "1t1" if medium == "CPC" else None,
        "campaign": campaign,
        "device": device,
        "keywords": keywords,
        "landing": "https://www.example.com/landing?utm_source=" + (utm_source or "none"),
        "landing_page_url_params": dict(utm),
        "match_type": "e" if keywords else None,
        "medium": medium,
        "referrer": referrer,
        "referrer_url_params": {"q": keywords} if keywords else {},
        "session_browser": "Mobile Safari" if device == "mobile" else "Chrome",
        "url_utm_params": dict(utm),
        "source": name,
    }


def recent_skewed_ms(rng: random.Random, cfg: DataConfig) -> int:
    """A past instant within history, denser towards now (a growing business)."""
    u = rng.random()
    age = cfg.history_days * DAY_MS * (0.05 * u + 0.95 * u * u * u)
    return cfg.anchor_ms - 600_000 - int(age)


def new_account(
    seed: int,
    index: int,
    account_id: str | None = None,
    numeric_id: int | None = None,
    name: str | None = None,
) -> AccountData:
    """Account `index` with no records yet; ids and name default to the data set's own."""
    account_id = account_id or masked_id("ACC", seed, index)
    numeric = numeric_id if numeric_id is not None else numeric_account_id(seed, index)
    default_name = pools.ACCOUNT_NAMES[index % len(pools.ACCOUNT_NAMES)] + (
        "" if index < len(pools.ACCOUNT_NAMES) else f" #{index}"
    )
    record = {
        "id": account_id,
        "name": name or default_name,
        "outbound_recording_enabled": index % 2 == 0,
        "hipaa_account": index % 3 == 2,
        "numeric_id": numeric,
    }
    return AccountData(index, account_id, numeric, record)


def build_accounts(cfg: DataConfig) -> list[AccountData]:
    shared_user_id = masked_id("USR", cfg.seed, "shared")
    accounts = []
    for a in range(cfg.accounts):
        rng = random.Random(f"callrail-emulator:{cfg.seed}:{a}")
        acct = new_account(cfg.seed, a)
        s = acct.streams
        s["companies"] = _companies(rng, cfg, a)
        s["users"] = _users(rng, cfg, a, s["companies"], shared_user_id)
        s["tags"] = _tags(rng, cfg, a, s["companies"])
        s["trackers"] = _trackers(rng, cfg, a, s["companies"])
        s["form_submissions"] = [
            _form_submission(rng, cfg, a, k, s) for k in range(cfg.form_submissions_per_account)
        ]
        s["text_messages"] = [
            _conversation(rng, cfg, a, k, s) for k in range(cfg.conversations_per_account)
        ]
        s["leads"] = [_lead(rng, cfg, a, k, s["companies"]) for k in range(cfg.leads_per_account)]
        s["integrations"] = _integrations(rng, cfg, a, s["companies"])
        s["notifications"] = _notifications(rng, cfg, a, s)
        s["outbound_caller_ids"] = _caller_ids(rng, cfg, a, s["companies"])
        # Their own random stream, so the data of every other stream stays as it was.
        sms_rng = random.Random(f"callrail-emulator:{cfg.seed}:{a}:sms-threads")
        s["sms_threads"], s["sms_thread_messages"] = _sms_threads(sms_rng, cfg, a, s)
        accounts.append(acct)
    return accounts


def _companies(rng: random.Random, cfg: DataConfig, a: int) -> list[dict[str, Any]]:
    companies = []
    n = cfg.companies_per_account
    for k in range(n):
        disabled = n > 1 and k == n - 1
        created = cfg.anchor_ms - (cfg.history_days + rng.randint(30, 900)) * DAY_MS
        created += rng.randint(0, DAY_MS)
        name_pool = pools.COMPANY_NAMES
        numeric = 400_000_000 + a * 1000 + k
        companies.append({
            "id": masked_id("COM", cfg.seed, a, k),
            "name": name_pool[(a * n + k) % len(name_pool)],
            "status": "disabled" if disabled else "active",
            "time_zone": pools.COMPANY_TIME_ZONES[(a + k) % len(pools.COMPANY_TIME_ZONES)],
            "created_at": Stamp(created, UTC_MS if k % 2 == 0 else UTC_S),
            "disabled_at": Stamp(cfg.anchor_ms - rng.randint(2, 60) * DAY_MS, UTC_S)
            if disabled else None,
            "dni_active": None if k == 2 else rng.random() < 0.7,
            "script_url": f"//cdn.callrail.com/companies/{numeric}/{rng.randbytes(10).hex()}"
            "/12/swap.js",
            "callscore_enabled": rng.random() < 0.5,
            "lead_scoring_enabled": rng.random() < 0.5,
            "swap_exclude_jquery": None if k % 2 else False,
            "swap_ppc_override": rng.choice((None, True, False)),
            "swap_landing_override": rng.choice((None, "utm_source=google&utm_medium=cpc")),
            "swap_cookie_duration": rng.choice((6, 30, 90)),
            "swap_cookie_duration_unit": rng.choice(("months", "weeks", "days")),
            "callscribe_enabled": rng.random() < 0.5,
            "keyword_spotting_enabled": rng.random() < 0.3,
            "form_capture": k == 0 or rng.random() < 0.5,
            "verified_caller_ids": [
                {"name": "Main line", "phone_number": e164(rng, "404")},
            ] if k != 1 else [],
        })
    return companies


def _users(
    rng: random.Random,
    cfg: DataConfig,
    a: int,
    companies: list[dict[str, Any]],
    shared_user_id: str,
) -> list[dict[str, Any]]:
    users = []
    refs = [{"id": c["id"], "name": c["name"]} for c in companies]
    for k in range(cfg.users_per_account):
        shared = k == 0 and cfg.accounts > 1
        if shared:
            first, last = pools.USER_NAMES[0]
            user_id = shared_user_id
            member_of = refs[:2] if a == 0 else refs[:1]
            email = "jose.muller@example.com"
        else:
            first, last = pools.USER_NAMES[(a * 3 + k) % len(pools.USER_NAMES)]
            user_id = masked_id("USR", cfg.seed, a, k)
            member_of = [refs[(k + a) % len(refs)]] if refs and k % 3 else list(refs)
            email = f"user{a}.{k}@example.com"
        created = cfg.anchor_ms - (cfg.history_days + 100 - k * 37 + a) * DAY_MS
        users.append({
            "email": email,
            "id": user_id,
            "created_at": Stamp(created + rng.randint(0, DAY_MS), OFFSET),
            "role": ("admin", "manager", "reporting")[k % 3],
            "first_name": first,
            "last_name": last,
            "name": f"{first} {last}",
            "accepted": k != cfg.users_per_account - 1,
            "companies": member_of,
        })
    return users


def _tags(
    rng: random.Random, cfg: DataConfig, a: int, companies: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    tags = []
    n = cfg.tags_per_account
    for k in range(n):
        account_level = k % 3 == 0 or not companies
        company = None if account_level else companies[k % len(companies)]
        names = pools.TAG_NAMES_ACCOUNT if account_level else pools.TAG_NAMES_COMPANY
        tags.append({
            "id": 4_200_000 + a * 10_000 + k,
            "name": names[(k // 3 if account_level else k) % len(names)],
            "tag_level": "account" if account_level else "company",
            "color": pools.TAG_COLORS[k % len(pools.TAG_COLORS)],
            "background_color": pools.TAG_COLORS[(k + 3) % len(pools.TAG_COLORS)],
            "company_id": company["id"] if company else None,
            "status": "disabled" if n > 1 and k == n - 1 else "enabled",
            "created_at": Stamp(
                cfg.anchor_ms - rng.randint(30, cfg.history_days) * DAY_MS, OFFSET
            ),
        })
    return tags


def _trackers(
    rng: random.Random, cfg: DataConfig, a: int, companies: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    trackers = []
    n = cfg.trackers_per_account
    active = [c for c in companies if c["status"] == "active"] or companies
    disabled_companies = [c for c in companies if c["status"] == "disabled"]
    for k in range(n):
        disabled = n > 1 and k == n - 1
        in_disabled = disabled and disabled_companies
        company = disabled_companies[0] if in_disabled else active[(k // 2) % len(active)]
        session = k % 4 == 1
        destination = e164(rng, "404")
        numbers = [e164(rng, "470") for _ in range(4 if session else 1)]
        created = cfg.anchor_ms - (cfg.history_days + rng.randint(1, 60)) * DAY_MS
        trackers.append({
            "id": masked_id("TRK", cfg.seed, a, k),
            "name": pools.TRACKER_NAMES[k % 4] + ("" if k < 4 else f" {k}"),
            "type": "session" if session else "source",
            "status": "disabled" if disabled else "active",
            "destination_number": destination,
            "tracking_numbers": numbers,
            "whisper_message": rng.choice((None, "Call from {{source}}", "Llamada de Google")),
            "sms_enabled": not disabled,
            "sms_supported": True,
            "company": {"id": company["id"], "name": company["name"]},
            "call_flow": _advanced_flow(rng, destination) if session else {
                "type": "basic",
                "recording_enabled": True,
                "destination_number": destination,
                "greeting_text": rng.choice((None, "This call may be recorded.")),
                "greeting_recording_url": None,
            },
            "source": _tracker_source(k, session),
            "created_at": Stamp(created, UTC_S),
            "disabled_at": Stamp(cfg.anchor_ms - 5 * DAY_MS, UTC_S) if disabled else None,
            "campaign_name": rng.choice((None, "Spring Promo 🌸", "Brand")),
            "swap_targets": [formatted_phone(destination)] if session else [],
            # Texts to an SMS-enabled tracker are answered by a message flow (no rng: draws unchanged).
            "message_flow": {
                "id": masked_id("MFL", cfg.seed, a, k), "name": "After-hours auto-reply",
            } if not disabled and k % 3 == 0 else None,
        })
    return trackers


def _advanced_flow(rng: random.Random, destination: str) -> dict[str, Any]:
    return {
        "type": "advanced",
        "recording_enabled": rng.random() < 0.8,
        "initial_step_id": 1001,
        "steps": [
            {"id": 1001, "type": "menu", "prompt": "Press 1 for sales, 2 for service",
             "options": [{"digit": "1", "step_id": 1002}, {"digit": "2", "step_id": 1003}]},
            {"id": 1002, "type": "dial", "destination_number": destination},
            {"id": 1003, "type": "voicemail", "greeting_text": "Leave a message après le bip"},
        ],
    }


def _tracker_source(k: int, session: bool) -> dict[str, Any]:
    if session:
        return {
            "google": ["paid", "organic"], "bing": ["paid"], "yahoo": [],
            "landing": ["spring-promo"], "referrer": ["yelp.com"],
            "type": "direct", "inverted": False,
        }
    return (
        {"type": "search", "search_engine": "google", "search_type": "paid"},
        {"type": "all"},
        {"type": "offline"},
        {"type": "landing_url", "landing": "https://www.example.com/old-promo"},
        {"type": "google_my_business"},
        {"type": "facebook_all"},
    )[k % 6]


def _form_submission(
    rng: random.Random, cfg: DataConfig, a: int, k: int, s: dict[str, list[dict[str, Any]]]
) -> dict[str, Any]:
    company = rng.choice(s["companies"])
    name = rng.choice(pools.CUSTOMER_NAMES)
    phone = customer_phone(rng, "404")
    email = customer_email(rng, name)
    source = rng.choice(pools.SESSION_SOURCES)
    submitted = recent_skewed_ms(rng, cfg)
    anonymous = rng.random() < 0.15
    person_id = "anonymous" if anonymous else masked_id("PER", cfg.seed, a, "form", k)
    company_tags = [t["name"] for t in s["tags"] if t["company_id"] in (None, company["id"])]
    lead_status = rng.choice((None, "good_lead", "not_a_lead", "previously_marked_good_lead"))
    form_data: dict[str, Any] = {
        "your-name": name,
        "email": email,
        "phone": phone,
        "message": rng.choice(pools.FORM_MESSAGES),
    }
    extra = rng.choice((
        {"consent[]": ["yes"]},
        {"field_7": None, "Wie haben Sie uns gefunden?": "Google"},
        {"budget": 5000, "nested": {"a": 1, "b": [1, 2]}},
        {},
    ))
    form_data.update(extra)
    return {
        "id": masked_id("FOR", cfg.seed, a, k),
        "company_id": company["id"],
        "person_id": person_id,
        "form_data": form_data,
        "form_url": rng.choice(("https://www.example.com/contact", "https://example.com/quote?x=1")),
        "landing_page_url": "https://www.example.com/?utm_source=" + (source[4] or "direct"),
        "referrer": rng.choice(("google_paid", "direct", "facebook", "google_organic")),
        "referring_url": rng.choice((None, "https://www.google.com/", "https://m.facebook.com/")),
        "submitted_at": Stamp(submitted, UTC_MS),
        "first_form": rng.random() < 0.6,
        "customer_phone_number": phone,
        "customer_name": name,
        "customer_email": email,
        "formatted_customer_phone_number": formatted_phone(phone),
        "formatted_customer_name": name.title() if name else "Unknown",
        "source": source[0],
        "keywords": source[3],
        "campaign": source[2],
        "medium": source[1],
        "company_name": company["name"],
        "lead_status": lead_status,
        "value": rng.choice((None, 0, 150, 2500)),
        "note": rng.choice(pools.NOTES) or None,
        "tags": rng.sample(company_tags, k=min(len(company_tags), rng.randint(0, 2))),
        "utm_source": source[4],
        "utm_medium": source[5],
        "utm_campaign": source[2],
        "form_name": rng.choice(("Contact Us", "Get a Quote ✉️", None)),
        "timeline_url": None if anonymous else
        f"https://app.callrail.com/leads/{person_id}/timeline",
        "milestones": milestones(rng, submitted, empty=rng.random() < 0.3),
    }


def _conversation(
    rng: random.Random, cfg: DataConfig, a: int, k: int, s: dict[str, list[dict[str, Any]]]
) -> dict[str, Any]:
    tracker = rng.choice(s["trackers"])
    company = next(c for c in s["companies"] if c["id"] == tracker["company"]["id"])
    current = rng.choice(s["trackers"]) if rng.random() < 0.2 else tracker
    name = rng.choice(pools.CUSTOMER_NAMES)
    phone = customer_phone(rng, "404")
    last = recent_skewed_ms(rng, cfg)
    messages = []
    for m in range(rng.randint(0, 2)):
        mms = rng.random() < 0.2
        messages.append({
            "direction": rng.choice(("incoming", "outgoing")),
            "content": rng.choice(pools.TEXT_MESSAGES),
            "created_at": Stamp(last - m * rng.randint(60_000, 3 * DAY_MS), UTC_MS),
            "type": "mms" if mms else "sms",
            "media_urls": [f"https://app.callrail.com/mms/{short_id(cfg.seed, a, k, m, length=12)}"]
            if mms else [],
        })
    return {
        "id": short_id(cfg.seed, a, "conversation", k),
        "company_id": company["id"],
        "initial_tracker_id": tracker["id"],
        "current_tracker_id": current["id"],
        "customer_name": name,
        "customer_phone_number": phone,
        "initial_tracking_number": tracker["tracking_numbers"][0],
        "current_tracking_number": current["tracking_numbers"][0],
        "last_message_at": Stamp(last, UTC_MS if k % 3 else UTC_S),
        "state": "archived" if rng.random() < 0.2 else "active",
        "company_time_zone": company["time_zone"],
        "formatted_customer_phone_number": formatted_phone(phone),
        "formatted_initial_tracking_number": formatted_phone(tracker["tracking_numbers"][0]),
        "formatted_current_tracking_number": formatted_phone(current["tracking_numbers"][0]),
        "formatted_customer_name": name or formatted_phone(phone),
        "recent_messages": messages,
        "lead_status": rng.choice((None, "previously_marked_good_lead")),
        "source": rng.choice(("Google Paid", "Direct", None)),
    }


def _sms_threads(
    rng: random.Random, cfg: DataConfig, a: int, s: dict[str, list[dict[str, Any]]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """SMS threads (callrail-api.md §6) and their messages, each message stored with its thread id."""
    threads: list[dict[str, Any]] = []
    messages: list[dict[str, Any]] = []
    for k in range(cfg.sms_threads_per_account):
        thread_id = short_id(cfg.seed, a, "sms-thread", k)
        tracker = rng.choice(s["trackers"])
        company = next(c for c in s["companies"] if c["id"] == tracker["company"]["id"])
        current = rng.choice(s["trackers"]) if rng.random() < 0.2 else tracker
        name = rng.choice(pools.CUSTOMER_NAMES)
        phone = customer_phone(rng, "404")
        last = recent_skewed_ms(rng, cfg)
        count = rng.randint(1, 5)
        for m in range(count):
            messages.append(sms_message(
                masked_id("SCI", cfg.seed, a, k, m), thread_id,
                last - (count - 1 - m) * rng.randint(60_000, DAY_MS), rng,
            ))
        threads.append({
            "id": thread_id,
            "notes": rng.choice((None, "Asked for a quote", "Call back after 5 pm")),
            "tags": rng.sample(["Lead", "Follow up", "Quote sent"], rng.randint(0, 2)),
            "value": rng.choice((None, 0, 150, 99.5)),
            "lead_qualification": rng.choice((None, "good_lead", "not_a_lead")),
            "company_id": company["id"],
            "initial_tracker_id": tracker["id"],
            "current_tracker_id": current["id"],
            "customer_name": name,
            "customer_phone_number": phone,
            "initial_tracking_number": tracker["tracking_numbers"][0],
            "current_tracking_number": current["tracking_numbers"][0],
            "state": "archived" if rng.random() < 0.2 else "active",
            "company_time_zone": company["time_zone"],
            "last_message_at": Stamp(last, UTC_MS if k % 3 else UTC_S),
            "formatted_customer_phone_number": formatted_phone(phone),
            "formatted_initial_tracking_number": formatted_phone(tracker["tracking_numbers"][0]),
            "formatted_current_tracking_number": formatted_phone(current["tracking_numbers"][0]),
            "formatted_customer_name": name or formatted_phone(phone),
        })
    return threads, messages


def sms_message(
    message_id: str, thread_id: str, at_ms: int, rng: random.Random, content: str | None = None
) -> dict[str, Any]:
    """One message of an SMS thread as the thread endpoint lists it (plus its stored thread id)."""
    mms = rng.random() < 0.2
    failed = rng.random() < 0.1
    return {
        "id": message_id,
        "content": content if content is not None else rng.choice(pools.TEXT_MESSAGES),
        "created_at": Stamp(at_ms, UTC_MS),
        "status": "error" if failed else rng.choice(("sent", "delivered", None)),
        "direction": rng.choice(("incoming", "outgoing")),
        "message_type": "mms" if mms else "sms",
        "media_urls": [f"https://app.callrail.com/mms/{message_id[-12:]}"] if mms else [],
        "thread_id": thread_id,
        "error": "Carrier rejected the message" if failed else None,
    }


def _lead(
    rng: random.Random, cfg: DataConfig, a: int, k: int, companies: list[dict[str, Any]]
) -> dict[str, Any]:
    company = rng.choice(companies)
    name = rng.choice(pools.CUSTOMER_NAMES)
    return {
        "id": masked_id("PER", cfg.seed, a, "lead", k),
        "name": name or None,
        "phone": customer_phone(rng, "404"),
        "email": customer_email(rng, name),
        "created_at": Stamp(recent_skewed_ms(rng, cfg), UTC_MS),
        "company_id": company["id"],
        "company_name": company["name"],
    }


def _integrations(
    rng: random.Random, cfg: DataConfig, a: int, companies: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    integrations = []
    for c, company in enumerate(companies):
        for k in range(cfg.integrations_per_company):
            kind = pools.INTEGRATION_TYPES[(c + k) % len(pools.INTEGRATION_TYPES)]
            integrations.append({
                "id": 81_000 + a * 10_000 + c * 100 + k,
                "type": kind,
                "state": ("active", "disabled", "pending", "failed")[(c + k) % 4],
                "config": _integration_config(rng, kind),
                "signing_key": rng.randbytes(16).hex(),
                "company_id": company["id"],
            })
    return integrations


def _integration_config(rng: random.Random, kind: str) -> dict[str, Any]:
    if kind == "Slack":
        return {
            "url": "https://hooks.slack.com/services/T000/B000/XXXX",
            "channel": "#leads-🔥",
            "keywords": "plumber",
        }
    if kind == "Webhooks":
        return {
            "pre_call_webhook": ["https://example.com/hooks/pre?token=" + rng.randbytes(8).hex()],
            "post_call_webhook": ["https://example.com/hooks/post"],
            "token": rng.randbytes(12).hex(),
        }
    if kind == "GoogleAnalytics":
        return {"tracking_id": "G-ABC123XYZ", "api_secret": "sk_ga_" + rng.randbytes(6).hex()}
    return {
        "url": "https://crm.example.com/api",
        "api_key": "sk_live_abc",
        "keywords": "plumber",
        "token": rng.randbytes(12).hex(),
    }


def _notifications(
    rng: random.Random, cfg: DataConfig, a: int, s: dict[str, list[dict[str, Any]]]
) -> list[dict[str, Any]]:
    users, companies, trackers = s["users"], s["companies"], s["trackers"]
    notifications = []
    for k in range(cfg.notifications_per_account):
        email_only = k == 2
        user = users[k % len(users)] if users and not email_only else None
        company = companies[k % len(companies)] if k % 2 and companies else None
        tracker = trackers[0] if k == 1 and trackers else None
        notifications.append({
            "id": 55_000 + a * 10_000 + k,
            "user_id": user["id"] if user else None,
            "email": "alerts@example.com" if email_only else None,
            "alert_type": ("all", "first_call", "missed_and_vm", "vm_only")[k % 4],
            "call_enabled": True,
            "company_id": company["id"] if company else None,
            "name": user["name"] if user else "Alerts inbox",
            "send_desktop": k % 2 == 0,
            "send_email": True,
            "send_push": k == 0,
            "sms_enabled": rng.random() < 0.3,
            "tracker_id": tracker["id"] if tracker else None,
            "company_name": company["name"] if company else None,
            "tracker_name": tracker["name"] if tracker else None,
            "agent_id": user["id"] if user else None,
            "agent_name": user["name"] if user else None,
        })
    return notifications


def _caller_ids(
    rng: random.Random, cfg: DataConfig, a: int, companies: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    caller_ids = []
    for c, company in enumerate(companies):
        for k in range(cfg.caller_ids_per_company):
            created = cfg.anchor_ms - rng.randint(10, 400) * DAY_MS
            caller_ids.append({
                "id": 330_000 + a * 10_000 + c * 100 + k,
                "phone_number": e164(rng, "404"),
                "name": ("Front desk", "Dr. Müller's cell 📱")[k % 2],
                "company_id": company["id"],
                "verified": k == 0,
                "created_at": Stamp(created, UTC_MS),
                "validation_code": f"{rng.randint(0, 999999):06d}",
            })
    return caller_ids
