"""Where a workload's traffic runs: over loopback, or across a link from a network namespace.

Loopback is the cheap case for the sensor, and not the one a production host mostly has: there
its wire view is a cgroup program on each socket's ingress that lets a marked TLS socket's
packets go after one lookup (bpf/tls_wire.c, `tls_wire_cgroup`). A host's peers reach it through
an interface, where the wire view is a packet socket with the socket filter on every packet in
both directions.

`veth_link()` makes that case on one machine: a network namespace of the run's own, joined to
this host by a veth pair with an Ethernet MTU (1500), IPv4 and IPv6 on both ends. The workload's
servers listen on this host's end; its load generators (`stress.loadgen`) enter the namespace
before they open a socket, so every connection crosses the pair, and the sensor (in this host's
namespace) sees it on the pair's host end as it would see a NIC's traffic.
"""

from __future__ import annotations

import ctypes
import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass

LINKS = ("loopback", "veth")
NAMESPACE_PREFIX = "carnot-stress-"  # then the run's process id
CLONE_NEWNET = 0x40000000
VETH_MTU = 1500
# (10.97/16 and fd00:97::/64: apart from the test suite's namespaces, 10.98 and 10.99)
VETH_V4 = ("10.97.0.1", "10.97.0.2")  # this host's end, the namespace's end
VETH_V6 = ("fd00:97::1", "fd00:97::2")


@dataclass(frozen=True)
class Link:
    name: str  # "loopback" or "veth"
    v4: str  # the servers' IPv4 address (this host's end)
    v6: str  # and IPv6
    namespace: str  # where the load generators run ("": this one)
    interface: str  # this host's end of the link
    description: str  # for the report

    @property
    def rx_packets(self) -> int:
        """Packets this host's end has received (the clients' side of every connection)."""
        with open(f"/sys/class/net/{self.interface}/statistics/rx_packets") as fh:
            return int(fh.read())


LOOPBACK = Link("loopback", "127.0.0.1", "::1", "", "lo", "over loopback (servers and clients on 127.0.0.1 and ::1)")


def _ip(*args: str) -> None:
    done = subprocess.run(["ip", *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise OSError(f"ip {' '.join(args)}: {done.stderr.strip() or done.returncode}")


def namespaces() -> set[str]:
    """The network namespaces `ip netns` knows by name."""
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    return {line.split()[0] for line in listed.splitlines() if line.strip()}


def _remove_left_over() -> None:
    """The namespaces (and so their pairs) of runs that were killed before they could remove them:
    named after their run's process, which is gone. A pair left in place would still hold the
    link's addresses, and this run's replies could leave through it."""
    for name in namespaces():
        pid = name.removeprefix(NAMESPACE_PREFIX)
        if name.startswith(NAMESPACE_PREFIX) and pid.isdigit() and not os.path.exists(f"/proc/{pid}"):
            subprocess.run(["ip", "netns", "del", name], capture_output=True)
    deadline = time.monotonic() + 5  # (a namespace's devices go a moment after it)
    while (in_use := subprocess.run(["ip", "-o", "addr", "show", "to", VETH_V4[0]], capture_output=True,
                                    text=True).stdout.strip()) and time.monotonic() < deadline:
        time.sleep(0.1)
    if in_use:
        raise OSError(f"{VETH_V4[0]} is already in use here (another stress run across a veth link?): "
                      f"{in_use.split()[1]}")


@contextmanager
def veth_link() -> Iterator[Link]:
    """A namespace and a veth pair to it, for the block (root only); removed after, whatever happens."""
    _remove_left_over()
    pid = os.getpid()
    namespace, here, there = f"{NAMESPACE_PREFIX}{pid}", f"cst{pid % 100000}h", f"cst{pid % 100000}n"
    try:
        _ip("netns", "add", namespace)
        _ip("link", "add", here, "mtu", str(VETH_MTU), "type", "veth", "peer", "name", there, "mtu", str(VETH_MTU),
            "netns", namespace)
        try:
            _ip("addr", "add", f"{VETH_V4[0]}/24", "dev", here)
            _ip("-6", "addr", "add", f"{VETH_V6[0]}/64", "dev", here, "nodad")
            _ip("link", "set", here, "up")
            _ip("-n", namespace, "addr", "add", f"{VETH_V4[1]}/24", "dev", there)
            _ip("-n", namespace, "-6", "addr", "add", f"{VETH_V6[1]}/64", "dev", there, "nodad")
            _ip("-n", namespace, "link", "set", there, "up")
            _ip("-n", namespace, "link", "set", "lo", "up")
            yield Link("veth", VETH_V4[0], VETH_V6[0], namespace, here,
                       f"across a veth link (MTU {VETH_MTU}): servers on this host's end ({VETH_V4[0]}, "
                       f"{VETH_V6[0]}), clients in a network namespace at its other end ({VETH_V4[1]}, "
                       f"{VETH_V6[1]}), seen by the sensor's packet socket on this host's end")
        finally:
            subprocess.run(["ip", "link", "del", here], capture_output=True)  # (its peer goes with it)
    finally:
        subprocess.run(["ip", "netns", "del", namespace], capture_output=True)


def opened(name: str) -> AbstractContextManager[Link]:
    """The link called `name` (one of LINKS), for a `with` block."""
    if name not in LINKS:
        raise ValueError(f"no link {name!r}: one of {', '.join(LINKS)}")
    return veth_link() if name == "veth" else nullcontext(LOOPBACK)


def enter(namespace: str) -> None:
    """This process into the network namespace `namespace` (made by `ip netns`), before it opens
    any socket: the sockets it opens after are the namespace's."""
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(f"/run/netns/{namespace}", os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            error = ctypes.get_errno()
            raise OSError(error, f"cannot enter network namespace {namespace}: {os.strerror(error)}")
    finally:
        os.close(fd)
