"""The loopback-view benchmark counts, by the kernel's own counters, the runs of each way loopback
can be hooked on a real ping-pong; a hook that never ran stops it rather than reading as free."""

from __future__ import annotations

import pytest

from bench import loopback_view_bench

pytestmark = [pytest.mark.root]


def test_every_hook_is_counted_on_each_packet_of_the_ping_pong(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("bcc", reason="needs Debian's python3-bpfcc")
    monkeypatch.setattr(loopback_view_bench, "ROUND_TRIPS", 300)
    figures = loopback_view_bench.run()
    for hook in ("packet", "cgroup_plain", "cgroup_tls", "cgroup_floor"):
        # (each 1 KiB message is one segment, its ACK rides on the reply: two packets a round trip)
        assert figures[hook]["runs_per_round_trip"] >= 2.0 and figures[hook]["ns_per_run"] > 0


def test_a_hook_that_sees_nothing_stops_the_benchmark(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("bcc", reason="needs Debian's python3-bpfcc")
    monkeypatch.setattr(loopback_view_bench, "ROUND_TRIPS", 10)
    monkeypatch.setattr(loopback_view_bench, "_ping_pong", lambda message, round_trips: None)
    with pytest.raises(AssertionError, match="never ran"):
        loopback_view_bench.run()
