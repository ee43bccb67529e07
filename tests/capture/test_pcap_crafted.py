"""Captures crafted from the bytes of a real recorded handshake (tlslite-ng, X25519MLKEM768, a
ClientHello over 1.2 KB): split, reordered, retransmitted, overlapping, cut, on every link type,
next to traffic that is not TLS, and files damaged in the middle."""

from __future__ import annotations

from pathlib import Path

import dpkt
import pytest
from capture_testing import Line, Recording, carnot, handshakes, read_lines
from pcapcraft import (
    Conn,
    Seg,
    bsd_null,
    ethernet,
    linux_sll,
    linux_sll2,
    read_pcap,
    streams,
    tcp_packets,
    write_pcap,
    write_pcapng,
)

pytestmark = [pytest.mark.root]
FIN = dpkt.tcp.TH_FIN | dpkt.tcp.TH_ACK


@pytest.fixture(scope="module")
def pq_streams(recording: Recording) -> tuple[bytes, bytes]:
    client, server = streams(recording.pcap, recording.ports["pq"])
    assert client[:1] == b"\x16" and client[5] == 1 and server[5] == 2
    return client, server


def hello_length(client: bytes) -> int:
    return 5 + int.from_bytes(client[3:5], "big")  # the ClientHello record, header included


def run(pcap: Path, *extra: str) -> tuple[int, str, list[Line]]:
    out = pcap.with_suffix(".jsonl")
    result = carnot("runtime", "from-pcap", pcap, "--out", out, *extra)
    return result.returncode, result.stderr, read_lines(out) if out.exists() else []


def pq_conn(port: int = 51000, ip: str = "10.0.0.1", server: str = "10.0.0.2") -> Conn:
    return Conn(ip, port, server, 443)


def assert_pq_line(line: Line) -> None:
    assert (line["tls_version"], line["negotiated_group"], line["pq_hybrid"]) == ("TLSv1.3", "X25519MLKEM768", True)
    assert line["key_shares_offered"] == ["X25519MLKEM768"] and line["sni"] == "pq.test"
    assert line["success"] is True and line["source"] == "pcap"


def test_clienthello_split_reordered_retransmitted_and_overlapping_is_reassembled(
    pq_streams: tuple[bytes, bytes], tmp_path: Path
) -> None:
    client, server = pq_streams
    n = hello_length(client)
    assert n > 1200  # the hybrid key share makes it span several segments on a real network
    a, b = n // 3, 2 * n // 3
    segments = [
        Seg(True, b, client[b:n]),  # the last third first
        Seg(True, 0, client[:a]),
        Seg(True, 0, client[:a]),  # retransmitted
        Seg(True, a - 100, client[a - 100 : b + 50]),  # overlaps both neighbours
        Seg(False, 0, server),
        Seg(True, n, client[n:]),
        Seg(True, len(client), flags=FIN),
    ]
    frames = [ethernet(p) for p in tcp_packets(pq_conn(), segments)]
    code, err, lines = run(write_pcap(tmp_path / "clienthello_split_3_segments_reordered.pcap", frames))
    assert code == 0, err
    [line] = [r for r in lines if r["type"] == "handshake"]
    assert_pq_line(line)
    assert (line["src_ip"], line["src_port"], line["dst_ip"], line["dst_port"]) == ("10.0.0.1", 51000, "10.0.0.2", 443)


def test_clienthello_in_one_byte_records_one_per_segment_is_found(pq_streams: tuple[bytes, bytes],
                                                                  tmp_path: Path) -> None:
    client, server = pq_streams
    n = hello_length(client)
    one_byte_records = b"".join(b"\x16\x03\x03\x00\x01" + client[i : i + 1] for i in range(5, n))
    segments = [Seg(True, i, one_byte_records[i : i + 6]) for i in range(0, len(one_byte_records), 6)]
    segments += [Seg(False, 0, server), Seg(True, len(one_byte_records), client[n:])]
    frames = [ethernet(p) for p in tcp_packets(pq_conn(), segments)]
    code, err, lines = run(write_pcap(tmp_path / "clienthello_in_1_byte_records.pcap", frames))
    assert code == 0, err
    [line] = [r for r in lines if r["type"] == "handshake"]
    assert_pq_line(line)


def test_far_ahead_segments_are_held_only_up_to_the_limit_and_counted(pq_streams: tuple[bytes, bytes],
                                                                      tmp_path: Path) -> None:
    """Before its ClientHello, a client sends 2,000 overlapping segments far ahead of it (2.8 MB
    that would all be held): its direction holds 64 KiB of them, drops the rest and says so."""
    client, server = pq_streams
    n = hello_length(client)
    flood = [Seg(True, 5000 + i, b"\x17" * 1400) for i in range(2000)]
    segments = [*flood, Seg(True, 0, client[:n]), Seg(False, 0, server), Seg(True, n, client[n:])]
    frames = [ethernet(p) for p in tcp_packets(pq_conn(), segments)]
    code, err, lines = run(write_pcap(tmp_path / "far_ahead_overlapping_flood.pcap", frames), "--json")
    assert code == 0, err
    [line] = [r for r in lines if r["type"] == "handshake"]
    assert_pq_line(line)
    assert lines[-1]["out_of_order_dropped"] == 2000 - 65536 // 1400


@pytest.mark.parametrize(("linktype", "wrap"), [
    (dpkt.pcap.DLT_LINUX_SLL, linux_sll),
    (276, linux_sll2),
    (dpkt.pcap.DLT_NULL, bsd_null),
    (dpkt.pcap.DLT_RAW, lambda ip: ip),
], ids=["linux_sll", "linux_sll2", "bsd_null", "raw_ip"])
@pytest.mark.parametrize("family", ["ipv4", "ipv6"])
def test_every_link_type_and_ip_version(pq_streams: tuple[bytes, bytes], tmp_path: Path, linktype: int,
                                        wrap: object, family: str) -> None:
    client, server = pq_streams
    conn = pq_conn() if family == "ipv4" else Conn("2001:db8::1", 51000, "2001:db8::2", 443)
    segments = [Seg(True, 0, client[:1000]), Seg(True, 1000, client[1000:]), Seg(False, 0, server)]
    frames = [wrap(p) for p in tcp_packets(conn, segments)]  # type: ignore[operator]
    code, err, lines = run(write_pcap(tmp_path / f"{family}.pcap", frames, linktype=linktype))
    assert code == 0, err
    [line] = [r for r in lines if r["type"] == "handshake"]
    assert_pq_line(line)
    assert line["dst_ip"] == conn.server_ip


def test_clienthello_cut_mid_record_gives_no_line_and_is_counted(pq_streams: tuple[bytes, bytes],
                                                                tmp_path: Path) -> None:
    client, _ = pq_streams
    frames = [ethernet(p) for p in tcp_packets(pq_conn(), [Seg(True, 0, client[:700])])]  # the capture ends here
    code, err, lines = run(write_pcap(tmp_path / "clienthello_cut_mid_record.pcap", frames))
    assert code == 0, err
    assert [r for r in lines if r["type"] == "handshake"] == []
    assert lines[-1]["no_client_hello"] == 1 and lines[-1]["unfinished_at_end"] == 1


def test_non_tls_on_443_is_counted_never_reported(pq_streams: tuple[bytes, bytes], tmp_path: Path) -> None:
    client, server = pq_streams
    http = tcp_packets(Conn("10.0.0.3", 40000, "10.0.0.2", 443),
                       [Seg(True, 0, b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"), Seg(False, 0, b"HTTP/1.1 200 OK\r\n\r\n")])
    looks_like_tls = tcp_packets(Conn("10.0.0.4", 40001, "10.0.0.2", 443),
                                 [Seg(True, 0, b"\x16\x03\x01\x00\x10\x01" + b"\xff" * 200, FIN)])
    ssh = tcp_packets(Conn("10.0.0.5", 40002, "10.0.0.2", 443), [Seg(False, 0, b"SSH-2.0-OpenSSH_9.2\r\n")])
    tls = tcp_packets(pq_conn(), [Seg(True, 0, client), Seg(False, 0, server)])
    frames = [ethernet(p) for p in http + looks_like_tls + ssh + tls]
    code, err, lines = run(write_pcap(tmp_path / "non_tls_on_443.pcap", frames))
    assert code == 0, err
    [line] = [r for r in lines if r["type"] == "handshake"]
    assert_pq_line(line)
    assert lines[-1]["not_tls"] == 3


def test_a_full_table_evicts_oldest_first_counts_it_and_keeps_what_was_seen(pq_streams: tuple[bytes, bytes],
                                                                            tmp_path: Path) -> None:
    client, server = pq_streams
    conns = [pq_conn(port=52000 + i) for i in range(5)]
    hellos = [tcp_packets(c, [Seg(True, 0, client[: hello_length(client)])]) for c in conns]
    answers = [tcp_packets(c, [Seg(False, 0, server), Seg(True, hello_length(client), client[hello_length(client):])],
                           handshake=False) for c in conns]
    frames = [ethernet(p) for group in hellos + answers for p in group]  # five open at once
    code, err, lines = run(write_pcap(tmp_path / "five_at_once.pcap", frames), "--max-connections", "2", "--json")
    assert code == 0, err
    found = [r for r in lines if r["type"] == "handshake"]
    assert sorted(r["src_port"] for r in found) == [52000 + i for i in range(5)]  # nothing lost without a trace
    assert lines[-1]["cache_evictions"] == lines[-1]["evictions"] == 3
    evicted = [r for r in found if r["negotiated_group"] is None]
    assert len(evicted) == 3 and all(r["key_shares_offered"] == ["X25519MLKEM768"] for r in evicted)
    assert all(r["success"] is None for r in evicted)  # not observed, not guessed
    assert sum(1 for r in found if r["negotiated_group"] == "X25519MLKEM768") == 2


# --- damaged files -------------------------------------------------------------------------------

def _packet_offsets(pcap: Path) -> list[int]:
    """Byte offset of every packet record in a classic pcap (24-byte header, 16-byte record headers)."""
    offsets, pos = [], 24
    for _, frame in read_pcap(pcap):
        offsets.append(pos)
        pos += 16 + len(frame)
    return offsets


@pytest.mark.parametrize("where", ["syn", "client_hello"])
def test_truncated_pcap_keeps_every_handshake_before_the_cut_and_exits_2(recording: Recording, tmp_path: Path,
                                                                          where: str) -> None:
    packets = read_pcap(recording.pcap)
    offsets = _packet_offsets(recording.pcap)
    # Cut inside the tlslite-ng connection's SYN, or in the middle of its ClientHello's record (its
    # packet is cut, so the file ends mid-record): the four OpenSSL handshakes precede either.
    tcps = [dpkt.ethernet.Ethernet(f).data.data for _, f in packets]
    pq_packets = [i for i, t in enumerate(tcps) if recording.ports["pq"] in (t.sport, t.dport)]
    k = pq_packets[0] if where == "syn" else next(i for i in pq_packets if tcps[i].data[:1] == b"\x16")
    cut = tmp_path / f"loopback_cut_in_{where}.pcap"
    cut.write_bytes(recording.pcap.read_bytes()[: offsets[k] + 16 + (20 if where == "syn" else 54 + 300)])
    full_out = tmp_path / "full.jsonl"
    assert carnot("runtime", "from-pcap", recording.pcap, "--out", full_out).returncode == 0
    code, err, lines = run(cut)
    assert code == 2
    assert err.strip() == (f"carnot: error: {cut}: damaged at packet {k + 1} (byte offset {offsets[k]}): the file "
                           f"ends inside this packet; 4 handshake(s) read before the damage are in "
                           f"{cut.with_suffix('.jsonl')}")
    kept = {r["sni"]: r for r in lines if r["type"] == "handshake"}
    assert set(kept) == {"x25519.test", "p256.test", "ecdhe12.test", "rsa12.test"}
    for line in handshakes(full_out):
        if line["sni"] in kept:
            assert kept[line["sni"]] | {"capture": None} == line | {"capture": None}
    assert lines[-1]["type"] == "metrics" and lines[-1]["damaged_files"] == 1


def test_truncated_pcapng_block_names_the_packet(recording: Recording, tmp_path: Path) -> None:
    ng = write_pcapng(tmp_path / "whole.pcapng", read_pcap(recording.pcap))
    cut = tmp_path / "cut.pcapng"
    cut.write_bytes(ng.read_bytes()[:-30])
    code, err, lines = run(cut)
    assert code == 2 and f"{cut}: damaged at packet {len(read_pcap(recording.pcap))} (byte offset " in err
    assert len([r for r in lines if r["type"] == "handshake"]) == 6  # the last packet was a FIN


@pytest.mark.parametrize(("content", "message"), [
    (b"", "not a pcap or pcapng capture"),
    (b"GET / HTTP/1.1\r\n\r\n" * 10, "not a pcap or pcapng capture"),
    (b"\xd4\xc3\xb2\xa1\x02\x00", "not a readable capture"),
    (b"\xd4\xc3\xb2\xa1\x02\x00\x04\x00" + b"\0" * 8 + b"\xff\xff\x00\x00" + b"\x69\x00\x00\x00", "link type 105"),
    # a record that claims a 4 GB packet: read as far as the file goes, not allocated
    (b"\xd4\xc3\xb2\xa1\x02\x00\x04\x00" + b"\0" * 8 + b"\xff\xff\x00\x00\x01\x00\x00\x00"
     + b"\x01\0\0\0\0\0\0\0" + b"\xf0\xff\xff\xff" * 2 + b"x" * 100, "damaged at packet 1 (byte offset 24)"),
])
def test_not_a_capture_is_a_clean_error(tmp_path: Path, content: bytes, message: str) -> None:
    bad = tmp_path / "bad.pcap"
    bad.write_bytes(content)
    code, err, _ = run(bad)
    assert code == 2 and err.startswith(f"carnot: error: {bad}: ") and message in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_a_damaged_file_does_not_stop_the_others(recording: Recording, tmp_path: Path) -> None:
    bad = tmp_path / "bad.pcap"
    bad.write_bytes(recording.pcap.read_bytes()[:200])
    out = tmp_path / "both.jsonl"
    result = carnot("runtime", "from-pcap", bad, recording.pcap, "--out", out)
    assert result.returncode == 2 and f"{bad}: damaged at packet" in result.stderr
    assert len(handshakes(out)) == 6


def test_snaplen_cut_segments_are_counted_and_give_no_guess(pq_streams: tuple[bytes, bytes], tmp_path: Path) -> None:
    client, server = pq_streams
    frames = [ethernet(p)[:300] for p in tcp_packets(pq_conn(), [Seg(True, 0, client), Seg(False, 0, server)])]
    code, err, lines = run(write_pcap(tmp_path / "snaplen_300.pcap", frames))
    assert code == 0, err
    assert [r for r in lines if r["type"] == "handshake"] == []
    assert lines[-1]["snapped_segments"] == 2 and lines[-1]["no_client_hello"] == 1


def test_a_capture_rotated_into_two_files_loses_no_handshake(pq_streams: tuple[bytes, bytes], tmp_path: Path) -> None:
    client, server = pq_streams
    n = hello_length(client)
    frames = [ethernet(p) for p in tcp_packets(pq_conn(), [Seg(True, 0, client[:600]), Seg(True, 600, client[600:n]),
                                                            Seg(False, 0, server), Seg(True, n, client[n:])])]
    first = write_pcap(tmp_path / "trace.pcap0", frames[:3])  # SYN, SYN-ACK, half the ClientHello
    second = write_pcap(tmp_path / "trace.pcap1", frames[3:], t0=1.7e9 + 1)
    out = tmp_path / "rotated.jsonl"
    result = carnot("runtime", "from-pcap", first, second, "--out", out)
    assert result.returncode == 0, result.stderr
    [line] = handshakes(out)
    assert_pq_line(line)
    assert line["capture"] == str(second)


def test_a_handshake_silent_past_the_idle_timeout_is_written_as_unfinished(pq_streams: tuple[bytes, bytes],
                                                                           tmp_path: Path) -> None:
    client, server = pq_streams
    n = hello_length(client)
    stalled = [(1.7e9 + i * 0.001, ethernet(p)) for i, p in enumerate(
        tcp_packets(pq_conn(), [Seg(True, 0, client[:n]), Seg(False, 0, server)]))]  # no client Finished
    chatter = tcp_packets(Conn("10.0.0.8", 41000, "10.0.0.9", 80), [Seg(True, i * 10, b"GET /chatter ")
                                                                   for i in range(1100)])
    later = [(1.7e9 + 120 + i * 0.001, ethernet(p)) for i, p in enumerate(chatter)]  # two minutes on
    ng = write_pcapng(tmp_path / "stalled.pcapng", stalled + later)
    code, err, lines = run(ng, "--idle-timeout", "30")
    assert code == 0, err
    [line] = [r for r in lines if r["type"] == "handshake"]
    assert line["negotiated_group"] == "X25519MLKEM768" and line["success"] is None  # not seen to finish
    assert lines[-1]["idle_timeouts"] == lines[-1]["correlation_timeouts"] == 1
    assert lines[-1]["not_tls"] == 1


def test_hostile_frames_never_break_the_decoder(pq_streams: tuple[bytes, bytes]) -> None:
    import random

    from assess.sources.capture.packets import SUPPORTED_LINKTYPES, IpFragment, Skip, TcpSegment, UdpDatagram, decode

    client, _ = pq_streams
    rng = random.Random(1)
    ip4 = tcp_packets(pq_conn(), [Seg(True, 0, client[:200])])[-1]
    ip6 = tcp_packets(Conn("2001:db8::1", 1, "2001:db8::2", 443), [Seg(True, 0, client[:200])])[-1]
    frames = [ethernet(ip4, (1, 2)), linux_sll(ip6), linux_sll2(ip4), bsd_null(ip6), ip4, ip6]
    for linktype in sorted(SUPPORTED_LINKTYPES):
        for frame in frames:
            for cut in range(0, len(frame), 7):
                assert isinstance(decode(linktype, frame[:cut]), (Skip, TcpSegment, UdpDatagram, IpFragment))
            for _ in range(200):
                mangled = bytearray(frame)
                for _ in range(rng.randint(1, 8)):
                    mangled[rng.randrange(len(mangled))] = rng.randrange(256)
                assert isinstance(decode(linktype, bytes(mangled)), (Skip, TcpSegment, UdpDatagram, IpFragment))


@pytest.mark.parametrize("form", ["pcap", "pcapng"])
def test_mangled_capture_files_give_lines_or_a_clean_error(recording: Recording, tmp_path: Path, form: str) -> None:
    import random

    from assess.errors import InputError
    from assess.sources.capture.importer import import_pcaps

    packets = read_pcap(recording.pcap)[:40]
    whole = write_pcap(tmp_path / "w.pcap", [f for _, f in packets]) if form == "pcap" else \
        write_pcapng(tmp_path / "w.pcapng", packets)
    data = whole.read_bytes()
    rng = random.Random(7)
    for i in range(60):
        mangled = bytearray(data)
        for _ in range(rng.randint(1, 6)):
            mangled[rng.randrange(len(mangled))] = rng.randrange(256)
        bad = tmp_path / f"mangled{i}.{form}"
        bad.write_bytes(bytes(mangled))
        try:
            import_pcaps([bad], tmp_path / "out.jsonl")
        except InputError as e:
            assert str(bad) in e.one_line()


def test_tls_already_past_its_handshake_is_counted_apart(pq_streams: tuple[bytes, bytes], tmp_path: Path) -> None:
    client, _ = pq_streams
    n = hello_length(client)
    # The capture began after the handshake: only the client's encrypted records are in it.
    frames = [ethernet(p) for p in tcp_packets(pq_conn(), [Seg(True, n, client[n:])], handshake=False)]
    code, err, lines = run(write_pcap(tmp_path / "mid_stream.pcap", frames))
    assert code == 0, err
    assert [r for r in lines if r["type"] == "handshake"] == []
    assert (lines[-1]["tls_mid_stream"], lines[-1]["not_tls"]) == (1, 0)


def test_pcapng_with_interfaces_of_different_link_types(pq_streams: tuple[bytes, bytes], tmp_path: Path) -> None:
    from pcapcraft import write_multi_interface_pcapng

    client, server = pq_streams
    conn = pq_conn()
    packets = []
    for i, ip in enumerate(tcp_packets(conn, [Seg(True, 0, client[:900]), Seg(True, 900, client[900:]),
                                              Seg(False, 0, server)])):
        to_server = dpkt.ip.IP(ip).dst == bytes([10, 0, 0, 2])
        # Client-to-server packets were seen on an Ethernet interface, the answers on a raw-IP tunnel.
        packets.append((0, 1.7e9 + i * 0.25, ethernet(ip)) if to_server else (1, 1.7e9 + i * 0.25, ip))
    packets.insert(2, (2, 1.7e9 + 0.3, b"\x00" * 40))  # a frame from an 802.11 interface
    ng = write_multi_interface_pcapng(tmp_path / "three_interfaces.pcapng",
                                      [dpkt.pcap.DLT_EN10MB, dpkt.pcap.DLT_RAW, 105], packets)
    code, err, lines = run(ng)
    assert code == 0, err
    [line] = [r for r in lines if r["type"] == "handshake"]
    assert_pq_line(line)
    assert line["ts"].startswith("2023-11-14T22:13:2")  # nanosecond resolution read from the interface
    assert lines[-1]["skipped_unsupported_link_type"] == 1


def test_an_ssh_server_banner_from_a_connection_begun_before_the_capture_is_no_crash(tmp_path: Path) -> None:
    """The capture began mid-connection: only the server's banner (port 22 to the client's port) and
    nothing from the client; the client's direction is the one from the higher port, never seen."""
    banner = tcp_packets(Conn("10.0.0.6", 40003, "10.0.0.2", 22), [Seg(False, 0, b"SSH-2.0-OpenSSH_9.2\r\n")],
                         handshake=False)
    code, err, lines = run(write_pcap(tmp_path / "ssh_banner_only.pcap", [ethernet(p) for p in banner]))
    assert code == 0, err
    assert [r for r in lines if r["type"] == "ssh"] == []
    assert lines[-1]["ssh_flows"] == 0
