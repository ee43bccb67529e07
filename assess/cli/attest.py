"""`carnot attest --bom BOM --gate DIR --out DIR [--sign-key FILE] [--config FILE]`."""

from __future__ import annotations

import argparse

from assess.attest import AttestConfig, attest_folder
from assess.cli.output import emit_json, emit_table
from assess.signing import load_private_key


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from assess.cli import add_common

    p = sub.add_parser("attest", help="score HNDL exposure and write the in-toto attestation",
                       description=run.__doc__)
    p.add_argument("--bom", required=True, metavar="BOM", help="the merged CBOM")
    p.add_argument("--gate", required=True, metavar="DIR", help="the folder holding opa_result.json and "
                   "opa_summary.json")
    p.add_argument("--out", required=True, metavar="DIR", help="the assessment folder: its files become the "
                   "subjects; attestation.json/.md (and .dsse.json) are written there")
    p.add_argument("--sign-key", metavar="FILE", help="an Ed25519 PEM private key: also write "
                   "attestation.dsse.json (DSSE)")
    p.add_argument("--config", metavar="FILE", help="carnot.toml with [exposure] and [redaction] tables")
    add_common(p, json_report=True)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Score harvest-now-decrypt-later exposure (Mosca) and write an in-toto Statement v1 over the
    assessment folder, a Markdown report, and optionally a DSSE envelope signed with Ed25519."""
    config = AttestConfig.load(args.config) if args.config else AttestConfig()
    key = load_private_key(args.sign_key) if args.sign_key else None
    result = attest_folder(args.bom, args.gate, args.out, config=config, config_path=args.config,
                           sign_key=key)
    report = result.report()
    if args.json:
        emit_json(report)
    else:
        emit_table(
            f"attested {args.out}",
            [
                ("files attested", str(report["subjects"])),
                ("policy status", report["policy_status"]),
                ("HNDL-exposed assets", str(report["hndl_exposed"])),
                ("exposed flows", str(report["flows_exposed"])),
                ("gaps", str(report["gaps"])),
                ("signed", "yes (attestation.dsse.json)" if report["signed"] else "no"),
                ("written", ", ".join(result.written)),
            ],
        )
    return 0
