"""The signing and trust flags shared by `bundle`, `verify`, `extract`, `site build` and `assess`."""

from __future__ import annotations

import argparse

from assess.errors import InputError
from assess.signing import Ed25519Signer, Ed25519Trust, Signer, Trust, load_private_key, load_public_key


def add_signing(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sign-key", metavar="FILE",
                        help="Ed25519 private key (PEM): sign every file of the bundle, its place in the history "
                             "and the manifest's head")
    parser.add_argument("--sign-keyless", action="store_true",
                        help="sign the same with Sigstore, keyless, as this CI job's OIDC identity (GitHub Actions "
                             "with id-token: write); the proofs are stored in the bundle and checked offline")


def signers(args: argparse.Namespace) -> list[Signer]:
    found: list[Signer] = []
    if args.sign_key:
        found.append(Ed25519Signer(load_private_key(args.sign_key)))
    if args.sign_keyless:
        from assess.keyless import ambient_signer

        found.append(ambient_signer())
    return found


def add_trust(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--public-key", metavar="FILE",
                        help="also verify the signatures (bundle.dsse.json, the manifest's head, "
                             "attestation.dsse.json) with this Ed25519 public key (PEM)")
    parser.add_argument("--certificate-identity", metavar="ID",
                        help="also verify the Sigstore keyless signatures (bundle.sigstore.json, the manifest's "
                             "head) as made by this identity, e.g. https://github.com/ORG/REPO/.github/workflows/"
                             "release.yml@refs/tags/v1.2.3")
    parser.add_argument("--certificate-oidc-issuer", metavar="URL",
                        help="the identity's OIDC issuer (default for keyless: GitHub Actions, "
                             "https://token.actions.githubusercontent.com)")
    parser.add_argument("--trusted-root", metavar="FILE",
                        help="a Sigstore trusted-root JSON for a private instance (default: Sigstore's public "
                             "instance, as shipped with sigstore-python; no network is used)")


def trust(args: argparse.Namespace) -> Trust | None:
    if args.public_key and args.certificate_identity:
        raise InputError("give --public-key or --certificate-identity, not both: one verifier trusts one signer")
    if args.public_key:
        return Ed25519Trust(load_public_key(args.public_key))
    if args.certificate_identity:
        from assess.keyless import GITHUB_ISSUER, sigstore_trust

        return sigstore_trust(args.certificate_identity, args.certificate_oidc_issuer or GITHUB_ISSUER,
                              args.trusted_root)
    if args.certificate_oidc_issuer or args.trusted_root:
        raise InputError("--certificate-oidc-issuer and --trusted-root need --certificate-identity")
    return None
