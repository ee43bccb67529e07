"""`carnot assess`: every stage in order, each through its own command, talking through files.

Each stage runs as `python -m assess <stage> ...` in a child process, exactly as a user, a CI job
or a fan-out matrix would run it: a stage that crashes or cannot run becomes a recorded status
(`run`, `not_run` with the reason, `failed` with the reason), never the end of the assessment.
The record is written to `stages.json` in the assessment folder before the attestation, which
reports it.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assess.assessment_info import write_assessment_info
from assess.bundle import MANIFEST_NAME, read_manifest
from assess.config import Config
from assess.fsio import pretty_json, write_atomic

STAGES_JSON = "stages.json"
_TAIL = 400  # characters of a failed stage's stderr kept as its reason


@dataclass(frozen=True)
class StageRecord:
    name: str
    status: str  # run | not_run | failed
    reason: str = ""
    seconds: float = 0.0
    outputs: tuple[str, ...] = ()
    exit_code: int | None = None


@dataclass(frozen=True)
class Layout:
    """Where an assessment's files go."""

    out: Path

    @property
    def assessment(self) -> Path:
        return self.out / "assessment"

    @property
    def gate(self) -> Path:
        return self.assessment / "gate"

    @property
    def dist(self) -> Path:
        return self.out / "dist"

    @property
    def site(self) -> Path:
        return self.out / "site"

    def __truediv__(self, name: str) -> Path:
        return self.assessment / name


@dataclass
class Outcome:
    layout: Layout
    records: list[StageRecord] = field(default_factory=list)
    gate_exit: int | None = None
    bundle: str | None = None

    def record(self, name: str) -> StageRecord | None:
        return next((r for r in self.records if r.name == name), None)

    @property
    def exit_code(self) -> int:
        """0 done; 1 the gate failed in enforce mode; 2 no assessment could be produced."""
        for essential in ("merge", "bundle"):
            rec = self.record(essential)
            if rec is None or rec.status != "run":
                return 2
        return 1 if self.gate_exit == 1 else 0


def _carnot(*args: str | Path) -> list[str]:
    # -P: the installed package, never an `assess` folder that happens to be in the working directory.
    return [sys.executable, "-P", "-m", "assess", *map(str, args)]


def _run(name: str, argv: Sequence[str], outputs: Sequence[Path], *, ok_codes: tuple[int, ...] = (0,),
         env: dict[str, str] | None = None, timeout: float = 1800) -> StageRecord:
    started = time.monotonic()
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                              env={**os.environ, **(env or {})}, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return StageRecord(name, "failed", f"did not finish within {timeout:.0f} s", time.monotonic() - started)
    seconds = time.monotonic() - started
    if proc.returncode not in ok_codes:
        reason = " ".join(proc.stderr.strip().split())[-_TAIL:] or f"exited {proc.returncode}"
        return StageRecord(name, "failed", reason, seconds, exit_code=proc.returncode)
    return StageRecord(name, "run", "", seconds, tuple(str(p) for p in outputs), proc.returncode)


def _not_run(name: str, reason: str) -> StageRecord:
    return StageRecord(name, "not_run", reason)


# --- the stages ------------------------------------------------------------------------------------

def stage_scan(config: Config, layout: Layout) -> StageRecord:
    s = config.scan
    if not s.enabled:
        return _not_run("scan", "disabled in the configuration")
    paths = [p for p in s.paths if p.exists()]
    if not s.paths:
        return _not_run("scan", "no paths to scan in the configuration")
    if not paths:
        return _not_run("scan", f"none of the paths exist: {', '.join(map(str, s.paths))}")
    out = layout / "static.cdx.json"
    args: list[str | Path] = ["scan", *paths, "--out", out]
    if s.rules:
        args += ["--rules", s.rules]
    return _run("scan", _carnot(*args), [out])


def stage_runtime(config: Config, layout: Layout) -> StageRecord:
    r = config.runtime
    if not r.enabled:
        return _not_run("runtime", "disabled in the configuration")
    from assess.sources.runtime.readiness import sensor_readiness

    readiness = sensor_readiness()
    if not readiness.ok:
        return _not_run("runtime", "the eBPF sensor cannot run here: " + "; ".join(readiness.reasons))
    jsonl = layout / "runtime.jsonl"
    args: list[str | Path] = ["runtime", "capture", "--out", jsonl, "--duration", f"{r.duration_seconds:g}"]
    for iface in r.interfaces:
        args += ["--iface", iface]
    if r.pid is not None:
        args += ["--pid", str(r.pid)]
    if not r.uprobes:
        args.append("--no-uprobes")
    started = time.monotonic()
    with subprocess.Popen(_carnot(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          stdin=subprocess.DEVNULL) as sensor:
        try:
            if not _wait_ready(jsonl, sensor, timeout=180):
                sensor.kill()
                _, err = sensor.communicate()
                reason = " ".join(err.split())[-_TAIL:] or "the sensor never became ready"
                return StageRecord("runtime", "failed", reason, time.monotonic() - started)
            if r.workload == "demo":
                from assess.sources.runtime.workload import run_demo_workload

                run_demo_workload(max(1.0, r.duration_seconds - 3))
                sensor.send_signal(signal.SIGINT)  # the workload is done: stop cleanly, flushing everything
            _, err = sensor.communicate(timeout=r.duration_seconds + 120)
        except BaseException:
            sensor.kill()
            raise
    if sensor.returncode != 0:
        return StageRecord("runtime", "failed", " ".join(err.split())[-_TAIL:], time.monotonic() - started,
                           exit_code=sensor.returncode)
    bom = layout / "runtime.cdx.json"
    converted = _run("runtime", _carnot("runtime", "to-bom", jsonl, "--out", bom, "--asset-id", socket.gethostname()),
                     [jsonl, bom])
    return StageRecord("runtime", converted.status, converted.reason, time.monotonic() - started, converted.outputs,
                       converted.exit_code)


def _wait_ready(path: Path, proc: subprocess.Popen[str], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        if path.exists():
            with path.open() as fh:
                first = fh.readline()
            if first.endswith("\n") and json.loads(first).get("type") == "ready":
                return True
        time.sleep(0.2)
    return False


def stage_aws(config: Config, layout: Layout) -> StageRecord:
    a = config.aws
    if not a.enabled:
        return _not_run("aws", "disabled in the configuration")
    out = layout / "aws.cdx.json"
    args: list[str | Path] = ["inventory", "aws", "--out", out]
    if a.simulated:
        args.append("--simulated")
    if a.regions:
        args += ["--regions", ",".join(a.regions)]
    for arn in a.role_arns:
        args += ["--role-arn", arn]
    if a.endpoint_url:
        args += ["--endpoint-url", a.endpoint_url]
    if a.concurrency:
        args += ["--concurrency", str(a.concurrency)]
    return _run("aws", _carnot(*args), [out])


def stage_merge(config: Config, layout: Layout) -> StageRecord:
    shards = [layout / n for n in ("static.cdx.json", "runtime.cdx.json", "aws.cdx.json") if (layout / n).exists()]
    if not shards:
        return StageRecord("merge", "failed", "no stage produced a CBOM shard to merge")
    out = layout / "merged.cdx.json"
    return _run("merge", _carnot("merge", *shards, "-o", out), [out])


def stage_gate(config: Config, layout: Layout) -> StageRecord:
    g = config.gate
    args: list[str | Path] = ["gate", layout / "merged.cdx.json", "--out-dir", layout.gate, "--profile", g.profile,
                              "--engine", g.engine]
    if g.enforce:
        args.append("--enforce")
    if g.waivers:
        args += ["--waivers", g.waivers]
    if g.policies:
        args += ["--policies", g.policies]
    return _run("gate", _carnot(*args), [layout.gate], ok_codes=(0, 1))


def stage_attest(config: Config, layout: Layout) -> StageRecord:
    args: list[str | Path] = ["attest", "--bom", layout / "merged.cdx.json", "--gate", layout.gate,
                              "--out", layout.assessment]
    if config.path:
        args += ["--config", config.path]
    if config.assessment.sign_key:
        args += ["--sign-key", config.assessment.sign_key]
    return _run("attest", _carnot(*args), [layout / "attestation.json", layout / "attestation.md"])


def stage_viz(config: Config, layout: Layout) -> StageRecord:
    args: list[str | Path] = ["viz", "--bom", layout / "merged.cdx.json", "--gate", layout.gate,
                              "--out", layout.assessment]
    if config.path:
        args += ["--config", config.path]  # the Sankey scores exposure with the same assumptions as attest
    if (layout.dist / "assessments_manifest.json").exists():
        args += ["--history", layout.dist]  # earlier assessments: trend charts
    return _run("viz", _carnot(*args), [layout / "hndl_sankey.png"])


def stage_report(config: Config, layout: Layout) -> StageRecord:
    # Written into the assessment folder before `bundle`, so the bundle holds the PDF and the manifest its SHA256.
    out = layout / "report.pdf"
    return _run("report", _carnot("report", "--assessment", layout.assessment, "--out", out, "--dist", layout.dist),
                [out])


def stage_bundle(config: Config, layout: Layout) -> StageRecord:
    args: list[str | Path] = ["bundle", layout.assessment, "--dist", layout.dist]
    if config.assessment.sign_key:
        args += ["--sign-key", config.assessment.sign_key]  # every file of the bundle, not only the attested ones
    if config.assessment.sign_keyless:
        args.append("--sign-keyless")
    return _run("bundle", _carnot(*args), [layout.dist])


def stage_site(config: Config, layout: Layout) -> StageRecord:
    return _run("site", _carnot("site", "build", "--dist", layout.dist, "--out", layout.site), [layout.site])


Stage = Callable[[Config, Layout], StageRecord]
# Collection first, then judgement, then presentation. stages.json is written after `gate`, so the
# attestation (which reads it) says what was collected and judged; the full record of every stage,
# presentation included, is `run.json` beside the assessment folder.
COLLECT: tuple[tuple[str, Stage], ...] = (("scan", stage_scan), ("runtime", stage_runtime), ("aws", stage_aws))
JUDGE: tuple[tuple[str, Stage], ...] = (("merge", stage_merge), ("gate", stage_gate))
PRESENT: tuple[tuple[str, Stage], ...] = (("attest", stage_attest), ("viz", stage_viz), ("report", stage_report))
PUBLISH: tuple[tuple[str, Stage], ...] = (("bundle", stage_bundle), ("site", stage_site))
ALL_STAGES = tuple(name for name, _ in COLLECT + JUDGE + PRESENT + PUBLISH)


def write_stage_record(outcome: Outcome) -> Path:
    record = {r.name: {"status": r.status, "reason": r.reason} for r in outcome.records}
    return write_atomic(outcome.layout / STAGES_JSON, pretty_json(record))


def run_assessment(config: Config, out: Path,
                   on_stage: Callable[[str, StageRecord | None], None] | None = None) -> Outcome:
    """Run every stage in order; on_stage(name, None) before a stage and on_stage(name, record) after."""
    layout = Layout(out)
    layout.assessment.mkdir(parents=True, exist_ok=True)
    for stale in ("static.cdx.json", "runtime.cdx.json", "runtime.jsonl", "aws.cdx.json", STAGES_JSON, "report.pdf"):
        (layout / stale).unlink(missing_ok=True)
    write_assessment_info(layout.assessment, config.assessment.client, config.assessment.scope)
    outcome = Outcome(layout)

    def step(name: str, stage: Stage) -> StageRecord:
        if on_stage:
            on_stage(name, None)
        rec = stage(config, layout)
        outcome.records.append(rec)
        if on_stage:
            on_stage(name, rec)
        return rec

    for name, stage in COLLECT:
        step(name, stage)
    merged = step(*JUDGE[0])
    if merged.status != "run":
        for name, _ in JUDGE[1:] + PRESENT + PUBLISH:
            outcome.records.append(_not_run(name, "nothing to judge: the merge did not run"))
        write_stage_record(outcome)
        write_atomic(layout.out / "run.json", pretty_json(outcome_report(outcome)))
        return outcome
    gate = step(*JUDGE[1])
    outcome.gate_exit = gate.exit_code
    # The attestation reports what was collected and judged; what presents it comes after it.
    write_stage_record(outcome)
    for name, stage in PRESENT:
        step(name, stage)
    for name, stage in PUBLISH:
        rec = step(name, stage)
        if name == "bundle" and rec.status == "run":
            outcome.bundle = _latest_bundle(layout.dist)
    write_atomic(layout.out / "run.json", pretty_json(outcome_report(outcome)))
    return outcome


def outcome_report(outcome: Outcome) -> dict[str, Any]:
    return {
        "assessment": str(outcome.layout.assessment),
        "bundle": outcome.bundle,
        "site": str(outcome.layout.site),
        "exit_code": outcome.exit_code,
        "stages": [
            {"stage": r.name, "status": r.status, "reason": r.reason, "seconds": round(r.seconds, 2),
             "outputs": list(r.outputs)}
            for r in outcome.records
        ],
    }


def _latest_bundle(dist: Path) -> str | None:
    manifest = dist / MANIFEST_NAME
    if not manifest.exists():
        return None
    entries = read_manifest(manifest)
    return str(dist / entries[-1]["bundle"]) if entries else None
