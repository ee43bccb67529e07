"""The document path writes the same bytes as before the scale work (tests/data/golden/README.md)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.golden_outputs import MANIFEST, digests, outputs

pytestmark = pytest.mark.slow


def test_shards_merges_and_gate_results_are_byte_identical_to_the_golden_outputs(tmp_path: Path) -> None:
    expected = json.loads(MANIFEST.read_text())
    got = digests(outputs(tmp_path))
    assert sorted(got) == sorted(expected)
    assert [name for name in expected if got[name] != expected[name]] == []
