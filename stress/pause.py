"""What the sensor's user space costs the observed programs: one sensor, started once, is
alternately stopped (SIGSTOP: its probes and filters still run, its process does not) and running,
under the requests workload (long-lived connections, stress/workloads.py), for 2 s windows.

`python -m stress.pause [--alternations N] [--window S] [--json FILE] [-- SENSOR ARGS...]`

Each running window's rate is taken against the mean of the stopped windows either side of it, as
the harness does with sensor-off phases. Because the sensor's kernel side stays attached throughout,
the ratio isolates what its process does while it runs: its CPU time and its wake-ups. (A window
that follows a stopped one starts with the sensor taking in what the kernel held meanwhile: the
load's few handshakes a window, a few milliseconds of work.) The sensor's CPU share per running
window is read from /proc.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from rich.console import Console

from stress.harness import cpu_seconds, end_sensor, exit_on_sigterm, mean_interval, start_sensor
from stress.loadgen import LoadPool
from stress.workloads import WORKLOADS

SETTLE_S = 0.2  # after SIGCONT or SIGSTOP, before the window starts


def measure(alternations: int, window: float, sensor_args: list[str], console: Console) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="carnot-pause-") as tmp, ExitStack() as stack:
        setup = WORKLOADS["requests"].start(Path(tmp), stack, 2)
        description = setup.description
        pool = stack.enter_context(LoadPool(setup.workers))
        pool.run(2.0)  # warm-up: the long-lived connections open
        proc = start_sensor(Path(tmp) / "capture.jsonl", *sensor_args)
        rates: list[float] = []
        cpu_shares: list[float] = []
        try:
            time.sleep(2.0)
            for i in range(2 * alternations + 1):
                running = i % 2 == 1
                os.kill(proc.pid, signal.SIGCONT if running else signal.SIGSTOP)
                time.sleep(SETTLE_S)
                cpu, started = cpu_seconds(proc.pid), time.monotonic()
                rate = pool.run(window).rate
                rates.append(rate)
                if running:
                    cpu_shares.append((cpu_seconds(proc.pid) - cpu) / (time.monotonic() - started))
                console.print(f"  {i + 1}/{2 * alternations + 1} {'running' if running else 'stopped'}: "
                              f"{rate:10.1f} requests/s")
        finally:
            os.kill(proc.pid, signal.SIGCONT)
            end_sensor(proc)
    ratios = [rates[i] / ((rates[i - 1] + rates[i + 1]) / 2) for i in range(1, len(rates) - 1, 2)]
    mean, stderr, interval = mean_interval(ratios)
    return {
        "workload": description,
        "sensor_args": sensor_args,
        "alternations": alternations,
        "window_s": window,
        "running_over_stopped": round(mean, 4),
        "standard_error": round(stderr, 4) if stderr is not None else None,
        "interval_95": interval,
        "median": round(statistics.median(ratios), 4),
        "sensor_cpu_share_running": round(statistics.mean(cpu_shares), 5) if cpu_shares else None,
        "ratios": [round(r, 4) for r in ratios],
        "rates": [round(r, 1) for r in rates],
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m stress.pause", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--alternations", type=int, default=50, help="running windows (default 50)")
    parser.add_argument("--window", type=float, default=2.0, help="seconds of load per window (default 2)")
    parser.add_argument("--json", type=Path, help="write the figures here too")
    parser.add_argument("sensor_args", nargs="*", help="extra `carnot runtime capture` arguments (after --)")
    args = parser.parse_args(argv)
    if args.alternations < 2 or args.window <= 0:
        parser.error("--alternations must be at least 2, --window above 0")
    console = Console(width=None if sys.stdout.isatty() else 160)
    exit_on_sigterm()
    result = measure(args.alternations, args.window, args.sensor_args, console)
    console.print(f"running/stopped {result['running_over_stopped']} (95% interval {result['interval_95']}), "
                  f"median {result['median']}, sensor CPU {100 * (result['sensor_cpu_share_running'] or 0):.2f}% "
                  f"of one CPU while running")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
        console.print(f"written: {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
