"""How messages leave the tap: the SDK's msgspec writer, one whole JSON line per message.

A line is encoded in full before any of it is written, so stdout never holds a cut line. A
record value JSON cannot carry (an infinite decimal) is written as null and reported, instead
of ending the run. RECORD lines go to stdout's buffer as they are made; every other message
(STATE above all) is flushed at once, so a target never reads a STATE before its records.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from typing import Any

from singer_sdk.contrib.msgspec import MsgSpecWriter
from singer_sdk.singerlib import Message, RecordMessage
from typing_extensions import override


class LineWriter(MsgSpecWriter):
    """The SDK's msgspec writer, writing whole lines to whatever stdout is (a text stream in tests)."""

    def __init__(self) -> None:
        super().__init__()
        #: Called with (stream, record, property) for each value written as null because JSON
        #: cannot carry it; the tap counts it as a data-quality finding.
        self.on_unencodable: Callable[[str, Mapping[str, Any], str], None] | None = None

    @override
    def format_message(self, message: Message) -> Any:
        try:
            return super().format_message(message)
        except (TypeError, ValueError, OverflowError):
            if not isinstance(message, RecordMessage):
                raise
            message.record = self._encodable(message.stream, message.record)
            return super().format_message(message)

    @override
    def write_message(self, message: Message) -> None:
        line = self.format_message(message)
        out = sys.stdout
        binary = getattr(out, "buffer", None)
        if binary is None:
            out.write(bytes(line).decode())
        else:
            binary.write(line)
        if not isinstance(message, RecordMessage):
            out.flush()

    def _encodable(self, stream: str, record: Mapping[str, Any]) -> dict[str, Any]:
        """A copy of the record with each value JSON cannot carry as null."""
        kept = dict(record)
        for name, value in record.items():
            try:
                super().format_message(RecordMessage(stream=stream, record={name: value}))
            except (TypeError, ValueError, OverflowError):
                kept[name] = None
                if self.on_unencodable is not None:
                    self.on_unencodable(stream, record, name)
        return kept
