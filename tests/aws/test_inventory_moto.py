"""The AWS inventory against moto in-process (`mock_aws`): every resource kind, paging, throttling,
a failing region, two accounts through assume-role."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from aws_testing import FAST_RETRY, Body, Throttler, session_with
from botocore.awsrequest import AWSResponse
from botocore.exceptions import EndpointConnectionError
from moto import mock_aws

from assess.cbom import read_cbom, write_shard
from assess.merge import merge_documents
from assess.model import Asset, Prop, Shard
from assess.sources.aws import InventoryConfig, RetryPolicy, collect
from assess.sources.aws.estate import _Seeder, _tags

REGIONS = ("us-east-1", "eu-west-1")


def by_service(shard: Shard, service: str) -> list[Asset]:
    return [a for a in shard.assets if a.prop(Prop.AWS_SERVICE) == service]


def one(assets: list[Asset], name_part: str) -> Asset:
    found = [a for a in assets if name_part in a.name]
    assert len(found) == 1, (name_part, [a.name for a in assets])
    return found[0]


@pytest.fixture
def aws() -> Any:
    with mock_aws():
        yield _Seeder(boto3.Session(region_name="us-east-1"), None)  # type: ignore[arg-type]


def test_every_resource_kind_is_found_with_its_fields(aws: _Seeder, tmp_path: Any) -> None:
    kms_id = aws.kms_key(
        "us-east-1", alias="payments", tags=_tags("payments", "restricted", 25), rotation=True
    )
    aws.kms_key("us-east-1", description="untagged, rotation off")
    aws.kms_key("eu-west-1", spec="RSA_3072", usage="SIGN_VERIFY", alias="signer")
    aws.kms_key("eu-west-1", spec="ECC_NIST_P384", usage="KEY_AGREEMENT")
    rsa = aws.acm_cert(
        "us-east-1", "shop.example.com", "rsa2048", days_valid=20, tags=_tags("web", "internal")
    )
    p384 = aws.acm_cert("eu-west-1", "eu.example.com", "p384", days_valid=200)
    subnets = aws.subnets("us-east-1")
    aws.alb(
        "us-east-1", "pq-alb", subnets, [(443, "HTTPS", "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09", rsa)]
    )
    aws.alb(
        "us-east-1", "fips-alb", subnets, [(443, "HTTPS", "ELBSecurityPolicy-TLS13-1-2-FIPS-PQ-2025-09", rsa)]
    )
    aws.alb("us-east-1", "old-nlb", subnets, [(443, "TLS", "ELBSecurityPolicy-2016-08", rsa)], kind="network")
    aws.classic_elb(
        "us-east-1",
        "classic",
        rsa,
        "ELBSecurityPolicy-TLS-1-1-2017-01",
        ["Protocol-TLSv1.1", "Protocol-TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256"],
    )
    aws.api_domain(
        "eu-west-1", "api.example.com", p384, "SecurityPolicy_TLS13_1_2_PQ_2025_09", {"Owner": "api"}
    )
    aws.api_domain("eu-west-1", "old.example.com", p384, "TLS_1_0")
    aws.distribution(
        "site",
        {"ACMCertificateArn": rsa, "SSLSupportMethod": "sni-only", "MinimumProtocolVersion": "TLSv1.2_2021"},
        ["www.example.com"],
    )
    aws.client("acm-pca", "us-east-1").create_certificate_authority(
        CertificateAuthorityConfiguration={
            "KeyAlgorithm": "EC_secp384r1",
            "SigningAlgorithm": "SHA384WITHECDSA",
            "Subject": {"CommonName": "Test Root"},
        },
        CertificateAuthorityType="ROOT",
    )
    from assess.sources.aws.estate import make_certificate

    body, key = make_certificate("iam.example.com", "p256", days_valid=100)
    aws.client("iam", "us-east-1").upload_server_certificate(
        ServerCertificateName="legacy", CertificateBody=body.decode(), PrivateKey=key.decode()
    )

    shard = collect(InventoryConfig(regions=REGIONS, retry=FAST_RETRY))
    assert shard.gaps == ()

    kms = by_service(shard, "kms")
    assert len(kms) == 4
    payments = one(kms, "payments")
    assert payments.prop(Prop.AWS_KEY_SPEC) == "SYMMETRIC_DEFAULT"
    assert payments.prop(Prop.ALGORITHM) == "AES" and payments.prop(Prop.KEY_BITS) == "256"
    assert payments.prop(Prop.AWS_KEY_USAGE) == "ENCRYPT_DECRYPT"
    assert payments.prop(Prop.AWS_KEY_STATE) == "Enabled"
    assert payments.prop(Prop.AWS_ROTATION_ENABLED) == "true"
    assert payments.prop(Prop.AWS_ALIASES) == "alias/payments"
    assert payments.prop(Prop.OWNER) == "payments" and payments.prop(Prop.DATA_CLASS) == "restricted"
    assert (
        payments.prop(Prop.SHELF_LIFE_YEARS) == "25" and payments.prop(Prop.SHELF_LIFE_DEFAULTED) == "false"
    )
    assert payments.prop(f"{Prop.TAG_PREFIX}Owner") == "payments"
    assert payments.evidence[0].location.endswith(f":key/{kms_id}")
    assert payments.prop(Prop.AWS_ACCOUNT) == "123456789012" and payments.prop(Prop.AWS_REGION) == "us-east-1"
    assert payments.crypto.related_crypto_material_properties.state.value == "active"
    untagged = one([a for a in kms if "payments" not in a.name], "SYMMETRIC_DEFAULT")
    assert untagged.prop(Prop.AWS_ROTATION_ENABLED) == "false"
    assert untagged.prop(Prop.AWS_TAGGED) == "false" and untagged.prop(Prop.SHELF_LIFE_DEFAULTED) == "true"
    assert untagged.prop(Prop.OWNER) == "unassigned" and untagged.prop(Prop.SHELF_LIFE_YEARS) == "5"
    signer = one(kms, "signer")
    assert (signer.prop(Prop.ALGORITHM), signer.prop(Prop.KEY_BITS)) == ("RSA", "3072")
    assert signer.prop(Prop.AWS_ROTATION_ENABLED) is None  # rotation does not apply to asymmetric keys
    agreement = next(a for a in kms if a.prop(Prop.AWS_KEY_SPEC) == "ECC_NIST_P384")
    assert (agreement.prop(Prop.ALGORITHM), agreement.prop(Prop.CURVE)) == ("ECDH", "secp384r1")

    acm = by_service(shard, "acm")
    shop = one(acm, "shop.example.com")
    assert (
        shop.prop(Prop.CERT_PUBLIC_KEY_ALGORITHM) == "RSA" and shop.prop(Prop.CERT_PUBLIC_KEY_BITS) == "2048"
    )
    assert shop.prop(Prop.CERT_SIGNATURE_ALGORITHM) == "sha256WithRSAEncryption"
    assert shop.prop(Prop.CERT_SIGNATURE_HASH) == "SHA-256"
    expiry = shop.crypto.certificate_properties.not_valid_after
    assert timedelta(days=19) < expiry - datetime.now(tz=UTC) < timedelta(days=21)
    assert "classic" in (shop.prop(Prop.AWS_IN_USE_BY) or "")
    eu = one(acm, "eu.example.com")
    assert (eu.prop(Prop.CERT_PUBLIC_KEY_ALGORITHM), eu.prop(Prop.CERT_CURVE)) == ("EC", "secp384r1")
    assert eu.prop(Prop.CERT_SIGNATURE_ALGORITHM) == "ecdsa-with-SHA384"
    assert eu.prop(Prop.AWS_REGION) == "eu-west-1"

    ca = one(by_service(shard, "acm-pca"), "Test Root")
    assert ca.prop(Prop.CERT_IS_CA) == "true" and ca.prop(Prop.CERT_CURVE) == "secp384r1"
    assert ca.prop(Prop.CERT_SIGNATURE_ALGORITHM) == "ecdsa-with-SHA384"
    iam = one(by_service(shard, "iam"), "legacy")
    assert iam.prop(Prop.CERT_PUBLIC_KEY_ALGORITHM) == "EC" and iam.prop(Prop.CERT_CURVE) == "secp256r1"
    assert "CN=iam.example.com" in iam.crypto.certificate_properties.subject_name.split(",")

    elbv2 = by_service(shard, "elbv2")
    pq = one(elbv2, "pq-alb")
    assert pq.prop(Prop.TLS_POLICY) == "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09"
    assert pq.prop(Prop.TLS_PQ_HYBRID) == "true"
    assert pq.prop(Prop.TLS_GROUPS) == "X25519MLKEM768,SecP256r1MLKEM768,SecP384r1MLKEM1024"
    assert pq.prop(Prop.TLS_VERSIONS) == "TLSv1.2,TLSv1.3"
    assert pq.crypto.protocol_properties.version == "1.3"
    suites = [s.name for s in pq.crypto.protocol_properties.cipher_suites]
    assert suites[0] == "TLS_AES_128_GCM_SHA256" and "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256" in suites
    fips = one(elbv2, "fips-alb")
    assert fips.prop(Prop.TLS_PQ_HYBRID) == "true" and fips.prop(Prop.TLS_VERSIONS) == "TLSv1.2,TLSv1.3"
    old = one(elbv2, "old-nlb")
    assert old.prop(Prop.TLS_PQ_HYBRID) == "false" and old.prop(Prop.TLS_GROUPS) is None
    assert "TLSv1" in (old.prop(Prop.TLS_VERSIONS) or "").split(",")
    classic = one(by_service(shard, "elb"), "classic")
    assert classic.prop(Prop.TLS_POLICY) == "ELBSecurityPolicy-TLS-1-1-2017-01"
    assert (
        classic.prop(Prop.TLS_VERSIONS) == "TLSv1.1,TLSv1.2" and classic.prop(Prop.TLS_PQ_HYBRID) == "false"
    )

    apis = by_service(shard, "apigateway")
    assert one(apis, "api.example.com").prop(Prop.TLS_PQ_HYBRID) == "true"
    assert one(apis, "api.example.com").prop(Prop.OWNER) == "api"
    assert one(apis, "old.example.com").prop(Prop.TLS_VERSIONS) == "TLSv1,TLSv1.1,TLSv1.2"
    site = one(by_service(shard, "cloudfront"), "www.example.com")
    assert site.prop(Prop.TLS_POLICY) == "TLSv1.2_2021" and site.prop(Prop.TLS_VERSIONS) == "TLSv1.2,TLSv1.3"
    assert rsa in (site.evidence[0].context or "")

    # The shard is a valid CBOM and keeps provenance and evidence.
    out = tmp_path / "aws.cdx.json"
    write_shard(shard, out)
    doc = read_cbom(out)
    assert doc.metadata_properties(Prop.AWS_REGIONS) == ["us-east-1,eu-west-1"]
    assert doc.metadata_properties(Prop.SIMULATED) == []
    assert all(Prop.SIMULATED not in dict(a.properties) for a in shard.assets)


def test_listings_are_followed_past_the_page_size(aws: _Seeder) -> None:
    rsa = aws.acm_cert("us-east-1", "www.example.com", "p256", days_valid=90)
    subnets = aws.subnets("us-east-1")
    for i in range(7):
        aws.alb(
            "us-east-1", f"alb-{i}", subnets, [(443, "HTTPS", "ELBSecurityPolicy-TLS13-1-2-2021-06", rsa)]
        )
    for i in range(3):
        aws.distribution(
            f"d{i}", {"CloudFrontDefaultCertificate": True, "MinimumProtocolVersion": "TLSv1"}, []
        )
    pages: dict[str, int] = {}

    def count(event_name: str, **_: Any) -> None:
        pages[event_name] = pages.get(event_name, 0) + 1

    elbv2_listing = "before-call.elastic-load-balancing-v2.DescribeLoadBalancers"
    session = session_with(
        (elbv2_listing, count), ("before-call.cloudfront.ListDistributions2020_05_31", count)
    )
    shard = collect(
        InventoryConfig(
            regions=("us-east-1",), page_size=2, retry=FAST_RETRY, services=("elb", "cloudfront")
        ),
        session=session,
    )
    assert shard.gaps == ()
    assert sorted(a.name.split(":")[0] for a in by_service(shard, "elbv2")) == [f"alb-{i}" for i in range(7)]
    assert len(by_service(shard, "cloudfront")) == 3
    assert pages[elbv2_listing] == 4  # 7 load balancers, 2 per page


def test_throttling_is_survived(aws: _Seeder) -> None:
    for i in range(6):
        aws.kms_key("us-east-1", alias=f"k{i}")
    # More throttled answers in a row than botocore's attempts: botocore retries, then our backoff does.
    throttler = Throttler(remaining=5)
    session = session_with(("before-send.kms", throttler))
    shard = collect(
        InventoryConfig(regions=("us-east-1",), services=("kms",), retry=FAST_RETRY, concurrency=1),
        session=session,
    )
    assert shard.gaps == ()
    assert len(by_service(shard, "kms")) == 6
    assert len(throttler.throttled) == 5


def test_throttling_beyond_every_retry_becomes_a_gap_not_a_crash(aws: _Seeder) -> None:
    aws.kms_key("us-east-1", alias="k")
    session = session_with(("before-send.kms", Throttler(remaining=10_000)))
    retry = RetryPolicy(mode="standard", sdk_attempts=1, backoff_attempts=3, backoff_base=0.01)
    shard = collect(
        InventoryConfig(regions=("us-east-1",), services=("kms", "apigateway"), retry=retry), session=session
    )
    assert [g.scope for g in shard.gaps] == ["aws:123456789012:us-east-1:kms"]
    assert "ThrottlingException" in shard.gaps[0].reason


def test_a_failing_region_is_a_gap_and_the_others_complete(aws: _Seeder) -> None:
    aws.kms_key("us-east-1", alias="east")
    aws.kms_key("eu-west-1", alias="west")
    aws.acm_cert("us-east-1", "east.example.com", "p256", days_valid=90)

    def unreachable_eu_west_1(request: Any, **_: Any) -> None:
        auth = request.headers.get("Authorization", b"")
        if b"/eu-west-1/" in (auth if isinstance(auth, bytes) else auth.encode()):
            raise EndpointConnectionError(endpoint_url=request.url)

    session = session_with(("before-send", unreachable_eu_west_1))
    shard = collect(
        InventoryConfig(regions=("us-east-1", "eu-west-1"), services=("kms", "acm"), retry=FAST_RETRY),
        session=session,
    )
    assert sorted(g.scope for g in shard.gaps) == [
        "aws:123456789012:eu-west-1:acm",
        "aws:123456789012:eu-west-1:kms",
    ]
    assert all("Could not connect" in g.reason for g in shard.gaps)
    assert [a.name.split(" ")[0] for a in by_service(shard, "kms")] == ["east"]
    assert len(by_service(shard, "acm")) == 1


def test_two_accounts_are_inventoried_through_assume_role(aws: _Seeder) -> None:
    sts = boto3.client("sts", region_name="us-east-1")
    roles = [f"arn:aws:iam::{acct}:role/Audit" for acct in ("111111111111", "222222222222")]
    for role, alias in zip(roles, ("first", "second"), strict=True):
        creds = sts.assume_role(RoleArn=role, RoleSessionName="seed")["Credentials"]
        seeder = _Seeder(
            boto3.Session(
                aws_access_key_id=creds["AccessKeyId"],
                aws_secret_access_key=creds["SecretAccessKey"],
                aws_session_token=creds["SessionToken"],
                region_name="us-east-1",
            ),
            None,
        )  # type: ignore[arg-type]
        seeder.kms_key("us-east-1", alias=alias)
    aws.kms_key("us-east-1", alias="caller-only")  # the caller's own account is not asked for

    denied = "arn:aws:iam::333333333333:role/Audit"

    def deny(request: Any, **_: Any) -> AWSResponse | None:
        # moto does not enforce IAM: the third account's trust policy refusing us is played here.
        if "333333333333" not in str(request.body):
            return None
        body = (
            b"<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>not authorized to "
            b"perform sts:AssumeRole</Message></Error></ErrorResponse>"
        )
        return AWSResponse(request.url, 403, {"Content-Type": "text/xml"}, Body(body))

    shard = collect(
        InventoryConfig(
            regions=("us-east-1",), role_arns=(*roles, denied), services=("kms",), retry=FAST_RETRY
        ),
        session=session_with(("before-send.sts.AssumeRole", deny)),
    )
    accounts = {a.name.split(" ")[0]: a.prop(Prop.AWS_ACCOUNT) for a in by_service(shard, "kms")}
    assert accounts == {"first": "111111111111", "second": "222222222222"}
    assert [g.scope for g in shard.gaps] == [f"aws:role:{denied}"]
    assert shard.gaps[0].reason.startswith("assume-role failed: AccessDenied on AssumeRole")
    assert dict(shard.properties)[Prop.AWS_ACCOUNTS] == "111111111111,222222222222"


def test_the_shard_merges_with_other_tools_cboms(aws: _Seeder, tmp_path: Any, conformance_cboms: Any) -> None:
    aws.kms_key("us-east-1", alias="k", tags=_tags("team", "internal"))
    aws.acm_cert("us-east-1", "www.example.com", "p256", days_valid=90)
    out = tmp_path / "aws.cdx.json"
    write_shard(collect(InventoryConfig(regions=("us-east-1",), retry=FAST_RETRY)), out)
    others = [read_cbom(p) for p in conformance_cboms if p.name in ("Protocol.cdx.json", "Key.cdx.json")]
    merged, report = merge_documents([read_cbom(out), *others])
    _, without_aws = merge_documents(others)
    assert report.components_out == without_aws.components_out + 2
    refs = {c["bom-ref"] for c in merged["components"]}
    assert {a["bom-ref"] for a in read_cbom(out).data["components"]} <= refs
