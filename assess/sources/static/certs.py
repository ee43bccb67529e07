"""X.509 certificates -> certificate assets (subject, issuer, validity, signature and public key).

Identity is the SHA-256 fingerprint of the certificate's DER encoding, so the same certificate
found in two files, or in two scans, is one asset with several evidence occurrences.
"""

from __future__ import annotations

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cyclonedx.model.crypto import CertificateProperties, CryptoAssetType, CryptoProperties

from assess.model import Asset, Evidence, Prop, props, stable_ref

# cryptography's hash names -> the names the CBOM profile uses.
HASH_NAMES: dict[str, str] = {
    "md5": "MD5", "sha1": "SHA-1", "sha224": "SHA-224", "sha256": "SHA-256", "sha384": "SHA-384",
    "sha512": "SHA-512", "sha3-224": "SHA3-224", "sha3-256": "SHA3-256", "sha3-384": "SHA3-384",
    "sha3-512": "SHA3-512",
}


def public_key_facts(key: object) -> tuple[str, int | None, str | None]:
    """(algorithm, bits, curve) of a public or private key object; never touches key material."""
    if isinstance(key, (rsa.RSAPublicKey, rsa.RSAPrivateKey)):
        return "RSA", key.key_size, None
    if isinstance(key, (ec.EllipticCurvePublicKey, ec.EllipticCurvePrivateKey)):
        return "EC", key.curve.key_size, key.curve.name
    if isinstance(key, (dsa.DSAPublicKey, dsa.DSAPrivateKey)):
        return "DSA", key.key_size, None
    if isinstance(key, (ed25519.Ed25519PublicKey, ed25519.Ed25519PrivateKey)):
        return "Ed25519", 256, None
    if isinstance(key, (ed448.Ed448PublicKey, ed448.Ed448PrivateKey)):
        return "Ed448", 456, None
    return type(key).__name__.removeprefix("_").replace("PublicKey", "").replace("PrivateKey", ""), None, None


def certificate_asset(cert: x509.Certificate, evidence: Evidence) -> Asset:
    fingerprint = cert.fingerprint(hashes.SHA256()).hex()
    subject = cert.subject.rfc4514_string()
    issuer = cert.issuer.rfc4514_string()
    key_algorithm, key_bits, curve = public_key_facts(cert.public_key())
    hash_algorithm = cert.signature_hash_algorithm
    return Asset(
        bom_ref=stable_ref("certificate", fingerprint),
        name=_common_name(cert) or subject or fingerprint[:16],
        crypto=CryptoProperties(
            asset_type=CryptoAssetType.CERTIFICATE,
            certificate_properties=CertificateProperties(
                subject_name=subject,
                issuer_name=issuer,
                not_valid_before=cert.not_valid_before_utc,
                not_valid_after=cert.not_valid_after_utc,
                certificate_format="X.509",
            ),
        ),
        evidence=(evidence,),
        properties=props({
            Prop.CERT_SIGNATURE_ALGORITHM: _oid_name(cert.signature_algorithm_oid),
            Prop.CERT_SIGNATURE_HASH: HASH_NAMES.get(hash_algorithm.name, hash_algorithm.name)
            if hash_algorithm is not None else None,
            Prop.CERT_PUBLIC_KEY_ALGORITHM: key_algorithm,
            Prop.CERT_PUBLIC_KEY_BITS: key_bits,
            Prop.CERT_CURVE: curve,
            Prop.CERT_IS_CA: _is_ca(cert),
        }),
    )


def _oid_name(oid: x509.ObjectIdentifier) -> str:
    name = getattr(oid, "_name", None)
    return name if isinstance(name, str) and name != "Unknown OID" else oid.dotted_string


def _common_name(cert: x509.Certificate) -> str | None:
    names = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    return str(names[0].value) if names else None


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False
    except ValueError:  # a malformed extension: not asserting CA
        return False
