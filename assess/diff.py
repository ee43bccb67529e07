"""What changed between two assessments: `carnot diff`, the site's "changes" page and the PDF's.

Pure: two `Snapshot`s (what a diff compares of an estate, small enough to keep one per assessment
while a site is built) in, one `Diff` out.

The same asset (docs/BROWSE.md, "What changed"):
- A Carnot bom-ref (`carnot:…`) is derived from what the asset is — a certificate's or key's
  fingerprint, an ARN, an algorithm with its parameters, a TLS configuration's settings, an observed
  flow's host, process, role, endpoint and negotiated group — so the same ref in two assessments is the
  same asset, and a change to any of those facts is one asset removed and another added.
- Another tool's ref is a BOM-Link whose document part is derived from the whole imported document,
  so any edit to that document changes every link. Such refs are matched first exactly, then by
  (their own ref inside the document, name, asset type) when that is unique on both sides.
Findings are the same when their (rule, bom-ref) are, the bom-ref read through that matching; several
findings with one key count once, open if any of them is open.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from assess.merge import BOM_LINK
from assess.viz.estate import Estate

DIFF_FORMAT = "carnot-diff/1"


@dataclass(frozen=True)
class AssetKey:
    ref: str
    name: str
    asset_type: str
    status: str
    index: int  # the asset's place in its estate (its inventory row)


@dataclass(frozen=True)
class FindingKey:
    rule: str
    bom_ref: str
    severity: str
    message: str
    waived: bool
    index: int  # the finding's place in its estate


@dataclass(frozen=True)
class Snapshot:
    """What a diff compares of one assessment."""

    id: str
    created: str
    assets: tuple[AssetKey, ...]
    findings: tuple[FindingKey, ...]
    pq_share: Mapping[str, Any]


def snapshot(assessment_id: str, created: str, estate: Estate) -> Snapshot:
    return Snapshot(
        id=assessment_id, created=created,
        assets=tuple(AssetKey(a.ref, a.name, a.asset_type, a.status, i) for i, a in enumerate(estate.assets)),
        findings=tuple(FindingKey(str(f.get("rule")), str(f.get("bom_ref")), str(f.get("severity")),
                                  str(f.get("message") or ""), bool(f.get("waived")), i)
                       for i, f in enumerate(estate.findings)),
        pq_share=estate.pq_share)


@dataclass(frozen=True)
class AssetChange:
    ref: str
    name: str
    asset_type: str
    before: str | None  # quantum status in the old assessment; None when added
    after: str | None  # in the new one; None when removed
    old_index: int | None
    new_index: int | None


@dataclass(frozen=True)
class FindingChange:
    rule: str
    bom_ref: str
    severity: str
    message: str
    old_index: int | None
    new_index: int | None


@dataclass(frozen=True)
class Side:
    id: str
    created: str
    assets: int
    open_findings: int
    waived_findings: int
    pq_share: Mapping[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "created": self.created, "assets": self.assets, "open_findings": self.open_findings,
                "waived_findings": self.waived_findings, "pq_share": self.pq_share["pq_share"],
                "handshakes": dict(self.pq_share["handshakes"])}


@dataclass(frozen=True)
class Diff:
    old: Side
    new: Side
    assets_added: tuple[AssetChange, ...]
    assets_removed: tuple[AssetChange, ...]
    status_changed: tuple[AssetChange, ...]
    findings_fixed: tuple[FindingChange, ...]  # gone from the new assessment
    findings_new: tuple[FindingChange, ...]  # open in the new assessment, absent from the old
    findings_waived: tuple[FindingChange, ...]  # waived in the new assessment, open or absent in the old
    findings_reopened: tuple[FindingChange, ...]  # waived in the old assessment, open in the new

    def counts(self) -> dict[str, int]:
        return {name: len(getattr(self, name)) for name in CATEGORIES}

    def as_dict(self) -> dict[str, Any]:
        def asset(c: AssetChange) -> dict[str, Any]:
            return {"bom_ref": c.ref, "name": c.name, "asset_type": c.asset_type, "before": c.before,
                    "after": c.after}

        def finding(c: FindingChange) -> dict[str, Any]:
            return {"rule": c.rule, "bom_ref": c.bom_ref, "severity": c.severity, "message": c.message}

        out: dict[str, Any] = {"format": DIFF_FORMAT, "old": self.old.as_dict(), "new": self.new.as_dict(),
                               "counts": self.counts()}
        for name in CATEGORIES:
            out[name] = [asset(c) if isinstance(c, AssetChange) else finding(c) for c in getattr(self, name)]
        return out


# Every list a Diff holds, in the order people read them, with what it is called on pages.
CATEGORIES = {"assets_added": "assets added", "assets_removed": "assets removed",
              "status_changed": "quantum status changed", "findings_fixed": "findings fixed",
              "findings_new": "new findings", "findings_waived": "findings waived",
              "findings_reopened": "findings no longer waived"}


def _fallback_key(a: AssetKey) -> tuple[str, str, str] | None:
    if not a.ref.startswith(BOM_LINK) or "#" not in a.ref:
        return None
    return (unquote(a.ref.split("#", 1)[1]), a.name, a.asset_type)


def match_assets(old: Iterable[AssetKey], new: Iterable[AssetKey]) -> dict[str, str]:
    """new ref -> old ref for every asset present in both (see the module's note on identity)."""
    old_refs = {a.ref: a for a in old}
    new_list = list(new)
    matched = {a.ref: a.ref for a in new_list if a.ref in old_refs}
    taken = set(matched.values())

    def unique(assets: Iterable[AssetKey]) -> dict[tuple[str, str, str], str]:
        seen: dict[tuple[str, str, str], list[str]] = {}
        for a in assets:
            key = _fallback_key(a)
            if key is not None:
                seen.setdefault(key, []).append(a.ref)
        return {k: refs[0] for k, refs in seen.items() if len(refs) == 1}

    old_rest = unique(a for ref, a in old_refs.items() if ref not in taken)
    new_rest = unique(a for a in new_list if a.ref not in matched)
    matched.update({new_ref: old_rest[key] for key, new_ref in new_rest.items() if key in old_rest})
    return matched


def _by_key(findings: Iterable[FindingKey], rename: Mapping[str, str] | None = None
            ) -> dict[tuple[str, str], tuple[FindingKey, bool]]:
    """(rule, bom-ref) -> (its first finding, open?) — open when any finding with that key is open."""
    out: dict[tuple[str, str], tuple[FindingKey, bool]] = {}
    for f in findings:
        key = (f.rule, (rename or {}).get(f.bom_ref, f.bom_ref))
        first, is_open = out.get(key, (f, False))
        out[key] = (first, is_open or not f.waived)
    return out


def _side(s: Snapshot) -> Side:
    waived = sum(1 for f in s.findings if f.waived)
    return Side(s.id, s.created, len(s.assets), len(s.findings) - waived, waived, s.pq_share)


def diff(old: Snapshot, new: Snapshot) -> Diff:
    """Everything that moved from old to new."""
    same = match_assets(old.assets, new.assets)
    old_by_ref = {a.ref: a for a in old.assets}
    kept_old = set(same.values())

    def change(o: AssetKey | None, n: AssetKey | None) -> AssetChange:
        shown = n or o
        assert shown is not None
        return AssetChange(shown.ref, shown.name, shown.asset_type, o.status if o else None, n.status if n else None,
                           o.index if o else None, n.index if n else None)

    added = tuple(change(None, a) for a in new.assets if a.ref not in same)
    removed = tuple(change(a, None) for a in old.assets if a.ref not in kept_old)
    moved = tuple(change(old_by_ref[same[a.ref]], a) for a in new.assets
                  if a.ref in same and old_by_ref[same[a.ref]].status != a.status)

    before, after = _by_key(old.findings), _by_key(new.findings, same)

    def finding(o: FindingKey | None, n: FindingKey | None) -> FindingChange:
        shown = n or o
        assert shown is not None
        return FindingChange(shown.rule, shown.bom_ref, shown.severity, shown.message,
                             o.index if o else None, n.index if n else None)

    fixed = tuple(finding(f, None) for key, (f, _) in before.items() if key not in after)
    new_open = tuple(finding(None, f) for key, (f, is_open) in after.items() if key not in before and is_open)
    waived = tuple(finding(before[key][0] if key in before else None, f) for key, (f, is_open) in after.items()
                   if not is_open and (key not in before or before[key][1]))
    reopened = tuple(finding(before[key][0], f) for key, (f, is_open) in after.items()
                     if is_open and key in before and not before[key][1])
    return Diff(old=_side(old), new=_side(new), assets_added=added, assets_removed=removed, status_changed=moved,
                findings_fixed=fixed, findings_new=new_open, findings_waived=waived, findings_reopened=reopened)
