"""The attestation: in-toto shape, real subject digests, determinism, gaps, policy status, Markdown."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

from attest_fixtures import ACCOUNT, HOSTILE_SNI, write_assessment

from assess.attest import PREDICATE_TYPE, STATEMENT_TYPE, AttestConfig, attest_folder
from assess.attest_markdown import md
from assess.redact import RedactionConfig

SDE = {"SOURCE_DATE_EPOCH": "1767225600"}  # 2026-01-01T00:00:00Z


def _statement(folder: Path) -> dict:
    return json.loads((folder / "attestation.json").read_text())


def test_statement_is_in_toto_v1_with_every_file_and_its_real_sha256(assessment, carnot):
    done = carnot("attest", "--bom", str(assessment / "merged.cdx.json"), "--gate", str(assessment),
                  "--out", str(assessment))
    assert done.returncode == 0, done.stderr
    statement = _statement(assessment)
    assert statement["_type"] == STATEMENT_TYPE
    assert statement["predicateType"] == PREDICATE_TYPE
    expected = {
        p.relative_to(assessment).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in assessment.rglob("*") if p.is_file() and not p.name.startswith("attestation.")
    }
    assert {s["name"]: s["digest"]["sha256"] for s in statement["subject"]} == expected
    assert "runtime/runtime.jsonl" in expected  # nested files are named relative to the folder
    assert [s["name"] for s in statement["subject"]] == sorted(expected)


def test_same_inputs_and_source_date_epoch_give_identical_bytes(tmp_path, carnot, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", SDE["SOURCE_DATE_EPOCH"])  # the input CBOMs' own timestamp
    outputs = []
    for name in ("one", "two"):
        folder = write_assessment(tmp_path / name)
        assert (folder / "merged.cdx.json").read_bytes() == (tmp_path / "one/merged.cdx.json").read_bytes()
        done = carnot("attest", "--bom", str(folder / "merged.cdx.json"), "--gate", str(folder),
                      "--out", str(folder), env=SDE)
        assert done.returncode == 0, done.stderr
        outputs.append({n: (folder / n).read_bytes() for n in ("attestation.json", "attestation.md")})
    assert outputs[0] == outputs[1]
    predicate = json.loads(outputs[0]["attestation.json"])["predicate"]
    assert predicate["generated_at"] == "2026-01-01T00:00:00Z"
    assert predicate["source_date_epoch"] == 1767225600
    assert predicate["exposure"]["as_of"] == "2026-01-01"


def test_a_rerun_in_the_same_folder_is_identical_and_does_not_attest_itself(assessment, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", SDE["SOURCE_DATE_EPOCH"])
    bom = assessment / "merged.cdx.json"
    first = attest_folder(bom, assessment, assessment)
    first_bytes = (assessment / "attestation.json").read_bytes()
    second = attest_folder(bom, assessment, assessment)
    assert (assessment / "attestation.json").read_bytes() == first_bytes
    assert first.statement == second.statement
    assert not any(s["name"].startswith("attestation.") for s in second.statement["subject"])


def test_predicate_holds_policy_exposure_gaps_and_provenance(assessment):
    result = attest_folder(assessment / "merged.cdx.json", assessment, assessment)
    p = result.statement["predicate"]
    assert p["policy"]["status"] == "fail"
    assert p["policy"]["policy_digest"] == "sha256:" + "ab" * 32
    assert p["policy"]["by_severity"] == {"critical": 1, "high": 1, "medium": 0, "low": 0}
    results = {r["bom_ref"]: r for r in p["exposure"]["results"]}
    assert results["carnot:tls:classical"]["exposed"] is True  # secret: 25 + 5 - 15 = 15 years
    assert results["carnot:tls:classical"]["exposure_years"] == 15.0
    assert results["carnot:tls:hybrid"]["risk"] == "quantum_safe"
    assert results["carnot:cert:acm"]["deadline_status"] == "valid_past_disallowed"
    assert p["exposure"]["assumptions"]["crqc_years"] == {"value": 15.0, "origin": "default"}
    gaps = {(g["stage"], g["scope"], g["origin"]) for g in p["gaps"]}
    assert gaps == {
        ("aws", f"{ACCOUNT}/ap-south-1", "cbom"),
        ("inventory_aws", "failed", "stages"),
        ("scan", "not_run", "stages"),
    }
    roles = {i["role"]: i["sha256"] for i in p["provenance"]["inputs"]}
    assert roles["bom"] == hashlib.sha256((assessment / "merged.cdx.json").read_bytes()).hexdigest()
    assert set(roles) == {"bom", "gate:opa_result.json", "gate:opa_summary.json", "stages"}
    assert p["provenance"]["libraries"]["cryptography"]


def test_policy_status_is_warn_in_warn_mode_and_pass_when_everything_is_waived(tmp_path):
    warn = write_assessment(tmp_path / "warn", mode="warn")
    waived = write_assessment(tmp_path / "waived", waived=True)
    warned = attest_folder(warn / "merged.cdx.json", warn, warn).statement["predicate"]["policy"]
    assert warned["status"] == "warn"
    status = attest_folder(waived / "merged.cdx.json", waived, waived).statement["predicate"]["policy"]
    assert status["status"] == "pass" and status["waived"] == 2


def test_enforce_mode_fails_only_at_or_above_the_gates_threshold(assessment):
    result = json.loads((assessment / "opa_result.json").read_text())
    result["fail_at"] = "critical"
    result["findings"] = [f for f in result["findings"] if f["severity"] != "critical"]
    (assessment / "opa_result.json").write_text(json.dumps(result))
    statement = attest_folder(assessment / "merged.cdx.json", assessment, assessment).statement
    policy = statement["predicate"]["policy"]
    assert (policy["status"], policy["failing"], policy["unwaived"]) == ("warn", 0, 1)


def test_markdown_report_escapes_observed_strings(assessment):
    result = attest_folder(assessment / "merged.cdx.json", assessment, assessment)
    text = (assessment / "attestation.md").read_text()
    assert text == result.markdown
    assert "<script>" not in text
    assert not re.search(r"(?<!\\)\]\(", text)  # no unescaped "](": no link can form
    assert md(HOSTILE_SNI) in text  # the SNI is shown, as inert text
    for heading in ("## Summary", "## Top risks", "## Exposure (Mosca)", "### Assumptions",
                    "## What was not assessed", "## Provenance"):
        assert heading in text
    assert "no credentials" in text and "15.0" in text


def test_redaction_masks_accounts_and_hosts_consistently_in_json_and_markdown(tmp_path):
    folder = write_assessment(tmp_path / "a")
    config = AttestConfig(redaction=RedactionConfig(key=b"k1", aws_account_ids=True,
                                                    hostnames=("web01.corp.example",)))
    result = attest_folder(folder / "merged.cdx.json", folder, folder, config=config)
    raw_json = (folder / "attestation.json").read_text()
    raw_md = (folder / "attestation.md").read_text()
    assert ACCOUNT not in raw_json and ACCOUNT not in raw_md
    assert "web01.corp.example" not in raw_json
    gap_scope = next(g["scope"] for g in result.statement["predicate"]["gaps"] if g["stage"] == "aws")
    pseudonym = gap_scope.split("/")[0]
    assert pseudonym.startswith("account-") and md(pseudonym) in raw_md
    assert raw_json.count(pseudonym) >= 2  # the gap and the certificate name share one pseudonym
    assert result.statement["predicate"]["redaction"]["masked"]["account"] >= 2
    # digests are never rewritten: subjects still match the files
    for s in result.statement["subject"]:
        assert hashlib.sha256((folder / s["name"]).read_bytes()).hexdigest() == s["digest"]["sha256"]

    other = write_assessment(tmp_path / "b")
    shutil.copy(folder / "merged.cdx.json", other / "merged.cdx.json")
    rekeyed = AttestConfig(redaction=RedactionConfig(key=b"k2", aws_account_ids=True))
    again = attest_folder(other / "merged.cdx.json", other, other, config=rekeyed)
    assert pseudonym not in json.dumps(again.statement)


def test_config_file_sets_assumptions_and_redaction(assessment, tmp_path, carnot):
    config = tmp_path / "carnot.toml"
    config.write_text(
        '[exposure]\ncrqc_years = 40\n\n[redaction]\nkey_env = "ATTEST_TEST_KEY"\naws_account_ids = true\n'
    )
    done = carnot("attest", "--bom", str(assessment / "merged.cdx.json"), "--gate", str(assessment),
                  "--out", str(assessment), "--config", str(config), "--json",
                  env={"ATTEST_TEST_KEY": "secret"})
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["hndl_exposed"] == 0  # 25 + 5 < 40
    p = _statement(assessment)["predicate"]
    assert p["exposure"]["assumptions"]["crqc_years"] == {"value": 40.0, "origin": "configured"}
    assert p["redaction"]["keyed"] is True
    assert "config" in {i["role"] for i in p["provenance"]["inputs"]}


def test_bad_gate_results_and_config_are_one_line_errors_naming_the_file(assessment, tmp_path, carnot):
    (assessment / "opa_result.json").write_text('{"engine": "opa", "findings": []}')
    done = carnot("attest", "--bom", str(assessment / "merged.cdx.json"), "--gate", str(assessment),
                  "--out", str(assessment))
    assert done.returncode == 2
    assert "opa_result.json" in done.stderr and "policy_digest" in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1

    write_assessment(assessment)
    bad = tmp_path / "bad.toml"
    bad.write_text("[exposure]\nmigration_years = 'five'\n")
    done = carnot("attest", "--bom", str(assessment / "merged.cdx.json"), "--gate", str(assessment),
                  "--out", str(assessment), "--config", str(bad))
    assert done.returncode == 2 and "bad.toml" in done.stderr and "migration_years" in done.stderr
    assert not (assessment / "attestation.json").exists()
