"""`carnot bundle DIR --dist DIR [--sign-key FILE] [--sign-keyless]`, `carnot verify BUNDLE [--manifest FILE]
[--public-key FILE | --certificate-identity ID ...]` and `carnot extract BUNDLE --out DIR [...the same]`."""

from __future__ import annotations

import argparse
import dataclasses
import sys

from assess.attest import bundle_attestation_problems
from assess.bundle import VerifyResult, bundle_folder, extract_bundle, verify_bundle
from assess.cli.output import emit_json, emit_table, problem
from assess.cli.trust import add_signing, add_trust, signers, trust
from assess.errors import VerificationError
from assess.signing import Ed25519Trust
from assess.text import printable


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from assess.cli import add_common

    p = sub.add_parser("bundle", help="zip an assessment folder into dist/ and record it in the manifest",
                       description=run_bundle.__doc__)
    p.add_argument("folder", metavar="DIR", help="the assessment folder")
    p.add_argument("--dist", required=True, metavar="DIR", help="where bundles and the manifest live")
    add_signing(p)
    add_common(p, json_report=True)
    p.set_defaults(handler=run_bundle)

    for name, handler, what in (("verify", run_verify, "check a bundle against the manifest (exit 0 intact, "
                                                        "1 tampered)"),
                                ("extract", run_extract, "verify a bundle, then unpack it safely into a new folder")):
        v = sub.add_parser(name, help=what, description=handler.__doc__)
        v.add_argument("bundle", metavar="BUNDLE", help="an assessment-<id>.zip")
        if name == "extract":
            v.add_argument("--out", required=True, metavar="DIR", help="a new or empty folder to unpack into")
        v.add_argument("--manifest", metavar="FILE", help="the manifest (default: the one beside the bundle)")
        add_trust(v)
        add_common(v, json_report=True)
        v.set_defaults(handler=handler)


def run_bundle(args: argparse.Namespace) -> int:
    """Make a reproducible zip of an assessment folder and append it to the hash-chained manifest;
    with --sign-key or --sign-keyless, sign it (every file, its id, time and place in the chain) and
    the manifest's head."""
    chosen = signers(args)
    entry = bundle_folder(args.folder, args.dist, signers=chosen)
    signed = ", ".join(s.kind for s in chosen) or "no"
    if args.json:
        emit_json({**entry.as_dict(), "signed": [s.kind for s in chosen]})
    else:
        emit_table(
            f"bundled {args.folder}",
            [("bundle", f"{args.dist}/{entry.bundle}"), ("sha256", entry.sha256), ("files", str(len(entry.files))),
             ("previous entry", entry.previous or "none (first in the chain)"),
             ("signed", signed)],
        )
    return 0


def _verify(args: argparse.Namespace) -> VerifyResult:
    trusted = trust(args)
    result = verify_bundle(args.bundle, args.manifest, trust=trusted)
    if isinstance(trusted, Ed25519Trust) and result.digests:  # the attest stage signs with a key only
        extra = bundle_attestation_problems(args.bundle, result.digests, trusted.public_key)
        result = dataclasses.replace(result, problems=result.problems + tuple(extra),
                                     signature_ok=result.signature_ok and not extra)
    return result


def _report_tampered(args: argparse.Namespace, result: VerifyResult) -> None:
    for text in result.problems:
        problem("tampered", text)
    print(printable(f"carnot: {args.bundle}: verification failed ({len(result.problems)} problem(s))"),
          file=sys.stderr)


def run_verify(args: argparse.Namespace) -> int:
    """Verify a bundle: its SHA256, its canonical form, every file inside, and the manifest's chain;
    with --public-key, also its signatures. Exit 1 if anything changed."""
    result = _verify(args)
    if args.json:
        emit_json(result.as_dict())
    elif result.intact:
        rows = [("manifest", result.manifest)]
        rows.append(("signature", f"verified: {result.trust}" if result.trust else
                     "not checked (no --public-key or --certificate-identity: this proves the bundle matches "
                     "the manifest, not who made it)"))
        emit_table(f"{args.bundle}: intact", rows)
    else:
        _report_tampered(args, result)
    return 0 if result.intact else 1


def run_extract(args: argparse.Namespace) -> int:
    """Verify a bundle (exit 1 and nothing written if it fails), then write its files into a new or empty
    folder: only the names verify accepted, as regular files, never outside the folder."""
    result = _verify(args)
    if not result.intact:
        _report_tampered(args, result)
        raise VerificationError("nothing was extracted", path=args.bundle)
    written = extract_bundle(args.bundle, args.out, result.digests)
    if args.json:
        emit_json({**result.as_dict(), "out": args.out, "files": written})
    else:
        emit_table(f"extracted {args.bundle}", [("into", args.out), ("files", str(len(written))),
                                                 ("signature", "verified" if result.signature_ok else "not checked")])
    return 0
