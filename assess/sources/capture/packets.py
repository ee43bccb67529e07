"""Link-layer frames -> TCP segments and UDP datagrams, decoded with dpkt: Ethernet (802.1Q, QinQ,
PPPoE sessions), Linux cooked capture v1 and v2, raw IP, BSD loopback (NULL/LOOP), PPP; IPv4 and
IPv6 (extension headers); TCP and UDP. Tunnels are opened and their inner packet decoded instead:
IP in IP (4in4, 6in4, 4in6, 6in6), GRE (IP, Ethernet, ERSPAN II/III, PPTP's PPP; also in UDP
4754), VXLAN (UDP 4789),
Geneve (UDP 6081) and GTP-U (UDP 2152), at most MAX_TUNNELS deep, as Wireshark shows the inner
connection (cloud traffic mirroring arrives in VXLAN or Geneve).

Pure: bytes in, a `TcpSegment` or `UdpDatagram` (or a `Skip` for anything we cannot use) out.
Nothing here raises on hostile bytes: dpkt's decoding errors mean "not usable", counted by the caller.
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple

import dpkt

from assess.sources.capture.defrag import IpFragment
from assess.sources.runtime.reassembly import Endpoint

# LINKTYPE_* values (https://www.tcpdump.org/linktypes.html); 12 and 14 are RAW on some BSDs.
LINKTYPE_NULL = 0
LINKTYPE_ETHERNET = 1
LINKTYPE_PPP = 9
LINKTYPE_RAW = 101
LINKTYPE_LOOP = 108
LINKTYPE_LINUX_SLL = 113
LINKTYPE_IPV4 = 228
LINKTYPE_IPV6 = 229
LINKTYPE_LINUX_SLL2 = 276
RAW_LINKTYPES = frozenset({LINKTYPE_RAW, 12, 14, LINKTYPE_IPV4, LINKTYPE_IPV6})
SUPPORTED_LINKTYPES = frozenset({LINKTYPE_NULL, LINKTYPE_ETHERNET, LINKTYPE_PPP, LINKTYPE_LOOP,
                                 LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2}) | RAW_LINKTYPES
# PPP protocol numbers of IPv4 and IPv6 (RFC 1332, RFC 5072).
_PPP_IP = {0x0021: 4, 0x0057: 6}


class Skip(StrEnum):
    """Why a frame gave no segment (the counters of `carnot runtime from-pcap`)."""

    UNSUPPORTED_LINK = "unsupported_link_type"  # a pcapng interface we cannot decode (e.g. 802.11)
    NOT_IP = "not_ip"
    NOT_TCP = "not_tcp"  # neither TCP nor UDP (the counter's name predates UDP)
    FRAGMENT = "ip_fragment"  # an IP fragment of a datagram that was never put back together
    MALFORMED = "malformed"


class TcpSegment(NamedTuple):
    """One per packet: a named tuple, made in a fraction of a frozen dataclass's time."""

    src: Endpoint
    dst: Endpoint
    seq: int
    payload: bytes
    syn: bool
    fin: bool
    rst: bool
    snapped: bool  # the capture kept fewer payload bytes than the packet carried (snaplen)
    vlans: tuple[int, ...] = ()


@dataclass(frozen=True)
class UdpDatagram:
    src: Endpoint
    dst: Endpoint
    payload: bytes


# Tunnels opened inside one another before the inner packet is taken as it is.
MAX_TUNNELS = 4
_VXLAN_PORT, _GENEVE_PORT, _GTP_U_PORT, _GRE_IN_UDP_PORT = 4789, 6081, 2152, 4754
_TUNNEL_PORTS = frozenset({_VXLAN_PORT, _GENEVE_PORT, _GTP_U_PORT, _GRE_IN_UDP_PORT})
_IP_PROTO_IPV4 = 4
_ETH_TYPE_IPV4, _ETH_TYPE_IPV6, _ETH_TYPE_BRIDGING = 0x0800, 0x86DD, 0x6558
_ETH_TYPE_ERSPAN2, _ETH_TYPE_ERSPAN3, _PPP_OVER_GRE = 0x88BE, 0x22EB, 0x880B


def decode(linktype: int, frame: bytes) -> TcpSegment | UdpDatagram | IpFragment | Skip:
    """The TCP segment or UDP datagram in a captured frame (the innermost, through tunnels), or why
    there is none."""
    if linktype == LINKTYPE_ETHERNET:
        segment = _plain_ethernet_ipv4_tcp(frame)
        if segment is not None:
            return segment
    return decode_with_dpkt(linktype, frame)


def decode_with_dpkt(linktype: int, frame: bytes) -> TcpSegment | UdpDatagram | IpFragment | Skip:
    """`decode` without its fast path for plain Ethernet/IPv4/TCP frames."""
    try:
        for _ in range(MAX_TUNNELS + 1):
            decoded = _decode(linktype, frame)
            if not isinstance(decoded, _Tunnel):
                return decoded
            linktype, frame = decoded
        return Skip.MALFORMED  # tunnels nested deeper than anyone builds them
    except (dpkt.UnpackError, struct.error, ValueError, IndexError, KeyError, AttributeError, TypeError):
        # dpkt leaves attributes unset (e.g. IP6.p) or lets struct errors through on mangled headers.
        return Skip.MALFORMED


class _Tunnel(NamedTuple):
    """The packet a tunnel carries, to be decoded as a frame of this link type."""

    linktype: int
    frame: bytes


def _decode(linktype: int, frame: bytes) -> TcpSegment | UdpDatagram | IpFragment | Skip | _Tunnel:
    vlans: tuple[int, ...] = ()
    if linktype == LINKTYPE_ETHERNET:
        eth = dpkt.ethernet.Ethernet(frame)
        vlans = tuple(tag.id for tag in getattr(eth, "vlan_tags", ()))
        ip = eth.data
        if isinstance(ip, dpkt.pppoe.PPPoE):  # a PPPoE session: PPP, then (usually) IP
            ip = getattr(ip.data, "data", None)
    elif linktype == LINKTYPE_LINUX_SLL:
        ip = dpkt.sll.SLL(frame).data
    elif linktype == LINKTYPE_LINUX_SLL2:
        ip = dpkt.sll2.SLL2(frame).data
    elif linktype in (LINKTYPE_NULL, LINKTYPE_LOOP):
        ip = dpkt.loopback.Loopback(frame).data
    elif linktype in RAW_LINKTYPES:
        ip = _raw_ip(frame)
    elif linktype == LINKTYPE_PPP:
        ip = _ppp_ip(frame)
    else:
        return Skip.UNSUPPORTED_LINK
    if isinstance(ip, dpkt.ip.IP):
        if ip.mf or ip.offset:
            return IpFragment((4, bytes(ip.src), bytes(ip.dst), ip.id, ip.p), ip.offset * 8, bool(ip.mf),
                              bytes(ip.data))
        family, wire_len = socket.AF_INET, ip.len - ip.hl * 4
    elif isinstance(ip, dpkt.ip6.IP6):
        fragment = ip.extension_hdrs.get(dpkt.ip.IP_PROTO_FRAGMENT)
        if fragment is not None:
            return IpFragment((6, bytes(ip.src), bytes(ip.dst), fragment.id, fragment.nxt), fragment.frag_off * 8,
                              bool(fragment.m_flag), bytes(ip.data))
        family, wire_len = socket.AF_INET6, ip.plen - _ext_len(ip)
    else:
        return Skip.NOT_IP
    tunnel = _tunnel(ip)
    if tunnel is not None:
        return tunnel
    tcp = ip.data
    if isinstance(tcp, dpkt.udp.UDP):
        return UdpDatagram(Endpoint(_ip_text(family, ip.src), tcp.sport), Endpoint(_ip_text(family, ip.dst), tcp.dport),
                           bytes(tcp.data))
    if not isinstance(tcp, dpkt.tcp.TCP):
        return Skip.NOT_TCP if ip.p not in (dpkt.ip.IP_PROTO_TCP, dpkt.ip.IP_PROTO_UDP) else Skip.MALFORMED
    payload = bytes(tcp.data)
    header = tcp.off * 4
    return TcpSegment(
        src=Endpoint(_ip_text(family, ip.src), tcp.sport),
        dst=Endpoint(_ip_text(family, ip.dst), tcp.dport),
        seq=tcp.seq,
        payload=payload,
        syn=bool(tcp.flags & dpkt.tcp.TH_SYN),
        fin=bool(tcp.flags & dpkt.tcp.TH_FIN),
        rst=bool(tcp.flags & dpkt.tcp.TH_RST),
        snapped=wire_len > 0 and len(payload) < wire_len - header,
        vlans=vlans,
    )


_ETHERNET_IPV4 = b"\x08\x00"
_IPV4_TCP = struct.Struct("!BxHxxHxBxx4s4s")  # version/IHL, total length, flags/fragment, protocol, addresses
_TCP = struct.Struct("!HHI4xBB")  # ports, sequence number, data offset, flags
_IPV4_TCP_UNPACK, _TCP_UNPACK = _IPV4_TCP.unpack_from, _TCP.unpack_from


def _plain_ethernet_ipv4_tcp(frame: bytes) -> TcpSegment | None:
    """The segment of an untagged Ethernet frame carrying an unfragmented IPv4 TCP segment whose
    headers are whole, read with struct; None for any other frame, which dpkt decodes. Most packets
    of a capture are these, and dpkt's objects per header (three per packet) were most of reading
    one: this is what lets Carnot read a capture faster than tshark. tests/capture/test_pcap_decode.py
    holds it to dpkt's decoding, frame by frame."""
    n = len(frame)
    if n < 54 or frame[12:14] != _ETHERNET_IPV4:
        return None
    version_ihl, total, fragment, protocol, src, dst = _IPV4_TCP_UNPACK(frame, 14)
    ihl = (version_ihl & 0x0F) * 4
    if version_ihl >> 4 != 4 or ihl < 20 or protocol != 6 or fragment & 0x3FFF:
        return None
    tcp = 14 + ihl
    if n < tcp + 20:
        return None
    sport, dport, seq, offset, flags = _TCP_UNPACK(frame, tcp)
    header = (offset >> 4) * 4
    if header < 20 or total < ihl + header or n < tcp + header:
        return None
    payload = frame[tcp + header : 14 + total]
    wire_len = total - ihl
    source = _ENDPOINTS.get((src, sport))
    if source is None:
        source = _ipv4_endpoint(src, sport)
    destination = _ENDPOINTS.get((dst, dport))
    if destination is None:
        destination = _ipv4_endpoint(dst, dport)
    return _new_segment(TcpSegment, (  # TcpSegment(...) without its generated __new__
        source,
        destination,
        seq,
        payload,
        bool(flags & _TH_SYN),
        bool(flags & _TH_FIN),
        bool(flags & _TH_RST),
        wire_len > 0 and len(payload) < wire_len - header,
        (),  # vlans
    ))


_TH_SYN, _TH_FIN, _TH_RST = dpkt.tcp.TH_SYN, dpkt.tcp.TH_FIN, dpkt.tcp.TH_RST
_new_segment = tuple.__new__
# The IPv4 endpoints seen lately, by address bytes and port: a connection's packets come and go
# between the same two, and two strings and two tuples were made for every packet. Emptied when
# full, so it stays small.
_ENDPOINTS: dict[tuple[bytes, int], Endpoint] = {}
_ENDPOINTS_MAX = 4096


def _ipv4_endpoint(raw: bytes, port: int) -> Endpoint:
    if len(_ENDPOINTS) >= _ENDPOINTS_MAX:
        _ENDPOINTS.clear()
    endpoint = _ENDPOINTS[(raw, port)] = Endpoint(socket.inet_ntop(socket.AF_INET, raw), port)
    return endpoint


def _raw_ip(frame: bytes) -> object:
    version = frame[0] >> 4 if frame else 0
    if version == 4:
        return dpkt.ip.IP(frame)
    if version == 6:
        return dpkt.ip6.IP6(frame)
    return None


def _tunnel(ip: dpkt.ip.IP | dpkt.ip6.IP6) -> _Tunnel | None:
    """The packet an IP packet tunnels, if it is a tunnel Carnot opens."""
    proto = ip.p  # for IPv6, dpkt's protocol after the extension headers
    if proto in (_IP_PROTO_IPV4, dpkt.ip.IP_PROTO_IP6):  # IP in IP
        return _Tunnel(LINKTYPE_RAW, bytes(ip.data))
    if proto == dpkt.ip.IP_PROTO_GRE:
        return _gre(bytes(ip.data))
    udp = ip.data
    if not isinstance(udp, dpkt.udp.UDP) or (udp.dport not in _TUNNEL_PORTS and udp.sport not in _TUNNEL_PORTS):
        return None  # (most UDP: QUIC, DNS; its payload is not copied here)
    payload = bytes(udp.data)
    if _VXLAN_PORT in (udp.dport, udp.sport) and len(payload) > 8 and payload[0] & 0x08:
        return _Tunnel(LINKTYPE_ETHERNET, payload[8:])
    if _GENEVE_PORT in (udp.dport, udp.sport) and len(payload) >= 8 and payload[0] >> 6 == 0:
        start = 8 + (payload[0] & 0x3F) * 4
        return _inner(int.from_bytes(payload[2:4], "big"), payload[start:])
    if _GTP_U_PORT in (udp.dport, udp.sport):
        return _gtp_u(payload)
    if udp.dport == _GRE_IN_UDP_PORT:  # RFC 8086
        return _gre(payload)
    return None


def _inner(ether_type: int, payload: bytes) -> _Tunnel | None:
    if ether_type in (_ETH_TYPE_IPV4, _ETH_TYPE_IPV6):
        return _Tunnel(LINKTYPE_RAW, payload)
    if ether_type == _ETH_TYPE_BRIDGING:
        return _Tunnel(LINKTYPE_ETHERNET, payload)
    return None


def _gre(data: bytes) -> _Tunnel | None:
    """GRE (RFC 2784/2890; PPTP's enhanced GRE, RFC 2637): its optional fields skipped."""
    if len(data) < 4:
        return None
    flags, protocol = int.from_bytes(data[:2], "big"), int.from_bytes(data[2:4], "big")
    version = flags & 0x7
    start = 4 + 4 * sum(bool(flags & bit) for bit in (0x8000, 0x2000, 0x1000))  # checksum, key, sequence
    if version == 1:  # PPTP: key always, sequence and acknowledgement as flagged
        start = 8 + 4 * bool(flags & 0x1000) + 4 * bool(flags & 0x0080)
        return _Tunnel(LINKTYPE_PPP, data[start:]) if protocol == _PPP_OVER_GRE else None
    if version != 0 or flags & 0x4000:  # source routing (deprecated) is not followed
        return None
    if protocol == _ETH_TYPE_ERSPAN2:
        return _Tunnel(LINKTYPE_ETHERNET, data[start + 8 :])
    if protocol == _ETH_TYPE_ERSPAN3:
        optional = 8 if len(data) > start + 11 and data[start + 11] & 0x01 else 0  # the O bit: a platform subheader
        return _Tunnel(LINKTYPE_ETHERNET, data[start + 12 + optional :])
    return _inner(protocol, data[start:])


def _gtp_u(data: bytes) -> _Tunnel | None:
    """GTP-U version 1 (3GPP TS 29.281): a T-PDU's user packet, after the optional fields and the
    extension headers."""
    if len(data) < 8 or data[0] >> 5 != 1 or not data[0] & 0x10 or data[1] != 0xFF:
        return None
    start = 8
    if data[0] & 0x07:
        start = 12
        next_type = data[11] if data[0] & 0x04 else 0
        while next_type:
            if len(data) <= start or data[start] == 0:
                return None
            start += data[start] * 4
            next_type = data[start - 1] if len(data) >= start else 0
    return _Tunnel(LINKTYPE_RAW, data[start:])


def _ppp_ip(frame: bytes) -> object:
    """The IP packet of a PPP frame (RFC 1661): address and control (0xFF 0x03) if present, then
    the protocol number, one byte when compressed (odd), else two."""
    body = frame[2:] if frame[:2] == b"\xff\x03" else frame
    if body[:1] and body[0] & 1:
        protocol, body = body[0], body[1:]
    else:
        protocol, body = int.from_bytes(body[:2], "big"), body[2:]
    return _raw_ip(body) if protocol in _PPP_IP else None


def _ext_len(ip6: dpkt.ip6.IP6) -> int:
    return sum(int(h.length) for h in ip6.all_extension_headers)


def _ip_text(family: int, raw: bytes) -> str:
    text = socket.inet_ntop(family, raw)
    # An IPv4-mapped IPv6 address is the IPv4 peer (as the sensor reports it).
    return text[7:] if family == socket.AF_INET6 and text.startswith("::ffff:") and "." in text else text
