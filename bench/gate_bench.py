"""Gating a generated CBOM of 100,000 components with the embedded engine: seconds and peak memory.

The CBOM mixes every asset kind with Carnot's own properties (RSA keys and algorithms, certificates,
TLS configurations, SSH configurations), so every rule has work; a tenth of the RSA algorithms are
1024-bit. A child process first gates it as `carnot gate` does (read and validate, shape the facts,
evaluate with regorus, write the outputs) and reports its peak RSS at that point, then
repeats the work phase by phase (read and validate, shape the facts, evaluate with regorus); wall
and CPU seconds are both reported (CPU time is the steadier figure on a shared machine).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from assess.resources import policies_dir

COMPONENTS = 100_000
POLICIES = policies_dir()

_CHILD = """
import json, resource, sys, time
from pathlib import Path
from assess.cbom import read_cbom
from assess.gate import EngineChoice, GateOptions, load_policies, write_outputs
from assess.gate.engine import REPORT_QUERY
from assess.gate.run import evaluate, gate_input

bom, policies, out = sys.argv[1:4]
# First the gate as `carnot gate` runs it, so the peak memory read after it is one gate's.
t0, c0 = time.perf_counter(), time.process_time()
outcome = evaluate(bom, GateOptions(policies=Path(policies), engine=EngineChoice.REGORUS))
write_outputs(outcome, out)
t1, c1 = time.perf_counter(), time.process_time()
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
findings = len(outcome.result["findings"])
del outcome
# Then the same work phase by phase.
t2, c2 = time.perf_counter(), time.process_time()
doc = read_cbom(bom)
t3, c3 = time.perf_counter(), time.process_time()
input_json, _ = gate_input(doc.data, bom)
t4, c4 = time.perf_counter(), time.process_time()
bundle = load_policies(policies)
run = {"profile": "balanced", "now": "2026-06-01T00:00:00Z", "waivers": []}
EngineChoice.REGORUS.engine().evaluate(bundle.modules, bundle.with_run(run), input_json, REPORT_QUERY)
t5, c5 = time.perf_counter(), time.process_time()
print(json.dumps({
    "end_to_end_seconds": t1 - t0, "end_to_end_cpu_seconds": c1 - c0, "findings": findings, "peak_rss_mib": peak,
    "read_validate_seconds": t3 - t2, "read_validate_cpu_seconds": c3 - c2,
    "shape_seconds": t4 - t3, "shape_cpu_seconds": c4 - c3,
    "regorus_eval_seconds": t5 - t4, "regorus_eval_cpu_seconds": c5 - c4,
}))
"""


def _component(i: int) -> dict[str, Any]:
    kind = i % 5
    props = [{"name": "carnot:source", "value": "static"}]
    comp: dict[str, Any] = {"type": "cryptographic-asset", "bom-ref": f"bench:{i}", "name": f"asset-{i}"}
    if kind == 0:
        comp["cryptoProperties"] = {"assetType": "algorithm", "algorithmProperties": {
            "primitive": "signature", "parameterSetIdentifier": "1024" if i % 10 == 0 else "2048"}}
        props.append({"name": "carnot:algorithm", "value": "RSA"})
    elif kind == 1:
        comp["cryptoProperties"] = {"assetType": "related-crypto-material",
                                    "relatedCryptoMaterialProperties": {"type": "private-key", "size": 2048}}
        props += [{"name": "carnot:algorithm", "value": "RSA"}, {"name": "carnot:key_bits", "value": "2048"}]
    elif kind == 2:
        comp["cryptoProperties"] = {"assetType": "certificate", "certificateProperties": {
            "subjectName": f"CN=host{i}.example", "notValidAfter": "2032-01-01T00:00:00Z"}}
        props += [{"name": "carnot:cert:signature_algorithm", "value": "sha256WithRSAEncryption"},
                  {"name": "carnot:cert:public_key_algorithm", "value": "RSA"},
                  {"name": "carnot:cert:public_key_bits", "value": "2048"}]
    elif kind == 3:
        comp["cryptoProperties"] = {"assetType": "protocol", "protocolProperties": {
            "type": "tls", "version": "1.3", "cipherSuites": [{"name": "TLS_AES_128_GCM_SHA256"}]}}
        props += [{"name": "carnot:tls:versions", "value": "TLSv1.2,TLSv1.3"},
                  {"name": "carnot:tls:groups", "value": "x25519,secp256r1"},
                  {"name": "carnot:tls:cipher_suites", "value": "ECDHE-RSA-AES128-GCM-SHA256,ECDHE-RSA-AES128-SHA"}]
    else:
        comp["cryptoProperties"] = {"assetType": "protocol", "protocolProperties": {"type": "ssh"}}
        props += [{"name": "carnot:ssh:kex", "value": "curve25519-sha256,diffie-hellman-group14-sha1"},
                  {"name": "carnot:ssh:macs", "value": "hmac-sha2-256"}]
    comp["properties"] = props
    comp["evidence"] = {"occurrences": [{"location": f"etc/file{i}.conf", "line": i % 500 + 1,
                                         "additionalContext": json.dumps({"source": "static"})}]}
    return comp


def run() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        bom = Path(tmp, "bench.cdx.json")
        bom.write_text(json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
                                   "metadata": {"timestamp": "2026-01-01T00:00:00Z"},
                                   "components": [_component(i) for i in range(COMPONENTS)]}))
        proc = subprocess.run([sys.executable, "-c", _CHILD, str(bom), str(POLICIES), str(Path(tmp, "out"))],
                              capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"gate bench failed: {proc.stderr[-2000:]}")
        figures = json.loads(proc.stdout)
        return {
            "components": COMPONENTS,
            "input_bytes": bom.stat().st_size,
            "findings": figures["findings"],
            "read_validate_seconds": round(figures["read_validate_seconds"], 3),
            "shape_seconds": round(figures["shape_seconds"], 3),
            "regorus_eval_seconds": round(figures["regorus_eval_seconds"], 3),
            "end_to_end_seconds": round(figures["end_to_end_seconds"], 3),
            "read_validate_cpu_seconds": round(figures["read_validate_cpu_seconds"], 3),
            "shape_cpu_seconds": round(figures["shape_cpu_seconds"], 3),
            "regorus_eval_cpu_seconds": round(figures["regorus_eval_cpu_seconds"], 3),
            "end_to_end_cpu_seconds": round(figures["end_to_end_cpu_seconds"], 3),
            "components_per_second_regorus": round(COMPONENTS / figures["regorus_eval_seconds"], 1),
            "peak_rss_mib": round(figures["peak_rss_mib"], 1),
        }
