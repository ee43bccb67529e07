"""TLS on the wire, parsed: records, ClientHello, ServerHello, ServerKeyExchange, and a whole handshake.

Pure: bytes in, named tuples out (immutable, and cheaper to make than frozen dataclasses: the
sensor makes several per handshake). Nothing here raises on bad input; a truncated or hostile
stream gives `WireParseError` from the message parsers, which `summarise_handshake` turns into a
`parse_error` value. GREASE values (RFC 8701) are dropped from every list.
"""

from __future__ import annotations

import struct
from functools import lru_cache
from typing import NamedTuple, Protocol

from assess.tlsnames import is_grease

# Record content types (RFC 8446 5.1).
CHANGE_CIPHER_SPEC = 20
ALERT = 21
HANDSHAKE = 22
APPLICATION_DATA = 23
# Handshake message types.
CLIENT_HELLO = 1
SERVER_HELLO = 2
SERVER_KEY_EXCHANGE = 12
# Extensions.
EXT_SERVER_NAME = 0
EXT_SUPPORTED_GROUPS = 10
EXT_ALPN = 16
EXT_SUPPORTED_VERSIONS = 43
EXT_KEY_SHARE = 51

TLS1_2 = 0x0303
TLS1_3 = 0x0304
VERSION_NAMES: dict[int, str] = {
    0x0300: "SSLv3", 0x0301: "TLSv1", 0x0302: "TLSv1.1", TLS1_2: "TLSv1.2", TLS1_3: "TLSv1.3",
}
# A ServerHello whose random is this value is a HelloRetryRequest (RFC 8446 4.1.3).
HELLO_RETRY_RANDOM = bytes.fromhex("cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c")
MAX_RECORD_LENGTH = 16384 + 2048
# A TLS 1.3 encrypted alert: 2 alert bytes, 1 inner content type, a 16-byte AEAD tag. A Finished
# record is at least 32 + 4 + 1 + 16 bytes, so the two cannot be confused.
ENCRYPTED_ALERT_LENGTH = 19


class WireParseError(ValueError):
    """The bytes are not the TLS message they should be (truncated, malformed, or not TLS)."""


def version_name(code: int | None) -> str | None:
    if code is None:
        return None
    return VERSION_NAMES.get(code, f"0x{code:04X}")


class Record(NamedTuple):
    content_type: int
    version: int
    fragment: bytes
    offset: int  # where the record header starts in its direction's stream


class ClientHello(NamedTuple):
    legacy_version: int
    cipher_suites: tuple[int, ...]
    supported_versions: tuple[int, ...]
    groups: tuple[int, ...]
    key_shares: tuple[int, ...]
    sni: str | None
    alpn: tuple[str, ...]


class ServerHello(NamedTuple):
    legacy_version: int
    cipher_suite: int
    selected_version: int | None  # from supported_versions (TLS 1.3), else None
    key_share_group: int | None  # the server's share (or, in a HelloRetryRequest, the group it asks for)
    is_hello_retry: bool

    @property
    def version(self) -> int:
        return self.selected_version if self.selected_version is not None else self.legacy_version


# The hello parsers index the bytes directly instead of going through a reader object: the live
# sensor parses two hellos per connection, and a method call per field was most of its CPU time.


def _vector(data: bytes, pos: int, width: int, limit: int) -> tuple[int, int]:
    """(start, end) of the vector at `pos` whose length takes `width` bytes; it must end by `limit`."""
    start = pos + width
    if start > limit:
        raise WireParseError(f"truncated: wanted {width} bytes at {pos} of {limit}")
    length = data[pos] if width == 1 else (data[pos] << 8) | data[pos + 1]
    end = start + length
    if end > limit:
        raise WireParseError(f"truncated: wanted {length} bytes at {start} of {limit}")
    return start, end


def _u16(data: bytes, pos: int, limit: int) -> int:
    if pos + 2 > limit:
        raise WireParseError(f"truncated: wanted 2 bytes at {pos} of {limit}")
    return (data[pos] << 8) | data[pos + 1]


_GREASE = frozenset(v for v in range(0x0A0A, 0x10000, 0x1010) if is_grease(v))


def _u16_list(data: bytes, start: int, end: int) -> tuple[int, ...]:
    """The 16-bit values in data[start:end], GREASE values dropped."""
    if (end - start) % 2:
        raise WireParseError("odd length in a list of 16-bit values")
    values = struct.unpack_from(f">{(end - start) // 2}H", data, start)
    return values if _GREASE.isdisjoint(values) else tuple([v for v in values if v not in _GREASE])


def _extensions(data: bytes, pos: int) -> dict[int, tuple[int, int]]:
    """Extensions of a hello starting at `pos`, as type -> (start, end) of the body; the first
    occurrence of a type wins (duplicates are illegal anyway). No extensions block is no extensions."""
    out: dict[int, tuple[int, int]] = {}
    if pos == len(data):
        return out
    p, end = _vector(data, pos, 2, len(data))
    while p < end:  # _u16 and _vector written out: a ClientHello has a dozen or more extensions
        if p + 4 > end:
            raise WireParseError(f"truncated: wanted 2 bytes at {p if p + 2 > end else p + 2} of {end}")
        ext_type = (data[p] << 8) | data[p + 1]
        start = p + 4
        p = start + ((data[p + 2] << 8) | data[p + 3])
        if p > end:
            raise WireParseError(f"truncated: wanted {p - start} bytes at {start} of {end}")
        if ext_type not in out:
            out[ext_type] = (start, p)
    return out


def _hello_prefix(body: bytes) -> int:
    """Position after legacy_version, random and the session id of a hello."""
    if len(body) < 35:
        raise WireParseError(f"truncated: wanted 35 bytes at 0 of {len(body)}")
    return _vector(body, 34, 1, len(body))[1]


def _parse_client_hello(body: bytes, fresh: list[tuple[int, int]] | None = None) -> ClientHello:
    """Parse a ClientHello handshake message body (without the 4-byte handshake header). `fresh`,
    if given, receives the (start, end) of each key share's key_exchange bytes."""
    n = len(body)
    pos = _hello_prefix(body)
    start, pos = _vector(body, pos, 2, n)
    suites = _u16_list(body, start, pos)
    pos = _vector(body, pos, 1, n)[1]  # compression methods
    ext = _extensions(body, pos)

    versions: tuple[int, ...] = ()
    if (found := ext.get(EXT_SUPPORTED_VERSIONS)) is not None:
        versions = _u16_list(body, *_vector(body, found[0], 1, found[1]))
    groups: tuple[int, ...] = ()
    if (found := ext.get(EXT_SUPPORTED_GROUPS)) is not None:
        groups = _u16_list(body, *_vector(body, found[0], 2, found[1]))
    shares: list[int] = []
    if (found := ext.get(EXT_KEY_SHARE)) is not None:
        p, end = _vector(body, found[0], 2, found[1])
        while p < end:
            group = _u16(body, p, end)
            key, p = _vector(body, p + 2, 2, end)
            if fresh is not None:
                fresh.append((key, p))
            if group not in _GREASE:
                shares.append(group)
    return ClientHello(
        legacy_version=(body[0] << 8) | body[1],
        cipher_suites=suites,
        supported_versions=versions,
        groups=groups,
        key_shares=tuple(shares),
        sni=_server_name(body, ext.get(EXT_SERVER_NAME)),
        alpn=_alpn(body, ext.get(EXT_ALPN)),
    )


# A live connection is summarised again as each segment arrives.
parse_client_hello = lru_cache(maxsize=1024)(_parse_client_hello)


class _Shape(NamedTuple):
    """A ClientHello's bytes apart from those each connection makes anew (the random, the session
    id, the key shares' key_exchange): two hellos equal in these parse the same."""

    length: int
    fixed: tuple[tuple[int, bytes], ...]  # (offset, bytes)
    hello: ClientHello


_SHAPES: list[_Shape] = []  # the most recently seen first
MAX_SHAPES = 16


def parse_client_hello_by_shape(body: bytes) -> ClientHello:
    """`parse_client_hello`, for a stream of hellos from a few client programs: a program sends the
    same hello each time but for its fresh bytes, so a hello whose other bytes all equal a recent
    one's is that one's parse, and comparing bytes costs a fraction of parsing them."""
    n = len(body)
    for i, shape in enumerate(_SHAPES):
        if shape.length == n:
            for at, part in shape.fixed:
                if body[at : at + len(part)] != part:
                    break
            else:
                if i:
                    _SHAPES.insert(0, _SHAPES.pop(i))
                return shape.hello
    fresh: list[tuple[int, int]] = []
    hello = _parse_client_hello(body, fresh)  # (a body shorter than 35 bytes raises here)
    fresh.extend(((2, 34), (35, 35 + body[34])))  # the random, the session id
    fixed, at = [], 0
    for start, end in sorted(fresh):
        if start > at:
            fixed.append((at, body[at:start]))
        at = max(at, end)
    fixed.append((at, body[at:]))
    _SHAPES.insert(0, _Shape(n, tuple(fixed), hello))
    del _SHAPES[MAX_SHAPES:]
    return hello


def _server_name(data: bytes, where: tuple[int, int] | None) -> str | None:
    if where is None:
        return None
    p, end = _vector(data, where[0], 2, where[1])
    while p < end:
        name_type = data[p]
        start, p = _vector(data, p + 1, 2, end)
        if name_type == 0:  # host_name
            # An SNI is attacker-controlled bytes; keep them all, undecodable ones escaped.
            return data[start:p].decode("utf-8", errors="backslashreplace")
    return None


def _alpn(data: bytes, where: tuple[int, int] | None) -> tuple[str, ...]:
    if where is None:
        return ()
    p, end = _vector(data, where[0], 2, where[1])
    out: list[str] = []
    while p < end:
        start, p = _vector(data, p, 1, end)
        out.append(data[start:p].decode("utf-8", errors="backslashreplace"))
    return tuple(out)


@lru_cache(maxsize=1024)
def parse_server_hello(body: bytes) -> ServerHello:
    """Parse a ServerHello (or HelloRetryRequest) body."""
    n = len(body)
    pos = _hello_prefix(body)
    suite = _u16(body, pos, n)
    if pos + 3 > n:
        raise WireParseError(f"truncated: wanted 1 bytes at {pos + 2} of {n}")  # compression
    ext = _extensions(body, pos + 3)
    selected = None
    if (found := ext.get(EXT_SUPPORTED_VERSIONS)) is not None:
        selected = _u16(body, found[0], found[1])
    group = None
    if (found := ext.get(EXT_KEY_SHARE)) is not None:
        # ServerHello: KeyShareEntry (group, key); HelloRetryRequest: just the selected group.
        group = _u16(body, found[0], found[1])
    return ServerHello((body[0] << 8) | body[1], suite, selected, group, body[2:34] == HELLO_RETRY_RANDOM)


def parse_ecdhe_server_key_exchange(body: bytes) -> int | None:
    """The named group of a TLS 1.2 ECDHE ServerKeyExchange, or None when it is not a named curve."""
    if not body:
        raise WireParseError("truncated: wanted 1 bytes at 0 of 0")
    if body[0] != 3:  # ECCurveType.named_curve
        return None
    return _u16(body, 1, len(body))


def scan_records(stream: bytes) -> tuple[list[Record], int]:
    """Complete TLS records at the start of a stream, and how many bytes they cover.

    Raises WireParseError when the bytes at a record boundary cannot be a TLS record header.
    """
    records: list[Record] = []
    pos = 0
    while len(stream) - pos >= 5:
        ctype = stream[pos]
        version = int.from_bytes(stream[pos + 1 : pos + 3], "big")
        length = int.from_bytes(stream[pos + 3 : pos + 5], "big")
        if ctype not in (CHANGE_CIPHER_SPEC, ALERT, HANDSHAKE, APPLICATION_DATA, 24) or stream[pos + 1] != 3:
            raise WireParseError(f"not a TLS record at stream offset {pos} (type {ctype}, version 0x{version:04X})")
        if length > MAX_RECORD_LENGTH:
            raise WireParseError(f"TLS record at stream offset {pos} claims {length} bytes")
        if len(stream) - pos - 5 < length:
            break
        records.append(Record(ctype, version, stream[pos + 5 : pos + 5 + length], pos))
        pos += 5 + length
    return records, pos


class HandshakeMessage(NamedTuple):
    msg_type: int
    body: bytes
    end_offset: int  # stream offset of the last byte of the record that completed it


def handshake_messages(records: list[Record], *, ignore_ccs: bool) -> tuple[list[HandshakeMessage], Record | None]:
    """Plaintext handshake messages (reassembled across records) and the record where plaintext ended.

    Plaintext ends at the first application_data record, or at ChangeCipherSpec unless `ignore_ccs`
    (TLS 1.3 sends a dummy CCS for middleboxes; TLS 1.2 encrypts everything after it).
    """
    messages: list[HandshakeMessage] = []
    pending = b""
    for rec in records:
        if rec.content_type == APPLICATION_DATA or (rec.content_type == CHANGE_CIPHER_SPEC and not ignore_ccs):
            return messages, rec
        if rec.content_type != HANDSHAKE:
            continue
        pending += rec.fragment
        while len(pending) >= 4:
            length = int.from_bytes(pending[1:4], "big")
            if len(pending) < 4 + length:
                break
            record_end = rec.offset + 5 + len(rec.fragment) - 1
            messages.append(HandshakeMessage(pending[0], pending[4 : 4 + length], record_end))
            pending = pending[4 + length :]
    return messages, None


class StreamView(Protocol):
    """One direction of a TCP connection as reassembled so far (see reassembly.py)."""

    @property
    def data(self) -> bytes: ...

    def time_at(self, offset: int) -> float | None: ...


class WireHandshake(NamedTuple):
    """What the bytes of one connection say about its TLS handshake. None means not (yet) seen."""

    client_hello: ClientHello | None
    server_hello: ServerHello | None  # the final one (after any HelloRetryRequest)
    hello_retry: bool
    key_shares_offered: tuple[int, ...]
    negotiated_group: int | None
    started_at: float | None  # when the first ClientHello was complete
    completed_at: float | None  # when the handshake was seen to finish (see `summarise_handshake`)
    alert: bool  # a plaintext alert before the handshake finished
    complete: bool  # nothing more to learn from this connection's bytes
    parse_error: str | None

    @property
    def tls_version(self) -> int | None:
        return self.server_hello.version if self.server_hello else None

    @property
    def handshake_ms(self) -> float | None:
        if self.started_at is None or self.completed_at is None:
            return None
        return round((self.completed_at - self.started_at) * 1000.0, 3)

    @property
    def success(self) -> bool | None:
        if self.alert or self.parse_error:
            return False
        if self.completed_at is not None:
            return True
        return None


def summarise_handshake(client: StreamView, server: StreamView, *, closed: bool = False) -> WireHandshake:
    """Everything the two directions of a connection say about its handshake so far.

    Finished means: TLS 1.3, the client's first encrypted record (its Finished) after the
    ServerHello; TLS 1.2, the client's ChangeCipherSpec and the server's ChangeCipherSpec.
    `closed` says the connection ended, so a handshake that did not finish has failed.
    """
    try:
        return _summarise(client, server, closed)
    except WireParseError as e:
        return WireHandshake(None, None, False, (), None, None, None, False, True, str(e))


def _summarise(client: StreamView, server: StreamView, closed: bool) -> WireHandshake:
    c_records, _ = scan_records(client.data)
    s_records, _ = scan_records(server.data)
    # The server's first hello says whether CCS records are TLS 1.3 dummies.
    s_plain, _ = handshake_messages(s_records, ignore_ccs=False)
    first_sh = next((parse_server_hello(m.body) for m in s_plain if m.msg_type == SERVER_HELLO), None)
    tls13 = first_sh is not None and first_sh.version == TLS1_3
    s_msgs, s_end = handshake_messages(s_records, ignore_ccs=tls13)
    c_msgs, c_end = handshake_messages(c_records, ignore_ccs=tls13)

    hellos = [parse_client_hello(m.body) for m in c_msgs if m.msg_type == CLIENT_HELLO]
    server_hellos = [(m, parse_server_hello(m.body)) for m in s_msgs if m.msg_type == SERVER_HELLO]
    ch = hellos[0] if hellos else None
    retry = any(sh.is_hello_retry for _, sh in server_hellos)
    final = [(m, sh) for m, sh in server_hellos if not sh.is_hello_retry]
    sh_msg, sh = final[-1] if final else (None, None)

    shares: list[int] = []
    for hello in hellos:
        shares.extend(g for g in hello.key_shares if g not in shares)

    negotiated = None
    if sh is not None and sh.version == TLS1_3:
        negotiated = sh.key_share_group
    elif sh is not None:
        for m in s_msgs:
            if m.msg_type == SERVER_KEY_EXCHANGE:
                negotiated = parse_ecdhe_server_key_exchange(m.body)

    started = _time(client, next((m.end_offset for m in c_msgs if m.msg_type == CLIENT_HELLO), None))
    alert = any(r.content_type == ALERT for r in _plaintext(c_records, c_end) + _plaintext(s_records, s_end))
    if tls13 and c_end is not None and len(c_end.fragment) == ENCRYPTED_ALERT_LENGTH:
        alert = True  # the client's first encrypted record is an alert (a refused certificate), not Finished

    completed = None
    if sh is not None and sh_msg is not None and not alert:
        if tls13:
            if c_end is not None:  # with ignore_ccs, plaintext ends at the client's encrypted Finished
                completed = _time(client, c_end.offset + 4 + len(c_end.fragment))
        else:
            client_ccs = _time(client, c_end.offset if c_end else None)
            server_ccs = _time(server, s_end.offset if s_end else None)
            if client_ccs is not None and server_ccs is not None:
                completed = max(client_ccs, server_ccs)
    done = completed is not None or alert or closed
    return WireHandshake(
        client_hello=ch,
        server_hello=sh,
        hello_retry=retry,
        key_shares_offered=tuple(shares),
        negotiated_group=negotiated,
        started_at=started,
        completed_at=completed,
        alert=alert,
        complete=done,
        parse_error=None if ch is not None or not closed else "connection closed before a ClientHello",
    )


def summarise_client_side(
    client: StreamView, server_hello: ServerHello, *, completed_at: float | None, alert: bool
) -> WireHandshake:
    """A TLS 1.3 handshake whose server side was read elsewhere (the sensor's socket filter parsed
    the ServerHello and saw how the handshake ended): the client's bytes give its ClientHello.

    Gives what `summarise_handshake` gives for the same connection's bytes: `completed_at` is when
    the client's first encrypted record arrived (None when it did not finish), `alert` whether an
    alert ended it instead.
    """
    try:
        first = _lone_client_hello(client.data)
        if first is None:
            records, _ = scan_records(client.data)
            messages, _ = handshake_messages(records, ignore_ccs=True)
            first = next((m for m in messages if m.msg_type == CLIENT_HELLO), None)
        ch = parse_client_hello_by_shape(first.body) if first is not None else None
    except WireParseError as e:
        return WireHandshake(None, None, False, (), None, None, None, False, True, str(e))
    if first is None or ch is None:
        return WireHandshake(None, server_hello, False, (), None, None, None, alert, True,
                             "no ClientHello before the ServerHello")
    return WireHandshake(
        client_hello=ch,
        server_hello=server_hello,
        hello_retry=False,
        key_shares_offered=tuple(dict.fromkeys(ch.key_shares)),
        negotiated_group=server_hello.key_share_group,
        started_at=client.time_at(first.end_offset),
        completed_at=None if alert else completed_at,
        alert=alert,
        complete=True,
        parse_error=None,
    )


def _lone_client_hello(data: bytes) -> HandshakeMessage | None:
    """The ClientHello when the bytes are exactly one handshake record holding exactly one whole
    ClientHello (the usual first flight); None for anything else, which takes the general path."""
    if len(data) < 9 or data[0] != HANDSHAKE or data[1] != 3 or data[5] != CLIENT_HELLO:
        return None
    length = (data[3] << 8) | data[4]
    if 5 + length != len(data) or length > MAX_RECORD_LENGTH or (data[6] << 16 | data[7] << 8 | data[8]) + 4 != length:
        return None
    return HandshakeMessage(CLIENT_HELLO, data[9:], len(data) - 1)


def _plaintext(records: list[Record], end: Record | None) -> list[Record]:
    return [r for r in records if end is None or r.offset < end.offset]


def _time(view: StreamView, offset: int | None) -> float | None:
    return None if offset is None else view.time_at(offset)

