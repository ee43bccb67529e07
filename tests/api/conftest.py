"""A real `carnot serve` (uvicorn) on a free 127.0.0.1 port, for the whole API test session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from serving import Server, running_server


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    with running_server() as running:
        yield running
