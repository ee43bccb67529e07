"""IP packets as the socket filter passes them (from the IP header on) -> TCP bytes, fragments reassembled.

IPv4 and IPv6. An IPv6 header chain is followed through hop-by-hop, routing and destination
options (at most `MAX_IPV6_HEADERS`, as bpf/tls_wire.c follows it) and a fragment header; a packet
with any other header before TCP is not read. Addresses are kept as 16 bytes, IPv4 mapped
(::ffff:a.b.c.d), as the kernel side keeps them.

The socket filter cannot reassemble IP fragments: it passes the first fragment of a TCP datagram
when it would pass the segment, then that datagram's later fragments, and later fragments that
come before their first (it cannot judge them yet; bpf/tls_wire.c). `Defragmenter` puts them back
together, bounded: a datagram of at most 65,535 bytes, at most `max_datagrams` in progress holding
at most `max_bytes`; a datagram with overlapping fragments (other than an exact repeat) is let go,
as RFC 5722 asks of IPv6. Fragments let go for breaking those bounds are counted as dropped; those
of a datagram not complete `timeout` seconds after its first piece came, as expired (a fragment
lost on the way, or the early pieces of a datagram the filter did not want). Pure: bytes in,
segments out.
"""

from __future__ import annotations

import bisect
import socket
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import NamedTuple

TCP = 6
UDP = 17
_FRAGMENT = 44
_IPV6_OPTIONS = frozenset({0, 43, 60})  # hop-by-hop, routing, destination options
MAX_IPV6_HEADERS = 4
MAX_DATAGRAM = 65535
V4_MAPPED = b"\0" * 10 + b"\xff\xff"


class Segment(NamedTuple):
    """A TCP segment: its addresses (16 bytes each) and its TCP header and payload."""

    src: bytes
    dst: bytes
    tcp: bytes


class Datagram(NamedTuple):
    """A UDP datagram (QUIC): its addresses (16 bytes each) and its UDP header and payload. Fragmented
    UDP is not read (QUIC forbids fragmentation: its packets are sent with DF, RFC 9000 14)."""

    src: bytes
    dst: bytes
    udp: bytes


class Fragment(NamedTuple):
    key: tuple[int, bytes, bytes, int]  # IP version, source, destination, identification
    offset: int  # in bytes, into the datagram's fragmentable part
    more: bool  # more fragments follow
    data: bytes
    next_header: int  # what the fragmentable part begins with (IPv6; TCP for IPv4)


def parse(packet: bytes) -> Segment | Datagram | Fragment | None:
    """The TCP segment, UDP datagram or TCP fragment in an IP packet; None for anything else."""
    version = packet[0] >> 4 if packet else 0
    if version == 4:
        if len(packet) < 20 or packet[9] not in (TCP, UDP):
            return None
        ihl = (packet[0] & 0x0F) * 4
        end = min(int.from_bytes(packet[2:4], "big"), len(packet))
        if ihl < 20 or end < ihl:
            return None
        src, dst = V4_MAPPED + packet[12:16], V4_MAPPED + packet[16:20]
        flags_offset = int.from_bytes(packet[6:8], "big")
        if packet[9] == UDP:
            return None if flags_offset & 0x3FFF else Datagram(src, dst, packet[ihl:end])
        if flags_offset & 0x3FFF:
            return Fragment((4, src, dst, int.from_bytes(packet[4:6], "big")), (flags_offset & 0x1FFF) * 8,
                            bool(flags_offset & 0x2000), packet[ihl:end], TCP)
        return Segment(src, dst, packet[ihl:end])
    if version != 6 or len(packet) < 40:
        return None
    end = min(40 + int.from_bytes(packet[4:6], "big"), len(packet))
    src, dst = packet[8:24], packet[24:40]
    next_header, at = packet[6], 40
    for _ in range(MAX_IPV6_HEADERS):
        if next_header == _FRAGMENT:
            if at + 8 > end:
                return None
            offset_flags = int.from_bytes(packet[at + 2 : at + 4], "big")
            if offset_flags & 0xFFF9:  # not an atomic fragment
                return Fragment((6, src, dst, int.from_bytes(packet[at + 4 : at + 8], "big")), offset_flags & 0xFFF8,
                                bool(offset_flags & 1), packet[at + 8 : end], packet[at])
            next_header, at = packet[at], at + 8
        elif next_header in _IPV6_OPTIONS:
            if at + 2 > end:
                return None
            next_header, at = packet[at], at + (packet[at + 1] + 1) * 8
        else:
            break
    if at > end:
        return None
    if next_header == UDP:
        return Datagram(src, dst, packet[at:end])
    return Segment(src, dst, packet[at:end]) if next_header == TCP else None


def _tcp_after_options(data: bytes, next_header: int) -> bytes | None:
    """A reassembled IPv6 fragmentable part: the TCP bytes after any destination options."""
    at = 0
    for _ in range(MAX_IPV6_HEADERS):
        if next_header not in _IPV6_OPTIONS or at + 2 > len(data):
            break
        next_header, at = data[at], at + (data[at + 1] + 1) * 8
    return data[at:] if next_header == TCP and at <= len(data) else None


def ip_text(address: bytes) -> str:
    """An address of 16 bytes as text: IPv4 for a mapped one, as the sensor reports IPv4 peers."""
    if address[:12] == V4_MAPPED:
        return socket.inet_ntop(socket.AF_INET, address[12:])
    return socket.inet_ntop(socket.AF_INET6, address)


def ip_bytes(text: str) -> bytes:
    """The 16 bytes of an address given as text (IPv4 mapped)."""
    if ":" in text:
        return socket.inet_pton(socket.AF_INET6, text)
    return V4_MAPPED + socket.inet_aton(text)


@dataclass
class _Datagram:
    first_seen: float
    pieces: dict[int, bytes] = field(default_factory=dict)  # offset -> bytes
    starts: list[int] = field(default_factory=list)  # the offsets, sorted
    held: int = 0
    total: int | None = None  # known once the last fragment came
    tag: int = 0  # what the caller said of the first fragment (offset 0): the IPv6 next header


class FragmentTable:
    """The datagrams being put back together from their fragments, any protocol inside (see the
    module docstring for the bounds); the sensor's `Defragmenter` and the capture importer's use it."""

    def __init__(self, *, max_datagrams: int = 1024, max_bytes: int = 4 << 20, timeout: float = 10.0) -> None:
        self.max_datagrams, self.max_bytes, self.timeout = max_datagrams, max_bytes, timeout
        self.fragments = 0  # received
        self.reassembled = 0  # datagrams made whole
        self.dropped = 0  # fragments let go for breaking a bound, or overlapping
        self.expired = 0  # fragments of datagrams not complete in time (or when the input ended)
        self._pending: OrderedDict[tuple[object, ...], _Datagram] = OrderedDict()
        self._held = 0

    def reassemble(self, key: tuple[object, ...], offset: int, more: bool, data: bytes, now: float,
                   tag: int = 0) -> tuple[bytes, int] | None:
        """The datagram's bytes and the first fragment's `tag` once this fragment completed it, else None."""
        self.fragments += 1
        self.expire(now)
        datagram = self._pending.get(key)
        if datagram is None:
            datagram = self._pending[key] = _Datagram(now)
        start, end = offset, offset + len(data)
        last = datagram.total
        if end > MAX_DATAGRAM or (more and (not data or len(data) % 8)) or (
                last is not None and (end > last or (not more and end != last))):
            self.dropped += self._let_go(key) + 1
            return None
        # The pieces held never overlap one another: only the neighbours of this one can overlap it.
        at = bisect.bisect_left(datagram.starts, start)
        for neighbour in datagram.starts[max(at - 1, 0) : at + 1]:
            piece = datagram.pieces[neighbour]
            if neighbour < end and start < neighbour + len(piece):
                if neighbour == start and piece == data:
                    return None  # the same fragment again
                self.dropped += self._let_go(key) + 1
                return None
        datagram.pieces[start] = data
        datagram.starts.insert(at, start)
        datagram.held += len(data)
        self._held += len(data)
        if not more:
            datagram.total = end
        if start == 0:
            datagram.tag = tag
        if datagram.total is not None and datagram.held == datagram.total:  # no overlaps, so no gaps either
            del self._pending[key]
            self._held -= datagram.held
            self.reassembled += 1
            return b"".join(datagram.pieces[o] for o in datagram.starts), datagram.tag
        while self._pending and (len(self._pending) > self.max_datagrams or self._held > self.max_bytes):
            self.dropped += self._let_go(next(iter(self._pending)))
        return None

    def metrics(self) -> dict[str, int]:
        """The counters, by their names in metrics lines."""
        return {"ip_fragments": self.fragments, "ip_datagrams_reassembled": self.reassembled,
                "ip_fragments_dropped": self.dropped, "ip_fragments_expired": self.expired}

    def expire(self, now: float) -> None:
        """Let go of datagrams still incomplete `timeout` seconds after their first fragment."""
        while self._pending:
            key, oldest = next(iter(self._pending.items()))
            if oldest.first_seen > now - self.timeout:
                break
            self.expired += self._let_go(key)

    def finish(self) -> None:
        """The input ended: the datagrams still incomplete never will be."""
        while self._pending:
            self.expired += self._let_go(next(iter(self._pending)))

    def _let_go(self, key: tuple[object, ...]) -> int:
        """Forget a datagram: how many fragments that let go."""
        datagram = self._pending.pop(key, None)
        if datagram is None:
            return 0
        self._held -= datagram.held
        return len(datagram.pieces)


class Defragmenter(FragmentTable):
    """IP fragments in, whole TCP segments out."""

    def add(self, fragment: Fragment, now: float) -> Segment | None:
        """The datagram's TCP segment once this fragment completed it, else None."""
        whole = self.reassemble(fragment.key, fragment.offset, fragment.more, fragment.data, now,
                                fragment.next_header)
        if whole is None:
            return None
        data, next_header = whole
        version, src, dst, _ = fragment.key
        tcp = data if version == 4 else _tcp_after_options(data, next_header)
        return Segment(src, dst, tcp) if tcp is not None else None
