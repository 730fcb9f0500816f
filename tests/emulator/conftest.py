"""Fixtures for the emulator's own tests: a started emulator on a fixed clock, and a client."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from callrail_emulator import Emulator

from .support import API_KEY, NOW, Client


@pytest.fixture
def emu() -> Iterator[Emulator]:
    emulator = Emulator(seed=7, api_key=API_KEY, now=NOW)
    emulator.start()
    yield emulator
    emulator.stop()


@pytest.fixture
def client(emu: Emulator) -> Client:
    return Client(emu.base_url)


@pytest.fixture
def account(emu: Emulator) -> str:
    return emu.account_ids[0]
