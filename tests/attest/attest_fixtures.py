"""Builders for an assessment folder from the contracts: a merged CBOM shard, gate results, stages.json."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from cyclonedx.model.crypto import (
    CertificateProperties,
    CryptoAssetType,
    CryptoProperties,
    ProtocolProperties,
    ProtocolPropertiesType,
)

from assess.cbom import write_shard
from assess.model import Asset, Evidence, Gap, Prop, Shard, Source, props

HOSTILE_SNI = "[click](https://evil.example)<script>alert(1)</script>|x"
ACCOUNT = "123456789012"


def runtime_flow(ref: str, group: str, sni: str, **extra: object) -> Asset:
    return Asset(
        bom_ref=ref,
        name=f"TLS to {sni}",
        crypto=CryptoProperties(
            asset_type=CryptoAssetType.PROTOCOL,
            protocol_properties=ProtocolProperties(type=ProtocolPropertiesType.TLS, version="1.3"),
        ),
        evidence=(Evidence(Source.RUNTIME, "web01.corp.example/4242/nginx"),),
        properties=props({
            Prop.SOURCE: "runtime", Prop.TLS_NEGOTIATED_GROUP: group, Prop.RUNTIME_SNI: sni,
            Prop.RUNTIME_HOST: "web01.corp.example", Prop.RUNTIME_ENDPOINT: "10.1.2.3:443",
            Prop.RUNTIME_HANDSHAKES: "7", **extra,
        }),
    )


def acm_certificate(ref: str, not_after: datetime) -> Asset:
    return Asset(
        bom_ref=ref,
        name=f"arn:aws:acm:eu-west-1:{ACCOUNT}:certificate/abc",
        crypto=CryptoProperties(
            asset_type=CryptoAssetType.CERTIFICATE,
            certificate_properties=CertificateProperties(
                subject_name="CN=shop.example", not_valid_after=not_after
            ),
        ),
        properties=props({
            Prop.SOURCE: "aws", Prop.AWS_ACCOUNT: ACCOUNT, Prop.CERT_PUBLIC_KEY_ALGORITHM: "RSA",
            Prop.CERT_SIGNATURE_ALGORITHM: "sha256WithRSAEncryption",
        }),
    )


def gate_result(mode: str = "enforce", waived: bool = False) -> dict[str, object]:
    return {
        "engine": "regorus", "profile": "balanced", "mode": mode,
        "policy_digest": "sha256:" + "ab" * 32,
        "findings": [
            {"rule": "kex-without-pq-hybrid", "severity": "high", "bom_ref": "carnot:tls:classical",
             "message": f"no hybrid group for {HOSTILE_SNI}", "remediation": "docs/POLICY_GUIDE.md#kex",
             "waived": waived},
            {"rule": "cert-quantum-vulnerable-long-lived", "severity": "critical",
             "bom_ref": "carnot:cert:acm",
             "message": "RSA certificate valid past 2035", "remediation": "docs/POLICY_GUIDE.md#certs",
             "waived": waived},
        ],
    }


def write_assessment(folder: Path, *, mode: str = "enforce", waived: bool = False) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    assets = (
        runtime_flow("carnot:tls:classical", "x25519", HOSTILE_SNI, **{Prop.DATA_CLASS: "secret"}),
        runtime_flow("carnot:tls:hybrid", "X25519MLKEM768", "api.corp.example",
                     **{Prop.DATA_CLASS: "secret"}),
        acm_certificate("carnot:cert:acm", datetime(2036, 6, 1, tzinfo=UTC)),
    )
    shard = Shard(stage="runtime", assets=assets,
                  gaps=(Gap("aws", f"{ACCOUNT}/ap-south-1", "AccessDenied on kms:ListKeys"),))
    write_shard(shard, folder / "merged.cdx.json")
    (folder / "opa_result.json").write_text(json.dumps(gate_result(mode, waived), indent=2))
    (folder / "opa_summary.json").write_text(json.dumps({"by_rule": {"kex-without-pq-hybrid": 1}}))
    (folder / "stages.json").write_text(json.dumps({
        "runtime": {"status": "run", "reason": ""},
        "inventory_aws": {"status": "failed", "reason": "no credentials"},
        "scan": {"status": "not_run", "reason": "no paths configured"},
    }))
    (folder / "runtime").mkdir(exist_ok=True)
    (folder / "runtime" / "runtime.jsonl").write_text('{"type": "ready"}\n')
    return folder
