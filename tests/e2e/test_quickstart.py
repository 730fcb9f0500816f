"""README command 1 on a fresh copy, then the README's command to rerun the demo in a new shell."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from dotenv import dotenv_values

from devtools.localpg import free_port

from .pipeline import REPO, hermetic_env, tail

pytestmark = pytest.mark.e2e

DEMO_PORT = 8765  # the demo environment's emulator port in meltano.yml


@contextlib.contextmanager
def port_taken(port: int) -> Iterator[None]:
    """Hold the port (when free), so the quickstart has to start its emulator elsewhere."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        with contextlib.suppress(OSError):
            sock.bind(("127.0.0.1", port))
            sock.listen()
        yield


def fresh_copy(target: Path) -> Path:
    """The repository's files as a clone would have them (tracked and new, nothing ignored)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO, capture_output=True, check=True,
    ).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = REPO / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


def readme_rerun_command() -> str:
    readme = (REPO / "README.md").read_text()
    commands = re.findall(r"^\s*(\.venv/bin/meltano --env-file \.meltano/demo\.env .*)$", readme, flags=re.M)
    assert commands, "README gives no command to rerun the demo"
    return commands[0].strip()


def test_quickstart_builds_the_marts_prints_an_answer_and_a_new_shell_reruns_the_demo(workdir):
    clone = fresh_copy(workdir / "quickstart-clone")
    pg_dir = Path(tempfile.mkdtemp(prefix="tap-callrail-qs-pg-"))
    env = hermetic_env(LOCALPG_DATA_DIR=str(pg_dir), LOCALPG_PORT=str(free_port()))
    try:
        with port_taken(DEMO_PORT):
            first = subprocess.run(
                ["bash", "scripts/quickstart.sh"], cwd=clone, env=env, capture_output=True, text=True,
                stdin=subprocess.DEVNULL, timeout=900, check=False,
            )
        (workdir / "quickstart.log").write_text(first.stdout + first.stderr)
        assert first.returncode == 0, tail(first.stdout + first.stderr)
        assert "One answer from the marts (callrail_demo_analytics)" in first.stdout
        answer = first.stdout.split("One answer from the marts", 1)[1].split("Look at them", 1)[0]
        assert len([line for line in answer.splitlines() if re.match(r"\s+\d{4}-\d\d-\d\d ", line)]) == 5
        assert "Done. PASS=" in first.stderr and "[error" not in first.stderr

        emulator_port = int((clone / ".meltano" / "emulator.port").read_text())
        demo_env = dotenv_values(clone / ".meltano" / "demo.env")
        assert emulator_port != DEMO_PORT
        assert demo_env["TAP_CALLRAIL_API_URL"] == f"http://127.0.0.1:{emulator_port}/v3"
        assert "TAP_CALLRAIL_API_KEY" not in demo_env
        assert not (clone / ".env").exists()

        # A new shell: none of the quickstart's variables, only the README's command.
        rerun = subprocess.run(
            ["bash", "-c", readme_rerun_command()], cwd=clone, env=hermetic_env(), capture_output=True,
            text=True, stdin=subprocess.DEVNULL, timeout=600, check=False,
        )
        (workdir / "quickstart-rerun.log").write_text(rerun.stdout + rerun.stderr)
        assert rerun.returncode == 0, tail(rerun.stderr)
        assert re.search(r"Done\. PASS=\d+ WARN=0 ERROR=0 SKIP=0", rerun.stderr)
    finally:
        pid_file = clone / ".meltano" / "emulator.pid"
        if pid_file.exists():
            with contextlib.suppress(ProcessLookupError, ValueError):
                os.kill(int(pid_file.read_text()), signal.SIGTERM)
        subprocess.run(
            [str(clone / ".venv" / "bin" / "python"), "-m", "devtools.localpg", "destroy"],
            cwd=clone, env=env, capture_output=True, check=False,
        )
        shutil.rmtree(pg_dir, ignore_errors=True)
