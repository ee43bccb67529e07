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

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

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


def parse_lines(lines: Iterable[str], origin: str) -> list[dict[str, Any]]:
    """The handshake records of a runtime JSON lines text; ready and metrics lines are skipped.

    Raises InputError naming origin:line for a line that is not JSON or not a valid record.
    """
    out = []
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
        if not isinstance(record, dict) or not isinstance(record.get("type"), str):
            raise InputError("not a runtime record: expected an object with a \"type\"", path=origin, line=number)
        if record["type"] not in ("handshake", "ssh"):
            continue
        kind = record["type"]
        for key, types in (HANDSHAKE_KEYS if kind == "handshake" else SSH_KEYS).items():
            if key not in record:
                raise InputError(f"{kind} record lacks {key!r}", path=origin, line=number)
            value = record[key]
            wrong_type = not isinstance(value, types) or (isinstance(value, bool) and bool not in types)
            if value is not None and wrong_type:
                raise InputError(f"{kind} record has a {type(value).__name__} for {key!r}", path=origin, line=number)
        if kind == "ssh":
            out.append(record)
            continue
        for key in ("groups_offered", "key_shares_offered"):
            if record[key] is not None and not all(isinstance(g, str) for g in record[key]):
                raise InputError(f"{key!r} must be a list of group names", path=origin, line=number)
        out.append(record)
    return out


def read_handshake_files(paths: Sequence[Path], *, asset_id: str | None = None) -> tuple[Shard, dict[str, Any]]:
    """Read every file first (all or nothing), then aggregate."""
    records: list[dict[str, Any]] = []
    for path in paths:
        p = require_file(path)
        try:
            text = p.read_bytes().decode("utf-8")
        except UnicodeDecodeError as e:
            raw = p.read_bytes()
            raise InputError(f"not UTF-8 text (byte {e.start})", path=p, line=raw[: e.start].count(b"\n") + 1) from e
        except OSError as e:
            raise InputError(f"cannot read: {e.strerror}", path=p) from e
        records.extend(parse_lines(text.splitlines(), str(p)))
    shard = handshakes_to_shard(records, asset_id=asset_id)
    protocol = sum(1 for a in shard.assets if a.crypto.asset_type == CryptoAssetType.PROTOCOL)
    report = {
        "files": len(paths),
        "handshakes": sum(1 for r in records if r["type"] == "handshake"),
        "protocol_assets": protocol,
        "algorithm_assets": len(shard.assets) - protocol,
        "pq_hybrid_handshakes": sum(1 for r in records if r["type"] == "handshake" and r["pq_hybrid"] is True),
        "ssh_sessions": sum(1 for r in records if r["type"] == "ssh"),
        "pq_hybrid_ssh_sessions": sum(1 for r in records if r["type"] == "ssh" and r["pq_hybrid"] is True),
    }
    return shard, report


@dataclass
class _Use:
    """The handshakes aggregated into one protocol asset."""

    host: str | None
    role: str | None
    process: str | None
    comm: str | None
    exe: str | None
    endpoint: str | None
    group: str | None
    transport: str = "tcp"
    handshakes: int = 0
    failed: int = 0
    first_seen: str = ""
    last_seen: str = ""
    versions: list[str] = field(default_factory=list)
    suites: list[str] = field(default_factory=list)
    offered: list[str] = field(default_factory=list)
    snis: list[str] = field(default_factory=list)
    libraries: list[str] = field(default_factory=list)
    evidence: dict[str, Evidence] = field(default_factory=dict)


def _add(values: list[str], value: str | None) -> None:
    if value is not None and value not in values:
        values.append(value)


def handshakes_to_shard(handshakes: Iterable[dict[str, Any]], *, asset_id: str | None = None) -> Shard:
    """The pure mapping: handshake records (dicts of the runtime contract) to a runtime CBOM shard."""
    uses: dict[tuple[Any, ...], _Use] = {}
    sessions: dict[tuple[Any, ...], _SshUse] = {}
    for hs in sorted(handshakes, key=lambda h: str(h["ts"])):
        if hs.get("type") == "ssh":
            _add_session(sessions, hs)
            continue
        group = normalise_group(hs["negotiated_group"]) if hs["negotiated_group"] else None
        endpoint = _endpoint(hs["dst_ip"], hs["dst_port"])
        process = hs["exe"] or hs["comm"]
        transport = "quic" if hs.get("transport") == "quic" else "tcp"
        key = (hs["host"], hs["role"], process, endpoint, group) + ((transport,) if transport != "tcp" else ())
        use = uses.get(key)
        if use is None:
            use = uses[key] = _Use(hs["host"], hs["role"], process, hs["comm"], hs["exe"], endpoint, group,
                                   transport, first_seen=hs["ts"])
        use.handshakes += 1
        use.failed += hs["success"] is False
        use.last_seen = hs["ts"]
        _add(use.versions, hs["tls_version"])
        _add(use.suites, hs["cipher_suite"])
        for g in hs["groups_offered"] or ():
            _add(use.offered, normalise_group(g))
        _add(use.snis, hs["sni"])
        if hs["library"]:
            _add(use.libraries, " ".join(v for v in (hs["library"], hs["library_version"]) if v))
        _note_evidence(use.evidence, hs)

    groups = sorted({u.group for u in uses.values() if u.group})
    group_assets = {g: _group_asset(g, [e for u in uses.values() if u.group == g for e in u.evidence.values()])
                    for g in groups}
    assets = [_protocol_asset(u, asset_id, group_assets.get(u.group) if u.group else None) for u in uses.values()]
    assets += [_ssh_asset(u, asset_id) for u in sessions.values()]
    assets.sort(key=lambda a: a.bom_ref)
    properties = props({Prop.RUNTIME_ASSET_ID: asset_id}) if asset_id else ()
    return Shard(stage=STAGE, assets=tuple(assets) + tuple(a for a in group_assets.values() if a is not None),
                 properties=properties)


def _note_evidence(evidence: dict[str, Evidence], record: dict[str, Any]) -> None:
    """Lines imported from a capture or a Zeek log name their file and are evidence of that source."""
    source = CAPTURE_SOURCES.get(record["source"], Source.RUNTIME)
    capture = record.get("capture") if isinstance(record.get("capture"), str) else None
    line = record.get("capture_line") if isinstance(record.get("capture_line"), int) else None
    location = capture or "/".join(str(v) for v in (record["host"], record["pid"], record["comm"]))
    where = f"{location}:{line}" if line is not None else location
    if where not in evidence and len(evidence) < MAX_EVIDENCE:
        evidence[where] = Evidence(source=source, location=location, line=line, context=f"source {record['source']}")


@dataclass
class _SshUse:
    """The SSH sessions aggregated into one protocol asset."""

    host: str | None
    role: str | None
    process: str | None
    comm: str | None
    exe: str | None
    endpoint: str | None
    kex: str | None
    sessions: int = 0
    failed: int = 0
    first_seen: str = ""
    last_seen: str = ""
    host_keys: list[str] = field(default_factory=list)
    ciphers: list[str] = field(default_factory=list)
    macs: list[str] = field(default_factory=list)
    clients: list[str] = field(default_factory=list)
    servers: list[str] = field(default_factory=list)
    evidence: dict[str, Evidence] = field(default_factory=dict)


# Banners kept per asset (a scanner fleet can show many client versions).
MAX_BANNERS = 20


def _add_session(sessions: dict[tuple[Any, ...], _SshUse], record: dict[str, Any]) -> None:
    endpoint = _endpoint(record["dst_ip"], record["dst_port"])
    process = record["exe"] or record["comm"]
    key = (record["host"], record["role"], process, endpoint, record["kex"])
    use = sessions.get(key)
    if use is None:
        use = sessions[key] = _SshUse(record["host"], record["role"], process, record["comm"], record["exe"],
                                      endpoint, record["kex"], first_seen=record["ts"])
    use.sessions += 1
    use.failed += record["success"] is False
    use.last_seen = record["ts"]
    _add(use.host_keys, record["host_key_algorithm"])
    for name in ("cipher_client_to_server", "cipher_server_to_client"):
        _add(use.ciphers, record[name])
    for name in ("mac_client_to_server", "mac_server_to_client"):
        _add(use.macs, record[name])
    for banners, banner in ((use.clients, record["client_banner"]), (use.servers, record["server_banner"])):
        if len(banners) < MAX_BANNERS:
            _add(banners, banner)
    _note_evidence(use.evidence, record)


def _ssh_asset(use: _SshUse, asset_id: str | None) -> Asset:
    role = use.role or "connection"
    name = f"SSH {role} {use.comm or 'unknown process'} -> {use.endpoint or 'unknown endpoint'}"
    return Asset(
        bom_ref=stable_ref("runtime-ssh", asset_id or "", use.host, use.role, use.process, use.endpoint, use.kex),
        name=f"{name} ({use.kex})" if use.kex else name,
        crypto=CryptoProperties(
            asset_type=CryptoAssetType.PROTOCOL,
            protocol_properties=ProtocolProperties(type=ProtocolPropertiesType.SSH),
        ),
        evidence=tuple(use.evidence.values()),
        properties=props({
            Prop.SSH_OBSERVED: True,
            Prop.SSH_KEX: [use.kex] if use.kex else None,
            Prop.SSH_HOST_KEY_ALGORITHMS: use.host_keys or None,
            Prop.SSH_CIPHERS: use.ciphers or None,
            Prop.SSH_MACS: use.macs or None,
            Prop.SSH_PQ_HYBRID: is_pq_kex(use.kex) if use.kex else None,
            Prop.SSH_CLIENT_SOFTWARE: _banners(use.clients),
            Prop.SSH_SERVER_SOFTWARE: _banners(use.servers),
            Prop.RUNTIME_HANDSHAKES: use.sessions,
            Prop.RUNTIME_FAILED: use.failed,
            Prop.RUNTIME_FIRST_SEEN: use.first_seen,
            Prop.RUNTIME_LAST_SEEN: use.last_seen,
            Prop.RUNTIME_HOST: use.host,
            Prop.RUNTIME_COMM: use.comm,
            Prop.RUNTIME_EXE: use.exe,
            Prop.RUNTIME_ROLE: use.role,
            Prop.RUNTIME_ENDPOINT: use.endpoint,
            Prop.RUNTIME_ASSET_ID: asset_id,
        }),
    )


def _banners(banners: list[str]) -> str | None:
    # A banner is free text from the wire: separated by " | " (commas occur in banners).
    return " | ".join(banners) if banners else None


def _endpoint(ip: str | None, port: int | None) -> str | None:
    if ip is None or port is None:
        return None
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def _protocol_asset(use: _Use, asset_id: str | None, group_asset: Asset | None) -> Asset:
    numbers = [_VERSION_NUMBER[v] for v in use.versions if v in _VERSION_NUMBER]
    code = group_code(use.group) if use.group else None
    role = use.role or "connection"
    protocol = "QUIC" if use.transport == "quic" else "TLS"
    name = f"{protocol} {role} {use.comm or 'unknown process'} -> {use.endpoint or 'unknown endpoint'}"
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
                cipher_suites=[ProtocolPropertiesCipherSuite(name=s) for s in use.suites],
                crypto_refs=[BomRef(group_asset.bom_ref)] if group_asset else None,
            ),
        ),
        evidence=tuple(use.evidence.values()),
        properties=props({
            Prop.TLS_VERSIONS: use.versions or None,
            Prop.TLS_CIPHER_SUITES: use.suites or None,
            Prop.TLS_GROUPS: use.offered or None,
            Prop.TLS_NEGOTIATED_GROUP: use.group,
            Prop.TLS_GROUP_CODEPOINT: f"0x{code:04X}" if code is not None else None,
            Prop.TLS_PQ_HYBRID: is_pq_group(use.group) if use.group else None,
            Prop.TRANSPORT: "quic" if use.transport == "quic" else None,
            Prop.RUNTIME_HANDSHAKES: use.handshakes,
            Prop.RUNTIME_FAILED: use.failed,
            Prop.RUNTIME_FIRST_SEEN: use.first_seen,
            Prop.RUNTIME_LAST_SEEN: use.last_seen,
            Prop.RUNTIME_HOST: use.host,
            Prop.RUNTIME_COMM: use.comm,
            Prop.RUNTIME_EXE: use.exe,
            Prop.RUNTIME_ROLE: use.role,
            Prop.RUNTIME_ENDPOINT: use.endpoint,
            Prop.RUNTIME_SNI: use.snis or None,
            Prop.RUNTIME_LIBRARY: use.libraries or None,
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
