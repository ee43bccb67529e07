"""Merge: lossless on outside CBOMs, deterministic, associative, conflicts recorded."""

from __future__ import annotations

import json
from itertools import permutations
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from cyclonedx.model.crypto import (
    AlgorithmProperties,
    CryptoAssetType,
    CryptoPrimitive,
    CryptoProperties,
)

from assess.cbom import read_cbom, rename_refs, schema_errors, shard_to_document, validate_document
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


def _original(ref: str) -> str:
    """The ref a merged component had in its own document (the fragment of its BOM-Link)."""
    return unquote(ref.split("#", 1)[1]) if ref.startswith("urn:cdx:") else ref


def _as_originally_named(component: dict[str, Any], spec: str) -> dict[str, Any]:
    return rename_refs(component, spec, _original, "component")


def _assert_nothing_lost(docs, merged) -> int:
    """Every input component's every leaf, and every dependency, is in the merged document under
    its renamed ref; returns how many leaves were checked."""
    spec = merged["specVersion"]
    by_original: dict[str, list[dict[str, Any]]] = {}
    for comp in merged["components"]:
        by_original.setdefault(_original(comp["bom-ref"]), []).append(_as_originally_named(comp, spec))
    checked = 0
    for doc in docs:
        incoming = [*doc.components()]
        if doc.data.get("metadata", {}).get("component"):
            incoming.append(doc.data["metadata"]["component"])
        for comp in incoming:
            candidates = by_original.get(_original(component_identity(comp)), [])
            leaves = [leaf for leaf in _leaves(comp) if not leaf[0].endswith("bom-ref")]
            assert any(all(_kept(leaf, c) for leaf in leaves) for c in candidates), \
                f"{doc.path}: {comp.get('name')} lost"
            checked += len(leaves)
        deps: dict[str, set[str]] = {}
        for dep in merged.get("dependencies", []):
            for key in ("dependsOn", "provides"):
                deps.setdefault(f"{_original(dep['ref'])}/{key}", set()).update(map(_original, dep.get(key, [])))
        for dep in doc.data.get("dependencies", []):
            for key in ("dependsOn", "provides"):
                assert set(dep.get(key, [])) <= deps.get(f"{dep['ref']}/{key}", set()), (doc.path, dep["ref"], key)
    return checked


def _dangling_refs(document: dict[str, Any]) -> set[str]:
    """References in a document that name no element of it, as originally named."""
    defined: list[str] = []
    for comp in [*document.get("components", []), document.get("metadata", {}).get("component") or {}]:
        stack = [comp]
        while stack:
            item = stack.pop()
            defined.append(item.get("bom-ref", ""))
            stack.extend(item.get("components", []))
    for key in ("components", "services"):
        defined += [t.get("bom-ref", "") for t in document.get("metadata", {}).get("tools", {}).get(key, [])]
    named: list[str] = []
    rename_refs(document, document["specVersion"], lambda r: named.append(r) or r)
    return {_original(r) for r in named} - {_original(r) for r in defined}


def _assert_references_resolve_as_they_did(docs, merged) -> None:
    """A merge makes no reference dangle: what names nothing in the output named nothing in its input."""
    assert _dangling_refs(merged) <= set().union(*(_dangling_refs(d.data) for d in docs))


def test_conformance_cboms_merge_without_losing_any_component_field_or_dependency(conformance_cboms):
    docs = _docs(conformance_cboms)
    merged, report = merge_documents(docs)

    assert schema_errors(merged) is None
    assert merged["specVersion"] == "1.7"
    assert _assert_nothing_lost(docs, merged) > 200
    assert report.components_in == sum(len(d.data["components"]) + 1 for d in docs)


def test_a_merge_adds_no_field_its_inputs_did_not_have(tmp_path):
    """Validation checks a document; it must not write the schema's defaults (a component's
    `scope: required`) into it, nor into the merged output."""
    component = {"type": "cryptographic-asset", "bom-ref": "a1", "name": "AES",
                 "cryptoProperties": {"assetType": "algorithm", "algorithmProperties": {"primitive": "ae"}}}
    path = tmp_path / "in.cdx.json"
    path.write_text(json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
                                "serialNumber": "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79",
                                "components": [component]}))
    doc = read_cbom(path)
    assert "scope" not in doc.data["components"][0]
    merged, _ = merge_documents([doc])
    [out] = merged["components"]
    assert {k: v for k, v in out.items() if k != "bom-ref"} == {k: v for k, v in component.items() if k != "bom-ref"}


def test_fields_the_library_does_not_model_survive_a_merge(conformance_cboms):
    pqc = next(p for p in conformance_cboms if p.name.startswith("Post-Quantum"))
    deps = next(p for p in conformance_cboms if p.name.startswith("Example-With-Dependencies"))
    merged, _ = merge_documents(_docs([pqc, deps]))
    assert '"algorithmFamily": "ML-KEM"' in json.dumps(merged)
    provides = [list(map(_original, d["provides"])) for d in merged["dependencies"] if "provides" in d]
    assert ["aes128gcm"] in provides


def test_one_ref_with_three_contents_in_three_documents_stays_three_components(conformance_cboms):
    """bom-refs are unique only within a document: the conformance set's rsa-2048 key differs in
    each document (securedBy), so it is three components, each with its own facts, none a conflict."""
    ref = "crypto/key/rsa-2048@1.2.840.113549.1.1.1"
    merged, _ = merge_documents(_docs(conformance_cboms))
    keys = [c for c in merged["components"] if _original(c["bom-ref"]) == ref]
    originals = [c["cryptoProperties"]["relatedCryptoMaterialProperties"]["securedBy"]
                 for doc in _docs(conformance_cboms) for c in doc.components() if c.get("bom-ref") == ref]
    assert len(keys) == len(originals) == 3
    secured = [_as_originally_named(k, merged["specVersion"])["cryptoProperties"]["relatedCryptoMaterialProperties"]
               ["securedBy"] for k in keys]
    assert {canonical_json(v) for v in secured} == {canonical_json(v) for v in originals}
    assert all(not _conflict_values(k) for k in keys)
    assert all(k["bom-ref"].startswith("urn:cdx:") for k in keys)


def test_two_examples_that_both_say_asset_1_keep_two_assets_and_every_reference_resolves(real_cboms):
    """CycloneDX's own 1.6 and 1.7 full examples both number their assets asset-1..4, for different
    things: merged, AES stays AES and ECDH stays ECDH, and nothing conflicts."""
    docs = _docs([real_cboms["valid-cryptography-full-1.6.json"], real_cboms["valid-cryptography-full-1.7.json"]])
    merged, report = merge_documents(docs)
    assert schema_errors(merged) is None and report.conflicts == 0
    named = {(_original(c["bom-ref"]), c["name"]) for c in merged["components"]}
    for doc in docs:
        assert {(c["bom-ref"], c["name"]) for c in doc.components()} <= named
    assert len(merged["components"]) == report.components_in
    _assert_references_resolve_as_they_did(docs, merged)
    assert _assert_nothing_lost(docs, merged) > 50


def test_an_identical_component_in_two_documents_is_one_and_references_follow(real_cboms, tmp_path):
    one = real_cboms["valid-cryptography-full-1.7.json"]
    data = json.loads(one.read_text())
    shared = len(data["components"])
    # another document (its own serial, one more asset) holding the same four assets
    data["serialNumber"] = "urn:uuid:00000000-0000-4000-8000-000000000001"
    data["components"].append({"type": "cryptographic-asset", "bom-ref": "asset-5", "name": "SHA-384",
                               "cryptoProperties": {"assetType": "algorithm"}})
    twin = tmp_path / "twin.cdx.json"
    twin.write_text(json.dumps(data))
    docs = _docs([one, twin])
    merged, report = merge_documents(docs)
    assert (report.components_in, report.components_out) == (2 * shared + 1, shared + 1)
    assert report.conflicts == 0
    shared_refs = {c["bom-ref"] for c in merged["components"] if _original(c["bom-ref"]) != "asset-5"}
    assert len({r.split("#")[0] for r in shared_refs}) == 1  # one namespace: the smaller of the two
    _assert_references_resolve_as_they_did(docs, merged)


def test_every_real_cbom_and_the_conformance_set_merge_into_one_valid_document(real_cboms, conformance_cboms):
    docs = _docs([*real_cboms.values(), *conformance_cboms])
    merged, report = merge_documents(docs)
    assert schema_errors(merged) is None
    assert report.components_in == sum(len(list(d.components())) + bool(d.data.get("metadata", {}).get("component"))
                                       for d in docs)
    _assert_references_resolve_as_they_did(docs, merged)
    assert _assert_nothing_lost(docs, merged) > 5000
    services = merged["metadata"]["tools"]["services"]
    assert {"CBOMkit-theia", "SonarQube Crypto Scanner Plugin"} <= {s["name"] for s in services}
    assert all(s["provider"]["name"] == "IBM Research" for s in services)


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
