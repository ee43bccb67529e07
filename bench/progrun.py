"""Run a loaded BPF socket filter (or cgroup skb program) on one packet in the kernel (BPF_PROG_TEST_RUN), once or many
times, without a socket or any traffic: the filter's verdict and the kernel's own average run time.

Python's bcc module has no binding for the command, so this is the bpf(2) call by hand; the
attribute layout is `test` of union bpf_attr (include/uapi/linux/bpf.h).
"""

from __future__ import annotations

import ctypes
import os
import socket
import struct
from pathlib import Path
from typing import Any

from assess.sources.runtime.cgrouplink import bpf_call

BPF_PROG_TEST_RUN = 10
_TEST = struct.Struct("=IIIIQQII")  # prog_fd, retval, data_size_in/out, data_in/out, repeat, duration
BPF_DIR = Path(__file__).resolve().parents[1] / "bpf"
# The sensor's compile-time settings at their defaults, with small rings (sensor.py's attach()).
CFLAGS = ["-DMAX_PACKETS=1024", "-DSUMMARISE=1", "-DEVENT_RING_PAGES=64", "-DWIRE_RING_PAGES=64",
          "-DWAKEUP_EVERY=16", "-DWIRE_WAKEUP_EVERY=16", "-DHELLO_MAX=2048"]


def bcc_for_benchmark() -> tuple[Any, str | None]:
    """(Debian's bcc module, None) where a benchmark can load BPF programs, else (None, why not)."""
    try:
        import bcc  # Debian's python3-bpfcc; PyPI's `bcc` is another project
    except ImportError:
        return None, "needs Debian's python3-bpfcc in this environment (carnot doctor --fix)"
    if os.geteuid() != 0:
        return None, "needs root to load BPF programs"
    return bcc, None


def load_filter(bcc: Any, *cflags: str, extra_text: str = "", name: str = "tls_wire",
                kind: str = "SOCKET_FILTER") -> tuple[Any, int]:
    """(the BPF object, the program's fd) of bpf/tls_probes.c and tls_wire.c with the sensor's
    default settings (CFLAGS, copied by hand from sensor.py's attach(); without the kernel's BTF
    offsets, which the filter's hot path does not use, or the loopback check at its entry, two
    field reads), `cflags` added and `extra_text` appended; `name` is the program loaded, as a
    program of type `kind` (a bcc.BPF attribute: SOCKET_FILTER, or CGROUP_SKB for loopback's)."""
    text = (BPF_DIR / "tls_probes.c").read_text() + "\n" + (BPF_DIR / "tls_wire.c").read_text() + "\n" + extra_text
    bpf = bcc.BPF(text=text, cflags=CFLAGS + list(cflags))
    return bpf, bpf.load_func(name, getattr(bcc.BPF, kind)).fd


def run_filter(fd: int, ip_packet: bytes, repeat: int = 1) -> tuple[int, int]:
    """(verdict, nanoseconds per run) of socket filter `fd` on `ip_packet`, run `repeat` times.

    The kernel wants an Ethernet frame and strips its header, so the filter sees the packet from
    its IP header as it does on a SOCK_DGRAM packet socket. The verdict is 0 (not passed) or how
    many bytes the filter passes; the time is the kernel's mean over the repeats."""
    ethertype = b"\x08\x00" if ip_packet[0] >> 4 == 4 else b"\x86\xdd"
    frame = b"\x00" * 12 + ethertype + ip_packet
    data = ctypes.create_string_buffer(frame, len(frame))
    out = ctypes.create_string_buffer(len(frame) + 512)
    attr = ctypes.create_string_buffer(128)
    _TEST.pack_into(attr, 0, fd, 0, len(frame), len(out), ctypes.addressof(data), ctypes.addressof(out),
                    repeat, 0)
    if bpf_call(BPF_PROG_TEST_RUN, attr) != 0:
        raise OSError(ctypes.get_errno(), "BPF_PROG_TEST_RUN")
    _, verdict, _, _, _, _, _, duration = _TEST.unpack_from(attr)
    return struct.unpack("=i", struct.pack("=I", verdict))[0], duration


def tcp(sport: int, dport: int, seq: int, flags: int, payload: bytes = b"", *, timestamps: bool = True) -> bytes:
    options = b"\x01\x01\x08\x0a" + b"\x00" * 8 if timestamps else b""
    header = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, 1, (5 + len(options) // 4) << 4, flags,
                         65535, 0, 0)
    return header + options + payload


def ipv4(src: str, dst: str, segment: bytes, *, options: bytes = b"", frag: int = 0x4000) -> bytes:
    ihl = 5 + len(options) // 4
    return struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, ihl * 4 + len(segment), 7, frag, 64, 6, 0,
                       socket.inet_aton(src), socket.inet_aton(dst)) + options + segment


def ipv6(src: str, dst: str, segment: bytes) -> bytes:
    return struct.pack("!IHBB16s16s", 6 << 28, len(segment), 6, 64, socket.inet_pton(socket.AF_INET6, src),
                       socket.inet_pton(socket.AF_INET6, dst)) + segment
