"""The simulated demo estate: a moto server on loopback seeded with a realistic sample of AWS crypto.

Everything collected from it is labelled `carnot:simulated = true` (each asset and the document).
It holds two accounts (the caller's and one reached by assume-role), three regions, classical and
post-quantum load-balancer policies, tagged and untagged KMS keys (some without rotation), imported
ACM certificates of several algorithms (one expiring within 30 days), API Gateway domains with and
without `_PQ_` policies, CloudFront distributions, an ACM PCA root CA and an IAM server certificate.
Starts in a few seconds: certificates are made with `cryptography` at start-up, keys are small.
"""

from __future__ import annotations

import logging
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from assess.errors import ConfigError
from assess.model import Shard
from assess.sources.aws.collect import InventoryConfig, collect

PRIMARY_ACCOUNT = "123456789012"  # moto's account for plain test credentials
SECONDARY_ACCOUNT = "210987654321"
SECONDARY_ROLE = f"arn:aws:iam::{SECONDARY_ACCOUNT}:role/CarnotInventoryReadOnly"
REGIONS: tuple[str, ...] = ("us-east-1", "eu-west-1", "ap-southeast-2")
# Fixed, obviously fake credentials for the loopback server: a user's real ones are never sent to it.
_ACCESS_KEY = "AKIASIMULATEDESTATE1"
_SECRET_KEY = "simulated-estate-not-a-secret"
_ID_SEED = 20250901


@dataclass(frozen=True)
class SimulatedEstate:
    endpoint_url: str
    regions: tuple[str, ...] = REGIONS
    role_arns: tuple[str, ...] = ()

    def session(self) -> boto3.Session:
        return simulated_session()

    def config(self, **overrides: Any) -> InventoryConfig:
        base: dict[str, Any] = {
            "regions": self.regions,
            "endpoint_url": self.endpoint_url,
            "simulated": True,
            "role_arns": self.role_arns,
        }
        return InventoryConfig(**{**base, **overrides})


def simulated_session(region: str = REGIONS[0]) -> boto3.Session:
    return boto3.Session(aws_access_key_id=_ACCESS_KEY, aws_secret_access_key=_SECRET_KEY, region_name=region)


@contextmanager
def moto_server() -> Iterator[str]:
    """A bare moto server on 127.0.0.1 and a free port; yields its endpoint URL."""
    try:
        from moto.server import ThreadedMotoServer
    except ImportError as e:
        raise ConfigError("the simulated AWS estate needs moto: pip install 'moto[server]>=5'") from e

    # werkzeug logs one line per request on stderr; the server is ours, its request log is noise.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@contextmanager
def simulated_estate() -> Iterator[SimulatedEstate]:
    """Start the moto server, seed the sample estate, yield where it is; stop it afterwards."""
    with moto_server() as url:
        # moto keeps its state per process: start from nothing, and draw ids from one seeded random
        # so that the same seed and order give the same ARNs every run.
        for call in ("reset", f"seed?a={_ID_SEED}"):
            urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/{call}", method="POST"))
        seed(url)
        _backdate_keys()
        # Both accounts: the caller's own, and the second one through assume-role.
        primary_role = f"arn:aws:iam::{PRIMARY_ACCOUNT}:role/CarnotInventoryReadOnly"
        yield SimulatedEstate(endpoint_url=url, role_arns=(primary_role, SECONDARY_ROLE))


def estate_day() -> datetime:
    """The estate's "today": midnight UTC of the run, so runs on one day give the same shard.

    The wall clock, not SOURCE_DATE_EPOCH: ACM (and moto) refuse to import an expired certificate,
    and the estate models a live account as it is today.
    """
    return datetime.now(tz=UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def _backdate_keys() -> None:
    # moto stamps each KMS key with the wall clock; the server is in this process, so give the keys
    # creation dates relative to the estate's day instead (realistic ages, same bytes every run).
    from moto.kms.models import kms_backends

    for account in (PRIMARY_ACCOUNT, SECONDARY_ACCOUNT):
        for region in REGIONS:
            keys = sorted(kms_backends[account][region].keys.values(), key=lambda k: k.id)
            for age, key in enumerate(keys):
                key.creation_date = (estate_day() - timedelta(days=90 + 211 * age)).timestamp()


def simulated_shard(**overrides: Any) -> Shard:
    """Inventory the simulated estate: the embedded default of `carnot assess`."""
    with simulated_estate() as estate:
        return collect(estate.config(**overrides), session=estate.session())


# --- seeding ------------------------------------------------------------------------------------


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Example Corp (simulated)"),
        ]
    )


def make_certificate(
    cn: str, key_kind: str, *, days_valid: int, sans: tuple[str, ...] = ()
) -> tuple[bytes, bytes]:
    """A self-signed certificate and its key as PEM, for importing into the simulated ACM/IAM only."""
    key: Any
    if key_kind.startswith("rsa"):
        key = rsa.generate_private_key(public_exponent=65537, key_size=int(key_kind[3:]))
        digest: hashes.SHA256 | hashes.SHA384 = hashes.SHA256()
    elif key_kind == "p256":
        key, digest = ec.generate_private_key(ec.SECP256R1()), hashes.SHA256()
    elif key_kind == "p384":
        key, digest = ec.generate_private_key(ec.SECP384R1()), hashes.SHA384()
    else:
        raise ValueError(f"unknown key kind {key_kind}")
    now = estate_day()
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(_name(cn))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=30))
        .not_valid_after(now + timedelta(days=days_valid))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in (cn, *sans)]), critical=False)
    )
    cert = builder.sign(key, digest)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def _tags(owner: str, data_class: str, years: int | None = None) -> list[dict[str, str]]:
    tags = [{"Key": "Owner", "Value": owner}, {"Key": "DataClassification", "Value": data_class}]
    if years is not None:
        tags.append({"Key": "DataShelfLifeYears", "Value": str(years)})
    return tags


class _Seeder:
    def __init__(self, session: boto3.Session, url: str) -> None:
        self.session = session
        self.url = url

    def client(self, service: str, region: str) -> Any:
        return self.session.client(service, region_name=region, endpoint_url=self.url)

    def kms_key(
        self,
        region: str,
        *,
        spec: str = "SYMMETRIC_DEFAULT",
        usage: str = "ENCRYPT_DECRYPT",
        alias: str | None = None,
        tags: list[dict[str, str]] | None = None,
        rotation: bool = False,
        description: str = "",
    ) -> str:
        kms = self.client("kms", region)
        params: dict[str, Any] = {"KeySpec": spec, "KeyUsage": usage, "Description": description}
        if tags:
            params["Tags"] = [{"TagKey": t["Key"], "TagValue": t["Value"]} for t in tags]
        key_id = kms.create_key(**params)["KeyMetadata"]["KeyId"]
        if alias:
            kms.create_alias(AliasName=f"alias/{alias}", TargetKeyId=key_id)
        if rotation:
            kms.enable_key_rotation(KeyId=key_id)
        return str(key_id)

    def acm_cert(
        self,
        region: str,
        cn: str,
        key_kind: str,
        *,
        days_valid: int,
        tags: list[dict[str, str]] | None = None,
    ) -> str:
        cert, key = make_certificate(cn, key_kind, days_valid=days_valid)
        params: dict[str, Any] = {"Certificate": cert, "PrivateKey": key}
        if tags:
            params["Tags"] = tags
        return str(self.client("acm", region).import_certificate(**params)["CertificateArn"])

    def subnets(self, region: str) -> list[str]:
        ec2 = self.client("ec2", region)
        vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
        zones = [z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"]][:2]
        return [
            ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.20.{i}.0/24", AvailabilityZone=zone)["Subnet"][
                "SubnetId"
            ]
            for i, zone in enumerate(zones)
        ]

    def alb(
        self,
        region: str,
        name: str,
        subnets: list[str],
        listeners: list[tuple[int, str, str, str]],
        *,
        kind: str = "application",
        tags: list[dict[str, str]] | None = None,
    ) -> None:
        elbv2 = self.client("elbv2", region)
        params: dict[str, Any] = {"Name": name, "Subnets": subnets, "Type": kind}
        if tags:
            params["Tags"] = tags
        lb = elbv2.create_load_balancer(**params)["LoadBalancers"][0]["LoadBalancerArn"]
        for port, protocol, policy, cert in listeners:
            elbv2.create_listener(
                LoadBalancerArn=lb,
                Protocol=protocol,
                Port=port,
                SslPolicy=policy,
                Certificates=[{"CertificateArn": cert}],
                DefaultActions=[{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "200"}}],
            )

    def classic_elb(
        self,
        region: str,
        name: str,
        cert: str,
        reference_policy: str,
        enabled: list[str],
        tags: list[dict[str, str]] | None = None,
    ) -> None:
        elb = self.client("elb", region)
        params: dict[str, Any] = {
            "LoadBalancerName": name,
            "AvailabilityZones": [f"{region}a"],
            "Listeners": [
                {
                    "Protocol": "HTTPS",
                    "LoadBalancerPort": 443,
                    "InstanceProtocol": "HTTP",
                    "InstancePort": 8080,
                    "SSLCertificateId": cert,
                }
            ],
        }
        if tags:
            params["Tags"] = tags
        elb.create_load_balancer(**params)
        attributes = [{"AttributeName": "Reference-Security-Policy", "AttributeValue": reference_policy}]
        attributes += [{"AttributeName": a, "AttributeValue": "true"} for a in enabled]
        elb.create_load_balancer_policy(
            LoadBalancerName=name,
            PolicyName=f"{name}-negotiation",
            PolicyTypeName="SSLNegotiationPolicyType",
            PolicyAttributes=attributes,
        )
        elb.set_load_balancer_policies_of_listener(
            LoadBalancerName=name,
            LoadBalancerPort=443,
            PolicyNames=[f"{name}-negotiation"],
        )

    def api_domain(
        self, region: str, name: str, cert: str, policy: str | None, tags: dict[str, str] | None = None
    ) -> None:
        params: dict[str, Any] = {
            "domainName": name,
            "regionalCertificateArn": cert,
            "endpointConfiguration": {"types": ["REGIONAL"]},
        }
        if policy:
            params["securityPolicy"] = policy
        if tags:
            params["tags"] = tags
        self.client("apigateway", region).create_domain_name(**params)

    def distribution(self, comment: str, viewer: dict[str, Any], aliases: list[str]) -> None:
        config: dict[str, Any] = {
            "CallerReference": comment,
            "Comment": comment,
            "Enabled": True,
            "Aliases": {"Quantity": len(aliases), "Items": aliases},
            "Origins": {
                "Quantity": 1,
                "Items": [
                    {
                        "Id": "origin",
                        "DomainName": "origin.example.com",
                        "CustomOriginConfig": {
                            "HTTPPort": 80,
                            "HTTPSPort": 443,
                            "OriginProtocolPolicy": "https-only",
                        },
                    }
                ],
            },
            "DefaultCacheBehavior": {
                "TargetOriginId": "origin",
                "ViewerProtocolPolicy": "redirect-to-https",
                "MinTTL": 0,
                "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
                "TrustedSigners": {"Enabled": False, "Quantity": 0},
            },
            "ViewerCertificate": viewer,
        }
        self.client("cloudfront", "us-east-1").create_distribution(DistributionConfig=config)


def seed(url: str) -> None:
    """Seed both accounts of the sample estate into the moto server at url."""
    primary = _Seeder(simulated_session(), url)
    sts = primary.client("sts", REGIONS[0])
    creds = sts.assume_role(RoleArn=SECONDARY_ROLE, RoleSessionName="carnot-estate-seed")["Credentials"]
    secondary = _Seeder(
        boto3.Session(
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
            region_name=REGIONS[0],
        ),
        url,
    )
    _seed_primary(primary)
    _seed_secondary(secondary)


def _seed_primary(s: _Seeder) -> None:
    use1, euw1, apse2 = REGIONS
    # KMS: tagged and untagged, rotation on and off, symmetric, RSA, ECC, HMAC.
    s.kms_key(
        use1,
        alias="payments-data",
        tags=_tags("payments", "restricted", 25),
        rotation=True,
        description="card data envelope key",
    )
    s.kms_key(use1, alias="orders-db", tags=_tags("orders", "confidential"), rotation=False)
    s.kms_key(use1, description="untagged legacy key", rotation=False)
    s.kms_key(
        use1,
        spec="RSA_2048",
        usage="SIGN_VERIFY",
        alias="release-signing",
        tags=_tags("platform", "internal"),
    )
    s.kms_key(use1, spec="ECC_NIST_P256", usage="SIGN_VERIFY", alias="jwt-signing")
    s.kms_key(
        use1,
        spec="HMAC_256",
        usage="GENERATE_VERIFY_MAC",
        alias="webhook-mac",
        tags=_tags("api", "internal", 3),
    )
    s.kms_key(euw1, alias="customer-pii", tags=_tags("crm", "confidential", 15), rotation=True)
    s.kms_key(euw1, description="untagged analytics export", rotation=False)
    s.kms_key(
        euw1,
        spec="RSA_4096",
        usage="ENCRYPT_DECRYPT",
        alias="partner-exchange",
        tags=_tags("b2b", "restricted"),
    )
    s.kms_key(apse2, alias="backup", tags=_tags("sre", "confidential", 10), rotation=True)
    s.kms_key(apse2, spec="ECC_NIST_P384", usage="SIGN_VERIFY", description="untagged signer")

    # ACM: imported certificates of several algorithms, one expiring within 30 days.
    shop = s.acm_cert(use1, "shop.example.com", "rsa2048", days_valid=20, tags=_tags("web", "internal"))
    api = s.acm_cert(use1, "api.example.com", "p256", days_valid=365, tags=_tags("api", "confidential"))
    legacy = s.acm_cert(use1, "legacy.example.com", "rsa2048", days_valid=700)
    pay = s.acm_cert(use1, "pay.example.com", "rsa3072", days_valid=398, tags=_tags("payments", "restricted"))
    eu = s.acm_cert(euw1, "eu.example.com", "p384", days_valid=200, tags=_tags("web", "internal"))
    eu_api = s.acm_cert(euw1, "api.eu.example.com", "rsa2048", days_valid=90)
    au = s.acm_cert(apse2, "au.example.com", "p256", days_valid=300)

    # Load balancers: hybrid post-quantum, FIPS-PQ, TLS 1.3-only PQ and classical policies.
    subnets = s.subnets(use1)
    s.alb(
        use1,
        "shop-alb",
        subnets,
        [(443, "HTTPS", "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09", shop)],
        tags=_tags("web", "internal"),
    )
    s.alb(
        use1,
        "payments-nlb",
        subnets,
        [(443, "TLS", "ELBSecurityPolicy-2016-08", pay)],
        kind="network",
        tags=_tags("payments", "restricted", 25),
    )
    s.alb(use1, "gov-alb", subnets, [(443, "HTTPS", "ELBSecurityPolicy-TLS13-1-2-FIPS-PQ-2025-09", api)])
    s.classic_elb(
        use1,
        "legacy-elb",
        legacy,
        "ELBSecurityPolicy-TLS-1-1-2017-01",
        ["Protocol-TLSv1.1", "Protocol-TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256", "AES128-SHA"],
        tags=_tags("legacy", "internal"),
    )
    subnets = s.subnets(euw1)
    s.alb(
        euw1,
        "eu-web-alb",
        subnets,
        [(443, "HTTPS", "ELBSecurityPolicy-TLS13-1-2-2021-06", eu)],
        tags=_tags("web", "internal"),
    )
    subnets = s.subnets(apse2)
    s.alb(apse2, "au-alb", subnets, [(443, "HTTPS", "ELBSecurityPolicy-TLS13-1-3-PQ-2025-09", au)])

    # API Gateway custom domains with and without post-quantum policies.
    s.api_domain(use1, "api.example.com", api, "SecurityPolicy_TLS13_1_2_PQ_2025_09", {"Owner": "api"})
    s.api_domain(use1, "legacy-api.example.com", legacy, "TLS_1_0")
    s.api_domain(
        euw1, "api.eu.example.com", eu_api, "TLS_1_2", {"Owner": "api", "DataClassification": "confidential"}
    )

    # CloudFront: a modern viewer policy with an ACM certificate, and the default certificate.
    s.distribution(
        "shop",
        {"ACMCertificateArn": shop, "SSLSupportMethod": "sni-only", "MinimumProtocolVersion": "TLSv1.2_2021"},
        ["www.example.com"],
    )
    s.distribution("static", {"CloudFrontDefaultCertificate": True, "MinimumProtocolVersion": "TLSv1"}, [])

    # ACM PCA: a private root CA.
    s.client("acm-pca", use1).create_certificate_authority(
        CertificateAuthorityConfiguration={
            "KeyAlgorithm": "RSA_4096",
            "SigningAlgorithm": "SHA512WITHRSA",
            "Subject": {
                "CommonName": "Example Corp Internal Root CA (simulated)",
                "Organization": "Example Corp",
            },
        },
        CertificateAuthorityType="ROOT",
        Tags=_tags("pki", "restricted", 30),
    )

    # IAM: a legacy server certificate.
    cert, key = make_certificate("old-www.example.com", "rsa2048", days_valid=500)
    s.client("iam", use1).upload_server_certificate(
        ServerCertificateName="old-www",
        CertificateBody=cert.decode(),
        PrivateKey=key.decode(),
    )


def _seed_secondary(s: _Seeder) -> None:
    euw1 = REGIONS[1]
    s.kms_key(euw1, alias="analytics-lake", tags=_tags("data", "confidential", 7), rotation=True)
    s.kms_key(euw1, description="untagged notebook key", rotation=False)
    lake = s.acm_cert(euw1, "lake.example.com", "rsa2048", days_valid=180, tags=_tags("data", "internal"))
    subnets = s.subnets(euw1)
    s.alb(euw1, "lake-alb", subnets, [(443, "HTTPS", "ELBSecurityPolicy-TLS-1-2-2017-01", lake)])
