"""Fixtures: an assessment folder built from the contracts, and an Ed25519 signing key pair."""

from __future__ import annotations

from pathlib import Path

import pytest
from attest_fixtures import write_assessment
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


@pytest.fixture
def assessment(tmp_path: Path) -> Path:
    return write_assessment(tmp_path / "assessment")


@pytest.fixture
def signing_key(tmp_path: Path) -> tuple[Path, Path]:
    key = Ed25519PrivateKey.generate()
    private = tmp_path / "attest.key.pem"
    public = tmp_path / "attest.pub.pem"
    private.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    public.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                     serialization.PublicFormat.SubjectPublicKeyInfo))
    return private, public
