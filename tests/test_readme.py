"""The README tells the truth: its settings table and its PII recipe are what the tap does."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

from callrail_emulator import Emulator
from tap_callrail.tap import TapCallRail
from tests.callrail import base_config, populate, run_sync

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _about_settings_rows() -> list[str]:
    about = subprocess.run(
        [sys.executable, "-m", "tap_callrail", "--about", "--format", "markdown"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    table = about.split("## Settings", 1)[1]
    return [line for line in table.splitlines() if line.startswith("|")]


def test_readme_settings_table_is_what_about_prints() -> None:
    rows = _about_settings_rows()
    if not version("singer-sdk").startswith("0.54."):
        # The README shows the SDK's built-in settings as the pinned SDK words them; on the next
        # SDK (tested in CI too) only the tap's own settings must match.
        own = set(TapCallRail.config_jsonschema["properties"])
        rows = [row for row in rows if row.split("|")[1].strip() in own]

    assert len(rows) > 10
    for row in rows:
        assert row in README, f"README settings table lacks or differs from: {row}"


def _readme_stream_maps_env() -> dict:
    match = re.search(r"for one run, `TAP_CALLRAIL_STREAM_MAPS='(\{.*?\})'`", README)
    assert match, "README has no TAP_CALLRAIL_STREAM_MAPS example"
    return json.loads(match.group(1))


def _readme_stream_maps_yaml() -> dict:
    import yaml

    block = README.split("# meltano.yml, under the tap-callrail extractor", 1)[1].split("```", 1)[0]
    return yaml.safe_load(block)["config"]["stream_maps"]


def test_readme_pii_recipe_hashes_caller_details(fake: Emulator) -> None:
    populate(fake, accounts=1)
    raw = {c["id"]: c for c in fake.records("calls", "ACC01")}

    result = run_sync(base_config(stream_maps=_readme_stream_maps_yaml()), streams={"calls", "form_submissions"})

    calls = result.records("calls")
    assert calls
    for call in calls:
        original = raw[call["id"]].get("customer_phone_number")
        expected = hashlib.md5(original.encode()).hexdigest() if original else None
        assert call["customer_phone_number"] == expected
        assert "formatted_customer_name" not in call
    assert any(call["customer_phone_number"] for call in calls)
    assert result.records("form_submissions")
    for form in result.records("form_submissions"):
        assert form.get("customer_email") is None or re.fullmatch(r"[0-9a-f]{32}", form["customer_email"])


def test_readme_one_run_stream_map_hashes_the_phone_number(fake: Emulator) -> None:
    populate(fake, accounts=1)

    result = run_sync(base_config(stream_maps=_readme_stream_maps_env()), streams={"calls"})

    calls = result.records("calls")
    assert calls, "the sync emitted no calls, so nothing was checked"
    assert all(re.fullmatch(r"[0-9a-f]{32}", c["customer_phone_number"]) for c in calls)
