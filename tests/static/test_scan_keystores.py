"""Java keystores and PKCS#12 stores, read without a password, checked against `keytool -list -v`.

The stores are made at test time by the JDK's keytool (never committed), and keytool's own listing
without a password is the ground truth: every alias and entry type it shows, and for each
certificate its owner, signature algorithm and public key, must be what the scan reports.
"""

from __future__ import annotations

import json
import re
import shutil
import struct
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from scan_testing import make_cert

pytestmark = pytest.mark.skipif(shutil.which("keytool") is None, reason="needs the JDK's keytool")

PASSWORD = "changeit"
# keytool's "Signature algorithm name" -> the name cryptography gives the OID in carnot:cert:signature_algorithm.
SIGNATURE_NAMES = {"SHA256withRSA": "sha256WithRSAEncryption", "SHA384withECDSA": "ecdsa-with-SHA384",
                   "SHA256withECDSA": "ecdsa-with-SHA256"}


def keytool(*args: str, stdin: str = "") -> str:
    done = subprocess.run(["keytool", *args], input=stdin, capture_output=True, text=True, check=True)
    return done.stdout


@dataclass
class Listed:
    """One entry as `keytool -list -v` shows it."""

    entry_type: str
    owners: list[str] = field(default_factory=list)
    signatures: list[str] = field(default_factory=list)
    public_keys: list[str] = field(default_factory=list)  # "2048-bit RSA key", "384-bit EC (secp384r1) key"


def keytool_listing(store: Path) -> dict[str, Listed]:
    """`keytool -list -v` without a password (keytool warns that integrity is not verified)."""
    entries: dict[str, Listed] = {}
    alias = ""
    for line in keytool("-list", "-v", "-keystore", str(store)).splitlines():
        key, _, value = line.partition(": ")
        if key == "Alias name":
            alias = value
        elif key == "Entry type":
            entries[alias] = Listed(value)
        elif key == "Owner":
            entries[alias].owners.append(value)
        elif key == "Signature algorithm name":
            entries[alias].signatures.append(value)
        elif key == "Subject Public Key Algorithm":
            entries[alias].public_keys.append(value)
    return entries


def make_store(path: Path, store_type: str, tmp_path: Path) -> None:
    """Two key pairs (RSA-2048, EC P-384), a trusted certificate, and for JCEKS a secret key."""
    common = ["-keystore", str(path), "-storetype", store_type, "-storepass", PASSWORD, "-keypass", PASSWORD]
    keytool("-genkeypair", *common, "-alias", "web", "-keyalg", "RSA", "-keysize", "2048",
            "-dname", "CN=web.test", "-validity", "365")
    keytool("-genkeypair", *common, "-alias", "signer", "-keyalg", "EC", "-groupname", "secp384r1",
            "-dname", "CN=signer.test")
    ca = tmp_path / f"ca-{store_type}.der"
    ca.write_bytes(make_cert("Partner Root CA", ec.generate_private_key(ec.SECP256R1()), ca=True)
                   .public_bytes(serialization.Encoding.DER))
    keytool("-importcert", "-noprompt", *common, "-alias", "partner-ca", "-file", str(ca))
    if store_type == "JCEKS":
        keytool("-genseckey", *common, "-alias", "session", "-keyalg", "AES", "-keysize", "256")


def _public_key_facts(listed: str) -> tuple[str, str, str | None]:
    """keytool's "384-bit EC (secp384r1) key" -> ("EC", "384", "secp384r1")."""
    match = re.fullmatch(r"(\d+)-bit (\w+)(?: \((\w+)\))? key", listed)
    assert match, listed
    return match.group(2), match.group(1), match.group(3)


@pytest.mark.parametrize("store_type", ["JKS", "JCEKS"])
def test_java_keystore_entries_are_read_without_a_password_as_keytool_lists_them(
    tmp_path: Path, store_type: str, scan_tree
) -> None:
    tree = tmp_path / "conf"
    tree.mkdir()
    store = tree / f"server.{store_type.lower()}"
    make_store(store, store_type, tmp_path)
    listed = keytool_listing(store)

    scanned = scan_tree(tree)

    expected_aliases = {"web", "signer", "partner-ca"} | ({"session"} if store_type == "JCEKS" else set())
    assert set(listed) == expected_aliases
    for alias, entry in listed.items():
        if entry.entry_type == "SecretKeyEntry":
            assert scanned.skip_reason(store.name) == (
                f"JCEKS secret key entry '{alias}' is sealed with a password: algorithm and size not read"
            )
            continue
        kind = {"PrivateKeyEntry": "private key entry", "trustedCertEntry": "trusted certificate entry"}
        context = f"{store_type} {kind[entry.entry_type]} '{alias}'"
        [owner], [signature], [public_key] = entry.owners, entry.signatures, entry.public_keys
        [cert] = [c for c in scanned.of_type("certificate")
                  if c["cryptoProperties"]["certificateProperties"]["subjectName"] == owner]
        props = scanned.props(cert)
        algorithm, bits, curve = _public_key_facts(public_key)
        assert props["carnot:cert:public_key_algorithm"] == algorithm
        assert props["carnot:cert:public_key_bits"] == bits
        assert props.get("carnot:cert:curve") == curve
        assert props["carnot:cert:signature_algorithm"] == SIGNATURE_NAMES[signature]
        assert [_context(o) for o in cert["evidence"]["occurrences"]] == [context]
        if entry.entry_type == "PrivateKeyEntry":
            [key] = [k for k in scanned.of_type("related-crypto-material")
                     if _context(k["evidence"]["occurrences"][0]) == context]
            key_props = scanned.props(key)
            assert key["cryptoProperties"]["relatedCryptoMaterialProperties"]["type"] == "private-key"
            assert key_props["carnot:algorithm"] == {"RSA": "RSA", "EC": "ECDSA"}[algorithm]
            assert key_props["carnot:key_bits"] == bits
    # The store holds (encrypted) private keys: no digest of it anywhere.
    assert '"sha256"' not in scanned.raw


def test_pkcs12_with_a_password_gives_the_aliases_keytool_lists_and_nothing_encrypted(
    tmp_path: Path, scan_tree
) -> None:
    tree = tmp_path / "conf"
    tree.mkdir()
    store = tree / "keystore.p12"
    make_store(store, "PKCS12", tmp_path)
    keytool("-genseckey", "-keystore", str(store), "-storetype", "PKCS12", "-storepass", PASSWORD,
            "-alias", "session", "-keyalg", "AES", "-keysize", "256")
    listed = keytool_listing(store)

    scanned = scan_tree(tree)

    # keytool without the password sees the key entries' aliases, not the (encrypted) certificates.
    assert {alias: e.entry_type for alias, e in listed.items()} == {
        "web": "PrivateKeyEntry", "signer": "PrivateKeyEntry", "session": "SecretKeyEntry"}
    reasons = sorted(s["reason"] for s in scanned.skipped if s["location"] == store.name)
    assert reasons == sorted([
        "PKCS#12 private key entry 'web' is encrypted (no password given): type and size not read",
        "PKCS#12 private key entry 'signer' is encrypted (no password given): type and size not read",
        "PKCS#12 secret key entry 'session' is encrypted (no password given): type and size not read",
        "PKCS#12 store: 1 encrypted container(s) (no password given), with the certificates and entries "
        "in them, not read",
    ])
    assert scanned.components() == []


def test_pkcs12_without_a_password_is_read_whole(tmp_path: Path, scan_tree) -> None:
    tree = tmp_path / "conf"
    tree.mkdir()
    store = tree / "truststore.p12"
    ca = tmp_path / "ca.der"
    ca.write_bytes(make_cert("Open Root CA", ec.generate_private_key(ec.SECP384R1()), ca=True, digest="sha384")
                   .public_bytes(serialization.Encoding.DER))
    # Java writes an unprotected PKCS#12 when both protections are NONE (JDK 8u301+, 11.0.12+, 17).
    keytool("-importcert", "-noprompt", "-keystore", str(store), "-storetype", "PKCS12", "-storepass", PASSWORD,
            "-alias", "open-ca", "-file", str(ca), "-J-Dkeystore.pkcs12.certProtectionAlgorithm=NONE",
            "-J-Dkeystore.pkcs12.macAlgorithm=NONE")
    listed = keytool_listing(store)

    scanned = scan_tree(tree)

    assert {a: e.entry_type for a, e in listed.items()} == {"open-ca": "trustedCertEntry"}
    [cert] = scanned.of_type("certificate")
    assert cert["cryptoProperties"]["certificateProperties"]["subjectName"] == listed["open-ca"].owners[0]
    assert scanned.props(cert)["carnot:cert:signature_algorithm"] == "ecdsa-with-SHA384"
    assert _public_key_facts(listed["open-ca"].public_keys[0]) == ("EC", "384", "secp384r1")
    assert scanned.props(cert)["carnot:cert:curve"] == "secp384r1"
    assert [_context(o) for o in cert["evidence"]["occurrences"]] == ["PKCS#12 entry 'open-ca'"]
    assert scanned.skipped == []


def test_a_damaged_keystore_keeps_the_entries_before_the_damage(tmp_path: Path, scan_tree) -> None:
    whole = tmp_path / "whole.jks"
    make_store(whole, "JKS", tmp_path)
    tree = tmp_path / "conf"
    tree.mkdir()
    (tree / "cut.jks").write_bytes(whole.read_bytes()[:-30])  # the 20-byte digest and into the last entry

    scanned = scan_tree(tree)

    assert scanned.skip_reason("cut.jks").startswith("damaged JKS keystore (ends inside a field)")
    assert len(scanned.of_type("certificate")) == 2


def _context(occurrence: dict) -> str:
    return json.loads(occurrence["additionalContext"])["context"]


def test_a_hostile_sealed_entry_is_damage_not_a_crash(tmp_path: Path, scan_tree) -> None:
    # A JCEKS secret key entry whose Java object nests arrays of objects 1,000 deep.
    array_of_objects = b"\x75\x72" + struct.pack(">H", 19) + b"[Ljava.lang.Object;" + bytes(8) + b"\x02\x00\x00\x78\x70"
    nested = (array_of_objects + struct.pack(">I", 1)) * 1000 + b"\x70"
    entry = struct.pack(">I", 3) + struct.pack(">H", 5) + b"deep!" + bytes(8) + b"\xac\xed\x00\x05" + nested
    tree = tmp_path / "conf"
    tree.mkdir()
    (tree / "deep.jceks").write_bytes(b"\xce\xce\xce\xce" + struct.pack(">II", 2, 1) + entry + bytes(20))

    scanned = scan_tree(tree)

    assert scanned.skip_reason("deep.jceks") == (
        "damaged JCEKS keystore (Java object nested too deep): entries from there on not read")
