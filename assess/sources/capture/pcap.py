"""Read pcap and pcapng files, streaming: one packet at a time, nothing held but the flow table
(see flows.py) and a read buffer. A pcap's records are read here, in large reads parsed with struct
(dpkt's reader made two reads and two header objects per packet, a fifth of an import's time); dpkt
reads its file header and pcapng's blocks. Damage (a file cut mid-packet, a corrupt block) stops that file with a
`CaptureDamage` that names the packet number and byte offset; what was read before it is kept.
Nothing is sought, so a pipe (`tcpdump -w - | ...`) reads like a file, and no length field is
trusted beyond what libpcap accepts, so a corrupt or hostile one never makes us allocate it.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import IO, NamedTuple

import dpkt

from assess.errors import InputError
from assess.sources.capture.packets import SUPPORTED_LINKTYPES

PCAP_MAGICS = frozenset({b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d"})
_LITTLE_ENDIAN_MAGICS = frozenset({b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"})
_NANOSECOND_MAGICS = frozenset({b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d"})
PCAPNG_MAGIC = b"\x0a\x0d\x0d\x0a"
# The largest packet record and pcapng block read, as libpcap has them: its maximum snapshot length
# for every link type we decode (MAXIMUM_SNAPLEN), and its initial maximum block size.
MAX_PACKET_RECORD = 262144
MAX_PCAPNG_BLOCK = 16 << 20


# What dpkt's readers raise on a damaged file (it does not wrap struct or attribute errors).
_READER_ERRORS = (ValueError, dpkt.UnpackError, struct.error, IndexError, AttributeError, TypeError)


class CaptureDamage(InputError):
    """A capture file is damaged at a position; everything before it was read."""


class _Oversized(ValueError):
    """A length field asks for more than any capture holds at once."""


class Packet(NamedTuple):
    """A packet record (a named tuple: one is made per packet)."""

    number: int  # 1-based, as Wireshark counts
    offset: int  # byte offset of its record in the file
    ts: float
    linktype: int
    frame: bytes


class _CountingReader(io.RawIOBase):
    """A file whose reads remember when they came back short (dpkt's readers do not say so) and
    refuse a length beyond `max_read` before reading it. `head` is what was read already (the magic)."""

    def __init__(self, raw: IO[bytes], head: bytes, max_read: int) -> None:
        self._raw = raw
        self._head = head
        self._max_read = max_read
        self.position = 0
        self.short_read = False  # some read came back with fewer bytes than asked, but not none
        self.last_read_short = False

    def readable(self) -> bool:
        return True

    def read(self, n: int | None = -1) -> bytes:
        if n is None or n < 0:
            # dpkt never reads "everything" on purpose: a negative size is a corrupt block length.
            self.short_read = self.last_read_short = True
            return b""
        if n > self._max_read:
            raise _Oversized(f"a record that claims {n} bytes (at most {self._max_read} are read)")
        data, self._head = self._head[:n], self._head[n:]
        if len(data) < n:
            data += self._raw.read(n - len(data))
        # The last read before dpkt hands out a packet is its body: short means the file ends inside it.
        self.last_read_short = len(data) < n
        self.short_read = self.short_read or 0 < len(data) < n
        self.position += len(data)
        return data


def read_packets(path: Path) -> Iterator[Packet]:
    """The packets of a pcap or pcapng file (or pipe), in file order. Raises InputError for a file
    that is not a capture (or a link type we cannot decode) and CaptureDamage where it is damaged."""
    try:
        with path.open("rb") as fh:
            src, records = _open(path, fh)
            if isinstance(records, _PcapHeader):
                yield from _pcap_packets(path, fh, records, src.position)
                return
            number = 0
            offset = src.position
            while True:
                try:
                    ts, linktype, frame = next(records)
                except StopIteration:
                    if src.short_read:
                        raise _damage(path, number + 1, offset, "the file ends inside this packet record") from None
                    return
                except _Oversized as e:
                    raise _damage(path, number + 1, offset, str(e)) from e
                except _READER_ERRORS as e:
                    raise _damage(path, number + 1, offset, "a corrupt or cut packet record") from e
                number += 1
                if src.last_read_short or src.short_read:
                    raise _damage(path, number, offset, "the file ends inside this packet")
                yield Packet(number, offset, float(ts), linktype, bytes(frame))
                offset = src.position
    except OSError as e:
        raise InputError(f"cannot read: {e.strerror}", path=path) from e


class _PcapHeader(NamedTuple):
    """What a pcap's file header says of its records."""

    little: bool
    nanoseconds: bool
    linktype: int


# A pcap is read this many bytes at a time (or a record's length, if more); a pipe's writer waits
# while a read is being filled, so this is also how far ahead of the reader it may get.
_READ_SIZE = 1 << 17
_RECORD_HEADER = 16
_LE_RECORD, _BE_RECORD = struct.Struct("<IIII"), struct.Struct(">IIII")
# Packet(...) without its generated __new__: one Python call fewer a packet.
_new_packet = tuple.__new__


def _pcap_packets(path: Path, fh: IO[bytes], header: _PcapHeader, start: int) -> Iterator[Packet]:
    """The records of a pcap after its file header (at byte `start`), damage reported as dpkt's
    reader let read_packets report it: a record header cut short is "corrupt or cut", a length
    beyond MAX_PACKET_RECORD is refused before anything is read for it, a body cut short ends
    the file inside its packet. Times are dpkt's: seconds + microseconds / 1E6 as floats, and
    nanoseconds exactly (dpkt divides by a Decimal; an int division rounds the same value once)."""
    unpack = (_LE_RECORD if header.little else _BE_RECORD).unpack_from
    linktype, nanoseconds = header.linktype, header.nanoseconds
    buf = b""
    pos = 0  # where the next record starts in buf
    base = start  # the file offset of buf[0]
    number = 0
    read = fh.read
    while True:
        if len(buf) - pos < _RECORD_HEADER:
            base += pos
            buf, pos = buf[pos:] + read(_READ_SIZE), 0
            if len(buf) < _RECORD_HEADER:
                if buf:
                    raise _damage(path, number + 1, base, "a corrupt or cut packet record")
                return
        seconds, fraction, caplen, _ = unpack(buf, pos)
        if caplen > MAX_PACKET_RECORD:
            raise _damage(path, number + 1, base + pos,
                          f"a record that claims {caplen} bytes (at most {MAX_PACKET_RECORD} are read)")
        end = pos + _RECORD_HEADER + caplen
        if end > len(buf):
            base += pos
            buf, end, pos = buf[pos:], end - pos, 0
            buf += read(max(_READ_SIZE, end - len(buf)))
            if end > len(buf):
                raise _damage(path, number + 1, base, "the file ends inside this packet")
        number += 1
        ts = (seconds * 1_000_000_000 + fraction) / 1_000_000_000 if nanoseconds else seconds + fraction / 1E6
        yield _new_packet(Packet, (number, base + pos, ts, linktype, buf[pos + _RECORD_HEADER : end]))
        pos = end


def _open(path: Path, fh: IO[bytes]) -> tuple[_CountingReader, Iterator[tuple[float, int, bytes]] | _PcapHeader]:
    """The reader of a capture by its magic number, and its (time, link type, frame) records (a
    pcap's: what its header says, for `_pcap_packets`)."""
    magic = fh.read(4)
    if magic == PCAPNG_MAGIC:
        src = _CountingReader(fh, magic, MAX_PCAPNG_BLOCK)
        return src, _pcapng_records(src)
    if magic not in PCAP_MAGICS:
        raise InputError("not a pcap or pcapng capture (unknown magic number)", path=path)
    src = _CountingReader(fh, magic, MAX_PACKET_RECORD)
    try:
        reader = dpkt.pcap.Reader(src)  # the file header (24 bytes) alone
    except _READER_ERRORS as e:
        raise InputError(f"not a readable capture: {e or type(e).__name__}", path=path) from e
    linktype = int(reader.datalink())
    if linktype not in SUPPORTED_LINKTYPES:
        raise InputError(f"link type {linktype} is not supported (see docs/CAPTURES.md)", path=path)
    return src, _PcapHeader(little=magic in _LITTLE_ENDIAN_MAGICS, nanoseconds=magic in _NANOSECOND_MAGICS,
                            linktype=linktype)


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


def _damage(path: Path, number: int, offset: int, what: str) -> CaptureDamage:
    return CaptureDamage(f"damaged at packet {number} (byte offset {offset}): {what}", path=path)

