"""Builders for the static-scan tests: certificates made with `cryptography`, and `Scanned`, a shard
as written by the real CBOM writer and read back validated, with the lookups the tests need."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID

UTC = dt.UTC


def make_cert(subject: str, key: Any, *, issuer: str | None = None, issuer_key: Any = None, ca: bool = False,
              not_after: dt.datetime | None = None, digest: Any = "sha256") -> x509.Certificate:
    hash_algorithm = {"sha256": hashes.SHA256(), "sha384": hashes.SHA384(), None: None}[digest]
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer or subject)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(dt.datetime(2025, 1, 1, tzinfo=UTC))
        .not_valid_after(not_after or dt.datetime(2027, 1, 1, tzinfo=UTC))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    return builder.sign(issuer_key or key, hash_algorithm)


def cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


@dataclass
class Scanned:
    """A scan's shard as written and read back, with lookups the tests need."""

    doc: dict[str, Any]
    raw: str
    skipped: list[dict[str, str]]

    def components(self) -> list[dict[str, Any]]:
        return list(self.doc.get("components", []))

    def props(self, component: dict[str, Any]) -> dict[str, str]:
        return {p["name"]: p["value"] for p in component.get("properties", [])}

    def by_name(self, name: str) -> dict[str, Any]:
        found = [c for c in self.components() if c["name"] == name]
        assert len(found) == 1, f"{name!r}: {[c['name'] for c in self.components()]}"
        return found[0]

    def of_type(self, asset_type: str) -> list[dict[str, Any]]:
        return [c for c in self.components() if c["cryptoProperties"]["assetType"] == asset_type]

    @staticmethod
    def occurrences(component: dict[str, Any]) -> list[tuple[str, int | None]]:
        return sorted((o["location"], o.get("line")) for o in component["evidence"]["occurrences"])

    @staticmethod
    def evidence_digests(component: dict[str, Any]) -> dict[str, str]:
        return {o["location"]: json.loads(o["additionalContext"])["sha256"]
                for o in component["evidence"]["occurrences"]}

    def skip_reason(self, location: str) -> str:
        reasons = [s["reason"] for s in self.skipped if s["location"] == location]
        assert reasons, f"{location} not skipped; skipped: {self.skipped}"
        return reasons[0]
