"""`carnot scan PATH... --out FILE [--rules FILE]`."""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

from assess.cbom import write_shard
from assess.cli.output import emit_json, emit_table, progress
from assess.sources.static import load_rules, scan


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from assess.cli import add_common

    p = sub.add_parser("scan", help="scan files for certificates, keys, TLS/SSH configs and crypto in code",
                       description=run.__doc__)
    p.add_argument("paths", nargs="+", metavar="PATH", type=Path, help="files or directories to scan")
    p.add_argument("--out", required=True, metavar="FILE", help="the CBOM shard to write (static.cdx.json)")
    p.add_argument("--rules", metavar="FILE", type=Path,
                   help="extra source-code rules (YAML, same shape as the built-in rules.yaml)")
    add_common(p, json_report=True)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Scan files for cryptographic assets (certificates, keys, SSH and TLS settings, crypto API use in
    code) and write them, with their evidence, as a CycloneDX CBOM shard. Skipped files are listed in
    the shard with their reason; skips do not fail the scan."""
    rules = load_rules(args.rules)
    with progress("scanning files") as advance:
        result = scan(args.paths, rules, on_file=advance)
    write_shard(result.shard, args.out)
    reasons = Counter(_reason_kind(s.reason) for s in result.shard.skipped)
    report = {
        "out": args.out,
        "files_seen": result.files_seen,
        "files_read": result.files_read,
        "bytes_read": result.bytes_read,
        "assets": result.asset_counts(),
        "skipped": len(result.shard.skipped),
        "skipped_by_reason": dict(sorted(reasons.items())),
        "seconds": round(result.seconds, 3),
    }
    if args.json:
        emit_json(report)
    else:
        rows = [("files seen", str(result.files_seen)), ("files read", str(result.files_read))]
        rows += [(f"{kind} assets", str(n)) for kind, n in result.asset_counts().items()]
        rows += [("skipped", str(len(result.shard.skipped)))]
        rows += [(f"  {reason}", str(n)) for reason, n in reasons.most_common(8)]
        rows += [("seconds", f"{result.seconds:.2f}")]
        emit_table(f"scanned {len(args.paths)} path(s) into {args.out}", rows)
    return 0


def _reason_kind(reason: str) -> str:
    """A reason without its specifics (sizes, line numbers), for counting."""
    return reason.split(":", 1)[0].split(" (", 1)[0]
