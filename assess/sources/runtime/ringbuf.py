"""A BPF ring buffer (BPF_MAP_TYPE_RINGBUF) read through its shared memory, with no callback per record.

bcc reads a ring buffer, as it reads a perf buffer, by calling back into Python through ctypes
once per record: about 3 µs each on this project's VM, for two or three records a handshake. The
ring is memory the kernel lets user space map (kernel/bpf/ringbuf.c): a page holding the
consumer's position (writable), a page holding the producer's, then the data pages, mapped twice
in a row so a record that wraps around the end reads as one piece. Each record has an 8-byte
header (its length, with a busy and a discard bit) and is padded to 8 bytes. The kernel hands the
space of a record back to the producers once the consumer position has passed it, so records
are decoded before the position is moved.

One ring takes the records of every CPU in the order they were reserved. A record that does not
fit is not written at all: the BPF programs count those themselves (a ring has no lost-sample
callback), which is where the sensor's kernel drops come from.
"""

from __future__ import annotations

import mmap
import struct
from collections.abc import Callable

BUSY = 1 << 31
DISCARD = 1 << 30
HEADER = 8
_POS = struct.Struct("<Q")
_LEN = struct.Struct("<I")

# (the mapped data, where a record's bytes start, their length) -> None
Handler = Callable[[mmap.mmap, int, int], None]


class RingBuffer:
    """The consumer side of one BPF ring buffer map of `size` bytes (a power of two, in pages)."""

    def __init__(self, map_fd: int, size: int) -> None:
        if size < mmap.PAGESIZE or size & (size - 1):
            raise ValueError(f"a ring buffer's size is a power of two of at least a page, not {size}")
        page = mmap.PAGESIZE
        self.size = size
        self._mask = size - 1
        self._consumer = mmap.mmap(map_fd, page, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE, offset=0)
        try:
            # The producer's page, then the data twice: offsets below are into this mapping.
            self._data = mmap.mmap(map_fd, page + 2 * size, mmap.MAP_SHARED, mmap.PROT_READ, offset=page)
        except OSError:
            self._consumer.close()
            raise
        self._page = page

    def drain(self, handler: Handler) -> int:
        """Hand every committed record to `handler(data, start, length)`, in ring order, then give
        their space back; returns how many there were. A record still being written (busy) stops
        the walk: it and what follows are taken next time."""
        data, page, mask = self._data, self._page, self._mask
        consumer = _POS.unpack_from(self._consumer, 0)[0]
        producer = _POS.unpack_from(data, 0)[0]
        count = 0
        position = consumer
        while position < producer:
            at = page + (position & mask)
            length = _LEN.unpack_from(data, at)[0]
            if length & BUSY:
                break
            size = length & ~(BUSY | DISCARD)
            if not length & DISCARD:
                handler(data, at + HEADER, size)
                count += 1
            position += (size + HEADER + 7) & ~7
        if position != consumer:
            _POS.pack_into(self._consumer, 0, position)
        return count

    def close(self) -> None:
        self._data.close()
        self._consumer.close()
