"""The attestation: an in-toto Statement v1 about an assessment folder, optionally DSSE-signed.

`attest_folder(...)` reads the merged CBOM and the gate results, scores exposure, and writes into
the assessment folder `attestation.json` (the statement), `attestation.md` (the human report) and,
with a signing key, `attestation.dsse.json` (a DSSE envelope, Ed25519). Subjects are every file of
the folder (names relative to it, sha256), except those three. The predicate
(`PREDICATE_TYPE`) holds the summary, the policy status and digest, the exposure with its
assumptions, the gaps (CBOM `carnot:gap` records and the optional `stages.json`), the provenance
and what redaction masked. Same inputs and SOURCE_DATE_EPOCH give the same bytes.

Checking: `verify_envelope(envelope, public_key)` (DSSE PAE, Ed25519) returns the statement;
`subject_problems(statement, files)` compares subjects to files' bytes; `verify_attestation_files`
does both on a {name: bytes} mapping (a folder or a bundle's entries).

`stages.json` (optional, written by `carnot assess`): `{"<stage>": {"status": "run" | "not_run" |
"failed", "reason": "..."}}`; every stage not run or failed becomes a gap.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import os
import platform
import subprocess
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from assess import __version__
from assess.attest_markdown import render_markdown
from assess.bundle import read_member
from assess.cbom import CbomDocument, document_assets, document_timestamp, read_cbom
from assess.clock import build_time, iso, source_date_epoch
from assess.errors import ConfigError, InputError, VerificationError
from assess.exposure import ExposureConfig, assess_exposure
from assess.fsio import parse_json_bytes, pretty_json, read_json, read_toml, write_atomic
from assess.model import Asset, Prop, Source, parse_count
from assess.redact import RedactionConfig, Redactor
from assess.resources import checkout
from assess.signing import (
    INTOTO_PAYLOAD_TYPE,
    open_envelope,
    sign_envelope,
)

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://carnot.dev/attestation/pqc-assessment/v1"
PAYLOAD_TYPE = INTOTO_PAYLOAD_TYPE
ATTESTATION_JSON = "attestation.json"
ATTESTATION_MD = "attestation.md"
ATTESTATION_DSSE = "attestation.dsse.json"
OUTPUTS = frozenset({ATTESTATION_JSON, ATTESTATION_MD, ATTESTATION_DSSE})
STAGES_JSON = "stages.json"
OPA_RESULT = "opa_result.json"
OPA_SUMMARY = "opa_summary.json"
STAGE_STATUSES = ("run", "not_run", "failed")
SEVERITIES = ("critical", "high", "medium", "low")
_LIBRARIES = ("cyclonedx-python-lib", "cryptography", "jsonschema", "celine-regorus", "fastapi", "uvicorn")


# --- inputs ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class AttestConfig:
    """The `[exposure]` and `[redaction]` sections of carnot.toml."""

    exposure: ExposureConfig = field(default_factory=ExposureConfig)
    redaction: RedactionConfig = field(default_factory=RedactionConfig)

    @classmethod
    def load(cls, path: str | Path) -> AttestConfig:
        p = Path(path)
        _, data = read_toml(p)
        try:
            exposure = ExposureConfig.from_toml_table(data.get("exposure", {}))
            redaction = RedactionConfig.from_toml_table(data.get("redaction", {}))
        except ConfigError as e:
            raise ConfigError(e.message, path=p) from e
        return cls(exposure=exposure, redaction=redaction)


@dataclass(frozen=True)
class GateResults:
    """`opa_result.json` and `opa_summary.json` as the PRODUCT.md *Gate results* contract states them."""

    engine: str
    profile: str
    mode: str
    policy_digest: str
    findings: tuple[Mapping[str, Any], ...]
    summary: Mapping[str, Any]
    fail_at: str = "low"  # the gate's threshold in enforce mode, when it states one

    @classmethod
    def load(cls, folder: str | Path) -> GateResults:
        result_path, summary_path = Path(folder, OPA_RESULT), Path(folder, OPA_SUMMARY)
        result = read_json(result_path)
        summary = read_json(summary_path)
        if not isinstance(result, dict):
            raise InputError("expected a JSON object with engine, profile, mode, policy_digest, findings",
                             path=result_path)
        missing = [k for k in ("engine", "profile", "mode", "policy_digest", "findings") if k not in result]
        if missing:
            raise InputError(f"missing key(s) {', '.join(missing)} (see PRODUCT.md, Gate results)",
                             path=result_path)
        if not isinstance(result["findings"], list):
            raise InputError("'findings' must be a list", path=result_path)
        for index, finding in enumerate(result["findings"]):
            if not isinstance(finding, dict) or not {"rule", "severity", "bom_ref"} <= set(finding):
                raise InputError(f"finding {index} lacks rule, severity or bom_ref", path=result_path)
        if not isinstance(summary, dict):
            raise InputError("expected a JSON object of counts", path=summary_path)
        return cls(
            engine=str(result["engine"]), profile=str(result["profile"]), mode=str(result["mode"]),
            policy_digest=str(result["policy_digest"]), findings=tuple(result["findings"]), summary=summary,
            fail_at=str(result.get("fail_at", "low")),
        )


def load_stages(path: str | Path) -> dict[str, dict[str, str]]:
    """Read stages.json: {stage: {status: run|not_run|failed, reason}}."""
    data = read_json(path)
    if not isinstance(data, dict):
        raise InputError("expected {stage: {status, reason}}", path=path)
    stages: dict[str, dict[str, str]] = {}
    for stage, record in sorted(data.items()):
        if not isinstance(record, dict) or record.get("status") not in STAGE_STATUSES:
            raise InputError(f"stage {stage!r}: status must be one of {', '.join(STAGE_STATUSES)}", path=path)
        stages[str(stage)] = {"status": str(record["status"]), "reason": str(record.get("reason", ""))}
    return stages


@dataclass(frozen=True)
class Subject:
    name: str
    sha256: str


def folder_subjects(folder: str | Path) -> list[Subject]:
    """Every regular file under folder (posix names relative to it), except the attestation's own."""
    root = Path(folder)
    subjects: list[Subject] = []
    if not root.is_dir():
        return subjects
    for dirpath, dirs, names in os.walk(root):
        dirs.sort()
        for name in names:
            path = Path(dirpath, name)
            rel = path.relative_to(root).as_posix()
            if rel in OUTPUTS or path.is_symlink() or not path.is_file() or _is_temporary(name):
                continue
            subjects.append(Subject(rel, _sha256_file(path)))
    return sorted(subjects, key=lambda s: s.name)


def _is_temporary(name: str) -> bool:
    # fsio.write_atomic's temporary files of a concurrent writer: never part of the assessment.
    return name.startswith(".") and name.endswith(".tmp")


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


# --- the statement -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Provenance:
    tool_version: str
    git_commit: str | None
    python: str
    libraries: Mapping[str, str | None]
    inputs: tuple[tuple[str, str, str], ...]  # (role, file name, sha256)

    def to_dict(self) -> dict[str, Any]:
        return {
            "tool": {"name": "carnot", "version": self.tool_version},
            "git_commit": self.git_commit,
            "python": self.python,
            "libraries": dict(sorted(self.libraries.items())),
            "inputs": [{"role": r, "name": n, "sha256": d} for r, n, d in self.inputs],
        }


def collect_provenance(inputs: Iterable[tuple[str, str, str]]) -> Provenance:
    libraries: dict[str, str | None] = {}
    for name in _LIBRARIES:
        try:
            libraries[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            libraries[name] = None
    return Provenance(
        tool_version=__version__, git_commit=_git_commit(), python=platform.python_version(),
        libraries=libraries, inputs=tuple(sorted(inputs)),
    )


def _git_commit() -> str | None:
    """The commit Carnot runs from: GITHUB_SHA in Actions, else the source checkout's HEAD."""
    if os.environ.get("GITHUB_SHA"):
        return os.environ["GITHUB_SHA"]
    source = checkout()
    if source is None or not (source / ".git").exists():
        return None
    try:
        out = subprocess.run(["git", "-C", str(source), "rev-parse", "HEAD"], capture_output=True, text=True,
                             timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    commit = out.stdout.strip()
    return commit if out.returncode == 0 and len(commit) == 40 else None


def _gap(stage: str, scope: str, reason: str, origin: str) -> dict[str, str]:
    return {"stage": stage, "scope": scope, "reason": reason, "origin": origin}


def policy_section(gate: GateResults | None) -> dict[str, Any]:
    if gate is None:
        return {"status": "not_assessed", "reason": "no gate results were given"}
    severity_rank = {s: i for i, s in enumerate(SEVERITIES)}
    unwaived = [f for f in gate.findings if not f.get("waived", False)]
    waived = len(gate.findings) - len(unwaived)
    threshold = severity_rank.get(gate.fail_at, len(SEVERITIES) - 1)
    failing = [f for f in unwaived if severity_rank.get(str(f["severity"]), 9) <= threshold]
    if not unwaived:
        status = "pass"
    else:
        # as the gate decides: enforce mode fails on open findings at or above its threshold
        status = "fail" if gate.mode == "enforce" and failing else "warn"
    by_severity = Counter(str(f["severity"]) for f in unwaived)
    by_rule = Counter(str(f["rule"]) for f in unwaived)
    findings = sorted(
        (
            {k: f.get(k) for k in ("rule", "severity", "bom_ref", "message", "remediation", "waived")}
            for f in gate.findings
        ),
        key=lambda f: (severity_rank.get(str(f["severity"]), 9), str(f["rule"]), str(f["bom_ref"])),
    )
    return {
        "status": status,
        "engine": gate.engine,
        "profile": gate.profile,
        "mode": gate.mode,
        "fail_at": gate.fail_at,
        "policy_digest": gate.policy_digest,
        "unwaived": len(unwaived),
        "failing": len(failing),
        "waived": waived,
        "by_severity": {s: by_severity.get(s, 0) for s in SEVERITIES},
        "by_rule": dict(sorted(by_rule.items())),
        "gate_summary": dict(gate.summary),
        "findings": findings,
    }


CAPTURE_SOURCES = (Source.PCAP, Source.ZEEK)


def evidence_sources(assets: Iterable[Asset]) -> dict[str, Any]:
    """How many assets each source saw (an asset seen by two counts for both) and how many evidence
    occurrences it gave; `from_captures` is the share that came from packet captures and Zeek logs."""
    by_asset: Counter[str] = Counter()
    by_evidence: Counter[str] = Counter()
    captured = 0
    for asset in assets:
        sources = {v for k, v in asset.properties if k == Prop.SOURCE}
        sources |= {str(ev.source) for ev in asset.evidence}
        by_asset.update(sources)
        by_evidence.update(str(ev.source) for ev in asset.evidence)
        captured += any(s in CAPTURE_SOURCES for s in sources)
    return {
        "assets": dict(sorted(by_asset.items())),
        "evidence": dict(sorted(by_evidence.items())),
        "from_captures": {"assets": captured,
                          "evidence": sum(by_evidence[str(s)] for s in CAPTURE_SOURCES)},
    }


def build_statement(
    doc: CbomDocument,
    *,
    gate: GateResults | None,
    stages: Mapping[str, Mapping[str, str]] | None,
    subjects: Iterable[Subject],
    provenance: Provenance,
    config: AttestConfig,
) -> tuple[dict[str, Any], Redactor]:
    """The in-toto statement (redacted) and the redactor that masked it. Pure given its inputs."""
    generated = build_time()
    assets = document_assets(doc)
    exposure = assess_exposure(assets, config.exposure, generated.date())
    gaps = [_gap(g.stage, g.scope, g.reason, "cbom") for g in doc.gaps()]
    for stage, record in sorted((stages or {}).items()):
        if record["status"] != "run":
            gaps.append(_gap(stage, record["status"], record["reason"], "stages"))
    if gate is None:
        gaps.append(_gap("gate", "not_run", "no gate results were given", "attest"))
    gaps.sort(key=lambda g: (g["stage"], g["scope"], g["reason"], g["origin"]))
    asset_types = Counter(r.asset_type for r in exposure.results)
    skipped_count = sum(parse_count(v) or 0 for v in doc.metadata_properties(Prop.SKIPPED_COUNT))
    policy = policy_section(gate)
    predicate = {
        "generated_at": iso(generated),
        "source_date_epoch": source_date_epoch(),
        "bom": {"spec_version": doc.spec_version, "timestamp": document_timestamp(doc)},
        "summary": {
            "components": sum(1 for _ in doc.components()),
            "crypto_assets": len(assets),
            "by_asset_type": dict(sorted(asset_types.items())),
            "policy_status": policy["status"],
            "findings_unwaived": policy.get("unwaived", 0),
            "findings_waived": policy.get("waived", 0),
            "exposure": exposure.summary(),
            "gaps": len(gaps),
            "skipped_files": skipped_count,
            "evidence_sources": evidence_sources(assets),
        },
        "policy": policy,
        "exposure": exposure.to_dict(),
        "gaps": gaps,
        "stages": dict(sorted((stages or {}).items())),
        "provenance": provenance.to_dict(),
    }
    redactor = Redactor(config.redaction)
    redacted = redactor.json(predicate)
    redacted["redaction"] = redactor.report()
    statement = {
        "_type": STATEMENT_TYPE,
        "subject": [
            {"name": s.name, "digest": {"sha256": s.sha256}} for s in sorted(subjects, key=lambda s: s.name)
        ],
        "predicateType": PREDICATE_TYPE,
        "predicate": redacted,
    }
    return statement, redactor


# --- DSSE signing and verification -------------------------------------------------------------

def verify_envelope(envelope: Mapping[str, Any], public_key: Ed25519PublicKey) -> dict[str, Any]:
    """Check a DSSE envelope's Ed25519 signature; return the in-toto statement it carries."""
    payload = open_envelope(envelope, public_key, PAYLOAD_TYPE)
    try:
        statement = parse_json_bytes(payload, "the signed payload")
    except InputError as e:
        raise VerificationError(f"the signed payload is not JSON Carnot reads: {e.message}") from e
    if not isinstance(statement, dict) or statement.get("_type") != STATEMENT_TYPE:
        raise VerificationError("the signed payload is not an in-toto Statement v1")
    return statement


def subject_problems(statement: Mapping[str, Any], digests: Mapping[str, str]) -> list[str]:
    """Subjects whose file is missing or whose sha256 (digests: name -> hex) no longer matches."""
    problems: list[str] = []
    subjects = statement.get("subject")
    for subject in subjects if isinstance(subjects, list) else []:
        if not isinstance(subject, Mapping) or not isinstance(subject.get("digest"), Mapping):
            problems.append("a subject of the statement is not {name, digest}")
            continue
        name = str(subject.get("name"))
        if name not in digests:
            problems.append(f"attested file missing: {name}")
        elif digests[name] != subject["digest"].get("sha256"):
            problems.append(f"attested file changed: {name}")
    return problems


def attestation_problems(statement_bytes: bytes | None, envelope_bytes: bytes | None,
                         digests: Mapping[str, str], public_key: Ed25519PublicKey | None) -> list[str]:
    """Problems with an attestation (and, with a key, its DSSE envelope) against files' digests."""
    problems: list[str] = []
    if statement_bytes is None:
        return [f"no {ATTESTATION_JSON} to verify"]
    if public_key is not None and envelope_bytes is not None:
        try:
            envelope = parse_json_bytes(envelope_bytes, ATTESTATION_DSSE)
            verify_envelope(envelope, public_key)
        except InputError as e:
            return [e.one_line()]
        except VerificationError as e:
            return [f"{ATTESTATION_DSSE}: {e}"]
        if base64.b64decode(envelope["payload"]) != statement_bytes:
            problems.append(f"{ATTESTATION_JSON} differs from the payload signed in {ATTESTATION_DSSE}")
    elif public_key is not None:
        return [f"a public key was given but there is no {ATTESTATION_DSSE}"]
    try:
        statement = parse_json_bytes(statement_bytes, ATTESTATION_JSON)
    except InputError as e:
        return [*problems, e.one_line()]
    if not isinstance(statement, dict) or statement.get("_type") != STATEMENT_TYPE:
        return [*problems, f"{ATTESTATION_JSON} is not an in-toto Statement v1"]
    return problems + subject_problems(statement, digests)


def verify_attestation_files(files: Mapping[str, bytes], public_key: Ed25519PublicKey | None) -> list[str]:
    """Problems with the attestation among files {name: bytes}: envelope, statement, subjects."""
    digests = {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}
    return attestation_problems(files.get(ATTESTATION_JSON), files.get(ATTESTATION_DSSE), digests, public_key)


def bundle_attestation_problems(bundle: str | Path, digests: Mapping[str, str],
                                public_key: Ed25519PublicKey) -> list[str]:
    """The signed attestation inside a bundle, if it has one, against the bundle's files' digests
    (from `verify_bundle`, which streamed them); only the attestation's own files are read, bounded."""
    if ATTESTATION_DSSE not in digests:
        return []  # the bundle's own signature (bundle.dsse.json) covers attestation.json
    try:
        statement = read_member(bundle, ATTESTATION_JSON) if ATTESTATION_JSON in digests else None
        envelope = read_member(bundle, ATTESTATION_DSSE)
    except InputError as e:
        return [f"attestation: {e.message}"]
    return [f"attestation: {p}" for p in attestation_problems(statement, envelope, digests, public_key)]


def read_folder_files(folder: str | Path) -> dict[str, bytes]:
    root = Path(folder)
    if not root.is_dir():
        raise InputError("no such assessment folder", path=root)
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*")) if path.is_file() and not path.is_symlink()
    }


# --- writing -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class AttestResult:
    statement: dict[str, Any]
    markdown: str
    written: tuple[str, ...]

    def report(self) -> dict[str, Any]:
        predicate = self.statement["predicate"]
        summary = predicate["summary"]
        return {
            "written": list(self.written),
            "subjects": len(self.statement["subject"]),
            "policy_status": summary["policy_status"],
            "hndl_exposed": summary["exposure"]["hndl_exposed"],
            "flows_exposed": summary["exposure"]["flows_exposed"],
            "gaps": summary["gaps"],
            "signed": ATTESTATION_DSSE in {Path(w).name for w in self.written},
            "redaction": predicate["redaction"],
        }


def attest_folder(
    bom: str | Path,
    gate_dir: str | Path,
    out: str | Path,
    *,
    config: AttestConfig | None = None,
    config_path: str | Path | None = None,
    sign_key: Ed25519PrivateKey | None = None,
) -> AttestResult:
    """Build and write attestation.json, attestation.md (and attestation.dsse.json when signing)."""
    config = config or AttestConfig()
    out_dir = Path(out)
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError("--out must be a folder", path=out_dir)
    doc = read_cbom(bom)
    gate = GateResults.load(gate_dir)
    stages_path = out_dir / STAGES_JSON
    stages = load_stages(stages_path) if stages_path.exists() else None
    inputs = [("bom", Path(bom).name, _sha256_file(Path(bom)))]
    inputs += [(f"gate:{n}", n, _sha256_file(Path(gate_dir, n))) for n in (OPA_RESULT, OPA_SUMMARY)]
    if stages is not None:
        inputs.append(("stages", STAGES_JSON, _sha256_file(stages_path)))
    if config_path is not None:
        inputs.append(("config", Path(config_path).name, _sha256_file(Path(config_path))))
    statement, _ = build_statement(
        doc, gate=gate, stages=stages, subjects=folder_subjects(out_dir),
        provenance=collect_provenance(inputs), config=config,
    )
    payload = pretty_json(statement)
    markdown = render_markdown(statement)
    written = [
        str(write_atomic(out_dir / ATTESTATION_MD, markdown.encode("utf-8"))),
        str(write_atomic(out_dir / ATTESTATION_JSON, payload)),
    ]
    envelope_path = out_dir / ATTESTATION_DSSE
    if sign_key is not None:
        written.append(str(write_atomic(envelope_path, pretty_json(sign_envelope(payload, sign_key)))))
    elif envelope_path.exists():
        envelope_path.unlink()  # an envelope over an older statement would no longer verify
    return AttestResult(statement=statement, markdown=markdown, written=tuple(written))
