"""Certificate facts in AWS's spellings (ACM, ACM PCA, IAM) normalised to the CBOM profile's names."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cyclonedx.model.crypto import CertificateProperties, CryptoAssetType, CryptoProperties

from assess.model import Asset, Prop
from assess.sources.aws.scope import Scope

# AWS curve spellings -> IANA/SEC names
_CURVES = {
    "prime256v1": "secp256r1",
    "secp256r1": "secp256r1",
    "secp384r1": "secp384r1",
    "secp521r1": "secp521r1",
}
_CURVE_BITS = {"secp256r1": 256, "secp384r1": 384, "secp521r1": 521}

_SIGNATURES: dict[str, tuple[str, str | None]] = {
    "SHA1WITHRSA": ("sha1WithRSAEncryption", "SHA-1"),
    "MD5WITHRSA": ("md5WithRSAEncryption", "MD5"),
    "SHA224WITHRSA": ("sha224WithRSAEncryption", "SHA-224"),
    "SHA256WITHRSA": ("sha256WithRSAEncryption", "SHA-256"),
    "SHA384WITHRSA": ("sha384WithRSAEncryption", "SHA-384"),
    "SHA512WITHRSA": ("sha512WithRSAEncryption", "SHA-512"),
    "SHA256WITHRSAPSS": ("rsassaPss", "SHA-256"),
    "SHA384WITHRSAPSS": ("rsassaPss", "SHA-384"),
    "SHA512WITHRSAPSS": ("rsassaPss", "SHA-512"),
    "SHA1WITHECDSA": ("ecdsa-with-SHA1", "SHA-1"),
    "SHA224WITHECDSA": ("ecdsa-with-SHA224", "SHA-224"),
    "SHA256WITHECDSA": ("ecdsa-with-SHA256", "SHA-256"),
    "SHA384WITHECDSA": ("ecdsa-with-SHA384", "SHA-384"),
    "SHA512WITHECDSA": ("ecdsa-with-SHA512", "SHA-512"),
    "SM3WITHSM2": ("SM2-with-SM3", "SM3"),
    "MLDSA44": ("ML-DSA-44", None),
    "MLDSA65": ("ML-DSA-65", None),
    "MLDSA87": ("ML-DSA-87", None),
}


@dataclass(frozen=True)
class PublicKey:
    algorithm: str  # RSA, EC, Ed25519, ML-DSA, SM2, DSA
    bits: int | None = None
    curve: str | None = None


def key_algorithm(text: str) -> PublicKey | None:
    """ACM/PCA KeyAlgorithm in either spelling: `RSA_2048` (the API enum) or `RSA-2048`, `EC_prime256v1`."""
    value = text.strip()
    m = re.fullmatch(r"RSA[_-](\d+)", value, re.IGNORECASE)
    if m:
        return PublicKey("RSA", int(m.group(1)))
    m = re.fullmatch(r"EC[_-](\w+)", value, re.IGNORECASE)
    if m:
        curve = _CURVES.get(m.group(1).lower(), m.group(1))
        return PublicKey("EC", _CURVE_BITS.get(curve), curve)
    m = re.fullmatch(r"ML[_-]DSA[_-](\d+)", value, re.IGNORECASE)
    if m:
        return PublicKey("ML-DSA")
    if value.upper() == "SM2":
        return PublicKey("SM2", 256, "SM2")
    return None


def signature_algorithm(text: str) -> tuple[str, str | None]:
    """ACM's `SHA256WITHRSA`, PCA's `SHA256WITHRSA_PSS`, `ML_DSA_65` or an OID name -> (name, hash)."""
    key = re.sub(r"[^A-Z0-9]", "", text.upper()).replace("ENCRYPTION", "")
    m = re.fullmatch(r"ECDSAWITH(SHA\d+)", key)
    if m:
        key = f"{m.group(1)}WITHECDSA"
    return _SIGNATURES.get(key, (text, None))


@dataclass(frozen=True)
class CertificateFacts:
    subject: str | None
    issuer: str | None
    not_before: datetime | None
    not_after: datetime | None
    public_key: PublicKey | None
    signature: str | None  # AWS's spelling or an OID name
    is_ca: bool | None = None


def facts_from_pem(pem: str) -> CertificateFacts:
    """Facts of a public certificate in PEM (IAM server certificates come as PEM)."""
    cert = x509.load_pem_x509_certificate(pem.encode("ascii"))
    key = cert.public_key()
    public: PublicKey | None
    if isinstance(key, rsa.RSAPublicKey):
        public = PublicKey("RSA", key.key_size)
    elif isinstance(key, ec.EllipticCurvePublicKey):
        curve = _CURVES.get(key.curve.name, key.curve.name)
        public = PublicKey("EC", key.curve.key_size, curve)
    elif isinstance(key, ed25519.Ed25519PublicKey):
        public = PublicKey("Ed25519", 256, "Ed25519")
    elif isinstance(key, ed448.Ed448PublicKey):
        public = PublicKey("Ed448", 456, "Ed448")
    elif isinstance(key, dsa.DSAPublicKey):
        public = PublicKey("DSA", key.key_size)
    else:
        public = None
    try:
        is_ca = cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        is_ca = False
    return CertificateFacts(
        subject=cert.subject.rfc4514_string(),
        issuer=cert.issuer.rfc4514_string(),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        public_key=public,
        signature=cert.signature_algorithm_oid._name,
        is_ca=is_ca,
    )


def fingerprint(pem: str) -> str:
    return x509.load_pem_x509_certificate(pem.encode("ascii")).fingerprint(hashes.SHA256()).hex()


def as_datetime(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return None


def certificate_asset(
    scope: Scope,
    *,
    arn: str,
    name: str,
    service: str,
    facts: CertificateFacts,
    tags: dict[str, str] | None,
    extra: dict[Prop, Any] | None = None,
    context: str,
) -> Asset:
    signature, sig_hash = signature_algorithm(facts.signature) if facts.signature else (None, None)
    key = facts.public_key
    crypto = CryptoProperties(
        asset_type=CryptoAssetType.CERTIFICATE,
        certificate_properties=CertificateProperties(
            subject_name=facts.subject,
            issuer_name=facts.issuer,
            not_valid_before=facts.not_before,
            not_valid_after=facts.not_after,
            certificate_format="X.509",
        ),
    )
    return scope.asset(
        kind="aws-certificate",
        arn=arn,
        name=name,
        service=service,
        crypto=crypto,
        facts={
            Prop.CERT_SIGNATURE_ALGORITHM: signature,
            Prop.CERT_SIGNATURE_HASH: sig_hash,
            Prop.CERT_PUBLIC_KEY_ALGORITHM: key.algorithm if key else None,
            Prop.CERT_PUBLIC_KEY_BITS: key.bits if key else None,
            Prop.CERT_CURVE: key.curve if key else None,
            Prop.CERT_IS_CA: facts.is_ca,
            **(extra or {}),
        },
        tags=tags,
        context=context,
    )
