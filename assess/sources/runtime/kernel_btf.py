"""Offsets of kernel struct fields, read from the running kernel's BTF (/sys/kernel/btf/vmlinux).

bcc compiles against the headers at /lib/modules/$(uname -r)/build, which may be another kernel's
(`carnot doctor --fix` links the distribution's when the kernel has none of its own): fine for
tracepoints, whose layouts come from tracefs, wrong for any struct the BPF programs walk. The few
fields the socket lookups read (task -> file table -> file -> socket -> sock) are located here
instead, through libbpf's BTF reader (Debian's libbpf1, which bcc depends on), and handed to the
BPF program as constants. No BTF, no libbpf: None; then UDP owners are not looked up, and the socket
SSL_set_fd names is not known in the kernel (an implicit handshake takes the first socket of its role).
"""

from __future__ import annotations

import ctypes
import ctypes.util
from functools import cache

BTF_KIND_INT, BTF_KIND_PTR, BTF_KIND_STRUCT, BTF_KIND_UNION = 1, 2, 4, 5
BTF_KIND_TYPEDEF, BTF_KIND_VOLATILE, BTF_KIND_CONST, BTF_KIND_RESTRICT = 8, 9, 10, 11
_QUALIFIERS = (BTF_KIND_TYPEDEF, BTF_KIND_VOLATILE, BTF_KIND_CONST, BTF_KIND_RESTRICT)

# (macro, struct, path of members): what bpf/tls_probes.c's sock_of_fd() and sock I/O programs read.
FIELDS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("OFF_TASK_FILES", "task_struct", ("files",)),
    ("OFF_FILES_FDT", "files_struct", ("fdt",)),
    ("OFF_FDT_MAX_FDS", "fdtable", ("max_fds",)),
    ("OFF_FDT_FD", "fdtable", ("fd",)),
    ("OFF_FILE_PRIVATE_DATA", "file", ("private_data",)),
    ("OFF_SOCKET_SK", "socket", ("sk",)),
    ("OFF_SOCKET_FILE", "socket", ("file",)),
    ("OFF_SOCK_PROTOCOL", "sock", ("sk_protocol",)),
    ("OFF_SOCK_FAMILY", "sock", ("__sk_common", "skc_family")),
    ("OFF_SOCK_NUM", "sock", ("__sk_common", "skc_num")),
)


class _BtfType(ctypes.Structure):
    _fields_ = (("name_off", ctypes.c_uint32), ("info", ctypes.c_uint32), ("size_or_type", ctypes.c_uint32))


class _BtfMember(ctypes.Structure):
    _fields_ = (("name_off", ctypes.c_uint32), ("type", ctypes.c_uint32), ("offset", ctypes.c_uint32))


class _Btf:
    def __init__(self, lib: ctypes.CDLL, handle: int) -> None:
        self._lib, self._handle = lib, handle

    def type(self, type_id: int) -> _BtfType:
        pointer = self._lib.btf__type_by_id(self._handle, type_id)
        return ctypes.cast(pointer, ctypes.POINTER(_BtfType)).contents

    def name(self, offset: int) -> str:
        raw = self._lib.btf__name_by_offset(self._handle, offset)
        return raw.decode() if raw else ""

    def members(self, type_id: int) -> list[_BtfMember]:
        t = self.type(type_id)
        vlen = t.info & 0xFFFF
        start = ctypes.addressof(t) + ctypes.sizeof(_BtfType)
        return list((_BtfMember * vlen).from_address(start))

    def strip(self, type_id: int) -> int:
        """Through typedefs and qualifiers to the type itself."""
        for _ in range(16):
            t = self.type(type_id)
            if (t.info >> 24) & 0x1F not in _QUALIFIERS:
                return type_id
            type_id = t.size_or_type
        return type_id

    def find(self, struct_id: int, name: str) -> tuple[int, int] | None:
        """(byte offset, type id) of member `name`, looking into anonymous structs and unions."""
        kind_flag = self.type(struct_id).info >> 31
        for m in self.members(struct_id):
            bits = m.offset & 0xFFFFFF if kind_flag else m.offset
            if kind_flag and m.offset >> 24:
                continue  # a bitfield: not readable as a whole field
            if self.name(m.name_off) == name:
                return bits // 8, m.type
            if m.name_off == 0:
                inner_id = self.strip(m.type)
                if (self.type(inner_id).info >> 24) & 0x1F in (BTF_KIND_STRUCT, BTF_KIND_UNION):
                    found = self.find(inner_id, name)
                    if found is not None:
                        return bits // 8 + found[0], found[1]
        return None


def _libbpf() -> ctypes.CDLL | None:
    path = ctypes.util.find_library("bpf") or "libbpf.so.1"
    try:
        lib = ctypes.CDLL(path)
    except OSError:
        return None
    lib.btf__load_vmlinux_btf.restype = ctypes.c_void_p
    lib.btf__find_by_name_kind.argtypes = (ctypes.c_void_p, ctypes.c_char_p, ctypes.c_uint32)
    lib.btf__find_by_name_kind.restype = ctypes.c_int32
    lib.btf__type_by_id.argtypes = (ctypes.c_void_p, ctypes.c_uint32)
    lib.btf__type_by_id.restype = ctypes.c_void_p
    lib.btf__name_by_offset.argtypes = (ctypes.c_void_p, ctypes.c_uint32)
    lib.btf__name_by_offset.restype = ctypes.c_char_p
    lib.btf__free.argtypes = (ctypes.c_void_p,)
    return lib


@cache
def struct_offsets() -> dict[str, int] | None:
    """FIELDS' offsets in the running kernel, by macro name; None when BTF or libbpf is missing."""
    lib = _libbpf()
    if lib is None:
        return None
    handle = lib.btf__load_vmlinux_btf()
    if not handle:
        return None
    try:
        btf = _Btf(lib, handle)
        out: dict[str, int] = {}
        for macro, struct, path in FIELDS:
            type_id = lib.btf__find_by_name_kind(handle, struct.encode(), BTF_KIND_STRUCT)
            if type_id <= 0:
                return None
            offset = 0
            for name in path:
                found = btf.find(btf.strip(type_id), name)
                if found is None:
                    return None
                offset += found[0]
                type_id = found[1]
            out[macro] = offset
        return out
    finally:
        lib.btf__free(handle)
