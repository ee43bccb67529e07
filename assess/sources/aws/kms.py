"""KMS keys -> related-crypto-material assets (key spec, usage, state, rotation, aliases, tags)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError
from cyclonedx.model.crypto import (
    CryptoAssetType,
    CryptoProperties,
    RelatedCryptoMaterialProperties,
    RelatedCryptoMaterialState,
    RelatedCryptoMaterialType,
)

from assess.model import Asset, Prop
from assess.sources.aws.scope import Scope
from assess.sources.aws.session import Api, describe_error, error_code
from assess.sources.aws.tags import tag_map

SERVICE = "kms"
REGIONAL = True


@dataclass(frozen=True)
class KeySpec:
    algorithm: str
    bits: int | None = None
    curve: str | None = None
    material: RelatedCryptoMaterialType = RelatedCryptoMaterialType.PRIVATE_KEY


# Every KeySpec of the KMS API (2025), ML-DSA and ML-KEM included.
KEY_SPECS: dict[str, KeySpec] = {
    "SYMMETRIC_DEFAULT": KeySpec("AES", 256, material=RelatedCryptoMaterialType.SECRET_KEY),
    "RSA_2048": KeySpec("RSA", 2048),
    "RSA_3072": KeySpec("RSA", 3072),
    "RSA_4096": KeySpec("RSA", 4096),
    "ECC_NIST_P256": KeySpec("ECDSA", 256, "secp256r1"),
    "ECC_NIST_P384": KeySpec("ECDSA", 384, "secp384r1"),
    "ECC_NIST_P521": KeySpec("ECDSA", 521, "secp521r1"),
    "ECC_SECG_P256K1": KeySpec("ECDSA", 256, "secp256k1"),
    "ECC_NIST_EDWARDS25519": KeySpec("Ed25519", 256, "Ed25519"),
    "SM2": KeySpec("SM2", 256, "SM2"),
    "HMAC_224": KeySpec("HMAC", 224, material=RelatedCryptoMaterialType.SECRET_KEY),
    "HMAC_256": KeySpec("HMAC", 256, material=RelatedCryptoMaterialType.SECRET_KEY),
    "HMAC_384": KeySpec("HMAC", 384, material=RelatedCryptoMaterialType.SECRET_KEY),
    "HMAC_512": KeySpec("HMAC", 512, material=RelatedCryptoMaterialType.SECRET_KEY),
    "ML_DSA_44": KeySpec("ML-DSA"),
    "ML_DSA_65": KeySpec("ML-DSA"),
    "ML_DSA_87": KeySpec("ML-DSA"),
    "ML_KEM_512": KeySpec("ML-KEM"),
    "ML_KEM_768": KeySpec("ML-KEM"),
    "ML_KEM_1024": KeySpec("ML-KEM"),
}

# KMS KeyState -> CycloneDX relatedCryptoMaterialProperties.state
KEY_STATES: dict[str, RelatedCryptoMaterialState] = {
    "Enabled": RelatedCryptoMaterialState.ACTIVE,
    "Creating": RelatedCryptoMaterialState.PRE_ACTIVATION,
    "PendingImport": RelatedCryptoMaterialState.PRE_ACTIVATION,
    "Disabled": RelatedCryptoMaterialState.SUSPENDED,
    "Unavailable": RelatedCryptoMaterialState.SUSPENDED,
    "Updating": RelatedCryptoMaterialState.ACTIVE,
    "PendingDeletion": RelatedCryptoMaterialState.DEACTIVATED,
    "PendingReplicaDeletion": RelatedCryptoMaterialState.DEACTIVATED,
}

# Errors that answer "rotation does not apply to this key" rather than "the call failed".
_ROTATION_NOT_APPLICABLE = frozenset({"UnsupportedOperationException", "KMSInvalidStateException"})


def key_spec_facts(spec: str, usage: str | None) -> KeySpec | None:
    known = KEY_SPECS.get(spec)
    if known is not None and known.algorithm == "ECDSA" and usage == "KEY_AGREEMENT":
        return KeySpec("ECDH", known.bits, known.curve, known.material)
    return known


def fetch(api: Api) -> list[dict[str, Any]]:
    """One record per key: describe_key's KeyMetadata, rotation, tags and alias names."""
    aliases: dict[str, list[str]] = {}
    for page in api.pages(SERVICE, "list_aliases"):
        for alias in page.get("Aliases", []):
            if alias.get("TargetKeyId"):
                aliases.setdefault(alias["TargetKeyId"], []).append(alias["AliasName"])
    key_ids = [k["KeyId"] for page in api.pages(SERVICE, "list_keys") for k in page.get("Keys", [])]

    def detail(key_id: str) -> dict[str, Any] | None:
        try:
            metadata = api.call(SERVICE, "describe_key", KeyId=key_id)["KeyMetadata"]
        except ClientError as e:
            api.skip(f"kms key {key_id} in {api.region}", describe_error(e))
            return None
        record: dict[str, Any] = {"KeyMetadata": metadata, "Aliases": sorted(aliases.get(key_id, []))}
        if metadata.get("KeySpec", "SYMMETRIC_DEFAULT") == "SYMMETRIC_DEFAULT" and metadata.get(
            "KeyState"
        ) != ("PendingDeletion"):
            try:
                record["KeyRotationEnabled"] = api.call(SERVICE, "get_key_rotation_status", KeyId=key_id)[
                    "KeyRotationEnabled"
                ]
            except ClientError as e:
                if error_code(e) not in _ROTATION_NOT_APPLICABLE:
                    raise
        if metadata.get("KeyManager") == "CUSTOMER":
            record["Tags"] = [
                t
                for page in api.pages(SERVICE, "list_resource_tags", KeyId=key_id)
                for t in page.get("Tags", [])
            ]
        return record

    return [r for r in api.each(detail, key_ids) if r is not None]


def to_assets(records: list[dict[str, Any]], scope: Scope) -> list[Asset]:
    return [key_asset(r, scope) for r in records]


def key_asset(record: dict[str, Any], scope: Scope) -> Asset:
    meta = record["KeyMetadata"]
    spec = meta.get("KeySpec") or meta.get("CustomerMasterKeySpec") or "SYMMETRIC_DEFAULT"
    usage = meta.get("KeyUsage")
    facts = key_spec_facts(spec, usage)
    state = meta.get("KeyState")
    created = meta.get("CreationDate")
    crypto = CryptoProperties(
        asset_type=CryptoAssetType.RELATED_CRYPTO_MATERIAL,
        related_crypto_material_properties=RelatedCryptoMaterialProperties(
            type=facts.material if facts else RelatedCryptoMaterialType.KEY,
            id=meta.get("KeyId"),
            state=KEY_STATES.get(state or ""),
            size=facts.bits if facts else None,
            creation_date=created if isinstance(created, datetime) else None,
        ),
    )
    aliases = record.get("Aliases") or []
    arn = meta.get("Arn") or f"arn:aws:kms:{scope.region}:{scope.account}:key/{meta.get('KeyId')}"
    name = aliases[0].removeprefix("alias/") if aliases else f"kms key {meta.get('KeyId')}"
    return scope.asset(
        kind="aws-kms-key",
        arn=arn,
        name=f"{name} ({spec})",
        service=SERVICE,
        crypto=crypto,
        facts={
            Prop.ALGORITHM: facts.algorithm if facts else None,
            Prop.KEY_BITS: facts.bits if facts else None,
            Prop.CURVE: facts.curve if facts else None,
            Prop.AWS_KEY_SPEC: spec,
            Prop.AWS_KEY_USAGE: usage,
            Prop.AWS_KEY_STATE: state,
            Prop.AWS_KEY_MANAGER: meta.get("KeyManager"),
            Prop.AWS_ROTATION_ENABLED: record.get("KeyRotationEnabled"),
            Prop.AWS_ALIASES: aliases or None,
        },
        tags=tag_map(record.get("Tags")),
        context=f"kms:DescribeKey {spec} {usage or ''}".strip(),
    )
