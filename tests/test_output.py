"""The message writer: only whole JSON lines on stdout, whatever a record holds."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import pytest
from singer_sdk.singerlib import RecordMessage

from tap_callrail.output import MessageWriter

EXTRACTED = datetime(2026, 11, 26, 12, tzinfo=timezone.utc)


@pytest.fixture
def writer(capsys: pytest.CaptureFixture[str]) -> tuple[MessageWriter, pytest.CaptureFixture[str], list]:
    writer = MessageWriter()
    nulled: list[tuple[str, str]] = []
    writer.on_unencodable = lambda stream, record, name: nulled.append((str(record.get("id")), name))
    return writer, capsys, nulled


def _lines(out: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.readouterr().out.splitlines()]


def test_a_value_json_cannot_carry_is_written_as_null_in_a_whole_line(writer) -> None:
    lines, out, nulled = writer
    records = [{"id": "CAL1", "value": Decimal("1")}, {"id": "CAL2", "value": Decimal("Infinity")}, {"id": "CAL3"}]

    lines.write_records(["calls"], records, None, EXTRACTED)
    lines.flush_records()

    written = _lines(out)
    assert [line["record"]["id"] for line in written] == ["CAL1", "CAL2", "CAL3"]
    assert written[1]["record"] == {"id": "CAL2", "value": None}
    assert nulled == [("CAL2", "value")]


def test_a_record_message_json_cannot_carry_is_written_whole_too(writer) -> None:
    lines, out, nulled = writer

    lines.write_message(RecordMessage(stream="calls", record={"id": "CAL9", "value": Decimal("NaN")}))
    lines.flush_records()

    assert _lines(out)[0]["record"] == {"id": "CAL9", "value": None}
    assert nulled == [("CAL9", "value")]
