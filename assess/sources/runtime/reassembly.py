"""TCP reassembly per connection: (flow, seq, payload) segments in, contiguous byte streams out.

Pure and free of any capture library, so the live sensor and a pcap importer share it. Handles
segments that arrive out of order, retransmissions and overlaps (the bytes seen first win), 32-bit
sequence wrap-around, and a stream whose SYN was never seen (it starts at the lowest sequence
number seen). Each direction keeps at most `max_bytes`, what it holds out of order included (the
bytes a reader has finished with can be let go, `Stream.discard_before`, and no longer count);
all connections together hold at most `max_out_of_order` bytes out of order; a segment either
limit leaves no room for is dropped and counted. Connections beyond `max_connections` are
evicted oldest first and counted. Each connection carries its TLS handshake as read so far
(`wire.HandshakeReader`), so a segment's bytes are parsed once.
"""

from __future__ import annotations

import bisect
import heapq
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import NamedTuple

from assess.sources.runtime.wire import HandshakeReader

_SEQ_MOD = 1 << 32
_HALF = 1 << 31
# A segment further than this before the start of an unanchored stream is not its beginning.
_MAX_REBASE = 1 << 20
# Bytes all the connections of a reassembler may hold out of order (each direction: max_bytes).
MAX_OUT_OF_ORDER = 64 << 20
# A direction lets go of the bytes its handshake reader has read once they are this many
# (`Connection.discard_read`), so that what follows a long certificate chain fits in max_bytes.
DISCARD_AFTER = 16384


class Endpoint(NamedTuple):
    """An (ip, port) pair; a tuple, so hashing and ordering it costs no Python code per packet."""

    ip: str
    port: int

    def __str__(self) -> str:
        return f"[{self.ip}]:{self.port}" if ":" in self.ip else f"{self.ip}:{self.port}"


class OutOfOrder:
    """The bytes the streams of one reassembler hold out of order, against one limit."""

    __slots__ = ("dropped", "held", "limit")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.held = 0
        self.dropped = 0  # segments not held: their stream or all streams together were at their limit


class Stream:
    """One direction of a TCP connection: the bytes in order from its first byte, with arrival times."""

    def __init__(self, max_bytes: int = 65536, out_of_order: OutOfOrder | None = None) -> None:
        self.max_bytes = max_bytes
        self._base: int | None = None  # sequence number of byte 0
        self._anchored = False  # byte 0 is known to be the first (a SYN was seen)
        self._data = bytearray()
        self._pending: dict[int, tuple[bytes, float]] = {}  # offset -> (bytes, time), out of order
        self._waiting: list[int] = []  # the offsets in _pending, a heap: the next to fit is first
        self.held = 0  # bytes in _pending
        self._out_of_order = out_of_order if out_of_order is not None else OutOfOrder(max_bytes)
        self._ends: list[int] = []  # contiguous length after each extension ...
        self._times: list[float] = []  # ... and when that extension happened
        self.truncated = False  # bytes beyond max_bytes were dropped
        self.skipped = 0  # stream offset of data[0]: the bytes before it were read and let go

    @property
    def data(self) -> bytearray:
        """The contiguous bytes so far (from offset `skipped`), not copied: read them, never change them."""
        return self._data

    @property
    def end(self) -> int:
        """The stream offset just past the contiguous bytes."""
        return self.skipped + len(self._data)

    def discard_before(self, offset: int) -> None:
        """Let go of the contiguous bytes before `offset` (a reader is done with them): they no
        longer count against `max_bytes`, so a long certificate chain does not hide what follows it."""
        cut = min(offset, self.end) - self.skipped
        if cut > 0:
            del self._data[:cut]
            self.skipped += cut

    @property
    def anchored(self) -> bool:
        """Whether byte 0 is known to be the stream's first (its SYN was seen)."""
        return self._anchored

    @property
    def has_gap(self) -> bool:
        return bool(self._pending)

    @property
    def first_seq(self) -> int | None:
        """The sequence number of byte 0 (None before any byte)."""
        return self._base

    def continues(self, seq: int, window: int = 1 << 16) -> bool:
        """Whether a segment at `seq` belongs to this stream: from its first byte up to `window`
        bytes beyond what it holds (a retransmission, the next bytes, or some out of order)."""
        if self._base is None:
            return True
        return (seq - self._base) % _SEQ_MOD <= self.end + window

    def time_at(self, offset: int) -> float | None:
        """When the byte at `offset` became part of the contiguous stream (None if it has not)."""
        i = bisect.bisect_right(self._ends, offset)
        return self._times[i] if i < len(self._times) else None

    def add(self, seq: int, payload: bytes, ts: float, *, syn: bool = False) -> None:
        if syn:
            self._anchor(seq + 1)
            seq = (seq + 1) % _SEQ_MOD
        if not payload:
            return
        if self._base is None:
            self._base = seq
        offset = self._relative(seq)
        if offset == self.skipped + len(self._data) and not self._waiting:
            self._extend(payload, ts)  # the next bytes, nothing held out of order: the usual segment
            return
        if offset < 0:
            if self._anchored or -offset > _MAX_REBASE or self.skipped:
                # Before the stream's first byte: keep the part that overlaps, if any.
                payload = payload[-offset:]
                if not payload:
                    return
                offset = 0
            else:
                self._rebase(seq)
                offset = 0
        self._place(offset, payload, ts)

    def release(self) -> None:
        """Forget what is held out of order (the connection is done with), giving its room back."""
        self._out_of_order.held -= self.held
        self.held = 0
        self._pending.clear()
        self._waiting.clear()

    def _relative(self, seq: int) -> int:
        assert self._base is not None
        rel = (seq - self._base) % _SEQ_MOD
        return rel - _SEQ_MOD if rel >= _HALF else rel

    def _anchor(self, first_seq: int) -> None:
        first_seq %= _SEQ_MOD
        if self._base is not None and not self._anchored and first_seq != self._base:
            delta = self._relative(first_seq)
            if delta < 0:
                self._rebase(first_seq)
        elif self._base is None:
            self._base = first_seq
        self._anchored = True

    def _rebase(self, new_base: int) -> None:
        """An earlier segment of an unanchored stream arrived: everything so far moves right."""
        shift = (self._base - new_base) % _SEQ_MOD if self._base is not None else 0
        moved = {off + shift: chunk for off, chunk in self._pending.items()}
        if self._data:
            # What was contiguous is now held until the bytes before it come: counted as held, even
            # past the reassembler's limit (the bytes are in memory already; the stream's limit holds).
            moved[shift] = (bytes(self._data), self._times[-1])
            self.held += len(self._data)
            self._out_of_order.held += len(self._data)
        self._base = new_base
        self._data = bytearray()
        self._ends, self._times = [], []
        self._pending = moved
        self._waiting = sorted(moved)

    def _place(self, offset: int, payload: bytes, ts: float) -> None:
        end = self.end
        if offset > end:
            self._hold(offset, payload, ts)
            return
        self._extend(payload[end - offset :], ts)
        self._drain(ts)

    def _hold(self, offset: int, payload: bytes, ts: float) -> None:
        """Keep a segment that came before the bytes in front of it, within both limits."""
        if offset - self.skipped + len(payload) > self.max_bytes:
            payload = payload[: max(self.max_bytes - (offset - self.skipped), 0)]
            self.truncated = True
            if not payload:
                return
        held = self._pending.get(offset)
        growth = len(payload) - (len(held[0]) if held is not None else 0)
        if growth <= 0:
            return  # a retransmission of what is held, or less
        pool = self._out_of_order
        if len(self._data) + self.held + growth > self.max_bytes or pool.held + growth > pool.limit:
            pool.dropped += 1
            return
        if held is None:
            heapq.heappush(self._waiting, offset)
        self._pending[offset] = (payload, ts)
        self.held += growth
        pool.held += growth

    def _extend(self, new: bytes, ts: float) -> None:
        room = self.max_bytes - len(self._data)
        if len(new) > room:
            new = new[:room]
            self.truncated = True
        if new:
            self._data += new
            self._ends.append(self.skipped + len(self._data))
            self._times.append(ts)

    def _drain(self, ts: float) -> None:
        waiting = self._waiting
        while waiting and waiting[0] <= self.end:
            off = heapq.heappop(waiting)
            chunk, _ = self._pending.pop(off)
            self.held -= len(chunk)
            self._out_of_order.held -= len(chunk)
            if off + len(chunk) > self.end:
                self._extend(chunk[self.end - off :], ts)


@dataclass
class Connection:
    """Both directions of one TCP connection, keyed by the sender of each direction."""

    first_seen: float
    last_seen: float
    streams: dict[tuple[Endpoint, Endpoint], Stream] = field(default_factory=dict)
    closed: bool = False
    handshake: HandshakeReader = field(default_factory=HandshakeReader)  # its TLS, read so far
    client: tuple[Endpoint, Endpoint] | None = None  # (sender, receiver) of the client's direction, once known

    def stream(self, src: Endpoint, dst: Endpoint) -> Stream | None:
        return self.streams.get((src, dst))

    def discard_read(self, at_least: int) -> None:
        """Let each direction go of the bytes its handshake reader has read, once there are
        `at_least` of them: only unread bytes then count against `max_bytes`, so what follows a
        long certificate chain (a TLS 1.2 ServerKeyExchange) is still read. Needs `client`: a
        direction's first bytes no longer say whose it is once they are gone."""
        assert self.client is not None
        src, dst = self.client
        for stream, read_to in zip((self.stream(src, dst), self.stream(dst, src)), self.handshake.read_to,
                                   strict=True):
            if stream is not None and read_to - stream.skipped >= at_least:
                stream.discard_before(read_to)


def connection_key(a: Endpoint, b: Endpoint) -> tuple[Endpoint, Endpoint]:
    return (a, b) if a <= b else (b, a)


class Reassembler:
    """Many connections at once, bounded: the least recently active is evicted first."""

    def __init__(self, *, max_connections: int = 65536, max_bytes: int = 65536,
                 max_out_of_order: int = MAX_OUT_OF_ORDER) -> None:
        self.max_connections = max_connections
        self.max_bytes = max_bytes
        self.evictions = 0
        self._out_of_order = OutOfOrder(max_out_of_order)
        self._connections: OrderedDict[tuple[Endpoint, Endpoint], Connection] = OrderedDict()

    def __len__(self) -> int:
        return len(self._connections)

    @property
    def out_of_order_held(self) -> int:
        """Bytes held out of order by every connection, now."""
        return self._out_of_order.held

    @property
    def out_of_order_dropped(self) -> int:
        """Segments dropped because their direction, or all connections together, held as much
        out of order as they may."""
        return self._out_of_order.dropped

    def __contains__(self, pair: tuple[Endpoint, Endpoint]) -> bool:
        """Whether a connection between these two endpoints (either order, so a key too) is held."""
        return connection_key(*pair) in self._connections

    def add(
        self,
        src: Endpoint,
        dst: Endpoint,
        seq: int,
        payload: bytes,
        ts: float,
        *,
        syn: bool = False,
        fin: bool = False,
        rst: bool = False,
    ) -> tuple[tuple[Endpoint, Endpoint], Connection]:
        key = connection_key(src, dst)
        conn = self._connections.get(key)
        if conn is None:
            conn = Connection(first_seen=ts, last_seen=ts)
            self._connections[key] = conn
            while len(self._connections) > self.max_connections:
                _release(self._connections.popitem(last=False)[1])
                self.evictions += 1
        else:
            self._connections.move_to_end(key)
        if ts > conn.last_seen:
            conn.last_seen = ts
        stream = conn.streams.get((src, dst))
        if stream is None:
            stream = conn.streams[(src, dst)] = Stream(self.max_bytes, self._out_of_order)
        stream.add(seq, payload, ts, syn=syn)
        if fin or rst:
            conn.closed = True
        return key, conn

    def get(self, key: tuple[Endpoint, Endpoint]) -> Connection | None:
        return self._connections.get(key)

    def pop(self, key: tuple[Endpoint, Endpoint]) -> Connection | None:
        """Take a connection out: it gets no more segments, and what it held out of order is forgotten."""
        conn = self._connections.pop(key, None)
        if conn is not None:
            _release(conn)
        return conn

    def oldest(self) -> tuple[tuple[Endpoint, Endpoint], Connection] | None:
        """The least recently active connection, left in place (a caller evicting it can examine it first)."""
        return next(iter(self._connections.items()), None)

    def connections(self) -> list[tuple[tuple[Endpoint, Endpoint], Connection]]:
        """Every connection still held, oldest first."""
        return list(self._connections.items())

    def idle(self, older_than: float) -> list[tuple[tuple[Endpoint, Endpoint], Connection]]:
        """Connections with no segment since `older_than` (oldest first), left in place."""
        out = []
        for key, conn in self._connections.items():
            if conn.last_seen >= older_than:
                break
            out.append((key, conn))
        return out


def _release(conn: Connection) -> None:
    for stream in conn.streams.values():
        stream.release()
