"""CloudFront distributions -> protocol assets: the viewer security policy (MinimumProtocolVersion).

The distribution's certificate is an ACM certificate in us-east-1 or an IAM server certificate,
inventoried by those collectors; the distribution names it in its evidence context.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from assess.model import Asset
from assess.sources.aws.policies import cloudfront_policy, protocol_asset
from assess.sources.aws.scope import Scope
from assess.sources.aws.session import Api, describe_error
from assess.sources.aws.tags import tag_map

SERVICE = "cloudfront"
REGIONAL = False


def fetch(api: Api) -> list[dict[str, Any]]:
    distributions = [
        d
        for page in api.pages(SERVICE, "list_distributions")
        for d in (page.get("DistributionList", {}).get("Items") or [])
    ]

    def detail(distribution: dict[str, Any]) -> dict[str, Any]:
        try:
            tags = api.call(SERVICE, "list_tags_for_resource", Resource=distribution["ARN"])["Tags"].get(
                "Items", []
            )
        except ClientError as e:
            api.skip(distribution["ARN"], f"tags not read: {describe_error(e)}")
            tags = []
        return {"Distribution": distribution, "Tags": tags}

    return api.each(detail, distributions)


def _certificate(viewer: dict[str, Any]) -> str:
    if viewer.get("ACMCertificateArn"):
        return f"acm {viewer['ACMCertificateArn']}"
    if viewer.get("IAMCertificateId"):
        return f"iam {viewer['IAMCertificateId']}"
    return "cloudfront default certificate (*.cloudfront.net)"


def to_assets(records: list[dict[str, Any]], scope: Scope) -> list[Asset]:
    assets = []
    for record in records:
        dist = record["Distribution"]
        viewer = dist.get("ViewerCertificate", {})
        minimum = viewer.get("MinimumProtocolVersion") or "TLSv1"
        aliases = (dist.get("Aliases") or {}).get("Items") or []
        assets.append(
            protocol_asset(
                scope,
                arn=dist["ARN"],
                name=f"{aliases[0] if aliases else dist.get('DomainName')} (CloudFront {dist['Id']})",
                service=SERVICE,
                policy=cloudfront_policy(minimum),
                tags=tag_map(record.get("Tags")),
                context=f"cloudfront:ListDistributions viewer certificate: {_certificate(viewer)}",
            )
        )
    return assets
