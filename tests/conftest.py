"""Shared fixtures for the unit tests: the emulated CallRail on requests-mock, a fixed clock, the CLI."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pytest
import requests_mock as rm
from click.testing import CliRunner

from callrail_emulator import Emulator
from tap_callrail.client import CallRailStream
from tap_callrail.tap import TapCallRail
from tests.callrail import API_KEY, serve

# The tap's clock in every unit test: date windows and the retention floor follow from it.
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch, requests_mock: rm.Mocker) -> Emulator:
    """An emulated CallRail holding no account, on the tap's clock at NOW (no network: other hosts
    raise); the `requests_mock` fixture holds what the tap sent as requests saw it."""
    monkeypatch.setattr(CallRailStream, "now", lambda self: NOW)
    emu = Emulator(accounts=0, api_key=API_KEY, now=NOW)
    serve(emu, requests_mock)
    return emu


@dataclass
class CliResult:
    exit_code: int
    output: str  # stdout, stderr and log lines together
    stdout: str
    exception: BaseException | None


@pytest.fixture
def cli(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> Callable[..., CliResult]:
    """Run `tap-callrail [--config FILE] ARGS` in-process, so requests-mock still applies."""

    def run(config: dict | None, *args: str, state: str | None = None) -> CliResult:
        argv = list(args)
        if config is not None:
            (tmp_path / "config.json").write_text(json.dumps(config))
            argv = ["--config", str(tmp_path / "config.json"), *argv]
        if state is not None:
            (tmp_path / "state.json").write_text(state)
            argv += ["--state", str(tmp_path / "state.json")]
        root = logging.getLogger()
        handlers, level = list(root.handlers), root.level
        try:
            result = CliRunner().invoke(TapCallRail.cli, argv)
        finally:
            # The SDK adds a root handler on the runner's (then closed) stderr at each invocation.
            root.handlers[:] = handlers
            root.setLevel(level)
        out, err = capfd.readouterr()
        return CliResult(result.exit_code, result.output + out + err, result.stdout, result.exception)

    return run
