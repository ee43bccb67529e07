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


# --- an assessment of the embedded default's estate plus the hostile corpus, made by the real stages -------

NAMED_SNI = "ledger.payments.internal.example"
NAMED_PROCESS = "billing-worker"
NAMED_FILE_LINE = "src/go/signer.go:21"  # the second MD5 in the sample estate: only in the asset's evidence list
HOSTILE_FILE = '"><img src=x onerror=alert(2)>.py'


def _handshake(sni: str, comm: str, group: str, port: int) -> dict[str, object]:
    """A handshake line as PRODUCT.md's *Runtime JSON lines* contract has it."""
    return {
        "type": "handshake", "ts": "2026-09-21T14:00:00.000000Z", "host": "web01.corp.example", "pid": 4242,
        "tid": 4242, "comm": comm, "exe": f"/opt/{comm[:40]}/bin/run", "library": "OpenSSL",
        "library_version": "3.0.19", "role": "client", "sni": sni, "src_ip": "10.0.0.5", "src_port": 50000 + port,
        "dst_ip": "203.0.113.7", "dst_port": port, "tls_version": "TLSv1.3", "cipher_suite": "TLS_AES_128_GCM_SHA256",
        "groups_offered": [group, "x25519"], "key_shares_offered": [group], "negotiated_group": group,
        "pq_hybrid": group == "X25519MLKEM768", "success": True, "handshake_ms": 3.5, "source": "uprobe+wire",
    }


def _hostile_tree(tree: Path) -> None:
    """Files whose names, contents and certificate subjects are the hostile corpus."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    tree.mkdir(parents=True)
    (tree / HOSTILE_FILE).write_text("import hashlib\n\n\ndef key(x):\n    return hashlib.md5(x).hexdigest()\n")
    for i, text in enumerate(HOSTILE[:6]):
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, text[:64])])
        start = datetime(2026, 1, 1, tzinfo=UTC)
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                .serial_number(100 + i).not_valid_before(start).not_valid_after(start.replace(year=2046))
                .sign(key, hashes.SHA256()))
        (tree / f"hostile-{i}.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def estate_assessment(root: Path) -> tuple[Path, tuple[str, str]]:
    """What `carnot assess` does for the embedded default (the sample estate, the simulated AWS estate), with
    the runtime lines of a named flow and of hostile SNIs and processes instead of a live sensor, and a scan of
    a hostile tree beside the sample estate. One finding on a hostile certificate is waived. Returns the folder
    and the waived (rule, bom_ref)."""
    from assess.cli import main

    def carnot(*args: str | Path) -> None:
        code = main([str(a) for a in args])
        assert code == 0, f"carnot {' '.join(map(str, args))} exited {code}"

    folder = root / "assessment"
    folder.mkdir(parents=True)
    _hostile_tree(root / "hostile-tree")
    lines = [_handshake(NAMED_SNI, NAMED_PROCESS, "x25519", 443),
             _handshake("api.partner.example", "curl", "X25519MLKEM768", 8443),
             *(_handshake(text, text, "x25519", 9000 + i) for i, text in enumerate(HOSTILE))]
    (root / "runtime.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    carnot("inventory", "aws", "--simulated", "--out", folder / "aws.cdx.json")
    carnot("scan", Path(__file__).resolve().parents[2] / "examples" / "estate", root / "hostile-tree",
           "--out", folder / "static.cdx.json")
    carnot("runtime", "to-bom", root / "runtime.jsonl", "--out", folder / "runtime.cdx.json")
    carnot("merge", folder / "static.cdx.json", folder / "runtime.cdx.json", folder / "aws.cdx.json",
           "-o", folder / "merged.cdx.json")
    carnot("gate", folder / "merged.cdx.json", "--out-dir", root / "first-gate")
    findings = json.loads((root / "first-gate" / "opa_result.json").read_text())["findings"]
    waived = next((f["rule"], f["bom_ref"]) for f in findings if f["bom_ref"].startswith("carnot:certificate:")
                  and not f["waived"])
    (root / "waivers.json").write_text(json.dumps([{"rule": waived[0], "bom_ref": waived[1], "until": "2099-01-01",
                                                    "reason": HOSTILE[0]}]))
    carnot("gate", folder / "merged.cdx.json", "--out-dir", folder / "gate", "--waivers", root / "waivers.json")
    (folder / "stages.json").write_text(json.dumps({
        name: {"status": "run", "reason": ""} for name in ("scan", "runtime", "aws", "merge", "gate")}))
    carnot("attest", "--bom", folder / "merged.cdx.json", "--gate", folder / "gate", "--out", folder)
    carnot("viz", "--bom", folder / "merged.cdx.json", "--gate", folder / "gate", "--out", folder)
    return folder, waived


@dataclass(frozen=True)
class EstateSite:
    out: Path
    entry: BundleEntry
    waived: tuple[str, str]

    @property
    def pages(self) -> Path:
        return self.out / "assessments" / self.entry.id
