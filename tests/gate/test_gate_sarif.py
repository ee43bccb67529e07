"""findings.sarif is SARIF 2.1.0 that GitHub code scanning accepts: valid against the schema, rules with
help, results with file locations from CBOM evidence and the bom-ref as a logical location."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
from gate_fixtures import NOW, POLICIES

from assess.gate import EngineChoice, GateOptions, evaluate, write_outputs

SCHEMA = json.loads((Path(__file__).parent / "schemas" / "sarif-schema-2.1.0.json").read_text())


def _sarif(cbom: Path, out: Path, waivers: Path | None = None) -> dict:
    outcome = evaluate(cbom, GateOptions(policies=POLICIES, profile="balanced", engine=EngineChoice.REGORUS,
                                         now=NOW, waivers=waivers))
    write_outputs(outcome, out)
    return json.loads((out / "findings.sarif").read_text())


def test_sarif_is_valid_against_the_sarif_2_1_0_schema(estate_cbom: Path, tmp_path: Path) -> None:
    waivers = tmp_path / "w.yaml"
    waivers.write_text("- {rule: legacy-hash, bom_ref: alg:md5, until: 2027-01-01, reason: tracked}\n")
    sarif = _sarif(estate_cbom, tmp_path / "out", waivers)
    jsonschema.validate(sarif, SCHEMA, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)
    assert sarif["version"] == "2.1.0" and len(sarif["runs"][0]["results"]) > 10


def test_schema_check_rejects_a_broken_log(estate_cbom: Path, tmp_path: Path) -> None:
    sarif = _sarif(estate_cbom, tmp_path)
    sarif["runs"][0]["results"][0]["level"] = "catastrophic"
    errors = list(jsonschema.Draft4Validator(SCHEMA).iter_errors(sarif))
    assert errors, "the schema must catch an invalid level, or the validity test proves nothing"


def test_every_rule_has_help_text_and_an_absolute_help_uri(estate_cbom: Path, tmp_path: Path) -> None:
    rules = _sarif(estate_cbom, tmp_path)["runs"][0]["tool"]["driver"]["rules"]
    catalog = json.loads((POLICIES / "data.json").read_text())["carnot"]["catalog"]
    assert [r["id"] for r in rules] == sorted(catalog)
    for rule in rules:
        assert rule["help"]["text"] and rule["help"]["markdown"] and rule["shortDescription"]["text"]
        assert rule["helpUri"].endswith(f"POLICY_GUIDE.md#{rule['id']}")
        assert rule["helpUri"].split(":", 1)[0] in {"file", "https"}


def test_results_point_at_evidence_files_or_at_the_cbom_with_the_bom_ref(estate_cbom: Path, tmp_path: Path) -> None:
    results = _sarif(estate_cbom, tmp_path)["runs"][0]["results"]
    md5 = next(r for r in results if r["properties"]["bom_ref"] == "alg:md5")
    physical = md5["locations"][0]["physicalLocation"]
    assert physical == {"artifactLocation": {"uri": "src/app.py"}, "region": {"startLine": 42}}
    kms = next(r for r in results if r["properties"]["bom_ref"] == "kms:untagged-unrotated")
    location = kms["locations"][0]
    assert location["physicalLocation"]["artifactLocation"]["uri"] == str(estate_cbom)
    assert location["logicalLocations"] == [{"fullyQualifiedName": "kms:untagged-unrotated", "kind": "resource"}]


def test_waived_findings_are_suppressed_with_the_reason(estate_cbom: Path, tmp_path: Path) -> None:
    waivers = tmp_path / "w.yaml"
    waivers.write_text("- {rule: legacy-hash, bom_ref: alg:md5, until: 2027-01-01, reason: tracked in JIRA-1}\n")
    results = _sarif(estate_cbom, tmp_path / "out", waivers)["runs"][0]["results"]
    md5 = next(r for r in results if r["properties"]["bom_ref"] == "alg:md5")
    assert md5["suppressions"][0]["kind"] == "external"
    assert "tracked in JIRA-1" in md5["suppressions"][0]["justification"]
    assert all("suppressions" not in r for r in results if r["properties"]["bom_ref"] != "alg:md5")


def test_cbom_inside_the_checkout_is_referenced_relative_to_it(estate_cbom: Path, tmp_path: Path,
                                                                monkeypatch) -> None:
    monkeypatch.chdir(estate_cbom.parent)
    results = _sarif(estate_cbom, tmp_path / "out")["runs"][0]["results"]
    kms = next(r for r in results if r["properties"]["bom_ref"] == "kms:untagged-unrotated")
    assert kms["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "estate.cdx.json"


def test_results_are_capped_keeping_open_and_most_severe_findings(estate_cbom: Path, tmp_path: Path) -> None:
    from assess.gate import sarif

    outcome = evaluate(estate_cbom, GateOptions(policies=POLICIES, profile="balanced", engine=EngineChoice.REGORUS,
                                                now=NOW))
    log = sarif.build(outcome.result, outcome.bundle.catalog, "estate.cdx.json", "https://example.invalid/g.md",
                      max_results=6)
    run = log["runs"][0]
    assert [r["properties"]["severity"] for r in run["results"]] == ["high"] * 6
    assert run["properties"]["results_omitted"] == len(outcome.result["findings"]) - 6
    assert sarif.MAX_RESULTS == 25_000  # GitHub code scanning rejects runs above this
