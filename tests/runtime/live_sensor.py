"""A live sensor for the runtime tests: `carnot runtime capture` in a subprocess, read as it writes.

A module of its own (not conftest) so test files import it by a name no other test folder uses."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from assess.sources.runtime.readiness import sensor_readiness

Record = dict[str, Any]


@dataclass
class LiveCapture:
    proc: subprocess.Popen[str]
    out: Path

    def lines(self) -> list[Record]:
        text = self.out.read_text() if self.out.exists() else ""
        return [json.loads(line) for line in text.splitlines() if line.strip()]

    def handshakes(self) -> list[Record]:
        return [r for r in self.lines() if r["type"] == "handshake"]

    def mark(self) -> int:
        """How many lines the sensor has written so far: `wait_for(..., after=mark)` looks only past
        them. (The kernel gives a client port out again, and a record of an earlier test's
        connection from the same port to the same server would match a test that looks by ports.)"""
        return len(self.lines())

    def wait_for(self, match: Callable[[Record], bool], count: int = 1, timeout: float = 20.0,
                 kind: str = "handshake", after: int = 0) -> list[Record]:
        """Records of type `kind` matching `match` (among the lines after the first `after`), once
        there are `count` of them (fails after `timeout`)."""
        deadline = time.monotonic() + timeout
        found: list[Record] = []
        while time.monotonic() < deadline:
            found = [r for r in self.lines()[after:] if r["type"] == kind and match(r)]
            if len(found) >= count:
                return found
            if self.proc.poll() is not None:
                pytest.fail(f"the sensor exited early: {self.proc.stderr.read() if self.proc.stderr else ''}")
            time.sleep(0.2)
        pytest.fail(f"{len(found)} of {count} expected {kind} record(s) after {timeout}s: {found}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.proc.wait(timeout)


_started: list[LiveCapture] = []


def started_count() -> int:
    return len(_started)


def stop_started_after(count: int) -> None:
    """Stop every sensor started since `started_count()` was `count` that still runs (SIGTERM, then
    SIGKILL): one a failed test left behind would keep its probes on the host for every later test."""
    for capture in _started[count:]:
        if capture.proc.poll() is None:
            try:
                capture.stop(timeout=30)
            except subprocess.TimeoutExpired:
                capture.proc.kill()
                capture.proc.wait(30)
    del _started[count:]


def start_capture(out: Path, *extra: str, ready_timeout: float = 90.0, io: str = "") -> LiveCapture:
    """The sensor, started and ready. `io` "syscall" builds its pre-6.3 variant (CARNOT_SENSOR_IO)."""
    readiness = sensor_readiness()
    if not readiness.ok:
        pytest.fail("the eBPF sensor cannot run here, and these tests must: " + "; ".join(readiness.reasons))
    out.unlink(missing_ok=True)  # a ready line left from an earlier run must not count
    proc = subprocess.Popen(
        [sys.executable, "-m", "assess", "runtime", "capture", "--out", str(out), *extra],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "CARNOT_SENSOR_IO": io} if io else None,
    )
    capture = LiveCapture(proc, out)
    _started.append(capture)
    deadline = time.monotonic() + ready_timeout
    while time.monotonic() < deadline:
        if out.exists() and out.read_text().startswith('{"type": "ready"'):
            return capture
        if proc.poll() is not None:
            pytest.fail(f"the sensor exited before it was ready: {proc.stderr.read() if proc.stderr else ''}")
        time.sleep(0.1)
    proc.kill()
    pytest.fail(f"the sensor was not ready after {ready_timeout}s")
