"""The benchmarks' generated runtime lines are what the sensor writes, and their floor reads them all."""

from __future__ import annotations

import os
from pathlib import Path

from assess.sources.runtime.to_bom import read_handshake_files
from bench.child import run_python
from bench.runtime_lines import write_lines


def test_generated_lines_fold_into_one_flow_per_endpoint(tmp_path: Path) -> None:
    path = tmp_path / "runtime.jsonl.gz"
    write_lines(path, 300, 20)
    _, report = read_handshake_files([path])
    assert report["handshakes"] == 300 and report["protocol_assets"] == 20
    assert report["pq_hybrid_handshakes"] == 105  # every third endpoint offers X25519MLKEM768


def test_the_parse_floor_rewrites_every_line_and_reports_its_own_peak_memory(tmp_path: Path) -> None:
    source, target = tmp_path / "runtime.jsonl", tmp_path / "rewritten.jsonl"
    write_lines(source, 50, 5)
    measured = run_python(str(Path(__file__).resolve().parents[1] / "bench" / "parse_floor.py"), source, target,
                          env=dict(os.environ))
    assert len(target.read_text().splitlines()) == 50
    assert measured.peak_rss_mib > 1 and measured.cpu_s > 0
