"""Prove that a change to tap_callrail/ leaves what the tap emits unchanged.

python -m devtools.compare_output capture --ref REV --out FILE [--calls 100000]
    Runs the tap as it is at git revision REV (or the working tree with `--ref WORKTREE`)
    against the in-process emulator, saves its stdout to FILE (gzipped when FILE ends in .gz)
    and prints the messages per type. Only tap_callrail/ comes from REV: the emulator (and the
    venv's singer-sdk) are the working tree's for every capture, so both sides see the same API.
python -m devtools.compare_output compare A B
    Exit 0 when A and B hold the same RECORD and STATE messages in the same order (and the same
    SCHEMA and ACTIVATE_VERSION messages), else print the first differences and exit 1.

What is ignored, and why: `time_extracted` and `version` of RECORD messages, `version` of
ACTIVATE_VERSION messages and the values of `replication_key_signpost` (the SDK's stream start
time, in the STATE messages written while a stream is still being read), `read_completely_at`
and `deep_lookback_at` (when this run read what, tap_callrail/due.py) in STATE messages are
the wall clock of the run. A signpost must still be where the other file has one. Everything
else must be equal as JSON (key order ignored; 1 and 1.0 differ, 1.10 and 1.1 do not).

Determinism: the emulator's data set is a function of its seed and its `now`, which is fixed.
The tap's clock is real time: its date window ends at the real now (after every emulated
call) and starts at the later of `start_date` and its retention floor (real now - 25 months +
1 day). The emulated history is kept short (HISTORY_DAYS) and START_DATE lies before all of it,
so every call is read until the floor passes START_DATE, at the end of November 2027
(`check_clock` refuses to capture from then on).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter, deque
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from itertools import zip_longest
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
WORKTREE = "WORKTREE"

SEED = 7
API_KEY = "identity-key"
FIXED_NOW = datetime(2026, 11, 26, 12, 0, tzinfo=timezone.utc)
HISTORY_DAYS = 365  # the emulator's default (700) would start inside the tap's moving retention floor
START_DATE = "2025-11-01"  # before the first emulated call (FIXED_NOW - 365 days - a few minutes)

IGNORED = {"RECORD": ("time_extracted", "version"), "ACTIVATE_VERSION": ("version",)}
SIGNPOST = "replication_key_signpost"
#: State values that are the wall clock of the run: the signpost, and when a read was done.
WALL_CLOCK = {SIGNPOST, "read_completely_at", "deep_lookback_at"}
SHOWN_DIFFERENCES = 5


# --- capture ---------------------------------------------------------------------------------


def tap_source(ref: str, scratch: Path) -> tuple[Path, str]:
    """The directory holding `tap_callrail/` as it is at `ref`, and what that is (a commit)."""
    if ref == WORKTREE:
        return ROOT, f"HEAD {git('rev-parse', 'HEAD')} + uncommitted changes"
    sha = git("rev-parse", "--verify", f"{ref}^{{commit}}")
    source = scratch / f"tapcallrail-{sha[:12]}"
    source.mkdir()
    archive = subprocess.run(["git", "archive", sha, "tap_callrail"], cwd=ROOT, capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(source)], input=archive.stdout, check=True)
    return source, sha


def git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()


def tap_environment(source: Path) -> dict[str, str]:
    """Only `source` on the path: the venv's editable install must not supply the working tree's tap."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TAP_CALLRAIL_", "PYTHON"))}
    env.update(PYTHONPATH=str(source), PYTHONDONTWRITEBYTECODE="1")
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"  # the emulator, never through a proxy
    return env


def check_origin(source: Path, env: dict[str, str]) -> None:
    """Fail unless every tap_callrail module the tap's interpreter imports is a file under `source`.

    Run with the same interpreter, environment and working directory as the tap itself
    (`python -m` puts the working directory first on sys.path).
    """
    probe = (
        "import sys, tap_callrail.tap\n"
        "for name, module in sorted(sys.modules.items()):\n"
        "    if name.split('.')[0] == 'tap_callrail': print(getattr(module, '__file__', None))\n"
    )
    files = subprocess.run(
        [sys.executable, "-c", probe], cwd=source, env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    strays = [f for f in files if not Path(f).resolve().is_relative_to(source.resolve())]
    if not files or strays:
        sys.exit(f"tap_callrail is not imported from {source}: {strays or 'nothing imported'}")


def check_clock() -> None:
    """Fail once the tap's retention floor (real now - 25 months + 1 day) would cut off emulated calls."""
    from callrail_emulator.timeutil import RETENTION_MONTHS, months_before

    floor = months_before(datetime.now(timezone.utc), RETENTION_MONTHS) + timedelta(days=1)
    if floor.date().isoformat() > START_DATE:
        sys.exit(f"the tap's retention floor {floor:%Y-%m-%d} is after START_DATE {START_DATE}: move FIXED_NOW on")


def capture(ref: str, out: Path, calls: int) -> None:
    from callrail_emulator import Emulator

    check_clock()
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="compare-output-") as tmp:
        scratch = Path(tmp)
        source, sha = tap_source(ref, scratch)
        env = tap_environment(source)
        check_origin(source, env)
        emulator = Emulator(
            seed=SEED, api_key=API_KEY, accounts=1, calls_per_account=calls, now=FIXED_NOW, history_days=HISTORY_DAYS
        )
        config = {
            "api_key": API_KEY,
            "api_url": emulator.start(port=0),
            "start_date": START_DATE,
            "requests_per_hour": 0,
            "requests_per_day": 0,
            "emit_activate_version_messages": True,
        }
        (scratch / "config.json").write_text(json.dumps(config))
        raw = scratch / "stdout.jsonl"
        started = time.monotonic()
        try:
            with raw.open("wb") as stdout, (scratch / "stderr.txt").open("wb") as stderr:
                # No catalog: the tap discovers its streams and selects every one.
                result = subprocess.run(
                    [sys.executable, "-m", "tap_callrail.tap", "--config", str(scratch / "config.json")],
                    cwd=source,
                    env=env,
                    stdout=stdout,
                    stderr=stderr,
                    check=False,
                )
        finally:
            emulator.stop()
        seconds = time.monotonic() - started
        if result.returncode != 0:
            tail = (scratch / "stderr.txt").read_text(errors="replace")[-3000:]
            sys.exit(f"the tap exited with {result.returncode}; end of its stderr:\n{tail}")
        with raw.open("rb") as src, gzip.open(out, "wb") if out.suffix == ".gz" else out.open("wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
    print(f"{ref} ({sha}) -> {out}: tap run {seconds:.1f} s, {calls} calls, emulator now {FIXED_NOW:%Y-%m-%dT%H:%MZ}")
    types, records = Counter[str](), Counter[str]()
    for message in messages(out):
        types[message["type"]] += 1
        if message["type"] == "RECORD":
            records[message["stream"]] += 1
    print("messages: " + ", ".join(f"{kind} {n}" for kind, n in sorted(types.items())))
    print("records:  " + ", ".join(f"{stream} {n}" for stream, n in sorted(records.items())))


# --- compare ---------------------------------------------------------------------------------


def messages(path: Path) -> Iterator[dict[str, Any]]:
    """The messages of a captured file; numbers with a fraction as Decimal, so none is rounded."""
    with gzip.open(path, "rt") if path.suffix == ".gz" else path.open() as lines:
        for line in lines:
            if line.strip():
                yield json.loads(line, parse_float=Decimal)


def comparable(message: dict[str, Any]) -> dict[str, Any]:
    """The message without the parts that are the run's wall clock."""
    kept = {k: v for k, v in message.items() if k not in IGNORED.get(message["type"], ())}
    return {**kept, "value": without_signposts(kept["value"])} if message["type"] == "STATE" else kept


def without_signposts(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: "<wall clock>" if k in WALL_CLOCK else without_signposts(v) for k, v in value.items()}
    return [without_signposts(item) for item in value] if isinstance(value, list) else value


def canonical(value: Any) -> str:
    """One text per JSON value: keys sorted; a fractional number as its normalized Decimal."""
    return json.dumps(value, sort_keys=True, default=lambda d: f"<number {d.normalize()}>")


def text(flat: dict[str, Any], key: str) -> str:
    return canonical(flat[key]) if key in flat else "<absent>"


def category(message: dict[str, Any]) -> str:
    """RECORD and STATE are compared as one sequence: a STATE must follow the same records."""
    return "RECORD+STATE" if message["type"] in ("RECORD", "STATE") else message["type"]


def flatten(value: Any, path: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        return {k: v for key, item in value.items() for k, v in flatten(item, f"{path}.{key}" if path else key).items()}
    if isinstance(value, list) and value:
        return {k: v for i, item in enumerate(value) for k, v in flatten(item, f"{path}[{i}]").items()}
    return {path: value}


def label(message: dict[str, Any]) -> str:
    return f"{message.get('type')} {message.get('stream', '')}".rstrip()


def describe(index: int, a: dict[str, Any] | None, b: dict[str, Any] | None) -> str:
    """`#index TYPE stream` and the keys whose values differ, to see at once what changed."""
    head = a or b or {}
    title = f"#{index} {label(head)}"
    if a is None or b is None:
        return f"{title}: only in {'B' if a is None else 'A'}: {canonical(comparable(head))[:200]}"
    if label(a) != label(b):
        return f"{title}: A is {label(a)}, B is {label(b)}"
    flat_a, flat_b = flatten(comparable(a)), flatten(comparable(b))
    texts = [(key, text(flat_a, key), text(flat_b, key)) for key in sorted(flat_a.keys() | flat_b.keys())]
    lines = [f"    {key}: {old[:80]} -> {new[:80]}" for key, old, new in texts if old != new]
    return "\n".join([f"{title}:", *lines[:10], *(["    …"] if len(lines) > 10 else [])])


class Stream:
    """One stream's messages of one type in A and B: as multisets, and as sequences (a running hash)."""

    def __init__(self) -> None:
        self.bags: tuple[Counter[bytes], Counter[bytes]] = (Counter(), Counter())
        self.chains = (hashlib.blake2b(), hashlib.blake2b())

    def add(self, side: int, text: str) -> None:
        digest = hashlib.blake2b(text.encode(), digest_size=16).digest()
        self.bags[side][digest] += 1
        self.chains[side].update(digest)

    def verdict(self) -> str:
        only_a, only_b = (sum((x - y).values()) for x, y in (self.bags, self.bags[::-1]))
        if only_a or only_b:
            return f"{only_a} only in A, {only_b} only in B"
        return "same" if self.chains[0].digest() == self.chains[1].digest() else "same messages, ORDER DIFFERS"


def compare(path_a: Path, path_b: Path) -> int:
    """Compare each category's sequence in order, then each stream's messages on their own.

    The per-stream view tells a changed record from a mere reordering: when every stream holds
    the same messages in the same order but the categories differ, only the interleaving changed.
    """
    sequences: dict[str, list[int]] = {}  # category -> [messages in A, in B, positions differing]
    shown: list[str] = []
    pending: dict[str, tuple[deque, deque]] = {}  # category -> A's, B's (index, message, text) not paired yet
    streams: dict[tuple[str, str], Stream] = {}  # (type, stream)

    def differ(kind: str, index: int, a: dict[str, Any] | None, b: dict[str, Any] | None) -> None:
        sequences[kind][2] += 1
        if len(shown) < SHOWN_DIFFERENCES:
            shown.append(f"{kind} {describe(index, a, b)}")

    for pair in zip_longest(messages(path_a), messages(path_b)):
        for side, message in enumerate(pair):
            if message is None:
                continue
            kind, same_as = category(message), canonical(comparable(message))
            counts = sequences.setdefault(kind, [0, 0, 0])
            pending.setdefault(kind, (deque(), deque()))[side].append((counts[side], message, same_as))
            counts[side] += 1
            streams.setdefault((message["type"], message.get("stream", "-")), Stream()).add(side, same_as)
        # Pair each category's messages of A and B by their position within the category.
        for kind, (left, right) in pending.items():
            while left and right:
                (index, a, text_a), (_, b, text_b) = left.popleft(), right.popleft()
                if text_a != text_b:
                    differ(kind, index, a, b)
    for kind, (left, right) in pending.items():
        for index, message, _ in left:
            differ(kind, index, message, None)
        for index, message, _ in right:
            differ(kind, index, None, message)

    print(f"A: {path_a}\nB: {path_b}")
    for kind, (count_a, count_b, diff) in sorted(sequences.items()):
        verdict = "identical, in order" if diff == 0 else f"{diff} positions differ"
        print(f"  {kind:<16} A {count_a:>7}  B {count_b:>7}  {verdict}")
    print("per stream, on its own (RECORD always, other types when they differ):")
    for (kind, name), stream in sorted(streams.items()):
        verdict = stream.verdict()
        if kind == "RECORD" or verdict != "same":
            count_a, count_b = (sum(bag.values()) for bag in stream.bags)
            print(f"  {kind:<16} {name:<20} A {count_a:>7}  B {count_b:>7}  {verdict}")
    if all(diff == 0 for _, _, diff in sequences.values()):
        print(
            "IDENTICAL (ignoring RECORD time_extracted/version, ACTIVATE_VERSION version, "
            f"STATE {', '.join(sorted(WALL_CLOCK))} values)"
        )
        return 0
    if all(stream.verdict() == "same" for stream in streams.values()):
        print("DIFFERENT: every stream has the same messages in the same order; only their interleaving differs")
    else:
        print("DIFFERENT")
    print(f"first {len(shown)} differences (#index within the category):")
    print("\n".join(shown))
    return 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.compare_output", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    cap = commands.add_parser("capture", help="run the tap at a revision and save its stdout")
    cap.add_argument("--ref", required=True, help=f"git revision, or {WORKTREE} for the working tree")
    cap.add_argument("--out", required=True, type=Path, help="output file (.gz: gzipped)")
    cap.add_argument("--calls", type=int, default=100_000)
    cmp = commands.add_parser("compare", help="compare two captured files")
    cmp.add_argument("a", type=Path)
    cmp.add_argument("b", type=Path)
    args = parser.parse_args(argv)
    if args.command == "capture":
        capture(args.ref, args.out, args.calls)
        return 0
    return compare(args.a, args.b)


if __name__ == "__main__":
    sys.exit(main())
