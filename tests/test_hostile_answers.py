"""Answers CallRail does not document, through the real `tap-callrail` command against the emulator.

The emulator's hostile modes (callrail_emulator/hostile.py) answer badly on purpose: a 200 that is
not a page, pages that lie about their count or ignore the page asked for, a delete and an insert
while a full-table stream is read, dates in the future, numbers no column holds. Whatever the
answer, the tap must not damage the warehouse: no ACTIVATE_VERSION after a read that was not real
and complete, pagination that ends, no bookmark past now, only whole JSON lines on stdout, and the
API key in no output. The cases run as parallel subprocesses once per module; each test reads the
result of its own case.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from benchmarks.runner import measured_launch
from callrail_emulator import Emulator

TAP = str(Path(sys.executable).parent / "tap-callrail")
KEY = "HOSTILE-secret-Key-73f9a1"
#: The key as it may show in output when a test passes it with whitespace, and its parts.
KEY_FORMS = (KEY, KEY[:12], KEY[12:], repr(KEY + "\r"), repr(KEY + "\n"), json.dumps(KEY + "\r\n"))


@dataclass
class Case:
    setup: Callable[[Emulator], Any] = lambda emu: None
    config: dict[str, Any] = field(default_factory=dict)
    streams: tuple[str, ...] = ("accounts", "companies")
    emulator: dict[str, Any] = field(default_factory=dict)
    state: Callable[[Emulator], dict] | None = None


@dataclass
class Run:
    proc: subprocess.CompletedProcess[str]
    requests: list[dict[str, Any]]
    seconds: float
    account_id: str
    truth: dict[str, set[Any]]  # ids the emulator holds after the run, per stream read
    peak_mb: float = 0.0

    @property
    def output(self) -> str:
        return self.proc.stdout + self.proc.stderr

    @property
    def messages(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.proc.stdout.splitlines()]

    def records(self, stream: str) -> list[dict[str, Any]]:
        return [m["record"] for m in self.messages if m["type"] == "RECORD" and m["stream"] == stream]

    def activated(self) -> set[str]:
        return {m["stream"] for m in self.messages if m["type"] == "ACTIVATE_VERSION"}

    def errors(self) -> list[str]:
        return [line for line in self.proc.stderr.splitlines() if "| ERROR" in line]

    def warnings(self) -> list[str]:
        return [line for line in self.proc.stderr.splitlines() if "| WARNING" in line]

    def requested(self, path_part: str) -> list[dict[str, Any]]:
        return [r for r in self.requests if path_part in r["path"]]


def _shift(position: int, after_page: int = 1) -> Callable[[Emulator], Any]:
    return lambda emu: emu.hostile("shift", "/companies.json", after_page=after_page, position=position)


def _hostile(mode: str, path: str) -> Callable[[Emulator], Any]:
    return lambda emu: emu.hostile(mode, path)


def _future_bookmark(value: str) -> Callable[[Emulator], dict]:
    def state(emu: Emulator) -> dict:
        partition = {"context": {"account_id": emu.account_ids[0]}, "replication_key": "start_time",
                     "replication_key_value": value}
        return {"bookmarks": {"calls": {"partitions": [partition]}}}

    return state


FAIL_FAST = {"max_retries": 1, "backoff_max_seconds": 1}
BOUNDED = {"max_retries": 1, "backoff_max_seconds": 1, "request_timeout_seconds": 2}
DELETES = {"emit_activate_version_messages": True}
MANY = {"companies_per_account": 600, "integrations_per_company": 0, "caller_ids_per_company": 0}
TWO_PAGES = {"companies_per_account": 300, "integrations_per_company": 0, "caller_ids_per_company": 0}

CASES: dict[str, Case] = {
    # A 200 that is not a page: retried, then one line, and nothing marked deleted.
    "error_body_on_the_account_list": Case(_hostile("error_body", "/a.json"), {**FAIL_FAST, **DELETES}),
    "missing_key_on_the_account_list": Case(_hostile("missing_key", "/a.json"), {**FAIL_FAST, **DELETES}),
    "json_list_on_the_account_list": Case(_hostile("json_list", "/a.json"), {**FAIL_FAST, **DELETES}),
    "error_body_on_companies": Case(_hostile("error_body", "/companies.json"), {**FAIL_FAST, **DELETES}),
    "missing_key_on_companies": Case(_hostile("missing_key", "/companies.json"), {**FAIL_FAST, **DELETES}),
    "null_key_on_companies": Case(_hostile("null_key", "/companies.json"), {**FAIL_FAST, **DELETES}),
    "string_key_on_companies": Case(_hostile("string_key", "/companies.json"), {**FAIL_FAST, **DELETES}),
    # A delete on a page already read plus an insert further on: counts stay, a live row is skipped.
    "no_shift_600_companies": Case(config=DELETES, emulator=MANY),
    "shift_first_of_page_1": Case(_shift(0), DELETES, emulator=MANY),
    "shift_middle_of_page_1": Case(_shift(125), DELETES, emulator=MANY),
    "shift_last_of_page_1": Case(_shift(249), DELETES, emulator=MANY),
    "shift_on_page_2_after_it": Case(_shift(400, after_page=2), DELETES, emulator=MANY),
    # Pagination that lies.
    "lying_total_pages": Case(_hostile("lying_total_pages", "/companies.json"), DELETES, emulator=TWO_PAGES),
    "page_echo_one": Case(_hostile("page_echo_one", "/companies.json"), DELETES, emulator=TWO_PAGES),
    "ignore_page_on_companies": Case(_hostile("ignore_page", "/companies.json"), DELETES, emulator=TWO_PAGES),
    "ignore_page_on_calls": Case(_hostile("ignore_page", "/calls.json"), streams=("calls",)),
    # Dates in the future.
    "future_bookmark_in_state": Case(state=_future_bookmark("2999-01-01T00:00:00.000000Z"), streams=("calls",)),
    "garbage_bookmark_in_state": Case(state=_future_bookmark("garbage"), streams=("calls",)),
    "future_start_date": Case(config={"start_date": "2999-01-01"}, streams=("calls",)),
    # The key.
    "key_with_trailing_cr": Case(config={"api_key": KEY + "\r"}, streams=("accounts",)),
    "key_with_trailing_newline": Case(config={"api_key": f"  {KEY}\r\n"}, streams=("accounts",)),
    "key_with_a_line_break_inside": Case(config={"api_key": KEY[:12] + "\n" + KEY[12:]}, streams=("accounts",)),
    "key_not_a_string": Case(config={"api_key": 987654321987}, streams=("accounts",)),
    # Waits, deadlines and sizes that must be bounded.
    "retry_after_31_years": Case(lambda emu: emu.rate_limit(1, retry_after=999999999), streams=("accounts",)),
    "retry_after_in_year_9999": Case(
        lambda emu: emu.rate_limit(1, retry_after=datetime(9999, 12, 31, tzinfo=timezone.utc)), streams=("accounts",)
    ),
    "body_one_byte_a_second": Case(_hostile("trickle", "/a.json"), {**BOUNDED, "max_retries": 0}, ("accounts",)),
    "connection_never_answered": Case(_hostile("hang", "/a.json"), BOUNDED, ("accounts",)),
    "gzip_bomb": Case(_hostile("gzip_bomb", "/companies.json"), FAIL_FAST),
    "json_nested_100000_deep": Case(_hostile("deep_json", "/companies.json"), FAIL_FAST),
    "redirect_loop": Case(_hostile("redirect_loop", "/companies.json"), FAIL_FAST),
    "redirect_to_a_file": Case(_hostile("redirect_file", "/companies.json"), FAIL_FAST),
    "redirect_to_another_origin": Case(_hostile("redirect_other_origin", "/companies.json"), FAIL_FAST),
    # A company deleted while the run reads, and one that answers 404 while still listed.
    "company_vanishes_mid_run": Case(
        _hostile("vanish_company", None), DELETES, ("accounts", "companies", "integrations", "users")
    ),
    "listed_company_answers_404": Case(_hostile("company_404", None), FAIL_FAST, ("accounts", "integrations")),
    # Values that do not fit their type, and a record without its key.
    "values_that_do_not_fit": Case(
        lambda emu: (
            emu.add_bad_record("calls", emu.account_ids[0], tags=[None, {"name": None}, 5, "Kept"], answered="yes",
                               duration=1.5),
            emu.add_bad_record("calls", emu.account_ids[0], id=None),
        ),
        streams=("calls",),
    ),
    # Numbers no column holds.
    "huge_durations": Case(
        lambda emu: [emu.add_bad_record("calls", emu.account_ids[0], duration=value)
                     for value in ("1e999999", "1e300000000")],
        streams=("calls",),
    ),
}


def _catalog(workdir: Path, config_path: Path) -> dict:
    proc = subprocess.run([TAP, "--config", str(config_path), "--discover"], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=120, check=True)
    return json.loads(proc.stdout)


def _select(catalog: dict, streams: tuple[str, ...]) -> dict:
    chosen = json.loads(json.dumps(catalog))
    for entry in chosen["streams"]:
        for meta in entry["metadata"]:
            if meta["breadcrumb"] == []:
                meta["metadata"]["selected"] = entry["tap_stream_id"] in streams
    return chosen


def run_tap(workdir: Path, name: str, case: Case, catalog: dict, state: dict | None = None) -> Run:
    emu = Emulator(seed=5, api_key=KEY, accounts=1, calls_per_account=300, **case.emulator)
    url = emu.start(port=0)
    try:
        case.setup(emu)
        config = {"api_key": KEY, "api_url": url, "requests_per_hour": 0, "requests_per_day": 0, **case.config}
        (workdir / f"{name}.config.json").write_text(json.dumps(config))
        (workdir / f"{name}.catalog.json").write_text(json.dumps(_select(catalog, case.streams)))
        argv = [TAP, "--config", str(workdir / f"{name}.config.json"),
                "--catalog", str(workdir / f"{name}.catalog.json")]
        state = state if state is not None else (case.state(emu) if case.state else None)
        if state is not None:
            (workdir / f"{name}.state.json").write_text(json.dumps(state))
            argv += ["--state", str(workdir / f"{name}.state.json")]
        started = time.monotonic()
        out, err = workdir / f"{name}.out", workdir / f"{name}.err"
        peak = workdir / f"{name}.maxrss"
        with out.open("wb") as stdout, err.open("wb") as stderr:
            # Its own peak RSS: forked from pytest directly, it would report pytest's (benchmarks.runner).
            launched = measured_launch(argv, peak)
            child = subprocess.Popen(launched, stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL)
            returncode = child.wait()
        seconds = time.monotonic() - started
        proc = subprocess.CompletedProcess(
            argv, returncode, out.read_text(errors="replace"), err.read_text(errors="replace")
        )
        truth = {stream: emu.ids(stream) for stream in case.streams}
        return Run(proc, list(emu.requests), seconds, emu.account_ids[0], truth, int(peak.read_text()) / 1024)
    finally:
        emu.stop()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hostile")


@pytest.fixture(scope="module")
def catalog(workdir: Path) -> dict:
    config = workdir / "discover.json"
    config.write_text(json.dumps({"api_key": KEY}))
    return _catalog(workdir, config)


@pytest.fixture(scope="module")
def runs(workdir: Path, catalog: dict) -> dict[str, Run]:
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {name: pool.submit(run_tap, workdir, name, case, catalog) for name, case in CASES.items()}
        return {name: future.result() for name, future in futures.items()}


@pytest.mark.parametrize("case", list(CASES))
def test_no_output_shows_the_key_and_stdout_holds_only_whole_json_lines(runs: dict[str, Run], case: str) -> None:
    run = runs[case]
    for form in KEY_FORMS:
        assert form not in run.output, f"the key ({form!r}) leaked"
    for line in run.proc.stdout.splitlines():
        json.loads(line)  # a cut RECORD line fails here
    assert "Traceback" not in run.output, run.output[-3000:]


NOT_A_PAGE = [name for name in CASES if name.split("_on_")[0] in ("error_body", "missing_key", "json_list",
                                                                  "null_key", "string_key")]


@pytest.mark.parametrize("case", NOT_A_PAGE)
def test_a_200_that_is_not_a_page_fails_the_run_in_one_line_and_marks_nothing_deleted(
    runs: dict[str, Run], case: str
) -> None:
    run = runs[case]
    path = "/a.json" if case.endswith("account_list") else "/companies.json"
    stream = "accounts" if case.endswith("account_list") else "companies"

    assert run.proc.returncode == 1, run.output[-3000:]
    errors = run.errors()
    assert len(errors) == 1, run.output[-3000:]
    assert f"stream '{stream}'" in errors[0] and path in errors[0]
    if stream == "companies":
        assert run.account_id in errors[0]
    assert "not a CallRail page" in errors[0]
    assert stream not in run.activated()
    assert run.records(stream) == []
    assert len(run.requested(path)) == 2  # the first try and max_retries=1 retry, then the run stops


def test_a_200_error_body_quotes_callrails_error(runs: dict[str, Run]) -> None:
    assert "Internal error" in runs["error_body_on_companies"].errors()[0]


def test_a_complete_read_of_600_companies_is_listed_twice_and_then_marks_deletes(runs: dict[str, Run]) -> None:
    run = runs["no_shift_600_companies"]

    assert run.proc.returncode == 0, run.output[-3000:]
    assert {r["id"] for r in run.records("companies")} == run.truth["companies"]
    assert len(run.records("companies")) == 600
    assert "companies" in run.activated()
    pages = [r["query"]["page"][0] for r in run.requested("/companies.json")]
    # The read, then the second listing that proves it; pages 2 and 3 of each are in flight together.
    assert sorted(pages[:3]) == sorted(pages[3:]) == ["1", "2", "3"]


@pytest.mark.parametrize(
    "case", ["shift_first_of_page_1", "shift_middle_of_page_1", "shift_last_of_page_1", "shift_on_page_2_after_it"]
)
def test_a_delete_on_a_page_already_read_plus_an_insert_marks_nothing_deleted(runs: dict[str, Run], case: str) -> None:
    run = runs[case]
    emitted = {r["id"] for r in run.records("companies")}

    assert run.proc.returncode == 0, run.output[-3000:]
    assert emitted != run.truth["companies"], "the shift did not hide a live company: the case tests nothing"
    assert run.truth["companies"] - emitted, "a company that still exists was not emitted"
    assert "companies" not in run.activated()
    assert "accounts" in run.activated()  # the other streams still mark their deletes
    assert any("no rows are marked deleted" in line and "companies" in line for line in run.warnings())


@pytest.mark.parametrize("case", ["lying_total_pages", "page_echo_one"])
def test_pagination_ends_on_the_records_whatever_the_page_counts_say(runs: dict[str, Run], case: str) -> None:
    run = runs[case]

    assert run.proc.returncode == 0, run.output[-3000:]
    assert len(run.records("companies")) == 300
    assert {r["id"] for r in run.records("companies")} == run.truth["companies"]
    assert len(run.requested("/companies.json")) == 4  # 2 pages, listed twice
    assert "companies" in run.activated()


def test_an_overstated_total_pages_is_a_warning(runs: dict[str, Run]) -> None:
    assert any("1000000 pages" in line for line in runs["lying_total_pages"].warnings())


def test_pages_that_ignore_the_page_number_end_and_emit_each_call_once(runs: dict[str, Run]) -> None:
    run = runs["ignore_page_on_calls"]
    ids = [r["id"] for r in run.records("calls")]

    assert run.proc.returncode == 0, run.output[-3000:]
    assert len(run.requested("/calls.json")) == 2
    assert len(ids) == len(set(ids)) == 250


def test_pages_that_ignore_the_page_number_mark_nothing_deleted(runs: dict[str, Run]) -> None:
    run = runs["ignore_page_on_companies"]

    assert run.proc.returncode == 0, run.output[-3000:]
    assert len(run.requested("/companies.json")) == 2
    assert "companies" not in run.activated()
    assert any("repeated records" in line for line in run.warnings())


@pytest.mark.parametrize(
    ("case", "words"),
    [
        ("future_bookmark_in_state", ("'calls'", "in the future", "meltano state set", "--full-refresh")),
        ("garbage_bookmark_in_state", ("'calls'", "not a timestamp", "meltano state set", "--full-refresh")),
        ("future_start_date", ("start_date", "in the future")),
    ],
)
def test_a_date_in_the_future_is_refused_before_the_first_request(
    runs: dict[str, Run], case: str, words: tuple[str, ...]
) -> None:
    run = runs[case]

    assert run.proc.returncode == 1, run.output[-3000:]
    assert run.proc.stdout == ""
    assert len(run.errors()) == 1, run.output[-3000:]
    assert all(word in run.errors()[0] for word in words), run.errors()[0]
    if "bookmark" in case:
        assert run.account_id in run.errors()[0]  # the partition
    assert run.requests == []


@pytest.mark.parametrize("case", ["key_with_trailing_cr", "key_with_trailing_newline"])
def test_whitespace_around_the_key_is_not_part_of_it(runs: dict[str, Run], case: str) -> None:
    run = runs[case]

    assert run.proc.returncode == 0, run.output[-3000:]
    assert len(run.records("accounts")) == 1


@pytest.mark.parametrize(
    ("case", "words"),
    [("key_with_a_line_break_inside", ("api_key", "cannot carry")), ("key_not_a_string", ("api_key", "string"))],
)
def test_an_unusable_key_is_refused_in_one_line_that_never_shows_it(
    runs: dict[str, Run], case: str, words: tuple[str, ...]
) -> None:
    run = runs[case]

    assert run.proc.returncode == 1, run.output[-3000:]
    assert len(run.errors()) == 1, run.output[-3000:]
    assert all(word in run.errors()[0] for word in words)
    assert "987654321987" not in run.output
    assert run.requests == []


def test_numbers_no_column_holds_become_null_with_a_finding_and_the_run_goes_on(runs: dict[str, Run]) -> None:
    run = runs["huge_durations"]
    durations = {r["id"]: r.get("duration") for r in run.records("calls")}

    assert run.proc.returncode == 0, run.output[-3000:]
    assert run.seconds < 60  # converting "1e300000000" to an int would take minutes; bounded, it takes none
    assert len(durations) == 302
    assert sum(1 for value in durations.values() if value is None) >= 2
    assert "unconvertible_value[duration]" in run.proc.stderr and "\u00d72" in run.proc.stderr


def test_a_call_dated_in_the_future_is_data_but_never_the_bookmark(workdir: Path, catalog: dict) -> None:
    far = "2999-01-01T00:00:00.000+00:00"
    case = Case(lambda emu: emu.add_bad_record("calls", emu.account_ids[0], start_time=far), streams=("calls",))

    first = run_tap(workdir, "future_call_first", case, catalog)
    states = [m["value"] for m in first.messages if m["type"] == "STATE"]
    bookmark = states[-1]["bookmarks"]["calls"]["partitions"][0]["replication_key_value"]
    second = run_tap(workdir, "future_call_second", case, catalog, state=states[-1])

    assert first.proc.returncode == 0, first.output[-3000:]
    assert any(r["start_time"].startswith("2999") for r in first.records("calls"))
    assert "future_timestamp[start_time]" in first.proc.stderr
    now = datetime.now(timezone.utc)
    assert datetime.fromisoformat(bookmark.replace("Z", "+00:00")) <= now + timedelta(minutes=5)
    for run in (first, second):
        for message in run.messages:
            if message["type"] == "STATE":
                for partition in message["value"]["bookmarks"].get("calls", {}).get("partitions", []):
                    assert not str(partition.get("replication_key_value", "")).startswith("2999")
    assert second.proc.returncode == 0, second.output[-3000:]
    start_dates = [r["query"]["start_date"][0] for r in second.requested("/calls.json")]
    assert start_dates and all(value < now.strftime("%Y-%m-%dT%H:%M") for value in start_dates)
    assert second.records("calls"), "the second run read calls again"


@pytest.mark.parametrize("case", ["retry_after_31_years", "retry_after_in_year_9999"])
def test_a_wait_beyond_max_wait_seconds_ends_the_run_at_once_saying_when_to_rerun(
    runs: dict[str, Run], case: str
) -> None:
    run = runs[case]

    assert run.proc.returncode == 1, run.output[-3000:]
    assert run.seconds < 60
    [error] = run.errors()
    assert "max_wait_seconds=3600" in error and "run again after" in error and "days" in error
    assert run.messages and run.messages[-1]["type"] == "STATE"  # what was read is saved
    assert sum(1 for line in run.proc.stderr.splitlines() if "Retry-After" in line) == 1


@pytest.mark.parametrize(("case", "bound"), [("body_one_byte_a_second", 20), ("connection_never_answered", 30)])
def test_a_request_ends_within_request_timeout_seconds_however_slow_the_server(
    runs: dict[str, Run], case: str, bound: float
) -> None:
    run = runs[case]

    assert run.proc.returncode == 1, run.output[-3000:]
    assert run.seconds < bound
    [error] = run.errors()
    assert "request_timeout_seconds=2" in error and "/a.json" in error


def test_a_gzip_bomb_ends_the_run_in_one_line_with_memory_bounded(runs: dict[str, Run]) -> None:
    run = runs["gzip_bomb"]

    assert run.proc.returncode == 1, run.output[-3000:]
    [error] = run.errors()
    assert "larger than 256 MB" in error
    assert run.peak_mb < 700, f"peak RSS {run.peak_mb:.0f} MB"


@pytest.mark.parametrize(
    ("case", "words"),
    [
        ("json_nested_100000_deep", ("nested deeper",)),
        ("redirect_loop", ("redirected", "more than 5 times")),
        ("redirect_to_a_file", ("redirected", "outside the API URL")),
        ("redirect_to_another_origin", ("redirected", "'http://localhost", "outside the API URL")),
    ],
)
def test_an_answer_the_tap_will_not_follow_is_one_line(runs: dict[str, Run], case: str, words: tuple) -> None:
    run = runs[case]

    assert run.proc.returncode == 1, run.output[-3000:]
    [error] = run.errors()
    assert all(word in error for word in words), error
    assert "companies" in error
    assert not any(r["path"] == "/etc/passwd" for r in run.requests)


def test_a_company_deleted_while_the_run_reads_is_skipped_and_the_rest_synced(runs: dict[str, Run]) -> None:
    run = runs["company_vanishes_mid_run"]

    assert run.proc.returncode == 0, run.output[-3000:]
    assert any("no longer lists the company" in line for line in run.warnings())
    assert "integrations" not in run.activated()
    assert run.records("users"), "the streams after it are synced"
    assert len(run.records("integrations")) == len(run.truth["companies"])  # one per remaining company


def test_a_company_still_listed_that_answers_404_stops_the_run(runs: dict[str, Run]) -> None:
    run = runs["listed_company_answers_404"]

    assert run.proc.returncode == 1, run.output[-3000:]
    [error] = run.errors()
    assert "404" in error and "integrations" in error


def test_values_that_do_not_fit_are_findings_and_a_record_without_its_key_is_never_emitted(
    runs: dict[str, Run],
) -> None:
    run = runs["values_that_do_not_fit"]
    records = run.records("calls")
    odd = next(r for r in records if "Kept" in (r.get("tags") or []))

    assert run.proc.returncode == 0, run.output[-3000:]
    assert odd["tags"] == ["Kept"] and odd["answered"] is None and odd["duration"] is None
    assert all(r.get("id") for r in records)
    assert all("None" not in (r.get("tags") or []) for r in records)
    for finding in ("unconvertible_value[tags]", "unconvertible_value[answered]", "unconvertible_value[duration]",
                    "missing_primary_key[id]"):
        assert finding in run.proc.stderr, finding
    assert any("without id skipped" in line for line in run.warnings())
