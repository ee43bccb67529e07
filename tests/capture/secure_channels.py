"""Real SSH and QUIC endpoints on loopback for the capture tests: Debian's OpenSSH server and client
(sshd on a free high port with its own config and host key in a temporary folder), asyncssh (which
speaks mlkem768x25519-sha256 through cryptography's ML-KEM), and aioquic's QUIC client and server."""

from __future__ import annotations

import asyncio
import datetime
import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _need(program: str) -> str:
    path = shutil.which(program) or (f"/usr/sbin/{program}" if Path(f"/usr/sbin/{program}").exists() else None)
    if path is None:
        pytest.fail(f"{program} is not installed (noxfile.py's TEST_PACKAGES installs openssh-server/-client)")
    return path


@contextmanager
def openssh_server(folder: Path) -> Iterator[int]:
    """sshd on 127.0.0.1 with a fresh ed25519 host key and Debian 12's defaults otherwise; no login succeeds."""
    sshd = _need("sshd")
    key = folder / "ssh_host_ed25519_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    port = free_port()
    config = folder / "sshd_config"
    config.write_text(f"Port {port}\nListenAddress 127.0.0.1\nHostKey {key}\nPidFile {folder / 'sshd.pid'}\n"
                      "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\n")
    Path("/run/sshd").mkdir(exist_ok=True)  # its privilege separation directory
    proc = subprocess.Popen([sshd, "-D", "-e", "-f", str(config)], stderr=subprocess.DEVNULL)
    try:
        _wait_for_port(port)
        yield port
    finally:
        proc.terminate()
        proc.wait(10)


def _wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    pytest.fail(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


def openssh_client(port: int, *options: str) -> None:
    """One `ssh` connection: the key exchange completes, then authentication fails (no keys, no password)."""
    _need("ssh")
    subprocess.run(["ssh", "-p", str(port), "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
                    "-o", "UserKnownHostsFile=/dev/null", "-o", "ConnectTimeout=5", *options,
                    "nobody@127.0.0.1", "true"], capture_output=True, timeout=30)


def asyncssh_mlkem(port: int, host: str = "127.0.0.1") -> None:
    """An asyncssh client and server on `host`:`port` agreeing on mlkem768x25519-sha256."""
    import asyncssh

    key = asyncssh.generate_private_key("ssh-ed25519")

    async def run() -> None:
        server = await asyncssh.listen(host, port, server_host_keys=[key], kex_algs=["mlkem768x25519-sha256"])
        try:
            async with asyncssh.connect(host, port, known_hosts=None, username="nobody", password="x",
                                        kex_algs=["mlkem768x25519-sha256", "curve25519-sha256"]):
                pass
        except (asyncssh.Error, OSError):
            pass  # authentication fails after the key exchange
        server.close()
        await server.wait_closed()

    asyncio.run(run())


def _self_signed(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "quic.test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("quic.test")]), critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "quic.pem", folder / "quic.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def aioquic_handshakes(folder: Path, port: int, *, versions: tuple[int, ...], host: str = "127.0.0.1") -> None:
    """One aioquic handshake per QUIC version to `host` UDP `port` (SNI quic.test, ALPN carnot)."""
    from aioquic.asyncio import connect, serve
    from aioquic.quic.configuration import QuicConfiguration

    cert, key = _self_signed(folder)

    async def run() -> None:
        server_config = QuicConfiguration(is_client=False, alpn_protocols=["carnot"])
        server_config.load_cert_chain(cert, key)
        server = await serve(host, port, configuration=server_config)
        try:
            for version in versions:
                client_config = QuicConfiguration(is_client=True, alpn_protocols=["carnot"], server_name="quic.test",
                                                  verify_mode=ssl.CERT_NONE, supported_versions=[version])
                async with connect(host, port, configuration=client_config) as client:
                    await client.ping()
        finally:
            server.close()

    asyncio.run(run())


def openssh_default_kex() -> str:
    """The installed OpenSSH client's first key exchange method (`ssh -G`): sntrup761x25519-sha512 in
    Debian 12's 9.2 (which lists the RFC name first), the @openssh.com name in Ubuntu 24.04's 9.6,
    mlkem768x25519-sha256 from OpenSSH 10; all post-quantum hybrids."""
    config = subprocess.run(["ssh", "-G", "127.0.0.1"], capture_output=True, text=True, stdin=subprocess.DEVNULL)
    [line] = [line for line in config.stdout.splitlines() if line.startswith("kexalgorithms ")]
    return line.split()[1].split(",")[0]
