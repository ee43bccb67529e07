"""API Gateway custom domain names -> protocol assets with their securityPolicy (incl. `_PQ_`)."""

from __future__ import annotations

from typing import Any

from assess.model import Asset
from assess.sources.aws.policies import TlsPolicy, apigateway_policy, protocol_asset
from assess.sources.aws.scope import Scope
from assess.sources.aws.session import Api
from assess.sources.aws.tags import tag_map

SERVICE = "apigateway"
REGIONAL = True


def fetch(api: Api) -> list[dict[str, Any]]:
    # get_domain_names carries tags and the security policy inline: no per-domain calls.
    return [
        {"DomainName": d} for page in api.pages(SERVICE, "get_domain_names") for d in page.get("items", [])
    ]


def to_assets(records: list[dict[str, Any]], scope: Scope) -> list[Asset]:
    assets = []
    for record in records:
        domain = record["DomainName"]
        name = domain["domainName"]
        arn = domain.get("domainNameArn") or f"arn:aws:apigateway:{scope.region}::/domainnames/{name}"
        # A domain that states no securityPolicy gets no guessed one: the asset says only what AWS said.
        stated = domain.get("securityPolicy")
        policy = apigateway_policy(stated) if stated else TlsPolicy(name="", resolved_by="none")
        cert = domain.get("regionalCertificateArn") or domain.get("certificateArn")
        endpoint = ",".join((domain.get("endpointConfiguration") or {}).get("types") or [])
        assets.append(
            protocol_asset(
                scope,
                arn=arn,
                name=f"{name} (API Gateway {endpoint.lower() or 'custom'} domain)",
                service=SERVICE,
                policy=policy,
                tags=tag_map(domain.get("tags")),
                context=f"apigateway:GetDomainNames certificate={cert}"
                if cert
                else "apigateway:GetDomainNames",
            )
        )
    return assets
