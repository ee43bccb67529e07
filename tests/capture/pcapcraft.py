"""Captures crafted in the tests with dpkt's own builders and writers: frames for every link type
we read, VLAN tags, IPv6, TCP segments cut, reordered and retransmitted at will, and the TLS byte
streams of a recorded capture to fill them with."""

from __future__ import annotations

import socket
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import dpkt

MAC_A, MAC_B = b"\x02\x00\x00\x00\x00\x01", b"\x02\x00\x00\x00\x00\x02"


@dataclass(frozen=True)
class Seg:
    """One TCP segment of a crafted connection; `client` says which way it goes."""

    client: bool
    seq_offset: int  # from the direction's first payload byte
    payload: bytes = b""
    flags: int = dpkt.tcp.TH_ACK


@dataclass(frozen=True)
class Conn:
    client_ip: str
    client_port: int
    server_ip: str
    server_port: int
    client_isn: int = 1000
    server_isn: int = 5000


def ip_packet(src: str, dst: str, tcp: dpkt.tcp.TCP) -> dpkt.Packet:
    if ":" in src:
        ip6 = dpkt.ip6.IP6(src=socket.inet_pton(socket.AF_INET6, src), dst=socket.inet_pton(socket.AF_INET6, dst),
                           nxt=dpkt.ip.IP_PROTO_TCP, hlim=64, data=tcp)
        ip6.plen = len(bytes(tcp))
        return ip6
    return dpkt.ip.IP(src=socket.inet_aton(src), dst=socket.inet_aton(dst), p=dpkt.ip.IP_PROTO_TCP, ttl=64, data=tcp)


def tcp_packets(conn: Conn, segments: Iterable[Seg], *, handshake: bool = True) -> list[bytes]:
    """IP packets (bytes) of a connection: optionally its SYN/SYN-ACK, then the given segments."""
    out: list[bytes] = []

    def emit(client: bool, seq: int, flags: int, payload: bytes = b"") -> None:
        src, dst = (conn.client_ip, conn.server_ip) if client else (conn.server_ip, conn.client_ip)
        sport, dport = (conn.client_port, conn.server_port) if client else (conn.server_port, conn.client_port)
        tcp = dpkt.tcp.TCP(sport=sport, dport=dport, seq=seq % (1 << 32), flags=flags, win=65535, data=payload)
        out.append(bytes(ip_packet(src, dst, tcp)))

    if handshake:
        emit(True, conn.client_isn, dpkt.tcp.TH_SYN)
        emit(False, conn.server_isn, dpkt.tcp.TH_SYN | dpkt.tcp.TH_ACK)
    for seg in segments:
        isn = conn.client_isn if seg.client else conn.server_isn
        emit(seg.client, isn + 1 + seg.seq_offset, seg.flags, seg.payload)
    return out


def ethernet(ip: bytes, vlans: tuple[int, ...] = ()) -> bytes:
    eth_type = dpkt.ethernet.ETH_TYPE_IP6 if ip[0] >> 4 == 6 else dpkt.ethernet.ETH_TYPE_IP
    body = ip
    # Tags from the inside out: the last tag given is the innermost (802.1Q), outer ones 802.1ad.
    for i, vid in enumerate(reversed(vlans)):
        outer = i == len(vlans) - 1 and len(vlans) > 1
        body = (vid & 0x0FFF).to_bytes(2, "big") + eth_type.to_bytes(2, "big") + body
        eth_type = dpkt.ethernet.ETH_TYPE_8021AD if outer else dpkt.ethernet.ETH_TYPE_8021Q
    return MAC_B + MAC_A + eth_type.to_bytes(2, "big") + body


def linux_sll(ip: bytes) -> bytes:
    proto = 0x86DD if ip[0] >> 4 == 6 else 0x0800
    return (0).to_bytes(2, "big") + (1).to_bytes(2, "big") + (6).to_bytes(2, "big") + MAC_A + b"\0\0" + \
        proto.to_bytes(2, "big") + ip


def linux_sll2(ip: bytes) -> bytes:
    proto = 0x86DD if ip[0] >> 4 == 6 else 0x0800
    return proto.to_bytes(2, "big") + b"\0\0" + (1).to_bytes(4, "big") + (1).to_bytes(2, "big") + b"\x00" + \
        b"\x06" + MAC_A + b"\0\0" + ip


def bsd_null(ip: bytes) -> bytes:
    family = 30 if ip[0] >> 4 == 6 else 2  # AF_INET6 on macOS/FreeBSD, AF_INET; host byte order
    return family.to_bytes(4, "little") + ip


def write_pcap(path: Path, frames: Iterable[bytes], linktype: int = dpkt.pcap.DLT_EN10MB, t0: float = 1.7e9) -> Path:
    with path.open("wb") as fh:
        writer = dpkt.pcap.Writer(fh, linktype=linktype, snaplen=262144)
        for i, frame in enumerate(frames):
            writer.writepkt(frame, ts=t0 + i * 0.001)
    return path


def write_pcapng(path: Path, packets: Iterable[tuple[float, bytes]], linktype: int = dpkt.pcap.DLT_EN10MB) -> Path:
    with path.open("wb") as fh:
        writer = dpkt.pcapng.Writer(fh, linktype=linktype, snaplen=262144)
        for ts, frame in packets:
            writer.writepkt(frame, ts=ts)
    return path


def read_pcap(path: Path) -> list[tuple[float, bytes]]:
    with path.open("rb") as fh:
        return [(float(ts), bytes(frame)) for ts, frame in dpkt.pcap.Reader(fh)]


def streams(path: Path, server_port: int) -> tuple[bytes, bytes]:
    """The client->server and server->client payload bytes of the first connection to `server_port`
    in an Ethernet capture recorded on loopback (in order there: no loss, no reordering)."""
    client, server = bytearray(), bytearray()
    seen: set[tuple[bool, int]] = set()
    client_port = None
    for _, frame in read_pcap(path):
        ip = dpkt.ethernet.Ethernet(frame).data
        tcp = ip.data
        if not isinstance(tcp, dpkt.tcp.TCP) or server_port not in (tcp.sport, tcp.dport):
            continue
        peer = tcp.sport if tcp.dport == server_port else tcp.dport
        client_port = client_port or peer
        if peer != client_port or not tcp.data or (tcp.dport == server_port, tcp.seq) in seen:
            continue
        seen.add((tcp.dport == server_port, tcp.seq))
        (client if tcp.dport == server_port else server).extend(tcp.data)
    return bytes(client), bytes(server)


def write_multi_interface_pcapng(path: Path, linktypes: list[int], packets: Iterable[tuple[int, float, bytes]],
                                 tsresol_exponent: int = 9) -> Path:
    """A pcapng with one interface per link type (nanosecond times), packets as (interface, time, frame):
    what dumpcap writes when capturing on several interfaces at once."""
    shb = dpkt.pcapng.SectionHeaderBlockLE()
    blocks = [bytes(shb)]
    for linktype in linktypes:
        tsresol = dpkt.pcapng.PcapngOptionLE(code=dpkt.pcapng.PCAPNG_OPT_IF_TSRESOL, data=bytes([tsresol_exponent]))
        end = dpkt.pcapng.PcapngOptionLE(code=dpkt.pcapng.PCAPNG_OPT_ENDOFOPT)
        blocks.append(bytes(dpkt.pcapng.InterfaceDescriptionBlockLE(linktype=linktype, snaplen=262144,
                                                                     opts=[tsresol, end])))
    for iface, ts, frame in packets:
        ticks = round(ts * 10**tsresol_exponent)
        blocks.append(bytes(dpkt.pcapng.EnhancedPacketBlockLE(iface_id=iface, ts_high=ticks >> 32,
                                                               ts_low=ticks & 0xFFFFFFFF, caplen=len(frame),
                                                               pkt_len=len(frame), pkt_data=frame)))
    path.write_bytes(b"".join(blocks))
    return path
