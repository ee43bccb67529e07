"""Fixtures of the runtime tests: TLS credentials and one live sensor per test module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from live_sensor import LiveCapture, start_capture, started_count, stop_started_after

from assess.sources.runtime.workload import Credentials, make_credentials


@pytest.fixture(scope="module")
def creds(tmp_path_factory: pytest.TempPathFactory) -> Credentials:
    return make_credentials(tmp_path_factory.mktemp("tls"))


# The sensor's two builds: socket I/O seen by the sock tracepoints (Linux 6.3 and later, this
# kernel), and the pre-6.3 variant that watches it at every system call's entry (SYSCALL_IO),
# forced here with CARNOT_SENSOR_IO so that it is tested on this kernel too.
@pytest.fixture(scope="module", params=["sock", "syscall"])
def sensor(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveCapture]:
    capture = start_capture(tmp_path_factory.mktemp("sensor") / "runtime.jsonl", "--metrics-interval", "1",
                            io=request.param)
    yield capture
    capture.stop()


@pytest.fixture(autouse=True)
def _no_sensor_left_running() -> Iterator[None]:
    """Whatever a test does (fails before its own stop, too), no sensor it started outlives it."""
    count = started_count()
    yield
    stop_started_after(count)
