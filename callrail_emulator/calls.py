"""Calls as a pure function of (seed, account, index), served without holding them in memory.

Call `i` of an account starts at `CallTimeline.time_of(i)`, strictly increasing in `i`, so a
date window is an index range found by arithmetic. Its tracker (hence company) repeats with a
fixed period, so a company/tracker filter is arithmetic too. A page is rendered on demand as
JSON text assembled from pre-encoded fragments, which is what makes serving a million calls
fast; the few mutated calls (edits, spam, additions) live in `AccountCalls`' small overlays.
"""

from __future__ import annotations

import json
import math
import random
import time
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from callrail_emulator import pools
from callrail_emulator.dataset import AccountData, formatted_phone, milestones
from callrail_emulator.fields import DEFAULT_FIELDS, OPTIONAL_FIELDS, SINGLE_CALL_ONLY_FIELDS
from callrail_emulator.ids import CallIds
from callrail_emulator.render import UTC_MS, Stamp, render_value
from callrail_emulator.timeutil import from_ms, iso_utc_ms

PERIOD = 97  # tracker assignment repeats every PERIOD calls
# CallRail's webhook-shaped call bodies carry "" where its reference documents an object or a
# list; so does one call in 32 here (8 hash values in 256), in these fields.
BLANKED_FIELDS = ("custom", "keywords_spotted", "speaker_percent", "keypad_entries", "waveforms")
_BLANK_IN_256 = 8
_LINEAR = 0.1  # share of the linear term in the start-time curve; bounds the minimum spacing
_MAX_JITTER_MS = 900_000

CALL_FIELDS: tuple[str, ...] = DEFAULT_FIELDS["calls"] + OPTIONAL_FIELDS["calls"]
ALL_CALL_FIELDS: tuple[str, ...] = CALL_FIELDS + SINGLE_CALL_ONLY_FIELDS


_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _blanked(pairs: dict[str, str]) -> dict[str, str]:
    """The same `"name":value` pairs with the BLANKED_FIELDS among them sent as ""."""
    return {name: f'"{name}":""' if name in BLANKED_FIELDS else pair for name, pair in pairs.items()}


def _keypad_list(entries: dict[str, Any] | None) -> list[dict[str, Any]] | None:
    """Keypad entries as the list of {name, value} pairs CallRail also sends (one step more)."""
    if entries is None:
        return None
    return [entries, {"name": "Enter your zip code", "value": "30301"}]


class CallTimeline:
    """Start times: dense towards now, strictly increasing, invertible by arithmetic."""

    def __init__(self, count: int, end_ms: int, history_ms: int, salt: int) -> None:
        self.count = count
        self.end_ms = end_ms
        self.history_ms = history_ms
        self.salt = salt
        spacing = _LINEAR * history_ms / max(count, 1)
        if count > 1 and spacing < 4:
            raise ValueError("too many calls for history_days: calls would share a millisecond")
        self.jitter = max(0, min(int(spacing // 2) - 1, _MAX_JITTER_MS))

    def time_of(self, i: int) -> int:
        u = (self.count - 1 - i) / self.count
        base = self.end_ms - self.history_ms * (_LINEAR * u + (1 - _LINEAR) * u * u)
        if not self.jitter:
            return int(base)
        return int(base) - (((i * 2654435761) ^ self.salt) & 0xFFFFFFFF) % (self.jitter + 1)

    def first_at_or_after(self, t_ms: int) -> int:
        """The smallest index whose start time is >= t_ms (count if none)."""
        n = self.count
        if n == 0 or t_ms > self.time_of(n - 1):
            return n
        if t_ms <= self.time_of(0):
            return 0
        age = max(0.0, (self.end_ms - t_ms) / self.history_ms)
        a, b = 1 - _LINEAR, _LINEAR
        u = (-b + math.sqrt(b * b + 4 * a * age)) / (2 * a)
        i = min(max(round(n - 1 - u * n), 0), n - 1)
        while i > 0 and self.time_of(i - 1) >= t_ms:
            i -= 1
        while i < n and self.time_of(i) < t_ms:
            i += 1
        return i


class MatchSet:
    """The indices whose residue modulo PERIOD is in `residues` (a company/tracker filter)."""

    def __init__(self, residues: Sequence[int]) -> None:
        self.residues = sorted(residues)
        self.members = frozenset(self.residues)
        self.size = len(self.residues)

    def has(self, i: int) -> bool:
        return i % PERIOD in self.members

    def count_below(self, x: int) -> int:
        return (x // PERIOD) * self.size + bisect_left(self.residues, x % PERIOD)

    def count(self, lo: int, hi: int) -> int:
        return max(0, self.count_below(hi) - self.count_below(lo)) if self.size else 0

    def kth(self, k: int) -> int:
        q, r = divmod(k, self.size)
        return q * PERIOD + self.residues[r]


class _Plan:
    """Pre-joined JSON fragments and a compiled emitter for one selection of fields.

    A call object is `{` + the per-call fields (id first) + the fragments of its variants, each
    fragment starting with a comma + `}`.
    """

    def __init__(self, factory: CallFactory, selected: frozenset[str]) -> None:
        self.selected = selected

        def join(variant: dict[str, str]) -> bytes:
            return "".join("," + pair for name, pair in variant.items() if name in selected).encode()

        self.tracker = [join(v) for v in factory.tracker_pairs]
        self.outcome = [join(v) for v in factory.outcome_pairs]
        self.customer = [join(v) for v in factory.customer_pairs]
        # Indexed first by `blank` (0 or 1); the extras by shape: 0 as documented, 1 keypad
        # entries as a list of pairs, 2 blank.
        self.attr = [[[join(v) for v in per] for per in pairs] for pairs in factory.attr_pairs]
        self.ci = [[join(v) for v in pairs] for pairs in factory.ci_pairs]
        self.silent_ci = [join(v) for v in factory.silent_ci_pairs]
        self.lead = [[join(v) for v in per] for per in factory.lead_pairs]
        self.extra = [[join(v) for v in pairs] for pairs in factory.extra_pairs]
        self.created_at = "created_at" in selected
        self.good_lead_call_time = "good_lead_call_time" in selected
        self.milestones = "milestones" in selected
        self.transcript = "conversational_transcript" in selected
        self.name_or_phone = "formatted_customer_name_or_phone_number" in selected
        # The ASCII per-call fields are joined by one compiled f-string: about three times
        # faster than str.format, and the serving rate depends on it. Only names from
        # CallFactory.DYNAMIC (our own constants) reach the source text.
        params = ", ".join(f"d{k}" for k in range(len(CallFactory.DYNAMIC)))
        pairs = ",".join(
            f'"{name}":{{d{k}}}' for k, name in enumerate(CallFactory.DYNAMIC) if name in selected
        )
        self.emit = eval(f"lambda {params}: f'{{{{{pairs}'")


class CallFactory:
    """Renders call `i` of one account."""

    DYNAMIC = (
        "id", "start_time", "created_at", "customer_phone_number",
        "formatted_customer_phone_number", "business_phone_number",
        "formatted_business_phone_number", "duration", "formatted_duration", "recording",
        "recording_duration", "recording_player",
        "waveforms", "agent_email", "first_call", "prior_calls", "total_calls", "person_id",
        "timeline_url", "good_lead_call_id", "good_lead_call_time", "session_uuid",
        "integration_data",
    )
    # Per-call fields appended as UTF-8 pieces: large or non-ASCII, so kept out of the str.
    BYTES_DYNAMIC = (
        "formatted_customer_name_or_phone_number", "milestones", "conversational_transcript",
    )
    # (weight, direction, answered, voicemail, call_type, formatted_call_type)
    OUTCOMES = (
        (58, "inbound", True, False, "answered", "Answered Call"),
        (12, "inbound", False, False, "missed", "Missed Call"),
        (9, "inbound", True, True, "voicemail", "Voicemail"),
        (3, "inbound", True, True, "voicemail_transcription", "Voicemail (Transcribed)"),
        (3, "inbound", False, False, "abandonded", "Abandoned Call"),
        (12, "outbound", True, False, "outbound", "Outbound Call"),
        (3, "outbound", False, False, "outbound", "Outbound Call"),
    )

    def __init__(
        self, seed: int, account: AccountData, count: int, end_ms: int, history_ms: int
    ) -> None:
        self.account_id = account.id
        self.ids = CallIds(seed, account.index)
        self.timeline = CallTimeline(count, end_ms, history_ms, salt=seed * 7919 + account.index)
        rng = random.Random(f"callrail-emulator:calls:{seed}:{account.index}")
        trackers = account.streams["trackers"]
        companies = {c["id"]: c for c in account.streams["companies"]}
        if not trackers:
            raise ValueError("calls need at least one tracker per account")
        self.tracker_ids = [t["id"] for t in trackers]
        self.tracker_company = [t["company"]["id"] for t in trackers]
        self.pattern = self._pattern(rng, len(trackers))
        self._session = [t["type"] == "session" for t in trackers]
        self._destination = [t["destination_number"] for t in trackers]
        self.tracker_pairs = [self._tracker_facet(t, companies) for t in trackers]
        self._outcome_table = [k for k, o in enumerate(self.OUTCOMES) for _ in range(o[0])]
        self._outcome_flags = [(o[2], o[3]) for o in self.OUTCOMES]
        self._recording_prefix = f"https://api.callrail.com/v3/a/{account.id}/calls/"
        self._customer_count = len(pools.PLACES) * len(pools.CUSTOMER_NAMES)
        self.outcome_pairs = [self._pairs({
            "direction": o[1], "answered": o[2], "voicemail": o[3], "call_type": o[4],
            "formatted_call_type": o[5],
        }) for o in self.OUTCOMES]
        self._customers = [
            (name, place) for place in pools.PLACES for name in pools.CUSTOMER_NAMES
        ]
        self.customer_pairs = [self._customer_facet(n, p) for n, p in self._customers]
        self._areas = [p[3] for _n, p in self._customers]
        self._name_or_phone = [
            f',"formatted_customer_name_or_phone_number":{_encode(n.title())}'.encode() if n
            else b"" for n, _p in self._customers
        ]
        self._destination_json = [
            (f'"{d}"', _encode(formatted_phone(d))) for d in self._destination
        ]
        attr_pairs = [self._attr_facets(rng, session) for session in self._session]
        self.attr_pairs = [attr_pairs, [[_blanked(v) for v in per] for per in attr_pairs]]
        ci_pairs = [self._pairs(v) for v in self._ci_variants()]
        self.ci_pairs = [ci_pairs, [_blanked(v) for v in ci_pairs]]
        self._ci_count = len(ci_pairs)
        silent_ci_pairs = self._pairs(self._silent_ci())
        self.silent_ci_pairs = [silent_ci_pairs, _blanked(silent_ci_pairs)]
        users = account.streams["users"]
        self._agents = [_encode(u["email"]) for u in users] or ["null"]
        self._agent_count = len(self._agents)
        tags = account.streams["tags"]
        self._lead_variants = [self._lead_variants_for(rng, t, tags) for t in trackers]
        self.lead_pairs = [[self._pairs(v) for v, _ in per] for per in self._lead_variants]
        self._lead_status = [[status for _, status in per] for per in self._lead_variants]
        documented = self._extra_variants()
        listed = [{**v, "keypad_entries": _keypad_list(v["keypad_entries"])} for v in documented]
        self.extra_pairs = [
            [self._pairs(v) for v in documented],
            [self._pairs(v) for v in listed],
            [_blanked(self._pairs(v)) for v in documented],
        ]
        self._milestone_parts = [
            [self._milestone_template(rng) for _ in range(6)] if s else [
                (b',"milestones":' + _encode(milestones(rng, 0, empty=True)).encode(),)
            ]
            for s in self._session
        ]
        self._plans: dict[frozenset[str], _Plan] = {}

    # --- data set construction -------------------------------------------------------------

    @staticmethod
    def _pattern(rng: random.Random, trackers: int) -> list[int]:
        weights = [max(1, 8 - 2 * k) for k in range(trackers)]
        pattern = list(range(min(trackers, PERIOD)))
        pattern += rng.choices(range(trackers), weights=weights, k=PERIOD - len(pattern))
        rng.shuffle(pattern)
        return pattern

    @staticmethod
    def _pairs(values: dict[str, Any]) -> dict[str, str]:
        return {name: f'"{name}":{_encode(v)}' for name, v in values.items()}

    def _tracker_facet(self, t: dict[str, Any], companies: dict[str, Any]) -> dict[str, str]:
        company = companies.get(t["company"]["id"], {})
        number = t["tracking_numbers"][0]
        return self._pairs({
            "tracker_id": t["id"],
            "source_name": t["name"],
            "tracking_phone_number": number,
            "formatted_tracking_phone_number": formatted_phone(number),
            "company_id": company.get("id"),
            "company_name": company.get("name"),
            "company_time_zone": company.get("time_zone"),
        })

    def _customer_facet(self, name: str, place: tuple[str, str, str, str]) -> dict[str, str]:
        city, state, country, _area = place
        return self._pairs({
            "customer_name": name,
            "customer_city": city,
            "customer_state": state,
            "customer_country": country,
            "formatted_customer_location": f"{city}, {state}" if city else country,
            "formatted_customer_name": name.title() if name else "Unknown Caller",
        })

    def _attr_facets(self, rng: random.Random, session: bool) -> list[dict[str, str]]:
        variants = []
        if session:
            for src in pools.SESSION_SOURCES:
                name, medium, campaign, keywords, utm_source, utm_medium, referrer, device = src
                landing = "https://www.example.com/?utm_source=" + (utm_source or "direct")
                variants.append(self._pairs({
                    "source": name, "medium": medium, "campaign": campaign,
                    "keywords": keywords, "utm_source": utm_source, "utm_medium": utm_medium,
                    "utm_campaign": campaign, "utm_content": rng.choice((None, "ad-2 ✨")),
                    "utm_term": keywords,
                    "gclid": "Cj0KCQ" + rng.randbytes(9).hex() if medium == "CPC" else None,
                    "fbclid": "IwAR" + rng.randbytes(8).hex() if utm_source == "facebook"
                    else None,
                    "msclkid": rng.randbytes(16).hex() if utm_source == "bing" else None,
                    "ga": f"GA1.2.{rng.randint(10**8, 10**9)}.{rng.randint(10**9, 2 * 10**9)}",
                    "landing_page_url": landing,
                    "last_requested_url": rng.choice((landing, "https://www.example.com/contact")),
                    "referrer_domain": referrer,
                    "referring_url": f"https://{referrer}/" if referrer else None,
                    "device_type": device,
                    "custom": rng.choice(({}, {"hubspotutk": rng.randbytes(8).hex()})),
                    "formatted_tracking_source": name,
                }))
        else:
            for name, medium, campaign, keywords in pools.OFFLINE_SOURCES:
                variants.append(self._pairs({
                    "source": name, "medium": medium, "campaign": campaign,
                    "keywords": keywords, "utm_source": None, "utm_medium": None,
                    "utm_campaign": None, "utm_content": None, "utm_term": None,
                    "gclid": None, "fbclid": None, "msclkid": None, "ga": None,
                    "landing_page_url": None, "last_requested_url": None,
                    "referrer_domain": None, "referring_url": None, "device_type": None,
                    "custom": {}, "formatted_tracking_source": name,
                }))
        return variants

    @staticmethod
    def _silent_ci() -> dict[str, Any]:
        return {
            "call_summary": None, "transcription": None, "sentiment": None,
            "call_highlights": [], "keywords_spotted": [], "speaker_percent": None,
            "lead_score": None, "lead_explanation": None,
        }

    def _ci_variants(self) -> list[dict[str, Any]]:
        variants = [self._silent_ci()]  # Premium CI missing: null, not an error (§2.4)
        for k, summary in enumerate(pools.CALL_SUMMARIES):
            agent = 35 + 9 * k
            variants.append({
                "call_summary": summary,
                "transcription": pools.TRANSCRIPTIONS[k % len(pools.TRANSCRIPTIONS)],
                "sentiment": ("positive", "neutral", "negative", None)[k % 4],
                "call_highlights": [["estimate", "emergency"], [], ["devis"], ["wrong number"]][k],
                "keywords_spotted": [
                    {"keyword": "plumber", "locations": [{"speaker": "agent", "start": 12.3}]}
                ] if k % 2 == 0 else [],
                "speaker_percent": (
                    {"agent": agent, "customer": 100 - agent} if k != 2 else
                    [{"speaker": "agent", "percent": agent},
                     {"speaker": "customer", "percent": 100 - agent}]
                ),
                "lead_score": ("very good", "good", "poor", "very poor")[k],
                "lead_explanation": "Caller requested a booking." if k == 0 else None,
            })
        return variants

    @staticmethod
    def _lead_variants_for(
        rng: random.Random, tracker: dict[str, Any], tags: list[dict[str, Any]]
    ) -> list[tuple[dict[str, Any], str | None]]:
        usable = [
            t for t in tags
            if t["status"] == "enabled" and t["company_id"] in (None, tracker["company"]["id"])
        ]
        variants: list[tuple[dict[str, Any], str | None]] = []
        statuses = [None] * 12 + ["good_lead"] * 3 + ["not_a_lead"] * 3
        statuses += ["previously_marked_good_lead"] * 2
        for k, status in enumerate(statuses):
            chosen = rng.sample(usable, k=min(len(usable), k % 3)) if k % 4 else []
            if k % 2:
                tag_value: list[Any] = [t["name"] for t in chosen]
            else:
                tag_value = [{"id": t["id"], "name": t["name"]} for t in chosen]
            value = rng.choice((None, None, 0, 150, 4200)) if status else None
            variants.append(({
                "lead_status": status,
                "note": (rng.choice(pools.NOTES) or None) if k % 3 == 0 else None,
                "tags": tag_value,
                "value": value,
                "formatted_value": f"${value:,.2f}" if value is not None else pools.NO_VALUE,
            }, status))
        return variants

    @staticmethod
    def _extra_variants() -> list[dict[str, Any]]:
        return [
            {"voice_assist_message": None, "keypad_entries": None, "zip_code": []},
            {"voice_assist_message": None,
             "keypad_entries": {"name": "Press 1 for sales, 2 for service", "value": "1"},
             "zip_code": []},
            {"voice_assist_message": None, "keypad_entries": None, "zip_code": ["30301"]},
            {"voice_assist_message": {
                "contents": {"reason": "Schedule service", "name": "José"},
                "overrides": {}, "recorded_at": None, "urgency": "high"},
             "keypad_entries": None, "zip_code": []},
        ]

    @staticmethod
    def _milestone_template(rng: random.Random) -> tuple[bytes, ...]:
        """`,"milestones":{…}` as UTF-8 split around its dates (first touch, call, call)."""
        first, call = -1_000_000_000_000, -2_000_000_000_000  # placeholders, replaced per call
        data = milestones(rng, call)
        data["first_touch"]["event_date"] = Stamp(first, UTC_MS)
        text = _encode(render_value(data, ZoneInfo("Etc/UTC")))
        head, rest = text.split(f'"{iso_utc_ms(first)}"')
        middle, *tail = rest.split(f'"{iso_utc_ms(call)}"')
        pieces = (',"milestones":' + head + '"', '"' + middle + '"', '"' + tail[0] + '"',
                  '"' + tail[1])
        return tuple(p.encode() for p in pieces)

    # --- rendering -------------------------------------------------------------------------

    def plan(self, fields: Iterable[str]) -> _Plan:
        selected = frozenset(fields)
        plan = self._plans.get(selected)
        if plan is None:
            plan = self._plans[selected] = _Plan(self, selected)
        return plan

    def slot(self, i: int) -> int:
        return self.pattern[i % PERIOD]

    def render(self, i: int, start_ms: int, tz: ZoneInfo, plan: _Plan) -> bytes:
        """Call `i` as UTF-8 JSON (the fields of `plan` only)."""
        parts: list[bytes] = []
        self.render_into(parts, i, start_ms, tz, plan)
        return b"".join(parts)

    def render_into(
        self, parts: list[bytes], i: int, start_ms: int, tz: ZoneInfo, plan: _Plan
    ) -> None:
        """Append the UTF-8 JSON pieces of call `i` to `parts` (joined once per page)."""
        hashed, hx, call_id = self.ids.draw(i)
        # Each choice reads its own hash bytes (hashed[20:30] also feeds the access key).
        outcome = self._outcome_table[hashed[12] % 100]
        answered, voicemail = self._outcome_flags[outcome]
        talked = answered and not voicemail
        c = (hashed[13] << 8 | hashed[14]) % self._customer_count
        slot = self.pattern[i % PERIOD]
        session = self._session[slot]
        phone_bits = int.from_bytes(hashed[15:19], "little") % 10_000_000
        if phone_bits % 37:
            area = self._areas[c]
            exchange, line = 200 + phone_bits % 800, phone_bits // 800 % 10000
            phone = f'"+1{area}{exchange}{line:04d}"'
            formatted = f'"{area}-{exchange}-{line:04d}"'
        else:
            phone = formatted = _MALFORMED_JSON[phone_bits % len(_MALFORMED_JSON)]
        dur_bits = (hashed[19] << 8 | hashed[20]) % 1800
        if talked:
            duration = 20 + dur_bits
        elif voicemail:
            duration = 5 + dur_bits % 115
        else:
            duration = dur_bits % 40
        prior_bits = hashed[21] & 63
        prior = 0 if prior_bits < 38 else prior_bits % 12 + 1
        a = hashed[22] & 63
        ci = hashed[23] % self._ci_count
        lv = hashed[24] % 20
        ev = hashed[25] & 15
        agent = hashed[26] % self._agent_count
        r = hashed[27] << 8 | hashed[28]
        blank = int(hashed[30] < _BLANK_IN_256)
        shape = 2 if blank else hashed[31] & 1
        if answered:
            rec_secs = max(1, duration - (r >> 2 & 7))
            recording = f'"{self._recording_prefix}{call_id}/recording.json"'
            recording_duration = f'"{rec_secs}"' if r >> 5 & 1 else rec_secs
            player = (
                f'"https://app.callrail.com/calls/{call_id}/recording?access_key={hx[40:60]}"'
            )
            waveforms = (
                f'["https://waveforms.callrail.com/{call_id}/agent.png",'
                f'"https://waveforms.callrail.com/{call_id}/customer.png"]'
            )
            business, formatted_business = self._destination_json[slot]
        else:
            recording = recording_duration = player = business = formatted_business = "null"
            waveforms = "[]"
        if blank:
            waveforms = '""'
        person = hx[8:40]
        lead_status = self._lead_status[slot][lv]
        good_ms = None
        if lead_status is None or lead_status == "not_a_lead":
            good_id: int | str = "null"
        elif lead_status == "good_lead":
            good_id, good_ms = 700_000_000 + i, start_ms
        else:
            good_id = 700_000_000 + max(0, i - 1 - prior_bits)
            good_ms = start_ms - (prior_bits + 1) * 86_400_000
        day, millis = divmod(start_ms, 86_400_000)
        clock = _time_of_day(millis)
        utc = tz.key in _UTC_NAMES
        start_text = f'"{_date_text(day)}{clock}+00:00"' if utc else f'"{local_iso(start_ms, tz)}"'
        good_time = created = "null"
        if plan.good_lead_call_time and good_ms is not None:
            good_time = f'"{local_iso(good_ms, tz)}"'
        if plan.created_at:
            created = start_text  # the record is created when the call starts
        head = plan.emit(
            f'"{call_id}"',
            start_text,
            created,
            phone,
            formatted,
            business,
            formatted_business,
            duration,
            f'"{duration // 60}m {duration % 60:02d}s"' if duration >= 60 else f'"{duration}s"',
            recording,
            recording_duration,
            player,
            waveforms,
            self._agents[agent] if talked else "null",
            "false" if prior else "true",
            prior,
            prior + 1 + (r & 3),
            f'"PER{person}"',
            f'"https://app.callrail.com/leads/PER{person}/timeline"',
            good_id,
            good_time,
            f'"{hx[:8]}-{hx[8:12]}-4{hx[13:16]}-a{hx[17:20]}-{hx[20:32]}"' if session else "null",
            _INTEGRATION_DATA,
        )
        attrs = plan.attr[blank][slot]
        # Bytes from here on: joining UTF-8 is a copy, joining str with emoji is not.
        parts.extend((
            head.encode(),
            plan.tracker[slot],
            plan.outcome[outcome],
            plan.customer[c],
            attrs[a % len(attrs)],
            plan.ci[blank][ci] if talked else plan.silent_ci[blank],
            plan.lead[slot][lv],
            plan.extra[shape][ev % len(plan.extra[shape])],
        ))
        if plan.name_or_phone:
            parts.append(self._name_or_phone[c] or _NAME_OR_PHONE + formatted.encode())
        if plan.milestones:
            choices = self._milestone_parts[slot]
            text = choices[a % len(choices)]
            if len(text) == 1:
                parts.append(text[0])
            else:
                call = f"{_date_text(day)}{clock}Z".encode()
                first = f"{_date_text(day - a % 30 - 1)}{clock}Z".encode()
                parts.extend((text[0], first, text[1], call, text[2], call, text[3]))
        if plan.transcript:
            parts.append(_TRANSCRIPT if talked else _NO_TRANSCRIPT)
        parts.append(b"}")

    def render_dict(self, i: int, start_ms: int, tz: ZoneInfo) -> dict[str, Any]:
        """Call `i` with every field (including the single-call-only ones) as a dict."""
        record: dict[str, Any] = json.loads(self.render(i, start_ms, tz, self.plan(ALL_CALL_FIELDS)))
        return record


_TRANSCRIPT = b',"conversational_transcript":' + _encode([
    {"speaker": "agent", "phrase": "Thanks for calling!", "start": 0.4},
    {"speaker": "customer", "phrase": "Hola, necesito ayuda 🙏", "start": 2.1},
]).encode()
_NO_TRANSCRIPT = b',"conversational_transcript":null'
_NAME_OR_PHONE = b',"formatted_customer_name_or_phone_number":'
_INTEGRATION_DATA = '[{"integration":"Webhooks","data":null}]'
_UTC_NAMES = frozenset({"Etc/UTC", "UTC", "Etc/Universal", "Universal", "Etc/Zulu", "Zulu"})
_BLOCK_MS = 900_000  # UTC offsets change only on quarter-hour boundaries
_offsets: dict[tuple[str, int], tuple[int, str]] = {}
_days: dict[int, str] = {}
_minutes: list[str] = [f"T{h:02d}:{m:02d}:" for h in range(24) for m in range(60)]
_MALFORMED_JSON = [_encode(p) for p in pools.MALFORMED_PHONES]


def _date_text(day: int) -> str:
    """`2026-03-01` for a day number since the epoch (cached: formatting dates is slow)."""
    text = _days.get(day)
    if text is None:
        if len(_days) > 10_000:
            _days.clear()
        text = _days[day] = time.strftime("%Y-%m-%d", time.gmtime(day * 86_400))
    return text


def _time_of_day(millis: int) -> str:
    """`T14:05:09.119` for milliseconds since midnight."""
    return f"{_minutes[millis // 60_000]}{millis // 1000 % 60:02d}.{millis % 1000:03d}"


def _clock_text(ms: int) -> str:
    day, millis = divmod(ms, 86_400_000)
    return _date_text(day) + _time_of_day(millis)


def utc_iso(ms: int) -> str:
    """`2026-03-01T14:05:09.119Z`, as timeutil.iso_utc_ms but faster."""
    return _clock_text(ms) + "Z"


def local_iso(ms: int, tz: ZoneInfo) -> str:
    """`2026-03-01T09:05:09.119-05:00`: the instant in `tz` with its offset."""
    key = (tz.key, ms // _BLOCK_MS)
    cached = _offsets.get(key)
    if cached is None:
        if len(_offsets) > 100_000:
            _offsets.clear()
        offset = from_ms(ms, tz).utcoffset() or timedelta(0)
        seconds = int(offset.total_seconds())
        sign = "-" if seconds < 0 else "+"
        hh, mm = divmod(abs(seconds) // 60, 60)
        cached = _offsets[key] = (seconds * 1000, f"{sign}{hh:02d}:{mm:02d}")
    return _clock_text(ms + cached[0]) + cached[1]


class AccountCalls:
    """The calls one account currently holds: generated calls plus small mutation overlays."""

    def __init__(self, factory: CallFactory) -> None:
        self.factory = factory
        self.edits: dict[int, dict[str, Any]] = {}
        self.overrides: dict[int, dict[str, Any]] = {}
        self.spam: set[int] = set()
        self.added: list[tuple[int, int]] = []  # (start_ms, index), sorted

    @property
    def next_index(self) -> int:
        return self.factory.timeline.count + len(self.added)

    def start_of(self, i: int) -> int | None:
        if i < self.factory.timeline.count:
            return self.factory.timeline.time_of(i)
        return next((t for t, j in self.added if j == i), None)

    def add(self, start_ms: int, overrides: dict[str, Any] | None = None) -> int:
        index = self.next_index
        self.added.append((start_ms, index))
        self.added.sort()
        if overrides:
            self.overrides[index] = dict(overrides)
        return index

    def latest_ms(self, cutoff_ms: int) -> int | None:
        newest = self.window(cutoff_ms, 2**62, None, True, 0, 1)[1]
        return newest[0][0] if newest else None

    def matcher(self, slots: set[int] | None) -> MatchSet:
        pattern = self.factory.pattern
        if slots is None:
            return MatchSet(range(PERIOD))
        return MatchSet([r for r in range(PERIOD) if pattern[r] in slots])

    def window(
        self,
        start_ms: int,
        end_ms: int,
        slots: set[int] | None,
        newest_first: bool,
        offset: int,
        limit: int,
    ) -> tuple[int, list[tuple[int, int]]]:
        """(total, [(start_ms, index)…]) of live calls with start in [start_ms, end_ms]."""
        timeline = self.factory.timeline
        match = self.matcher(slots)
        lo = timeline.first_at_or_after(start_ms)
        hi = timeline.first_at_or_after(end_ms + 1)
        spam = sorted(s for s in self.spam if lo <= s < hi and match.has(s))
        overlay = [
            (t, j) for t, j in self.added
            if start_ms <= t <= end_ms and j not in self.spam and match.has(j)
        ]
        generated = match.count(lo, hi) - len(spam)
        total = generated + len(overlay)
        merged = []
        for k, (t, _j) in enumerate(overlay):
            below = timeline.first_at_or_after(t + 1)
            earlier = match.count(lo, below) - bisect_left(spam, below)
            merged.append(earlier + k)
        if newest_first:
            first, stop = max(0, total - offset - limit), max(0, total - offset)
        else:
            first, stop = offset, min(total, offset + limit)
        items: list[tuple[int, int]] = []
        k = bisect_left(merged, first)
        index: int | None = None
        base = match.count_below(lo)
        for position in range(first, stop):
            if k < len(merged) and merged[k] == position:
                items.append(overlay[k])
                k += 1
                continue
            if index is None:
                index = self._nth_generated(match, base, position - k, spam)
            else:
                index = match.kth(match.count_below(index + 1))
                while index in self.spam:
                    index = match.kth(match.count_below(index + 1))
            items.append((timeline.time_of(index), index))
        if newest_first:
            items.reverse()
        return total, items

    @staticmethod
    def _nth_generated(match: MatchSet, base: int, q: int, spam: list[int]) -> int:
        index = match.kth(base + q)
        while True:
            moved = match.kth(base + q + bisect_right(spam, index))
            if moved == index:
                return index
            index = moved

    def render_page(
        self, items: list[tuple[int, int]], tz: ZoneInfo, fields: tuple[str, ...]
    ) -> bytes:
        """The (start_ms, index) items as comma-separated UTF-8 JSON objects, with overlays."""
        plan = self.factory.plan(fields)
        render_into = self.factory.render_into
        touched = self.edits.keys() | self.overrides.keys()
        parts: list[bytes] = []
        for t, i in items:
            if parts:
                parts.append(b",")
            if i in touched:
                parts.append(_encode(self.render_dict(t, i, tz, fields)).encode())
            else:
                render_into(parts, i, t, tz, plan)
        return b"".join(parts)

    def render_dict(
        self, start_ms: int, i: int, tz: ZoneInfo, fields: tuple[str, ...]
    ) -> dict[str, Any]:
        record = self.factory.render_dict(i, start_ms, tz)
        record.update(self.edits.get(i, {}))
        record.update(self.overrides.get(i, {}))
        extra = [k for k in self.overrides.get(i, {}) if k not in ALL_CALL_FIELDS]
        return {k: record[k] for k in (*fields, *extra) if k in record}
