"""The whole estate of one assessment: every asset with its evidence, every observed flow, every finding.

Three files of an assessment are joined by bom-ref: the merged CBOM (each asset's type, parameters,
`carnot:*` properties and `evidence.occurrences`), the attestation's exposure results (its quantum
status) and the policy findings (predicate or `opa_result.json`, as `history.load_assessment` read
them). `build_estate` is the pure join; `load_estate` and `folder_estate` read the CBOM from a bundle
or a folder and validate it (`cbom.validate_document`) where it enters.

The attestation is redacted when `[redaction]` was configured; the merged CBOM never is. So when the
predicate records redaction, the estate is built from the predicate alone (names, types, statuses,
flows as masked there) and no evidence is shown: the site never shows what the attestation masked.
A CBOM that cannot be read is a note on the estate, never the end of the page.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assess.bundle import MANIFEST_NAME, read_manifest, read_member, verify_bundle
from assess.cbom import read_cbom, validate_document
from assess.errors import InputError, VerificationError
from assess.fsio import parse_json_bytes
from assess.model import Prop, parse_count
from assess.signing import Trust
from assess.viz.data import RISK_LABELS, SEVERITIES, pq_share_data, risk_label
from assess.viz.history import Assessment, load_assessment

MERGED_CBOM = "merged.cdx.json"
NOT_SCORED = "not scored"
STATUSES = (*RISK_LABELS, NOT_SCORED)  # worst first: the order assets are listed in
IMPORTED = "imported"  # the source of an asset from another tool's CBOM (its ref is not Carnot's)
CAPTURE_SOURCES = frozenset({"pcap", "zeek"})
MAX_SIGHTINGS = 1_000  # evidence occurrences kept per asset; the rest are counted
TEXT_LIMIT = 300  # characters of any observed string kept for display and search

# (label, property) shown with an asset, in this order; carnot:tag:* follow, then certificate names.
DETAILS: tuple[tuple[str, str], ...] = (
    ("host", Prop.RUNTIME_HOST), ("process", Prop.RUNTIME_COMM), ("executable", Prop.RUNTIME_EXE),
    ("role", Prop.RUNTIME_ROLE), ("SNI", Prop.RUNTIME_SNI), ("endpoint", Prop.RUNTIME_ENDPOINT),
    ("TLS library", Prop.RUNTIME_LIBRARY), ("handshakes", Prop.RUNTIME_HANDSHAKES),
    ("failed handshakes", Prop.RUNTIME_FAILED), ("first seen", Prop.RUNTIME_FIRST_SEEN),
    ("last seen", Prop.RUNTIME_LAST_SEEN),
    ("account", Prop.AWS_ACCOUNT), ("region", Prop.AWS_REGION), ("ARN", Prop.AWS_ARN),
    ("service", Prop.AWS_SERVICE), ("key spec", Prop.AWS_KEY_SPEC), ("key state", Prop.AWS_KEY_STATE),
    ("rotation enabled", Prop.AWS_ROTATION_ENABLED), ("aliases", Prop.AWS_ALIASES), ("in use by", Prop.AWS_IN_USE_BY),
    ("TLS versions", Prop.TLS_VERSIONS), ("groups", Prop.TLS_GROUPS), ("cipher suites", Prop.TLS_CIPHER_SUITES),
    ("TLS policy", Prop.TLS_POLICY), ("assumed defaults", Prop.TLS_ASSUMED_DEFAULTS),
    ("SSH key exchange", Prop.SSH_KEX), ("SSH host keys", Prop.SSH_HOST_KEY_ALGORITHMS),
    ("signature algorithm", Prop.CERT_SIGNATURE_ALGORITHM), ("owner", Prop.OWNER), ("data class", Prop.DATA_CLASS),
    ("shelf-life (years)", Prop.SHELF_LIFE_YEARS), ("simulated", Prop.SIMULATED),
)
# The flow fields of an exposure result (exposure._flow_details), for an estate read from the predicate alone.
_RESULT_FLOW = (("endpoint", "endpoint"), ("SNI", "sni"), ("host", "host"), ("process", "process"),
                ("role", "role"), ("handshakes", "handshakes"))


def clip(value: object, limit: int = TEXT_LIMIT) -> str:
    """An observed value as bounded text; the full value stays in the bundle."""
    shown = "" if value is None else str(value)
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


@dataclass(frozen=True)
class Sighting:
    """One piece of evidence: where the asset was seen, by which source, with a short hint."""

    source: str
    location: str
    line: int | None
    context: str

    @property
    def where(self) -> str:
        return self.location if self.line is None else f"{self.location}:{self.line}"


@dataclass(frozen=True)
class Flow:
    """An observed connection: process -> SNI/endpoint -> negotiated group, with its counts."""

    protocol: str  # TLS, QUIC or SSH
    process: str
    host: str
    role: str
    sni: str
    endpoint: str
    group: str  # the negotiated TLS group or SSH key exchange
    pq: bool | None  # it is hybrid/pure post-quantum; None when not known
    handshakes: int
    failed: int
    first_seen: str
    last_seen: str


@dataclass(frozen=True)
class EstateAsset:
    ref: str  # in full: findings and diffs join on it
    name: str
    asset_type: str
    algorithm: str
    key_bits: str
    group: str  # the negotiated group, else the configured or offered groups, else the curve
    status: str  # one of STATUSES
    exposure: tuple[float, float, float]  # years over, expected exposed years, probability (0 when not scored)
    sources: tuple[str, ...]
    evidence: tuple[Sighting, ...]
    evidence_unlisted: int  # sightings not listed here (the source's own limit plus MAX_SIGHTINGS)
    details: tuple[tuple[str, str], ...]
    reason: str  # why the exposure verdict is what it is
    flow: Flow | None


@dataclass(frozen=True)
class Estate:
    """Every asset (worst exposure first), every finding (as the assessment holds them), the PQ share."""

    assets: tuple[EstateAsset, ...]
    findings: tuple[Mapping[str, Any], ...]
    pq_share: Mapping[str, Any]
    evidence_shown: bool  # False when the CBOM was not read (redacted, missing or unreadable)
    notes: tuple[str, ...] = ()

    @property
    def flows(self) -> tuple[tuple[int, EstateAsset], ...]:
        return tuple((i, a) for i, a in enumerate(self.assets) if a.flow is not None)

    def index(self) -> dict[str, int]:
        """bom-ref -> position in assets (the first, should a document repeat a ref)."""
        found: dict[str, int] = {}
        for i, a in enumerate(self.assets):
            found.setdefault(a.ref, i)
        return found


# --- the pure join -------------------------------------------------------------------------------

def _props(component: Mapping[str, Any]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for p in component.get("properties") or ():
        found.setdefault(str(p.get("name")), []).append(str(p.get("value", "")))
    return found


def _first(props: Mapping[str, list[str]], *names: str) -> str:
    return next((props[n][0] for n in names if props.get(n)), "")


def _sighting(occurrence: Mapping[str, Any]) -> Sighting:
    """Carnot writes additionalContext as JSON {source, sha256, context}; other tools write free text."""
    raw = occurrence.get("additionalContext")
    extra: Mapping[str, Any] = {}
    if isinstance(raw, str) and raw.startswith("{"):
        # a short string inside a CBOM already read within limits: json.loads is ten times faster than
        # fsio.parse_json_bytes, and the two ways it can fail on hostile text are caught
        try:
            parsed = json.loads(raw)
        except (ValueError, RecursionError):
            parsed = None
        extra = parsed if isinstance(parsed, dict) else {}
    line = occurrence.get("line")
    return Sighting(source=clip(extra.get("source"), 40), location=clip(occurrence.get("location")),
                    line=line if isinstance(line, int) and not isinstance(line, bool) else None,
                    context=clip(extra.get("context", raw if not extra else None), 200))


def _exposure(result: Mapping[str, Any] | None) -> tuple[float, float, float]:
    if not result:
        return (0.0, 0.0, 0.0)
    over = result.get("exposure_years") if result.get("risk") == "hndl" else result.get("years_past_deadline")
    return (float(over or 0.0), float(result.get("expected_exposed_years") or 0.0),
            float(result.get("probability_exposed") or 0.0))


def _is_flow(asset_type: str, props: Mapping[str, list[str]], sources: Iterable[str]) -> bool:
    # as assess.exposure decides which protocol assets are observed flows
    return asset_type == "protocol" and ("runtime" in sources or Prop.TLS_NEGOTIATED_GROUP in props
                                         or Prop.RUNTIME_ENDPOINT in props)


def _flag(value: str) -> bool | None:
    return {"true": True, "false": False}.get(value)


def _count(value: object) -> int:
    return parse_count(str(value)) or 0 if value is not None else 0


def _component_asset(component: Mapping[str, Any], result: Mapping[str, Any] | None) -> EstateAsset:
    ref = str(component.get("bom-ref") or "")
    crypto = component.get("cryptoProperties") or {}
    asset_type = str(crypto.get("assetType") or "unknown")
    props = _props(component)
    occurrences = (component.get("evidence") or {}).get("occurrences") or []
    sightings = tuple(_sighting(o) for o in occurrences[:MAX_SIGHTINGS])
    sources = set(props.get(Prop.SOURCE, [])) | {s.source for s in sightings if s.source}
    if not ref.startswith("carnot:"):
        sources.add(IMPORTED)
    algorithm_props = crypto.get("algorithmProperties") or {}
    material = crypto.get("relatedCryptoMaterialProperties") or {}
    parameter = str(algorithm_props.get("parameterSetIdentifier") or "")
    key_bits = (_first(props, Prop.KEY_BITS, Prop.CERT_PUBLIC_KEY_BITS) or str(material.get("size") or "")
                or (parameter if parameter.isdigit() else ""))
    group = (_first(props, Prop.TLS_NEGOTIATED_GROUP, Prop.TLS_GROUPS, Prop.CURVE, Prop.CERT_CURVE)
             or str(algorithm_props.get("curve") or ""))
    algorithm = str((result or {}).get("algorithm") or "") or _first(
        props, Prop.ALGORITHM, Prop.CERT_PUBLIC_KEY_ALGORITHM, Prop.TLS_NEGOTIATED_GROUP)
    details = [(label, value) for label, name in DETAILS for value in props.get(name, [])]
    details += [(f"tag {name.removeprefix(Prop.TAG_PREFIX)}", value) for name, values in sorted(props.items())
                if name.startswith(Prop.TAG_PREFIX) for value in values]
    cert = crypto.get("certificateProperties") or {}
    details += [(label, str(cert[key])) for label, key in (("subject", "subjectName"), ("issuer", "issuerName"),
                                                           ("valid until", "notValidAfter")) if cert.get(key)]
    flow = None
    if _is_flow(asset_type, props, sources):
        ssh = (crypto.get("protocolProperties") or {}).get("type") == "ssh"
        flow = Flow(
            protocol="SSH" if ssh else "QUIC" if _first(props, Prop.TRANSPORT) == "quic" else "TLS",
            process=clip(" ".join(v for v in (_first(props, Prop.RUNTIME_COMM),
                                               f"({_first(props, Prop.RUNTIME_EXE)})"
                                               if _first(props, Prop.RUNTIME_EXE) else "") if v), 200),
            host=clip(_first(props, Prop.RUNTIME_HOST)), role=clip(_first(props, Prop.RUNTIME_ROLE), 40),
            sni=clip(_first(props, Prop.RUNTIME_SNI)), endpoint=clip(_first(props, Prop.RUNTIME_ENDPOINT)),
            group=clip(_first(props, Prop.SSH_KEX if ssh else Prop.TLS_NEGOTIATED_GROUP), 80),
            pq=_flag(_first(props, Prop.SSH_PQ_HYBRID if ssh else Prop.TLS_PQ_HYBRID)),
            handshakes=_count(_first(props, Prop.RUNTIME_HANDSHAKES)),
            failed=_count(_first(props, Prop.RUNTIME_FAILED)),
            first_seen=clip(_first(props, Prop.RUNTIME_FIRST_SEEN), 40),
            last_seen=clip(_first(props, Prop.RUNTIME_LAST_SEEN), 40))
    return EstateAsset(
        ref=ref, name=clip(component.get("name")), asset_type=clip(asset_type, 40), algorithm=clip(algorithm, 80),
        key_bits=clip(key_bits, 20), group=clip(group, 200),
        status=risk_label(result) if result else NOT_SCORED, exposure=_exposure(result),
        sources=tuple(sorted(clip(s, 40) for s in sources)), evidence=sightings,
        evidence_unlisted=len(occurrences) - len(sightings) + _count(_first(props, Prop.EVIDENCE_OMITTED)),
        details=tuple((label, clip(value)) for label, value in details), reason=clip((result or {}).get("reason")),
        flow=flow)


def _result_asset(result: Mapping[str, Any]) -> EstateAsset:
    """An asset known only from its exposure result: the predicate's (possibly masked) facts, no evidence."""
    ref = str(result.get("bom_ref") or "")
    facts = result.get("flow") or {}
    sources = set(result.get("sources") or ()) | (set() if ref.startswith("carnot:") else {IMPORTED})
    group = str(facts.get("negotiated_group") or facts.get("negotiated_kex") or "")
    protocol = str(facts.get("protocol") or "tls").upper()
    flow = Flow(protocol=clip(protocol, 8),
                process=clip(facts.get("process"), 200), host=clip(facts.get("host")), role=clip(facts.get("role"), 40),
                sni=clip(facts.get("sni")), endpoint=clip(facts.get("endpoint")), group=clip(group, 80),
                pq={"quantum_safe": True, "hndl": False}.get(str(result.get("risk"))) if group else None,
                handshakes=_count(facts.get("handshakes")), failed=0, first_seen="", last_seen="",
                ) if result.get("is_flow") else None
    return EstateAsset(
        ref=ref, name=clip(result.get("name")), asset_type=clip(result.get("asset_type") or "unknown", 40),
        algorithm=clip(result.get("algorithm") or "", 80), key_bits="", group=clip(group, 200),
        status=risk_label(result), exposure=_exposure(result), sources=tuple(sorted(clip(s, 40) for s in sources)),
        evidence=(), evidence_unlisted=0,
        details=tuple((label, clip(facts[key])) for label, key in _RESULT_FLOW if facts.get(key) is not None),
        reason=clip(result.get("reason")), flow=flow)


_STATUS_RANK = {s: i for i, s in enumerate(STATUSES)}


def exposure_order(asset: EstateAsset) -> tuple[Any, ...]:
    """Worst first: quantum status, then years over the deadline, expected exposed years, probability."""
    over, expected, probability = asset.exposure
    return (_STATUS_RANK.get(asset.status, len(STATUSES)), -over, -expected, -probability, asset.name, asset.ref)


_SEVERITY_RANK = {s: i for i, s in enumerate(SEVERITIES)}


def finding_order(finding: Mapping[str, Any]) -> tuple[Any, ...]:
    """Open before waived, then by severity, rule and asset: the order every list of findings uses."""
    return (bool(finding.get("waived")), _SEVERITY_RANK.get(str(finding.get("severity")), len(SEVERITIES)),
            str(finding.get("rule")), str(finding.get("bom_ref")))


def build_estate(components: Iterable[Mapping[str, Any]] | None, results: Sequence[Mapping[str, Any]],
                 findings: Sequence[Mapping[str, Any]], *, notes: Iterable[str] = ()) -> Estate:
    """Join the CBOM's crypto components (None: not read) with exposure results and findings by bom-ref.
    A result without a component still becomes an asset, so nothing scored is lost."""
    by_ref = {str(r.get("bom_ref")): r for r in results}
    assets: list[EstateAsset] = []
    joined: set[str] = set()
    for component in components or ():
        if component.get("type") != "cryptographic-asset" or "cryptoProperties" not in component:
            continue
        ref = str(component.get("bom-ref") or "")
        assets.append(_component_asset(component, by_ref.get(ref)))
        joined.add(ref)
    assets += [_result_asset(r) for ref, r in by_ref.items() if ref not in joined]
    return Estate(assets=tuple(sorted(assets, key=exposure_order)), findings=tuple(sorted(findings, key=finding_order)),
                  pq_share=pq_share_data(results), evidence_shown=components is not None, notes=tuple(notes))


# --- reading it ------------------------------------------------------------------------------------

def _masked(a: Assessment) -> bool:
    return bool(((a.predicate or {}).get("redaction") or {}).get("enabled"))


_MASKED_NOTE = ("the attestation masks sensitive values and the bundle's merged CBOM does not, so this inventory "
                "shows the attestation's masked facts and no evidence")


def _estate(a: Assessment, components: Callable[[], list[dict[str, Any]] | None], where: str) -> Estate:
    if _masked(a):
        return build_estate(None, a.results, a.findings, notes=[_MASKED_NOTE])
    try:
        found = components()
    except InputError as e:
        note = f"{MERGED_CBOM} could not be read ({clip(e.message, 200)}): assets are listed without their evidence"
        return build_estate(None, a.results, a.findings, notes=[note])
    if found is None:
        note = f"{where} holds no {MERGED_CBOM}: assets are listed from the attestation, without their evidence"
        return build_estate(None, a.results, a.findings, notes=[note])
    return build_estate(found, a.results, a.findings)


def load_estate(bundle: Path, a: Assessment) -> Estate:
    """The estate of a verified bundle: its merged CBOM (bounded read, validated) joined with a's facts."""
    def components() -> list[dict[str, Any]] | None:
        if MERGED_CBOM not in a.files:
            return None
        origin = f"{bundle.name}:{MERGED_CBOM}"
        return list(validate_document(parse_json_bytes(read_member(bundle, MERGED_CBOM), origin), origin).components())

    return _estate(a, components, "the bundle")


def folder_estate(folder: Path, a: Assessment) -> Estate:
    """The estate of an assessment folder, its merged.cdx.json read and validated like any CBOM."""
    path = folder / MERGED_CBOM
    return _estate(a, lambda: list(read_cbom(path).components()) if path.is_file() else None, "the folder")


def open_verified(bundle: str | Path, manifest: str | Path | None = None, *,
                  trust: Trust | None = None) -> tuple[Assessment, Estate]:
    """A bundle verified against its manifest (default: the one beside it), then read; a bundle that
    cannot be verified is an error naming it, never read."""
    path = Path(bundle)
    manifest_path = Path(manifest) if manifest is not None else path.parent / MANIFEST_NAME
    if path.is_file() and not manifest_path.exists():
        raise InputError(f"cannot be verified: no {MANIFEST_NAME} beside it; name its manifest", path=path)
    result = verify_bundle(path, manifest_path, trust=trust)
    if not result.intact:
        raise VerificationError(f"failed verification against {manifest_path}: {result.problems[0]}", path=path)
    entry = next(e for e in read_manifest(manifest_path) if e["bundle"] == path.name)
    a = load_assessment(path, entry)
    return a, load_estate(path, a)
