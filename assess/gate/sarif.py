"""findings.sarif: SARIF 2.1.0 for GitHub code scanning.

Each catalogued rule is a `reportingDescriptor` with help text and a helpUri into the policy guide.
A finding whose asset has file evidence points at that file and line; any other finding (a cloud
key, a runtime handshake) points at the CBOM itself and names the asset's bom-ref as a logical
location. Waived findings are kept, with an external suppression carrying the waiver's reason.
"""

from __future__ import annotations

import hashlib
from typing import Any

from assess import __version__

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
# GitHub code scanning rejects a run with more results than this; the most severe open ones are kept.
MAX_RESULTS = 25_000
LEVELS = {"critical": "error", "high": "error", "medium": "warning", "low": "note"}
# GitHub ranks code-scanning alerts by this number (critical >= 9.0, high >= 7.0, medium >= 4.0).
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0"}


def _rule(rule_id: str, meta: dict[str, Any], severity: str | None, guide_url: str) -> dict[str, Any]:
    help_text = (f"{meta['checks']}\n\nWhy it matters: {meta['why']}\n\nHow to fix: {meta['fix']}\n\n"
                 f"Example: {meta['example']}")
    help_markdown = (f"{meta['checks']}\n\n**Why it matters:** {meta['why']}\n\n**How to fix:** {meta['fix']}\n\n"
                     f"Example:\n\n```\n{meta['example']}\n```")
    descriptor: dict[str, Any] = {
        "id": rule_id,
        "name": "".join(part.capitalize() for part in rule_id.split("-")),
        "shortDescription": {"text": meta["title"]},
        "fullDescription": {"text": meta["checks"]},
        "help": {"text": help_text, "markdown": help_markdown},
        "helpUri": f"{guide_url}#{rule_id}",
        "properties": {"tags": ["security", "cryptography", "post-quantum"]},
    }
    if severity is not None:
        descriptor["defaultConfiguration"] = {"level": LEVELS[severity]}
        descriptor["properties"]["security-severity"] = SECURITY_SEVERITY[severity]
    return descriptor


def _locations(finding: dict[str, Any], bom_path: str) -> list[dict[str, Any]]:
    logical = [{"fullyQualifiedName": finding["bom_ref"], "kind": "resource"}]
    where = finding.get("location")
    if where:
        physical: dict[str, Any] = {"artifactLocation": {"uri": where["path"]}}
        if where.get("line"):
            physical["region"] = {"startLine": int(where["line"])}
    else:
        physical = {"artifactLocation": {"uri": bom_path}, "region": {"startLine": 1}}
    return [{"physicalLocation": physical, "logicalLocations": logical}]


def _result(finding: dict[str, Any], rule_index: int, bom_path: str) -> dict[str, Any]:
    identity = f"{finding['rule']}\x1f{finding['bom_ref']}\x1f{finding['message']}".encode()
    result: dict[str, Any] = {
        "ruleId": finding["rule"],
        "ruleIndex": rule_index,
        "level": LEVELS[finding["severity"]],
        "message": {"text": finding["message"]},
        "locations": _locations(finding, bom_path),
        "partialFingerprints": {"carnotFinding/v1": hashlib.sha256(identity).hexdigest()},
        "properties": {"severity": finding["severity"], "bom_ref": finding["bom_ref"],
                       "remediation": finding["remediation"]},
    }
    if finding["waived"]:
        waiver = finding.get("waiver", {})
        result["suppressions"] = [{"kind": "external",
                                   "justification": f"waived until {waiver.get('until')}: {waiver.get('reason')}"}]
    return result


def build(result: dict[str, Any], catalog: dict[str, Any], bom_path: str, guide_url: str,
          max_results: int = MAX_RESULTS) -> dict[str, Any]:
    """The SARIF log of one gate result (at most max_results results: open before waived, most severe first)."""
    severities = {f["rule"]: f["severity"] for f in result["findings"]}
    order = list(LEVELS)
    kept = sorted(result["findings"], key=lambda f: (f["waived"], order.index(f["severity"])))[:max_results]
    rule_ids = sorted(catalog)
    rules = [_rule(rule_id, catalog[rule_id], severities.get(rule_id), guide_url) for rule_id in rule_ids]
    index = {rule_id: i for i, rule_id in enumerate(rule_ids)}
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "carnot",
                "version": __version__,
                "informationUri": guide_url,
                "rules": rules,
            }},
            "automationDetails": {"id": f"carnot-gate/{result['profile']}/"},
            "results": [_result(f, index[f["rule"]], bom_path) for f in kept],
            "properties": {"profile": result["profile"], "mode": result["mode"], "engine": result["engine"],
                           "policy_digest": result["policy_digest"],
                           "findings": len(result["findings"]),
                           "results_omitted": len(result["findings"]) - len(kept)},
        }],
    }
