"""TCP reassembly: out of order, retransmitted, overlapping, wrapped and SYN-less streams."""

from __future__ import annotations

import random

from assess.sources.runtime.reassembly import Endpoint, OutOfOrder, Reassembler, Stream

PAYLOAD = bytes(range(256)) * 8


def segments(data: bytes, size: int, isn: int = 5000) -> list[tuple[int, bytes]]:
    return [((isn + i) % (1 << 32), data[i : i + size]) for i in range(0, len(data), size)]


def test_out_of_order_segments_are_put_back_in_order() -> None:
    segs = segments(PAYLOAD, 100)
    random.Random(1).shuffle(segs)
    s = Stream()
    s.add(4999, b"", 0.0, syn=True)
    for i, (seq, chunk) in enumerate(segs):
        s.add(seq, chunk, float(i))
    assert s.data == PAYLOAD and not s.has_gap


def test_retransmits_and_overlaps_keep_the_bytes_seen_first() -> None:
    s = Stream()
    s.add(100, b"abcdef", 1.0)
    s.add(100, b"abcdef", 2.0)  # retransmit
    s.add(103, b"XYZghi", 3.0)  # overlaps "def" with other bytes, then new ones
    assert s.data == b"abcdefghi"
    assert s.time_at(0) == 1.0 and s.time_at(7) == 3.0 and s.time_at(9) is None


def test_sequence_numbers_wrap_around() -> None:
    isn = (1 << 32) - 150
    segs = segments(PAYLOAD[:600], 100, isn=isn)
    s = Stream()
    for seq, chunk in reversed(segs[1:]):
        s.add(seq, chunk, 1.0)
    s.add(*segs[0], 2.0)
    assert s.data == PAYLOAD[:600]


def test_without_a_syn_an_earlier_segment_moves_the_start_back() -> None:
    segs = segments(PAYLOAD[:400], 100)
    s = Stream()
    s.add(*segs[2], 1.0)
    s.add(*segs[1], 2.0)
    s.add(*segs[3], 3.0)
    s.add(*segs[0], 4.0)
    assert s.data == PAYLOAD[:400]
    assert s.time_at(0) == 4.0


def test_with_a_syn_bytes_before_the_start_are_ignored() -> None:
    s = Stream()
    s.add(999, b"", 0.0, syn=True)
    s.add(990, b"0123456789abc", 1.0)  # 10 bytes before the first byte, then "abc"
    assert s.data == b"abc"


def test_a_stream_stops_at_its_byte_limit_and_says_so() -> None:
    s = Stream(max_bytes=250)
    for seq, chunk in segments(PAYLOAD[:1000], 100):
        s.add(seq, chunk, 1.0)
    assert len(s.data) == 250 and s.truncated


def test_far_ahead_segments_are_held_only_up_to_the_streams_limit_and_the_drops_counted() -> None:
    """A hostile sender never fills the gap and sends overlapping segments far ahead: each one's
    bytes would be held again. The direction holds at most its limit, what is in order included."""
    pool = OutOfOrder(limit=1 << 30)
    s = Stream(max_bytes=65536, out_of_order=pool)
    s.add(999, b"", 0.0, syn=True)
    s.add(1000, b"x" * 1000, 1.0)
    for i in range(2000):
        s.add(1000 + 5000 + i, b"y" * 1400, 2.0)  # each 1 byte further than the last, 1400 bytes long
    assert len(s.data) + s.held <= 65536 and s.held == pool.held == (65536 - 1000) // 1400 * 1400
    assert pool.dropped == 2000 - (65536 - 1000) // 1400
    s.release()
    assert pool.held == 0


def test_out_of_order_bytes_of_every_connection_together_stop_at_the_total_limit() -> None:
    r = Reassembler(max_out_of_order=100_000)
    server = Endpoint("10.0.0.1", 443)
    for port in range(100):
        client = Endpoint("10.0.0.2", 40000 + port)
        r.add(client, server, 1, b"", 0.0, syn=True)
        for i in range(10):
            r.add(client, server, 1000 + i * 2000, b"z" * 1400, 1.0)  # far ahead, never in order
    assert r.out_of_order_held == 100_000 // 1400 * 1400
    assert r.out_of_order_dropped == 100 * 10 - 100_000 // 1400
    first = Endpoint("10.0.0.2", 40000)
    key, _ = r.add(first, server, 2, b"in order", 2.0)
    r.pop(key)  # a connection handed over gives its room back ...
    assert r.out_of_order_held == 100_000 // 1400 * 1400 - 10 * 1400
    r.add(first, server, 1, b"", 3.0, syn=True)  # ... to the others, and to a new one on the same ports
    r.add(first, server, 5000, b"w" * 1400, 3.0)
    assert r.out_of_order_held == 100_000 // 1400 * 1400 - 9 * 1400


def test_a_gap_filled_after_many_segments_drains_them_in_order() -> None:
    s = Stream()
    s.add(999, b"", 0.0, syn=True)
    chunks = [PAYLOAD[i : i + 1] for i in range(1, 2048)]
    for i in reversed(range(len(chunks))):
        s.add(1001 + i, chunks[i], 1.0)
    assert s.data == b"" and s.held == 2047
    s.add(1000, PAYLOAD[:1], 2.0)
    assert s.data == PAYLOAD and s.held == 0 and not s.has_gap


def test_connections_beyond_the_limit_are_evicted_and_counted() -> None:
    r = Reassembler(max_connections=3)
    server = Endpoint("10.0.0.1", 443)
    for port in range(10):
        r.add(Endpoint("10.0.0.2", 40000 + port), server, 1, b"x", float(port))
    assert len(r) == 3 and r.evictions == 7


def test_both_directions_share_one_connection_and_close_is_seen() -> None:
    r = Reassembler()
    a, b = Endpoint("127.0.0.1", 5000), Endpoint("127.0.0.1", 443)
    key, _ = r.add(a, b, 10, b"hello", 1.0)
    key2, conn = r.add(b, a, 77, b"world", 2.0, fin=True)
    assert key == key2 and conn.closed
    assert conn.stream(a, b).data == b"hello" and conn.stream(b, a).data == b"world"
    assert [k for k, _ in r.idle(older_than=3.0)] == [key]
