"""The policies' input: the facts of each cryptographic asset, read from a CBOM of any origin.

Every fact is read from the standard CycloneDX field first and from the `carnot:*` property second
(docs/CBOM_PROFILE.md), so CBOMs written by other tools are judged too. This module only states
facts (an algorithm's family, a key's size, a curve's size, a TLS group's name and whether it is
post-quantum); every judgement (too small, legacy, missing post-quantum support) is made by the
Rego policies. Doing this shaping once in Python keeps a 100k-component gate fast under the
embedded engine, where per-component Rego functions cost about a millisecond each.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from assess.model import Prop
from assess.tlsnames import group_code, group_name, is_pq_group

# Name prefixes (upper case, '-' separated), tried in order: the first match wins.
_FAMILY_PREFIXES: tuple[tuple[str, str], ...] = (
    ("ML-KEM", "ML-KEM"), ("MLKEM", "ML-KEM"), ("KYBER", "ML-KEM"),
    ("ML-DSA", "ML-DSA"), ("MLDSA", "ML-DSA"), ("DILITHIUM", "ML-DSA"),
    ("SLH-DSA", "SLH-DSA"), ("SPHINCS", "SLH-DSA"), ("FN-DSA", "FN-DSA"), ("FALCON", "FN-DSA"),
    ("DES-EDE", "3DES"), ("DESEDE", "3DES"), ("TRIPLEDES", "3DES"), ("TRIPLE-DES", "3DES"),
    ("3DES", "3DES"), ("DES3", "3DES"), ("TDEA", "3DES"), ("TDES", "3DES"),
    ("ECDSA", "ECDSA"), ("ECDHE", "ECDH"), ("ECDH", "ECDH"),
    ("ED25519", "ED25519"), ("ED448", "ED448"), ("EDDSA", "EDDSA"),
    ("X25519", "X25519"), ("CURVE25519", "X25519"), ("X448", "X448"),
    ("RSA", "RSA"), ("DSA", "DSA"), ("DHE", "DH"), ("FFDH", "DH"), ("DIFFIE", "DH"), ("DH", "DH"),
    ("MD5", "MD5"), ("MD4", "MD4"), ("MD2", "MD2"), ("SHA-1", "SHA-1"), ("SHA1", "SHA-1"),
    ("SHA-224", "SHA-2"), ("SHA-256", "SHA-2"), ("SHA-384", "SHA-2"), ("SHA-512", "SHA-2"),
    ("SHA224", "SHA-2"), ("SHA256", "SHA-2"), ("SHA384", "SHA-2"), ("SHA512", "SHA-2"),
    ("SHA-2", "SHA-2"), ("SHA2", "SHA-2"), ("SHA-3", "SHA-3"), ("SHA3", "SHA-3"),
    ("HMAC", "HMAC"), ("AES", "AES"), ("RIJNDAEL", "AES"), ("CAMELLIA", "CAMELLIA"), ("ARIA", "ARIA"),
    ("CHACHA20", "CHACHA20"), ("CHACHA", "CHACHA20"), ("SEED", "SEED"), ("SM4", "SM4"),
    ("DES", "DES"), ("RC4", "RC4"), ("ARC4", "RC4"), ("ARCFOUR", "RC4"), ("RC2", "RC2"),
    ("BLOWFISH", "BLOWFISH"), ("BF-", "BLOWFISH"), ("IDEA", "IDEA"), ("CAST5", "CAST5"), ("CAST128", "CAST5"),
    ("EC", "EC"),
)
_FAMILY_EXACT = {prefix: family for prefix, family in _FAMILY_PREFIXES} | {f: f for _, f in _FAMILY_PREFIXES}
_HASH_FAMILIES = frozenset({"MD5", "MD4", "MD2", "SHA-1", "SHA-2", "SHA-3"})

# Algorithm OIDs; signature schemes also name their hash.
_OIDS: dict[str, tuple[str, str | None]] = {
    "1.2.840.113549.1.1.1": ("RSA", None), "1.2.840.113549.1.1.2": ("RSA", "MD2"),
    "1.2.840.113549.1.1.4": ("RSA", "MD5"), "1.2.840.113549.1.1.5": ("RSA", "SHA-1"),
    "1.2.840.113549.1.1.7": ("RSA", None), "1.2.840.113549.1.1.10": ("RSA", "SHA-2"),
    "1.2.840.113549.1.1.11": ("RSA", "SHA-2"), "1.2.840.113549.1.1.12": ("RSA", "SHA-2"),
    "1.2.840.113549.1.1.13": ("RSA", "SHA-2"), "1.2.840.113549.1.1.14": ("RSA", "SHA-2"),
    "1.2.840.10040.4.1": ("DSA", None), "1.2.840.10040.4.3": ("DSA", "SHA-1"),
    "1.2.840.10045.2.1": ("EC", None), "1.2.840.10045.4.1": ("ECDSA", "SHA-1"),
    "1.2.840.10045.4.3.1": ("ECDSA", "SHA-2"), "1.2.840.10045.4.3.2": ("ECDSA", "SHA-2"),
    "1.2.840.10045.4.3.3": ("ECDSA", "SHA-2"), "1.2.840.10045.4.3.4": ("ECDSA", "SHA-2"),
    "1.3.132.1.12": ("ECDH", None), "1.2.840.113549.1.3.1": ("DH", None), "1.2.840.10046.2.1": ("DH", None),
    "1.3.101.110": ("X25519", None), "1.3.101.111": ("X448", None),
    "1.3.101.112": ("ED25519", None), "1.3.101.113": ("ED448", None),
    "1.2.840.113549.2.2": ("MD2", None), "1.2.840.113549.2.4": ("MD4", None),
    "1.2.840.113549.2.5": ("MD5", None), "1.3.14.3.2.26": ("SHA-1", None),
    "1.3.14.3.2.7": ("DES", None), "1.2.840.113549.3.7": ("3DES", None),
    "1.2.840.113549.3.2": ("RC2", None), "1.2.840.113549.3.4": ("RC4", None),
    "2.16.840.1.101.3.4.4.1": ("ML-KEM", None), "2.16.840.1.101.3.4.4.2": ("ML-KEM", None),
    "2.16.840.1.101.3.4.4.3": ("ML-KEM", None), "2.16.840.1.101.3.4.3.17": ("ML-DSA", None),
    "2.16.840.1.101.3.4.3.18": ("ML-DSA", None), "2.16.840.1.101.3.4.3.19": ("ML-DSA", None),
}
_OID_PREFIXES = (("2.16.840.1.101.3.4.1.", "AES"), ("2.16.840.1.101.3.4.2.", "SHA-2"),
                 ("2.16.840.1.101.3.4.3.", "SLH-DSA"))

# Curve names (lower case, any common spelling) -> size in bits; Curve25519 counts as 256 (P-256's strength).
CURVE_BITS: dict[str, int] = {
    "secp112r1": 112, "secp128r1": 128, "secp160k1": 160, "secp160r1": 160, "secp160r2": 160,
    "secp192k1": 192, "secp192r1": 192, "prime192v1": 192, "p-192": 192, "p192": 192,
    "secp224k1": 224, "secp224r1": 224, "p-224": 224, "p224": 224,
    "secp256k1": 256, "secp256r1": 256, "prime256v1": 256, "p-256": 256, "p256": 256,
    "secp384r1": 384, "p-384": 384, "p384": 384, "secp521r1": 521, "p-521": 521, "p521": 521,
    "sect163k1": 163, "sect163r1": 163, "sect163r2": 163, "sect193r1": 193, "sect193r2": 193,
    "sect233k1": 233, "sect233r1": 233, "sect239k1": 239, "sect283k1": 283, "sect283r1": 283,
    "sect409k1": 409, "sect409r1": 409, "sect571k1": 571, "sect571r1": 571,
    "brainpoolp160r1": 160, "brainpoolp192r1": 192, "brainpoolp224r1": 224, "brainpoolp256r1": 256,
    "brainpoolp320r1": 320, "brainpoolp384r1": 384, "brainpoolp512r1": 512,
    "brainpoolp256r1tls13": 256, "brainpoolp384r1tls13": 384, "brainpoolp512r1tls13": 512,
    "curve25519": 256, "x25519": 256, "ed25519": 256, "curve448": 448, "x448": 448, "ed448": 448,
}
_CURVE_OIDS = {"1.2.840.10045.3.1.1": "secp192r1", "1.3.132.0.33": "secp224r1", "1.2.840.10045.3.1.7": "secp256r1",
               "1.3.132.0.34": "secp384r1", "1.3.132.0.35": "secp521r1", "1.3.132.0.8": "secp160r1"}
_FFDHE_BITS = {"ffdhe2048": 2048, "ffdhe3072": 3072, "ffdhe4096": 4096, "ffdhe6144": 6144, "ffdhe8192": 8192}
_TLS_VERSIONS = {"1": "1.0", "1.0": "1.0", "1.1": "1.1", "1.2": "1.2", "1.3": "1.3"}
_SSL_VERSIONS = {"sslv3": "SSLv3", "ssl3": "SSLv3", "ssl3.0": "SSLv3", "sslv3.0": "SSLv3",
                 "sslv2": "SSLv2", "ssl2": "SSLv2", "ssl2.0": "SSLv2", "sslv2.0": "SSLv2"}
_NUMBER = re.compile(r"^[0-9]+$")
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def _normal_name(name: str) -> str:
    return name.strip().upper().replace("_", "-").replace(" ", "-").replace("/", "-")


def family_of(name: object) -> str:
    """The canonical family of an algorithm name ("RSA", "3DES", "ML-KEM", ...), or "" when unknown."""
    if not isinstance(name, str):
        return ""
    normal = _normal_name(name)
    if normal in _FAMILY_EXACT:
        return _FAMILY_EXACT[normal]
    return next((family for prefix, family in _FAMILY_PREFIXES if normal.startswith(prefix)), "")


def scheme_of(name: object) -> tuple[str, str] | None:
    """(family, hash) of a signature-scheme name: SHA512withRSA, sha256WithRSAEncryption, ecdsa-with-SHA384."""
    if not isinstance(name, str):
        return None
    parts = _normal_name(name).split("WITH")
    if len(parts) != 2:
        return None
    left, right = (family_of(p.strip("-")) for p in parts)
    if left in _HASH_FAMILIES:
        return right, left
    if right in _HASH_FAMILIES:
        return left, right
    return None


def oid_family(oid: object) -> tuple[str, str | None] | None:
    if not isinstance(oid, str):
        return None
    if oid in _OIDS:
        return _OIDS[oid]
    return next(((family, None) for prefix, family in _OID_PREFIXES if oid.startswith(prefix)), None)


def curve_bits(curve: object) -> int | None:
    if not isinstance(curve, str):
        return None
    return CURVE_BITS.get(curve.strip().split("/")[-1].lower())


def tls_version(raw: str) -> str | None:
    """Any spelling ("TLSv1", "TLS1_2", "1.3", "SSLv3") -> "SSLv2" | "SSLv3" | "1.0" | ... | "1.3"."""
    text = raw.strip().lower().replace("_", ".").replace(" ", "")
    if text.startswith("ssl"):
        return _SSL_VERSIONS.get(text)
    for prefix in ("tlsv", "tls", "v"):
        text = text.removeprefix(prefix)
    if text.startswith("1.3-"):  # drafts and experiments of TLS 1.3 ("TLSv1.3-draft23"): TLS 1.3 as judged
        return "1.3"
    return _TLS_VERSIONS.get(text)


def _list(value: str | None) -> list[str]:
    return [item.strip() for item in (value or "").split(",") if item.strip()]


def _number(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _NUMBER.match(value.strip()):
        return int(value.strip())
    return None


def _bool(value: str | None) -> bool | None:
    lowered = (value or "").strip().lower()
    return True if lowered == "true" else False if lowered == "false" else None


def _timestamp(value: object) -> str | None:
    """An RFC 3339 timestamp normalised to UTC seconds, or None when it is not one."""
    if not isinstance(value, str) or not _RFC3339.match(value.strip()):
        return None
    parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    return parsed.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class _Component:
    """One component with its properties indexed (a merged CBOM repeats some, e.g. carnot:source)."""

    def __init__(self, index: int, raw: dict[str, Any]) -> None:
        self.ref = str(raw["bom-ref"]) if raw.get("bom-ref") is not None else f"components[{index}]"
        self.name = str(raw.get("name", ""))
        self.crypto: dict[str, Any] = raw.get("cryptoProperties") or {}
        self.props: dict[str, list[str]] = {}
        for prop in raw.get("properties", []) or []:
            self.props.setdefault(str(prop.get("name")), []).append(str(prop.get("value", "")))

    def prop(self, name: str) -> str | None:
        values = self.props.get(name)
        return values[0] if values else None

    def section(self, name: str) -> dict[str, Any]:
        value = self.crypto.get(name)
        return value if isinstance(value, dict) else {}


class _Facts:
    def __init__(self, by_ref: dict[str, _Component]) -> None:
        self.by_ref = by_ref

    def component(self, ref: object) -> _Component | None:
        """The cryptographic component a reference names; an absent reference names none."""
        return None if ref is None else self.by_ref.get(str(ref))

    # --- algorithms ---------------------------------------------------------------------------
    def family(self, c: _Component) -> str:
        """1.7 algorithmFamily, then the OID, then carnot:algorithm, then a scheme name, then the name."""
        from_family = family_of(c.section("algorithmProperties").get("algorithmFamily"))
        if from_family:
            return from_family
        by_oid = oid_family(c.crypto.get("oid"))
        if by_oid:
            return by_oid[0]
        from_prop = family_of(c.prop(Prop.ALGORITHM))
        if from_prop:
            return from_prop
        scheme = scheme_of(c.name)
        if scheme and scheme[0]:
            return scheme[0]
        return family_of(c.name)

    def scheme_hash(self, c: _Component) -> str | None:
        by_oid = oid_family(c.crypto.get("oid"))
        if by_oid and by_oid[1]:
            return by_oid[1]
        scheme = scheme_of(c.name)
        return scheme[1] if scheme and scheme[1] else None

    def algorithm_bits(self, c: _Component, family: str) -> int | None:
        # On a signature scheme or a hash the number names the hash ("SHA512withRSA" with "512").
        sized = self.scheme_hash(c) is None and family not in _HASH_FAMILIES
        if sized:
            bits = _number(c.section("algorithmProperties").get("parameterSetIdentifier"))
            if bits is not None:
                return bits
        bits = _number(c.prop(Prop.KEY_BITS))
        if bits is not None:
            return bits
        return _number(_normal_name(c.name).split("-")[-1]) if sized else None

    def curve(self, c: _Component) -> str | None:
        props = c.section("algorithmProperties")
        for value in (props.get("ellipticCurve"), props.get("curve"), _CURVE_OIDS.get(str(c.crypto.get("oid"))),
                      c.prop(Prop.CURVE)):
            if isinstance(value, str) and value.strip():
                return value.strip()
        return None

    def algorithm(self, c: _Component) -> dict[str, Any]:
        family = self.family(c)
        curve = self.curve(c)
        return {"ref": c.ref, "name": c.name, "family": family, "hash": self.scheme_hash(c),
                "bits": self.algorithm_bits(c, family), "curve": curve, "curve_bits": curve_bits(curve),
                "primitive": c.section("algorithmProperties").get("primitive")}

    # --- keys ---------------------------------------------------------------------------------
    def key_family(self, c: _Component) -> str:
        by_oid = oid_family(c.crypto.get("oid"))
        if by_oid:
            return by_oid[0]
        algorithm = self.component(c.section("relatedCryptoMaterialProperties").get("algorithmRef"))
        if algorithm is not None and self.family(algorithm):
            return self.family(algorithm)
        return self.family(c)

    def key_bits(self, c: _Component) -> int | None:
        bits = _number(c.section("relatedCryptoMaterialProperties").get("size"))
        return bits if bits is not None else _number(c.prop(Prop.KEY_BITS))

    def key_curve(self, c: _Component) -> str | None:
        algorithm = self.component(c.section("relatedCryptoMaterialProperties").get("algorithmRef"))
        return (self.curve(algorithm) if algorithm is not None else None) or self.curve(c)

    def key(self, c: _Component) -> dict[str, Any]:
        material = c.section("relatedCryptoMaterialProperties")
        curve = self.key_curve(c)
        return {
            "ref": c.ref, "name": c.name, "family": self.key_family(c), "bits": self.key_bits(c),
            "curve": curve, "curve_bits": curve_bits(curve), "type": material.get("type"),
            "state": material.get("state"),
            "aws": {
                "service": c.prop(Prop.AWS_SERVICE), "key_manager": c.prop(Prop.AWS_KEY_MANAGER),
                "key_spec": c.prop(Prop.AWS_KEY_SPEC), "key_state": c.prop(Prop.AWS_KEY_STATE),
                "rotation_enabled": _bool(c.prop(Prop.AWS_ROTATION_ENABLED)),
                "tagged": _bool(c.prop(Prop.AWS_TAGGED)),
            },
        }

    # --- certificates -------------------------------------------------------------------------
    def certificate(self, c: _Component) -> dict[str, Any]:
        cert = c.section("certificateProperties")
        signature: dict[str, Any] = {"family": "", "hash": None, "name": None}
        algorithm = self.component(cert.get("signatureAlgorithmRef"))
        if algorithm is not None:
            signature = {"family": self.family(algorithm), "hash": self.scheme_hash(algorithm), "name": algorithm.name}
        elif c.prop(Prop.CERT_SIGNATURE_ALGORITHM):
            named = c.prop(Prop.CERT_SIGNATURE_ALGORITHM)
            scheme = scheme_of(named)
            signature = {"family": scheme[0] if scheme else family_of(named),
                         "hash": scheme[1] if scheme else None, "name": named}
        signature_hash = signature["hash"] or (family_of(c.prop(Prop.CERT_SIGNATURE_HASH)) or None)
        subject_key = self.component(cert.get("subjectPublicKeyRef"))
        if subject_key is not None:
            curve = self.key_curve(subject_key)
            key = {"family": self.key_family(subject_key), "bits": self.key_bits(subject_key), "curve": curve,
                   "from_ref": True}
        else:
            curve = c.prop(Prop.CERT_CURVE)
            key = {"family": family_of(c.prop(Prop.CERT_PUBLIC_KEY_ALGORITHM)),
                   "bits": _number(c.prop(Prop.CERT_PUBLIC_KEY_BITS)), "curve": curve, "from_ref": False}
        key["curve_bits"] = curve_bits(curve)
        return {"ref": c.ref, "name": c.name, "subject": str(cert.get("subjectName") or c.name),
                "not_after": _timestamp(cert.get("notValidAfter")), "signature": signature,
                "signature_hash": signature_hash, "key": key}

    # --- protocols ----------------------------------------------------------------------------
    @staticmethod
    def protocol_type(c: _Component) -> str:
        stated = c.section("protocolProperties").get("type")
        if isinstance(stated, str) and stated:
            return stated.lower()
        if any(name.startswith("carnot:tls:") for name in c.props):
            return "tls"
        if any(name.startswith("carnot:ssh:") for name in c.props):
            return "ssh"
        return ""

    @staticmethod
    def group(name: str) -> dict[str, Any]:
        code = group_code(name)
        canonical = group_name(code) if code is not None else name.strip()
        lowered = canonical.lower()
        return {"name": canonical, "pq": is_pq_group(canonical), "ec_bits": CURVE_BITS.get(lowered),
                "ffdhe_bits": _FFDHE_BITS.get(lowered)}

    def tls(self, c: _Component) -> dict[str, Any]:
        protocol = c.section("protocolProperties")
        stated = [protocol["version"]] if isinstance(protocol.get("version"), str) else []
        versions = {v for raw in [*stated, *_list(c.prop(Prop.TLS_VERSIONS))] if (v := tls_version(raw))}
        suites: list[str] = []
        named = [s.get("name") for s in protocol.get("cipherSuites", []) or [] if isinstance(s, dict)]
        for raw in [*(n for n in named if isinstance(n, str)), *_list(c.prop(Prop.TLS_CIPHER_SUITES))]:
            # OpenSSL cipher strings: "a:b:!c"; exclusions ("!aNULL", "-MD5") are not offers.
            suites += [s.strip() for s in raw.split(":") if s.strip() and s.strip()[0] not in "!-"]
        negotiated = c.prop(Prop.TLS_NEGOTIATED_GROUP)
        return {
            "ref": c.ref, "name": c.name, "versions": sorted(versions), "suites": suites,
            "groups": [self.group(g) for g in _list(c.prop(Prop.TLS_GROUPS))],
            "negotiated_group": self.group(negotiated) if negotiated else None,
            "pq_hybrid": _bool(c.prop(Prop.TLS_PQ_HYBRID)), "policy": c.prop(Prop.TLS_POLICY),
            "cloud_service": c.prop(Prop.AWS_SERVICE), "sni": c.prop(Prop.RUNTIME_SNI),
            "role": c.prop(Prop.RUNTIME_ROLE),
        }

    @staticmethod
    def ssh(c: _Component) -> dict[str, Any]:
        def items(prop: Prop) -> list[str]:
            # sshd_config lists may append (+), prepend (^) or remove (-) from the defaults.
            return [i.lower().lstrip("+^") for i in _list(c.prop(prop)) if not i.startswith("-")]

        return {"ref": c.ref, "name": c.name, "kex": items(Prop.SSH_KEX), "ciphers": items(Prop.SSH_CIPHERS),
                "macs": items(Prop.SSH_MACS), "host_key_algorithms": items(Prop.SSH_HOST_KEY_ALGORITHMS),
                # a session seen on the wire: the lists are what it negotiated, not what it allows
                "observed": _bool(c.prop(Prop.SSH_OBSERVED)) is True}


def _is_crypto(raw: dict[str, Any]) -> bool:
    return raw.get("type") == "cryptographic-asset" and isinstance(raw.get("cryptoProperties"), dict)


def references(raw: dict[str, Any]) -> list[str]:
    """The bom-refs one component's facts may look up (its algorithm, signature algorithm, subject key)."""
    crypto = raw.get("cryptoProperties")
    if not isinstance(crypto, dict):
        return []
    sections = (("relatedCryptoMaterialProperties", "algorithmRef"), ("certificateProperties", "signatureAlgorithmRef"),
                ("certificateProperties", "subjectPublicKeyRef"))
    # _Facts.component looks up str(value) of any value present, so the same strings are collected
    return [str(section[field]) for name, field in sections
            if isinstance(section := crypto.get(name), dict) and section.get(field) is not None]


def referenced_components(components: Iterable[dict[str, Any]], refs: set[str],
                          start: int = 0) -> dict[str, _Component]:
    """The cryptographic components among components (the first at flat index start) whose bom-ref is in refs."""
    found = {}
    for i, raw in enumerate(components, start):
        if _is_crypto(raw):
            component = _Component(i, raw)
            if component.ref in refs:
                found[component.ref] = component
    return found


def asset_facts(components: Iterable[dict[str, Any]], *, start: int = 0,
                referenced: dict[str, _Component] | None = None) -> dict[str, list[dict[str, Any]]]:
    """The policies' `input.assets`: one list per asset kind, in document order. The components are the
    whole document's, or a part of it whose first is at flat index start and whose references the
    whole document's `referenced_components` resolve."""
    crypto = [_Component(i, raw) for i, raw in enumerate(components, start) if _is_crypto(raw)]
    facts = _Facts(referenced if referenced is not None else {c.ref: c for c in crypto})
    out: dict[str, list[dict[str, Any]]] = {"algorithms": [], "keys": [], "certificates": [], "tls": [], "ssh": []}
    for c in crypto:
        kind = c.crypto.get("assetType")
        if kind == "algorithm":
            out["algorithms"].append(facts.algorithm(c))
        elif kind == "related-crypto-material":
            out["keys"].append(facts.key(c))
        elif kind == "certificate":
            out["certificates"].append(facts.certificate(c))
        elif kind == "protocol":
            protocol = facts.protocol_type(c)
            if protocol in ("tls", "dtls"):
                out["tls"].append(facts.tls(c))
            elif protocol == "ssh":
                out["ssh"].append(facts.ssh(c))
    return out


def input_json(components: Iterable[dict[str, Any]], *, start: int = 0,
               referenced: dict[str, _Component] | None = None) -> str:
    return json.dumps({"assets": asset_facts(components, start=start, referenced=referenced)}, ensure_ascii=False)
