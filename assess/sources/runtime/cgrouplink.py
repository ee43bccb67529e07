"""A BPF program attached to a cgroup v2 through a BPF link, and the things it needs from the host:
where the root of the cgroup v2 hierarchy is mounted and which network namespace this process is in.

A link, not the older BPF_PROG_ATTACH that bcc's `attach_func` uses: a program attached that way
stays attached after its process is gone (killed, crashed), and an abandoned program on the root
cgroup would go on costing every socket of the host. A link is undone by the kernel when its
last file descriptor is closed, which a process's death does. Python's bcc module has no binding
for BPF_LINK_CREATE, so this is the bpf(2) call by hand (union bpf_attr's `link_create`,
include/uapi/linux/bpf.h).
"""

from __future__ import annotations

import ctypes
import errno as errnos
import os
import platform
import socket
import struct
from pathlib import Path

# bpf(2)'s number by architecture (where Carnot's sensor may run); elsewhere the call fails with
# ENOSYS and loopback is watched by a packet socket.
SYS_BPF = {"x86_64": 321, "aarch64": 280, "riscv64": 280, "ppc64le": 361, "s390x": 351}.get(platform.machine(), -1)
BPF_PROG_LOAD = 5
BPF_PROG_TYPE_CGROUP_SKB = 8
BPF_FUNC_GET_NETNS_COOKIE = 122
BPF_PROG_QUERY = 16
BPF_LINK_CREATE = 28
BPF_CGROUP_INET_INGRESS = 0
SO_NETNS_COOKIE = 71  # Linux 5.14
_LINK_CREATE = struct.Struct("=IIII")  # prog_fd, target_fd, attach_type, flags
_QUERY = struct.Struct("=IIIIQI")  # target_fd, attach_type, query_flags, attach_flags, prog_ids, prog_cnt
# prog_type, insn_cnt, insns, license, log_level, log_size, log_buf, kern_version, prog_flags, prog_name,
# prog_ifindex, expected_attach_type
_PROG_LOAD = struct.Struct("=IIQQIIQII16sII")
_libc = ctypes.CDLL(None, use_errno=True)


def bpf_call(command: int, attr: ctypes.Array[ctypes.c_char]) -> int:
    """bpf(2); the result, or -1 with ctypes' errno set."""
    if SYS_BPF < 0:
        ctypes.set_errno(errnos.ENOSYS)
        return -1
    return int(_libc.syscall(SYS_BPF, command, attr, len(attr)))


def cgroup2_root(mountinfo: str | None = None) -> Path | None:
    """Where the root of the cgroup v2 hierarchy is mounted (the unified hierarchy of a hybrid
    host included), or None. `mountinfo`: the text of /proc/self/mountinfo (read when None)."""
    if mountinfo is None:
        try:
            mountinfo = Path("/proc/self/mountinfo").read_text()
        except OSError:
            return None
    for line in mountinfo.splitlines():
        fields = line.split()
        if " - " not in line or len(fields) < 5:
            continue
        fstype = line.split(" - ", 1)[1].split()[0]
        if fstype == "cgroup2" and fields[3] == "/":  # (fields[3]: the root of the mount within its filesystem)
            return Path(fields[4].replace("\\040", " "))
    return None


def is_hierarchy_root(cgroup: Path) -> bool:
    """Whether `cgroup` is the root of the whole hierarchy, not a cgroup namespace's (a container's)
    root mounted as if it were: every cgroup but the real root has `cgroup.events`."""
    return cgroup.is_dir() and not (cgroup / "cgroup.events").exists()


def netns_cookie_in_cgroup_programs() -> str | None:
    """None when this kernel lets a cgroup skb program call bpf_get_netns_cookie() (Linux 6.15;
    loopback's wire view needs it to keep to its own network namespace), else why not: a program of
    three instructions is loaded to find out, and closed."""
    insns = b"".join(struct.pack("=BBhi", code, 0, 0, imm)
                     for code, imm in ((0x85, BPF_FUNC_GET_NETNS_COOKIE), (0xB7, 1), (0x95, 0)))  # call; r0 = 1; exit
    program = ctypes.create_string_buffer(insns, len(insns))
    licence = ctypes.create_string_buffer(b"GPL")
    attr = ctypes.create_string_buffer(128)
    _PROG_LOAD.pack_into(attr, 0, BPF_PROG_TYPE_CGROUP_SKB, 3, ctypes.addressof(program), ctypes.addressof(licence),
                         0, 0, 0, 0, 0, b"carnot_probe", 0, 0)
    fd = bpf_call(BPF_PROG_LOAD, attr)
    if fd >= 0:
        os.close(fd)
        return None
    error = ctypes.get_errno()
    if error in (errnos.EPERM, errnos.EACCES) and os.geteuid() != 0:
        return "not allowed to load BPF programs (run as root)"
    if error == errnos.ENOSYS:
        return f"no bpf(2) number known for {platform.machine()}"
    return "this kernel does not let cgroup programs tell network namespaces apart (Linux 6.15)"


def loopback_view_problem() -> tuple[Path | None, str | None]:
    """(the cgroup v2 root loopback's wire view attaches to, None) where the host allows that view,
    else (None, why not)."""
    root = cgroup2_root()
    if root is None:
        return None, "no cgroup v2 hierarchy is mounted"
    if not is_hierarchy_root(root):
        return None, (f"{root} is a cgroup namespace's root, not the host's (a container?): a program there "
                      "would not see the sockets of processes outside it")
    try:
        netns_cookie()
    except OSError as e:
        return None, f"no network namespace cookie ({e.strerror}; Linux 5.14)"
    problem = netns_cookie_in_cgroup_programs()
    return (None, problem) if problem else (root, None)


def netns_cookie() -> int:
    """The cookie of this process's network namespace, as bpf_get_netns_cookie() gives it."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        return int(struct.unpack("=Q", s.getsockopt(socket.SOL_SOCKET, SO_NETNS_COOKIE, 8))[0])


def possible_cpus() -> int:
    """How many CPUs the kernel may ever number (bpf_get_smp_processor_id() is below it)."""
    try:
        text = Path("/sys/devices/system/cpu/possible").read_text().strip()
        return max(int(part.split("-")[-1]) for part in text.split(",")) + 1
    except (OSError, ValueError):
        return os.cpu_count() or 1


class CgroupLink:
    """Program `prog_fd` attached to the cgroup at `cgroup` for `attach_type` (ingress by default)
    until `close()`, or until this process ends."""

    def __init__(self, prog_fd: int, cgroup: Path, attach_type: int = BPF_CGROUP_INET_INGRESS) -> None:
        self.cgroup = cgroup
        target = os.open(cgroup, os.O_RDONLY | os.O_DIRECTORY)
        try:
            attr = ctypes.create_string_buffer(64)
            _LINK_CREATE.pack_into(attr, 0, prog_fd, target, attach_type, 0)
            fd = bpf_call(BPF_LINK_CREATE, attr)
            if fd < 0:
                errno = ctypes.get_errno()
                raise OSError(errno, f"cannot attach to cgroup {cgroup}: {os.strerror(errno)}")
        finally:
            os.close(target)
        self.fd: int = fd

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def attached_programs(cgroup: Path, attach_type: int = BPF_CGROUP_INET_INGRESS) -> int:
    """How many programs are attached to the cgroup at `cgroup` itself for `attach_type` (not
    those it inherits)."""
    target = os.open(cgroup, os.O_RDONLY | os.O_DIRECTORY)
    try:
        attr = ctypes.create_string_buffer(64)
        _QUERY.pack_into(attr, 0, target, attach_type, 0, 0, 0, 0)
        if bpf_call(BPF_PROG_QUERY, attr) != 0:
            errno = ctypes.get_errno()
            raise OSError(errno, f"cannot list the programs of cgroup {cgroup}: {os.strerror(errno)}")
    finally:
        os.close(target)
    return int(_QUERY.unpack_from(attr)[5])
