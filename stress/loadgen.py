"""A closed-loop TLS handshake load generator: worker processes, each handshaking as fast as it can.

Each handshake is a fresh TCP connection and a full TLS 1.3 handshake through Python's ssl
(OpenSSL), timed from connect() to the end of the handshake.
"""

from __future__ import annotations

import multiprocessing
import socket
import ssl
import struct
import time
from dataclasses import dataclass

HOST = "127.0.0.1"
_LINGER_RESET = struct.pack("ii", 1, 0)


@dataclass(frozen=True)
class LoadResult:
    handshakes: int
    errors: int
    elapsed_s: float
    latencies_ms: list[float]
    client_ports: list[int]

    @property
    def rate(self) -> float:
        return self.handshakes / self.elapsed_s if self.elapsed_s else 0.0


def _worker(port: int, seconds: float, queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    latencies: list[float] = []
    ports: list[int] = []
    errors = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        started = time.perf_counter()
        try:
            with socket.create_connection((HOST, port), timeout=10) as raw:
                # Close with a reset, not a FIN: tens of thousands of TIME_WAIT sockets a minute
                # would make each connect() search longer for a free port, and the rate drift.
                raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
                local = raw.getsockname()[1]
                with ctx.wrap_socket(raw, server_hostname="stress.localhost"):
                    latencies.append((time.perf_counter() - started) * 1000.0)
                    ports.append(local)
        except OSError:
            errors += 1
    queue.put((latencies, ports, errors))


def run_load(port: int, seconds: float, workers: int) -> LoadResult:
    """Handshake against 127.0.0.1:port from `workers` processes for `seconds`."""
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(port, seconds, queue)) for _ in range(workers)]
    started = time.monotonic()
    for p in procs:
        p.start()
    results = [queue.get(timeout=seconds + 60) for _ in procs]
    for p in procs:
        p.join(30)
    # Rates are per second of load: every worker handshakes for exactly `seconds`.
    elapsed = seconds if time.monotonic() - started >= seconds else time.monotonic() - started
    latencies = [x for lat, _, _ in results for x in lat]
    ports = [x for _, prt, _ in results for x in prt]
    return LoadResult(len(latencies), sum(e for _, _, e in results), elapsed, latencies, ports)
