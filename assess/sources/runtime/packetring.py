"""A packet socket whose packets the kernel writes into a memory-mapped ring (TPACKET_V3).

Reading packets with one recvmsg() each cost the sensor about 10 µs a packet on this project's VM,
more than everything else it does with a packet. With a PACKET_MMAP ring the kernel fills blocks
of packets in shared memory and the sensor walks them with no system call at all; a block is
handed over when it is full or `retire_ms` after its first packet. Packets that find the ring full
are dropped by the kernel and counted (`stats()`), never lost silently.

The header layouts are those of linux/if_packet.h; Python's socket module knows none of them.
"""

from __future__ import annotations

import mmap
import socket
import struct
from collections.abc import Callable

# Every protocol, not ETH_P_IP and ETH_P_IPV6: a socket for one protocol is handed each packet
# beside the protocol's own handler, which then finds the packet shared and copies it. A bare
# loopback UDP packet cost ~370 ns more with such a socket, ~140 ns with this one (session 35).
ETH_P_ALL = 0x0003
SOL_PACKET = 263
SO_ATTACH_BPF = 50
PACKET_RX_RING = 5
PACKET_STATISTICS = 6
PACKET_VERSION = 10
PACKET_IGNORE_OUTGOING = 23
TPACKET_V3 = 2
TP_STATUS_KERNEL = 0
TP_STATUS_USER = 1
MAX_BLOCK = 1 << 17  # holds the largest loopback packet (64 KiB); small blocks waste little when retired early
FRAME = 2048

# struct tpacket_block_desc: version, offset_to_priv, then tpacket_hdr_v1's block_status, num_pkts,
# offset_to_first_pkt.
_BLOCK = struct.Struct("=IIIII")
_BLOCK_STATUS = 8  # offset of block_status in the block descriptor
# struct tpacket3_hdr: tp_next_offset, tp_sec, tp_nsec, tp_snaplen, tp_len, tp_status, tp_mac, tp_net.
_PACKET = struct.Struct("=IIIIIIHH")
_STATUS_KERNEL = struct.pack("=I", TP_STATUS_KERNEL)

Handler = Callable[[bytes, float], None]


def ring_geometry(size: int) -> tuple[int, int]:
    """(block size, block count) for a ring of about `size` bytes: blocks a power of two from one
    page up to 128 KiB, at least one block. A block is handed over when full or when `retire_ms`
    has passed, so many small blocks hold more packets than a few large ones at a modest rate."""
    block = mmap.PAGESIZE
    while block * 2 <= min(MAX_BLOCK, max(mmap.PAGESIZE, size // 2)):
        block *= 2
    return block, max(1, size // block)


class PacketRing:
    """An AF_PACKET/SOCK_DGRAM socket (offsets start at the IP header) with a BPF socket filter and
    an RX ring. `iface` "" captures on every interface.

    `incoming_only`: the kernel leaves the socket out of the packets the host sends
    (PACKET_IGNORE_OUTGOING, Linux 4.20). On loopback every packet is sent and then received, so
    that loses nothing and spares each packet sent a copy (skb_clone) and a filter run: ~0.3 us a
    packet on this project's VM. Any socket bound to no interface costs every interface that copy,
    which is why the sensor opens one per interface. Where the kernel lacks the option the socket
    sees both directions, as before (the filter drops loopback's outgoing copies itself)."""

    def __init__(self, iface: str, filter_fd: int, size: int, *, retire_ms: int = 50,
                 incoming_only: bool = False) -> None:
        self.iface = iface
        self.incoming_only = False
        self.block_size, self.blocks = ring_geometry(size)
        self._next = 0
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(ETH_P_ALL))
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_BPF, filter_fd)
            if incoming_only:
                try:
                    self.sock.setsockopt(SOL_PACKET, PACKET_IGNORE_OUTGOING, 1)
                    self.incoming_only = True
                except OSError:
                    pass
            self.sock.setsockopt(SOL_PACKET, PACKET_VERSION, TPACKET_V3)
            frames = self.block_size * self.blocks // FRAME
            req = struct.pack("=7I", self.block_size, self.blocks, FRAME, frames, retire_ms, 0, 0)
            self.sock.setsockopt(SOL_PACKET, PACKET_RX_RING, req)
            self.ring = mmap.mmap(self.sock.fileno(), self.block_size * self.blocks,
                                  mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
            if iface:
                self.sock.bind((iface, ETH_P_ALL))
        except OSError:
            self.sock.close()
            raise

    def drain(self, handler: Handler | None) -> int:
        """Hand every packet in the blocks the kernel has finished to `handler(ip_packet, time)`
        (None: discard them), give the blocks back, and return how many packets there were."""
        ring, size, count = self.ring, self.block_size, 0
        while True:
            base = self._next * size
            _, _, status, packets, first = _BLOCK.unpack_from(ring, base)
            if not status & TP_STATUS_USER:
                return count
            pos = base + first
            for _ in range(packets):
                next_offset, sec, nsec, snaplen, _, _, _, net = _PACKET.unpack_from(ring, pos)
                if handler is not None:
                    start = pos + net
                    handler(ring[start : start + snaplen], sec + nsec / 1e9)
                pos += next_offset
            count += packets
            ring[base + _BLOCK_STATUS : base + _BLOCK_STATUS + 4] = _STATUS_KERNEL
            self._next = (self._next + 1) % self.blocks

    def stats(self) -> tuple[int, int]:
        """(packets, drops) since the last call (the kernel resets its counters when read)."""
        packets, drops = struct.unpack("II", self.sock.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8))
        return packets, drops

    def close(self) -> None:
        self.ring.close()
        self.sock.close()
