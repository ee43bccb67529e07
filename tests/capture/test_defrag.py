"""IP fragments of a capture put back together: any order, IPv4 and IPv6, bounded, and overlaps
let go (RFC 5722). The table underneath is the live sensor's (tests/runtime/test_ippacket.py)."""

from __future__ import annotations

import dpkt

from assess.sources.capture.defrag import Defragmenter, IpFragment

SRC, DST = bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])
PAYLOAD = bytes(range(256)) * 6  # 1,536 bytes: a UDP datagram's bytes, say


def pieces(payload: bytes = PAYLOAD, size: int = 512, ident: int = 7, version: int = 4) -> list[IpFragment]:
    src, dst = (SRC, DST) if version == 4 else (b"\x20\x01" + bytes(14), b"\x20\x01" + bytes(13) + b"\x02")
    return [IpFragment((version, src, dst, ident, 17), at, at + size < len(payload), payload[at : at + size])
            for at in range(0, len(payload), size)]


def test_fragments_in_any_order_give_back_the_whole_ipv4_packet() -> None:
    defrag = Defragmenter()
    last, first, middle = pieces()[2], pieces()[0], pieces()[1]
    assert defrag.add(last, 1.0) is None and defrag.add(first, 1.1) is None
    packet = defrag.add(middle, 1.2)
    assert packet is not None
    ip = dpkt.ip.IP(packet)
    assert (ip.src, ip.dst, ip.p, ip.mf, ip.offset) == (SRC, DST, 17, 0, 0)
    assert bytes(ip.data) == PAYLOAD
    assert defrag.reassembled == 1 and defrag.metrics()["ip_datagrams_reassembled"] == 1 and defrag._held == 0


def test_ipv6_fragments_give_back_a_packet_without_the_fragment_header() -> None:
    defrag = Defragmenter()
    *head, tail = pieces(version=6)
    for piece in head:
        assert defrag.add(piece, 0.0) is None
    ip = dpkt.ip6.IP6(defrag.add(tail, 0.0))
    assert ip.nxt == 17 and ip.plen == len(PAYLOAD) and bytes(ip.data) == PAYLOAD


def test_a_repeated_fragment_is_ignored_and_an_overlapping_one_lets_the_datagram_go() -> None:
    defrag = Defragmenter()
    first, second, third = pieces()
    defrag.add(first, 0.0)
    defrag.add(first, 0.0)  # a retransmission of the same piece
    assert defrag.add(second, 0.0) is None
    overlapping = IpFragment(third.key, third.offset - 8, False, b"x" * (len(third.payload) + 8))
    assert defrag.add(overlapping, 0.0) is None
    assert defrag.add(third, 0.0) is None  # the datagram was let go: this piece starts a new one
    assert defrag.reassembled == 0 and defrag.dropped == 3


def test_a_datagram_not_complete_in_time_expires_and_bounds_are_kept() -> None:
    defrag = Defragmenter(max_datagrams=2, timeout=5.0)
    defrag.add(pieces(ident=1)[0], 0.0)
    defrag.add(pieces(ident=2)[0], 1.0)
    defrag.add(pieces(ident=3)[0], 2.0)  # a third datagram: the oldest is let go
    assert len(defrag._pending) == 2 and defrag.dropped == 1
    defrag.add(pieces(ident=4)[0], 9.0)  # datagrams 2 and 3 are older than 5 s
    assert defrag.expired == 2 and list(defrag._pending) == [pieces(ident=4)[0].key]
    defrag.finish()
    assert defrag.expired == 3 and defrag._held == 0


def test_a_fragment_past_65535_bytes_is_dropped() -> None:
    defrag = Defragmenter()
    assert defrag.add(IpFragment((4, SRC, DST, 9, 6), 65528, False, b"x" * 16), 0.0) is None
    assert defrag.dropped == 1 and not defrag._pending


def test_an_overlap_is_found_among_many_pieces_whatever_their_order() -> None:
    """The overlap check looks at a piece's neighbours only: it must still see an overlap with a
    piece that arrived long before, and not see one between pieces that merely touch."""
    many = pieces(payload=bytes(8 * 64), size=8)
    defrag = Defragmenter()
    for piece in many[::2] + many[1::2][:-1]:  # every other piece, then all gaps but the last
        assert defrag.add(piece, 0.0) is None
    assert defrag.dropped == 0
    straddling = IpFragment(many[0].key, many[10].offset + 4, True, b"\0" * 8)
    assert defrag.add(straddling, 0.0) is None and defrag.dropped == 63 + 1
