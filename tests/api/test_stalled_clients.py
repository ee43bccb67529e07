"""Clients that stall, trickle or flood over real sockets cannot keep `carnot serve` busy or growing.

The server here has short limits (1 s idle, 3 s per body, 4 upload slots, 10 MiB bodies) so the
cases run in seconds; the defaults are documented in docs/API.md.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from serving import Server, running_server
from test_attest_api import cbom_bytes

MIB = 1024 * 1024
MAX_BODY = 10 * MIB
IDLE, BODY, SLOTS = 1, 3, 4


@pytest.fixture(scope="module")
def strict_server() -> Iterator[Server]:
    flags = ("--idle-timeout", str(IDLE), "--body-timeout", str(BODY), "--max-concurrent-uploads", str(SLOTS))
    with running_server(*flags, max_body=MAX_BODY) as running:
        yield running


def _connect(server: Server) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=BODY + IDLE + 10)


def _head(length: int) -> bytes:
    return (f"POST /attest HTTP/1.1\r\nHost: carnot\r\nContent-Type: application/json\r\n"
            f"Content-Length: {length}\r\n\r\n").encode()


def _answer(sock: socket.socket) -> tuple[int, dict[str, str], dict[str, str]]:
    """Status, headers and JSON body of one response (the body is small: read to its length)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed without an answer: {data!r}"
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
    while len(rest) < int(headers["content-length"]):
        rest += sock.recv(65536)
    return int(lines[0].split()[1]), headers, json.loads(rest)


def _closed_within(sock: socket.socket, seconds: float) -> bool:
    """Whether the server closes the connection within seconds (whatever it sends first is drained)."""
    sock.settimeout(seconds)
    end = time.monotonic() + seconds
    try:
        while time.monotonic() < end:
            if not sock.recv(65536):
                return True
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False
    return False


def _stalled_upload(server: Server, sent: int, results: list[tuple[float, int | str]], start: float) -> None:
    """Announce 10 MiB, send `sent` bytes, then send nothing more; record when and how it was answered."""
    with _connect(server) as sock:
        try:
            sock.sendall(_head(MAX_BODY) + b" " * sent)
            status: int | str = _answer(sock)[0]
        except OSError as e:  # the server may close while bytes are still on their way
            status = type(e).__name__
        results.append((time.monotonic() - start, status))


def _attest_following_retry_after(server: Server, attempts: int = 5) -> httpx.Response:
    body = cbom_bytes(("carnot:tls:legit", "x25519", "secret"))
    for _ in range(attempts):
        response = httpx.post(f"{server.url}/attest", content=body, timeout=30)
        if response.status_code != 503:
            return response
        time.sleep(int(response.headers["retry-after"]))
    return response


def _append_attest(server: Server, responses: list[httpx.Response]) -> None:
    responses.append(_attest_following_retry_after(server))


def test_twenty_stalled_10_mib_uploads_are_answered_in_time_and_memory_stays_bounded(strict_server):
    # the first attestation loads the compiled CycloneDX schema (about 220 MiB, once per process)
    assert _attest_following_retry_after(strict_server).status_code == 200
    baseline = strict_server.rss_mib()
    samples: list[tuple[float, float]] = []
    start = time.monotonic()
    for wave in range(2):  # a second wave shows nothing accumulates
        results: list[tuple[float, int | str]] = []
        wave_start = time.monotonic()
        clients = [threading.Thread(target=_stalled_upload, args=(strict_server, 4 * MIB, results, wave_start))
                   for _ in range(20)]
        legit: list[httpx.Response] = []
        during = threading.Thread(target=_append_attest, args=(strict_server, legit))
        for client in clients:
            client.start()
        time.sleep(0.2)
        health_start = time.monotonic()
        assert httpx.get(f"{strict_server.url}/healthz", timeout=5).status_code == 200
        assert time.monotonic() - health_start < 1.0
        during.start()
        while any(c.is_alive() for c in clients):
            samples.append((round(time.monotonic() - start, 1), strict_server.rss_mib()))
            assert time.monotonic() - wave_start < BODY + IDLE + 5, f"wave {wave}: unanswered after {results}"
            time.sleep(0.1)
        during.join(timeout=30)

        assert len(results) == 20
        assert all(status in (408, 503, "ConnectionResetError", "BrokenPipeError") for _, status in results), results
        assert max(t for t, _ in results) < BODY + IDLE + 3, results
        assert legit and legit[0].status_code == 200, legit
    assert _attest_following_retry_after(strict_server).status_code == 200

    # 20 x 4 MiB would be 80 MiB per wave if every upload were buffered; at most 4 are received at once
    peak = max(rss for _, rss in samples)
    assert peak - baseline < SLOTS * MAX_BODY / MIB, f"baseline {baseline:.0f} MiB, samples {samples}"


def test_a_connection_that_sends_nothing_or_trickles_its_request_head_is_closed(strict_server):
    silent = _connect(strict_server)
    trickling = _connect(strict_server)
    trickling.sendall(b"POST /attest HTTP/1.1\r\nHost: carnot\r\nX-Slow: ")

    def trickle() -> None:
        try:
            for _ in range(20):
                time.sleep(0.3)
                trickling.sendall(b"a")
        except OSError:
            pass

    thread = threading.Thread(target=trickle)
    thread.start()
    assert _closed_within(silent, IDLE + 2)
    assert _closed_within(trickling, IDLE + 2)  # 20 x 0.3 s of trickle would take 6 s
    thread.join()
    silent.close()
    trickling.close()


def test_a_client_stalling_after_its_body_was_refused_413_is_disconnected(strict_server):
    with _connect(strict_server) as sock:
        sock.sendall(_head(MAX_BODY + 1) + b"{")
        status, _, body = _answer(sock)
        assert status == 413 and body["error"] == "body_too_large"
        assert _closed_within(sock, IDLE + 2)


def test_a_steady_trickle_past_the_body_timeout_gets_408_and_is_closed(strict_server):
    with _connect(strict_server) as sock:
        sock.sendall(_head(1000))
        started = time.monotonic()
        sock.settimeout(0.4)
        answer = b""
        while not answer:  # one byte every 0.4 s never trips the 1 s idle timeout
            sock.sendall(b" ")
            try:
                answer = sock.recv(65536, socket.MSG_PEEK)
            except TimeoutError:
                continue
        sock.settimeout(5)
        status, headers, body = _answer(sock)
        assert status == 408 and body["error"] == "body_timeout"
        assert f"within {BODY} s" in body["message"]
        assert BODY - 0.5 < time.monotonic() - started < BODY + 2
        assert headers["connection"] == "close"
        assert _closed_within(sock, 2)


def test_with_every_upload_slot_taken_another_upload_gets_503_json_with_retry_after(strict_server):
    holders = [_connect(strict_server) for _ in range(SLOTS)]
    stop = threading.Event()

    def keep_trickling() -> None:
        while not stop.is_set():
            for sock in holders:
                try:
                    sock.sendall(b" ")
                except OSError:
                    pass
            time.sleep(0.3)

    for sock in holders:
        sock.sendall(_head(1000))
    thread = threading.Thread(target=keep_trickling)
    thread.start()
    try:
        time.sleep(0.3)
        response = httpx.post(f"{strict_server.url}/attest", content=cbom_bytes(("carnot:tls:w", "x25519", "pii")),
                              timeout=10)
        assert response.status_code == 503
        assert response.json()["error"] == "too_many_uploads"
        assert response.headers["retry-after"] == str(IDLE)
    finally:
        stop.set()
        thread.join()
        for sock in holders:
            sock.close()
    assert _attest_following_retry_after(strict_server).status_code == 200
