"""SSH and QUIC seen live (issue 23), as root with the real sensor: Debian's OpenSSH client and
server, asyncssh negotiating mlkem768x25519-sha256 and aioquic over QUIC v1 and v2, all on
loopback, each reported with the process at each end (the socket tracepoints: the connecting thread
and the first process to do I/O on an accepted socket for SSH, the last to do I/O on a port for
QUIC's UDP sockets)."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from live_sensor import LiveCapture, Record

from assess.sources.runtime.quic_wire import QUIC_V1, QUIC_V2
from tests.capture.secure_channels import (
    aioquic_handshakes,
    asyncssh_mlkem,
    free_port,
    openssh_default_kex,
    openssh_server,
)
from tests.processes import descendants

pytestmark = pytest.mark.root


@dataclass
class Sshd:
    port: int
    pid: int  # the listening sshd, which accepts every connection and forks a process to serve it


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory, sensor: LiveCapture) -> Iterator[Sshd]:
    folder = tmp_path_factory.mktemp("sshd")
    with openssh_server(folder) as port:
        yield Sshd(port, int((folder / "sshd.pid").read_text()))


class _Descendants:
    """The processes descended from `pid` while the block runs (polled: sshd's per-connection
    processes live as long as the connection)."""

    def __init__(self, pid: int) -> None:
        self.root, self.seen = pid, set[int]()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        while not self._stop.is_set():
            self.seen |= descendants(self.root, self.seen)
            time.sleep(0.002)

    def __enter__(self) -> _Descendants:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def _ssh(port: int, *options: str) -> int:
    """One `ssh` connection whose key exchange completes (authentication then fails); its pid."""
    proc = subprocess.Popen(["ssh", "-p", str(port), "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
                             "-o", "UserKnownHostsFile=/dev/null", "-o", "ConnectTimeout=5", *options,
                             "nobody@127.0.0.1", "true"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    proc.wait(30)
    return proc.pid


def _both_ends(sensor: LiveCapture, client_line: Record) -> Record:
    [server] = sensor.wait_for(lambda r: r["role"] == "server" and r["src_port"] == client_line["src_port"]
                               and r["dst_port"] == client_line["dst_port"], kind="ssh")
    return server


@pytest.mark.parametrize(("options", "kex", "pq"), [
    ((), None, True),  # the default: openssh_default_kex()
    (("-o", "KexAlgorithms=sntrup761x25519-sha512@openssh.com"), "sntrup761x25519-sha512@openssh.com", True),
    (("-o", "KexAlgorithms=curve25519-sha256"), "curve25519-sha256", False),
], ids=["default", "openssh-name", "classical"])
def test_openssh_key_exchange_is_reported_live_for_ssh_and_sshd(
    sensor: LiveCapture, sshd: Sshd, options: tuple[str, ...], kex: str | None, pq: bool
) -> None:
    kex = kex or openssh_default_kex()
    with _Descendants(sshd.pid) as forked:
        pid = _ssh(sshd.port, *options)
    [client] = sensor.wait_for(lambda r: r["pid"] == pid and r["dst_port"] == sshd.port, kind="ssh")
    server = _both_ends(sensor, client)
    assert (client["role"], client["comm"], client["exe"]) == ("client", "ssh", "/usr/bin/ssh")
    # The server end is the sshd process that served the connection (the first to do I/O on it),
    # forked by the listener for it; its exec path is kept although it has exited.
    assert server["pid"] in forked.seen
    assert (server["comm"], server["exe"]) == ("sshd", "/usr/sbin/sshd")
    for line in (client, server):
        assert line["kex"] == kex
        assert line["pq_hybrid"] is pq
        assert line["client_banner"].startswith("SSH-2.0-OpenSSH_")
        assert line["server_banner"].startswith("SSH-2.0-OpenSSH_")
        assert line["host_key_algorithm"] == "ssh-ed25519"
        assert line["success"] is True and line["handshake_ms"] is not None
        assert line["source"] == "wire"
        assert line["host"] == socket.gethostname()


def test_asyncssh_mlkem768_session_is_reported_live_for_both_ends(sensor: LiveCapture) -> None:
    port = free_port()
    asyncssh_mlkem(port)
    lines = sensor.wait_for(lambda r: r["dst_port"] == port and r["kex"] is not None, count=2, kind="ssh")
    assert sorted(line["role"] for line in lines) == ["client", "server"]
    for line in lines:
        assert line["pid"] == os.getpid()
        assert line["kex"] == "mlkem768x25519-sha256"
        assert line["pq_hybrid"] is True
        assert line["client_banner"].startswith("SSH-2.0-AsyncSSH_")
        assert line["success"] is True


def test_aioquic_handshakes_are_reported_live_with_transport_quic_and_their_process(
    sensor: LiveCapture, tmp_path: Path
) -> None:
    port = free_port(socket.SOCK_DGRAM)
    aioquic_handshakes(tmp_path, port, versions=(QUIC_V1, QUIC_V2))
    lines = sensor.wait_for(lambda r: r["dst_port"] == port, count=4)
    assert sorted(line["role"] for line in lines) == ["client", "client", "server", "server"]
    assert len({line["src_port"] for line in lines}) == 2  # two connections, each seen from both ends
    for line in lines:
        assert line["transport"] == "quic"
        assert line["pid"] == os.getpid()
        assert line["sni"] == "quic.test"
        assert line["tls_version"] == "TLSv1.3"
        assert line["negotiated_group"] in line["key_shares_offered"]
        assert line["success"] is True and line["outcome_source"] == "wire"
        assert line["source"] == "wire"


def test_tls_over_tcp_lines_say_transport_tcp(sensor: LiveCapture) -> None:
    tcp = [r for r in sensor.handshakes() if r["source"] != "uprobe"]
    assert all(r["transport"] in ("tcp", "quic") for r in tcp)


def _metric(sensor: LiveCapture, key: str) -> int:
    return int([r for r in sensor.lines() if r["type"] == "metrics"][-1][key])


def _bulk_ssh_session(port: int, size: int) -> int:
    """An asyncssh session that logs in and sends `size` bytes through a channel; what the server read."""
    import asyncssh

    key = asyncssh.generate_private_key("ssh-ed25519")

    class Open(asyncssh.SSHServer):
        def begin_auth(self, username: str) -> bool:
            return False  # no authentication needed

    async def count(process: asyncssh.SSHServerProcess) -> None:
        total = 0
        while chunk := await process.stdin.read(1 << 16):
            total += len(chunk)
        process.stdout.write(str(total).encode())
        process.exit(0)

    async def run() -> int:
        server = await asyncssh.listen("127.0.0.1", port, server_host_keys=[key], server_factory=Open,
                                       process_factory=count, encoding=None)
        try:
            async with asyncssh.connect("127.0.0.1", port, known_hosts=None, username="bulk") as conn:
                result = await conn.run(input=b"\0" * size, encoding=None)
                return int(result.stdout)
        finally:
            server.close()
            await server.wait_closed()

    return asyncio.run(run())


def test_an_ssh_session_is_let_go_after_its_key_exchange(sensor: LiveCapture) -> None:
    """The socket filter passes an SSH connection's segments only until user space has read its key
    exchange: 16 MiB through the session after it reach user space as a handful of segments at most."""
    port = free_port()
    time.sleep(1.5)  # a metrics line written after anything before
    before = _metric(sensor, "packets")
    assert _bulk_ssh_session(port, 16 << 20) == 16 << 20
    sensor.wait_for(lambda r: r["dst_port"] == port and r["success"] is True, count=2, kind="ssh")
    time.sleep(1.5)
    passed = _metric(sensor, "packets") - before
    # 16 MiB is at least 256 segments of 64 KiB on loopback; the key exchange is about a dozen.
    assert passed < 100, passed
    assert _metric(sensor, "ssh_flows") >= 1


def test_udp_that_is_not_quic_is_not_passed_to_user_space(sensor: LiveCapture) -> None:
    """Datagrams that look a little like QUIC (long headers of other versions, Initial-sized; short
    headers) and random ones stay in the kernel: only a v1/v2 client Initial opens a flow."""
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    looks_like = [b"\xc0\xff\x00\x00\x1d" + os.urandom(1300),  # a long-header Initial of draft-29: not read
                  b"\xe0\x00\x00\x00\x01" + os.urandom(1300),  # a v1 Handshake packet: keys not public
                  b"\xc0\x00\x00\x00\x01" + os.urandom(200),  # a v1 Initial too short to be a client's first
                  b"\x40" + os.urandom(60)]  # a short header, no QUIC flow open between these ports
    time.sleep(1.5)
    before = _metric(sensor, "packets")
    for i in range(2000):
        sender.sendto(looks_like[i % 4] if i % 2 else os.urandom(64), receiver.getsockname())
    time.sleep(2.5)
    assert _metric(sensor, "packets") - before < 50
    receiver.close()
    sender.close()


def test_a_port_probe_that_only_hears_the_server_banner_gives_no_ssh_line(sensor: LiveCapture, sshd: Sshd) -> None:
    with socket.create_connection(("127.0.0.1", sshd.port)) as probe:
        probe.recv(256)  # sshd's banner
        client_port = probe.getsockname()[1]
    pid = _ssh(sshd.port)  # a real session after it, to know the sensor has read past the probe
    sensor.wait_for(lambda r: r["pid"] == pid, kind="ssh")
    time.sleep(0.5)
    assert not [r for r in sensor.lines() if r["type"] == "ssh" and r["src_port"] == client_port]


def test_ssh_and_quic_over_ipv6_loopback_are_reported_live(sensor: LiveCapture, tmp_path: Path) -> None:
    ssh_port, quic_port = free_port(), free_port(socket.SOCK_DGRAM)
    asyncssh_mlkem(ssh_port, host="::1")
    aioquic_handshakes(tmp_path, quic_port, versions=(QUIC_V1,), host="::1")
    ssh = sensor.wait_for(lambda r: r["dst_port"] == ssh_port and r["kex"] is not None, count=2, kind="ssh")
    quic = sensor.wait_for(lambda r: r["dst_port"] == quic_port, count=2)
    for line in ssh + quic:
        assert (line["src_ip"], line["dst_ip"]) == ("::1", "::1")
        assert line["pid"] == os.getpid()
    assert {line["kex"] for line in ssh} == {"mlkem768x25519-sha256"}
    assert {line["transport"] for line in quic} == {"quic"}
    assert sorted(line["role"] for line in quic) == ["client", "server"]
