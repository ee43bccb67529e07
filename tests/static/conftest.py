"""The scan_tree fixture: scan in-process, write the shard with the real writer, read it back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from scan_testing import Scanned

from assess.cbom import read_cbom, write_shard
from assess.sources.static import scan


@pytest.fixture
def scan_tree(tmp_path: Path):
    """Scan paths in-process, write the shard with the real writer, read it back validated."""

    def run(*paths: Path, rules=None) -> Scanned:
        result = scan(list(paths), rules)
        out = tmp_path / "static.cdx.json"
        write_shard(result.shard, out)
        doc = read_cbom(out)
        skipped = [json.loads(v) for v in doc.metadata_properties("carnot:skipped")]
        return Scanned(doc.data, out.read_text(), skipped)

    return run
