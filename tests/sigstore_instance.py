"""A Sigstore instance of the tests' own, in memory: a certificate authority (Fulcio's role), a
certificate-transparency log and a transparency log (Rekor's), whose trusted root sigstore-python
loads like the public one's.

`LocalSigstore.signer(identity)` signs as `assess.keyless.SigstoreSigner` does in CI — a DSSE
envelope over the statement, by a short-lived key certified for an OIDC identity, logged with an
inclusion proof, a signed checkpoint and a signed entry timestamp — and returns the same Sigstore
bundle JSON. Nothing on the verifying side is replaced: sigstore-python checks every signature,
the certificate chain and SCT, and the log proofs, offline, exactly as for the public instance.

Formats: RFC 6962 (SCTs), the Sigstore bundle v0.3 and trusted-root v0.1 schemas
(sigstore/protobuf-specs), Rekor v1's `dsse` entry and checkpoint (signed note) formats.
"""

from __future__ import annotations

import base64
import hashlib
import json
import struct
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import rfc8785
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID, NameOID, ObjectIdentifier

from assess.signing import INTOTO_PAYLOAD_TYPE, pae

ISSUER = "https://token.actions.githubusercontent.com"
FULCIO_ISSUER_V1 = ObjectIdentifier("1.3.6.1.4.1.57264.1.1")  # raw issuer URL
FULCIO_ISSUER_V2 = ObjectIdentifier("1.3.6.1.4.1.57264.1.8")  # DER UTF8String issuer URL
LOG_ORIGIN = "log.carnot.test"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _spki(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _der_length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def _ecdsa(key: ec.EllipticCurvePrivateKey, data: bytes) -> bytes:
    return key.sign(data, ec.ECDSA(hashes.SHA256()))


@dataclass
class LocalSigstore:
    now: datetime = field(default_factory=lambda: datetime.now(tz=UTC).replace(microsecond=0))
    ca_key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    ct_key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    log_key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))

    def __post_init__(self) -> None:
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "carnot test CA"),
                          x509.NameAttribute(NameOID.ORGANIZATION_NAME, "carnot tests")])
        self.ca = (
            x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(self.ca_key.public_key())
            .serial_number(1)
            .not_valid_before(self.now - timedelta(days=1)).not_valid_after(self.now + timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(self.ca_key.public_key()), critical=False)
            .sign(self.ca_key, hashes.SHA256())
        )
        self.log_id = hashlib.sha256(_spki(self.log_key)).digest()

    def trusted_root(self, path: Path) -> Path:
        """The instance's trusted-root JSON, as `carnot verify --trusted-root` reads it."""
        def log(key: ec.EllipticCurvePrivateKey, url: str) -> dict[str, object]:
            return {"baseUrl": url, "hashAlgorithm": "SHA2_256",
                    "publicKey": {"rawBytes": _b64(_spki(key)), "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                                  "validFor": {"start": (self.now - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")}},
                    "logId": {"keyId": _b64(hashlib.sha256(_spki(key)).digest())}}
        root = {
            "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
            "tlogs": [log(self.log_key, f"https://{LOG_ORIGIN}")],
            "ctlogs": [log(self.ct_key, "https://ct.carnot.test")],
            "certificateAuthorities": [{
                "subject": {"organization": "carnot tests", "commonName": "carnot test CA"},
                "uri": "https://ca.carnot.test",
                "certChain": {"certificates": [{"rawBytes": _b64(self.ca.public_bytes(serialization.Encoding.DER))}]},
                "validFor": {"start": (self.now - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")},
            }],
        }
        path.write_text(json.dumps(root, indent=2))
        return path

    def _leaf(self, key: ec.EllipticCurvePrivateKey, identity: str) -> x509.Certificate:
        """A ten-minute code-signing certificate for identity, with an embedded SCT from the CT log."""
        builder = (
            x509.CertificateBuilder().subject_name(x509.Name([])).issuer_name(self.ca.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(self.now - timedelta(minutes=1)).not_valid_after(self.now + timedelta(minutes=10))
            .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False)
            .add_extension(x509.SubjectAlternativeName([x509.UniformResourceIdentifier(identity)]), critical=True)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.ca_key.public_key()),
                           critical=False)
            .add_extension(x509.UnrecognizedExtension(FULCIO_ISSUER_V1, ISSUER.encode()), critical=False)
            .add_extension(x509.UnrecognizedExtension(
                FULCIO_ISSUER_V2, b"\x0c" + _der_length(len(ISSUER)) + ISSUER.encode()), critical=False)
        )
        # RFC 6962 3.2: the log signs the precertificate's TBS, i.e. the certificate without the SCT list.
        tbs = builder.sign(self.ca_key, hashes.SHA256()).tbs_certificate_bytes
        when = int(self.now.timestamp() * 1000)
        issuer_key_hash = hashlib.sha256(_spki(self.ca_key)).digest()
        signed = struct.pack("!BBQH", 0, 0, when, 1) + issuer_key_hash + len(tbs).to_bytes(3, "big") + tbs + b"\0\0"
        signature = _ecdsa(self.ct_key, signed)
        sct = (b"\0" + hashlib.sha256(_spki(self.ct_key)).digest() + struct.pack("!QH", when, 0)
               + struct.pack("!BBH", 4, 3, len(signature)) + signature)  # sha256, ecdsa
        sct_list = struct.pack("!HH", len(sct) + 2, len(sct)) + sct
        octets = b"\x04" + _der_length(len(sct_list)) + sct_list
        leaf = builder.add_extension(
            x509.UnrecognizedExtension(ExtensionOID.PRECERT_SIGNED_CERTIFICATE_TIMESTAMPS, octets), critical=False
        ).sign(self.ca_key, hashes.SHA256())
        assert leaf.tbs_precertificate_bytes == tbs
        return leaf

    def _log(self, body: bytes) -> dict[str, object]:
        """Enter body as the only entry of a log of its own: inclusion proof, signed checkpoint, signed
        entry timestamp (a one-entry tree keeps the proof trivial; the signatures are all real)."""
        leaf_hash = hashlib.sha256(b"\0" + body).digest()
        integrated = int(self.now.timestamp())
        note = f"{LOG_ORIGIN}\n1\n{_b64(leaf_hash)}\n"
        checkpoint = f"{note}\n— {LOG_ORIGIN} {_b64(self.log_id[:4] + _ecdsa(self.log_key, note.encode()))}\n"
        promise = rfc8785.dumps({"body": _b64(body), "integratedTime": integrated, "logID": self.log_id.hex(),
                                 "logIndex": 0})
        return {
            "logIndex": "0", "logId": {"keyId": _b64(self.log_id)},
            "kindVersion": {"kind": "dsse", "version": "0.0.1"}, "integratedTime": str(integrated),
            "canonicalizedBody": _b64(body),
            "inclusionPromise": {"signedEntryTimestamp": _b64(_ecdsa(self.log_key, promise))},
            "inclusionProof": {"logIndex": "0", "rootHash": _b64(leaf_hash), "treeSize": "1",
                               "hashes": [], "checkpoint": {"envelope": checkpoint}},
        }

    def sign(self, statement: bytes, identity: str) -> bytes:
        """A Sigstore bundle (JSON) of a DSSE envelope over statement, signed as identity."""
        key = ec.generate_private_key(ec.SECP256R1())
        leaf = self._leaf(key, identity)
        signature = _ecdsa(key, pae(INTOTO_PAYLOAD_TYPE, statement))
        envelope = {"payload": _b64(statement), "payloadType": INTOTO_PAYLOAD_TYPE,
                    "signatures": [{"sig": _b64(signature)}]}
        pem = leaf.public_bytes(serialization.Encoding.PEM)
        body = rfc8785.dumps({"apiVersion": "0.0.1", "kind": "dsse", "spec": {
            "envelopeHash": {"algorithm": "sha256", "value": hashlib.sha256(rfc8785.dumps(envelope)).hexdigest()},
            "payloadHash": {"algorithm": "sha256", "value": hashlib.sha256(statement).hexdigest()},
            "signatures": [{"signature": _b64(signature), "verifier": _b64(pem)}]}})
        bundle = {
            "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
            "verificationMaterial": {"certificate": {"rawBytes": _b64(leaf.public_bytes(serialization.Encoding.DER))},
                                     "tlogEntries": [self._log(body)]},
            "dsseEnvelope": envelope,
        }
        return json.dumps(bundle, indent=2).encode("utf-8")

    def signer(self, identity: str) -> LocalSigner:
        return LocalSigner(self, identity)


@dataclass(frozen=True)
class LocalSigner:
    """An `assess.signing.Signer` of kind "sigstore" backed by the local instance."""

    instance: LocalSigstore
    identity: str
    kind: str = "sigstore"

    def sign(self, statement: bytes) -> bytes:
        return self.instance.sign(statement, self.identity)
