"""The message writer: only whole JSON lines on stdout, whatever a record holds."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from singer_sdk.singerlib import RecordMessage, StateMessage

from tap_callrail.output import LineWriter


@pytest.fixture
def writer() -> tuple[LineWriter, list[tuple[str, str]]]:
    writer = LineWriter()
    nulled: list[tuple[str, str]] = []
    writer.on_unencodable = lambda stream, record, name: nulled.append((str(record.get("id")), name))
    return writer, nulled


def _lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_a_value_json_cannot_carry_is_written_as_null_in_a_whole_line(writer, capsys) -> None:
    lines, nulled = writer
    records = [{"id": "CAL1", "value": Decimal("1")}, {"id": "CAL2", "value": Decimal("Infinity")}, {"id": "CAL3"}]

    for record in records:
        lines.write_message(RecordMessage(stream="calls", record=record))
    lines.write_message(StateMessage(value={"bookmarks": {}}))

    written = _lines(capsys)
    assert [line["type"] for line in written] == ["RECORD", "RECORD", "RECORD", "STATE"]
    assert [line["record"]["id"] for line in written[:3]] == ["CAL1", "CAL2", "CAL3"]
    assert written[1]["record"] == {"id": "CAL2", "value": None}
    assert nulled == [("CAL2", "value")]


def test_records_are_written_before_the_state_that_follows_them(writer, capsys) -> None:
    lines, _ = writer

    lines.write_message(RecordMessage(stream="calls", record={"id": "CAL9", "value": Decimal("NaN")}))
    lines.write_message(StateMessage(value={"bookmarks": {"calls": {}}}))

    assert [line["type"] for line in _lines(capsys)] == ["RECORD", "STATE"]
