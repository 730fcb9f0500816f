"""The tap's fast paths give exactly what the slow paths they replace gave (issue 6)."""

from __future__ import annotations

import io
import json
import math
import sys
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import pytest
import requests
from singer_sdk.singerlib import ActivateVersionMessage, RecordMessage, SchemaMessage, StateMessage
from singer_sdk.singerlib.encoding import SimpleSingerWriter

from tap_callrail.client import parse_body
from tap_callrail.output import MessageWriter


def response(body: bytes, content_type: str = "application/json; charset=utf-8") -> requests.Response:
    made = requests.Response()
    made.status_code = 200
    made._content = body
    made.headers["Content-Type"] = content_type
    made.encoding = requests.utils.get_encoding_from_headers(made.headers)
    return made


@pytest.mark.parametrize(
    "body",
    [
        b'{"calls": [{"id": "CAL1", "duration": 37, "value": 12.5, "tags": ["A"], "note": null}]}',
        '{"name": "Café Zoë — Brooklyn", "emoji": "📞", "escaped": "\\u00e9\\n"}'.encode(),
        b'{"big": 123456789012345678901234567890, "neg": -0, "exp": 1.5e300, "tiny": 5e-324}',
        b'{"dup": 1, "dup": 2}',
        b'{"nan": NaN, "inf": Infinity}',  # not JSON
        b'{"huge": 1e400}',  # beyond float range
        b'{"surrogate": "\\ud83d"}',  # a lone surrogate
        b'[1, 2.0, "3", true, false, null, {}, []]',
    ],
)
def test_parse_body_reads_bodies_like_requests(body: bytes) -> None:
    try:
        slow = response(body).json()
    except ValueError:
        with pytest.raises(ValueError):
            parse_body(response(body))
        return
    assert repr(parse_body(response(body))) == repr(slow)  # repr: 1 == 1.0 == True would hide type changes


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ('{"name": "Müller"}'.encode("latin-1"), "application/json; charset=iso-8859-1"),
        ('{"name": "Müller"}'.encode(), "text/plain"),  # requests decodes text/* as ISO-8859-1
        (b'{"name": "M\xfcller"}', "application/json; charset=utf-8"),  # not UTF-8 despite the header
        ('\ufeff{"bom": true}'.encode(), "application/json; charset=utf-8"),
    ],
)
def test_parse_body_leaves_other_encodings_to_requests(body: bytes, content_type: str) -> None:
    try:
        slow = response(body, content_type).json()
    except ValueError:
        with pytest.raises(ValueError):
            parse_body(response(body, content_type))
        return
    assert parse_body(response(body, content_type)) == slow


def test_parse_body_rejects_a_cut_body_as_requests_does() -> None:
    with pytest.raises(ValueError):
        parse_body(response(b'{"calls": [{"id": "CAL1"'))


def test_parse_body_keeps_floats_bit_for_bit() -> None:
    values = [0.1, 1 / 3, 2.5e-308, 1.7976931348623157e308, 123456.789, -0.0, math.pi]
    body = ("[" + ",".join(repr(v) for v in values) + "]").encode()
    assert [v.hex() for v in parse_body(response(body))] == [v.hex() for v in values]


def singer_messages() -> list[Any]:
    extracted = datetime(2026, 3, 1, 14, 5, 9, 123456, tzinfo=timezone.utc)
    record = {
        "id": "CAL1",
        "customer_name": "Ana María Núñez — Café",
        "duration": 37,
        "value": Decimal("12.50"),
        "ratio": 0.1,
        "big": 123456789012345678901234567890,
        "tags": ["Booked", "Ünïcode"],
        "milestones": {"first_touch": {"event_date": None, "url_utm_params": {}}},
        "answered": False,
    }
    return [
        SchemaMessage("calls", {"type": "object", "properties": {"id": {"type": "string"}}}, ["id"], ["start_time"]),
        RecordMessage(stream="calls", record=record, time_extracted=extracted),
        RecordMessage(stream="calls", record={"id": "CAL2"}, version=1700000000000, time_extracted=extracted),
        StateMessage({"bookmarks": {"calls": {"replication_key_value": "2026-03-01T14:05:09.000000Z"}}}),
        ActivateVersionMessage("accounts", 1700000000000),
    ]


def test_message_writer_lines_decode_to_what_the_sdk_writer_wrote() -> None:
    fast, slow = MessageWriter(), SimpleSingerWriter()
    for message in singer_messages():
        fast_line, slow_line = fast.format_message(message), slow.format_message(message) + "\n"
        assert fast_line.endswith(b"\n") and fast_line.count(b"\n") == 1
        assert json.loads(fast_line, parse_float=Decimal) == json.loads(slow_line, parse_float=Decimal)
        if not isinstance(message, RecordMessage):
            assert fast_line == slow_line.encode()  # SCHEMA, STATE, ACTIVATE_VERSION: byte for byte


def test_message_writer_keeps_the_sdk_form_of_time_extracted() -> None:
    line = MessageWriter().format_message(singer_messages()[1])
    assert json.loads(line)["time_extracted"] == "2026-03-01T14:05:09.123456+00:00"


def test_message_writer_writes_one_flushed_line_per_message(capfdbinary: pytest.CaptureFixture[bytes]) -> None:
    writer = MessageWriter()
    for message in singer_messages():
        writer.write_message(message)
    lines = capfdbinary.readouterr().out.splitlines()
    assert [json.loads(line)["type"] for line in lines] == ["SCHEMA", "RECORD", "RECORD", "STATE", "ACTIVATE_VERSION"]


def test_message_writer_also_writes_to_a_text_only_stdout(monkeypatch: pytest.MonkeyPatch) -> None:
    captured = io.StringIO()
    monkeypatch.setattr(sys, "stdout", captured)
    MessageWriter().write_message(singer_messages()[1])
    assert json.loads(captured.getvalue())["record"]["customer_name"] == "Ana María Núñez — Café"
