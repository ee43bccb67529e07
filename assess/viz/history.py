"""Assessments read back from bundles in dist/: what the site and the trend charts draw from.

Each bundle is opened as a zip (the original folder is not needed) and checked with
`bundle.verify_bundle` first (with a public key, its signatures too); what a bundle says about
itself is used only when it verifies. The attestation's predicate is preferred (it is already
redacted); without one, the gate's `opa_result.json` still gives the findings and the exposure
is reported as missing.

A bundle that verifies can still hold values of the wrong type (anyone with the key, or an
older or foreign tool, can write them): the facts the site and the report read are checked
against `FACTS_SCHEMA` where they enter, and a bundle that fails is skipped with its reason,
never the end of the site.
"""

from __future__ import annotations

import functools
import re
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import fastjsonschema
from jsonschema import Draft202012Validator

from assess.bundle import MANIFEST_NAME, read_manifest, read_member, verify_bundle
from assess.errors import InputError
from assess.fsio import parse_json_bytes
from assess.signing import Trust
from assess.viz.data import TrendPoint, chart_data, trend_point

ATTESTATION = "attestation.json"
GATE_RESULT = "opa_result.json"
# Bundle names and ids become file names and links on the site: only what bundle_folder makes.
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")

_TEXT = {"type": ["string", "null"]}
_NUMBER = {"type": ["number", "null"]}
_COUNT = {"type": ["integer", "null"], "minimum": 0}
_FINDING = {
    "type": "object",
    "required": ["rule", "severity", "bom_ref"],
    "properties": {"rule": {"type": "string"}, "severity": {"type": "string"}, "bom_ref": {"type": "string"},
                   "message": _TEXT, "remediation": _TEXT, "waived": {"type": "boolean"}},
}
_RESULT = {
    "type": "object",
    "properties": {
        "bom_ref": {"type": "string"}, "name": _TEXT, "asset_type": _TEXT, "risk": _TEXT, "algorithm": _TEXT,
        "reason": _TEXT, "sources": {"type": "array", "items": {"type": "string"}},
        "is_flow": {"type": "boolean"}, "exposed": {"type": "boolean"},
        "exposure_years": _NUMBER, "probability_exposed": _NUMBER, "years_past_deadline": _NUMBER,
        "expected_exposed_years": _NUMBER,
        "flow": {"type": "object", "properties": {
            "handshakes": {"anyOf": [{"type": "integer", "minimum": 0},
                                     {"type": "string", "pattern": "^[0-9]{1,18}$"}]},
            "sni": _TEXT, "endpoint": _TEXT, "host": _TEXT, "process": _TEXT, "role": _TEXT,
            "negotiated_group": _TEXT}},
    },
}
# The facts of an attestation predicate (or gate result) that the site, the report and the trends
# read, with the types they read them as. Fields not named here are not read.
FACTS_SCHEMA = {
    "type": "object",
    "properties": {
        "summary": {"type": "object", "properties": {"crypto_assets": _COUNT, "policy_status": _TEXT}},
        "policy": {"type": "object", "properties": {
            "status": _TEXT, "profile": _TEXT, "mode": _TEXT, "engine": _TEXT,
            "findings": {"type": "array", "items": _FINDING}}},
        "exposure": {"type": "object", "properties": {
            "as_of": _TEXT, "assumptions": {"type": "object"},
            "summary": {"type": "object", "properties": {
                k: _COUNT for k in ("hndl_exposed", "signature_past_deadline", "flows", "flows_exposed")}},
            "results": {"type": "array", "items": _RESULT}}},
        "gaps": {"type": "array"},
        "redaction": {"type": "object", "properties": {"enabled": {"type": "boolean"}}},
        "findings": {"type": "array", "items": _FINDING},
    },
}
_FACTS = Draft202012Validator(FACTS_SCHEMA)


@functools.cache
def _facts_are_valid() -> Callable[[Any], Any]:
    # compiled to Python by fastjsonschema: a predicate of 100,000 results is checked in a second, where
    # jsonschema takes half a minute; jsonschema then names the first bad value of one that fails
    return fastjsonschema.compile(FACTS_SCHEMA)


def check_facts(facts: Any, origin: str, bundle: Path) -> Mapping[str, Any]:
    """facts (a predicate or a gate result) if the site can read it; an InputError naming the bad value."""
    if not isinstance(facts, dict):
        raise InputError(f"{origin} inside the bundle is not a JSON object", path=bundle)
    try:
        _facts_are_valid()(facts)
        return facts
    except fastjsonschema.JsonSchemaValueException:
        pass
    error = next(iter(sorted(_FACTS.iter_errors(facts), key=lambda e: [str(p) for p in e.absolute_path])), None)
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "(top)"
        raise InputError(f"{origin} inside the bundle: {where}: {error.message[:200]}", path=bundle)
    return facts


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


def _read_json_member(bundle: Path, name: str) -> Any:
    try:
        return parse_json_bytes(read_member(bundle, name), name)
    except InputError as e:
        raise InputError(f"{name} inside the bundle is not JSON Carnot reads: {e.message}", path=bundle) from e


def load_assessment(bundle: Path, entry: Mapping[str, Any]) -> Assessment:
    """Read one (already verified) bundle's facts; InputError when they are not what the site reads."""
    notes: list[str] = []
    with zipfile.ZipFile(bundle) as zf:
        names = set(zf.namelist())
    statement = _read_json_member(bundle, ATTESTATION) if ATTESTATION in names else None
    predicate = statement.get("predicate") if isinstance(statement, dict) else None
    gate = None
    if predicate is None and GATE_RESULT in names:
        gate = check_facts(_read_json_member(bundle, GATE_RESULT), GATE_RESULT, bundle)
    if statement is not None:
        predicate = check_facts(predicate, f"{ATTESTATION}'s predicate", bundle)
        results, findings = facts_from_predicate(predicate)
    else:
        results = []
        findings = list(gate.get("findings") or []) if gate is not None else []
        notes.append("the bundle holds no attestation.json: exposure was not scored for this assessment")
        if gate is None:
            notes.append("the bundle holds no opa_result.json: the policy gate did not run")
    return Assessment(
        id=str(entry["id"]), bundle=str(entry["bundle"]), sha256=str(entry["sha256"]),
        size=int(entry.get("size", 0)), created=str(entry.get("created", "")),
        files=tuple(sorted(entry["files"])), predicate=predicate, results=tuple(results),
        findings=tuple(findings), charts=chart_data(results, findings), notes=tuple(notes),
    )


def read_dist(dist: str | Path, trust: Trust | None = None
              ) -> tuple[list[Assessment], list[BundleStatus]]:
    """Every bundle the manifest in dist lists: statuses, and the assessments that verified and read."""
    intact, statuses = verify_dist(dist, trust)
    assessments = []
    for path, entry in intact:
        try:
            assessments.append(load_assessment(path, entry))
        except InputError as e:
            statuses = [with_problem(s, f"unreadable: {e.message}") if s.bundle == path.name else s
                        for s in statuses]
    assessments.sort(key=lambda a: (a.created, a.id))
    return assessments, statuses


def with_problem(status: BundleStatus, problem: str) -> BundleStatus:
    return BundleStatus(status.id, status.bundle, status.sha256, status.size, status.created,
                        (*status.problems, problem))


def verify_dist(dist: str | Path, trust: Trust | None = None
                ) -> tuple[list[tuple[Path, Mapping[str, Any]]], list[BundleStatus]]:
    """Verify every bundle the manifest lists (with trust, their signatures too): (the intact
    bundles with their entries, every status)."""
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
            # A name the site cannot use as a file name or link: listed (escaped), never opened.
            statuses.append(BundleStatus(f"entry-{index}", f"entry-{index}", str(entry["sha256"]), 0, "",
                                         (f"manifest entry {index} names bundle {name[:80]!r}, which is not a "
                                          "bundle name Carnot writes",)))
            continue
        path = folder / name
        if path.is_file():
            problems = verify_bundle(path, manifest, trust=trust).problems
        else:
            problems = ("the bundle file is missing from dist",)
        statuses.append(BundleStatus(ident, name, str(entry["sha256"]), int(entry.get("size", 0)),
                                     str(entry.get("created", "")), tuple(problems)))
        if not problems:
            intact.append((path, entry))
    return intact, statuses
