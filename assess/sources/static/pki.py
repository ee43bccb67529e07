"""The detector for certificate and key files: PEM (any number of blocks), DER, OpenSSH (PKCS#12
stores are the `keystores` detector's).

Blocks are routed to `certs` and `keys`. Failures become `Skipped` entries whose reasons are
written here, never taken from a parser's exception text, because a key parser's message could
quote the bytes it choked on.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dh
from cryptography.hazmat.primitives.serialization import pkcs7

from assess.sources.static.algorithms import algorithm_asset
from assess.sources.static.certs import certificate_asset
from assess.sources.static.interface import Finding, NotText, ScannedFile, suffix_of
from assess.sources.static.keys import key_asset

SUFFIXES = frozenset({
    ".pem", ".crt", ".cer", ".cert", ".der", ".key", ".p7b", ".p7c", ".p8", ".pk8",
    ".ca-bundle", ".csr",
})
# SSH private keys by their conventional names (id_rsa, ssh_host_ed25519_key, ...).
KEY_NAMES = frozenset({"id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", "id_ecdsa_sk", "id_ed25519_sk"})
# Files a PEM reader must accept even when they are binary: DER has no text form.
_BINARY_OK = frozenset({".der", ".cer", ".crt", ".cert", ".key", ".p7b", ".p8", ".pk8"})
_PEM_MARK = b"-----BEGIN "
_CERT_LABELS = frozenset({"CERTIFICATE", "X509 CERTIFICATE", "TRUSTED CERTIFICATE"})
_PRIVATE_LABELS = frozenset({"PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY", "DSA PRIVATE KEY"})
_PUBLIC_LABELS = frozenset({"PUBLIC KEY", "RSA PUBLIC KEY"})
_ENCRYPTED = "encrypted private key (no password given): type and size not read"


@dataclass(frozen=True)
class PemBlock:
    label: str
    line: int  # of the BEGIN line, 1-based
    text: str  # BEGIN to END inclusive, for cryptography's PEM loaders
    encrypted: bool  # legacy "Proc-Type: 4,ENCRYPTED" header


class PkiDetector:
    name = "certificates and keys"

    def wants(self, name: str, head: bytes) -> bool:
        suffix = suffix_of(name)
        return (
            suffix in SUFFIXES
            or name in KEY_NAMES
            or (name.startswith("ssh_host_") and name.endswith("_key"))
            or _PEM_MARK in head
        )

    def detect(self, file: ScannedFile) -> Iterator[Finding]:
        suffix = suffix_of(file.name)
        if _PEM_MARK in file.data:
            try:
                text = file.text()
            except NotText as e:
                if suffix not in _BINARY_OK:
                    yield file.skipped(f"not PEM text: {e}")
                    return
            else:
                yield from _pem_findings(file, text)
                return
        if not file.data.strip():
            yield file.skipped("empty file")
            return
        if b"\x00" in file.data[:8192] or _looks_der(file.data):
            yield from _der_findings(file, suffix)
            return
        if suffix == ".csr":
            return
        yield file.skipped("no PEM block, DER structure or PKCS#12 store found")


def pem_blocks(text: str) -> Iterator[PemBlock | tuple[int, str]]:
    """PEM blocks with their line numbers; (line, reason) for a block that never ends."""
    label: str | None = None
    start = 0
    lines: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if label is None:
            if line.startswith("-----BEGIN ") and line.endswith("-----"):
                label, start, lines = line[len("-----BEGIN "):-5].strip(), number, [line]
            continue
        lines.append(line)
        if line.startswith("-----END ") and line.endswith("-----"):
            end_label = line[len("-----END "):-5].strip()
            if end_label == label:
                yield PemBlock(label, start, "\n".join(lines) + "\n",
                               any(x.startswith("Proc-Type:") and "ENCRYPTED" in x for x in lines))
            else:
                yield start, f"PEM block {_quoted(label)} ends with END {_quoted(end_label)}"
            label = None
        elif line.startswith("-----BEGIN "):
            yield start, f"PEM block {_quoted(label)} has no END line before the next BEGIN"
            label, start, lines = line[len("-----BEGIN "):-5].strip(), number, [line]
    if label is not None:
        yield start, f"PEM block {_quoted(label)} has no END line"


def _pem_findings(file: ScannedFile, text: str) -> Iterator[Finding]:
    for block in pem_blocks(text):
        if isinstance(block, tuple):
            yield file.skipped(f"broken PEM: {block[1]}", block[0])
            continue
        data = block.text.encode("ascii", "replace")
        ev = file.evidence(block.line, block.label)
        if block.label in _CERT_LABELS:
            try:
                cert = x509.load_der_x509_certificate(_pem_body(block.text))
                yield certificate_asset(cert, ev)
            except (ValueError, UnsupportedAlgorithm, binascii.Error) as e:
                yield file.skipped(f"broken PEM certificate: {_short(e)}", block.line)
        elif block.label == "PKCS7":
            try:
                for cert in pkcs7.load_pem_pkcs7_certificates(data):
                    yield certificate_asset(cert, ev)
            except (ValueError, UnsupportedAlgorithm) as e:
                yield file.skipped(f"broken PKCS#7 certificate bundle: {_short(e)}", block.line)
        elif block.label in _PRIVATE_LABELS:
            if block.encrypted:
                yield file.skipped(_ENCRYPTED, block.line)
                continue
            try:
                key = serialization.load_pem_private_key(data, password=None)
            except TypeError:
                yield file.skipped(_ENCRYPTED, block.line)
                continue
            except (ValueError, UnsupportedAlgorithm):
                yield file.skipped("broken PEM private key: not a readable key encoding", block.line)
                continue
            yield key_asset(key, private=True, evidence=ev)
        elif block.label == "ENCRYPTED PRIVATE KEY":
            yield file.skipped(_ENCRYPTED, block.line)
        elif block.label == "OPENSSH PRIVATE KEY":
            try:
                ssh_key = serialization.load_ssh_private_key(data, password=None)
            except TypeError:
                yield file.skipped("encrypted OpenSSH private key: type and size not read", block.line)
                continue
            except (ValueError, UnsupportedAlgorithm):
                yield file.skipped("broken OpenSSH private key: not a readable key encoding", block.line)
                continue
            yield key_asset(ssh_key, private=True, evidence=ev)
        elif block.label in _PUBLIC_LABELS:
            try:
                public = serialization.load_pem_public_key(data)
            except (ValueError, UnsupportedAlgorithm):
                yield file.skipped("broken PEM public key", block.line)
                continue
            yield key_asset(public, private=False, evidence=ev)
        elif block.label == "DH PARAMETERS":
            try:
                params = serialization.load_pem_parameters(data)
            except (ValueError, UnsupportedAlgorithm):
                yield file.skipped("broken PEM DH parameters", block.line)
                continue
            if isinstance(params, dh.DHParameters):
                bits = params.parameter_numbers().p.bit_length()
                yield algorithm_asset("DH", ev, bits=bits)


def _der_findings(file: ScannedFile, suffix: str) -> Iterator[Finding]:
    ev = file.evidence(None, "DER")
    try:
        cert = x509.load_der_x509_certificate(file.data)
    except (ValueError, UnsupportedAlgorithm):
        pass
    else:
        yield certificate_asset(cert, ev)
        return
    try:
        key = serialization.load_der_private_key(file.data, password=None)
    except TypeError:
        yield file.skipped("encrypted DER private key (no password given): type and size not read")
        return
    except (ValueError, UnsupportedAlgorithm):
        pass
    else:
        yield key_asset(key, private=True, evidence=ev)
        return
    try:
        public = serialization.load_der_public_key(file.data)
    except (ValueError, UnsupportedAlgorithm):
        pass
    else:
        yield key_asset(public, private=False, evidence=ev)
        return
    try:
        certs = pkcs7.load_der_pkcs7_certificates(file.data)
    except (ValueError, UnsupportedAlgorithm):
        pass
    else:
        for cert in certs:
            yield certificate_asset(cert, ev)
        return
    if suffix in _BINARY_OK:
        yield file.skipped(f"binary content in a {suffix} file is not a DER certificate or key")
    else:
        yield file.skipped("binary file with a certificate or key name: not PEM, DER or PKCS#12")


def _pem_body(block: str) -> bytes:
    body = "".join(line for line in block.splitlines()[1:-1] if ":" not in line)
    return base64.b64decode(body, validate=True)


def _looks_der(data: bytes) -> bool:
    # A DER SEQUENCE with a long-form length is how every certificate and key starts.
    return len(data) > 4 and data[0] == 0x30 and data[1] in (0x81, 0x82, 0x83)


def _quoted(label: str) -> str:
    """A label read from the file, quoted and bounded for a skip reason (a hostile line can be megabytes)."""
    return repr(label[:64])


def _short(e: Exception) -> str:
    text = " ".join(str(e).split())
    return text[:160] if text else type(e).__name__
