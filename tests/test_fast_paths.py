"""The tap's fast paths give exactly what the slow paths they replace gave (issue 6)."""

from __future__ import annotations

import math

import pytest
import requests

from tap_callrail.client import parse_body


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
