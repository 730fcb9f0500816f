"""Fixtures for the end-to-end tests.

Shared for the whole session: one PostgreSQL (devtools.localpg on a free port, in a temp folder)
and one installed Meltano project (a copy of the repo's meltano.yml in a temp folder, installed
once). The user's `.env`, `.meltano/` and TAP_CALLRAIL_*/TARGET_POSTGRES_*/MELTANO_* variables are
never seen. Each test gets fresh emulators, its own target schema and its own state id
(`--state-id-suffix`), because tests mutate the emulator and read state.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from devtools.localpg import LocalPostgres, free_port

from .pipeline import API_KEY, DATABASE, REPO, MeltanoProject, RunningEmulator, Warehouse


@pytest.fixture(scope="session")
def warehouse() -> Iterator[Warehouse]:
    # mkdtemp is in the system temp folder, which the postgres user can reach when we are root.
    base = Path(tempfile.mkdtemp(prefix="tap-callrail-e2e-pg-"))
    pg = LocalPostgres(base, free_port()).start()
    try:
        pg.create_database(DATABASE)
        yield Warehouse(pg)
    finally:
        pg.destroy()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def workdir() -> Iterator[Path]:
    """Session folder for the Meltano project and logs.

    Not pytest's tmp_path: pytest prunes old basetemp folders, including ones a concurrent
    pytest session is still using.
    """
    path = Path(tempfile.mkdtemp(prefix="tap-callrail-e2e-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def scratch(workdir: Path, request: pytest.FixtureRequest) -> Path:
    """A folder of this test's own (configs, logs)."""
    path = workdir / "tests" / re.sub(r"[^A-Za-z0-9_]+", "_", request.node.name)[:80]
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def meltano(warehouse: Warehouse, workdir: Path) -> MeltanoProject:
    root = workdir / "meltano-project"
    root.mkdir()
    source = (REPO / "meltano.yml").read_text()
    # `pip_url: -e .` means the repo; the copy lives elsewhere, so name the repo explicitly.
    copied = re.sub(r"(?m)^(\s*pip_url:\s*)-e \.\s*$", rf"\1-e {REPO}", source)
    assert copied != source, "meltano.yml no longer installs the tap with `pip_url: -e .`"
    (root / "meltano.yml").write_text(copied)
    # The dbt transformer's project_dir is $MELTANO_PROJECT_ROOT/transform; dbt writes target/ there.
    shutil.copytree(REPO / "transform", root / "transform", ignore=shutil.ignore_patterns("target", "logs"))
    logs = workdir / "meltano-logs"
    logs.mkdir()
    project = MeltanoProject(root, warehouse, logs)
    project.command("install", timeout=900)
    return project


@pytest.fixture
def emulator() -> Iterator[Callable[..., RunningEmulator]]:
    """Fresh started emulators, stopped after the test: `emulator(calls_per_account=...)`."""
    from callrail_emulator import Emulator

    started: list[Any] = []

    def make(seed: int = 7, accounts: int = 2, calls_per_account: int = 300, **shape: Any) -> RunningEmulator:
        emu = Emulator(seed=seed, api_key=API_KEY, accounts=accounts, calls_per_account=calls_per_account, **shape)
        url = emu.start(port=0)
        started.append(emu)
        return RunningEmulator(emu, url)

    yield make
    for emu in started:
        emu.stop()
