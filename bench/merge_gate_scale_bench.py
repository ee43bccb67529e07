"""Merge and gate at the scale of an organisation: COMPONENTS components, time and peak RSS of each.

Two shards as Carnot's stages write them (content-derived `carnot:` refs; the gate bench's mix of RSA
keys and algorithms, certificates, TLS and SSH configurations), overlapping by a fifth so merging
unifies and unions evidence, are merged by `carnot merge` and the result gated by `carnot gate`
(regorus), each the real CLI in a child process reporting its own peak RSS. The floor, measured in
the same run, is reading the merged document's JSON and writing it again (pretty, as merge does).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from bench.child import run_python
from bench.gate_bench import _component

COMPONENTS = 1_000_000
_FLOOR = ("import json, sys\n"
          "data = json.load(open(sys.argv[1]))\n"
          "with open(sys.argv[2], 'w') as out:\n"
          "    json.dump(data, out, sort_keys=True, indent=2, ensure_ascii=False)\n")


def _carnot_component(i: int, source: str) -> dict[str, Any]:
    component = _component(i)
    component["bom-ref"] = f"carnot:bench:{i}"
    component["properties"] = [p if p["name"] != "carnot:source" else {**p, "value": source}
                               for p in component["properties"]]
    component["evidence"]["occurrences"][0]["additionalContext"] = json.dumps({"source": source})
    return component


def _write_shard(path: Path, first: int, last: int, source: str) -> None:
    """The shard streamed to the file: a million components are not built in this process at once."""
    head = {"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
            "metadata": {"timestamp": "2026-01-01T00:00:00Z"}}
    with path.open("w") as fh:
        fh.write(json.dumps(head)[:-1] + ', "components": [')
        for i in range(first, last):
            fh.write(("," if i > first else "") + json.dumps(_carnot_component(i, source)))
        fh.write("]}")


def run() -> dict[str, Any]:
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1767225600"}
    overlap = COMPONENTS // 5
    half = (COMPONENTS + overlap) // 2
    with tempfile.TemporaryDirectory(prefix="carnot-merge-gate-bench-") as tmp:
        folder = Path(tmp)
        a, b, merged = folder / "static.cdx.json", folder / "runtime.cdx.json", folder / "merged.cdx.json"
        _write_shard(a, 0, half, "static")
        _write_shard(b, half - overlap, COMPONENTS, "runtime")
        merge = run_python("assess", "merge", a, b, "-o", merged, "--json", env=env)
        report = json.loads(merge.stdout)
        if report["components_out"] != COMPONENTS:
            raise RuntimeError(f"merge wrote {report['components_out']} components, not {COMPONENTS}")
        merge_figures = {"components": COMPONENTS, "components_in": report["components_in"],
                         "merged_mib": round(merged.stat().st_size / 2**20, 1),
                         "merge_cpu_s": round(merge.cpu_s, 1), "merge_wall_s": round(merge.wall_s, 1),
                         "merge_peak_rss_mib": round(merge.peak_rss_mib)}
        try:
            gate = run_python("assess", "gate", merged, "--out-dir", folder / "gate", "--engine", "regorus",
                              "--json", env=env)
        except RuntimeError as e:  # e.g. the merged document over the JSON input limit (docs/SECURITY.md)
            return merge_figures | {"gate": str(e).rsplit("error: ", 1)[-1].strip()[:300]}
        floor_script = folder / "floor.py"
        floor_script.write_text(_FLOOR)
        floor = run_python(str(floor_script), merged, folder / "rewritten.json")
        return {
            "components": COMPONENTS,
            "components_in": report["components_in"],
            "input_mib": round((a.stat().st_size + b.stat().st_size) / 2**20, 1),
            "merged_mib": round(merged.stat().st_size / 2**20, 1),
            "findings": json.loads(gate.stdout).get("total"),
            "merge_cpu_s": round(merge.cpu_s, 1), "merge_wall_s": round(merge.wall_s, 1),
            "merge_peak_rss_mib": round(merge.peak_rss_mib),
            "gate_cpu_s": round(gate.cpu_s, 1), "gate_wall_s": round(gate.wall_s, 1),
            "gate_peak_rss_mib": round(gate.peak_rss_mib),
            "floor_read_write_merged_cpu_s": round(floor.cpu_s, 1),
            "floor_peak_rss_mib": round(floor.peak_rss_mib),
            "merge_plus_gate_to_floor_cpu_ratio": round((merge.cpu_s + gate.cpu_s) / floor.cpu_s, 2),
            "merge_peak_rss_kib_per_component": round(merge.peak_rss_mib * 1024 / report["components_in"], 2),
            "gate_peak_rss_kib_per_component": round(gate.peak_rss_mib * 1024 / COMPONENTS, 2),
        }
