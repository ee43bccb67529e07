"""docs/POLICY_GUIDE.md, generated from the policy catalog so the guide, `carnot explain` and the
SARIF help text never disagree: `python -m assess.gate.guide [POLICIES] [OUT]`.

Each rule is a `## <rule-id>` section, so its GitHub anchor is the rule id (the findings'
remediation links point there).
"""

from __future__ import annotations

import sys
from pathlib import Path

from assess.fsio import write_atomic
from assess.gate.engine import PolicyBundle, load_policies
from assess.resources import policies_dir

INTRO = """# Policy guide

What `carnot gate` checks, why each rule matters for post-quantum readiness, and how to fix a
finding. Every finding's `remediation` links to a section below (`docs/POLICY_GUIDE.md#<rule>`);
`carnot explain RULE` prints the same text. This page is generated from `policies/data.json`
by `python -m assess.gate.guide`; edit the catalog there, not this file.

## How the gate works

- Policies are Rego v1 in `policies/`: one package per rule in `rules/<rule_with_underscores>.rego`,
  its unit tests beside it in `..._test.rego`, the gate itself in `gate.rego`. They run unchanged
  under the embedded engine (regorus, the default here) and under the `opa` binary (`--engine opa`;
  `auto` prefers opa when it is on PATH). Both engines get the same input, data and query: `data.carnot.gate.report`.
- The input is `{"assets": {...}}`: the facts `carnot gate` reads from the CBOM (standard
  CycloneDX fields first, `carnot:*` properties second), described in `policies/lib/assets.rego`.
  The judgement (what is too small, legacy, or missing post-quantum support) is all in Rego.
- Each rule judges one asset at a time, never the estate as a whole: a large CBOM is evaluated
  10,000 components at a time and the parts' findings joined (so a million components need no
  more memory in the engine than ten thousand). Policies of your own (`--policies DIR`) must do
  the same: a rule comparing assets with each other would see only its part.
- Profiles are policy data (`carnot.profiles` in `policies/data.json`): each sets a severity per
  rule (`off` disables the rule), the thresholds below, and `fail_at`, the severity at or above
  which an unwaived finding fails an `--enforce` run (exit 1). Warn mode always exits 0.
- Waivers (`--waivers FILE`, YAML or JSON): a list of `{rule, bom_ref, until, reason}`. A waiver
  exempts that rule on that asset through the whole of its `until` day (UTC); from the next day it
  stops exempting and is listed under `expired_waivers`. Waived findings stay in the results,
  marked `"waived": true`, and are suppressed in SARIF.

```yaml
- rule: weak-rsa-key
  bom_ref: "carnot:key:1f2e3d4c5b6a7980"
  until: 2026-06-30
  reason: legacy HSM, replacement ordered (TICKET-123)
```

- Outputs in `--out-dir`: `opa_result.json` (every finding: rule, severity, bom_ref, message,
  remediation, waived, and `location` when the asset has file evidence), `opa_summary.json`
  (counts by rule and severity, waived apart), `findings.sarif` (SARIF 2.1.0 for GitHub code
  scanning), `pr_comment.md` (summary table and top findings, every observed string escaped);
  the same Markdown is appended to `$GITHUB_STEP_SUMMARY` when it is set.
- `nox -s policy_tests` runs every Rego `test_` rule with the embedded engine (and `opa test
  policies/` when opa is on PATH); every rule has a violating and a compliant test.
- conftest and plain `opa eval` read the same findings from `data.carnot.gate`: `deny` (at or
  above `fail_at`) and `warn` (below), e.g. `conftest test FACTS.json -p policies -d policies
  --namespace carnot.gate`. Their input is the facts document (`assess.gate.facts.input_json`),
  not the raw CBOM; without `data.carnot.run` the default profile and the current time apply.

"""


def _profiles_table(bundle: PolicyBundle) -> list[str]:
    profiles = bundle.profiles
    names = list(profiles)
    lines = ["## Profiles", "", "| | " + " | ".join(names) + " |", "| --- |" + " --- |" * len(names)]
    lines.append("| description | " + " | ".join(profiles[n]["description"] for n in names) + " |")
    lines.append("| fails an enforced run at | " + " | ".join(profiles[n]["fail_at"] for n in names) + " |")
    for setting in profiles[names[0]]["settings"]:
        lines.append(f"| `{setting}` | " + " | ".join(str(profiles[n]["settings"][setting]) for n in names) + " |")
    for rule in sorted(bundle.catalog):
        lines.append(f"| [{rule}](#{rule}) | " + " | ".join(profiles[n]["severity"].get(rule, "off") for n in names)
                     + " |")
    return [*lines, ""]


def render(bundle: PolicyBundle) -> str:
    lines = [INTRO.rstrip("\n"), "", *_profiles_table(bundle), "## Rules", ""]
    for rule, meta in sorted(bundle.catalog.items()):
        severities = ", ".join(f"{name}: {p['severity'].get(rule, 'off')}" for name, p in bundle.profiles.items())
        lines += [
            f"## {rule}",
            "",
            f"**{meta['title']}.** Severity by profile: {severities}. Policy: `policies/rules/{meta['package']}.rego`.",
            "",
            f"**What it checks.** {meta['checks']}",
            "",
            f"**Why it matters for post-quantum readiness.** {meta['why']}",
            "",
            f"**How to fix.** {meta['fix']}",
            "",
            "**Example.**",
            "",
            "```",
            meta["example"],
            "```",
            "",
        ]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    policies = Path(argv[0]) if argv else policies_dir()
    out = Path(argv[1]) if len(argv) > 1 else Path("docs/POLICY_GUIDE.md")
    write_atomic(out, render(load_policies(policies)).encode("utf-8"))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
