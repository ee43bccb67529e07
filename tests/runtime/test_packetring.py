"""The PACKET_MMAP ring: packets come out whole with their times, a full ring counts its drops."""

from __future__ import annotations

import mmap
import socket
import time
from collections.abc import Iterator

import pytest

from assess.sources.runtime.packetring import PacketRing, ring_geometry

MARK = b"carnot-ring-test"


@pytest.mark.parametrize(
    ("size", "expected"),
    [(8 << 20, (1 << 17, 64)), (4096, (mmap.PAGESIZE, 1)), (100_000, (32768, 3)), (1, (mmap.PAGESIZE, 1))],
)
def test_ring_geometry_is_blocks_of_a_page_to_128_kib(size: int, expected: tuple[int, int]) -> None:
    assert ring_geometry(size) == expected


@pytest.fixture(scope="module")
def accept_all() -> Iterator[int]:
    bcc = pytest.importorskip("bcc", reason="needs Debian's python3-bpfcc")
    bpf = bcc.BPF(text="int all(struct __sk_buff *skb) { return -1; }")
    yield bpf.load_func("all", bcc.BPF.SOCKET_FILTER).fd
    bpf.cleanup()


def udp_burst(count: int, size: int = 64) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as rx, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tx:
        rx.bind(("127.0.0.1", 0))
        for i in range(count):
            tx.sendto(MARK + i.to_bytes(4, "big") + b"x" * size, rx.getsockname())


@pytest.mark.root
def test_packets_come_out_whole_with_their_capture_times(accept_all: int) -> None:
    ring = PacketRing("lo", accept_all, 1 << 20, retire_ms=10)
    try:
        ring.drain(None)
        before = time.time()
        udp_burst(50)
        time.sleep(0.1)  # longer than retire_ms: the half-full block is handed over
        seen: list[tuple[bytes, float]] = []
        ring.drain(lambda data, ts: seen.append((bytes(data), ts)))
        ours = [(d, ts) for d, ts in seen if MARK in d]
        numbers = {int.from_bytes(d[d.index(MARK) + len(MARK):][:4], "big") for d, _ in ours}
        assert numbers == set(range(50))  # (loopback shows each twice: leaving and arriving)
        assert all(d[0] >> 4 == 4 for d, _ in ours)  # offsets start at the IP header
        assert all(before - 1 < ts < time.time() + 1 for _, ts in ours)
        assert ring.drain(None) == 0  # the blocks went back to the kernel
    finally:
        ring.close()


@pytest.mark.root
def test_a_ring_too_small_for_a_burst_counts_what_it_dropped(accept_all: int) -> None:
    ring = PacketRing("lo", accept_all, 4096, retire_ms=1000)
    try:
        ring.drain(None)
        ring.stats()
        udp_burst(500, size=512)
        time.sleep(0.05)
        _, drops = ring.stats()
        assert drops > 0
    finally:
        ring.close()


@pytest.mark.root
@pytest.mark.parametrize("incoming_only", [False, True])
def test_an_incoming_only_ring_on_loopback_sees_each_packet_once(accept_all: int, incoming_only: bool) -> None:
    """Loopback sends and then receives every packet; a socket that ignores what is sent still sees
    everything, once, and spares each packet sent a copy and a filter run."""
    ring = PacketRing("lo", accept_all, 1 << 20, retire_ms=10, incoming_only=incoming_only)
    try:
        assert ring.incoming_only is incoming_only
        ring.drain(None)
        udp_burst(20)
        time.sleep(0.1)
        seen: list[bytes] = []
        ring.drain(lambda data, _ts: seen.append(bytes(data)))
        ours = [d for d in seen if MARK in d]
        assert len(ours) == (20 if incoming_only else 40)
        assert {int.from_bytes(d[d.index(MARK) + len(MARK):][:4], "big") for d in ours} == set(range(20))
    finally:
        ring.close()
