"""Private and public keys -> related-crypto-material assets: type and size, never material.

Identity is the SHA-256 of the key's public SubjectPublicKeyInfo, for private keys too: the
private bytes are never hashed, copied, logged or put into an error message. The same key in two
files (or a private key's public half published as `id_rsa.pub`) is recognisable by that
fingerprint without revealing anything secret.
"""

from __future__ import annotations

import hashlib

from cryptography.hazmat.primitives import serialization
from cyclonedx.model.crypto import (
    CryptoAssetType,
    CryptoProperties,
    RelatedCryptoMaterialProperties,
    RelatedCryptoMaterialType,
)

from assess.model import Asset, Evidence, Prop, props, stable_ref
from assess.sources.static.certs import public_key_facts

# Key type as cryptography names it -> the profile's algorithm family.
_FAMILY: dict[str, str] = {"EC": "ECDSA", "X25519": "X25519", "X448": "X448"}


def public_fingerprint(public_key: object) -> str:
    der = public_key.public_bytes(  # type: ignore[attr-defined]
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).hexdigest()


def key_asset(key: object, *, private: bool, evidence: Evidence) -> Asset:
    """An asset for a key object (private or public), described by its public half only."""
    public = key.public_key() if private else key  # type: ignore[attr-defined]
    return public_half_asset(public, private=private, evidence=evidence)


def public_half_asset(public: object, *, private: bool, evidence: Evidence) -> Asset:
    """An asset for a key known by its public half: for a private key, also one that is encrypted
    but whose certificate is not (a Java keystore's private key entry)."""
    kind, bits, curve = public_key_facts(public)
    family = _FAMILY.get(kind, kind)
    role = "private-key" if private else "public-key"
    material = RelatedCryptoMaterialType.PRIVATE_KEY if private else RelatedCryptoMaterialType.PUBLIC_KEY
    # Ed25519 and X25519 name their size; RSA and DSA need it said, EC keys say their curve.
    size = curve or (str(bits) if bits and family in ("RSA", "DSA") else "")
    return Asset(
        bom_ref=stable_ref(role, public_fingerprint(public)),
        name=f"{family}-{size} {role.replace('-', ' ')}" if size else f"{family} {role.replace('-', ' ')}",
        crypto=CryptoProperties(
            asset_type=CryptoAssetType.RELATED_CRYPTO_MATERIAL,
            related_crypto_material_properties=RelatedCryptoMaterialProperties(
                type=material,
                size=bits,
            ),
        ),
        evidence=(evidence,),
        properties=props({Prop.ALGORITHM: family, Prop.KEY_BITS: bits, Prop.CURVE: curve}),
    )
