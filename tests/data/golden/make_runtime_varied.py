"""Deterministic varied runtime lines: several hosts, roles, processes, groups (and none), out-of-order
and tied timestamps, capture-sourced lines, more than 20 evidence locations for one flow."""

import json
import random

rng = random.Random(25)
GROUPS = [
    "x25519",
    "X25519MLKEM768",
    "secp256r1",
    "secp384r1",
    "ffdhe2048",
    "x448",
    None,
    "SecP256r1MLKEM768",
    "0x6399",
]
VERSIONS = ["TLSv1.3", "TLSv1.2", "TLSv1.1", None]
SUITES = ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", None]
lines = [json.dumps({"type": "ready", "host": "web1"})]
for i in range(1200):
    e = rng.randrange(6)
    src = rng.choice(["uprobe+wire", "uprobe", "wire", "pcap", "zeek"])
    rec = {
        "type": "handshake",
        "ts": None
        if i == 600
        else f"2026-11-24T10:{rng.randrange(60):02d}:{rng.randrange(60):02d}.{rng.randrange(4):06d}Z",
        "host": rng.choice(["web1", "web1", "web2", None]),
        "pid": rng.randrange(100, 130),
        "tid": rng.randrange(100, 130),
        "comm": rng.choice(["curl", "python3", "java", None]),
        "exe": rng.choice(["/usr/bin/curl", "/usr/bin/python3", None]),
        "library": rng.choice(["OpenSSL", "BoringSSL", None]),
        "library_version": rng.choice(["3.0.19", "3.5.0", None]),
        "role": rng.choice(["client", "server", None]),
        "sni": rng.choice([f"api{e}.example", "x.example", None, 'q"<b>é']),
        "src_ip": "10.0.0.2",
        "src_port": 30000 + i,
        "dst_ip": rng.choice([f"10.0.0.{e}", f"fd00::{e}", None]),
        "dst_port": rng.choice([443, 8443, None]),
        "tls_version": rng.choice(VERSIONS),
        "cipher_suite": rng.choice(SUITES),
        "groups_offered": rng.choice(
            [["X25519MLKEM768", "x25519"], ["secp256r1", "x25519", "0x11ec"], [], None]
        ),
        "key_shares_offered": rng.choice([["x25519"], None]),
        "negotiated_group": rng.choice(GROUPS),
        "pq_hybrid": rng.choice([True, False, None]),
        "success": rng.choice([True, True, False, None]),
        "handshake_ms": rng.choice([1.5, 3, None]),
        "source": src,
    }
    if src in ("pcap", "zeek"):
        rec["capture"] = f"captures/{rng.choice(['a', 'b'])}.pcap"
        rec["capture_line"] = rng.randrange(1, 400) if rng.random() < 0.7 else None
    lines.append(json.dumps(rec))
    if i % 700 == 0:
        lines.append(json.dumps({"type": "metrics", "events_received": i}))
        lines.append("")
for i in range(80):  # one busy flow: more than 20 evidence locations, timestamps out of order and tied
    lines.append(
        json.dumps(
            {
                "type": "handshake",
                "ts": f"2026-11-24T09:{rng.randrange(5):02d}:00.000000Z",
                "host": "web1",
                "pid": 1000 + i % 30,
                "tid": 1,
                "comm": "nginx",
                "exe": "/usr/sbin/nginx",
                "library": "OpenSSL",
                "library_version": rng.choice(["3.0.19", "3.5.0"]),
                "role": "server",
                "sni": rng.choice(["a.example", "b.example"]),
                "src_ip": "10.0.0.9",
                "src_port": 443,
                "dst_ip": "10.0.0.2",
                "dst_port": 40000,
                "tls_version": rng.choice(VERSIONS),
                "cipher_suite": rng.choice(SUITES),
                "groups_offered": ["X25519MLKEM768", "x25519"],
                "key_shares_offered": None,
                "negotiated_group": "X25519MLKEM768",
                "pq_hybrid": True,
                "success": i % 7 != 0,
                "handshake_ms": 2,
                "source": "uprobe+wire",
            }
        )
    )
print("\n".join(lines))
