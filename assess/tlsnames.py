"""The one place that knows TLS names: cipher suites, supported groups, signature schemes and
protocol versions, by code point and by every common spelling.

The names come from IANA's registries, vendored verbatim as CSV files in `assess/registry/`
(their source and retrieval date in `assess/registry/NOTICE.md`; `tools/refresh_iana.py`
refreshes them), plus the few code points seen in the wild that IANA never registered
(`tls-groups-unregistered.csv`, each with its source). Wire parsing, configs, cloud policies, Zeek
logs and the static scan all name things here, so `X25519MLKEM768`, `x25519_mlkem768` and 0x11EC
mean the same thing everywhere, and a code point IANA names is never written as hex.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator

from assess.resources import registry_file

# A registry row's name is used when it is one token (not "Unassigned", "Reserved for ...").
_NAME = re.compile(r"[A-Za-z0-9_.-]+")


def _registry(file: str) -> Iterator[tuple[int, str]]:
    """(code point, name) of every single code point a registry CSV names; ranges and reserved or
    unassigned rows are skipped, and IANA's " (OBSOLETE)" mark is not part of a name."""
    with io.StringIO(registry_file(file).read_text(encoding="utf-8"), newline="") as text:
        for row in csv.DictReader(text):
            value, name = row["Value"].strip(), row["Description"].strip().removesuffix(" (OBSOLETE)")
            if "-" in value or "*" in value or not _NAME.fullmatch(name) or name in ("Reserved", "Unassigned"):
                continue
            if "," in value:  # cipher suites: "0xC0,0x2F"
                high, low = value.split(",")
                yield (int(high, 16) << 8) | int(low, 16), name
            else:
                yield int(value, 0), name


# IANA "TLS Supported Groups" (tls-parameters-8) and the unregistered groups seen in the wild.
GROUPS: dict[int, str] = dict(_registry("tls-parameters-8.csv")) | dict(_registry("tls-groups-unregistered.csv"))
# IANA "TLS Cipher Suites" (tls-parameters-4).
CIPHER_SUITES: dict[int, str] = dict(_registry("tls-parameters-4.csv"))
# IANA "TLS SignatureScheme" (tls-signaturescheme).
SIGNATURE_SCHEMES: dict[int, str] = dict(_registry("tls-signaturescheme.csv"))

# Groups that resist a quantum adversary: hybrid ML-KEM (and the Kyber drafts before it), pure ML-KEM.
PQ_HYBRID_GROUPS: frozenset[int] = frozenset({0x11EB, 0x11EC, 0x11ED, 0x6399, 0x639A})
PQ_PURE_GROUPS: frozenset[int] = frozenset({0x0200, 0x0201, 0x0202})
PQ_GROUPS: frozenset[int] = PQ_HYBRID_GROUPS | PQ_PURE_GROUPS
# What each PQ group is made of: the ML-KEM (Kyber) parameter set and the classical curve it is
# combined with (None for pure ML-KEM).
PQ_GROUP_PARTS: dict[int, tuple[int, str | None]] = {
    0x0200: (512, None), 0x0201: (768, None), 0x0202: (1024, None),
    0x11EB: (768, "secp256r1"), 0x11EC: (768, "x25519"), 0x11ED: (1024, "secp384r1"),
    0x6399: (768, "x25519"), 0x639A: (768, "secp256r1"),
}

_ALIASES: dict[str, int] = {
    # OpenSSL / nginx / Apache spellings
    "prime256v1": 0x0017, "p-256": 0x0017, "p256": 0x0017, "nistp256": 0x0017, "ecdh_p256": 0x0017,
    "p-384": 0x0018, "p384": 0x0018, "nistp384": 0x0018, "ecdh_p384": 0x0018,
    "p-521": 0x0019, "p521": 0x0019, "nistp521": 0x0019, "ecdh_p521": 0x0019,
    "curve25519": 0x001D, "x25519": 0x001D, "ecdh_x25519": 0x001D, "curve448": 0x001E,
    # hybrid and ML-KEM spellings seen in OpenSSL 3.5, Go, BoringSSL, tlslite-ng, AWS and Zeek
    "x25519mlkem768": 0x11EC, "x25519_mlkem768": 0x11EC, "mlkem768x25519": 0x11EC,
    "secp256r1mlkem768": 0x11EB, "secp256r1_mlkem768": 0x11EB, "p256mlkem768": 0x11EB,
    "secp384r1mlkem1024": 0x11ED, "secp384r1_mlkem1024": 0x11ED, "p384mlkem1024": 0x11ED,
    "mlkem512": 0x0200, "ml-kem-512": 0x0200, "mlkem768": 0x0201, "ml-kem-768": 0x0201,
    "mlkem1024": 0x0202, "ml-kem-1024": 0x0202,
    "x25519kyber768draft00": 0x6399, "x25519kyber768": 0x6399,
}
_BY_LOWER_NAME: dict[str, int] = {name.lower(): code for code, name in GROUPS.items()} | _ALIASES


def group_name(code: int) -> str:
    """The name of a group code point; one no registry names is written as its hex value."""
    name = GROUPS.get(code)  # (not a .get default: that would format the hex name every time)
    return name if name is not None else f"0x{code:04X}"


def _code_of(name: str, by_lower_name: dict[str, int]) -> int | None:
    """A code point from its name (any case) or its hex value ("0x11EC"), else None."""
    key = name.strip().lower()
    if key.startswith("0x"):
        try:
            return int(key, 16)
        except ValueError:
            return None
    return by_lower_name.get(key)


def group_code(name: str) -> int | None:
    """Code point for a group name in any common spelling, or None when it is not a known group."""
    return _code_of(name, _BY_LOWER_NAME)


def normalise_group(name: str) -> str:
    """The IANA name for a group written in any common spelling; unknown names come back unchanged."""
    code = group_code(name)
    return group_name(code) if code is not None else name.strip()


def is_pq_group(name_or_code: str | int) -> bool:
    code = name_or_code if isinstance(name_or_code, int) else group_code(name_or_code)
    return code is not None and code in PQ_GROUPS


def is_grease(code: int) -> bool:
    """RFC 8701 GREASE values (0x0A0A, 0x1A1A, ...) are noise, not groups, suites or versions."""
    return (code & 0x0F0F) == 0x0A0A and (code >> 8) == (code & 0xFF)


GREASE: frozenset[int] = frozenset(v for v in range(0x0A0A, 0x10000, 0x1010) if is_grease(v))


def signature_scheme_name(code: int) -> str:
    """The IANA name of a TLS SignatureScheme code point; an unnamed one is written as its hex value."""
    name = SIGNATURE_SCHEMES.get(code)
    return name if name is not None else f"0x{code:04X}"


# Protocol versions. IANA keeps no registry of them; these are the names the runtime lines use
# (docs/RUNTIME.md), one spelling each. TLS 1.3's pre-RFC versions are TLS 1.3 as a parser
# reads them, but named apart: drafts 0x7F00+n "TLSv1.3-draft<n>", Facebook's builds of drafts
# 23 and 26 (0xFB17, 0xFB1A) "TLSv1.3-fb<n>", Chrome's 2017 experiments on draft 18 (0x7E01-0x7E04)
# "TLSv1.3-experiment<n>".
TLS1_3 = 0x0304
VERSIONS: dict[int, str] = {
    0x0002: "SSLv2", 0x0300: "SSLv3", 0x0301: "TLSv1", 0x0302: "TLSv1.1", 0x0303: "TLSv1.2", TLS1_3: "TLSv1.3",
    0xFEFF: "DTLSv1.0", 0xFEFD: "DTLSv1.2", 0xFEFC: "DTLSv1.3",
    **{0x7F00 | n: f"TLSv1.3-draft{n}" for n in range(1, 29)},
    **{0xFB00 | n: f"TLSv1.3-fb{n}" for n in (23, 26)},
    **{0x7E00 | n: f"TLSv1.3-experiment{n}" for n in range(1, 5)},
}
TLS1_3_VERSIONS: frozenset[int] = frozenset(code for code, name in VERSIONS.items() if name.startswith("TLSv1.3"))
_VERSION_BY_NAME: dict[str, int] = {name.lower(): code for code, name in VERSIONS.items()}


def version_name(code: int) -> str:
    """The name of a protocol version code point; an unnamed one is written as its hex value."""
    name = VERSIONS.get(code)
    return name if name is not None else f"0x{code:04X}"


def version_code(name: str) -> int | None:
    """The code point of a version name this module writes (or its hex value), else None."""
    return _code_of(name, _VERSION_BY_NAME)


def is_tls13(code: int) -> bool:
    """TLS 1.3 or one of its pre-RFC versions: the handshake has TLS 1.3's shape."""
    return code in TLS1_3_VERSIONS


# TLS AlertDescription (RFC 8446 section 6 and the IANA "TLS Alerts" registry, tls-parameters-6,
# whose CSV no public copy reachable from here vendors; tools/refresh_iana.py does not fetch it).
ALERTS: dict[int, str] = {
    0: "close_notify", 10: "unexpected_message", 20: "bad_record_mac", 21: "decryption_failed_RESERVED",
    22: "record_overflow", 30: "decompression_failure_RESERVED", 40: "handshake_failure",
    41: "no_certificate_RESERVED", 42: "bad_certificate", 43: "unsupported_certificate", 44: "certificate_revoked",
    45: "certificate_expired", 46: "certificate_unknown", 47: "illegal_parameter", 48: "unknown_ca",
    49: "access_denied", 50: "decode_error", 51: "decrypt_error", 52: "too_many_cids_requested",
    60: "export_restriction_RESERVED", 70: "protocol_version", 71: "insufficient_security", 80: "internal_error",
    86: "inappropriate_fallback", 90: "user_canceled", 100: "no_renegotiation_RESERVED", 109: "missing_extension",
    110: "unsupported_extension", 111: "certificate_unobtainable_RESERVED", 112: "unrecognized_name",
    113: "bad_certificate_status_response", 114: "bad_certificate_hash_value_RESERVED",
    115: "unknown_psk_identity", 116: "certificate_required", 117: "general_error", 120: "no_application_protocol",
    121: "ech_required",
}


def alert_name(code: int) -> str:
    """The name of an AlertDescription; an unnamed one is written as its hex value."""
    name = ALERTS.get(code)
    return name if name is not None else f"0x{code:02X}"


# OpenSSL cipher-suite names (as ELB, nginx, Apache and HAProxy configs state them) -> IANA names.
# TLS 1.3 suites already carry their IANA names in every tool.
_OPENSSL_SUITES: dict[str, str] = {
    "ECDHE-ECDSA-AES128-GCM-SHA256": "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384": "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "ECDHE-ECDSA-CHACHA20-POLY1305": "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
    "ECDHE-ECDSA-AES128-SHA256": "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
    "ECDHE-ECDSA-AES256-SHA384": "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384",
    "ECDHE-ECDSA-AES128-SHA": "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
    "ECDHE-ECDSA-AES256-SHA": "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
    "ECDHE-RSA-AES128-GCM-SHA256": "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "ECDHE-RSA-AES256-GCM-SHA384": "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "ECDHE-RSA-CHACHA20-POLY1305": "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
    "ECDHE-RSA-AES128-SHA256": "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
    "ECDHE-RSA-AES256-SHA384": "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
    "ECDHE-RSA-AES128-SHA": "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
    "ECDHE-RSA-AES256-SHA": "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
    "ECDHE-RSA-DES-CBC3-SHA": "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA",
    "DHE-RSA-AES128-GCM-SHA256": "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
    "DHE-RSA-AES256-GCM-SHA384": "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384",
    "DHE-RSA-AES128-SHA256": "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256",
    "DHE-RSA-AES256-SHA256": "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256",
    "DHE-RSA-AES128-SHA": "TLS_DHE_RSA_WITH_AES_128_CBC_SHA",
    "DHE-RSA-AES256-SHA": "TLS_DHE_RSA_WITH_AES_256_CBC_SHA",
    "DHE-DSS-AES128-SHA": "TLS_DHE_DSS_WITH_AES_128_CBC_SHA",
    "AES128-GCM-SHA256": "TLS_RSA_WITH_AES_128_GCM_SHA256",
    "AES256-GCM-SHA384": "TLS_RSA_WITH_AES_256_GCM_SHA384",
    "AES128-SHA256": "TLS_RSA_WITH_AES_128_CBC_SHA256",
    "AES256-SHA256": "TLS_RSA_WITH_AES_256_CBC_SHA256",
    "AES128-SHA": "TLS_RSA_WITH_AES_128_CBC_SHA",
    "AES256-SHA": "TLS_RSA_WITH_AES_256_CBC_SHA",
    "DES-CBC3-SHA": "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
    "RC4-SHA": "TLS_RSA_WITH_RC4_128_SHA",
    "RC4-MD5": "TLS_RSA_WITH_RC4_128_MD5",
}


def iana_cipher_suite(name: str) -> str:
    """The IANA name of a cipher suite written in OpenSSL or IANA form; unknown names come back unchanged."""
    key = name.strip()
    return _OPENSSL_SUITES.get(key.upper(), key)


def cipher_suite_name(code: int) -> str:
    """The IANA name of a cipher suite code point; an unnamed one is written as its hex value."""
    name = CIPHER_SUITES.get(code)
    return name if name is not None else f"0x{code:04X}"
