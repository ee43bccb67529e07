"""`carnot assess [--config FILE] [--out DIR]`."""

from __future__ import annotations

import argparse
import time
from contextlib import nullcontext
from pathlib import Path

from rich.table import Table

from assess.cli.output import emit_json, stderr, stdout
from assess.config import load_config
from assess.pipeline import ALL_STAGES, StageRecord, outcome_report, run_assessment

_STYLE = {"run": "green", "not_run": "yellow", "failed": "red"}


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from assess.cli import add_common

    p = sub.add_parser("assess", help="run every stage: collect, merge, gate, attest, pictures, bundle, site",
                       description=run.__doc__)
    p.add_argument("--config", metavar="FILE", help="carnot.toml (default: the embedded demo assessment)")
    p.add_argument("--out", metavar="DIR", default="out", help="where assessment/, dist/ and site/ go (default: out)")
    add_common(p, json_report=True)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run a whole assessment. Without --config: the sample estate, a loopback TLS workload under the
    eBPF sensor (when it can run here) and the simulated AWS estate. Exit 1 when an enforcing gate
    fails, 2 when no assessment could be produced."""
    config = load_config(args.config)
    started: dict[str, float] = {}

    def on_stage(name: str, record: StageRecord | None) -> None:
        if record is None:
            started[name] = time.monotonic()
            stderr.print(f"[bold]▶ {name}[/bold] …", highlight=False)
            return
        colour = _STYLE[record.status]
        note = f" — {record.reason}" if record.reason else ""
        stderr.print(f"  [{colour}]{record.status}[/{colour}] {name} ({record.seconds:.1f} s){note}",
                     highlight=False, markup=True)

    with stderr.status("assessing", spinner="dots") if stderr.is_terminal else nullcontext():
        outcome = run_assessment(config, Path(args.out), on_stage)
    report = outcome_report(outcome)
    if args.json:
        emit_json(report)
        return outcome.exit_code
    table = Table(title=f"carnot assess — {'embedded default' if config.is_default else config.path}",
                  title_justify="left")
    for column in ("stage", "status", "seconds", "detail"):
        table.add_column(column)
    for name in ALL_STAGES:
        rec = outcome.record(name)
        if rec is None:
            continue
        colour = _STYLE[rec.status]
        detail = rec.reason or ", ".join(rec.outputs)
        table.add_row(name, f"[{colour}]{rec.status}[/{colour}]", f"{rec.seconds:.1f}", detail)
    stdout.print(table)
    stdout.print(f"assessment: {outcome.layout.assessment}\nbundle:     {outcome.bundle or '—'}\n"
                 f"site:       {outcome.layout.site / 'index.html'}", highlight=False)
    return outcome.exit_code
