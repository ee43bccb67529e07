"""The bcc adapter: load bpf/*.c, attach the probes and the packet filter, feed the pure parts.

`capture(options)` is `carnot runtime capture`: it writes the ready line once every probe is
attached, then one JSON line per handshake and a metrics line every few seconds, each written
with a single write() so a killed sensor leaves a valid file, until the duration ends or
SIGINT/SIGTERM. Everything that can be pure (wire.py, reassembly.py, correlate.py) is; this module
only touches bcc, sockets and /proc.
"""

from __future__ import annotations

import ctypes
import gc
import json
import logging
import mmap
import os
import select
import signal
import socket
import struct
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import Path
from typing import Any

from assess.errors import CarnotError
from assess.fsio import pretty_json, write_atomic
from assess.resources import ResourceError, resource
from assess.sources.runtime.cgrouplink import CgroupLink, loopback_view_problem, netns_cookie, possible_cpus
from assess.sources.runtime.correlate import Correlator, Kind, ProbeEvent, ProcessInfo, WireFlow
from assess.sources.runtime.ippacket import V4_MAPPED, Datagram, Defragmenter, Fragment, ip_bytes, ip_text, parse
from assess.sources.runtime.kernel_btf import struct_offsets
from assess.sources.runtime.libraries import Library, describe_library, find_libssl
from assess.sources.runtime.packetring import PacketRing
from assess.sources.runtime.probepoints import probe_point
from assess.sources.runtime.quic_wire import QuicReader, first_client_initial
from assess.sources.runtime.readiness import sensor_readiness, socket_io_tracepoints
from assess.sources.runtime.reassembly import DISCARD_AFTER, Connection, Endpoint, Reassembler, connection_key
from assess.sources.runtime.ringbuf import RingBuffer
from assess.sources.runtime.ssh_record import ssh_record
from assess.sources.runtime.ssh_wire import SshFlow, SshReader, looks_like_ssh
from assess.sources.runtime.wire import (
    NO_BYTES,
    ServerHello,
    StreamView,
    WireHandshake,
    summarise_client_side,
)
from assess.tlsnames import TLS1_3

log = logging.getLogger(__name__)

DRAIN_INTERVAL = 0.1  # seconds between passes of the correlator over what is waiting
# The sensor works in batches: it wakes every POLL_MS while handshakes are coming in or waiting to
# be joined, every IDLE_POLL_MS once nothing is, and sooner when a CPU has written WAKEUP_EVENTS
# records to a ring (capped so that every CPU together fill at most a quarter of it), when a process
# writes its first event, or when a packet ring hands a block over; never once per event. Each
# wake-up is paid for by the observed program that wrote the record, so fewer cost it less; and even
# an idle sensor's wake-ups can cost a busy host's programs far more than the sensor's CPU time (see
# Priority, and docs/RUNTIME.md, "Idle wake-ups and SCHED_IDLE").
POLL_MS = 100
IDLE_POLL_MS = 1000
RETIRE_MS = 50  # a packet ring hands a block over this long after its first packet, at the latest
WAKEUP_EVENTS = 1024
MAX_SUPERSEDED = 4096  # connections set aside for a summary when a new one reused their ports
HELLO_MAX = 2048  # the largest ClientHello segment the socket filter holds for its summary
# ClientHellos the socket filter holds longer than this (a slow server, a connection it lost track
# of) are taken by user space and go the way of passed segments (checked every HELD_SWEEP_S).
HELLO_HOLD_MAX_S = 1.0
PRIORITIES = ("auto", "idle", "normal")
# --priority auto: a pass over the kernel's rings that took this much of the sensor's CPU or more
# puts it under SCHED_IDLE; one that took under AUTO_NORMAL_MS puts it back to normal priority.
AUTO_IDLE_MS = 2.0
AUTO_NORMAL_MS = 0.5

# (symbol, entry function, return function or None, argument registers the entry function reads):
# the OpenSSL functions the sensor watches. Each is called a few times per connection, none per read
# or write: SSL_read/SSL_write are not probed (see bpf/tls_probes.c).
UPROBES: tuple[tuple[str, str, str | None, int], ...] = (
    ("SSL_do_handshake", "handshake_enter", "handshake_return", 1),
    ("SSL_set_connect_state", "set_connect_state_enter", None, 1),
    ("SSL_set_accept_state", "set_accept_state_enter", None, 1),
    ("SSL_ctrl", "ssl_ctrl_enter", None, 4),
    ("SSL_set_fd", "ssl_set_fd_enter", None, 2),
    ("SSL_free", "ssl_free_enter", None, 1),
)
_KINDS = {kind.value: kind for kind in Kind}  # (a dict lookup: `Kind(n)` costs a call into enum)
_ROLES = {1: "client", 2: "server"}  # sock_t.role in bpf/tls_probes.c
_ROLE_UDP = 3  # owner_by_client's role of a UDP socket's local port (bpf/tls_probes.c, ROLE_UDP)
_ANY_ADDRESS = bytes(16)
MAX_QUIC_CONNECTIONS = 4096  # QUIC handshakes in progress held at once (the oldest is let go)
# event_t.flags in bpf/tls_probes.c: the event carries an fd (and socket), an SNI; it is a start
# event the kernel held until its handshake succeeded (at done_ns), so it stands for two events;
# the SSL object was set to be a client (SSL_set_connect_state) or a server before it started.
_E_FD, _E_SNI, _E_DONE, _E_CLIENT, _E_SERVER = 1, 2, 4, 8, 16
# Start events the kernel holds longer than this are taken by user space (checked every HELD_SWEEP_S):
# a handshake in progress must be known before its wire view is joined (the correlator's join_wait).
HELD_MAX_S = 0.5
HELD_SWEEP_S = 0.25
RTMGRP_LINK = 1
IFACE_SCAN_S = 1.0  # without --iface, how often the sensor looks for interfaces new since it started
EXITED_KEEP_S = 1.0  # how long an exited TLS or SSH process's exec path is kept after its exit event, past
# the correlator's join wait
# struct event_t of bpf/tls_probes.c up to its SNI buffer (EVENT_SIZE_NO_SNI); checked at attach.
_EVENT_FIELDS = (("ts_ns", "Q"), ("done_ns", "Q"), ("ssl", "Q"), ("ret", "q"), ("tgid", "I"), ("tid", "I"),
                 ("kind", "H"), ("flags", "H"), ("fd", "i"), ("family", "H"), ("sport", "H"), ("dport", "H"),
                 ("sni_len", "H"), ("saddr", "16s"), ("daddr", "16s"), ("comm", "16s"))
_EVENT = struct.Struct("<" + "".join(code for _, code in _EVENT_FIELDS))
_dumps = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": ")).encode
_TCP_PORTS_SEQ = struct.Struct("!HHI")
# struct owner_key / owner_t of bpf/tls_probes.c and struct flow_key of bpf/tls_wire.c; checked at attach.
# Addresses are 16 bytes, IPv4 mapped; the flow key holds them as four words in host order (_flow_words).
_OWNER_KEY = ("16s", "16s", "H", "H", "H", "H")  # client, server (or zeros), client port, role, server port
_OWNER = ("Q", "I", "I", "i", "I", "16s")
_FLOW_KEY = ("16s", "16s", "H", "H")
# struct wire_end_t of bpf/tls_wire.c: a handshake the socket filter summarised; checked at attach.
# Its client and server addresses are 16 bytes (IPv4 mapped); it ends with the owner_t of the client
# and of the server (tgid 0: not known), then when the ClientHello that follows it arrived, its
# length (0: none follows) and the alert that ended the handshake (its AlertDescription + 1; 0:
# none, or not known).
_WIRE_END = ("Q", "16s", "16s", "H", "H", "H", "H", "H", "H", "I", *_OWNER, *_OWNER, "Q", "I", "I")
_WIRE_END_OWNERS = ((10, Kind.CONNECT), (10 + len(_OWNER), Kind.ACCEPT))  # where each owner starts
_HELLO_NS = 10 + 2 * len(_OWNER)  # where hello_ns and hello_len are
# struct wire_packet_t of bpf/tls_wire.c, before its bytes: when loopback's cgroup program passed a
# packet (CLOCK_MONOTONIC ns), the packet's length and how much of it follows.
_WIRE_PACKET = struct.Struct("<QII")



class WireOutcome(IntEnum):
    """How a handshake the socket filter summarised ended (END_* in bpf/tls_wire.c)."""

    FINISHED = 1  # the client's first encrypted record, its Finished
    ENCRYPTED_ALERT = 2  # that record was an alert instead (a refused certificate)
    ALERT = 3  # a plaintext alert from either side
    CLOSED = 4  # FIN or RST before it finished
    UNEXPECTED = 5  # a plaintext handshake record from the client after the ServerHello
    BUDGET = 6  # the connection's segment budget ran out first
    PASSED = 7  # not a summary: the ClientHello the filter held, handed over as the first segment


class SensorUnavailable(CarnotError):
    """The sensor cannot run on this machine; the message says why."""


class RawMap:
    """Lookups and deletes in a BPF map through libbcc's C calls on preallocated buffers.

    bcc's Python tables build a ctypes key object per access; the sensor asks once or twice per
    connection, so it packs bytes with a precompiled struct instead. The layouts are checked field
    by field against the ctypes classes bcc derived from the C source: a change there fails at attach.
    """

    def __init__(self, bpf: Any, name: str, key: tuple[str, ...], leaf: tuple[str, ...] | None = None) -> None:
        from bcc.libbcc import lib

        table = bpf[name]
        self._lib, self._fd = lib, table.map_fd
        self._key = _layout(name, "key", table.Key, key)
        self._leaf = _layout(name, "value", table.Leaf, leaf) if leaf else None
        self._key_buf = ctypes.create_string_buffer(self._key.size)
        self._leaf_buf = ctypes.create_string_buffer(self._leaf.size if self._leaf else 1)

    def get(self, *key: Any) -> tuple[Any, ...] | None:
        assert self._leaf is not None
        self._key.pack_into(self._key_buf, 0, *key)
        if self._lib.bpf_lookup_elem(self._fd, self._key_buf, self._leaf_buf) != 0:
            return None
        return self._leaf.unpack_from(self._leaf_buf)

    def delete(self, *key: Any) -> None:
        self._key.pack_into(self._key_buf, 0, *key)
        self._lib.bpf_delete_elem(self._fd, self._key_buf)


def _layout(table: str, what: str, ctype: Any, codes: tuple[str, ...]) -> struct.Struct:
    """A little-endian struct of `codes` (one per C field, no implicit padding), checked field by
    field against the ctypes class bcc derived from the C source."""
    layout = struct.Struct("<" + "".join(codes))
    wanted = _offsets(codes)
    actual = [getattr(ctype, name).offset for name, *_ in getattr(ctype, "_fields_", ())]
    if actual != wanted or layout.size != ctypes.sizeof(ctype):
        raise SensorUnavailable(f"map {table!r}: its {what} has field offsets {actual} ({ctypes.sizeof(ctype)} "
                                f"bytes), the decoder {wanted} ({layout.size} bytes); sensor.py needs updating")
    return layout


def _offsets(codes: Iterable[str]) -> list[int]:
    """Where each field of a packed little-endian struct of these codes starts."""
    codes = list(codes)
    return [struct.calcsize("<" + "".join(codes[:i])) for i in range(len(codes))]


@dataclass(frozen=True)
class CaptureOptions:
    out: Path
    duration: float | None = None
    pid: int | None = None
    ifaces: tuple[str, ...] = ()
    metrics_interval: float = 5.0
    perf_pages: int = 1024  # per CPU, a power of two
    priority: str = "auto"  # see Priority: "auto", "idle" (SCHED_IDLE) or "normal"
    packet_ring_bytes: int = 8 << 20  # the PACKET_MMAP ring of each packet socket
    max_flow_packets: int = 1024  # segments per connection passed to user space before it gives up
    # TLS 1.3 handshakes whose ServerHello is whole in one segment are summarised by the socket
    # filter (one small event instead of the server's and the client's last segments); False
    # passes every segment to user space, as for everything else.
    wire_summary: bool = True
    # Loopback's wire view: "cgroup", the socket filter as a cgroup skb program on the receiving
    # sockets (no packet socket on lo; falls back to one where the host has no cgroup v2 or refuses
    # the program), or "packet", a packet socket like every other interface's.
    loopback_view: str = "cgroup"
    # The OpenSSL uprobes (the process view of each handshake's calls). False: none is attached, and
    # each handshake is reported from the wire alone, its processes from the socket tracepoints: no
    # probe is hit in any TLS program, at the price of what only the calls tell (docs/RUNTIME.md,
    # *Without uprobes*).
    uprobes: bool = True
    join_wait: float = 2.0
    timeout: float = 15.0


@dataclass
class Counters:
    probe_events: int = 0
    packets: int = 0
    perf_lost: int = 0
    packet_drops: int = 0
    wire_flows: int = 0
    wire_not_tls: int = 0
    wire_timeouts: int = 0
    wire_summaries: int = 0  # handshakes the socket filter summarised (wire_ends events)
    ssh_flows: int = 0  # SSH connections whose key exchange was written as an `ssh` line
    quic_flows: int = 0  # QUIC connections with a ClientHello, handed to the correlator
    # Threads the kernel side holds as in, or armed for, a handshake, and accepted TCP sockets no
    # process has yet done I/O on: while either is above 0 every socket send and receive on the host
    # does one more lookup (see tls_probes.c's on_sock_io).
    armed_threads: int = 0
    unclaimed_sockets: int = 0

    @property
    def events_received(self) -> int:
        return self.probe_events + self.packets + self.wire_summaries

    @property
    def kernel_drops(self) -> int:
        return self.perf_lost + self.packet_drops


def executable_of(filename: str, *, depth: int = 4) -> str | None:
    """The program a process runs, from the path it was executed by (when /proc no longer has it):
    symlinks resolved, as /proc/PID/exe has them, and a `#!` script's interpreter followed, as the
    kernel does (up to four levels). None for a path that cannot be read back from here: relative
    (the process's working directory is unknown) or a descriptor's (/dev/fd, /proc)."""
    if not filename.startswith("/") or filename.startswith(("/dev/fd/", "/proc/")):
        return None
    path = os.path.realpath(filename)
    try:
        with open(path, "rb") as fh:
            head = fh.read(256)
    except OSError:
        return path  # gone or unreadable since: the path it ran from is what there is
    if depth > 0 and head.startswith(b"#!"):
        words = head[2:].split(b"\n", 1)[0].split()
        if words:
            return executable_of(os.fsdecode(words[0]), depth=depth - 1)
    return path


class ProcessResolver:
    """exe and TLS library of a process, read from /proc while it is alive. A process already gone
    keeps the exe it was executed as (`exec_path`, from the kernel's exec tracepoint), and the
    library only where the probes are attached to one."""

    def __init__(self, libraries: list[Library], exec_path: Callable[[int], str | None] = lambda _: None) -> None:
        self.libraries = {lib.path: lib for lib in libraries}
        self.exec_path = exec_path

    def __call__(self, tgid: int) -> ProcessInfo:
        try:
            exe: str | None = os.readlink(f"/proc/{tgid}/exe")
        except OSError:
            executed = self.exec_path(tgid)
            exe = executable_of(executed) if executed else None
        if not self.libraries:
            return ProcessInfo(exe, None, None)  # (nothing probed: no library to tell, --no-uprobes)
        lib = None
        try:
            with open(f"/proc/{tgid}/maps", errors="replace") as fh:
                for line in fh:
                    path = line.rsplit(maxsplit=1)[-1] if "/libssl.so" in line else None
                    if path and os.path.realpath(path) in self.libraries:
                        lib = self.libraries[os.path.realpath(path)]
                        break
        except OSError:
            pass
        if lib is None and len(self.libraries) == 1:
            lib = next(iter(self.libraries.values()))  # the only file the uprobes are attached to
        return ProcessInfo(exe, lib.name if lib else None, lib.version if lib else None)


def _syscall_io() -> bool:
    """Whether to build the programs' pre-6.3 variant, which watches socket I/O at every system call's
    entry (bpf/tls_probes.c, SYSCALL_IO): when the kernel has no socket I/O tracepoints, or when
    CARNOT_SENSOR_IO=syscall asks for it (to test that variant on a newer kernel)."""
    forced = os.environ.get("CARNOT_SENSOR_IO", "")
    if forced not in ("", "sock", "syscall"):
        raise SensorUnavailable(f"CARNOT_SENSOR_IO={forced!r}: expected 'sock' or 'syscall'")
    return forced == "syscall" or (not forced and not socket_io_tracepoints())


def _check_event_layout(event_class: Any) -> None:
    """`_EVENT` must describe bpf/tls_probes.c's struct event_t exactly; bcc knows the real layout."""
    offsets = [getattr(event_class, name).offset for name, _ in _EVENT_FIELDS]
    expected = _offsets(code for _, code in _EVENT_FIELDS)
    if offsets != expected or event_class.sni.offset != _EVENT.size:
        raise SensorUnavailable(f"struct event_t does not match the decoder: offsets {offsets}, sni at "
                                f"{event_class.sni.offset}; sensor.py's _EVENT needs updating")


def _source(name: str) -> str:
    try:
        path = resource(f"bpf/{name}")
    except ResourceError as e:
        raise SensorUnavailable(e.message, path=e.path) from e
    try:
        return path.read_text()
    except OSError as e:
        raise SensorUnavailable(f"cannot read the eBPF program: {e.strerror}", path=path) from e


@dataclass
class Sensor:
    """The live sensor: probes and packet sockets in, handshake records out through a Correlator."""

    options: CaptureOptions
    correlator: Correlator
    counters: Counters = field(default_factory=Counters)
    libraries: list[Library] = field(default_factory=list)
    probes: list[str] = field(default_factory=list)
    single_stepped: list[str] = field(default_factory=list)  # uprobes the kernel cannot emulate (slow)

    def __post_init__(self) -> None:
        self._bpf: Any = None
        # The packet rings by (interface index, name): 0 for an interface named by --iface, which
        # is never looked for again.
        self._rings: dict[tuple[int, str], PacketRing] = {}
        self._filter_fd = -1
        self._next_iface_scan = 0.0
        self._links: socket.socket | None = None  # the kernel's link notifications (RTMGRP_LINK)
        self._event_ring: RingBuffer | None = None
        self._wire_ring: RingBuffer | None = None
        # Loopback's wire view as a cgroup skb program (CaptureOptions.loopback_view): its link and
        # the ring of the packets it passes; None where loopback has a packet socket instead.
        self._loopback: CgroupLink | None = None
        self._loopback_ring: RingBuffer | None = None
        self._loopback_cgroup: Path | None = None
        self._ring_stats: Any = None
        self._epoll: select.epoll | None = None
        self._reassembler = Reassembler(max_bytes=65536)
        self._defragmenter = Defragmenter()
        self._clock_offset = time.time() - time.monotonic()
        # When the last poll began to read the kernel's rings: whatever the kernel wrote before it is
        # in hand. Joins wait by it, not by the clock at the time of the wait: a sensor that was kept
        # off the CPU for seconds between reading one ring and the next (SCHED_IDLE on a saturated
        # host) would otherwise give up on the other view of a handshake before it had read it.
        self.read_at = time.time()
        self._flow_table: Any = None
        self._batch: list[ProbeEvent] = []
        self._owner_table: Any = None
        self._comms: dict[bytes, str] = {}
        self._ips: dict[bytes, str] = {}
        self._wire_end: struct.Struct | None = None
        self._held: Any = None
        self._hellos: Any = None
        self._exec_paths: Any = None
        self._exited: deque[tuple[int, float]] = deque()  # processes whose exit event came, and when
        self._next_sweep = 0.0
        self._packets: list[tuple[bytes, float]] = []
        # Summaries from the socket filter, with when they were received, until their ClientHello
        # (passed through a packet ring, so possibly a little later) is there to join.
        self._summaries: deque[tuple[tuple[Any, ...], float]] = deque()
        # Connections a new one on the same ports replaced in reassembly before their summary came.
        self._superseded: OrderedDict[tuple[Endpoint, Endpoint], list[Connection]] = OrderedDict()
        # Connections that opened with an SSH banner: their reader, and their client and server ends.
        self._ssh: dict[tuple[Endpoint, Endpoint], tuple[SshReader, Endpoint, Endpoint]] = {}
        self._quic: OrderedDict[tuple[Endpoint, Endpoint], _QuicConnection] = OrderedDict()
        self.lines: list[str] = []  # `ssh` lines ready to be written

    # --- setup -------------------------------------------------------------------------------

    def attach(self) -> None:
        try:
            from bcc import BPF  # Debian's python3-bpfcc; PyPI's `bcc` is another project
        except ImportError as e:
            raise SensorUnavailable("the bcc Python module is not importable (install python3-bpfcc)") from e
        # Both rings (probe events; the socket filter's summaries) have --buffer-pages per CPU. A
        # CPU wakes the sensor once it has filled a quarter of a ring divided among the CPUs: every
        # 1024 events at most, every few hundred summaries with the largest ClientHello by default.
        cpus = os.cpu_count() or 1
        ring = _power_of_two(self.options.perf_pages * cpus) * mmap.PAGESIZE
        record = _EVENT.size + 8  # an event without its SNI, with the ring's record header
        wakeup = max(1, min(WAKEUP_EVENTS, ring // 4 // cpus // record))
        wire_wakeup = max(1, ring // 4 // cpus // (struct.calcsize("<" + "".join(_WIRE_END)) + HELLO_MAX + 8))
        cflags = [f"-DMAX_PACKETS={self.options.max_flow_packets}", f"-DSUMMARISE={int(self.options.wire_summary)}",
                  f"-DEVENT_RING_PAGES={ring // mmap.PAGESIZE}",
                  f"-DWIRE_RING_PAGES={ring // mmap.PAGESIZE}", f"-DWAKEUP_EVERY={wakeup}",
                  f"-DWIRE_WAKEUP_EVERY={wire_wakeup}",
                  f"-DHELLO_MAX={HELLO_MAX}"]
        if self.options.pid is not None:
            cflags.append(f"-DFILTER_TGID={self.options.pid}")
        syscall_io = _syscall_io()
        if syscall_io:
            cflags.append("-DSYSCALL_IO")
            log.warning("this kernel has no sock:sock_recv_length (Linux before 6.3): socket I/O is watched at "
                        "every system call's entry, which costs every system call on the host")
        offsets = struct_offsets()
        if offsets is None and syscall_io:
            log.warning("no kernel BTF (or no libbpf) on a kernel before 6.3: no socket is known from its I/O, so "
                        "implicit handshakes are missed and accepted connections and QUIC ports have no process")
        elif offsets is None:
            log.warning("no kernel BTF (or no libbpf): QUIC connections are reported without their processes, and "
                        "the socket SSL_set_fd names is not known in the kernel")
        cflags.extend(f"-D{macro}={offset}" for macro, offset in (offsets or {}).items())
        try:
            cflags.append(f"-DLOOPBACK_IFINDEX={socket.if_nametoindex('lo')}")
        except OSError:
            pass
        cflags += self._loopback_cflags()
        text = _source("tls_probes.c") + "\n" + _source("tls_wire.c")
        try:
            self._bpf = BPF(text=text, cflags=cflags)
        except Exception as e:  # bcc raises bare Exceptions for compile and load failures
            raise SensorUnavailable(f"the eBPF programs did not load: {e}") from e
        # bcc attaches every TRACEPOINT_PROBE the preprocessed source has as it loads it
        self.probes = [f"tracepoint:{tp.decode()}" for tp in self._bpf.tracepoint_fds]
        self.probes += [f"raw_tracepoint:{tp.decode()}" for tp in self._bpf.raw_tracepoint_fds]
        # The libssl files probed (none under --no-uprobes)
        self.libraries = [describe_library(p) for p in find_libssl(self.options.pid)] if self.options.uprobes else []
        pid = self.options.pid if self.options.pid is not None else -1
        for lib in self.libraries:
            for sym, enter, ret, args in UPROBES:
                self._attach_uprobe(lib.path, sym, enter, ret, args, pid)
        events, wire_ends = self._bpf["events"], self._bpf["wire_ends"]
        _check_event_layout(self._bpf["event_layout"].Leaf)
        self._wire_end = _layout("wire_ends", "event", self._bpf["wire_end_layout"].Leaf, _WIRE_END)
        self._held = self._bpf["held"]
        self._hellos = self._bpf["hellos"]
        self._exec_paths = self._bpf["exec_paths"]
        if ctypes.sizeof(self._hellos.Leaf) != self._wire_end.size + HELLO_MAX:
            raise SensorUnavailable(f"struct hello_t is {ctypes.sizeof(self._hellos.Leaf)} bytes, the decoder "
                                    f"expects {self._wire_end.size + HELLO_MAX}; sensor.py needs updating")
        self._ring_stats = self._bpf["ring_stats"]
        self._epoll = select.epoll()
        try:
            self._event_ring = RingBuffer(events.map_fd, ring)
            self._wire_ring = RingBuffer(wire_ends.map_fd, ring)
        except OSError as e:
            raise SensorUnavailable(f"cannot map the sensor's ring buffers: {e.strerror}") from e
        for table in (events, wire_ends):
            self._epoll.register(table.map_fd, select.EPOLLIN)
        self._flow_table = RawMap(self._bpf, "flows", _FLOW_KEY)
        self._owner_table = RawMap(self._bpf, "owner_by_client", _OWNER_KEY, _OWNER)
        self._attach_loopback(ring)
        self._open_packet_sockets()

    def _watches_loopback(self) -> bool:
        return not self.options.ifaces or "lo" in self.options.ifaces

    def _loopback_cflags(self) -> list[str]:
        """The build of the loopback view as a cgroup skb program, where it is wanted and the host has
        what it needs (a cgroup v2 hierarchy, network namespace cookies); none otherwise."""
        if self.options.loopback_view != "cgroup" or not self._watches_loopback():
            return []
        root, problem = loopback_view_problem()
        if root is None:
            log.warning("%s: loopback is watched by a packet socket, which costs every loopback packet more", problem)
            return []
        self._loopback_cgroup = root
        return [f"-DWIRE_NETNS_COOKIE={netns_cookie()}ULL", f"-DSCRATCH_CPUS={possible_cpus()}"]

    def _attach_loopback(self, ring: int) -> None:
        """Loopback's wire view as a cgroup skb program on the root of the cgroup v2 hierarchy, where
        it was built; if the kernel refuses it, loopback gets a packet socket like the rest."""
        if self._loopback_cgroup is None:
            return
        from bcc import BPF

        packets = self._bpf["wire_packets"]
        try:
            fd = self._bpf.load_func("tls_wire_cgroup", BPF.CGROUP_SKB).fd
            self._loopback_ring = RingBuffer(packets.map_fd, ring)
            self._loopback = CgroupLink(fd, self._loopback_cgroup)
        except Exception as e:  # bcc raises bare Exceptions; OSError from the ring or the link
            log.warning("loopback's wire view cannot be a cgroup program (%s): it is a packet socket instead", e)
            if self._loopback_ring is not None:
                self._loopback_ring.close()
                self._loopback_ring = None
            return
        assert self._epoll is not None
        self._epoll.register(packets.map_fd, select.EPOLLIN)
        self.probes.append(f"cgroup_skb/ingress:{self._loopback_cgroup}:lo")

    def _attach_uprobe(self, path: str, sym: str, enter: str, ret: str | None, args: int, pid: int) -> None:
        """Probe `sym` where the kernel emulates the instruction (see probepoints.py), at its entry
        when there is no such place; the entry and return programs share the point."""
        found = probe_point(path, sym, args=args, return_probe=ret is not None)
        try:
            if found is None:  # not in the dynamic symbol table as a function: let bcc resolve it
                self._bpf.attach_uprobe(name=path, sym=sym, fn_name=enter, pid=pid)
                if ret:
                    self._bpf.attach_uretprobe(name=path, sym=sym, fn_name=ret, pid=pid)
            else:
                address, point = found
                self._bpf.attach_uprobe(name=path, addr=address + point.offset, fn_name=enter, pid=pid)
                if ret:
                    self._bpf.attach_uretprobe(name=path, addr=address + point.offset, fn_name=ret, pid=pid)
        except Exception as e:  # bcc raises bare Exceptions
            log.warning("cannot probe %s in %s: %s", sym, path, e)
            return
        where = f"+0x{point.offset:x}" if found and point.offset else ""
        self.probes.append(f"uprobe:{path}:{sym}{where}")
        if found is None or not point.emulated:
            self.single_stepped.append(f"{path}:{sym}")
            log.debug("%s in %s is single-stepped: %s", sym, path, point.reason if found else "no symbol size")

    def _open_packet_sockets(self) -> None:
        """A packet ring per interface named by --iface; without one, a ring per interface the host
        has, looked for again every IFACE_SCAN_S (see PacketRing: a socket bound to no interface
        would cost every packet loopback sends a copy). Loopback's takes only the packets it
        receives, which are all it sends."""
        from bcc import BPF

        self._filter_fd = self._bpf.load_func("tls_wire", BPF.SOCKET_FILTER).fd
        if self.options.ifaces:
            for iface in self.options.ifaces:
                if iface == "lo" and self._loopback is not None:
                    continue
                self._rings[(0, iface)] = self._open_ring(iface)
                self.probes.append(f"socket_filter:{iface}")
            return
        # The kernel says when an interface comes or goes (a container's veth, a VPN's tun): the
        # scan then runs at the next wake-up, which the message itself causes.
        try:
            self._links = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_NONBLOCK,
                                        socket.NETLINK_ROUTE)
            self._links.bind((0, RTMGRP_LINK))
            assert self._epoll is not None
            self._epoll.register(self._links.fileno(), select.EPOLLIN)
        except OSError as e:
            log.debug("no link notifications (%s): interfaces are looked for every %s s", e, IFACE_SCAN_S)
            self._links = None
        self._scan_interfaces(starting=True)
        self.probes.append("socket_filter:any")

    def _open_ring(self, iface: str) -> PacketRing:
        try:
            ring = PacketRing(iface, self._filter_fd, self.options.packet_ring_bytes, retire_ms=RETIRE_MS,
                              incoming_only=iface == "lo")
        except OSError as e:
            raise SensorUnavailable(f"cannot capture on interface {iface}: {e.strerror}") from e
        ring.drain(None)  # packets caught while the ring was being set up
        ring.stats()
        return ring

    def _links_changed(self) -> bool:
        """Whether the kernel has said an interface came, went or changed since the last call."""
        changed = False
        while self._links is not None:
            try:
                self._links.recv(65536)
            except BlockingIOError:
                break
            except OSError:  # (ENOBUFS: messages were lost; a scan finds what they said)
                pass
            changed = True
        return changed

    def _scan_interfaces(self, *, starting: bool = False) -> None:
        """Open a ring on each interface that has none, and close those of interfaces gone (or
        renamed: an index names a new interface once its old one is gone)."""
        self._next_iface_scan = time.monotonic() + IFACE_SCAN_S
        present = set(socket.if_nameindex())
        if self._loopback is not None:
            present = {key for key in present if key[1] != "lo"}
        for key in self._rings.keys() - present:
            ring = self._rings.pop(key)
            self.counters.packets += ring.drain(self._keep_packet)
            self.counters.packet_drops += ring.stats()[1]
            ring.close()
        for key in present - self._rings.keys():
            try:
                self._rings[key] = self._open_ring(key[1])
            except SensorUnavailable as e:
                if starting:
                    raise
                log.debug("%s", e)  # (an interface gone again since the scan)

    def close(self) -> None:
        if self._loopback is not None:
            self._loopback.close()
            self._loopback = None
        for ring in self._rings.values():
            self.counters.packet_drops += ring.stats()[1]
            ring.close()
        self._rings = {}
        if self._links is not None:
            self._links.close()
            self._links = None
        if self._ring_stats is not None:
            self._read_ring_losses()
            self._ring_stats = None
        self._read_pending()
        for buffer in (self._event_ring, self._wire_ring, self._loopback_ring):
            if buffer is not None:
                buffer.close()
        self._event_ring = self._wire_ring = self._loopback_ring = None
        if self._epoll is not None:
            self._epoll.close()
            self._epoll = None
        if self._bpf is not None:
            self._held = self._hellos = self._exec_paths = None
            self._bpf.cleanup()
            self._bpf = None

    # --- the loop ----------------------------------------------------------------------------

    def wake_on(self, fd: int) -> None:
        """End the wait of every later poll as soon as `fd` becomes readable (it is not read)."""
        assert self._epoll is not None
        if fd >= 0:
            self._epoll.register(fd, select.EPOLLIN | select.EPOLLET)

    def poll(self, timeout_ms: int) -> int:
        """Wait up to `timeout_ms` for the kernel side, then take in what it has; returns how many
        records (events, packets, socket filter's records) came in."""
        # Kernel times are CLOCK_MONOTONIC, packet times wall-clock: the offset between the two is
        # taken anew each poll, so a step of the wall clock does not skew the join by time for long.
        self._clock_offset = time.time() - time.monotonic()
        assert self._epoll is not None and self._event_ring is not None and self._wire_ring is not None
        if timeout_ms > 0:
            self._epoll.poll(timeout_ms / 1000)
        self.read_at = time.time()
        # The packet rings are read before the filter's ring: a ClientHello it held and then handed
        # over (WireOutcome.PASSED) is in its ring before any packet passed after it, so it reaches
        # reassembly first.
        if not self.options.ifaces and (self._links_changed() or time.monotonic() >= self._next_iface_scan):
            self._scan_interfaces()
        taken = 0
        for ring in self._rings.values():
            taken += ring.drain(self._keep_packet)
        if self._loopback_ring is not None:
            taken += self._loopback_ring.drain(self._on_loopback_packet)
        self.counters.packets += taken
        taken += self._event_ring.drain(self._on_event)
        taken += self._wire_ring.drain(self._on_wire_end)
        if (now := time.monotonic()) >= self._next_sweep:
            self._next_sweep = now + HELD_SWEEP_S
            cutoff = time.monotonic_ns() - int(HELD_MAX_S * 1e9)
            self._take_held(lambda _, ts_ns: ts_ns < cutoff)
            hello_cutoff = time.monotonic_ns() - int(HELLO_HOLD_MAX_S * 1e9)
            self._take_hellos(lambda ts_ns: ts_ns < hello_cutoff)
        # The ring holds events in the order they were written, but each takes its time before
        # that, and held start events (and those taken from the kernel above) come late: one
        # poll's events are put back in time order before they are joined.
        self._batch.sort(key=lambda p: p.ts)
        received = self.read_at
        debug = log.isEnabledFor(logging.DEBUG)
        for probe in self._batch:
            if debug:
                log.debug("probe %s", probe)
            self.correlator.on_probe(probe, received)
        self._batch.clear()
        for data, ts in self._packets:
            self._on_packet(data, ts)
        self._packets.clear()
        self._join_summaries(self.read_at)
        self._forget_exited()
        self._expire_flows(self.read_at)
        return taken

    def flush(self) -> None:
        """Take in everything the kernel side holds: a packet ring hands over its current block only
        `RETIRE_MS` after the block's first packet, so the last packets before a stop would be lost
        (and their handshakes reported without a ClientHello) if the sensor did not wait for it."""
        if self._rings:
            time.sleep(2 * RETIRE_MS / 1000)
        self.poll(0)

    def read_drops(self) -> None:
        for ring in self._rings.values():
            self.counters.packet_drops += ring.stats()[1]
        self._read_ring_losses()
        self._read_pending()

    def _read_pending(self) -> None:
        if self._bpf is not None:
            pending = self._bpf["pending_counts"][ctypes.c_int(0)]
            self.counters.armed_threads = int(pending.armed)
            self.counters.unclaimed_sockets = int(pending.unclaimed)

    def _read_ring_losses(self) -> None:
        """Records the BPF programs could not write because a ring was full (they count them)."""
        if self._ring_stats is not None:
            self.counters.perf_lost = sum(int(v) for v in self._ring_stats[ctypes.c_int(0)])

    def ready_lines(self) -> list[str]:
        """The records ready to write: joined, or waited for long enough, by the last poll's reading
        of the rings (`read_at`), and the `ssh` lines made since the last call."""
        return self.correlator.drain_json(self.read_at) + self.take_lines()

    def take_lines(self) -> list[str]:
        """The `ssh` lines made since the last call (the correlator makes the handshake lines)."""
        lines, self.lines = self.lines, []
        return lines

    def finish(self) -> None:
        """Hand every connection still in reassembly to the correlator."""
        self._take_held(lambda _tgid, _ts: True)
        self._take_hellos(lambda _ts: True)
        self._batch.sort(key=lambda p: p.ts)
        now = time.time()
        for probe in self._batch:
            self.correlator.on_probe(probe, now)
        self._batch.clear()
        self._join_summaries(time.time(), final=True)
        self._expire_flows(float("inf"))

    # --- probe events ------------------------------------------------------------------------

    def _on_event(self, data: Any, start: int, size: int) -> None:
        # Decoded in place with one precompiled struct: this runs for every probe event, and the
        # sensor's CPU time is taken from the programs it watches.
        self.counters.probe_events += 1
        (ts_ns, done_ns, ssl, ret, tgid, tid, kind, flags, fd, family, sport, dport, sni_len, saddr, daddr,
         comm) = _EVENT.unpack_from(data, start)
        src = dst = None
        role = None
        if flags & _E_FD and family:  # the kernel attached the handshake's socket
            role = _ROLES.get(ret)
            ret = 0
            src = self._endpoint(family, saddr, sport)
            dst = self._endpoint(family, daddr, dport) if dport else None
        tls_role = "client" if flags & _E_CLIENT else "server" if flags & _E_SERVER else None
        sni = None
        if flags & _E_SNI:
            at = start + _EVENT.size
            sni = data[at : at + min(sni_len, size - _EVENT.size)].decode("utf-8", errors="backslashreplace")
        name = self._comm(comm)
        offset = self._clock_offset
        self._batch.append(ProbeEvent(_KINDS[kind], ts_ns / 1e9 + offset, tgid, tid, name, ssl, ret, fd, src,
                                      dst, sni, role, tls_role))
        if flags & _E_DONE:  # its success, sent with it
            self._batch.append(ProbeEvent(_KINDS[kind + 1], done_ns / 1e9 + offset, tgid, tid, name, ssl, 1))
        elif kind == Kind.EXIT:
            self._take_held(lambda held_tgid, _: held_tgid == tgid)  # what the process left unfinished
            self._exited.append((tgid, time.monotonic()))

    def exec_path(self, tgid: int) -> str | None:
        """The path a process was last executed by, if it was executed while the sensor ran."""
        if self._exec_paths is None:
            return None
        entry = self._exec_paths.get(ctypes.c_uint32(tgid))
        return os.fsdecode(bytes(entry.path)) if entry is not None else None

    def _forget_exited(self) -> None:
        """The kernel forgets the exec path of a process without TLS at its exit; that of a TLS (or
        SSH) process is kept until its exit event has gone through the correlator, and for the join
        wait and EXITED_KEEP_S after: the record of a handshake passed to user space is written up to
        the join wait after it ended, its processes looked up then (a short-lived client's exit comes
        first), and packets come through rings that hand them over up to RETIRE_MS late, so an SSH
        connection's banner can be read after its ssh's exit event."""
        cutoff = time.monotonic() - self.options.join_wait - EXITED_KEEP_S
        while self._exited and self._exited[0][1] <= cutoff:
            tgid, _ = self._exited.popleft()
            if self._exec_paths is not None:
                self._exec_paths.pop(ctypes.c_uint32(tgid), None)

    def _endpoint(self, family: int, addr: bytes, port: int) -> Endpoint | None:
        """`endpoint_from_raw`, its address text from the sensor's cache of it (`_ip`)."""
        if family == socket.AF_INET:
            return Endpoint(self._ip(V4_MAPPED + addr[:4]), port)
        if family == socket.AF_INET6:
            return Endpoint(self._ip(addr), port)
        return None

    def _comm(self, raw: bytes) -> str:
        name = self._comms.get(raw)
        if name is None:
            if len(self._comms) > 4096:
                self._comms.clear()
            name = self._comms[raw] = raw.split(b"\0", 1)[0].decode("utf-8", errors="backslashreplace")
        return name

    def _take_held(self, wanted: Callable[[int, int], bool]) -> None:
        """Take the start events the kernel holds whose (tgid, ts_ns) are `wanted`, as if it had sent them."""
        _take_from(self._held, lambda key, raw: wanted(key.tgid, _EVENT.unpack_from(raw)[0]),
                   lambda raw: self._on_event(raw, 0, len(raw)))

    # --- packets -----------------------------------------------------------------------------

    def _ip(self, raw: bytes) -> str:
        """An address of 16 bytes (IPv4 mapped) as text."""
        ip = self._ips.get(raw)
        if ip is None:
            if len(self._ips) > 4096:
                self._ips.clear()
            ip = self._ips[raw] = ip_text(raw)
        return ip

    def _keep_packet(self, data: bytes, ts: float) -> None:
        self._packets.append((data, ts))

    def _on_loopback_packet(self, data: Any, start: int, size: int) -> None:
        """A packet loopback's cgroup program passed (struct wire_packet_t: its time, length and
        captured length, then its bytes from the IP header)."""
        ts_ns, _, caplen = _WIRE_PACKET.unpack_from(data, start)
        at = start + _WIRE_PACKET.size
        self._keep_packet(bytes(data[at : at + min(caplen, size - _WIRE_PACKET.size)]),
                          ts_ns / 1e9 + self._clock_offset)

    def _on_packet(self, data: bytes, ts: float) -> None:
        packet = parse(data)
        if type(packet) is Fragment:
            packet = self._defragmenter.add(packet, ts)
        if packet is None:
            return
        if type(packet) is Datagram:
            self._on_datagram(packet, ts)
            return
        tcp = packet.tcp
        if len(tcp) < 20:
            return
        sport, dport, seq = _TCP_PORTS_SEQ.unpack_from(tcp)
        src = Endpoint(self._ip(packet.src), sport)
        dst = Endpoint(self._ip(packet.dst), dport)
        self._on_segment(src, dst, seq, tcp[(tcp[12] >> 4) * 4 :], ts, tcp[13])

    def _on_segment(self, src: Endpoint, dst: Endpoint, seq: int, payload: bytes, ts: float, flags: int) -> None:
        if not payload and (src, dst) not in self._reassembler:
            return  # the close of a connection already handed over
        if payload[:1] == b"\x16" and payload[5:6] == b"\x01":
            self._supersede(src, dst, seq)
        key, conn = self._reassembler.add(src, dst, seq, payload, ts, fin=bool(flags & 0x01), rst=bool(flags & 0x04))
        self._examine(key, conn, time.time(), sender=src, head=payload[:7])

    def _supersede(self, src: Endpoint, dst: Endpoint, seq: int) -> None:
        """A ClientHello that does not continue what `src` sent to `dst` before opens a new
        connection on reused ports (a client that closes with a reset reuses a port within a second
        or two). The old connection is set aside, not added to: its summary may still be on its way."""
        key = connection_key(src, dst)
        conn = self._reassembler.get(key)
        stream = conn.stream(src, dst) if conn is not None else None
        if conn is None or stream is None or stream.continues(seq):
            return
        self._reassembler.pop(key)
        self._superseded.setdefault(key, []).append(conn)
        self._superseded.move_to_end(key)
        while len(self._superseded) > MAX_SUPERSEDED:
            old_key, aside = self._superseded.popitem(last=False)
            for old in aside:
                self._examine(old_key, old, time.time(), idle=True, set_aside=True)

    def _examine(
        self,
        key: tuple[Endpoint, Endpoint],
        conn: Connection,
        now: float,
        *,
        idle: bool = False,
        sender: Endpoint | None = None,
        head: bytes = b"",
        set_aside: bool = False,
    ) -> None:
        ssh = self._ssh.get(key)
        if ssh is None and conn.client is None and any(looks_like_ssh(st.data) for st in conn.streams.values()):
            ssh = self._ssh[key] = (SshReader(), *self._ssh_ends(conn))
            for ev in self.owners(ssh[1], ssh[2], now):
                self.correlator.process(ev.tgid)  # now, while a short-lived ssh is still there to ask
        if ssh is not None:
            self._examine_ssh(key, conn, *ssh, now, idle=idle, set_aside=set_aside)
            return
        # The client is the side whose bytes begin with a ClientHello (0x16 record, handshake type 1 or not
        # there yet: an empty slice is in any bytes).
        client = conn.client or next(
            (pair for pair, st in conn.streams.items() if st.data[:1] == b"\x16" and st.data[5:6] in b"\x01"),
            None,
        )
        if client is not None and conn.client is None and len(conn.streams[client].data) > 5:
            conn.client = client  # (remembered: its first bytes go once read, see below)
        if client is None:
            if conn.closed or idle:
                if not set_aside:
                    self._reassembler.pop(key)
                    self._forget_flow(key)
                self.counters.wire_not_tls += 1
            return
        c_src, c_dst = client
        c_stream = conn.stream(c_src, c_dst)
        s_stream = conn.stream(c_dst, c_src)
        assert c_stream is not None
        if not (conn.closed or idle):
            if not (s_stream and s_stream.data):
                return  # nothing can have finished before the server has spoken
            if sender == c_dst and head[:1] not in (b"\x14", b"\x15"):
                # A server segment ends a handshake only if it is an alert or (TLS 1.2) its closing
                # ChangeCipherSpec; anything else waits for the client's next segment or the close.
                # A long certificate chain is read as it comes, so the per-direction cap never
                # hides the ServerKeyExchange after it.
                if conn.client is not None and len(s_stream.data) >= DISCARD_AFTER:
                    conn.handshake.summarise(c_stream, s_stream)
                    conn.discard_read(DISCARD_AFTER)
                return
        summary = conn.handshake.summarise(c_stream, s_stream or NO_BYTES, closed=conn.closed, idle=idle)
        if not summary.complete:
            return
        if not set_aside:
            self._reassembler.pop(key)
            if not conn.closed and not (sender == c_src and _ends_handshake(head)):
                self._forget_flow(key)  # (the filter forgets by itself at the client's first encrypted record)
        if summary.client_hello is None:
            self.counters.wire_not_tls += 1
            return
        self.counters.wire_flows += 1
        if idle and summary.completed_at is None and not summary.alert:
            self.counters.wire_timeouts += 1
        self.correlator.on_flow(WireFlow(c_src, c_dst, summary, conn.first_seen, timed_out=idle), now)

    # --- SSH and QUIC ---------------------------------------------------------------------------

    def _examine_ssh(self, key: tuple[Endpoint, Endpoint], conn: Connection, reader: SshReader, client: Endpoint,
                     server: Endpoint, now: float, *, idle: bool, set_aside: bool) -> None:
        """An SSH connection: read as it grows; once both NEWKEYS (or a failure) are in, the filter is
        told to let it go and an `ssh` line is written per process found at its ends."""
        c_stream = conn.stream(client, server)
        s_stream = conn.stream(server, client)
        handshake = reader.summarise(c_stream or NO_BYTES, s_stream or NO_BYTES, closed=conn.closed, idle=idle)
        if not handshake.complete:
            return
        del self._ssh[key]
        if not set_aside:
            self._reassembler.pop(key)
            if not conn.closed:
                self._forget_flow(key)
        if handshake.client.banner is None:
            self.counters.wire_not_tls += 1  # (as from-pcap: a server banner alone, e.g. a port probe, is no session)
            return
        self.counters.ssh_flows += 1
        if idle and handshake.completed_at is None:
            self.counters.wire_timeouts += 1
        flow = SshFlow(client, server, handshake, conn.first_seen, timed_out=idle)
        owners = self.owners(client, server, now)
        host = self.correlator.host
        records = [ssh_record(flow, source="wire", host=host, pid=ev.tgid, tid=ev.tid, comm=ev.comm,
                              info=self.correlator.process(ev.tgid),
                              role="client" if ev.kind == Kind.CONNECT else "server") for ev in owners]
        self.lines.extend(_dumps(r) for r in records or [ssh_record(flow, source="wire", host=host)])

    def _ssh_ends(self, conn: Connection) -> tuple[Endpoint, Endpoint]:
        """(client, server) of an SSH connection: the end the socket tracepoints saw as the
        client, else (they did not see it open) the end on the higher port."""
        a, b = next(iter(conn.streams))
        for end, other in ((a, b), (b, a)):
            for role in (1, 2):
                if self._owner_table is not None and self._owner_table.get(ip_bytes(end.ip), _ANY_ADDRESS, end.port,
                                                                           role, 0, 0):
                    return end, other
        return (a, b) if a.port >= b.port else (b, a)

    def _on_datagram(self, packet: Datagram, ts: float) -> None:
        udp = packet.udp
        if len(udp) < 8:
            return
        sport, dport, length = struct.unpack_from("!HHH", udp)
        src, dst = Endpoint(self._ip(packet.src), sport), Endpoint(self._ip(packet.dst), dport)
        payload = udp[8:length] if length >= 8 else udp[8:]
        key = connection_key(src, dst)
        conn = self._quic.get(key)
        if conn is None:
            header = first_client_initial(payload)
            if header is None:
                return
            if len(self._quic) >= MAX_QUIC_CONNECTIONS:
                self._quic_done(next(iter(self._quic)), time.time(), idle=True)
            conn = self._quic[key] = _QuicConnection(src, dst, QuicReader(header.dcid), ts, ts)
        conn.last_seen = ts
        conn.reader.add(payload, ts, from_client=src == conn.client)
        if conn.reader.summary().complete:
            self._quic_done(key, time.time(), idle=False)

    def _quic_done(self, key: tuple[Endpoint, Endpoint], now: float, *, idle: bool) -> None:
        """A QUIC handshake the wire view has finished with, to the correlator with the processes
        whose UDP sockets have its ports (the last to do I/O on each; tls_probes.c's note_udp_owner)."""
        conn = self._quic.pop(key)
        handshake = conn.reader.summary(idle=idle)
        if handshake.completed_at is None:
            self._forget_flow(key)  # (the filter forgets by itself at the client's first 1-RTT packet)
        if handshake.client_hello is None:
            self.counters.wire_not_tls += 1
            return
        self.counters.quic_flows += 1
        timed_out = idle and handshake.completed_at is None and not handshake.alert
        if timed_out:
            self.counters.wire_timeouts += 1
        owners = tuple(self._udp_owner(end, kind, conn.client, conn.server)
                       for end, kind in ((conn.client, Kind.CONNECT), (conn.server, Kind.ACCEPT)))
        self.correlator.on_flow(WireFlow(conn.client, conn.server, handshake, conn.first_seen, timed_out=timed_out,
                                         owners=tuple(ev for ev in owners if ev is not None), transport="quic"), now)

    def _udp_owner(self, end: Endpoint, kind: Kind, client: Endpoint, server: Endpoint) -> ProbeEvent | None:
        """The process whose UDP socket has `end`'s port, as a CONNECT (client) or ACCEPT (server) event."""
        if self._owner_table is None:
            return None
        owner = self._owner_table.get(_ANY_ADDRESS, _ANY_ADDRESS, end.port, _ROLE_UDP, 0, 0)
        if owner is None:
            return None
        ts_ns, tgid, tid, fd, _, raw_comm = owner
        return ProbeEvent(kind, ts_ns / 1e9 + self._clock_offset, tgid, tid, self._comm(raw_comm), fd=fd, src=client,
                          dst=server if kind == Kind.CONNECT else None)

    # --- handshakes the socket filter summarised ------------------------------------------------

    def _on_wire_end(self, data: Any, start: int, size: int) -> None:
        assert self._wire_end is not None
        summary = self._wire_end.unpack_from(data, start)
        at = start + self._wire_end.size
        hello = data[at : at + min(summary[_HELLO_NS + 1], size - self._wire_end.size)]
        if summary[8] == WireOutcome.PASSED:
            self._hello_segment(summary, hello)
            return
        self.counters.wire_summaries += 1
        if not hello:
            self._summaries.append((summary, self.read_at))  # its ClientHello comes through a packet ring
            return
        client, server = self._ends(summary)
        first_seen = summary[_HELLO_NS] / 1e9 + self._clock_offset
        handshake = self._summary_handshake(summary, _HelloView(hello, first_seen))
        self._summary_flow(summary, client, server, handshake, first_seen, self.read_at)

    def _ends(self, summary: tuple[Any, ...]) -> tuple[Endpoint, Endpoint]:
        _, client_ip, server_ip, client_port, server_port = summary[:5]
        return Endpoint(self._ip(client_ip), client_port), Endpoint(self._ip(server_ip), server_port)

    def _hello_segment(self, summary: tuple[Any, ...], hello: bytes) -> None:
        """A ClientHello the socket filter held, handed over: the connection's first client segment."""
        client, server = self._ends(summary)
        self.counters.packets += 1
        isn = summary[9]
        self._on_segment(client, server, (isn + 1) % (1 << 32), hello, summary[_HELLO_NS] / 1e9 + self._clock_offset, 0)

    def _take_hellos(self, wanted: Callable[[int], bool]) -> None:
        """Take the ClientHellos the socket filter holds that arrived (hello_ns) when `wanted`, as if
        it had handed them over."""
        layout = self._wire_end
        if layout is None:
            return

        def hand_over(raw: bytes) -> None:
            summary = layout.unpack_from(raw)
            self._hello_segment(summary, raw[layout.size : layout.size + min(summary[_HELLO_NS + 1], HELLO_MAX)])

        _take_from(self._hellos, lambda _, raw: wanted(layout.unpack_from(raw)[_HELLO_NS]), hand_over)

    def _join_summaries(self, now: float, *, final: bool = False) -> None:
        """Each summary with the ClientHello user space holds for its connection. The ClientHello
        comes through a packet ring, whose blocks are handed over up to `retire_ms` late, so a
        summary waits for it up to `join_wait`; one still without it then (the ring dropped it) is
        counted as a timeout, and its connection, if the rest comes after all, times out in reassembly."""
        waiting = self._summaries
        for _ in range(len(waiting)):
            summary, received = waiting.popleft()
            client, server = self._ends(summary)
            key = connection_key(client, server)
            conn = self._connection_of(key, client, server, (summary[9] + 1) % (1 << 32))
            c_stream = conn.stream(client, server) if conn is not None else None
            handshake = self._summary_handshake(summary, c_stream) if c_stream is not None else None
            if handshake is None or handshake.client_hello is None:
                if not (final or now - received >= self.options.join_wait):
                    waiting.append((summary, received))
                elif handshake is None:
                    self.counters.wire_timeouts += 1
                else:
                    assert conn is not None
                    self._release(key, conn)
                    self.counters.wire_not_tls += 1
                continue
            assert conn is not None
            self._release(key, conn)
            self._summary_flow(summary, client, server, handshake, conn.first_seen, now)

    def _summary_handshake(self, summary: tuple[Any, ...], c_stream: StreamView) -> WireHandshake:
        """A summarised handshake, read with the client's bytes (its ClientHello)."""
        ts_ns, _, _, _, _, version, suite, group, outcome = summary[:9]
        alert = outcome in (WireOutcome.ENCRYPTED_ALERT, WireOutcome.ALERT)
        finished = ts_ns / 1e9 + self._clock_offset if outcome == WireOutcome.FINISHED else None
        description = summary[_HELLO_NS + 2] - 1 if summary[_HELLO_NS + 2] else None
        return summarise_client_side(c_stream, ServerHello(version, suite, TLS1_3, group, False),
                                     completed_at=finished, alert=alert, closed=outcome == WireOutcome.CLOSED,
                                     alert_description=description)

    def _summary_flow(self, summary: tuple[Any, ...], client: Endpoint, server: Endpoint, handshake: WireHandshake,
                      first_seen: float, now: float) -> None:
        """A summarised handshake to the correlator."""
        if handshake.client_hello is None:
            self.counters.wire_not_tls += 1
            return
        self.counters.wire_flows += 1
        timed_out = summary[8] == WireOutcome.BUDGET
        if timed_out:
            self.counters.wire_timeouts += 1
        self.correlator.on_flow(WireFlow(client, server, handshake, first_seen, timed_out,
                                         self._end_owners(summary, client, server)), now)

    def _connection_of(self, key: tuple[Endpoint, Endpoint], client: Endpoint, server: Endpoint,
                       first_seq: int) -> Connection | None:
        """The connection a summary is about: the one in reassembly, or one a later connection on
        the same ports set aside, told apart by the client's first sequence number."""
        conn = self._reassembler.get(key)
        for candidate in self._superseded.get(key, ()):
            stream = candidate.stream(client, server)
            if stream is not None and stream.first_seq == first_seq:
                return candidate
        return conn

    def _release(self, key: tuple[Endpoint, Endpoint], conn: Connection) -> None:
        """Done with a connection: out of reassembly, or out of the set-aside ones."""
        aside = self._superseded.get(key)
        if aside is not None and any(c is conn for c in aside):
            aside[:] = [c for c in aside if c is not conn]
            if not aside:
                del self._superseded[key]
        elif self._reassembler.get(key) is conn:
            self._reassembler.pop(key)

    def _end_owners(self, summary: tuple[Any, ...], client: Endpoint, server: Endpoint) -> tuple[ProbeEvent, ...]:
        """The CONNECT and ACCEPT events of the processes the socket filter found at the ends."""
        out = []
        for at, kind in _WIRE_END_OWNERS:
            ts_ns, tgid, tid, fd, _, raw_comm = summary[at : at + 6]
            if tgid:  # (positional: kind, ts, tgid, tid, comm, ssl, ret, fd, src, dst)
                out.append(ProbeEvent(kind, ts_ns / 1e9 + self._clock_offset, tgid, tid, self._comm(raw_comm), 0, 0,
                                      fd, client, server if kind == Kind.CONNECT else None))
        return tuple(out)

    def owners(
        self, client: Endpoint, server: Endpoint, before: float, roles: tuple[str, ...] = ("client", "server")
    ) -> list[ProbeEvent]:
        """The processes at either end of a TLS connection, from the kernel's table of who connected
        and who used an accepted socket first (filled by the socket tracepoints), as socket events: kept
        under both ends, else (a server behind DNAT) under the client end alone, as the socket filter
        looks them up (tls_wire.c, owner_of). An entry made after `before` (when the wire view
        finished) is a later connection from the same port."""
        out = []
        client_ip, server_ip = ip_bytes(client.ip), ip_bytes(server.ip)
        for code, kind, role in ((1, Kind.CONNECT, "client"), (2, Kind.ACCEPT, "server")):
            if role not in roles:
                continue
            owner = (self._owner_table.get(client_ip, server_ip, client.port, code, server.port, 0)
                     or self._owner_table.get(client_ip, _ANY_ADDRESS, client.port, code, 0, 0))
            if owner is None:
                continue
            ts_ns, tgid, tid, fd, _, raw_comm = owner
            seen = ts_ns / 1e9 + self._clock_offset
            if seen > before + 0.1:
                continue
            out.append(ProbeEvent(kind, seen, tgid, tid, self._comm(raw_comm), fd=fd, src=client,
                                  dst=server if kind == Kind.CONNECT else None))
        return out

    def _expire_flows(self, now: float) -> None:
        self._defragmenter.expire(now)
        for key in [k for k, c in self._quic.items() if c.last_seen < now - self.options.timeout]:
            self._quic_done(key, min(now, time.time()), idle=True)
        for key, conn in self._reassembler.idle(now - self.options.timeout):
            self._examine(key, conn, min(now, time.time()), idle=True)
        while self._superseded:  # set aside, and no summary came for them: as if they went idle
            key, aside = next(iter(self._superseded.items()))
            if aside[-1].last_seen >= now - self.options.timeout:
                break
            del self._superseded[key]
            for conn in aside:
                self._examine(key, conn, min(now, time.time()), idle=True, set_aside=True)

    def _forget_flow(self, key: tuple[Endpoint, Endpoint]) -> None:
        """Tell the kernel filter to stop passing this connection's segments."""
        a, b = key
        (a_ip, a_port), (b_ip, b_port) = sorted([(ip_bytes(a.ip), a.port), (ip_bytes(b.ip), b.port)])
        self._flow_table.delete(_flow_words(a_ip), _flow_words(b_ip), a_port, b_port)


@dataclass
class _QuicConnection:
    client: Endpoint
    server: Endpoint
    reader: QuicReader
    first_seen: float
    last_seen: float


def _take_from(table: Any, wanted: Callable[[Any, bytes], bool], send: Callable[[bytes], None]) -> None:
    """Take the `wanted` entries of a kernel map whose BPF programs send an entry only if they
    delete it themselves (held start events, held ClientHellos): whoever deletes it sends it, so
    each goes out once. Only a handful are held at a time (handshakes in progress)."""
    if table is None:
        return
    for key in list(table.keys()):
        try:
            raw = bytes(table[key])
        except KeyError:
            continue  # sent meanwhile
        if not wanted(key, raw):
            continue
        try:
            del table[key]
        except KeyError:
            continue  # sent meanwhile
        send(raw)


def _ends_handshake(head: bytes) -> bool:
    """The test of bpf/tls_wire.c's handshake_over(): a client segment opening with an encrypted
    record, alone or after the one-byte ChangeCipherSpec record, after which the filter forgets
    the connection by itself."""
    return head[:1] == b"\x17" or (head[:1] == b"\x14" and head[6:7] == b"\x17")


class _HelloView:
    """A ClientHello the socket filter held, as a client stream that is only that (see wire.StreamView)."""

    __slots__ = ("data", "ts")
    first_seq = None
    skipped = 0

    def __init__(self, data: bytes, ts: float) -> None:
        self.data, self.ts = data, ts

    def time_at(self, offset: int) -> float | None:
        return self.ts


def _power_of_two(n: int) -> int:
    """The least power of two at or above n (a ring buffer's size must be one)."""
    return 1 << max(0, n - 1).bit_length()


def _flow_words(address: bytes) -> bytes:
    """An address as bpf/tls_wire.c's flow key holds it: four words in host order, as load_word() reads them."""
    return struct.pack("<4I", *struct.unpack("!4I", address))


class JsonLines:
    """Appends JSON objects one per line; every write() holds whole lines only, so every line on
    disk is whole whenever the process is killed."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        except OSError as e:
            raise CarnotError(f"cannot write: {e.strerror}", path=path) from e

    def truncate(self) -> None:
        os.ftruncate(self._fd, 0)

    def write(self, obj: dict[str, Any]) -> None:
        self.write_many((obj,))

    def write_many(self, objs: Iterable[dict[str, Any]]) -> None:
        """Several lines with one write() (a batch of handshakes costs one system call, not one each)."""
        self.write_lines([_dumps(obj) for obj in objs])

    def write_lines(self, lines: list[str]) -> None:
        """Lines of JSON text (without their newlines), with one write()."""
        if not lines:
            return
        data = ("\n".join(lines) + "\n").encode("utf-8")
        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view):]

    def close(self) -> None:
        os.close(self._fd)


@dataclass(frozen=True)
class CaptureSummary:
    out: Path
    metrics_path: Path
    metrics: dict[str, Any]


def metrics_line(counters: Counters, correlator: Correlator, reassembler: Reassembler,
                 defragmenter: Defragmenter) -> dict[str, Any]:
    seen = counters.events_received + counters.kernel_drops
    return {
        "type": "metrics",
        "ts": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "events_received": counters.events_received,
        "handshakes_emitted": correlator.handshakes_emitted,
        "correlation_timeouts": correlator.correlation_timeouts + counters.wire_timeouts,
        "cache_evictions": correlator.cache_evictions + reassembler.evictions,
        "kernel_drops": counters.kernel_drops,
        "kernel_drop_rate": round(counters.kernel_drops / seen, 6) if seen else 0.0,
        "probe_events": counters.probe_events,
        "packets": counters.packets,
        "perf_lost": counters.perf_lost,
        "packet_drops": counters.packet_drops,
        "wire_flows": counters.wire_flows,
        "wire_not_tls": counters.wire_not_tls,
        "wire_summaries": counters.wire_summaries,
        "ssh_flows": counters.ssh_flows,
        "quic_flows": counters.quic_flows,
        "out_of_order_dropped": reassembler.out_of_order_dropped,
        "armed_threads": counters.armed_threads,
        "unclaimed_sockets": counters.unclaimed_sockets,
        **defragmenter.metrics(),
    }


def capture(options: CaptureOptions, *, on_ready: Callable[[dict[str, Any]], None] | None = None) -> CaptureSummary:
    """Run the sensor until the duration ends or SIGINT/SIGTERM; see the module docstring."""
    readiness = sensor_readiness()
    if not readiness.ok:
        raise SensorUnavailable("the runtime sensor cannot run here: " + "; ".join(readiness.reasons))
    host = socket.gethostname()
    correlator = Correlator(host=host, join_wait=options.join_wait, timeout=options.timeout)
    sensor = Sensor(options, correlator)
    stop = _StopFlag()
    existed = options.out.exists()
    writer = JsonLines(options.out)  # opened (so an unwritable --out fails first) but not emptied yet
    attached = False
    try:
        with stop.installed():
            sensor.attach()
            attached = True
            writer.truncate()  # an earlier capture in --out is replaced only once this one can run
            correlator.resolve = ProcessResolver(sensor.libraries, sensor.exec_path)
            correlator.lookup_owners = sensor.owners
            priority = Priority(options.priority)
            _quiet_garbage_collector()
            ready = {
                "type": "ready",
                "ts": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "host": host,
                "pid_filter": options.pid,
                "ifaces": list(options.ifaces) or ["any"],
                "libraries": [{"path": lib.path, "name": lib.name, "version": lib.version} for lib in sensor.libraries],
                "probes": sensor.probes,
                "single_stepped_probes": sensor.single_stepped,
                "priority": options.priority,
                "uprobes": options.uprobes,
            }
            writer.write(ready)
            if on_ready:
                on_ready(ready)
            deadline = time.monotonic() + options.duration if options.duration is not None else None
            sensor.wake_on(stop.wake_fd)
            next_metrics = time.monotonic() + options.metrics_interval
            next_drain = 0.0
            busy = True
            while not stop.raised:
                now = time.monotonic()
                if deadline is not None and now >= deadline:
                    break
                wait_s = POLL_MS / 1000 if busy else min(IDLE_POLL_MS / 1000, next_metrics - now)
                if deadline is not None:
                    wait_s = min(wait_s, deadline - now)
                cpu_before = time.thread_time()
                busy = sensor.poll(max(1, round(wait_s * 1000))) > 0 or correlator.waiting
                if time.monotonic() >= next_drain:
                    writer.write_lines(sensor.ready_lines())
                    next_drain = time.monotonic() + DRAIN_INTERVAL
                priority.after_pass(time.thread_time() - cpu_before)
                if time.monotonic() >= next_metrics:
                    sensor.read_drops()
                    writer.write(metrics_line(sensor.counters, correlator, sensor._reassembler, sensor._defragmenter))
                    next_metrics += options.metrics_interval
            sensor.flush()
            sensor.finish()
            writer.write_lines(correlator.drain_json(time.time(), final=True) + sensor.take_lines())
            sensor.close()
            final = metrics_line(sensor.counters, correlator, sensor._reassembler, sensor._defragmenter)
            final["final"] = True
            final["stopped_by"] = stop.signal_name or "duration"
            writer.write(final)
    finally:
        sensor.close()
        writer.close()
        if not attached and not existed:
            options.out.unlink(missing_ok=True)
    metrics_path = options.out.with_name("sensor_metrics.json")
    write_atomic(metrics_path, pretty_json({k: v for k, v in final.items() if k != "type"}))
    return CaptureSummary(options.out, metrics_path, final)


def _quiet_garbage_collector() -> None:
    """Python's cyclic collector, at its defaults, runs every 700 net allocations and walks every
    object the sensor holds: a sixth of the sensor's CPU time. What exists once the probes are
    attached (modules, bcc's tables) is frozen out of its reach, and it runs after 50,000."""
    gc.freeze()
    gc.set_threshold(50_000, 50, 1000)


class Priority:
    """The sensor's scheduling, once its probes are attached (--priority).

    "idle": always SCHED_IDLE. It runs only on CPU time no other task wants, so its work never takes
    a CPU from the programs it observes; on a host with no idle CPU at all it falls behind, its
    buffers fill, and the loss is counted as kernel drops. But a SCHED_IDLE task that is woken on a
    busy CPU waits there, runnable, and every time a CPU's other tasks all block for a moment it is
    switched in, then out again by the next of them to wake: on a host whose CPUs are nearly always
    busy with short requests, that switching cost them ~6% here, while the sensor itself had
    almost nothing to do (docs/RUNTIME.md, "Idle wake-ups and SCHED_IDLE").
    "normal": always normal priority: its work competes for CPU like any process's (a handshake
    storm lost ~5% more than under "idle").
    "auto" (the default): normal while the passes over the kernel's rings are short (it is then
    woken, done and asleep again at once), SCHED_IDLE from a pass that took AUTO_IDLE_MS of its CPU
    until one takes under AUTO_NORMAL_MS."""

    def __init__(self, mode: str) -> None:
        if mode not in PRIORITIES:
            raise CarnotError(f"unknown priority {mode!r} (expected one of {', '.join(PRIORITIES)})")
        self.mode = mode
        self.idle = False
        if mode == "idle":
            self._set(idle=True)

    def after_pass(self, cpu_s: float) -> None:
        if self.mode != "auto":
            return
        if not self.idle and cpu_s >= AUTO_IDLE_MS / 1000:
            self._set(idle=True)
        elif self.idle and cpu_s < AUTO_NORMAL_MS / 1000:
            self._set(idle=False)

    def _set(self, *, idle: bool) -> None:
        try:
            os.sched_setscheduler(0, os.SCHED_IDLE if idle else os.SCHED_OTHER, os.sched_param(0))
        except OSError as e:
            log.warning("cannot change the sensor's priority (%s): %s", "SCHED_IDLE" if idle else "normal",
                        e.strerror)
            self.mode = "normal" if self.mode == "auto" else self.mode
            return
        self.idle = idle


class _StopFlag:
    """SIGINT and SIGTERM end the capture cleanly instead of killing it."""

    def __init__(self) -> None:
        self.raised = False
        self.signal_name: str | None = None
        self.wake_fd = -1  # readable once a signal came (while installed): the sensor's wait ends at once

    def _handler(self, signum: int, _frame: Any) -> None:
        self.raised = True
        self.signal_name = signal.Signals(signum).name

    @contextmanager
    def installed(self) -> Iterator[None]:
        previous = {sig: signal.signal(sig, self._handler) for sig in (signal.SIGINT, signal.SIGTERM)}
        wake, written = socket.socketpair()
        wake.setblocking(False)
        written.setblocking(False)
        previous_fd = signal.set_wakeup_fd(written.fileno(), warn_on_full_buffer=False)
        self.wake_fd = wake.fileno()
        try:
            yield
        finally:
            signal.set_wakeup_fd(previous_fd)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self.wake_fd = -1
            wake.close()
            written.close()

