"""`carnot runtime to-bom` on LINES and on LARGE_LINES gzip'd runtime lines over the same ENDPOINTS
flows: peak RSS must not grow with the lines (memory is bounded by flows), and CPU time against the
floor of parsing and re-writing the same lines (bench/parse_floor.py), measured in the same run on
the smaller file. LARGE_LINES=0 leaves out the long case (10M lines take about ten minutes here).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from bench.child import run_python
from bench.runtime_lines import write_lines

LINES = 1_000_000
LARGE_LINES = 10_000_000
ENDPOINTS = 5_000
FLOOR = Path(__file__).with_name("parse_floor.py")


def _to_bom(folder: Path, lines: int) -> dict[str, Any]:
    source = folder / f"runtime_{lines}.jsonl.gz"
    size = write_lines(source, lines, ENDPOINTS)
    measured = run_python("assess", "runtime", "to-bom", source, "--out", folder / f"runtime_{lines}.cdx.json",
                          "--json", env={**os.environ, "SOURCE_DATE_EPOCH": "1767225600"})
    report = json.loads(measured.stdout)
    if report["handshakes"] != lines:
        raise RuntimeError(f"to-bom read {report['handshakes']} of {lines} handshakes")
    figures = {"gz_mib": round(size / 2**20, 1), "cpu_s": round(measured.cpu_s, 2),
               "wall_s": round(measured.wall_s, 2), "peak_rss_mib": round(measured.peak_rss_mib, 1),
               "lines_per_cpu_s": round(lines / measured.cpu_s), "components": report["protocol_assets"]
               + report["algorithm_assets"]}
    source.unlink()
    return figures


def run() -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="carnot-to-bom-bench-") as tmp:
        folder = Path(tmp)
        small = _to_bom(folder, LINES)
        write_lines(folder / "floor.jsonl.gz", LINES, ENDPOINTS)
        floor = run_python(str(FLOOR), folder / "floor.jsonl.gz", os.devnull)
        figures: dict[str, Any] = {"endpoints": ENDPOINTS, "lines": LINES,
                                   **{f"{k}_at_lines": v for k, v in small.items()},
                                   "floor_cpu_s_at_lines": round(floor.cpu_s, 2),
                                   "to_floor_cpu_ratio_at_lines": round(small["cpu_s"] / floor.cpu_s, 2)}
        if LARGE_LINES:
            large = _to_bom(folder, LARGE_LINES)
            figures |= {"large_lines": LARGE_LINES, **{f"{k}_at_large_lines": v for k, v in large.items()},
                        "peak_rss_ratio_large_to_lines": round(large["peak_rss_mib"] / small["peak_rss_mib"], 3)}
        return figures
