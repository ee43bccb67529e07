"""Public QUIC and SSH captures (Zeek's test traces, tests/data/captures/NOTICE.md) read by
`carnot runtime from-pcap` and by tshark: the two must agree field by field."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from capture_testing import carnot, read_lines
from channel_truth import quic_hellos, ssh_kexinits
from tshark_truth import tshark

from assess.sources.capture import import_pcaps
from assess.sshnames import is_pseudo_algorithm

DATA = Path(__file__).parents[1] / "data" / "captures" / "channels"
QUIC = ["quicv2-echo-443.pcap", "quicv2-http3-443.pcap", "curl-8.1.2-dev-http3-www-google-de.pcap",
        "chromium-115.0.5790.110-api-cirrus-com.pcap", "quic-multiple-initial-fragmented-crypto.pcap",
        "quic-decrypt-fail-google-de-51833.pcap", "quicdoq.pcap", "quic-go-interop-handshake.pcap",
        "quic-go-interop-retry.pcap"]
# file -> the server ports tshark must be told are SSH
SSH = {"ssh_kex_mlkem-first-40.pcap": (2299,), "ssh_kex_curve25519.pcap": (), "ssh-on-port-80.pcap": (80,),
       "ssh-single-conn.pcap": ()}


def _read(pcap: Path, tmp_path: Path) -> list[dict]:
    out = tmp_path / "runtime.jsonl"
    import_pcaps([pcap], out)  # (in this process: the CLI's own path is tested in test_ssh_quic_recorded.py)
    return read_lines(out)


@pytest.mark.parametrize("name", QUIC)
def test_quic_capture_agrees_with_tshark(name: str, tmp_path: Path) -> None:
    truth = quic_hellos(DATA / name, (853,) if name == "quicdoq.pcap" else ())
    assert truth, "tshark sees a QUIC ClientHello"
    ours = {(r["src_ip"], r["src_port"]): r for r in _read(DATA / name, tmp_path)
            if r["type"] == "handshake" and r["transport"] == "quic"}
    assert set(ours) == set(truth)
    for client, hello in truth.items():
        line = ours[client]
        assert line["sni"] == hello.sni
        assert line["groups_offered"] == hello.groups_offered
        assert line["key_shares_offered"] == hello.key_shares_offered
        assert line["cipher_suite"] == hello.cipher_suite
        assert line["negotiated_group"] == hello.negotiated_group
        assert line["tls_version"] == hello.tls_version


@pytest.mark.parametrize("name", sorted(SSH))
def test_ssh_capture_agrees_with_tshark(name: str, tmp_path: Path) -> None:
    truth = ssh_kexinits(DATA / name, SSH[name])
    assert truth
    ours = {(r["src_ip"], r["src_port"]): r for r in _read(DATA / name, tmp_path) if r["type"] == "ssh"}
    assert set(ours) == set(truth)
    for client, kex in truth.items():
        line = ours[client]
        assert (line["client_banner"], line["server_banner"]) == (kex.client_banner, kex.server_banner)
        assert line["kex_offered_client"] == [k for k in kex.kex_client if not is_pseudo_algorithm(k)]
        assert line["kex_offered_server"] == [k for k in kex.kex_server if not is_pseudo_algorithm(k)]
        assert line["kex"] in line["kex_offered_client"] and line["kex"] in line["kex_offered_server"]
        assert line["host_key_algorithm"] in kex.host_key_client
        assert line["cipher_client_to_server"] in kex.ciphers_client


def test_mlkem_capture_is_a_pq_hybrid_session(tmp_path: Path) -> None:
    [line] = [r for r in _read(DATA / "ssh_kex_mlkem-first-40.pcap", tmp_path) if r["type"] == "ssh"]
    assert (line["kex"], line["pq_hybrid"], line["success"]) == ("mlkem768x25519-sha256", True, True)


def test_server_lines_before_the_banner_are_read_past(tmp_path: Path) -> None:
    """tshark stops dissecting a server that sends lines before its banner; the bytes show the banner
    Carnot reports (RFC 4253 4.2 allows such lines)."""
    pcap = DATA / "server-pre-banner-data.pcap"
    [line] = [r for r in _read(pcap, tmp_path) if r["type"] == "ssh"]
    stream = subprocess.run([tshark(), "-n", "-r", str(pcap), "-q", "-z", "follow,tcp,ascii,0"], capture_output=True,
                            text=True, check=True, timeout=60).stdout
    assert line["server_banner"] == "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u5" and line["server_banner"] in stream
    assert line["kex"] == "sntrup761x25519-sha512@openssh.com" and line["pq_hybrid"] is True


# What Zeek logs for the same captures (its ssh.log baselines, github:zeek/zeek a13de64fbbdb,
# testing/btest/Baseline/scripts.base.protocols.ssh.<test>/ssh.log): client port -> cipher_alg,
# mac_alg, compression_alg, kex_alg, host_key_alg, each the client-to-server choice.
ZEEK_SSH_LOG = {
    "ssh_kex_mlkem-first-40.pcap": {49046: ("chacha20-poly1305@openssh.com", "umac-64-etm@openssh.com", "none",
                                            "mlkem768x25519-sha256", "ssh-ed25519")},  # mlkem_kex
    "server-pre-banner-data.pcap": {55343: ("aes192-ctr", "hmac-sha2-256", "zlib@openssh.com",
                                            "sntrup761x25519-sha512@openssh.com", "ssh-ed25519")},  # pre-banner
    "ssh_kex_curve25519.pcap": {60906: ("chacha20-poly1305@openssh.com", "hmac-sha2-512-etm@openssh.com", "none",
                                        "curve25519-sha256", "ssh-ed25519-cert-v01@openssh.com")},  # curve25519_kex
}


@pytest.mark.parametrize("name", sorted(ZEEK_SSH_LOG))
def test_ssh_negotiation_agrees_with_zeeks_ssh_log(name: str, tmp_path: Path) -> None:
    ours = {r["src_port"]: r for r in _read(DATA / name, tmp_path) if r["type"] == "ssh"}
    for port, (cipher, mac, compression, kex, host_key) in ZEEK_SSH_LOG[name].items():
        line = ours[port]
        assert (line["cipher_client_to_server"], line["compression_client_to_server"], line["kex"],
                line["host_key_algorithm"]) == (cipher, compression, kex, host_key)
        # Zeek names the MAC first-match even for an AEAD cipher, whose MAC is not used: Carnot says null.
        assert line["mac_client_to_server"] == (None if cipher.startswith("chacha20") else mac)


def test_a_damaged_ssh_capture_keeps_its_sessions_and_says_so(tmp_path: Path) -> None:
    cut = tmp_path / "cut.pcap"
    cut.write_bytes((DATA / "ssh-on-port-80.pcap").read_bytes()[:6000])
    result = carnot("runtime", "from-pcap", cut, "--out", tmp_path / "out.jsonl")
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "damaged at packet 31" in result.stderr and "1 SSH session(s) read before the damage" in result.stderr
    assert [r["type"] for r in read_lines(tmp_path / "out.jsonl")] == ["ssh", "metrics"]
