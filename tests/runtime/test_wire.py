"""The wire parser on handshakes built byte by byte: hellos, records, HRR, TLS 1.2, hostile input."""

from __future__ import annotations

import os
import random
import struct
import sys
from collections.abc import Callable
from functools import partial
from types import FrameType
from typing import Any, TypeVar

import pytest
from tlsbytes import (
    alert,
    app_data,
    ccs,
    client_hello,
    ecdhe_server_key_exchange,
    records,
    server_hello,
)

from assess.sources.runtime.reassembly import Stream
from assess.sources.runtime.wire import (
    TLS1_2,
    HandshakeReader,
    WireHandshake,
    WireParseError,
    parse_client_hello,
    parse_client_hello_by_shape,
    parse_server_hello,
    sslv2_client_hello_as_tls,
    summarise_client_side,
    summarise_handshake,
)
from assess.tlsnames import TLS1_3

X25519MLKEM768, X25519, SECP256R1 = 0x11EC, 0x001D, 0x0017
T = TypeVar("T")


def stream(*chunks: bytes, start: float = 100.0, step: float = 0.001) -> Stream:
    """A reassembled direction whose chunks arrived one `step` apart."""
    s = Stream()
    seq = 1000
    for i, chunk in enumerate(chunks):
        s.add(seq, chunk, start + i * step)
        seq += len(chunk)
    return s


def test_clienthello_fields_are_parsed_and_grease_dropped() -> None:
    hello = client_hello(
        suites=(0x0A0A, 0x1301, 0xC02F), groups=(0x2A2A, X25519MLKEM768, X25519),
        shares=((0x2A2A, 1), (X25519MLKEM768, 1216), (X25519, 32)), sni=b"pq.example",
    )
    ch = parse_client_hello(hello[4:])
    assert ch.cipher_suites == (0x1301, 0xC02F)
    assert ch.groups == (X25519MLKEM768, X25519)
    assert ch.key_shares == (X25519MLKEM768, X25519)
    assert ch.sni == "pq.example"
    assert ch.supported_versions == (TLS1_3, TLS1_2)


def test_clienthello_split_across_records_and_segments_is_reassembled() -> None:
    hello = client_hello(groups=(X25519MLKEM768, X25519), shares=((X25519MLKEM768, 1216), (X25519, 32)))
    assert len(hello) > 1300
    wire = records(22, hello, max_fragment=300)  # five TLS records
    segments = [wire[i : i + 7] for i in range(0, len(wire), 7)]  # many tiny TCP segments
    client = stream(*segments, app_data())
    server = stream(records(22, server_hello(share=X25519MLKEM768)) + ccs() + app_data(900), start=100.5)
    hs = summarise_handshake(client, server)
    assert hs.parse_error is None
    assert hs.client_hello is not None and hs.client_hello.key_shares == (X25519MLKEM768, X25519)
    assert hs.negotiated_group == X25519MLKEM768
    assert hs.tls_version == TLS1_3
    assert hs.complete and hs.success is True


def calls_made(work: Callable[[], T]) -> tuple[T, int]:
    """What `work` returns, and the function calls (Python and built-in) made while it ran: a
    measure of work that does not depend on the machine."""
    calls = 0

    def count(frame: FrameType, event: str, arg: Any) -> None:
        nonlocal calls
        calls += event in ("call", "c_call")

    sys.setprofile(count)
    try:
        result = work()
    finally:
        sys.setprofile(None)
    return result, calls


def one_byte_records_read_as_they_come(hello: bytes) -> WireHandshake:
    """A TLS 1.3 handshake whose ClientHello comes one byte per record, one record per segment,
    summarised after every segment as the capture importer and the sensor do."""
    client, server = Stream(), Stream()
    reader = HandshakeReader()
    seq = 1000
    for i in range(len(hello)):
        record = records(22, hello[i : i + 1])
        client.add(seq, record, 100.0 + i * 1e-6)
        seq += len(record)
        assert reader.summarise(client, server).client_hello is None or i == len(hello) - 1
    server.add(5000, records(22, server_hello(share=X25519MLKEM768)) + ccs() + app_data(900), 101.0)
    reader.summarise(client, server)
    client.add(seq, ccs() + app_data(53), 101.5)
    return reader.summarise(client, server)


def test_a_clienthello_in_one_byte_records_is_read_with_work_linear_in_its_bytes() -> None:
    """Each segment's bytes are read once: four times the bytes is about four times the work, not
    sixteen (a capture of a 10 KB hello sent this way took 83 s when every segment re-read them all)."""
    per_byte = []
    for key_bytes in (300, 1500):
        hello = client_hello(groups=(X25519MLKEM768, X25519), shares=((X25519MLKEM768, key_bytes),), sni=b"tiny.test")
        hs, calls = calls_made(partial(one_byte_records_read_as_they_come, hello))
        per_byte.append(calls / len(hello))
        assert hs.client_hello is not None and hs.client_hello.sni == "tiny.test"
        assert hs.key_shares_offered == (X25519MLKEM768,) and hs.negotiated_group == X25519MLKEM768
        assert hs.started_at == pytest.approx(100.0 + (len(hello) - 1) * 1e-6) and hs.completed_at == 101.5
        assert hs.success is True
    assert per_byte[1] < 1.5 * per_byte[0], per_byte


def test_reading_segment_by_segment_equals_reading_the_bytes_once() -> None:
    rng = random.Random(11)
    for _ in range(40):
        hello = client_hello(groups=(X25519MLKEM768, X25519), shares=((X25519MLKEM768, 1216), (X25519, 32)))
        tls12 = rng.random() < 0.5
        if tls12:
            flight = server_hello(suite=0xC02F, version=None, share=None) + ecdhe_server_key_exchange(SECP256R1)
            server_bytes = records(22, flight, max_fragment=rng.choice([1, 5, 300])) + ccs() + records(22, b"f" * 40)
            client_bytes = records(22, hello, max_fragment=rng.choice([1, 7, 300])) + ccs() + records(22, b"f" * 40)
        else:
            server_bytes = records(22, server_hello(share=X25519MLKEM768), max_fragment=rng.choice([1, 64])) + \
                ccs() + app_data(900)
            client_bytes = records(22, hello, max_fragment=rng.choice([1, 7, 300])) + ccs() + app_data()
        cuts = {"c": client_bytes, "s": server_bytes}
        pieces = []
        for side, data in cuts.items():
            at = 0
            while at < len(data):
                size = rng.choice([1, 2, 5, 40, 1448])
                pieces.append((side, at, data[at : at + size]))
                at += size
        rng.shuffle(pieces)  # out of order within each direction too
        client, server, reader = Stream(), Stream(), HandshakeReader()
        for i, (side, at, piece) in enumerate(pieces):
            (client if side == "c" else server).add(1000 + at, piece, 50.0 + i * 0.001)
            assert reader.summarise(client, server) == summarise_handshake(client, server)
        assert reader.summarise(client, server).success is True


def test_tls13_handshake_completes_at_the_clients_encrypted_finished() -> None:
    client = stream(records(22, client_hello()), ccs(), app_data(), start=10.0, step=0.010)
    server = stream(records(22, server_hello(suite=0x1302)) + ccs() + app_data(), start=10.005)
    hs = summarise_handshake(client, server)
    assert hs.server_hello is not None and hs.server_hello.cipher_suite == 0x1302
    assert hs.negotiated_group == X25519
    assert hs.started_at == 10.0
    assert hs.completed_at == pytest.approx(10.020)
    assert hs.handshake_ms == pytest.approx(20.0)


def test_tls13_handshake_waiting_for_finished_is_not_complete() -> None:
    hs = summarise_handshake(stream(records(22, client_hello())), stream(records(22, server_hello())))
    assert not hs.complete and hs.success is None
    assert hs.negotiated_group == X25519


def test_tls12_servehello_has_no_key_share_and_the_group_comes_from_server_key_exchange() -> None:
    hello = client_hello(versions=(), shares=(), groups=(SECP256R1, X25519))
    flight = server_hello(suite=0xC02F, version=None, share=None) + ecdhe_server_key_exchange(SECP256R1)
    client = stream(records(22, hello), records(22, os.urandom(70)), ccs(), records(22, os.urandom(40)))
    server = stream(records(22, flight), ccs(), records(22, os.urandom(40)), start=100.0005)
    hs = summarise_handshake(client, server)
    assert hs.tls_version == TLS1_2
    assert hs.server_hello is not None and hs.server_hello.cipher_suite == 0xC02F
    assert hs.server_hello.key_share_group is None
    assert hs.negotiated_group == SECP256R1
    assert hs.success is True


def test_tls12_rsa_key_exchange_has_no_negotiated_group() -> None:
    client = stream(records(22, client_hello(versions=(), shares=())), ccs())
    server = stream(records(22, server_hello(suite=0x009C, version=None, share=None)), ccs())
    hs = summarise_handshake(client, server)
    assert hs.tls_version == TLS1_2 and hs.negotiated_group is None and hs.success is True


def test_hello_retry_request_then_hybrid_group() -> None:
    first = client_hello(groups=(X25519MLKEM768, X25519), shares=((X25519, 32),))
    second = client_hello(groups=(X25519MLKEM768, X25519), shares=((X25519MLKEM768, 1216),))
    client = stream(records(22, first), ccs(), records(22, second), app_data())
    hrr = server_hello(share=X25519MLKEM768, retry=True)
    server = stream(records(22, hrr), ccs(), records(22, server_hello(share=X25519MLKEM768)), app_data())
    hs = summarise_handshake(client, server)
    assert hs.hello_retry is True
    assert hs.key_shares_offered == (X25519, X25519MLKEM768)
    assert hs.negotiated_group == X25519MLKEM768
    assert hs.server_hello is not None and not hs.server_hello.is_hello_retry
    assert hs.success is True


def test_plaintext_alert_is_a_failed_handshake() -> None:
    hs = summarise_handshake(stream(records(22, client_hello())), stream(alert(70)))
    assert hs.complete and hs.alert and hs.success is False
    assert hs.alert_description == 70


def test_warning_alert_before_the_server_hello_does_not_end_the_handshake() -> None:
    warning = records(21, bytes([1, 112]))  # unrecognized_name, as a TLS 1.2 server sends it
    client = stream(records(22, client_hello(versions=())), ccs(), records(22, b"\x14" + b"\0" * 40))
    server = stream(warning, records(22, server_hello(version=None, share=None, suite=0xC02F)
                                     + ecdhe_server_key_exchange(X25519)), ccs())
    hs = summarise_handshake(client, server)
    assert not hs.alert and hs.alert_description is None
    assert hs.success is True and hs.negotiated_group == X25519


def test_fatal_alert_after_a_warning_is_the_one_reported() -> None:
    hs = summarise_handshake(stream(records(22, client_hello())), stream(records(21, bytes([1, 112])), alert(40)))
    assert hs.alert and hs.alert_description == 40 and hs.success is False


def test_connection_closed_after_clienthello_is_a_failed_handshake() -> None:
    hs = summarise_handshake(stream(records(22, client_hello())), stream(), closed=True)
    assert hs.complete and hs.success is False and hs.server_hello is None and hs.closed


def test_idle_connection_after_clienthello_is_given_up_without_a_verdict() -> None:
    hs = summarise_handshake(stream(records(22, client_hello())), stream(), idle=True)
    assert hs.complete and hs.success is None


def test_damage_after_both_hellos_keeps_what_was_parsed() -> None:
    client = stream(records(22, client_hello(versions=())))
    server = stream(records(22, server_hello(version=None, share=None, suite=0x0004)), b"\x00\x00garbage")
    hs = summarise_handshake(client, server)
    assert hs.client_hello is not None and hs.server_hello is not None
    assert hs.server_hello.cipher_suite == 0x0004 and hs.parse_error is not None
    assert hs.complete and hs.success is False


def test_tls13_draft_server_hello_without_session_id_and_draft_key_share_is_read() -> None:
    # draft 14 (0x7F0E): no legacy_session_id_echo, no compression, key_share is extension 40
    body = bytes([0x7F, 0x0E]) + bytes(32) + bytes([0xCC, 0xA9]) + bytes([0, 8, 0, 40, 0, 4, 0, 0x1D, 0, 0])
    sh = parse_server_hello(body)
    assert (sh.version, sh.cipher_suite, sh.key_share_group) == (0x7F0E, 0xCCA9, X25519)


def test_tls13_draft_23_handshake_negotiates_its_group() -> None:
    client = stream(records(22, client_hello(versions=(0x7F17,))), ccs(), app_data())
    server = stream(records(22, server_hello(version=0x7F17, share=X25519)), ccs(), app_data())
    hs = summarise_handshake(client, server)
    assert hs.tls_version == 0x7F17 and hs.negotiated_group == X25519 and hs.success is True


def test_non_utf8_and_quoted_sni_is_kept_as_data() -> None:
    sni = b'evil"\xff<script>' + "é".encode() + b"x" * 200
    ch = parse_client_hello(client_hello(sni=sni)[4:])
    assert ch.sni is not None and ch.sni.startswith('evil"\\xff<script>é')


@pytest.mark.parametrize("cut", [0, 1, 5, 6, 9, 40, 44, 76, 80, 120])
def test_truncated_hello_bodies_raise_parse_errors_only(cut: int) -> None:
    body = client_hello()[4:]
    with pytest.raises(WireParseError):
        parse_client_hello(body[:cut])
    server_body = server_hello()[4:]
    with pytest.raises(WireParseError):
        parse_server_hello(server_body[: min(cut, len(server_body) - 1)])


def test_garbage_and_every_prefix_never_raise() -> None:
    rng = random.Random(7)
    client_bytes = records(22, client_hello(), max_fragment=200) + ccs() + app_data()
    server_bytes = records(22, server_hello()) + ccs() + app_data()
    for cut in range(0, len(client_bytes), 13):
        summarise_handshake(stream(client_bytes[:cut]), stream(server_bytes[: cut // 2]), closed=True)
    for _ in range(300):
        blob = bytes([22, 3, rng.randrange(5)]) + rng.randbytes(rng.randrange(0, 600))
        hs = summarise_handshake(stream(blob), stream(rng.randbytes(rng.randrange(0, 80))), closed=True)
        assert hs.complete


def test_a_handshake_message_that_lies_about_its_length_is_a_parse_failure() -> None:
    hello = bytearray(client_hello())
    hello[4 + 2 + 32] = 200  # session id length beyond the message
    hs = summarise_handshake(stream(records(22, bytes(hello))), stream(records(22, server_hello())), closed=True)
    assert hs.parse_error is not None and hs.success is False


@pytest.mark.parametrize("ending", ["finished", "encrypted-alert", "plaintext-alert", "closed"])
def test_client_side_summary_with_the_kernels_server_hello_equals_the_whole_summary(ending: str) -> None:
    """The socket filter parses a TLS 1.3 ServerHello and says how the handshake ended; user space
    joins that with the ClientHello it holds. For the same bytes, both ways give the same answer."""
    hello = client_hello(groups=(X25519MLKEM768, X25519), shares=((X25519MLKEM768, 1216), (X25519, 32), (X25519, 32)),
                         sni=b"same.test")
    last = {"finished": ccs() + app_data(), "encrypted-alert": ccs() + records(23, os.urandom(19)),
            "plaintext-alert": alert(), "closed": b""}[ending]
    client = stream(records(22, hello), last, start=20.0, step=0.010)
    server = stream(records(22, server_hello(suite=0x1302, share=X25519MLKEM768)) + ccs() + app_data(900), start=20.005)
    whole = summarise_handshake(client, server, closed=ending == "closed")
    sh = whole.server_hello
    assert sh is not None
    finished = client.time_at(len(client.data) - 1) if ending == "finished" else None
    summary = summarise_client_side(stream(records(22, hello), start=20.0), sh, completed_at=finished,
                                    alert=ending.endswith("alert"), closed=ending == "closed",
                                    alert_description=70 if ending == "plaintext-alert" else None)
    assert summary == whole
    assert summary.key_shares_offered == (X25519MLKEM768, X25519)  # each group once


def test_client_side_summary_reads_a_clienthello_split_across_records_like_one_in_a_single_record() -> None:
    hello = client_hello(groups=(X25519MLKEM768, X25519), shares=((X25519MLKEM768, 1216),), sni=b"split.test")
    sh = parse_server_hello(server_hello(share=X25519MLKEM768)[4:])

    def record(chunk: bytes) -> bytes:
        return bytes([22, 3, 3]) + len(chunk).to_bytes(2, "big") + chunk

    lone = summarise_client_side(stream(record(hello)), sh, completed_at=None, alert=False)
    split = summarise_client_side(stream(record(hello[:300]) + record(hello[300:])), sh, completed_at=None,
                                  alert=False)
    assert lone.client_hello is not None and lone.client_hello.sni == "split.test"
    assert split == lone


def test_a_hello_parsed_by_its_shape_equals_a_fresh_parse() -> None:
    """Hellos that differ only in the bytes each connection makes anew (random, session id, key
    shares) parse the same; any other difference (here an SNI of the same length) is parsed."""
    rng = random.Random(7)

    def hello(sni: bytes) -> bytes:
        body = bytearray(client_hello(groups=(X25519MLKEM768, X25519), shares=((X25519MLKEM768, 1216), (X25519, 32)),
                                      sni=sni)[4:])
        body[2:34] = rng.randbytes(32)  # the random
        body[35 : 35 + body[34]] = rng.randbytes(body[34])  # the session id
        return bytes(body)

    parsed = []
    for sni in (b"one.test", b"two.test", b"one.test", b"two.test"):
        body = hello(sni)
        parsed.append(parse_client_hello_by_shape(body))
        assert parsed[-1] == parse_client_hello(body) and parsed[-1].sni == sni.decode()
    assert parsed[2] is parsed[0] and parsed[3] is parsed[1]  # the same shapes again: not parsed anew
    with pytest.raises(WireParseError):
        parse_client_hello_by_shape(hello(b"one.test")[:-3])  # same shape, truncated: parsed, and fails


def test_client_side_summary_without_a_clienthello_says_so() -> None:
    sh = parse_server_hello(server_hello()[4:])
    garbage = summarise_client_side(stream(b"\x16\x03\x01\x00\x05hello"), sh, completed_at=None, alert=False)
    assert garbage.client_hello is None and garbage.parse_error
    assert summarise_client_side(stream(app_data()), sh, completed_at=None, alert=False).client_hello is None


def sslv2_hello(version: int = TLS1_2, specs: bytes = b"\x00\x00\x2f\x07\x00\xc0\x00\x00\x35",
                challenge: bytes = bytes(range(16))) -> bytes:
    body = (bytes([1]) + version.to_bytes(2, "big") + struct.pack(">HHH", len(specs), 0, len(challenge)) + specs
            + challenge)
    return struct.pack(">H", 0x8000 | len(body)) + body


def test_sslv2_compatible_client_hello_is_read_as_the_tls_hello_it_stands_for() -> None:
    hs = summarise_handshake(stream(sslv2_hello()), stream(records(22, server_hello(version=None, share=None,
                                                                                     suite=0x002F))))
    assert hs.client_hello is not None and hs.parse_error is None
    assert hs.client_hello.legacy_version == TLS1_2
    assert hs.client_hello.cipher_suites == (0x002F, 0x0035)  # the SSLv2-only spec 0x0700C0 left out
    assert hs.client_hello.groups == () and hs.client_hello.sni is None
    assert hs.server_hello is not None and hs.server_hello.cipher_suite == 0x002F


def test_sslv2_compatible_hello_with_a_random_from_its_challenge_right_aligned() -> None:
    message = sslv2_client_hello_as_tls(sslv2_hello(challenge=b"\x01" * 16)[2:])
    assert message[6:38] == bytes(16) + b"\x01" * 16


def test_sslv2_compatible_hello_whose_lengths_disagree_is_a_parse_error() -> None:
    broken = bytearray(sslv2_hello())
    broken[6] += 3  # the cipher specs claim one more spec than the message holds
    hs = summarise_handshake(stream(bytes(broken)), stream(), closed=True)
    assert hs.parse_error is not None and "SSLv2-compatible ClientHello" in hs.parse_error
