"""The reader types each asset's cryptoProperties exactly as it did when it read whole components
through cyclonedx-python-lib (tests/cbom_library_path.py keeps that path as the reference)."""

from __future__ import annotations

from pathlib import Path

from assess.cbom import document_assets, read_cbom
from tests import cbom_library_path


def test_crypto_properties_read_alone_equal_those_of_the_whole_component_read_by_the_library(
        conformance_cboms: list[Path], real_cboms: dict[str, Path]) -> None:
    for path in [*conformance_cboms, *real_cboms.values()]:
        doc = read_cbom(path)
        assert [a.crypto for a in document_assets(doc)] == cbom_library_path.document_crypto(doc), path.name
