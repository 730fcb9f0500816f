"""The API key never appears anywhere: every failure mode, run with a recognisable key (issue 4.5).

One test drives the emulator (which accepts only CANARY) through each fault and each bad input,
through Meltano (once with every log at DEBUG) and through the plain `tap-callrail` command,
then searches everything it captured, the stored state, Meltano's own logs and system database,
and every table, for the key. Each step also checks that it really exercised its failure, so
the search for absence is not vacuous.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from callrail_emulator import Emulator

from .faults import CANARY, arm_at, run_tap, tap_config, text_everywhere
from .pipeline import PIPELINE, RunningEmulator, assert_equals_emulator, hermetic_env

# Under `meltano --log-level=debug` target-postgres logs each batch once per record (output grows
# with the square of a stream's records): the window spans only the canary's 60 days of history.
START = (date.today() - timedelta(days=70)).isoformat()

pytestmark = pytest.mark.e2e

WRONG_KEY = "sk-SECRET-canary-WRONG"
NEEDLE = "SECRET-canary"  # in the right key and in the wrong one


@pytest.fixture
def canary_api() -> Iterator[RunningEmulator]:
    # Small: under `meltano --log-level=debug` target-postgres logs each batch once per record.
    emu = Emulator(
        seed=5,
        api_key=CANARY,
        calls_per_account=40,
        form_submissions_per_account=8,
        conversations_per_account=5,
        leads_per_account=5,
        history_days=60,  # and START_DATE below: the daily counts hold one record per company and day
    )
    url = emu.start(port=0)
    try:
        yield RunningEmulator(emu, url)
    finally:
        emu.stop()


def _files_text(root: Path) -> str:
    chunks = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        chunks.append(f"=== {path}\n" + path.read_bytes().decode("utf-8", "replace"))
    return "\n".join(chunks)


def test_api_key_never_appears_in_output_logs_state_or_tables(meltano, warehouse, canary_api, tmp_path):
    api = canary_api
    emu = api.emu
    schema = suffix = "e2e_secrets"
    state_id = f"{PIPELINE}:{suffix}"
    captured: dict[str, str] = {}
    (tmp_path / "captured").mkdir()

    def keep(name: str, text: str) -> None:
        captured[name] = text
        (tmp_path / "captured" / re.sub(r"[^\w]+", "_", name)).write_text(text)

    debug = {"TAP_CALLRAIL_LOGLEVEL": "DEBUG"}  # the plain tap and Meltano's failing runs too

    def meltano_env(**extra: str) -> dict[str, str]:
        return meltano.env(schema, api.url, TAP_CALLRAIL_API_KEY=CANARY, TAP_CALLRAIL_START_DATE=START, **extra)

    # 1. A run that succeeds through every transient fault, Meltano and plugins at DEBUG.
    emu.fault_every(6, kinds=("500", "503", "drop", "truncated_json", "429"))
    proc = meltano.command(
        "--log-level=debug",
        "run",
        "--state-id-suffix",
        suffix,
        "tap-callrail",
        "target-postgres",
        env=meltano_env(TAP_CALLRAIL_MAX_RETRIES="3", **debug),
    )
    keep("meltano run, debug, faults", proc.stdout + proc.stderr)
    assert "debug" in proc.stderr.lower() and "Retrying stream" in proc.stderr
    emu.clear_faults()
    assert_equals_emulator(warehouse, schema, emu)

    # 2. Meltano runs that fail: a persistent 500 mid-run, a wrong key (401), a bad setting.
    arm_at(emu, {8: lambda: emu.persistent_fault(500)})
    proc = meltano.run(schema, api.url, suffix, check=False, TAP_CALLRAIL_API_KEY=CANARY, **debug)
    keep("meltano run, persistent 500", proc.stdout + proc.stderr)
    assert proc.returncode != 0 and "HTTP 500" in proc.stderr
    emu.clear_faults()
    proc = meltano.run(schema, api.url, suffix, check=False, TAP_CALLRAIL_API_KEY=WRONG_KEY, **debug)
    keep("meltano run, 401", proc.stdout + proc.stderr)
    assert proc.returncode != 0 and "HTTP 401" in proc.stderr
    proc = meltano.run(schema, api.url, suffix, check=False, TAP_CALLRAIL_API_KEY=CANARY, TAP_CALLRAIL_MAX_RETRIES="-1")
    keep("meltano run, bad setting", proc.stdout + proc.stderr)
    assert proc.returncode != 0 and "max_retries" in proc.stderr

    # 3. The stored state, and what Meltano keeps on disk (its logs and system database).
    state = meltano.command("state", "get", state_id, env=meltano_env())
    keep("meltano state get", state.stdout + state.stderr)
    assert json.loads(state.stdout)["singer_state"]["bookmarks"]
    keep("meltano logs", _files_text(meltano.root / ".meltano" / "logs"))
    # Meltano hands plugins their config in files under .meltano/run; none may be left behind.
    keep("meltano run files", _files_text(meltano.root / ".meltano" / "run"))
    keep("meltano system database", (meltano.root / ".meltano" / "meltano.db").read_bytes().decode("latin-1"))

    # 4. The plain tap: --about, --discover, --test, and each failure mode, at DEBUG.
    env = hermetic_env(**debug)
    config = {**tap_config(api.url, CANARY), "start_date": START}
    wrong = tap_config(api.url, WRONG_KEY)

    def tap(name: str, settings: dict, *args: str, state: str | None = None, expect_ok: bool = True):
        run = run_tap(tmp_path, settings, *args, state=state, env=env)
        keep(f"tap {name}", run.stdout + run.stderr)
        assert (run.returncode == 0) == expect_ok, f"{name}: exit {run.returncode}\n{run.stderr[-2000:]}"
        return run

    tap("--about", config, "--about")
    for fmt in ("json", "markdown"):
        tap(f"--about {fmt}", config, "--about", f"--format={fmt}")
    tap("--discover", config, "--discover")
    tap("--test", config, "--test")
    assert "HTTP 401" in tap("--test, 401", wrong, "--test", expect_ok=False).stderr
    assert "HTTP 401" in tap("sync, 401", wrong, expect_ok=False).stderr
    emu.persistent_fault(503)
    assert "HTTP 503" in tap("--test, persistent 503", config, "--test", expect_ok=False).stderr
    emu.persistent_fault("drop")
    assert "ConnectionError" in tap("sync, dropped connections", config, expect_ok=False).stderr
    emu.persistent_fault("truncated_json")
    assert "not JSON" in tap("sync, truncated JSON", config, expect_ok=False).stderr
    emu.clear_faults()
    emu.rate_limit(10, retry_after=0)
    assert "HTTP 429" in tap("sync, 429 storm", config, expect_ok=False).stderr
    emu.clear_faults()
    tap("sync, malformed state", config, state='{"bookmarks": ', expect_ok=False)
    tap("sync, malformed start_date", {**config, "start_date": "soon"}, expect_ok=False)
    tap("sync, negative budget", {**config, "requests_per_day": -1}, expect_ok=False)
    tap("sync, data_quality=fail", {**config, "data_quality": "fail"}, expect_ok=False)

    # 5. Every table, all columns (jsonb included).
    keep("warehouse", text_everywhere(warehouse, schema))
    assert len(captured["warehouse"]) > 10_000

    leaks = {name: text.count(NEEDLE) for name, text in captured.items() if NEEDLE in text}
    assert not leaks, f"the API key appears in: {leaks}"
