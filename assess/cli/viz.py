"""`carnot viz --bom BOM --gate DIR --out DIR [--config FILE] [--history DIST]`."""

from __future__ import annotations

import argparse

from assess.cli.output import emit_json, emit_table


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from assess.cli import add_common

    p = sub.add_parser("viz", help="draw the exposure Sankey, violations, PQ share and trends (PNG + HTML)",
                       description=run.__doc__)
    p.add_argument("--bom", required=True, metavar="BOM", help="the merged CBOM")
    p.add_argument("--gate", required=True, metavar="DIR", help="the folder holding opa_result.json and "
                   "opa_summary.json")
    p.add_argument("--out", required=True, metavar="DIR", help="where the charts and viz_data.json go")
    p.add_argument("--config", metavar="FILE", help="carnot.toml whose [exposure] table sets the assumptions "
                   "(the same file given to `carnot attest`)")
    p.add_argument("--history", metavar="DIST", help="a dist/ folder of earlier bundles: also draw trends")
    add_common(p, json_report=True)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Draw the exposure Sankey (sources -> algorithms/groups -> quantum risk -> policy outcome),
    findings by rule and severity, the PQ share of observed handshakes and, given --history, trends:
    PNG (matplotlib) and HTML (plotly.js inline, works offline), plus viz_data.json."""
    from assess.attest import AttestConfig
    from assess.viz import visualize

    config = AttestConfig.load(args.config).exposure if args.config else None
    result = visualize(args.bom, args.gate, args.out, config=config, history=args.history)
    report = result.report()
    if args.json:
        emit_json(report)
    else:
        share = report["pq_share"]
        emit_table(
            f"charts written to {args.out}",
            [
                ("crypto assets", str(report["assets"])),
                ("open / waived findings", f"{report['findings_open']} / {report['findings_waived']}"),
                ("handshakes on hybrid PQ",
                 "n/a (no runtime flows)" if share is None else f"{100 * share:.1f}%"),
                ("HNDL-exposed flows", str(report["exposed_flows"])),
                ("assessments in trends", str(report["trend_points"])),
                ("written", str(len(report["written"])) + " files"),
            ],
        )
    return 0
