"""`carnot runtime from-pcap` on captures recorded by tcpdump during real handshakes on loopback:
OpenSSL with x25519 and P-256 (TLS 1.3), TLS 1.2 with ECDHE and with RSA key exchange, tlslite-ng
with X25519MLKEM768, IPv6 on ::1, plain HTTP beside them; then the same capture as pcapng, VLAN-tagged."""

from __future__ import annotations

from pathlib import Path

import dpkt
import pytest
from capture_testing import Line, Recording, carnot, handshakes, read_lines
from pcapcraft import ethernet, read_pcap, write_pcap, write_pcapng

pytestmark = [pytest.mark.root]
# PRODUCT.md, *Runtime JSON lines*.
CONTRACT_KEYS = {"type", "ts", "host", "pid", "tid", "comm", "exe", "library", "library_version", "role", "sni",
                 "src_ip", "src_port", "dst_ip", "dst_port", "tls_version", "cipher_suite", "groups_offered",
                 "key_shares_offered", "negotiated_group", "pq_hybrid", "success", "handshake_ms", "source"}
PROCESS_FIELDS = ("host", "pid", "tid", "comm", "exe", "library", "library_version", "role")


@pytest.fixture(scope="module")
def lines(recording: Recording, tmp_path_factory: pytest.TempPathFactory) -> list[Line]:
    out = tmp_path_factory.mktemp("from-pcap") / "runtime.jsonl"
    result = carnot("runtime", "from-pcap", recording.pcap, "--out", out)
    assert result.returncode == 0, result.stderr
    return read_lines(out)


def by_sni(lines: list[Line], sni: str) -> Line:
    [line] = [r for r in lines if r["type"] == "handshake" and r["sni"] == sni]
    return line


def test_every_line_has_the_contract_keys_and_no_process_fields(lines: list[Line]) -> None:
    found = [r for r in lines if r["type"] == "handshake"]
    assert len(found) == 6
    for line in found:
        assert CONTRACT_KEYS <= set(line), CONTRACT_KEYS - set(line)
        assert line["source"] == "pcap"
        assert all(line[k] is None for k in PROCESS_FIELDS), line
        assert line["capture"].endswith("loopback.pcap")


def test_openssl_x25519_tls13(lines: list[Line], recording: Recording) -> None:
    line = by_sni(lines, "x25519.test")
    assert (line["tls_version"], line["negotiated_group"], line["pq_hybrid"]) == ("TLSv1.3", "x25519", False)
    assert line["cipher_suite"] == "TLS_AES_256_GCM_SHA384"
    assert line["groups_offered"] == ["x25519"] and line["key_shares_offered"] == ["x25519"]
    assert (line["dst_ip"], line["dst_port"], line["src_ip"]) == ("127.0.0.1", recording.ports["x25519"], "127.0.0.1")
    assert line["success"] is True and line["handshake_ms"] > 0


def test_openssl_p256_tls13(lines: list[Line]) -> None:
    line = by_sni(lines, "p256.test")
    assert (line["tls_version"], line["negotiated_group"], line["key_shares_offered"]) == \
        ("TLSv1.3", "secp256r1", ["secp256r1"])
    assert line["success"] is True


def test_tls12_ecdhe_group_comes_from_the_server_key_exchange(lines: list[Line]) -> None:
    line = by_sni(lines, "ecdhe12.test")
    assert line["tls_version"] == "TLSv1.2"
    assert line["cipher_suite"] == "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"
    assert line["negotiated_group"] == "x25519" and line["pq_hybrid"] is False
    assert line["key_shares_offered"] == [] and "secp256r1" in line["groups_offered"]
    assert line["success"] is True


def test_tls12_rsa_key_exchange_has_no_group(lines: list[Line]) -> None:
    line = by_sni(lines, "rsa12.test")
    assert (line["tls_version"], line["cipher_suite"]) == ("TLSv1.2", "TLS_RSA_WITH_AES_128_GCM_SHA256")
    assert line["negotiated_group"] is None and line["pq_hybrid"] is None  # not observed, not guessed
    assert line["success"] is True


def test_tlslite_x25519mlkem768(lines: list[Line], recording: Recording) -> None:
    line = by_sni(lines, "pq.test")
    assert (line["tls_version"], line["negotiated_group"], line["pq_hybrid"]) == ("TLSv1.3", "X25519MLKEM768", True)
    assert line["key_shares_offered"] == ["X25519MLKEM768"] and line["groups_offered"][:2] == ["X25519MLKEM768",
                                                                                                "x25519"]
    assert line["dst_port"] == recording.ports["pq"] and line["success"] is True


def test_ipv6_loopback(lines: list[Line], recording: Recording) -> None:
    line = by_sni(lines, "ipv6.test")
    assert (line["src_ip"], line["dst_ip"], line["dst_port"]) == ("::1", "::1", recording.ports["ipv6"])
    assert line["src_port"] == recording.client_ports["ipv6"]
    assert line["tls_version"] == "TLSv1.3" and line["negotiated_group"] == "x25519"


def test_plain_http_is_counted_not_reported(lines: list[Line], recording: Recording) -> None:
    assert not [r for r in lines if r["type"] == "handshake" and r["dst_port"] == recording.ports["plain"]]
    metrics = lines[-1]
    assert metrics["type"] == "metrics" and metrics["not_tls"] >= 1
    assert metrics["handshakes_emitted"] == 6 == len([r for r in lines if r["type"] == "handshake"])
    assert metrics["kernel_drops"] is None  # a file does not say what its recorder dropped


def test_pcapng_gives_the_same_lines(recording: Recording, lines: list[Line], tmp_path: Path) -> None:
    ng = write_pcapng(tmp_path / "loopback.pcapng", read_pcap(recording.pcap))
    out = tmp_path / "ng.jsonl"
    result = carnot("runtime", "from-pcap", ng, "--out", out)
    assert result.returncode == 0, result.stderr
    assert _comparable(handshakes(out)) == _comparable([r for r in lines if r["type"] == "handshake"])


def test_vlan_and_qinq_tagged_frames_give_the_same_lines(recording: Recording, lines: list[Line],
                                                         tmp_path: Path) -> None:
    packets = read_pcap(recording.pcap)
    retagged = []
    for i, (_, frame) in enumerate(packets):
        ip = bytes(dpkt.ethernet.Ethernet(frame).data)
        retagged.append(ethernet(ip, vlans=(100,) if i % 2 else (200, 300)))  # 802.1Q and QinQ mixed
    out = tmp_path / "vlan.jsonl"
    result = carnot("runtime", "from-pcap", write_pcap(tmp_path / "vlan.pcap", retagged), "--out", out, "--json")
    assert result.returncode == 0, result.stderr
    assert f'"vlan_tagged_segments": {len(packets)}' in result.stdout
    assert {r["sni"]: _fields(r) for r in handshakes(out)} == \
        {r["sni"]: _fields(r) for r in lines if r["type"] == "handshake"}


def _fields(line: Line) -> tuple[object, ...]:
    return tuple(line[k] for k in ("src_ip", "src_port", "dst_ip", "dst_port", "tls_version", "cipher_suite",
                                   "groups_offered", "key_shares_offered", "negotiated_group", "pq_hybrid"))


def _comparable(lines: list[Line]) -> list[Line]:
    return [{k: v for k, v in r.items() if k != "capture"} for r in lines]
