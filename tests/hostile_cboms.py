"""CBOMs that are valid CycloneDX but carry a value of the wrong type where Carnot reads one.

Each case is one change to a good document (a runtime TLS flow, a certificate, a key, metadata
with a gap and skipped files): a carnot:* number, flag or JSON record of the wrong type, or a
date the schema's pattern allows but no datetime can hold. Every stage must refuse each with one
line naming the file (exit 2; 4xx JSON from the API), never a traceback or a 500.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from cyclonedx.model.crypto import (
    CertificateProperties,
    CryptoAssetType,
    CryptoProperties,
    ProtocolProperties,
    ProtocolPropertiesType,
    RelatedCryptoMaterialProperties,
    RelatedCryptoMaterialType,
)

from assess.cbom import shard_to_document
from assess.model import Asset, Gap, Prop, Shard, Skipped, props

FLOW, CERT, KEY = "carnot:tls:flow", "carnot:cert:shop", "carnot:key:signing"


def good_document() -> dict[str, Any]:
    flow = Asset(
        bom_ref=FLOW, name="TLS to shop.example",
        crypto=CryptoProperties(asset_type=CryptoAssetType.PROTOCOL, protocol_properties=ProtocolProperties(
            type=ProtocolPropertiesType.TLS, version="1.3")),
        properties=props({Prop.SOURCE: "runtime", Prop.TLS_NEGOTIATED_GROUP: "x25519", Prop.TLS_PQ_HYBRID: False,
                          Prop.RUNTIME_ENDPOINT: "10.0.0.1:443", Prop.RUNTIME_HANDSHAKES: 12,
                          Prop.RUNTIME_FAILED: 0, Prop.SHELF_LIFE_YEARS: 10, Prop.SHELF_LIFE_DEFAULTED: False}),
    )
    cert = Asset(
        bom_ref=CERT, name="CN=shop.example",
        crypto=CryptoProperties(asset_type=CryptoAssetType.CERTIFICATE, certificate_properties=CertificateProperties(
            subject_name="CN=shop.example", not_valid_after=datetime(2031, 1, 1, tzinfo=UTC))),
        properties=props({Prop.SOURCE: "aws", Prop.CERT_PUBLIC_KEY_ALGORITHM: "RSA", Prop.CERT_PUBLIC_KEY_BITS: 2048,
                          Prop.CERT_IS_CA: False, Prop.AWS_TAGGED: True}),
    )
    key = Asset(
        bom_ref=KEY, name="RSA-2048",
        crypto=CryptoProperties(
            asset_type=CryptoAssetType.RELATED_CRYPTO_MATERIAL,
            related_crypto_material_properties=RelatedCryptoMaterialProperties(
                type=RelatedCryptoMaterialType.PRIVATE_KEY, size=2048,
                creation_date=datetime(2024, 5, 1, tzinfo=UTC))),
        properties=props({Prop.SOURCE: "aws", Prop.ALGORITHM: "RSA", Prop.KEY_BITS: 2048,
                          Prop.AWS_ROTATION_ENABLED: True}),
    )
    shard = Shard(stage="runtime", assets=(flow, cert, key), gaps=(Gap("aws", "eu-west-1", "throttled"),),
                  skipped=(Skipped("/etc/ssl/broken.pem", "not PEM"),))
    return shard_to_document(shard)


def _component(doc: dict[str, Any], ref: str) -> dict[str, Any]:
    return next(c for c in doc["components"] if c["bom-ref"] == ref)


def _set_property(properties: list[dict[str, str]], name: str, value: str) -> None:
    for prop in properties:
        if prop["name"] == name:
            prop["value"] = value
            return
    properties.append({"name": name, "value": value})


def component_property(ref: str, name: str, value: str) -> Callable[[dict[str, Any]], None]:
    return lambda doc: _set_property(_component(doc, ref)["properties"], name, value)


def metadata_property(name: str, value: str) -> Callable[[dict[str, Any]], None]:
    return lambda doc: _set_property(doc["metadata"]["properties"], name, value)


def not_valid_after(value: str) -> Callable[[dict[str, Any]], None]:
    return lambda doc: _component(doc, CERT)["cryptoProperties"]["certificateProperties"].update(notValidAfter=value)


def key_creation_date(value: str) -> Callable[[dict[str, Any]], None]:
    def change(doc: dict[str, Any]) -> None:
        _component(doc, KEY)["cryptoProperties"]["relatedCryptoMaterialProperties"]["creationDate"] = value
    return change


GAP = '{"reason": "r", "scope": "s", "stage": "aws"}'

# case name -> the one change that makes the document malformed
MALFORMED: dict[str, Callable[[dict[str, Any]], None]] = {
    "handshakes_superscript_two": component_property(FLOW, Prop.RUNTIME_HANDSHAKES, "²"),
    "handshakes_fullwidth_digits": component_property(FLOW, Prop.RUNTIME_HANDSHAKES, "１２"),
    "handshakes_word": component_property(FLOW, Prop.RUNTIME_HANDSHAKES, "many"),
    "handshakes_negative": component_property(FLOW, Prop.RUNTIME_HANDSHAKES, "-3"),
    "handshakes_4400_digits": component_property(FLOW, Prop.RUNTIME_HANDSHAKES, "9" * 4400),
    "failed_handshakes_fraction": component_property(FLOW, Prop.RUNTIME_FAILED, "0.5"),
    "key_bits_with_unit": component_property(KEY, Prop.KEY_BITS, "2048 bits"),
    "cert_key_bits_json_list": component_property(CERT, Prop.CERT_PUBLIC_KEY_BITS, "[2048]"),
    "pq_hybrid_yes": component_property(FLOW, Prop.TLS_PQ_HYBRID, "yes"),
    "pq_hybrid_capitalised": component_property(FLOW, Prop.TLS_PQ_HYBRID, "True"),
    "cert_is_ca_number": component_property(CERT, Prop.CERT_IS_CA, "1"),
    "rotation_enabled_empty": component_property(KEY, Prop.AWS_ROTATION_ENABLED, ""),
    "shelf_life_word": component_property(FLOW, Prop.SHELF_LIFE_YEARS, "ten"),
    "shelf_life_negative": component_property(FLOW, Prop.SHELF_LIFE_YEARS, "-5"),
    "shelf_life_infinite": component_property(FLOW, Prop.SHELF_LIFE_YEARS, "1e999"),
    "gap_not_json": metadata_property(Prop.GAP, "stage=aws scope=eu-west-1"),
    "gap_list_not_object": metadata_property(Prop.GAP, '["aws", "eu-west-1", "throttled"]'),
    "gap_number_for_stage": metadata_property(Prop.GAP, '{"reason": "r", "scope": "s", "stage": 1}'),
    "gap_missing_reason": metadata_property(Prop.GAP, '{"scope": "s", "stage": "aws"}'),
    "gap_nested_100k_deep": metadata_property(Prop.GAP, "[" * 100_000 + "]" * 100_000),
    "gap_4400_digit_number": metadata_property(Prop.GAP, '{"stage": ' + "9" * 4400 + "}"),
    "skipped_count_superscript": metadata_property(Prop.SKIPPED_COUNT, "³"),
    "skipped_location_list": metadata_property(Prop.SKIPPED, '{"location": ["/etc"], "reason": "r"}'),
    "simulated_word": metadata_property(Prop.SIMULATED, "simulated"),
    "not_valid_after_leap_second": not_valid_after("2030-12-31T23:59:60Z"),
    "not_valid_after_year_zero": not_valid_after("0000-01-01T00:00:00Z"),
    "not_valid_after_arabic_indic_digits": not_valid_after("٢٠٣٠-01-01T00:00:00Z"),
    "key_created_month_13": key_creation_date("2024-13-01T00:00:00Z"),
}


def malformed(case: str) -> bytes:
    doc = copy.deepcopy(good_document())
    MALFORMED[case](doc)
    return json.dumps(doc, ensure_ascii=False).encode("utf-8")


def nested_components(levels: int) -> dict[str, Any]:
    """The good document with one more component, nested `levels` deep (two JSON levels each)."""
    doc = good_document()
    inner: dict[str, Any] = {"type": "library", "name": "leaf", "bom-ref": "leaf"}
    for level in range(levels):
        inner = {"type": "library", "name": f"level {level}", "bom-ref": f"level-{level}", "components": [inner]}
    doc["components"].append(inner)
    return doc
