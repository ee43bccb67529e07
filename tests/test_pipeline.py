"""`carnot assess`: the embedded default end to end, and stages that cannot run or fail as records."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from assess import pipeline
from assess.config import Config, RuntimeSettings
from assess.pipeline import ALL_STAGES, Layout
from assess.sources.runtime.readiness import Readiness

COLLECTED_AND_JUDGED = ("scan", "runtime", "aws", "merge", "gate")


@pytest.fixture(scope="module")
def default_assessment(tmp_path_factory):
    """One run of the embedded default (root and eBPF here: the sensor really runs)."""
    import os
    import subprocess
    import sys

    out = tmp_path_factory.mktemp("assess") / "out"
    proc = subprocess.run([sys.executable, "-m", "assess", "assess", "--out", str(out), "--json"],
                          capture_output=True, text=True, timeout=900,
                          env={**os.environ, "SOURCE_DATE_EPOCH": "1780000000"})
    return out, proc


@pytest.mark.slow
@pytest.mark.root
def test_the_embedded_default_runs_every_stage_and_leaves_a_verified_bundle_and_a_site(default_assessment, carnot):
    out, proc = default_assessment
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    statuses = {s["stage"]: s["status"] for s in report["stages"]}
    assert set(statuses) == set(ALL_STAGES)
    assert all(status == "run" for status in statuses.values()), report["stages"]

    bundle = Path(report["bundle"])
    assert carnot("verify", str(bundle)).returncode == 0
    with zipfile.ZipFile(bundle) as zf:
        names = set(zf.namelist())
    for expected in ("merged.cdx.json", "static.cdx.json", "runtime.jsonl", "aws.cdx.json", "gate/opa_result.json",
                     "attestation.json", "attestation.md", "stages.json", "hndl_sankey.png"):
        assert expected in names
    assert (out / "site" / "index.html").is_file()


@pytest.mark.slow
@pytest.mark.root
def test_the_attestation_of_the_default_lists_every_collecting_and_judging_stage(default_assessment):
    out, _ = default_assessment
    predicate = json.loads((out / "assessment" / "attestation.json").read_text())["predicate"]
    for stage in COLLECTED_AND_JUDGED:
        assert predicate["stages"][stage]["status"] == "run"


@pytest.mark.slow
@pytest.mark.root
def test_the_default_observes_a_hybrid_pq_handshake_and_labels_aws_as_simulated(default_assessment):
    out, _ = default_assessment
    lines = [json.loads(line) for line in (out / "assessment" / "runtime.jsonl").read_text().splitlines()]
    handshakes = [h for h in lines if h.get("type") == "handshake"]
    assert any(h["negotiated_group"] == "X25519MLKEM768" and h["pq_hybrid"] for h in handshakes)
    assert any(h["negotiated_group"] in ("x25519", "secp256r1") and not h["pq_hybrid"] for h in handshakes)
    aws = json.loads((out / "assessment" / "aws.cdx.json").read_text())
    assert aws["components"]
    for component in aws["components"]:
        assert {"name": "carnot:simulated", "value": "true"} in component["properties"]


def test_a_sensor_that_cannot_run_is_recorded_as_not_run_with_its_reason(monkeypatch, tmp_path):
    import assess.sources.runtime.readiness as readiness

    monkeypatch.setattr(readiness, "sensor_readiness",
                        lambda: Readiness(ok=False, reasons=("bcc is not installed (python3-bpfcc)",), checks=()))
    record = pipeline.stage_runtime(Config(runtime=RuntimeSettings()), Layout(tmp_path))
    assert record.status == "not_run"
    assert "bcc is not installed" in record.reason


@pytest.mark.root
def test_a_sensor_configured_without_uprobes_reports_the_demo_from_the_wire_with_its_processes(tmp_path):
    layout = Layout(tmp_path)
    layout.assessment.mkdir()
    record = pipeline.stage_runtime(Config(runtime=RuntimeSettings(duration_seconds=6, uprobes=False)), layout)
    assert record.status == "run", record.reason
    lines = [json.loads(line) for line in (layout / "runtime.jsonl").read_text().splitlines()]
    assert lines[0]["type"] == "ready" and lines[0]["uprobes"] is False
    assert not [p for p in lines[0]["probes"] if p.startswith("uprobe")]
    handshakes = [x for x in lines if x["type"] == "handshake"]
    assert handshakes and {x["source"] for x in handshakes} == {"wire"}
    assert all(x["library"] is None for x in handshakes)
    assert any(x["pq_hybrid"] for x in handshakes)  # the demo's tlslite-ng handshake
    clients = [x for x in handshakes if x["role"] == "client"]
    assert clients and all(x["pid"] is not None for x in clients)
    assert (layout / "runtime.cdx.json").exists()


def test_an_unreachable_cloud_and_a_disabled_sensor_still_give_a_whole_assessment(carnot, tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "legacy.py").write_text("import hashlib\nhashlib.md5(b'x')\n")
    config = tmp_path / "carnot.toml"
    config.write_text('[scan]\npaths = ["src"]\n[runtime]\nenabled = false\n'
                      '[aws]\nregions = ["eu-west-1"]\nendpoint_url = "http://127.0.0.1:9"\n')
    result = carnot("assess", "--config", str(config), "--out", str(tmp_path / "out"), "--json",
                    env={"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"})
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    statuses = {s["stage"]: (s["status"], s["reason"]) for s in report["stages"]}
    assert statuses["runtime"] == ("not_run", "disabled in the configuration")
    predicate = json.loads((tmp_path / "out" / "assessment" / "attestation.json").read_text())["predicate"]
    gaps = {(g["stage"], g["reason"].split(":")[0]) for g in predicate["gaps"]}
    assert ("runtime", "disabled in the configuration") in gaps
    assert any(stage == "aws" for stage, _ in gaps), predicate["gaps"]
    assert carnot("verify", report["bundle"]).returncode == 0


def test_an_enforcing_gate_that_fails_makes_assess_exit_1(carnot, tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "legacy.py").write_text("import hashlib\nhashlib.md5(b'x')\n")
    config = tmp_path / "carnot.toml"
    config.write_text('[scan]\npaths = ["src"]\n[runtime]\nenabled = false\n[aws]\nenabled = false\n'
                      '[gate]\nprofile = "strict"\nenforce = true\n')
    result = carnot("assess", "--config", str(config), "--out", str(tmp_path / "out"), "--json")
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert report["bundle"] and Path(report["bundle"]).is_file()
