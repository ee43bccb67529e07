"""Two or more sensors side by side on one workload, in one run: is a change to the sensor cheaper?

`python -m stress.ab WORKLOAD --arm NAME[=OPTIONS] --arm NAME[=OPTIONS] [--tree NAME=PATH]
[--cycles N] [--phase-seconds S] [--workers W] [--link loopback|veth] [--json FILE]`

A single stress run's on/off mean moves by 3-4 points from one run to the next on this project's VM
(docs/RUNTIME.md, *Overhead*), more than a change to the sensor is worth. Side by side, the same
machine state is shared: each cycle runs the arms' sensors in turn, each sensor-on phase between two
sensor-off phases, the arms' order reversed every other cycle (off, A, off, B, off, B, off, A, off,
...). Each on phase's rate is taken against the mean of the off phases either side, as the harness
does; the arms' ratios of one cycle are paired, and the difference of each arm from the first is
given with its 95% interval (Student's t over the cycles; positive: that arm cost the load less),
which is the figure to judge a change by.

An arm is a name and the options `carnot runtime capture` gets (e.g. `--arm lean=--no-uprobes`);
with `--tree NAME=PATH`, that arm's sensor runs from another checkout of this repository (its
`assess` package on PYTHONPATH, started in that folder): the code before a change against the code
after it. Per arm: the on/off ratio, the sensor's CPU per unit of the load, the share of handshakes
reported and kernel drops, as the harness counts them (match_records).
"""

from __future__ import annotations

import argparse
import math
import re
import shlex
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from assess.fsio import pretty_json, write_atomic
from stress.harness import cpu_seconds, end_sensor, exit_on_sigterm, mean_interval, start_sensor, stop_sensor
from stress.link import LINKS, opened
from stress.loadgen import LoadPool
from stress.workloads import WORKLOADS, Workload


@dataclass(frozen=True)
class Arm:
    """A sensor to compare: its name, its `carnot runtime capture` options, and the checkout it runs
    from (None: this one)."""

    name: str
    options: tuple[str, ...] = ()
    tree: Path | None = None


@dataclass
class ArmFigures:
    """One arm's on phases, in cycle order."""

    ratios: list[float] = field(default_factory=list)
    sensor_us_per_unit: list[float] = field(default_factory=list)
    handshakes: int = 0
    reported: int = 0
    correlation_failures: int = 0
    kernel_drops: int = 0


def parse_arm(text: str) -> Arm:
    """`NAME` or `NAME=OPTIONS` (the options split as a shell would); NAME is letters, digits, `_`,
    `.` and `-` (it names the arm's files)."""
    name, _, options = text.partition("=")
    if not re.fullmatch(r"[\w.-]+", name):
        raise ValueError(f"an arm is NAME or NAME=OPTIONS, NAME of letters, digits, _ . and -: {text!r}")
    try:
        return Arm(name, tuple(shlex.split(options)))
    except ValueError as e:  # (shlex: "No closing quotation")
        raise ValueError(f"--arm {text!r}: {e}") from None


def with_trees(arms: list[Arm], trees: Sequence[str]) -> list[Arm]:
    """The arms, each `NAME=PATH` of `trees` giving its arm the checkout it runs from."""
    by_name = {a.name: a for a in arms}
    if len(by_name) != len(arms):
        raise ValueError("two arms have the same name")
    for text in trees:
        name, _, path = text.partition("=")
        if name not in by_name or not path:
            raise ValueError(f"--tree is NAME=PATH, NAME one of the arms ({', '.join(by_name)}): {text!r}")
        tree = Path(path).resolve()
        if not (tree / "assess" / "__main__.py").is_file():
            raise ValueError(f"--tree {name}: {tree} is not a checkout of this repository (no assess/__main__.py)")
        by_name[name] = Arm(name, by_name[name].options, tree)
    return [by_name[a.name] for a in arms]


def order(arms: Sequence[Arm], cycle: int) -> list[Arm]:
    """The arms of one cycle, in the order their phases run: reversed every other cycle, so that
    neither arm always follows the other."""
    return list(arms) if cycle % 2 == 0 else list(reversed(arms))


def paired(first: list[float], other: list[float]) -> dict[str, Any]:
    """Another arm's on/off less the first's, cycle by cycle: mean and 95% interval (positive when
    the other arm cost the load less)."""
    diffs = [b - a for a, b in zip(first, other, strict=True)]
    mean, _, interval = mean_interval(diffs)
    return {"mean": round(mean, 4), "ci95": interval, "per_cycle": [round(d, 4) for d in diffs]}


def run_ab(workload: Workload, arms: list[Arm], *, cycles: int, phase_seconds: float, workers: int,
           link: str, console: Console) -> dict[str, Any]:
    """The comparison, live: the workload's servers and load started once, then `cycles` cycles of
    one on phase per arm, each followed by an off phase (one more off phase opens the run)."""
    figures = {a.name: ArmFigures() for a in arms}
    rates: list[tuple[str | None, float]] = []  # every phase in order: (arm, rate); None: sensor off
    with tempfile.TemporaryDirectory(prefix=f"carnot-ab-{workload.name}-") as tmp, ExitStack() as stack:
        folder = Path(tmp)
        setup = workload.start(folder, stack, workers, stack.enter_context(opened(link)))
        pool = stack.enter_context(LoadPool(setup.workers))
        pool.run(2.0)  # warm-up

        def off() -> float:
            rate = pool.run(phase_seconds).rate / workload.unit_bytes
            rates.append((None, rate))
            return rate

        before = off()
        for cycle in range(cycles):
            for arm in order(arms, cycle):
                out = folder / f"{arm.name}-{cycle}.jsonl"
                proc = start_sensor(out, *arm.options, tree=arm.tree)
                try:
                    cpu_before = cpu_seconds(proc.pid)
                    load = pool.run(phase_seconds)
                except BaseException:
                    end_sensor(proc)
                    raise
                final, reported, failures = stop_sensor(proc, out, load, cpu_before)
                rate = load.rate / workload.unit_bytes
                rates.append((arm.name, rate))
                after = off()
                if not before + after:
                    raise RuntimeError(f"the {workload.name} load made no progress with the sensor off")
                seen = figures[arm.name]
                seen.ratios.append(rate / ((before + after) / 2))
                units = load.completed / workload.unit_bytes
                seen.sensor_us_per_unit.append(1e6 * final["sensor_cpu_s"] / units if units else 0.0)
                seen.handshakes += load.handshakes
                seen.reported += reported
                seen.correlation_failures += failures
                seen.kernel_drops += final["kernel_drops"]
                console.print(f"  cycle {cycle + 1}/{cycles} {arm.name}: {seen.ratios[-1]:.3f} of off, "
                              f"sensor {seen.sensor_us_per_unit[-1]:.0f} µs per {workload.per}, "
                              f"reported {reported}/{load.handshakes} ({failures} correlation failures), "
                              f"drops {final['kernel_drops']}")
                before = after
    first = arms[0].name
    return {
        "workload": workload.name,
        "unit": workload.unit,
        "per": workload.per,
        "description": setup.description,
        "cycles": cycles,
        "phase_seconds": phase_seconds,
        "link": link,
        "arms": {a.name: _arm_summary(a, figures[a.name]) for a in arms},
        "paired_with_first": {a.name: paired(figures[first].ratios, figures[a.name].ratios) for a in arms[1:]},
        "phases": [{"arm": name, "rate": round(rate, 2)} for name, rate in rates],
    }


def _arm_summary(arm: Arm, seen: ArmFigures) -> dict[str, Any]:
    mean, _, interval = mean_interval(seen.ratios)
    return {
        "options": list(arm.options),
        "tree": str(arm.tree) if arm.tree else None,
        "rate_ratio_on_off": round(mean, 4),
        "rate_ratio_ci95": interval,
        "rate_ratio_per_cycle": [round(r, 4) for r in seen.ratios],
        "sensor_cpu_us_per_unit_median": round(statistics.median(seen.sensor_us_per_unit), 1),
        "reported_fraction": round(seen.reported / seen.handshakes, 5) if seen.handshakes else None,
        "correlation_failures": seen.correlation_failures,
        "kernel_drops": seen.kernel_drops,
    }


def print_result(result: dict[str, Any], console: Console) -> None:
    """The arms in a table, each paired with the first."""
    table = Table(title=f"{result['workload']}: each arm's on/off, {result['cycles']} cycles side by side")
    for column in ("arm", "on/off", "95% interval", f"sensor µs per {result['per']}", "reported",
                   "correlation failures", "drops", "this arm less the first (95% interval)"):
        table.add_column(column)
    for name, arm in result["arms"].items():
        pair = result["paired_with_first"].get(name)
        table.add_row(name, f"{arm['rate_ratio_on_off']:.3f}", _interval(arm["rate_ratio_ci95"]),
                      f"{arm['sensor_cpu_us_per_unit_median']:.1f}",
                      "-" if arm["reported_fraction"] is None else f"{arm['reported_fraction']:.4f}",
                      str(arm["correlation_failures"]), str(arm["kernel_drops"]),
                      "" if pair is None else f"{pair['mean']:+.3f} ({_interval(pair['ci95'])})")
    console.print(table)


def _interval(ci: list[float] | None) -> str:
    return "-" if ci is None else f"{ci[0]:.3f} to {ci[1]:.3f}"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m stress.ab", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("workload", choices=list(WORKLOADS))
    parser.add_argument("--arm", action="append", required=True, metavar="NAME[=OPTIONS]",
                        help="a sensor to compare (at least two; the first is the one the others are paired with)")
    parser.add_argument("--tree", action="append", default=[], metavar="NAME=PATH",
                        help="run arm NAME's sensor from the checkout at PATH (default: this one)")
    parser.add_argument("--cycles", type=int, default=12, help="phases per arm (default 12)")
    parser.add_argument("--phase-seconds", type=float, default=5.0, help="load per phase (default 5)")
    parser.add_argument("--workers", type=int, default=2, help="load generator processes (default 2)")
    parser.add_argument("--link", choices=LINKS, default="loopback", help="where the traffic runs (default loopback)")
    parser.add_argument("--json", type=Path, help="write the figures here too")
    args = parser.parse_args(argv)
    try:
        arms = with_trees([parse_arm(text) for text in args.arm], args.tree)
    except ValueError as e:
        parser.error(str(e))
    if len(arms) < 2:
        parser.error("give at least two --arm")
    if args.cycles < 2 or not 0 < args.phase_seconds < math.inf or args.workers < 1:
        parser.error("--cycles must be at least 2, --phase-seconds above 0, --workers at least 1")
    if args.json is not None and not args.json.parent.is_dir():
        parser.error(f"--json {args.json}: no folder {args.json.parent}")
    console = Console(width=None if sys.stdout.isatty() else 160)
    exit_on_sigterm()
    started = time.monotonic()
    try:
        result = run_ab(WORKLOADS[args.workload], arms, cycles=args.cycles, phase_seconds=args.phase_seconds,
                        workers=args.workers, link=args.link, console=console)
    except RuntimeError as e:  # (a sensor that did not start or stop, a load that did not run)
        print(f"python -m stress.ab: {e}", file=sys.stderr)
        return 1
    result["duration_s"] = round(time.monotonic() - started, 1)
    print_result(result, console)
    if args.json:
        write_atomic(args.json, pretty_json(result))
        console.print(f"written: {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
