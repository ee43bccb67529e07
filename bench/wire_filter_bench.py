"""The wire view's socket filter (bpf/tls_wire.c) on the packets a busy host sends most, timed by
the kernel itself (BPF_PROG_TEST_RUN with repeats): no traffic, no socket, no other process, so
the figures hold still where an on/off throughput ratio on this project's VM moves by 3-10%.

Each packet belongs to a connection the filter does not track (its handshake is over, or it was
never TLS): an application-data record, a bare ACK, the same over IPv6. They are timed through the
filter with the sensor's default settings (with its fast path), without the fast path (the full parse), and
through a filter that returns at once (`floor`: the test harness's own cost per run). What the
kernel then pays per packet on a real host is more: there the flow table and the packet are cold in
the cache, and the packet socket's delivery costs as much again (docs/RUNTIME.md, session 35).
"""

from __future__ import annotations

import statistics
from typing import Any

from bench.progrun import bcc_for_benchmark, ipv4, ipv6, load_filter, run_filter, tcp

REPEAT = 200_000  # runs the kernel times in one call
SAMPLES = 7  # calls per figure; the median is kept
FLOOR = "int floor_filter(struct __sk_buff *skb) { return 0; }\n"


def packets() -> dict[str, bytes]:
    """The hot packets of untracked connections: none opens a handshake, so each takes the fast path."""
    record = b"\x17\x03\x03\x03\xfb" + bytes(1019)  # a 1 KiB TLS application-data record
    return {
        "app_data_v4": ipv4("127.0.0.1", "127.0.0.2", tcp(40000, 443, 1000, 0x18, record)),
        "ack_v4": ipv4("127.0.0.1", "127.0.0.2", tcp(40000, 443, 1000, 0x10)),
        "app_data_v6": ipv6("::1", "::1", tcp(40000, 443, 1000, 0x18, record)),
        "ack_v6": ipv6("::1", "::1", tcp(40000, 443, 1000, 0x10)),
    }


def _median_ns(fd: int, packet: bytes) -> float:
    return statistics.median(run_filter(fd, packet, REPEAT)[1] for _ in range(SAMPLES))


def run() -> dict[str, Any]:
    bcc, why_not = bcc_for_benchmark()
    if why_not:
        return {"skipped": why_not}
    fast, fast_fd = load_filter(bcc, extra_text=FLOOR)
    floor_fd = fast.load_func("floor_filter", bcc.BPF.SOCKET_FILTER).fd
    full, full_fd = load_filter(bcc, "-DNO_FAST_PATH")
    figures: dict[str, Any] = {"repeat": REPEAT, "samples": SAMPLES}
    try:
        hot = packets()
        floor = _median_ns(floor_fd, next(iter(hot.values())))
        figures["floor_ns_per_run"] = floor
        for name, packet in hot.items():
            for path, fd in (("fast", fast_fd), ("full", full_fd)):
                verdict = run_filter(fd, packet)[0]
                if verdict != 0:
                    raise AssertionError(f"the {path} filter passed {name} ({verdict} bytes): the benchmark's "
                                         "packets must be ones the sensor lets go")
                figures[f"{name}_{path}_ns_per_run"] = _median_ns(fd, packet)
            fast_ns, full_ns = figures[f"{name}_fast_ns_per_run"], figures[f"{name}_full_ns_per_run"]
            figures[f"{name}_fast_over_full_above_floor"] = round((fast_ns - floor) / max(full_ns - floor, 1.0), 3)
    finally:
        fast.cleanup()
        full.cleanup()
    return figures
