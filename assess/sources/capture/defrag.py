"""IP fragments in a capture put back together, as Wireshark does: IPv4 and IPv6, any protocol inside.

A capture holds every fragment of everything, tunnels included (GTP-U fragments its outer packets
often), so a whole datagram is rebuilt as a minimal unfragmented IP packet that `packets.decode`
reads like any other. The reassembly itself, with its bounds (65,535 bytes a datagram, at most
`max_datagrams` in progress holding `max_bytes`, overlaps let go as RFC 5722 asks), is the live
sensor's (`assess/sources/runtime/ippacket.py: FragmentTable`); a capture gives each datagram 30 s
of capture time. Pure: fragments in, packets out.
"""

from __future__ import annotations

import struct
from typing import NamedTuple

from assess.sources.runtime.ippacket import FragmentTable

CAPTURE_TIMEOUT = 30.0


class IpFragment(NamedTuple):
    """One fragment: which datagram (IP version, source, destination, identification, protocol),
    where its bytes go, whether more follow, and its bytes."""

    key: tuple[int, bytes, bytes, int, int]
    offset: int
    more: bool
    payload: bytes


class Defragmenter(FragmentTable):
    def __init__(self, *, max_datagrams: int = 1024, max_bytes: int = 4 << 20,
                 timeout: float = CAPTURE_TIMEOUT) -> None:
        super().__init__(max_datagrams=max_datagrams, max_bytes=max_bytes, timeout=timeout)

    def add(self, fragment: IpFragment, now: float) -> bytes | None:
        """The whole IP packet once this fragment completes its datagram, else None."""
        whole = self.reassemble(fragment.key, fragment.offset, fragment.more, fragment.payload, now)
        return None if whole is None else _packet(fragment.key, whole[0])


def _packet(key: tuple[int, bytes, bytes, int, int], payload: bytes) -> bytes:
    """A minimal unfragmented IP packet around the reassembled payload (no options or extension
    headers: nothing after it reads them)."""
    version, src, dst, ident, protocol = key
    if version == 4:
        return struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident & 0xFFFF, 0, 64, protocol, 0,
                           src, dst) + payload
    return struct.pack("!IHBB16s16s", 6 << 28, len(payload), protocol, 64, src, dst) + payload
