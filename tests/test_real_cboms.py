"""CBOMs other tools wrote (CBOMkit, cbomkit-theia, CycloneDX's own examples, tests/data/cbom-real) and
the conformance set go through every stage: merge, gate, attest, viz, report, bundle, verify, site."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def assessed(real_cboms: dict[str, Path], conformance_cboms: list[Path], tmp_path_factory: pytest.TempPathFactory,
             ) -> tuple[Path, dict[str, object]]:
    """One folder made from the real CBOMs by the real CLI, stage by stage, and each stage's result."""
    import subprocess
    import sys

    root = tmp_path_factory.mktemp("real")
    folder = root / "assessment"
    folder.mkdir()

    def carnot(*args: str | Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "assess", *map(str, args)], capture_output=True, text=True,
                              timeout=600, env={"SOURCE_DATE_EPOCH": "1780000000", "PATH": "/usr/bin:/bin"})

    merged = folder / "merged.cdx.json"
    steps = {
        "merge": carnot("merge", *real_cboms.values(), *conformance_cboms, "-o", merged, "--json"),
        "gate": carnot("gate", merged, "--out-dir", folder / "gate"),
        "attest": carnot("attest", "--bom", merged, "--gate", folder / "gate", "--out", folder),
        "viz": carnot("viz", "--bom", merged, "--gate", folder / "gate", "--out", folder),
        "report": carnot("report", "--assessment", folder, "--out", folder / "report.pdf"),
        "bundle": carnot("bundle", folder, "--dist", root / "dist", "--json"),
    }
    bundle = root / "dist" / json.loads(steps["bundle"].stdout or "{}").get("bundle", "missing.zip")
    steps["verify"] = carnot("verify", bundle)
    steps["site"] = carnot("site", "build", "--dist", root / "dist", "--out", root / "site", "--json")
    return folder, steps


def test_every_stage_exits_0_on_other_tools_cboms(assessed):
    _, steps = assessed
    for name, done in steps.items():
        assert done.returncode == 0, f"{name}: {done.stderr[-2000:]}"


def test_every_component_of_every_document_is_counted_in_and_out(assessed, real_cboms, conformance_cboms):
    folder, steps = assessed
    report = json.loads(steps["merge"].stdout)
    merged = json.loads((folder / "merged.cdx.json").read_text())
    assert report["components_out"] == len(merged["components"])
    expected_in = 0
    for path in [*real_cboms.values(), *conformance_cboms]:
        data = json.loads(path.read_text())
        stack = list(data.get("components", []))
        while stack:
            expected_in += 1
            stack.extend(stack.pop().get("components", []))
        expected_in += bool(data.get("metadata", {}).get("component"))
    assert report["components_in"] == expected_in


@pytest.mark.parametrize(("name", "flagged"), [
    ("RSA-2048", True), ("ECDH", True), ("ECDSA-P-256-SHA-256", True), ("DSA", True), ("SHA512withRSA", True),
    ("ML-KEM-768", False), ("ML-DSA-65", False), ("AES-256-GCM", False), ("SHA384", False),
])
def test_gate_verdicts_on_other_tools_assets_are_sane(assessed, name, flagged):
    folder, _ = assessed
    merged = json.loads((folder / "merged.cdx.json").read_text())
    findings = json.loads((folder / "gate" / "opa_result.json").read_text())["findings"]
    rules: dict[str, set[str]] = defaultdict(set)
    for finding in findings:
        rules[finding["bom_ref"]].add(finding["rule"])
    refs = [c["bom-ref"] for c in merged["components"] if c.get("name") == name]
    assert refs, f"no asset named {name}"
    verdicts = {"quantum-vulnerable-algorithm" in rules[r] for r in refs}
    assert verdicts == {flagged}, (name, {r: rules[r] for r in refs})


def test_the_site_publishes_the_assessment_and_the_pdf_exists(assessed):
    folder, steps = assessed
    site = json.loads(steps["site"].stdout)
    assert site["assessments"] == 1 and site["tampered"] == []
    assert (folder / "report.pdf").read_bytes().startswith(b"%PDF-")
