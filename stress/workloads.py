"""The four workloads the stress harness measures, each its servers and its workers.

| name | what a client's host does | servers | unit |
| --- | --- | --- | --- |
| handshakes | a handshake storm | `openssl s_server -www` (P-256) | handshakes/s |
| bulk | large files over TLS | `openssl s_server -WWW` serving 8 MiB | MiB/s |
| requests | an API server: 1 KiB each way, long-lived connections | forking Python `ssl` | requests/s |
| mixed | several TLS programs, IPv4 and IPv6 | `s_server` on 127.0.0.1 and ::1, tlslite-ng | handshakes/s |

The mixed population's clients: Python `ssl` over IPv4 and over IPv6, tlslite-ng (pure Python,
X25519MLKEM768) and, where a Go toolchain is installed, a statically linked Go client
(`stress/goclient`) alternating IPv4 and IPv6. Servers start once per workload and serve every
phase; so do the workers' processes (`stress.loadgen.LoadPool`). Every phase makes new handshakes
for the sensor, when on, to report: the handshake storms and fetches throughout, the requests
workload one new connection per client at the phase's start (its long-lived ones stay open).

Each runs over a `stress.link.Link`: loopback (127.0.0.1 and ::1), or a veth pair to a network
namespace where the workers run, the servers listening on this host's end of it.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import signal
import socket
import socketserver
import ssl
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from assess.sources.runtime.workload import Credentials, TlsliteServer, free_port, make_credentials, openssl_server
from stress.link import LOOPBACK, Link
from stress.loadgen import REQUEST_BYTES, Worker

BULK_FILE, BULK_BYTES = "bulk.bin", 8 << 20
GO_CLIENT = Path(__file__).resolve().parent / "goclient" / "main.go"


@dataclass(frozen=True)
class Workload:
    name: str
    title: str
    unit: str  # what the rate is in
    unit_bytes: int  # how many of the load's `completed` make one unit (1, or 2**20 for MiB)
    per: str  # one unit, as in "ns per handshake"
    start: Callable[[Path, ExitStack, int, Link], Setup]


@dataclass(frozen=True)
class Setup:
    """A started workload: its load's workers, a line on the setup, and its servers' processes by
    name (their CPU time, with that of the processes they start, is followed per phase)."""

    workers: list[Worker]
    description: str
    servers: dict[str, int]


def _port(server: subprocess.Popen[bytes]) -> int:
    return int(server.port)  # type: ignore[attr-defined]


def _handshakes(folder: Path, stack: ExitStack, workers: int, link: Link = LOOPBACK) -> Setup:
    server = stack.enter_context(openssl_server(make_credentials(folder, key_type="ec"), host=link.v4))
    return Setup([Worker("handshakes", ((link.v4, _port(server)),), namespace=link.namespace) for _ in range(workers)],
                 f"`openssl s_server -www` (P-256) on {link.v4}; {workers} Python `ssl` clients, "
                 "a new connection per handshake", {"s_server": server.pid})


def _bulk(folder: Path, stack: ExitStack, workers: int, link: Link = LOOPBACK) -> Setup:
    (folder / BULK_FILE).write_bytes(os.urandom(BULK_BYTES))
    creds = make_credentials(folder, key_type="ec")
    server = stack.enter_context(openssl_server(creds, None, host=link.v4, mode="-WWW", folder=folder))
    return Setup([Worker("fetches", ((link.v4, _port(server)),), path=BULK_FILE, namespace=link.namespace)
                  for _ in range(workers)],
                 f"`openssl s_server -WWW` on {link.v4} serving {BULK_BYTES >> 20} MiB; {workers} Python `ssl` "
                 "clients, a handshake and an HTTP/1.0 GET of the whole file per fetch", {"s_server": server.pid})


class _EchoHandler(socketserver.BaseRequestHandler):
    """One connection, in its own process: TLS, then REQUEST_BYTES in, the same back, until closed."""

    context: ssl.SSLContext

    def handle(self) -> None:
        buffer = memoryview(bytearray(REQUEST_BYTES))
        try:
            with self.context.wrap_socket(self.request, server_side=True) as tls:
                while True:
                    got = 0
                    while got < REQUEST_BYTES:
                        n = tls.recv_into(buffer[got:])
                        if not n:
                            return
                        got += n
                    tls.sendall(buffer)
        except (OSError, ssl.SSLError):
            return


class _ForkingEchoServer(socketserver.ForkingMixIn, socketserver.TCPServer):
    allow_reuse_address = True
    request_queue_size = 64

    def server_bind(self) -> None:
        self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().server_bind()


def _serve_echo(creds: Credentials, host: str, port: int) -> None:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(creds.cert, creds.key)
    handler = type("Handler", (_EchoHandler,), {"context": context})
    with _ForkingEchoServer((host, port), handler) as server:
        server.serve_forever()


@contextmanager
def _process(target: Callable[..., None], *args: object) -> Iterator[int]:
    """`target(*args)` in a process of its own (a server), ended with the block; yields its pid."""
    proc = multiprocessing.get_context("fork").Process(target=target, args=args, daemon=True)
    proc.start()
    assert proc.pid is not None
    try:
        yield proc.pid
    finally:
        proc.terminate()
        proc.join(10)


def _requests(folder: Path, stack: ExitStack, workers: int, link: Link = LOOPBACK) -> Setup:
    creds = make_credentials(folder, key_type="ec")
    port = free_port(link.v4)
    server = stack.enter_context(_process(_serve_echo, creds, link.v4, port))
    _wait_for(link.v4, port)
    connections = 2 * workers
    return Setup([Worker("requests", ((link.v4, port),), namespace=link.namespace) for _ in range(connections)],
                 f"a forking Python `ssl` server on {link.v4} (a process per connection); {connections} clients, each "
                 f"one long-lived connection, kept across phases, sending {REQUEST_BYTES} bytes and reading "
                 f"{REQUEST_BYTES} back, one request at a time, and one new connection (a handshake and a request) "
                 "at the start of each phase", {"python ssl server": server})


def _serve_tlslite(creds: Credentials, host: str, port: int) -> None:
    with TlsliteServer(creds, host=host, port=port):
        while True:
            signal.pause()


def _mixed(folder: Path, stack: ExitStack, workers: int, link: Link = LOOPBACK) -> Setup:
    ec = make_credentials(folder, key_type="ec")
    rsa_folder = folder / "rsa"
    rsa_folder.mkdir()
    rsa = make_credentials(rsa_folder)  # tlslite-ng reads RSA keys only
    server_v4 = stack.enter_context(openssl_server(ec, host=link.v4))
    server_v6 = stack.enter_context(openssl_server(ec, None, host=link.v6))
    v4, v6 = _port(server_v4), _port(server_v6)
    pq = free_port(link.v4)
    tlslite = stack.enter_context(_process(_serve_tlslite, rsa, link.v4, pq))
    _wait_for(link.v4, pq)
    at = link.namespace
    plan = [Worker("handshakes", ((link.v4, v4),), label="python-ssl ipv4", namespace=at),
            Worker("handshakes", ((link.v6, v6),), label="python-ssl ipv6", namespace=at),
            Worker("tlslite", ((link.v4, pq),), label="tlslite-ng ipv4", namespace=at)]
    go = build_go_client(folder)
    if go:
        plan.append(Worker("go", ((link.v4, v4), (link.v6, v6)), program=go, label="go ipv4+ipv6", namespace=at))
    clients = "Python `ssl` to each, tlslite-ng (X25519MLKEM768) to the tlslite-ng server"
    clients += ", a static Go client alternating IPv4 and IPv6" if go else " (no Go toolchain here: no Go client)"
    return Setup(plan, f"`openssl s_server -www` (P-256) on {link.v4} and on [{link.v6}], a tlslite-ng server on "
                       f"{link.v4}; clients: {clients}",
                 {"s_server ipv4": server_v4.pid, "s_server ipv6": server_v6.pid, "tlslite-ng server": tlslite})


def build_go_client(folder: Path) -> str | None:
    """The Go client, statically linked (CGO off), or None where no Go toolchain is installed."""
    go = shutil.which("go")
    if go is None:
        return None
    out = folder / "goclient"
    env = dict(os.environ, CGO_ENABLED="0", GO111MODULE="off", GOFLAGS="")  # Go's own build cache is reused
    subprocess.run([go, "build", "-trimpath", "-ldflags=-s -w", "-o", str(out), str(GO_CLIENT)], env=env,
                   check=True, capture_output=True, timeout=600)
    return str(out)


def _wait_for(host: str, port: int, timeout: float = 10.0) -> None:
    """Until something listens (a bare TCP connect: not a handshake, and before any sensor runs)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection((host, port), timeout=0.5).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


WORKLOADS: dict[str, Workload] = {
    w.name: w
    for w in (
        Workload("handshakes", "Handshake storm", "handshakes/s", 1, "handshake", _handshakes),
        Workload("bulk", "Bulk transfer", "MiB/s", 1 << 20, "MiB", _bulk),
        Workload("requests", "Small requests on long-lived connections", "requests/s", 1, "request", _requests),
        Workload("mixed", "Mixed process population, IPv4 and IPv6", "handshakes/s", 1, "handshake", _mixed),
    )
}
