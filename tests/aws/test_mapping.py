"""The pure mapping: AWS spellings of algorithms and policies, tags and their documented defaults."""

from __future__ import annotations

import pytest

from assess.model import Prop
from assess.sources.aws.certificates import PublicKey, key_algorithm, signature_algorithm
from assess.sources.aws.policies import (
    apigateway_policy,
    classic_elb_policy,
    cloudfront_policy,
    elb_is_pq,
    elb_policy,
)
from assess.sources.aws.tags import ownership, tag_map


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("RSA_2048", PublicKey("RSA", 2048)),
        ("RSA-2048", PublicKey("RSA", 2048)),
        ("RSA_3072", PublicKey("RSA", 3072)),
        ("RSA-4096", PublicKey("RSA", 4096)),
        ("EC_prime256v1", PublicKey("EC", 256, "secp256r1")),
        ("EC-prime256v1", PublicKey("EC", 256, "secp256r1")),
        ("EC_secp384r1", PublicKey("EC", 384, "secp384r1")),
        ("EC-secp521r1", PublicKey("EC", 521, "secp521r1")),
        ("ML_DSA_65", PublicKey("ML-DSA")),
    ],
)
def test_key_algorithm_is_normalised_from_both_aws_spellings(text: str, expected: PublicKey) -> None:
    assert key_algorithm(text) == expected


def test_unknown_key_algorithm_is_left_out_not_guessed() -> None:
    assert key_algorithm("FALCON_512") is None


@pytest.mark.parametrize(
    ("text", "name", "digest"),
    [
        ("SHA256WITHRSA", "sha256WithRSAEncryption", "SHA-256"),
        ("SHA384WITHECDSA", "ecdsa-with-SHA384", "SHA-384"),
        ("ECDSA-WITH-SHA256", "ecdsa-with-SHA256", "SHA-256"),
        ("SHA256WITHRSA_PSS", "rsassaPss", "SHA-256"),
        ("sha1WithRSAEncryption", "sha1WithRSAEncryption", "SHA-1"),
        ("ML_DSA_65", "ML-DSA-65", None),
    ],
)
def test_signature_algorithm_names_follow_the_profile(text: str, name: str, digest: str | None) -> None:
    assert signature_algorithm(text) == (name, digest)


@pytest.mark.parametrize(
    ("name", "pq"),
    [
        ("ELBSecurityPolicy-TLS13-1-2-PQ-2025-09", True),
        ("ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09", True),
        ("ELBSecurityPolicy-TLS13-1-2-FIPS-PQ-2025-09", True),
        ("ELBSecurityPolicy-TLS13-1-3-PQ-2025-09", True),
        ("ELBSecurityPolicy-TLS13-1-2-2021-06", False),
        ("ELBSecurityPolicy-2016-08", False),
        ("ELBSecurityPolicy-TLS13-1-2-FIPS-2023-04", False),
    ],
)
def test_elb_pq_policies_are_recognised_by_name(name: str, pq: bool) -> None:
    assert elb_is_pq(name) is pq
    policy = elb_policy(name, None)
    assert policy.pq_hybrid is pq
    assert (policy.groups is not None) is pq


def test_elb_policy_resolved_by_the_api_keeps_protocols_and_suite_order() -> None:
    described = {
        "Name": "ELBSecurityPolicy-TLS13-1-2-PQ-2025-09",
        "SslProtocols": ["TLSv1.3", "TLSv1.2"],
        "Ciphers": [
            {"Name": "ECDHE-RSA-AES128-GCM-SHA256", "Priority": 2},
            {"Name": "TLS_AES_128_GCM_SHA256", "Priority": 1},
        ],
    }
    policy = elb_policy(described["Name"], described)
    assert policy.versions == ("TLSv1.2", "TLSv1.3") and policy.highest_version == "1.3"
    assert policy.cipher_suites == ("TLS_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256")
    assert policy.groups == ("X25519MLKEM768", "SecP256r1MLKEM768", "SecP384r1MLKEM1024")
    assert policy.resolved_by == "describe_ssl_policies"


def test_elb_policy_the_api_does_not_know_is_read_from_its_name_only() -> None:
    policy = elb_policy("ELBSecurityPolicy-TLS13-1-2-FIPS-PQ-2025-09", None)
    assert policy.versions == ("TLSv1.2", "TLSv1.3") and policy.fips and policy.cipher_suites is None


def test_classic_elb_policy_comes_from_its_attributes() -> None:
    policy = classic_elb_policy(
        "my-negotiation",
        [
            {
                "AttributeName": "Reference-Security-Policy",
                "AttributeValue": "ELBSecurityPolicy-TLS-1-2-2017-01",
            },
            {"AttributeName": "Protocol-TLSv1.2", "AttributeValue": "true"},
            {"AttributeName": "Protocol-TLSv1", "AttributeValue": "false"},
            {"AttributeName": "ECDHE-ECDSA-AES128-GCM-SHA256", "AttributeValue": "true"},
            {"AttributeName": "AES128-SHA", "AttributeValue": "false"},
            {"AttributeName": "Server-Defined-Cipher-Order", "AttributeValue": "true"},
        ],
    )
    assert policy.name == "ELBSecurityPolicy-TLS-1-2-2017-01"
    assert policy.versions == ("TLSv1.2",)
    assert policy.cipher_suites == ("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",)
    assert policy.pq_hybrid is False


@pytest.mark.parametrize(
    ("value", "versions", "pq"),
    [
        ("TLS_1_0", ("TLSv1", "TLSv1.1", "TLSv1.2"), False),
        ("TLS_1_2", ("TLSv1.2",), False),
        ("SecurityPolicy_TLS13_1_2_PQ_2025_09", ("TLSv1.2", "TLSv1.3"), True),
        ("SecurityPolicy_TLS13_1_2_FIPS_PFS_PQ_2025_09", ("TLSv1.2", "TLSv1.3"), True),
        ("SecurityPolicy_TLS13_1_3_2025_09", ("TLSv1.3",), False),
        ("SecurityPolicy_TLS13_2025_EDGE", ("TLSv1.3",), False),
        ("SecurityPolicy_TLS12_PFS_2025_EDGE", ("TLSv1.2", "TLSv1.3"), False),
    ],
)
def test_api_gateway_security_policies(value: str, versions: tuple[str, ...], pq: bool) -> None:
    policy = apigateway_policy(value)
    assert (policy.versions, policy.pq_hybrid) == (versions, pq)


def test_cloudfront_minimum_protocol_version_sets_versions_and_pq_groups() -> None:
    modern = cloudfront_policy("TLSv1.2_2021")
    assert modern.versions == ("TLSv1.2", "TLSv1.3") and modern.pq_hybrid is True
    assert "X25519MLKEM768" in (modern.groups or ())
    unknown = cloudfront_policy("TLSv9_2099")
    assert unknown.versions is None and unknown.pq_hybrid is None and unknown.groups is None


def test_tags_set_owner_class_and_shelf_life_and_are_kept_verbatim() -> None:
    tags = tag_map(
        [
            {"Key": "owner", "Value": "payments"},
            {"Key": "Data-Classification", "Value": "Restricted"},
            {"Key": "DataShelfLifeYears", "Value": "30y"},
            {"Key": "<script>", "Value": "x"},
        ]
    )
    found = dict(ownership(tags))
    assert found[Prop.OWNER] == "payments" and found[Prop.DATA_CLASS] == "restricted"
    assert found[Prop.SHELF_LIFE_YEARS] == 30 and found[Prop.SHELF_LIFE_DEFAULTED] is False
    assert found[f"{Prop.TAG_PREFIX}<script>"] == "x" and found[Prop.AWS_TAGGED] is True


def test_untagged_assets_get_the_documented_defaults_and_are_flagged() -> None:
    found = dict(ownership({}))
    assert found[Prop.OWNER] == "unassigned" and found[Prop.DATA_CLASS] == "internal"
    assert found[Prop.SHELF_LIFE_YEARS] == 5 and found[Prop.SHELF_LIFE_DEFAULTED] is True
    assert found[Prop.AWS_TAGGED] is False


def test_a_stated_class_without_shelf_life_takes_the_class_default_and_is_flagged() -> None:
    found = dict(ownership(tag_map({"DataClassification": "confidential", "DataShelfLifeYears": "soon"})))
    assert found[Prop.SHELF_LIFE_YEARS] == 10 and found[Prop.SHELF_LIFE_DEFAULTED] is True
