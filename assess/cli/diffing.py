"""`carnot diff OLD.zip NEW.zip [--manifest-a FILE] [--manifest-b FILE] [--public-key FILE | ...] [--json]`."""

from __future__ import annotations

import argparse

from assess.cli.output import emit_json, emit_table
from assess.cli.trust import add_trust, trust

SHOWN = 20  # rows per list in the table output; --json lists every one


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from assess.cli import add_common

    p = sub.add_parser("diff", help="what changed between two assessment bundles", description=run.__doc__)
    p.add_argument("old", metavar="OLD", help="the earlier assessment-<id>.zip")
    p.add_argument("new", metavar="NEW", help="the later assessment-<id>.zip")
    p.add_argument("--manifest-a", metavar="FILE", help="OLD's manifest (default: the one beside OLD)")
    p.add_argument("--manifest-b", metavar="FILE", help="NEW's manifest (default: the one beside NEW)")
    add_trust(p)
    add_common(p, json_report=True)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Verify both bundles (exit 1 if either fails, exit 2 if one has no manifest to verify against), then
    list what changed from OLD to NEW: assets added and removed, quantum status changed, findings fixed,
    new, waived and reopened, and the share of observed handshakes on hybrid post-quantum key exchange."""
    from assess.diff import CATEGORIES, diff, snapshot
    from assess.viz.estate import open_verified

    verifier = trust(args)
    sides = []
    for bundle, manifest in ((args.old, args.manifest_a), (args.new, args.manifest_b)):
        a, estate = open_verified(bundle, manifest, trust=verifier)
        sides.append(snapshot(a.id, a.created, estate))
    result = diff(sides[0], sides[1])
    if args.json:
        emit_json(result.as_dict())
        return 0

    def share(value: float | None) -> str:
        return "n/a" if value is None else f"{100 * value:.1f}%"

    old, new = result.old, result.new
    emit_table(f"{old.id} → {new.id}", [
        ("created", f"{old.created} → {new.created}"),
        ("assets", f"{old.assets} → {new.assets}"),
        ("open findings", f"{old.open_findings} → {new.open_findings}"),
        ("waived findings", f"{old.waived_findings} → {new.waived_findings}"),
        ("handshakes on hybrid PQ", f"{share(old.pq_share['pq_share'])} → {share(new.pq_share['pq_share'])}"),
        *((label, str(result.counts()[name])) for name, label in CATEGORIES.items()),
    ])
    listed = result.as_dict()
    for name in CATEGORIES:
        rows = listed[name]
        if not rows:
            continue
        shown = [(_label(row), f"{row.get('name') or row.get('message')} [{row['bom_ref']}]") for row in rows[:SHOWN]]
        if len(rows) > SHOWN:
            shown.append(("…", f"and {len(rows) - SHOWN} more (--json lists every one)"))
        emit_table(CATEGORIES[name], shown)
    return 0


def _label(row: dict[str, object]) -> str:
    if "rule" in row:
        return f"{row['severity']} {row['rule']}"
    return " → ".join(str(row[k]) for k in ("before", "after") if row[k] is not None)
