"""The live sensor's user space per handshake, replayed from what its kernel side sends.

The stress run (`nox -s stress`) measures what the sensor costs the programs it watches, but on
this project's VM its figures drift by several per cent between phases. This benchmark measures
the cause instead, without the noise: the Python CPU time the sensor spends per handshake. It
builds, byte for byte in the kernel's layouts (sensor.py's structs), what a loopback TLS 1.3
handshake of the stress workload sends: the client's probe event (its start, with fd, socket and
SNI, held in the kernel until the handshake's success and sent with it, as bpf/tls_probes.c
does), and either the socket filter's summary with the ClientHello it held (`wire_ends`) or, as
with `--no-wire-summary`, the ClientHello, the server's flight and the client's Finished as
segments. They go through the sensor's own callbacks and the Correlator, which makes the JSON
lines, in 100 ms batches, on a clock that follows the synthetic timestamps.
The server's side is attributed through the owners the socket filter sends with its summary (or,
with segments passed, through an owner lookup answered from memory; the kernel table costs one
bpf() call on top).
"""

from __future__ import annotations

import os
import struct
import time
from typing import Any
from unittest import mock

from assess.sources.runtime import sensor as sensor_module
from assess.sources.runtime.correlate import Correlator, Kind, ProbeEvent
from assess.sources.runtime.ippacket import V4_MAPPED
from assess.sources.runtime.sensor import (
    _E_DONE,
    _E_FD,
    _E_SERVER,
    _E_SNI,
    _EVENT,
    _WIRE_END,
    CaptureOptions,
    Sensor,
    WireOutcome,
)
from bench.pcap_bench import ACK, PSH, _client_hello, _packet, _record, _server_flight

HANDSHAKES = 3000
RATE = 800.0  # handshakes per second of synthetic time: the stress workload's rate here
BATCH_S = 0.1
SERVER_IP, CLIENT_IP = 0x7F000001, 0x7F000001
SERVER_PORT = 4433
WIRE_END = struct.Struct("<" + "".join(_WIRE_END))


class _Clock:
    """The sensor module's `time`, following the replay (or a test) instead of the wall: the wall
    clock and CLOCK_MONOTONIC step together, as they do while the sensor is not running."""

    def __init__(self, now: float = 0.0) -> None:
        self.now = now

    def time(self) -> float:
        return self.now

    def monotonic(self) -> float:
        return self.now - _OFFSET

    def monotonic_ns(self) -> int:
        return int(self.monotonic() * 1e9)

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)


def _event(kind: int, ts_ns: int, tgid: int, ssl: int, *, ret: int = 0, flags: int = 0, fd: int = -1,
           port: int = 0, sni: bytes = b"", done_ns: int = 0, comm: bytes = b"python3") -> bytes:
    addr = (CLIENT_IP.to_bytes(4, "big") + bytes(12), SERVER_IP.to_bytes(4, "big") + bytes(12))
    head = _EVENT.pack(ts_ns, done_ns, ssl, ret, tgid, tgid, kind, flags, fd, 2 if port else 0, port,
                       SERVER_PORT if port else 0, len(sni), *(addr if port else (bytes(16), bytes(16))),
                       comm.ljust(16, b"\0"))
    return head + sni.ljust(256, b"\0") if flags & _E_SNI else head


def _connection(i: int, t0: float, summarised: bool, server_probe: bool = False,
                client_probe: bool = True) -> list[tuple[float, str, bytes]]:
    """(wall time, channel, bytes) of one handshake, as the kernel side hands them over. With
    `server_probe`, the server's process view too, as `openssl s_server` gives it live: SSL_accept
    drives its handshake implicitly, so the kernel sends its start (with the accepted socket, role
    server) at its first receive, and its end is the wire's. Without `client_probe` (a sensor run
    with `--no-uprobes`), no process view at all: both records come from the wire and its owners."""
    start = t0 + i / RATE
    ns = int((start - _OFFSET) * 1e9)
    port, ssl, tgid = 20000 + i % 40000, 0x5500_0000 + (i % 64) * 0x1000, 1000 + i % 2
    hello = _client_hello(0x001D, 32, b"stress.localhost", True)
    flight = _server_flight(0x001D, 32, True)
    finish = _record(20, b"\x01") + _record(23, os.urandom(53))

    def ip(src_port: int, dst_port: int, seq: int, payload: bytes) -> bytes:  # from the IP header on
        return _packet(CLIENT_IP, SERVER_IP, src_port, dst_port, seq, ACK | PSH, payload)[14:]

    out = []
    if summarised:  # the filter held the ClientHello and sends it with its summary
        owners = (ns - 100_000, tgid, tgid, 5, 0, b"python3", ns - 100_000, 7, 7, 4, 0, b"openssl")
        end = WIRE_END.pack(ns + 900_000, mapped(CLIENT_IP), mapped(SERVER_IP), port, SERVER_PORT, 0x0303, 0x1301,
                            0x001D, WireOutcome.FINISHED, 0, *owners, ns + 100_000, len(hello), 0)
        out.append((start + 0.0009, "end", end + hello))
    else:
        out.append((start + 0.0001, "packet", ip(port, SERVER_PORT, 1, hello)))
        out.append((start + 0.0005, "packet", ip(SERVER_PORT, port, 1, flight)))
        out.append((start + 0.0009, "packet", ip(port, SERVER_PORT, 1 + len(hello), finish)))
    if server_probe:
        server_ssl = 0x7700_0000 + (i % 64) * 0x1000
        out.append((start + 0.0003, "event", _event(Kind.IMPLICIT_START, ns + 300_000, 7, server_ssl, ret=2,
                                                     flags=_E_FD | _E_SERVER, port=port, comm=b"openssl")))
    if not client_probe:
        return out
    # The start event, held in the kernel until the handshake's success and sent with it.
    out.append((start + 0.001, "event", _event(Kind.HANDSHAKE_ENTER, ns, tgid, ssl, ret=1,
                                               flags=_E_FD | _E_SNI | _E_DONE, fd=5, port=port,
                                               sni=b"stress.localhost", done_ns=ns + 1_000_000)))
    return out


_OFFSET = time.time() - time.monotonic()


def mapped(ip: int) -> bytes:
    """An IPv4 address as the socket filter's summary holds it (IPv4-mapped IPv6)."""
    return V4_MAPPED + ip.to_bytes(4, "big")


def _replay(summarised: bool, server_probe: bool = False, client_probe: bool = True) -> tuple[float, int]:
    """Seconds of CPU for HANDSHAKES handshakes, and how many records came out (with
    `server_probe`, how many joined both views: both records of each handshake should; without
    `client_probe`, how many came from the wire with their process)."""
    source = "uprobe+wire" if server_probe else None if client_probe else "wire"
    clock = _Clock()
    t0 = time.time()
    stream = sorted((item for i in range(HANDSHAKES)
                     for item in _connection(i, t0, summarised, server_probe, client_probe)), key=lambda item: item[0])
    # The records of the kernel's ring buffers, one after another as in the ring's shared memory.
    ring = b"".join(data for _, channel, data in stream if channel != "packet")
    buffers: list[tuple[float, str, Any]] = []
    at = 0
    for ts, channel, data in stream:
        buffers.append((ts, channel, data if channel == "packet" else (at, len(data))))
        at += 0 if channel == "packet" else len(data)
    correlator = Correlator(host="bench")
    sensor = Sensor(CaptureOptions(out=None, wire_summary=summarised), correlator)  # type: ignore[arg-type]
    sensor._clock_offset = _OFFSET
    sensor._wire_end = WIRE_END
    sensor._flow_table = mock.Mock()
    correlator.lookup_owners = lambda client, server, before, roles: [
        ProbeEvent(Kind.ACCEPT, before - 0.001, 7, 7, "openssl", fd=4, src=client)]
    records = 0
    with mock.patch.object(sensor_module, "time", clock):
        started = time.process_time()
        position = 0
        edge = t0
        while position < len(buffers):
            edge += BATCH_S
            clock.now = sensor.read_at = edge  # (as a poll sets it before reading the rings)
            packets = []
            while position < len(buffers) and buffers[position][0] < edge:
                ts, channel, data = buffers[position]
                if channel == "event":
                    sensor._on_event(ring, *data)
                elif channel == "end":
                    sensor._on_wire_end(ring, *data)
                else:
                    packets.append((data, ts))
                position += 1
            sensor._batch.sort(key=lambda p: p.ts)
            for probe in sensor._batch:
                correlator.on_probe(probe, edge)
            sensor._batch.clear()
            for data, ts in packets:
                sensor._on_packet(data, ts)
            sensor._join_summaries(edge)
            sensor._expire_flows(edge)
            records += _counted(sensor.ready_lines(), source)
        clock.now = edge + 60
        sensor.finish()
        records += _counted(correlator.drain_json(edge + 60, final=True), source)
        elapsed = time.process_time() - started
    return elapsed, records


def _counted(lines: list[str], source: str | None) -> int:
    """The records in a drain (written out as the sensor writes them); with `source`, those from
    that source ("uprobe+wire": both views joined) that name their process."""
    if source is None:
        return "".join(line + "\n" for line in lines).count("\n")
    return sum(1 for line in lines if f'"source": "{source}"' in line and '"pid": null' not in line)


def run() -> dict[str, Any]:
    figures: dict[str, Any] = {"handshakes": HANDSHAKES}
    for name, summarised, server_probe, client_probe in (
            ("summarised", True, False, True), ("passed", False, False, True),
            ("summarised_server_probed", True, True, True), ("summarised_no_uprobes", True, False, False)):
        best = min(_replay(summarised, server_probe, client_probe) for _ in range(3))
        if best[1] != 2 * HANDSHAKES:
            raise AssertionError(f"{name}: {best[1]} records for {HANDSHAKES} handshakes "
                                 "(want a client and a server record each, both views joined where both were sent, "
                                 "each with its process)")
        figures[f"us_per_handshake_{name}"] = round(best[0] / HANDSHAKES * 1e6, 1)
    summarised, passed = figures["us_per_handshake_summarised"], figures["us_per_handshake_passed"]
    figures["summarised_over_passed"] = round(summarised / passed, 3)
    return figures
