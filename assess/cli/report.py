"""`carnot report --assessment DIR --out report.pdf [--brand FILE] [--dist DIR]`."""

from __future__ import annotations

import argparse

from assess.cli.output import emit_json, emit_table


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from assess.cli import add_common

    p = sub.add_parser("report", help="the assessment as a PDF for the client", description=run.__doc__)
    p.add_argument("--assessment", required=True, metavar="DIR", help="the assessment folder")
    p.add_argument("--out", required=True, metavar="FILE", help="the PDF to write (carnot assess writes "
                   "DIR/report.pdf, so the bundle holds it)")
    p.add_argument("--brand", metavar="FILE", help="branding TOML: name, contact, logo (PNG/JPEG), "
                   "[colours] primary, accent (default: neutral Carnot branding)")
    p.add_argument("--dist", metavar="DIR", help="bundles and their manifest, for the bundle SHA256 and the "
                   "trend (default: ../dist beside the assessment)")
    add_common(p, json_report=True)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Render one assessment as a PDF: cover, executive summary and trend, exposure with its assumptions,
    findings by severity with remediation, what was not assessed, a migration roadmap ordered by
    exposure, and an appendix of methods and tool versions. Same templates and pictures as the site."""
    from assess.report import load_brand, write_report

    brand = load_brand(args.brand)  # checked before anything is read or written
    result = write_report(args.assessment, args.out, dist=args.dist, brand=brand)
    if args.json:
        emit_json(result.report())
    else:
        emit_table(f"report written to {result.out}", [
            ("pages", str(result.pages)), ("size", f"{result.bytes:,} bytes"), ("sha256", result.sha256),
            ("bundle", result.bundle or "not bundled yet"),
        ])
    return 0
