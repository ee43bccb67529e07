"""`carnot assess [--config FILE] [--out DIR] [--sign-keyless]`."""

from __future__ import annotations

import argparse
import dataclasses
import time
from contextlib import nullcontext
from pathlib import Path

from rich.table import Table
from rich.text import Text

from assess.cli.output import emit_json, stderr, stdout
from assess.config import load_config
from assess.pipeline import ALL_STAGES, StageRecord, outcome_report, run_assessment
from assess.text import printable

_STYLE = {"run": "green", "not_run": "yellow", "failed": "red"}


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from assess.cli import add_common

    p = sub.add_parser("assess", help="run every stage: collect, merge, gate, attest, pictures, bundle, site",
                       description=run.__doc__)
    p.add_argument("--config", metavar="FILE", help="carnot.toml (default: the embedded demo assessment)")
    p.add_argument("--out", metavar="DIR", default="out", help="where assessment/, dist/ and site/ go (default: out)")
    p.add_argument("--sign-keyless", action="store_true",
                   help="sign the bundle with Sigstore as this CI job's OIDC identity ([assessment] sign_keyless)")
    add_common(p, json_report=True)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run a whole assessment. Without --config: the sample estate, a loopback TLS workload under the
    eBPF sensor (when it can run here) and the simulated AWS estate. Exit 1 when an enforcing gate
    fails, 2 when no assessment could be produced."""
    config = load_config(args.config)
    if args.sign_keyless:
        config = dataclasses.replace(config, assessment=dataclasses.replace(config.assessment, sign_keyless=True))
    started: dict[str, float] = {}

    def on_stage(name: str, record: StageRecord | None) -> None:
        if record is None:
            started[name] = time.monotonic()
            stderr.print(f"[bold]▶ {name}[/bold] …", highlight=False)
            return
        note = f" — {record.reason}" if record.reason else ""  # a stage's stderr: data, never markup
        stderr.print(Text.assemble("  ", (record.status, _STYLE[record.status]),
                                   printable(f" {name} ({record.seconds:.1f} s){note}")), highlight=False)

    with stderr.status("assessing", spinner="dots") if stderr.is_terminal else nullcontext():
        outcome = run_assessment(config, Path(args.out), on_stage)
    report = outcome_report(outcome)
    if args.json:
        emit_json(report)
        return outcome.exit_code
    source = "embedded default" if config.is_default else config.path
    table = Table(title=Text(printable(f"carnot assess — {source}")), title_justify="left")
    for column in ("stage", "status", "seconds", "detail"):
        table.add_column(column)
    for name in ALL_STAGES:
        rec = outcome.record(name)
        if rec is None:
            continue
        colour = _STYLE[rec.status]
        detail = rec.reason or ", ".join(rec.outputs)
        table.add_row(name, Text(rec.status, style=colour), f"{rec.seconds:.1f}", Text(printable(detail)))
    stdout.print(table)
    for label, value in (("assessment", outcome.layout.assessment), ("bundle", outcome.bundle or "—"),
                         ("site", outcome.layout.site / "index.html")):
        stdout.print(Text(printable(f"{label + ':':<12}{value}")), highlight=False)
    return outcome.exit_code
