"""The estate behind the site's browsers: SSH and QUIC flows stand beside TLS ones, each named by
its protocol and judged by what it negotiated (an SSH key exchange, a TLS group)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from assess.cbom import shard_to_document
from assess.exposure import ExposureConfig, assess_exposure
from assess.sitedata import flow_table
from assess.sources.capture import import_pcaps
from assess.sources.runtime.to_bom import read_handshake_files
from assess.viz.estate import Flow, build_estate

CHANNELS = Path(__file__).parents[1] / "data" / "captures" / "channels"


@pytest.fixture(scope="module")
def estate_inputs(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[dict], list[dict]]:
    lines = tmp_path_factory.mktemp("estate") / "runtime.jsonl"
    import_pcaps([CHANNELS / "ssh_kex_mlkem-first-40.pcap", CHANNELS / "ssh-on-port-80.pcap",
                  CHANNELS / "quicv2-echo-443.pcap"], lines)
    shard, _ = read_handshake_files([lines])
    components = shard_to_document(shard, timestamp=datetime(2026, 1, 2, tzinfo=UTC))["components"]
    results = [r.to_dict() for r in assess_exposure(shard.assets, ExposureConfig(), date(2026, 12, 1)).results]
    return components, results


def flows(components: list[dict] | None, results: list[dict]) -> list[Flow]:
    estate = build_estate(components, results, [])
    return sorted((f for _, a in estate.flows if (f := a.flow) is not None), key=lambda f: (f.protocol, f.group))


def test_ssh_and_quic_flows_are_named_by_protocol_with_what_they_negotiated(estate_inputs) -> None:
    shown = [(f.protocol, f.group, f.pq) for f in flows(*estate_inputs)]
    assert shown == [("QUIC", "x25519", False), ("SSH", "diffie-hellman-group-exchange-sha256", False),
                     ("SSH", "mlkem768x25519-sha256", True)]


def test_flows_known_only_from_their_results_keep_protocol_and_key_exchange(estate_inputs) -> None:
    _, results = estate_inputs
    shown = [(f.protocol, f.group, f.pq) for f in flows(None, results)]
    assert ("SSH", "mlkem768x25519-sha256", True) in shown and ("QUIC", "x25519", False) in shown


def test_the_flows_browser_has_a_protocol_column_to_filter_on(estate_inputs) -> None:
    table = flow_table(build_estate(*estate_inputs, []))
    column = table.fields.index("protocol")
    assert sorted(row[column] for row in table.rows) == ["QUIC", "SSH", "SSH"]
