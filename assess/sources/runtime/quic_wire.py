"""QUIC on the wire: Initial packets decrypted with the version's public initial secrets, their
CRYPTO frames reassembled into the TLS ClientHello and ServerHello, parsed by the TLS parser.

QUIC protects even its first packets, but with keys anyone can derive from the client's first
Destination Connection ID and a salt the version publishes (RFC 9001 5.2 for QUIC v1, RFC 9369
3.3.1 for v2). AES-128-GCM and the header-protection mask (AES-ECB of a sample) come from
`cryptography`; the packet and frame layouts are parsed here by hand, because the one maintained
Python QUIC stack (aioquic) parses only as an endpoint of its own connections, not a third party's.

Pure: datagrams in, a `wire.WireHandshake` out, the same record TLS over TCP gives. Handshakes split
over several Initial packets and datagrams, CRYPTO frames out of order or repeated, coalesced
packets, Retry (which changes the keys) and a server answering in another version (RFC 9368) are
followed. Only the Initial space is readable: the handshake counts as finished when the client
sends its first 1-RTT (short header) packet, which it can only do once it has the server's Finished.
Nothing here raises on hostile bytes; everything read is bounded.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from functools import lru_cache
from typing import NamedTuple

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand

from assess.sources.runtime.wire import (
    CLIENT_HELLO,
    SERVER_HELLO,
    ClientHello,
    ServerHello,
    WireHandshake,
    WireParseError,
    parse_client_hello,
    parse_server_hello,
)

QUIC_V1 = 0x00000001
QUIC_V2 = 0x6B3343CF


class _Version(NamedTuple):
    salt: bytes
    label_prefix: str  # "quic " (v1) or "quicv2 " (v2)
    initial_type: int  # the long-header type bits of an Initial packet
    retry_type: int


VERSIONS: dict[int, _Version] = {
    QUIC_V1: _Version(bytes.fromhex("38762cf7f55934b34d179ae6a4c80cadccbb7f0a"), "quic ", 0, 3),  # RFC 9001 5.2
    QUIC_V2: _Version(bytes.fromhex("0dede3def700a6db819381be6e269dcbf9bd2ed9"), "quicv2 ", 1, 0),  # RFC 9369 3
}
MAX_CID_LENGTH = 20  # RFC 9000 17.2 (v1 and v2)
# CRYPTO bytes kept per direction: a ClientHello with several post-quantum key shares is a few KB.
MAX_CRYPTO_BYTES = 65536
# Frames read per packet (a packet of PADDING frames is read as one run).
MAX_FRAMES = 1024
# Frame types allowed in an Initial packet (RFC 9000 12.4, table 3).
PADDING, PING, ACK, ACK_ECN, CRYPTO, CONNECTION_CLOSE = 0x00, 0x01, 0x02, 0x03, 0x06, 0x1C
CRYPTO_ERROR_BASE = 0x0100  # a CONNECTION_CLOSE error 0x01XX carries TLS alert XX (RFC 9001 4.8)


class QuicParseError(ValueError):
    """The bytes are not the QUIC packet or frame they should be."""


class InitialKeys(NamedTuple):
    key: bytes
    iv: bytes
    hp: bytes


def _expand_label(secret: bytes, label: str, length: int) -> bytes:
    """TLS 1.3's HKDF-Expand-Label (RFC 8446 7.1) with an empty context, as QUIC uses it."""
    full = b"tls13 " + label.encode("ascii")
    info = struct.pack(">HB", length, len(full)) + full + b"\x00"
    return HKDFExpand(hashes.SHA256(), length, info).derive(secret)


@lru_cache(maxsize=256)
def initial_keys(version: int, dcid: bytes, *, server: bool) -> InitialKeys:
    """The Initial packet protection keys of one side (RFC 9001 5.2, RFC 9369 3.3)."""
    spec = VERSIONS[version]
    extract = hmac.HMAC(spec.salt, hashes.SHA256())  # HKDF-Extract(salt, dcid)
    extract.update(dcid)
    initial_secret = extract.finalize()
    secret = _expand_label(initial_secret, "server in" if server else "client in", 32)
    return InitialKeys(_expand_label(secret, spec.label_prefix + "key", 16),
                       _expand_label(secret, spec.label_prefix + "iv", 12),
                       _expand_label(secret, spec.label_prefix + "hp", 16))


def read_varint(data: bytes, pos: int) -> tuple[int, int]:
    """A variable-length integer (RFC 9000 16) at `pos`, and the position after it."""
    if pos >= len(data):
        raise QuicParseError(f"truncated: a variable-length integer at {pos} of {len(data)}")
    length = 1 << (data[pos] >> 6)
    if pos + length > len(data):
        raise QuicParseError(f"truncated: a {length}-byte integer at {pos} of {len(data)}")
    value = data[pos] & 0x3F
    for b in data[pos + 1 : pos + length]:
        value = (value << 8) | b
    return value, pos + length


class LongHeader(NamedTuple):
    """A long-header packet's invariant and version-specific fields (RFC 9000 17.2)."""

    first: int
    version: int
    dcid: bytes
    scid: bytes
    packet_type: int | None  # 0 Initial, 1 0-RTT, 2 Handshake, 3 Retry, as v1 numbers them; None: unknown version
    token: bytes
    pn_offset: int  # where the (protected) packet number starts
    end: int  # where the packet ends in its datagram (the next coalesced packet starts there)


# v2 numbers the four long-header types differently (RFC 9369 3.2); these map both to v1's numbers.
_V2_TYPES = {1: 0, 2: 1, 3: 2, 0: 3}


def parse_long_header(data: bytes, pos: int = 0) -> LongHeader:
    """The long header of the packet at `pos` of a datagram."""
    if pos + 7 > len(data):
        raise QuicParseError("truncated long header")
    first = data[pos]
    version = struct.unpack_from(">I", data, pos + 1)[0]
    p = pos + 5
    dcid_len = data[p]
    if dcid_len > MAX_CID_LENGTH and version in VERSIONS:
        raise QuicParseError(f"a connection ID of {dcid_len} bytes")
    dcid = data[p + 1 : p + 1 + dcid_len]
    p += 1 + dcid_len
    if p >= len(data):
        raise QuicParseError("truncated long header")
    scid_len = data[p]
    if scid_len > MAX_CID_LENGTH and version in VERSIONS:
        raise QuicParseError(f"a connection ID of {scid_len} bytes")
    scid = data[p + 1 : p + 1 + scid_len]
    p += 1 + scid_len
    if len(dcid) != dcid_len or len(scid) != scid_len or p > len(data):
        raise QuicParseError("truncated long header")
    if version not in VERSIONS:  # version negotiation (0) or a version we have no keys for
        return LongHeader(first, version, dcid, scid, None, b"", p, len(data))
    raw_type = (first >> 4) & 3
    packet_type = _V2_TYPES[raw_type] if version == QUIC_V2 else raw_type
    token = b""
    if packet_type == 3:  # Retry: the rest is the token and a 16-byte integrity tag
        return LongHeader(first, version, dcid, scid, 3, data[p : len(data) - 16], len(data), len(data))
    if packet_type == 0:
        token_len, p = read_varint(data, p)
        token = data[p : p + token_len]
        p += token_len
    length, p = read_varint(data, p)
    if p + length > len(data) or p > len(data):
        raise QuicParseError(f"a packet length of {length} past the datagram's end")
    return LongHeader(first, version, dcid, scid, packet_type, token, p, p + length)


def _decode_packet_number(truncated: int, pn_len: int, largest: int) -> int:
    """RFC 9000 appendix A.3."""
    expected = largest + 1
    window = 1 << (pn_len * 8)
    half = window // 2
    candidate = (expected & ~(window - 1)) | truncated
    if candidate <= expected - half and candidate < (1 << 62) - window:
        return candidate + window
    if candidate > expected + half and candidate >= window:
        return candidate - window
    return candidate


def unprotect_initial(data: bytes, header: LongHeader, keys: InitialKeys, largest_pn: int = -1) -> tuple[int, bytes]:
    """(packet number, decrypted payload) of an Initial packet, `data` being the packet alone (from
    its first byte; `header` parsed from it): header protection removed (RFC 9001 5.4), then the
    AEAD opened (5.3). Raises QuicParseError if the keys are not this packet's."""
    pn_offset = header.pn_offset
    sample = data[pn_offset + 4 : pn_offset + 20]
    if len(sample) < 16 or header.end < pn_offset + 20:
        raise QuicParseError("a packet too short to sample for header protection")
    encryptor = Cipher(algorithms.AES(keys.hp), modes.ECB()).encryptor()
    mask = encryptor.update(sample) + encryptor.finalize()
    first = header.first ^ (mask[0] & 0x0F)
    pn_len = (first & 3) + 1
    pn_bytes = bytes(b ^ m for b, m in zip(data[pn_offset : pn_offset + pn_len], mask[1 : 1 + pn_len], strict=True))
    truncated = int.from_bytes(pn_bytes, "big")
    number = _decode_packet_number(truncated, pn_len, largest_pn)
    aad = bytes([first]) + data[1:pn_offset] + pn_bytes
    nonce = (int.from_bytes(keys.iv, "big") ^ number).to_bytes(12, "big")
    try:
        payload = AESGCM(keys.key).decrypt(nonce, bytes(data[pn_offset + pn_len : header.end]), aad)
    except InvalidTag as e:
        raise QuicParseError("the Initial packet does not open with these keys") from e
    return number, payload


class Frames(NamedTuple):
    crypto: tuple[tuple[int, bytes], ...]  # (offset, data) of each CRYPTO frame
    close_error: int | None  # a CONNECTION_CLOSE's error code


def parse_initial_frames(payload: bytes) -> Frames:
    """The frames of a decrypted Initial packet that say something about the handshake."""
    crypto: list[tuple[int, bytes]] = []
    close_error = None
    pos, count = 0, 0
    while pos < len(payload):
        count += 1
        if count > MAX_FRAMES:
            raise QuicParseError(f"more than {MAX_FRAMES} frames in one packet")
        frame_type, pos = read_varint(payload, pos)
        if frame_type == PADDING:
            while pos < len(payload) and payload[pos] == 0:
                pos += 1
        elif frame_type == PING:
            continue
        elif frame_type in (ACK, ACK_ECN):
            _, pos = read_varint(payload, pos)  # largest acknowledged
            _, pos = read_varint(payload, pos)  # delay
            ranges, pos = read_varint(payload, pos)
            _, pos = read_varint(payload, pos)  # first range
            if ranges > len(payload):
                raise QuicParseError(f"an ACK frame with {ranges} ranges")
            for _ in range(2 * ranges + (3 if frame_type == ACK_ECN else 0)):
                _, pos = read_varint(payload, pos)
        elif frame_type == CRYPTO:
            offset, pos = read_varint(payload, pos)
            length, pos = read_varint(payload, pos)
            if pos + length > len(payload):
                raise QuicParseError(f"a CRYPTO frame of {length} bytes past the packet's end")
            crypto.append((offset, payload[pos : pos + length]))
            pos += length
        elif frame_type == CONNECTION_CLOSE:
            close_error, pos = read_varint(payload, pos)
            _, pos = read_varint(payload, pos)  # the frame type that caused it
            reason, pos = read_varint(payload, pos)
            pos += reason
        else:
            raise QuicParseError(f"frame type 0x{frame_type:x} is not allowed in an Initial packet")
    return Frames(tuple(crypto), close_error)


class CryptoStream:
    """One direction's CRYPTO stream in the Initial space, reassembled by offset: the bytes seen
    first win, at most MAX_CRYPTO_BYTES are kept."""

    __slots__ = ("data", "pending", "truncated")

    def __init__(self) -> None:
        self.data = bytearray()
        self.pending: dict[int, bytes] = {}
        self.truncated = False

    def add(self, offset: int, chunk: bytes) -> None:
        if offset + len(chunk) > MAX_CRYPTO_BYTES:
            self.truncated = True
            chunk = chunk[: max(MAX_CRYPTO_BYTES - offset, 0)]
        if not chunk or offset + len(chunk) <= len(self.data):
            return
        if offset > len(self.data):
            if offset not in self.pending or len(self.pending[offset]) < len(chunk):
                self.pending[offset] = chunk
            return
        self.data += chunk[len(self.data) - offset :]
        while self.pending:
            ready = [o for o in self.pending if o <= len(self.data)]
            if not ready:
                break
            for o in sorted(ready):
                piece = self.pending.pop(o)
                if o + len(piece) > len(self.data):
                    self.data += piece[len(self.data) - o :]

    def messages(self) -> Iterator[tuple[int, bytes, int]]:
        """(type, body, end offset) of each whole handshake message from the stream's start."""
        pos = 0
        while pos + 4 <= len(self.data):
            length = int.from_bytes(self.data[pos + 1 : pos + 4], "big")
            if pos + 4 + length > len(self.data):
                return
            yield self.data[pos], bytes(self.data[pos + 4 : pos + 4 + length]), pos + 4 + length
            pos += 4 + length


def first_client_initial(datagram: bytes) -> LongHeader | None:
    """The header of the datagram's first packet if it is a client's first Initial packet (of a
    version we read, opening with the client keys of its own Destination Connection ID), else
    None: what starts a QUIC connection in a capture."""
    if len(datagram) < 7 or not datagram[0] & 0x80:
        return None
    try:
        header = parse_long_header(datagram)
        if header.packet_type != 0:
            return None
        unprotect_initial(datagram[: header.end], header, initial_keys(header.version, header.dcid, server=False))
    except QuicParseError:
        return None
    return header


class QuicReader:
    """One QUIC connection's handshake, read datagram by datagram (`add`), summarised on demand."""

    def __init__(self, original_dcid: bytes) -> None:
        self.original_dcid = original_dcid  # the keys come from it (a Retry replaces it)
        self.streams = {True: CryptoStream(), False: CryptoStream()}  # by "from the client"
        self.largest_pn = {True: -1, False: -1}
        self.hello_times: dict[bool, float] = {}
        self.client_hellos: list[ClientHello] = []
        self.server_hello: ServerHello | None = None
        self.hello_retry = False
        self.started_at: float | None = None
        self.completed_at: float | None = None
        self.close_error: int | None = None
        self.opened = 0  # Initial packets decrypted
        self.unopened = 0  # Initial packets that did not open (another connection's, or damaged)
        self.error: str | None = None
        self.versions: list[int] = []

    def add(self, datagram: bytes, ts: float, *, from_client: bool) -> None:
        pos = 0
        while pos < len(datagram) and self.error is None:
            if not datagram[pos] & 0x80:  # a short header packet: 1-RTT, and runs to the datagram's end
                if from_client and self.server_hello is not None and self.completed_at is None:
                    self.completed_at = ts
                return
            try:
                header = parse_long_header(datagram, pos)
            except QuicParseError:
                return  # (padding after the last packet, or damage: nothing more in this datagram)
            if header.packet_type == 3 and not from_client and header.version in VERSIONS:
                self._retry(header)
            elif header.packet_type == 0:
                self._initial(datagram[pos : header.end], header, ts, from_client, pos)
            if header.end <= pos:
                return
            pos = header.end

    def _retry(self, header: LongHeader) -> None:
        """A Retry: the client starts again, its Initial keys now derived from the Retry's SCID."""
        self.original_dcid = header.scid
        self.streams = {True: CryptoStream(), False: CryptoStream()}
        self.largest_pn = {True: -1, False: -1}
        self.client_hellos = []

    def _initial(self, packet: bytes, header: LongHeader, ts: float, from_client: bool, at: int) -> None:
        rebased = header._replace(pn_offset=header.pn_offset - at, end=header.end - at)
        keys = initial_keys(header.version, self.original_dcid, server=not from_client)
        try:
            number, payload = unprotect_initial(packet, rebased, keys, self.largest_pn[from_client])
            frames = parse_initial_frames(payload)
        except QuicParseError:
            self.unopened += 1
            return
        self.opened += 1
        if header.version not in self.versions:
            self.versions.append(header.version)
        self.largest_pn[from_client] = max(self.largest_pn[from_client], number)
        if frames.close_error is not None and self.close_error is None:
            self.close_error = frames.close_error
        stream = self.streams[from_client]
        before = len(stream.data)
        for offset, chunk in frames.crypto:
            stream.add(offset, chunk)
        if len(stream.data) > before:
            self._read_hellos(from_client, ts)

    def _read_hellos(self, from_client: bool, ts: float) -> None:
        stream = self.streams[from_client]
        try:
            if from_client:
                hellos = [parse_client_hello(body) for kind, body, _ in stream.messages() if kind == CLIENT_HELLO]
                if len(hellos) > len(self.client_hellos):
                    self.client_hellos = hellos
                    if self.started_at is None:
                        self.started_at = ts
            else:
                for kind, body, _ in stream.messages():
                    if kind == SERVER_HELLO:
                        hello = parse_server_hello(body)
                        self.hello_retry = self.hello_retry or hello.is_hello_retry
                        if not hello.is_hello_retry:
                            self.server_hello = hello
        except WireParseError as e:
            self.error = str(e)

    def summary(self, *, closed: bool = False, idle: bool = False) -> WireHandshake:
        """The connection as the TLS record says it (see `wire.WireHandshake`)."""
        ch = self.client_hellos[-1] if self.client_hellos else None
        shares = tuple(dict.fromkeys(g for hello in self.client_hellos for g in hello.key_shares))
        sh = self.server_hello
        alert_description = None
        if self.close_error is not None and CRYPTO_ERROR_BASE <= self.close_error < CRYPTO_ERROR_BASE + 256:
            alert_description = self.close_error - CRYPTO_ERROR_BASE
        ended = self.close_error is not None and self.completed_at is None
        error = self.error
        if error is None and ch is None and self.opened == 0 and self.unopened:
            error = "no Initial packet opened with the version's initial keys"
        return WireHandshake(
            client_hello=ch,
            server_hello=sh,
            hello_retry=self.hello_retry,
            key_shares_offered=shares,
            negotiated_group=sh.key_share_group if sh is not None else None,
            started_at=self.started_at,
            completed_at=self.completed_at,
            alert=ended,
            complete=self.completed_at is not None or ended or error is not None or closed or idle,
            parse_error=error,
            closed=closed and self.completed_at is None,
            alert_description=alert_description,
        )
