"""Merge throughput on a generated CBOM of 100,000 components: components/s and peak memory.

Two shards are generated (100k components, plus 20k that overlap the first so de-duplication and
evidence union do real work) and merged by the real CLI in a child process, whose peak RSS is
read from the kernel. Validation against the CycloneDX schema is part of the measured work,
because it is part of every real merge.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

COMPONENTS = 100_000
OVERLAP = 20_000


def _component(i: int, source: str) -> dict[str, Any]:
    kind = i % 4
    comp: dict[str, Any] = {"type": "cryptographic-asset", "bom-ref": f"bench:{i}", "name": f"asset-{i}"}
    if kind == 0:
        comp["cryptoProperties"] = {"assetType": "algorithm",
                                    "algorithmProperties": {"primitive": "signature", "parameterSetIdentifier": "2048"}}
    elif kind == 1:
        comp["cryptoProperties"] = {"assetType": "related-crypto-material",
                                    "relatedCryptoMaterialProperties": {"type": "private-key", "size": 2048}}
    elif kind == 2:
        comp["cryptoProperties"] = {"assetType": "certificate",
                                    "certificateProperties": {"subjectName": f"CN=host{i}.example",
                                                              "notValidAfter": "2030-01-01T00:00:00Z"}}
    else:
        comp["cryptoProperties"] = {"assetType": "protocol",
                                    "protocolProperties": {"type": "tls", "version": "1.3",
                                                           "cipherSuites": [{"name": "TLS_AES_128_GCM_SHA256"}]}}
    comp["evidence"] = {"occurrences": [{"location": f"{source}/file{i}.pem", "line": i % 500 + 1}]}
    comp["properties"] = [{"name": "carnot:source", "value": source}]
    return comp


def _document(components: list[dict[str, Any]]) -> dict[str, Any]:
    return {"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
            "metadata": {"timestamp": "2026-01-01T00:00:00Z"}, "components": components}


def run() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        a, b, out = Path(tmp, "a.json"), Path(tmp, "b.json"), Path(tmp, "merged.json")
        a.write_text(json.dumps(_document([_component(i, "static") for i in range(COMPONENTS)])))
        b.write_text(json.dumps(_document([_component(i, "runtime") for i in range(COMPONENTS - OVERLAP, COMPONENTS)])))
        started = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "assess", "merge", str(a), str(b), "-o", str(out), "--json"],
                              capture_output=True, text=True, env={"SOURCE_DATE_EPOCH": "1700000000", "PATH": ""})
        seconds = time.perf_counter() - started
        if proc.returncode != 0:
            raise RuntimeError(f"merge failed: {proc.stderr}")
        report = json.loads(proc.stdout)
        peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        return {
            "components_in": report["components_in"],
            "components_out": report["components_out"],
            "input_bytes": a.stat().st_size + b.stat().st_size,
            "output_bytes": out.stat().st_size,
            "seconds": round(seconds, 3),
            "components_per_second": round(report["components_in"] / seconds, 1),
            "peak_rss_mib": round(peak_kib / 1024, 1),
        }
