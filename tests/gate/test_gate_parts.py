"""A large CBOM is read part by part and judged a part at a time: the outcome is the whole document's."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from gate_fixtures import NOW, POLICIES

from assess.errors import CbomError, InputError
from assess.gate import EngineChoice, GateOptions, evaluate

DATA = Path(__file__).parents[1] / "data"
WITH_REFERENCES = sorted([*DATA.glob("cbom-real/*.json"), *DATA.glob("cyclonedx-cbom/*.json")])


def _options(**overrides: object) -> GateOptions:
    base = {"policies": POLICIES, "engine": EngineChoice.REGORUS, "now": NOW}
    return GateOptions(**{**base, **overrides})  # type: ignore[arg-type]


def _outcome(bom: Path, **overrides: object) -> tuple[dict, dict]:
    outcome = evaluate(bom, _options(**overrides))
    return outcome.result, outcome.summary


@pytest.mark.parametrize("bom", WITH_REFERENCES, ids=[p.name for p in WITH_REFERENCES])
def test_judging_one_asset_at_a_time_gives_the_findings_of_the_whole(bom: Path) -> None:
    # references between components (a certificate's key, a key's algorithm) resolve across parts
    assert _outcome(bom, assets_per_evaluation=1) == _outcome(bom, assets_per_evaluation=1_000_000)


def _document(components: list[dict]) -> dict:
    return {"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1, "components": components}


def _algorithm(ref: str | None, name: str) -> dict:
    component = {"type": "cryptographic-asset", "name": name,
                 "cryptoProperties": {"assetType": "algorithm", "algorithmProperties": {"primitive": "hash"}}}
    return component if ref is None else {"bom-ref": ref, **component}


def test_references_to_components_later_in_other_parts_resolve(tmp_path: Path) -> None:
    certificate = {"type": "cryptographic-asset", "bom-ref": "cert", "name": "leaf",
                   "cryptoProperties": {"assetType": "certificate", "certificateProperties": {
                       "subjectName": "CN=leaf", "notValidAfter": "2040-01-01T00:00:00Z",
                       "subjectPublicKeyRef": "key", "signatureAlgorithmRef": "sig"}}}
    key = {"type": "cryptographic-asset", "bom-ref": "key", "name": "server-key",
           "cryptoProperties": {"assetType": "related-crypto-material", "relatedCryptoMaterialProperties": {
               "type": "public-key", "size": 1024, "algorithmRef": "rsa"}}}
    fillers = [_algorithm(f"filler-{i}", "AES-256") for i in range(5)]
    bom = tmp_path / "bom.json"
    bom.write_text(json.dumps(_document([certificate, *fillers, key, _algorithm("rsa", "RSA"),
                                         _algorithm("sig", "sha1WithRSAEncryption")])))
    parts, whole = _outcome(bom, assets_per_evaluation=1), _outcome(bom, assets_per_evaluation=1_000)
    assert parts == whole
    # the key's family comes from its algorithm, the certificate's signature from its signature algorithm
    assert {("weak-rsa-key", "key"), ("legacy-hash", "cert"), ("cert-quantum-vulnerable-signature", "cert")} <= {
        (f["rule"], f["bom_ref"]) for f in parts[0]["findings"]}


def test_components_without_bom_refs_are_judged_from_the_whole_document(tmp_path: Path) -> None:
    bom = tmp_path / "bom.json"
    bom.write_text(json.dumps(_document([_algorithm(None, "MD5"), _algorithm("sha1", "SHA-1"),
                                         _algorithm(None, "MD5 ")])))
    result, _ = _outcome(bom, assets_per_evaluation=1)
    assert {(f["rule"], f["bom_ref"]) for f in result["findings"]} == {
        ("legacy-hash", "components[0]"), ("legacy-hash", "sha1"), ("legacy-hash", "components[2]")}


@pytest.mark.parametrize("late_problem", [
    {"bom-ref": "bad", "type": "cryptographic-asset", "name": 7},  # not valid CycloneDX
    _algorithm("filler-0", "MD5"),  # a duplicate bom-ref
], ids=["invalid", "duplicate-ref"])
def test_a_problem_in_a_late_part_is_refused_with_the_message_of_the_whole_document(
        tmp_path: Path, late_problem: dict) -> None:
    bom = tmp_path / "bom.json"
    bom.write_text(json.dumps(_document([*(_algorithm(f"filler-{i}", "AES-256") for i in range(9)), late_problem])))
    with pytest.raises(CbomError) as in_parts:
        evaluate(bom, _options(assets_per_evaluation=4))
    with pytest.raises(CbomError) as whole:
        evaluate(bom, _options(assets_per_evaluation=1_000))
    assert in_parts.value.one_line() == whole.value.one_line()


def test_a_cbom_over_the_size_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    bom = tmp_path / "bom.json"
    bom.write_text(json.dumps(_document([_algorithm("md5", "MD5")])))
    with pytest.raises(InputError, match="larger than the 100 byte limit"):
        evaluate(bom, _options(max_bom_bytes=100))
