"""DSSE signing with Ed25519: PAE per the spec, verification, and tampering caught."""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from assess.attest import (
    ATTESTATION_DSSE,
    PAYLOAD_TYPE,
    attest_folder,
    read_folder_files,
    verify_attestation_files,
    verify_envelope,
)
from assess.errors import VerificationError
from assess.signing import load_private_key, load_public_key, pae, sign_envelope


def test_pae_matches_the_dsse_specification_example():
    # DSSE protocol.md: PAE("http://example.com/HelloWorld", "hello world")
    assert pae("http://example.com/HelloWorld", b"hello world") == (
        b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    )


def test_signed_attestation_verifies_and_carries_the_exact_statement_bytes(assessment, signing_key, carnot):
    private, public = signing_key
    done = carnot("attest", "--bom", str(assessment / "merged.cdx.json"), "--gate", str(assessment),
                  "--out", str(assessment), "--sign-key", str(private))
    assert done.returncode == 0, done.stderr
    envelope = json.loads((assessment / ATTESTATION_DSSE).read_text())
    assert envelope["payloadType"] == PAYLOAD_TYPE
    assert base64.b64decode(envelope["payload"]) == (assessment / "attestation.json").read_bytes()
    statement = verify_envelope(envelope, load_public_key(public))
    assert statement["_type"] == "https://in-toto.io/Statement/v1"
    assert verify_attestation_files(read_folder_files(assessment), load_public_key(public)) == []


def test_tampered_signature_is_caught(assessment, signing_key):
    private, public = signing_key
    attest_folder(assessment / "merged.cdx.json", assessment, assessment, sign_key=load_private_key(private))
    envelope = json.loads((assessment / ATTESTATION_DSSE).read_text())
    sig = bytearray(base64.b64decode(envelope["signatures"][0]["sig"]))
    sig[0] ^= 0x01
    envelope["signatures"][0]["sig"] = base64.b64encode(bytes(sig)).decode()
    with pytest.raises(VerificationError):
        verify_envelope(envelope, load_public_key(public))
    (assessment / ATTESTATION_DSSE).write_text(json.dumps(envelope))
    problems = verify_attestation_files(read_folder_files(assessment), load_public_key(public))
    assert problems and "no valid signature" in problems[0]


def test_tampered_payload_and_wrong_key_are_caught(assessment, signing_key):
    private, public = signing_key
    attest_folder(assessment / "merged.cdx.json", assessment, assessment, sign_key=load_private_key(private))
    envelope = json.loads((assessment / ATTESTATION_DSSE).read_text())
    with pytest.raises(VerificationError):
        verify_envelope(envelope, Ed25519PrivateKey.generate().public_key())
    statement = json.loads(base64.b64decode(envelope["payload"]))
    statement["predicate"]["policy"]["status"] = "pass"
    forged = dict(envelope, payload=base64.b64encode(json.dumps(statement).encode()).decode())
    with pytest.raises(VerificationError):
        verify_envelope(forged, load_public_key(public))
    # attestation.json edited on disk while the envelope stays intact
    (assessment / "attestation.json").write_text(json.dumps(statement))
    problems = verify_attestation_files(read_folder_files(assessment), load_public_key(public))
    assert any("differs from the payload signed" in p for p in problems)


def test_tampered_or_missing_attested_file_is_caught(assessment, signing_key):
    private, public = signing_key
    attest_folder(assessment / "merged.cdx.json", assessment, assessment, sign_key=load_private_key(private))
    files = read_folder_files(assessment)
    files["merged.cdx.json"] = files["merged.cdx.json"].replace(b"x25519", b"X25519MLKEM768", 1)
    del files["runtime/runtime.jsonl"]
    problems = verify_attestation_files(files, load_public_key(public))
    assert "attested file changed: merged.cdx.json" in problems
    assert "attested file missing: runtime/runtime.jsonl" in problems


def test_signing_is_deterministic_for_the_same_statement(signing_key):
    key = load_private_key(signing_key[0])
    assert sign_envelope(b'{"a": 1}', key) == sign_envelope(b'{"a": 1}', key)


def test_unsigned_rerun_removes_a_stale_envelope(assessment, signing_key):
    attest_folder(assessment / "merged.cdx.json", assessment, assessment,
                  sign_key=load_private_key(signing_key[0]))
    assert (assessment / ATTESTATION_DSSE).exists()
    attest_folder(assessment / "merged.cdx.json", assessment, assessment)
    assert not (assessment / ATTESTATION_DSSE).exists()


def test_a_non_ed25519_or_garbage_key_is_a_clean_error(assessment, tmp_path, carnot):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    ec_key = tmp_path / "ec.pem"
    ec_key.write_bytes(ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a key")
    for key, words in ((ec_key, "Ed25519"), (garbage, "PEM")):
        done = carnot("attest", "--bom", str(assessment / "merged.cdx.json"), "--gate", str(assessment),
                      "--out", str(assessment), "--sign-key", str(key))
        assert done.returncode == 2 and key.name in done.stderr and words in done.stderr
        assert "Traceback" not in done.stderr


def test_attestation_or_envelope_json_built_to_break_the_parser_is_a_problem_not_a_crash(assessment, signing_key):
    private, public = signing_key
    attest_folder(assessment / "merged.cdx.json", assessment, assessment, sign_key=load_private_key(private))
    files = read_folder_files(assessment)
    for hostile in (b"[" * 100_000 + b"]" * 100_000, b'{"_type": ' + b"9" * 4400 + b"}"):
        problems = verify_attestation_files({**files, "attestation.json": hostile}, None)
        assert len(problems) == 1 and problems[0].startswith("attestation.json: "), problems
        problems = verify_attestation_files({**files, ATTESTATION_DSSE: hostile}, load_public_key(public))
        assert len(problems) == 1 and problems[0].startswith(f"{ATTESTATION_DSSE}: "), problems
    signed_deep = sign_envelope(b"[" * 100_000 + b"]" * 100_000, load_private_key(private))
    with pytest.raises(VerificationError, match="nested deeper than 128"):
        verify_envelope(signed_deep, load_public_key(public))
