"""IP packets to TCP segments: IPv4 and IPv6 headers, IPv6 extension headers, fragments put back together."""

from __future__ import annotations

import socket
import struct

import pytest

from assess.sources.runtime.ippacket import Datagram, Defragmenter, Fragment, Segment, ip_bytes, ip_text, parse

V4_SRC, V4_DST = ip_bytes("10.0.0.1"), ip_bytes("10.0.0.2")
V6_SRC, V6_DST = ip_bytes("2001:db8::1"), ip_bytes("2001:db8::2")
TCP_BYTES = struct.pack("!HHIIBBHHH", 40000, 443, 1, 0, 5 << 4, 0x18, 65535, 0, 0) + bytes(range(256)) * 8


def ipv4(payload: bytes, *, ident: int = 7, offset: int = 0, more: bool = False, proto: int = 6) -> bytes:
    flags_offset = (0x2000 if more else 0) | (offset // 8)
    return struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, flags_offset, 64, proto, 0,
                       V4_SRC[12:], V4_DST[12:]) + payload


def ipv6(next_header: int, payload: bytes) -> bytes:
    return struct.pack("!IHBB16s16s", 6 << 28, len(payload), next_header, 64, V6_SRC, V6_DST) + payload


def fragment_header(next_header: int, offset: int, more: bool, ident: int = 0x1234) -> bytes:
    return struct.pack("!BBHI", next_header, 0, offset | more, ident)


def options(next_header: int) -> bytes:
    return bytes([next_header, 0]) + bytes(6)  # an empty 8-byte options header (PadN-less, as parsed)


def ipv4_fragments(payload: bytes, size: int) -> list[bytes]:
    return [ipv4(payload[i : i + size], offset=i, more=i + size < len(payload)) for i in range(0, len(payload), size)]


def ipv6_fragments(first_header: int, fragmentable: bytes, size: int) -> list[bytes]:
    return [ipv6(44, fragment_header(first_header, i, i + size < len(fragmentable)) + fragmentable[i : i + size])
            for i in range(0, len(fragmentable), size)]


def test_an_ipv4_segment_gives_its_mapped_addresses_and_tcp_bytes() -> None:
    segment = parse(ipv4(TCP_BYTES) + b"ethernet padding")
    assert segment == Segment(V4_SRC, V4_DST, TCP_BYTES)
    assert ip_text(segment.src) == "10.0.0.1"


def test_an_ipv6_segment_behind_hop_by_hop_and_destination_options_is_found() -> None:
    segment = parse(ipv6(0, options(60) + options(6) + TCP_BYTES))
    assert segment == Segment(V6_SRC, V6_DST, TCP_BYTES)
    assert ip_text(segment.dst) == "2001:db8::2"


@pytest.mark.parametrize("packet", [b"", b"\x45", ipv4(b"icmp", proto=1), ipv4(b"udp", proto=17, more=True),
                                    ipv6(0, options(0) + options(0) + options(0) + options(0) + TCP_BYTES)],
                         ids=["empty", "short", "icmp", "udp-fragment", "too-many-v6-headers"])
def test_what_is_not_a_readable_tcp_or_udp_packet_is_none(packet: bytes) -> None:
    assert parse(packet) is None


def test_udp_datagrams_are_read_over_ipv4_and_ipv6_for_quic() -> None:
    assert parse(ipv4(b"udp bytes", proto=17)) == Datagram(V4_SRC, V4_DST, b"udp bytes")
    assert parse(ipv6(0, options(17) + b"udp bytes")) == Datagram(V6_SRC, V6_DST, b"udp bytes")


def test_ipv4_fragments_in_any_order_make_the_segment_once() -> None:
    pieces = ipv4_fragments(TCP_BYTES, 600)
    assert len(pieces) == 4
    defrag = Defragmenter()
    out = [defrag.add(parse(p), 1.0) for p in (pieces[2], pieces[0], pieces[0], pieces[3], pieces[1])]
    assert out[:4] == [None] * 4
    assert out[4] == Segment(V4_SRC, V4_DST, TCP_BYTES)
    assert (defrag.fragments, defrag.reassembled, defrag.dropped) == (5, 1, 0)


def test_ipv6_fragments_with_destination_options_inside_make_the_segment() -> None:
    fragmentable = options(6) + TCP_BYTES
    pieces = ipv6_fragments(60, fragmentable, 504)
    parsed = [parse(p) for p in pieces]
    assert all(type(p) is Fragment for p in parsed)
    defrag = Defragmenter()
    assert [defrag.add(p, 1.0) for p in parsed[::-1]][-1] == Segment(V6_SRC, V6_DST, TCP_BYTES)


def test_an_atomic_ipv6_fragment_is_an_ordinary_segment() -> None:
    assert parse(ipv6(44, fragment_header(6, 0, False) + TCP_BYTES)) == Segment(V6_SRC, V6_DST, TCP_BYTES)


def test_overlapping_fragments_let_the_datagram_go_and_are_counted() -> None:
    defrag = Defragmenter()
    assert defrag.add(parse(ipv4(TCP_BYTES[:800], more=True)), 1.0) is None
    assert defrag.add(parse(ipv4(TCP_BYTES[400:], offset=400)), 1.0) is None  # overlaps the first
    assert (defrag.reassembled, defrag.dropped) == (0, 2)


def test_a_datagram_never_completed_is_let_go_after_the_timeout() -> None:
    defrag = Defragmenter(timeout=10.0)
    first, *_ = ipv4_fragments(TCP_BYTES, 600)
    defrag.add(parse(first), 1.0)
    defrag.expire(10.5)
    assert defrag.expired == 0
    defrag.expire(11.5)
    assert (defrag.expired, defrag.dropped) == (1, 0)


def test_datagrams_in_progress_are_bounded_oldest_first() -> None:
    defrag = Defragmenter(max_datagrams=2)
    for ident in (1, 2, 3):
        defrag.add(parse(ipv4(TCP_BYTES[:600], ident=ident, more=True)), 1.0)
    assert defrag.dropped == 1
    assert defrag.add(parse(ipv4(TCP_BYTES[600:], ident=1, offset=600)), 1.0) is None  # 1 was let go
    assert defrag.add(parse(ipv4(TCP_BYTES[600:], ident=3, offset=600)), 1.0) == Segment(V4_SRC, V4_DST, TCP_BYTES)


def test_addresses_round_trip_as_text() -> None:
    for text in ("127.0.0.1", "::1", "fe80::1"):
        assert ip_text(ip_bytes(text)) == text
    assert ip_bytes("::1") == socket.inet_pton(socket.AF_INET6, "::1")
