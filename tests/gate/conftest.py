"""The gate's fixtures; the builders live in gate_fixtures.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from gate_fixtures import write_estate


@pytest.fixture
def estate_cbom(tmp_path: Path) -> Path:
    return write_estate(tmp_path / "estate.cdx.json")
