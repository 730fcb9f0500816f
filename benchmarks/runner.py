"""Run one child process and measure it: wall time, CPU seconds (user + system) and peak RSS.

`os.wait4` returns the rusage of exactly that child, so the figures never include the
benchmark harness or the emulator, which serve from this process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BIN = Path(sys.executable).parent
TAP = str(BIN / "tap-callrail")
PYTHON = sys.executable
# A developer's real settings must never leak into a benchmark run.
HERMETIC_PREFIXES = ("TAP_CALLRAIL_", "TARGET_POSTGRES_", "MELTANO_")


def hermetic_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(HERMETIC_PREFIXES)}
    env.update(extra)
    return env


@dataclass
class ProcessRun:
    """What one child process cost."""

    argv: list[str]
    returncode: int
    wall_s: float
    user_s: float
    sys_s: float
    max_rss_kb: int
    stdout_path: Path | None = None
    stderr_path: Path | None = None

    @property
    def cpu_s(self) -> float:
        return self.user_s + self.sys_s

    @property
    def max_rss_mb(self) -> float:
        return self.max_rss_kb / 1024  # Linux reports ru_maxrss in KiB

    def stderr_tail(self, lines: int = 30) -> str:
        if self.stderr_path is None or not self.stderr_path.exists():
            return ""
        return "\n".join(self.stderr_path.read_text(errors="replace").splitlines()[-lines:])

    def check(self) -> ProcessRun:
        if self.returncode != 0:
            raise RuntimeError(f"{' '.join(self.argv[:3])} … exited {self.returncode}:\n{self.stderr_tail()}")
        return self


# Runs argv[2:] as a child of this small process and writes the child's peak RSS (KiB) to argv[1].
# Linux hands a forked child the high-water RSS of the process it was forked from, so a tap forked
# straight from a large process (pytest after the e2e tests, a benchmark holding an emulator)
# would report that process's peak instead of its own.
MEASURED_LAUNCH = """
import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as peak:
    peak.write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status))
"""


def measured_launch(argv: list[str], peak_file: Path) -> list[str]:
    """`argv` run through MEASURED_LAUNCH: its own peak RSS lands in `peak_file`."""
    return [sys.executable, "-c", MEASURED_LAUNCH, str(peak_file), *argv]


def measure(
    argv: list[str],
    *,
    stdout: Path | None = None,
    stderr: Path | None = None,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> ProcessRun:
    """Run `argv` to completion; stdout goes to `stdout` (or /dev/null)."""
    out = open(stdout, "wb") if stdout else open(os.devnull, "wb")  # noqa: SIM115
    err = open(stderr, "wb") if stderr else open(os.devnull, "wb")  # noqa: SIM115
    with tempfile.TemporaryDirectory() as scratch:
        peak_file = Path(scratch) / "maxrss"
        try:
            started = time.perf_counter()
            proc = subprocess.Popen(
                measured_launch(argv, peak_file),
                stdout=out,
                stderr=err,
                stdin=subprocess.DEVNULL,
                env=env or hermetic_env(),
                cwd=cwd,
            )
            # The launcher's rusage includes the child it waited for: CPU is the tap's (plus ~0.05 s).
            _, status, usage = os.wait4(proc.pid, 0)
            wall = time.perf_counter() - started
            proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        finally:
            out.close()
            err.close()
        max_rss_kb = int(peak_file.read_text()) if peak_file.exists() else usage.ru_maxrss
    return ProcessRun(
        argv=argv,
        returncode=proc.returncode,
        wall_s=wall,
        user_s=usage.ru_utime,
        sys_s=usage.ru_stime,
        max_rss_kb=max_rss_kb,
        stdout_path=stdout,
        stderr_path=stderr,
    )


def run_tap(
    workdir: Path,
    name: str,
    config: dict[str, Any],
    *,
    catalog: dict[str, Any] | None = None,
    state: dict[str, Any] | None = None,
    capture: bool = False,
    extra_args: tuple[str, ...] = (),
) -> ProcessRun:
    """`tap-callrail --config … [--catalog …] [--state …]`, stdout to a file or /dev/null."""
    workdir.mkdir(parents=True, exist_ok=True)
    argv = [TAP, "--config", _write(workdir / f"{name}.config.json", config)]
    if catalog is not None:
        argv += ["--catalog", _write(workdir / f"{name}.catalog.json", catalog)]
    if state is not None:
        argv += ["--state", _write(workdir / f"{name}.state.json", state)]
    argv += list(extra_args)
    return measure(
        argv,
        stdout=workdir / f"{name}.out.jsonl" if capture else None,
        stderr=workdir / f"{name}.err.log",
    ).check()


def _write(path: Path, payload: dict[str, Any]) -> str:
    path.write_text(json.dumps(payload))
    return str(path)


@dataclass
class TapOutput:
    """What a captured tap run wrote: RECORD lines per stream, and the last STATE."""

    records: Counter[str] = field(default_factory=Counter)
    state: dict[str, Any] = field(default_factory=dict)


_RECORD_PREFIX = b'{"type":"RECORD","stream":"'


def scan_output(path: Path, *, delete: bool = True) -> TapOutput:
    """Count RECORD lines per stream and keep the last STATE value, without decoding records."""
    result = TapOutput()
    with path.open("rb") as handle:
        for line in handle:
            if line.startswith(_RECORD_PREFIX):
                end = line.index(b'"', len(_RECORD_PREFIX))
                result.records[line[len(_RECORD_PREFIX) : end].decode()] += 1
                continue
            message = json.loads(line)
            if message.get("type") == "RECORD":
                result.records[message["stream"]] += 1
            elif message.get("type") == "STATE":
                result.state = message["value"]
    if delete:
        path.unlink()
    return result
