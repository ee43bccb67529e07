"""Captures built from TLS bytes made in the test: handshakes that fail (a fatal alert, garbage, a
reset), a warning alert that does not end one, damage after both hellos, a certificate chain
longer than what a direction holds, and a damaged file in a multi-file run."""

from __future__ import annotations

import json
from pathlib import Path

import dpkt
import pytest
from pcapcraft import Conn, Seg, ethernet, tcp_packets, write_pcap

from assess.sources.capture import ImportDamaged, import_pcaps
from tests.runtime.tlsbytes import (
    alert,
    app_data,
    ccs,
    client_hello,
    ecdhe_server_key_exchange,
    handshake,
    records,
    server_hello,
)

RST = dpkt.tcp.TH_RST | dpkt.tcp.TH_ACK
FIN = dpkt.tcp.TH_FIN | dpkt.tcp.TH_ACK
X25519, SECP256R1 = 0x001D, 0x0017


def conn(port: int = 51000) -> Conn:
    return Conn("10.0.0.1", port, "10.0.0.2", 443)


def tls12_hello() -> bytes:
    return records(22, client_hello(versions=(), shares=(), suites=(0xC011, 0x0004)))


def run(tmp_path: Path, name: str, segments: list[Seg]) -> list[dict[str, object]]:
    pcap = write_pcap(tmp_path / name, [ethernet(p) for p in tcp_packets(conn(), segments)])
    out = tmp_path / f"{name}.jsonl"
    import_pcaps([pcap], out)
    return [json.loads(raw) for raw in out.read_text().splitlines()]


def only_line(lines: list[dict[str, object]]) -> dict[str, object]:
    [line] = [r for r in lines if r["type"] == "handshake"]
    return line


def test_clienthello_answered_by_a_fatal_alert_is_a_failed_line_naming_the_alert(tmp_path: Path) -> None:
    hello = tls12_hello()
    line = only_line(run(tmp_path, "clienthello_then_handshake_failure.pcap",
                         [Seg(True, 0, hello), Seg(False, 0, alert(40)), Seg(False, 7, flags=FIN)]))
    assert (line["success"], line["alert"], line["tls_version"], line["cipher_suite"]) == \
        (False, "handshake_failure", None, None)
    assert line["groups_offered"] == ["x25519", "secp256r1"]


def test_clienthello_answered_by_a_reset_is_a_failed_line(tmp_path: Path) -> None:
    lines = run(tmp_path, "clienthello_then_reset.pcap", [Seg(True, 0, tls12_hello()), Seg(False, 0, flags=RST)])
    line = only_line(lines)
    assert (line["success"], line["alert"]) == (False, None)


def test_clienthello_answered_by_garbage_is_a_failed_line_and_counted_as_damage(tmp_path: Path) -> None:
    lines = run(tmp_path, "clienthello_then_garbage.pcap",
                [Seg(True, 0, tls12_hello()), Seg(False, 0, b"\x00\x00\x00\x00\x02\x00\x28")])
    assert only_line(lines)["success"] is False
    assert (lines[-1]["damaged_handshakes"], lines[-1]["not_tls"]) == (1, 0)


def test_a_warning_alert_before_the_server_hello_does_not_end_the_handshake(tmp_path: Path) -> None:
    hello = tls12_hello()
    flight = records(22, server_hello(version=None, share=None, suite=0xC011)
                     + ecdhe_server_key_exchange(SECP256R1))
    warning = records(21, bytes([1, 112]))  # unrecognized_name
    finish = ccs() + records(22, b"\x14" + bytes(40))
    line = only_line(run(tmp_path, "warning_alert_before_server_hello.pcap", [
        Seg(True, 0, hello), Seg(False, 0, warning + flight), Seg(True, len(hello), finish),
        Seg(False, len(warning + flight), finish)]))
    assert (line["success"], line["alert"], line["negotiated_group"]) == (True, None, "secp256r1")
    assert line["cipher_suite"] == "TLS_ECDHE_RSA_WITH_RC4_128_SHA"  # IANA's name, not 0xC011


def test_damage_after_both_hellos_keeps_the_rc4_md5_handshake_and_counts_it(tmp_path: Path) -> None:
    hello = tls12_hello()
    flight = records(22, server_hello(version=None, share=None, suite=0x0004))
    lines = run(tmp_path, "rc4_md5_then_malformed_record.pcap",
                [Seg(True, 0, hello), Seg(False, 0, flight + b"\x99\x99garbage")])
    line = only_line(lines)
    assert (line["tls_version"], line["cipher_suite"]) == ("TLSv1.2", "TLS_RSA_WITH_RC4_128_MD5")
    assert lines[-1]["damaged_handshakes"] == 1


def test_the_negotiated_group_does_not_depend_on_the_size_of_the_certificate_chain(tmp_path: Path) -> None:
    hello = tls12_hello()
    chain = handshake(11, bytes(200_000))  # three times what a direction holds
    flight = records(22, server_hello(version=None, share=None, suite=0xC02F) + chain
                     + ecdhe_server_key_exchange(X25519) + handshake(14, b""))
    segments = [Seg(True, 0, hello)] + [Seg(False, i, flight[i : i + 1400]) for i in range(0, len(flight), 1400)]
    finish = ccs() + records(22, b"\x14" + bytes(40))
    segments += [Seg(True, len(hello), finish), Seg(False, len(flight), finish)]
    line = only_line(run(tmp_path, "certificate_chain_200k.pcap", segments))
    assert (line["negotiated_group"], line["success"]) == ("x25519", True)


def test_a_damaged_files_connection_is_written_for_that_file_not_the_next(tmp_path: Path) -> None:
    hello = records(22, client_hello(sni=b"first.test"))
    first = write_pcap(tmp_path / "first.pcap", [ethernet(p) for p in tcp_packets(conn(), [Seg(True, 0, hello)])])
    first.write_bytes(first.read_bytes() + b"\x01\x02\x03")  # cut inside a packet record
    later = tcp_packets(conn(51001), [Seg(True, 0, records(22, client_hello(sni=b"second.test"))),
                                      Seg(False, 0, records(22, server_hello()) + ccs() + app_data()),
                                      Seg(True, 1000, flags=FIN)])
    second = write_pcap(tmp_path / "second.pcap", [ethernet(p) for p in later])
    out = tmp_path / "runtime.jsonl"
    with pytest.raises(ImportDamaged):
        import_pcaps([first, second], out)
    lines = [json.loads(raw) for raw in out.read_text().splitlines()]
    assert {r["sni"]: Path(r["capture"]).name for r in lines if r["type"] == "handshake"} == \
        {"first.test": "first.pcap", "second.test": "second.pcap"}
