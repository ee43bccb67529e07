"""Evidence from captures stays labelled as such: pcap lines -> `runtime to-bom` (carnot:source pcap)
-> merge with a live runtime shard -> gate -> `carnot attest`, whose summary counts it by source."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from capture_testing import Recording, carnot
from cyclonedx.model.crypto import CryptoAssetType, CryptoProperties

from assess.attest import evidence_sources
from assess.model import Asset, Evidence, Prop, Source, props

pytestmark = [pytest.mark.root]


def _asset(ref: str, *sources: Source) -> Asset:
    return Asset(ref, ref, CryptoProperties(asset_type=CryptoAssetType.PROTOCOL),
                 evidence=tuple(Evidence(s, f"{s}/{i}") for i, s in enumerate(sources)))


def test_evidence_sources_counts_assets_and_occurrences_per_source() -> None:
    assets = [
        _asset("a", Source.PCAP, Source.PCAP),
        _asset("b", Source.RUNTIME, Source.ZEEK),
        _asset("c", Source.STATIC),
        Asset("d", "d", CryptoProperties(asset_type=CryptoAssetType.ALGORITHM), properties=props({Prop.SOURCE: "aws"})),
    ]
    assert evidence_sources(assets) == {
        "assets": {"aws": 1, "pcap": 1, "runtime": 1, "static": 1, "zeek": 1},
        "evidence": {"pcap": 2, "runtime": 1, "static": 1, "zeek": 1},
        "from_captures": {"assets": 2, "evidence": 3},
    }


def test_attestation_records_which_evidence_came_from_a_capture(recording: Recording, tmp_path: Path) -> None:
    lines = tmp_path / "pcap.jsonl"
    assert carnot("runtime", "from-pcap", recording.pcap, "--out", lines).returncode == 0
    live = tmp_path / "live.jsonl"
    # A sensor line, as `runtime capture` writes it, so the merged CBOM holds both kinds.
    live.write_text(json.dumps({
        "type": "handshake", "ts": "2025-11-24T10:00:00.000000Z", "host": "web01", "pid": 42, "tid": 42,
        "comm": "nginx", "exe": "/usr/sbin/nginx", "library": "OpenSSL", "library_version": "3.0.19",
        "role": "server", "sni": "shop.example", "src_ip": "10.0.0.7", "src_port": 50000, "dst_ip": "10.0.0.1",
        "dst_port": 443, "tls_version": "TLSv1.3", "cipher_suite": "TLS_AES_128_GCM_SHA256",
        "groups_offered": ["x25519"], "key_shares_offered": ["x25519"], "negotiated_group": "x25519",
        "pq_hybrid": False, "success": True, "handshake_ms": 3.2, "source": "uprobe+wire"}) + "\n")
    folder = tmp_path / "assessment"
    folder.mkdir()
    for src, bom in ((lines, "pcap.cdx.json"), (live, "live.cdx.json")):
        result = carnot("runtime", "to-bom", src, "--out", tmp_path / bom)
        assert result.returncode == 0, result.stderr
    merged = folder / "merged.cdx.json"
    assert carnot("merge", tmp_path / "pcap.cdx.json", tmp_path / "live.cdx.json", "-o", merged).returncode == 0
    gate = folder / "gate"
    assert carnot("gate", merged, "--out-dir", gate).returncode == 0
    result = carnot("attest", "--bom", merged, "--gate", gate, "--out", folder)
    assert result.returncode == 0, result.stderr
    summary = json.loads((folder / "attestation.json").read_text())["predicate"]["summary"]["evidence_sources"]
    # 6 pcap handshakes -> 5 protocol assets (per endpoint and group; x25519 and ecdhe12 share one) and the
    # groups x25519, secp256r1, X25519MLKEM768; the live line -> 1 protocol asset and x25519, which both saw.
    assert summary["assets"] == {"pcap": 8, "runtime": 2}
    assert summary["from_captures"] == {"assets": 8, "evidence": summary["evidence"]["pcap"]}
    assert summary["evidence"]["runtime"] == 2 and summary["evidence"]["pcap"] >= 8
