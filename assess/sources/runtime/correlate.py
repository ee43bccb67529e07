"""Join the process view (uprobes, socket tracepoints) and the wire view into handshake records.

Pure: probe events and finished wire flows in, handshake dicts (the *Runtime JSON lines* contract)
out. The join key is the connection's client endpoint (ip, port): the client process learns it
from connect(), the server process from accept(), the wire from the ClientHello's sender; among
flows from one endpoint, the one to the socket's own server is taken first.
Everything is bounded; what falls out of a full table is counted as an eviction, and a join that
waits too long is emitted with what is known and counted as a correlation timeout.
"""

from __future__ import annotations

import itertools
import json
import math
import socket
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import IntEnum
from functools import lru_cache
from typing import Any, NamedTuple

from assess.sources.runtime.reassembly import Endpoint
from assess.sources.runtime.wire import WireHandshake
from assess.tlsnames import alert_name, cipher_suite_name, group_name, is_pq_group, version_name


class Kind(IntEnum):
    """Event kinds of bpf/tls_probes.c (K_*). CONNECT and ACCEPT are not sent by the kernel: the
    sensor makes them from its socket tables (see sensor.py), and other sources may too."""

    HANDSHAKE_ENTER = 1
    HANDSHAKE_RETURN = 2
    IMPLICIT_START = 3  # a handshake the first SSL_read/SSL_write drives: its end comes from the wire
    SNI = 5
    FD = 6
    FREE = 7
    CONNECT = 8
    ACCEPT = 9
    EXIT = 10


SOCKETS_PER_FD = 16
# Clocks differ a little between the views (kernel time of a probe, packet time of a ClientHello).
FLOW_SLACK = 0.05


class ProbeEvent(NamedTuple):  # a tuple: the sensor makes several per handshake, and tuples are cheap
    kind: Kind
    ts: float  # wall-clock seconds
    tgid: int
    tid: int
    comm: str
    ssl: int = 0
    ret: int = 0
    fd: int = -1
    src: Endpoint | None = None
    dst: Endpoint | None = None
    sni: str | None = None
    role: str | None = None  # FD events: the role of the socket the handshake runs on, when known
    tls_role: str | None = None  # start events: the SSL object's role (SSL_set_connect/accept_state)


class WireFlow(NamedTuple):
    """A connection whose bytes the wire view has finished with."""

    client: Endpoint
    server: Endpoint
    handshake: WireHandshake
    first_seen: float
    timed_out: bool = False
    # The processes at the ends as the wire view's source knew them when it finished (CONNECT and
    # ACCEPT events; the sensor's socket filter sends them with its summary). None: not known, so
    # `lookup_owners` is asked.
    owners: tuple[ProbeEvent, ...] | None = None
    transport: str = "tcp"  # "quic": the handshake was read from QUIC Initial packets


@dataclass(frozen=True)
class ProcessInfo:
    exe: str | None
    library: str | None
    library_version: str | None


@dataclass(slots=True)  # (slots: made and read several times a handshake)
class _Socket:
    seen: float
    tgid: int
    tid: int
    comm: str
    role: str
    client: Endpoint
    server: Endpoint | None
    taken: bool = False  # a handshake of the process view ran on it


@dataclass(slots=True)
class _ProbeHandshake:
    tgid: int
    tid: int
    comm: str
    started: float
    explicit: bool
    role: str | None = None  # the SSL object's own (SSL_set_connect/accept_state), when known
    fd: int | None = None
    sni: str | None = None
    success: bool | None = None
    ended: float | None = None
    first_seen: float = 0.0
    failed_at: float | None = None  # a call said it failed; final once nothing better follows
    done: bool = False
    sock: _Socket | None = None
    retired_at: float = 0.0  # when the correlator had the whole process view

    def succeed(self, ts: float) -> None:
        self.success, self.ended, self.done = True, ts, True

    def fail(self, ts: float) -> None:
        """The handshake ended without a success return. For SSL_do_handshake that is a failure; for
        an implicit handshake it says nothing (its success is the wire's to tell)."""
        if not self.done:
            self.done, self.ended = True, self.failed_at or ts
            self.success = False if self.explicit else None

    def settle(self, now: float, grace: float) -> None:
        if not self.done and self.failed_at is not None and now - self.failed_at >= grace:
            self.fail(now)

    @property
    def finished(self) -> bool:
        return self.done


@dataclass(eq=False, slots=True)  # found by identity in _flows_by_client
class _PendingFlow:
    flow: WireFlow
    done_at: float
    serial: int = 0
    claimed: set[str] = field(default_factory=set)
    fields: _Fields | None = None  # its records' wire fields, once made (see _wire_fields)


Resolver = Callable[[int], ProcessInfo]
# (client, server, time the wire view finished, roles wanted) -> CONNECT/ACCEPT events of the
# processes at those ends of the connection, from a table of sockets kept elsewhere (the sensor's
# kernel table).
OwnerLookup = Callable[[Endpoint, Endpoint, float, tuple[str, ...]], list[ProbeEvent]]


def _no_process_info(_: int) -> ProcessInfo:
    return ProcessInfo(None, None, None)


class Correlator:
    """Probe events and wire flows in; `drain(now)` gives the handshake records ready to write."""

    def __init__(
        self,
        *,
        host: str,
        resolve: Resolver = _no_process_info,
        lookup_owners: OwnerLookup | None = None,
        join_wait: float = 2.0,
        timeout: float = 15.0,
        max_entries: int = 65536,
    ) -> None:
        self.host = host
        self.resolve = resolve
        self.lookup_owners = lookup_owners
        self.join_wait = join_wait
        self.timeout = timeout
        self.max_entries = max_entries
        self.correlation_timeouts = 0
        self.cache_evictions = 0
        self.handshakes_emitted = 0
        # The last few sockets per (pid, fd): programs reuse fd numbers for connection after connection.
        self._sockets: OrderedDict[tuple[int, int], list[_Socket]] = OrderedDict()
        self._by_client: OrderedDict[tuple[Endpoint, str], _Socket] = OrderedDict()
        self._active: OrderedDict[tuple[int, int], _ProbeHandshake] = OrderedDict()  # by (pid, SSL*)
        self._finished: OrderedDict[int, _ProbeHandshake] = OrderedDict()
        self._serial = itertools.count()
        self._received = 0.0
        self._ssl_fds: OrderedDict[tuple[int, int], tuple[float, int, _Socket | None]] = OrderedDict()
        self._ssl_snis: OrderedDict[tuple[int, int], tuple[float, str]] = OrderedDict()
        # Wire flows waiting for their process views, in arrival order, and by client endpoint: a
        # busy client reuses its ports within seconds, so one endpoint can have several connections.
        self._flows: OrderedDict[int, _PendingFlow] = OrderedDict()
        self._flows_by_client: dict[Endpoint, list[_PendingFlow]] = {}
        self._info: dict[int, ProcessInfo] = {}
        self._renderer = _Renderer()

    # --- input -------------------------------------------------------------------------------

    def on_probe(self, ev: ProbeEvent, now: float | None = None) -> None:
        """One probe event; `now` is when it was received (waits are counted from receipt, so a
        sensor that falls behind does not time out joins it has not had the chance to make)."""
        self._received = now if now is not None else ev.ts
        key = (ev.tgid, ev.ssl)
        if ev.kind in (Kind.HANDSHAKE_ENTER, Kind.IMPLICIT_START):
            self._remember_process(ev.tgid)
            # The kernel sends the fd and SNI set before the handshake with its first event.
            # (The live sensor's kernel side finds a socket without its fd when it sees the I/O: fd -1.)
            carries = ev.fd >= 0 or ev.src is not None
            fd_entry = (ev.ts, ev.fd, self._taken_socket(ev)) if carries else self._ssl_fds.get(key)
            sni_entry = (ev.ts, ev.sni) if ev.sni is not None else self._ssl_snis.get(key)
            if key in self._active:  # the same SSL object (or a new one at a reused address) starts again
                self._active[key].fail(ev.ts)
                self._retire(key)
            hs = _ProbeHandshake(ev.tgid, ev.tid, ev.comm, ev.ts, ev.kind == Kind.HANDSHAKE_ENTER, ev.tls_role,
                                 first_seen=ev.ts)
            if fd_entry is not None:
                _, fd, hs.sock = fd_entry
                hs.fd = fd if fd >= 0 else None
                self._ssl_fds[key] = fd_entry
            if sni_entry is not None:
                hs.sni = sni_entry[1]
                self._ssl_snis[key] = sni_entry
            self._put(self._active, key, hs)
            self._socket_of(hs)  # bind now: the fd will carry other connections soon
            return
        if ev.kind in (Kind.CONNECT, Kind.ACCEPT):
            if ev.src is not None:
                self._note_socket(ev, "client" if ev.kind == Kind.CONNECT else "server")
            return
        if ev.kind == Kind.EXIT:
            for k in [k for k in self._active if k[0] == ev.tgid]:
                self._active[k].fail(ev.ts)
                self._retire(k)
            return
        if ev.kind == Kind.SNI:
            self._put(self._ssl_snis, key, (ev.ts, ev.sni or ""))
        elif ev.kind == Kind.FD:
            self._put(self._ssl_fds, key, (ev.ts, ev.fd, self._taken_socket(ev)))
        elif ev.kind == Kind.FREE:
            self._ssl_fds.pop(key, None)
            self._ssl_snis.pop(key, None)
        current = self._active.get(key)
        if current is None:
            return
        if ev.kind == Kind.SNI:
            current.sni = ev.sni
        elif ev.kind == Kind.FD and current.fd is None and current.sock is None:
            current.fd = ev.fd if ev.fd >= 0 else None
            current.sock = self._ssl_fds[key][2]
            self._socket_of(current)
        elif ev.kind == Kind.HANDSHAKE_RETURN:
            if ev.ret > 0:
                current.succeed(ev.ts)
                self._retire(key)
            elif ev.ret == 0 and current.failed_at is None:
                current.failed_at = ev.ts  # final only if no success follows (see settle())
        elif ev.kind == Kind.FREE:
            current.fail(ev.ts)
            self._retire(key)

    def on_flow(self, flow: WireFlow, now: float) -> None:
        if flow.handshake.client_hello is None:
            return  # not a TLS handshake after all (garbage that began like one)
        for ev in flow.owners or ():
            # Asked now, not when the record is written after the join wait: a short-lived
            # program the wire alone saw (Go, rustls) is gone by then, and its exec path with it.
            self._remember_process(ev.tgid)
        pending = _PendingFlow(flow, now, serial=next(self._serial))
        self._flows[pending.serial] = pending
        self._flows_by_client.setdefault(flow.client, []).append(pending)
        while len(self._flows) > self.max_entries:
            self._drop_flow(next(iter(self._flows.values())))
            self.cache_evictions += 1

    def unclaimed_record(self, flow: WireFlow) -> dict[str, Any]:
        """The record of a wire flow no process view claims (a recorded capture's): what `on_flow`
        and then `drain(final=True)` give for it on a correlator that has seen nothing else,
        without going through the tables (the importer writes one per handshake)."""
        return _as_dict(self._record(None, None, _PendingFlow(flow, flow.first_seen)))

    @property
    def waiting(self) -> bool:
        """Whether any handshake or wire view is still to be written (a drain may have one ready)."""
        return bool(self._active or self._finished or self._flows)

    # --- output ------------------------------------------------------------------------------

    def drain(self, now: float, *, final: bool = False) -> list[dict[str, Any]]:
        """Records that are ready: joined, or waited for long enough (all of them when `final`)."""
        return [_as_dict(values) for values in self._drain(now, final)]

    def drain_json(self, now: float, *, final: bool = False) -> list[str]:
        """The same records as JSON text, as `json.dumps(record, ensure_ascii=False, separators=(", ",
        ": "))` would write them, made from parts shared between records (the sensor writes two per
        handshake, and a dict per record, encoded field by field, was a third of its CPU time)."""
        return [self._renderer.render(values) for values in self._drain(now, final)]

    def _drain(self, now: float, final: bool) -> list[_Values]:
        out: list[_Values] = []
        waiting: set[Endpoint] = set()
        for key, hs in list(self._active.items()):
            hs.settle(now, self.join_wait)
            if not hs.explicit and not hs.finished:
                self._end_by_wire(hs)
            if final or (not hs.finished and now - hs.first_seen >= self.timeout):
                if not hs.finished:
                    self.correlation_timeouts += 1
                hs.done, hs.ended = True, hs.ended or now
            if hs.finished:
                self._retire(key)
            elif (sock := self._socket_of(hs, bind=False)) is not None:
                waiting.add(sock.client)
        for serial, hs in list(self._finished.items()):
            sock = self._socket_of(hs)
            pending = self._flow_of(hs, sock) if sock else None
            if pending is not None and sock is not None:
                out.append(self._record(hs, sock, pending))
                pending.claimed.add(sock.role)
                if len(pending.claimed) == 2:  # both ends have their record: nothing left to join
                    self._drop_flow(pending)
            elif final or now - hs.retired_at >= self.join_wait:
                if sock is not None:
                    self.correlation_timeouts += 1  # its connection is known, yet the wire view never came
                out.append(self._record(hs, sock, None))
            else:
                continue
            del self._finished[serial]
        done: list[_PendingFlow] = []
        for pending in self._flows.values():  # (not copied: thousands wait at a high rate)
            if not final and now - pending.done_at < self.join_wait:
                break  # flows are held in arrival order: the rest are younger still
            held = pending.flow.client in waiting
            if not final and held and now - pending.done_at < self.timeout:
                continue
            if held:
                self.correlation_timeouts += 1
            out.extend(self._wire_records(pending))
            done.append(pending)
        for pending in done:
            self._drop_flow(pending)
        self.handshakes_emitted += len(out)
        self._age(now - 4 * self.timeout)
        return out

    def _end_by_wire(self, hs: _ProbeHandshake) -> None:
        """An implicit handshake's process view has only its start: it is over once the wire view
        of its connection is (whatever that says of its success)."""
        sock = self._socket_of(hs)
        pending = self._flow_of(hs, sock) if sock is not None else None
        if pending is not None:
            wire = pending.flow.handshake
            hs.done, hs.ended = True, wire.completed_at or pending.flow.first_seen

    def _flow_of(self, hs: _ProbeHandshake, sock: _Socket) -> _PendingFlow | None:
        """The waiting wire flow of the handshake's connection: of those from its client endpoint,
        the latest whose ClientHello came before the handshake ended (a later one is the next
        connection from a reused port) and whose end of it has no record yet; to the socket's
        server if one is (Linux gives the same local port to connections to different servers at
        once), else to any (a server behind DNAT is seen on the wire at its public address too)."""
        end = (hs.ended or hs.started) + FLOW_SLACK
        # An explicit client's ClientHello comes after its handshake started. An implicit client's
        # start is its first receive (the ServerHello's), after the ClientHello by the server's
        # whole round trip, which may be long: its ClientHello is looked for as far back as a
        # handshake may wait for its wire view. A server may take up a connection (and its
        # ClientHello) long after it arrived.
        if sock.role != "client":
            start = float("-inf")
        else:
            start = hs.started - (FLOW_SLACK if hs.explicit else self.timeout)
        match = same_server = None
        for pending in self._flows_by_client.get(sock.client, ()):
            # (the process view's sockets are TCP: a QUIC flow from the same address and port is not theirs)
            if start <= pending.flow.first_seen <= end and sock.role not in pending.claimed \
                    and pending.flow.transport == "tcp":
                match = pending
                if pending.flow.server == sock.server:
                    same_server = pending
        return same_server or match

    def _drop_flow(self, pending: _PendingFlow) -> None:
        self._flows.pop(pending.serial, None)
        same = self._flows_by_client.get(pending.flow.client)
        if same is not None:
            if pending in same:
                same.remove(pending)
            if not same:
                del self._flows_by_client[pending.flow.client]

    def _note_socket(self, ev: ProbeEvent, role: str) -> _Socket:
        assert ev.src is not None
        self._remember_process(ev.tgid)
        sock = _Socket(ev.ts, ev.tgid, ev.tid, ev.comm, role, ev.src, ev.dst)
        if ev.fd >= 0:
            history = [*self._sockets.get((ev.tgid, ev.fd), [])[-(SOCKETS_PER_FD - 1) :], sock]
            self._put(self._sockets, (ev.tgid, ev.fd), history)
        self._put(self._by_client, (ev.src, role), sock)
        return sock

    def _taken_socket(self, ev: ProbeEvent) -> _Socket | None:
        """The socket an event carrying an fd names (the kernel looked it up while the fd still
        meant it): bound to that handshake, not guessed later."""
        if ev.src is None or not ev.role:
            return None
        sock = self._note_socket(ev, ev.role)
        sock.taken = True
        return sock

    def _retire(self, key: tuple[int, int]) -> None:
        """A handshake whose process view is complete waits in `_finished` for its wire view."""
        hs = self._active.pop(key, None)
        # The SSL object's fd and SNI belonged to this handshake; a new object at the same address
        # (malloc reuses it, and SSL_free of a finished handshake sends no event) starts clean.
        self._ssl_fds.pop(key, None)
        self._ssl_snis.pop(key, None)
        if hs is not None:
            hs.retired_at = max(self._received, hs.ended or hs.started)
            self._put(self._finished, next(self._serial), hs)

    def _age(self, cutoff: float) -> None:
        """Forget sockets and SSL objects seen long ago: normal ageing, not a loss, so not counted."""
        while self._sockets and next(iter(self._sockets.values()))[-1].seen < cutoff:
            self._sockets.popitem(last=False)
        while self._by_client and next(iter(self._by_client.values())).seen < cutoff:
            self._by_client.popitem(last=False)
        while self._ssl_fds and next(iter(self._ssl_fds.values()))[0] < cutoff:
            self._ssl_fds.popitem(last=False)
        while self._ssl_snis and next(iter(self._ssl_snis.values()))[0] < cutoff:
            self._ssl_snis.popitem(last=False)

    # --- helpers -----------------------------------------------------------------------------

    def _put(self, table: OrderedDict[Any, Any], key: Any, value: Any) -> None:
        table[key] = value
        table.move_to_end(key)
        while len(table) > self.max_entries:
            table.popitem(last=False)
            self.cache_evictions += 1

    def process(self, tgid: int) -> ProcessInfo:
        """What `resolve` said of the process, asked once while the caches hold it."""
        self._remember_process(tgid)
        return self._info[tgid]

    def _remember_process(self, tgid: int) -> None:
        if tgid not in self._info:
            if len(self._info) >= self.max_entries:
                self._info.pop(next(iter(self._info)))
            self._info[tgid] = self.resolve(tgid)

    def _socket_of(self, hs: _ProbeHandshake, *, bind: bool = True) -> _Socket | None:
        """The socket the handshake ran on: the latest one opened on its fd before it started that
        no other handshake has taken. Events from different CPUs arrive out of order, so a socket
        event may come after the handshake's own; until it does, the handshake has no socket."""
        if hs.sock is None and hs.fd is not None:
            for sock in reversed(self._sockets.get((hs.tgid, hs.fd), ())):
                if sock.seen <= hs.started:
                    if sock.taken:
                        return None
                    if bind:
                        sock.taken, hs.sock = True, sock
                    return sock
        return hs.sock

    def _wire_records(self, pending: _PendingFlow) -> list[_Values]:
        """Records for the ends of a flow no probe handshake claimed, attributed to the processes
        that connected and accepted it: as the flow's source found them when it finished, else from
        the sockets the process view noted, else asked of `lookup_owners` now (most TLS connections
        are OpenSSL's at both ends and never need it)."""
        flow = pending.flow
        wanted = [r for r in ("client", "server") if r not in pending.claimed]
        socks: dict[str, _Socket] = {}
        for ev in flow.owners or ():
            role = "client" if ev.kind == Kind.CONNECT else "server"
            if role in wanted and ev.src is not None:
                socks[role] = _Socket(ev.ts, ev.tgid, ev.tid, ev.comm, role, ev.src, ev.dst)
                self._remember_process(ev.tgid)
        for role in wanted if flow.transport == "tcp" else ():  # (the noted sockets are TCP's)
            # A socket noted later than the flow ended is the next connection from a reused port.
            sock = self._by_client.get((flow.client, role))
            if role not in socks and sock is not None and sock.seen <= pending.done_at + FLOW_SLACK:
                socks[role] = sock
        missing = tuple(r for r in wanted if r not in socks)
        if missing and flow.owners is None and self.lookup_owners is not None:
            for ev in self.lookup_owners(flow.client, flow.server, pending.done_at, missing):
                role = "client" if ev.kind == Kind.CONNECT else "server"
                if role in missing and ev.src is not None:
                    socks[role] = self._note_socket(ev, role)
        records = [self._record(None, socks[role], pending) for role in wanted if role in socks]
        if not records and not pending.claimed:
            records.append(self._record(None, None, pending))
        return records

    def _record(self, hs: _ProbeHandshake | None, sock: _Socket | None, pending: _PendingFlow | None) -> _Values:
        tgid = hs.tgid if hs else sock.tgid if sock else None
        info = self._info.get(tgid) if tgid is not None else None
        flow = pending.flow if pending else None
        wire = flow.handshake if flow else None
        ch = wire.client_hello if wire else None
        if pending is not None:
            if pending.fields is None:  # the same for both ends of the connection: made once
                pending.fields = _wire_fields(pending.flow)
            fields = pending.fields
        else:
            fields = _socket_fields(sock)

        if hs is not None:
            started = hs.started
        else:
            started = wire.started_at if wire and wire.started_at else flow.first_seen if flow else 0.0
        # The outcome (success, handshake_ms) is the process view's when SSL_do_handshake told it,
        # else the wire's; an implicit handshake's is always the wire's, and null without it.
        if hs is not None and hs.success is not None:
            success: bool | None = hs.success
            outcome_source: str | None = "uprobe"
        elif fields.wire_success is not None:
            success, outcome_source = fields.wire_success, "wire"
        else:
            success = outcome_source = None
        if hs is not None and hs.explicit and hs.ended is not None:
            handshake_ms: float | None = round((hs.ended - hs.started) * 1000.0, 3)
        else:
            handshake_ms = fields.wire_ms
        sni = ch.sni if ch and ch.sni is not None else hs.sni if hs else None
        if hs and flow:
            source = "uprobe+wire"
        elif hs:
            source = "uprobe"
        else:
            source = "wire"
        role = sock.role if sock else hs.role if hs else None
        return _new_values(_Values, (started, self.host, tgid, hs.tid if hs else sock.tid if sock else None,
                                     hs.comm if hs else sock.comm if sock else None, info, hs is not None,
                                     role, sni, fields, success, handshake_ms, source, outcome_source,
                                     flow.transport if flow else None))


class _Shape(NamedTuple):
    """What was negotiated, as the records say it: the same for every connection of one client
    program to one server, so made once per kind of handshake (see _shape)."""

    values: dict[str, Any]  # tls_version ... pq_hybrid; the lists as tuples (records get their own lists)
    json: str  # the same as JSON text, without braces


class _Fields:
    """A record's wire fields: the connection's endpoints, its shape and the wire's view of its
    outcome. The two records of a connection share them, and their JSON text once a renderer made it."""

    __slots__ = ("dst_ip", "dst_port", "json", "shape", "src_ip", "src_port", "wire_ms", "wire_success")

    def __init__(self, client: Endpoint | None, server: Endpoint | None, shape: _Shape,
                 wire: WireHandshake | None = None) -> None:
        self.src_ip: str | None = client.ip if client else None
        self.src_port: int | None = client.port if client else None
        self.dst_ip: str | None = server.ip if server else None
        self.dst_port: int | None = server.port if server else None
        self.shape = shape
        self.wire_success: bool | None = wire.success if wire else None
        self.wire_ms: float | None = wire.handshake_ms if wire else None
        self.json: str | None = None


class _Values(NamedTuple):
    """What a handshake record says, before it is made a dict or JSON text."""

    started: float
    host: str
    pid: int | None
    tid: int | None
    comm: str | None
    info: ProcessInfo | None
    probed: bool  # the process view saw the handshake, so its library is known
    role: str | None
    sni: str | None
    fields: _Fields
    success: bool | None
    handshake_ms: float | None
    source: str
    outcome_source: str | None  # which view told success (and handshake_ms): "uprobe", "wire", None
    transport: str | None  # the wire view's ("tcp", "quic"); None without one


_new_values = tuple.__new__  # _Values(...) without its generated __new__: two a handshake


def _as_dict(v: _Values) -> dict[str, Any]:
    """The record (the *Runtime JSON lines* contract)."""
    info, fields = v.info, v.fields
    return {
        "type": "handshake",
        "ts": _iso(v.started),
        "host": v.host,
        "pid": v.pid,
        "tid": v.tid,
        "comm": v.comm,
        "exe": info.exe if info else None,
        "library": info.library if info and v.probed else None,
        "library_version": info.library_version if info and v.probed else None,
        "role": v.role,
        "sni": v.sni,
        "src_ip": fields.src_ip,
        "src_port": fields.src_port,
        "dst_ip": fields.dst_ip,
        "dst_port": fields.dst_port,
        **{k: list(x) if isinstance(x, tuple) else x for k, x in fields.shape.values.items()},
        "success": v.success,
        "handshake_ms": v.handshake_ms,
        "source": v.source,
        "outcome_source": v.outcome_source,
        "transport": v.transport,
    }


_encode = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": ")).encode
_LITERALS = {None: "null", True: "true", False: "false"}


class _Renderer:
    """Records as JSON text, byte for byte what `_encode(_as_dict(values))` gives, from parts kept
    between records: the process's fields (per pid, tid and comm), the wire fields (per connection)
    and the strings that recur. Bounded: each cache is emptied when it is full."""

    def __init__(self) -> None:
        self._process: dict[tuple[Any, ...], str] = {}
        self._strings: dict[str | None, str] = {}
        # The last record's time as text: the two wire-only records of a connection share it.
        self._ts: tuple[float, str] = (math.nan, "")

    def render(self, v: _Values) -> str:
        key = (v.host, v.pid, v.tid, v.comm, v.info, v.probed)
        process = self._process.get(key)
        if process is None:
            info = v.info
            process = _encode({
                "type": "handshake", "ts": "", "host": v.host, "pid": v.pid, "tid": v.tid, "comm": v.comm,
                "exe": info.exe if info else None,
                "library": info.library if info and v.probed else None,
                "library_version": info.library_version if info and v.probed else None,
            })[len('{"type": "handshake", "ts": ""'):-1]
            self._process = _bounded(self._process)
            self._process[key] = process
        fields = v.fields.json
        if fields is None:
            fields = v.fields.json = self._fields(v.fields)
        ms = v.handshake_ms
        strings = self._strings
        role = strings.get(v.role) or self._string(v.role)
        sni = strings.get(v.sni) or self._string(v.sni)
        outcome = strings.get(v.outcome_source) or self._string(v.outcome_source)
        transport = strings.get(v.transport) or self._string(v.transport)
        if self._ts[0] != v.started:
            self._ts = (v.started, _iso(v.started))
        return (f'{{"type": "handshake", "ts": "{self._ts[1]}"{process}, "role": {role}, '
                f'"sni": {sni}, {fields}, "success": {_LITERALS[v.success]}, '
                f'"handshake_ms": {"null" if ms is None else float.__repr__(ms)}, "source": "{v.source}", '
                f'"outcome_source": {outcome}, "transport": {transport}}}')

    def _string(self, value: str | None) -> str:
        text = self._strings.get(value)
        if text is None:
            text = _encode(value)
            self._strings = _bounded(self._strings)
            self._strings[value] = text
        return text

    def _fields(self, f: _Fields) -> str:
        return (f'"src_ip": {self._string(f.src_ip)}, "src_port": {"null" if f.src_port is None else f.src_port}, '
                f'"dst_ip": {self._string(f.dst_ip)}, "dst_port": {"null" if f.dst_port is None else f.dst_port}, '
                f"{f.shape.json}")


_CACHE_ENTRIES = 4096


def _bounded(cache: dict[Any, str]) -> dict[Any, str]:
    return cache if len(cache) < _CACHE_ENTRIES else {}


def _wire_fields(flow: WireFlow) -> _Fields:
    """The fields of a handshake record that come from the wire view: the endpoints and what was
    negotiated."""
    wire = flow.handshake
    ch, sh = wire.client_hello, wire.server_hello
    return _Fields(flow.client, flow.server, _shape(
        wire.tls_version, sh.cipher_suite if sh else None, ch.groups if ch else None,
        wire.key_shares_offered if ch else None, wire.negotiated_group, wire.alert_description), wire)


def _socket_fields(sock: _Socket | None) -> _Fields:
    """The same fields for a handshake the wire view never saw: only the endpoints, if known."""
    return _Fields(sock.client if sock else None, sock.server if sock else None, _NOT_SEEN)


@lru_cache(maxsize=1024)
def _shape(tls_version: int | None, suite: int | None, groups: tuple[int, ...] | None,
           shares: tuple[int, ...] | None, negotiated: int | None, alert: int | None) -> _Shape:
    values = {
        "tls_version": version_name(tls_version) if tls_version is not None else None,
        "cipher_suite": cipher_suite_name(suite) if suite is not None else None,
        "groups_offered": _group_names(groups) if groups is not None else None,
        "key_shares_offered": _group_names(shares) if shares is not None else None,
        "negotiated_group": group_name(negotiated) if negotiated is not None else None,
        "pq_hybrid": is_pq_group(negotiated) if negotiated is not None else None,
        "alert": alert_name(alert) if alert is not None else None,
    }
    return _Shape(values, _encode(values)[1:-1])


_NOT_SEEN = _Shape(dict.fromkeys(("tls_version", "cipher_suite", "groups_offered", "key_shares_offered",
                                  "negotiated_group", "pq_hybrid", "alert")),
                   '"tls_version": null, "cipher_suite": null, "groups_offered": null, "key_shares_offered": null, '
                   '"negotiated_group": null, "pq_hybrid": null, "alert": null')


@lru_cache(maxsize=256)
def _group_names(codes: tuple[int, ...]) -> tuple[str, ...]:
    return tuple(group_name(g) for g in codes)


def _iso(ts: float) -> str:
    """UTC time with microseconds, as datetime prints it (written per record, so cached per second)."""
    seconds = math.floor(ts)
    micro = round((ts - seconds) * 1_000_000)
    if micro == 1_000_000:
        seconds, micro = seconds + 1, 0
    return f"{_iso_second(seconds)}.{micro:06d}Z"


@lru_cache(maxsize=64)
def _iso_second(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S")


def endpoint_from_raw(family: int, addr: bytes, port: int) -> Endpoint | None:
    """An Endpoint from the address bytes of a probe event (AF_INET 2, AF_INET6 10)."""
    if family == 2:
        return Endpoint(socket.inet_ntop(socket.AF_INET, addr[:4]), port)
    if family == 10:
        if addr[:12] == _V4_MAPPED:
            return Endpoint(socket.inet_ntop(socket.AF_INET, addr[12:16]), port)
        return Endpoint(socket.inet_ntop(socket.AF_INET6, addr[:16]), port)
    return None


_V4_MAPPED = b"\0" * 10 + b"\xff\xff"
