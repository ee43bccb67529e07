"""The socket filter (bpf/tls_wire.c) run by the kernel on crafted packets (BPF_PROG_TEST_RUN):
its fast path for the segments of connections it does not track lets a packet go only where the
full path would have, with the same state left behind; as loopback's cgroup program, it hands over
what the socket filter passes and lets every packet through."""

from __future__ import annotations

import mmap
import random
import struct
from collections.abc import Iterator
from typing import Any

import pytest
from tlsbytes import app_data, ccs, client_hello, records, server_hello

from assess.sources.runtime.cgrouplink import netns_cookie, possible_cpus
from assess.sources.runtime.ringbuf import RingBuffer
from bench.progrun import CFLAGS, ipv4, ipv6, load_filter, run_filter, tcp

WIRE_RING_PAGES = next(f.split("=")[1] for f in CFLAGS if f.startswith("-DWIRE_RING_PAGES="))

pytestmark = [pytest.mark.root]


class Filter:
    def __init__(self, *extra: str, name: str = "tls_wire", kind: str = "SOCKET_FILTER") -> None:
        bcc = pytest.importorskip("bcc", reason="needs Debian's python3-bpfcc")
        self.bpf, self.fd = load_filter(bcc, *extra, name=name, kind=kind)

    def run(self, ip_packet: bytes) -> int:
        """The filter's verdict on one packet: 0 (not passed) or how many bytes it passes."""
        return run_filter(self.fd, ip_packet)[0]

    def flows(self) -> dict[bytes, bytes]:
        table = self.bpf["flows"]
        return {bytes(k): bytes(v) for k, v in table.items()}

    def close(self) -> None:
        self.bpf.cleanup()


@pytest.fixture(scope="module")
def filters() -> Iterator[tuple[Filter, Filter]]:
    fast, full = Filter(), Filter("-DNO_FAST_PATH")
    yield fast, full
    fast.close()
    full.close()


def connection(rng: random.Random, n: int, six: bool) -> list[bytes]:
    """The packets of one connection, by kind: a TLS 1.3 handshake then data, a TLS 1.2-like one, a
    plaintext protocol upgraded by STARTTLS, SSH, or a TLS or SSH one open before the capture."""
    kind = rng.choice(["tls13", "tls12", "starttls", "ssh", "ssh-midstream", "midstream", "plain"])
    c, s = ("2001:db8::1", "2001:db8::2") if six else ("10.0.0.1", "10.0.0.2")
    cport, sport = 30000 + n, rng.choice([443, 22, 25, 8443])
    ip = ipv6 if six else ipv4

    def up(seq: int, flags: int, data: bytes = b"") -> bytes:
        return ip(c, s, tcp(cport, sport, seq, flags, data, timestamps=rng.random() < 0.7))

    def down(seq: int, flags: int, data: bytes = b"") -> bytes:
        return ip(s, c, tcp(sport, cport, seq, flags, data, timestamps=rng.random() < 0.7))

    hello = records(22, client_hello(sni=b"filter.test"))
    cseq, sseq = 1000 * n, 50000 + 1000 * n
    out: list[bytes] = []
    if not kind.endswith("midstream"):
        out += [up(cseq, 0x02), down(sseq, 0x12), up(cseq + 1, 0x10)]
    cseq, sseq = cseq + 1, sseq + 1
    if kind == "starttls":
        out += [down(sseq, 0x18, b"220 mail.test\r\n"), up(cseq, 0x18, b"STARTTLS\r\n")]
        sseq, cseq = sseq + 15, cseq + 10
    if kind.startswith("ssh"):
        out += [down(sseq, 0x18, b"SSH-2.0-OpenSSH_9.2\r\n"), up(cseq, 0x18, b"SSH-2.0-test\r\n")]
        sseq, cseq = sseq + 21, cseq + 14
    if kind == "plain":
        out += [up(cseq, 0x18, b"GET / HTTP/1.1\r\n\r\n"), down(sseq, 0x18, b"HTTP/1.1 200 OK\r\n\r\n")]
    elif not kind.startswith("ssh"):
        flight = records(22, server_hello(share=0x001D)) + (ccs() + app_data(90) if kind != "tls12" else b"")
        out += [up(cseq, 0x18, hello), down(sseq, 0x18, flight), up(cseq + len(hello), 0x18, ccs() + app_data())]
    for i in range(rng.randint(1, 6)):  # the connection's traffic after its handshake, and its ACKs
        data = rng.choice([app_data(rng.randint(1, 1200)), b"S" + bytes(rng.randint(0, 60)), bytes([0x16]) * 9])
        out += [down(sseq + 1000 * i, 0x18, data), up(cseq + 5000 + i, 0x10)]
    if rng.random() < 0.5:
        out.append(up(cseq + 9000, rng.choice([0x11, 0x04])))
    return out


def interleaved(seed: int, count: int) -> list[bytes]:
    rng = random.Random(seed)
    streams = [connection(rng, n, six=n % 3 == 0) for n in range(count)]
    packets: list[bytes] = []
    while any(streams):
        stream = rng.choice([s for s in streams if s])
        packets.append(stream.pop(0))
    return packets


def odd_packets() -> list[bytes]:
    """Packets the fast path leaves to the full one: IP options, fragments, short ones."""
    hello = records(22, client_hello(sni=b"odd.test"))
    return [
        ipv4("10.1.0.1", "10.1.0.2", tcp(4000, 443, 1, 0x18, hello), options=b"\x01\x01\x01\x00"),
        ipv4("10.1.0.1", "10.1.0.2", tcp(4001, 443, 1, 0x18, hello)[:600], frag=0x2000),
        ipv4("10.1.0.1", "10.1.0.2", tcp(4002, 443, 1, 0x10, timestamps=False)),
        ipv4("10.1.0.1", "10.1.0.2", tcp(4003, 443, 1, 0x18, b"\x16", timestamps=False)),
        ipv4("10.1.0.1", "10.1.0.2", tcp(4004, 443, 1, 0x18, b"x", timestamps=False)),
        ipv6("2001:db8::5", "2001:db8::6", tcp(4005, 443, 1, 0x10, timestamps=False)),
    ]


@pytest.mark.parametrize("seed", range(6))
def test_the_fast_path_lets_go_only_what_the_full_path_would(filters: tuple[Filter, Filter], seed: int) -> None:
    fast, full = filters
    packets = interleaved(seed, 40) + odd_packets()
    verdicts: list[tuple[int, Any, Any]] = [(i, fast.run(p), full.run(p)) for i, p in enumerate(packets)]
    differ = [v for v in verdicts if v[1] != v[2]]
    assert not differ, differ[:5]
    assert sum(1 for _, verdict, _ in verdicts if verdict) > 10  # handshakes were passed, not everything dropped
    assert fast.flows() == full.flows()


@pytest.fixture(scope="module")
def fast_path_alone() -> Iterator[Filter]:
    """The filter built to pass one byte of whatever its fast path leaves to the full path."""
    only = Filter("-DFAST_PATH_ONLY")
    yield only
    only.close()


@pytest.mark.parametrize("six", [False, True], ids=["ipv4", "ipv6"])
@pytest.mark.parametrize("timestamps", [True, False], ids=["timestamps", "no-options"])
def test_the_fast_path_alone_lets_go_the_data_and_acks_of_a_connection_it_does_not_track(
    fast_path_alone: Filter, six: bool, timestamps: bool
) -> None:
    ip, a, b = (ipv6, "2001:db8::1", "2001:db8::2") if six else (ipv4, "10.0.0.1", "10.0.0.2")
    hot = [ip(a, b, tcp(41000, 443, 9, 0x18, app_data(1000), timestamps=timestamps)),
           ip(b, a, tcp(443, 41000, 7, 0x10, timestamps=timestamps)),
           ip(b, a, tcp(443, 41000, 7, 0x18, b"HTTP/1.1 200 OK\r\n", timestamps=timestamps))]
    assert [fast_path_alone.run(p) for p in hot] == [0, 0, 0]
    # What may open something it must see goes on to the full path: a SYN, a handshake record, a banner.
    cold = [ip(a, b, tcp(41001, 443, 9, 0x02, timestamps=timestamps)),
            ip(a, b, tcp(41000, 443, 9, 0x18, records(22, client_hello(sni=b"x.test")), timestamps=timestamps)),
            ip(b, a, tcp(22, 41002, 7, 0x18, b"SSH-2.0-OpenSSH_9.2\r\n", timestamps=timestamps))]
    assert [fast_path_alone.run(p) for p in cold] == [1, 1, 1]


@pytest.fixture
def cgroup_and_socket_filter() -> Iterator[tuple[Filter, Filter, RingBuffer]]:
    """Loopback's cgroup program (with its ring of passed packets) and the socket filter, each with
    maps of its own."""
    cgroup = Filter(f"-DWIRE_NETNS_COOKIE={netns_cookie()}ULL", f"-DSCRATCH_CPUS={possible_cpus()}",
                    name="tls_wire_cgroup", kind="CGROUP_SKB")
    ring = RingBuffer(cgroup.bpf["wire_packets"].map_fd, int(WIRE_RING_PAGES) * mmap.PAGESIZE)
    socket_filter = Filter()
    yield cgroup, socket_filter, ring
    ring.close()
    cgroup.close()
    socket_filter.close()


@pytest.mark.parametrize("seed", range(3))
def test_the_cgroup_program_hands_over_what_the_socket_filter_passes_and_delivers_every_packet(
    cgroup_and_socket_filter: tuple[Filter, Filter, RingBuffer], seed: int
) -> None:
    cgroup, socket_filter, ring = cgroup_and_socket_filter
    # (the kernel runs a test skb as if it arrived on loopback, in this network namespace)
    packets = interleaved(seed, 40) + odd_packets()[:1] + odd_packets()[2:]  # (no fragment: they arrive whole)
    verdicts = [cgroup.run(p) for p in packets]
    assert set(verdicts) == {1}  # delivered, every one
    handed: list[bytes] = []
    ring.drain(lambda data, start, size: handed.append(bytes(data[start : start + size])))
    passed = [p for p in packets if socket_filter.run(p)]
    assert len(passed) > 10
    got = [(struct.unpack_from("<QII", r)[1:], r[16:]) for r in handed]
    assert got == [((len(p), len(p)), p) for p in passed]
    assert cgroup.flows() == socket_filter.flows()


def test_the_cgroup_program_hands_over_nothing_from_another_network_namespace() -> None:
    other = Filter(f"-DWIRE_NETNS_COOKIE={netns_cookie() + 1}ULL", "-DSCRATCH_CPUS=1",
                   name="tls_wire_cgroup", kind="CGROUP_SKB")
    try:
        hello = ipv4("127.0.0.1", "127.0.0.1", tcp(5000, 443, 1, 0x18, records(22, client_hello(sni=b"ns.test"))))
        assert other.run(hello) == 1
        assert other.flows() == {}
    finally:
        other.close()
