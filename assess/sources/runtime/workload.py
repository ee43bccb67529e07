"""A TLS workload on loopback: classical handshakes through OpenSSL and hybrid post-quantum ones
(X25519MLKEM768) through tlslite-ng, for the demo assessment, the tests and the stress harness.

Everything listens on 127.0.0.1 at ports picked by the kernel, so runs never collide.
"""

from __future__ import annotations

import datetime
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from assess.errors import CarnotError

HOST = "127.0.0.1"
PQ_GROUP = "x25519mlkem768"


class WorkloadError(CarnotError):
    """A workload peer could not start."""


@dataclass(frozen=True)
class Credentials:
    cert: Path
    key: Path


def make_credentials(folder: Path, common_name: str = "localhost", *, key_type: str = "rsa") -> Credentials:
    """A throw-away self-signed certificate: RSA-2048 (OpenSSL and tlslite-ng read it) or, with
    key_type="ec", P-256 (cheaper handshakes for load tests; OpenSSL only)."""
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey = (
        ec.generate_private_key(ec.SECP256R1()) if key_type == "ec" else rsa.generate_private_key(65537, 2048)
    )
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(common_name)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
        )
    )
    return Credentials(cert_path, key_path)


def free_port(host: str = HOST) -> int:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((HOST, port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise WorkloadError(f"nothing listens on {HOST}:{port} after {timeout:.0f}s")


def host_port(host: str, port: int) -> str:
    """host:port as OpenSSL and URLs spell it (an IPv6 address in brackets)."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


@contextmanager
def openssl_server(creds: Credentials, port: int | None = None, *extra: str, host: str = HOST,
                   mode: str = "-www", folder: Path | None = None) -> Iterator[subprocess.Popen[bytes]]:
    """`openssl s_server -www` (or another `mode`, e.g. `-WWW` to serve the files of `folder`) on
    127.0.0.1 or `host` (one connection at a time, forever, until the block ends)."""
    if shutil.which("openssl") is None:
        raise WorkloadError("the openssl command is not installed")
    port = port or free_port(host)
    proc = subprocess.Popen(
        ["openssl", "s_server", "-accept", host_port(host, port), "-cert", str(creds.cert), "-key",
         str(creds.key), mode, "-quiet", *extra],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=folder,
    )
    proc.port = port  # type: ignore[attr-defined]
    try:
        _wait_listening(port)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait_listening(port: int, timeout: float = 10.0) -> None:
    """Wait until a listener exists, without connecting (a probe connection would be a handshake)."""
    deadline = time.monotonic() + timeout
    needle = f":{port:04X} "
    while time.monotonic() < deadline:
        table = ""
        for name in ("tcp", "tcp6"):
            try:
                table += "".join(Path(f"/proc/net/{name}").read_text().splitlines(keepends=True)[1:])
            except OSError:
                pass
        if any(needle in line and line.split()[3] == "0A" for line in table.splitlines()):
            return
        time.sleep(0.05)
    raise WorkloadError(f"nothing listens on port {port} after {timeout:.0f}s")


def openssl_client(port: int, sni: str | None = None, *extra: str) -> subprocess.CompletedProcess[bytes]:
    cmd = ["openssl", "s_client", "-connect", f"{HOST}:{port}", *extra]
    if sni is not None:
        cmd += ["-servername", sni]
    return subprocess.run(cmd, input=b"", capture_output=True, timeout=30)


def curl_client(port: int) -> subprocess.CompletedProcess[bytes]:
    url = f"https://{HOST}:{port}/"
    return subprocess.run(["curl", "-sk", "-o", "/dev/null", url], capture_output=True, timeout=30)


def python_client(port: int, sni: str | None = "localhost", *, timeout: float = 10.0) -> float:
    """One handshake with Python's ssl (OpenSSL underneath); returns its duration in seconds."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    started = time.perf_counter()
    with socket.create_connection((HOST, port), timeout=timeout) as raw, ctx.wrap_socket(raw, server_hostname=sni):
        return time.perf_counter() - started


def _tlslite_settings(groups: list[str], key_shares: list[str]) -> object:
    from tlslite.api import HandshakeSettings

    settings = HandshakeSettings()
    settings.eccCurves = list(groups)
    settings.keyShares = list(key_shares)
    settings.minVersion = (3, 4)
    settings.maxVersion = (3, 4)
    return settings


@dataclass
class TlsliteServer:
    """A tlslite-ng TLS 1.3 server in a thread that prefers X25519MLKEM768 (pure Python, no OpenSSL)."""

    creds: Credentials
    port: int = 0
    groups: list[str] = field(default_factory=lambda: [PQ_GROUP, "x25519", "secp256r1"])
    host: str = HOST
    handshakes: int = 0
    failures: int = 0

    def __post_init__(self) -> None:
        from tlslite.api import X509CertChain, parsePEMKey

        self._chain = X509CertChain()
        self._chain.parsePemList(self.creds.cert.read_text())
        self._key = parsePEMKey(self.creds.key.read_text(), private=True, implementations=["python"])
        self._listener = socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((self.host, self.port))
        self._listener.listen(64)
        self.port = int(self._listener.getsockname()[1])
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="tlslite-server", daemon=True)

    def __enter__(self) -> TlsliteServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        try:
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        except OSError:
            pass
        self._listener.close()
        self._thread.join(10)

    def _serve(self) -> None:
        from tlslite.api import TLSConnection

        settings = _tlslite_settings(self.groups, [])
        while not self._stop.is_set():
            try:
                sock, _ = self._listener.accept()
            except OSError:
                return
            sock.settimeout(10)
            conn = TLSConnection(sock)
            try:
                conn.handshakeServer(certChain=self._chain, privateKey=self._key, settings=settings)
                self.handshakes += 1
                conn.close()
            except Exception:  # a failed handshake is the client's problem; keep serving
                self.failures += 1
            finally:
                sock.close()


def tlslite_client(port: int, sni: str | None = "pq.localhost", groups: list[str] | None = None, *,
                   host: str = HOST) -> float:
    """One tlslite-ng TLS 1.3 handshake offering X25519MLKEM768 first; returns its duration."""
    started = time.perf_counter()
    with socket.create_connection((host, port), timeout=10) as sock:
        tlslite_handshake(sock, sni, groups)
        return time.perf_counter() - started


def tlslite_handshake(sock: socket.socket, sni: str | None, groups: list[str] | None = None) -> None:
    """A tlslite-ng TLS 1.3 client handshake on a connected socket, sharing a key for the first
    of `groups` (default X25519MLKEM768, then x25519 offered); closed after."""
    from tlslite.api import TLSConnection

    groups = groups or [PQ_GROUP, "x25519"]
    conn = TLSConnection(sock)
    conn.handshakeClientCert(settings=_tlslite_settings(groups, [groups[0]]), serverName=sni)
    conn.close()


@dataclass(frozen=True)
class WorkloadReport:
    classical_handshakes: int
    pq_handshakes: int
    failures: int
    duration_s: float


def run_demo_workload(duration_s: float = 5.0) -> WorkloadReport:
    """Classical (OpenSSL server; openssl, curl and Python clients) and hybrid-PQ (tlslite-ng) handshakes
    on 127.0.0.1 for about `duration_s` seconds, for a sensor running meanwhile to observe."""
    classical = pq = failures = 0
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="carnot-workload-") as tmp:
        creds = make_credentials(Path(tmp))
        with openssl_server(creds) as server, TlsliteServer(creds) as pq_server:
            port = server.port  # type: ignore[attr-defined]
            steps: tuple[Callable[[], bool], ...] = (
                lambda: openssl_client(port, "demo.localhost").returncode == 0,
                lambda: curl_client(port).returncode == 0,
                lambda: python_client(port, "demo.localhost") > 0,
            )
            while time.monotonic() - started < duration_s:
                for step in steps:
                    try:
                        ok = step()
                    except (OSError, subprocess.SubprocessError):
                        ok = False
                    classical += ok
                    failures += not ok
                try:
                    tlslite_client(pq_server.port)
                    pq += 1
                except Exception:
                    failures += 1
    return WorkloadReport(classical, pq, failures, round(time.monotonic() - started, 3))
