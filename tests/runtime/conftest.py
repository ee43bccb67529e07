"""Fixtures of the runtime tests: TLS credentials and one live sensor per test module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from live_sensor import LiveCapture, start_capture

from assess.sources.runtime.workload import Credentials, make_credentials


@pytest.fixture(scope="module")
def creds(tmp_path_factory: pytest.TempPathFactory) -> Credentials:
    return make_credentials(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def sensor(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveCapture]:
    capture = start_capture(tmp_path_factory.mktemp("sensor") / "runtime.jsonl", "--metrics-interval", "1")
    yield capture
    capture.stop()
