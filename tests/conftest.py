"""Shared fixtures: the outside CBOMs (tests/data/cyclonedx-cbom and tests/data/cbom-real, each with a NOTICE)
and a CLI runner."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CONFORMANCE = ROOT / "tests" / "data" / "cyclonedx-cbom"
REAL_CBOMS = ROOT / "tests" / "data" / "cbom-real"


@pytest.fixture(scope="session")
def conformance_cboms() -> list[Path]:
    files = sorted(CONFORMANCE.glob("*.cdx.json"))
    if not files:
        pytest.fail(f"the CycloneDX conformance set is missing from {CONFORMANCE}")
    return files


@pytest.fixture(scope="session")
def real_cboms() -> dict[str, Path]:
    """CBOMs other tools wrote (CBOMkit, cbomkit-theia, CycloneDX's examples), by file name; see its NOTICE."""
    files = {p.name: p for p in sorted(REAL_CBOMS.glob("*.json"))}
    if not files:
        pytest.fail(f"the real CBOM corpus is missing from {REAL_CBOMS}")
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
