"""Tunnels are opened and the inner connection decoded, as Wireshark shows it: IP in IP, GRE
(IP, Ethernet, ERSPAN), VXLAN, Geneve, GTP-U, PPPoE. Real traces with TLS inside Geneve, GTP-U and
PPPoE are in the ground truth (tests/capture/test_ground_truth.py); these build each kind around
one inner TCP segment."""

from __future__ import annotations

import socket
import struct
import subprocess
from pathlib import Path

import dpkt
import pytest
from pcapcraft import write_pcap
from tshark_truth import tshark

from assess.sources.capture import import_pcaps
from assess.sources.capture.packets import LINKTYPE_ETHERNET, MAX_TUNNELS, Skip, TcpSegment, UdpDatagram, decode
from assess.sources.runtime.reassembly import Endpoint

INNER_SRC, INNER_DST = "10.1.0.1", "10.2.0.2"


def inner_ip() -> bytes:
    tcp = dpkt.tcp.TCP(sport=40000, dport=443, seq=7, flags=dpkt.tcp.TH_ACK, data=b"\x16\x03\x01\x00\x05hello")
    ip = dpkt.ip.IP(src=socket.inet_aton(INNER_SRC), dst=socket.inet_aton(INNER_DST), p=dpkt.ip.IP_PROTO_TCP, data=tcp)
    ip.len = len(bytes(ip))
    return bytes(ip)


def ethernet(payload: bytes, ether_type: int = dpkt.ethernet.ETH_TYPE_IP) -> bytes:
    return b"\x02" * 6 + b"\x04" * 6 + struct.pack(">H", ether_type) + payload


def outer(proto: int, payload: bytes) -> bytes:
    ip = dpkt.ip.IP(src=socket.inet_aton("192.0.2.1"), dst=socket.inet_aton("192.0.2.2"), p=proto, data=payload)
    ip.len = len(bytes(ip))
    return ethernet(bytes(ip))


def udp(port: int, payload: bytes) -> bytes:
    return outer(dpkt.ip.IP_PROTO_UDP, struct.pack(">HHHH", 50000, port, 8 + len(payload), 0) + payload)


def gre(protocol: int, payload: bytes, flags: int = 0, optional: bytes = b"") -> bytes:
    return outer(dpkt.ip.IP_PROTO_GRE, struct.pack(">HH", flags, protocol) + optional + payload)


def gtp_u(payload: bytes, extensions: bool) -> bytes:
    if not extensions:
        return udp(2152, struct.pack(">BBHI", 0x30, 0xFF, len(payload), 1) + payload)
    # E flag: sequence, N-PDU, next extension type 0x85 (PDU session container, 1 unit), then none
    optional = struct.pack(">HBB", 0, 0, 0x85) + bytes([1, 0x10, 0x05, 0x00])
    return udp(2152, struct.pack(">BBHI", 0x34, 0xFF, len(optional) + len(payload), 1) + optional + payload)


CASES = {
    "IPv4 in IPv4": outer(4, inner_ip()),
    "GRE, IPv4": gre(0x0800, inner_ip()),
    "GRE with checksum, key and sequence": gre(0x0800, inner_ip(), flags=0xB000, optional=b"\0" * 12),
    "GRE, transparent Ethernet": gre(0x6558, ethernet(inner_ip())),
    "GRE, ERSPAN type II": gre(0x88BE, b"\x10\x01\x00\x00\x00\x00\x00\x00" + ethernet(inner_ip()), flags=0x1000,
                               optional=b"\0" * 4),
    "GRE in UDP (RFC 8086)": udp(4754, struct.pack(">HH", 0, 0x0800) + inner_ip()),
    "VXLAN": udp(4789, b"\x08\x00\x00\x00\x00\x00\x2a\x00" + ethernet(inner_ip())),
    "Geneve with an option": udp(6081, b"\x02\x00\x65\x58\x00\x00\x2a\x00" + b"\x01\x02\x03\x01" + b"\0" * 4
                                 + ethernet(inner_ip())),
    "GTP-U": gtp_u(inner_ip(), extensions=False),
    "GTP-U with an extension header": gtp_u(inner_ip(), extensions=True),
    "VXLAN in GRE in IPv4": gre(0x0800, bytes(dpkt.ethernet.Ethernet(udp(4789, b"\x08" + b"\0" * 7
                                                                           + ethernet(inner_ip()))).data)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_inner_tcp_segment_of_a_tunnel_is_decoded(name: str) -> None:
    segment = decode(LINKTYPE_ETHERNET, CASES[name])
    assert isinstance(segment, TcpSegment), segment
    assert (segment.src.ip, segment.dst.ip, segment.dst.port) == (INNER_SRC, INNER_DST, 443)
    assert segment.payload == b"\x16\x03\x01\x00\x05hello"


def test_tunnels_nested_deeper_than_the_limit_are_malformed_not_followed() -> None:
    frame = inner_ip()
    for _ in range(MAX_TUNNELS + 1):
        ip = dpkt.ip.IP(src=socket.inet_aton("192.0.2.1"), dst=socket.inet_aton("192.0.2.2"), p=4, data=frame)
        ip.len = len(bytes(ip))
        frame = bytes(ip)
    assert decode(LINKTYPE_ETHERNET, ethernet(frame)) is Skip.MALFORMED


def test_udp_on_a_tunnel_port_that_is_not_that_tunnel_stays_a_datagram() -> None:
    not_vxlan = udp(4789, b"\x00" * 16)  # no I flag
    expected = UdpDatagram(Endpoint("192.0.2.1", 50000), Endpoint("192.0.2.2", 4789), b"\x00" * 16)
    assert decode(LINKTYPE_ETHERNET, not_vxlan) == expected


def test_fragmented_outer_packets_are_put_back_together_as_tshark_does(tmp_path: Path) -> None:
    """Zeek's GTP-U trace whose outer IPv4 packets are fragmented: every inner TCP segment tshark
    shows is read (before reassembly, 36 of its 68 were lost)."""
    pcap = Path(__file__).parents[1] / "data" / "captures" / "tunnels" / "gtp1-gn-fragmented.pcap"
    out = tmp_path / "runtime.jsonl"
    report = import_pcaps([pcap], out)
    protocols = subprocess.run([tshark(), "-n", "-r", str(pcap), "-T", "fields", "-e", "frame.protocols"],
                               capture_output=True, text=True, check=True).stdout.split()
    assert report.counters["tcp_segments"] == sum(":tcp" in p for p in protocols) == 68
    assert report.counters["ip_datagrams_reassembled"] == 36
    assert report.counters["skipped_ip_fragment"] == 4  # fragments whose datagram never completed


def ipv4_fragments(proto: int, payload: bytes, ident: int, size: int, src: str, dst: str) -> list[bytes]:
    out = []
    for at in range(0, len(payload), size):
        more = at + size < len(payload)
        ip = dpkt.ip.IP(src=socket.inet_aton(src), dst=socket.inet_aton(dst), p=proto, id=ident,
                        data=payload[at : at + size])
        ip.mf, ip.offset = int(more), at // 8
        ip.len = len(bytes(ip))
        out.append(bytes(ip))
    return out


def test_a_fragment_tunnelled_inside_a_fragmented_tunnel_is_put_back_together(tmp_path: Path) -> None:
    """GRE whose outer packets are fragmented, carrying fragments of an inner UDP datagram: each
    level is reassembled in turn (a hostile or odd capture must give a datagram, not a crash)."""
    datagram = struct.pack(">HHHH", 5000, 6000, 8 + 96, 0) + bytes(range(96))
    inner = ipv4_fragments(dpkt.ip.IP_PROTO_UDP, datagram, 7, 56, INNER_SRC, INNER_DST)
    frames = []
    for n, piece in enumerate(inner):
        gre_packet = struct.pack(">HH", 0, 0x0800) + piece
        frames += [ethernet(outer) for outer in ipv4_fragments(dpkt.ip.IP_PROTO_GRE, gre_packet, 100 + n, 48,
                                                                "192.0.2.1", "192.0.2.2")]
    report = import_pcaps([write_pcap(tmp_path / "nested.pcap", frames)], tmp_path / "out.jsonl")
    assert report.counters["udp_datagrams"] == 1
    assert report.counters["ip_datagrams_reassembled"] == 3  # two outer datagrams, then the inner one
    assert report.counters["skipped_ip_fragment"] == 0
