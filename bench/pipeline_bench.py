"""The document path against its floor: LINES runtime handshake lines (ENDPOINTS flows) through
`carnot runtime to-bom`, `merge` and `gate`, each the real CLI in a child process, against the floor
of merely parsing and re-writing the same lines (bench/parse_floor.py), measured in the same run.

The ratio is of CPU seconds (the steadier figure on a shared machine); wall seconds are reported too.
The issue's bar: the pipeline within 5x the floor on 200,000 lines.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from bench.child import run_python
from bench.runtime_lines import write_lines

LINES = 200_000
ENDPOINTS = 5_000
FLOOR = Path(__file__).with_name("parse_floor.py")


def run() -> dict[str, Any]:
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1767225600"}
    with tempfile.TemporaryDirectory(prefix="carnot-pipeline-bench-") as tmp:
        folder = Path(tmp)
        lines = folder / "runtime.jsonl"
        input_bytes = write_lines(lines, LINES, ENDPOINTS)
        floor = run_python(str(FLOOR), lines, folder / "rewritten.jsonl")
        to_bom = run_python("assess", "runtime", "to-bom", lines, "--out", folder / "runtime.cdx.json", "--json",
                            env=env)
        merge = run_python("assess", "merge", folder / "runtime.cdx.json", "-o", folder / "merged.cdx.json", "--json",
                           env=env)
        gate = run_python("assess", "gate", folder / "merged.cdx.json", "--out-dir", folder / "gate",
                          "--engine", "regorus", "--json", env=env)
        stages = {"to_bom": to_bom, "merge": merge, "gate": gate}
        cpu = sum(m.cpu_s for m in stages.values())
        wall = sum(m.wall_s for m in stages.values())
        return {
            "lines": LINES,
            "endpoints": ENDPOINTS,
            "input_mib": round(input_bytes / 2**20, 1),
            "components": json.loads(merge.stdout)["components_out"],
            "findings": json.loads(gate.stdout).get("total"),
            "floor_cpu_s": round(floor.cpu_s, 2),
            "floor_wall_s": round(floor.wall_s, 2),
            **{f"{name}_cpu_s": round(m.cpu_s, 2) for name, m in stages.items()},
            **{f"{name}_wall_s": round(m.wall_s, 2) for name, m in stages.items()},
            **{f"{name}_peak_rss_mib": round(m.peak_rss_mib, 1) for name, m in stages.items()},
            "pipeline_cpu_s": round(cpu, 2),
            "pipeline_wall_s": round(wall, 2),
            "pipeline_to_floor_cpu_ratio": round(cpu / floor.cpu_s, 2),
            "pipeline_to_floor_wall_ratio": round(wall / floor.wall_s, 2),
        }
