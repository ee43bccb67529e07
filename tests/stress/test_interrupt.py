"""A stress run ended by SIGTERM (a CI job cancelled, `pkill`) leaves nothing behind: not its
sensor, whose probes would otherwise stay attached through every later measurement, not its TLS
servers, not its load workers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from stress.link import NAMESPACE_PREFIX, namespaces
from tests.processes import descendants

pytestmark = [pytest.mark.root]

ROOT = Path(__file__).resolve().parents[2]


def below(pid: int) -> dict[int, str]:
    """Every live process below `pid`, with its command line."""
    found = {}
    for child in descendants(pid):
        try:
            found[child] = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
        except OSError:
            continue
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def sensor_ready(cmd: str) -> bool:
    """Whether the sensor with this command line has written its ready line (its probes attached)."""
    out = Path(cmd.split("--out ", 1)[1].split()[0])
    try:
        return out.read_text().startswith('{"type": "ready"')
    except OSError:
        return False


@pytest.mark.parametrize(("module", "when", "link"),
                         [("stress", "attaching", "loopback"), ("stress", "loaded", "loopback"),
                          ("stress.pause", "loaded", "loopback"), ("stress", "loaded", "veth"),
                          ("stress.ab", "loaded", "loopback"), ("stress.ab", "joining", "loopback")])
def test_sigterm_while_a_sensor_runs_ends_the_sensor_servers_and_workers(module: str, when: str, link: str,
                                                                         tmp_path: Path) -> None:
    # ("joining": after the phase's 2 s of load, while the sensor's last joins are awaited, 3 s.)
    args = {"stress": ["--workload", "handshakes", "--rounds", "3", "--phase-seconds", "4", "--quiet-wait", "0",
                       "--link", link, "--report", str(tmp_path / "r.md")],
            "stress.pause": ["--alternations", "3", "--window", "30"],
            "stress.ab": ["handshakes", "--arm", "a", "--arm", "b=--no-uprobes", "--cycles", "2",
                          "--phase-seconds", "4" if when == "loaded" else "2"]}[module]
    run = subprocess.Popen([sys.executable, "-m", module, *args, "--json", str(tmp_path / "m.json")], cwd=ROOT,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 180
        started: dict[int, str] = {}
        sensors: list[str] = []
        while time.monotonic() < deadline and run.poll() is None:
            started = below(run.pid)
            sensors = [cmd for cmd in started.values() if "runtime capture" in cmd]
            if sensors and (when == "attaching" or sensor_ready(sensors[0])):
                break
            time.sleep(0.05)
        assert sensors, f"no sensor started: {started}"
        assert len(started) >= 3, started  # the sensor, a TLS server and load workers at least
        if when == "attaching":
            assert not sensor_ready(sensors[0]), "the sensor attached before the test could stop the run"
        else:
            time.sleep(3.5 if when == "joining" else 1.0)  # into the load (the phase runs 4 s, a pause window 30 s)
        if link == "veth":
            assert f"{NAMESPACE_PREFIX}{run.pid}" in namespaces()
        run.send_signal(signal.SIGTERM)
        code = run.wait(150)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
    left = {pid: cmd for pid, cmd in started.items() if alive(pid)}
    for pid in left:  # (not to leave them to the next test either)
        os.kill(pid, signal.SIGKILL)
    assert left == {}, f"left running after SIGTERM: {left}"
    # and across a veth link, not its network namespace (nor so the pair in it)
    assert f"{NAMESPACE_PREFIX}{run.pid}" not in namespaces()
    assert code == 128 + signal.SIGTERM
    assert b"Traceback" not in (run.stderr.read() if run.stderr else b"")
