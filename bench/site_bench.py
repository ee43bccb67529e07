"""Site build at scale: 50 bundled assessments of 10,000 findings (and 10,000 scored assets) each.

The assessment folders are synthetic but contract-shaped: `opa_result.json` as the gate writes it,
`attestation.json` whose predicate holds `attest.policy_section(...)` of those findings and
exposure results in `ExposureResult.to_dict()` form. They are bundled with the real
`bundle_folder`; the site is then built with the real `build_site` and timed.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from assess.attest import GateResults, policy_section
from assess.bundle import bundle_folder
from assess.sitegen import build_site

ASSESSMENTS = int(os.environ.get("CARNOT_BENCH_SITE_ASSESSMENTS", "50"))
FINDINGS = int(os.environ.get("CARNOT_BENCH_SITE_FINDINGS", "10000"))
RULES = ("weak-rsa-key", "legacy-hash", "tls-no-hybrid-pq", "quantum-vulnerable-algorithm", "legacy-tls-version",
         "cert-quantum-vulnerable-signature", "ssh-legacy-algorithm", "cloud-key-untagged")
SEVERITIES = ("critical", "high", "medium", "low")
ALGORITHMS = ("RSA", "ECDSA", "x25519", "secp256r1", "AES", "SHA-1", "ED25519", "X25519MLKEM768")


def _result(i: int, n: int, hybrid_share: float) -> dict[str, Any]:
    flow = i % 5 == 0
    if flow:
        hybrid = (i // 5) % 100 < hybrid_share * 100
        risk, algorithm = ("quantum_safe", "X25519MLKEM768") if hybrid else ("hndl", "x25519")
    else:
        algorithm = ALGORITHMS[i % len(ALGORITHMS)]
        risk = {"RSA": "hndl", "x25519": "hndl", "secp256r1": "hndl", "ECDSA": "signature_deadline",
                "ED25519": "signature_deadline", "X25519MLKEM768": "quantum_safe"}.get(algorithm, "not_applicable")
    r: dict[str, Any] = {
        "bom_ref": f"carnot:asset:{i:06d}", "name": f"asset {i} <{algorithm}>", "asset_type": "protocol"
        if flow else "algorithm", "risk": risk, "reason": "synthetic", "algorithm": algorithm,
        "sources": ["runtime"] if flow else ["static", "aws"][: 1 + i % 2], "is_flow": flow,
        "exposed": risk == "hndl" and i % 3 != 0,
    }
    if flow:
        r["flow"] = {"endpoint": f"10.0.{i % 250}.{i % 200}:443", "handshakes": str(1 + i % 40),
                     "sni": f"svc-{i}.example"}
    if risk == "hndl":
        r.update(data_class="secret", shelf_life_years=25.0, shelf_life_basis="data_class", migration_years=5.0,
                 crqc_years=15.0, exposure_years=15.0 if r["exposed"] else 0.0, probability_exposed=0.8,
                 expected_exposed_years=7.1)
    return r


def write_folder(folder: Path, index: int) -> None:
    folder.mkdir(parents=True)
    hybrid_share = min(0.95, 0.1 + index / max(1, ASSESSMENTS))
    results = [_result(i, FINDINGS, hybrid_share) for i in range(FINDINGS)]
    findings = [{
        "rule": RULES[i % len(RULES)], "severity": SEVERITIES[(i + index) % 4], "bom_ref": results[i]["bom_ref"],
        "message": f"finding {i} on {results[i]['name']}", "waived": i % 97 == 0,
        "remediation": f"docs/POLICY_GUIDE.md#{RULES[i % len(RULES)]}",
    } for i in range(FINDINGS)]
    gate = {"engine": "regorus", "profile": "balanced", "mode": "warn", "policy_digest": "sha256:" + "ab" * 32,
            "findings": findings}
    (folder / "opa_result.json").write_text(json.dumps(gate))
    (folder / "opa_summary.json").write_text("{}")
    policy = policy_section(GateResults(engine="regorus", profile="balanced", mode="warn",
                                        policy_digest=gate["policy_digest"], findings=tuple(findings), summary={}))
    predicate = {
        "generated_at": f"2026-{1 + index % 12:02d}-01T00:00:00Z",
        "summary": {"crypto_assets": FINDINGS, "policy_status": policy["status"]},
        "policy": policy,
        "exposure": {"as_of": "2026-01-01", "assumptions": {"crqc_years": {"value": 15.0, "origin": "default"}},
                     "summary": {"flows": FINDINGS // 5}, "results": results},
        "gaps": [{"stage": "aws", "scope": "123456789012/ap-south-1", "reason": "AccessDenied", "origin": "cbom"}],
    }
    statement = {"_type": "https://in-toto.io/Statement/v1", "subject": [], "predicate": predicate,
                 "predicateType": "https://carnot.dev/attestation/pqc-assessment/v1"}
    (folder / "attestation.json").write_text(json.dumps(statement))


def _cpu_seconds() -> float:
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def run() -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="carnot-site-bench-"))
    saved = os.environ.get("SOURCE_DATE_EPOCH")
    try:
        dist = work / "dist"
        started = time.perf_counter()
        for index in range(ASSESSMENTS):
            folder = work / f"a{index:03d}"
            write_folder(folder, index)
            os.environ["SOURCE_DATE_EPOCH"] = str(1_760_000_000 + index * 86_400 * 7)
            bundle_folder(folder, dist)
            shutil.rmtree(folder)
        prepared = time.perf_counter() - started
        if saved is None:
            os.environ.pop("SOURCE_DATE_EPOCH", None)
        else:
            os.environ["SOURCE_DATE_EPOCH"] = saved
        bundles_bytes = sum(p.stat().st_size for p in dist.iterdir())
        cpu_before = _cpu_seconds()
        started = time.perf_counter()
        result = build_site(dist, work / "site")
        seconds = time.perf_counter() - started
        cpu = _cpu_seconds() - cpu_before
        pages = list((work / "site").rglob("*.html"))
        assessment_pages = [p for p in pages if p.parent.name == "assessments"]
        return {
            "assessments": result.assessments,
            "findings_per_assessment": FINDINGS,
            "build_seconds": round(seconds, 2),
            # the machine is shared: CPU seconds (this process and its chart workers) do not count waiting
            "build_cpu_seconds": round(cpu, 2),
            "load_average_1min": round(os.getloadavg()[0], 1),
            "seconds_per_assessment": round(seconds / max(1, result.assessments), 3),
            "site_bytes": result.bytes,
            "site_mb": round(result.bytes / 1e6, 1),
            "bundles_in_site_mb": round(bundles_bytes / 1e6, 1),
            "pages": result.pages,
            "largest_assessment_page_kb": round(max(p.stat().st_size for p in assessment_pages) / 1e3, 1),
            "prepare_bundles_seconds": round(prepared, 1),
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)
