"""The wire-filter benchmark times the sensor's socket filter on packets it must let go; it checks
that they are let go, so it cannot time the wrong path of the filter without saying so."""

from __future__ import annotations

import pytest

from bench import wire_filter_bench

pytestmark = [pytest.mark.root]


def test_every_hot_packet_is_timed_on_both_paths_above_the_floor(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("bcc", reason="needs Debian's python3-bpfcc")
    monkeypatch.setattr(wire_filter_bench, "REPEAT", 2000)
    monkeypatch.setattr(wire_filter_bench, "SAMPLES", 1)
    figures = wire_filter_bench.run()
    for name in wire_filter_bench.packets():
        assert figures[f"{name}_fast_ns_per_run"] > 0 and figures[f"{name}_full_ns_per_run"] > 0
        assert f"{name}_fast_over_full_above_floor" in figures
    assert figures["floor_ns_per_run"] > 0


def test_a_packet_the_filter_would_pass_stops_the_benchmark(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("bcc", reason="needs Debian's python3-bpfcc")
    hello = wire_filter_bench.ipv4("10.0.0.1", "10.0.0.2", wire_filter_bench.tcp(4000, 443, 1, 0x18, b"SSH-2.0-x\r\n"))
    monkeypatch.setattr(wire_filter_bench, "packets", lambda: {"banner": hello})
    monkeypatch.setattr(wire_filter_bench, "REPEAT", 10)
    with pytest.raises(AssertionError, match="passed banner"):
        wire_filter_bench.run()
