"""RawMap: BPF map access on preallocated buffers, its layout checked against bcc's ctypes classes."""

from __future__ import annotations

import ctypes
from collections.abc import Iterator
from typing import Any

import pytest

from assess.sources.runtime.ippacket import ip_bytes
from assess.sources.runtime.sensor import _FLOW_KEY, _OWNER, _OWNER_KEY, RawMap, SensorUnavailable


class _Key(ctypes.Structure):
    _fields_ = [("a_port", ctypes.c_uint16), ("b_port", ctypes.c_uint16), ("a_ip", ctypes.c_uint32 * 4),
                ("b_ip", ctypes.c_uint32 * 4)]


class _Table:
    Key = _Key
    Leaf = ctypes.c_uint8
    map_fd = -1


def test_a_key_whose_fields_moved_stops_the_sensor_at_attach() -> None:
    # Same size as the decoder's flow key (36 bytes), fields in another order: only offsets tell.
    with pytest.raises(SensorUnavailable, match="map 'flows': its key has field offsets"):
        RawMap({"flows": _Table()}, "flows", _FLOW_KEY)


@pytest.mark.root
def test_owner_and_flow_layouts_match_the_compiled_programs(bpf_programs: Any) -> None:
    owners = RawMap(bpf_programs, "owner_by_client", _OWNER_KEY, _OWNER)
    assert owners.get(ip_bytes("127.0.0.1"), ip_bytes("127.0.0.2"), 1, 1, 2, 0) is None  # nothing connected yet
    RawMap(bpf_programs, "flows", _FLOW_KEY).delete(bytes(16), bytes(16), 3, 4)  # a missing key is not an error


@pytest.fixture(scope="module")
def bpf_programs() -> Iterator[Any]:
    from bcc import BPF

    from assess.sources.runtime.sensor import _source

    bpf = BPF(text=_source("tls_probes.c") + "\n" + _source("tls_wire.c"), cflags=["-DMAX_PACKETS=16"])
    yield bpf
    bpf.cleanup()
