"""Merge: lossless on outside CBOMs, deterministic, associative, conflicts recorded."""

from __future__ import annotations

import json
from itertools import permutations
from pathlib import Path
from typing import Any

import pytest
from cyclonedx.model.crypto import (
    AlgorithmProperties,
    CryptoAssetType,
    CryptoPrimitive,
    CryptoProperties,
)

from assess.cbom import read_cbom, schema_errors, shard_to_document, validate_document
from assess.fsio import canonical_json
from assess.merge import component_identity, merge_documents
from assess.model import Asset, Evidence, Prop, Shard, Source, props


def _leaves(value: Any, path: str = "") -> list[tuple[str, bytes]]:
    """Every scalar leaf of a JSON value with its path (list indices dropped)."""
    if isinstance(value, dict):
        out: list[tuple[str, bytes]] = []
        for k, v in value.items():
            out += _leaves(v, f"{path}.{k}" if path else k)
        return out
    if isinstance(value, list):
        out = []
        for v in value:
            out += _leaves(v, path + "[]")
        return out
    return [(path, canonical_json(value))]


def _conflict_values(component: dict[str, Any]) -> list[tuple[str, Any]]:
    return [
        (c["path"], c["value"])
        for c in (json.loads(p["value"]) for p in component.get("properties", []) if p["name"] == Prop.MERGE_CONFLICT)
    ]


def _kept(leaf: tuple[str, bytes], merged_component: dict[str, Any]) -> bool:
    if leaf in _leaves(merged_component):
        return True
    # A conflicting value is kept as a carnot:merge:conflict property holding the whole variant.
    for path, value in _conflict_values(merged_component):
        for sub_path, sub_value in _leaves(value, path):
            if (sub_path, sub_value) == leaf:
                return True
    return False


def _docs(paths: list[Path]):
    return [read_cbom(p) for p in paths]


def test_conformance_cboms_merge_without_losing_any_component_field_or_dependency(conformance_cboms):
    docs = _docs(conformance_cboms)
    merged, report = merge_documents(docs)

    assert schema_errors(merged) is None
    assert merged["specVersion"] == "1.7"
    by_ref = {c["bom-ref"]: c for c in merged["components"]}
    checked = 0
    for doc in docs:
        incoming = [*list(doc.data["components"]), doc.data["metadata"]["component"]]
        for comp in incoming:
            ident = component_identity(comp)
            assert ident in by_ref, f"{doc.path}: component {comp.get('name')} lost"
            for leaf in _leaves(comp):
                assert _kept(leaf, by_ref[ident]), f"{doc.path}: {comp.get('name')} lost {leaf}"
                checked += 1
        deps = {d["ref"]: d for d in merged["dependencies"]}
        for dep in doc.data.get("dependencies", []):
            assert dep["ref"] in deps
            for key in ("dependsOn", "provides"):
                assert set(dep.get(key, [])) <= set(deps[dep["ref"]].get(key, [])), (doc.path, dep["ref"], key)
    assert checked > 200
    assert report.components_in == sum(len(d.data["components"]) + 1 for d in docs)


def test_fields_the_library_does_not_model_survive_a_merge(conformance_cboms):
    pqc = next(p for p in conformance_cboms if p.name.startswith("Post-Quantum"))
    deps = next(p for p in conformance_cboms if p.name.startswith("Example-With-Dependencies"))
    merged, _ = merge_documents(_docs([pqc, deps]))
    text = json.dumps(merged)
    assert '"algorithmFamily": "ML-KEM"' in text
    assert '"provides": ["aes128gcm"]' in text


def test_the_same_key_with_three_different_securedby_values_keeps_all_three_as_conflicts(conformance_cboms):
    merged, report = merge_documents(_docs(conformance_cboms))
    key = next(c for c in merged["components"] if c["bom-ref"] == "crypto/key/rsa-2048@1.2.840.113549.1.1.1")
    secured_by = [v for p, v in _conflict_values(key) if p.endswith("securedBy")]
    originals = []
    for doc in _docs(conformance_cboms):
        for comp in doc.data["components"]:
            if comp.get("bom-ref") == key["bom-ref"]:
                originals.append(comp["cryptoProperties"]["relatedCryptoMaterialProperties"]["securedBy"])
    assert len({canonical_json(v) for v in originals}) == 3
    assert {canonical_json(v) for v in secured_by} == {canonical_json(v) for v in originals}
    assert report.conflicts >= 2


def test_components_without_bom_ref_get_a_stable_identity_from_their_content(conformance_cboms):
    algorithm = next(p for p in conformance_cboms if p.name == "Algorithm.cdx.json")
    first, _ = merge_documents(_docs([algorithm]))
    second, _ = merge_documents(_docs([algorithm, algorithm]))
    refs = sorted(c["bom-ref"] for c in first["components"])
    # two components and the described application, none of which has a bom-ref
    assert len(refs) == 3 and all(r.startswith("carnot:anon:") for r in refs)
    assert refs == sorted(c["bom-ref"] for c in second["components"])


def _shard_doc(source: Source, location: str, line: int) -> dict[str, Any]:
    asset = Asset(
        bom_ref="carnot:alg:md5",
        name="MD5",
        crypto=CryptoProperties(
            asset_type=CryptoAssetType.ALGORITHM,
            algorithm_properties=AlgorithmProperties(primitive=CryptoPrimitive.HASH),
        ),
        evidence=(Evidence(source, location, line, "a" * 64, "hashlib.md5"),),
        properties=props({Prop.ALGORITHM: "MD5"}),
    )
    return shard_to_document(Shard(stage=str(source), assets=(asset,)))


def test_every_sources_evidence_is_kept_when_two_shards_report_one_asset(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    a = validate_document(_shard_doc(Source.STATIC, "src/a.py", 3), "a")
    b = validate_document(_shard_doc(Source.RUNTIME, "host/42/python", 0), "b")
    merged, _ = merge_documents([a, b])
    md5 = next(c for c in merged["components"] if c["bom-ref"] == "carnot:alg:md5")
    locations = sorted(o["location"] for o in md5["evidence"]["occurrences"])
    assert locations == ["host/42/python", "src/a.py"]
    sources = sorted(p["value"] for p in md5["properties"] if p["name"] == Prop.SOURCE)
    assert sources == ["runtime", "static"]


def test_merge_is_deterministic_commutative_and_associative(conformance_cboms, monkeypatch, tmp_path):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    docs = [*_docs(conformance_cboms)[:4], validate_document(_shard_doc(Source.STATIC, "x.py", 1), "shard")]

    def as_doc(data: dict[str, Any], name: str):
        return validate_document(json.loads(json.dumps(data)), name)

    whole, _ = merge_documents(docs)
    expected = canonical_json(whole)
    for order in list(permutations(docs))[:12]:
        assert canonical_json(merge_documents(list(order))[0]) == expected
    left, _ = merge_documents([as_doc(merge_documents(docs[:2])[0], "l"), *docs[2:]])
    right, _ = merge_documents([docs[0], as_doc(merge_documents(docs[1:])[0], "r")])
    middle, _ = merge_documents(
        [as_doc(merge_documents(docs[:3])[0], "m1"), as_doc(merge_documents(docs[3:])[0], "m2")]
    )
    assert canonical_json(left) == expected
    assert canonical_json(right) == expected
    assert canonical_json(middle) == expected
    again, _ = merge_documents([as_doc(whole, "w")])
    assert canonical_json(again) == expected


def test_source_date_epoch_sets_the_timestamp(conformance_cboms, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "0")
    merged, _ = merge_documents(_docs(conformance_cboms[:1]))
    assert merged["metadata"]["timestamp"] == "1970-01-01T00:00:00Z"


@pytest.mark.parametrize("count", [1, 3])
def test_merged_output_written_by_the_cli_is_byte_identical_across_runs(conformance_cboms, carnot, tmp_path, count):
    env = {"SOURCE_DATE_EPOCH": "1700000000"}
    inputs = [str(p) for p in conformance_cboms[:count]]
    assert carnot("merge", *inputs, "-o", str(tmp_path / "one.json"), env=env).returncode == 0
    assert carnot("merge", *reversed(inputs), "-o", str(tmp_path / "two.json"), env=env).returncode == 0
    assert (tmp_path / "one.json").read_bytes() == (tmp_path / "two.json").read_bytes()
