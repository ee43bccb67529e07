"""The browsers' data files: each one call of carnotExplorer.add whose JSON arguments give back every row."""

from __future__ import annotations

import json
from typing import Any

from site_fixtures import HOSTILE

from assess.sitedata import Table


def _decode(data: bytes) -> tuple[str, list[str], list[list[Any]]]:
    """What explore.js's add() does: put each shared value back in its rows."""
    text = data.decode()
    prefix, suffix = "window.carnotExplorer.add(", ");\n"
    assert text.startswith(prefix) and text.endswith(suffix)
    name, fields, rows, shared = json.loads(f"[{text[len(prefix):-len(suffix)]}]")
    for field, values in shared.items():
        column = fields.index(field)
        for row in rows:
            row[column] = values[row[column]]
    return name, fields, rows


def test_shared_values_are_written_once_per_file_and_give_back_every_row() -> None:
    rows = [[i, HOSTILE[i % len(HOSTILE)], [HOSTILE[i % 3], "static"], [1, True, 1.0, None][i % 4]]
            for i in range(25)]
    table = Table("assets", ("n", "name", "sources", "flag"), rows, ("name", "sources", "flag"))
    files = table.files(chunk=10)
    assert [name for name, _ in files] == ["assets-0.js", "assets-1.js", "assets-2.js"]
    decoded = [row for _, data in files for row in _decode(data)[2]]
    assert decoded == rows  # True, 1 and 1.0 stay apart; lists come back whole
    assert all(type(a[3]) is type(b[3]) for a, b in zip(decoded, rows, strict=True))


def test_a_data_file_cannot_end_its_script_or_hold_a_line_separator() -> None:
    table = Table("flows", ("sni",), [[text] for text in HOSTILE], ("sni",))
    (_, data), = table.files()
    text = data.decode()
    for bad in ("<", ">", "&", "\u2028", "\u2029"):
        assert bad not in text
    assert [row[0] for row in _decode(data)[2]] == list(HOSTILE)


def test_each_assessment_is_compared_with_the_one_before_it(built_site) -> None:
    """plain (10% hybrid PQ) → hostile → plain (70%): changes.json of each later one, the first has none."""
    pages = built_site.out / "assessments"
    first, hostile, latest = built_site.entries
    assert not (pages / first.id / "changes.json").exists()
    to_hostile = json.loads((pages / hostile.id / "changes.json").read_text())
    to_latest = json.loads((pages / latest.id / "changes.json").read_text())
    assert (to_hostile["old"]["id"], to_hostile["new"]["id"]) == (first.id, hostile.id)
    assert (to_latest["old"]["id"], to_latest["new"]["id"]) == (hostile.id, latest.id)
    assert to_hostile["old"]["pq_share"] == 0.1 and to_latest["new"]["pq_share"] == 0.7
    assert to_latest["old"] == to_hostile["new"]
    # the hostile assessment's certificates and cloud keys came and went; the plain flows stayed
    assert to_hostile["counts"]["assets_added"] > 0 and to_latest["counts"]["assets_removed"] > 0
    kept = {"carnot:tls:hybrid"}
    assert not kept & {a["bom_ref"] for a in to_hostile["assets_removed"] + to_latest["assets_added"]}
