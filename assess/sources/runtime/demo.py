"""The sensor observing the built-in loopback workload: what `nox -s runtime` and the demo assessment run.

`python -m assess.sources.runtime.demo OUT [SECONDS]` starts `carnot runtime capture --out OUT` in
a child process, waits for its ready line, runs `run_demo_workload`, then stops the sensor with
SIGTERM (its clean stop: final metrics line and sensor_metrics.json beside OUT).
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from assess.sources.runtime.readiness import sensor_readiness
from assess.sources.runtime.sensor import SensorUnavailable
from assess.sources.runtime.workload import WorkloadReport, run_demo_workload

READY_TIMEOUT_S = 120.0
# The correlator waits up to 2 s for a late view; give it that before stopping.
SETTLE_S = 3.0


@dataclass(frozen=True)
class DemoCapture:
    out: Path
    metrics: Path
    workload: WorkloadReport


def capture_demo_workload(out: Path, duration_s: float = 10.0) -> DemoCapture:
    """Capture the demo workload's handshakes into `out`; raises SensorUnavailable with the reason."""
    readiness = sensor_readiness()
    if not readiness.ok:
        raise SensorUnavailable("the runtime sensor cannot run here: " + "; ".join(readiness.reasons))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.unlink(missing_ok=True)  # a ready line left from an earlier run must not count
    proc = subprocess.Popen(  # -P: the installed package, never an `assess` folder in the working directory
        [sys.executable, "-P", "-m", "assess", "runtime", "capture", "--out", str(out)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    try:
        _wait_ready(proc, out)
        report = run_demo_workload(duration_s)
        time.sleep(SETTLE_S)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if proc.returncode != 0:
        raise SensorUnavailable(f"the sensor stopped with exit {proc.returncode}: {_last_line(proc)}")
    return DemoCapture(out, out.with_name("sensor_metrics.json"), report)


def _wait_ready(proc: subprocess.Popen[str], out: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if out.exists() and out.read_text().startswith('{"type": "ready"'):
            return
        if proc.poll() is not None:
            raise SensorUnavailable(f"the sensor did not start: {_last_line(proc)}")
        time.sleep(0.1)
    raise SensorUnavailable(f"the sensor was not ready after {READY_TIMEOUT_S:.0f} s")


def _last_line(proc: subprocess.Popen[str]) -> str:
    text = proc.stderr.read() if proc.stderr else ""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no message"


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else Path("runtime.jsonl")
    seconds = float(argv[1]) if len(argv) > 1 else 10.0
    try:
        result = capture_demo_workload(out, seconds)
    except SensorUnavailable as e:
        print(f"carnot: error: {e.one_line()}", file=sys.stderr)
        return 2
    print(json.dumps({"out": str(result.out), "metrics": str(result.metrics), **result.workload.__dict__}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
