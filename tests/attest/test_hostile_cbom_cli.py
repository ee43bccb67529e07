"""The real CLI on CBOMs that are valid CycloneDX but carry a value of the wrong type: exit 2 and one
line naming the file, from every stage that reads a CBOM, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from attest_fixtures import gate_result
from hostile_cboms import MALFORMED, good_document, malformed


def _gate_folder(tmp_path: Path) -> Path:
    gate = tmp_path / "gate"
    gate.mkdir()
    (gate / "opa_result.json").write_text(json.dumps(gate_result()))
    (gate / "opa_summary.json").write_text(json.dumps({"by_rule": {}}))
    return gate


def _assert_refused(result, path: Path) -> None:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert lines[0].startswith(f"carnot: error: {path}: "), lines[0]
    assert "internal error" not in lines[0]


# Every stage reads a CBOM through one reader (assess.cbom.validate_document), which checks the
# typed values: attest sees every case, the other stages a few, each through the real CLI.
REPRESENTATIVE = ["handshakes_superscript_two", "gap_nested_100k_deep", "not_valid_after_year_zero"]


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_attest_refuses_a_value_of_the_wrong_type_naming_the_file(carnot, tmp_path, case):
    bom = tmp_path / f"{case}.cdx.json"
    bom.write_bytes(malformed(case))
    gate = _gate_folder(tmp_path)
    _assert_refused(carnot("attest", "--bom", str(bom), "--gate", str(gate), "--out", str(tmp_path / "out")), bom)
    assert not (tmp_path / "out" / "attestation.json").exists()


@pytest.mark.parametrize("case", REPRESENTATIVE)
def test_viz_gate_and_merge_refuse_it_too(carnot, tmp_path, case):
    bom = tmp_path / f"{case}.cdx.json"
    bom.write_bytes(malformed(case))
    charts = tmp_path / "charts"
    _assert_refused(carnot("viz", "--bom", str(bom), "--gate", str(_gate_folder(tmp_path)), "--out", str(charts)), bom)
    _assert_refused(carnot("gate", str(bom), "--out-dir", str(tmp_path / "gate")), bom)
    good = tmp_path / "good.cdx.json"
    good.write_text(json.dumps(good_document()))
    _assert_refused(carnot("merge", str(good), str(bom), "-o", str(tmp_path / "merged.cdx.json")), bom)


def test_the_names_of_component_and_property_are_in_the_message(carnot, tmp_path):
    bom = tmp_path / "superscript.cdx.json"
    bom.write_bytes(malformed("handshakes_superscript_two"))
    result = carnot("attest", "--bom", str(bom), "--gate", str(_gate_folder(tmp_path)), "--out", str(tmp_path))
    assert "component 'carnot:tls:flow': carnot:runtime:handshakes is '²', expected a whole number" in result.stderr


def test_free_text_evidence_context_that_is_deep_json_is_kept_as_text(carnot, tmp_path):
    # additionalContext is free text for other tools: JSON too deep to read is not an error
    doc = good_document()
    doc["components"][0]["evidence"] = {"occurrences": [{"location": "/etc/nginx/nginx.conf",
                                                          "additionalContext": "[" * 100_000}]}
    bom = tmp_path / "deep-context.cdx.json"
    bom.write_text(json.dumps(doc))
    result = carnot("attest", "--bom", str(bom), "--gate", str(_gate_folder(tmp_path)), "--out", str(tmp_path / "o"),
                    "--json")
    assert result.returncode == 0, result.stderr
    assert carnot("gate", str(bom), "--out-dir", str(tmp_path / "g")).returncode == 0
