"""Wireshark's reading of a capture (tshark's dissection), as the fields of Carnot's runtime lines.

tshark prints code points; they are named through `assess.tlsnames` on both sides, so what is
compared is what each tool read, not how each spells it. One entry per TCP connection with a
ClientHello, keyed by the client's endpoint.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from assess.tlsnames import (
    GREASE,
    alert_name,
    cipher_suite_name,
    group_name,
    is_tls13,
    version_name,
)

FIELDS = (
    "tcp.stream", "ip.src", "ipv6.src", "tcp.srcport", "tls.handshake.type", "tls.handshake.extensions_server_name",
    "tls.handshake.version", "tls.handshake.extensions.supported_version", "tls.handshake.ciphersuite",
    "tls.handshake.extensions_supported_group", "tls.handshake.extensions_key_share_group",
    "tls.handshake.server_named_curve", "tls.alert_message.level", "tls.alert_message.desc",
)
FILTER = "tls.handshake.type==1 || tls.handshake.type==2 || tls.handshake.type==12 || tls.alert_message"
HRR_RANDOM = "cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c"


@dataclass
class Connection:
    """What tshark shows of one connection's handshake, named as Carnot names it."""

    client: tuple[str, int]
    sni: str | None = None
    groups_offered: list[str] | None = None
    key_shares_offered: list[str] = field(default_factory=list)
    tls_version: str | None = None
    cipher_suite: str | None = None
    negotiated_group: str | None = None
    fatal_alert: str | None = None  # the first alert that ended the handshake in plaintext
    server_hello_seen: bool = False


def tshark() -> str:
    path = shutil.which("tshark")
    if path is None:
        pytest.fail("tshark is not installed (noxfile.py's TEST_PACKAGES installs it)")
    return path


def _codes(text: str) -> list[int]:
    return [int(v, 0) for v in text.split(",") if v]


def dissect(pcap: Path) -> dict[tuple[str, int], Connection]:
    # (Wireshark leaves segments that arrive out of order unreassembled unless asked; Carnot reassembles them.)
    args = [tshark(), "-n", "-o", "tcp.reassemble_out_of_order:TRUE", "-r", str(pcap), "-Y", FILTER,
            "-T", "fields", "-E", "separator=\t", "-E", "aggregator=,", "-e", "tls.handshake.random",
            *(x for f in FIELDS for x in ("-e", f))]
    out = subprocess.run(args, capture_output=True, text=True, check=True, timeout=120).stdout
    by_stream: dict[str, Connection] = {}
    for row in out.splitlines():
        random, stream, ip4, ip6, port, types, sni, version, versions, suite, groups, shares, curve, level, desc = \
            row.split("\t")
        kinds = _codes(types)
        if 1 in kinds and stream not in by_stream:
            # A tunnelled packet has an address per IP header, outer first: the connection is the innermost's.
            # (A trace mixing IPv4 and IPv6 headers in one packet would need frame.protocols; none is here.)
            by_stream[stream] = Connection(((ip4 or ip6).split(",")[-1], int(port.split(",")[-1])))
        conn = by_stream.get(stream)
        if conn is None:
            continue
        if 1 in kinds:
            conn.sni = conn.sni or sni or None
            if conn.groups_offered is None:
                conn.groups_offered = [group_name(g) for g in _codes(groups) if g not in GREASE] if groups else []
            for g in _codes(shares):
                if g not in GREASE and group_name(g) not in conn.key_shares_offered:
                    conn.key_shares_offered.append(group_name(g))
        elif 2 in kinds and HRR_RANDOM not in random:
            conn.server_hello_seen = True
            selected = _codes(versions) or _codes(version)
            code = selected[-1]
            conn.tls_version = version_name(code)
            conn.cipher_suite = cipher_suite_name(_codes(suite)[-1])
            if is_tls13(code) and shares:
                conn.negotiated_group = group_name(_codes(shares)[-1])
        if 12 in kinds and curve:
            conn.negotiated_group = group_name(_codes(curve)[-1])
        for lvl, what in zip(_codes(level), _codes(desc), strict=False):
            if conn.fatal_alert is None and (lvl != 1 or what == 0):
                conn.fatal_alert = alert_name(what)
    return {conn.client: conn for conn in by_stream.values()}
