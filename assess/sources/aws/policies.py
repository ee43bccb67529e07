"""What AWS TLS security policies allow: ELB (v2 and classic), API Gateway and CloudFront.

ELB policies are resolved through `describe_ssl_policies` (protocols and ciphers, from the API);
no AWS API states key-exchange groups, so those come from AWS documentation, quoted here:
- ELB: "Security policies with PQ in their names offer hybrid post-quantum key exchange ... The
  hybrid post-quantum policies support SecP256r1MLKEM768, SecP384r1MLKEM1024 and X25519MLKEM768"
  (Elastic Load Balancing user guide, "Security policies", 2025). Classical groups are not listed
  there, so a policy's classical groups are left out rather than guessed.
- API Gateway: policies whose name contains `PQ` use hybrid post-quantum key exchange; the guide
  does not list the groups, so only `pq_hybrid` is stated.
- CloudFront: viewer TLS 1.3 offers X25519MLKEM768 and SecP256r1MLKEM768 besides prime256v1,
  X25519 and secp384r1, whatever the security policy (CloudFront developer guide, "Supported
  protocols and ciphers between viewers and CloudFront"); MinimumProtocolVersion sets the versions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cyclonedx.model.crypto import (
    CryptoAssetType,
    CryptoProperties,
    ProtocolProperties,
    ProtocolPropertiesCipherSuite,
    ProtocolPropertiesType,
)

from assess.model import Asset, Prop
from assess.sources.aws.scope import Scope
from assess.tlsnames import iana_cipher_suite, is_pq_group, normalise_group

ELB_PQ_GROUPS: tuple[str, ...] = ("X25519MLKEM768", "SecP256r1MLKEM768", "SecP384r1MLKEM1024")
CLOUDFRONT_GROUPS: tuple[str, ...] = (
    "X25519MLKEM768",
    "SecP256r1MLKEM768",
    "x25519",
    "secp256r1",
    "secp384r1",
)

_VERSION_ORDER = ("SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")
_CDX_VERSION = {"SSLv3": "3.0", "TLSv1": "1.0", "TLSv1.1": "1.1", "TLSv1.2": "1.2", "TLSv1.3": "1.3"}
_ELB_PQ = re.compile(r"(^|[-_])PQ([-_]|$)")

# CloudFront viewer security policy (MinimumProtocolVersion) -> protocols it allows.
CLOUDFRONT_VERSIONS: dict[str, tuple[str, ...]] = {
    "SSLv3": ("SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"),
    "TLSv1": ("TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"),
    "TLSv1_2016": ("TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"),
    "TLSv1.1_2016": ("TLSv1.1", "TLSv1.2", "TLSv1.3"),
    "TLSv1.2_2018": ("TLSv1.2", "TLSv1.3"),
    "TLSv1.2_2019": ("TLSv1.2", "TLSv1.3"),
    "TLSv1.2_2021": ("TLSv1.2", "TLSv1.3"),
    "TLSv1.2_2025": ("TLSv1.2", "TLSv1.3"),
    "TLSv1.3_2025": ("TLSv1.3",),
}

# API Gateway securityPolicy -> protocols it allows (API Gateway developer guide, "Supported
# security policies"); enhanced policies are read from their name: TLS13_1_3 = TLS 1.3 only,
# TLS13_1_2 = TLS 1.2 and 1.3; the _EDGE ones likewise by their TLS12/TLS13 prefix.
APIGATEWAY_LEGACY_VERSIONS: dict[str, tuple[str, ...]] = {
    "TLS_1_0": ("TLSv1", "TLSv1.1", "TLSv1.2"),
    "TLS_1_2": ("TLSv1.2",),
}


@dataclass(frozen=True)
class TlsPolicy:
    """What a named TLS security policy allows. None means not stated anywhere we can read."""

    name: str
    versions: tuple[str, ...] | None = None
    cipher_suites: tuple[str, ...] | None = None  # IANA names, in the policy's preference order
    groups: tuple[str, ...] | None = None  # IANA group names
    pq_hybrid: bool | None = None
    fips: bool = False
    resolved_by: str = "name"  # "describe_ssl_policies", "policy-attributes", "documentation", "name"

    @property
    def highest_version(self) -> str | None:
        """The highest version as CycloneDX protocolProperties.version wants it: `1.2`, `1.3`."""
        if not self.versions:
            return None
        known = [v for v in self.versions if v in _CDX_VERSION]
        return _CDX_VERSION[max(known, key=_VERSION_ORDER.index)] if known else None


def sort_versions(versions: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    known = [v for v in _VERSION_ORDER if v in versions]
    return tuple(known + sorted(v for v in versions if v not in _VERSION_ORDER))


def elb_is_pq(policy_name: str) -> bool:
    return bool(_ELB_PQ.search(policy_name))


def elb_policy(name: str, described: dict | None) -> TlsPolicy:  # type: ignore[type-arg]
    """An ELBv2 policy from its `describe_ssl_policies` entry (None when the API did not know it)."""
    pq = elb_is_pq(name)
    groups = ELB_PQ_GROUPS if pq else None
    fips = "FIPS" in name.upper()
    if described is None:
        return TlsPolicy(
            name=name, versions=_versions_from_elb_name(name), groups=groups, pq_hybrid=pq, fips=fips
        )
    ciphers = sorted(described.get("Ciphers", []), key=lambda c: c.get("Priority", 0))
    return TlsPolicy(
        name=name,
        versions=sort_versions(list(described.get("SslProtocols", []))),
        cipher_suites=tuple(iana_cipher_suite(c["Name"]) for c in ciphers if c.get("Name")),
        groups=groups,
        pq_hybrid=pq,
        fips=fips,
        resolved_by="describe_ssl_policies",
    )


def _versions_from_elb_name(name: str) -> tuple[str, ...] | None:
    # ELBSecurityPolicy-TLS13-1-2-... allows TLS 1.2 up to 1.3; the name is AWS's own convention.
    m = re.search(r"TLS13-1-(\d)", name)
    if m:
        low = f"TLSv1.{m.group(1)}" if m.group(1) != "0" else "TLSv1"
        return _VERSION_ORDER[_VERSION_ORDER.index(low) :]
    return None


def classic_elb_policy(policy_name: str, attributes: list[dict]) -> TlsPolicy:  # type: ignore[type-arg]
    """A classic ELB SSLNegotiationPolicyType from its PolicyAttributeDescriptions."""
    enabled = {a.get("AttributeName", ""): a.get("AttributeValue", "") for a in attributes}
    reference = enabled.get("Reference-Security-Policy")
    versions = [
        k.removeprefix("Protocol-") for k, v in enabled.items() if k.startswith("Protocol-") and v == "true"
    ]
    suites = [
        iana_cipher_suite(k)
        for k, v in enabled.items()
        if v == "true" and not k.startswith("Protocol-") and k not in ("Server-Defined-Cipher-Order",)
    ]
    name = reference or policy_name
    return TlsPolicy(
        name=name,
        versions=sort_versions(versions) if versions else None,
        cipher_suites=tuple(suites) if suites else None,
        # Classic Load Balancers offer no post-quantum key exchange (AWS: PQ policies are ELBv2 only).
        pq_hybrid=False,
        resolved_by="policy-attributes",
    )


def apigateway_policy(security_policy: str) -> TlsPolicy:
    name = security_policy
    upper = name.upper()
    pq = "_PQ_" in f"_{upper}_"
    versions: tuple[str, ...] | None = APIGATEWAY_LEGACY_VERSIONS.get(name)
    if versions is None:
        if "TLS13_1_3" in upper or upper.startswith("SECURITYPOLICY_TLS13_2025"):
            versions = ("TLSv1.3",)
        elif "TLS13_1_2" in upper or upper.startswith("SECURITYPOLICY_TLS12"):
            versions = ("TLSv1.2", "TLSv1.3")
    return TlsPolicy(
        name=name, versions=versions, pq_hybrid=pq, fips="FIPS" in upper, resolved_by="documentation"
    )


def cloudfront_policy(minimum_protocol_version: str) -> TlsPolicy:
    versions = CLOUDFRONT_VERSIONS.get(minimum_protocol_version)
    offers_tls13 = versions is not None and "TLSv1.3" in versions
    groups = CLOUDFRONT_GROUPS if offers_tls13 else None
    return TlsPolicy(
        name=minimum_protocol_version,
        versions=versions,
        groups=groups,
        pq_hybrid=any(is_pq_group(g) for g in groups) if groups else None,
        resolved_by="documentation",
    )


def normalised_groups(groups: tuple[str, ...] | None) -> tuple[str, ...] | None:
    return tuple(normalise_group(g) for g in groups) if groups else None


def protocol_asset(
    scope: Scope,
    *,
    arn: str,
    name: str,
    service: str,
    policy: TlsPolicy,
    tags: dict[str, str] | None,
    context: str,
) -> Asset:
    """A TLS endpoint (listener, distribution, domain) with what its security policy allows."""
    groups = normalised_groups(policy.groups)
    crypto = CryptoProperties(
        asset_type=CryptoAssetType.PROTOCOL,
        protocol_properties=ProtocolProperties(
            type=ProtocolPropertiesType.TLS,
            version=policy.highest_version,
            cipher_suites=[ProtocolPropertiesCipherSuite(name=s) for s in policy.cipher_suites or ()],
        ),
    )
    return scope.asset(
        kind="aws-tls-endpoint",
        arn=arn,
        name=name,
        service=service,
        crypto=crypto,
        facts={
            Prop.TLS_POLICY: policy.name or None,
            Prop.TLS_VERSIONS: policy.versions,
            Prop.TLS_CIPHER_SUITES: policy.cipher_suites,
            Prop.TLS_GROUPS: groups,
            Prop.TLS_PQ_HYBRID: policy.pq_hybrid,
        },
        tags=tags,
        context=f"{context}; policy resolved by {policy.resolved_by}",
    )
