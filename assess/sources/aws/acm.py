"""ACM certificates -> certificate assets (key and signature algorithm, validity, in-use-by)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from assess.model import Asset, Prop
from assess.sources.aws.certificates import CertificateFacts, as_datetime, certificate_asset, key_algorithm
from assess.sources.aws.scope import Scope
from assess.sources.aws.session import Api, describe_error
from assess.sources.aws.tags import tag_map

SERVICE = "acm"
REGIONAL = True

# ListCertificates returns only RSA_1024/RSA_2048 certificates unless asked for every key type.
ALL_KEY_TYPES = [
    "RSA_1024",
    "RSA_2048",
    "RSA_3072",
    "RSA_4096",
    "EC_prime256v1",
    "EC_secp384r1",
    "EC_secp521r1",
]


def fetch(api: Api) -> list[dict[str, Any]]:
    arns = [
        c["CertificateArn"]
        for page in api.pages(SERVICE, "list_certificates", Includes={"keyTypes": ALL_KEY_TYPES})
        for c in page.get("CertificateSummaryList", [])
    ]

    def detail(arn: str) -> dict[str, Any] | None:
        try:
            certificate = api.call(SERVICE, "describe_certificate", CertificateArn=arn)["Certificate"]
            tags = api.call(SERVICE, "list_tags_for_certificate", CertificateArn=arn).get("Tags", [])
        except ClientError as e:
            api.skip(arn, describe_error(e))
            return None
        return {"Certificate": certificate, "Tags": tags}

    return [r for r in api.each(detail, arns) if r is not None]


def to_assets(records: list[dict[str, Any]], scope: Scope) -> list[Asset]:
    return [certificate(r, scope) for r in records]


def certificate(record: dict[str, Any], scope: Scope) -> Asset:
    cert = record["Certificate"]
    facts = CertificateFacts(
        subject=cert.get("Subject") or (f"CN={cert['DomainName']}" if cert.get("DomainName") else None),
        issuer=cert.get("Issuer"),
        not_before=as_datetime(cert.get("NotBefore")),
        not_after=as_datetime(cert.get("NotAfter")),
        public_key=key_algorithm(cert["KeyAlgorithm"]) if cert.get("KeyAlgorithm") else None,
        signature=cert.get("SignatureAlgorithm"),
        is_ca=False,
    )
    kind = str(cert.get("Type", "")).lower()
    label = cert.get("DomainName") or cert["CertificateArn"]
    return certificate_asset(
        scope,
        arn=cert["CertificateArn"],
        name=f"{label} (ACM {kind})" if kind else label,
        service=SERVICE,
        facts=facts,
        tags=tag_map(record.get("Tags")),
        extra={Prop.AWS_IN_USE_BY: sorted(cert.get("InUseBy") or []) or None},
        context=f"acm:DescribeCertificate {cert.get('KeyAlgorithm', '')} {cert.get('Status', '')}".strip(),
    )
