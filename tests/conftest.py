"""Shared fixtures: the outside conformance set (tests/data/cyclonedx-cbom, see its NOTICE) and a CLI runner."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CONFORMANCE = ROOT / "tests" / "data" / "cyclonedx-cbom"


@pytest.fixture(scope="session")
def conformance_cboms() -> list[Path]:
    files = sorted(CONFORMANCE.glob("*.cdx.json"))
    if not files:
        pytest.fail(f"the CycloneDX conformance set is missing from {CONFORMANCE}")
    return files


@dataclass
class Completed:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def carnot():
    """Run the real `carnot` CLI in a subprocess, as a user would."""

    def run(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float = 300) -> Completed:
        full_env = {**os.environ, **(env or {})}
        proc = subprocess.run(
            [sys.executable, "-m", "assess", *args],
            capture_output=True, text=True, env=full_env, cwd=cwd, timeout=timeout,
        )
        return Completed(proc.returncode, proc.stdout, proc.stderr)

    return run
