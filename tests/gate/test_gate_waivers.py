"""Reading the waivers file: YAML or JSON, and every mistake named with its file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from assess.errors import ConfigError, InputError
from assess.gate.waivers import load_waivers

RULES = {"legacy-hash", "weak-rsa-key"}


def test_yaml_and_json_waivers_read_alike(tmp_path: Path) -> None:
    yaml_file = tmp_path / "w.yaml"
    yaml_file.write_text("# owner: platform team\n- rule: legacy-hash\n  bom_ref: 'carnot:algorithm:1'\n"
                         "  until: 2026-12-31\n  reason: checksum only, not security\n")
    json_file = tmp_path / "w.json"
    json_file.write_text('[\n  {"rule": "legacy-hash", "bom_ref": "carnot:algorithm:1", "until": "2026-12-31",\n'
                         '   "reason": "checksum only, not security"}\n]\n')
    from_yaml, from_json = load_waivers(yaml_file, RULES), load_waivers(json_file, RULES)
    assert [(w.rule, w.bom_ref, w.until, w.reason) for w in from_yaml] == \
        [(w.rule, w.bom_ref, w.until, w.reason) for w in from_json]
    assert from_yaml[0].until == "2026-12-31" and from_yaml[0].line == 2


@pytest.mark.parametrize(("text", "line", "fragment"), [
    ("- rule: legacy-hash\n  bom_ref: x\n  until: 2026-01-01\n", 1, "missing reason"),
    ("- rule: legacy-hash\n  bom_ref: x\n  until: 2026-02-30\n  reason: r\n", 1, "YYYY-MM-DD"),
    ("- rule: legacy-hash\n  bom_ref: x\n  until: 2026-01-01\n  reason: r\n- rule: nope\n  bom_ref: x\n"
     "  until: 2026-01-01\n  reason: r\n", 5, "unknown rule 'nope'"),
    ("- rule: legacy-hash\n  bom_ref: x\n  until: 2026-01-01\n  reason: r\n  owner: me\n", 5, "unknown waiver field"),
    ("- rule: legacy-hash\n  bom_ref: [x]\n  until: 2026-01-01\n  reason: r\n", 2, "non-empty string"),
    ("rule: legacy-hash\n", 1, "is a list"),
    ("- rule: legacy-hash\n  bom_ref: x\n   until: 2026\n", 3, "invalid YAML"),
])
def test_malformed_yaml_waiver_names_file_and_line(tmp_path: Path, text: str, line: int, fragment: str) -> None:
    path = tmp_path / "waivers.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_waivers(path, RULES)
    assert caught.value.path == str(path) and caught.value.line == line
    assert fragment in caught.value.message


def test_json_syntax_error_names_line(tmp_path: Path) -> None:
    path = tmp_path / "waivers.json"
    path.write_text('[\n  {"rule": "legacy-hash",\n   "bom_ref": "x",,\n}]\n')
    with pytest.raises(InputError) as caught:
        load_waivers(path, RULES)
    assert caught.value.path == str(path) and caught.value.line == 3


def test_empty_file_means_no_waivers(tmp_path: Path) -> None:
    path = tmp_path / "waivers.yaml"
    path.write_text("# nothing waived yet\n")
    assert load_waivers(path, RULES) == []
