"""The plaintext a connection opens with, and where its TLS begins: protocols that greet alike are
told apart by the client's request; SOCKS 4a's address and host name are not taken for TLS. Real
captures of each protocol are in the ground truth (tests/capture/test_ground_truth.py)."""

from __future__ import annotations

from assess.sources.capture.starttls import Upgrade, find_upgrade
from assess.sources.runtime.reassembly import Endpoint

CLIENT, SERVER = Endpoint("10.0.0.1", 40000), Endpoint("10.0.0.2", 21)
HELLO = b"\x16\x03\x01\x00\x30\x01" + b"\0" * 48
SERVER_HELLO = b"\x16\x03\x03\x00\x30\x02" + b"\0" * 48


def upgrade(client: bytes, server: bytes) -> Upgrade | None:
    return find_upgrade([((SERVER, CLIENT), server), ((CLIENT, SERVER), client)])


def test_smtp_and_ftp_both_greet_with_220_and_the_clients_request_names_the_protocol() -> None:
    greeting = b"220 mail.example ESMTP\r\n"
    ftp = upgrade(b"AUTH TLS\r\n" + HELLO, greeting + b"234 Proceed\r\n" + SERVER_HELLO)
    smtp = upgrade(b"EHLO a\r\nSTARTTLS\r\n" + HELLO, greeting + b"250 ok\r\n220 go\r\n" + SERVER_HELLO)
    assert (ftp.protocol, ftp.client, ftp.started) == ("ftp", (CLIENT, SERVER), True)
    assert (smtp.protocol, smtp.started) == ("smtp", True)
    waiting = upgrade(b"USER anonymous\r\n", greeting)
    assert (waiting.protocol, waiting.started) == ("smtp", False)  # the first of the two, still waiting


def test_socks4a_address_user_and_host_name_come_before_the_client_hello() -> None:
    request = b"\x04\x01\x01\xbb\x00\x00\x00\x01" + b"user\x00" + b"www.example\x00"  # 0.0.0.1: a host name follows
    found = upgrade(request + HELLO, b"\x00\x5a" + b"\0" * 6 + SERVER_HELLO)
    assert (found.protocol, found.client_start, found.server_start) == ("socks", len(request), 8)


def test_mysql_ssl_request_then_the_client_hello() -> None:
    greeting = b"\x4a\x00\x00\x00\x0a8.0.35\x00" + b"\0" * 60
    ssl_request = b"\x20\x00\x00\x01" + b"\x05\xae\xff\x01" + b"\0" * 28
    found = upgrade(ssl_request + HELLO, greeting + SERVER_HELLO)
    assert (found.protocol, found.client_start, found.server_start) == ("mysql", len(ssl_request), len(greeting))


def test_plaintext_past_the_limit_without_a_request_is_not_an_upgrade() -> None:
    assert upgrade(b"NOOP\r\n" * 3000, b"220 ftp\r\n") is None
