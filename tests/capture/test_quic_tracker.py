"""The capture's QUIC table: bounded, idle connections handed over, server Initials and stray UDP
never start a connection (datagrams built from RFC 9001's test packets)."""

from __future__ import annotations

from quic_vectors import V1_CLIENT_INITIAL, V1_SERVER_INITIAL

from assess.sources.capture.packets import UdpDatagram
from assess.sources.capture.quic import QuicTracker
from assess.sources.runtime.reassembly import Endpoint

SERVER = Endpoint("192.0.2.1", 443)


def client(port: int) -> Endpoint:
    return Endpoint("198.51.100.7", port)


def test_a_full_table_evicts_the_oldest_with_what_it_showed() -> None:
    tracker = QuicTracker(max_connections=1)
    assert tracker.add(UdpDatagram(client(1000), SERVER, V1_CLIENT_INITIAL), 1.0, "a.pcap") == []
    [evicted] = tracker.add(UdpDatagram(client(1001), SERVER, V1_CLIENT_INITIAL), 2.0, "a.pcap")
    assert evicted.flow.client == client(1000) and evicted.flow.handshake.client_hello.sni == "example.com"
    assert evicted.flow.timed_out and tracker.counters.quic_evictions == 1
    [last] = tracker.finish()
    assert last.flow.client == client(1001)


def test_server_initials_and_other_udp_start_nothing() -> None:
    tracker = QuicTracker()
    tracker.add(UdpDatagram(SERVER, client(1000), V1_SERVER_INITIAL), 1.0, "a.pcap")
    tracker.add(UdpDatagram(client(53), SERVER, b"\x81\x80" + bytes(30)), 1.0, "a.pcap")  # a DNS-like datagram
    assert tracker.finish() == [] and tracker.counters.udp_datagrams == 2


def test_the_handshake_is_handed_over_at_the_clients_first_1rtt_packet() -> None:
    tracker = QuicTracker()
    tracker.add(UdpDatagram(client(1000), SERVER, V1_CLIENT_INITIAL), 1.0, "a.pcap")
    assert tracker.add(UdpDatagram(SERVER, client(1000), V1_SERVER_INITIAL), 1.1, "a.pcap") == []
    [done] = tracker.add(UdpDatagram(client(1000), SERVER, b"\x41" + bytes(40)), 1.2, "a.pcap")
    assert done.flow.handshake.success is True and done.flow.handshake.negotiated_group == 0x001D
    assert tracker.counters.quic_flows == 1 and tracker.finish() == []
