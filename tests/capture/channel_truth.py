"""Wireshark's reading of QUIC and SSH in a capture (tshark's dissection), as the fields of Carnot's
runtime lines: for QUIC, the TLS hellos tshark decrypts from Initial packets (one entry per UDP
conversation with a ClientHello, keyed by the client's endpoint); for SSH, the banners and both
KEXINITs' lists (one entry per TCP connection, keyed by the client's endpoint). Code points are
named through `assess.tlsnames` on both sides."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from tshark_truth import tshark

from assess.tlsnames import GREASE, cipher_suite_name, group_name, version_name


@dataclass
class QuicHello:
    client: tuple[str, int]
    sni: str | None = None
    groups_offered: list[str] = field(default_factory=list)
    key_shares_offered: list[str] = field(default_factory=list)
    cipher_suite: str | None = None
    negotiated_group: str | None = None
    tls_version: str | None = None


def _codes(text: str) -> list[int]:
    return [int(v, 0) for v in text.split(",") if v]


def _names(text: str) -> list[str]:
    return [group_name(g) for g in _codes(text) if g not in GREASE]


def quic_hellos(pcap: Path, ports: tuple[int, ...] = ()) -> dict[tuple[str, int], QuicHello]:
    """`ports`: QUIC servers on ports tshark's heuristics miss (DNS over QUIC on 853)."""
    fields = ("udp.stream", "ip.src", "ipv6.src", "udp.srcport", "tls.handshake.type",
              "tls.handshake.extensions_server_name", "tls.handshake.extensions_supported_group",
              "tls.handshake.extensions_key_share_group", "tls.handshake.ciphersuite",
              "tls.handshake.extensions.supported_version", "tls.handshake.random")
    decode = [x for p in ports for x in ("-d", f"udp.port=={p},quic")]
    args = [tshark(), "-n", "-r", str(pcap), *decode, "-Y", "quic && (tls.handshake.type==1 || tls.handshake.type==2)",
            "-T", "fields", "-E", "separator=\t", "-E", "aggregator=,", *(x for f in fields for x in ("-e", f))]
    out = subprocess.run(args, capture_output=True, text=True, check=True, timeout=120).stdout
    by_stream: dict[str, QuicHello] = {}
    for row in out.splitlines():
        stream, ip4, ip6, port, types, sni, groups, shares, suites, versions, randoms = row.split("\t")
        kinds = _codes(types)
        if 1 in kinds and stream not in by_stream:
            hello = by_stream[stream] = QuicHello((ip4 or ip6, int(port)))
            hello.sni = sni.split(",")[0] or None
            hello.groups_offered = _names(groups)
            hello.key_shares_offered = _names(shares)
        conn = by_stream.get(stream)
        if conn is None or 2 not in kinds:
            continue
        hrr = "cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c" in randoms
        if hrr:
            continue
        # A ServerHello's fields follow the ClientHello's in a packet that holds both (never in QUIC).
        conn.cipher_suite = cipher_suite_name(_codes(suites)[-1]) if suites else None
        share = _codes(shares)
        conn.negotiated_group = group_name(share[-1]) if share else None
        version = _codes(versions)
        conn.tls_version = version_name(version[-1]) if version else None
    return {h.client: h for h in by_stream.values()}


@dataclass
class SshKex:
    client: tuple[str, int]
    client_banner: str | None = None
    server_banner: str | None = None
    kex_client: list[str] = field(default_factory=list)
    kex_server: list[str] = field(default_factory=list)
    host_key_client: list[str] = field(default_factory=list)
    host_key_server: list[str] = field(default_factory=list)
    ciphers_client: list[str] = field(default_factory=list)
    ciphers_server: list[str] = field(default_factory=list)


def ssh_kexinits(pcap: Path, ports: tuple[int, ...] = ()) -> dict[tuple[str, int], SshKex]:
    """`ports`: SSH servers on ports other than 22, which tshark must be told of."""
    fields = ("tcp.stream", "ip.src", "ipv6.src", "tcp.srcport", "ssh.protocol", "ssh.kex_algorithms",
              "ssh.server_host_key_algorithms", "ssh.encryption_algorithms_client_to_server", "tcp.flags.syn",
              "tcp.flags.ack")
    decode = [x for p in ports for x in ("-d", f"tcp.port=={p},ssh")]
    args = [tshark(), "-n", "-r", str(pcap), *decode, "-Y", "ssh.protocol || ssh.kex_algorithms || "
            "(tcp.flags.syn==1 && tcp.flags.ack==0)", "-T", "fields", "-E", "separator=\t", "-E", "aggregator=|",
            *(x for f in fields for x in ("-e", f))]
    out = subprocess.run(args, capture_output=True, text=True, check=True, timeout=120).stdout
    clients: dict[str, tuple[str, int]] = {}
    by_stream: dict[str, SshKex] = {}
    for row in out.splitlines():
        stream, ip4, ip6, sport, banner, kex, host_keys, ciphers, syn, ack = row.split("\t")
        src = (ip4 or ip6, int(sport))
        if syn == "1" and ack == "0":
            clients.setdefault(stream, src)
            continue
        client = clients.get(stream)
        if client is None:
            continue
        conn = by_stream.setdefault(stream, SshKex(client))
        from_client = src == client
        if banner:
            setattr(conn, "client_banner" if from_client else "server_banner", banner)
        if kex:
            side = "client" if from_client else "server"
            setattr(conn, f"kex_{side}", kex.split(","))
            setattr(conn, f"host_key_{side}", host_keys.split(","))
            setattr(conn, f"ciphers_{side}", ciphers.split(","))
    return {c.client: c for c in by_stream.values()}
