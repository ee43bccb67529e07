"""The site's inventory at scale: one assessment of 100,000 assets and 130,000 findings.

A contract-shaped assessment folder (a merged CBOM that passes `cbom.validate_document`, `opa_result.json`
as the gate writes it, an attestation whose predicate holds exposure results in `ExposureResult.to_dict()`
form and `attest.policy_section(...)` of the findings) is bundled with the real `bundle_folder`. Then:

- `carnot site build` runs in a child process; its wall time, CPU time and peak RSS (the kernel's, from
  wait4) are the build's figures;
- the inventory and findings pages are opened from file:// in headless Debian Chromium (selenium,
  offline flags): the page's bytes (HTML, its data files, explore.js, the CSS), and the time until
  explore.js has the rows on screen (`data-explorer-ready`, milliseconds since navigation start), then
  how long a search over every row takes to show its result.

`CARNOT_BENCH_INVENTORY_ASSETS` and `CARNOT_BENCH_INVENTORY_FINDINGS` change the size.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from assess.attest import GateResults, policy_section
from assess.bundle import bundle_folder

ASSETS = int(os.environ.get("CARNOT_BENCH_INVENTORY_ASSETS", "100000"))
FINDINGS = int(os.environ.get("CARNOT_BENCH_INVENTORY_FINDINGS", "130000"))
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run",
         "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage", "--window-size=1280,900")
RULES = ("weak-rsa-key", "legacy-hash", "tls-no-hybrid-pq", "cert-quantum-vulnerable-signature", "cloud-key-untagged")
SEVERITIES = ("critical", "high", "medium", "low")
SEARCH = """
var box = document.querySelector('.explorer input[type=search]');
box.value = arguments[0];
var started = performance.now();
box.dispatchEvent(new KeyboardEvent('keydown', {key: 'Enter', bubbles: true}));
return [performance.now() - started, document.querySelector('.explorer-status').textContent];
"""


def _prop(name: str, value: object) -> dict[str, str]:
    return {"name": name, "value": str(value)}


def _asset(i: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """(CBOM component, exposure result) of asset i: keys and certificates in files, observed flows, AWS keys,
    algorithms in code, and assets from another tool's CBOM."""
    kind = i % 10
    ref = f"carnot:bench:{i:08d}"
    result: dict[str, Any] = {"bom_ref": ref, "reason": "synthetic", "is_flow": False, "exposed": False}
    if kind < 3:
        path = f"srv/app{i % 400}/keys/service-{i}.pem"
        comp = {"name": f"RSA-2048 private key ({path})", "cryptoProperties": {
            "assetType": "related-crypto-material",
            "relatedCryptoMaterialProperties": {"type": "private-key", "size": 2048}},
            "properties": [_prop("carnot:source", "static"), _prop("carnot:algorithm", "RSA"),
                           _prop("carnot:key_bits", 2048)],
            "evidence": {"occurrences": [{"location": path, "line": 1 + i % 40,
                                          "additionalContext": json.dumps({"source": "static"})}]}}
        result.update(asset_type="related-crypto-material", risk="hndl", algorithm="RSA", sources=["static"],
                      exposed=i % 2 == 0, exposure_years=3.0, probability_exposed=0.6, expected_exposed_years=2.0)
    elif kind < 5:
        hybrid = i % 4 == 3
        group = "X25519MLKEM768" if hybrid else "x25519"
        sni, process = f"svc-{i}.payments.example", f"worker-{i % 300}"
        endpoint = f"10.{i % 250}.{i // 250 % 250}.{i % 7 + 1}:443"
        comp = {"name": f"TLS client {process} -> {endpoint} ({group})", "cryptoProperties": {
            "assetType": "protocol", "protocolProperties": {"type": "tls", "version": "1.3"}},
            "properties": [_prop(k, v) for k, v in (
                ("carnot:source", "runtime"), ("carnot:tls:negotiated_group", group),
                ("carnot:tls:pq_hybrid", str(hybrid).lower()), ("carnot:runtime:handshakes", 1 + i % 90),
                ("carnot:runtime:first_seen", "2026-01-01T00:00:00Z"),
                ("carnot:runtime:last_seen", "2026-01-02T00:00:00Z"),
                ("carnot:runtime:host", f"host{i % 50}.corp.example"), ("carnot:runtime:comm", process),
                ("carnot:runtime:exe", f"/usr/bin/{process}"), ("carnot:runtime:role", "client"),
                ("carnot:runtime:endpoint", endpoint), ("carnot:runtime:sni", sni))],
            "evidence": {"occurrences": [{"location": f"host{i % 50}.corp.example/{1000 + i}/{process}",
                                          "additionalContext": json.dumps({"source": "runtime"})}]}}
        result.update(asset_type="protocol", risk="quantum_safe" if hybrid else "hndl", algorithm=group,
                      sources=["runtime"], is_flow=True, exposed=not hybrid,
                      flow={"sni": sni, "endpoint": endpoint, "process": process, "handshakes": str(1 + i % 90),
                            "negotiated_group": group})
    elif kind < 8:
        arn = f"arn:aws:kms:eu-west-{1 + i % 3}:{100000000000 + i % 20}:key/{i:08d}-0000-4000-8000-000000000000"
        comp = {"name": f"KMS key {i}", "cryptoProperties": {
            "assetType": "related-crypto-material", "relatedCryptoMaterialProperties": {"type": "secret-key"}},
            "properties": [_prop("carnot:source", "aws"), _prop("carnot:aws:arn", arn),
                           _prop("carnot:aws:account", 100000000000 + i % 20), _prop("carnot:aws:region",
                                                                                     f"eu-west-{1 + i % 3}")],
            "evidence": {"occurrences": [{"location": arn, "additionalContext": json.dumps({"source": "aws"})}]}}
        result.update(asset_type="related-crypto-material", risk="not_applicable", algorithm="AES", sources=["aws"])
    elif kind == 8:
        comp = {"name": "SHA-1", "cryptoProperties": {"assetType": "algorithm",
                                                      "algorithmProperties": {"primitive": "hash"}},
                "properties": [_prop("carnot:source", "static")],
                "evidence": {"occurrences": [{"location": f"src/module{i}.py", "line": 10 + i % 300,
                                              "additionalContext": json.dumps({"source": "static"})}]}}
        result.update(asset_type="algorithm", risk="not_applicable", algorithm="SHA-1", sources=["static"])
    else:
        ref = f"urn:cdx:3f1c7a4e-3d52-4c1b-9a57-0c2a5e3f9b11/1#asset-{i}"
        result["bom_ref"] = ref
        comp = {"name": "ECDSA", "cryptoProperties": {"assetType": "algorithm",
                                                      "algorithmProperties": {"primitive": "signature"}}}
        result.update(asset_type="algorithm", risk="signature_deadline", algorithm="ECDSA", sources=[],
                      years_past_deadline=1.5, exposed=True)
    comp.update({"type": "cryptographic-asset", "bom-ref": ref})
    result["name"] = comp["name"]
    return comp, result


def write_assessment(folder: Path) -> None:
    folder.mkdir(parents=True)
    components, results = zip(*(_asset(i) for i in range(ASSETS)), strict=True)
    findings = [{"rule": RULES[i % len(RULES)], "severity": SEVERITIES[i % 4],
                 "bom_ref": results[i % ASSETS]["bom_ref"],
                 "message": f"finding {i} on {results[i % ASSETS]['name']}", "waived": i % 97 == 0,
                 "remediation": f"docs/POLICY_GUIDE.md#{RULES[i % len(RULES)]}"} for i in range(FINDINGS)]
    cbom = {"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
            "metadata": {"timestamp": "2026-01-01T00:00:00Z"}, "components": list(components)}
    (folder / "merged.cdx.json").write_text(json.dumps(cbom))
    gate = {"engine": "regorus", "profile": "balanced", "mode": "warn", "policy_digest": "sha256:" + "ab" * 32,
            "findings": findings}
    (folder / "opa_result.json").write_text(json.dumps(gate))
    policy = policy_section(GateResults(engine="regorus", profile="balanced", mode="warn",
                                        policy_digest=gate["policy_digest"], findings=tuple(findings), summary={}))
    predicate = {"generated_at": "2026-01-02T00:00:00Z", "summary": {"crypto_assets": ASSETS},
                 "policy": policy, "exposure": {"as_of": "2026-01-02", "assumptions": {}, "summary": {},
                                                "results": list(results)}, "gaps": []}
    statement = {"_type": "https://in-toto.io/Statement/v1", "subject": [], "predicate": predicate,
                 "predicateType": "https://carnot.dev/attestation/pqc-assessment/v1"}
    (folder / "attestation.json").write_text(json.dumps(statement))


def build(dist: Path, out: Path) -> tuple[float, int, float]:
    """`carnot site build` in a child process: (wall seconds, peak RSS in bytes, CPU seconds), from the
    kernel's accounting of the child (one assessment: no worker processes)."""
    started = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-m", "assess", "site", "build", "--dist", str(dist), "--out", str(out),
                              "--json"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"site build failed: {child.stderr.read().decode()[-400:] if child.stderr else ''}")
    return seconds, usage.ru_maxrss * 1024, usage.ru_utime + usage.ru_stime


def browse(page: Path, search: str) -> dict[str, Any]:
    """Open a browser page in headless Chromium: ms until its rows are shown, then ms for a search over them."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.support.ui import WebDriverWait

    profile = tempfile.mkdtemp(prefix="carnot-bench-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        driver.set_page_load_timeout(300)
        driver.get(page.resolve().as_uri())
        WebDriverWait(driver, 300).until(lambda d: d.execute_script(
            "return document.documentElement.getAttribute('data-explorer-ready')"))
        ready = int(driver.execute_script("return document.documentElement.getAttribute('data-explorer-ready')"))
        loaded = driver.execute_script("var t = performance.timing; return t.loadEventEnd - t.navigationStart")
        heap = driver.execute_script("return performance.memory ? performance.memory.usedJSHeapSize : null")
        # Enter runs the search at once (typing waits 150 ms for the next key): filtering and drawing are timed
        searched, status = driver.execute_script(SEARCH, search)
        return {"ready_ms": ready, "load_event_ms": loaded, "search_ms": round(searched), "search_result": status,
                "js_heap_mb": round(heap / 1e6, 1) if heap else None}
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def page_bytes(site: Path, page: Path) -> int:
    """The page, its data files, explore.js and the stylesheet: everything the page loads."""
    data = page.parent / "data"
    table = {"inventory": "assets", "findings": "findings", "flows": "flows"}[page.stem]
    files = [page, site / "assets" / "explore.js", site / "assets" / "carnot.css", *data.glob(f"{table}-*.js")]
    return sum(f.stat().st_size for f in files)


def run() -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="carnot-inventory-bench-"))
    saved = os.environ.get("SOURCE_DATE_EPOCH")
    try:
        os.environ["SOURCE_DATE_EPOCH"] = "1767312000"
        started = time.perf_counter()
        write_assessment(work / "a")
        entry = bundle_folder(work / "a", work / "dist")
        prepared = time.perf_counter() - started
        seconds, peak, cpu = build(work / "dist", work / "site")
        site = work / "site"
        pages = site / "assessments" / entry.id
        # an SNI of one observed flow, and the last finding's message
        inventory = browse(pages / "inventory.html", f"svc-{ASSETS - 6}.payments")
        findings = browse(pages / "findings.html", f"finding {FINDINGS - 1} on")
        return {
            "assets": ASSETS, "findings": FINDINGS,
            "bundle_mb": round(entry.size / 1e6, 1),
            "prepare_seconds": round(prepared, 1),
            "site_build_seconds": round(seconds, 1),
            "site_build_cpu_seconds": round(cpu, 1),
            "site_build_peak_rss_mb": round(peak / 1e6),
            "load_average_1min": round(os.getloadavg()[0], 1),
            "inventory_page_mb": round(page_bytes(site, pages / "inventory.html") / 1e6, 1),
            "inventory_ready_ms": inventory["ready_ms"],
            "inventory_load_event_ms": inventory["load_event_ms"],
            "inventory_search_ms": inventory["search_ms"],
            "inventory_search_result": inventory["search_result"],
            "inventory_js_heap_mb": inventory["js_heap_mb"],
            "findings_page_mb": round(page_bytes(site, pages / "findings.html") / 1e6, 1),
            "findings_ready_ms": findings["ready_ms"],
            "findings_search_ms": findings["search_ms"],
            "findings_search_result": findings["search_result"],
            "site_mb": round(sum(p.stat().st_size for p in site.rglob("*") if p.is_file()) / 1e6, 1),
        }
    finally:
        if saved is None:
            os.environ.pop("SOURCE_DATE_EPOCH", None)
        else:
            os.environ["SOURCE_DATE_EPOCH"] = saved
        shutil.rmtree(work, ignore_errors=True)
