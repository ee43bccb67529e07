"""The struct reader of pcap records reads what dpkt's reader reads: every recorded capture, written
again in each byte order and time resolution, gives the same packets and times, frame by frame."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import dpkt
import pytest

from assess.sources.capture.pcap import read_packets

CAPTURES = Path(__file__).resolve().parents[1] / "data" / "captures"


def _rewritten(data: bytes, order: str, nanoseconds: bool) -> bytes:
    """A little-endian microsecond pcap written again in `order` ("<" or ">"), its times in
    nanoseconds (each given 999 more) if asked."""
    header = struct.unpack_from("<IHHiIII", data)
    out = [struct.pack(order + "IHHiIII", 0xA1B23C4D if nanoseconds else 0xA1B2C3D4, *header[1:])]
    pos = 24
    while pos < len(data):
        seconds, fraction, caplen, length = struct.unpack_from("<IIII", data, pos)
        fraction = fraction * 1000 + 999 if nanoseconds else fraction
        out.append(struct.pack(order + "IIII", seconds, fraction, caplen, length) + data[pos + 16 : pos + 16 + caplen])
        pos += 16 + caplen
    return b"".join(out)


@pytest.mark.parametrize(("order", "nanoseconds"), [("<", False), ("<", True), (">", False), (">", True)])
def test_every_recorded_pcap_reads_as_dpkt_reads_it(tmp_path: Path, order: str, nanoseconds: bool) -> None:
    packets = 0
    for capture in sorted(CAPTURES.glob("*.pcap")):
        data = capture.read_bytes()
        if data[:4] != b"\xd4\xc3\xb2\xa1":
            continue
        rewritten = tmp_path / capture.name
        rewritten.write_bytes(_rewritten(data, order, nanoseconds))
        expected = [(float(ts), bytes(frame)) for ts, frame in dpkt.pcap.Reader(io.BytesIO(rewritten.read_bytes()))]
        assert [(p.ts, p.frame) for p in read_packets(rewritten)] == expected, capture
        packets += len(expected)
    assert packets > 500
