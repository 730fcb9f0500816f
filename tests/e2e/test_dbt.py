"""dbt in the pipeline: `meltano run tap-callrail target-postgres dbt-postgres:build` against the emulator.

One pipeline run is shared by the module's tests (each reads what it built); the last test edits
the emulator and runs the pipeline again.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from devtools.dbt_sources import SOURCES_FILE, discover, render
from devtools.quickstart import EXAMPLE_SQL
from devtools.warehouse_env import parts_from_url

from .pipeline import API_KEY, FAN_OUTS, REPO, MeltanoProject, Warehouse, expected_ids

pytestmark = pytest.mark.e2e

SCHEMA, SUFFIX = "e2e_dbt", "dbt"
STAGING, ANALYTICS = f"{SCHEMA}_staging", f"{SCHEMA}_analytics"
MARTS = ("fct_calls", "fct_form_submissions", "call_tags", "daily_company_source_performance")


@dataclass
class Built:
    emu: Any
    env: dict[str, str]
    output: str


def run_pipeline(meltano: MeltanoProject, env: dict[str, str]) -> str:
    proc = meltano.command(
        "run", "--state-id-suffix", SUFFIX, "tap-callrail", "target-postgres", "dbt-postgres:build", env=env
    )
    return proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def built(meltano: MeltanoProject, warehouse: Warehouse) -> Iterator[Built]:
    from callrail_emulator import Emulator

    emu = Emulator(seed=23, api_key=API_KEY, accounts=2, calls_per_account=400)
    url = emu.start(port=0)
    # dbt takes the connection as parts; the test server is known by its URL, as in the quickstart.
    env = meltano.env(SCHEMA, url, **parts_from_url(warehouse.sqlalchemy_url))
    try:
        yield Built(emu, env, run_pipeline(meltano, env))
    finally:
        emu.stop()


def served(emu: Any, stream: str) -> list[dict[str, Any]]:
    """Every record the emulator serves in the stream (none from accounts whose plan forbids it)."""
    return [r for a in emu.account_ids if expected_ids(emu, stream, a) for r in emu.records(stream, a)]


def instant(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def company_zones(emu: Any) -> dict[str, str]:
    return {c["id"]: c["time_zone"] for c in served(emu, "companies")}


def local_date(value: str, zone: str) -> date:
    return instant(value).astimezone(ZoneInfo(zone)).date()


def money(value: Any) -> Decimal:
    return Decimal(str(value or 0)).quantize(Decimal("0.01"))


def test_pipeline_builds_every_model_and_every_dbt_test_passes(built, warehouse):
    done = re.findall(r"Done\. PASS=(\d+) WARN=(\d+) ERROR=(\d+) SKIP=(\d+)", built.output)
    assert done, "no dbt summary in the output"
    passed, warned, errors, skipped = map(int, done[-1])
    assert (warned, errors, skipped) == (0, 0, 0), built.output[-3000:]
    assert passed >= 90
    streams = {s["tap_stream_id"] for s in discover()["streams"]} - set(FAN_OUTS)
    assert warehouse.tables(STAGING) == {f"stg_callrail__{s}" for s in streams}  # fan-outs: off by default
    assert warehouse.tables(ANALYTICS) == set(MARTS)
    types = warehouse.query(
        "SELECT table_name, table_type FROM information_schema.tables WHERE table_schema IN (%s, %s)",
        (STAGING, ANALYTICS),
    )
    assert {t for n, t in types if n.startswith("stg_")} == {"VIEW"}
    assert {t for n, t in types if n in MARTS} == {"BASE TABLE"}


def test_fct_calls_holds_exactly_the_emulators_calls_once_each(built, warehouse):
    want = Counter(str(c["id"]) for c in served(built.emu, "calls"))
    got = Counter(r[0] for r in warehouse.query(f"SELECT call_id FROM {ANALYTICS}.fct_calls"))
    assert got == want
    assert max(got.values()) == 1


def test_staging_types_timestamps_as_timestamptz_and_arrays_of_objects_as_jsonb(built, warehouse):
    rows = warehouse.query(
        "SELECT table_name, column_name, data_type, udt_name FROM information_schema.columns "
        "WHERE table_schema = %s",
        (STAGING,),
    )
    assert not [r for r in rows if r[2] == "timestamp without time zone"]
    assert not [r for r in rows if r[3] == "_jsonb"]
    types = {(t, c): d for t, c, d, _ in rows}
    assert types["stg_callrail__calls", "started_at"] == "timestamp with time zone"
    assert types["stg_callrail__users", "companies"] == "jsonb"
    assert types["stg_callrail__trackers", "company_id"] == "text"
    [(arrays,)] = warehouse.query(
        f"SELECT count(*) FROM {STAGING}.stg_callrail__users WHERE jsonb_typeof(companies) = 'array'"
    )
    assert arrays > 0


def test_started_local_date_is_the_day_in_the_companys_time_zone_across_midnight(built, warehouse):
    zones = company_zones(built.emu)
    got = {r[0]: r[1:] for r in warehouse.query(
        f"SELECT call_id, started_at, started_local_date FROM {ANALYTICS}.fct_calls"
    )}
    across_midnight = 0
    for call in served(built.emu, "calls"):
        zone = zones.get(call["company_id"]) or call["company_time_zone"]
        want = local_date(call["start_time"], zone)
        assert got[str(call["id"])] == (instant(call["start_time"]), want), (call["id"], call["start_time"], zone)
        if want != instant(call["start_time"]).astimezone(timezone.utc).date():
            across_midnight += 1
    assert across_midnight > 0, "no call fell on another day locally than in UTC"


def test_first_and_last_touch_sources_come_from_the_milestones(built, warehouse):
    got = {r[0]: r[1:] for r in warehouse.query(
        f"SELECT call_id, first_touch_source, last_touch_source FROM {ANALYTICS}.fct_calls"
    )}
    touched = 0
    for call in served(built.emu, "calls"):
        milestones = call.get("milestones") or {}
        want = ((milestones.get("first_touch") or {}).get("source"), (milestones.get("last_touch") or {}).get("source"))
        assert got[str(call["id"])] == want, call["id"]
        touched += want[0] is not None
    assert touched > 0
    forms = dict(warehouse.query(
        f"SELECT form_submission_id, first_touch_source FROM {ANALYTICS}.fct_form_submissions"
    ))
    for form in served(built.emu, "form_submissions"):
        first = ((form.get("milestones") or {}).get("first_touch") or {}).get("source")
        assert forms[str(form["id"])] == first


def test_daily_aggregate_equals_a_count_taken_from_the_emulators_records(built, warehouse):
    zones = company_zones(built.emu)
    want: dict[tuple[str, date, str], list[Any]] = defaultdict(lambda: [0, 0, 0, 0, 0, Decimal("0.00")])
    for call in served(built.emu, "calls"):
        zone = zones.get(call["company_id"]) or call["company_time_zone"]
        row = want[call["company_id"], local_date(call["start_time"], zone), call.get("source") or "(none)"]
        row[0] += 1
        row[1] += bool(call.get("answered"))
        row[2] += bool(call.get("first_call"))
        row[3] += call.get("lead_status") == "good_lead"
        row[5] += money(call.get("value"))
    for form in served(built.emu, "form_submissions"):
        day = local_date(form["submitted_at"], zones[form["company_id"]])
        key = (form["company_id"], day, form.get("source") or "(none)")
        want[key][3] += form.get("lead_status") == "good_lead"
        want[key][4] += 1
        want[key][5] += money(form.get("value"))
    got = {
        (r[0], r[1], r[2]): [*r[3:8], money(r[8])]
        for r in warehouse.query(
            "SELECT company_id, local_date, source, calls, answered_calls, first_time_callers, good_leads, "
            f"form_submissions, value FROM {ANALYTICS}.daily_company_source_performance"
        )
    }
    assert got == dict(want)


def test_column_comments_are_set_on_raw_tables_and_marts(built, warehouse):
    def uncommented(schema: str, table: str) -> list[str]:
        rows = warehouse.query(
            "SELECT a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relname = %s AND a.attnum > 0 AND NOT a.attisdropped "
            "AND col_description(c.oid, a.attnum) IS NULL",
            (schema, table),
        )
        return [r[0] for r in rows]

    for stream in discover()["streams"]:
        assert uncommented(SCHEMA, stream["tap_stream_id"]) == [], stream["tap_stream_id"]
    for mart in MARTS:
        assert uncommented(ANALYTICS, mart) == [], mart
    (comment,) = warehouse.query(
        f"SELECT col_description('{SCHEMA}.calls'::regclass, attnum) FROM pg_attribute "
        f"WHERE attrelid = '{SCHEMA}.calls'::regclass AND attname = 'lead_status'"
    )[0]
    assert comment == "good_lead, not_a_lead, previously_marked_good_lead, or null."


def test_sources_file_matches_discover_and_names_every_raw_column(built, warehouse):
    assert SOURCES_FILE.read_text() == render(discover())
    tables = yaml.safe_load(SOURCES_FILE.read_text())["sources"][0]["tables"]
    for table in tables:
        documented = {c["name"] for c in table["columns"]}
        assert warehouse.columns(SCHEMA, table["name"]) <= documented, table["name"]


def test_demo_environment_points_dbt_at_the_demo_schema(meltano):
    for environment, schema in (("dev", "callrail"), ("prod", "callrail"), ("demo", "callrail_demo")):
        proc = meltano.command("--environment", environment, "config", "print", "dbt-postgres")
        assert yaml.safe_load(proc.stdout)["source_schema"] == schema, environment


def test_readme_querying_examples_and_the_quickstarts_answer_run_on_the_marts(built, warehouse):
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Querying", 1)[1].split("\n## ", 1)[0]
    queries = re.findall(r"```sql\n(.*?)```", section, flags=re.S)
    assert len(queries) == 3
    for query in [*queries, EXAMPLE_SQL.format(schema="callrail")]:
        rows = warehouse.query(re.sub(r"\bcallrail_(analytics|staging)\.", rf"{SCHEMA}_\1.", query))
        assert rows, query


def test_delta_run_updates_fct_calls_in_place(meltano, built, warehouse):
    account_id = built.emu.account_ids[0]
    # The newest call: a delta run re-reads it (the bookmark's lookback), as it would a fresh edit.
    ((call_id, before),) = warehouse.query(
        f"SELECT call_id, lead_status FROM {ANALYTICS}.fct_calls WHERE account_id = %s "
        "ORDER BY started_at DESC LIMIT 1",
        (account_id,),
    )
    status = "not_a_lead" if before != "not_a_lead" else "good_lead"
    assert built.emu.edit_calls(account_id, 1, lead_status=status) == [call_id]

    output = run_pipeline(meltano, built.env)

    assert re.search(r"Done\. PASS=\d+ WARN=0 ERROR=0 SKIP=0", output)
    rows = warehouse.query(f"SELECT lead_status FROM {ANALYTICS}.fct_calls WHERE call_id = %s", (call_id,))
    assert rows == [(status,)]
    got = Counter(r[0] for r in warehouse.query(f"SELECT call_id FROM {ANALYTICS}.fct_calls"))
    assert got == Counter(str(c["id"]) for c in served(built.emu, "calls"))


def test_a_call_callrail_removed_as_spam_is_a_reconciliation_warning_not_an_error(meltano, built, warehouse):
    account_id = built.emu.account_ids[0]
    ((call_id,),) = warehouse.query(
        f"SELECT call_id FROM {ANALYTICS}.fct_calls WHERE account_id = %s ORDER BY started_at DESC LIMIT 1",
        (account_id,),
    )
    built.emu.mark_spam(account_id, call_id)

    # Daily counts due this run: CallRail no longer counts the call; the warehouse keeps it.
    output = run_pipeline(meltano, {**built.env, "TAP_CALLRAIL_FULL_TABLE_REFRESH_HOURS": "0"})

    assert re.search(r"Done\. PASS=\d+ WARN=1 ERROR=0 SKIP=0", output), output[-3000:]
    assert re.search(r"WARN 1 calls_match_callrail_daily_counts", output), output[-3000:]
    assert warehouse.query(f"SELECT count(*) FROM {ANALYTICS}.fct_calls WHERE call_id = %s", (call_id,)) == [(1,)]


def test_fan_out_staging_views_build_once_the_streams_are_selected_and_the_var_is_set(meltano, built, warehouse):
    env = {**built.env, "TAP_CALLRAIL__SELECT": '["*.*"]'}
    meltano.command("run", "--state-id-suffix", SUFFIX, "tap-callrail", "target-postgres", env=env)
    views = " ".join(f"stg_callrail__{s}" for s in FAN_OUTS)

    proc = meltano.command(
        "invoke", "dbt-postgres", "build", "--vars", "{callrail_fanouts: true}", "--select", views, env=env
    )

    assert re.search(r"Done\. PASS=\d+ WARN=0 ERROR=0 SKIP=0", proc.stdout + proc.stderr)
    for stream in FAN_OUTS:
        (raw,) = warehouse.query(f"SELECT count(*) FROM {SCHEMA}.{stream}")
        (staged,) = warehouse.query(f"SELECT count(*) FROM {STAGING}.stg_callrail__{stream}")
        assert raw == staged and raw[0] > 0, stream
