"""SSH sessions and QUIC handshakes from public captures, through to-bom, exposure and the Sankey's
data: SSH protocol assets judged by what they negotiated, QUIC flows beside TLS ones."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from assess.cbom import write_shard
from assess.exposure import ExposureConfig, assess_exposure
from assess.model import Prop
from assess.sources.capture import import_pcaps
from assess.sources.runtime.to_bom import handshakes_to_shard, parse_lines, read_handshake_files
from assess.viz.data import pq_share_data, sankey_data

CAPTURES = Path(__file__).parents[1] / "data" / "captures" / "channels"


@pytest.fixture(scope="module")
def lines(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("channels") / "runtime.jsonl"
    import_pcaps([CAPTURES / "ssh_kex_mlkem-first-40.pcap", CAPTURES / "ssh-on-port-80.pcap",
                  CAPTURES / "quicv2-echo-443.pcap"], out)
    return out


def test_ssh_sessions_become_ssh_protocol_assets_holding_what_was_negotiated(lines: Path) -> None:
    shard, report = read_handshake_files([lines])
    assert report["ssh_sessions"] == 2 and report["pq_hybrid_ssh_sessions"] == 1 and report["handshakes"] == 1
    ssh = {a.prop(Prop.SSH_KEX): a for a in shard.assets if a.prop(Prop.SSH_OBSERVED) == "true"}
    mlkem = ssh["mlkem768x25519-sha256"]
    assert mlkem.crypto.protocol_properties.type.value == "ssh"
    assert mlkem.prop(Prop.SSH_PQ_HYBRID) == "true"
    assert mlkem.prop(Prop.SSH_CLIENT_SOFTWARE) == "SSH-2.0-OpenSSH_10.2"
    legacy = ssh["diffie-hellman-group-exchange-sha256"]
    assert legacy.prop(Prop.SSH_PQ_HYBRID) == "false" and legacy.prop(Prop.SSH_MACS) == "hmac-md5"
    assert legacy.prop(Prop.RUNTIME_ENDPOINT) == "172.16.238.131:80"


def test_quic_handshakes_are_a_tls_asset_marked_quic(lines: Path) -> None:
    shard, _ = read_handshake_files([lines])
    [quic] = [a for a in shard.assets if a.prop(Prop.TRANSPORT) == "quic"]
    assert quic.name.startswith("QUIC ") and quic.prop(Prop.TLS_NEGOTIATED_GROUP) == "x25519"


def test_exposure_and_sankey_show_ssh_and_quic_flows_beside_tls(lines: Path, tmp_path: Path) -> None:
    records = list(parse_lines(lines.read_text().splitlines(), str(lines)))
    [quic] = [r for r in records if r["type"] == "handshake"]
    records.append(quic | {"transport": "tcp", "src_port": 1})  # the same handshake over TCP
    shard = handshakes_to_shard(records)
    write_shard(shard, tmp_path / "runtime.cdx.json")  # a valid CBOM
    report = assess_exposure(shard.assets, ExposureConfig(), date(2026, 12, 1))
    flows = {(r.flow or {}).get("protocol"): r for r in report.flows if (r.flow or {}).get("protocol") != "ssh"}
    assert set(flows) == {"tls", "quic"}
    ssh = [r for r in report.flows if (r.flow or {}).get("protocol") == "ssh"]
    assert sorted(r.risk.value for r in ssh) == ["hndl", "quantum_safe"]
    assert any(r.reason == "negotiated post-quantum SSH key exchange mlkem768x25519-sha256" for r in ssh)
    results = [r.to_dict() for r in report.results]
    labels = {n["label"] for n in sankey_data(results, [])["nodes"] if n["column"] == 0}
    assert {"pcap (SSH)", "pcap (QUIC)", "pcap"} <= labels
    share = pq_share_data(results)["handshakes_by_protocol"]
    assert share["ssh"] == {"hybrid_pq": 1, "classical": 1, "unknown": 0}
    assert share["quic"]["classical"] == 1


def test_ssh_sessions_in_any_order_aggregate_as_if_sorted_by_time(lines: Path) -> None:
    import random
    from datetime import UTC, datetime

    from assess.cbom import shard_to_document
    from assess.fsio import pretty_json

    [session] = [r for r in parse_lines(lines.read_text().splitlines(), str(lines))
                 if r["type"] == "ssh" and r["kex"] == "mlkem768x25519-sha256"]
    # One flow seen many times, with banners and ciphers changing and timestamps out of order and tied.
    records = [session | {"ts": f"2026-01-0{1 + i % 5}T00:00:00Z", "client_banner": f"SSH-2.0-client_{i % 7}",
                          "cipher_client_to_server": f"cipher-{i % 3}", "pid": i}
               for i in range(60)]
    random.Random(5).shuffle(records)
    moment = datetime(2026, 1, 2, tzinfo=UTC)
    as_read = pretty_json(shard_to_document(handshakes_to_shard(records), timestamp=moment))
    in_time_order = pretty_json(shard_to_document(handshakes_to_shard(sorted(records, key=lambda r: r["ts"])),
                                                  timestamp=moment))
    assert as_read == in_time_order
    [asset] = handshakes_to_shard(records).assets
    assert asset.prop(Prop.RUNTIME_HANDSHAKES) == "60"
    assert asset.prop(Prop.RUNTIME_FIRST_SEEN) == "2026-01-01T00:00:00Z"
    assert asset.prop(Prop.RUNTIME_LAST_SEEN) == "2026-01-05T00:00:00Z"
