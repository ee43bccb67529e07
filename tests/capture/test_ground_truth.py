"""`carnot runtime from-pcap` against Wireshark on public captures (tests/data/captures/NOTICE.md):
every connection with a ClientHello that tshark dissects is a line, and the two agree field by
field on SNI, version, cipher suite, negotiated group, groups and key shares offered, and the alert
that ended a failed handshake. tshark runs with out-of-order TCP reassembly on (Wireshark's default
leaves `hrr.pcap`'s ServerHello, which arrives out of order, unread)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from capture_testing import carnot, handshakes
from tshark_truth import Connection, dissect

from assess.sources.capture import import_pcaps

CAPTURES = Path(__file__).parent.parent / "data" / "captures"
# Each capture, by the class of input it stands for (the agreement rate in docs/CAPTURES.md is per class).
CLASSES: dict[str, str] = {
    "tls1.2.pcap": "TLS 1.2 and older",
    "dhe.pcap": "TLS 1.2 and older",
    "tls-conn-with-extensions.pcap": "TLS 1.2 and older",
    "missing-intermediate.pcap": "TLS 1.2 and older",
    "tls-fragmented-handshake.pcap.gz": "TLS 1.2 and older",
    "tls12-aes256gcm.pcap": "TLS 1.2 and older",
    "tls13_wolfssl.pcap": "TLS 1.3",
    "hrr.pcap": "TLS 1.3",
    "tls13-ech.pcap": "TLS 1.3",
    "openjdk-25.0.2-zeek.org.pcap": "TLS 1.3",
    "tls13-rfc8446.pcap": "TLS 1.3",
    "tls13draft16-chrome55.0.2879.0-canary.pcap": "TLS 1.3 drafts",
    "tls13draft23-chrome67.0.3368.0-canary.pcap": "TLS 1.3 drafts",
    "chrome-63.0.3211.0-canary-tls_experiment.pcap": "TLS 1.3 drafts",
    "chrome-1250-tls-x25519-kyber.pcap": "post-quantum and GREASE",
    "tls-1.2-handshake-failure.pcap": "failed handshakes",
    "tls-1.2-protocol-error.pcap": "failed handshakes",
    "tls-early-alert.pcap": "failed handshakes",
    "tls13draft16-chrome55.0.2879.0-canary-aborted.pcap": "failed handshakes",
    "smtp-starttls.pcap": "STARTTLS",
    "imap-starttls.pcap": "STARTTLS",
    "pop3-starttls.pcap": "STARTTLS",
    "xmpp-starttls.pcap": "STARTTLS",
    "ldap-starttls.pcap": "STARTTLS",
    "psql-aws-ssl-require.pcap": "STARTTLS",
    "ftp-auth-tls.pcap": "STARTTLS",
    "mysql-encrypted.pcap": "STARTTLS",
    "mysql-tls-12-amazon-rds.pcap": "STARTTLS",
    "mysql-tls-13-amazon-rds.pcap": "STARTTLS",
    "http-connect-with-header.pcap": "proxies and tunnels",
    "socks-with-ssl.pcap": "proxies and tunnels",
    "pppoe-over-qinq.pcap": "proxies and tunnels",
    "geneve-47101.pcap": "proxies and tunnels",
    "gtp-u-0x32.pcap": "proxies and tunnels",
}
COMPARED = ("sni", "tls_version", "cipher_suite", "negotiated_group", "groups_offered", "key_shares_offered", "alert")


def readable(name: str, tmp_path: Path) -> Path:
    """The capture as a file dpkt and tshark both read (a .gz is unpacked first)."""
    path = CAPTURES / name
    if path.suffix != ".gz":
        return path
    unpacked = tmp_path / path.stem
    unpacked.write_bytes(gzip.decompress(path.read_bytes()))
    return unpacked


def ours(pcap: Path, tmp_path: Path) -> dict[tuple[str, int], dict[str, object]]:
    out = tmp_path / "runtime.jsonl"
    import_pcaps([pcap], out)
    lines = [json.loads(raw) for raw in out.read_text().splitlines()]
    return {(r["src_ip"], r["src_port"]): r for r in lines if r["type"] == "handshake"}


def disagreements(line: dict[str, object], truth: Connection) -> list[str]:
    wanted = {f: truth.fatal_alert if f == "alert" else getattr(truth, f) for f in COMPARED}
    out = [f"{f}: ours {line[f]!r}, tshark {wanted[f]!r}" for f in COMPARED if line[f] != wanted[f]]
    if truth.fatal_alert is not None and line["success"] is not False:
        out.append(f"success: ours {line['success']!r} after a fatal alert")
    return out


def test_the_corpus_is_every_capture_in_the_folder() -> None:
    assert sorted(p.name for p in CAPTURES.glob("*.pcap*")) == sorted(CLASSES)


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_from_pcap_agrees_with_tshark(name: str, tmp_path: Path) -> None:
    pcap = readable(name, tmp_path)
    lines, truth = ours(pcap, tmp_path), dissect(pcap)
    assert truth, "tshark saw no ClientHello: not a useful ground truth"
    assert sorted(lines) == sorted(truth)
    found = {client: disagreements(lines[client], conn) for client, conn in truth.items()}
    assert {client: d for client, d in found.items() if d} == {}


def test_every_line_of_a_multi_file_run_names_its_own_file(tmp_path: Path) -> None:
    names = ["smtp-starttls.pcap", "tls-1.2-handshake-failure.pcap", "chrome-1250-tls-x25519-kyber.pcap"]
    out = tmp_path / "runtime.jsonl"
    result = carnot("runtime", "from-pcap", *(CAPTURES / n for n in names), "--out", out)
    assert result.returncode == 0, result.stderr
    assert sorted(Path(str(r["capture"])).name for r in handshakes(out)) == sorted(names)
