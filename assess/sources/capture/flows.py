"""TCP segments of a recorded capture -> finished TLS handshakes and SSH key exchanges, through the
sensor's reassembler and wire parsers (`assess.sources.runtime.reassembly`, `.wire`, `.ssh_wire`).

Pure and bounded: at most `max_connections` connections are held, each direction keeps at most
`max_bytes` (what it holds out of order included), all of them together hold at most
`max_out_of_order` bytes out of order (a segment beyond a limit is dropped and counted), and a
connection is handed over and forgotten as soon as its handshake is finished, its first bytes
show it is not TLS, it closes, or it has been idle for `idle_timeout` seconds of capture time. A
connection pushed out of a full table is examined first (what it showed is kept) and counted as
an eviction. Time is the capture's own clock, never the wall clock.

A connection whose client opens with a ClientHello is a TLS handshake whatever the server answers
(an alert, garbage, a reset): its line says how it failed. One that opens like a STARTTLS protocol
(`starttls.py`) is held while it stays plaintext, and read from where TLS begins once it upgrades.
A connection either of whose directions opens with `SSH-` is SSH on any port: its banners and
KEXINITs are read up to both NEWKEYS (`ssh_wire.SshReader`); its client is the end whose segment
the capture saw first when that was a SYN, else the end on the higher port.
Each handshake is credited to the capture file of its connection's last segment; a file that is
damaged hands over its open connections at the damage, so none is credited to the next file.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import asdict, dataclass
from enum import Enum
from typing import NamedTuple

from assess.sources.capture.packets import TcpSegment
from assess.sources.capture.starttls import Upgrade, find_upgrade
from assess.sources.runtime.correlate import WireFlow
from assess.sources.runtime.reassembly import (
    DISCARD_AFTER,
    MAX_OUT_OF_ORDER,
    Connection,
    Endpoint,
    Reassembler,
    connection_key,
)
from assess.sources.runtime.ssh_wire import SshFlow, SshReader, looks_like_ssh
from assess.sources.runtime.wire import (
    ALERT,
    CLIENT_HELLO,
    HANDSHAKE,
    NO_BYTES,
    SERVER_HELLO,
    HandshakeReader,
    WireHandshake,
    is_sslv2_client_hello,
)

Key = tuple[Endpoint, Endpoint]
# How often (in segments) idle connections are looked for.
_SWEEP_EVERY = 1024
# Finished connections remembered so that their trailing segments are ignored.
DONE_CAPACITY = 65536



@dataclass
class FlowCounters:
    segments: int = 0
    tls_flows: int = 0  # connections with a ClientHello, handed over
    not_tls: int = 0  # connections whose bytes are not TLS
    tls_mid_stream: int = 0  # TLS connections already past their handshake when the capture began
    no_client_hello: int = 0  # TLS-looking connections that ended before a whole ClientHello
    idle_timeouts: int = 0  # handed over after `idle_timeout` without the handshake finishing
    evictions: int = 0  # pushed out of a full table
    unfinished_at_end: int = 0  # still mid-handshake when the capture ended
    truncated_streams: int = 0  # a direction exceeded `max_bytes` before the handshake was read
    out_of_order_dropped: int = 0  # segments not held out of order: a direction or all were at their limit
    damaged_handshakes: int = 0  # bytes stopped being TLS after the ClientHello (written with what came before)
    starttls: int = 0  # handshakes found after a STARTTLS protocol's plaintext upgrade
    ssh_flows: int = 0  # SSH connections with a client banner, handed over

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


class _Reason(Enum):
    """Why a connection is handed over before its handshake was seen to finish."""

    CLOSED = "closed"  # FIN or RST
    IDLE = "idle"  # silent for idle_timeout seconds of capture time
    EVICTED = "evicted"  # pushed out of a full table
    CAPTURE_END = "capture_end"  # the last file ended
    DAMAGE = "damage"  # the file its last segment came from is damaged


class Finished(NamedTuple):
    """A connection handed over, and the capture file of its last segment."""

    flow: WireFlow | SshFlow
    capture: str


class HandshakeTracker:
    """`add(segment, ts, capture)` gives the connections it finished; `end_file(capture)` those a
    damaged file leaves open; `finish()` the rest at the capture's end."""

    def __init__(self, *, max_connections: int = 65536, max_bytes: int = 65536, idle_timeout: float = 60.0,
                 max_out_of_order: int = MAX_OUT_OF_ORDER) -> None:
        self.max_connections = max_connections
        self.idle_timeout = idle_timeout
        self.counters = FlowCounters()
        # One more than the limit, so the Reassembler never evicts silently: we evict first.
        self._reassembler = Reassembler(max_connections=max_connections + 1, max_bytes=max_bytes,
                                        max_out_of_order=max_out_of_order)
        # Connections already handed over (or found not to be TLS), so their later segments (FIN, ACKs,
        # application data) are ignored. Kept by hash (a few bytes each), the most recent DONE_CAPACITY.
        self._done: OrderedDict[int, None] = OrderedDict()
        self._captures: dict[Key, str] = {}  # the file each held connection's last segment came from
        self._upgrades: dict[Key, Upgrade] = {}  # held connections that opened like a STARTTLS protocol
        self._ssh: dict[Key, SshReader] = {}  # held connections that opened with an SSH banner
        self._now = float("-inf")

    def __len__(self) -> int:
        return len(self._reassembler)

    def add(self, seg: TcpSegment, ts: float, capture: str) -> list[Finished]:
        # (called once a segment: locals and tuple fields instead of repeated attribute lookups)
        counters = self.counters
        counters.segments += 1
        if ts > self._now:
            self._now = ts
        out: list[Finished] = []
        if counters.segments % _SWEEP_EVERY == 0:
            out.extend(self._sweep(self._now - self.idle_timeout))
        src, dst, seq, payload, syn, fin, rst = seg[:7]
        key = connection_key(src, dst)
        done = self._done
        if done and hash(key) in done:
            if not (syn and not payload):
                return out
            del done[hash(key)]  # the port pair is reused by a new connection
        reassembler = self._reassembler
        if len(reassembler) >= self.max_connections and reassembler.get(key) is None:
            oldest = reassembler.oldest()
            if oldest is not None:
                counters.evictions += 1
                out.extend(self._hand_over(*oldest, reason=_Reason.EVICTED))
        _, conn = reassembler.add(src, dst, seq, payload, ts, syn=syn, fin=fin, rst=rst)
        self._captures[key] = capture
        counters.out_of_order_dropped = reassembler.out_of_order_dropped
        if payload or fin or rst:
            out.extend(self._examine(key, conn))
        return out

    def end_file(self, capture: str) -> list[Finished]:
        """A damaged file stops here: what its open connections showed, credited to it."""
        out: list[Finished] = []
        for key, conn in self._reassembler.connections():
            if self._captures.get(key) == capture:
                out.extend(self._hand_over(key, conn, reason=_Reason.DAMAGE))
        return out

    def finish(self) -> list[Finished]:
        """Everything still held: what each connection showed before the capture ended."""
        out: list[Finished] = []
        for key, conn in self._reassembler.connections():
            out.extend(self._hand_over(key, conn, reason=_Reason.CAPTURE_END))
        return out

    # --- internals ---------------------------------------------------------------------------

    def _sweep(self, older_than: float) -> list[Finished]:
        out: list[Finished] = []
        for key, conn in self._reassembler.idle(older_than):
            out.extend(self._hand_over(key, conn, reason=_Reason.IDLE))
        return out

    def _client(self, key: Key, conn: Connection) -> Key | None:
        """The client's direction of the TLS handshake on this connection, if one has begun: the
        direction that opens with a ClientHello, or that of a STARTTLS protocol once it upgraded
        (whose reader then starts where TLS does)."""
        if conn.client is not None:
            return conn.client
        upgrade = self._upgrades.get(key)
        if upgrade is not None:
            return upgrade.client if upgrade.started else None
        client = _client_direction([(pair, stream.data) for pair, stream in conn.streams.items()])
        if client is not None and len(conn.streams[client].data) > 5:  # (the message type is in)
            conn.client = client
        return client

    def _examine(self, key: Key, conn: Connection) -> list[Finished]:
        client = conn.client
        if client is not None and (not self._ssh or key not in self._ssh):  # TLS under way: straight to its reader
            summary = self._summary(conn, client, closed=conn.closed)
            return self._emit(key, conn, client, summary) if summary.complete else []
        ssh = self._ssh_reader(key, conn)
        if ssh is not None:
            return self._examine_ssh(key, conn, ssh, closed=conn.closed)
        client = self._client(key, conn)
        if client is None:
            directions = [(pair, stream.data) for pair, stream in conn.streams.items()]
            ruled_out = [data for _, data in directions if data and not _may_be_handshake(data)]
            if ruled_out:
                # Either direction's first bytes rule a handshake out (HTTP on 443, SSH, garbage, or TLS
                # records of a connection that was past its handshake when the capture began), unless
                # they open a STARTTLS protocol that may yet upgrade.
                client = self._upgrade(key, conn, directions)
                if client is None and key not in self._upgrades:
                    self._retire(key)
                    if all(_is_tls_record(data) for data in ruled_out):
                        self.counters.tls_mid_stream += 1
                    else:
                        self.counters.not_tls += 1
                    return []
                if client is None:
                    return self._hand_over(key, conn, reason=_Reason.CLOSED) if conn.closed else []
            elif not conn.closed:
                return []
            else:
                return self._hand_over(key, conn, reason=_Reason.CLOSED)
        summary = self._summary(conn, client, closed=conn.closed)
        if not summary.complete:
            return []
        return self._emit(key, conn, client, summary)

    def _upgrade(self, key: Key, conn: Connection, directions: list[tuple[Key, bytearray]]) -> Key | None:
        """Follow a connection that opens like a STARTTLS protocol: its client's direction once TLS
        has begun in both (a reader from there on), else None (held while it may still upgrade)."""
        upgrade = find_upgrade(directions)
        if upgrade is None:
            self._upgrades.pop(key, None)
            return None
        self._upgrades[key] = upgrade
        if not upgrade.started:
            return None
        assert upgrade.client_start is not None and upgrade.server_start is not None
        conn.handshake = HandshakeReader(upgrade.client_start, upgrade.server_start)
        conn.client = upgrade.client
        self.counters.starttls += 1
        return upgrade.client

    def _ssh_reader(self, key: Key, conn: Connection) -> SshReader | None:
        """The SSH reader of a connection that opened with an SSH banner (made on its first bytes)."""
        reader = self._ssh.get(key)
        if reader is None and conn.client is None and key not in self._upgrades:
            firsts = [stream.data for stream in conn.streams.values() if stream.data]
            if any(looks_like_ssh(data) for data in firsts):
                reader = self._ssh[key] = SshReader()
        return reader

    def _examine_ssh(self, key: Key, conn: Connection, reader: SshReader, *, closed: bool,
                     idle: bool = False) -> list[Finished]:
        c_src, c_dst = _ssh_client(conn)
        # (a capture begun mid-connection may hold the server's direction alone)
        client = conn.streams.get((c_src, c_dst))
        server = conn.streams.get((c_dst, c_src))
        summary = reader.summarise(client or NO_BYTES, server or NO_BYTES, closed=closed, idle=idle)
        if not summary.complete:
            return []
        capture = self._captures.get(key, "")
        self._retire(key)
        if summary.client.banner is None:
            self.counters.not_tls += 1
            return []
        self.counters.ssh_flows += 1
        timed_out = idle and not closed and summary.completed_at is None
        return [Finished(SshFlow(c_src, c_dst, summary, conn.first_seen, timed_out=timed_out), capture)]

    def _hand_over(self, key: Key, conn: Connection, *, reason: _Reason) -> list[Finished]:
        """Stop waiting on a connection: emit what it showed, if it showed a ClientHello (or an SSH banner)."""
        ssh = self._ssh.get(key)
        if ssh is not None:
            return self._examine_ssh(key, conn, ssh, closed=conn.closed, idle=True)
        client = self._client(key, conn)
        upgrade = self._upgrades.get(key)
        if client is None and upgrade is not None and upgrade.client_start is not None:
            # It asked for TLS and sent its ClientHello, but the server never answered in TLS.
            conn.handshake = HandshakeReader(upgrade.client_start, len(conn.streams.get(
                (upgrade.client[1], upgrade.client[0]), NO_BYTES).data))
            client = upgrade.client
        if client is None:
            self._retire(key)
            if any(stream.data for stream in conn.streams.values()):
                self.counters.not_tls += 1
            return []
        summary = self._summary(conn, client, closed=conn.closed, idle=reason is not _Reason.CLOSED)
        unfinished = summary.completed_at is None and not summary.alert and summary.parse_error is None
        if reason is _Reason.IDLE and unfinished:
            self.counters.idle_timeouts += 1
        if reason is _Reason.CAPTURE_END and unfinished and not conn.closed:
            self.counters.unfinished_at_end += 1
        timed_out = unfinished and not conn.closed and reason is not _Reason.CLOSED
        return self._emit(key, conn, client, summary, timed_out=timed_out)

    def _summary(self, conn: Connection, client: Key, *, closed: bool, idle: bool = False) -> WireHandshake:
        c_src, c_dst = client
        c_stream = conn.streams.get(client)
        assert c_stream is not None
        s_stream = conn.streams.get((c_dst, c_src))
        summary = conn.handshake.summarise(c_stream, s_stream or NO_BYTES, closed=closed, idle=idle)
        if conn.client is not None:  # (then `client` is it)
            c_read, s_read = conn.handshake.read_to
            if c_read - c_stream.skipped >= DISCARD_AFTER or (
                    s_stream is not None and s_read - s_stream.skipped >= DISCARD_AFTER):
                conn.discard_read(DISCARD_AFTER)
        return summary

    def _emit(self, key: Key, conn: Connection, client: Key, summary: WireHandshake, *,
              timed_out: bool = False) -> list[Finished]:
        capture = self._captures.get(key, "")
        self._retire(key)
        if any(s.truncated for s in conn.streams.values()):
            self.counters.truncated_streams += 1
        if summary.client_hello is None:
            if summary.parse_error and "closed before a ClientHello" not in summary.parse_error:
                self.counters.not_tls += 1
            else:
                self.counters.no_client_hello += 1
            return []
        if summary.parse_error is not None:
            self.counters.damaged_handshakes += 1
        self.counters.tls_flows += 1
        return [Finished(WireFlow(client[0], client[1], summary, conn.first_seen, timed_out=timed_out), capture)]

    def _retire(self, key: Key) -> None:
        self._reassembler.pop(key)
        self._captures.pop(key, None)
        self._upgrades.pop(key, None)
        self._ssh.pop(key, None)
        self._done[hash(key)] = None
        while len(self._done) > max(DONE_CAPACITY, self.max_connections):
            self._done.popitem(last=False)


def _ssh_client(conn: Connection) -> Key:
    """The client's direction of an SSH connection: the first the capture saw, if that began with a
    SYN; else (the capture began mid-connection) the one from the higher port."""
    first = next(iter(conn.streams))
    if conn.streams[first].first_seq is not None and conn.streams[first].anchored:
        return first
    src, dst = first
    return first if src.port >= dst.port else (dst, src)


def _may_be_handshake(data: bytes | bytearray) -> bool:
    """Could these be the first bytes of a handshake's direction: a ClientHello or ServerHello
    record, or an alert record (a server refusing a ClientHello)?"""
    if data[0] & 0x80:
        return len(data) < 5 or is_sslv2_client_hello(data)
    if data[0] not in (HANDSHAKE, ALERT):
        return False
    if len(data) >= 2 and data[1] != 3:
        return False
    return data[0] == ALERT or len(data) < 6 or data[5] in (CLIENT_HELLO, SERVER_HELLO)


def _is_tls_record(data: bytes | bytearray) -> bool:
    """TLS records other than a handshake's start (application data, alert, change_cipher_spec)."""
    return data[0] in (20, 21, 22, 23) and data[1:2] in (b"\x03", b"")


def _client_direction(directions: list[tuple[Key, bytearray]]) -> Key | None:
    for pair, data in directions:
        tls_record = data[:1] == bytes([HANDSHAKE]) and data[5:6] in (bytes([CLIENT_HELLO]), b"")
        if tls_record or is_sslv2_client_hello(data):
            return pair
    return None
