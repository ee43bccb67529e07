"""Assessment folders and bundles built from the contracts, with hostile strings where observed data goes.

A folder holds a merged CBOM (written by the real `write_shard`), gate results shaped as PRODUCT.md's
*Gate results* contract, a real attestation (`attest_folder`), and is bundled by the real
`bundle_folder`, so the site reads exactly what the pipeline would give it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cyclonedx.model.crypto import (
    CertificateProperties,
    CryptoAssetType,
    CryptoProperties,
    ProtocolProperties,
    ProtocolPropertiesType,
)

from assess.attest import attest_folder
from assess.bundle import BundleEntry
from assess.cbom import write_shard
from assess.model import Asset, Evidence, Gap, Prop, Shard, Source, props

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
LONG = "L" * 10_000
HOSTILE: tuple[str, ...] = (
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(2)>',
    "javascript:alert(3)",
    "[x](javascript:alert(4))",
    "</script><script>alert(5)</script>",
    "'><svg onload=pwn(6)>",
    "\u202eevil.example\u202c שלום مرحبا 日本語 \u2028\u2029",
    "{{ 7*7 }} ${7*7}",
    LONG,
)
TAGS_THAT_MUST_NOT_APPEAR = ("<script>alert", "<img src=x", "<svg onload", 'href="javascript:')


def _flow(ref: str, group: str, sni: str, handshakes: int, data_class: str = "secret",
          process: str = "nginx") -> Asset:
    return Asset(
        bom_ref=ref,
        name=f"TLS to {sni}",
        crypto=CryptoProperties(
            asset_type=CryptoAssetType.PROTOCOL,
            protocol_properties=ProtocolProperties(type=ProtocolPropertiesType.TLS, version="1.3"),
        ),
        evidence=(Evidence(Source.RUNTIME, f"web01/{sni}/{process}"),),
        properties=props({
            Prop.SOURCE: "runtime", Prop.TLS_NEGOTIATED_GROUP: group, Prop.RUNTIME_SNI: sni,
            Prop.RUNTIME_HOST: "web01.corp.example", Prop.RUNTIME_ENDPOINT: "10.1.2.3:443",
            Prop.RUNTIME_COMM: process, Prop.RUNTIME_EXE: f"/usr/sbin/{process[:100]}",
            Prop.RUNTIME_FIRST_SEEN: "2026-01-01T00:00:00Z", Prop.RUNTIME_LAST_SEEN: "2026-01-02T00:00:00Z",
            Prop.TLS_PQ_HYBRID: group == "X25519MLKEM768",
            Prop.RUNTIME_HANDSHAKES: str(handshakes), Prop.DATA_CLASS: data_class,
        }),
    )


def _cloud_key(ref: str, arn: str, tag: str) -> Asset:
    """A KMS key as `carnot inventory aws` writes one, its ARN and tag attacker-chosen."""
    return Asset(
        bom_ref=ref,
        name=f"KMS key {arn[-60:]}",
        crypto=CryptoProperties(asset_type=CryptoAssetType.RELATED_CRYPTO_MATERIAL),
        evidence=(Evidence(Source.AWS, arn, context="kms:DescribeKey"),),
        properties=props({Prop.SOURCE: "aws", Prop.AWS_ARN: arn, Prop.AWS_ACCOUNT: "123456789012",
                          Prop.AWS_REGION: "eu-west-1", Prop.AWS_SERVICE: "kms", Prop.ALGORITHM: "RSA",
                          Prop.KEY_BITS: "2048", f"{Prop.TAG_PREFIX}Owner": tag}),
    )


def _certificate(ref: str, subject: str, path: str) -> Asset:
    return Asset(
        bom_ref=ref,
        name=subject,
        crypto=CryptoProperties(
            asset_type=CryptoAssetType.CERTIFICATE,
            certificate_properties=CertificateProperties(
                subject_name=subject, not_valid_after=datetime(2040, 1, 1, tzinfo=UTC)),
        ),
        evidence=(Evidence(Source.STATIC, path, line=1),),
        properties=props({Prop.SOURCE: "static", Prop.CERT_PUBLIC_KEY_ALGORITHM: "RSA",
                          Prop.CERT_SIGNATURE_ALGORITHM: "sha256WithRSAEncryption"}),
    )


def hostile_assets() -> tuple[Asset, ...]:
    """Runtime flows whose SNIs and processes, certificates whose subjects and paths, and cloud keys whose ARNs
    and tags are the hostile corpus."""
    assets: list[Asset] = []
    for i, text in enumerate(HOSTILE):
        assets.append(_flow(f"carnot:tls:hostile-{i}:{text[:40]}", "x25519", text, 3 + i, process=text))
        assets.append(_certificate(f"carnot:cert:{i}:{text[:60]}", f"CN={text}", f"/etc/ssl/{text[:200]}.pem"))
        assets.append(_cloud_key(f"carnot:aws-kms-key:{i}:{text[:40]}",
                                 f"arn:aws:kms:eu-west-1:123456789012:key/{text}", text))
    assets.append(_flow("carnot:tls:hybrid", "X25519MLKEM768", "api.corp.example", 40))
    assets.append(_flow("carnot:tls:odd-group", HOSTILE[4], "odd.example", 2))
    return tuple(assets)


def hostile_gate(assets: tuple[Asset, ...], mode: str = "warn") -> dict[str, object]:
    findings = []
    for i, asset in enumerate(assets):
        text = HOSTILE[i % len(HOSTILE)]
        findings.append({
            "rule": "tls-no-hybrid-pq" if i % 3 else f"rule-{text[:30]}",
            "severity": ("critical", "high", "medium", "low")[i % 4],
            "bom_ref": asset.bom_ref,
            "message": f"finding about {text}",
            "remediation": "javascript:alert(7)" if i % 2 else "docs/POLICY_GUIDE.md#tls-no-hybrid-pq",
            "waived": i % 5 == 4,
        })
    return {"engine": "regorus", "profile": "balanced", "mode": mode, "policy_digest": "sha256:" + "cd" * 32,
            "findings": findings}


def write_assessment(folder: Path, assets: tuple[Asset, ...], gate: dict[str, object],
                     gaps: tuple[Gap, ...] = ()) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    write_shard(Shard(stage="runtime", assets=assets, gaps=gaps), folder / "merged.cdx.json")
    (folder / "opa_result.json").write_text(json.dumps(gate, indent=2, ensure_ascii=False), encoding="utf-8")
    (folder / "opa_summary.json").write_text(json.dumps({"findings": len(gate["findings"])}))  # type: ignore[arg-type]
    (folder / "stages.json").write_text(json.dumps({
        "scan": {"status": "not_run", "reason": HOSTILE[1]},
        "runtime": {"status": "run", "reason": ""},
    }))
    attest_folder(folder / "merged.cdx.json", folder, folder)
    return folder


def hostile_assessment(folder: Path) -> Path:
    assets = hostile_assets()
    gaps = tuple(Gap("aws", f"123456789012/{text[:50]}", f"AccessDenied: {text}") for text in HOSTILE[:4])
    return write_assessment(folder, assets, hostile_gate(assets), gaps)


def plain_assessment(folder: Path, *, classical: int, hybrid: int) -> Path:
    assets = (
        _flow("carnot:tls:classical", "x25519", "shop.example", classical),
        _flow("carnot:tls:hybrid", "X25519MLKEM768", "api.example", hybrid),
        _certificate("carnot:cert:shop", "CN=shop.example", "/etc/ssl/shop.pem"),
    )
    gate = {"engine": "regorus", "profile": "balanced", "mode": "warn", "policy_digest": "sha256:" + "ab" * 32,
            "findings": [
                {"rule": "tls-no-hybrid-pq", "severity": "medium", "bom_ref": "carnot:tls:classical",
                 "message": "no hybrid group", "remediation": "docs/POLICY_GUIDE.md#tls-no-hybrid-pq",
                 "waived": False},
            ]}
    return write_assessment(folder, assets, gate)


@dataclass(frozen=True)
class BuiltSite:
    dist: Path
    out: Path
    entries: tuple[BundleEntry, ...]  # oldest first: plain, hostile, plain (latest)

    @property
    def hostile(self) -> BundleEntry:
        return self.entries[1]
