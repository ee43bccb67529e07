"""`python -m stress.pause` for real: one sensor, alternately stopped and running under the requests
workload, its running windows compared with their stopped neighbours, and no sensor left behind."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.root]


def test_pause_compares_each_running_window_with_its_stopped_neighbours_and_stops_its_sensor(tmp_path: Path) -> None:
    out = tmp_path / "pause.json"
    done = subprocess.run([sys.executable, "-m", "stress.pause", "--alternations", "2", "--window", "0.3",
                           "--json", str(out)], capture_output=True, text=True, timeout=300,
                          cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0, done.stderr
    result = json.loads(out.read_text())
    rates, ratios = result["rates"], result["ratios"]
    assert len(rates) == 5 and all(r > 0 for r in rates)  # stopped, running, stopped, running, stopped
    assert ratios == pytest.approx([rates[i] / ((rates[i - 1] + rates[i + 1]) / 2) for i in (1, 3)], abs=1e-3)
    assert result["sensor_cpu_share_running"] is not None and "running/stopped" in done.stdout
    left = subprocess.run(["pgrep", "-f", "carnot-pause-"], capture_output=True, text=True)
    assert left.stdout == "", f"a sensor outlived the measurement: {left.stdout}"
