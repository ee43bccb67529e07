"""`carnot gate BOM --out-dir DIR [--profile P] [--enforce] [--waivers FILE] [--engine E] [--policies DIR]`."""

from __future__ import annotations

import argparse
from pathlib import Path

from assess.cli.output import emit_json, emit_table
from assess.gate import EngineChoice, GateOptions, evaluate, write_outputs
from assess.gate.run import default_policies_dir


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from assess.cli import add_common, add_max_bom_bytes

    p = sub.add_parser("gate", help="judge a CBOM with the Rego policies (warn or enforce)", description=run.__doc__)
    p.add_argument("bom", metavar="BOM", help="the CBOM to gate (usually merged.cdx.json)")
    p.add_argument("--out-dir", required=True, metavar="DIR",
                   help="where opa_result.json, opa_summary.json, findings.sarif and pr_comment.md go")
    p.add_argument("--profile", metavar="strict|balanced|dev",
                   help="severities and thresholds from the policy data (default: the policies' default, balanced)")
    p.add_argument("--enforce", action="store_true",
                   help="exit 1 when unwaived findings at or above the profile's failing severity remain")
    p.add_argument("--waivers", metavar="FILE", help="YAML or JSON list of {rule, bom_ref, until, reason}")
    p.add_argument("--engine", choices=[e.value for e in EngineChoice], default=EngineChoice.AUTO.value,
                   help="auto prefers the opa binary when it is on PATH, else the embedded regorus")
    p.add_argument("--policies", metavar="DIR", help="the policy folder (default: the policies Carnot ships with)")
    add_max_bom_bytes(p)
    add_common(p, json_report=True)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Gate a CBOM against the Rego policies; warn mode exits 0, enforce mode exits 1 on failing findings."""
    options = GateOptions(
        policies=Path(args.policies) if args.policies else default_policies_dir(),
        profile=args.profile,
        enforce=args.enforce,
        waivers=Path(args.waivers) if args.waivers else None,
        engine=EngineChoice(args.engine),
        max_bom_bytes=args.max_bom_bytes,
    )
    outcome = evaluate(args.bom, options)
    written = write_outputs(outcome, args.out_dir)
    summary = outcome.summary
    if args.json:
        emit_json({**summary, "outputs": [str(p) for p in written], "exit_code": outcome.exit_code})
    else:
        rows = [("profile / mode / engine", f"{summary['profile']} / {summary['mode']} / {summary['engine']}")]
        rows += [(severity, str(count)) for severity, count in summary["by_severity"].items()]
        rows += [("waived", str(summary["waived"])), ("expired waivers", str(summary["expired_waivers"])),
                 (f"failing (at or above {summary['fail_at']})", str(summary["failing"])),
                 ("results", str(Path(args.out_dir)))]
        emit_table("gate " + ("FAILED" if outcome.failed else "passed"), rows)
    return outcome.exit_code
