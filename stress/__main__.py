"""`python -m stress [--rounds N] [--phase-seconds S] [--workers W] [--priority P]`: run, write results."""

from __future__ import annotations

import argparse
import json
import sys

from stress.harness import METRICS, REPORT, run_stress, write_outputs


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m stress", description=__doc__)
    parser.add_argument("--rounds", type=int, default=12,
                        help="sensor-on phases, each between two off phases (default 12)")
    parser.add_argument("--phase-seconds", type=float, default=5.0, help="load per phase (default 5)")
    parser.add_argument("--workers", type=int, default=2, help="load generator processes (default 2)")
    parser.add_argument("--priority", choices=("idle", "normal"), default="idle",
                        help="the sensor's --priority (default idle, as `carnot runtime capture` runs it)")
    args = parser.parse_args(argv)
    result = run_stress(rounds=args.rounds, phase_seconds=args.phase_seconds, workers=args.workers,
                        priority=args.priority)
    write_outputs(result)
    headline = {k: result[k] for k in ("rate_ratio_on_off", "rate_ratio_per_round", "rate_ratio_of_means",
                                        "sensor_cpu_ms_per_handshake", "reported_fraction", "kernel_drops",
                                        "correlation_failure_rate", "targets_met")}
    print(json.dumps({"off": result["off"], "on": result["on"], **headline}, indent=2))
    print(f"written: {METRICS} and {REPORT}")
    return 0


sys.exit(main(sys.argv[1:]))
