"""`carnot runtime from-pcap` on a generated capture of 100,000 TLS handshakes: handshakes/s and peak memory.

The capture is written here, packet by packet, with 64 connections open at a time and three kinds
of handshake in turn: TLS 1.3 with an X25519MLKEM768 key share (a 1.3 KB ClientHello split over two
segments), TLS 1.3 with x25519, and TLS 1.2 ECDHE (secp256r1 in the ServerKeyExchange). The real CLI
reads it in a child process whose peak RSS the kernel reports; the same run on a capture a tenth the
size shows that memory does not grow with the file.

tshark (Debian's) reads the same capture in the same run, extracting what Carnot reads from the hellos
(SNI, key shares, cipher suites): the CPU ratio is the comparison.

A second case is hostile: one connection whose ClientHello comes one byte per TLS record, one record
per segment, at two sizes four times apart. Its CPU time must grow four times, not sixteen.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HANDSHAKES = 100_000
CONCURRENT = 64
# ClientHello bytes of the one-byte-records case: captures of 0.19 MB and 0.76 MB, TLS streams of 15
# and 60 KB (a direction keeps at most 64 KiB, so the larger hello still fits whole).
ONE_BYTE_RECORD_HELLOS = (2_500, 10_000)
ETH = b"\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00"
SYN, ACK, FIN, PSH = 0x02, 0x10, 0x01, 0x08


def _vec(n: int, body: bytes) -> bytes:
    return len(body).to_bytes(n, "big") + body


def _ext(kind: int, body: bytes) -> bytes:
    return kind.to_bytes(2, "big") + _vec(2, body)


def _record(ctype: int, body: bytes) -> bytes:
    return bytes([ctype]) + b"\x03\x03" + _vec(2, body)


def _handshake(kind: int, body: bytes) -> bytes:
    return bytes([kind]) + len(body).to_bytes(3, "big") + body


def _client_hello(group: int, share_len: int, sni: bytes, tls13: bool) -> bytes:
    exts = _ext(0, _vec(2, b"\x00" + _vec(2, sni)))
    exts += _ext(10, _vec(2, b"\x11\xec\x00\x1d\x00\x17"))
    exts += _ext(13, _vec(2, b"\x04\x03\x08\x04"))
    if tls13:
        exts += _ext(43, _vec(1, b"\x03\x04\x03\x03"))
        exts += _ext(51, _vec(2, group.to_bytes(2, "big") + _vec(2, os.urandom(share_len))))
    body = b"\x03\x03" + os.urandom(32) + _vec(1, os.urandom(32)) + _vec(2, b"\x13\x01\x13\x02\xc0\x2f")
    return _record(22, _handshake(1, body + b"\x01\x00" + _vec(2, exts)))


def _server_flight(group: int, share_len: int, tls13: bool) -> bytes:
    if tls13:
        exts = _ext(43, b"\x03\x04") + _ext(51, group.to_bytes(2, "big") + _vec(2, os.urandom(share_len)))
        sh = b"\x03\x03" + os.urandom(32) + _vec(1, os.urandom(32)) + b"\x13\x01\x00" + _vec(2, exts)
        return _record(22, _handshake(2, sh)) + _record(20, b"\x01") + _record(23, os.urandom(900))
    sh = b"\x03\x03" + os.urandom(32) + _vec(1, os.urandom(32)) + b"\xc0\x2f\x00"
    ske = b"\x03\x00\x17" + _vec(1, b"\x04" + os.urandom(64)) + b"\x04\x03" + _vec(2, os.urandom(70))
    flight = _handshake(2, sh) + _handshake(11, _vec(3, _vec(3, os.urandom(800)))) + _handshake(12, ske) + \
        _handshake(14, b"")
    return _record(22, flight)


KINDS = (  # (group, key share bytes, TLS 1.3)
    (0x11EC, 1216, True),
    (0x001D, 32, True),
    (0x0017, 65, False),
)


def _packet(src: int, dst: int, sport: int, dport: int, seq: int, flags: int, payload: bytes) -> bytes:
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, 0, 5 << 4, flags, 65535, 0, 0)
    total = 20 + len(tcp) + len(payload)
    ip = struct.pack("!BBHHHBBHII", 0x45, 0, total, 0, 0x4000, 64, 6, 0, src, dst)
    return ETH + ip + tcp + payload


def _connection(i: int) -> list[bytes]:
    group, share_len, tls13 = KINDS[i % len(KINDS)]
    client, server = 0x0A000000 | (i % 250 + 1), 0x0A640000 | (i % 40 + 1)
    sport, dport = 1024 + i % 60000, 443
    ch = _client_hello(group, share_len, f"host{i % 5000}.example".encode(), tls13)
    flight = _server_flight(group, share_len, tls13)
    finish = _record(23, os.urandom(53)) if tls13 else _record(20, b"\x01") + _record(22, os.urandom(40))
    c_seq, s_seq = 1000 + i, 9000 + i
    out = [_packet(client, server, sport, dport, c_seq, SYN, b""),
           _packet(server, client, dport, sport, s_seq, SYN | ACK, b"")]
    c_seq, s_seq = c_seq + 1, s_seq + 1
    for part in (ch[:1000], ch[1000:]):
        if part:
            out.append(_packet(client, server, sport, dport, c_seq, ACK | PSH, part))
            c_seq += len(part)
    for start in range(0, len(flight), 1448):
        out.append(_packet(server, client, dport, sport, s_seq + start, ACK | PSH, flight[start : start + 1448]))
    s_seq += len(flight)
    if not tls13:
        out.append(_packet(server, client, dport, sport, s_seq, ACK | PSH, _record(20, b"\x01")))
    out.append(_packet(client, server, sport, dport, c_seq, ACK | PSH, finish))
    out.append(_packet(client, server, sport, dport, c_seq + len(finish), FIN | ACK, b""))
    return out


def generate(path: Path, handshakes: int) -> int:
    """Write the capture; returns its packet count."""
    packets = 0
    t = 1_760_000_000.0
    with path.open("wb") as fh:
        fh.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        for first in range(0, handshakes, CONCURRENT):
            batch = [_connection(i) for i in range(first, min(first + CONCURRENT, handshakes))]
            for step in range(max(len(c) for c in batch)):
                for conn in batch:
                    if step < len(conn):
                        t += 0.00001
                        frame = conn[step]
                        fh.write(struct.pack("<IIII", int(t), int((t % 1) * 1e6), len(frame), len(frame)) + frame)
                        packets += 1
    return packets


def one_byte_records_capture(path: Path, hello_bytes: int) -> None:
    """One TLS 1.3 handshake whose ClientHello (`hello_bytes` long, padded) is sent one byte per
    record, one record per TCP segment, and then answered and finished as usual."""
    exts = _ext(0, _vec(2, b"\x00" + _vec(2, b"tiny.example"))) + _ext(10, _vec(2, b"\x00\x1d")) + \
        _ext(43, _vec(1, b"\x03\x04")) + _ext(51, _vec(2, b"\x00\x1d" + _vec(2, os.urandom(32))))
    body = b"\x03\x03" + os.urandom(32) + _vec(1, os.urandom(32)) + _vec(2, b"\x13\x01") + b"\x01\x00"
    exts += _ext(21, bytes(hello_bytes - 4 - len(body) - 2 - len(exts) - 4))  # padding
    hello = _handshake(1, body + _vec(2, exts))
    client, server, sport = 0x0A000001, 0x0A000002, 40000
    frames = [_packet(client, server, sport, 443, 1000, SYN, b""),
              _packet(server, client, 443, sport, 9000, SYN | ACK, b"")]
    seq = 1001
    for i in range(len(hello)):
        frames.append(_packet(client, server, sport, 443, seq, ACK | PSH, _record(22, hello[i : i + 1])))
        seq += 6
    frames.append(_packet(server, client, 443, sport, 9001, ACK | PSH, _server_flight(0x001D, 32, True)))
    frames.append(_packet(client, server, sport, 443, seq, ACK | PSH, _record(23, os.urandom(53))))
    frames.append(_packet(client, server, sport, 443, seq + 58, FIN | ACK, b""))
    with path.open("wb") as fh:
        fh.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        for i, frame in enumerate(frames):
            fh.write(struct.pack("<IIII", 1_760_000_000, i, len(frame), len(frame)) + frame)


def _one_byte_records(tmp: Path) -> dict[str, Any]:
    """CPU seconds of reading the one-byte-records capture at both sizes (best of three, in this
    process: the child's start-up would hide them), and their ratio."""
    from assess.sources.capture.importer import import_pcaps

    figures: dict[str, Any] = {}
    for hello_bytes in ONE_BYTE_RECORD_HELLOS:
        pcap = tmp / f"hello_{hello_bytes}_in_1_byte_records.pcap"
        one_byte_records_capture(pcap, hello_bytes)
        times = []
        for _ in range(3):
            started = time.process_time()
            report = import_pcaps([pcap], tmp / "one_byte_records.jsonl")
            times.append(time.process_time() - started)
        if report.handshakes != 1:
            raise RuntimeError(f"the {hello_bytes}-byte ClientHello in one-byte records was not found")
        figures[f"one_byte_records_{hello_bytes}_capture_mib"] = round(pcap.stat().st_size / 2**20, 2)
        figures[f"one_byte_records_{hello_bytes}_cpu_s"] = round(min(times), 3)
    small, large = (figures[f"one_byte_records_{n}_cpu_s"] for n in ONE_BYTE_RECORD_HELLOS)
    figures["one_byte_records_cpu_ratio_4x_bytes"] = round(large / small, 2)
    return figures


def _measure(pcap: Path, out: Path) -> tuple[float, float, int, dict[str, Any]]:
    """(wall seconds, CPU seconds, peak RSS in MiB, the run's JSON report) of `carnot runtime from-pcap`
    in a child. CPU seconds are the steadier figure on a shared machine."""
    code = ("import resource, sys, time; from assess.cli import main; t = time.perf_counter(); "
            "rc = main(sys.argv[1:]); print('ELAPSED', time.perf_counter() - t, file=sys.stderr); "
            "r = resource.getrusage(resource.RUSAGE_SELF); print('CPU', r.ru_utime + r.ru_stime, file=sys.stderr); "
            "print('MAXRSS', r.ru_maxrss, file=sys.stderr); sys.exit(rc)")
    result = subprocess.run([sys.executable, "-c", code, "runtime", "from-pcap", str(pcap), "--out", str(out),
                             "--json"], capture_output=True, text=True, check=True)
    wanted = ("ELAPSED", "CPU", "MAXRSS")
    figures = dict(line.split(" ", 1) for line in result.stderr.splitlines() if line.startswith(wanted))
    return (float(figures["ELAPSED"]), float(figures["CPU"]), int(figures["MAXRSS"]) // 1024,
            json.loads(result.stdout))


TSHARK_FIELDS = ("tls.handshake.extensions_server_name", "tls.handshake.extensions_key_share_group",
                 "tls.handshake.ciphersuite")


def _tshark(pcap: Path) -> dict[str, Any]:
    """tshark (Debian's) extracting SNI, key shares and cipher suites from the hellos of the same
    capture: wall and CPU seconds and peak RSS, read by GNU time."""
    tshark = shutil.which("tshark")
    if tshark is None or not Path("/usr/bin/time").exists():
        return {"tshark": "not installed (apt-get install -y tshark time)"}
    fields = [arg for field in TSHARK_FIELDS for arg in ("-e", field)]
    result = subprocess.run(["/usr/bin/time", "-f", "TIME %e %U %S %M", tshark, "-r", str(pcap), "-Y",
                             "tls.handshake.type==1 || tls.handshake.type==2", "-T", "fields", *fields],
                            capture_output=True, text=True, check=True)
    hellos = sum(1 for line in result.stdout.splitlines() if line.strip())
    _, wall, user, system, peak = next(x for x in result.stderr.splitlines() if x.startswith("TIME ")).split()
    return {"tshark_hellos": hellos, "tshark_s": float(wall), "tshark_cpu_s": round(float(user) + float(system), 2),
            "tshark_peak_rss_mib": int(peak) // 1024}


def run() -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="carnot-pcap-bench-") as tmp:
        big, small = Path(tmp) / "handshakes_100k.pcap", Path(tmp) / "handshakes_10k.pcap"
        started = time.perf_counter()
        packets = generate(big, HANDSHAKES)
        generated_s = time.perf_counter() - started
        generate(small, HANDSHAKES // 10)
        _, small_cpu, small_rss, _ = _measure(small, Path(tmp) / "small.jsonl")
        elapsed, cpu, peak, report = _measure(big, Path(tmp) / "big.jsonl")
        if report["handshakes"] != HANDSHAKES:
            raise RuntimeError(f"expected {HANDSHAKES} handshakes, the importer found {report['handshakes']}")
        tshark = _tshark(big)
        if "tshark_cpu_s" in tshark:
            tshark["carnot_to_tshark_cpu_ratio"] = round(cpu / tshark["tshark_cpu_s"], 2)
            tshark["carnot_to_tshark_wall_ratio"] = round(elapsed / tshark["tshark_s"], 2)
        return _one_byte_records(Path(tmp)) | tshark | {
            "handshakes": HANDSHAKES,
            "packets": packets,
            "capture_mib": round(big.stat().st_size / 2**20, 1),
            "generate_s": round(generated_s, 2),
            "parse_s": round(elapsed, 2),
            "parse_cpu_s": round(cpu, 2),
            "handshakes_per_s": round(HANDSHAKES / elapsed, 1),
            "handshakes_per_cpu_s": round(HANDSHAKES / cpu, 1),
            "packets_per_s": round(packets / elapsed, 1),
            "peak_rss_mib": peak,
            "peak_rss_mib_10k_capture": small_rss,
            "peak_rss_ratio_100k_to_10k": round(peak / small_rss, 3),
            "handshakes_per_cpu_s_10k_capture": round(HANDSHAKES / 10 / small_cpu, 1),
            "pq_hybrid_handshakes": report["pq_hybrid_handshakes"],
            "evictions": report["evictions"],
        }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
