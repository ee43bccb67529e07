"""QUIC Initial packets: the RFC 9001 and RFC 9369 test vectors, CRYPTO frames split across packets
and datagrams, coalesced packets, and hostile bytes."""

from __future__ import annotations

import struct

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from quic_vectors import (
    CLIENT_CRYPTO_FRAME,
    DCID,
    SERVER_FRAMES,
    V1_CLIENT_INITIAL,
    V1_CLIENT_KEYS,
    V1_SERVER_INITIAL,
    V1_SERVER_KEYS,
    V2_CLIENT_INITIAL,
    V2_CLIENT_KEYS,
    V2_SERVER_INITIAL,
    V2_SERVER_KEYS,
)

from assess.sources.runtime.quic_wire import (
    QUIC_V1,
    QUIC_V2,
    QuicParseError,
    QuicReader,
    first_client_initial,
    initial_keys,
    parse_initial_frames,
    parse_long_header,
    unprotect_initial,
)

CASES = [(QUIC_V1, V1_CLIENT_INITIAL, V1_SERVER_INITIAL, V1_CLIENT_KEYS, V1_SERVER_KEYS),
         (QUIC_V2, V2_CLIENT_INITIAL, V2_SERVER_INITIAL, V2_CLIENT_KEYS, V2_SERVER_KEYS)]


@pytest.mark.parametrize(("version", "client", "server", "client_keys", "server_keys"), CASES, ids=["v1", "v2"])
def test_rfc_initial_keys_and_packets(version: int, client: bytes, server: bytes, client_keys: tuple[str, ...],
                                      server_keys: tuple[str, ...]) -> None:
    assert tuple(k.hex() for k in initial_keys(version, DCID, server=False)) == client_keys
    assert tuple(k.hex() for k in initial_keys(version, DCID, server=True)) == server_keys
    number, payload = unprotect_initial(client, parse_long_header(client), initial_keys(version, DCID, server=False))
    assert number == 2 and payload[: len(CLIENT_CRYPTO_FRAME)] == CLIENT_CRYPTO_FRAME
    number, payload = unprotect_initial(server, parse_long_header(server), initial_keys(version, DCID, server=True))
    assert number == 1 and payload == SERVER_FRAMES


@pytest.mark.parametrize(("version", "client", "server", "client_keys", "server_keys"), CASES, ids=["v1", "v2"])
def test_rfc_handshake_reads_as_a_tls_record(version: int, client: bytes, server: bytes, client_keys: object,
                                             server_keys: object) -> None:
    assert first_client_initial(client) is not None
    assert first_client_initial(server) is None  # the server's Initial does not open with its own DCID's client keys
    reader = QuicReader(DCID)
    reader.add(client, 1.0, from_client=True)
    reader.add(server, 1.2, from_client=False)
    reader.add(b"\x40" + b"\x00" * 40, 1.3, from_client=True)  # a 1-RTT packet: the client has finished
    summary = reader.summary()
    assert summary.client_hello.sni == "example.com"
    assert summary.negotiated_group == 0x001D and summary.server_hello.cipher_suite == 0x1301
    assert summary.complete and summary.success is True and summary.handshake_ms == 300.0


def protect(version: int, dcid: bytes, frames: bytes, number: int, *, server: bool = False) -> bytes:
    """An Initial packet as a sender makes it (RFC 9001 5.3, 5.4), to build test traffic."""
    keys = initial_keys(version, dcid, server=server)
    first = 0xC3 if version == QUIC_V1 else 0xD3  # Initial, 4-byte packet number
    payload_len = 4 + len(frames) + 16
    header = bytes([first]) + struct.pack(">I", version) + bytes([len(dcid)]) + dcid + b"\x00" + b"\x00"
    header += struct.pack(">H", 0x4000 | payload_len) + struct.pack(">I", number)
    nonce = (int.from_bytes(keys.iv, "big") ^ number).to_bytes(12, "big")
    sealed = AESGCM(keys.key).encrypt(nonce, frames, header)
    pn_offset = len(header) - 4
    sample = sealed[:16]
    mask = Cipher(algorithms.AES(keys.hp), modes.ECB()).encryptor().update(sample)
    protected = bytearray(header + sealed)
    protected[0] ^= mask[0] & 0x0F
    for i in range(4):
        protected[pn_offset + i] ^= mask[1 + i]
    return bytes(protected)


def crypto_frame(offset: int, data: bytes) -> bytes:
    return b"\x06" + struct.pack(">Q", offset | (3 << 62)) + struct.pack(">H", 0x4000 | len(data)) + data


def test_crypto_frames_out_of_order_across_datagrams_and_coalesced_packets() -> None:
    hello = CLIENT_CRYPTO_FRAME[4:]  # the ClientHello message of RFC 9001 A.2
    dcid = bytes(range(8))
    parts = [hello[:100], hello[100:180], hello[180:]]
    second = protect(QUIC_V1, dcid, crypto_frame(180, parts[2]) + crypto_frame(0, parts[0]) + b"\x00" * 20, 1)
    first = protect(QUIC_V1, dcid, crypto_frame(100, parts[1]) + b"\x01" + b"\x00" * 30, 0)
    reader = QuicReader(dcid)
    reader.add(first + second, 1.0, from_client=True)  # two Initial packets coalesced in one datagram
    assert reader.summary().client_hello.sni == "example.com"


def test_connection_close_carrying_a_tls_alert_ends_the_handshake() -> None:
    dcid = bytes(8)
    reader = QuicReader(dcid)
    reader.add(protect(QUIC_V1, dcid, CLIENT_CRYPTO_FRAME, 0), 1.0, from_client=True)
    close = b"\x1c" + struct.pack(">H", 0x4000 | 0x128) + b"\x06\x00"  # crypto error 0x128: handshake_failure
    reader.add(protect(QUIC_V1, dcid, close + b"\x00" * 20, 0, server=True), 1.1, from_client=False)
    summary = reader.summary()
    assert summary.alert and summary.alert_description == 40 and summary.success is False


def test_hostile_frames_are_errors() -> None:
    with pytest.raises(QuicParseError):
        parse_initial_frames(b"\x06\x00\x44\x00")  # a CRYPTO frame longer than the packet
    with pytest.raises(QuicParseError):
        parse_initial_frames(b"\x08\x00")  # a STREAM frame is not allowed in an Initial packet
    with pytest.raises(QuicParseError):
        parse_long_header(b"\xc0\x00\x00\x00\x01\x30" + b"\x00" * 60)  # a 48-byte connection ID
    assert first_client_initial(b"\xc0\x00\x00\x00\x01\x08" + b"\x00" * 30) is None


def test_mangled_datagrams_never_raise() -> None:
    import random

    rng = random.Random(23)
    for _ in range(300):
        packet = bytearray(V1_CLIENT_INITIAL if rng.random() < 0.5 else V2_SERVER_INITIAL)
        for _ in range(rng.randint(1, 8)):
            packet[rng.randrange(len(packet))] = rng.randrange(256)
        cut = bytes(packet[: rng.randint(0, len(packet))])
        reader = QuicReader(DCID)
        reader.add(cut, 1.0, from_client=True)
        reader.add(cut, 1.1, from_client=False)
        reader.summary(closed=True)
        first_client_initial(cut)
