"""A private key's bytes never reach any output: not the shard, not the report, not the log.

Keys are written in every encoding the scanner reads (PEM PKCS#8 and traditional, DER, OpenSSH,
PKCS#12, and Java keystores made by keytool: JKS, JCEKS with a sealed secret, PKCS#12), plus a
damaged one whose parse fails, an encrypted one, one beside a certificate, and one inside a text
file, and the scan runs both through the CLI with -v (stdout and stderr captured) and
in-process with the log captured at DEBUG. Then every rendering of the secret (each PEM body line,
the DER in hex and base64, the private numbers in decimal and hex, and the SHA-256 of each
private-key file and of each private DER, in hex and base64: a digest confirms a guessed key) is
searched for in everything produced.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from scan_testing import cert_pem, make_cert

NONE = serialization.NoEncryption()
PEM = serialization.Encoding.PEM
DER = serialization.Encoding.DER


def _secret_renderings(pem: bytes, der: bytes, numbers: list[int], raw: list[bytes]) -> set[str]:
    needles: set[str] = set()
    for line in pem.decode().splitlines():
        if not line.startswith("-----") and len(line) >= 16:
            needles.add(line)
    needles.add(der.hex())
    needles.add(der.hex().upper())
    needles.add(base64.b64encode(der).decode()[:64])
    for n in numbers:
        needles.add(str(n))
        needles.add(format(n, "x"))
        needles.add(format(n, "X"))
    for blob in raw:
        needles.add(blob.hex())
        needles.add(base64.b64encode(blob).decode().rstrip("="))
    return needles


def _digest_renderings(blobs: list[bytes]) -> set[str]:
    needles: set[str] = set()
    for blob in blobs:
        digest = hashlib.sha256(blob).digest()
        needles |= {digest.hex(), digest.hex().upper(), base64.b64encode(digest).decode().rstrip("="),
                    base64.urlsafe_b64encode(digest).decode().rstrip("=")}
    return needles


def test_private_key_bytes_never_appear_in_shard_report_or_logs(
    tmp_path: Path, carnot, scan_tree, caplog
) -> None:
    tree = tmp_path / "estate"
    tree.mkdir()
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    ed_key = ed25519.Ed25519PrivateKey.generate()

    rsa_pem = rsa_key.private_bytes(PEM, serialization.PrivateFormat.PKCS8, NONE)
    rsa_traditional = rsa_key.private_bytes(PEM, serialization.PrivateFormat.TraditionalOpenSSL, NONE)
    rsa_der = rsa_key.private_bytes(DER, serialization.PrivateFormat.PKCS8, NONE)
    ec_pem = ec_key.private_bytes(PEM, serialization.PrivateFormat.TraditionalOpenSSL, NONE)
    ec_der = ec_key.private_bytes(DER, serialization.PrivateFormat.PKCS8, NONE)
    ed_openssh = ed_key.private_bytes(PEM, serialization.PrivateFormat.OpenSSH, NONE)
    ed_raw = ed_key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw, NONE)
    (tree / "server.key").write_bytes(rsa_pem)
    (tree / "legacy.pem").write_bytes(rsa_traditional)
    (tree / "server.der").write_bytes(rsa_der)
    (tree / "ec.key").write_bytes(ec_pem)
    (tree / "id_ed25519").write_bytes(ed_openssh)
    (tree / "bundle.p12").write_bytes(pkcs12.serialize_key_and_certificates(b"b", ec_key, None, None, NONE))
    # A damaged key: the parser fails on bytes that are mostly the real key's.
    lines = rsa_pem.decode().splitlines()
    lines[5] = lines[5][:10] + "!!!!" + lines[5][14:]
    (tree / "damaged.pem").write_text("\n".join(lines) + "\n")
    # A key inside a source file, seen through the PEM sniffing of files no rule names.
    (tree / "notes.txt").write_bytes(b"deploy key below\n" + ec_pem)
    # A certificate with its key in one file (as HAProxy wants it), and an encrypted key.
    cert_and_key = cert_pem(make_cert("combined.test", rsa_key)) + rsa_pem
    (tree / "haproxy.pem").write_bytes(cert_and_key)
    encrypted = ec_key.private_bytes(PEM, serialization.PrivateFormat.PKCS8,
                                     serialization.BestAvailableEncryption(b"secret"))
    (tree / "encrypted.key").write_bytes(encrypted)
    private_files = [p.read_bytes() for p in tree.iterdir()]
    private_ders = [
        rsa_der, ec_der,
        rsa_key.private_bytes(DER, serialization.PrivateFormat.TraditionalOpenSSL, NONE),
        ec_key.private_bytes(DER, serialization.PrivateFormat.TraditionalOpenSSL, NONE),
        ed_key.private_bytes(DER, serialization.PrivateFormat.PKCS8, NONE),
    ]

    private = rsa_key.private_numbers()
    needles = (
        _secret_renderings(rsa_pem, rsa_der, [private.d, private.p, private.q, private.dmp1, private.iqmp],
                           [])
        | _secret_renderings(rsa_traditional, rsa_der, [], [])
        | _secret_renderings(ec_pem, ec_der, [ec_key.private_numbers().private_value], [])
        | _secret_renderings(ed_openssh, b"", [], [ed_raw])
        | _digest_renderings(private_files + private_ders)
    )
    needles.discard("")

    out = tmp_path / "static.cdx.json"
    cli = carnot("scan", str(tree), "--out", str(out), "--json", "-v")
    assert cli.returncode == 0, cli.stderr
    with caplog.at_level(logging.DEBUG):
        scanned = scan_tree(tree)

    # The keys were found (so the test looks at output that is about them)...
    names = {c["name"] for c in scanned.of_type("related-crypto-material")}
    assert {"RSA-2048 private key", "ECDSA-secp256r1 private key", "Ed25519 private key"} <= names
    assert "broken PEM private key" in scanned.skip_reason("damaged.pem:1")
    assert scanned.by_name("combined.test")["evidence"]["occurrences"][0]["location"] == "haproxy.pem"
    # ...and none of their secret bytes is anywhere in what the scan produced.
    produced = {
        "shard (CLI)": out.read_text(),
        "shard (library)": scanned.raw,
        "stdout": cli.stdout,
        "stderr": cli.stderr,
        "log": caplog.text,
    }
    for where, text in produced.items():
        leaked = sorted(n for n in needles if n in text)
        assert not leaked, f"private key material in {where}: {leaked[:3]}"
    # Evidence from a file that holds a private key carries no digest at all.
    for component in scanned.components():
        for occurrence in component["evidence"]["occurrences"]:
            assert "sha256" not in json.loads(occurrence["additionalContext"]), occurrence


@pytest.mark.skipif(shutil.which("keytool") is None, reason="needs the JDK's keytool")
def test_keystore_keys_and_secrets_never_appear_and_keystores_with_keys_get_no_digest(
    tmp_path: Path, carnot, scan_tree, caplog
) -> None:
    tree = tmp_path / "estate"
    tree.mkdir()
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    source = tmp_path / "source.p12"
    source.write_bytes(pkcs12.serialize_key_and_certificates(
        b"web", rsa_key, make_cert("web.test", rsa_key), None, serialization.BestAvailableEncryption(b"changeit")))
    for store_type, name in (("JKS", "web.jks"), ("JCEKS", "web.jceks"), ("PKCS12", "web.p12")):
        subprocess.run(["keytool", "-importkeystore", "-srckeystore", str(source), "-srcstoretype", "PKCS12",
                        "-srcstorepass", "changeit", "-destkeystore", str(tree / name), "-deststoretype", store_type,
                        "-deststorepass", "changeit", "-destkeypass", "changeit", "-noprompt"],
                       capture_output=True, check=True)
    secret = "hunter2-session-secret-0123456789"
    subprocess.run(["keytool", "-importpass", "-alias", "session", "-keystore", str(tree / "web.jceks"),
                    "-storetype", "JCEKS", "-storepass", "changeit", "-keypass", "changeit"],
                   input=f"{secret}\n{secret}\n", text=True, capture_output=True, check=True)
    (tree / "open.p12").write_bytes(pkcs12.serialize_key_and_certificates(b"open", rsa_key, None, None, NONE))
    rsa_pem = rsa_key.private_bytes(PEM, serialization.PrivateFormat.PKCS8, NONE)
    rsa_der = rsa_key.private_bytes(DER, serialization.PrivateFormat.PKCS8, NONE)
    private = rsa_key.private_numbers()
    needles = (
        _secret_renderings(rsa_pem, rsa_der, [private.d, private.p, private.q, private.dmp1, private.iqmp],
                           [secret.encode(), secret.encode("utf-16-be")])
        | {secret}
        | _digest_renderings([p.read_bytes() for p in tree.iterdir()])
    )

    out = tmp_path / "static.cdx.json"
    cli = carnot("scan", str(tree), "--out", str(out), "--json", "-v")
    assert cli.returncode == 0, cli.stderr
    with caplog.at_level(logging.DEBUG):
        scanned = scan_tree(tree)

    # The key was found in every store that shows it without a password...
    key = scanned.by_name("RSA-2048 private key")
    assert {o["location"] for o in key["evidence"]["occurrences"]} == {"web.jks", "web.jceks", "open.p12"}
    assert "'session' is sealed" in scanned.skip_reason("web.jceks")
    # ...and none of its bytes, the secret's, or a digest of a store that holds them is anywhere.
    produced = {"shard (CLI)": out.read_text(), "shard (library)": scanned.raw, "stdout": cli.stdout,
                "stderr": cli.stderr, "log": caplog.text}
    for where, text in produced.items():
        leaked = sorted(n for n in needles if n in text)
        assert not leaked, f"key material in {where}: {leaked[:3]}"
    for component in scanned.components():
        for occurrence in component["evidence"]["occurrences"]:
            assert "sha256" not in json.loads(occurrence["additionalContext"]), occurrence
