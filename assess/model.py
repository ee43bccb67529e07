"""The one data model every stage shares: cryptographic assets with their evidence, and gaps.

An `Asset` is a CycloneDX cryptographic-asset component: its cryptographic facts are the
`cyclonedx.model.crypto.CryptoProperties` of cyclonedx-python-lib (so the CBOM mapping is the
library's, not ours); what CycloneDX has no field for travels as `carnot:*` properties, whose
names are listed in docs/CBOM_PROFILE.md and in `Prop` below.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import Any

from cyclonedx.model.crypto import CryptoProperties

from assess.errors import InputError
from assess.fsio import parse_json_bytes


class Source(StrEnum):
    """Which stage observed an asset."""

    STATIC = "static"
    RUNTIME = "runtime"
    AWS = "aws"
    PCAP = "pcap"
    ZEEK = "zeek"


class Prop(StrEnum):
    """The `carnot:*` property names (the taxonomy documented in docs/CBOM_PROFILE.md)."""

    SOURCE = "carnot:source"
    SIMULATED = "carnot:simulated"
    # ownership and data, from tags or config
    OWNER = "carnot:owner"
    DATA_CLASS = "carnot:data_class"
    SHELF_LIFE_YEARS = "carnot:shelf_life_years"
    SHELF_LIFE_DEFAULTED = "carnot:shelf_life_defaulted"
    TAG_PREFIX = "carnot:tag:"
    # sightings beyond the source's limit of evidence occurrences per asset: counted, not listed
    EVIDENCE_OMITTED = "carnot:evidence_omitted"
    # normalised algorithm facts, duplicated from the CycloneDX fields for simple policies
    ALGORITHM = "carnot:algorithm"
    KEY_BITS = "carnot:key_bits"
    CURVE = "carnot:curve"
    # certificates
    CERT_SIGNATURE_ALGORITHM = "carnot:cert:signature_algorithm"
    CERT_SIGNATURE_HASH = "carnot:cert:signature_hash"
    CERT_PUBLIC_KEY_ALGORITHM = "carnot:cert:public_key_algorithm"
    CERT_PUBLIC_KEY_BITS = "carnot:cert:public_key_bits"
    CERT_CURVE = "carnot:cert:curve"
    CERT_IS_CA = "carnot:cert:is_ca"
    # TLS
    TLS_VERSIONS = "carnot:tls:versions"
    TLS_CIPHER_SUITES = "carnot:tls:cipher_suites"
    TLS_GROUPS = "carnot:tls:groups"
    TLS_NEGOTIATED_GROUP = "carnot:tls:negotiated_group"
    TLS_GROUP_CODEPOINT = "carnot:tls:group_codepoint"
    TLS_PQ_HYBRID = "carnot:tls:pq_hybrid"
    TLS_ASSUMED_DEFAULTS = "carnot:tls:assumed_defaults"
    TLS_DEFAULTS_BASIS = "carnot:tls:defaults_basis"
    TLS_POLICY = "carnot:tls:policy"
    # SSH
    SSH_KEX = "carnot:ssh:kex"
    SSH_HOST_KEY_ALGORITHMS = "carnot:ssh:host_key_algorithms"
    SSH_CIPHERS = "carnot:ssh:ciphers"
    SSH_MACS = "carnot:ssh:macs"
    # SSH sessions observed on the wire (runtime, captures): the lists above then hold what was negotiated
    SSH_OBSERVED = "carnot:ssh:observed"
    SSH_PQ_HYBRID = "carnot:ssh:pq_hybrid"
    SSH_CLIENT_SOFTWARE = "carnot:ssh:client_software"
    SSH_SERVER_SOFTWARE = "carnot:ssh:server_software"
    SSH_ASSUMED_DEFAULTS = "carnot:ssh:assumed_defaults"
    SSH_DEFAULTS_BASIS = "carnot:ssh:defaults_basis"
    # QUIC: a TLS protocol asset whose handshakes ran over QUIC
    TRANSPORT = "carnot:transport"
    # runtime observation
    RUNTIME_HANDSHAKES = "carnot:runtime:handshakes"
    RUNTIME_FAILED = "carnot:runtime:failed_handshakes"
    RUNTIME_FIRST_SEEN = "carnot:runtime:first_seen"
    RUNTIME_LAST_SEEN = "carnot:runtime:last_seen"
    RUNTIME_HOST = "carnot:runtime:host"
    RUNTIME_COMM = "carnot:runtime:comm"
    RUNTIME_EXE = "carnot:runtime:exe"
    RUNTIME_ROLE = "carnot:runtime:role"
    RUNTIME_ENDPOINT = "carnot:runtime:endpoint"
    RUNTIME_SNI = "carnot:runtime:sni"
    RUNTIME_LIBRARY = "carnot:runtime:library"
    RUNTIME_ASSET_ID = "carnot:runtime:asset_id"
    # cloud
    AWS_ACCOUNT = "carnot:aws:account"
    AWS_REGION = "carnot:aws:region"
    AWS_ARN = "carnot:aws:arn"
    AWS_SERVICE = "carnot:aws:service"
    AWS_KEY_MANAGER = "carnot:aws:key_manager"
    AWS_KEY_STATE = "carnot:aws:key_state"
    AWS_KEY_USAGE = "carnot:aws:key_usage"
    AWS_KEY_SPEC = "carnot:aws:key_spec"
    AWS_ROTATION_ENABLED = "carnot:aws:rotation_enabled"
    AWS_TAGGED = "carnot:aws:tagged"
    AWS_IN_USE_BY = "carnot:aws:in_use_by"
    AWS_ALIASES = "carnot:aws:aliases"
    AWS_REGIONS = "carnot:aws:regions"  # document-level: the regions an inventory covered
    AWS_ACCOUNTS = "carnot:aws:accounts"  # document-level: the accounts an inventory covered
    # document-level (metadata.properties)
    GAP = "carnot:gap"
    SKIPPED = "carnot:skipped"
    SKIPPED_COUNT = "carnot:skipped_count"
    STAGE = "carnot:stage"
    MERGE_CONFLICT = "carnot:merge:conflict"
    MERGE_SOURCE = "carnot:merge:source"  # metadata: a namespace (BOM-Link) and the document it stands for


@dataclass(frozen=True)
class Evidence:
    """Where an asset was seen. Never holds secret material (no key bytes, no credentials)."""

    source: Source
    location: str  # a file path, an ARN, or host/pid/comm for a process
    line: int | None = None
    sha256: str | None = None  # digest of the evidence file, where there is a file
    context: str | None = None  # a short human hint: the matched text, the API call, the rule id


@dataclass(frozen=True, eq=False)
class Asset:
    """One cryptographic asset: a CycloneDX `cryptographic-asset` component."""

    bom_ref: str
    name: str
    crypto: CryptoProperties
    evidence: tuple[Evidence, ...] = ()
    properties: tuple[tuple[str, str], ...] = ()

    def prop(self, name: str) -> str | None:
        """The first value of a property (scoring asks a score of them per asset: looked up, not scanned)."""
        return self._first_values.get(name)

    @cached_property
    def _first_values(self) -> dict[str, str]:
        first: dict[str, str] = {}
        for key, value in self.properties:
            first.setdefault(key, value)
        return first


@dataclass(frozen=True)
class Gap:
    """Something that should have been assessed and was not: a stage not run, a region that failed."""

    stage: str
    scope: str
    reason: str

    def to_json(self) -> str:
        return json.dumps({"stage": self.stage, "scope": self.scope, "reason": self.reason}, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Gap:
        """A gap from its property value; ValueError unless it is a JSON {stage, scope, reason} of strings."""
        data = _json_record(text, ("stage", "scope", "reason"))
        if data is None:
            raise ValueError(f"not a {Prop.GAP} record: {text[:60]!r}")
        return cls(stage=data["stage"], scope=data["scope"], reason=data["reason"])


@dataclass(frozen=True)
class Skipped:
    """A file or resource a source looked at and did not read, with the reason."""

    location: str
    reason: str

    def to_json(self) -> str:
        return json.dumps({"location": self.location, "reason": self.reason}, sort_keys=True)


@dataclass(frozen=True)
class Shard:
    """What one source run produces: assets, gaps, and what it skipped."""

    stage: str
    assets: tuple[Asset, ...]
    gaps: tuple[Gap, ...] = ()
    skipped: tuple[Skipped, ...] = ()
    properties: tuple[tuple[str, str], ...] = field(default_factory=tuple)


# --- typed property values ---------------------------------------------------------------------
# Property values are strings; these carnot:* ones carry a number, a flag or a JSON record. They are
# checked when a CBOM is read (cbom.validate_document), so no stage ever meets a value it cannot use.

_COUNT = re.compile(r"[0-9]{1,18}")
_YEARS = re.compile(r"[0-9]{1,4}(?:\.[0-9]{1,6})?")


def parse_count(text: str) -> int | None:
    """A whole number in ASCII digits, else None. Never `str.isdigit()`: "²".isdigit() is True and
    int("²") raises."""
    return int(text) if _COUNT.fullmatch(text) else None


def parse_years(text: str) -> float | None:
    """A non-negative decimal number of years (e.g. "10", "7.5"), else None."""
    return float(text) if _YEARS.fullmatch(text) else None


def _json_record(text: str, keys: tuple[str, ...]) -> dict[str, str] | None:
    try:
        data = parse_json_bytes(text, "property value")
    except InputError:
        return None
    if not isinstance(data, dict) or not all(isinstance(data.get(k), str) for k in keys):
        return None
    return {k: data[k] for k in keys}


def _is_boolean(text: str) -> bool:
    return text in ("true", "false")


_PROPERTY_FORMATS: dict[str, tuple[str, Callable[[str], bool]]] = {
    **{name: ("a whole number in ASCII digits", lambda v: parse_count(v) is not None) for name in (
        Prop.KEY_BITS, Prop.CERT_PUBLIC_KEY_BITS, Prop.RUNTIME_HANDSHAKES, Prop.RUNTIME_FAILED,
        Prop.SKIPPED_COUNT,
    )},
    **{name: ("true or false", _is_boolean) for name in (
        Prop.SIMULATED, Prop.SHELF_LIFE_DEFAULTED, Prop.CERT_IS_CA, Prop.TLS_PQ_HYBRID,
        Prop.AWS_ROTATION_ENABLED, Prop.AWS_TAGGED, Prop.SSH_OBSERVED, Prop.SSH_PQ_HYBRID,
    )},
    Prop.SHELF_LIFE_YEARS: ("a non-negative number of years", lambda v: parse_years(v) is not None),
    Prop.GAP: ("JSON {stage, scope, reason} of strings",
               lambda v: _json_record(v, ("stage", "scope", "reason")) is not None),
    Prop.SKIPPED: ("JSON {location, reason} of strings", lambda v: _json_record(v, ("location", "reason")) is not None),
}


def property_problem(name: str, value: str) -> str | None:
    """Why a carnot:* property's value is unusable (it must be a number, a flag or a JSON record),
    or None; other properties are free text."""
    expected = _PROPERTY_FORMATS.get(name)
    if expected is None or expected[1](value):
        return None
    shown = value if len(value) <= 40 else value[:40] + "…"
    return f"{name} is {shown!r}, expected {expected[0]}"


def stable_ref(kind: str, *parts: object) -> str:
    """A bom-ref derived from an asset's identity, so the same asset gets the same ref in every run."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode("utf-8")).hexdigest()[:16]
    return f"carnot:{kind}:{digest}"


def props(mapping: Mapping[Any, Any] | Iterable[tuple[Any, Any]]) -> tuple[tuple[str, str], ...]:
    """Property pairs from a mapping or pairs, dropping None, rendering bools as true/false."""
    items = mapping.items() if isinstance(mapping, Mapping) else mapping
    out: list[tuple[str, str]] = []
    for key, value in items:
        if value is None:
            continue
        if isinstance(value, bool):
            out.append((str(key), "true" if value else "false"))
        elif isinstance(value, (list, tuple)):
            out.append((str(key), ",".join(str(v) for v in value)))
        else:
            out.append((str(key), str(value)))
    return tuple(out)
