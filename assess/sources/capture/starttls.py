"""STARTTLS: a plaintext protocol that upgrades its TCP connection to TLS, as a capture shows it.

SMTP, IMAP and POP3 (`STARTTLS`, `STLS`), FTP (`AUTH TLS`, RFC 4217), XMPP (`<starttls
xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>`), LDAP (the StartTLS extended operation, OID
1.3.6.1.4.1.1466.20037), PostgreSQL (SSLRequest), MySQL/MariaDB (the SSL request after the server's
greeting), and the tunnels a client opens before its own TLS: an HTTP proxy's `CONNECT` and SOCKS 4
and 5. Pure:
the first bytes of each direction in, which protocol, which direction is the client's and where TLS
begins in each out. The live sensor does not use this: its kernel filter takes a connection only
when its first client byte starts a TLS record.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from assess.sources.runtime.reassembly import Endpoint

Key = tuple[Endpoint, Endpoint]
# A STARTTLS exchange is a few lines; a connection still plaintext after this many bytes is not one.
MAX_PLAINTEXT = 16384
_PG_SSL_REQUEST = b"\x00\x00\x00\x08\x04\xd2\x16\x2f"
# MySQL's protocol 10 greeting (3-byte length, sequence 0, version 10, the server version's first
# digit), and the client's 32-byte SSL request (sequence 1) that the ClientHello follows at once.
_MYSQL_GREETING = re.compile(rb".{3}\x00\x0a[1-9]", re.DOTALL)
_MYSQL_SSL_REQUEST = re.compile(rb"\A\x20\x00\x00\x01")
# The start of a ClientHello record, of the server's first TLS record (ServerHello or alert).
_CLIENT_HELLO = re.compile(rb"\x16\x03[\x00-\x04]..\x01", re.DOTALL)
_SERVER_TLS = re.compile(rb"\x16\x03[\x00-\x04]..\x02|\x15\x03[\x00-\x04]\x00\x02", re.DOTALL)


@dataclass(frozen=True)
class _Protocol:
    name: str
    opening: re.Pattern[bytes]  # the first bytes of the side that speaks first
    client_speaks_first: bool
    upgrade: re.Pattern[bytes]  # the client's request to start TLS


PROTOCOLS: tuple[_Protocol, ...] = (
    _Protocol("smtp", re.compile(rb"220[ -]"), False, re.compile(rb"^STARTTLS\r?$", re.I | re.M)),
    _Protocol("ftp", re.compile(rb"220[ -]"), False, re.compile(rb"^AUTH (?:TLS|SSL|TLS-C)\r?$", re.I | re.M)),
    _Protocol("imap", re.compile(rb"\* (?:OK|PREAUTH)"), False, re.compile(rb"^[^ \r\n]+ STARTTLS\r?$", re.I | re.M)),
    _Protocol("pop3", re.compile(rb"\+OK"), False, re.compile(rb"^STLS\r?$", re.I | re.M)),
    _Protocol("xmpp", re.compile(rb"\s*<(?:\?xml|stream:stream)"), True,
              re.compile(rb"<starttls[^>]*urn:ietf:params:xml:ns:xmpp-tls")),
    _Protocol("ldap", re.compile(rb"\x30"), True, re.compile(re.escape(b"1.3.6.1.4.1.1466.20037"))),
    _Protocol("postgresql", re.compile(re.escape(_PG_SSL_REQUEST)), True, re.compile(re.escape(_PG_SSL_REQUEST))),
    _Protocol("mysql", _MYSQL_GREETING, False, _MYSQL_SSL_REQUEST),
    _Protocol("http-connect", re.compile(rb"CONNECT [^\r\n]{1,1024} HTTP/1\.[01]\r?\n"), True,
              re.compile(rb"\ACONNECT [^\r\n]{1,1024} HTTP/1\.[01]\r?\n(?:[^\r\n]*\r?\n)*?\r?\n")),
    # SOCKS 5 (RFC 1928): the greeting, then a CONNECT request; SOCKS 4/4a: a CONNECT request at once.
    _Protocol("socks", re.compile(rb"\x05[\x01-\x0a]"), True, re.compile(rb"\x05\x01\x00[\x01\x03\x04]")),
    # (SOCKS 4: version, command, port, address, a user id ending in NUL; 4a then a host name)
    _Protocol("socks", re.compile(rb"\x04\x01"), True, re.compile(rb"\A\x04\x01.{6}[^\x00]*\x00", re.DOTALL)),
)


class Upgrade(NamedTuple):
    """A connection that opened like a STARTTLS protocol, and how far its upgrade has come."""

    protocol: str
    client: Key  # (sender, receiver) of the client's direction
    client_start: int | None  # where the client's ClientHello begins; None until it has been sent
    server_start: int | None  # where the server's first TLS record begins; None until then

    @property
    def started(self) -> bool:
        return self.client_start is not None and self.server_start is not None


def find_upgrade(directions: Sequence[tuple[Key, bytes | bytearray]]) -> Upgrade | None:
    """The STARTTLS protocol a connection's first bytes open, or None when they open none (or
    stayed plaintext beyond MAX_PLAINTEXT without asking for TLS). Protocols that open alike (SMTP
    and FTP both greet with 220) are told apart by the client's request; until one is seen, the
    connection is the first one's, still waiting."""
    streams = dict(directions)
    waiting: Upgrade | None = None
    for protocol in PROTOCOLS:
        for pair, data in directions:
            if not protocol.opening.match(data):
                continue
            client = pair if protocol.client_speaks_first else (pair[1], pair[0])
            client_data = streams.get(client, b"")
            server_data = streams.get((client[1], client[0]), b"")
            asked = protocol.upgrade.search(client_data, 0, MAX_PLAINTEXT)
            if asked is None:
                if waiting is None and len(client_data) <= MAX_PLAINTEXT:
                    waiting = Upgrade(protocol.name, client, None, None)
                continue
            hello = _CLIENT_HELLO.search(client_data, asked.end(), asked.end() + MAX_PLAINTEXT)
            if hello is None:
                return Upgrade(protocol.name, client, None, None)
            answer = _SERVER_TLS.search(server_data, 0, MAX_PLAINTEXT)
            return Upgrade(protocol.name, client, hello.start(), answer.start() if answer else None)
    return waiting
