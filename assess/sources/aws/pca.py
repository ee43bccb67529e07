"""ACM Private CA certificate authorities -> CA certificate assets."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from assess.model import Asset
from assess.sources.aws.certificates import CertificateFacts, as_datetime, certificate_asset, key_algorithm
from assess.sources.aws.scope import Scope
from assess.sources.aws.session import Api, describe_error
from assess.sources.aws.tags import tag_map

SERVICE = "acm-pca"
REGIONAL = True


def fetch(api: Api) -> list[dict[str, Any]]:
    cas = [
        ca
        for page in api.pages(SERVICE, "list_certificate_authorities")
        for ca in page.get("CertificateAuthorities", [])
    ]

    def detail(ca: dict[str, Any]) -> dict[str, Any]:
        try:
            tags = [
                t
                for page in api.pages(SERVICE, "list_tags", CertificateAuthorityArn=ca["Arn"])
                for t in page.get("Tags", [])
            ]
        except ClientError as e:
            api.skip(ca["Arn"], f"tags not read: {describe_error(e)}")
            tags = []
        return {"CertificateAuthority": ca, "Tags": tags}

    return api.each(detail, cas)


def _subject(subject: dict[str, Any]) -> str | None:
    order = [("CommonName", "CN"), ("Organization", "O"), ("OrganizationalUnit", "OU"), ("Country", "C")]
    parts = [f"{short}={subject[key]}" for key, short in order if subject.get(key)]
    return ",".join(parts) or None


def to_assets(records: list[dict[str, Any]], scope: Scope) -> list[Asset]:
    assets = []
    for record in records:
        ca = record["CertificateAuthority"]
        config = ca.get("CertificateAuthorityConfiguration", {})
        subject = _subject(config.get("Subject", {}))
        facts = CertificateFacts(
            subject=subject,
            issuer=subject if ca.get("Type") == "ROOT" else None,
            not_before=as_datetime(ca.get("NotBefore")),
            not_after=as_datetime(ca.get("NotAfter")),
            public_key=key_algorithm(config["KeyAlgorithm"]) if config.get("KeyAlgorithm") else None,
            signature=config.get("SigningAlgorithm"),
            is_ca=True,
        )
        assets.append(
            certificate_asset(
                scope,
                arn=ca["Arn"],
                name=f"{subject or ca['Arn']} (ACM PCA {str(ca.get('Type', '')).lower()} CA)",
                service=SERVICE,
                facts=facts,
                tags=tag_map(record.get("Tags")),
                context=f"acm-pca:ListCertificateAuthorities {ca.get('Status', '')}".strip(),
            )
        )
    return assets
