"""The sensor's user space without a kernel: what its callbacks do with the kernel's output, built
byte for byte in the kernel's layouts (as the sensor benchmark builds it)."""

from __future__ import annotations

from unittest import mock

from assess.sources.runtime.correlate import Correlator
from assess.sources.runtime.sensor import CaptureOptions, Sensor, WireOutcome
from bench.pcap_bench import ACK, PSH, _client_hello, _packet
from bench.sensor_bench import WIRE_END

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


def summary(isn: int, end: float, server_pid: int) -> bytes:
    ns = int(end * 1e9)
    owners = (ns, 41, 41, 5, 0, b"python3", ns, server_pid, server_pid, 4, 0, b"openssl")
    return WIRE_END.pack(ns, CLIENT_IP, SERVER_IP, PORT, SERVER_PORT, 0x0303, 0x1301, 0x001D, WireOutcome.FINISHED,
                         isn, *owners, 0, 0, 0)


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
