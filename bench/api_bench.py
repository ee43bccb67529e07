"""Attestation API under load: requests/s and latency percentiles for a 1,000-component CBOM.

A real `carnot serve` (uvicorn, WORKERS processes) is started on a free 127.0.0.1 port and driven over
real HTTP by an httpx client keeping CONCURRENCY requests in flight. The CBOM mixes observed TLS
flows (classical and hybrid), certificates and KMS-style keys, as the pipeline writes them. The
share of one request's server time spent in CycloneDX schema validation is measured in-process
in the same run, to say where the time goes.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from cyclonedx.model.crypto import (
    CertificateProperties,
    CryptoAssetType,
    CryptoProperties,
    ProtocolProperties,
    ProtocolPropertiesType,
    RelatedCryptoMaterialProperties,
    RelatedCryptoMaterialType,
)

from assess.api import attest_body
from assess.attest import AttestConfig, collect_provenance
from assess.cbom import document_assets, shard_to_document, validate_document
from assess.exposure import assess_exposure
from assess.fsio import parse_json_bytes
from assess.model import Asset, Prop, Shard, props

COMPONENTS = 1000
REQUESTS = 40
CONCURRENCY = 4
WORKERS = 2  # `carnot serve --workers`: one per core of the 2-core machine the figures come from
GROUPS = ("x25519", "X25519MLKEM768", "secp256r1")
CLASSES = ("secret", "internal", "pii", "confidential")


def _asset(i: int) -> Asset:
    kind = i % 3
    if kind == 0:
        return Asset(
            bom_ref=f"bench:tls:{i}", name=f"TLS to h{i}.example",
            crypto=CryptoProperties(
                asset_type=CryptoAssetType.PROTOCOL,
                protocol_properties=ProtocolProperties(type=ProtocolPropertiesType.TLS, version="1.3"),
            ),
            properties=props({
                Prop.SOURCE: "runtime", Prop.TLS_NEGOTIATED_GROUP: GROUPS[(i // 3) % 3],
                Prop.RUNTIME_SNI: f"h{i}.example", Prop.RUNTIME_ENDPOINT: f"10.0.{i // 250}.{i % 250}:443",
                Prop.RUNTIME_HANDSHAKES: str(i % 50 + 1), Prop.DATA_CLASS: CLASSES[i % 4],
            }),
        )
    if kind == 1:
        return Asset(
            bom_ref=f"bench:cert:{i}", name=f"CN=h{i}.example",
            crypto=CryptoProperties(
                asset_type=CryptoAssetType.CERTIFICATE,
                certificate_properties=CertificateProperties(
                    subject_name=f"CN=h{i}.example", not_valid_after=datetime(2027 + i % 12, 1, 1, tzinfo=UTC)
                ),
            ),
            properties=props({Prop.SOURCE: "static", Prop.CERT_PUBLIC_KEY_ALGORITHM: "RSA",
                              Prop.CERT_SIGNATURE_ALGORITHM: "sha256WithRSAEncryption"}),
        )
    return Asset(
        bom_ref=f"bench:key:{i}", name=f"kms key {i}",
        crypto=CryptoProperties(asset_type=CryptoAssetType.RELATED_CRYPTO_MATERIAL,
                                related_crypto_material_properties=RelatedCryptoMaterialProperties(
                                    type=RelatedCryptoMaterialType.PRIVATE_KEY, size=2048)),
        properties=props({Prop.SOURCE: "aws", Prop.ALGORITHM: "RSA",
                          Prop.AWS_KEY_USAGE: "ENCRYPT_DECRYPT" if i % 2 else "SIGN_VERIFY"}),
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _load(url: str, body: bytes) -> tuple[list[float], int, float]:
    latencies: list[float] = []
    errors = 0
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(REQUESTS):
        queue.put_nowait(i)

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal errors
        while not queue.empty():
            queue.get_nowait()
            started = time.perf_counter()
            response = await client.post("/attest", content=body)
            latencies.append(time.perf_counter() - started)
            if response.status_code != 200:
                errors += 1
            elif len(response.json()["attestation"]["predicate"]["exposure"]["results"]) != COMPONENTS:
                errors += 1

    async with httpx.AsyncClient(base_url=url, timeout=600) as client:
        # warm-up, not measured: each worker builds its schema validator on its first request
        await asyncio.gather(*(client.post("/attest", content=body) for _ in range(2 * WORKERS)))
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(CONCURRENCY)))
        wall = time.perf_counter() - started
    return latencies, errors, wall


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds so far of a process and its living children, the workers (/proc/PID/stat)."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry.name) == pid or int(fields[1]) == pid:
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def _where_the_time_goes(body: bytes) -> dict[str, float]:
    """CPU milliseconds of one request's steps, in this process (best of three each)."""
    config, today = AttestConfig(), datetime.now(UTC).date()
    steps: dict[str, Callable[[], Any]] = {}
    steps["parse"] = lambda: parse_json_bytes(body, "bench")
    data = parse_json_bytes(body, "bench")
    steps["validate"] = lambda: validate_document(data, "bench")
    doc = validate_document(data, "bench")
    steps["type_crypto_properties"] = lambda: document_assets(doc)
    assets = document_assets(doc)
    steps["exposure"] = lambda: assess_exposure(assets, config.exposure, today)
    provenance = collect_provenance([])
    steps["whole_request"] = lambda: json.dumps(attest_body(body, config, provenance))
    out = {}
    for name, step in steps.items():
        times = []
        for _ in range(3):
            started = time.process_time()
            step()
            times.append(time.process_time() - started)
        out[f"cpu_ms_{name}"] = round(min(times) * 1000, 1)
    return out


def run() -> dict[str, Any]:
    shard = Shard(stage="bench", assets=tuple(_asset(i) for i in range(COMPONENTS)))
    body = json.dumps(shard_to_document(shard)).encode()
    provenance = collect_provenance([])
    attest_body(body, AttestConfig(), provenance)  # warm-up: builds the schema validator once
    started = time.perf_counter()
    attest_body(body, AttestConfig(), provenance)
    in_process = time.perf_counter() - started
    started = time.perf_counter()
    validate_document(json.loads(body), "bench")
    validation = time.perf_counter() - started

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([sys.executable, "-m", "assess", "serve", "--port", str(port),
                               "--max-body-bytes", str(64 * 1024 * 1024), "--workers", str(WORKERS)],
                              env={**os.environ, "SOURCE_DATE_EPOCH": "1767225600"})
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise RuntimeError("carnot serve did not come up within 60 s") from None
                time.sleep(0.2)
        cpu_before = _cpu_seconds(server.pid)
        latencies, errors, wall = asyncio.run(_load(url, body))
        server_cpu = _cpu_seconds(server.pid) - cpu_before
    finally:
        server.terminate()
        server.wait(timeout=10)
    latencies.sort()
    p99 = latencies[math.ceil(0.99 * len(latencies)) - 1]  # nearest-rank percentile
    return {
        "components": COMPONENTS,
        "cbom_bytes": len(body),
        "requests": REQUESTS,
        "concurrency": CONCURRENCY,
        "workers": WORKERS,
        "errors": errors,
        "requests_per_s": REQUESTS / wall,
        "latency_p50_ms": statistics.median(latencies) * 1000,
        "latency_p99_ms": p99 * 1000,
        "latency_max_ms": latencies[-1] * 1000,
        "in_process_attest_ms": in_process * 1000,
        "schema_validation_share": validation / in_process,
        "server_cpu_ms_per_request": round(server_cpu / (REQUESTS) * 1000, 1),
        # what one core could serve if the server had it to itself (the machine is shared)
        "requests_per_cpu_s": round(REQUESTS / server_cpu, 1),
        **_where_the_time_goes(body),
    }
