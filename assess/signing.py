"""DSSE envelopes signed with Ed25519, and the Signer/Trust seam bundles are signed and verified through.

A DSSE envelope (github.com/secure-systems-lab/dsse, protocol v1) carries a payload, its type,
and signatures over PAE(type, payload), so a signature can never be replayed as another type of
document. Keys are PEM files; the key id is the SHA-256 of the public key's SubjectPublicKeyInfo.

Bundles and manifest heads are signed by a `Signer` and checked against a `Trust`: Ed25519 here
(a consultant's offline key), Sigstore keyless in `assess.keyless` (a CI workflow's identity).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from assess.errors import InputError, VerificationError
from assess.fsio import MAX_CONFIG_BYTES, parse_json_bytes, read_bounded

INTOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json"


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE v1 pre-authentication encoding: "DSSEv1" SP len(type) SP type SP len(body) SP body."""
    kind = payload_type.encode("utf-8")
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


def key_id(public_key: Ed25519PublicKey) -> str:
    spki = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(spki).hexdigest()


def sign_envelope(payload: bytes, private_key: Ed25519PrivateKey,
                  payload_type: str = INTOTO_PAYLOAD_TYPE) -> dict[str, Any]:
    """A DSSE envelope over payload; Ed25519 is deterministic, so the envelope is too."""
    signature = base64.b64encode(private_key.sign(pae(payload_type, payload))).decode("ascii")
    return {
        "payload": base64.b64encode(payload).decode("ascii"),
        "payloadType": payload_type,
        "signatures": [{"keyid": key_id(private_key.public_key()), "sig": signature}],
    }


def open_envelope(envelope: Any, public_key: Ed25519PublicKey, payload_type: str) -> bytes:
    """The payload of a DSSE envelope of payload_type that public_key signed; VerificationError otherwise."""
    try:
        payload = base64.b64decode(envelope["payload"], validate=True)
        found_type = envelope["payloadType"]
        signatures = envelope["signatures"]
    except (KeyError, TypeError, ValueError, binascii.Error) as e:
        raise VerificationError("not a DSSE envelope (payload, payloadType, signatures)") from e
    if found_type != payload_type:
        raise VerificationError(f"unexpected payloadType {str(found_type)[:80]!r}, expected {payload_type}")
    wanted = key_id(public_key)
    message = pae(payload_type, payload)
    for entry in signatures if isinstance(signatures, list) else []:
        if not isinstance(entry, Mapping) or entry.get("keyid") not in (None, "", wanted):
            continue
        try:
            public_key.verify(base64.b64decode(str(entry.get("sig", "")), validate=True), message)
        except (InvalidSignature, ValueError):
            continue
        return payload
    raise VerificationError(f"no valid signature by key {wanted[:16]}…")


def load_private_key(path: str | Path) -> Ed25519PrivateKey:
    p = Path(path)
    try:
        key = serialization.load_pem_private_key(read_bounded(p, MAX_CONFIG_BYTES, "a key"), password=None)
    except (ValueError, TypeError) as e:
        raise InputError(f"not an unencrypted PEM private key: {e}", path=p) from e
    if not isinstance(key, Ed25519PrivateKey):
        raise InputError(f"signing needs an Ed25519 key, this is {type(key).__name__}", path=p)
    return key


def load_public_key(path: str | Path) -> Ed25519PublicKey:
    p = Path(path)
    try:
        key = serialization.load_pem_public_key(read_bounded(p, MAX_CONFIG_BYTES, "a key"))
    except (ValueError, TypeError) as e:
        raise InputError(f"not a PEM public key: {e}", path=p) from e
    if not isinstance(key, Ed25519PublicKey):
        raise InputError(f"signatures are verified with an Ed25519 key, this is {type(key).__name__}", path=p)
    return key


# --- signers and trust: how a bundle or a manifest head is signed, and whom a verifier trusts ------

class Signer(Protocol):
    """Signs an in-toto statement; `kind` names the signature file (`bundle.<kind>.json`) and the
    manifest's head field (`head_<kind>`)."""

    kind: str

    def sign(self, statement: bytes) -> bytes:
        """The signature document (JSON bytes) over the statement's exact bytes."""
        ...


class Trust(Protocol):
    """What a verifier trusts: opens a signature document of its kind, giving the signed statement."""

    kind: str
    description: str

    def open(self, document: bytes) -> bytes:
        """The statement the document signs, if the trusted signer signed it; VerificationError otherwise."""
        ...


@dataclass(frozen=True)
class Ed25519Signer:
    """A consultant's offline key: a DSSE envelope (bundle.dsse.json)."""

    key: Ed25519PrivateKey
    kind: str = "dsse"

    def sign(self, statement: bytes) -> bytes:
        return (json.dumps(sign_envelope(statement, self.key), sort_keys=True, indent=2) + "\n").encode("utf-8")


@dataclass(frozen=True)
class Ed25519Trust:
    public_key: Ed25519PublicKey
    kind: str = "dsse"

    @property
    def description(self) -> str:
        return f"Ed25519 key {key_id(self.public_key)}"

    def open(self, document: bytes) -> bytes:
        try:
            envelope = parse_json_bytes(document, "the signature")
        except InputError as e:
            raise VerificationError(f"the signature is not JSON Carnot reads: {e.message}") from e
        return open_envelope(envelope, self.public_key, INTOTO_PAYLOAD_TYPE)
