"""Sigstore keyless signing and offline verification (sigstore-python): the CI signer of bundles.

In GitHub Actions (a job with `permissions: id-token: write`) the workflow's own OIDC identity
gets a short-lived certificate from Fulcio; the in-toto statement is signed as DSSE and logged
in Rekor, and the Sigstore bundle — certificate, signature, the Rekor entry with its inclusion
proof and signed checkpoint — is stored in the assessment bundle as `bundle.sigstore.json`.

Verification needs no network: the trust root is the one sigstore-python ships for Sigstore's
public instance (or a trusted-root JSON given for a private one), and the bundle carries every
proof. The verifier must name whose signature it accepts: the certificate identity (for GitHub
Actions, the workflow's URL at a ref) and the OIDC issuer.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assess.errors import CarnotError, InputError, VerificationError
from assess.signing import INTOTO_PAYLOAD_TYPE

GITHUB_ISSUER = "https://token.actions.githubusercontent.com"


class KeylessError(CarnotError):
    """Keyless signing could not happen here (no ambient identity, Sigstore unreachable)."""


@dataclass(frozen=True)
class SigstoreSigner:
    """Signs with the ambient OIDC identity through Sigstore's public instance."""

    signer: Any  # sigstore.sign.Signer, holding the certificate for this run
    kind: str = "sigstore"

    def sign(self, statement: bytes) -> bytes:
        from sigstore.dsse import Statement
        from sigstore.errors import Error

        try:
            return str(self.signer.sign_dsse(Statement(statement)).to_json()).encode("utf-8")
        except Error as e:
            raise KeylessError(f"Sigstore signing failed: {e}") from e


def ambient_signer() -> SigstoreSigner:
    """A signer for this CI job's identity; KeylessError where there is none (not in CI, no id-token)."""
    from sigstore.errors import Error
    from sigstore.models import ClientTrustConfig
    from sigstore.oidc import IdentityToken, detect_credential
    from sigstore.sign import SigningContext

    try:
        token = detect_credential()
    except Error as e:
        raise KeylessError(f"no OIDC identity for keyless signing: {e}") from e
    if token is None:
        raise KeylessError("no OIDC identity for keyless signing here: run in GitHub Actions with "
                           "`permissions: id-token: write` (or sign with --sign-key)")
    try:
        context = SigningContext.from_trust_config(ClientTrustConfig.production())
        with context.signer(IdentityToken(token)) as signer:
            return SigstoreSigner(signer)
    except Error as e:
        raise KeylessError(f"cannot reach Sigstore to sign: {e}") from e


@dataclass(frozen=True)
class SigstoreTrust:
    """Accepts DSSE statements signed keyless by one identity, checked offline against a trust root."""

    identity: str
    issuer: str
    trusted_root: Any  # sigstore.models.TrustedRoot
    kind: str = "sigstore"

    @property
    def description(self) -> str:
        return f"Sigstore identity {self.identity} (issuer {self.issuer})"

    def open(self, document: bytes) -> bytes:
        from sigstore.errors import Error
        from sigstore.models import Bundle
        from sigstore.verify import Verifier
        from sigstore.verify.policy import Identity

        try:
            bundle = Bundle.from_json(document)
            payload_type, payload = Verifier(trusted_root=self.trusted_root).verify_dsse(
                bundle, Identity(identity=self.identity, issuer=self.issuer))
        except (Error, ValueError) as e:
            raise VerificationError(f"the Sigstore signature does not verify: {str(e)[:300]}") from e
        if payload_type != INTOTO_PAYLOAD_TYPE:
            raise VerificationError(f"unexpected payloadType {payload_type[:80]!r}, expected {INTOTO_PAYLOAD_TYPE}")
        return bytes(payload)


def sigstore_trust(identity: str, issuer: str, trusted_root: str | Path | None = None) -> SigstoreTrust:
    """Trust in `identity` from `issuer`, under Sigstore's public trust root as shipped (no network)
    or the trusted-root JSON of another instance."""
    from sigstore.errors import Error
    from sigstore.models import ClientTrustConfig, TrustedRoot

    try:
        if trusted_root is not None:
            root = TrustedRoot.from_file(str(trusted_root))
        else:
            logging.getLogger("sigstore").setLevel(logging.ERROR)  # "offline mode" is what we want
            root = ClientTrustConfig.production(offline=True).trusted_root
    except (Error, ValueError, OSError) as e:
        raise InputError(f"not a Sigstore trusted root: {str(e)[:200]}",
                         path=trusted_root if trusted_root is not None else None) from e
    return SigstoreTrust(identity, issuer, root)
