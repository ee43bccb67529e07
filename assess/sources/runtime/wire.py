"""TLS on the wire, parsed: records, ClientHello, ServerHello, ServerKeyExchange, and a whole handshake.

Pure: bytes in, named tuples out (immutable, and cheaper to make than frozen dataclasses: the
sensor makes several per handshake). Nothing here raises on bad input; a truncated or hostile
stream gives `WireParseError` from the message parsers, which the summaries turn into a
`parse_error` value. GREASE values (RFC 8701) are dropped from every list. A connection's bytes
are read incrementally (`HandshakeReader`), each byte once, however the peer cuts them into
records and segments.
"""

from __future__ import annotations

import struct
from functools import lru_cache
from typing import NamedTuple, Protocol

from assess.tlsnames import GREASE, TLS1_3_VERSIONS

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
EXT_KEY_SHARE_DRAFT = 40  # key_share's number until TLS 1.3 draft 23

TLS1_2 = 0x0303
# Before draft 22 a TLS 1.3 ServerHello had no legacy_session_id_echo and no compression method.
_DRAFTS_WITHOUT_SESSION_ID = range(0x7F00, 0x7F16)
# A ServerHello whose random is this value is a HelloRetryRequest (RFC 8446 4.1.3).
HELLO_RETRY_RANDOM = bytes.fromhex("cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c")
MAX_RECORD_LENGTH = 16384 + 2048
# A TLS 1.3 encrypted alert: 2 alert bytes, 1 inner content type, a 16-byte AEAD tag. A Finished
# record is at least 32 + 4 + 1 + 16 bytes, so the two cannot be confused.
ENCRYPTED_ALERT_LENGTH = 19


class WireParseError(ValueError):
    """The bytes are not the TLS message they should be (truncated, malformed, or not TLS)."""


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


def _u16_list(data: bytes, start: int, end: int) -> tuple[int, ...]:
    """The 16-bit values in data[start:end], GREASE values dropped."""
    if (end - start) % 2:
        raise WireParseError("odd length in a list of 16-bit values")
    values = struct.unpack_from(f">{(end - start) // 2}H", data, start)
    return values if GREASE.isdisjoint(values) else tuple([v for v in values if v not in GREASE])


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


def parse_client_hello(body: bytes, fresh: list[tuple[int, int]] | None = None) -> ClientHello:
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
    if (found := ext.get(EXT_KEY_SHARE) or ext.get(EXT_KEY_SHARE_DRAFT)) is not None:
        p, end = _vector(body, found[0], 2, found[1])
        while p < end:
            group = _u16(body, p, end)
            key, p = _vector(body, p + 2, 2, end)
            if fresh is not None:
                fresh.append((key, p))
            if group not in GREASE:
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


def is_sslv2_client_hello(data: bytes | bytearray) -> bool:
    """Do these bytes open an SSLv2-compatible ClientHello (RFC 5246 E.2): a 2-byte record header
    with its high bit set, message type 1, and an SSL 3.0 or later version? Old clients (and
    scanners) still open with one; the server answers in TLS records."""
    return len(data) >= 5 and data[0] & 0x80 != 0 and data[2] == CLIENT_HELLO and data[3] == 3 and data[4] <= 4


def sslv2_client_hello_as_tls(body: bytes) -> bytes:
    """The TLS ClientHello handshake message (header included) an SSLv2-compatible CLIENT-HELLO
    body (from its message type on) stands for, per RFC 5246 E.2: its version; the challenge as the
    random, right-aligned; its session id; the cipher specs that are TLS suites (first byte 0); no
    compression; no extensions, so no SNI, groups or key shares. Raises WireParseError."""
    if len(body) < 9:
        raise WireParseError(f"truncated: wanted 9 bytes, have {len(body)}")
    specs_length, session_length, challenge_length = struct.unpack_from(">HHH", body, 3)
    if specs_length % 3 or 9 + specs_length + session_length + challenge_length != len(body):
        raise WireParseError(f"lengths {specs_length}+{session_length}+{challenge_length} do not fill its "
                             f"{len(body) - 9} bytes")
    if not 16 <= challenge_length <= 32 or session_length not in (0, 16):
        raise WireParseError(f"a {challenge_length}-byte challenge or a {session_length}-byte session id")
    specs = body[9 : 9 + specs_length]
    suites = b"".join(specs[k + 1 : k + 3] for k in range(0, specs_length, 3) if specs[k] == 0)
    session = body[9 + specs_length : 9 + specs_length + session_length]
    challenge = body[9 + specs_length + session_length :]
    hello = (body[1:3] + challenge.rjust(32, b"\0") + bytes([len(session)]) + session
             + struct.pack(">H", len(suites)) + suites + b"\x01\x00")
    return bytes([CLIENT_HELLO]) + len(hello).to_bytes(3, "big") + hello


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
    hello = parse_client_hello(body, fresh)  # (a body shorter than 35 bytes raises here)
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


def parse_server_hello(body: bytes) -> ServerHello:
    """Parse a ServerHello (or HelloRetryRequest) body."""
    n = len(body)
    if n >= 34 and (body[0] << 8 | body[1]) in _DRAFTS_WITHOUT_SESSION_ID:
        suite = _u16(body, 34, n)
        ext = _extensions(body, 36)
    else:
        pos = _hello_prefix(body)
        suite = _u16(body, pos, n)
        if pos + 3 > n:
            raise WireParseError(f"truncated: wanted 1 bytes at {pos + 2} of {n}")  # compression
        ext = _extensions(body, pos + 3)
    selected = None
    if (found := ext.get(EXT_SUPPORTED_VERSIONS)) is not None:
        selected = _u16(body, found[0], found[1])
    group = None
    if (found := ext.get(EXT_KEY_SHARE) or ext.get(EXT_KEY_SHARE_DRAFT)) is not None:
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


_RECORD_TYPES = frozenset({CHANGE_CIPHER_SPEC, ALERT, HANDSHAKE, APPLICATION_DATA, 24})  # 24: heartbeat
# Handshake messages whose bodies say something; the bytes of the others are skipped, never copied.
_READ_MESSAGES = frozenset({CLIENT_HELLO, SERVER_HELLO, SERVER_KEY_EXCHANGE})


class StreamView(Protocol):
    """One direction of a TCP connection as reassembled so far (see reassembly.py)."""

    @property
    def data(self) -> bytes | bytearray: ...  # the contiguous bytes so far: read them, never keep or change them

    @property
    def skipped(self) -> int: ...  # the stream offset of data[0] (bytes before it were read and let go)

    @property
    def first_seq(self) -> int | None: ...  # when byte 0 moves (a SYN-less stream got earlier bytes), offsets do too

    def time_at(self, offset: int) -> float | None: ...


class _NoBytes:
    """A direction that has sent nothing."""

    data = b""
    first_seq = None
    skipped = 0

    def time_at(self, offset: int) -> float | None:
        return None


NO_BYTES: StreamView = _NoBytes()


class _Hellos(NamedTuple):
    """What a direction's plaintext handshake messages said, folded in as each one completed. A
    direction is read without knowing whether it is the client's: each kind of message is read
    wherever it appears, and the summary takes the client's kind from one and the server's from
    the other. Errors are kept, not raised: they count only where the summary uses that kind."""

    client_hello: ClientHello | None = None  # the first
    client_hello_end: int | None = None  # stream offset of the last byte of the record that completed it
    key_shares: tuple[int, ...] = ()  # of every ClientHello, in order, each once
    client_error: str | None = None  # the first ClientHello that would not parse
    first_server_hello: ServerHello | None = None
    server_hello: ServerHello | None = None  # the last one that is not a HelloRetryRequest
    hello_retry: bool = False
    server_error: str | None = None  # the first ServerHello that would not parse
    key_exchange_group: int | None = None  # the last ServerKeyExchange's named group
    key_exchange_error: str | None = None

    def fold(self, msg_type: int, body: bytes, end: int) -> _Hellos:
        """These hellos and one more message: a ClientHello, ServerHello or ServerKeyExchange body."""
        if msg_type == CLIENT_HELLO and self.client_error is None:
            try:
                ch = parse_client_hello(body)
            except WireParseError as e:
                return self._replace(client_error=str(e))
            shares = tuple(dict.fromkeys(self.key_shares + ch.key_shares))
            if self.client_hello is None:
                return self._replace(client_hello=ch, client_hello_end=end, key_shares=shares)
            return self._replace(key_shares=shares)
        if msg_type == SERVER_HELLO and self.server_error is None:
            try:
                sh = parse_server_hello(body)
            except WireParseError as e:
                return self._replace(server_error=str(e))
            return self._replace(first_server_hello=self.first_server_hello or sh,
                                 server_hello=self.server_hello if sh.is_hello_retry else sh,
                                 hello_retry=self.hello_retry or sh.is_hello_retry)
        if msg_type == SERVER_KEY_EXCHANGE and self.key_exchange_error is None:
            try:
                group = parse_ecdhe_server_key_exchange(body)
            except WireParseError as e:
                return self._replace(key_exchange_error=str(e))
            return self._replace(key_exchange_group=group)
        return self


class _Span(NamedTuple):
    offset: int  # where the record header starts in its direction's stream
    length: int  # of its fragment


class _Alert(NamedTuple):
    offset: int  # where the alert record starts in its direction's stream
    description: int | None  # AlertDescription (RFC 8446 6); None when the record is too short to say


# A warning alert other than close_notify (e.g. unrecognized_name before a TLS 1.2 ServerHello)
# does not end a handshake.
_WARNING = 1
_CLOSE_NOTIFY = 0


class _Records:
    """One direction's TLS records, read as its stream grows: every byte is looked at once, so a
    ClientHello sent one byte per record costs what it costs in one record (not the square)."""

    __slots__ = (
        "alert",
        "app_data",
        "ccs",
        "error",
        "first_seq",
        "fragments",
        "hellos",
        "hellos_before_ccs",
        "read_to",
        "source",
        "start",
    )

    def __init__(self, source: StreamView | None = None, start: int = 0) -> None:
        self.source = source
        self.first_seq = source.first_seq if source is not None else None
        self.start = start  # where TLS begins in the stream (after a STARTTLS protocol's plaintext)
        self.read_to = start  # stream offset of the next record header
        self.error: str | None = None  # the bytes at `read_to` are not a TLS record
        self.fragments = bytearray()  # handshake bytes not yet a whole message
        self.hellos = _Hellos()  # messages up to the first application_data record
        self.hellos_before_ccs: _Hellos | None = None  # `hellos` when the first ChangeCipherSpec came before it
        self.ccs: _Span | None = None  # the first ChangeCipherSpec record
        self.app_data: _Span | None = None  # the first application_data record
        self.alert: _Alert | None = None  # the first alert record that ends a handshake

    def read(self, view: StreamView) -> _Records:
        """Read the records `view` completed since the last call (from the start if it is another
        stream, or its first byte moved); returns the reader to use from now on."""
        if view is not self.source or view.first_seq != self.first_seq:
            return _Records(view, self.start).read(view)
        data = view.data
        skipped = view.skipped
        n, pos = skipped + len(data), self.read_to
        if pos < skipped:
            self.error = f"the bytes before stream offset {skipped} were let go before this reader read them"
        if pos == self.start and pos >= skipped and n - pos >= 5 and is_sslv2_client_hello(data[pos - skipped :]):
            i = pos - skipped
            length = ((data[i] & 0x7F) << 8) | data[i + 1]
            if n - pos - 2 < length:
                return self
            try:
                message = sslv2_client_hello_as_tls(bytes(data[i + 2 : i + 2 + length]))
            except WireParseError as e:
                self.error = f"SSLv2-compatible ClientHello at stream offset {pos}: {e}"
                return self
            self._handshake(message, 0, len(message), pos + 2 + length)
            pos = self.read_to = pos + 2 + length
        while n - pos >= 5 and self.error is None:
            i = pos - skipped  # where the stream offset `pos` is in `data`
            ctype, length = data[i], (data[i + 3] << 8) | data[i + 4]
            if ctype not in _RECORD_TYPES or data[i + 1] != 3:
                version = (data[i + 1] << 8) | data[i + 2]
                self.error = f"not a TLS record at stream offset {pos} (type {ctype}, version 0x{version:04X})"
            elif length > MAX_RECORD_LENGTH:
                self.error = f"TLS record at stream offset {pos} claims {length} bytes"
            elif n - pos - 5 < length:
                break
            else:
                self._record(ctype, data, i, pos, length)
                pos += 5 + length
        self.read_to = pos
        return self

    def _record(self, ctype: int, data: bytes | bytearray, i: int, pos: int, length: int) -> None:
        """The record at `data[i]`, stream offset `pos`."""
        if ctype == HANDSHAKE:
            if self.app_data is None:
                self._handshake(data, i + 5, i + 5 + length, pos + 4 + length)
        elif ctype == APPLICATION_DATA:
            if self.app_data is None:
                self.app_data = _Span(pos, length)
        elif ctype == CHANGE_CIPHER_SPEC:
            if self.ccs is None:
                self.ccs = _Span(pos, length)
                if self.app_data is None:
                    self.hellos_before_ccs = self.hellos
        elif ctype == ALERT and self.alert is None:
            level, description = (data[i + 5], data[i + 6]) if length >= 2 else (None, None)
            if level != _WARNING or description == _CLOSE_NOTIFY:
                self.alert = _Alert(pos, description)

    def _handshake(self, data: bytes | bytearray, start: int, end: int, record_end: int) -> None:
        """The handshake messages a record (`data[start:end]`, ending at stream offset `record_end`)
        completes: from the record itself when no message was left unfinished by the records
        before it (the usual case), else from what was left plus it."""
        left = self.fragments
        if left:
            left += data[start:end]
            data, start, end = left, 0, len(left)
        at = start
        while end - at >= 4:
            body_end = at + 4 + ((data[at + 1] << 16) | (data[at + 2] << 8) | data[at + 3])
            if body_end > end:
                break
            if data[at] in _READ_MESSAGES:
                self.hellos = self.hellos.fold(data[at], bytes(data[at + 4 : body_end]), record_end)
            at = body_end
        if data is left:
            del left[:at]
        else:
            left += data[at:end]

    def plaintext(self, tls13: bool) -> tuple[_Hellos, _Span | None]:
        """The messages before plaintext ended, and the record where it did: the first
        application_data record, or, unless TLS 1.3 (whose ChangeCipherSpec is a dummy for
        middleboxes), the first ChangeCipherSpec."""
        if tls13 or self.ccs is None or (self.app_data is not None and self.app_data.offset < self.ccs.offset):
            return self.hellos, self.app_data
        return self.hellos_before_ccs or self.hellos, self.ccs

    def alert_before(self, end: _Span | None) -> _Alert | None:
        """The alert that ended the handshake in plaintext, if one came before `end`."""
        return self.alert if self.alert is not None and (end is None or self.alert.offset < end.offset) else None


_UNREAD = _Records()  # read by no one: its `read` gives a reader of its own to whoever calls it


class WireHandshake(NamedTuple):
    """What the bytes of one connection say about its TLS handshake. None means not (yet) seen."""

    client_hello: ClientHello | None
    server_hello: ServerHello | None  # the final one (after any HelloRetryRequest)
    hello_retry: bool
    key_shares_offered: tuple[int, ...]
    negotiated_group: int | None
    started_at: float | None  # when the first ClientHello was complete
    completed_at: float | None  # when the handshake was seen to finish (see `HandshakeReader.summarise`)
    alert: bool  # an alert (plaintext, or TLS 1.3's encrypted one in place of Finished) ended the handshake
    complete: bool  # nothing more to learn from this connection's bytes
    parse_error: str | None  # the bytes stopped being TLS (what was read before is kept)
    closed: bool = False  # the connection ended (FIN, RST) before the handshake finished
    alert_description: int | None = None  # the plaintext alert's AlertDescription

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
        return False if self.closed else None


_new_handshake = tuple.__new__


def _unreadable(reason: str) -> WireHandshake:
    return WireHandshake(None, None, False, (), None, None, None, False, True, reason)


class HandshakeReader:
    """A connection's TLS handshake, read as its streams grow: keep one per connection and call
    `summarise` after each segment; each call reads only the bytes added since the last. TLS
    begins at `client_start` and `server_start` of the two streams (not 0 after STARTTLS)."""

    __slots__ = ("_client", "_server")

    def __init__(self, client_start: int = 0, server_start: int = 0) -> None:
        self._client = _Records(None, client_start) if client_start else _UNREAD
        self._server = _Records(None, server_start) if server_start else _UNREAD

    @property
    def read_to(self) -> tuple[int, int]:
        """The client's and the server's stream offsets up to which every byte has been read (the
        bytes before them may be let go: `reassembly.Stream.discard_before`)."""
        return self._client.read_to, self._server.read_to

    def summarise(self, client: StreamView, server: StreamView, *, closed: bool = False,
                  idle: bool = False) -> WireHandshake:
        """Everything the two directions of a connection say about its handshake so far.

        Finished means: TLS 1.3, the client's first encrypted record (its Finished) after the
        ServerHello; TLS 1.2, the client's ChangeCipherSpec and the server's ChangeCipherSpec.
        `closed` says the connection ended, so a handshake that did not finish has failed; `idle`
        says it is given up on without a verdict. Bytes that stop being TLS once the ClientHello
        was read are damage: what was read before them is kept, in `parse_error` the damage.
        """
        # (called once a segment by the capture importer: is_tls13 is written out as `in TLS1_3_VERSIONS`)
        c = self._client = self._client.read(client)
        s = self._server = self._server.read(server)
        # The server's first hello says whether ChangeCipherSpec records are TLS 1.3 dummies.
        first = s.plaintext(tls13=False)[0].first_server_hello
        tls13 = first is not None and first.version in TLS1_3_VERSIONS
        hellos, c_end = c.plaintext(tls13)
        answers, s_end = s.plaintext(tls13)
        ch, sh = hellos.client_hello, answers.server_hello
        if ch is None and (error := c.error or hellos.client_error) is not None:
            return _unreadable(error)
        damage = c.error or s.error or answers.server_error
        negotiated = None
        if sh is not None:
            if sh.version in TLS1_3_VERSIONS:
                negotiated = sh.key_share_group
            else:
                negotiated = answers.key_exchange_group
                if damage is None:
                    damage = answers.key_exchange_error
        alert = c.alert_before(c_end) or s.alert_before(s_end)
        encrypted_alert = tls13 and c_end is not None and c_end.length == ENCRYPTED_ALERT_LENGTH
        # (the client's first encrypted record is then an alert, e.g. a refused certificate, not Finished)

        completed = None
        if sh is not None and not (alert or encrypted_alert or damage):
            if tls13:
                if c_end is not None:  # ignoring the dummy ChangeCipherSpec, plaintext ends at the client's Finished
                    completed = client.time_at(c_end.offset + 4 + c_end.length)
            else:
                client_ccs = _time(client, c_end.offset if c_end else None)
                server_ccs = _time(server, s_end.offset if s_end else None)
                if client_ccs is not None and server_ccs is not None:
                    completed = max(client_ccs, server_ccs)
        if ch is None and closed:
            damage = "connection closed before a ClientHello"
        ended = alert is not None or encrypted_alert
        return _new_handshake(WireHandshake, (  # WireHandshake(...) without its generated __new__
            ch,  # client_hello
            sh,  # server_hello
            answers.hello_retry,
            hellos.key_shares,  # key_shares_offered
            negotiated,  # negotiated_group
            _time(client, hellos.client_hello_end),  # started_at
            completed,  # completed_at
            ended,  # alert
            completed is not None or ended or damage is not None or closed or idle,  # complete
            damage,  # parse_error
            closed and completed is None,  # closed
            alert.description if alert is not None else None,  # alert_description
        ))


def summarise_handshake(client: StreamView, server: StreamView, *, closed: bool = False,
                        idle: bool = False) -> WireHandshake:
    """`HandshakeReader.summarise` of a connection's bytes read once."""
    return HandshakeReader().summarise(client, server, closed=closed, idle=idle)


def summarise_client_side(
    client: StreamView, server_hello: ServerHello, *, completed_at: float | None, alert: bool, closed: bool = False,
    alert_description: int | None = None,
) -> WireHandshake:
    """A TLS 1.3 handshake whose server side was read elsewhere (the sensor's socket filter parsed
    the ServerHello and saw how the handshake ended): the client's bytes give its ClientHello.

    Gives what `summarise_handshake` gives for the same connection's bytes: `completed_at` is when
    the client's first encrypted record arrived (None when it did not finish), `alert` whether an
    alert ended it instead (`alert_description`: which, when it was a plaintext one), `closed`
    whether the connection ended before either.
    """
    data = client.data
    end = _lone_client_hello_end(data)
    try:
        if end is not None:
            ch: ClientHello | None = parse_client_hello_by_shape(bytes(data[9:]))
        else:
            records = _Records(client).read(client)
            if records.error is not None:
                return _unreadable(records.error)
            hellos = records.hellos
            if hellos.client_hello is None and hellos.client_error is not None:
                return _unreadable(hellos.client_error)
            ch, end = hellos.client_hello, hellos.client_hello_end
    except WireParseError as e:
        return _unreadable(str(e))
    if ch is None or end is None:
        return WireHandshake(None, server_hello, False, (), None, None, None, alert, True,
                             "no ClientHello before the ServerHello")
    return _new_handshake(WireHandshake, (  # (made for every summarised handshake: no generated __new__)
        ch,  # client_hello
        server_hello,  # server_hello
        False,  # hello_retry
        _distinct(ch.key_shares),  # key_shares_offered
        server_hello.key_share_group,  # negotiated_group
        client.time_at(end),  # started_at
        None if alert else completed_at,  # completed_at
        alert,  # alert
        True,  # complete
        None,  # parse_error
        closed and not alert and completed_at is None,  # closed
        alert_description,  # alert_description
    ))


@lru_cache(maxsize=256)
def _distinct(groups: tuple[int, ...]) -> tuple[int, ...]:
    """The groups in their first order, each once (a client program sends the same key shares each time)."""
    return tuple(dict.fromkeys(groups))


def _lone_client_hello_end(data: bytes | bytearray) -> int | None:
    """The offset of the last byte when the bytes are exactly one handshake record holding exactly
    one whole ClientHello (the usual first flight); None for anything else, which takes the general path."""
    if len(data) < 9 or data[0] != HANDSHAKE or data[1] != 3 or data[5] != CLIENT_HELLO:
        return None
    length = (data[3] << 8) | data[4]
    if 5 + length != len(data) or length > MAX_RECORD_LENGTH or (data[6] << 16 | data[7] << 8 | data[8]) + 4 != length:
        return None
    return len(data) - 1


def _time(view: StreamView, offset: int | None) -> float | None:
    return None if offset is None else view.time_at(offset)
