"""Runtime handshake lines as the sensor writes them, generated for the benchmarks: `lines` handshakes
over `endpoints` distinct flows (host, process, SNI, address), three groups (X25519MLKEM768, x25519,
secp256r1) in turn, timestamps increasing; gzip'd when the path ends in .gz."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import IO

GROUPS = ("X25519MLKEM768", "x25519", "secp256r1")
COMMS = ("curl", "python3", "java", "nginx")


def write_lines(path: Path, lines: int, endpoints: int) -> int:
    """Write the file; returns its size in bytes (compressed, if it is)."""
    # One template per endpoint (what varies per line is the time, the thread and the port), filled by
    # %-formatting: json.dumps of every line would make generating 10M lines take longer than reading them.
    templates = []
    for e in range(endpoints):
        group = GROUPS[e % len(GROUPS)]
        record = {"type": "handshake", "ts": "%s", "host": f"web{e % 4 + 1}", "pid": 1000 + e % 97, "tid": 0,
                  "comm": COMMS[e % len(COMMS)], "exe": f"/usr/bin/{COMMS[e % len(COMMS)]}", "library": "OpenSSL",
                  "library_version": "3.5.0", "role": "client", "sni": f"host{e}.example",
                  "src_ip": "10.0.0.2",
                  "src_port": 0, "dst_ip": f"10.1.{e // 250}.{e % 250}", "dst_port": 443, "tls_version": "TLSv1.3",
                  "cipher_suite": "TLS_AES_128_GCM_SHA256",
                  "groups_offered": [group, "secp256r1" if group == "x25519" else "x25519"],
                  "key_shares_offered": [group], "negotiated_group": group,
                  "pq_hybrid": group == "X25519MLKEM768", "success": True, "handshake_ms": 1.5,
                  "source": "uprobe+wire"}
        text = json.dumps(record).replace('"tid": 0', '"tid": %d')
        templates.append(text.replace('"src_port": 0', '"src_port": %d') + "\n")
    opener: IO[bytes]
    with (gzip.open(path, "wb", compresslevel=1) if path.suffix == ".gz" else path.open("wb")) as opener:
        batch: list[str] = []
        for i in range(lines):
            seconds = i // 1000
            ts = f"2026-11-24T{seconds // 3600 % 24:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}.{i % 1000:03d}000Z"
            batch.append(templates[i % endpoints] % (ts, 100 + i % 50, 20000 + i % 40000))
            if len(batch) == 10_000:
                opener.write("".join(batch).encode())
                batch.clear()
        opener.write("".join(batch).encode())
    return path.stat().st_size
