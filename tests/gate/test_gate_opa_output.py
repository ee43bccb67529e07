"""Reading `opa eval --format json` output (the opa binary itself runs only where it is installed)."""

from __future__ import annotations

import json

import pytest

from assess.gate.engine import PolicyError
from assess.gate.opa_engine import _result


def test_value_of_the_query_is_returned() -> None:
    stdout = json.dumps({"result": [{"expressions": [{"value": {"findings": []}, "text": "data.carnot.gate.report"}]}]})
    assert _result(stdout, "", 0, "data.carnot.gate.report") == {"findings": []}


def test_parse_error_names_file_and_row() -> None:
    stdout = json.dumps({"errors": [{"message": "unexpected identifier token", "code": "rego_parse_error",
                                     "location": {"file": "policies/rules/legacy_hash.rego", "row": 6, "col": 3}}]})
    with pytest.raises(PolicyError) as caught:
        _result(stdout, "", 1, "data.carnot.gate.report")
    assert caught.value.path == "policies/rules/legacy_hash.rego" and caught.value.line == 6
    assert "unexpected identifier token" in caught.value.message


def test_undefined_query_is_an_error() -> None:
    with pytest.raises(PolicyError, match=r"define no data\.carnot\.gate\.report"):
        _result(json.dumps({}), "", 0, "data.carnot.gate.report")
