"""Helpers of the capture tests: the CLI in a child process, runtime lines, tcpdump on `lo` (live
before the block starts, flushed before it ends), and the real handshakes the recording holds."""

from __future__ import annotations

import json
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from assess.sources.runtime.workload import (
    Credentials,
)

Line = dict[str, Any]


def carnot(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "assess", *map(str, args)], capture_output=True, text=True,
                          timeout=300)


def read_lines(path: Path) -> list[Line]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def handshakes(path: Path) -> list[Line]:
    return [r for r in read_lines(path) if r["type"] == "handshake"]


def _poke_until_written(out: Path, timeout: float = 15.0) -> None:
    """Knock on a closed loopback port until the capture file grows: tcpdump prints "listening"
    before packets really flow, and -U writes each packet as it is captured."""
    size = out.stat().st_size if out.exists() else 0
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            s.settimeout(0.2)
            try:
                s.connect(("127.0.0.1", 1))  # refused: a SYN and a RST, no payload
            except OSError:
                pass
        time.sleep(0.1)
        if out.exists() and out.stat().st_size > size:
            return
    pytest.fail(f"tcpdump wrote nothing to {out} after {timeout}s")


@contextmanager
def tcpdump(out: Path, bpf_filter: str, iface: str = "lo") -> Iterator[Path]:
    """Record `iface` to `out` while the block runs: live before the block starts, flushed before it ends."""
    if shutil.which("tcpdump") is None:
        pytest.fail("tcpdump is not installed (tools/provision.sh installs it)")
    bpf_filter = f"({bpf_filter}) or (host 127.0.0.1 and tcp port 1)"  # the pokes below
    proc = subprocess.Popen(["tcpdump", "-i", iface, "-U", "-n", "-s", "0", "-w", str(out), bpf_filter],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    banner = proc.stderr.readline()
    assert "listening on" in banner, banner
    try:
        _poke_until_written(out)
        yield out
        _poke_until_written(out)  # every packet before this one is on disk
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(15)


@dataclass
class Recording:
    pcap: Path
    ports: dict[str, int]  # case -> the server port its handshake went to (the SNI is "<case>.test")
    client_ports: dict[str, int]  # case -> the client's source port, where the test knows it


class PlainServer:
    """Not TLS: a TCP server on a port that answers like HTTP, for the 'non-TLS on 443' case."""

    def __init__(self, family: int = socket.AF_INET, host: str = "127.0.0.1") -> None:
        self.sock = socket.socket(family)
        self.sock.bind((host, 0))
        self.sock.listen(4)
        self.port = int(self.sock.getsockname()[1])
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        try:
            conn, _ = self.sock.accept()
        except OSError:
            return
        with conn:
            conn.recv(4096)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")

    def close(self) -> None:
        self.sock.close()


def free_ipv6_port() -> int:
    with socket.socket(socket.AF_INET6) as s:
        s.bind(("::1", 0))
        return int(s.getsockname()[1])


@contextmanager
def openssl_server(creds: Credentials, host: str, port: int, *options: str) -> Iterator[None]:
    """`openssl s_server -www` on host:port (IPv6 in brackets) while the block runs, listening before it starts."""
    server = subprocess.Popen(["openssl", "s_server", "-accept", f"{host}:{port}", "-cert", str(creds.cert), "-key",
                               str(creds.key), "-www", "-quiet", *options],
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    table = Path("/proc/net/tcp6" if host.startswith("[") else "/proc/net/tcp")
    try:
        deadline = time.monotonic() + 10
        while f":{port:04X} " not in table.read_text():
            assert time.monotonic() < deadline, f"s_server on {host}:{port} did not listen"
            time.sleep(0.05)
        yield
    finally:
        server.terminate()
        server.wait(5)


def ipv6_handshake(creds: Credentials, port: int) -> int:
    """An OpenSSL handshake over [::1]:port; returns the client's port."""
    with openssl_server(creds, "[::1]", port):
        import ssl

        ctx = ssl.create_default_context()
        ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
        with socket.create_connection(("::1", port)) as raw:
            client_port = int(raw.getsockname()[1])
            with ctx.wrap_socket(raw, server_hostname="ipv6.test"):
                pass
    return client_port


