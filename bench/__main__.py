"""Run the benchmarks, print their figures, and write them to bench/results.json.

Each benchmark is a module with `run() -> dict` of figures; BENCHMARKS is the one list of them.
Figures that depend on a noisy machine are reported as ratios measured within one run.
"""

from __future__ import annotations

import importlib
import json
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
    "site": "bench.site_bench",
    "inventory": "bench.inventory_bench",
    "pcap": "bench.pcap_bench",
}
RESULTS = Path(__file__).parent / "results.json"


def main(names: list[str]) -> int:
    console = Console()
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        console.print(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
        return 2
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results["machine"] = {"python": platform.python_version(), "platform": platform.platform()}
    for name in names or list(BENCHMARKS):
        console.rule(f"benchmark: {name}")
        started = time.time()
        figures = importlib.import_module(BENCHMARKS[name]).run()
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
