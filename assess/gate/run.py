"""The gate, end to end: CBOM in, one Rego evaluation, findings out as JSON, SARIF and Markdown.

Python only shapes the input (components flattened and trimmed to what the policies read) and
presents the report; every judgement (which rule fires, its severity, waivers, what fails an
enforced run) is made in Rego, by whichever engine is chosen.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from assess.cbom import read_cbom, stream_cbom
from assess.errors import CbomError, InputError
from assess.fsio import (
    MAX_CBOM_INPUT_BYTES,
    NotStreamable,
    parse_json_bytes,
    pretty_json,
    write_atomic,
    write_pretty_json,
)
from assess.gate import comment, facts, sarif
from assess.gate.engine import REPORT_QUERY, PolicyBundle, PolicyEngine, PolicyError, load_policies
from assess.gate.opa_engine import OpaEngine
from assess.gate.regorus_engine import RegorusEngine
from assess.gate.waivers import load_waivers
from assess.resources import policies_dir, policy_guide

SEVERITIES = ("critical", "high", "medium", "low")
RESULT_FILE = "opa_result.json"
SUMMARY_FILE = "opa_summary.json"
SARIF_FILE = "findings.sarif"
COMMENT_FILE = "pr_comment.md"
# Assets per Rego evaluation: regorus holds its own copy of the input and every finding it derives
# (~5 KiB an asset, not all given back to the system after), so a large CBOM is judged in parts.
# The policies judge each asset on its own (docs/POLICY_GUIDE.md): the parts' findings are the whole's.
ASSETS_PER_EVALUATION = 10_000


class EngineChoice(StrEnum):
    AUTO = "auto"
    REGORUS = "regorus"
    OPA = "opa"

    def engine(self) -> PolicyEngine:
        if self is EngineChoice.OPA or (self is EngineChoice.AUTO and shutil.which("opa")):
            return OpaEngine()
        return RegorusEngine()


@dataclass(frozen=True)
class GateOptions:
    policies: Path
    profile: str | None = None
    enforce: bool = False
    waivers: Path | None = None
    engine: EngineChoice = EngineChoice.AUTO
    now: datetime | None = None
    max_bom_bytes: int = MAX_CBOM_INPUT_BYTES
    assets_per_evaluation: int = ASSETS_PER_EVALUATION


@dataclass(frozen=True)
class GateOutcome:
    result: dict[str, Any]  # opa_result.json
    summary: dict[str, Any]  # opa_summary.json
    bundle: PolicyBundle
    bom_path: str

    @property
    def failed(self) -> bool:
        return bool(self.result["mode"] == "enforce" and self.summary["failing"] > 0)

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0


def default_policies_dir() -> Path:
    """The policies Carnot ships with (`--policies DIR` chooses others)."""
    return policies_dir()


def gate_input(document: dict[str, Any], origin: str) -> tuple[str, list[dict[str, Any]]]:
    """The policies' input (asset facts) of a whole document as JSON text, and its flattened components."""
    flat = _flattened(document.get("components", []))
    _check_unique_refs(flat, set(), origin)
    return facts.input_json(flat), flat


def _flattened(components: list[dict[str, Any]]) -> list[dict[str, Any]]:
    flat: list[dict[str, Any]] = []
    stack = list(reversed(components))
    while stack:
        component = stack.pop()
        flat.append(component)
        stack.extend(reversed(component.get("components", [])))
    return flat


def _check_unique_refs(flat: list[dict[str, Any]], seen: set[str], origin: str) -> None:
    for component in flat:
        ref = component.get("bom-ref")
        if ref is not None:
            if ref in seen:
                raise CbomError(f"duplicate bom-ref {json.dumps(ref)}: every bom-ref must be unique", path=origin)
            seen.add(ref)


Batches = Callable[[], Iterator[list[dict[str, Any]]]]


def _judge(batches: Batches, referenced: set[str], origin: str, engine: PolicyEngine, bundle: PolicyBundle,
           data: dict[str, Any], assets_per_evaluation: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Evaluate the policies over the components that batches() yields (top-level components, a part
    at a time), at most about assets_per_evaluation assets per evaluation; referenced holds every
    bom-ref the components' facts look up. The report of the first evaluation, with every part's
    findings (located) and the sum of their failing counts."""
    targets: dict[str, Any] = {}
    if referenced:
        start = 0
        for batch in batches():
            flat = _flattened(batch)
            targets |= facts.referenced_components(flat, referenced, start)
            start += len(flat)
    report: dict[str, Any] | None = None
    findings: list[dict[str, Any]] = []
    failing = 0
    seen: set[str] = set()
    start = 0
    part: list[dict[str, Any]] = []

    def judge_part() -> None:
        nonlocal report, failing, start
        partial = engine.evaluate(bundle.modules, data, facts.input_json(part, start=start, referenced=targets),
                                  REPORT_QUERY)
        locations = evidence_locations(part, start)
        for finding in partial["findings"]:
            for shared in ("rule", "severity", "remediation"):  # one string each, not one per finding
                finding[shared] = sys.intern(finding[shared])
            if finding["bom_ref"] in locations:
                finding["location"] = locations[finding["bom_ref"]]
        findings.extend(partial["findings"])
        failing += int(partial["failing"])
        report = report or partial
        start += len(part)
        part.clear()

    for batch in batches():
        flat = _flattened(batch)
        _check_unique_refs(flat, seen, origin)
        part.extend(flat)
        if len(part) >= assets_per_evaluation:
            judge_part()
    if part or report is None:
        judge_part()
    assert report is not None
    return {**report, "findings": [], "failing": failing}, findings


def evaluate(bom_path: str | Path, options: GateOptions) -> GateOutcome:
    """Gate one CBOM: read and validate it, evaluate the policies, build result and summary."""
    bundle = load_policies(options.policies)
    profiles = bundle.profiles
    profile = options.profile or str(bundle.data["carnot"]["default_profile"])
    if profile not in profiles:
        raise PolicyError(f"unknown profile {profile!r}; the policies define {', '.join(sorted(profiles))}",
                          path=options.policies)
    waivers = load_waivers(options.waivers, bundle.catalog) if options.waivers else []
    now = (options.now or datetime.now(UTC)).astimezone(UTC)
    run = {"profile": profile, "now": now.strftime("%Y-%m-%dT%H:%M:%SZ"), "waivers": [w.as_data() for w in waivers]}
    engine = options.engine.engine()
    data = bundle.with_run(run)
    origin = str(bom_path)
    batch_size = max(1, options.assets_per_evaluation // 4)
    referenced: set[str] = set()

    def collect_references(component: Any) -> None:
        if type(component) is dict:
            for flat in _flattened([component]):
                referenced.update(facts.references(flat))

    try:  # a file read part by part: memory bounded by a part, not by the document
        streamed = stream_cbom(bom_path, max_bytes=options.max_bom_bytes, on_component=collect_references)
        report, findings = _judge(lambda: streamed.batches(batch_size), referenced, origin, engine, bundle, data,
                                  options.assets_per_evaluation)
    except (NotStreamable, CbomError, InputError):  # read whole: the same judgement, or the exact error
        document = read_cbom(bom_path, max_bytes=options.max_bom_bytes).data
        top = document.get("components", [])
        referenced = {ref for component in _flattened(top) for ref in facts.references(component)}
        report, findings = _judge(lambda: (top[i:i + batch_size] for i in range(0, len(top), batch_size)),
                                  referenced, origin, engine, bundle, data, options.assets_per_evaluation)
    findings.sort(key=_finding_order)
    result = {
        "engine": engine.name,
        "profile": profile,
        "mode": "enforce" if options.enforce else "warn",
        "policy_digest": bundle.digest,
        "evaluated_at": run["now"],
        "bom": str(bom_path),
        "fail_at": report["fail_at"],
        "rules_off": report["rules_off"],
        "findings": findings,
        "expired_waivers": sorted(report["expired_waivers"], key=lambda w: (w.get("line", 0), w["rule"])),
    }
    return GateOutcome(result=result, summary=summarise(result, int(report["failing"])), bundle=bundle,
                       bom_path=_repo_relative(Path(bom_path)))


def _repo_relative(path: Path) -> str:
    """The CBOM's path relative to the working directory (the checkout, in CI) when it lies inside it."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return str(path)


def _finding_order(finding: dict[str, Any]) -> tuple[int, str, str, str]:
    return (SEVERITIES.index(finding["severity"]), finding["rule"], finding["bom_ref"], finding["message"])


def evidence_locations(components: list[dict[str, Any]], start: int = 0) -> dict[str, dict[str, Any]]:
    """bom-ref -> the first file evidence {path, line} (ARNs and processes are not files); the first
    component is at flat index start."""
    out: dict[str, dict[str, Any]] = {}
    for index, component in enumerate(components, start):
        ref = component.get("bom-ref", f"components[{index}]")
        for occurrence in component.get("evidence", {}).get("occurrences", []):
            location = occurrence.get("location")
            if not location or not _is_file_evidence(occurrence):
                continue
            out[ref] = {"path": location, **({"line": occurrence["line"]} if occurrence.get("line") else {})}
            break
    return out


def _is_file_evidence(occurrence: dict[str, Any]) -> bool:
    try:
        context = parse_json_bytes(occurrence.get("additionalContext") or "{}", "additionalContext")
    except InputError:  # free text, as other tools write it
        context = {}
    source = context.get("source") if isinstance(context, dict) else None
    if source is not None:
        return bool(source == "static")
    location = str(occurrence.get("location"))
    return not location.startswith("arn:") and "://" not in location


def summarise(result: dict[str, Any], failing: int) -> dict[str, Any]:
    """Counts by rule and by severity, waived findings counted apart."""
    open_findings = [f for f in result["findings"] if not f["waived"]]
    waived = [f for f in result["findings"] if f["waived"]]
    by_rule: dict[str, dict[str, Any]] = {}
    for f in result["findings"]:
        entry = by_rule.setdefault(f["rule"], {"severity": f["severity"], "findings": 0, "waived": 0})
        entry["waived" if f["waived"] else "findings"] += 1
    open_sev, waived_sev = Counter(f["severity"] for f in open_findings), Counter(f["severity"] for f in waived)
    return {
        "engine": result["engine"],
        "profile": result["profile"],
        "mode": result["mode"],
        "policy_digest": result["policy_digest"],
        "fail_at": result["fail_at"],
        "total": len(result["findings"]),
        "findings": len(open_findings),
        "waived": len(waived),
        "failing": failing,
        "expired_waivers": len(result["expired_waivers"]),
        "by_severity": {s: open_sev.get(s, 0) for s in SEVERITIES},
        "waived_by_severity": {s: waived_sev.get(s, 0) for s in SEVERITIES},
        "by_rule": dict(sorted(by_rule.items())),
    }


def guide_url() -> str:
    """Absolute URL of docs/POLICY_GUIDE.md: on GitHub at this commit, else the guide Carnot ships with."""
    server, repo, sha = (os.environ.get(k) for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_SHA"))
    if server and repo and sha:
        return f"{server}/{repo}/blob/{sha}/docs/POLICY_GUIDE.md"
    return policy_guide().resolve().as_uri()


def write_outputs(outcome: GateOutcome, out_dir: str | Path) -> list[Path]:
    """Write the four result files (each atomically) and append the step summary when on GitHub."""
    out = Path(out_dir)
    url = guide_url()
    markdown = comment.pr_comment(outcome.result, outcome.summary, url)
    written = [
        write_pretty_json(out / RESULT_FILE, outcome.result),
        write_atomic(out / SUMMARY_FILE, pretty_json(outcome.summary)),
        write_atomic(out / SARIF_FILE, pretty_json(sarif.build(outcome.result, outcome.bundle.catalog,
                                                                outcome.bom_path, url))),
        write_atomic(out / COMMENT_FILE, markdown.encode("utf-8")),
    ]
    step_summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if step_summary:
        comment.append_step_summary(Path(step_summary), markdown)
    return written
