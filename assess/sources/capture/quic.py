"""UDP datagrams of a recorded capture -> finished QUIC handshakes (`runtime.quic_wire`).

A QUIC connection starts, for a capture, with a client's Initial packet of a version we read (v1,
v2) on any port; the datagrams between the same two endpoints then belong to it. It is handed over
once the client sends a 1-RTT packet after the ServerHello (the handshake finished), a
CONNECTION_CLOSE ends it in the Initial space, its bytes stop parsing, it has been idle for
`idle_timeout` seconds of capture time, it is pushed out of a full table, or the capture ends.
Bounded like the TCP table: at most `max_connections` connections, each holding at most
`quic_wire.MAX_CRYPTO_BYTES` of CRYPTO data a direction.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from assess.sources.capture.flows import Finished
from assess.sources.capture.packets import UdpDatagram
from assess.sources.runtime.correlate import WireFlow
from assess.sources.runtime.quic_wire import QuicReader, first_client_initial
from assess.sources.runtime.reassembly import Endpoint, connection_key

Key = tuple[Endpoint, Endpoint]
_SWEEP_EVERY = 1024


@dataclass
class QuicCounters:
    udp_datagrams: int = 0
    quic_flows: int = 0  # connections with a ClientHello, handed over
    quic_no_client_hello: int = 0  # connections that ended before a whole ClientHello (a capture cut short)
    quic_idle_timeouts: int = 0
    quic_evictions: int = 0


@dataclass
class _Conn:
    client: Endpoint
    server: Endpoint
    reader: QuicReader
    first_seen: float
    last_seen: float
    capture: str


class QuicTracker:
    """`add(datagram, ts, capture)` gives the connections it finished; `end_file` those a damaged
    file leaves open; `finish()` the rest."""

    def __init__(self, *, max_connections: int = 65536, idle_timeout: float = 60.0) -> None:
        self.max_connections = max_connections
        self.idle_timeout = idle_timeout
        self.counters = QuicCounters()
        self._conns: OrderedDict[Key, _Conn] = OrderedDict()
        self._now = float("-inf")

    def add(self, datagram: UdpDatagram, ts: float, capture: str) -> list[Finished]:
        self.counters.udp_datagrams += 1
        self._now = max(self._now, ts)
        out: list[Finished] = []
        if self.counters.udp_datagrams % _SWEEP_EVERY == 0:
            out.extend(self._sweep())
        key = connection_key(datagram.src, datagram.dst)
        conn = self._conns.get(key)
        if conn is None:
            # Only a client's first Initial starts a connection: one that opens with the keys of its
            # own DCID. A finished connection's late Initials (the server's, or the client's to the
            # server's connection ID) do not, nor does other UDP that looks like a long header.
            header = first_client_initial(datagram.payload)
            if header is None:
                return out
            if len(self._conns) >= self.max_connections:
                self.counters.quic_evictions += 1
                oldest = next(iter(self._conns))
                out.extend(self._hand_over(oldest, idle=True))
            conn = self._conns[key] = _Conn(datagram.src, datagram.dst, QuicReader(header.dcid), ts, ts, capture)
        else:
            self._conns.move_to_end(key)
        conn.last_seen, conn.capture = ts, capture
        conn.reader.add(datagram.payload, ts, from_client=datagram.src == conn.client)
        summary = conn.reader.summary()
        if summary.complete:
            out.extend(self._hand_over(key, idle=False))
        return out

    def end_file(self, capture: str) -> list[Finished]:
        out: list[Finished] = []
        for key in [k for k, c in self._conns.items() if c.capture == capture]:
            out.extend(self._hand_over(key, idle=True))
        return out

    def finish(self) -> list[Finished]:
        out: list[Finished] = []
        for key in list(self._conns):
            out.extend(self._hand_over(key, idle=True))
        return out

    def _sweep(self) -> list[Finished]:
        out: list[Finished] = []
        cutoff = self._now - self.idle_timeout
        for key in [k for k, c in self._conns.items() if c.last_seen < cutoff]:
            self.counters.quic_idle_timeouts += 1
            out.extend(self._hand_over(key, idle=True))
        return out

    def _hand_over(self, key: Key, *, idle: bool) -> list[Finished]:
        """Emit what a connection showed (UDP has no close: only idleness, eviction or the end ends one early)."""
        conn = self._conns.pop(key)
        summary = conn.reader.summary(idle=idle)
        if summary.client_hello is None:
            self.counters.quic_no_client_hello += 1
            return []
        self.counters.quic_flows += 1
        timed_out = idle and summary.completed_at is None and not summary.alert
        return [Finished(WireFlow(conn.client, conn.server, summary, conn.first_seen, timed_out=timed_out),
                         conn.capture)]
