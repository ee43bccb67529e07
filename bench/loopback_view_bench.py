"""Loopback's wire view, each way it can be hooked, on real loopback traffic, timed by the kernel's
own counters (`kernel.bpf_stats_enabled`): nanoseconds per program run and runs per round trip of
a 1 KiB ping-pong between two sockets of this process.

- `packet`: the socket filter on a packet socket bound to `lo` (outgoing ignored), as on every
  other interface and as `--loopback-view packet` does. Its delivery to the socket (a reference
  taken and dropped, the socket's receive function) comes on top and is not in these counts.
- `cgroup_plain`: the cgroup program on the receiving sockets, on plaintext (the whole filter:
  such a connection may yet upgrade to TLS).
- `cgroup_tls`: the same on TLS application data records: the sockets are marked at their first
  record and let go from their storage (the sensor's default on loopback).
- `cgroup_floor`: a cgroup program that returns at once (the hook's own run, counted the same way).

The counting costs each run two clock reads, the same in every figure. The cgroup programs run
on every packet any socket of the host receives (on any interface, in any network namespace; all
but loopback's in this one leave at once) and the packet socket on all of loopback's, so the
rest of the machine's traffic during the run is counted too: run it on a quiet machine.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable
from typing import Any

from assess.sources.runtime.cgrouplink import CgroupLink, loopback_view_problem, netns_cookie, possible_cpus
from assess.sources.runtime.packetring import PacketRing
from bench.progrun import bcc_for_benchmark, load_filter

ROUND_TRIPS = 20_000
SIZE = 1024
FLOOR = "int floor_cgroup(struct __sk_buff *skb) { return 1; }\n"


def _message(tls: bool) -> bytes:
    body = bytes(range(256)) * (SIZE // 256)
    return (b"\x17\x03\x03" + (SIZE - 5).to_bytes(2, "big") + body[5:]) if tls else b"x" * SIZE


def _ping_pong(message: bytes, round_trips: int) -> None:
    """`round_trips` exchanges of `message` between two TCP sockets over loopback (TCP_NODELAY)."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        client = socket.create_connection(listener.getsockname())
        server, _ = listener.accept()

        def echo() -> None:
            buffer = bytearray(len(message))
            for _ in range(round_trips):
                got = 0
                while got < len(buffer):
                    got += server.recv_into(memoryview(buffer)[got:])
                server.sendall(buffer)

        with client, server:
            for sock in (client, server):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            thread = threading.Thread(target=echo)
            thread.start()
            reply = bytearray(len(message))
            for _ in range(round_trips):
                client.sendall(message)
                got = 0
                while got < len(reply):
                    got += client.recv_into(memoryview(reply)[got:])
            thread.join()


def _measure(attach: Callable[[], Any], kind: str, tls: bool) -> dict[str, float]:
    from stress.bpfstats import bpf_stats, run_time

    with bpf_stats():
        hook = attach()
        try:
            before = run_time(os.getpid())
            _ping_pong(_message(tls), ROUND_TRIPS)
            after = run_time(os.getpid())
        finally:
            hook.close()
    ns = after.get(kind, (0, 0))[0] - before.get(kind, (0, 0))[0]
    runs = after.get(kind, (0, 0))[1] - before.get(kind, (0, 0))[1]
    if not runs:
        raise AssertionError(f"the {kind} program never ran: the hook did not see the ping-pong")
    return {"ns_per_run": round(ns / runs, 1), "runs_per_round_trip": round(runs / ROUND_TRIPS, 2),
            "ns_per_round_trip": round(ns / ROUND_TRIPS, 1)}


def run() -> dict[str, Any]:
    bcc, why_not = bcc_for_benchmark()
    if why_not:
        return {"skipped": why_not}
    root, problem = loopback_view_problem()  # (the sensor's own test of the host)
    if root is None:
        return {"skipped": f"no cgroup view of loopback here: {problem}"}
    bpf, filter_fd = load_filter(bcc, f"-DWIRE_NETNS_COOKIE={netns_cookie()}ULL",
                                 f"-DSCRATCH_CPUS={possible_cpus()}", extra_text=FLOOR)
    try:
        cgroup_fd = bpf.load_func("tls_wire_cgroup", bcc.BPF.CGROUP_SKB).fd
        floor_fd = bpf.load_func("floor_cgroup", bcc.BPF.CGROUP_SKB).fd
        figures: dict[str, Any] = {"round_trips": ROUND_TRIPS, "message_bytes": SIZE}
        # (the sensor's own packet ring on lo, as `--loopback-view packet` opens it)
        figures["packet"] = _measure(lambda: PacketRing("lo", filter_fd, 1 << 20, incoming_only=True),
                                     "socket_filter", tls=True)
        figures["cgroup_plain"] = _measure(lambda: CgroupLink(cgroup_fd, root), "cgroup_skb", tls=False)
        figures["cgroup_tls"] = _measure(lambda: CgroupLink(cgroup_fd, root), "cgroup_skb", tls=True)
        figures["cgroup_floor"] = _measure(lambda: CgroupLink(floor_fd, root), "cgroup_skb", tls=True)
    finally:
        bpf.cleanup()
    return figures
