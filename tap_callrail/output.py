"""How messages leave the tap: Singer lines written with msgspec instead of simplejson.

A backfill is hundreds of thousands of RECORD lines of ~80 fields each; the SDK's default
writer (simplejson into a text stream) cost more CPU than everything else the tap does per
record. RECORD lines are encoded with msgspec, as the SDK's own `singer_sdk.contrib.msgspec`
writer does; they decode to the same messages. `time_extracted` keeps the default writer's
form (`…+00:00`, where msgspec would write `…Z`), and the rare SCHEMA, STATE and
ACTIVATE_VERSION lines are still written by the SDK's serializer, byte for byte as before.
"""

from __future__ import annotations

import sys
from datetime import datetime
from typing import Any

import msgspec
from singer_sdk.singerlib import Message, RecordMessage
from singer_sdk.singerlib.encoding import GenericSingerWriter
from singer_sdk.singerlib.json import serialize_json


def _unsupported(value: Any) -> Any:
    # What the SDK's simplejson default does with a type JSON has no form for.
    return value.isoformat(sep="T") if isinstance(value, datetime) else str(value)


_encode_into = msgspec.json.Encoder(enc_hook=_unsupported, decimal_format="number").encode_into


class MessageWriter(GenericSingerWriter[bytes, Message]):
    """Singer messages to stdout, one JSON line each, flushed as the SDK's writers do."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def serialize_message(self, message: Message) -> bytes:
        if type(message) is RecordMessage:
            data = message.to_dict()
            extracted = data.get("time_extracted")
            if isinstance(extracted, datetime):
                data["time_extracted"] = extracted.isoformat(sep="T")
            _encode_into(data, self._buffer)
            self._buffer.extend(b"\n")
            return bytes(self._buffer)
        return (serialize_json(message.to_dict()) + "\n").encode()

    def write_message(self, message: Message) -> None:
        line = self.format_message(message)
        out = sys.stdout
        binary = getattr(out, "buffer", None)
        if binary is None:  # a text-only stdout (e.g. tests capturing it into a StringIO)
            out.write(line.decode())
        else:
            binary.write(line)
        out.flush()
