"""Awkward but realistic values the data set draws from: unicode, quotes, emoji, nulls, bad phones."""

# ruff: noqa: RUF001 - en dashes and full-width punctuation are part of the test data

from __future__ import annotations

ACCOUNT_NAMES = (
    "Acme Home Services — Müller & Söhne",
    "北京 Dental Partners 🦷",
    "O'Brien \"Quick\" Plumbing",
    "Zoë's Agency",
)

COMPANY_NAMES = (
    "Acme Plumbing & Heating",
    "Café Zoë — Brooklyn",
    "北京 Dental Group",
    "Müller Roofing GmbH",
    "🚀 Rocket Realty",
    "O'Brien Law, LLC",
    "Señor Frog's HVAC",
    "Ærø Boat Rentals",
)

COMPANY_TIME_ZONES = (
    "America/New_York",
    "America/Los_Angeles",
    "America/Chicago",
    "Europe/London",
    "America/Phoenix",
)

# (first_name, last_name)
USER_NAMES = (
    ("José", "Müller"),
    ("Ava", "Nguyễn"),
    ("Chloé", "Dupont 🦄"),
    ("Kiyoshi", "山田"),
    ("Liam", "O'Connor"),
    ("Sørina", "Lee"),
    ("Björk", "Guðmundsdóttir"),
    ("Dmitri", "Волков"),
)

CUSTOMER_NAMES = (
    "José Müller",
    "北京 客户",
    "Zoë O'Brien 🎉",
    "WIRELESS CALLER",
    "Ana María Núñez",
    "ÅSA LINDSTRÖM",
    "Nguyễn Văn An",
    "محمد علي",
    "Dmitri Волков",
    "",
    "John Smith",
    'Mary-Kate "MK" Olsen',
    "Renée Zellweger-Lopez",
    "TOLL FREE CALLER",
    "😀😀😀",
    "Bobby Tables'); DROP TABLE calls;--",
    "Jean-Luc Picard",
    "Kiyoshi 山田",
    "GOOGLE LLC",
    "back\\slash Smith",
    "Tab\tSeparated",
    "Émilie Ø. Kjær",
    "SPAM RISK",
    "Line\nBreak",
)

# (city, state, country, area code)
PLACES = (
    ("Atlanta", "GA", "US", "404"),
    ("Brooklyn", "NY", "US", "718"),
    ("San José", "CA", "US", "408"),
    ("Montréal", "QC", "CA", "514"),
    ("Chicago", "IL", "US", "312"),
    ("Austin", "TX", "US", "512"),
    ("Seattle", "WA", "US", "206"),
    ("Miami", "FL", "US", "305"),
    ("Phoenix", "AZ", "US", "602"),
    ("Toronto", "ON", "CA", "416"),
    ("", "", "US", "800"),
    ("Coeur d'Alene", "ID", "US", "208"),
)

MALFORMED_PHONES = ("404-555-0199", "+1404555", "Restricted", "+1 (718) 555-0123", "")
MALFORMED_EMAILS = ("jose@@example.com", "n/a", "zoë@例え.jp", "missing-at.example.com")

SESSION_SOURCES = (
    # (source, medium, campaign, keywords, utm_source, utm_medium, referrer_domain, device_type)
    ("Google Paid", "CPC", "Spring Promo 🌸", "emergency plumber", "google", "cpc",
     "www.google.com", "mobile"),
    ("Google Organic", "Organic", None, None, None, None, "www.google.com", "desktop"),
    ("Facebook Paid", "Paid Social", "Lookalike – Müller", None, "facebook", "paid_social",
     "m.facebook.com", "mobile"),
    ("Bing Paid", "CPC", "Brand", "acme plumbing", "bing", "cpc", "www.bing.com", "desktop"),
    ("Direct", "direct", None, None, None, None, None, "desktop"),
    ("Yelp", "Referral", None, None, "yelp", "referral", "www.yelp.com", "mobile"),
)

OFFLINE_SOURCES = (
    ("Billboard I-85", "offline", "Billboard", None),
    ("Google My Business", "Organic", None, None),
    ("Direct", "direct", None, None),
    ("Radio – WXYZ 101.5", "offline", "Radio Q3", None),
)

CALL_SUMMARIES = (
    "Caller asked for an estimate to replace a water heater; agent booked Tuesday 9–11am.",
    "Le client a demandé un devis. Rappel prévu demain.",
    "Customer complained about a leaking pipe 🚿 and asked for emergency service.",
    "Short call; wrong number.",
)

TRANSCRIPTIONS = (
    "Agent: Thanks for calling Acme, this is José. Customer: Hi, my water heater is leaking...",
    "Agent: Hola, ¿en qué puedo ayudarle? Customer: Necesito un presupuesto.",
    "Customer: 你好，我想预约。 Agent: Sure, what day works?",
)

NOTES = (
    "Called back — left VM",
    "Wants quote for \"full\" re-pipe; budget $5k",
    "Émilie prefers SMS 📱",
    "",
)

FORM_MESSAGES = (
    "Need a quote ASAP 🚿",
    "Bonjour, pouvez-vous m'appeler?",
    "<script>alert('x')</script>",
    "Line one\nLine two",
    "",
)

TEXT_MESSAGES = (
    "Hi! Is this still available?",
    "Yes — we can come by at 3pm 👍",
    "STOP",
    "¿Hablan español?",
    "Thanks, see you then.",
    "Photo of the leak attached",
)

TAG_NAMES_ACCOUNT = ("Existing Customer", "Spam Risk ⚠️", "VIP")
TAG_NAMES_COMPANY = ("New Lead 🔥", "Estimate", "Follow-up", "Réclamation", "Booked")
TAG_COLORS = ("gray1", "red1", "orange1", "yellow1", "green1", "blue1", "purple1", "pink1")

INTEGRATION_TYPES = ("Webhooks", "Slack", "Custom", "GoogleAnalytics")

TRACKER_NAMES = ("Google Ads – Main", "Website Pool 🌐", "Billboard I-85", "Old Landing Page")

NO_VALUE = "–"  # formatted_value of a call without a value (callrail-api.md §5.2)
