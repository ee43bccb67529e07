"""Algorithm assets: an algorithm family with the key size, curve and mode a source states.

Identity is the algorithm and its parameters, so `hashlib.md5` in ten files is one MD5 asset with
ten evidence occurrences, and RSA-1024 and RSA-2048 are two assets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cyclonedx.model.crypto import (
    AlgorithmProperties,
    CryptoAssetType,
    CryptoMode,
    CryptoPrimitive,
    CryptoProperties,
)

from assess.model import Asset, Evidence, Prop, parse_count, props, stable_ref
from assess.tlsnames import normalise_group

# Spellings found in APIs (hashlib, JCA, OpenSSL/Node, WebCrypto, Go packages) -> profile family.
_FAMILIES: dict[str, str] = {
    "md5": "MD5", "md4": "MD4", "md2": "MD2", "sha1": "SHA-1", "sha": "SHA-1", "sha224": "SHA-224",
    "sha256": "SHA-256", "sha384": "SHA-384", "sha512": "SHA-512", "sha3224": "SHA3-224",
    "sha3256": "SHA3-256", "sha3384": "SHA3-384", "sha3512": "SHA3-512", "blake2b": "BLAKE2b",
    "blake2s": "BLAKE2s", "ripemd160": "RIPEMD-160",
    "aes": "AES", "des": "DES", "desede": "3DES", "desede3": "3DES", "3des": "3DES", "tripledes": "3DES",
    "des3": "3DES", "desede3cbc": "3DES", "rc4": "RC4", "arc4": "RC4", "arcfour": "RC4", "rc2": "RC2",
    "blowfish": "Blowfish", "bf": "Blowfish", "chacha20": "ChaCha20", "chacha20poly1305": "ChaCha20-Poly1305",
    "camellia": "Camellia", "cast5": "CAST5", "idea": "IDEA", "seed": "SEED",
    "rsa": "RSA", "rsaoaep": "RSA", "rsapss": "RSA", "rsassapkcs1v15": "RSA", "rsaencryption": "RSA",
    "dsa": "DSA", "dh": "DH", "diffiehellman": "DH", "ec": "ECDSA", "ecdsa": "ECDSA", "ecdh": "ECDH",
    "ed25519": "Ed25519", "ed448": "Ed448", "eddsa": "EdDSA", "x25519": "X25519", "curve25519": "X25519",
    "x448": "X448",
    "hmac": "HMAC", "mlkem": "ML-KEM", "mldsa": "ML-DSA", "slhdsa": "SLH-DSA",
}
_PRIMITIVES: dict[str, CryptoPrimitive] = {
    **dict.fromkeys(("MD5", "MD4", "MD2", "SHA-1", "SHA-224", "SHA-256", "SHA-384", "SHA-512", "SHA3-224",
                     "SHA3-256", "SHA3-384", "SHA3-512", "BLAKE2b", "BLAKE2s", "RIPEMD-160"),
                    CryptoPrimitive.HASH),
    **dict.fromkeys(("AES", "DES", "3DES", "RC2", "Blowfish", "Camellia", "CAST5", "IDEA", "SEED"),
                    CryptoPrimitive.BLOCK_CIPHER),
    "RC4": CryptoPrimitive.STREAM_CIPHER, "ChaCha20": CryptoPrimitive.STREAM_CIPHER,
    "ChaCha20-Poly1305": CryptoPrimitive.AE,
    "RSA": CryptoPrimitive.PKE, "DSA": CryptoPrimitive.SIGNATURE, "ECDSA": CryptoPrimitive.SIGNATURE,
    "Ed25519": CryptoPrimitive.SIGNATURE, "Ed448": CryptoPrimitive.SIGNATURE, "EdDSA": CryptoPrimitive.SIGNATURE,
    "ML-DSA": CryptoPrimitive.SIGNATURE, "SLH-DSA": CryptoPrimitive.SIGNATURE,
    "DH": CryptoPrimitive.KEY_AGREE, "ECDH": CryptoPrimitive.KEY_AGREE,
    "X25519": CryptoPrimitive.KEY_AGREE, "X448": CryptoPrimitive.KEY_AGREE, "ML-KEM": CryptoPrimitive.KEM,
    "HMAC": CryptoPrimitive.MAC,
}
_MODES: dict[str, CryptoMode] = {
    m.value: m for m in CryptoMode if m not in (CryptoMode.OTHER, CryptoMode.UNKNOWN)
}


@dataclass(frozen=True)
class Scheme:
    """A name that fixes an algorithm with its hash and curve: a JOSE "alg" (RFC 7518, 8037, 8812, 9864)."""

    family: str
    primitive: CryptoPrimitive
    oid: str | None = None  # the X.509/PKCS OID of the same scheme: it tells the gate the hash
    curve: str | None = None


_SIG, _MAC = CryptoPrimitive.SIGNATURE, CryptoPrimitive.MAC
_RSA_SHA2 = {"256": "1.2.840.113549.1.1.11", "384": "1.2.840.113549.1.1.12", "512": "1.2.840.113549.1.1.13"}
_ECDSA_SHA2 = {"256": "1.2.840.10045.4.3.2", "384": "1.2.840.10045.4.3.3", "512": "1.2.840.10045.4.3.4"}
_ES_CURVES = {"256": "secp256r1", "384": "secp384r1", "512": "secp521r1"}
JOSE: dict[str, Scheme] = {
    **{f"HS{n}": Scheme("HMAC", _MAC, f"1.2.840.113549.2.{oid}") for n, oid in (("256", 9), ("384", 10), ("512", 11))},
    **{f"RS{n}": Scheme("RSA", _SIG, _RSA_SHA2[n]) for n in _RSA_SHA2},  # RSASSA-PKCS1-v1_5
    **{f"PS{n}": Scheme("RSA", _SIG, "1.2.840.113549.1.1.10") for n in _RSA_SHA2},  # RSASSA-PSS
    **{f"ES{n}": Scheme("ECDSA", _SIG, _ECDSA_SHA2[n], _ES_CURVES[n]) for n in _ES_CURVES},
    "ES256K": Scheme("ECDSA", _SIG, _ECDSA_SHA2["256"], "secp256k1"),
    "EdDSA": Scheme("EdDSA", _SIG),  # Ed25519 or Ed448: the key's curve decides
    "Ed25519": Scheme("Ed25519", _SIG, "1.3.101.112"),
    "Ed448": Scheme("Ed448", _SIG, "1.3.101.113"),
    "RSA1_5": Scheme("RSA", CryptoPrimitive.PKE, "1.2.840.113549.1.1.1"),  # JWE key encryption
    "RSA-OAEP": Scheme("RSA", CryptoPrimitive.PKE, "1.2.840.113549.1.1.7"),
    "RSA-OAEP-256": Scheme("RSA", CryptoPrimitive.PKE, "1.2.840.113549.1.1.7"),
    **{name: Scheme("ECDH", CryptoPrimitive.KEY_AGREE)
       for name in ("ECDH-ES", "ECDH-ES+A128KW", "ECDH-ES+A192KW", "ECDH-ES+A256KW")},
    "none": Scheme("none", CryptoPrimitive.OTHER),  # an unsecured JWS: no signature at all
}


def family_of(name: str) -> tuple[str, int | None, str | None]:
    """(family, bits, mode) from an API's algorithm string: 'aes-256-gcm', 'SHA-1', 'AES/ECB/...'."""
    text = name.strip().lower()
    if "with" in text:  # JCA signature names: SHA1withRSA, SHA256withECDSA
        text = text.rsplit("with", 1)[1]
    tokens = [t for t in re.split(r"[-_/\s]+", text) if t]
    joined = "".join(tokens)
    if joined in _FAMILIES:
        return _FAMILIES[joined], None, None
    family = None
    bits: int | None = None
    mode: str | None = None
    for i in range(len(tokens), 0, -1):
        key = "".join(tokens[:i])
        if key in _FAMILIES:
            family, rest = _FAMILIES[key], tokens[i:]
            break
        packed = re.fullmatch(r"(aes|camellia|aria)(\d{3})?(gcm|ccm|cbc|ctr|ecb|ofb|cfb)?", key)
        if i == 1 and packed:  # aes256, AESGCM, camellia128
            family, rest = _FAMILIES.get(packed.group(1), packed.group(1).upper()), [
                t for t in (packed.group(2), packed.group(3)) if t
            ] + tokens[1:]
            break
    else:
        return name.strip(), None, None
    if _PRIMITIVES.get(family) != CryptoPrimitive.BLOCK_CIPHER:
        return family, None, None  # "RSA/ECB/..." in JCA names no mode; hashes have no key size
    for token in rest:
        if bits is None and (size := parse_count(token)) is not None:
            bits = size
        elif token in _MODES and mode is None:
            mode = token
    return family, bits, mode


def normalise_curve(name: str) -> str:
    """Curve names from code (NID_X9_62_prime256v1, SECP256R1, P256, 'P-256') as SEC/IANA names."""
    text = name.strip().strip("\"'")
    for prefix in ("NID_X9_62_", "NID_", "elliptic.", "ec."):
        text = text.removeprefix(prefix)
    return normalise_group(text.removesuffix("()"))


def algorithm_asset(
    family: str,
    evidence: Evidence,
    *,
    bits: int | None = None,
    curve: str | None = None,
    mode: str | None = None,
    primitive: CryptoPrimitive | None = None,
    scheme: str | None = None,
) -> Asset:
    """An algorithm asset; `scheme` is a JOSE name (`JOSE`), which also fixes the primitive and OID."""
    if _PRIMITIVES.get(family) != CryptoPrimitive.BLOCK_CIPHER:
        mode = None  # JCA's "RSA/ECB/..." names a mode RSA does not have
    named = JOSE[scheme] if scheme else None
    parts = [family] + [str(p) for p in (bits, curve, mode.upper() if mode else None) if p]
    return Asset(
        bom_ref=stable_ref("algorithm", family, bits or "", curve or "", mode or "", *((scheme,) if scheme else ())),
        name="-".join(parts) + (f" (JOSE {scheme})" if scheme else ""),
        crypto=CryptoProperties(
            asset_type=CryptoAssetType.ALGORITHM,
            oid=named.oid if named else None,
            algorithm_properties=AlgorithmProperties(
                primitive=primitive or (named.primitive if named else _PRIMITIVES.get(family, CryptoPrimitive.UNKNOWN)),
                parameter_set_identifier=str(bits) if bits else None,
                curve=curve,
                mode=_MODES.get(mode) if mode else None,
            ),
        ),
        evidence=(evidence,),
        properties=props({Prop.ALGORITHM: family, Prop.KEY_BITS: bits, Prop.CURVE: curve}),
    )
