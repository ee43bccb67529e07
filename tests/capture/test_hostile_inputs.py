"""Inputs that would make a reader hang or allocate without end: devices, pipes whose writer never
stops, length fields that claim gigabytes. Each is refused at once or stops at a documented limit."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import threading
import time
import tracemalloc
from pathlib import Path

import pytest
from capture_testing import carnot, handshakes

from assess.sources.capture.pcap import MAX_PACKET_RECORD, MAX_PCAPNG_BLOCK, CaptureDamage, read_packets
from assess.sources.capture.zeek import MAX_LINE_BYTES

PCAP_HEADER = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1)  # Ethernet
SSL_LOG = ("#separator \\x09\n#fields\tts\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tcurve\n"
           "1764000000.0\t10.0.0.1\t51000\t10.0.0.2\t443\tX25519MLKEM768\n")


class PipeWriter(threading.Thread):
    """Opens a FIFO for writing once a reader has it open, writes `head` and then, if there is one,
    `chunk` until the reader goes away; `written` says how much got through."""

    def __init__(self, fifo: Path, head: bytes, chunk: bytes | None) -> None:
        super().__init__(daemon=True)
        self.fifo, self.head, self.chunk = fifo, head, chunk
        self.written = 0

    def run(self) -> None:
        deadline = time.monotonic() + 60
        while True:  # non-blocking, so a reader that never comes cannot hang the test here
            try:
                fd = os.open(self.fifo, os.O_WRONLY | os.O_NONBLOCK)
                break
            except OSError:
                if time.monotonic() > deadline:
                    return
                time.sleep(0.01)
        os.set_blocking(fd, True)
        try:
            self.written += os.write(fd, self.head)
            while self.chunk:
                self.written += os.write(fd, self.chunk)
        except BrokenPipeError:
            pass
        finally:
            os.close(fd)


def run_on_fifo(tmp_path: Path, command: str, head: bytes,
                chunk: bytes | None) -> tuple[subprocess.CompletedProcess[str], PipeWriter, Path]:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    writer = PipeWriter(fifo, head, chunk)
    writer.start()
    out = tmp_path / "out.jsonl"
    result = subprocess.run([sys.executable, "-m", "assess", "runtime", command, str(fifo), "--out", str(out)],
                            capture_output=True, text=True, timeout=60)
    writer.join(10)
    return result, writer, out


@pytest.mark.parametrize("command", ["from-pcap", "from-zeek"])
def test_a_device_is_refused_at_once(tmp_path: Path, command: str) -> None:
    result = carnot("runtime", command, "/dev/zero", "--out", tmp_path / "out.jsonl")
    assert result.returncode == 2
    assert result.stderr.strip() == "carnot: error: /dev/zero: not a regular file (a device or socket); expected a file"


def test_a_zeek_log_is_read_from_a_pipe(tmp_path: Path) -> None:
    result, _, out = run_on_fifo(tmp_path, "from-zeek", SSL_LOG.encode(), None)
    assert result.returncode == 0, result.stderr
    [line] = handshakes(out)
    assert line["negotiated_group"] == "X25519MLKEM768" and line["capture_line"] == 3


def test_a_zeek_line_that_never_ends_stops_at_the_line_limit(tmp_path: Path) -> None:
    """A pipe whose writer sends a record and then bytes without a newline, for ever: the record
    before it is kept, the endless line is an error naming its file and line, read no further than
    the limit."""
    result, writer, out = run_on_fifo(tmp_path, "from-zeek", SSL_LOG.encode(), b"x" * 65536)
    assert result.returncode == 2
    assert result.stderr.strip() == (f"carnot: error: {tmp_path / 'pipe'}:4: a line longer than {MAX_LINE_BYTES} "
                                     f"bytes: not a Zeek log line; 1 handshake(s) read before the damage are in {out}")
    assert len(handshakes(out)) == 1
    assert writer.written < MAX_LINE_BYTES + (1 << 20)  # the limit, a pipe's buffer and a chunk or two


def test_a_deeply_nested_json_line_is_a_clean_error(tmp_path: Path) -> None:
    log = tmp_path / "ssl.json"
    record = {"ts": 1.0, "id.orig_h": "10.0.0.1", "id.orig_p": 51000, "id.resp_h": "10.0.0.2", "id.resp_p": 443}
    log.write_text(json.dumps(record) + "\n" + "[" * 200_000 + "\n")
    result = carnot("runtime", "from-zeek", log, "--out", tmp_path / "out.jsonl")
    assert result.returncode == 2 and result.stderr.startswith(f"carnot: error: {log}:2: not a JSON object")
    assert "Traceback" not in result.stderr and len(handshakes(tmp_path / "out.jsonl")) == 1


def _record(caplen: int, frame: bytes = b"") -> bytes:
    return struct.pack("<IIII", 1_700_000_000, 0, caplen, caplen) + frame


def test_a_pcap_record_claiming_4_gib_is_damage_and_never_allocated(tmp_path: Path) -> None:
    """The record's length is refused before it is read: not 4 GiB, and not the 16 MiB that follow."""
    pcap = tmp_path / "caplen_4gib.pcap"
    pcap.write_bytes(PCAP_HEADER + _record(60, bytes(60)) + _record(0xFFFFFFFF) + bytes(16 << 20))
    tracemalloc.start()
    try:
        with pytest.raises(CaptureDamage) as damage:
            for _ in read_packets(pcap):
                pass
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert damage.value.one_line() == (f"{pcap}: damaged at packet 2 (byte offset 100): a record that claims "
                                       f"4294967295 bytes (at most {MAX_PACKET_RECORD} are read)")
    assert peak < 1 << 20


def test_a_pcapng_block_claiming_4_gib_is_damage(tmp_path: Path) -> None:
    section = struct.pack("<III", 0x0A0D0D0A, 28, 0x1A2B3C4D) + struct.pack("<HHq", 1, 0, -1) + struct.pack("<I", 28)
    pcapng = tmp_path / "block_4gib.pcapng"
    pcapng.write_bytes(section + struct.pack("<II", 6, 0xFFFFFFFC) + bytes(1 << 20))
    with pytest.raises(CaptureDamage, match=f"a record that claims {0xFFFFFFFC - 8} bytes "
                                            f"\\(at most {MAX_PCAPNG_BLOCK} are read\\)"):
        for _ in read_packets(pcapng):
            pass


def test_a_pcap_from_a_pipe_with_an_endless_4_gib_record_stops_at_once(tmp_path: Path) -> None:
    result, writer, out = run_on_fifo(tmp_path, "from-pcap", PCAP_HEADER + _record(0xFFFFFFFF), bytes(65536))
    assert result.returncode == 2
    assert result.stderr.startswith(f"carnot: error: {tmp_path / 'pipe'}: damaged at packet 1 (byte offset 24): "
                                    "a record that claims 4294967295 bytes"), result.stderr
    assert handshakes(out) == []
    assert writer.written < 4 << 20
