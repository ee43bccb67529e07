"""The struct fast path for plain Ethernet/IPv4/TCP frames decodes exactly as dpkt does, frame by frame:
on every recorded capture, and on a frame truncated at every length and with its header bytes changed."""

from __future__ import annotations

import random
from pathlib import Path

from assess.sources.capture import packets
from assess.sources.capture.pcap import read_packets

CAPTURES = Path(__file__).resolve().parents[1] / "data" / "captures"


def _by_dpkt(linktype: int, frame: bytes) -> packets.TcpSegment | packets.UdpDatagram | packets.Skip:
    return packets.decode_with_dpkt(linktype, frame)


def test_every_frame_of_the_recorded_captures_decodes_as_dpkt_decodes_it() -> None:
    frames = 0
    for capture in sorted(CAPTURES.glob("*.pcap")):
        for packet in read_packets(capture):
            assert packets.decode(packet.linktype, packet.frame) == _by_dpkt(packet.linktype, packet.frame), capture
            frames += 1
    assert frames > 500


def test_a_frame_truncated_or_with_changed_headers_decodes_as_dpkt_decodes_it() -> None:
    capture = CAPTURES / "tls1.2.pcap"
    frame = next(p.frame for p in read_packets(capture) if len(p.frame) > 200)
    rng = random.Random(25)
    variants = [frame[:n] for n in range(len(frame) + 1)]
    for _ in range(3000):
        changed = bytearray(frame)
        for _ in range(rng.randrange(1, 4)):
            changed[rng.randrange(12, 14 + 60)] = rng.randrange(256)
        variants.append(bytes(changed[: rng.randrange(40, len(frame) + 1)]))
    for variant in variants:
        assert packets.decode(packets.LINKTYPE_ETHERNET, variant) == _by_dpkt(packets.LINKTYPE_ETHERNET, variant)
