"""Reuse without Meltano: the tap piped into target-postgres by hand, resuming from its state."""

from __future__ import annotations

import json
import subprocess

import pytest

from .pipeline import API_KEY, BIN, assert_equals_emulator, hermetic_env

pytestmark = pytest.mark.e2e


def _pipe(tap: list[str], target: list[str], logs, name: str) -> dict:
    """`tap | target`; returns the last state line the target printed."""
    with (logs / f"{name}-tap.log").open("wb") as tap_log, (logs / f"{name}-target.log").open("wb") as target_log:
        env = hermetic_env()
        tap_proc = subprocess.Popen(tap, stdout=subprocess.PIPE, stderr=tap_log, stdin=subprocess.DEVNULL, env=env)
        target_proc = subprocess.Popen(
            target, stdin=tap_proc.stdout, stdout=subprocess.PIPE, stderr=target_log, env=env
        )
        assert tap_proc.stdout is not None
        tap_proc.stdout.close()
        out, _ = target_proc.communicate(timeout=600)
        tap_proc.wait(timeout=60)
    problem = f"see {logs}/{name}-*.log"
    assert tap_proc.returncode == 0, f"tap exited {tap_proc.returncode}; {problem}"
    assert target_proc.returncode == 0, f"target exited {target_proc.returncode}; {problem}"
    states = [line for line in out.decode().splitlines() if line.strip()]
    assert states, "target-postgres printed no state"
    return dict(json.loads(states[-1]))


def test_tap_piped_into_target_postgres_resumes_from_its_final_state(meltano, warehouse, emulator, scratch):
    api = emulator()
    emu = api.emu
    schema = "e2e_singer_pipe"
    tap_config = scratch / "tap.json"
    tap_config.write_text(
        json.dumps(
            {
                "api_key": API_KEY,
                "api_url": api.url,
                "requests_per_hour": 0,
                "requests_per_day": 0,
                "max_retries": 2,
                "backoff_max_seconds": 1,
                "emit_activate_version_messages": True,
            }
        )
    )
    target_config = scratch / "target.json"
    target_config.write_text(
        json.dumps(
            {
                "sqlalchemy_url": warehouse.sqlalchemy_url,
                "default_target_schema": schema,
                "add_record_metadata": True,
                "activate_version": True,
                "hard_delete": False,
            }
        )
    )
    tap = [str(BIN / "tap-callrail"), "--config", str(tap_config)]
    target = [meltano.plugin_executable("loaders", "target-postgres"), "--config", str(target_config)]

    first = _pipe(tap, target, scratch, "first")
    assert first["bookmarks"]["calls"]
    assert_equals_emulator(warehouse, schema, emu)
    full_calls = emu.request_count(path_contains="/calls.json")

    account_id = emu.account_ids[0]
    emu.add_calls(account_id, 3)
    emu.reset_requests()
    state_file = scratch / "state.json"
    state_file.write_text(json.dumps(first))
    second = _pipe([*tap, "--state", str(state_file)], target, scratch, "second")

    assert second["bookmarks"]["calls"]
    assert emu.request_count(path_contains="/calls.json") < full_calls
    assert_equals_emulator(warehouse, schema, emu)
    assert warehouse.deleted(schema) == {}
