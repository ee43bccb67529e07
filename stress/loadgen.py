"""Closed-loop TLS load: worker processes, each as fast as it can, for a fixed time.

A worker is one client of one kind against one or more servers:
- `handshakes`: a fresh TCP connection and a full TLS 1.3 handshake through Python's ssl
  (OpenSSL), timed from connect() to the end of the handshake;
- `fetches`: a handshake, then an HTTP/1.0 GET of a large file read to its end (bulk transfer),
  timed from connect() to the last byte;
- `requests`: one long-lived connection, kept from one phase to the next, carrying request/response
  of `REQUEST_BYTES` each way, each request timed; at the start of every phase, one connection
  more with a handshake and a single request, so the sensor's reporting is checked as for the others;
- `tlslite`: handshakes through tlslite-ng (pure Python) offering X25519MLKEM768;
- `go`: handshakes through a statically linked Go client (crypto/tls), run as a program.

Every connection's ends (client port, server port) are kept so the sensor's records can be
matched to it, with whether its client is an OpenSSL program (then both views are expected).

The workers are processes of a `LoadPool` that live for the whole run, so every phase is run by
the same processes (and a `requests` worker over the same connection): phases then differ in what
is measured, not in where the scheduler happened to put a new set of processes.
"""

from __future__ import annotations

import json
import multiprocessing
import multiprocessing.connection
import socket
import ssl
import struct
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from stress.link import enter

REQUEST_BYTES = 1024
_LINGER_RESET = struct.pack("ii", 1, 0)
Address = tuple[str, int]


@dataclass(frozen=True)
class LoadResult:
    completed: int  # the workload's unit: handshakes, bytes fetched, or requests
    handshakes: int
    bytes_moved: int  # application bytes, both directions
    errors: int
    elapsed_s: float
    latencies_ms: list[float]
    client_ends: list[tuple[int, int, bool]]  # (client port, server port, client is OpenSSL)
    by_client: dict[str, int] = field(default_factory=dict)  # handshakes per client kind

    @property
    def rate(self) -> float:
        return self.completed / self.elapsed_s if self.elapsed_s else 0.0


@dataclass(frozen=True)
class Worker:
    """One worker process: a client `kind` against `targets` (see the module docstring)."""

    kind: str
    targets: tuple[Address, ...]
    path: str = ""  # `fetches`: what to GET
    program: str = ""  # `go`: the client binary
    label: str = ""  # how the results name this client (default: its kind)
    namespace: str = ""  # the network namespace its process runs in (stress.link; "": this one)


@dataclass
class _Tally:
    completed: int = 0
    handshakes: int = 0
    bytes_moved: int = 0
    errors: int = 0
    latencies: list[float] = field(default_factory=list)
    ends: list[tuple[int, int, bool]] = field(default_factory=list)


def _context() -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def _connect(target: Address) -> socket.socket:
    raw = socket.create_connection(target, timeout=10)
    # Close with a reset, not a FIN: tens of thousands of TIME_WAIT sockets a minute would make
    # each connect() search longer for a free port, and the rate drift.
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
    return raw


def _handshake_loop(worker: Worker, deadline: float, tally: _Tally, handshake: Callable[[socket.socket], None],
                    openssl: bool) -> None:
    """New connections to the targets in turn, each through `handshake`, until the deadline."""
    i = 0
    while time.monotonic() < deadline:
        target = worker.targets[i % len(worker.targets)]
        i += 1
        started = time.perf_counter()
        try:
            with _connect(target) as raw:
                local = raw.getsockname()[1]
                handshake(raw)
        except Exception:  # a failed handshake is counted, the load goes on
            tally.errors += 1
            continue
        tally.latencies.append((time.perf_counter() - started) * 1000.0)
        tally.ends.append((local, target[1], openssl))
        tally.handshakes += 1
        tally.completed += 1


def _handshakes(worker: Worker, deadline: float, tally: _Tally, kept: dict[str, Any]) -> None:
    ctx = _context()

    def handshake(raw: socket.socket) -> None:
        ctx.wrap_socket(raw, server_hostname="stress.localhost").close()

    _handshake_loop(worker, deadline, tally, handshake, openssl=True)


def _fetches(worker: Worker, deadline: float, tally: _Tally, kept: dict[str, Any]) -> None:
    ctx = _context()
    buffer = bytearray(1 << 18)
    request = f"GET /{worker.path} HTTP/1.0\r\n\r\n".encode()
    while time.monotonic() < deadline:
        started = time.perf_counter()
        got = 0
        try:
            with _connect(worker.targets[0]) as raw:
                local = raw.getsockname()[1]
                with ctx.wrap_socket(raw, server_hostname="bulk.localhost") as tls:
                    tally.ends.append((local, worker.targets[0][1], True))
                    tally.handshakes += 1
                    tls.sendall(request)
                    while n := tls.recv_into(buffer):
                        got += n
        except (OSError, ssl.SSLError):
            tally.errors += 1
        tally.completed += got
        tally.bytes_moved += got + len(request)
        if got:
            tally.latencies.append((time.perf_counter() - started) * 1000.0)


def _recv_exactly(tls: ssl.SSLSocket, view: memoryview) -> None:
    got = 0
    while got < len(view):
        n = tls.recv_into(view[got:])
        if not n:
            raise ConnectionError("the server closed the connection")
        got += n


def _request(tls: ssl.SSLSocket, request: bytes, response: memoryview) -> None:
    tls.sendall(request)
    _recv_exactly(tls, response)


def _open_request_connection(target: Address, tally: _Tally) -> ssl.SSLSocket:
    raw = _connect(target)
    try:
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        tls = _context().wrap_socket(raw, server_hostname="api.localhost")
    except BaseException:
        raw.close()
        raise
    tally.ends.append((tls.getsockname()[1], target[1], True))
    tally.handshakes += 1
    return tls


def _requests(worker: Worker, deadline: float, tally: _Tally, kept: dict[str, Any]) -> None:
    """Requests over the connection `kept` from earlier phases (opened in the first), after one
    request over a connection of its own (a handshake in every phase, for the sensor to report)."""
    request, response = bytes(REQUEST_BYTES), memoryview(bytearray(REQUEST_BYTES))
    target = worker.targets[0]
    try:
        with _open_request_connection(target, tally) as fresh:
            _request(fresh, request, response)
        if "tls" not in kept:
            kept["tls"] = _open_request_connection(target, tally)
        tls = kept["tls"]
        while time.monotonic() < deadline:
            started = time.perf_counter()
            _request(tls, request, response)
            tally.latencies.append((time.perf_counter() - started) * 1000.0)
            tally.completed += 1
            tally.bytes_moved += 2 * REQUEST_BYTES
    except (OSError, ssl.SSLError):
        tally.errors += 1
        kept.pop("tls", None)  # (the next phase opens another)


def _tlslite(worker: Worker, deadline: float, tally: _Tally, kept: dict[str, Any]) -> None:
    from assess.sources.runtime.workload import tlslite_handshake

    _handshake_loop(worker, deadline, tally, lambda raw: tlslite_handshake(raw, "tlslite.stress.test"),
                    openssl=False)


def _go(worker: Worker, deadline: float, tally: _Tally, kept: dict[str, Any]) -> None:
    seconds = max(0.0, deadline - time.monotonic())
    addresses = [f"[{h}]:{p}" if ":" in h else f"{h}:{p}" for h, p in worker.targets]
    done = subprocess.run([worker.program, "-seconds", f"{seconds:.3f}", *addresses], capture_output=True,
                          text=True, timeout=seconds + 60, check=True)
    out = json.loads(done.stdout)
    tally.latencies += out["latencies_ms"]
    tally.ends += [(local, remote, False) for local, remote in out["ends"]]
    tally.handshakes += len(out["ends"])
    tally.completed += len(out["ends"])
    tally.errors += out["errors"]


_KINDS: dict[str, Callable[[Worker, float, _Tally, dict[str, Any]], None]] = {
    "handshakes": _handshakes, "fetches": _fetches, "requests": _requests, "tlslite": _tlslite, "go": _go,
}
START_SLACK_S = 0.05  # from sending a window to its start: every worker is waiting by then


def _serve(worker: Worker, conn: multiprocessing.connection.Connection) -> None:
    """A pool's worker process: for each (start, deadline) received, the load in that window and
    its tally sent back; None ends it."""
    if worker.namespace:
        enter(worker.namespace)
    kept: dict[str, Any] = {}
    while (window := conn.recv()) is not None:
        start, deadline = window
        time.sleep(max(0.0, start - time.monotonic()))
        tally = _Tally()
        _KINDS[worker.kind](worker, deadline, tally, kept)
        conn.send((worker.label or worker.kind, tally))


class LoadPool:
    """One process per worker, alive from `with` to its end, running the load in windows (`run`)."""

    def __init__(self, workers: list[Worker]) -> None:
        self.workers = workers
        self._procs: list[multiprocessing.Process] = []
        self._conns: list[multiprocessing.connection.Connection] = []

    def __enter__(self) -> LoadPool:
        ctx = multiprocessing.get_context("fork")
        for worker in self.workers:
            ours, theirs = ctx.Pipe()
            proc = ctx.Process(target=_serve, args=(worker, theirs), daemon=True)
            proc.start()
            theirs.close()
            self._procs.append(proc)
            self._conns.append(ours)
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        for conn in self._conns:
            try:
                conn.send(None)
            except OSError:
                pass
        for proc in self._procs:
            proc.join(10)
            if proc.is_alive():
                proc.terminate()
                proc.join(10)
        for conn in self._conns:
            conn.close()

    @property
    def processes(self) -> list[tuple[str, int]]:
        """Each worker's name (its label, or its kind) and process id."""
        return [(w.label or w.kind, p.pid) for w, p in zip(self.workers, self._procs, strict=True)
                if p.pid is not None]

    def run(self, seconds: float) -> LoadResult:
        """Every worker for the same `seconds` (one window, the same for all); their tallies added up."""
        start = time.monotonic() + START_SLACK_S
        for conn in self._conns:
            conn.send((start, start + seconds))
        results: list[tuple[str, _Tally]] = []
        for conn, proc in zip(self._conns, self._procs, strict=True):
            if not conn.poll(seconds + 90):
                raise RuntimeError(f"load worker {proc.pid} did not report within {seconds + 90:.0f} s")
            results.append(conn.recv())
        by_client: dict[str, int] = {}
        for kind, tally in results:
            by_client[kind] = by_client.get(kind, 0) + tally.handshakes
        return LoadResult(
            completed=sum(t.completed for _, t in results),
            handshakes=sum(t.handshakes for _, t in results),
            bytes_moved=sum(t.bytes_moved for _, t in results),
            errors=sum(t.errors for _, t in results),
            elapsed_s=seconds,  # every worker ran for exactly the window
            latencies_ms=[x for _, t in results for x in t.latencies],
            client_ends=[e for _, t in results for e in t.ends],
            by_client=by_client,
        )


def run_load(workers: list[Worker], seconds: float) -> LoadResult:
    """Every worker in its own process for `seconds`, once."""
    with LoadPool(workers) as pool:
        return pool.run(seconds)
