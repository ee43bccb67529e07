"""The inventory against a real moto server on loopback (server mode), through the CLI and the library:
assume-role into two accounts, no credential in any output or log, the simulated estate labelled."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import boto3
import pytest
from aws_testing import ACCESS_MARKER, FAST_RETRY, SECRET_MARKER, session_with

from assess.cbom import read_cbom, write_shard
from assess.model import Prop
from assess.sources.aws import InventoryConfig, collect, simulated_estate
from assess.sources.aws.estate import _Seeder, _tags

ROLES = ("arn:aws:iam::111111111111:role/CarnotAudit", "arn:aws:iam::222222222222:role/CarnotAudit")


def seed_two_accounts(url: str) -> None:
    sts = boto3.client("sts", region_name="us-east-1", endpoint_url=url)
    for role, region in zip(ROLES, ("us-east-1", "eu-west-1"), strict=True):
        creds = sts.assume_role(RoleArn=role, RoleSessionName="seed")["Credentials"]
        seeder = _Seeder(
            boto3.Session(
                aws_access_key_id=creds["AccessKeyId"],
                aws_secret_access_key=creds["SecretAccessKey"],
                aws_session_token=creds["SessionToken"],
                region_name=region,
            ),
            url,
        )
        seeder.kms_key(
            region, alias=f"key-{role[13:25]}", tags=_tags("team", "confidential", 12), rotation=True
        )
        seeder.acm_cert(region, f"www.{role[13:25]}.example.com", "rsa2048", days_valid=60)


def test_cli_inventories_two_accounts_on_a_moto_server(
    moto_endpoint: str, carnot: Any, tmp_path: Path
) -> None:
    seed_two_accounts(moto_endpoint)
    out = tmp_path / "aws.cdx.json"
    done = carnot(
        "inventory",
        "aws",
        "--out",
        str(out),
        "--regions",
        "us-east-1,eu-west-1",
        "--role-arn",
        ROLES[0],
        "--role-arn",
        ROLES[1],
        "--endpoint-url",
        moto_endpoint,
        "--json",
        "-v",
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["assets_by_service"] == {"acm": 2, "kms": 2} and report["gaps"] == []
    doc = read_cbom(out)
    located = sorted(
        (c["name"].split(" ")[0], {p["name"]: p["value"] for p in c["properties"]}[Prop.AWS_ACCOUNT])
        for c in doc.components()
    )
    assert located == [
        ("key-111111111111", "111111111111"),
        ("key-222222222222", "222222222222"),
        ("www.111111111111.example.com", "111111111111"),
        ("www.222222222222.example.com", "222222222222"),
    ]
    for text in (done.stdout, done.stderr, out.read_text()):
        assert SECRET_MARKER not in text and ACCESS_MARKER not in text
        assert "SecretAccessKey" not in text and "SessionToken" not in text


def test_no_credential_reaches_the_shard_or_the_debug_log(
    moto_endpoint: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    seed_two_accounts(moto_endpoint)
    issued: list[str] = []

    def remember(parsed: dict[str, Any], **_: Any) -> None:
        creds = parsed.get("Credentials", {})
        issued.extend(v for k, v in creds.items() if k in ("AccessKeyId", "SecretAccessKey", "SessionToken"))

    caplog.set_level(logging.DEBUG)
    shard = collect(
        InventoryConfig(
            regions=("us-east-1", "eu-west-1"), role_arns=ROLES, endpoint_url=moto_endpoint, retry=FAST_RETRY
        ),
        session=session_with(("after-call.sts.AssumeRole", remember)),
    )
    out = tmp_path / "aws.cdx.json"
    write_shard(shard, out)
    assert len(issued) == 6  # two roles assumed: each handed us an access key, a secret and a token
    texts = {"log": caplog.text, "shard": out.read_text()}
    for where, text in texts.items():
        for secret in (SECRET_MARKER, ACCESS_MARKER, *issued):
            assert secret not in text, f"a credential leaked into the {where}"


@pytest.mark.slow
def test_the_simulated_estate_is_labelled_simulated_everywhere(tmp_path: Path, carnot: Any) -> None:
    out = tmp_path / "aws.cdx.json"
    done = carnot("inventory", "aws", "--simulated", "--out", str(out), "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["simulated"] is True
    doc = read_cbom(out)
    assert doc.metadata_properties(Prop.SIMULATED) == ["true"]
    components = list(doc.components())
    props = [{p["name"]: p["value"] for p in c["properties"]} for c in components]
    assert props and all(p.get(Prop.SIMULATED) == "true" for p in props)
    services = {p[Prop.AWS_SERVICE] for p in props}
    assert services == {"kms", "acm", "acm-pca", "elbv2", "elb", "apigateway", "cloudfront", "iam"}
    assert {p[Prop.AWS_ACCOUNT] for p in props} == {"123456789012", "210987654321"}
    assert {p[Prop.AWS_REGION] for p in props} == {"us-east-1", "eu-west-1", "ap-southeast-2"}
    policies = {p.get(Prop.TLS_POLICY): p.get(Prop.TLS_PQ_HYBRID) for p in props if Prop.TLS_POLICY in p}
    assert policies["ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09"] == "true"
    assert policies["ELBSecurityPolicy-2016-08"] == "false"
    assert policies["SecurityPolicy_TLS13_1_2_PQ_2025_09"] == "true" and policies["TLS_1_0"] == "false"
    keys = [p for p in props if p[Prop.AWS_SERVICE] == "kms"]
    assert any(p[Prop.AWS_TAGGED] == "false" and p[Prop.SHELF_LIFE_DEFAULTED] == "true" for p in keys)
    assert any(p.get(Prop.AWS_ROTATION_ENABLED) == "false" for p in keys)
    algorithms = {
        (p.get(Prop.CERT_PUBLIC_KEY_ALGORITHM), p.get(Prop.CERT_PUBLIC_KEY_BITS))
        for p in props
        if p[Prop.AWS_SERVICE] == "acm"
    }
    assert {("RSA", "2048"), ("RSA", "3072"), ("EC", "256"), ("EC", "384")} <= algorithms


@pytest.mark.slow
def test_the_simulated_estate_gives_the_same_bytes_every_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")  # the document timestamp; the estate is as of today
    outputs = []
    for run in range(2):
        with simulated_estate() as estate:
            shard = collect(estate.config(regions=("eu-west-1",)), session=estate.session())
        outputs.append(write_shard(shard, tmp_path / f"run{run}.cdx.json").read_bytes())
    assert outputs[0] == outputs[1] and len(shard.assets) > 5
    key = next(a for a in shard.assets if a.prop(Prop.AWS_SERVICE) == "kms")
    created = key.crypto.related_crypto_material_properties.creation_date
    assert created is not None and created.hour == 0 and created.minute == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--regions", " , "], "--regions: no region"),
        (["--concurrency", "0"], "--concurrency must be at least 1"),
        (["--simulated", "--endpoint-url", "http://127.0.0.1:9"], "--simulated starts its own endpoint"),
    ],
)
def test_bad_flags_are_one_line_and_exit_2(
    args: list[str], message: str, carnot: Any, tmp_path: Path
) -> None:
    done = carnot("inventory", "aws", "--out", str(tmp_path / "x.json"), *args)
    assert done.returncode == 2
    assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "x.json").exists()
