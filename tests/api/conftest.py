"""A real `carnot serve` (uvicorn) on a free 127.0.0.1 port, for the whole API test session."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

MAX_BODY = 300_000
SDE = "1767225600"


@dataclass(frozen=True)
class Server:
    url: str
    max_body: int


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    port = _free_port()
    env = {**os.environ, "SOURCE_DATE_EPOCH": SDE}
    proc = subprocess.Popen(
        [sys.executable, "-m", "assess", "serve", "--host", "127.0.0.1", "--port", str(port),
         "--max-body-bytes", str(MAX_BODY)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    try:
        while True:
            if proc.poll() is not None:
                pytest.fail(f"carnot serve exited {proc.returncode}: {proc.stderr.read().decode()}")
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("carnot serve did not answer /healthz within 60 s")
            time.sleep(0.2)
        yield Server(url=url, max_body=MAX_BODY)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
