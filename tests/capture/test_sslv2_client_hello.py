"""An SSLv2-compatible ClientHello (RFC 5246 E.2), as old clients and scanners still send it, to a
real OpenSSL server on loopback, recorded by tcpdump: `from-pcap` reports the connection, and agrees
with tshark's dissection of the same recording."""

from __future__ import annotations

import os
import socket
import struct
from pathlib import Path

from capture_testing import openssl_server, tcpdump
from secure_channels import free_port
from test_ground_truth import disagreements, ours
from tshark_truth import dissect

from assess.sources.runtime.workload import make_credentials

# Cipher specs: two TLS suites (first byte 0) and an SSLv2-only one (DES-CBC3-MD5), which the TLS
# reading leaves out.
SPECS = (b"\x00\x00\x2f", b"\x00\x00\x35", b"\x07\x00\xc0")


def sslv2_client_hello(version: bytes) -> bytes:
    challenge = os.urandom(32)
    body = bytes([1]) + version + struct.pack(">HHH", 3 * len(SPECS), 0, len(challenge)) + b"".join(SPECS) + challenge
    return struct.pack(">H", 0x8000 | len(body)) + body


def send_hello(port: int, hello: bytes) -> tuple[int, bytes]:
    """Send the hello, read what the server answers until it has sent its ServerHelloDone (or
    closed), then end the handshake with a fatal alert (handshake_failure) as a client that likes
    nothing it was offered would; the client's port and the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(hello)
        answer = b""
        while b"\x0e\x00\x00\x00" not in answer:  # ServerHelloDone
            chunk = s.recv(65536)
            if not chunk:
                break
            answer += chunk
        s.sendall(bytes.fromhex("15") + version_of(hello) + bytes.fromhex("00020228"))
        return int(s.getsockname()[1]), answer


def version_of(hello: bytes) -> bytes:
    return hello[3:5]


def test_sslv2_compatible_client_hello_to_openssl_is_reported_as_tshark_reads_it(tmp_path: Path) -> None:
    creds = make_credentials(tmp_path)
    port = free_port()
    # SECLEVEL=0: a hello without extensions offers only RSA key exchange and SHA-1 signatures.
    with openssl_server(creds, "127.0.0.1", port, "-cipher", "ALL:@SECLEVEL=0"), \
            tcpdump(tmp_path / "v2.pcap", f"tcp port {port}") as pcap:
        sent = {version: send_hello(port, sslv2_client_hello(bytes.fromhex(version))) for version in ("0301", "0303")}
    for version, (_, answer) in sent.items():
        assert answer[:3] == bytes.fromhex("1603") + bytes.fromhex(version)[1:], f"OpenSSL refused the {version} hello"

    lines, truth = ours(pcap, tmp_path), dissect(pcap)
    clients = {("127.0.0.1", client) for client, _ in sent.values()}
    assert clients <= set(truth), "tshark did not see both hellos"
    assert clients <= set(lines), "from-pcap dropped an SSLv2-compatible hello"
    assert {c: disagreements(lines[c], truth[c]) for c in clients} == {c: [] for c in clients}
    assert sorted(lines[c]["tls_version"] for c in clients) == ["TLSv1", "TLSv1.2"]
    assert {lines[c]["groups_offered"] == [] and lines[c]["sni"] is None for c in clients} == {True}
    assert {(lines[c]["alert"], lines[c]["success"]) for c in clients} == {("handshake_failure", False)}
