"""`python -m stress [--rounds N] [--phase-seconds S] [--workers W] [--workload NAME ...] [--quiet-wait S]
[--link loopback|veth] [--no-uprobes] [--json FILE]`: run the sensor's overhead workloads, print the
figures, write them (JSON) and docs/OVERHEAD_RESULTS.md (docs/OVERHEAD_RESULTS_VETH.md with
`--link veth`; `_NO_UPROBES` added to the name with `--no-uprobes`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.console import Console

from stress.harness import QUIET_WAIT_S, exit_on_sigterm, outputs, print_summary, run_stress, write_outputs
from stress.link import LINKS
from stress.workloads import WORKLOADS


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m stress", description=__doc__)
    parser.add_argument("--rounds", type=int, default=24,
                        help="sensor-on phases per workload, each between two off phases (default 24)")
    parser.add_argument("--phase-seconds", type=float, default=5.0, help="load per phase (default 5)")
    parser.add_argument("--workers", type=int, default=2,
                        help="load generator processes (default 2; the requests workload opens twice as many "
                             "connections, the mixed one runs one per client kind)")
    parser.add_argument("--workload", action="append", choices=list(WORKLOADS), dest="workloads",
                        help="run only this workload (repeatable; default: all four)")
    parser.add_argument("--priority", choices=("auto", "idle", "normal"), default="auto",
                        help="the sensor's --priority (default auto, as `carnot runtime capture` runs it)")
    parser.add_argument("--no-uprobes", dest="uprobes", action="store_false",
                        help="run the sensor with --no-uprobes (figures and report then go to *_no_uprobes.json "
                             "and *_NO_UPROBES.md by default)")
    parser.add_argument("--quiet-wait", type=float, default=QUIET_WAIT_S, metavar="SECONDS",
                        help="wait up to this long for a 1-minute load average of at most a quarter of the CPUs "
                             "before starting, so the figures can be quoted "
                             f"(default {QUIET_WAIT_S:.0f}; 0: do not wait)")
    parser.add_argument("--link", choices=LINKS, default="loopback",
                        help="where the traffic runs: loopback (default), or veth: the clients in a network "
                             "namespace of their own across a veth pair (MTU 1500), seen as a NIC's traffic is")
    parser.add_argument("--json", type=Path, help="where the figures go (default stress/metrics.json; "
                                                  "stress/metrics_veth.json with --link veth; "
                                                  "_no_uprobes added with --no-uprobes)")
    parser.add_argument("--report", type=Path, help="the Markdown report (default docs/OVERHEAD_RESULTS.md; "
                                                    "docs/OVERHEAD_RESULTS_VETH.md with --link veth; "
                                                    "_NO_UPROBES added with --no-uprobes)")
    args = parser.parse_args(argv)
    args.json = args.json or outputs(args.link, args.uprobes)[0]
    args.report = args.report or outputs(args.link, args.uprobes)[1]
    if args.rounds < 1 or args.phase_seconds <= 0 or args.workers < 1 or args.quiet_wait < 0:
        parser.error("--rounds and --workers must be at least 1, --phase-seconds above 0, --quiet-wait not negative")
    console = Console(width=None if sys.stdout.isatty() else 180)
    exit_on_sigterm()
    result = run_stress(workloads=args.workloads or list(WORKLOADS), rounds=args.rounds,
                        phase_seconds=args.phase_seconds, workers=args.workers, priority=args.priority,
                        uprobes=args.uprobes, quiet_wait_s=args.quiet_wait, console=console, link=args.link)
    write_outputs(result, args.json, args.report)
    print_summary(result, console)
    console.print(f"written: {args.json} and {args.report}")
    return 0


sys.exit(main(sys.argv[1:]))
