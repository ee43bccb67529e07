"""Parsing on the real API response shapes, through botocore's Stubber, where moto falls short.

moto (5.2) does not know the ML_DSA_44/65/87 and ML_KEM_512/768/1024 KMS key specs, nor KMS's
Truncated/NextMarker paging (its ListKeys answers everything at once), nor ELB's
SSLPolicyNotFound for an unknown policy name, while real AWS has all three. These tests therefore
stub the responses: Stubber validates every response against botocore's service model, so the
shapes below are the real API's, and the collectors run unchanged on them.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from aws_testing import FAST_RETRY
from botocore.client import BaseClient
from botocore.stub import Stubber

from assess.model import Prop
from assess.sources.aws import kms
from assess.sources.aws.scope import Scope
from assess.sources.aws.session import Api

ACCOUNT = "111122223333"
REGION = "eu-central-1"


class OneClient:
    def __init__(self, client: BaseClient) -> None:
        self._client = client

    def client(self, service: str, region: str) -> BaseClient:
        assert (service, region) == ("kms", REGION)
        return self._client


def metadata(key_id: str, spec: str, usage: str) -> dict[str, Any]:
    return {
        "AWSAccountId": ACCOUNT,
        "KeyId": key_id,
        "Arn": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{key_id}",
        "CreationDate": datetime(2025, 6, 1, tzinfo=UTC),
        "Enabled": True,
        "KeyUsage": usage,
        "KeyState": "Enabled",
        "Origin": "AWS_KMS",
        "KeyManager": "CUSTOMER",
        "KeySpec": spec,
        "CustomerMasterKeySpec": spec if not spec.startswith("ML_") else "SYMMETRIC_DEFAULT",
        "MultiRegion": False,
    }


PQ_KEYS = [
    ("1111aaaa-0000-4000-8000-000000000044", "ML_DSA_44", "SIGN_VERIFY"),
    ("1111aaaa-0000-4000-8000-000000000065", "ML_DSA_65", "SIGN_VERIFY"),
    ("1111aaaa-0000-4000-8000-000000000087", "ML_DSA_87", "SIGN_VERIFY"),
    ("2222bbbb-0000-4000-8000-000000000512", "ML_KEM_512", "ENCAPSULATE_DECAPSULATE"),
    ("2222bbbb-0000-4000-8000-000000000768", "ML_KEM_768", "ENCAPSULATE_DECAPSULATE"),
    ("2222bbbb-0000-4000-8000-000000001024", "ML_KEM_1024", "ENCAPSULATE_DECAPSULATE"),
]


@pytest.fixture
def stubbed() -> Any:
    client = boto3.Session(region_name=REGION).client("kms")
    with Stubber(client) as stubber, ThreadPoolExecutor(1) as details:
        api = Api(OneClient(client), REGION, retry=FAST_RETRY, details=details, page_size=3)
        yield stubber, api
        stubber.assert_no_pending_responses()


def test_ml_dsa_and_ml_kem_keys_are_parsed_across_truncated_pages(stubbed: Any) -> None:
    stubber, api = stubbed
    stubber.add_response(
        "list_aliases",
        {
            "Aliases": [
                {
                    "AliasName": "alias/pq-signer",
                    "AliasArn": f"arn:aws:kms:{REGION}:{ACCOUNT}:alias/pq-signer",
                    "TargetKeyId": PQ_KEYS[1][0],
                },
            ],
            "Truncated": False,
        },
        {"Limit": 3},
    )
    first, second = PQ_KEYS[:3], PQ_KEYS[3:]
    stubber.add_response(
        "list_keys",
        {
            "Keys": [{"KeyId": k, "KeyArn": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{k}"} for k, _, _ in first],
            "Truncated": True,
            "NextMarker": "page-2",
        },
        {"Limit": 3},
    )
    stubber.add_response(
        "list_keys",
        {
            "Keys": [{"KeyId": k, "KeyArn": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{k}"} for k, _, _ in second],
            "Truncated": False,
        },
        {"Limit": 3, "Marker": "page-2"},
    )
    for key_id, spec, usage in PQ_KEYS:  # one detail worker: the calls come in key order
        stubber.add_response("describe_key", {"KeyMetadata": metadata(key_id, spec, usage)}, {"KeyId": key_id})
        tags = [{"TagKey": "Owner", "TagValue": "pqc-pilot"}] if spec == "ML_KEM_768" else []
        stubber.add_response("list_resource_tags", {"Tags": tags, "Truncated": False}, {"KeyId": key_id, "Limit": 3})

    assets = kms.to_assets(kms.fetch(api), Scope(ACCOUNT, REGION))

    by_spec = {a.prop(Prop.AWS_KEY_SPEC): a for a in assets}
    assert sorted(by_spec) == sorted(spec for _, spec, _ in PQ_KEYS)
    for spec in ("ML_DSA_44", "ML_DSA_65", "ML_DSA_87"):
        assert by_spec[spec].prop(Prop.ALGORITHM) == "ML-DSA"
        assert by_spec[spec].prop(Prop.AWS_KEY_USAGE) == "SIGN_VERIFY"
        assert by_spec[spec].crypto.related_crypto_material_properties.type.value == "private-key"
    for spec in ("ML_KEM_512", "ML_KEM_768", "ML_KEM_1024"):
        assert by_spec[spec].prop(Prop.ALGORITHM) == "ML-KEM"
        assert by_spec[spec].prop(Prop.AWS_KEY_USAGE) == "ENCAPSULATE_DECAPSULATE"
    assert by_spec["ML_DSA_65"].prop(Prop.AWS_ALIASES) == "alias/pq-signer"
    assert by_spec["ML_KEM_768"].prop(Prop.OWNER) == "pqc-pilot"
    assert by_spec["ML_DSA_44"].prop(Prop.AWS_ROTATION_ENABLED) is None  # asymmetric: no rotation call made
    assert by_spec["ML_DSA_44"].crypto.related_crypto_material_properties.creation_date == datetime(
        2025, 6, 1, tzinfo=UTC
    )


def test_a_key_the_auditor_may_not_describe_is_skipped_not_fatal(stubbed: Any) -> None:
    stubber, api = stubbed
    key_ids = [PQ_KEYS[0][0], PQ_KEYS[3][0]]
    stubber.add_response("list_aliases", {"Aliases": [], "Truncated": False}, {"Limit": 3})
    stubber.add_response("list_keys", {"Keys": [{"KeyId": k} for k in key_ids], "Truncated": False}, {"Limit": 3})
    stubber.add_client_error(
        "describe_key",
        "AccessDeniedException",
        "not authorized by the key policy",
        expected_params={"KeyId": key_ids[0]},
    )
    stubber.add_response(
        "describe_key",
        {"KeyMetadata": metadata(key_ids[1], "ML_KEM_512", "ENCAPSULATE_DECAPSULATE")},
        {"KeyId": key_ids[1]},
    )
    stubber.add_response("list_resource_tags", {"Tags": [], "Truncated": False}, {"KeyId": key_ids[1], "Limit": 3})

    assets = kms.to_assets(kms.fetch(api), Scope(ACCOUNT, REGION))

    assert [a.prop(Prop.AWS_KEY_SPEC) for a in assets] == ["ML_KEM_512"]
    assert len(api.skipped) == 1 and api.skipped[0][0].endswith(key_ids[0] + " in " + REGION)
    assert "AccessDeniedException" in api.skipped[0][1]


def test_an_elb_policy_the_api_does_not_know_does_not_hide_the_others() -> None:
    """Real ELB answers SSLPolicyNotFound for the whole call when one name is unknown (moto ignores it)."""
    from assess.sources.aws.elb import _describe_ssl_policies

    client = boto3.Session(region_name=REGION).client("elbv2")
    known, unknown = "ELBSecurityPolicy-TLS13-1-2-PQ-2025-09", "ELBSecurityPolicy-TLS13-1-2-Future-PQ-2027-01"
    with Stubber(client) as stubber, ThreadPoolExecutor(1) as details:
        stubber.add_client_error(
            "describe_ssl_policies", "SSLPolicyNotFound", "not found", expected_params={"Names": [known, unknown]}
        )
        stubber.add_response(
            "describe_ssl_policies",
            {
                "SslPolicies": [
                    {
                        "Name": known,
                        "SslProtocols": ["TLSv1.3", "TLSv1.2"],
                        "Ciphers": [{"Name": "TLS_AES_128_GCM_SHA256", "Priority": 1}],
                    }
                ]
            },
            {"Names": [known]},
        )
        stubber.add_client_error(
            "describe_ssl_policies", "SSLPolicyNotFound", "not found", expected_params={"Names": [unknown]}
        )
        api = Api(OneElbv2(client), REGION, retry=FAST_RETRY, details=details)
        assert list(_describe_ssl_policies(api, [known, unknown])) == [known]
        stubber.assert_no_pending_responses()


class OneElbv2(OneClient):
    def client(self, service: str, region: str) -> BaseClient:
        assert (service, region) == ("elbv2", REGION)
        return self._client
