"""TLS handshake bytes built by hand for the tests: hellos, records, alerts."""

from __future__ import annotations

import os


def u16(v: int) -> bytes:
    return v.to_bytes(2, "big")


def vec(length_bytes: int, body: bytes) -> bytes:
    return len(body).to_bytes(length_bytes, "big") + body


def ext(ext_type: int, body: bytes) -> bytes:
    return u16(ext_type) + vec(2, body)


def handshake(msg_type: int, body: bytes) -> bytes:
    return bytes([msg_type]) + len(body).to_bytes(3, "big") + body


def client_hello(
    *,
    suites: tuple[int, ...] = (0x1301, 0x1302, 0xC02F),
    groups: tuple[int, ...] = (0x001D, 0x0017),
    shares: tuple[tuple[int, int], ...] = ((0x001D, 32),),
    sni: bytes | None = b"example.test",
    versions: tuple[int, ...] = (0x0304, 0x0303),
) -> bytes:
    """A ClientHello handshake message; shares are (group, key length) with random key bytes."""
    exts = b""
    if sni is not None:
        exts += ext(0, vec(2, b"\x00" + vec(2, sni)))
    exts += ext(10, vec(2, b"".join(u16(g) for g in groups)))
    exts += ext(13, vec(2, u16(0x0403) + u16(0x0804) + u16(0x0401)))  # signature_algorithms
    if versions:
        exts += ext(43, vec(1, b"".join(u16(v) for v in versions)))
    if shares:
        exts += ext(51, vec(2, b"".join(u16(g) + vec(2, os.urandom(n)) for g, n in shares)))
    body = u16(0x0303) + os.urandom(32) + vec(1, os.urandom(32)) + vec(2, b"".join(u16(s) for s in suites))
    body += b"\x01\x00" + vec(2, exts)
    return handshake(1, body)


HRR_RANDOM = bytes.fromhex("cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c")


def server_hello(
    *, suite: int = 0x1301, version: int | None = 0x0304, share: int | None = 0x001D, retry: bool = False
) -> bytes:
    exts = b""
    if version is not None:
        exts += ext(43, u16(version))
    if share is not None:
        exts += ext(51, u16(share) if retry else u16(share) + vec(2, os.urandom(32)))
    random = HRR_RANDOM if retry else os.urandom(32)
    body = u16(0x0303) + random + vec(1, os.urandom(32)) + u16(suite) + b"\x00" + (vec(2, exts) if exts else b"")
    return handshake(2, body)


def ecdhe_server_key_exchange(group: int) -> bytes:
    point = b"\x04" + os.urandom(64)
    return handshake(12, b"\x03" + u16(group) + vec(1, point) + u16(0x0403) + vec(2, os.urandom(70)))


def records(content_type: int, payload: bytes, max_fragment: int = 16384) -> bytes:
    out = b""
    for i in range(0, len(payload), max_fragment):
        out += bytes([content_type]) + u16(0x0303) + vec(2, payload[i : i + max_fragment])
    return out


def ccs() -> bytes:
    return records(20, b"\x01")


def app_data(n: int = 50) -> bytes:
    return records(23, os.urandom(n))


def alert(description: int = 70) -> bytes:
    return records(21, bytes([2, description]))
