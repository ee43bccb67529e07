"""Read pcap and pcapng files with dpkt, streaming: one packet at a time, nothing held but the
flow table (see flows.py). Damage (a file cut mid-packet, a corrupt block) stops that file with a
`CaptureDamage` that names the packet number and byte offset; what was read before it is kept.
"""

from __future__ import annotations

import io
import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import dpkt

from assess.errors import InputError
from assess.sources.capture.packets import SUPPORTED_LINKTYPES

PCAP_MAGICS = frozenset({b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d"})
PCAPNG_MAGIC = b"\x0a\x0d\x0d\x0a"


# What dpkt's readers raise on a damaged file (it does not wrap struct or attribute errors).
_READER_ERRORS = (ValueError, dpkt.UnpackError, struct.error, IndexError, AttributeError, TypeError)


class CaptureDamage(InputError):
    """A capture file is damaged at a position; everything before it was read."""


@dataclass(frozen=True)
class Packet:
    number: int  # 1-based, as Wireshark counts
    offset: int  # byte offset of its record in the file
    ts: float
    linktype: int
    frame: bytes


class _CountingReader(io.RawIOBase):
    """A file whose reads remember when they came back short: dpkt's readers do not say so."""

    def __init__(self, raw: IO[bytes], size: int) -> None:
        self._raw = raw
        self._size = size
        self.position = 0
        self.short_read = False  # some read came back with fewer bytes than asked, but not none
        self.last_read_short = False

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            # dpkt never reads "everything" on purpose: a negative size is a corrupt block length.
            self.short_read = self.last_read_short = True
            return b""
        # A corrupt length field can ask for gigabytes: never ask for more than the file still holds.
        data = self._raw.read(min(n, max(self._size - self.position, 0)))
        # The last read before dpkt hands out a packet is its body: short means the file ends inside it.
        self.last_read_short = len(data) < n
        self.short_read = self.short_read or 0 < len(data) < n
        self.position += len(data)
        return data

    def seek(self, offset: int, whence: int = 0) -> int:
        self.position = self._raw.seek(offset, whence)
        return self.position

    def tell(self) -> int:
        return self.position


def read_packets(path: Path) -> Iterator[Packet]:
    """The packets of a pcap or pcapng file, in file order. Raises InputError for a file that is not a
    capture (or a link type we cannot decode) and CaptureDamage where the file is damaged."""
    try:
        fh = path.open("rb")
    except OSError as e:
        raise InputError(f"cannot read: {e.strerror}", path=path) from e
    with fh:
        src = _CountingReader(fh, os.fstat(fh.fileno()).st_size)
        magic = fh.read(4)
        fh.seek(0)
        records: Iterator[tuple[float, int, bytes]]
        if magic in PCAP_MAGICS:
            try:
                reader = dpkt.pcap.Reader(src)
            except _READER_ERRORS as e:
                raise InputError(f"not a readable capture: {e or type(e).__name__}", path=path) from e
            linktype = int(reader.datalink())
            if linktype not in SUPPORTED_LINKTYPES:
                raise InputError(f"link type {linktype} is not supported (see docs/CAPTURES.md)", path=path)
            records = ((ts, linktype, frame) for ts, frame in reader)
        elif magic == PCAPNG_MAGIC:
            records = _pcapng_records(src)
        else:
            raise InputError("not a pcap or pcapng capture (unknown magic number)", path=path)
        number = 0
        offset = src.position
        iterator = iter(records)
        while True:
            try:
                item = next(iterator)
            except StopIteration:
                if src.short_read:
                    raise _damage(path, number + 1, offset, "the file ends inside this packet record") from None
                break
            except _READER_ERRORS as e:
                raise _damage(path, number + 1, offset, "a corrupt or cut packet record") from e
            number += 1
            if src.last_read_short or src.short_read:
                raise _damage(path, number, offset, "the file ends inside this packet")
            ts, linktype, frame = item
            yield Packet(number, offset, float(ts), linktype, bytes(frame))
            offset = src.position
        if src.position < _size(fh):
            raise _damage(path, number + 1, src.position, "trailing bytes that are not a packet record")


def _pcapng_records(src: _CountingReader) -> Iterator[tuple[float, int, bytes]]:
    """(time, link type, frame) of every packet block, each with its own interface's link type and
    time resolution, across sections. dpkt parses the blocks; its Reader assumes one interface."""
    little = True
    interfaces: list[tuple[int, float, float]] = []  # link type, time divisor, time offset
    last_ts = 0.0
    while True:
        head = src.read(8)
        if not head:
            return
        if len(head) < 8:
            raise dpkt.NeedData("a block header cut short")
        if head[:4] == PCAPNG_MAGIC:  # a section header: byte order and interfaces start afresh
            order = _take(src, 4)
            if order not in (b"\x4d\x3c\x2b\x1a", b"\x1a\x2b\x3c\x4d"):
                raise ValueError("a section header with an unknown byte-order magic")
            little = order == b"\x4d\x3c\x2b\x1a"
            _take(src, _block_length(head[4:], little) - 12)
            interfaces = []
            continue
        block_type = struct.unpack("<I" if little else ">I", head[:4])[0]
        buf = head + _take(src, _block_length(head[4:], little) - 8)
        if block_type == dpkt.pcapng.PCAPNG_BT_IDB:
            idb = (dpkt.pcapng.InterfaceDescriptionBlockLE if little else dpkt.pcapng.InterfaceDescriptionBlock)(buf)
            interfaces.append(_interface(idb, little))
        elif block_type in (dpkt.pcapng.PCAPNG_BT_EPB, dpkt.pcapng.PCAPNG_BT_PB):
            if block_type == dpkt.pcapng.PCAPNG_BT_EPB:
                cls = dpkt.pcapng.EnhancedPacketBlockLE if little else dpkt.pcapng.EnhancedPacketBlock
            else:
                cls = dpkt.pcapng.PacketBlockLE if little else dpkt.pcapng.PacketBlock
            block = cls(buf)
            linktype, divisor, ts_offset = interfaces[block.iface_id]  # IndexError: no such interface
            last_ts = ts_offset + ((block.ts_high << 32) | block.ts_low) / divisor
            yield last_ts, linktype, bytes(block.pkt_data)
        elif block_type == dpkt.pcapng.PCAPNG_BT_SPB and interfaces:
            # A simple packet block has no time: it is given the time of the packet before it.
            original = struct.unpack("<I" if little else ">I", buf[8:12])[0]
            yield last_ts, interfaces[0][0], buf[12 : 12 + min(original, len(buf) - 16)]


def _block_length(raw: bytes, little: bool) -> int:
    length = int(struct.unpack("<I" if little else ">I", raw)[0])
    if length < 12 or length % 4:
        raise ValueError(f"a block length of {length}")
    return length


def _take(src: _CountingReader, n: int) -> bytes:
    data = src.read(n)
    if len(data) < n:
        raise dpkt.NeedData("a block cut short")
    return data


def _interface(idb: dpkt.pcapng.InterfaceDescriptionBlock, little: bool) -> tuple[int, float, float]:
    divisor, ts_offset = 1e6, 0.0
    for opt in idb.opts:
        if opt.code == dpkt.pcapng.PCAPNG_OPT_IF_TSRESOL and opt.data:
            # MSB clear: a negative power of 10; set: a negative power of 2.
            value = opt.data[0]
            divisor = float(2 ** (value & 0x7F) if value & 0x80 else 10 ** (value & 0x7F))
        elif opt.code == dpkt.pcapng.PCAPNG_OPT_IF_TSOFFSET and len(opt.data) >= 8:
            ts_offset = float(struct.unpack("<q" if little else ">q", opt.data[:8])[0])
    return int(idb.linktype), divisor, ts_offset


def _size(fh: IO[bytes]) -> int:
    return fh.seek(0, io.SEEK_END)


def _damage(path: Path, number: int, offset: int, what: str) -> CaptureDamage:
    return CaptureDamage(f"damaged at packet {number} (byte offset {offset}): {what}", path=path)

