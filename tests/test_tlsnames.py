"""The one registry of TLS names: IANA's CSVs vendored in assess/registry, read by assess.tlsnames,
cross-checked against Wireshark's own names; every source of runtime lines names through it."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess

import pytest

from assess.resources import registry_file
from assess.tlsnames import (
    CIPHER_SUITES,
    GROUPS,
    SIGNATURE_SCHEMES,
    alert_name,
    cipher_suite_name,
    group_code,
    group_name,
    is_grease,
    is_pq_group,
    is_tls13,
    signature_scheme_name,
    version_code,
    version_name,
)


def test_iana_names_every_code_point_carnot_writes_and_hex_is_only_for_unnamed_ones() -> None:
    assert cipher_suite_name(0xC011) == "TLS_ECDHE_RSA_WITH_RC4_128_SHA"  # once written as hex
    assert cipher_suite_name(0x0088) == "TLS_DHE_RSA_WITH_CAMELLIA_256_CBC_SHA"
    assert cipher_suite_name(0x1306) == "TLS_AEGIS_256_SHA512"
    assert [group_name(c) for c in (0x11EB, 0x11EC, 0x11ED, 0x0200, 0x0201, 0x0202, 0x6399, 0x639A)] == [
        "SecP256r1MLKEM768", "X25519MLKEM768", "SecP384r1MLKEM1024", "MLKEM512", "MLKEM768", "MLKEM1024",
        "X25519Kyber768Draft00", "SecP256r1Kyber768Draft00"]
    assert group_name(0x636D) == "0x636D"  # named by no registry: hex, never guessed
    assert signature_scheme_name(0x0804) == "rsa_pss_rsae_sha256" and signature_scheme_name(0x0905) == "mldsa65"
    assert alert_name(40) == "handshake_failure" and alert_name(112) == "unrecognized_name"


def test_every_single_code_point_in_the_vendored_csvs_is_named() -> None:
    for file, table in (("tls-parameters-4.csv", CIPHER_SUITES), ("tls-parameters-8.csv", GROUPS),
                        ("tls-signaturescheme.csv", SIGNATURE_SCHEMES)):
        rows = list(csv.DictReader(io.StringIO(registry_file(file).read_text(), newline="")))
        named = [r for r in rows if r["Description"].startswith(("TLS_", "x25519", "secp256r1", "ecdsa_", "rsa_"))]
        assert named and len(table) >= len(named), file
    assert len(CIPHER_SUITES) > 300 and len(GROUPS) > 50 and len(SIGNATURE_SCHEMES) > 30


def test_pq_groups_include_the_kyber_drafts_and_spellings_normalise() -> None:
    assert all(is_pq_group(c) for c in (0x11EB, 0x11EC, 0x11ED, 0x0200, 0x0201, 0x0202, 0x6399))
    assert group_code("x25519_mlkem768") == group_code("X25519MLKEM768") == 0x11EC
    assert group_code("X25519Kyber768Draft00") == 0x6399 and not is_pq_group("x25519")


def test_one_spelling_per_version_tls13_drafts_included() -> None:
    assert [version_name(c) for c in (0x0300, 0x0301, 0x0302, 0x0303, 0x0304)] == \
        ["SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"]
    assert version_name(0x7F17) == "TLSv1.3-draft23" and version_name(0x7F0E) == "TLSv1.3-draft14"
    assert version_name(0xFB1A) == "TLSv1.3-fb26" and version_name(0x7E01) == "TLSv1.3-experiment1"
    assert all(is_tls13(c) for c in (0x0304, 0x7F17, 0xFB17, 0x7E02)) and not is_tls13(0x0303)
    assert version_code("TLSv1.3-draft23") == 0x7F17 and version_name(0x1234) == "0x1234"


def test_grease_is_recognised() -> None:
    assert all(is_grease(0x0A0A + 0x1010 * i) for i in range(16))
    assert not is_grease(0x0A1A) and not is_grease(0x001D)


# Code points whose names Wireshark and IANA agree on. (Wireshark 4.0 calls 0x0200-0x0202 by the
# OQS prototypes' names frodo640aes ... and names neither 0x11EC nor 0x6399: IANA's names win.)
AGREED_WITH_WIRESHARK = {
    "tls.handshake.ciphersuite": (0x0004, 0x0088, 0x1301, 0x1303, 0xC011, 0xC02F, 0xCCA9),
    "tls.handshake.extensions_supported_group": (0x0017, 0x0018, 0x001D, 0x001E, 0x0100, 0x001A),
    "tls.handshake.sig_hash_alg": (0x0401, 0x0403, 0x0804, 0x0807),
}


def test_names_agree_with_wiresharks_for_a_handful_of_code_points() -> None:
    tshark = shutil.which("tshark")
    if tshark is None:
        pytest.fail("tshark is not installed (noxfile.py's TEST_PACKAGES installs it)")
    values = subprocess.run([tshark, "-G", "values"], capture_output=True, text=True, check=True).stdout
    wireshark: dict[tuple[str, int], str] = {}
    for row in values.splitlines():
        parts = row.split("\t")
        if len(parts) == 4 and parts[0] == "V" and parts[1] in AGREED_WITH_WIRESHARK:
            wireshark.setdefault((parts[1], int(parts[2], 0)), parts[3])
    ours = {"tls.handshake.ciphersuite": cipher_suite_name, "tls.handshake.extensions_supported_group": group_name,
            "tls.handshake.sig_hash_alg": signature_scheme_name}
    for field_name, codes in AGREED_WITH_WIRESHARK.items():
        for code in codes:
            assert wireshark[(field_name, code)] == ours[field_name](code), (field_name, hex(code))
