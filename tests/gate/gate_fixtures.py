"""Test assets for the gate: a CBOM written with Carnot's own properties (docs/CBOM_PROFILE.md),
built through assess.model and assess.cbom like every producer, one asset per behaviour to judge."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from cyclonedx.model.crypto import (
    AlgorithmProperties,
    CertificateProperties,
    CryptoAssetType,
    CryptoPrimitive,
    CryptoProperties,
    ProtocolProperties,
    ProtocolPropertiesCipherSuite,
    ProtocolPropertiesType,
    RelatedCryptoMaterialProperties,
    RelatedCryptoMaterialType,
)

from assess.cbom import shard_to_document, write_document
from assess.model import Asset, Evidence, Prop, Shard, Source, props

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
POLICIES = Path(__file__).resolve().parents[2] / "policies"
HOSTILE = 'evil | name\n<img src=x onerror=alert(1)> [click](https://evil.example) www.evil.example `x` @admin'


def _cert(ref: str, name: str, not_after: datetime, signature: str, key: str, bits: str) -> Asset:
    return Asset(
        bom_ref=ref, name=name,
        crypto=CryptoProperties(asset_type=CryptoAssetType.CERTIFICATE, certificate_properties=CertificateProperties(
            subject_name=f"CN={name}", issuer_name="CN=Test CA", not_valid_before=NOW - timedelta(days=365),
            not_valid_after=not_after, certificate_format="X.509")),
        evidence=(Evidence(Source.STATIC, f"certs/{name}.pem", line=1, sha256="0" * 64),),
        properties=props({Prop.CERT_SIGNATURE_ALGORITHM: signature, Prop.CERT_PUBLIC_KEY_ALGORITHM: key,
                          Prop.CERT_PUBLIC_KEY_BITS: bits}),
    )


def _tls(ref: str, name: str, source: Source, location: str, line: int | None, version: str,
         properties: dict[str, object], suites: tuple[str, ...] = ()) -> Asset:
    return Asset(
        bom_ref=ref, name=name,
        crypto=CryptoProperties(asset_type=CryptoAssetType.PROTOCOL, protocol_properties=ProtocolProperties(
            type=ProtocolPropertiesType.TLS, version=version,
            cipher_suites=[ProtocolPropertiesCipherSuite(name=s) for s in suites])),
        evidence=(Evidence(source, location, line=line),),
        properties=props(properties),
    )


def estate_assets() -> tuple[Asset, ...]:
    """Each asset is named for the finding it must (or must not) produce."""
    return (
        Asset(
            bom_ref="key:rsa-1024", name="legacy.key",
            crypto=CryptoProperties(asset_type=CryptoAssetType.RELATED_CRYPTO_MATERIAL,
                                    related_crypto_material_properties=RelatedCryptoMaterialProperties(
                                        type=RelatedCryptoMaterialType.PRIVATE_KEY, size=1024)),
            evidence=(Evidence(Source.STATIC, "keys/legacy.key", line=1),),
            properties=props({Prop.ALGORITHM: "RSA", Prop.KEY_BITS: 1024}),
        ),
        Asset(
            bom_ref="alg:md5", name="MD5",
            crypto=CryptoProperties(asset_type=CryptoAssetType.ALGORITHM, algorithm_properties=AlgorithmProperties(
                primitive=CryptoPrimitive.HASH)),
            evidence=(Evidence(Source.STATIC, "src/app.py", line=42, context="hashlib.md5"),),
            properties=props({Prop.ALGORITHM: "MD5"}),
        ),
        _cert("cert:expired", "expired.example", NOW - timedelta(days=2), "sha256WithRSAEncryption", "RSA", "2048"),
        _cert("cert:soon", "soon.example", NOW + timedelta(days=10), "ecdsa-with-SHA256", "EC", "256"),
        _cert("cert:long-lived", "long.example", datetime(2032, 1, 1, tzinfo=UTC), "sha256WithRSAEncryption", "RSA",
              "3072"),
        _cert("cert:sha1", "sha1.example", NOW + timedelta(days=200), "sha1WithRSAEncryption", "RSA", "2048"),
        _tls("tls:nginx-legacy", "nginx.conf", Source.STATIC, "etc/nginx/nginx.conf", 12, "1.2",
             {Prop.TLS_VERSIONS: "TLSv1,TLSv1.1,TLSv1.2", Prop.TLS_CIPHER_SUITES: "ECDHE-RSA-AES128-SHA,RC4-SHA",
              Prop.TLS_GROUPS: "x25519,secp256r1"}),
        _tls("tls:nginx-pq", "pq.conf", Source.STATIC, "etc/nginx/pq.conf", 3, "1.3",
             {Prop.TLS_VERSIONS: "TLSv1.2,TLSv1.3", Prop.TLS_GROUPS: "X25519MLKEM768,x25519",
              Prop.TLS_PQ_HYBRID: True}, ("TLS_AES_128_GCM_SHA256",)),
        _tls("tls:runtime-classical", HOSTILE, Source.RUNTIME, "web-1/4242/curl", None, "1.3",
             {Prop.TLS_NEGOTIATED_GROUP: "x25519", Prop.TLS_PQ_HYBRID: False, Prop.RUNTIME_SNI: HOSTILE,
              Prop.RUNTIME_HANDSHAKES: 7}),
        _tls("tls:elb", "listener/app/web", Source.AWS,
             "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/web", None, "1.3",
             {Prop.TLS_POLICY: "ELBSecurityPolicy-TLS13-1-2-2021-06", Prop.AWS_SERVICE: "elbv2",
              Prop.TLS_PQ_HYBRID: False}),
        Asset(
            bom_ref="ssh:sshd", name="sshd_config",
            crypto=CryptoProperties(asset_type=CryptoAssetType.PROTOCOL,
                                    protocol_properties=ProtocolProperties(type=ProtocolPropertiesType.SSH)),
            evidence=(Evidence(Source.STATIC, "etc/ssh/sshd_config", line=20),),
            properties=props({Prop.SSH_KEX: "curve25519-sha256,diffie-hellman-group14-sha1",
                              Prop.SSH_MACS: "hmac-sha2-256,hmac-md5"}),
        ),
        Asset(
            bom_ref="kms:untagged-unrotated", name="alias/payments",
            crypto=CryptoProperties(asset_type=CryptoAssetType.RELATED_CRYPTO_MATERIAL,
                                    related_crypto_material_properties=RelatedCryptoMaterialProperties(
                                        type=RelatedCryptoMaterialType.SECRET_KEY, size=256)),
            evidence=(Evidence(Source.AWS, "arn:aws:kms:eu-west-1:123456789012:key/abcd"),),
            properties=props({Prop.AWS_SERVICE: "kms", Prop.AWS_KEY_MANAGER: "CUSTOMER",
                              Prop.AWS_KEY_SPEC: "SYMMETRIC_DEFAULT", Prop.AWS_ROTATION_ENABLED: False,
                              Prop.AWS_KEY_STATE: "Enabled", Prop.AWS_TAGGED: False}),
        ),
    )


def write_estate(path: Path) -> Path:
    write_document(shard_to_document(Shard(stage="static", assets=estate_assets()), timestamp=NOW), path)
    return path
