"""Assessments read back from bundles in dist/: what the site and the trend charts draw from.

Each bundle is opened as a zip (the original folder is not needed) and checked with
`bundle.verify_bundle` first; what a bundle says about itself is used only when it verifies.
The attestation's predicate is preferred (it is already redacted); without one, the gate's
`opa_result.json` still gives the findings and the exposure is reported as missing.
"""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assess.bundle import MANIFEST_NAME, read_manifest, verify_bundle
from assess.errors import InputError
from assess.viz.data import TrendPoint, chart_data, trend_point

ATTESTATION = "attestation.json"
GATE_RESULT = "opa_result.json"
# Bundle names and ids become file names and links on the site: only what bundle_folder makes.
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


@dataclass(frozen=True)
class Assessment:
    """One bundled assessment, verified, with the facts its pages and charts need."""

    id: str
    bundle: str
    sha256: str
    size: int
    created: str
    files: tuple[str, ...]
    predicate: Mapping[str, Any] | None
    results: tuple[Mapping[str, Any], ...]
    findings: tuple[Mapping[str, Any], ...]
    charts: Mapping[str, Any]
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def trend(self) -> TrendPoint:
        return trend_point(self.id, self.created, self.charts)


@dataclass(frozen=True)
class BundleStatus:
    """A manifest entry as the downloads page lists it, verified or not."""

    id: str
    bundle: str
    sha256: str
    size: int
    created: str
    problems: tuple[str, ...]

    @property
    def intact(self) -> bool:
        return not self.problems


def facts_from_predicate(predicate: Mapping[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(exposure results, policy findings) from an attestation predicate."""
    results = list((predicate.get("exposure") or {}).get("results") or [])
    findings = list((predicate.get("policy") or {}).get("findings") or [])
    return results, findings


def _read_member(zf: zipfile.ZipFile, name: str, bundle: Path) -> Any:
    try:
        return json.loads(zf.read(name).decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as e:
        raise InputError(f"{name} inside the bundle is not valid JSON: {e}", path=bundle) from e


def load_assessment(bundle: Path, entry: Mapping[str, Any]) -> Assessment:
    """Read one (already verified) bundle's facts."""
    notes: list[str] = []
    with zipfile.ZipFile(bundle) as zf:
        names = set(zf.namelist())
        statement = _read_member(zf, ATTESTATION, bundle) if ATTESTATION in names else None
        predicate = statement.get("predicate") if isinstance(statement, dict) else None
        gate = None
        if not isinstance(predicate, dict) and GATE_RESULT in names:
            gate = _read_member(zf, GATE_RESULT, bundle)
    if isinstance(predicate, dict):
        results, findings = facts_from_predicate(predicate)
    else:
        predicate = None
        results = []
        findings = list(gate.get("findings") or []) if isinstance(gate, dict) else []
        notes.append("the bundle holds no attestation.json: exposure was not scored for this assessment")
        if gate is None:
            notes.append("the bundle holds no opa_result.json: the policy gate did not run")
    return Assessment(
        id=str(entry["id"]), bundle=str(entry["bundle"]), sha256=str(entry["sha256"]),
        size=int(entry.get("size", 0)), created=str(entry.get("created", "")),
        files=tuple(sorted(entry["files"])), predicate=predicate, results=tuple(results),
        findings=tuple(findings), charts=chart_data(results, findings), notes=tuple(notes),
    )


def read_dist(dist: str | Path) -> tuple[list[Assessment], list[BundleStatus]]:
    """Every bundle the manifest in dist lists: verified statuses, and the assessments that verified."""
    intact, statuses = verify_dist(dist)
    assessments = [load_assessment(path, entry) for path, entry in intact]
    assessments.sort(key=lambda a: (a.created, a.id))
    return assessments, statuses


def verify_dist(dist: str | Path) -> tuple[list[tuple[Path, Mapping[str, Any]]], list[BundleStatus]]:
    """Verify every bundle the manifest lists: (the intact bundles with their entries, every status)."""
    folder = Path(dist)
    manifest = folder / MANIFEST_NAME
    if not folder.is_dir():
        raise InputError("no such folder; expected a dist/ with bundles and their manifest", path=folder)
    if not manifest.exists():
        raise InputError(f"no {MANIFEST_NAME}: bundle assessments with `carnot bundle` first", path=manifest)
    intact: list[tuple[Path, Mapping[str, Any]]] = []
    statuses: list[BundleStatus] = []
    for index, entry in enumerate(read_manifest(manifest)):
        name, ident = str(entry["bundle"]), str(entry["id"])
        if not SAFE_NAME.match(name) or not SAFE_NAME.match(ident) or not name.endswith(".zip"):
            raise InputError(f"entry {index} names bundle {name[:80]!r} / id {ident[:80]!r}, which is not a "
                             "bundle name Carnot writes", path=manifest)
        path = folder / name
        if path.is_file():
            problems = verify_bundle(path, manifest).problems
        else:
            problems = ("the bundle file is missing from dist",)
        statuses.append(BundleStatus(ident, name, str(entry["sha256"]), int(entry.get("size", 0)),
                                     str(entry.get("created", "")), tuple(problems)))
        if not problems:
            intact.append((path, entry))
    return intact, statuses
