"""SSH on the wire, parsed: the version banners, both SSH_MSG_KEXINIT messages, and what they
negotiate by RFC 4253's first-match rule (section 7.1).

Pure: bytes in, named tuples out; nothing here raises on bad input (a truncated or hostile stream
becomes a `parse_error` value). Everything an SSH connection says before its first SSH_MSG_NEWKEYS
is plaintext: the banner line, then binary packets (RFC 4253 section 6) with no MAC and no
encryption. That is all that is read; after NEWKEYS the bytes are ciphertext.

Written by hand because no maintained Python library parses an SSH handshake passively: paramiko
and asyncssh parse only as one end of a live connection, with its own keys.

Algorithm names from the wire are hostile data: they are kept as text (non-ASCII bytes escaped),
at most `MAX_NAMES` names of at most `MAX_NAME_LENGTH` characters a list, never interpreted.
"""

from __future__ import annotations

import struct
from typing import NamedTuple

from assess.sources.runtime.reassembly import Endpoint
from assess.sources.runtime.wire import StreamView
from assess.sshnames import is_pseudo_algorithm

SSH_MSG_DISCONNECT = 1
SSH_MSG_KEXINIT = 20
SSH_MSG_NEWKEYS = 21
# RFC 4253 4.2: the version line is at most 255 bytes with its CR LF; a server may send other
# lines before it (RFC 4253 4.2), which OpenSSH's client reads up to 1024 of.
MAX_BANNER_LINE = 255
MAX_PRE_BANNER_BYTES = 8192
# OpenSSH's PACKET_MAX_SIZE; RFC 4253 6.1 requires only 35000.
MAX_PACKET_LENGTH = 256 * 1024
# RFC 4251 6: a name is at most 64 characters. Real lists have a few dozen names.
MAX_NAME_LENGTH = 64
MAX_NAMES = 256
# AEAD ciphers carry their own integrity: the negotiated MAC is not used (RFC 5647, PROTOCOL.chacha20poly1305).
AEAD_CIPHERS = frozenset({"chacha20-poly1305@openssh.com", "aes128-gcm@openssh.com", "aes256-gcm@openssh.com",
                          "AEAD_AES_128_GCM", "AEAD_AES_256_GCM"})
_LIST_NAMES = ("kex", "host_key", "ciphers_c2s", "ciphers_s2c", "macs_c2s", "macs_s2c",
               "compression_c2s", "compression_s2c", "languages_c2s", "languages_s2c")


class SshParseError(ValueError):
    """The bytes are not the SSH message they should be."""


class Banner(NamedTuple):
    """An SSH identification string, `SSH-protoversion-softwareversion SP comments`."""

    text: str  # the whole line, without CR LF, non-ASCII bytes escaped
    proto_version: str
    software: str
    comments: str | None


class KexInit(NamedTuple):
    """The ten name-lists of an SSH_MSG_KEXINIT, as sent (pseudo-algorithms included)."""

    kex: tuple[str, ...]
    host_key: tuple[str, ...]
    ciphers_c2s: tuple[str, ...]
    ciphers_s2c: tuple[str, ...]
    macs_c2s: tuple[str, ...]
    macs_s2c: tuple[str, ...]
    compression_c2s: tuple[str, ...]
    compression_s2c: tuple[str, ...]
    languages_c2s: tuple[str, ...]
    languages_s2c: tuple[str, ...]
    first_kex_packet_follows: bool

    @property
    def kex_algorithms(self) -> tuple[str, ...]:
        """The key exchange methods offered: the list without its pseudo-algorithms (`ext-info-c`,
        `kex-strict-*`), which signal extensions and are never chosen."""
        return tuple(k for k in self.kex if not is_pseudo_algorithm(k))

    @property
    def extensions(self) -> tuple[str, ...]:
        """The pseudo-algorithms of the kex list, in order."""
        return tuple(k for k in self.kex if is_pseudo_algorithm(k))


class Negotiated(NamedTuple):
    """What two KEXINITs agree on. None: the two lists share no name (the connection fails)."""

    kex: str | None
    host_key: str | None
    cipher_c2s: str | None
    cipher_s2c: str | None
    mac_c2s: str | None  # None also when the cipher is an AEAD (its MAC is implicit)
    mac_s2c: str | None
    compression_c2s: str | None
    compression_s2c: str | None
    strict_kex: bool  # both ends offered kex-strict-*-v00@openssh.com (the Terrapin countermeasure)


def first_match(client: tuple[str, ...], server: tuple[str, ...]) -> str | None:
    """RFC 4253 7.1: the first algorithm on the client's list that is also on the server's."""
    offered = set(server)
    return next((name for name in client if name in offered), None)


def negotiate(client: KexInit, server: KexInit) -> Negotiated:
    """The algorithms a connection uses, from its two KEXINITs (RFC 4253 7.1).

    The kex rule's extra condition (a method needing an encryption- or signature-capable host key
    is skipped when no common host key algorithm is) is not applied: every method in use today
    signs, and every host key algorithm can."""
    cipher_c2s = first_match(client.ciphers_c2s, server.ciphers_c2s)
    cipher_s2c = first_match(client.ciphers_s2c, server.ciphers_s2c)
    return Negotiated(
        kex=first_match(client.kex_algorithms, server.kex_algorithms),
        host_key=first_match(client.host_key, server.host_key),
        cipher_c2s=cipher_c2s,
        cipher_s2c=cipher_s2c,
        mac_c2s=None if cipher_c2s in AEAD_CIPHERS else first_match(client.macs_c2s, server.macs_c2s),
        mac_s2c=None if cipher_s2c in AEAD_CIPHERS else first_match(client.macs_s2c, server.macs_s2c),
        compression_c2s=first_match(client.compression_c2s, server.compression_c2s),
        compression_s2c=first_match(client.compression_s2c, server.compression_s2c),
        strict_kex="kex-strict-c-v00@openssh.com" in client.kex and "kex-strict-s-v00@openssh.com" in server.kex,
    )


def _text(raw: bytes) -> str:
    return raw.decode("ascii", "backslashreplace")


def parse_banner(line: bytes) -> Banner:
    """An identification line (without its line end)."""
    if not line.startswith(b"SSH-"):
        raise SshParseError("not an SSH identification string")
    text = _text(line)
    version_part, _, comments = text.partition(" ")
    proto, sep, software = version_part[4:].partition("-")
    if not sep:
        raise SshParseError("an SSH identification string without a software version")
    return Banner(text, proto, software, comments or None)


def _name_list(body: bytes, pos: int) -> tuple[tuple[str, ...], int]:
    if pos + 4 > len(body):
        raise SshParseError(f"truncated name-list at byte {pos}")
    (length,) = struct.unpack_from(">I", body, pos)
    start, end = pos + 4, pos + 4 + length
    if end > len(body):
        raise SshParseError(f"a name-list of {length} bytes at byte {pos} runs past the message")
    if length == 0:
        return (), end
    names = body[start:end].split(b",")
    if len(names) > MAX_NAMES:
        raise SshParseError(f"a name-list of {len(names)} names (at most {MAX_NAMES} are read)")
    if any(not name or len(name) > MAX_NAME_LENGTH for name in names):
        raise SshParseError(f"a name-list with an empty name or one over {MAX_NAME_LENGTH} characters")
    return tuple(_text(n) for n in names), end


def parse_kexinit(payload: bytes) -> KexInit:
    """An SSH_MSG_KEXINIT payload (message number, 16-byte cookie, ten name-lists, a boolean, a
    reserved uint32)."""
    if not payload or payload[0] != SSH_MSG_KEXINIT:
        raise SshParseError("not an SSH_MSG_KEXINIT")
    pos = 17
    lists = []
    for _ in _LIST_NAMES:
        names, pos = _name_list(payload, pos)
        lists.append(names)
    if pos + 5 > len(payload):
        raise SshParseError("an SSH_MSG_KEXINIT cut short after its name-lists")
    return KexInit._make([*lists, payload[pos] != 0])  # the ten lists, then first_kex_packet_follows


class _Message(NamedTuple):
    msg_type: int
    payload: bytes
    end: int  # stream offset just past the packet


class SshDirection(NamedTuple):
    """What one direction of a connection showed, read to `read_to` (a stream offset)."""

    banner: Banner | None
    kexinit: KexInit | None
    kexinit_end: int | None  # stream offset just past the packet holding the KEXINIT
    newkeys_end: int | None  # ... and just past SSH_MSG_NEWKEYS (plaintext ends there)
    disconnect: int | None  # an SSH_MSG_DISCONNECT's reason code, before NEWKEYS
    error: str | None
    read_to: int
    banner_end: int | None = None


_FRESH = SshDirection(None, None, None, None, None, None, 0)


def read_direction(state: SshDirection, data: bytes | bytearray, skipped: int, *, server: bool) -> SshDirection:
    """Read one direction's bytes further, from where `state` stopped; `data` starts at stream
    offset `skipped`. Stops for good at NEWKEYS, a DISCONNECT or an error."""
    if state.error or state.newkeys_end is not None or state.disconnect is not None:
        return state
    banner, kexinit, kexinit_end, banner_end = state.banner, state.kexinit, state.kexinit_end, state.banner_end
    pos = state.read_to
    end = skipped + len(data)
    if pos < skipped:
        return state._replace(error="bytes let go before they were read")
    while banner is None:
        newline = data.find(b"\n", pos - skipped, min(end, pos + MAX_BANNER_LINE + 1) - skipped)
        if newline < 0:
            if end - pos > MAX_BANNER_LINE:
                return state._replace(error=f"no line end within {MAX_BANNER_LINE} bytes at offset {pos}")
            return state._replace(read_to=pos)
        line = bytes(data[pos - skipped : newline]).removesuffix(b"\r")
        pos = skipped + newline + 1
        if line.startswith(b"SSH-"):
            try:
                banner = parse_banner(line)
            except SshParseError as e:
                return state._replace(error=str(e), read_to=pos)
            banner_end = pos
            if banner.proto_version not in ("2.0", "1.99"):  # 1.99: a server that speaks 2.0 and 1
                return SshDirection(banner, None, None, None, None,
                                    f"SSH protocol {banner.proto_version} (only 2.0 is read)", pos, banner_end)
        elif not server or pos > MAX_PRE_BANNER_BYTES:
            # Only a server may send other lines first (RFC 4253 4.2).
            return state._replace(error="no SSH identification string" + (" within 8 KiB" if server else ""),
                                  read_to=pos)
    disconnect = None
    newkeys_end = None
    error = None
    while True:
        message = _next_packet(data, pos - skipped, skipped)
        if isinstance(message, str):
            error = message
            break
        if message is None:
            break
        pos = message.end
        if message.msg_type == SSH_MSG_KEXINIT and kexinit is None:
            try:
                kexinit = parse_kexinit(message.payload)
            except SshParseError as e:
                error = str(e)
                break
            kexinit_end = pos
        elif message.msg_type == SSH_MSG_NEWKEYS:
            newkeys_end = pos
            break
        elif message.msg_type == SSH_MSG_DISCONNECT:
            disconnect = struct.unpack_from(">I", message.payload, 1)[0] if len(message.payload) >= 5 else 0
            break
    return SshDirection(banner, kexinit, kexinit_end, newkeys_end, disconnect, error, pos, banner_end)


def _next_packet(data: bytes | bytearray, at: int, skipped: int) -> _Message | str | None:
    """The binary packet at `at` (an index into data), None if it is not all there yet, or what
    is wrong with it."""
    if at + 5 > len(data):
        return None
    packet_length, padding = struct.unpack_from(">IB", data, at)
    if packet_length > MAX_PACKET_LENGTH or packet_length < padding + 2:
        return f"a binary packet length of {packet_length} at offset {skipped + at}: not a plaintext SSH packet"
    end = at + 4 + packet_length
    if end > len(data):
        return None
    payload = bytes(data[at + 5 : end - padding])
    return _Message(payload[0], payload, skipped + end)


class SshHandshake(NamedTuple):
    """What the bytes of one connection say about its SSH key exchange. None: not (yet) seen."""

    client: SshDirection
    server: SshDirection
    negotiated: Negotiated | None
    started_at: float | None  # when the client's KEXINIT was complete
    completed_at: float | None  # when the later of the two NEWKEYS arrived
    complete: bool  # nothing more to learn from this connection's bytes
    closed: bool = False  # the connection ended before both NEWKEYS

    @property
    def parse_error(self) -> str | None:
        return self.client.error or self.server.error

    @property
    def disconnect(self) -> int | None:
        return self.client.disconnect if self.client.disconnect is not None else self.server.disconnect

    @property
    def success(self) -> bool | None:
        if self.completed_at is not None:
            return True
        if self.parse_error or self.disconnect is not None or self.closed:
            return False
        if self.negotiated is not None and None in (self.negotiated.kex, self.negotiated.host_key,
                                                    self.negotiated.cipher_c2s, self.negotiated.cipher_s2c):
            return False  # no common algorithm: both ends give up
        return None

    @property
    def handshake_ms(self) -> float | None:
        if self.started_at is None or self.completed_at is None:
            return None
        return round((self.completed_at - self.started_at) * 1000.0, 3)


class SshReader:
    """A connection's SSH key exchange, read as its streams grow: keep one per connection and call
    `summarise` after each segment; each call reads only the bytes added since the last."""

    __slots__ = ("_client", "_server")

    def __init__(self) -> None:
        self._client = _FRESH
        self._server = _FRESH

    def summarise(self, client: StreamView, server: StreamView, *, closed: bool = False,
                  idle: bool = False) -> SshHandshake:
        c = self._client = read_direction(self._client, client.data, client.skipped, server=False)
        s = self._server = read_direction(self._server, server.data, server.skipped, server=True)
        negotiated = negotiate(c.kexinit, s.kexinit) if c.kexinit and s.kexinit else None
        completed = None
        if c.newkeys_end is not None and s.newkeys_end is not None:
            times = [client.time_at(c.newkeys_end - 1), server.time_at(s.newkeys_end - 1)]
            completed = max(t for t in times if t is not None) if any(t is not None for t in times) else None
        failed = bool(c.error or s.error) or c.disconnect is not None or s.disconnect is not None
        both_done = c.newkeys_end is not None and s.newkeys_end is not None
        started = client.time_at(c.kexinit_end - 1) if c.kexinit_end is not None else None
        no_common = negotiated is not None and negotiated.kex is None
        return SshHandshake(c, s, negotiated, started, completed,
                            complete=both_done or failed or no_common or closed or idle,
                            closed=closed and not both_done)


def looks_like_ssh(data: bytes | bytearray) -> bool:
    """Whether a direction's first bytes are an SSH identification string's."""
    return data[:4] == b"SSH-"


class SshFlow(NamedTuple):
    """An SSH connection whose key exchange the wire view has finished with."""

    client: Endpoint
    server: Endpoint
    handshake: SshHandshake
    first_seen: float
    timed_out: bool = False
