"""RingBuffer: a real BPF ring buffer, written by a BPF program on a syscall tracepoint, read in
shared memory: every record once, in order, across the wrap-around; discarded records skipped."""

from __future__ import annotations

import ctypes
import mmap
import os
import struct
from collections.abc import Iterator
from typing import Any

import pytest

from assess.sources.runtime.ringbuf import RingBuffer

PAGES = 1  # a one-page ring: a few hundred records wrap it many times
_PROGRAM = r"""
struct words_t {
    u64 w[8];
};
BPF_RINGBUF_OUTPUT(ring, RING_PAGES);
BPF_ARRAY(counter, u64, 1);

// Each getppid() from the test's process writes a record of 8 + (n % 5) * 8 + 4 bytes, whose words
// are n; every seventh record is reserved and discarded instead.
TRACEPOINT_PROBE(syscalls, sys_enter_getppid) {
    if ((bpf_get_current_pid_tgid() >> 32) != TEST_PID)
        return 0;
    int zero = 0;
    u64 *count = counter.lookup(&zero);
    if (!count)
        return 0;
    u64 n = *count;
    *count = n + 1;
    if (n % 7 == 6) {
        struct words_t *slot = ring.ringbuf_reserve(sizeof(struct words_t));
        if (slot)
            ring.ringbuf_discard(slot, 0);
        return 0;
    }
    struct words_t words = {.w = {n, n, n, n, n, n, n, n}};
    u32 size = (8 + (n % 5) * 8 + 4) & 63;  // (the mask tells the verifier it fits in words)
    ring.ringbuf_output(&words, size, 0);
    return 0;
}
"""


@pytest.fixture
def ring() -> Iterator[tuple[Any, RingBuffer]]:
    from bcc import BPF

    bpf = BPF(text=_PROGRAM, cflags=[f"-DTEST_PID={os.getpid()}", f"-DRING_PAGES={PAGES}"])
    buffer = RingBuffer(bpf["ring"].map_fd, PAGES * mmap.PAGESIZE)
    yield bpf, buffer
    buffer.close()
    bpf.cleanup()


def _collect(buffer: RingBuffer, seen: list[tuple[int, int]]) -> int:
    def handle(data: Any, start: int, size: int) -> None:
        words = {struct.unpack_from("<Q", data, start + i)[0] for i in range(0, size - 4, 8)}
        assert len(words) == 1, words  # one record, read whole
        seen.append((words.pop(), size))

    return buffer.drain(handle)


@pytest.mark.root
def test_records_are_read_once_in_order_across_the_wrap_around(ring: tuple[Any, RingBuffer]) -> None:
    _, buffer = ring
    seen: list[tuple[int, int]] = []
    for _ in range(60):  # 60 x 10 records of up to 56 bytes: a 4 KiB ring wraps many times
        for _ in range(10):
            os.getppid()
        _collect(buffer, seen)
    written = [n for n in range(600) if n % 7 != 6]
    assert [n for n, _ in seen] == written
    assert all(size == 8 + (n % 5) * 8 + 4 for n, size in seen)
    assert _collect(buffer, seen) == 0  # nothing is read twice


@pytest.mark.root
def test_a_full_ring_keeps_what_it_holds_and_takes_records_again_once_read(ring: tuple[Any, RingBuffer]) -> None:
    bpf, buffer = ring
    for _ in range(500):  # far more than a page holds, unread: the kernel refuses what does not fit
        os.getppid()
    seen: list[tuple[int, int]] = []
    first = _collect(buffer, seen)
    assert 0 < first < 500 - 500 // 7
    assert [n for n, _ in seen] == [n for n in range(len(seen) + len(seen) // 6 + 1) if n % 7 != 6][: len(seen)]
    os.getppid()  # room again
    assert _collect(buffer, seen) == 1
    assert seen[-1][0] == bpf["counter"][ctypes.c_int(0)].value - 1


def test_a_size_that_is_not_a_power_of_two_is_refused() -> None:
    with pytest.raises(ValueError, match="power of two"):
        RingBuffer(-1, 3 * mmap.PAGESIZE)
