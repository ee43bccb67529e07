"""Carnot's shard writer writes exactly the bytes cyclonedx-python-lib's Bom outputter wrote
(tests/cbom_library_path.py keeps that path as the reference), on every shape of asset we meet."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cyclonedx.model.crypto import CryptoAssetType, CryptoProperties

from assess.cbom import MAX_SKIPPED_LISTED, document_assets, read_cbom, shard_to_document
from assess.fsio import pretty_json
from assess.model import Asset, Evidence, Gap, Prop, Shard, Skipped, Source
from assess.sources.runtime.to_bom import read_handshake_files
from assess.sources.static import scan
from tests import cbom_library_path
from tests.golden_outputs import RUNTIME_LINES

ROOT = Path(__file__).resolve().parents[1]
SPECS = ("1.6", "1.7")


def assert_same_bytes(shard: Shard, spec: str, moment: datetime = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) -> None:
    ours = shard_to_document(shard, spec, timestamp=moment)
    assert pretty_json(ours) == pretty_json(cbom_library_path.shard_to_document(shard, spec, timestamp=moment))


def read_back(path: Path) -> Shard:
    """A document's assets as the library models them; refs given where the document has none (the
    library would invent random ones)."""
    assets = [a if a.bom_ref else dataclasses.replace(a, bom_ref=f"given-{i}")
              for i, a in enumerate(document_assets(read_cbom(path)))]
    return Shard(stage="read-back", assets=tuple(assets))


@pytest.mark.parametrize("spec", SPECS)
def test_every_asset_of_the_conformance_set_and_the_real_cboms_is_written_as_the_library_writes_it(
        spec: str, conformance_cboms: list[Path], real_cboms: dict[str, Path]) -> None:
    for path in [*conformance_cboms, *real_cboms.values()]:
        assert_same_bytes(read_back(path), spec)


@pytest.mark.parametrize("spec", SPECS)
def test_runtime_and_scan_shards_are_written_as_the_library_writes_them(spec: str) -> None:
    assert_same_bytes(read_handshake_files([RUNTIME_LINES], asset_id="web1")[0], spec)
    assert_same_bytes(scan([ROOT / "examples" / "estate"]).shard, spec)


def test_edge_shapes_are_written_as_the_library_writes_them() -> None:
    algorithm = CryptoProperties(asset_type=CryptoAssetType.ALGORITHM)
    evidence = (Evidence(Source.STATIC, "a.pem", line=0), Evidence(Source.STATIC, "", sha256="ab"),
                Evidence(Source.AWS, "arn:aws:kms:x", context="é \"quoted\""), Evidence(Source.STATIC, "a.pem", line=0))
    assets = (
        Asset("carnot:b", "same name", algorithm, evidence, ((Prop.SOURCE, "static"), ("x", ""), ("x", ""))),
        Asset("carnot:a", "same name", algorithm),
        Asset("carnot:c", "", algorithm, properties=(("z", "1"), ("a", "2"))),
    )
    shard = Shard(stage="edge", assets=assets, gaps=(Gap("aws", "eu-west-1", "denied"), Gap("aws", "a", "b")),
                  skipped=tuple(Skipped(f"f{i}", "binary") for i in range(MAX_SKIPPED_LISTED + 5)),
                  properties=((Prop.AWS_REGIONS, "eu-west-1"),))
    for spec in SPECS:
        assert_same_bytes(shard, spec)
        assert_same_bytes(Shard(stage="empty", assets=()), spec)
    assert_same_bytes(shard, "1.6", datetime(2026, 1, 2, 3, 4, 5))  # naive: local time, as the library writes it
