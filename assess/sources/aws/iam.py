"""IAM server certificates -> certificate assets, read from their public PEM body."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from assess.model import Asset
from assess.sources.aws.certificates import certificate_asset, facts_from_pem
from assess.sources.aws.scope import Scope
from assess.sources.aws.session import Api, describe_error
from assess.sources.aws.tags import tag_map

SERVICE = "iam"
REGIONAL = False


def fetch(api: Api) -> list[dict[str, Any]]:
    names = [
        m["ServerCertificateName"]
        for page in api.pages(SERVICE, "list_server_certificates")
        for m in page.get("ServerCertificateMetadataList", [])
    ]

    def detail(name: str) -> dict[str, Any] | None:
        try:
            cert = api.call(SERVICE, "get_server_certificate", ServerCertificateName=name)[
                "ServerCertificate"
            ]
        except ClientError as e:
            api.skip(f"iam server certificate {name}", describe_error(e))
            return None
        # Only the public body is kept; IAM never returns the private key, and the chain is not needed.
        return {
            "ServerCertificateMetadata": cert["ServerCertificateMetadata"],
            "CertificateBody": cert["CertificateBody"],
            "Tags": cert.get("Tags", []),
        }

    return [r for r in api.each(detail, names) if r is not None]


def to_assets(records: list[dict[str, Any]], scope: Scope) -> list[Asset]:
    assets = []
    for record in records:
        meta = record["ServerCertificateMetadata"]
        assets.append(
            certificate_asset(
                scope,
                arn=meta["Arn"],
                name=f"{meta['ServerCertificateName']} (IAM server certificate)",
                service=SERVICE,
                facts=facts_from_pem(record["CertificateBody"]),
                tags=tag_map(record.get("Tags")),
                context="iam:GetServerCertificate",
            )
        )
    return assets
