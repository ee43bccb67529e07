"""Read pcap and pcapng files with dpkt, streaming: one packet at a time, nothing held but the
flow table (see flows.py). Damage (a file cut mid-packet, a corrupt block) stops that file with a
`CaptureDamage` that names the packet number and byte offset; what was read before it is kept.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from struct import error as struct_error  # dpkt lets struct.error through on some short headers
from typing import IO

import dpkt

from assess.errors import InputError
from assess.sources.capture.packets import SUPPORTED_LINKTYPES

PCAP_MAGICS = frozenset({b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d"})
PCAPNG_MAGIC = b"\x0a\x0d\x0d\x0a"


# What dpkt's readers raise on a damaged file (it does not wrap struct or attribute errors).
_READER_ERRORS = (ValueError, dpkt.UnpackError, struct_error, IndexError, AttributeError, TypeError)


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
        try:
            if magic in PCAP_MAGICS:
                reader: dpkt.pcap.Reader | dpkt.pcapng.Reader = dpkt.pcap.Reader(src)
            elif magic == PCAPNG_MAGIC:
                reader = dpkt.pcapng.Reader(src)
            else:
                raise InputError("not a pcap or pcapng capture (unknown magic number)", path=path)
        except _READER_ERRORS as e:
            raise InputError(f"not a readable capture: {e or type(e).__name__}", path=path) from e
        linktype = int(reader.datalink())
        if linktype not in SUPPORTED_LINKTYPES:
            raise InputError(f"link type {linktype} is not supported (see docs/CAPTURES.md)", path=path)
        number = 0
        offset = src.position
        iterator = iter(reader)
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
            ts, frame = item
            yield Packet(number, offset, float(ts), linktype, bytes(frame))
            offset = src.position
        if src.position < _size(fh):
            raise _damage(path, number + 1, src.position, "trailing bytes that are not a packet record")


def _size(fh: IO[bytes]) -> int:
    return fh.seek(0, io.SEEK_END)


def _damage(path: Path, number: int, offset: int, what: str) -> CaptureDamage:
    return CaptureDamage(f"damaged at packet {number} (byte offset {offset}): {what}", path=path)

