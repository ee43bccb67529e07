"""`carnot gate` and `carnot explain` as a user runs them: exit codes, one-line errors with file and line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from gate_fixtures import POLICIES

GOOGLE_CERT = (
    "crypto/certificate/google.com@sha256:1e15e0fbd3ce95bde5945633ae96add551341b11e5bae7bba12e98ad84a5beb4"
)

# What each outside CBOM must produce under the balanced profile (rule -> bom-refs), and why:
EXPECTED_CONFORMANCE = {
    # SHA512withRSA (OID sha512WithRSAEncryption) is an RSA signature; AES-128-GCM passes balanced.
    "Algorithm.cdx.json": {"quantum-vulnerable-algorithm": {"components[1]"}},
    # The google.com certificate expired in 2017; its RSA key and RSA algorithms are quantum-vulnerable.
    "Certificate.cdx.json": {
        "cert-expired": {GOOGLE_CERT},
        "quantum-vulnerable-algorithm": {"crypto/algorithm/sha-512-rsa@1.2.840.113549.1.1.13",
                                         "crypto/key/rsa-2048@1.2.840.113549.1.1.1",
                                         "crypto/algorithm/rsa-2048@1.2.840.113549.1.1.1"},
    },
    # Only AES-128-GCM, which balanced accepts.
    "Example-With-Dependencies.cdx.json": {},
    "Key.cdx.json": {"quantum-vulnerable-algorithm": {"crypto/key/rsa-2048@1.2.840.113549.1.1.1",
                                                      "crypto/algorithm/rsa-2048@1.2.840.113549.1.1.1"}},
    # ECDH P-256 and ECDSA P-256 beside ML-KEM/ML-DSA: only the classical two are migration items.
    "Post-Quantum-Migration.cdx.json": {"quantum-vulnerable-algorithm": {"algorithm:ecdh-p-256",
                                                                         "algorithm:ecdsa-p-256-sha-256"}},
    # A TLS 1.2-only protocol cannot negotiate a hybrid group; same expired certificate; ECDH, RSA.
    "Protocol.cdx.json": {
        "tls-no-hybrid-pq": {"crypto/protocol/tls@1.2"},
        "cert-expired": {GOOGLE_CERT},
        "quantum-vulnerable-algorithm": {"crypto/algorithm/ecdh-curve25519@1.3.132.1.12",
                                         "crypto/algorithm/rsa-2048@1.2.840.113549.1.1.1",
                                         "crypto/algorithm/sha-512-rsa@1.2.840.113549.1.1.13",
                                         "crypto/key/rsa-2048@1.2.840.113549.1.1.1"},
    },
}


def test_every_conformance_cbom_gates_with_the_justified_findings(carnot, conformance_cboms, tmp_path: Path) -> None:
    assert sorted(p.name for p in conformance_cboms) == sorted(EXPECTED_CONFORMANCE)
    for cbom in conformance_cboms:
        out = tmp_path / cbom.name
        result = carnot("gate", str(cbom), "--out-dir", str(out), "--engine", "regorus", "--profile", "balanced")
        assert result.returncode == 0, result.stderr
        findings = json.loads((out / "opa_result.json").read_text())["findings"]
        found: dict[str, set[str]] = {}
        for f in findings:
            found.setdefault(f["rule"], set()).add(f["bom_ref"])
        assert found == EXPECTED_CONFORMANCE[cbom.name], cbom.name


def test_enforce_exits_1_and_warn_exits_0(carnot, estate_cbom: Path, tmp_path: Path) -> None:
    warn = carnot("gate", str(estate_cbom), "--out-dir", str(tmp_path / "w"), "--engine", "regorus")
    enforce = carnot("gate", str(estate_cbom), "--out-dir", str(tmp_path / "e"), "--engine", "regorus", "--enforce",
                     "--json")
    assert warn.returncode == 0, warn.stderr
    assert enforce.returncode == 1, enforce.stderr
    report = json.loads(enforce.stdout)
    assert report["mode"] == "enforce" and report["failing"] > 0 and report["exit_code"] == 1
    assert (tmp_path / "e" / "findings.sarif").is_file()  # results are written before failing


def test_missing_policy_folder_exits_2_naming_it(carnot, estate_cbom: Path, tmp_path: Path) -> None:
    result = carnot("gate", str(estate_cbom), "--out-dir", str(tmp_path), "--policies", str(tmp_path / "nope"))
    assert result.returncode == 2
    assert f"{tmp_path / 'nope'}: policy folder not found" in result.stderr
    assert "Traceback" not in result.stderr


def test_rego_syntax_error_exits_2_with_file_and_line(carnot, estate_cbom: Path, tmp_path: Path) -> None:
    policies = tmp_path / "policies"
    shutil.copytree(POLICIES, policies)
    broken = policies / "rules" / "legacy_hash.rego"
    lines = broken.read_text().splitlines()
    lines[5] = "violations contains msg if {{ this is not rego"
    broken.write_text("\n".join(lines) + "\n")
    result = carnot("gate", str(estate_cbom), "--out-dir", str(tmp_path / "o"), "--policies", str(policies),
                    "--engine", "regorus")
    assert result.returncode == 2
    assert f"{broken}:6:" in result.stderr and "Rego error" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_malformed_waivers_file_exits_2_with_file_and_line(carnot, estate_cbom: Path, tmp_path: Path) -> None:
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text("- rule: legacy-hash\n  bom_ref: alg:md5\n  until: 2026-01-01\n  reason: ok\n"
                       "- rule: legacy-hash\n  bom_ref: alg:md5\n  until: next tuesday\n  reason: bad date\n")
    result = carnot("gate", str(estate_cbom), "--out-dir", str(tmp_path / "o"), "--waivers", str(waivers))
    assert result.returncode == 2
    assert f"{waivers}:5:" in result.stderr and "YYYY-MM-DD" in result.stderr


def test_bad_bom_exits_2(carnot, tmp_path: Path) -> None:
    bom = tmp_path / "bom.json"
    bom.write_text('{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [\n')
    result = carnot("gate", str(bom), "--out-dir", str(tmp_path / "o"))
    assert result.returncode == 2 and f"{bom}:" in result.stderr and "Traceback" not in result.stderr


def test_unknown_profile_exits_2_listing_the_profiles(carnot, estate_cbom: Path, tmp_path: Path) -> None:
    result = carnot("gate", str(estate_cbom), "--out-dir", str(tmp_path), "--profile", "lenient")
    assert result.returncode == 2 and "balanced, dev, strict" in result.stderr


def test_explain_prints_what_why_fix_and_example(carnot) -> None:
    result = carnot("explain", "tls-no-hybrid-pq")
    assert result.returncode == 0, result.stderr
    for heading in ("What it checks:", "Why it matters for post-quantum readiness:", "How to fix:", "Example:",
                    "docs/POLICY_GUIDE.md#tls-no-hybrid-pq", "strict: high"):
        assert heading in result.stdout


def test_explain_unknown_rule_exits_2_listing_known_rules(carnot) -> None:
    result = carnot("explain", "weak-everything")
    assert result.returncode == 2
    assert "unknown rule 'weak-everything'" in result.stderr and "weak-rsa-key" in result.stderr


@pytest.mark.skipif(shutil.which("opa") is None, reason="the opa binary is not on PATH (GitHub Actions installs it)")
def test_opa_and_regorus_yield_the_same_findings(carnot, estate_cbom: Path, tmp_path: Path) -> None:
    outputs = {}
    for engine in ("regorus", "opa"):
        result = carnot("gate", str(estate_cbom), "--out-dir", str(tmp_path / engine), "--engine", engine)
        assert result.returncode == 0, result.stderr
        outputs[engine] = json.loads((tmp_path / engine / "opa_result.json").read_text())["findings"]
    assert outputs["opa"] == outputs["regorus"]


@pytest.mark.skipif(shutil.which("opa") is not None, reason="opa is on PATH")
def test_engine_opa_without_the_binary_exits_2(carnot, estate_cbom: Path, tmp_path: Path) -> None:
    result = carnot("gate", str(estate_cbom), "--out-dir", str(tmp_path), "--engine", "opa")
    assert result.returncode == 2 and "opa binary is not on PATH" in result.stderr
