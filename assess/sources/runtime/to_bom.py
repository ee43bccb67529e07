"""Runtime JSON lines -> a CBOM shard: protocol assets per observed TLS and SSH use, algorithm
assets per group.

A TLS protocol asset aggregates the handshakes of one process (by executable, else comm) in one
role with one server endpoint, one negotiated group and one transport (TCP, or QUIC:
`carnot:transport`), with counts and first/last seen; the negotiated group and its code point are
kept. Every negotiated group is also an algorithm asset, which the protocol assets reference
(`protocolProperties.cryptoRefArray`). An SSH protocol asset (type `ssh`) aggregates the `ssh`
lines of one process and role with one server endpoint and one negotiated key exchange; its
`carnot:ssh:*` lists hold what was negotiated (`carnot:ssh:observed`), so the gate's SSH rules
judge it as they judge an sshd_config. Pure apart from reading files.
"""

from __future__ import annotations

import gzip
import io
import json
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any

from cyclonedx.model.bom_ref import BomRef
from cyclonedx.model.crypto import (
    CryptoAssetType,
    CryptoPrimitive,
    CryptoProperties,
    ProtocolProperties,
    ProtocolPropertiesCipherSuite,
    ProtocolPropertiesType,
)

from assess.errors import InputError
from assess.fsio import require_file
from assess.model import Asset, Evidence, Prop, Shard, Source, props, stable_ref
from assess.sources.static.algorithms import algorithm_asset
from assess.sshnames import is_pq_kex
from assess.tlsnames import PQ_GROUP_PARTS, group_code, is_pq_group, normalise_group

STAGE = "runtime"
HANDSHAKE_KEYS: dict[str, tuple[type, ...]] = {
    "ts": (str,), "host": (str,), "pid": (int,), "tid": (int,), "comm": (str,), "exe": (str,),
    "library": (str,), "library_version": (str,), "role": (str,), "sni": (str,), "src_ip": (str,),
    "src_port": (int,), "dst_ip": (str,), "dst_port": (int,), "tls_version": (str,), "cipher_suite": (str,),
    "groups_offered": (list,), "key_shares_offered": (list,), "negotiated_group": (str,), "pq_hybrid": (bool,),
    "success": (bool,), "handshake_ms": (int, float), "source": (str,),
}
SSH_KEYS: dict[str, tuple[type, ...]] = {
    "ts": (str,), "host": (str,), "pid": (int,), "comm": (str,), "exe": (str,), "role": (str,), "src_ip": (str,),
    "src_port": (int,), "dst_ip": (str,), "dst_port": (int,), "client_banner": (str,), "server_banner": (str,),
    "kex": (str,), "host_key_algorithm": (str,), "cipher_client_to_server": (str,),
    "cipher_server_to_client": (str,), "mac_client_to_server": (str,), "mac_server_to_client": (str,),
    "pq_hybrid": (bool,), "success": (bool,), "source": (str,),
}
_VERSION_NUMBER = {"TLSv1": "1.0", "TLSv1.1": "1.1", "TLSv1.2": "1.2", "TLSv1.3": "1.3", "SSLv3": "3.0"}
# Evidence occurrences kept per asset (the counts are always exact).
MAX_EVIDENCE = 20
# The `source` of lines imported by `carnot runtime from-pcap` / `from-zeek` (assess/sources/capture).
CAPTURE_SOURCES = {"pcap": Source.PCAP, "zeek": Source.ZEEK}


_FIELD_TYPES = tuple((key, frozenset(types) | ({int} if float in types else set()))
                     for key, types in HANDSHAKE_KEYS.items())
_SSH_FIELD_TYPES = tuple((key, frozenset(types)) for key, types in SSH_KEYS.items())
# Field type patterns already found valid (a few in practice: which fields are null); bounded, as
# hostile lines could bring many.
_VALID_PATTERNS_HELD = 4096


def parse_lines(lines: Iterable[str], origin: str) -> Iterator[dict[str, Any]]:
    """The handshake records of a runtime JSON lines text, one at a time; ready and metrics lines
    are skipped.

    Raises InputError naming origin:line for a line that is not JSON or not a valid record.
    """
    valid_patterns: set[tuple[type, ...]] = set()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as e:
            raise InputError(f"not a JSON line: {e.msg} (column {e.colno})", path=origin, line=number) from e
        except (ValueError, RecursionError) as e:  # a number of 4,300+ digits; nesting past Python's limit
            raise InputError("not a JSON line Carnot reads (a number too long or nesting too deep)", path=origin,
                             line=number) from e
        if type(record) is not dict or type(record.get("type")) is not str:
            raise InputError("not a runtime record: expected an object with a \"type\"", path=origin, line=number)
        if record["type"] not in ("handshake", "ssh"):
            continue
        kind = record["type"]
        fields = _SSH_FIELD_TYPES if kind == "ssh" else _FIELD_TYPES
        pattern = (kind, *(type(record.get(key, _MISSING)) for key, _ in fields))
        if pattern not in valid_patterns:
            _check_fields(record, kind, fields, origin, number)
            if len(valid_patterns) < _VALID_PATTERNS_HELD:
                valid_patterns.add(pattern)
        if kind == "ssh":
            yield record
            continue
        for key in ("groups_offered", "key_shares_offered"):
            if record[key] is not None and not all(type(g) is str for g in record[key]):
                raise InputError(f"{key!r} must be a list of group names", path=origin, line=number)
        yield record


def _check_fields(record: dict[str, Any], kind: str, fields: tuple[tuple[str, frozenset[type]], ...], origin: str,
                  number: int) -> None:
    # Exact types: JSON gives no subclasses, and a bool is not a number here.
    for key, types in fields:
        value = record.get(key, _MISSING)
        if value is None or type(value) in types:
            continue
        if value is _MISSING:
            raise InputError(f"{kind} record lacks {key!r}", path=origin, line=number)
        raise InputError(f"{kind} record has a {type(value).__name__} for {key!r}", path=origin, line=number)


class _Missing:
    pass


_MISSING = _Missing()
_GZIP_MAGIC = b"\x1f\x8b"


def _file_lines(path: Path) -> Iterator[str]:
    """The lines of a runtime JSON lines file (gzip'd or not, told by its first bytes), one at a time.
    Lines end at "\\n" only, as JSON lines do."""
    try:
        with path.open("rb") as raw:
            compressed = raw.peek(2)[:2] == _GZIP_MAGIC
            binary: IO[bytes] = gzip.GzipFile(fileobj=raw) if compressed else raw
            try:
                yield from io.TextIOWrapper(binary, encoding="utf-8", newline="\n")
            except UnicodeDecodeError:
                raise _not_utf8(path) from None
    except OSError as e:  # gzip.BadGzipFile is one
        raise InputError(f"cannot read: {e.strerror or e}", path=path) from e
    except (EOFError, zlib.error) as e:
        raise InputError(f"not a whole gzip file: {e}", path=path) from e


def _not_utf8(path: Path) -> InputError:
    """Where a file stops being UTF-8: read again, line by line, to name the line and the byte."""
    with path.open("rb") as raw:
        binary: IO[bytes] = gzip.GzipFile(fileobj=raw) if raw.peek(2)[:2] == _GZIP_MAGIC else raw
        offset = 0
        for number, data in enumerate(binary, start=1):
            try:
                data.decode("utf-8")
            except UnicodeDecodeError as e:
                return InputError(f"not UTF-8 text (byte {offset + e.start})", path=path, line=number)
            offset += len(data)
    return InputError("not UTF-8 text", path=path)


def read_handshake_files(paths: Sequence[Path], *, asset_id: str | None = None) -> tuple[Shard, dict[str, Any]]:
    """Stream every file's handshakes into the flow table (memory grows with flows, not lines); the
    shard exists only once every line has been read, so a bad line anywhere writes nothing."""
    files = [require_file(path) for path in paths]
    table = FlowTable()
    for path in files:
        for record in parse_lines(_file_lines(path), str(path)):
            table.add(record)
    shard = table.shard(asset_id=asset_id)
    protocol = sum(1 for a in shard.assets if a.crypto.asset_type == CryptoAssetType.PROTOCOL)
    report = {
        "files": len(paths),
        "handshakes": table.handshakes,
        "protocol_assets": protocol,
        "algorithm_assets": len(shard.assets) - protocol,
        "pq_hybrid_handshakes": table.pq_hybrid,
        "ssh_sessions": table.ssh_sessions,
        "pq_hybrid_ssh_sessions": table.pq_hybrid_ssh,
    }
    return shard, report


# A handshake's place in the order the aggregation follows: by timestamp text, then as read.
Order = tuple[str, int]
# Entries of a flow table's memos (group spellings; what a flow's handshakes added): bounded, as
# hostile lines could bring a new value every time.
_HELD = 1024


class _FirstSeen:
    """Values in the order they were first seen (by Order, then place in the record's list), whatever
    order they arrive in."""

    __slots__ = ("first",)

    def __init__(self) -> None:
        self.first: dict[str, tuple[Order, int]] = {}

    def add(self, value: str | None, order: Order, place: int = 0) -> None:
        if value is not None:
            seen = self.first.get(value)
            if seen is None or (order, place) < seen:
                self.first[value] = (order, place)

    def values(self) -> list[str]:
        return sorted(self.first, key=self.first.__getitem__)


class _Places:
    """The evidence of an aggregated asset: the MAX_EVIDENCE places seen first (by Order), whatever
    order their records arrive in; each place's evidence is that of its first record."""

    __slots__ = ("held", "latest")

    def __init__(self) -> None:
        self.held: dict[str, tuple[Order, Evidence]] = {}  # place -> (order, evidence)
        self.latest: Order | None = None  # the latest order among them, once there are MAX_EVIDENCE

    def add(self, record: dict[str, Any], order: Order) -> None:
        # Lines imported from a capture or a Zeek log name their file and are evidence of that source.
        capture = record.get("capture") if isinstance(record.get("capture"), str) else None
        line = record.get("capture_line") if isinstance(record.get("capture_line"), int) else None
        location = capture or "/".join(str(v) for v in (record["host"], record["pid"], record["comm"]))
        where = f"{location}:{line}" if line is not None else location
        held = self.held.get(where)
        if held is not None:
            if order < held[0]:  # the place's evidence says what its first record was
                self.held[where] = (order, _evidence(record, location, line))
                self.latest = None
            return
        if self.latest is not None and order > self.latest:
            return
        self.held[where] = (order, _evidence(record, location, line))
        if len(self.held) > MAX_EVIDENCE:
            del self.held[max(self.held, key=lambda w: self.held[w][0])]
        if len(self.held) == MAX_EVIDENCE:
            self.latest = max(o for o, _ in self.held.values())

    def in_order(self) -> list[Evidence]:
        return [ev for _, ev in sorted(self.held.values(), key=lambda held: held[0])]


def _evidence(record: dict[str, Any], location: str, line: int | None) -> Evidence:
    return Evidence(source=CAPTURE_SOURCES.get(record["source"], Source.RUNTIME), location=location, line=line,
                    context=f"source {record['source']}")


@dataclass
class _Seen:
    """When a flow was seen: its first record (which names its process) and its last, whatever
    order they arrive in, and how many there were and failed."""

    first: Order
    first_seen: Any
    comm: str | None
    exe: str | None
    last: Order
    last_seen: Any
    count: int = 0
    failed: int = 0

    @classmethod
    def start(cls, record: dict[str, Any], order: Order) -> _Seen:
        return cls(order, record["ts"], record["comm"], record["exe"], order, record["ts"])

    def add(self, record: dict[str, Any], order: Order) -> None:
        if order < self.first:
            self.first, self.first_seen, self.comm, self.exe = order, record["ts"], record["comm"], record["exe"]
        elif order > self.last:
            self.last, self.last_seen = order, record["ts"]
        self.count += 1
        self.failed += record["success"] is False


@dataclass
class _Use:
    """The handshakes aggregated into one protocol asset."""

    host: str | None
    role: str | None
    process: str | None
    endpoint: str | None
    group: str | None
    seen: _Seen
    transport: str = "tcp"
    versions: _FirstSeen = field(default_factory=_FirstSeen)
    suites: _FirstSeen = field(default_factory=_FirstSeen)
    offered: _FirstSeen = field(default_factory=_FirstSeen)
    snis: _FirstSeen = field(default_factory=_FirstSeen)
    libraries: _FirstSeen = field(default_factory=_FirstSeen)
    repeats: dict[tuple[Any, ...], Order] = field(default_factory=dict)  # what handshakes added, and when
    evidence: _Places = field(default_factory=_Places)


@dataclass
class _SshUse:
    """The SSH sessions aggregated into one protocol asset."""

    host: str | None
    role: str | None
    process: str | None
    endpoint: str | None
    kex: str | None
    seen: _Seen
    host_keys: _FirstSeen = field(default_factory=_FirstSeen)
    ciphers: _FirstSeen = field(default_factory=_FirstSeen)
    macs: _FirstSeen = field(default_factory=_FirstSeen)
    clients: _FirstSeen = field(default_factory=_FirstSeen)
    servers: _FirstSeen = field(default_factory=_FirstSeen)
    evidence: _Places = field(default_factory=_Places)


# Banners kept per asset (a scanner fleet can show many client versions); the first seen.
MAX_BANNERS = 20


class FlowTable:
    """Handshake and SSH records folded into one aggregate per flow as they are read, in any order:
    the result is that of taking them sorted by timestamp (ties as read), which is what the shard says."""

    def __init__(self) -> None:
        self.uses: dict[tuple[Any, ...], _Use] = {}
        self.sessions: dict[tuple[Any, ...], _SshUse] = {}
        self.records = 0
        self.handshakes = 0
        self.pq_hybrid = 0
        self.ssh_sessions = 0
        self.pq_hybrid_ssh = 0
        self._groups: dict[str, str] = {}  # spelling -> IANA name

    def _group(self, name: str) -> str:
        known = self._groups.get(name)
        if known is None:
            known = normalise_group(name)
            if len(self._groups) < _HELD:
                self._groups[name] = known
        return known

    def add(self, hs: dict[str, Any]) -> None:
        order = (str(hs["ts"]), self.records)
        self.records += 1
        if hs.get("type") == "ssh":
            self._add_session(hs, order)
            return
        self.handshakes += 1
        self.pq_hybrid += hs["pq_hybrid"] is True
        group = self._group(hs["negotiated_group"]) if hs["negotiated_group"] else None
        endpoint = _endpoint(hs["dst_ip"], hs["dst_port"])
        process = hs["exe"] or hs["comm"]
        transport = "quic" if hs.get("transport") == "quic" else "tcp"
        key = (hs["host"], hs["role"], process, endpoint, group) + ((transport,) if transport != "tcp" else ())
        use = self.uses.get(key)
        if use is None:
            use = self.uses[key] = _Use(hs["host"], hs["role"], process, endpoint, group, _Seen.start(hs, order),
                                        transport=transport)
        use.seen.add(hs, order)
        capture = hs.get("capture") if isinstance(hs.get("capture"), str) else None
        line = hs.get("capture_line") if isinstance(hs.get("capture_line"), int) else None
        # Everything else a handshake adds to its flow; a repeat of values the flow already had at an
        # earlier order changes nothing (most handshakes of a flow are such repeats).
        facts = (hs["tls_version"], hs["cipher_suite"], hs["sni"], hs["library"], hs["library_version"], hs["pid"],
                 hs["comm"], hs["source"], capture, line, *(hs["groups_offered"] or ()))
        seen = use.repeats.get(facts)
        if seen is not None and seen < order:
            return
        if seen is not None or len(use.repeats) < _HELD:
            use.repeats[facts] = order
        use.versions.add(hs["tls_version"], order)
        use.suites.add(hs["cipher_suite"], order)
        for place, g in enumerate(hs["groups_offered"] or ()):
            use.offered.add(self._group(g), order, place)
        use.snis.add(hs["sni"], order)
        if hs["library"]:
            use.libraries.add(" ".join(v for v in (hs["library"], hs["library_version"]) if v), order)
        use.evidence.add(hs, order)

    def _add_session(self, record: dict[str, Any], order: Order) -> None:
        self.ssh_sessions += 1
        self.pq_hybrid_ssh += record["pq_hybrid"] is True
        endpoint = _endpoint(record["dst_ip"], record["dst_port"])
        process = record["exe"] or record["comm"]
        key = (record["host"], record["role"], process, endpoint, record["kex"])
        use = self.sessions.get(key)
        if use is None:
            use = self.sessions[key] = _SshUse(record["host"], record["role"], process, endpoint, record["kex"],
                                               _Seen.start(record, order))
        use.seen.add(record, order)
        use.host_keys.add(record["host_key_algorithm"], order)
        use.ciphers.add(record["cipher_client_to_server"], order)
        use.ciphers.add(record["cipher_server_to_client"], order, 1)
        use.macs.add(record["mac_client_to_server"], order)
        use.macs.add(record["mac_server_to_client"], order, 1)
        use.clients.add(record["client_banner"], order)
        use.servers.add(record["server_banner"], order)
        use.evidence.add(record, order)

    def shard(self, *, asset_id: str | None = None) -> Shard:
        uses = sorted(self.uses.values(), key=lambda u: u.seen.first)
        groups = sorted({u.group for u in uses if u.group})
        group_assets = {g: _group_asset(g, [e for u in uses if u.group == g for e in u.evidence.in_order()])
                        for g in groups}
        assets = [_protocol_asset(u, asset_id, group_assets.get(u.group) if u.group else None) for u in uses]
        assets += [_ssh_asset(u, asset_id) for u in self.sessions.values()]
        assets.sort(key=lambda a: a.bom_ref)
        properties = props({Prop.RUNTIME_ASSET_ID: asset_id}) if asset_id else ()
        return Shard(stage=STAGE, assets=tuple(assets) + tuple(a for a in group_assets.values() if a is not None),
                     properties=properties)


def handshakes_to_shard(handshakes: Iterable[dict[str, Any]], *, asset_id: str | None = None) -> Shard:
    """The pure mapping: handshake and ssh records (dicts of the runtime contract) to a runtime CBOM shard."""
    table = FlowTable()
    for hs in handshakes:
        table.add(hs)
    return table.shard(asset_id=asset_id)


def _ssh_asset(use: _SshUse, asset_id: str | None) -> Asset:
    role = use.role or "connection"
    name = f"SSH {role} {use.seen.comm or 'unknown process'} -> {use.endpoint or 'unknown endpoint'}"
    host_keys, ciphers, macs = use.host_keys.values(), use.ciphers.values(), use.macs.values()
    return Asset(
        bom_ref=stable_ref("runtime-ssh", asset_id or "", use.host, use.role, use.process, use.endpoint, use.kex),
        name=f"{name} ({use.kex})" if use.kex else name,
        crypto=CryptoProperties(
            asset_type=CryptoAssetType.PROTOCOL,
            protocol_properties=ProtocolProperties(type=ProtocolPropertiesType.SSH),
        ),
        evidence=tuple(use.evidence.in_order()),
        properties=props({
            Prop.SSH_OBSERVED: True,
            Prop.SSH_KEX: [use.kex] if use.kex else None,
            Prop.SSH_HOST_KEY_ALGORITHMS: host_keys or None,
            Prop.SSH_CIPHERS: ciphers or None,
            Prop.SSH_MACS: macs or None,
            Prop.SSH_PQ_HYBRID: is_pq_kex(use.kex) if use.kex else None,
            Prop.SSH_CLIENT_SOFTWARE: _banners(use.clients.values()[:MAX_BANNERS]),
            Prop.SSH_SERVER_SOFTWARE: _banners(use.servers.values()[:MAX_BANNERS]),
            **_seen(use),
            Prop.RUNTIME_ASSET_ID: asset_id,
        }),
    )


def _seen(use: _Use | _SshUse) -> dict[Prop, Any]:
    """What every observed flow's asset says of where and when it was seen."""
    seen = use.seen
    return {
        Prop.RUNTIME_HANDSHAKES: seen.count,
        Prop.RUNTIME_FAILED: seen.failed,
        Prop.RUNTIME_FIRST_SEEN: seen.first_seen,
        Prop.RUNTIME_LAST_SEEN: seen.last_seen,
        Prop.RUNTIME_HOST: use.host,
        Prop.RUNTIME_COMM: seen.comm,
        Prop.RUNTIME_EXE: seen.exe,
        Prop.RUNTIME_ROLE: use.role,
        Prop.RUNTIME_ENDPOINT: use.endpoint,
    }


def _banners(banners: list[str]) -> str | None:
    # A banner is free text from the wire: separated by " | " (commas occur in banners).
    return " | ".join(banners) if banners else None


def _endpoint(ip: str | None, port: int | None) -> str | None:
    if ip is None or port is None:
        return None
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def _protocol_asset(use: _Use, asset_id: str | None, group_asset: Asset | None) -> Asset:
    versions, suites, offered, snis, libraries = (seen.values() for seen in (
        use.versions, use.suites, use.offered, use.snis, use.libraries))
    numbers = [_VERSION_NUMBER[v] for v in versions if v in _VERSION_NUMBER]
    code = group_code(use.group) if use.group else None
    role = use.role or "connection"
    protocol = "QUIC" if use.transport == "quic" else "TLS"
    name = f"{protocol} {role} {use.seen.comm or 'unknown process'} -> {use.endpoint or 'unknown endpoint'}"
    identity = (use.host, use.role, use.process, use.endpoint, use.group) + ((use.transport,) if use.transport != "tcp"
                                                                            else ())
    return Asset(
        bom_ref=stable_ref("runtime-tls", asset_id or "", *identity),
        name=f"{name} ({use.group})" if use.group else name,
        crypto=CryptoProperties(
            asset_type=CryptoAssetType.PROTOCOL,
            protocol_properties=ProtocolProperties(
                type=ProtocolPropertiesType.TLS,
                version=max(numbers, key=lambda n: tuple(int(x) for x in n.split("."))) if numbers else None,
                cipher_suites=[ProtocolPropertiesCipherSuite(name=s) for s in suites],
                crypto_refs=[BomRef(group_asset.bom_ref)] if group_asset else None,
            ),
        ),
        evidence=tuple(use.evidence.in_order()),
        properties=props({
            Prop.TLS_VERSIONS: versions or None,
            Prop.TLS_CIPHER_SUITES: suites or None,
            Prop.TLS_GROUPS: offered or None,
            Prop.TLS_NEGOTIATED_GROUP: use.group,
            Prop.TLS_GROUP_CODEPOINT: f"0x{code:04X}" if code is not None else None,
            Prop.TLS_PQ_HYBRID: is_pq_group(use.group) if use.group else None,
            Prop.TRANSPORT: "quic" if use.transport == "quic" else None,
            **_seen(use),
            Prop.RUNTIME_SNI: snis or None,
            Prop.RUNTIME_LIBRARY: libraries or None,
            Prop.RUNTIME_ASSET_ID: asset_id,
        }),
    )


# Group -> (algorithm family, key bits, curve, primitive) in the profile's vocabulary.
def _group_algorithm(group: str) -> tuple[str, int | None, str | None, CryptoPrimitive] | None:
    code = group_code(group)
    if code is None:
        return None
    if code in PQ_GROUP_PARTS:
        bits, curve = PQ_GROUP_PARTS[code]
        return "ML-KEM", bits, curve, CryptoPrimitive.KEM
    if code == 0x001D:
        return "X25519", None, "x25519", CryptoPrimitive.KEY_AGREE
    if code == 0x001E:
        return "X448", None, "x448", CryptoPrimitive.KEY_AGREE
    if 0x0100 <= code <= 0x0104:
        return "DH", {0x0100: 2048, 0x0101: 3072, 0x0102: 4096, 0x0103: 6144, 0x0104: 8192}[code], None, \
            CryptoPrimitive.KEY_AGREE
    if code <= 0x0029:
        return "ECDH", None, group, CryptoPrimitive.KEY_AGREE
    return None


def _group_asset(group: str, evidence: list[Evidence]) -> Asset | None:
    known = _group_algorithm(group)
    if known is None or not evidence:
        return None
    family, bits, curve, primitive = known
    base = algorithm_asset(family, evidence[0], bits=bits, curve=curve, primitive=primitive)
    code = group_code(group)
    return replace(
        base,
        bom_ref=stable_ref("tls-group", group),
        name=group,
        evidence=tuple(evidence[:MAX_EVIDENCE]),
        properties=base.properties + props({
            Prop.TLS_NEGOTIATED_GROUP: group,
            Prop.TLS_GROUP_CODEPOINT: f"0x{code:04X}" if code is not None else None,
            Prop.TLS_PQ_HYBRID: is_pq_group(group),
        }),
    )
