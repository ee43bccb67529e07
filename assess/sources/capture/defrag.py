"""IP fragments in a capture put back together, as Wireshark does: IPv4 and IPv6, TCP or UDP inside.

The live sensor has its own reassembly of what its socket filter passes (TCP only,
`assess/sources/runtime/ippacket.py`); a capture holds every fragment of everything, tunnels
included (GTP-U fragments its outer packets often), so this one keeps any protocol and rebuilds
an IP packet that `packets.decode` reads like any other. Bounded: a datagram of at most 65,535
bytes, at most `max_datagrams` in progress holding at most `max_bytes`, each complete within
`timeout` seconds of capture time after its first piece; a datagram whose fragments overlap (other
than an exact repeat) is let go, as RFC 5722 asks of IPv6. Pure: fragments in, packets out.
"""

from __future__ import annotations

import struct
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import NamedTuple

MAX_DATAGRAM = 65535


class IpFragment(NamedTuple):
    """One fragment: which datagram (IP version, source, destination, identification, protocol),
    where its bytes go, whether more follow, and its bytes."""

    key: tuple[int, bytes, bytes, int, int]
    offset: int
    more: bool
    payload: bytes


@dataclass
class _Datagram:
    first_seen: float
    pieces: dict[int, bytes] = field(default_factory=dict)  # offset -> bytes
    size: int | None = None  # known once the last fragment came
    held: int = 0


@dataclass
class DefragCounters:
    ip_fragments: int = 0
    ip_datagrams_reassembled: int = 0
    ip_fragments_dropped: int = 0  # broke a bound, or overlapped
    ip_fragments_expired: int = 0  # their datagram never completed (in time, or before the end)


class Defragmenter:
    def __init__(self, *, max_datagrams: int = 1024, max_bytes: int = 4 << 20, timeout: float = 30.0) -> None:
        self.max_datagrams, self.max_bytes, self.timeout = max_datagrams, max_bytes, timeout
        self.datagrams: OrderedDict[tuple[int, bytes, bytes, int, int], _Datagram] = OrderedDict()
        self.held = 0
        self.counters = DefragCounters()

    def add(self, fragment: IpFragment, now: float) -> bytes | None:
        """The whole IP packet once this fragment completes its datagram, else None."""
        self.counters.ip_fragments += 1
        self._expire(now)
        end = fragment.offset + len(fragment.payload)
        datagram = self.datagrams.get(fragment.key)
        if end > MAX_DATAGRAM or (fragment.more and len(fragment.payload) % 8):
            if datagram is not None:
                self._let_go(fragment.key, dropped=True)
            self.counters.ip_fragments_dropped += 1
            return None
        if datagram is None:
            while self.datagrams and (len(self.datagrams) >= self.max_datagrams
                                      or self.held + len(fragment.payload) > self.max_bytes):
                self._let_go(next(iter(self.datagrams)), dropped=True)
            datagram = self.datagrams[fragment.key] = _Datagram(now)
        if not _fits(datagram, fragment.offset, fragment.payload) or (
                not fragment.more and datagram.size is not None and datagram.size != end):
            self.counters.ip_fragments_dropped += 1
            self._let_go(fragment.key, dropped=True)
            return None
        if fragment.offset not in datagram.pieces:
            datagram.pieces[fragment.offset] = fragment.payload
            datagram.held += len(fragment.payload)
            self.held += len(fragment.payload)
        if not fragment.more:
            datagram.size = end
        if datagram.size is None or datagram.held != datagram.size:
            return None
        payload = b"".join(datagram.pieces[o] for o in sorted(datagram.pieces))
        self._let_go(fragment.key, dropped=None)
        self.counters.ip_datagrams_reassembled += 1
        return _packet(fragment.key, payload)

    def finish(self) -> None:
        """The capture ended: what is still in progress never completed."""
        for key in list(self.datagrams):
            self._let_go(key, dropped=False)

    def _expire(self, now: float) -> None:
        while self.datagrams:
            key, oldest = next(iter(self.datagrams.items()))
            if now - oldest.first_seen <= self.timeout:
                return
            self._let_go(key, dropped=False)

    def _let_go(self, key: tuple[int, bytes, bytes, int, int], *, dropped: bool | None) -> None:
        datagram = self.datagrams.pop(key)
        self.held -= datagram.held
        if dropped is True:
            self.counters.ip_fragments_dropped += len(datagram.pieces)
        elif dropped is False:
            self.counters.ip_fragments_expired += len(datagram.pieces)


def _fits(datagram: _Datagram, offset: int, payload: bytes) -> bool:
    """No overlap with the pieces already held, other than the same piece again."""
    end = offset + len(payload)
    for start, piece in datagram.pieces.items():
        if start == offset and piece == payload:
            return True
        if start < end and offset < start + len(piece):
            return False
    return datagram.size is None or end <= datagram.size


def _packet(key: tuple[int, bytes, bytes, int, int], payload: bytes) -> bytes:
    """A minimal unfragmented IP packet around the reassembled payload (no options or extension
    headers: nothing after it reads them)."""
    version, src, dst, ident, protocol = key
    if version == 4:
        return struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident & 0xFFFF, 0, 64, protocol, 0,
                           src, dst) + payload
    return struct.pack("!IHBB16s16s", 6 << 28, len(payload), protocol, 64, src, dst) + payload
