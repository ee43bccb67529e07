"""The sensor's user space without a kernel: what its callbacks do with the kernel's output, built
byte for byte in the kernel's layouts (as the sensor benchmark builds it)."""

from __future__ import annotations

import json
import math
import os
import subprocess
from pathlib import Path
from unittest import mock

import pytest

from assess.sources.runtime import sensor as sensor_module
from assess.sources.runtime.correlate import Correlator, Kind, ProbeEvent, endpoint_from_raw
from assess.sources.runtime.libraries import Library
from assess.sources.runtime.reassembly import Endpoint
from assess.sources.runtime.sensor import (
    _E_DONE,
    _E_FD,
    _E_SNI,
    CaptureOptions,
    ProcessResolver,
    Sensor,
    WireOutcome,
    executable_of,
)
from bench.pcap_bench import ACK, FIN, PSH, _client_hello, _packet, _record, _server_flight
from bench.sensor_bench import _OFFSET, WIRE_END, _Clock, _connection, _event, mapped

CLIENT_IP, SERVER_IP, PORT, SERVER_PORT = 0x0A000001, 0x0A000002, 40366, 4433


def sensor() -> Sensor:
    s = Sensor(CaptureOptions(out=None), Correlator(host="t", join_wait=1.0))  # type: ignore[arg-type]
    s._clock_offset = 0.0
    s._wire_end = WIRE_END
    s._flow_table = mock.Mock()
    return s


def hello_segment(isn: int, sni: bytes) -> bytes:
    hello = _client_hello(0x001D, 32, sni, True)
    return _packet(CLIENT_IP, SERVER_IP, PORT, SERVER_PORT, isn + 1, ACK | PSH, hello)[14:]  # from the IP header


def summary(isn: int, end: float, server_pid: int, *, hello: bytes = b"", hello_at: float = 0.0,
            outcome: WireOutcome = WireOutcome.FINISHED, alert: int = 0) -> bytes:
    """A wire_end_t as the socket filter sends it; with `hello`, the ClientHello it held follows."""
    ns = int(end * 1e9)
    owners = (ns, 41, 41, 5, 0, b"python3", ns, server_pid, server_pid, 4, 0, b"openssl")
    if outcome == WireOutcome.PASSED:
        owners = (0, 0, 0, 0, 0, b"", 0, 0, 0, 0, 0, b"")
    return WIRE_END.pack(ns, mapped(CLIENT_IP), mapped(SERVER_IP), PORT, SERVER_PORT, 0x0303, 0x1301, 0x001D, outcome,
                         isn, *owners, int(hello_at * 1e9), len(hello), alert) + hello


def server_segments(isn: int, hello_len: int) -> list[bytes]:
    """The server's TLS 1.3 flight, the client's Finished and its FIN, from the IP header on."""
    finish = _record(20, b"\x01") + _record(23, bytes(53))
    return [_packet(SERVER_IP, CLIENT_IP, SERVER_PORT, PORT, 7000, ACK | PSH, _server_flight(0x001D, 32, True))[14:],
            _packet(CLIENT_IP, SERVER_IP, PORT, SERVER_PORT, isn + 1 + hello_len, ACK | PSH, finish)[14:],
            _packet(CLIENT_IP, SERVER_IP, PORT, SERVER_PORT, isn + 1 + hello_len + len(finish), ACK | FIN, b"")[14:]]


def test_a_summary_joins_its_own_connection_when_a_new_one_reused_the_ports_first() -> None:
    """A client that closes with a reset reuses its port at once. The next connection's ClientHello
    can reach user space before the first connection's summary is joined: each summary still gets
    its own ClientHello (told apart by the client's initial sequence number), none times out."""
    s = sensor()
    s._on_packet(hello_segment(1000, b"first.test"), 10.000)
    s._on_packet(hello_segment(3_000_000_000, b"second.test"), 10.120)  # same ports, a new connection
    for isn, end, server_pid in ((1000, 10.002, 71), (3_000_000_000, 10.122, 72)):
        buffer = summary(isn, end, server_pid)
        s._on_wire_end(buffer, 0, len(buffer))
    s._join_summaries(10.2)
    records = s.correlator.drain(20.0, final=True)
    got = sorted((r["sni"], r["role"], r["pid"], r["tls_version"], r["success"]) for r in records)
    assert got == [("first.test", "client", 41, "TLSv1.3", True), ("first.test", "server", 71, "TLSv1.3", True),
                   ("second.test", "client", 41, "TLSv1.3", True), ("second.test", "server", 72, "TLSv1.3", True)]
    assert s.counters.wire_timeouts == 0 and s.counters.wire_flows == 2


def test_a_retransmitted_clienthello_is_not_a_new_connection() -> None:
    s = sensor()
    s._on_packet(hello_segment(1000, b"again.test"), 10.000)
    s._on_packet(hello_segment(1000, b"again.test"), 10.200)  # at the same sequence number: a retransmission
    buffer = summary(1000, 10.202, 71)
    s._on_wire_end(buffer, 0, len(buffer))
    s._join_summaries(10.3)
    assert not s._superseded and s.counters.wire_flows == 1


def test_a_summary_carrying_its_clienthello_is_a_whole_handshake_without_any_segment() -> None:
    s = sensor()
    hello = _client_hello(0x001D, 32, b"held.test", True)
    data = summary(1000, 10.002, 71, hello=hello, hello_at=10.0)
    s._on_wire_end(data, 0, len(data))
    records = s.correlator.drain(20.0, final=True)
    got = sorted((r["sni"], r["role"], r["pid"], r["negotiated_group"], r["success"], r["handshake_ms"])
                 for r in records)
    assert got == [("held.test", "client", 41, "x25519", True, 2.0), ("held.test", "server", 71, "x25519", True, 2.0)]
    assert s.counters.wire_summaries == 1 and s.counters.packets == 0 and not s._summaries


def test_a_summary_ended_by_a_plaintext_alert_names_it() -> None:
    s = sensor()
    hello = _client_hello(0x001D, 32, b"refused.test", True)
    data = summary(1000, 10.002, 71, hello=hello, hello_at=10.0, outcome=WireOutcome.ALERT, alert=48 + 1)
    s._on_wire_end(data, 0, len(data))
    records = s.correlator.drain(20.0, final=True)
    assert {(r["role"], r["alert"], r["success"]) for r in records} == \
        {("client", "unknown_ca", False), ("server", "unknown_ca", False)}


def test_a_clienthello_handed_over_by_the_filter_is_the_first_segment_of_what_it_passes() -> None:
    """TLS 1.2, a retry, a slow server: the filter hands the held ClientHello over (PASSED) and passes
    the rest; reassembly sees the connection as if every segment had been passed."""
    s = sensor()
    hello = _client_hello(0x001D, 32, b"passed.test", True)
    data = summary(1000, 10.0, 0, hello=hello, hello_at=10.0, outcome=WireOutcome.PASSED)
    s._on_wire_end(data, 0, len(data))
    for at, segment in enumerate(server_segments(1000, len(hello))):
        s._on_packet(segment, 10.001 + at / 1000)
    [record] = s.correlator.drain(20.0, final=True)
    assert (record["sni"], record["negotiated_group"], record["success"]) == ("passed.test", "x25519", True)
    assert s.counters.wire_summaries == 0 and s.counters.packets == 1 and s.counters.wire_flows == 1


def test_clienthellos_held_too_long_are_taken_from_the_filter_and_go_the_way_of_segments() -> None:
    s = sensor()
    hello = _client_hello(0x001D, 32, b"slow.test", True)
    held = summary(1000, 0.0, 0, hello=hello, hello_at=10.0)
    s._hellos = {"young": summary(1000, 0.0, 0, hello=hello, hello_at=11.0).ljust(len(held) + 100, b"\0"),
                 "old": held.ljust(len(held) + 100, b"\0")}  # a map value: the hello, then what is left of its buffer
    s._take_hellos(lambda ts_ns: ts_ns < 10.5e9)
    assert list(s._hellos) == ["young"]  # deleted, so the filter will not send it too
    for at, segment in enumerate(server_segments(1000, len(hello))):
        s._on_packet(segment, 10.5 + at / 1000)
    [record] = s.correlator.drain(20.0, final=True)
    assert (record["sni"], record["success"], record["source"]) == ("slow.test", True, "wire")


def test_a_probe_events_endpoints_are_what_its_raw_address_says_whatever_the_addresses_seen_before() -> None:
    # The sensor keeps the text of each address it has read: a cached address must still come back
    # with each event's own port, and one family's bytes never stand for the other's.
    s = sensor()
    v4, v6 = bytes([127, 0, 0, 1]) + bytes(12), bytes.fromhex("20010db8000000000000000000000001")
    mapped_v4 = bytes(10) + b"\xff\xff" + bytes([10, 0, 0, 1])
    cases = [(2, v4, 40000), (2, v4, 40001), (10, v4, 443), (10, v6, 443), (10, v6, 8443), (10, mapped_v4, 1),
             (10, mapped_v4, 2), (2, v4, 40000), (1, v4, 5), (0, v4, 5)]
    for family, addr, port in cases:
        assert s._endpoint(family, addr, port) == endpoint_from_raw(family, addr, port), (family, addr, port)
    assert s._endpoint(10, v4, 443) == ("7f00:1::", 443)  # (the v4 bytes as an IPv6 address, not 127.0.0.1)


def test_a_start_event_sent_with_its_success_is_decoded_into_the_start_and_the_success() -> None:
    # One record of the kernel's (the start, held until the handshake succeeded, with the socket, the
    # role and the SNI) is two events for the correlator, on the sensor's clock.
    s = sensor()
    s._clock_offset = 100.0
    raw = _event(Kind.HANDSHAKE_ENTER, 5_000_000_000, 77, 0x5500, ret=1, flags=_E_FD | _E_SNI | _E_DONE, fd=5,
                 port=40000, sni=b"stress.localhost", done_ns=5_002_000_000)
    s._on_event(raw, 0, len(raw))
    client, server = Endpoint("127.0.0.1", 40000), Endpoint("127.0.0.1", 4433)
    start, done = 5_000_000_000 / 1e9 + 100.0, 5_002_000_000 / 1e9 + 100.0  # (the sensor's own arithmetic)
    assert s._batch == [
        ProbeEvent(Kind.HANDSHAKE_ENTER, start, 77, 77, "python3", 0x5500, 0, 5, client, server, "stress.localhost",
                   "client", None),
        ProbeEvent(Kind.HANDSHAKE_RETURN, done, 77, 77, "python3", 0x5500, 1),
    ]


def test_the_exe_of_an_executed_path_has_its_symlinks_resolved(tmp_path: Path) -> None:
    program = tmp_path / "bin" / "program"
    program.parent.mkdir()
    program.write_bytes(b"\x7fELF")
    (tmp_path / "link").symlink_to(program)
    assert executable_of(str(tmp_path / "link")) == str(program)


def test_the_exe_of_a_script_is_its_interpreter_followed_as_the_kernel_does(tmp_path: Path) -> None:
    interpreter = tmp_path / "interpreter"
    interpreter.write_bytes(b"\x7fELF")
    (tmp_path / "python").symlink_to(interpreter)
    inner = tmp_path / "inner"
    inner.write_text(f"#! {tmp_path / 'python'} -u\nprint()\n")
    outer = tmp_path / "outer"
    outer.write_text(f"#!{inner}\n")
    assert executable_of(str(outer)) == str(interpreter)
    looping = tmp_path / "looping"
    looping.write_text(f"#!{looping}\n")
    assert executable_of(str(looping)) == str(looping)  # the kernel gives up after four levels too


def test_an_executed_path_that_cannot_be_read_back_gives_no_exe(tmp_path: Path) -> None:
    assert executable_of("./server") is None  # relative to a working directory no longer known
    assert executable_of("/dev/fd/3/x") is None and executable_of("/proc/self/fd/3") is None
    assert executable_of(str(tmp_path / "removed")) == str(tmp_path / "removed")  # what there is


def test_a_process_already_gone_keeps_the_exe_it_was_executed_as() -> None:
    # a process that has exited and been reaped
    pid = int(subprocess.run(["sh", "-c", "echo $$"], capture_output=True, text=True, check=True).stdout)
    library = Library("/usr/lib/libssl.so.3", "OpenSSL", "3.0.0")
    resolve = ProcessResolver([library], {pid: "/usr/bin/true"}.get)
    assert resolve(pid).exe == os.path.realpath("/usr/bin/true")
    assert resolve(pid).library == "OpenSSL"  # the only library the probes are attached to
    assert resolve(os.getpid()).exe == os.readlink("/proc/self/exe")  # alive: /proc has it
    assert ProcessResolver([library])(pid).exe is None


def test_a_long_certificate_chain_does_not_hide_the_tls12_group_from_the_packet_path() -> None:
    """TLS 1.2 through the packet ring (the filter summarises only TLS 1.3): 200 KB of certificates,
    three times what a direction holds, before the ServerKeyExchange."""
    from tests.runtime.tlsbytes import ecdhe_server_key_exchange, handshake, records, server_hello

    s = sensor()
    isn, server_isn = 1000, 7000
    hello = _client_hello(0x001D, 32, b"chain.test", False)
    s._on_packet(_packet(CLIENT_IP, SERVER_IP, PORT, SERVER_PORT, isn + 1, ACK | PSH, hello)[14:], 10.0)
    flight = records(22, server_hello(version=None, share=None, suite=0xC02F) + handshake(11, bytes(200_000))
                     + ecdhe_server_key_exchange(0x0017) + handshake(14, b""))
    for i in range(0, len(flight), 1400):
        s._on_packet(_packet(SERVER_IP, CLIENT_IP, SERVER_PORT, PORT, server_isn + 1 + i, ACK,
                             flight[i : i + 1400])[14:], 10.01)
    finish = _record(20, b"\x01") + _record(22, bytes(40))
    s._on_packet(_packet(CLIENT_IP, SERVER_IP, PORT, SERVER_PORT, isn + 1 + len(hello), ACK | PSH, finish)[14:], 10.02)
    s._on_packet(_packet(SERVER_IP, CLIENT_IP, SERVER_PORT, PORT, server_isn + 1 + len(flight), ACK | PSH,
                         finish)[14:], 10.03)
    [record] = s.correlator.drain(20.0, final=True)
    assert (record["sni"], record["tls_version"], record["negotiated_group"], record["success"]) == \
        ("chain.test", "TLSv1.2", "secp256r1", True)


def test_the_pre_63_build_is_chosen_when_the_kernel_lacks_the_socket_io_tracepoints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """sock:sock_recv_length arrived in Linux 6.3: without it (as tracefs shows)
    the sensor builds its SYSCALL_IO variant; CARNOT_SENSOR_IO forces either, and any other value is
    a one-line error rather than a silent default."""
    from assess.sources.runtime import readiness
    from assess.sources.runtime import sensor as sensor_module
    from assess.sources.runtime.sensor import SensorUnavailable, _syscall_io

    old, new = tmp_path / "old", tmp_path / "new"
    (new / "events" / "sock" / "sock_recv_length").mkdir(parents=True)
    (old / "events" / "sock" / "inet_sock_set_state").mkdir(parents=True)
    monkeypatch.delenv("CARNOT_SENSOR_IO", raising=False)
    for tracefs, wanted in ((old, True), (new, False)):
        monkeypatch.setattr(readiness, "TRACEFS", (tracefs,))
        monkeypatch.setattr(sensor_module, "socket_io_tracepoints", readiness.socket_io_tracepoints)
        assert _syscall_io() is wanted
        monkeypatch.setenv("CARNOT_SENSOR_IO", "syscall")
        assert _syscall_io() is True
        monkeypatch.setenv("CARNOT_SENSOR_IO", "sock")
        assert _syscall_io() is False
        monkeypatch.delenv("CARNOT_SENSOR_IO")
    check = next(c for c in readiness.sensor_checks() if c.name == "socket I/O tracepoints")
    assert check.ok and not check.required
    monkeypatch.setenv("CARNOT_SENSOR_IO", "syscalls")
    with pytest.raises(SensorUnavailable, match="CARNOT_SENSOR_IO='syscalls'"):
        _syscall_io()


class _Ring:
    """A BPF ring buffer's consumer side: its records, then `after()` once they are taken."""

    def __init__(self) -> None:
        self.records: list[bytes] = []
        self.after = lambda: None

    def drain(self, handler: object) -> int:
        taken, self.records = self.records, []
        for raw in taken:
            handler(raw, 0, len(raw))  # type: ignore[operator]
        self.after()
        return len(taken)


def test_a_sensor_kept_off_the_cpu_after_reading_its_rings_still_joins_both_views_of_a_handshake() -> None:
    """Under SCHED_IDLE on a saturated host the sensor can be kept off the CPU for seconds in the
    middle of a pass. A summary it read just before must wait for the handshake's probe event
    (written after the event ring was read) until the rings have been read again, however long the
    wall clock ran on: not be written alone at the pass's drain, leaving the event to time out."""
    clock = _Clock(_OFFSET + 1000.0)  # (a thousand seconds after boot)
    s = Sensor(CaptureOptions(out=None, ifaces=("lo",)), Correlator(host="t", join_wait=1.0))  # type: ignore[arg-type]
    s._wire_end, s._flow_table, s._epoll, s._next_sweep = WIRE_END, mock.Mock(), mock.Mock(), math.inf
    s._event_ring, s._wire_ring = events, wire = _Ring(), _Ring()
    [(_, _, summary_raw), (_, _, event_raw)] = _connection(0, clock.now, summarised=True)

    def descheduled() -> None:  # the event is written while the sensor is off the CPU
        clock.now += 3.0
        events.records.append(event_raw)

    wire.records.append(summary_raw)
    wire.after = descheduled
    with mock.patch.object(sensor_module, "time", clock):
        s.poll(0)
        assert s.ready_lines() == []  # three seconds on, but the event ring was read before the summary's event
        wire.after = lambda: None
        s.poll(0)
        lines = s.ready_lines() + s.correlator.drain_json(clock.now + 60, final=True)
    records = [json.loads(line) for line in lines]
    assert sorted((r["role"], r["source"], r["pid"]) for r in records) == [("client", "uprobe+wire", 1000),
                                                                           ("server", "wire", 7)]
    assert s.correlator.correlation_timeouts == 0


class _OwnerTable:
    """owner_by_client as the sensor's RawMap reads it: owner_t tuples by key tuple."""

    def __init__(self, entries: dict[tuple[object, ...], tuple[object, ...]]) -> None:
        self.entries = entries

    def get(self, *key: object) -> tuple[object, ...] | None:
        return self.entries.get(key)


def test_owners_are_looked_up_by_both_ends_first_and_by_the_client_end_alone_behind_dnat() -> None:
    """Two connections at once from one client port: the later's owner is the one under the client
    end alone, and each connection finds its own under both ends. A server behind DNAT names its
    private address, so a flow to the public one finds its server under the client end alone."""
    client, first, second, public = (Endpoint("10.0.0.1", PORT), Endpoint("10.0.0.2", 443),
                                     Endpoint("10.0.0.3", 443), Endpoint("192.0.2.9", 443))
    s = sensor()

    def owner(pid: int, comm: bytes) -> tuple[object, ...]:
        return (int(9e9), pid, pid, -1, 0, comm)

    def key(role: int, server: Endpoint | None) -> tuple[object, ...]:
        ends = (sensor_module.ip_bytes(server.ip), server.port) if server else (bytes(16), 0)
        return (sensor_module.ip_bytes(client.ip), ends[0], PORT, role, ends[1], 0)

    s._owner_table = _OwnerTable({  # type: ignore[assignment]
        key(1, first): owner(41, b"tlslite"), key(2, first): owner(71, b"server-one"),
        key(1, second): owner(42, b"curl"), key(2, second): owner(72, b"server-two"),
        key(1, None): owner(42, b"curl"), key(2, None): owner(72, b"server-two"),  # the later connection's
    })
    assert [(ev.kind, ev.tgid, ev.comm) for ev in s.owners(client, first, 10.0)] == [
        (Kind.CONNECT, 41, "tlslite"), (Kind.ACCEPT, 71, "server-one")]
    assert [(ev.kind, ev.tgid) for ev in s.owners(client, second, 10.0)] == [(Kind.CONNECT, 42), (Kind.ACCEPT, 72)]

    private = Endpoint("172.17.0.2", 8443)  # behind DNAT: the client connected to `public`
    s._owner_table = _OwnerTable({  # type: ignore[assignment]
        key(1, public): owner(41, b"curl"), key(2, private): owner(71, b"nginx"),
        key(1, None): owner(41, b"curl"), key(2, None): owner(71, b"nginx"),
    })
    assert [(ev.kind, ev.tgid) for ev in s.owners(client, public, 10.0)] == [(Kind.CONNECT, 41), (Kind.ACCEPT, 71)]
