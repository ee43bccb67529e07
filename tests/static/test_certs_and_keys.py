"""Certificates and keys in every container: facts right, evidence lines right, identity by content."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dh, dsa, ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import pkcs7, pkcs12
from scan_testing import UTC, cert_pem, make_cert

NONE = serialization.NoEncryption()
PEM = serialization.Encoding.PEM
DER = serialization.Encoding.DER
PKCS8 = serialization.PrivateFormat.PKCS8
TRADITIONAL = serialization.PrivateFormat.TraditionalOpenSSL


@pytest.fixture(scope="module")
def keys():
    return {
        "rsa3072": rsa.generate_private_key(public_exponent=65537, key_size=3072),
        "rsa2048": rsa.generate_private_key(public_exponent=65537, key_size=2048),
        "p384": ec.generate_private_key(ec.SECP384R1()),
        "p256": ec.generate_private_key(ec.SECP256R1()),
        "ed25519": ed25519.Ed25519PrivateKey.generate(),
        "dsa2048": dsa.generate_private_key(key_size=2048),
    }


def test_certificate_facts_and_bundle_lines(tmp_path: Path, keys, scan_tree) -> None:
    root_ca = make_cert("Test Root", keys["p384"], ca=True, digest="sha384",
                        not_after=dt.datetime(2040, 1, 1, tzinfo=UTC))
    leaf = make_cert("www.test", keys["rsa3072"], issuer="Test Root", issuer_key=keys["p384"])
    tree = tmp_path / "tree"
    tree.mkdir()
    # A comment line first, so the leaf starts on line 3 and the CA right after the leaf's END line.
    bundle = b"# chain for www.test\n\n" + cert_pem(leaf) + cert_pem(root_ca)
    (tree / "chain.pem").write_bytes(bundle)
    ca_line = 3 + cert_pem(leaf).count(b"\n")

    scanned = scan_tree(tree)

    www = scanned.by_name("www.test")
    props = scanned.props(www)
    assert props["carnot:cert:public_key_algorithm"] == "RSA"
    assert props["carnot:cert:public_key_bits"] == "3072"
    assert props["carnot:cert:signature_algorithm"] == "ecdsa-with-SHA256"
    assert props["carnot:cert:signature_hash"] == "SHA-256"
    assert props["carnot:cert:is_ca"] == "false"
    assert "carnot:cert:curve" not in props
    cert_props = www["cryptoProperties"]["certificateProperties"]
    assert cert_props["subjectName"] == "CN=www.test"
    assert cert_props["issuerName"] == "CN=Test Root"
    assert cert_props["notValidAfter"].startswith("2027-01-01T00:00:00")
    assert cert_props["certificateFormat"] == "X.509"
    assert scanned.occurrences(www) == [("chain.pem", 3)]

    ca = scanned.by_name("Test Root")
    ca_props = scanned.props(ca)
    assert ca_props["carnot:cert:public_key_algorithm"] == "EC"
    assert ca_props["carnot:cert:curve"] == "secp384r1"
    assert ca_props["carnot:cert:public_key_bits"] == "384"
    assert ca_props["carnot:cert:signature_hash"] == "SHA-384"
    assert ca_props["carnot:cert:is_ca"] == "true"
    assert scanned.occurrences(ca) == [("chain.pem", ca_line)]
    assert scanned.evidence_digests(ca) == {"chain.pem": hashlib.sha256(bundle).hexdigest()}


def test_same_certificate_in_pem_der_and_pkcs12_is_one_asset_with_every_occurrence(
    tmp_path: Path, keys, scan_tree
) -> None:
    cert = make_cert("shared.test", keys["p256"])
    tree = tmp_path / "tree"
    (tree / "a").mkdir(parents=True)
    (tree / "a" / "server.crt").write_bytes(cert_pem(cert))
    (tree / "b.der").write_bytes(cert.public_bytes(DER))
    (tree / "store.p12").write_bytes(
        pkcs12.serialize_key_and_certificates(b"store", keys["p256"], cert, None, NONE)
    )

    scanned = scan_tree(tree)

    shared = scanned.by_name("shared.test")
    assert scanned.occurrences(shared) == [("a/server.crt", 1), ("b.der", None), ("store.p12", None)]
    assert scanned.props(shared)["carnot:cert:curve"] == "secp256r1"
    # The PKCS#12 store's private key is reported too, by type and curve.
    key = scanned.by_name("ECDSA-secp256r1 private key")
    assert scanned.occurrences(key) == [("store.p12", None)]


def test_private_and_public_keys_in_every_encoding_report_type_and_size(
    tmp_path: Path, keys, scan_tree
) -> None:
    tree = tmp_path / "keys"
    tree.mkdir()
    (tree / "rsa3072.pem").write_bytes(keys["rsa3072"].private_bytes(PEM, PKCS8, NONE))
    (tree / "rsa2048.key").write_bytes(keys["rsa2048"].private_bytes(PEM, TRADITIONAL, NONE))
    (tree / "p384.key").write_bytes(keys["p384"].private_bytes(PEM, TRADITIONAL, NONE))
    (tree / "dsa.der").write_bytes(keys["dsa2048"].private_bytes(DER, PKCS8, NONE))
    (tree / "id_ed25519").write_bytes(
        keys["ed25519"].private_bytes(PEM, serialization.PrivateFormat.OpenSSH, NONE)
    )
    (tree / "p256-public.pem").write_bytes(
        b"\n\n" + keys["p256"].public_key().public_bytes(PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )

    scanned = scan_tree(tree)

    facts = {
        c["name"]: (
            c["cryptoProperties"]["relatedCryptoMaterialProperties"]["type"],
            c["cryptoProperties"]["relatedCryptoMaterialProperties"].get("size"),
            scanned.props(c).get("carnot:curve"),
            scanned.occurrences(c),
        )
        for c in scanned.of_type("related-crypto-material")
    }
    assert facts == {
        "RSA-3072 private key": ("private-key", 3072, None, [("rsa3072.pem", 1)]),
        "RSA-2048 private key": ("private-key", 2048, None, [("rsa2048.key", 1)]),
        "ECDSA-secp384r1 private key": ("private-key", 384, "secp384r1", [("p384.key", 1)]),
        "DSA-2048 private key": ("private-key", 2048, None, [("dsa.der", None)]),
        "Ed25519 private key": ("private-key", 256, None, [("id_ed25519", 1)]),
        "ECDSA-secp256r1 public key": ("public-key", 256, "secp256r1", [("p256-public.pem", 3)]),
    }
    rsa_key = scanned.by_name("RSA-3072 private key")
    assert scanned.props(rsa_key)["carnot:algorithm"] == "RSA"
    assert scanned.props(rsa_key)["carnot:key_bits"] == "3072"


def test_key_identity_is_the_public_key_so_private_and_public_halves_link(
    tmp_path: Path, keys, scan_tree
) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    spki = keys["rsa2048"].public_key().public_bytes(PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    (tree / "one.pem").write_bytes(keys["rsa2048"].private_bytes(PEM, PKCS8, NONE))
    (tree / "two.key").write_bytes(keys["rsa2048"].private_bytes(PEM, TRADITIONAL, NONE))
    (tree / "pub.pem").write_bytes(spki)

    scanned = scan_tree(tree)

    private = scanned.by_name("RSA-2048 private key")
    public = scanned.by_name("RSA-2048 public key")
    assert scanned.occurrences(private) == [("one.pem", 1), ("two.key", 1)]
    fingerprint_part = private["bom-ref"].rsplit(":", 1)[1]
    assert public["bom-ref"] == f"carnot:public-key:{fingerprint_part}" != private["bom-ref"]


def test_encrypted_private_keys_are_skipped_with_a_reason(tmp_path: Path, keys, scan_tree) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    encrypted = serialization.BestAvailableEncryption(b"correct horse")
    (tree / "locked.pem").write_bytes(keys["rsa2048"].private_bytes(PEM, PKCS8, encrypted))
    (tree / "locked.p12").write_bytes(
        pkcs12.serialize_key_and_certificates(b"x", keys["p256"], None, None, encrypted)
    )

    scanned = scan_tree(tree)

    assert scanned.of_type("related-crypto-material") == []
    assert "encrypted private key" in scanned.skip_reason("locked.pem:1")
    assert "password" in scanned.skip_reason("locked.p12")


@pytest.mark.filterwarnings("ignore:Diffie-Hellman over finite fields")  # deprecated: still in estates
def test_pkcs7_bundle_and_dh_parameters(tmp_path: Path, keys, scan_tree) -> None:
    first = make_cert("one.test", keys["p256"])
    second = make_cert("two.test", keys["rsa2048"])
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "bundle.p7b").write_bytes(pkcs7.serialize_certificates([first, second], PEM))
    params = dh.generate_parameters(generator=2, key_size=512)
    (tree / "dhparam.pem").write_bytes(
        b"# weak on purpose\n" + params.parameter_bytes(PEM, serialization.ParameterFormat.PKCS3)
    )

    scanned = scan_tree(tree)

    assert scanned.occurrences(scanned.by_name("one.test")) == [("bundle.p7b", 1)]
    assert scanned.occurrences(scanned.by_name("two.test")) == [("bundle.p7b", 1)]
    dh_asset = scanned.by_name("DH-512")
    assert scanned.props(dh_asset)["carnot:key_bits"] == "512"
    assert scanned.occurrences(dh_asset) == [("dhparam.pem", 2)]
