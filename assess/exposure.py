"""Harvest-now-decrypt-later exposure after Mosca, and signature migration deadlines. Pure.

Mosca's inequality: with x = the years the protected data must stay confidential (shelf-life),
y = the years the migration to post-quantum cryptography will take, and z = the years until a
cryptographically relevant quantum computer (CRQC) exists, data protected today by classical key
exchange or encryption is exposed when x + y > z, by x + y - z years. Traffic recorded today can
be decrypted once the CRQC exists, so only confidentiality (key exchange, key transport, public-key
encryption) is scored this way. Hybrid and pure ML-KEM key exchange is not exposed. Signatures and
certificates cannot be harvested for later: they are scored against migration deadlines instead
(NIST IR 8547: quantum-vulnerable signatures deprecated after 2030, disallowed after 2035).

Public API (the visualization and attestation stages build on it):

- `ExposureConfig` — every assumption (x by data class and its default, y, z, the timeline, the
  signature deadlines). `ExposureConfig.from_toml_table(table)` reads a `[exposure]` TOML table;
  `ExposureConfig()` is the documented default. `config.assumptions()` is the dict to print.
- `QuantumTimeline` — a cumulative distribution of the years to a CRQC, piecewise linear between
  `points` ((years, probability) pairs). `probability_by(t)` and `expected_exceedance(t)`
  (E[max(0, t - Z)], the expected years of exposure) are exact for that piecewise-linear curve.
- `assess_exposure(assets, config, as_of) -> ExposureReport` — one `ExposureResult` per asset.
  `report.flows` are the observed flows (runtime protocol assets); `report.summary()` counts;
  `report.to_dict()` is the JSON form written into the attestation.
- `ExposureResult` — `risk` (a `Risk`), `exposed`, `exposure_years` (x + y - z),
  `probability_exposed` (P[Z < x + y]), `expected_exposed_years`, the inputs used (x, its basis,
  y, z), `algorithm` (what drove the verdict), `sources`, `reason`; for signatures `valid_until`,
  `deadline_status` (a `DeadlineStatus`) and `years_past_deadline`; for flows `flow` (`protocol`:
  `tls`, `quic` or `ssh`; endpoint, SNI, host, process, handshakes, negotiated group or kex).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from itertools import pairwise
from typing import Any

from cyclonedx.model.crypto import (
    CryptoAssetType,
    CryptoFunction,
    CryptoPrimitive,
    ProtocolPropertiesType,
    RelatedCryptoMaterialType,
)

from assess.errors import ConfigError
from assess.model import Asset, Prop, Source, parse_count, parse_years
from assess.sshnames import is_pq_kex
from assess.tlsnames import iana_cipher_suite, is_pq_group, normalise_group


class Risk(StrEnum):
    """What kind of quantum risk an asset carries."""

    HNDL = "hndl"  # classical key exchange / key transport / public-key encryption: harvestable today
    SIGNATURE_DEADLINE = "signature_deadline"  # quantum-vulnerable signature or certificate
    QUANTUM_SAFE = "quantum_safe"  # hybrid or pure ML-KEM, ML-DSA, SLH-DSA, ...
    NOT_APPLICABLE = "not_applicable"  # symmetric ciphers, hashes, MACs: not broken by Shor
    UNKNOWN = "unknown"  # not enough facts to decide; never guessed


class DeadlineStatus(StrEnum):
    """Where a quantum-vulnerable signature stands against the migration deadlines."""

    VALID_PAST_DISALLOWED = "valid_past_disallowed"  # a certificate valid after the disallowed year
    VALID_PAST_DEPRECATED = "valid_past_deprecated"  # valid after the deprecated year, not after disallowed
    EXPIRES_BEFORE_DEADLINE = "expires_before_deadline"
    NO_EXPIRY = "no_expiry"  # a key or algorithm in use: must be migrated by the deadlines


class ShelfLifeBasis(StrEnum):
    STATED = "stated"  # carnot:shelf_life_years on the asset
    DATA_CLASS = "data_class"  # carnot:data_class looked up in the config
    DEFAULT = "default"  # nothing stated: the configured default


# The GRI Quantum Threat Timeline Report 2023 (published January 2024) gives ~11 % within 5 years
# and ~31 % within 10 years; the later points are Carnot's approximation (docs/EXPOSURE.md).
DEFAULT_TIMELINE_POINTS: tuple[tuple[float, float], ...] = (
    (0.0, 0.0), (5.0, 0.11), (10.0, 0.31), (15.0, 0.50), (20.0, 0.65), (30.0, 0.80),
)
DEFAULT_TIMELINE_SOURCE = (
    "Global Risk Institute, Quantum Threat Timeline Report 2023 (Mosca & Piani, January 2024): "
    "~11% within 5 years, ~31% within 10 years; 15/20/30-year points are Carnot approximations"
)

# Carnot's defaults (not from any standard); every one is printed and marked as a default.
DEFAULT_SHELF_LIFE_BY_CLASS: dict[str, float] = {
    "public": 0.0,
    "internal": 2.0,
    "confidential": 5.0,
    "pii": 10.0,
    "financial": 10.0,
    "restricted": 10.0,
    "health": 25.0,
    "secret": 25.0,
}


@dataclass(frozen=True)
class QuantumTimeline:
    """Cumulative probability that a CRQC exists within t years, linear between points."""

    points: tuple[tuple[float, float], ...] = DEFAULT_TIMELINE_POINTS
    source: str = DEFAULT_TIMELINE_SOURCE

    def __post_init__(self) -> None:
        if not self.points:
            raise ConfigError("exposure timeline: at least one (years, probability) point is needed")
        previous = (0.0, 0.0)
        for years, probability in self.points:
            if not 0.0 <= probability <= 1.0:
                raise ConfigError(f"exposure timeline: probability {probability} is not between 0 and 1")
            if years < previous[0] or probability < previous[1]:
                raise ConfigError("exposure timeline: points must be non-decreasing in years and probability")
            previous = (years, probability)

    def _curve(self) -> list[tuple[float, float]]:
        curve = list(self.points)
        if curve[0][0] > 0.0:
            curve.insert(0, (0.0, 0.0))
        return curve

    def probability_by(self, years: float) -> float:
        """P[Z <= years]; flat after the last point (the survey does not say the CRQC is certain)."""
        if years <= 0.0:
            return 0.0
        curve = self._curve()
        for (t0, p0), (t1, p1) in pairwise(curve):
            if years <= t1:
                return p0 if t1 == t0 else p0 + (p1 - p0) * (years - t0) / (t1 - t0)
        return curve[-1][1]

    def expected_exceedance(self, years: float) -> float:
        """E[max(0, years - Z)] = the integral of P[Z <= t] from 0 to years (exact, piecewise linear)."""
        if years <= 0.0:
            return 0.0
        total = 0.0
        curve = self._curve()
        for (t0, _), (t1, _) in pairwise(curve):
            if t0 >= years:
                break
            end = min(t1, years)
            total += (self.probability_by(t0) + self.probability_by(end)) / 2.0 * (end - t0)
        last_t = curve[-1][0]
        if years > last_t:
            total += curve[-1][1] * (years - last_t)
        return total


@dataclass(frozen=True)
class ExposureConfig:
    """Every assumption of the exposure scoring. The defaults are Carnot's, marked as defaults."""

    migration_years: float = 5.0
    crqc_years: float = 15.0
    shelf_life_default_years: float = 10.0
    shelf_life_by_class: Mapping[str, float] = field(
        default_factory=lambda: dict(DEFAULT_SHELF_LIFE_BY_CLASS)
    )
    timeline: QuantumTimeline = field(default_factory=QuantumTimeline)
    signature_deprecated_after: int = 2030
    signature_disallowed_after: int = 2035
    defaults_overridden: frozenset[str] = frozenset()

    @classmethod
    def from_toml_table(cls, table: Mapping[str, Any], origin: str = "[exposure]") -> ExposureConfig:
        """Read a `[exposure]` TOML table (already parsed); unknown keys are errors, not ignored."""
        known = {
            "migration_years", "crqc_years", "shelf_life_default_years", "shelf_life_by_class",
            "timeline", "signature_deprecated_after", "signature_disallowed_after",
        }
        unknown = sorted(set(table) - known)
        if unknown:
            raise ConfigError(
                f"{origin}: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
            )
        kwargs: dict[str, Any] = {}
        for key in ("migration_years", "crqc_years", "shelf_life_default_years"):
            if key in table:
                kwargs[key] = _non_negative(table[key], f"{origin}.{key}")
        for key in ("signature_deprecated_after", "signature_disallowed_after"):
            if key in table:
                if not isinstance(table[key], int) or isinstance(table[key], bool):
                    raise ConfigError(f"{origin}.{key} must be a year (an integer), got {table[key]!r}")
                kwargs[key] = table[key]
        if "shelf_life_by_class" in table:
            classes = table["shelf_life_by_class"]
            if not isinstance(classes, Mapping):
                raise ConfigError(f"{origin}.shelf_life_by_class must be a table of data class = years")
            merged = dict(DEFAULT_SHELF_LIFE_BY_CLASS)
            for name, years in classes.items():
                merged[str(name).lower()] = _non_negative(years, f"{origin}.shelf_life_by_class.{name}")
            kwargs["shelf_life_by_class"] = merged
        if "timeline" in table:
            kwargs["timeline"] = _timeline_from_table(table["timeline"], f"{origin}.timeline")
        return cls(**kwargs, defaults_overridden=frozenset(table))

    def shelf_life(self, asset: Asset) -> tuple[float, ShelfLifeBasis, str | None]:
        """x for an asset: stated years, else its data class looked up, else the default."""
        data_class = asset.prop(Prop.DATA_CLASS)
        stated = asset.prop(Prop.SHELF_LIFE_YEARS)
        defaulted = asset.prop(Prop.SHELF_LIFE_DEFAULTED) == "true"
        years = parse_years(stated) if stated is not None else None
        if years is not None and not defaulted:
            return years, ShelfLifeBasis.STATED, data_class
        if data_class is not None and not defaulted and data_class.lower() in self.shelf_life_by_class:
            return self.shelf_life_by_class[data_class.lower()], ShelfLifeBasis.DATA_CLASS, data_class
        return self.shelf_life_default_years, ShelfLifeBasis.DEFAULT, data_class

    def assumptions(self) -> dict[str, Any]:
        """The inputs of the scoring, each marked as a default or as configured, for the report."""

        def origin(key: str) -> str:
            return "configured" if key in self.defaults_overridden else "default"

        return {
            "model": "Mosca: exposed when x + y > z (x shelf-life, y migration years, z years to a CRQC)",
            "migration_years": {"value": self.migration_years, "origin": origin("migration_years")},
            "crqc_years": {"value": self.crqc_years, "origin": origin("crqc_years")},
            "shelf_life_default_years": {
                "value": self.shelf_life_default_years, "origin": origin("shelf_life_default_years"),
            },
            "shelf_life_by_class": {
                "value": dict(sorted(self.shelf_life_by_class.items())),
                "origin": origin("shelf_life_by_class"),
            },
            "timeline": {
                "points": [list(p) for p in self.timeline.points],
                "source": self.timeline.source,
                "origin": origin("timeline"),
            },
            "signature_deprecated_after": {
                "value": self.signature_deprecated_after, "origin": origin("signature_deprecated_after"),
            },
            "signature_disallowed_after": {
                "value": self.signature_disallowed_after, "origin": origin("signature_disallowed_after"),
            },
        }


def _non_negative(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ConfigError(f"{where} must be a non-negative number of years, got {value!r}")
    return float(value)


def _timeline_from_table(table: Any, where: str) -> QuantumTimeline:
    if not isinstance(table, Mapping) or "points" not in table:
        raise ConfigError(f"{where} must be a table with points = [[years, probability], ...] and a source")
    raw_points = table["points"]
    points: list[tuple[float, float]] = []
    if not isinstance(raw_points, list):
        raise ConfigError(f"{where}.points must be a list of [years, probability] pairs")
    for pair in raw_points:
        if not isinstance(pair, list) or len(pair) != 2:
            raise ConfigError(f"{where}.points: {pair!r} is not a [years, probability] pair")
        points.append((_non_negative(pair[0], f"{where}.points"), _non_negative(pair[1], f"{where}.points")))
    source = table.get("source")
    if not isinstance(source, str) or not source.strip():
        raise ConfigError(f"{where}.source must say where the distribution comes from")
    return QuantumTimeline(points=tuple(points), source=source)


@dataclass(frozen=True)
class ExposureResult:
    """The verdict for one asset (or observed flow) with every input that produced it."""

    bom_ref: str
    name: str
    asset_type: str
    risk: Risk
    reason: str
    algorithm: str | None
    sources: tuple[str, ...]
    is_flow: bool = False
    flow: Mapping[str, str] | None = None
    # confidentiality (Mosca), for HNDL assets
    data_class: str | None = None
    shelf_life_years: float | None = None
    shelf_life_basis: ShelfLifeBasis | None = None
    migration_years: float | None = None
    crqc_years: float | None = None
    exposed: bool = False
    exposure_years: float | None = None
    probability_exposed: float | None = None
    expected_exposed_years: float | None = None
    # signatures and certificates
    valid_until: str | None = None
    deadline_status: DeadlineStatus | None = None
    years_past_deadline: float | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "bom_ref": self.bom_ref,
            "name": self.name,
            "asset_type": self.asset_type,
            "risk": str(self.risk),
            "reason": self.reason,
            "algorithm": self.algorithm,
            "sources": list(self.sources),
            "is_flow": self.is_flow,
            "exposed": self.exposed,
        }
        if self.flow is not None:
            out["flow"] = dict(sorted(self.flow.items()))
        if self.risk is Risk.HNDL:
            out.update(
                data_class=self.data_class,
                shelf_life_years=self.shelf_life_years,
                shelf_life_basis=str(self.shelf_life_basis),
                migration_years=self.migration_years,
                crqc_years=self.crqc_years,
                exposure_years=_round(self.exposure_years),
                probability_exposed=_round(self.probability_exposed),
                expected_exposed_years=_round(self.expected_exposed_years),
            )
        if self.risk is Risk.SIGNATURE_DEADLINE:
            out.update(
                valid_until=self.valid_until,
                deadline_status=str(self.deadline_status),
                years_past_deadline=_round(self.years_past_deadline),
            )
        return out


def _handshakes(result: ExposureResult) -> int:
    return parse_count((result.flow or {}).get("handshakes", "0")) or 0


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


@dataclass(frozen=True)
class ExposureReport:
    as_of: str
    assumptions: Mapping[str, Any]
    results: tuple[ExposureResult, ...]

    @property
    def flows(self) -> tuple[ExposureResult, ...]:
        return tuple(r for r in self.results if r.is_flow)

    def exposed(self) -> list[ExposureResult]:
        """Exposed results, worst first (most years over, then most probable), ties by bom-ref."""
        hits = [r for r in self.results if r.exposed]
        return sorted(
            hits,
            key=lambda r: (-(r.exposure_years or 0.0), -(r.probability_exposed or 0.0),
                           -(r.years_past_deadline or 0.0), r.bom_ref),
        )

    def summary(self) -> dict[str, Any]:
        by_risk = Counter(str(r.risk) for r in self.results)
        hndl = [r for r in self.results if r.risk is Risk.HNDL]
        flows = self.flows
        return {
            "assets": len(self.results),
            "by_risk": {str(k): by_risk.get(str(k), 0) for k in Risk},
            "hndl_exposed": sum(1 for r in hndl if r.exposed),
            "hndl_within_margin": sum(1 for r in hndl if not r.exposed),
            "signature_past_deadline": sum(
                1 for r in self.results if r.risk is Risk.SIGNATURE_DEADLINE and r.exposed
            ),
            "flows": len(flows),
            "flows_exposed": sum(1 for r in flows if r.exposed and r.risk is Risk.HNDL),
            "handshakes_exposed": sum(
                _handshakes(r) for r in flows if r.exposed and r.risk is Risk.HNDL
            ),
            "max_exposure_years": max((r.exposure_years or 0.0 for r in hndl if r.exposed), default=0.0),
            "expected_exposed_years_total": round(sum(r.expected_exposed_years or 0.0 for r in hndl), 4),
            "shelf_life_defaulted": sum(1 for r in hndl if r.shelf_life_basis is ShelfLifeBasis.DEFAULT),
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of,
            "assumptions": dict(self.assumptions),
            "summary": self.summary(),
            "results": [r.to_dict() for r in sorted(self.results, key=lambda r: r.bom_ref)],
        }


# --- classification ----------------------------------------------------------------------------

_KEY_EXCHANGE = {"DH", "ECDH", "X25519", "X448", "FFDH", "ECDHE", "DHE", "ECMQV"}
_VULNERABLE_SIGNATURE = {"ECDSA", "DSA", "ED25519", "ED448", "EDDSA", "EC", "SM2", "GOST"}
_PQ = {"ML-KEM", "MLKEM", "KYBER", "ML-DSA", "MLDSA", "DILITHIUM", "SLH-DSA", "SPHINCS+", "LMS", "XMSS",
       "HSS", "FN-DSA", "FALCON", "HQC", "FRODOKEM", "CLASSIC-MCELIECE"}
_PQ_PREFIXES = tuple(sorted(_PQ))
_ENCRYPTION_FUNCTIONS = {CryptoFunction.ENCRYPT, CryptoFunction.DECRYPT, CryptoFunction.ENCAPSULATE,
                         CryptoFunction.DECAPSULATE}


# Families recognised in other tools' component names ("SHA512withRSA", "ECDH-P-256"), in the
# order they are tried: the public-key family wins over the hash a signature name also carries.
_NAME_FAMILIES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (family, re.compile(pattern)) for family, pattern in (
        ("ML-KEM", r"ML-?KEM|KYBER"), ("ML-DSA", r"ML-?DSA|DILITHIUM"), ("SLH-DSA", r"SLH-?DSA|SPHINCS"),
        ("ECDSA", r"ECDSA"), ("ECDH", r"ECDHE?|ECMQV"), ("X25519", r"X25519"), ("X448", r"X448"),
        ("ED25519", r"ED25519"), ("ED448", r"ED448"), ("RSA", r"RSA"), ("DSA", r"(?<![A-Z])DSA"),
        ("DH", r"(?<![A-Z])(?:FF)?DHE?(?![A-Z])|DIFFIE"),
    )
)


def _family(asset: Asset) -> str | None:
    """The normalised algorithm family: carnot:algorithm, else read from the component name."""
    stated = asset.prop(Prop.ALGORITHM) or asset.prop(Prop.CERT_PUBLIC_KEY_ALGORITHM)
    if stated:
        return stated.strip().upper()
    return _family_from_name(asset.name)


def _family_from_name(name: str) -> str | None:
    upper = name.strip().upper()
    for family, pattern in _NAME_FAMILIES:
        if pattern.search(upper):
            return family
    match = re.match(r"[A-Z0-9]+", upper)
    return match.group(0) if match else None


def _is_pq_family(family: str | None) -> bool:
    return family is not None and family.startswith(_PQ_PREFIXES)


def _rsa_kx_suite(suite: str) -> bool:
    return iana_cipher_suite(suite).upper().startswith("TLS_RSA_")


def _classical_dh_suite(suite: str) -> bool:
    return iana_cipher_suite(suite).upper().startswith(("TLS_ECDHE_", "TLS_DHE_", "TLS_ECDH_", "TLS_DH_"))


def _list_prop(asset: Asset, name: str) -> list[str]:
    raw = asset.prop(name)
    return [v.strip() for v in raw.split(",") if v.strip()] if raw else []


def _sources(asset: Asset) -> tuple[str, ...]:
    found = {v for k, v in asset.properties if k == Prop.SOURCE}
    found |= {str(ev.source) for ev in asset.evidence}
    return tuple(sorted(found))


@dataclass(frozen=True)
class _Verdict:
    risk: Risk
    reason: str
    algorithm: str | None


def _classify_tls(asset: Asset, observed: bool) -> _Verdict:
    negotiated = asset.prop(Prop.TLS_NEGOTIATED_GROUP)
    pq_flag = asset.prop(Prop.TLS_PQ_HYBRID)
    groups = [normalise_group(g) for g in _list_prop(asset, Prop.TLS_GROUPS)]
    suites = _list_prop(asset, Prop.TLS_CIPHER_SUITES)
    protocol = asset.crypto.protocol_properties if asset.crypto else None
    if protocol is not None:
        suites += [cs.name for cs in protocol.cipher_suites if cs.name and cs.name not in suites]
    if negotiated:
        group = normalise_group(negotiated)
        if is_pq_group(group):
            return _Verdict(Risk.QUANTUM_SAFE, f"negotiated post-quantum group {group}", group)
        return _Verdict(Risk.HNDL, f"negotiated classical key exchange group {group}", group)
    if observed:
        if suites and all(_rsa_kx_suite(s) for s in suites):
            return _Verdict(Risk.HNDL, "RSA key transport cipher suite negotiated", suites[0])
        if pq_flag == "true":
            return _Verdict(Risk.QUANTUM_SAFE, "observed as post-quantum hybrid", None)
        if suites and all(_classical_dh_suite(s) for s in suites):
            # TLS 1.2 (EC)DHE suites have no post-quantum variant: classical whatever the group.
            return _Verdict(Risk.HNDL, "classical (EC)DHE cipher suite negotiated", suites[0])
        return _Verdict(Risk.UNKNOWN, "observed handshake without a negotiated group", None)
    pq_groups = [g for g in groups if is_pq_group(g)]
    if pq_groups:
        return _Verdict(Risk.QUANTUM_SAFE, f"post-quantum group configured: {pq_groups[0]}", pq_groups[0])
    if pq_flag == "true":
        return _Verdict(Risk.QUANTUM_SAFE, "configured with a post-quantum hybrid group", None)
    if suites and all(_rsa_kx_suite(s) for s in suites):
        return _Verdict(Risk.HNDL, "only RSA key transport cipher suites allowed", suites[0])
    if groups:
        return _Verdict(Risk.HNDL, f"no post-quantum group among {', '.join(groups)}", groups[0])
    policy = asset.prop(Prop.TLS_POLICY)
    what = f"policy {policy}" if policy else "configuration"
    return _Verdict(Risk.HNDL, f"TLS {what} states no post-quantum group", policy)


def _classify_ssh(asset: Asset) -> _Verdict:
    kex = _list_prop(asset, Prop.SSH_KEX)
    if not kex:
        return _Verdict(Risk.UNKNOWN, "SSH key exchange algorithms not stated", None)
    pq = [k for k in kex if is_pq_kex(k.lower())]
    observed = asset.prop(Prop.SSH_OBSERVED) == "true"
    if pq:
        verb = "negotiated post-quantum SSH key exchange" if observed else "post-quantum SSH key exchange"
        return _Verdict(Risk.QUANTUM_SAFE, f"{verb} {pq[0]}", pq[0])
    if observed:
        return _Verdict(Risk.HNDL, f"negotiated classical SSH key exchange {kex[0]}", kex[0])
    return _Verdict(Risk.HNDL, f"only classical SSH key exchange: {', '.join(kex[:3])}", kex[0])


def _classify_algorithm(asset: Asset, family: str | None) -> _Verdict:
    algo = asset.crypto.algorithm_properties if asset.crypto else None
    primitive = algo.primitive if algo else None
    functions = set(algo.crypto_functions) if algo else set()
    if _is_pq_family(family):
        return _Verdict(Risk.QUANTUM_SAFE, f"{family} is post-quantum", family)
    if family in _KEY_EXCHANGE or primitive is CryptoPrimitive.KEY_AGREE:
        return _Verdict(Risk.HNDL, f"classical key agreement {family or ''}".strip(), family)
    if family == "RSA":
        signing_only = bool(functions) and functions <= {CryptoFunction.SIGN, CryptoFunction.VERIFY}
        # "SHA256withRSA" names a signature scheme even when the primitive is not stated
        if primitive is CryptoPrimitive.SIGNATURE or signing_only or "WITHRSA" in asset.name.upper():
            return _Verdict(Risk.SIGNATURE_DEADLINE, "RSA used for signatures", family)
        if primitive in (CryptoPrimitive.PKE, CryptoPrimitive.KEM) or functions & _ENCRYPTION_FUNCTIONS:
            return _Verdict(Risk.HNDL, "RSA encryption / key transport", family)
        return _Verdict(Risk.HNDL, "RSA with unstated use: counted as encryption (conservative)", family)
    if family in _VULNERABLE_SIGNATURE or primitive is CryptoPrimitive.SIGNATURE:
        what = f"quantum-vulnerable signature {family or ''}".strip()
        return _Verdict(Risk.SIGNATURE_DEADLINE, what, family)
    if family is None and primitive in (None, CryptoPrimitive.UNKNOWN, CryptoPrimitive.OTHER):
        return _Verdict(Risk.UNKNOWN, "algorithm not identified", None)
    return _Verdict(Risk.NOT_APPLICABLE, "symmetric, hash or MAC: not broken by Shor's algorithm", family)


def _classify_key(asset: Asset, family: str | None) -> _Verdict:
    material = asset.crypto.related_crypto_material_properties if asset.crypto else None
    kind = material.type if material else None
    usage = (asset.prop(Prop.AWS_KEY_USAGE) or "").upper()
    if kind in (RelatedCryptoMaterialType.SECRET_KEY, RelatedCryptoMaterialType.KEY) and family in (
        None, "AES", "HMAC", "3DES", "SYMMETRIC_DEFAULT",
    ):
        return _Verdict(Risk.NOT_APPLICABLE, "symmetric key: not broken by Shor's algorithm", family)
    if _is_pq_family(family):
        return _Verdict(Risk.QUANTUM_SAFE, f"{family} key is post-quantum", family)
    if family == "RSA":
        if usage == "SIGN_VERIFY":
            return _Verdict(Risk.SIGNATURE_DEADLINE, "RSA key used for signing", family)
        if usage == "ENCRYPT_DECRYPT":
            return _Verdict(Risk.HNDL, "RSA key used for encryption", family)
        return _Verdict(Risk.HNDL, "RSA key with unstated use: counted as encryption (conservative)", family)
    if family in _KEY_EXCHANGE or usage == "KEY_AGREEMENT":
        return _Verdict(Risk.HNDL, "classical key agreement key", family)
    if family in _VULNERABLE_SIGNATURE or (family or "").startswith("ECC"):
        return _Verdict(Risk.SIGNATURE_DEADLINE, f"{family} key: quantum-vulnerable signatures", family)
    if family is None:
        return _Verdict(Risk.UNKNOWN, "key algorithm not stated", None)
    return _Verdict(Risk.NOT_APPLICABLE, f"{family} key: not broken by Shor's algorithm", family)


def _classify_certificate(asset: Asset, refs: Mapping[str, Asset]) -> _Verdict:
    # The certificate's own name is a subject, never an algorithm: only properties and refs count.
    cert = asset.crypto.certificate_properties if asset.crypto else None
    family = asset.prop(Prop.CERT_PUBLIC_KEY_ALGORITHM)
    family = family.strip().upper() if family else None
    signature = asset.prop(Prop.CERT_SIGNATURE_ALGORITHM)
    if cert is not None and family is None and cert.subject_public_key_ref is not None:
        key = refs.get(str(cert.subject_public_key_ref.value))
        family = _family(key) if key is not None else None
    if cert is not None and signature is None and cert.signature_algorithm_ref is not None:
        algorithm = refs.get(str(cert.signature_algorithm_ref.value))
        signature = algorithm.name if algorithm is not None else None
    if _is_pq_family(family) or _is_pq_family((signature or "").upper()):
        return _Verdict(Risk.QUANTUM_SAFE, "post-quantum certificate", signature or family)
    if family is None and signature is None:
        return _Verdict(Risk.UNKNOWN, "certificate key and signature algorithm not stated", None)
    label = signature or family
    return _Verdict(Risk.SIGNATURE_DEADLINE, f"quantum-vulnerable certificate ({label})", label)


def classify(asset: Asset, refs: Mapping[str, Asset] | None = None) -> _Verdict:
    """The kind of quantum risk an asset carries, from standard fields first and carnot:* second.

    refs (bom-ref -> asset) resolves a certificate's signature-algorithm and public-key refs."""
    crypto = asset.crypto
    asset_type = crypto.asset_type if crypto else None
    family = _family(asset)
    if asset_type is CryptoAssetType.PROTOCOL:
        protocol = crypto.protocol_properties if crypto else None
        ptype = protocol.type if protocol else None
        if ptype is ProtocolPropertiesType.SSH or asset.prop(Prop.SSH_KEX):
            return _classify_ssh(asset)
        if ptype in (ProtocolPropertiesType.TLS, ProtocolPropertiesType.DTLS, ProtocolPropertiesType.QUIC):
            return _classify_tls(asset, observed=_is_flow(asset))
        return _Verdict(Risk.UNKNOWN, f"protocol {ptype.value if ptype else 'unstated'} not scored", None)
    if asset_type is CryptoAssetType.CERTIFICATE:
        return _classify_certificate(asset, refs or {})
    if asset_type is CryptoAssetType.RELATED_CRYPTO_MATERIAL:
        return _classify_key(asset, family)
    if asset_type is CryptoAssetType.ALGORITHM:
        return _classify_algorithm(asset, family)
    return _Verdict(Risk.UNKNOWN, "asset type not stated", family)


def _is_flow(asset: Asset) -> bool:
    return asset.crypto is not None and asset.crypto.asset_type is CryptoAssetType.PROTOCOL and (
        Source.RUNTIME in _sources(asset) or asset.prop(Prop.TLS_NEGOTIATED_GROUP) is not None
        or asset.prop(Prop.RUNTIME_ENDPOINT) is not None
    )


def _flow_details(asset: Asset) -> dict[str, str]:
    wanted = {
        "endpoint": Prop.RUNTIME_ENDPOINT, "sni": Prop.RUNTIME_SNI, "host": Prop.RUNTIME_HOST,
        "process": Prop.RUNTIME_COMM, "role": Prop.RUNTIME_ROLE, "handshakes": Prop.RUNTIME_HANDSHAKES,
        "negotiated_group": Prop.TLS_NEGOTIATED_GROUP,
    }
    details = {k: v for k, p in wanted.items() if (v := asset.prop(p)) is not None}
    protocol = asset.crypto.protocol_properties if asset.crypto else None
    if protocol is not None and protocol.type is ProtocolPropertiesType.SSH:
        details["protocol"] = "ssh"
        if (kex := asset.prop(Prop.SSH_KEX)) is not None:
            details["negotiated_kex"] = kex
    else:
        details["protocol"] = "quic" if asset.prop(Prop.TRANSPORT) == "quic" else "tls"
    return details


def _valid_until(asset: Asset) -> date | None:
    cert = asset.crypto.certificate_properties if asset.crypto else None
    if cert is not None and cert.not_valid_after is not None:
        return cert.not_valid_after.date()
    return None


def _years_between(start: date, end: date) -> float:
    return (end - start).days / 365.25


def score(
    asset: Asset, config: ExposureConfig, as_of: date, refs: Mapping[str, Asset] | None = None
) -> ExposureResult:
    """One asset's verdict with the inputs that produced it."""
    verdict = classify(asset, refs)
    crypto_type = asset.crypto.asset_type.value if asset.crypto and asset.crypto.asset_type else "unknown"
    flow = _is_flow(asset)
    base: dict[str, Any] = {
        "bom_ref": asset.bom_ref, "name": asset.name, "asset_type": crypto_type, "risk": verdict.risk,
        "reason": verdict.reason, "algorithm": verdict.algorithm, "sources": _sources(asset),
        "is_flow": flow, "flow": _flow_details(asset) if flow else None,
    }
    if verdict.risk is Risk.HNDL:
        x, basis, data_class = config.shelf_life(asset)
        y, z = config.migration_years, config.crqc_years
        horizon = x + y
        return ExposureResult(
            **base, data_class=data_class, shelf_life_years=x, shelf_life_basis=basis,
            migration_years=y, crqc_years=z, exposed=horizon > z, exposure_years=horizon - z,
            probability_exposed=config.timeline.probability_by(horizon),
            expected_exposed_years=config.timeline.expected_exceedance(horizon),
        )
    if verdict.risk is Risk.SIGNATURE_DEADLINE:
        deprecated = date(config.signature_deprecated_after, 12, 31)
        disallowed = date(config.signature_disallowed_after, 12, 31)
        until = _valid_until(asset)
        if until is None:
            # A key or algorithm in use stays in use until migrated: it is past due once deprecated.
            return ExposureResult(
                **base, deadline_status=DeadlineStatus.NO_EXPIRY, exposed=as_of > deprecated,
                years_past_deadline=_years_between(deprecated, as_of),
            )
        if until > disallowed:
            status = DeadlineStatus.VALID_PAST_DISALLOWED
        elif until > deprecated:
            status = DeadlineStatus.VALID_PAST_DEPRECATED
        else:
            status = DeadlineStatus.EXPIRES_BEFORE_DEADLINE
        return ExposureResult(
            **base, valid_until=until.isoformat(), deadline_status=status,
            exposed=status is not DeadlineStatus.EXPIRES_BEFORE_DEADLINE,
            years_past_deadline=_years_between(deprecated, until),
        )
    return ExposureResult(**base)


def assess_exposure(assets: Iterable[Asset], config: ExposureConfig, as_of: date) -> ExposureReport:
    """Score every asset; results sorted by bom-ref so the report is deterministic."""
    assets = list(assets)
    refs = {a.bom_ref: a for a in assets}
    results = tuple(sorted((score(a, config, as_of, refs) for a in assets), key=lambda r: r.bom_ref))
    return ExposureReport(as_of=as_of.isoformat(), assumptions=config.assumptions(), results=results)
