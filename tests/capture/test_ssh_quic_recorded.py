"""Real SSH and QUIC on loopback, recorded with tcpdump and read by `carnot runtime from-pcap`:
Debian's OpenSSH 9.2 with its default (Debian 12's current build offers the RFC name
sntrup761x25519-sha512 first, before OpenSSH's own sntrup761x25519-sha512@openssh.com), with the
@openssh.com name and with a classical kex forced by `-o KexAlgorithms=`, asyncssh negotiating
mlkem768x25519-sha256, and aioquic handshakes over QUIC v1 and v2."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass

import pytest
from capture_testing import carnot, read_lines, tcpdump
from secure_channels import (
    aioquic_handshakes,
    asyncssh_mlkem,
    free_port,
    openssh_client,
    openssh_default_kex,
    openssh_server,
)

from assess.sources.runtime.quic_wire import QUIC_V1, QUIC_V2

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="tcpdump on lo needs root")


@dataclass
class Channels:
    lines: list[dict]
    sshd_port: int
    asyncssh_port: int
    quic_port: int


@pytest.fixture(scope="module")
def channels(tmp_path_factory: pytest.TempPathFactory) -> Channels:
    folder = tmp_path_factory.mktemp("channels")
    pcap = folder / "channels.pcap"
    asyncssh_port, quic_port = free_port(), free_port(socket.SOCK_DGRAM)
    with openssh_server(folder) as sshd_port:
        # Only our servers' ports: other tests may be using loopback at the same time.
        with tcpdump(pcap, f"tcp port {sshd_port} or tcp port {asyncssh_port} or udp port {quic_port}"):
            openssh_client(sshd_port)
            openssh_client(sshd_port, "-o", "KexAlgorithms=sntrup761x25519-sha512@openssh.com")
            openssh_client(sshd_port, "-o", "KexAlgorithms=curve25519-sha256")
            asyncssh_mlkem(asyncssh_port)
            aioquic_handshakes(folder, quic_port, versions=(QUIC_V1, QUIC_V2))
    out = folder / "runtime.jsonl"
    result = carnot("runtime", "from-pcap", pcap, "--out", out)
    assert result.returncode == 0, result.stderr
    return Channels(read_lines(out), sshd_port, asyncssh_port, quic_port)


def _ssh(channels: Channels, port: int) -> list[dict]:
    # (sshd's banner to the readiness probe that connected before the recording can be in it too)
    return [r for r in channels.lines if r["type"] == "ssh" and r["dst_port"] == port and r["kex"] is not None]


def test_openssh_default_negotiates_its_pq_hybrid(channels: Channels) -> None:
    default, openssh_name, _ = _ssh(channels, channels.sshd_port)
    assert default["client_banner"].startswith("SSH-2.0-OpenSSH_")
    assert default["server_banner"].startswith("SSH-2.0-OpenSSH_")
    # Debian 12's OpenSSH 9.2 lists the RFC name first; Ubuntu 24.04's 9.6 the @openssh.com one.
    assert default["kex_offered_client"][0] == openssh_default_kex()
    assert default["kex"] == openssh_default_kex()
    assert default["pq_hybrid"] is True
    assert openssh_name["kex"] == "sntrup761x25519-sha512@openssh.com"
    assert openssh_name["pq_hybrid"] is True
    assert default["host_key_algorithm"] == "ssh-ed25519"
    assert default["strict_kex"] is True
    assert default["success"] is True and default["handshake_ms"] is not None
    assert "ext-info-c" not in default["kex_offered_client"]  # a pseudo-algorithm, not a method


def test_openssh_forced_classical_kex_is_not_pq(channels: Channels) -> None:
    *_, forced = _ssh(channels, channels.sshd_port)
    assert forced["kex_offered_client"] == ["curve25519-sha256"]
    assert forced["kex"] == "curve25519-sha256"
    assert forced["pq_hybrid"] is False
    assert forced["success"] is True


def test_asyncssh_negotiates_mlkem768x25519(channels: Channels) -> None:
    [session] = _ssh(channels, channels.asyncssh_port)
    assert session["client_banner"].startswith("SSH-2.0-AsyncSSH_")
    assert session["kex"] == "mlkem768x25519-sha256"
    assert session["pq_hybrid"] is True
    assert session["success"] is True


def test_aioquic_handshakes_are_read_with_groups_over_v1_and_v2(channels: Channels) -> None:
    quic = [r for r in channels.lines if r["type"] == "handshake" and r["dst_port"] == channels.quic_port]
    assert len(quic) == 2
    for line in quic:
        assert line["transport"] == "quic"
        assert line["sni"] == "quic.test"
        assert line["tls_version"] == "TLSv1.3"
        assert line["negotiated_group"] in line["key_shares_offered"]
        assert line["groups_offered"] and line["success"] is True
        assert line["pq_hybrid"] is False  # aioquic has no ML-KEM group


def test_metrics_count_ssh_and_quic(channels: Channels) -> None:
    [metrics] = [r for r in channels.lines if r["type"] == "metrics"]
    assert metrics["ssh_flows"] >= 4
    assert metrics["quic_flows"] == 2
