"""SSH on the wire: banners, KEXINIT name-lists, RFC 4253's first-match rule, pseudo-algorithms,
pq hybrids, and hostile or cut streams (bytes built here, as RFC 4253 lays them out)."""

from __future__ import annotations

import struct

from assess.sources.runtime.ssh_wire import (
    MAX_NAMES,
    SSH_MSG_KEXINIT,
    SSH_MSG_NEWKEYS,
    SshReader,
    negotiate,
    parse_kexinit,
)
from assess.sshnames import is_pq_kex, is_pseudo_algorithm


class Bytes:
    """A StreamView over fixed bytes, every byte arriving at time 1.0."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.skipped = 0
        self.first_seq = 0

    def time_at(self, offset: int) -> float | None:
        return 1.0 if offset < len(self.data) else None


def name_list(*names: str) -> bytes:
    raw = ",".join(names).encode()
    return struct.pack(">I", len(raw)) + raw


def kexinit(kex: tuple[str, ...], host_key: tuple[str, ...] = ("ssh-ed25519",),
            ciphers: tuple[str, ...] = ("chacha20-poly1305@openssh.com", "aes128-ctr"),
            macs: tuple[str, ...] = ("hmac-sha2-256",)) -> bytes:
    body = bytes([SSH_MSG_KEXINIT]) + b"\x11" * 16 + name_list(*kex) + name_list(*host_key)
    body += name_list(*ciphers) * 2 + name_list(*macs) * 2 + name_list("none") * 2 + name_list() * 2
    return body + b"\x00" + b"\x00\x00\x00\x00"


def packet(payload: bytes) -> bytes:
    padding = 8 - (5 + len(payload)) % 8 + 4
    return struct.pack(">IB", 1 + len(payload) + padding, padding) + payload + b"\x00" * padding


def side(banner: bytes, kex: tuple[str, ...], *, newkeys: bool = True, **lists: tuple[str, ...]) -> bytes:
    data = banner + b"\r\n" + packet(kexinit(kex, **lists)) + packet(b"\x1e" + b"k" * 40)
    return data + (packet(bytes([SSH_MSG_NEWKEYS])) if newkeys else b"")


CLIENT_KEX = ("sntrup761x25519-sha512@openssh.com", "curve25519-sha256", "ext-info-c", "kex-strict-c-v00@openssh.com")
SERVER_KEX = ("curve25519-sha256", "sntrup761x25519-sha512@openssh.com", "kex-strict-s-v00@openssh.com")


def test_first_match_follows_the_clients_order_and_skips_pseudo_algorithms() -> None:
    client = parse_kexinit(kexinit(CLIENT_KEX, ciphers=("aes256-ctr", "aes128-ctr"),
                                   macs=("hmac-sha1", "hmac-sha2-256")))
    server = parse_kexinit(kexinit(SERVER_KEX, ciphers=("aes128-ctr", "aes256-ctr"),
                                   macs=("hmac-sha2-256", "hmac-sha1")))
    assert client.kex_algorithms == ("sntrup761x25519-sha512@openssh.com", "curve25519-sha256")
    assert client.extensions == ("ext-info-c", "kex-strict-c-v00@openssh.com")
    chosen = negotiate(client, server)
    assert chosen.kex == "sntrup761x25519-sha512@openssh.com"  # the client's first that the server has
    assert chosen.cipher_c2s == "aes256-ctr" and chosen.mac_c2s == "hmac-sha1"
    assert chosen.strict_kex is True


def test_pseudo_algorithms_alone_negotiate_no_kex() -> None:
    client = parse_kexinit(kexinit(("ext-info-c",)))
    server = parse_kexinit(kexinit(("ext-info-s", "curve25519-sha256")))
    assert negotiate(client, server).kex is None


def test_aead_cipher_has_no_separate_mac() -> None:
    chosen = negotiate(parse_kexinit(kexinit(CLIENT_KEX)), parse_kexinit(kexinit(SERVER_KEX)))
    assert chosen.cipher_c2s == "chacha20-poly1305@openssh.com"
    assert chosen.mac_c2s is None


def test_pq_hybrids_are_marked() -> None:
    for name in ("mlkem768x25519-sha256", "sntrup761x25519-sha512", "sntrup761x25519-sha512@openssh.com"):
        assert is_pq_kex(name)
    for name in ("curve25519-sha256", "ecdh-sha2-nistp256", "diffie-hellman-group14-sha256", "ext-info-c"):
        assert not is_pq_kex(name)
    assert is_pseudo_algorithm("kex-strict-s-v00@openssh.com") and not is_pseudo_algorithm("curve25519-sha256")


def test_a_whole_exchange_finishes_at_the_second_newkeys() -> None:
    reader = SshReader()
    client = side(b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3", CLIENT_KEX)
    server = side(b"SSH-2.0-OpenSSH_9.9", SERVER_KEX)
    summary = reader.summarise(Bytes(client), Bytes(server))
    assert summary.complete and summary.success is True
    assert summary.client.banner.software == "OpenSSH_9.2p1" and summary.client.banner.comments == "Debian-2+deb12u3"
    assert summary.negotiated.kex == "sntrup761x25519-sha512@openssh.com"


def test_bytes_arriving_in_pieces_are_read_once_each() -> None:
    reader = SshReader()
    client = side(b"SSH-2.0-c", CLIENT_KEX)
    server = side(b"SSH-2.0-s", SERVER_KEX)
    summary = None
    for cut in range(1, len(client) + 1, 7):
        summary = reader.summarise(Bytes(client[:cut]), Bytes(server[:cut]))
    summary = reader.summarise(Bytes(client), Bytes(server))
    assert summary.success is True and summary.negotiated.kex == "sntrup761x25519-sha512@openssh.com"


def test_server_lines_before_its_banner_are_allowed() -> None:
    server = b"Welcome\r\nto the host\r\n" + side(b"SSH-2.0-s", SERVER_KEX)
    summary = SshReader().summarise(Bytes(side(b"SSH-2.0-c", CLIENT_KEX)), Bytes(server))
    assert summary.success is True and summary.server.banner.software == "s"


def test_connection_closed_before_newkeys_failed() -> None:
    summary = SshReader().summarise(Bytes(side(b"SSH-2.0-c", CLIENT_KEX, newkeys=False)),
                                    Bytes(side(b"SSH-2.0-s", SERVER_KEX, newkeys=False)), closed=True)
    assert summary.success is False and summary.negotiated.kex is not None


def test_hostile_lengths_and_names_are_errors_not_exceptions() -> None:
    huge = b"SSH-2.0-c\r\n" + struct.pack(">IB", 0x7FFFFFFF, 4) + b"\x14"
    assert "binary packet length" in SshReader().summarise(Bytes(huge), Bytes(b"")).parse_error
    too_many = side(b"SSH-2.0-c", tuple(f"k{i}" for i in range(MAX_NAMES + 1)))
    assert "name-list" in SshReader().summarise(Bytes(too_many), Bytes(b"")).parse_error
    long_name = side(b"SSH-2.0-c", ("x" * 65,))
    assert "64 characters" in SshReader().summarise(Bytes(long_name), Bytes(b"")).parse_error
    no_line_end = b"SSH-2.0-" + b"a" * 300
    assert "no line end" in SshReader().summarise(Bytes(no_line_end), Bytes(b"")).parse_error
    cut = side(b"SSH-2.0-c", CLIENT_KEX)[:60]
    assert SshReader().summarise(Bytes(cut), Bytes(b""), closed=True).success is False


def test_non_ascii_banner_bytes_are_escaped() -> None:
    summary = SshReader().summarise(Bytes(b"SSH-2.0-\xff<script>\r\n"), Bytes(b""))
    assert summary.client.banner.text == "SSH-2.0-\\xff<script>"


def test_mangled_streams_never_raise() -> None:
    import random

    rng = random.Random(23)
    good_client, good_server = side(b"SSH-2.0-c", CLIENT_KEX), side(b"SSH-2.0-s", SERVER_KEX)
    for _ in range(300):
        client, server = bytearray(good_client), bytearray(good_server)
        for data in (client, server):
            for _ in range(rng.randint(1, 6)):
                data[rng.randrange(len(data))] = rng.randrange(256)
        summary = SshReader().summarise(Bytes(bytes(client)), Bytes(bytes(server)), closed=True)
        assert summary.complete


def test_ssh_protocol_1_is_named_not_parsed() -> None:
    summary = SshReader().summarise(Bytes(b"SSH-1.5-OpenSSH_6.2\n\x00\x00\x01\x04junk"),
                                    Bytes(b"SSH-1.99-OpenSSH_6.6.1p1\r\n"))
    assert summary.parse_error == "SSH protocol 1.5 (only 2.0 is read)" and summary.success is False
