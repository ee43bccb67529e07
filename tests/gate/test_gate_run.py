"""The gate on a CBOM written with Carnot's own properties: which findings, which exit, which outputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from gate_fixtures import HOSTILE, NOW, POLICIES, estate_assets

from assess.cbom import shard_to_document, write_document, write_shard
from assess.gate import EngineChoice, GateOptions, evaluate, write_outputs
from assess.model import Shard
from assess.sources.static import scan

EXPECTED_BALANCED = {
    ("weak-rsa-key", "key:rsa-1024"),
    ("quantum-vulnerable-algorithm", "key:rsa-1024"),
    ("legacy-hash", "alg:md5"),
    ("legacy-hash", "cert:sha1"),
    ("cert-expired", "cert:expired"),
    ("cert-expiring-soon", "cert:soon"),
    ("cert-quantum-vulnerable-signature", "cert:long-lived"),
    ("legacy-tls-version", "tls:nginx-legacy"),
    ("legacy-cipher", "tls:nginx-legacy"),
    ("tls-no-hybrid-pq", "tls:nginx-legacy"),
    ("tls-no-hybrid-pq", "tls:runtime-classical"),
    ("cloud-tls-policy-not-pq", "tls:elb"),
    ("ssh-no-pq-kex", "ssh:sshd"),
    ("ssh-legacy-algorithm", "ssh:sshd"),
    ("cloud-key-untagged", "kms:untagged-unrotated"),
    ("cloud-key-no-rotation", "kms:untagged-unrotated"),
}


def _options(**overrides: object) -> GateOptions:
    base = {"policies": POLICIES, "engine": EngineChoice.REGORUS, "now": NOW}
    return GateOptions(**{**base, **overrides})  # type: ignore[arg-type]


def _pairs(outcome) -> set[tuple[str, str]]:
    return {(f["rule"], f["bom_ref"]) for f in outcome.result["findings"]}


def test_balanced_profile_finds_exactly_the_planted_problems(estate_cbom: Path) -> None:
    outcome = evaluate(estate_cbom, _options(profile="balanced"))
    assert _pairs(outcome) == EXPECTED_BALANCED
    assert not any(ref == "tls:nginx-pq" for _, ref in _pairs(outcome))


def test_strict_profile_adds_cbc_suites_and_3072_bit_minimum(estate_cbom: Path) -> None:
    pairs = _pairs(evaluate(estate_cbom, _options(profile="strict")))
    assert ("tls-cbc-cipher-suite", "tls:nginx-legacy") in pairs
    assert {("weak-rsa-key", "cert:expired"), ("weak-rsa-key", "cert:sha1")} <= pairs
    assert ("weak-rsa-key", "cert:long-lived") not in pairs  # 3072 bits


def test_dev_profile_turns_rules_off_and_lowers_severity(estate_cbom: Path) -> None:
    outcome = evaluate(estate_cbom, _options(profile="dev"))
    rules = {f["rule"] for f in outcome.result["findings"]}
    assert "cloud-key-untagged" not in rules and "quantum-vulnerable-algorithm" not in rules
    assert outcome.result["fail_at"] == "critical" and outcome.summary["failing"] == 0


def test_finding_has_contract_keys_severity_and_remediation_link(estate_cbom: Path) -> None:
    outcome = evaluate(estate_cbom, _options(profile="balanced"))
    assert {"engine", "profile", "mode", "policy_digest", "findings"} <= outcome.result.keys()
    assert outcome.result["engine"] == "regorus" and outcome.result["mode"] == "warn"
    assert outcome.result["policy_digest"].startswith("sha256:")
    for finding in outcome.result["findings"]:
        assert {"rule", "severity", "bom_ref", "message", "remediation", "waived"} <= finding.keys()
        assert finding["severity"] in {"critical", "high", "medium", "low"}
        assert finding["remediation"] == f"docs/POLICY_GUIDE.md#{finding['rule']}"
        assert finding["waived"] is False
    md5 = next(f for f in outcome.result["findings"] if f["bom_ref"] == "alg:md5")
    assert md5["location"] == {"path": "src/app.py", "line": 42}
    kms = next(f for f in outcome.result["findings"] if f["bom_ref"] == "kms:untagged-unrotated")
    assert "location" not in kms  # an ARN is not a file


def test_warn_mode_exits_0_and_enforce_mode_exits_1_on_high_findings(estate_cbom: Path) -> None:
    warn = evaluate(estate_cbom, _options(profile="balanced"))
    enforce = evaluate(estate_cbom, _options(profile="balanced", enforce=True))
    assert warn.summary["failing"] == 6 and warn.exit_code == 0
    assert enforce.exit_code == 1


def test_enforce_passes_when_every_failing_finding_is_waived(estate_cbom: Path, tmp_path: Path) -> None:
    failing = [f for f in evaluate(estate_cbom, _options(profile="balanced")).result["findings"]
               if f["severity"] in ("high", "critical")]
    waivers = tmp_path / "waivers.json"
    waivers.write_text(json.dumps([{"rule": f["rule"], "bom_ref": f["bom_ref"], "until": "2026-03-01",
                                    "reason": "migration ticket"} for f in failing]))
    outcome = evaluate(estate_cbom, _options(profile="balanced", enforce=True, waivers=waivers))
    assert outcome.exit_code == 0 and outcome.summary["failing"] == 0
    assert outcome.summary["waived"] == len(failing)
    assert all(f["waived"] for f in outcome.result["findings"] if f["severity"] == "high")


def test_waiver_stops_exempting_the_day_after_until_and_is_reported(estate_cbom: Path, tmp_path: Path) -> None:
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text("- rule: legacy-hash\n  bom_ref: alg:md5\n  until: 2026-02-28\n  reason: expired yesterday\n"
                       "- rule: cert-expired\n  bom_ref: cert:expired\n  until: 2026-03-01\n  reason: ends today\n")
    outcome = evaluate(estate_cbom, _options(profile="balanced", waivers=waivers))
    by_pair = {(f["rule"], f["bom_ref"]): f for f in outcome.result["findings"]}
    assert by_pair[("legacy-hash", "alg:md5")]["waived"] is False
    assert by_pair[("cert-expired", "cert:expired")]["waived"] is True
    assert [(w["rule"], w["until"], w["line"]) for w in outcome.result["expired_waivers"]] == [
        ("legacy-hash", "2026-02-28", 1)]


def test_summary_counts_by_rule_and_severity_with_waived_apart(estate_cbom: Path, tmp_path: Path) -> None:
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text("- {rule: legacy-hash, bom_ref: alg:md5, until: 2027-01-01, reason: tracked}\n")
    summary = evaluate(estate_cbom, _options(profile="balanced", waivers=waivers)).summary
    assert summary["total"] == len(EXPECTED_BALANCED)
    assert summary["waived"] == 1 and summary["findings"] == len(EXPECTED_BALANCED) - 1
    assert summary["by_rule"]["legacy-hash"] == {"severity": "high", "findings": 1, "waived": 1}
    assert summary["waived_by_severity"]["high"] == 1
    assert sum(summary["by_severity"].values()) == summary["findings"]


def test_outputs_are_written_and_step_summary_is_appended(estate_cbom: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    step = tmp_path / "step_summary.md"
    step.write_text("previous step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(step))
    outcome = evaluate(estate_cbom, _options(profile="balanced"))
    written = write_outputs(outcome, tmp_path / "gate")
    assert sorted(p.name for p in written) == ["findings.sarif", "opa_result.json", "opa_summary.json",
                                               "pr_comment.md"]
    assert json.loads((tmp_path / "gate" / "opa_result.json").read_text())["findings"] == outcome.result["findings"]
    text = step.read_text()
    assert text.startswith("previous step\n") and "## Carnot policy gate" in text


def test_pr_comment_escapes_attacker_controlled_names(tmp_path: Path) -> None:
    hostile = tmp_path / "hostile.cdx.json"
    assets = tuple(a for a in estate_assets() if a.name == HOSTILE)
    write_document(shard_to_document(Shard(stage="runtime", assets=assets), timestamp=NOW), hostile)
    outcome = evaluate(hostile, _options(profile="balanced"))
    write_outputs(outcome, tmp_path)
    comment = (tmp_path / "pr_comment.md").read_text()
    assert "<img" not in comment and "](https" not in comment and "www.evil" not in comment
    assert "https://evil" not in comment and "@admin" not in comment
    hostile_rows = [line for line in comment.splitlines() if "evil" in line]
    assert hostile_rows, "the runtime finding with the hostile SNI is among the top findings"
    for row in hostile_rows:
        # every row keeps exactly its 4 columns: no unescaped pipe from the name
        assert row.replace("\\|", "").count("|") == 5
    assert "&lt;img src=x onerror=alert\\(1\\)&gt;" in comment
    assert "\\[click\\]\\(https&#58;//evil&#46;example\\)" in comment


@pytest.mark.parametrize("profile", ["strict", "balanced", "dev"])
def test_every_conformance_cbom_gates_under_every_profile(conformance_cboms: list[Path], profile: str) -> None:
    for cbom in conformance_cboms:
        outcome = evaluate(cbom, _options(profile=profile))
        assert outcome.result["profile"] == profile
        assert all(f["rule"] != "tls-cbc-cipher-suite" for f in outcome.result["findings"])  # none has CBC suites
    strict_only = evaluate(conformance_cboms[0].parent / "Key.cdx.json", _options(profile=profile)).result
    rsa = {f["bom_ref"] for f in strict_only["findings"] if f["rule"] == "weak-rsa-key"}
    assert rsa == ({"crypto/key/rsa-2048@1.2.840.113549.1.1.1", "crypto/algorithm/rsa-2048@1.2.840.113549.1.1.1"}
                   if profile == "strict" else set())


def test_scanned_endpoints_that_configure_nothing_are_judged_on_their_assumed_defaults(tmp_path: Path) -> None:
    tree = tmp_path / "etc"
    tree.mkdir()
    (tree / "haproxy.cfg").write_text("frontend web\n    bind :443 ssl crt /etc/haproxy/site.pem\n")
    (tree / "site.conf").write_text(
        "server {\n  listen 443 ssl;\n  server_name bare.test;\n  ssl_certificate x.pem;\n}\n"
    )
    cbom = tmp_path / "static.cdx.json"
    write_shard(scan([tree]).shard, cbom)

    findings = evaluate(cbom, _options(profile="balanced")).result["findings"]

    by_rule: dict[str, set[str]] = {}
    for f in findings:
        by_rule.setdefault(f["rule"], set()).add(f["message"])
    # OpenSSL 3.0's default groups are classical; nginx 1.23.4-1.27.2 allows TLSv1 and TLSv1.1 by default.
    assert len(by_rule["tls-no-hybrid-pq"]) == 2
    assert all("offers no post-quantum key exchange group" in m for m in by_rule["tls-no-hybrid-pq"])
    assert [m for m in by_rule["legacy-tls-version"] if "bare.test" in m]
    assert not [m for m in by_rule["legacy-tls-version"] if "HAProxy" in m]


def test_scanned_jose_signatures_are_judged_quantum_vulnerable(tmp_path: Path) -> None:
    tree = tmp_path / "src"
    tree.mkdir()
    (tree / "tokens.py").write_text(
        "token = jwt.encode(claims, key, algorithm='RS256')\n"
        "claims = jwt.decode(token, key, algorithms=['ES256', 'PS512', 'EdDSA', 'HS256'])\n"
    )
    cbom = tmp_path / "static.cdx.json"
    write_shard(scan([tree]).shard, cbom)

    findings = evaluate(cbom, _options(profile="balanced")).result["findings"]

    vulnerable = {f["message"].split("'")[1] for f in findings if f["rule"] == "quantum-vulnerable-algorithm"}
    assert vulnerable == {"RSA (JOSE RS256)", "ECDSA-secp256r1 (JOSE ES256)", "RSA (JOSE PS512)", "EdDSA (JOSE EdDSA)"}
