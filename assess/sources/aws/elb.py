"""Load balancer HTTPS/TLS listeners (ELBv2 and classic ELB) -> protocol assets with their policy.

ELBv2 policies are resolved with `describe_ssl_policies` (one call per region for all the policy
names in use); classic ELB listeners with `describe_load_balancer_policies` (the listener's
SSLNegotiationPolicyType policy and its Reference-Security-Policy).
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from assess.model import Asset
from assess.sources.aws.policies import TlsPolicy, classic_elb_policy, elb_policy, protocol_asset
from assess.sources.aws.scope import Scope
from assess.sources.aws.session import Api, error_code
from assess.sources.aws.tags import tag_map

SERVICE = "elb"
REGIONAL = True
SECURE_V2 = frozenset({"HTTPS", "TLS"})
SECURE_CLASSIC = frozenset({"HTTPS", "SSL"})
_TAG_BATCH = 20  # DescribeTags takes at most 20 load balancers per call


def fetch(api: Api) -> list[dict[str, Any]]:
    return _fetch_v2(api) + _fetch_classic(api)


def _fetch_v2(api: Api) -> list[dict[str, Any]]:
    balancers = [
        lb for page in api.pages("elbv2", "describe_load_balancers") for lb in page.get("LoadBalancers", [])
    ]
    tags: dict[str, list[dict[str, str]]] = {}
    arns = [lb["LoadBalancerArn"] for lb in balancers]
    for i in range(0, len(arns), _TAG_BATCH):
        for desc in api.call("elbv2", "describe_tags", ResourceArns=arns[i : i + _TAG_BATCH]).get(
            "TagDescriptions", []
        ):
            tags[desc["ResourceArn"]] = desc.get("Tags", [])

    def listeners(lb: dict[str, Any]) -> list[dict[str, Any]]:
        return [
            {
                "Kind": "elbv2",
                "LoadBalancer": lb,
                "Listener": listener,
                "Tags": tags.get(lb["LoadBalancerArn"], []),
            }
            for page in api.pages("elbv2", "describe_listeners", LoadBalancerArn=lb["LoadBalancerArn"])
            for listener in page.get("Listeners", [])
            if listener.get("Protocol") in SECURE_V2
        ]

    records = [r for group in api.each(listeners, balancers) for r in group]
    names = sorted({r["Listener"]["SslPolicy"] for r in records if r["Listener"].get("SslPolicy")})
    described = _describe_ssl_policies(api, names)
    for r in records:
        r["SslPolicy"] = described.get(r["Listener"].get("SslPolicy", ""))
    return records


def _describe_ssl_policies(api: Api, names: list[str]) -> dict[str, dict[str, Any]]:
    if not names:
        return {}
    try:
        found = [
            p
            for page in api.pages("elbv2", "describe_ssl_policies", Names=names)
            for p in page.get("SslPolicies", [])
        ]
    except ClientError as e:
        if error_code(e) != "SSLPolicyNotFound":
            raise
        if len(names) == 1:
            return {}  # a policy the API does not know: it is read from its name alone
        # One unknown name fails the whole call: ask one by one, keep what resolves.
        return {k: v for name in names for k, v in _describe_ssl_policies(api, [name]).items()}
    return {p["Name"]: p for p in found}


def _fetch_classic(api: Api) -> list[dict[str, Any]]:
    balancers = [
        lb
        for page in api.pages("elb", "describe_load_balancers")
        for lb in page.get("LoadBalancerDescriptions", [])
    ]
    tags: dict[str, list[dict[str, str]]] = {}
    names = [lb["LoadBalancerName"] for lb in balancers]
    for i in range(0, len(names), _TAG_BATCH):
        for desc in api.call("elb", "describe_tags", LoadBalancerNames=names[i : i + _TAG_BATCH]).get(
            "TagDescriptions", []
        ):
            tags[desc["LoadBalancerName"]] = desc.get("Tags", [])

    def listeners(lb: dict[str, Any]) -> list[dict[str, Any]]:
        out = []
        for description in lb.get("ListenerDescriptions", []):
            listener = description.get("Listener", {})
            if listener.get("Protocol", "").upper() not in SECURE_CLASSIC:
                continue
            policy_names = description.get("PolicyNames", [])
            policies = (
                api.call(
                    "elb",
                    "describe_load_balancer_policies",
                    LoadBalancerName=lb["LoadBalancerName"],
                    PolicyNames=policy_names,
                ).get("PolicyDescriptions", [])
                if policy_names
                else []
            )
            negotiation = [p for p in policies if p.get("PolicyTypeName") == "SSLNegotiationPolicyType"]
            out.append(
                {
                    "Kind": "elb",
                    "LoadBalancer": lb,
                    "Listener": listener,
                    "NegotiationPolicy": negotiation[0] if negotiation else None,
                    "Tags": tags.get(lb["LoadBalancerName"], []),
                }
            )
        return out

    return [r for group in api.each(listeners, balancers) for r in group]


def to_assets(records: list[dict[str, Any]], scope: Scope) -> list[Asset]:
    return [_v2_asset(r, scope) if r["Kind"] == "elbv2" else _classic_asset(r, scope) for r in records]


def _v2_asset(record: dict[str, Any], scope: Scope) -> Asset:
    lb, listener = record["LoadBalancer"], record["Listener"]
    policy_name = listener.get("SslPolicy")
    policy = elb_policy(policy_name, record.get("SslPolicy")) if policy_name else TlsPolicy(name="")
    certs = ",".join(c.get("CertificateArn", "") for c in listener.get("Certificates", []))
    return protocol_asset(
        scope,
        arn=listener["ListenerArn"],
        name=f"{lb['LoadBalancerName']}:{listener['Port']} ({listener['Protocol']}, {lb.get('Type')})",
        service="elbv2",
        policy=policy,
        tags=tag_map(record.get("Tags")),
        context=f"elbv2:DescribeListeners certificates={certs}" if certs else "elbv2:DescribeListeners",
    )


def _classic_asset(record: dict[str, Any], scope: Scope) -> Asset:
    lb, listener = record["LoadBalancer"], record["Listener"]
    negotiation = record.get("NegotiationPolicy")
    policy = (
        classic_elb_policy(negotiation["PolicyName"], negotiation.get("PolicyAttributeDescriptions", []))
        if negotiation
        else TlsPolicy(name="", pq_hybrid=False, resolved_by="none")
    )
    name = lb["LoadBalancerName"]
    arn = f"arn:aws:elasticloadbalancing:{scope.region}:{scope.account}:loadbalancer/{name}"
    port = listener.get("LoadBalancerPort")
    cert = listener.get("SSLCertificateId")
    return protocol_asset(
        scope,
        arn=f"{arn}#listener/{port}",
        name=f"{name}:{port} ({listener.get('Protocol')}, classic)",
        service="elb",
        policy=policy,
        tags=tag_map(record.get("Tags")),
        context=f"elb:DescribeLoadBalancerPolicies certificate={cert}"
        if cert
        else "elb:DescribeLoadBalancers",
    )
