"""Run the benchmarks, print their figures, and write them to bench/results.json.

Each benchmark is a module with `run() -> dict` of figures; BENCHMARKS is the one list of them.
Figures that depend on a noisy machine are reported as ratios measured within one run, with the
load average they were measured under. `NAME=VALUE` arguments set a benchmark's upper-case
parameter, e.g. `python -m bench to_bom_scale LINES=10000000`.
"""

from __future__ import annotations

import importlib
import json
import os
import platform
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

BENCHMARKS: dict[str, str] = {
    "merge": "bench.merge_bench",
    "scan": "bench.scan_bench",
    "aws": "bench.aws_bench",
    "api": "bench.api_bench",
    "gate": "bench.gate_bench",
    "runtime": "bench.runtime_bench",
    "sensor": "bench.sensor_bench",
    "wire_filter": "bench.wire_filter_bench",
    "loopback_view": "bench.loopback_view_bench",
    "site": "bench.site_bench",
    "inventory": "bench.inventory_bench",
    "pcap": "bench.pcap_bench",
    "pipeline": "bench.pipeline_bench",
    "to_bom_scale": "bench.to_bom_scale_bench",
    "merge_gate_1m": "bench.merge_gate_scale_bench",
}
RESULTS = Path(__file__).parent / "results.json"


def main(args: list[str]) -> int:
    console = Console()
    names = [a for a in args if "=" not in a]
    parameters = dict(a.split("=", 1) for a in args if "=" in a)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        console.print(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
        return 2
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results["machine"] = {"python": platform.python_version(), "platform": platform.platform(),
                          "cpus": os.cpu_count()}
    for name in names or list(BENCHMARKS):
        console.rule(f"benchmark: {name}")
        module = importlib.import_module(BENCHMARKS[name])
        for key, value in parameters.items():
            if not key.isupper() or not isinstance(getattr(module, key, None), int):
                console.print(f"{name} has no integer parameter {key}")
                return 2
            setattr(module, key, int(value))
        started = time.time()
        load_before = os.getloadavg()[0]
        figures = importlib.import_module(BENCHMARKS[name]).run()
        figures["load_average_1min"] = f"{load_before:.2f} before, {os.getloadavg()[0]:.2f} after"
        figures["measured_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started))
        results[name] = figures
        table = Table(show_header=False)
        for key, value in figures.items():
            table.add_row(key, f"{value:,.3f}" if isinstance(value, float) else str(value))
        console.print(table)
        RESULTS.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    console.print(f"figures written to {RESULTS}")
    return 0


sys.exit(main(sys.argv[1:]))
