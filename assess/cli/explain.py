"""`carnot explain RULE`: what a rule checks, why it matters for PQC, how to fix it, an example."""

from __future__ import annotations

import argparse
from pathlib import Path

from assess.cli.output import emit_json, stdout
from assess.errors import InputError
from assess.gate import load_policies
from assess.gate.run import default_policies_dir


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from assess.cli import add_common

    p = sub.add_parser("explain", help="explain a policy rule", description=run.__doc__)
    p.add_argument("rule", metavar="RULE", help="a rule id, e.g. weak-rsa-key")
    p.add_argument("--policies", metavar="DIR", help="the policy folder (default: the policies Carnot ships with)")
    add_common(p, json_report=True)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Explain one rule of the policies: what it checks, why it matters, how to fix it, with an example."""
    bundle = load_policies(Path(args.policies) if args.policies else default_policies_dir())
    catalog = bundle.catalog
    if args.rule not in catalog:
        raise InputError(f"unknown rule {args.rule!r}; known rules: {', '.join(sorted(catalog))}")
    meta = catalog[args.rule]
    severities = {name: profile["severity"].get(args.rule, "off") for name, profile in bundle.profiles.items()}
    if args.json:
        emit_json({"rule": args.rule, **{k: meta[k] for k in ("title", "checks", "why", "fix", "example")},
                   "severity": severities, "remediation": f"docs/POLICY_GUIDE.md#{args.rule}"})
        return 0
    stdout.print(render(args.rule, meta, severities), markup=False, highlight=False)
    return 0


def render(rule: str, meta: dict[str, str], severities: dict[str, str]) -> str:
    per_profile = ", ".join(f"{name}: {sev}" for name, sev in severities.items())
    return "\n".join([
        f"{rule}: {meta['title']}",
        "",
        f"What it checks: {meta['checks']}",
        "",
        f"Why it matters for post-quantum readiness: {meta['why']}",
        "",
        f"How to fix: {meta['fix']}",
        "",
        f"Example: {meta['example']}",
        "",
        f"Severity by profile: {per_profile}",
        f"Guide: docs/POLICY_GUIDE.md#{rule}",
    ])
