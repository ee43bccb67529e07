"""The stress harness's arithmetic: each on phase against the off phases either side of it."""

from __future__ import annotations

import pytest

from stress.harness import Phase, render_report, summarise
from stress.loadgen import LoadResult


def load(rate: float, seconds: float = 5.0) -> LoadResult:
    n = int(rate * seconds)
    return LoadResult(n, 0, seconds, [1.0] * n, list(range(n)))


def sensor_metrics() -> dict[str, object]:
    return {"kernel_drops": 0, "kernel_drop_rate": 0.0, "events_received": 100, "correlation_timeouts": 0,
            "cache_evictions": 0, "sensor_cpu_s": 0.5, "unreported_positions": [],
            "failed_records": []}


def on(round_: int, rate: float) -> Phase:
    lr = load(rate)
    return Phase(round_, True, lr, sensor_metrics(), reported=lr.handshakes, correlation_failures=0)


def result(rates: list[float]) -> dict[str, object]:
    phases = [on(i // 2, r) if i % 2 else Phase(i // 2, False, load(r)) for i, r in enumerate(rates)]
    return summarise(phases, (0.5, 0.5, 0.5), (0.6, 0.6, 0.6), 5.0, 2, "idle")


def test_each_on_phase_is_compared_with_the_mean_of_its_two_off_neighbours() -> None:
    r = result([800, 780, 760, 735, 740])  # a machine slowing down by itself
    assert r["rate_ratio_per_round"] == [pytest.approx(780 / 780, abs=1e-3), pytest.approx(735 / 750, abs=1e-3)]
    assert r["rate_ratio_on_off"] == pytest.approx((1.0 + 0.98) / 2, abs=1e-3)
    assert r["rate_ratio_of_means"] == pytest.approx(757.5 / 766.67, abs=1e-3)  # drift biases this one


def test_the_interval_and_the_machines_own_drift_are_reported() -> None:
    r = result([800, 776, 800, 792, 800, 784, 800])
    assert r["rate_ratio_stderr"] > 0
    low, high = r["rate_ratio_ci95"]
    assert low < r["rate_ratio_on_off"] < high
    assert r["off_phase_drift_sd"] == 0.0  # the off phases did not move


def test_targets_are_judged_on_the_mean_ratio_drops_and_reported_fraction() -> None:
    assert result([800, 790, 800, 788, 800])["targets_met"] == {
        "rate_ratio": True, "reported_fraction": True, "kernel_drops": True}
    assert result([800, 700, 800, 720, 800])["targets_met"]["rate_ratio"] is False


def test_the_report_renders_every_phase_and_the_interval() -> None:
    text = render_report(result([800, 790, 800, 788, 800]))
    assert "95% interval" in text and text.count("| on |") == 2 and text.count("| off |") == 3
