"""A TAP interface for the live tests: frames written to it arrive on it as if from a wire, so a
sensor watching it (`--iface`) sees packets no local TLS stack can be made to send (IP fragments of
a TCP segment, IPv6 extension headers), and a sensor watching only it sees no loopback traffic.
The interface has no address: the kernel drops what arrives on it after the sensor's tap."""

from __future__ import annotations

import fcntl
import os
import struct
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

_TUNSETIFF = 0x400454CA
_IFF_TAP, _IFF_NO_PI = 0x0002, 0x1000
_MAC = bytes.fromhex("020000000001")
_PEER_MAC = bytes.fromhex("020000000002")


@dataclass(frozen=True)
class Tap:
    name: str
    fd: int

    def send(self, ip_packet: bytes) -> None:
        """One IPv4 or IPv6 packet, in an Ethernet frame addressed to this interface."""
        ethertype = b"\x08\x00" if ip_packet[0] >> 4 == 4 else b"\x86\xdd"
        os.write(self.fd, _MAC + _PEER_MAC + ethertype + ip_packet)


@contextmanager
def tap_interface(name: str) -> Iterator[Tap]:
    fd = os.open("/dev/net/tun", os.O_RDWR)
    try:
        fcntl.ioctl(fd, _TUNSETIFF, struct.pack("16sH", name.encode(), _IFF_TAP | _IFF_NO_PI))
        subprocess.run(["ip", "link", "set", "dev", name, "address", _MAC.hex(":"), "up"], check=True)
        yield Tap(name, fd)
    finally:
        os.close(fd)  # the interface goes with its last descriptor
