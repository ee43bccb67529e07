"""Mosca exposure on hand-computed cases: boundary years, hybrid groups, signatures, the timeline."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from cyclonedx.model.crypto import (
    AlgorithmProperties,
    CertificateProperties,
    CryptoAssetType,
    CryptoPrimitive,
    CryptoProperties,
    ProtocolProperties,
    ProtocolPropertiesType,
    RelatedCryptoMaterialProperties,
    RelatedCryptoMaterialType,
)

from assess.cbom import document_assets, read_cbom, write_shard
from assess.errors import ConfigError
from assess.exposure import (
    DeadlineStatus,
    ExposureConfig,
    QuantumTimeline,
    Risk,
    ShelfLifeBasis,
    assess_exposure,
    score,
)
from assess.model import Asset, Evidence, Prop, Shard, Source, props

AS_OF = date(2026, 11, 24)
# y = 5, z = 15 and the default timeline: the hand computations below use these.
CONFIG = ExposureConfig(migration_years=5.0, crqc_years=15.0, shelf_life_default_years=10.0)


def tls_flow(ref: str, group: str | None, **extra: object) -> Asset:
    return Asset(
        bom_ref=ref,
        name=f"tls {ref}",
        crypto=CryptoProperties(
            asset_type=CryptoAssetType.PROTOCOL,
            protocol_properties=ProtocolProperties(type=ProtocolPropertiesType.TLS, version="1.3"),
        ),
        evidence=(Evidence(Source.RUNTIME, "web01/4242/nginx"),),
        properties=props({
            Prop.SOURCE: "runtime", Prop.TLS_NEGOTIATED_GROUP: group, Prop.RUNTIME_ENDPOINT: "10.0.0.5:443",
            Prop.RUNTIME_SNI: "api.example.com", Prop.RUNTIME_HANDSHAKES: "12", **extra,
        }),
    )


def tls_config(ref: str, groups: list[str] | None, suites: list[str] | None = None) -> Asset:
    return Asset(
        bom_ref=ref,
        name=f"nginx {ref}",
        crypto=CryptoProperties(
            asset_type=CryptoAssetType.PROTOCOL,
            protocol_properties=ProtocolProperties(type=ProtocolPropertiesType.TLS, version="1.3"),
        ),
        evidence=(Evidence(Source.STATIC, "etc/nginx/nginx.conf", line=12),),
        properties=props({Prop.SOURCE: "static", Prop.TLS_GROUPS: groups, Prop.TLS_CIPHER_SUITES: suites}),
    )


def certificate(
    ref: str, not_after: datetime, key: str = "RSA", signature: str = "sha256WithRSAEncryption"
) -> Asset:
    return Asset(
        bom_ref=ref,
        name=f"cert {ref}",
        crypto=CryptoProperties(
            asset_type=CryptoAssetType.CERTIFICATE,
            certificate_properties=CertificateProperties(subject_name="CN=x", not_valid_after=not_after),
        ),
        properties=props({Prop.CERT_PUBLIC_KEY_ALGORITHM: key, Prop.CERT_SIGNATURE_ALGORITHM: signature}),
    )


def kms_key(ref: str, algorithm: str, usage: str, kind=RelatedCryptoMaterialType.PRIVATE_KEY) -> Asset:
    return Asset(
        bom_ref=ref,
        name=f"kms {ref}",
        crypto=CryptoProperties(
            asset_type=CryptoAssetType.RELATED_CRYPTO_MATERIAL,
            related_crypto_material_properties=RelatedCryptoMaterialProperties(type=kind),
        ),
        properties=props({Prop.ALGORITHM: algorithm, Prop.AWS_KEY_USAGE: usage, Prop.SOURCE: "aws"}),
    )


def test_classical_flow_with_confidential_data_is_within_margin_by_hand():
    result = score(tls_flow("f1", "x25519", **{Prop.DATA_CLASS: "confidential"}), CONFIG, AS_OF)
    # x = 5 (confidential), y = 5, z = 15: x + y = 10 < 15, five years of margin.
    assert result.risk is Risk.HNDL
    assert result.shelf_life_years == 5.0 and result.shelf_life_basis is ShelfLifeBasis.DATA_CLASS
    assert result.exposed is False
    assert result.exposure_years == -5.0
    # P[Z <= 10] = 0.31; E[max(0, 10 - Z)] = 5 * 0.11 / 2 + 5 * (0.11 + 0.31) / 2 = 0.275 + 1.05.
    assert result.probability_exposed == pytest.approx(0.31)
    assert result.expected_exposed_years == pytest.approx(1.325)
    assert result.is_flow and result.flow["endpoint"] == "10.0.0.5:443"


def test_shelf_life_plus_migration_equal_to_crqc_years_is_the_boundary_and_not_exposed():
    at_boundary = score(tls_flow("f2", "secp256r1", **{Prop.SHELF_LIFE_YEARS: "10"}), CONFIG, AS_OF)
    just_over = score(tls_flow("f3", "secp256r1", **{Prop.SHELF_LIFE_YEARS: "10.5"}), CONFIG, AS_OF)
    assert at_boundary.shelf_life_basis is ShelfLifeBasis.STATED
    assert at_boundary.exposure_years == 0.0 and at_boundary.exposed is False
    assert just_over.exposure_years == pytest.approx(0.5) and just_over.exposed is True
    # P[Z <= 15.5] = 0.50 + (0.65 - 0.50) * 0.5 / 5
    assert just_over.probability_exposed == pytest.approx(0.515)


def test_hybrid_mlkem_group_is_not_exposed_even_with_decades_of_shelf_life():
    for group in ("X25519MLKEM768", "x25519_mlkem768", "0x11EC", "SecP256r1MLKEM768"):
        result = score(tls_flow("f4", group, **{Prop.SHELF_LIFE_YEARS: "50"}), CONFIG, AS_OF)
        assert result.risk is Risk.QUANTUM_SAFE, group
        assert result.exposed is False and result.exposure_years is None


def test_untagged_data_uses_the_marked_default_shelf_life():
    result = score(tls_flow("f5", "x25519"), CONFIG, AS_OF)
    assert result.shelf_life_years == 10.0 and result.shelf_life_basis is ShelfLifeBasis.DEFAULT
    assert result.exposure_years == 0.0 and result.exposed is False


def test_a_producer_default_shelf_life_yields_to_the_configured_default():
    asset = tls_flow("f6", "x25519", **{Prop.SHELF_LIFE_YEARS: "30", Prop.SHELF_LIFE_DEFAULTED: "true"})
    result = score(asset, CONFIG, AS_OF)
    assert result.shelf_life_basis is ShelfLifeBasis.DEFAULT and result.shelf_life_years == 10.0


def test_rsa_key_transport_suite_on_an_observed_flow_is_exposed():
    asset = tls_flow("f7", None, **{Prop.TLS_CIPHER_SUITES: "TLS_RSA_WITH_AES_128_GCM_SHA256",
                                    Prop.DATA_CLASS: "health"})
    result = score(asset, CONFIG, AS_OF)
    # x = 25 (health), y = 5, z = 15: exposed by 15 years.
    assert result.risk is Risk.HNDL and result.reason.startswith("RSA key transport")
    assert result.exposed is True and result.exposure_years == 15.0


def test_observed_tls13_flow_without_group_is_unknown_not_guessed():
    result = score(tls_flow("f8", None), CONFIG, AS_OF)
    assert result.risk is Risk.UNKNOWN and result.exposed is False


def test_observed_tls12_ecdhe_suite_without_group_is_classical():
    asset = tls_flow("f9", None, **{Prop.TLS_CIPHER_SUITES: "ECDHE-RSA-AES128-GCM-SHA256"})
    result = score(asset, CONFIG, AS_OF)
    assert result.risk is Risk.HNDL and "(EC)DHE" in result.reason


def test_tls_configs_are_exposed_unless_they_offer_a_pq_group():
    classical = score(tls_config("c1", ["x25519", "prime256v1"]), CONFIG, AS_OF)
    hybrid = score(tls_config("c2", ["X25519MLKEM768", "x25519"]), CONFIG, AS_OF)
    unstated = score(tls_config("c3", None), CONFIG, AS_OF)
    rsa_only = score(tls_config("c4", None, ["AES128-GCM-SHA256", "AES256-SHA"]), CONFIG, AS_OF)
    assert classical.risk is Risk.HNDL and classical.algorithm == "x25519"
    assert hybrid.risk is Risk.QUANTUM_SAFE and hybrid.algorithm == "X25519MLKEM768"
    assert unstated.risk is Risk.HNDL and "no post-quantum group" in unstated.reason
    assert rsa_only.risk is Risk.HNDL and "RSA key transport" in rsa_only.reason
    assert not classical.is_flow


def test_certificates_are_scored_against_the_2030_and_2035_deadlines_at_the_boundaries():
    cases = {
        datetime(2030, 12, 31, 23, 59, tzinfo=UTC): DeadlineStatus.EXPIRES_BEFORE_DEADLINE,
        datetime(2031, 1, 1, tzinfo=UTC): DeadlineStatus.VALID_PAST_DEPRECATED,
        datetime(2035, 12, 31, tzinfo=UTC): DeadlineStatus.VALID_PAST_DEPRECATED,
        datetime(2036, 1, 1, tzinfo=UTC): DeadlineStatus.VALID_PAST_DISALLOWED,
    }
    for not_after, expected in cases.items():
        result = score(certificate("k", not_after), CONFIG, AS_OF)
        assert result.risk is Risk.SIGNATURE_DEADLINE
        assert result.deadline_status is expected, not_after
        assert result.exposed is (expected is not DeadlineStatus.EXPIRES_BEFORE_DEADLINE)
        assert result.shelf_life_years is None  # signatures are not scored as HNDL


def test_ml_dsa_certificate_is_quantum_safe():
    result = score(certificate("pq", datetime(2040, 1, 1, tzinfo=UTC), "ML-DSA", "ML-DSA-65"), CONFIG, AS_OF)
    assert result.risk is Risk.QUANTUM_SAFE and not result.exposed


def test_keys_by_use_encryption_is_hndl_signing_is_deadline_symmetric_is_not_applicable():
    enc = score(kms_key("k1", "RSA", "ENCRYPT_DECRYPT"), CONFIG, AS_OF)
    sig = score(kms_key("k2", "RSA", "SIGN_VERIFY"), CONFIG, AS_OF)
    agree = score(kms_key("k3", "ECC_NIST_P256", "KEY_AGREEMENT"), CONFIG, AS_OF)
    aes = score(kms_key("k4", "AES", "ENCRYPT_DECRYPT", RelatedCryptoMaterialType.SECRET_KEY), CONFIG, AS_OF)
    assert (enc.risk, sig.risk, agree.risk, aes.risk) == (
        Risk.HNDL, Risk.SIGNATURE_DEADLINE, Risk.HNDL, Risk.NOT_APPLICABLE,
    )
    assert sig.deadline_status is DeadlineStatus.NO_EXPIRY and sig.exposed is False  # 2026 is before 2030
    later = score(kms_key("k2", "RSA", "SIGN_VERIFY"), CONFIG, date(2031, 1, 1))
    assert later.exposed is True


def test_algorithms_key_agreement_is_hndl_hashes_are_not_applicable():
    def algo(name: str, primitive: CryptoPrimitive) -> Asset:
        return Asset(
            bom_ref=name, name=name,
            crypto=CryptoProperties(asset_type=CryptoAssetType.ALGORITHM,
                                    algorithm_properties=AlgorithmProperties(primitive=primitive)),
            properties=props({Prop.ALGORITHM: name}),
        )

    assert score(algo("ECDH", CryptoPrimitive.KEY_AGREE), CONFIG, AS_OF).risk is Risk.HNDL
    assert score(algo("ML-KEM", CryptoPrimitive.KEM), CONFIG, AS_OF).risk is Risk.QUANTUM_SAFE
    assert score(algo("ECDSA", CryptoPrimitive.SIGNATURE), CONFIG, AS_OF).risk is Risk.SIGNATURE_DEADLINE
    assert score(algo("SHA-256", CryptoPrimitive.HASH), CONFIG, AS_OF).risk is Risk.NOT_APPLICABLE
    assert score(algo("RSA", CryptoPrimitive.PKE), CONFIG, AS_OF).risk is Risk.HNDL


def test_timeline_is_piecewise_linear_and_its_expected_exceedance_is_exact():
    timeline = QuantumTimeline()
    assert timeline.probability_by(0) == 0.0
    assert timeline.probability_by(7.5) == pytest.approx(0.21)
    assert timeline.probability_by(100) == pytest.approx(0.80)  # flat: never certain
    # areas: 0.275 + 1.05 + 2.025 + 2.875 + 7.25 = 13.475 to year 30, then 0.8 per year
    assert timeline.expected_exceedance(30) == pytest.approx(13.475)
    assert timeline.expected_exceedance(40) == pytest.approx(21.475)


def test_timeline_rejects_decreasing_or_out_of_range_points():
    with pytest.raises(ConfigError):
        QuantumTimeline(points=((5, 0.5), (10, 0.4)))
    with pytest.raises(ConfigError):
        QuantumTimeline(points=((5, 1.5),))


def test_config_from_toml_table_marks_what_was_configured():
    config = ExposureConfig.from_toml_table({
        "migration_years": 7, "shelf_life_by_class": {"Trade-Secret": 50},
        "timeline": {"points": [[10, 0.5], [20, 0.9]], "source": "our board's view"},
    })
    assumptions = config.assumptions()
    assert assumptions["migration_years"] == {"value": 7.0, "origin": "configured"}
    assert assumptions["crqc_years"]["origin"] == "default"
    assert config.shelf_life_by_class["trade-secret"] == 50.0
    assert config.shelf_life_by_class["public"] == 0.0  # defaults kept for classes not overridden
    assert config.timeline.probability_by(5) == pytest.approx(0.25)
    with pytest.raises(ConfigError, match="unknown key"):
        ExposureConfig.from_toml_table({"migration_yeras": 7})
    with pytest.raises(ConfigError, match="non-negative"):
        ExposureConfig.from_toml_table({"crqc_years": -1})
    with pytest.raises(ConfigError, match="source"):
        ExposureConfig.from_toml_table({"timeline": {"points": [[10, 0.5]]}})


def test_report_from_a_real_cbom_counts_flows_and_sorts_worst_first(tmp_path):
    assets = (
        tls_flow("carnot:tls:a", "x25519", **{Prop.DATA_CLASS: "secret"}),
        tls_flow("carnot:tls:b", "X25519MLKEM768", **{Prop.DATA_CLASS: "secret"}),
        tls_flow("carnot:tls:c", "secp384r1", **{Prop.SHELF_LIFE_YEARS: "12"}),
        certificate("carnot:cert:d", datetime(2037, 1, 1, tzinfo=UTC)),
    )
    path = write_shard(Shard(stage="runtime", assets=assets), tmp_path / "runtime.cdx.json")
    report = assess_exposure(document_assets(read_cbom(path)), CONFIG, AS_OF)
    summary = report.summary()
    assert summary["flows"] == 3 and summary["flows_exposed"] == 2
    assert summary["handshakes_exposed"] == 24
    assert summary["max_exposure_years"] == 15.0  # secret: 25 + 5 - 15
    assert summary["signature_past_deadline"] == 1
    assert [r.bom_ref for r in report.exposed()][:2] == ["carnot:tls:a", "carnot:tls:c"]
    as_dict = report.to_dict()
    assert as_dict["assumptions"]["crqc_years"]["value"] == 15.0
    assert [r["bom_ref"] for r in as_dict["results"]] == sorted(a.bom_ref for a in assets)


def test_outside_cbom_certificate_resolves_its_signature_algorithm_by_ref(conformance_cboms):
    path = next(p for p in conformance_cboms if p.name == "Certificate.cdx.json")
    report = assess_exposure(document_assets(read_cbom(path)), CONFIG, AS_OF)
    by_name = {r.name: r for r in report.results}
    cert = by_name["google.com"]
    assert cert.risk is Risk.SIGNATURE_DEADLINE and cert.algorithm == "SHA512withRSA"
    assert cert.deadline_status is DeadlineStatus.EXPIRES_BEFORE_DEADLINE  # expired in 2017
    assert by_name["SHA512withRSA"].risk is Risk.SIGNATURE_DEADLINE  # the name says signature, not hash


def test_ssh_hybrid_kex_is_quantum_safe_and_classical_kex_is_hndl():
    def ssh(ref: str, kex: str | None) -> Asset:
        return Asset(
            bom_ref=ref, name=f"sshd {ref}",
            crypto=CryptoProperties(asset_type=CryptoAssetType.PROTOCOL,
                                    protocol_properties=ProtocolProperties(type=ProtocolPropertiesType.SSH)),
            properties=props({Prop.SOURCE: "static", Prop.SSH_KEX: kex}),
        )

    hybrid = score(ssh("s1", "mlkem768x25519-sha256,curve25519-sha256"), CONFIG, AS_OF)
    classical = score(ssh("s2", "curve25519-sha256,diffie-hellman-group14-sha256"), CONFIG, AS_OF)
    assert hybrid.risk is Risk.QUANTUM_SAFE
    assert classical.risk is Risk.HNDL and classical.algorithm == "curve25519-sha256"
    assert score(ssh("s3", None), CONFIG, AS_OF).risk is Risk.UNKNOWN
