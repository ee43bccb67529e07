"""`carnot verify BUNDLE --public-key FILE` also checks the signed attestation inside the bundle
(the bundle's own signature is tested in tests/test_bundle_trust.py)."""

from __future__ import annotations

import base64
import json

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from assess.attest import attest_folder
from assess.bundle import bundle_folder
from assess.signing import Ed25519Signer, load_private_key


def _attest(folder, key) -> None:
    attest_folder(folder / "merged.cdx.json", folder, folder, sign_key=load_private_key(key))


def _bundle(folder, dist, key=None):
    return dist / bundle_folder(folder, dist, signers=[Ed25519Signer(load_private_key(key))] if key else ()).bundle


def test_signed_bundle_verifies_with_the_public_key(assessment, signing_key, tmp_path, carnot):
    private, public = signing_key
    _attest(assessment, private)
    bundle = _bundle(assessment, tmp_path / "dist", private)
    done = carnot("verify", str(bundle), "--public-key", str(public))
    assert done.returncode == 0, done.stderr


def test_a_forged_signature_in_a_consistently_rebuilt_bundle_fails_only_the_signature_check(
    assessment, signing_key, tmp_path, carnot
):
    private, public = signing_key
    _attest(assessment, private)
    envelope_path = assessment / "attestation.dsse.json"
    envelope = json.loads(envelope_path.read_text())
    sig = bytearray(base64.b64decode(envelope["signatures"][0]["sig"]))
    sig[-1] ^= 0x80
    envelope["signatures"][0]["sig"] = base64.b64encode(bytes(sig)).decode()
    envelope_path.write_text(json.dumps(envelope))
    # An attacker who rebuilds bundle and manifest passes the hash checks...
    bundle = _bundle(assessment, tmp_path / "dist")
    assert carnot("verify", str(bundle)).returncode == 0
    # ...but not the signatures: the bundle's is missing, the attestation's does not verify.
    done = carnot("verify", str(bundle), "--public-key", str(public))
    assert done.returncode == 1
    assert "the bundle is not signed" in done.stderr
    assert "attestation" in done.stderr and "no valid signature" in done.stderr


def test_an_attested_file_changed_before_bundling_or_a_wrong_key_fails(
    assessment, signing_key, tmp_path, carnot
):
    _attest(assessment, signing_key[0])
    (assessment / "opa_summary.json").write_text('{"by_rule": {}}')
    bundle = _bundle(assessment, tmp_path / "dist", signing_key[0])
    done = carnot("verify", str(bundle), "--public-key", str(signing_key[1]))
    assert done.returncode == 1 and "attested file changed: opa_summary.json" in done.stderr

    other = tmp_path / "other.pub.pem"
    other.write_bytes(Ed25519PrivateKey.generate().public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    assert carnot("verify", str(bundle), "--public-key", str(other)).returncode == 1
