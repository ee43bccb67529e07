"""Start a real `carnot serve` (uvicorn) as a subprocess on a free 127.0.0.1 port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import pytest

MAX_BODY = 300_000
SDE = "1767225600"


@dataclass(frozen=True)
class Server:
    url: str
    max_body: int
    port: int
    pid: int

    def rss_mib(self) -> float:
        """The server's resident set size as the kernel counts it (VmRSS), in MiB."""
        with open(f"/proc/{self.pid}/status") as fh:
            kib = next(int(line.split()[1]) for line in fh if line.startswith("VmRSS:"))
        return kib / 1024


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_server(*flags: str, max_body: int = MAX_BODY) -> Iterator[Server]:
    port = _free_port()
    env = {**os.environ, "SOURCE_DATE_EPOCH": SDE}
    # The log goes to a file: a pipe nobody reads would block the server once 64 KiB are written.
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(
        [sys.executable, "-m", "assess", "serve", "--host", "127.0.0.1", "--port", str(port),
         "--max-body-bytes", str(max_body), *flags],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    try:
        while True:
            if proc.poll() is not None:
                log.seek(0)
                pytest.fail(f"carnot serve exited {proc.returncode}: {log.read().decode()}")
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("carnot serve did not answer /healthz within 60 s")
            time.sleep(0.2)
        yield Server(url=url, max_body=max_body, port=port, pid=proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
