"""Runtime JSON lines into a CBOM shard: aggregation, group assets, bad input."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from assess.cbom import read_cbom
from assess.model import Prop
from assess.sources.runtime.to_bom import handshakes_to_shard, parse_lines


def handshake(**overrides: Any) -> dict[str, Any]:
    record = {
        "type": "handshake", "ts": "2026-11-24T10:00:00.000000Z", "host": "web1", "pid": 100, "tid": 100,
        "comm": "curl", "exe": "/usr/bin/curl", "library": "OpenSSL", "library_version": "3.0.19",
        "role": "client", "sni": "api.example", "src_ip": "10.0.0.2", "src_port": 40000, "dst_ip": "10.0.0.9",
        "dst_port": 443, "tls_version": "TLSv1.3", "cipher_suite": "TLS_AES_128_GCM_SHA256",
        "groups_offered": ["X25519MLKEM768", "x25519"], "key_shares_offered": ["X25519MLKEM768"],
        "negotiated_group": "X25519MLKEM768", "pq_hybrid": True, "success": True, "handshake_ms": 3.2,
        "source": "uprobe+wire",
    }
    record.update(overrides)
    return record


def prop(asset: Any, name: str) -> str | None:
    return asset.prop(name)


def test_handshakes_aggregate_per_process_endpoint_and_group() -> None:
    records = [
        handshake(ts="2026-11-24T10:00:01.000000Z", pid=100),
        handshake(ts="2026-11-24T10:00:05.000000Z", pid=101, success=False),
        handshake(ts="2026-11-24T10:00:03.000000Z", negotiated_group="x25519", pq_hybrid=False),
    ]
    shard = handshakes_to_shard(records, asset_id="web1-capture")
    protocols = [a for a in shard.assets if a.crypto.protocol_properties is not None]
    assert len(protocols) == 2
    pq = next(a for a in protocols if prop(a, Prop.TLS_NEGOTIATED_GROUP) == "X25519MLKEM768")
    assert prop(pq, Prop.RUNTIME_HANDSHAKES) == "2" and prop(pq, Prop.RUNTIME_FAILED) == "1"
    assert prop(pq, Prop.RUNTIME_FIRST_SEEN) == "2026-11-24T10:00:01.000000Z"
    assert prop(pq, Prop.RUNTIME_LAST_SEEN) == "2026-11-24T10:00:05.000000Z"
    assert prop(pq, Prop.TLS_GROUP_CODEPOINT) == "0x11EC" and prop(pq, Prop.TLS_PQ_HYBRID) == "true"
    assert prop(pq, Prop.RUNTIME_ENDPOINT) == "10.0.0.9:443" and prop(pq, Prop.RUNTIME_ASSET_ID) == "web1-capture"
    assert pq.crypto.protocol_properties.version == "1.3"
    groups = {a.name: a for a in shard.assets if a.crypto.algorithm_properties is not None}
    assert set(groups) == {"X25519MLKEM768", "x25519"}
    assert prop(groups["X25519MLKEM768"], Prop.ALGORITHM) == "ML-KEM"
    assert prop(groups["X25519MLKEM768"], Prop.KEY_BITS) == "768"
    assert prop(groups["X25519MLKEM768"], Prop.CURVE) == "x25519"
    assert [str(r) for r in pq.crypto.protocol_properties.crypto_refs] == [groups["X25519MLKEM768"].bom_ref]


def test_unobserved_group_leaves_pq_flag_out() -> None:
    shard = handshakes_to_shard([handshake(negotiated_group=None, pq_hybrid=None, source="uprobe")])
    [asset] = shard.assets
    assert prop(asset, Prop.TLS_PQ_HYBRID) is None and prop(asset, Prop.TLS_NEGOTIATED_GROUP) is None


def test_ready_and_metrics_lines_are_skipped() -> None:
    lines = [json.dumps({"type": "ready"}), json.dumps(handshake()), json.dumps({"type": "metrics"}), ""]
    assert len(list(parse_lines(lines, "x.jsonl"))) == 1


def test_to_bom_writes_a_valid_cbom(tmp_path: Path, carnot: Any) -> None:
    src = tmp_path / "runtime.jsonl"
    src.write_text("\n".join(json.dumps(h) for h in (handshake(), handshake(sni='q"<b>é'))) + "\n")
    out = tmp_path / "runtime.cdx.json"
    done = carnot("runtime", "to-bom", str(src), "--out", str(out), "--asset-id", "host-a")
    assert done.returncode == 0, done.stderr
    doc = read_cbom(out)
    assert len(list(doc.components())) == 2


def test_a_malformed_line_names_file_and_line_and_writes_nothing(tmp_path: Path, carnot: Any) -> None:
    good = tmp_path / "good.jsonl"
    good.write_text(json.dumps(handshake()) + "\n")
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(handshake()) + "\n" + json.dumps(handshake(pid="12")) + "\n")
    out = tmp_path / "out.cdx.json"
    done = carnot("runtime", "to-bom", str(good), str(bad), "--out", str(out))
    assert done.returncode == 2
    assert f"{bad}:2:" in done.stderr and "'pid'" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert not out.exists()
    truncated = tmp_path / "cut.jsonl"
    truncated.write_text(json.dumps(handshake())[:40])
    done = carnot("runtime", "to-bom", str(truncated), "--out", str(out))
    assert done.returncode == 2 and f"{truncated}:1:" in done.stderr and not out.exists()


@pytest.mark.parametrize("line", ['{"type": "handshake", "pid": ' + "9" * 4400 + "}", "[" * 100_000])
def test_a_line_built_to_break_the_json_parser_is_one_clean_error_naming_the_line(line, carnot, tmp_path):
    path = tmp_path / "runtime.jsonl"
    path.write_text('{"type": "ready"}\n' + line + "\n")
    done = carnot("runtime", "to-bom", str(path), "--out", str(tmp_path / "r.cdx.json"))
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert f"{path}:2: not a JSON line" in done.stderr


def varied_records() -> list[dict[str, Any]]:
    from tests.golden_outputs import RUNTIME_LINES

    return list(parse_lines(RUNTIME_LINES.read_text().split("\n"), "varied"))


def test_lines_streamed_in_any_order_aggregate_as_if_sorted_by_time_first() -> None:
    from assess.cbom import shard_to_document
    from assess.fsio import pretty_json

    records = varied_records()
    as_read = handshakes_to_shard(records, asset_id="a")
    in_time_order = handshakes_to_shard(sorted(records, key=lambda r: str(r["ts"])), asset_id="a")
    moment = datetime(2026, 1, 2, tzinfo=UTC)  # not the clock: two calls may straddle a second
    assert pretty_json(shard_to_document(as_read, timestamp=moment)) == pretty_json(
        shard_to_document(in_time_order, timestamp=moment))


def test_a_gzipped_file_is_read_directly_and_gives_the_same_cbom(tmp_path: Path, carnot: Any) -> None:
    import gzip

    from tests.golden_outputs import RUNTIME_LINES

    packed = tmp_path / "runtime.jsonl.gz"
    packed.write_bytes(gzip.compress(RUNTIME_LINES.read_bytes()))
    env = {"SOURCE_DATE_EPOCH": "1767225600"}
    for name, source in (("plain", RUNTIME_LINES), ("packed", packed)):
        done = carnot("runtime", "to-bom", str(source), "--out", str(tmp_path / f"{name}.cdx.json"), env=env)
        assert done.returncode == 0, done.stderr
    assert (tmp_path / "plain.cdx.json").read_bytes() == (tmp_path / "packed.cdx.json").read_bytes()
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(packed.read_bytes()[:5000])
    done = carnot("runtime", "to-bom", str(cut), "--out", str(tmp_path / "cut.cdx.json"))
    assert done.returncode == 2 and f"{cut}:" in done.stderr and done.stderr.count("\n") == 1, done.stderr
    assert not (tmp_path / "cut.cdx.json").exists()


def test_a_line_separator_inside_a_string_does_not_end_the_line(tmp_path: Path) -> None:
    from assess.sources.runtime.to_bom import read_handshake_files

    path = tmp_path / "runtime.jsonl"
    path.write_text(json.dumps(handshake(sni="a\u2028b\u0085c"), ensure_ascii=False) + "\n", encoding="utf-8")
    shard, report = read_handshake_files([path])
    assert report["handshakes"] == 1
    [protocol] = [a for a in shard.assets if a.crypto.protocol_properties is not None]
    assert prop(protocol, Prop.RUNTIME_SNI) == "a\u2028b\u0085c"
