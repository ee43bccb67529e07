"""pr_comment.md and the GitHub step summary: a short table and the top findings, safely escaped.

Asset names, SNIs, certificate subjects, tags and paths come from observed systems and are
attacker-controlled. Every such string is rendered as inert text: no HTML, no links or images
(explicit or auto-linked), no table breaking, one line, bounded length.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from assess.errors import OutputError

TOP_FINDINGS = 10
MAX_TEXT = 160
SEVERITY_ORDER = ("critical", "high", "medium", "low")
# Backslash-escapable ASCII punctuation in CommonMark that could start markup.
_MARKDOWN_PUNCTUATION = set("\\`*_{}[]()#+-!|~")
# Characters written as numeric entities: HTML, and what GFM's autolinker looks for (: @ .).
# Line separators, zero-width and bidirectional controls: rendered as spaces (no hidden text, no reordering).
_INVISIBLE = set("\u2028\u2029\u200b\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff")
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", ":": "&#58;", "@": "&#64;", ".": "&#46;"}


def md_text(value: object, limit: int = MAX_TEXT) -> str:
    """An untrusted string as inert Markdown text for one table cell."""
    text = " ".join(str(value).split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    out = []
    for ch in text:
        if ch in _ENTITIES:
            out.append(_ENTITIES[ch])
        elif ch in _MARKDOWN_PUNCTUATION:
            out.append("\\" + ch)
        elif ord(ch) < 32 or ord(ch) == 127 or ch in _INVISIBLE:
            out.append(" ")
        else:
            out.append(ch)
    return "".join(out)


def _status(result: dict[str, Any], summary: dict[str, Any]) -> str:
    if summary["failing"] and result["mode"] == "enforce":
        return f"❌ failed: {summary['failing']} unwaived finding(s) at or above {result['fail_at']}"
    if summary["failing"]:
        return f"⚠️ {summary['failing']} finding(s) at or above {result['fail_at']} (warn mode: not failing)"
    return "✅ passed"


def pr_comment(result: dict[str, Any], summary: dict[str, Any], guide_url: str) -> str:
    lines = [
        "## Carnot policy gate",
        "",
        f"**{_status(result, summary)}** · profile `{result['profile']}` · mode `{result['mode']}` · "
        f"engine `{result['engine']}`",
        "",
        "| severity | findings | waived |",
        "| --- | ---: | ---: |",
    ]
    for severity in SEVERITY_ORDER:
        lines.append(f"| {severity} | {summary['by_severity'][severity]} | {summary['waived_by_severity'][severity]} |")
    lines.append(f"| **total** | **{summary['findings']}** | **{summary['waived']}** |")
    open_findings = [f for f in result["findings"] if not f["waived"]]
    if open_findings:
        lines += ["", f"### Top findings ({min(TOP_FINDINGS, len(open_findings))} of {len(open_findings)})", "",
                  "| severity | rule | asset | finding |", "| --- | --- | --- | --- |"]
        for f in open_findings[:TOP_FINDINGS]:
            rule = f"[{f['rule']}]({guide_url}#{f['rule']})"
            lines.append(f"| {f['severity']} | {rule} | {md_text(f['bom_ref'], 60)} | {md_text(f['message'])} |")
    if result["expired_waivers"]:
        lines += ["", f"### Expired waivers ({len(result['expired_waivers'])}): no longer exempting", "",
                  "| rule | asset | until | reason |", "| --- | --- | --- | --- |"]
        for w in result["expired_waivers"][:TOP_FINDINGS]:
            lines.append(f"| {md_text(w['rule'])} | {md_text(w['bom_ref'], 60)} | {md_text(w['until'])} | "
                         f"{md_text(w['reason'])} |")
    lines += ["", f"Policy digest `{result['policy_digest']}`. Full results: `opa_result.json`, `findings.sarif`.", ""]
    return "\n".join(lines)


def append_step_summary(path: Path, markdown: str) -> None:
    """Append to $GITHUB_STEP_SUMMARY (GitHub concatenates what each step appends)."""
    try:
        with path.open("a", encoding="utf-8") as fh:
            fh.write(markdown + "\n")
    except OSError as e:
        raise OutputError(f"cannot append the step summary: {e.strerror}", path=path) from e
