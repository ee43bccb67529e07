"""Algorithm assets: an algorithm family with the key size, curve and mode a source states.

Identity is the algorithm and its parameters, so `hashlib.md5` in ten files is one MD5 asset with
ten evidence occurrences, and RSA-1024 and RSA-2048 are two assets.
"""

from __future__ import annotations

import re

from cyclonedx.model.crypto import (
    AlgorithmProperties,
    CryptoAssetType,
    CryptoMode,
    CryptoPrimitive,
    CryptoProperties,
)

from assess.model import Asset, Evidence, Prop, props, stable_ref
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
    "ed25519": "Ed25519", "ed448": "Ed448", "x25519": "X25519", "x448": "X448",
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
    "Ed25519": CryptoPrimitive.SIGNATURE, "Ed448": CryptoPrimitive.SIGNATURE,
    "ML-DSA": CryptoPrimitive.SIGNATURE, "SLH-DSA": CryptoPrimitive.SIGNATURE,
    "DH": CryptoPrimitive.KEY_AGREE, "ECDH": CryptoPrimitive.KEY_AGREE,
    "X25519": CryptoPrimitive.KEY_AGREE, "X448": CryptoPrimitive.KEY_AGREE, "ML-KEM": CryptoPrimitive.KEM,
    "HMAC": CryptoPrimitive.MAC,
}
_MODES: dict[str, CryptoMode] = {
    m.value: m for m in CryptoMode if m not in (CryptoMode.OTHER, CryptoMode.UNKNOWN)
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
        if token.isdigit() and bits is None:
            bits = int(token)
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
) -> Asset:
    if _PRIMITIVES.get(family) != CryptoPrimitive.BLOCK_CIPHER:
        mode = None  # JCA's "RSA/ECB/..." names a mode RSA does not have
    parts = [family] + [str(p) for p in (bits, curve, mode.upper() if mode else None) if p]
    return Asset(
        bom_ref=stable_ref("algorithm", family, bits or "", curve or "", mode or ""),
        name="-".join(parts),
        crypto=CryptoProperties(
            asset_type=CryptoAssetType.ALGORITHM,
            algorithm_properties=AlgorithmProperties(
                primitive=primitive or _PRIMITIVES.get(family, CryptoPrimitive.UNKNOWN),
                parameter_set_identifier=str(bits) if bits else None,
                curve=curve,
                mode=_MODES.get(mode) if mode else None,
            ),
        ),
        evidence=(evidence,),
        properties=props({Prop.ALGORITHM: family, Prop.KEY_BITS: bits, Prop.CURVE: curve}),
    )
