"""`carnot doctor`: what the sensor needs, judged on this machine, with and without privileges."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

pytestmark = [pytest.mark.root]


def test_doctor_reports_the_sensor_ready_as_root(carnot: Any) -> None:
    done = carnot("doctor", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["sensor_ready"] is True and report["reasons"] == []
    names = {c["name"]: c for c in report["checks"]}
    assert names["kernel headers"]["ok"] and names["bcc"]["ok"] and names["libssl"]["ok"]


def test_doctor_fix_is_idempotent_on_a_prepared_machine(carnot: Any) -> None:
    done = carnot("doctor", "--fix", "--json", timeout=900)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["sensor_ready"] is True


def test_doctor_without_capabilities_says_what_is_missing() -> None:
    done = subprocess.run(
        ["setpriv", "--bounding-set", "-all", "--", sys.executable, "-m", "assess", "doctor", "--json"],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 2
    report = json.loads(done.stdout)
    assert report["sensor_ready"] is False
    assert any(r.startswith("privileges:") for r in report["reasons"])
    privileges = next(c for c in report["checks"] if c["name"] == "privileges")
    assert privileges["fix"] and "CAP_BPF" in privileges["fix"]
