"""The sensor's user-space wire path: TCP segments through reassembly and TLS parsing, per handshake.

Builds hybrid post-quantum handshakes (ClientHello with an X25519MLKEM768 share, ~1.4 KB) and
feeds them as MTU-sized and as tiny segments, timing `Reassembler.add` + `summarise_handshake`
the way the live sensor calls them (once per segment). Pure Python; no eBPF needed.
"""

from __future__ import annotations

import os
import time
from typing import Any

from assess.sources.runtime.reassembly import Endpoint, Reassembler
from assess.sources.runtime.wire import NO_BYTES, summarise_handshake

HANDSHAKES = 400


def _record(content_type: int, body: bytes) -> bytes:
    return bytes([content_type, 3, 3]) + len(body).to_bytes(2, "big") + body


def _ext(kind: int, body: bytes) -> bytes:
    return kind.to_bytes(2, "big") + len(body).to_bytes(2, "big") + body


def _hybrid_flight() -> tuple[bytes, bytes]:
    share = (0x11EC).to_bytes(2, "big") + (1216).to_bytes(2, "big") + os.urandom(1216)
    exts = _ext(10, b"\x00\x04\x11\xec\x00\x1d") + _ext(43, b"\x02\x03\x04") + _ext(
        51, len(share).to_bytes(2, "big") + share
    ) + _ext(0, b"\x00\x0e\x00\x00\x0bbench.local")
    body = b"\x03\x03" + os.urandom(32) + b"\x00" + b"\x00\x02\x13\x01" + b"\x01\x00"
    body += len(exts).to_bytes(2, "big") + exts
    hello = b"\x01" + len(body).to_bytes(3, "big") + body
    sh_exts = _ext(43, b"\x03\x04") + _ext(51, b"\x11\xec\x04\x40" + os.urandom(1088))
    sh_body = b"\x03\x03" + os.urandom(32) + b"\x00" + b"\x13\x01\x00" + len(sh_exts).to_bytes(2, "big") + sh_exts
    server = _record(22, b"\x02" + len(sh_body).to_bytes(3, "big") + sh_body) + _record(23, os.urandom(900))
    client = _record(22, hello) + _record(20, b"\x01") + _record(23, os.urandom(53))
    return client, server


def _feed(segment_size: int) -> float:
    client_bytes, server_bytes = _hybrid_flight()
    r = Reassembler()
    server = Endpoint("10.0.0.1", 443)
    started = time.perf_counter()
    for i in range(HANDSHAKES):
        client = Endpoint("10.0.0.2", 20000 + i)
        for seq, data, src, dst in (
            *[(1 + o, client_bytes[o : o + segment_size], client, server)
              for o in range(0, len(client_bytes), segment_size)],
            (1, server_bytes, server, client),
        ):
            key, conn = r.add(src, dst, seq, data, 0.0)
            hs = summarise_handshake(conn.streams[(client, server)], conn.streams.get((server, client)) or NO_BYTES)
        assert hs.negotiated_group == 0x11EC
        r.pop(key)
    return (time.perf_counter() - started) / HANDSHAKES


def run() -> dict[str, Any]:
    mtu = _feed(1448)
    tiny = _feed(64)
    return {
        "handshakes": HANDSHAKES,
        "us_per_handshake_mtu_segments": round(mtu * 1e6, 1),
        "us_per_handshake_64_byte_segments": round(tiny * 1e6, 1),
        "handshakes_per_s_one_core_mtu": round(1 / mtu),
    }
