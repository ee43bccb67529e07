"""The waivers file: a YAML or JSON list of {rule, bom_ref, until (YYYY-MM-DD), reason}.

A waiver exempts one rule on one asset through its `until` day; the judgement (active or expired)
is made in Rego, against the run's evaluation time. This module only reads the file, and every
mistake in it is reported with the file and the line of the offending entry.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import yaml

from assess.errors import ConfigError
from assess.fsio import MAX_CONFIG_BYTES, parse_json_bytes, read_bounded

FIELDS = ("rule", "bom_ref", "until", "reason")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class Waiver:
    rule: str
    bom_ref: str
    until: str
    reason: str
    line: int

    def as_data(self) -> dict[str, object]:
        return {"rule": self.rule, "bom_ref": self.bom_ref, "until": self.until, "reason": self.reason,
                "line": self.line}


def load_waivers(path: str | Path, known_rules: Collection[str]) -> list[Waiver]:
    """Parse and check a waivers file; a ConfigError names the file and the line of any mistake."""
    p = Path(path)
    raw = read_bounded(p, MAX_CONFIG_BYTES, "a waivers file")
    if p.suffix.lower() == ".json":
        parse_json_bytes(raw, p)  # JSON syntax errors with JSON's own line numbers
    try:
        root = yaml.compose(raw.decode("utf-8-sig"), Loader=yaml.SafeLoader)
    except UnicodeDecodeError as e:
        raise ConfigError("waivers file is not UTF-8 text", path=p) from e
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        raise ConfigError(f"invalid YAML: {e.problem or e.context}", path=p,
                          line=mark.line + 1 if mark else None) from e
    if root is None:
        return []
    if not isinstance(root, yaml.SequenceNode):
        raise ConfigError("a waivers file is a list of {rule, bom_ref, until, reason}", path=p,
                          line=root.start_mark.line + 1)
    return [_waiver(item, p, known_rules) for item in root.value]


def _waiver(node: yaml.Node, path: Path, known_rules: Collection[str]) -> Waiver:
    line = node.start_mark.line + 1
    if not isinstance(node, yaml.MappingNode):
        raise ConfigError("a waiver is a mapping with rule, bom_ref, until and reason", path=path, line=line)
    fields: dict[str, str] = {}
    for key_node, value_node in node.value:
        key = key_node.value
        if key not in FIELDS:
            raise ConfigError(f"unknown waiver field {key!r}; expected {', '.join(FIELDS)}", path=path,
                              line=key_node.start_mark.line + 1)
        if not isinstance(value_node, yaml.ScalarNode) or not str(value_node.value).strip():
            raise ConfigError(f"waiver field {key!r} must be a non-empty string", path=path,
                              line=value_node.start_mark.line + 1)
        fields[key] = str(value_node.value).strip()
    missing = [f for f in FIELDS if f not in fields]
    if missing:
        raise ConfigError(f"waiver is missing {', '.join(missing)}", path=path, line=line)
    if fields["rule"] not in known_rules:
        raise ConfigError(f"waiver names unknown rule {fields['rule']!r} (see `carnot explain`)", path=path,
                          line=line)
    if not _DATE.match(fields["until"]) or not _is_date(fields["until"]):
        raise ConfigError(f"waiver 'until' must be a date YYYY-MM-DD, not {json.dumps(fields['until'])}",
                          path=path, line=line)
    return Waiver(rule=fields["rule"], bom_ref=fields["bom_ref"], until=fields["until"],
                  reason=fields["reason"], line=line)


def _is_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True
