"""The reader types each asset's cryptoProperties exactly as it did when it read whole components
through cyclonedx-python-lib (tests/cbom_library_path.py keeps that path as the reference)."""

from __future__ import annotations

import json
from pathlib import Path

from assess.cbom import document_assets, read_cbom, validate_document
from assess.fsio import read_json
from tests import cbom_library_path


def test_crypto_properties_read_alone_equal_those_of_the_whole_component_read_by_the_library(
        conformance_cboms: list[Path], real_cboms: dict[str, Path]) -> None:
    for path in [*conformance_cboms, *real_cboms.values()]:
        doc = read_cbom(path)
        assert [a.crypto for a in document_assets(doc)] == cbom_library_path.document_crypto(doc), path.name


def test_a_cbom_file_read_as_it_is_parsed_is_the_document_read_whole(
        conformance_cboms: list[Path], real_cboms: dict[str, Path], tmp_path: Path) -> None:
    for path in [*conformance_cboms, *real_cboms.values()]:
        whole = validate_document(read_json(path), str(path))
        assert json.dumps(read_cbom(path).data) == json.dumps(whole.data), path.name  # same keys, same order
    repeated = tmp_path / "repeated-key.json"  # json.loads keeps the last value, at the first key's place
    repeated.write_text('{"bomFormat": "CycloneDX", "specVersion": "1.5", "specVersion": "1.6", "version": 1}')
    assert list(read_cbom(repeated).data.items())[:3] == [("bomFormat", "CycloneDX"), ("specVersion", "1.6"),
                                                          ("version", 1)]
