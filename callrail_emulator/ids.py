"""Deterministic identifiers in CallRail's formats (callrail-api.md §1 "ID formats")."""

from __future__ import annotations

import hashlib
import string

_ALNUM = string.ascii_letters + string.digits
_MULT = 0x9E3779B1  # odd, so multiplication is invertible modulo 2**32
_MULT_INV = pow(_MULT, -1, 1 << 32)
_MASK32 = 0xFFFFFFFF


def digest(seed: int, *parts: object, size: int = 16) -> bytes:
    text = ":".join(str(p) for p in (seed, *parts))
    return hashlib.blake2b(text.encode(), digest_size=size).digest()


def masked_id(prefix: str, seed: int, *parts: object) -> str:
    """`ACC`/`COM`/`USR`/`TRK`/`FOR`/`PER` + 32 hex digits."""
    return prefix + digest(seed, prefix, *parts).hex()


def numeric_account_id(seed: int, index: int) -> int:
    """The 9-digit id of the web-app URL (`GET /v3/a.json?fields=numeric_id`)."""
    return 100_000_000 + int.from_bytes(digest(seed, "numeric", index), "big") % 900_000_000


def short_id(seed: int, *parts: object, length: int = 5) -> str:
    """Conversation ids look like `KZaGR`."""
    value = int.from_bytes(digest(seed, "short", *parts), "big")
    chars = []
    for _ in range(length):
        value, rem = divmod(value, len(_ALNUM))
        chars.append(_ALNUM[rem])
    return "".join(chars)


class CallIds:
    """Call ids for one account: `CAL` + 24 hex of a hash + 8 hex that encode the call index.

    The index is recoverable from the id, so mutations by id need no lookup table even with a
    million calls.
    """

    def __init__(self, seed: int, account_index: int) -> None:
        self._prefix = f"{seed}:{account_index}:".encode()
        self._key = int.from_bytes(digest(seed, "callkey", account_index, size=4), "big")

    def hash(self, index: int) -> bytes:
        return hashlib.blake2b(self._prefix + str(index).encode(), digest_size=32).digest()

    def make(self, index: int, hashed: bytes) -> str:
        code = ((index * _MULT) & _MASK32) ^ self._key
        return f"CAL{hashed[:12].hex()}{code:08x}"

    def draw(self, index: int) -> tuple[bytes, str, str]:
        """(hash, its hex, call id) of call `index`: the call's identity and its random bits."""
        hashed = hashlib.blake2b(self._prefix + str(index).encode(), digest_size=32).digest()
        hx = hashed.hex()
        return hashed, hx, f"CAL{hx[:24]}{((index * _MULT) & _MASK32) ^ self._key:08x}"

    def id_of(self, index: int) -> str:
        return self.make(index, self.hash(index))

    def index_of(self, call_id: str) -> int | None:
        if len(call_id) != 35 or not call_id.startswith("CAL"):
            return None
        try:
            code = int(call_id[27:], 16)
        except ValueError:
            return None
        index = ((code ^ self._key) * _MULT_INV) & _MASK32
        return index if self.id_of(index) == call_id else None
