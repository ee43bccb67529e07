"""The one place that knows TLS named-group code points and names (IANA TLS Supported Groups).

Every stage that meets a group name (wire parsing, configs, cloud policies, Zeek logs) normalises it
here, so `X25519MLKEM768`, `x25519_mlkem768` and 0x11EC all mean the same thing.
"""

from __future__ import annotations

# IANA "TLS Supported Groups" registry: code point -> IANA name.
GROUPS: dict[int, str] = {
    0x0001: "sect163k1", 0x0002: "sect163r1", 0x0003: "sect163r2", 0x0004: "sect193r1",
    0x0005: "sect193r2", 0x0006: "sect233k1", 0x0007: "sect233r1", 0x0008: "sect239k1",
    0x0009: "sect283k1", 0x000A: "sect283r1", 0x000B: "sect409k1", 0x000C: "sect409r1",
    0x000D: "sect571k1", 0x000E: "sect571r1", 0x000F: "secp160k1", 0x0010: "secp160r1",
    0x0011: "secp160r2", 0x0012: "secp192k1", 0x0013: "secp192r1", 0x0014: "secp224k1",
    0x0015: "secp224r1", 0x0016: "secp256k1", 0x0017: "secp256r1", 0x0018: "secp384r1",
    0x0019: "secp521r1", 0x001A: "brainpoolP256r1", 0x001B: "brainpoolP384r1",
    0x001C: "brainpoolP512r1", 0x001D: "x25519", 0x001E: "x448",
    0x001F: "brainpoolP256r1tls13", 0x0020: "brainpoolP384r1tls13", 0x0021: "brainpoolP512r1tls13",
    0x0022: "GC256A", 0x0023: "GC256B", 0x0024: "GC256C", 0x0025: "GC256D",
    0x0026: "GC512A", 0x0027: "GC512B", 0x0028: "GC512C", 0x0029: "curveSM2",
    0x0100: "ffdhe2048", 0x0101: "ffdhe3072", 0x0102: "ffdhe4096", 0x0103: "ffdhe6144", 0x0104: "ffdhe8192",
    0x0200: "MLKEM512", 0x0201: "MLKEM768", 0x0202: "MLKEM1024",
    0x11EB: "SecP256r1MLKEM768", 0x11EC: "X25519MLKEM768", 0x11ED: "SecP384r1MLKEM1024",
    # Pre-standard hybrid used by Chrome/Cloudflare in 2023-2024; still seen in the wild.
    0x6399: "X25519Kyber768Draft00",
    0xFF01: "arbitrary_explicit_prime_curves", 0xFF02: "arbitrary_explicit_char2_curves",
}

# Groups that resist a quantum adversary: hybrid ML-KEM and pure ML-KEM.
PQ_HYBRID_GROUPS: frozenset[int] = frozenset({0x11EB, 0x11EC, 0x11ED, 0x6399})
PQ_PURE_GROUPS: frozenset[int] = frozenset({0x0200, 0x0201, 0x0202})
PQ_GROUPS: frozenset[int] = PQ_HYBRID_GROUPS | PQ_PURE_GROUPS
# What each PQ group is made of: the ML-KEM (Kyber) parameter set and the classical curve it is
# combined with (None for pure ML-KEM).
PQ_GROUP_PARTS: dict[int, tuple[int, str | None]] = {
    0x0200: (512, None), 0x0201: (768, None), 0x0202: (1024, None),
    0x11EB: (768, "secp256r1"), 0x11EC: (768, "x25519"), 0x11ED: (1024, "secp384r1"), 0x6399: (768, "x25519"),
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
    """IANA name of a group code point; unknown code points are named by their hex value."""
    name = GROUPS.get(code)  # (not a .get default: that would format the hex name every time)
    return name if name is not None else f"0x{code:04X}"


def group_code(name: str) -> int | None:
    """Code point for a group name in any common spelling, or None when it is not a known group."""
    key = name.strip().lower()
    if key.startswith("0x"):
        try:
            return int(key, 16)
        except ValueError:
            return None
    return _BY_LOWER_NAME.get(key)


def normalise_group(name: str) -> str:
    """The IANA name for a group written in any common spelling; unknown names come back unchanged."""
    code = group_code(name)
    return group_name(code) if code is not None else name.strip()


def is_pq_group(name_or_code: str | int) -> bool:
    code = name_or_code if isinstance(name_or_code, int) else group_code(name_or_code)
    return code is not None and code in PQ_GROUPS


def is_grease(code: int) -> bool:
    """RFC 8701 GREASE values (0x0A0A, 0x1A1A, ...) are noise, not groups or suites."""
    return (code & 0x0F0F) == 0x0A0A and (code >> 8) == (code & 0xFF)


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


# IANA "TLS Cipher Suites" registry: code point -> IANA name (the suites seen in practice; any
# other code point is named by its hex value rather than guessed).
CIPHER_SUITES: dict[int, str] = {
    0x0000: "TLS_NULL_WITH_NULL_NULL",
    0x0001: "TLS_RSA_WITH_NULL_MD5", 0x0002: "TLS_RSA_WITH_NULL_SHA",
    0x0004: "TLS_RSA_WITH_RC4_128_MD5", 0x0005: "TLS_RSA_WITH_RC4_128_SHA",
    0x000A: "TLS_RSA_WITH_3DES_EDE_CBC_SHA", 0x0016: "TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA",
    0x002F: "TLS_RSA_WITH_AES_128_CBC_SHA", 0x0032: "TLS_DHE_DSS_WITH_AES_128_CBC_SHA",
    0x0033: "TLS_DHE_RSA_WITH_AES_128_CBC_SHA", 0x0035: "TLS_RSA_WITH_AES_256_CBC_SHA",
    0x0038: "TLS_DHE_DSS_WITH_AES_256_CBC_SHA", 0x0039: "TLS_DHE_RSA_WITH_AES_256_CBC_SHA",
    0x003C: "TLS_RSA_WITH_AES_128_CBC_SHA256", 0x003D: "TLS_RSA_WITH_AES_256_CBC_SHA256",
    0x0067: "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256", 0x006B: "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256",
    0x008C: "TLS_PSK_WITH_AES_128_CBC_SHA", 0x008D: "TLS_PSK_WITH_AES_256_CBC_SHA",
    0x009C: "TLS_RSA_WITH_AES_128_GCM_SHA256", 0x009D: "TLS_RSA_WITH_AES_256_GCM_SHA384",
    0x009E: "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", 0x009F: "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384",
    0x00A2: "TLS_DHE_DSS_WITH_AES_128_GCM_SHA256", 0x00A3: "TLS_DHE_DSS_WITH_AES_256_GCM_SHA384",
    0x00A8: "TLS_PSK_WITH_AES_128_GCM_SHA256", 0x00A9: "TLS_PSK_WITH_AES_256_GCM_SHA384",
    0x00FF: "TLS_EMPTY_RENEGOTIATION_INFO_SCSV",
    0x1301: "TLS_AES_128_GCM_SHA256", 0x1302: "TLS_AES_256_GCM_SHA384",
    0x1303: "TLS_CHACHA20_POLY1305_SHA256", 0x1304: "TLS_AES_128_CCM_SHA256",
    0x1305: "TLS_AES_128_CCM_8_SHA256", 0x1306: "TLS_AEGIS_256_SHA512", 0x1307: "TLS_AEGIS_128L_SHA256",
    0x5600: "TLS_FALLBACK_SCSV",
    0xC009: "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", 0xC00A: "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
    0xC012: "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA",
    0xC013: "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", 0xC014: "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
    0xC023: "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", 0xC024: "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384",
    0xC027: "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", 0xC028: "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
    0xC02B: "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", 0xC02C: "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    0xC02F: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", 0xC030: "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    0xC09C: "TLS_RSA_WITH_AES_128_CCM", 0xC09D: "TLS_RSA_WITH_AES_256_CCM",
    0xC09E: "TLS_DHE_RSA_WITH_AES_128_CCM", 0xC09F: "TLS_DHE_RSA_WITH_AES_256_CCM",
    0xC0AC: "TLS_ECDHE_ECDSA_WITH_AES_128_CCM", 0xC0AD: "TLS_ECDHE_ECDSA_WITH_AES_256_CCM",
    0xC0AE: "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8", 0xC0AF: "TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8",
    0xCCA8: "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
    0xCCA9: "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
    0xCCAA: "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
    0xCCAB: "TLS_PSK_WITH_CHACHA20_POLY1305_SHA256",
    0xCCAC: "TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256",
}


def cipher_suite_name(code: int) -> str:
    """IANA name of a cipher suite code point; unknown code points are named by their hex value."""
    name = CIPHER_SUITES.get(code)
    return name if name is not None else f"0x{code:04X}"
