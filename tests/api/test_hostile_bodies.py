"""Bodies built to break the parser or the model get a 4xx JSON error, never a 500, over real HTTP."""

from __future__ import annotations

import json

import httpx
import pytest
from hostile_cboms import MALFORMED, good_document, malformed, nested_components
from test_attest_api import _assert_json_error, _still_serving


def _post(server, body: bytes) -> httpx.Response:
    return httpx.post(f"{server.url}/attest", content=body, headers={"content-type": "application/json"}, timeout=60)


@pytest.mark.parametrize("body", [
    b"[" * 100_000 + b"]" * 100_000,
    b'{"bomFormat": "CycloneDX", "version": ' + b"9" * 4400 + b"}",
    b'{"bomFormat": "CycloneDX", "version": -' + b"9" * 101 + b"}",
    b'{"bomFormat": "CycloneDX", "version": 1e400}',
    b'{"bomFormat": "CycloneDX", "version": NaN}',
], ids=["nested_100k_deep", "integer_4400_digits", "integer_101_digits", "number_overflows_double", "nan"])
def test_json_too_deep_or_with_an_out_of_bounds_number_is_400(server, body):
    response = _post(server, body)
    _assert_json_error(response, 400, "malformed_json")
    assert response.json()["message"].startswith("request body: ")


def test_a_cbom_nested_past_the_depth_limit_is_400_even_where_python_could_parse_it(server):
    # 450 nested components are 900 levels: json parses them, schema validation would recurse too deep
    response = _post(server, json.dumps(nested_components(450)).encode())
    _assert_json_error(response, 400, "malformed_json")
    assert "deeper than 128" in response.json()["message"]
    _still_serving(server)


def test_a_cbom_nested_up_to_the_depth_limit_is_attested(server):
    doc = nested_components(60)  # 124 levels deep: just under the limit of 128
    response = _post(server, json.dumps(doc).encode())
    assert response.status_code == 200, response.text
    components = response.json()["attestation"]["predicate"]["summary"]["components"]
    assert components == len(good_document()["components"]) + 61


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_a_schema_valid_cbom_with_a_value_of_the_wrong_type_is_422(server, case):
    response = _post(server, malformed(case))
    _assert_json_error(response, 422, "not_a_cbom")
    assert response.json()["message"].startswith("request body: ")


def test_the_good_document_of_the_malformed_corpus_is_attested(server):
    response = _post(server, json.dumps(good_document()).encode())
    assert response.status_code == 200, response.text
    summary = response.json()["attestation"]["predicate"]["summary"]
    assert summary["skipped_files"] == 1 and summary["gaps"] == 2  # the CBOM's gap, and no gate results
