"""Validation against CycloneDX's schema: the fast variant of the compiled validator decides as the
plain one does, and an invalid document is still refused with the path of its error."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from assess.cbom import _distinct, schema_errors
from assess.fsio import read_json
from tests.hostile_cboms import good_document


def freeze(var: Any) -> Any:
    """fastjsonschema's own hashable copy for `uniqueItems` (the `fn` of its generated code)."""
    if hasattr(var, "items"):
        return frozenset(dict((k, freeze(v)) for k, v in var.items()).items())
    if isinstance(var, (dict, list)):
        return tuple(freeze(v) for v in var)
    return (bool, var) if isinstance(var, bool) else var


@pytest.mark.parametrize("items", [
    [], ["a", "b"], ["a", "a"], [1, True], [1, 1.0], [{"bom-ref": "a"}, {"bom-ref": "b"}],
    [{"bom-ref": "a", "x": 1}, {"bom-ref": "a", "x": 2}], [{"bom-ref": "a"}, {"bom-ref": "a"}],
    [{"ref": "a"}, {"ref": "b", "dependsOn": ["a"]}], [{"name": "x"}, {"name": "x"}], [{"bom-ref": "a"}, "a"],
    [{"bom-ref": 1}, {"bom-ref": 1}], [["a"], ["a"]],
])
def test_distinct_items_are_counted_as_fastjsonschema_counts_them(items: list[Any]) -> None:
    assert _distinct(items, freeze) == len({freeze(item) for item in items})


def test_the_conformance_set_the_real_cboms_and_carnot_documents_are_valid(
        conformance_cboms: list[Path], real_cboms: dict[str, Path]) -> None:
    for path in [*conformance_cboms, *real_cboms.values()]:
        assert schema_errors(read_json(path)) is None, path
    assert schema_errors(good_document()) is None


def test_an_invalid_document_is_refused_with_the_path_of_its_error() -> None:
    doc = good_document()
    doc["components"][1]["cryptoProperties"]["assetType"] = "teapot"
    assert schema_errors(doc) is not None
    assert schema_errors(doc).startswith("at /components/1/cryptoProperties/assetType: must be one of")  # type: ignore[union-attr]


def test_repeated_items_are_refused_where_the_schema_wants_them_unique() -> None:
    doc = good_document()
    doc["components"].append(copy.deepcopy(doc["components"][0]))
    assert "must contain unique items" in (schema_errors(doc) or "")
    same_ref_other_content = good_document()
    twin = copy.deepcopy(same_ref_other_content["components"][0])
    twin["name"] = "another name"
    same_ref_other_content["components"].append(twin)
    assert schema_errors(same_ref_other_content) is None  # distinct items; the bom-refs are the readers' concern
    doc = good_document()
    doc["dependencies"] = [{"ref": "a", "dependsOn": ["b", "b"]}]
    assert "must contain unique items" in (schema_errors(doc) or "")
