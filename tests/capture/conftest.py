"""Captures recorded in the tests: tcpdump on `lo` during real TLS handshakes on 127.0.0.1 and ::1.

One recording serves the session (it takes a few seconds); each test finds its handshakes by port.
"""

from __future__ import annotations

import socket
import time

import pytest
from capture_testing import PlainServer, Recording, free_ipv6_port, ipv6_handshake, tcpdump

from assess.sources.runtime.workload import (
    Credentials,
    TlsliteServer,
    make_credentials,
    openssl_client,
    openssl_server,
    tlslite_client,
)


@pytest.fixture(scope="session")
def creds(tmp_path_factory: pytest.TempPathFactory) -> Credentials:
    return make_credentials(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="session")
def recording(tmp_path_factory: pytest.TempPathFactory, creds: Credentials) -> Recording:
    """Every real handshake the capture tests need, in one tcpdump recording on lo."""
    pcap = tmp_path_factory.mktemp("recorded") / "loopback.pcap"
    ports: dict[str, int] = {}
    client_ports: dict[str, int] = {}
    with openssl_server(creds) as server, TlsliteServer(creds) as pq:
        plain = PlainServer()
        port = int(server.port)  # type: ignore[attr-defined]
        ports.update(x25519=port, p256=port, ecdhe12=port, rsa12=port, pq=pq.port, plain=plain.port,
                     ipv6=free_ipv6_port())
        # Only our servers' ports: other tests may be shaking hands on loopback at the same time.
        with tcpdump(pcap, " or ".join(f"tcp port {p}" for p in sorted(set(ports.values())))):
            for case, extra in (("x25519", ("-groups", "x25519")), ("p256", ("-groups", "P-256"))):
                assert openssl_client(ports[case], f"{case}.test", *extra).returncode == 0
                time.sleep(0.05)
            assert openssl_client(ports["ecdhe12"], "ecdhe12.test", "-tls1_2").returncode == 0
            rsa = openssl_client(ports["rsa12"], "rsa12.test", "-tls1_2", "-cipher", "AES128-GCM-SHA256")
            assert rsa.returncode == 0, rsa.stderr
            tlslite_client(ports["pq"], sni="pq.test")
            with socket.create_connection(("127.0.0.1", plain.port)) as s:
                client_ports["plain"] = int(s.getsockname()[1])
                s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                s.recv(100)
            client_ports["ipv6"] = ipv6_handshake(creds, ports["ipv6"])
        plain.close()
    return Recording(pcap, ports, client_ports)
