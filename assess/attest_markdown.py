"""attestation.md: the attestation for a person — summary, top risks, exposure and its assumptions, gaps.

Rendered only from the (already redacted) statement, so it never shows what the JSON masked.
Every string that came from an observed system (an SNI, a certificate subject, a tag, a path) is
escaped with `md` so it reads as text: no links, no HTML, no table breaks.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

# Inline specials only: every observed string lands mid-line (table cells, after words), never at
# a line start, so block markers (-, +, 1.) cannot trigger; with [ and ] escaped no link can form.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]#!|~])")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")
TOP_RISKS = 10
EXPOSED_LISTED = 25


def md(value: object) -> str:
    """A value as inert Markdown text: punctuation backslash-escaped, HTML characters as entities."""
    text = _CONTROL.sub(" ", str(value))
    text = _MD_SPECIAL.sub(r"\\\1", text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _table(headers: Iterable[str], rows: Iterable[Iterable[object]]) -> list[str]:
    head = list(headers)
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return lines


def _cell(value: object) -> str:
    return str(value) if isinstance(value, (int, float)) else md(value)


def _years(value: Any) -> str:
    return "—" if value is None else f"{float(value):+.1f}"


def _pct(value: Any) -> str:
    return "—" if value is None else f"{100 * float(value):.0f}%"


def render_markdown(statement: Mapping[str, Any]) -> str:
    p = statement["predicate"]
    summary, policy, exposure = p["summary"], p["policy"], p["exposure"]
    ex_summary = exposure["summary"]
    lines: list[str] = ["# Post-quantum readiness attestation", ""]
    lines += [
        f"Generated {md(p['generated_at'])} by Carnot {md(p['provenance']['tool']['version'])}. "
        f"This report summarises `attestation.json` (an in-toto statement over "
        f"{len(statement['subject'])} file(s) of the assessment).",
        "",
        "## Summary",
        "",
    ]
    status = str(policy["status"]).upper()
    if policy["status"] == "not_assessed":
        policy_line = "**NOT ASSESSED** (no policy gate results)"
    else:
        sev = policy["by_severity"]
        policy_line = (
            f"**{md(status)}** ({md(policy['mode'])} mode, profile {md(policy['profile'])}): "
            f"{policy['unwaived']} finding(s) open — {sev['critical']} critical, {sev['high']} high, "
            f"{sev['medium']} medium, {sev['low']} low; {policy['waived']} waived"
        )
    hndl_total = ex_summary["hndl_exposed"] + ex_summary["hndl_within_margin"]
    lines += [
        f"- **Policy:** {policy_line}.",
        f"- **Inventory:** {summary['crypto_assets']} cryptographic asset(s) in {summary['components']} "
        f"component(s): " + ", ".join(f"{n} {md(t)}" for t, n in summary["by_asset_type"].items()) + ".",
        f"- **Harvest now, decrypt later:** {ex_summary['hndl_exposed']} of {hndl_total} key-exchange or "
        f"encryption asset(s) are exposed under the assumptions below "
        f"(worst: {_years(ex_summary['max_exposure_years'])} years); "
        f"{ex_summary['flows_exposed']} of {ex_summary['flows']} observed flow(s) exposed, "
        f"{ex_summary['handshakes_exposed']} handshake(s).",
        f"- **Signatures and certificates:** {ex_summary['signature_past_deadline']} past the migration "
        f"deadlines (quantum-vulnerable signatures deprecated after "
        f"{exposure['assumptions']['signature_deprecated_after']['value']}, disallowed after "
        f"{exposure['assumptions']['signature_disallowed_after']['value']}).",
        f"- **Quantum-safe already:** {ex_summary['by_risk']['quantum_safe']} asset(s).",
        f"- **Not assessed:** {summary['gaps']} gap(s), {ex_summary['by_risk']['unknown']} asset(s) "
        f"without enough facts to score, {summary['skipped_files']} file(s) skipped.",
        "",
    ]
    lines += _top_risks(exposure, policy)
    lines += _exposure_section(exposure)
    lines += _policy_section(policy)
    lines += _gaps_section(p, ex_summary)
    lines += _provenance_section(p)
    return "\n".join(lines).rstrip() + "\n"


def _top_risks(exposure: Mapping[str, Any], policy: Mapping[str, Any]) -> list[str]:
    results = exposure["results"]
    hndl = sorted(
        (r for r in results if r["risk"] == "hndl" and r["exposed"]),
        key=lambda r: (-r["exposure_years"], -r["probability_exposed"], r["bom_ref"]),
    )
    signatures = sorted(
        (r for r in results if r["risk"] == "signature_deadline" and r["exposed"]),
        key=lambda r: (-(r["years_past_deadline"] or 0.0), r["bom_ref"]),
    )
    critical = [f for f in policy.get("findings", []) if not f.get("waived") and f["severity"] == "critical"]
    rows: list[tuple[object, ...]] = []
    for r in hndl:
        rows.append(("HNDL exposure", _label(r), r["reason"],
                     f"{_years(r['exposure_years'])} y, P {_pct(r['probability_exposed'])}"))
    for r in signatures:
        rows.append(("signature deadline", _label(r), r["reason"],
                     f"valid until {r['valid_until']}" if r.get("valid_until") else "in use"))
    for f in critical:
        rows.append(("critical finding", f["bom_ref"], f.get("message") or f["rule"], f["rule"]))
    lines = ["## Top risks", ""]
    if not rows:
        return [*lines, "Nothing exposed and no critical findings under the stated assumptions.", ""]
    lines += _table(["Kind", "Asset", "Why", "Measure"], rows[:TOP_RISKS])
    if len(rows) > TOP_RISKS:
        lines.append(f"\n…and {len(rows) - TOP_RISKS} more in `attestation.json`.")
    return [*lines, ""]


def _label(result: Mapping[str, Any]) -> str:
    flow = result.get("flow") or {}
    where = flow.get("sni") or flow.get("endpoint")
    return f"{result['name']} ({where})" if where else str(result["name"])


def _exposure_section(exposure: Mapping[str, Any]) -> list[str]:
    a = exposure["assumptions"]
    lines = [
        "## Exposure (Mosca)",
        "",
        "Data protected by classical key exchange or encryption is exposed when its shelf-life *x* plus "
        "the migration time *y* exceeds the years *z* until a cryptographically relevant quantum computer "
        "(x + y > z). The probability is P\\[CRQC within x + y years\\] from the timeline below.",
        "",
        "### Assumptions",
        "",
    ]
    rows = [
        ("assessed as of", exposure["as_of"], ""),
        ("y: migration years", a["migration_years"]["value"], a["migration_years"]["origin"]),
        ("z: years to a CRQC", a["crqc_years"]["value"], a["crqc_years"]["origin"]),
        ("x when nothing is stated", a["shelf_life_default_years"]["value"],
         a["shelf_life_default_years"]["origin"]),
    ]
    rows += [(f"x for data class {c}", v, a["shelf_life_by_class"]["origin"])
             for c, v in a["shelf_life_by_class"]["value"].items()]
    lines += _table(["Input", "Value", "Origin"], rows)
    timeline = a["timeline"]
    lines += ["", f"Quantum timeline ({md(timeline['origin'])}): {md(timeline['source'])}.", ""]
    lines += _table(["Years from now", "P[CRQC by then]"], [(t, _pct(pr)) for t, pr in timeline["points"]])
    exposed = [r for r in exposure["results"] if r["risk"] == "hndl" and r["exposed"]]
    exposed.sort(key=lambda r: (-r["exposure_years"], r["bom_ref"]))
    lines += ["", "### Exposed assets and flows", ""]
    if not exposed:
        lines.append("None under these assumptions.")
    else:
        lines += _table(
            ["Asset", "Algorithm", "x (basis)", "y", "z", "x + y − z", "P", "Expected years"],
            [
                (_label(r), r["algorithm"] or "—", f"{r['shelf_life_years']} ({r['shelf_life_basis']})",
                 r["migration_years"], r["crqc_years"], _years(r["exposure_years"]),
                 _pct(r["probability_exposed"]), f"{r['expected_exposed_years']:.2f}")
                for r in exposed[:EXPOSED_LISTED]
            ],
        )
        if len(exposed) > EXPOSED_LISTED:
            lines.append(f"\n…and {len(exposed) - EXPOSED_LISTED} more in `attestation.json`.")
    defaulted = exposure["summary"]["shelf_life_defaulted"]
    if defaulted:
        lines += ["", f"{defaulted} asset(s) had no stated shelf-life or data class and use the default x."]
    return [*lines, ""]


def _policy_section(policy: Mapping[str, Any]) -> list[str]:
    lines = ["## Policy", ""]
    if policy["status"] == "not_assessed":
        return [*lines, md(policy["reason"]), ""]
    lines += [
        f"Engine {md(policy['engine'])}, profile {md(policy['profile'])}, {md(policy['mode'])} mode; "
        f"policy digest `{md(policy['policy_digest'])}`.",
        "",
    ]
    if policy["by_rule"]:
        by_rule = sorted(policy["by_rule"].items(), key=lambda kv: (-kv[1], kv[0]))
        lines += _table(["Rule", "Open findings"], by_rule)
    else:
        lines.append("No open findings.")
    return [*lines, ""]


def _gaps_section(p: Mapping[str, Any], ex_summary: Mapping[str, Any]) -> list[str]:
    lines = ["## What was not assessed", ""]
    if p["gaps"]:
        gaps = [(g["stage"], g["scope"], g["reason"]) for g in p["gaps"]]
        lines += _table(["Stage", "Scope", "Reason"], gaps)
    else:
        lines.append("No stage reported a gap.")
    unknown = ex_summary["by_risk"]["unknown"]
    if unknown:
        lines += ["", f"{unknown} asset(s) lacked the facts to score "
                  "(e.g. a handshake without a negotiated group)."]
    if p["summary"]["skipped_files"]:
        skipped = p["summary"]["skipped_files"]
        lines += ["", f"{skipped} file(s) were skipped by the scanners (listed in the CBOM)."]
    return [*lines, ""]


def _provenance_section(p: Mapping[str, Any]) -> list[str]:
    prov = p["provenance"]
    lines = ["## Provenance", ""]
    lines.append(f"Carnot {md(prov['tool']['version'])}, git commit {md(prov['git_commit'] or 'unknown')}, "
                 f"Python {md(prov['python'])}.")
    libs = ", ".join(f"{md(k)} {md(v)}" for k, v in prov["libraries"].items() if v)
    lines += ["", f"Libraries: {libs}.", ""]
    inputs = [(i["role"], i["name"], i["sha256"]) for i in prov["inputs"]]
    lines += _table(["Input", "File", "SHA-256"], inputs)
    red = p["redaction"]
    if red["enabled"]:
        masked = ", ".join(f"{n} {md(k)}" for k, n in red["masked"].items()) or "nothing matched"
        keyed = "keyed pseudonyms" if red["keyed"] else "unkeyed pseudonyms (guessable)"
        lines += ["", f"Redaction: configured values masked with {keyed}: {masked}."]
    return [*lines, ""]
