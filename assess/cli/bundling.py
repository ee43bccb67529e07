"""`carnot bundle DIR --dist DIR` and `carnot verify BUNDLE [--manifest FILE]`."""

from __future__ import annotations

import argparse
import dataclasses
import sys

from assess.attest import bundle_attestation_problems, load_public_key
from assess.bundle import bundle_folder, verify_bundle
from assess.cli.output import emit_json, emit_table, stderr


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from assess.cli import add_common

    p = sub.add_parser("bundle", help="zip an assessment folder into dist/ and record it in the manifest",
                       description=run_bundle.__doc__)
    p.add_argument("folder", metavar="DIR", help="the assessment folder")
    p.add_argument("--dist", required=True, metavar="DIR", help="where bundles and the manifest live")
    add_common(p, json_report=True)
    p.set_defaults(handler=run_bundle)

    v = sub.add_parser("verify", help="check a bundle against the manifest (exit 0 intact, 1 tampered)",
                       description=run_verify.__doc__)
    v.add_argument("bundle", metavar="BUNDLE", help="an assessment-<id>.zip")
    v.add_argument("--manifest", metavar="FILE", help="the manifest (default: the one beside the bundle)")
    v.add_argument("--public-key", metavar="FILE",
                   help="also verify the signed attestation inside (attestation.dsse.json, Ed25519 PEM key)")
    add_common(v, json_report=True)
    v.set_defaults(handler=run_verify)


def run_bundle(args: argparse.Namespace) -> int:
    """Make a reproducible zip of an assessment folder and append it to the hash-chained manifest."""
    entry = bundle_folder(args.folder, args.dist)
    if args.json:
        emit_json(entry.as_dict())
    else:
        emit_table(
            f"bundled {args.folder}",
            [("bundle", f"{args.dist}/{entry.bundle}"), ("sha256", entry.sha256), ("files", str(len(entry.files))),
             ("previous entry", entry.previous or "none (first in the chain)")],
        )
    return 0


def run_verify(args: argparse.Namespace) -> int:
    """Verify a bundle: its SHA256, every file inside, and the manifest's chain. Exit 1 if anything changed."""
    result = verify_bundle(args.bundle, args.manifest)
    if args.public_key:
        extra = bundle_attestation_problems(args.bundle, load_public_key(args.public_key))
        result = dataclasses.replace(result, problems=result.problems + tuple(extra))
    if args.json:
        emit_json(result.as_dict())
    elif result.intact:
        emit_table(f"{args.bundle}: intact", [("manifest", result.manifest)])
    else:
        for problem in result.problems:
            stderr.print(f"[red]tampered:[/red] {problem}", highlight=False, markup=True)
        print(f"carnot: {args.bundle}: verification failed ({len(result.problems)} problem(s))", file=sys.stderr)
    return 0 if result.intact else 1
