"""A small routed network for the live tests, so the kernel itself fragments IP packets of a real
TCP connection on their way to this host:

    netns client (10.99.1.2, MTU 1500) -- netns router -- (MTU 600) -- this host (10.99.2.2)

This host advertises an MSS of 1460 to the client (the route's `advmss`), and the client's
connections have path MTU discovery off (the namespace's `ip_no_pmtu_disc`), so a client segment
of up to 1460 bytes leaves without DF and the router splits it into IP fragments, which arrive on
this host's end of the small link, where a sensor watching every interface sees them.
(IPv6 has no equivalent: routers never fragment it, and Linux's TCP never sends IPv6 fragments.)
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

HOST_ADDRESS, CLIENT_ADDRESS = "10.99.2.2", "10.99.1.2"
SMALL_MTU = 600


@dataclass(frozen=True)
class RoutedClient:
    namespace: str
    host_address: str = HOST_ADDRESS
    client_address: str = CLIENT_ADDRESS

    def run(self, *command: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """A command in the client's namespace."""
        return subprocess.run(["ip", "netns", "exec", self.namespace, *command], capture_output=True, text=True,
                              timeout=timeout)


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True)


@contextmanager
def fragmenting_route() -> Iterator[RoutedClient]:
    tag = os.getpid() % 100000
    client, router, host_end = f"carnot-c{tag}", f"carnot-r{tag}", f"cfh{tag}"
    _ip("netns", "add", client)
    try:
        _ip("netns", "add", router)
        try:
            _ip("link", "add", f"cfc{tag}", "type", "veth", "peer", "name", f"cfrc{tag}")
            _ip("link", "add", host_end, "type", "veth", "peer", "name", f"cfrh{tag}")
            _ip("link", "set", f"cfc{tag}", "netns", client)
            _ip("link", "set", f"cfrc{tag}", "netns", router)
            _ip("link", "set", f"cfrh{tag}", "netns", router)
            _ip("-n", client, "addr", "add", f"{CLIENT_ADDRESS}/24", "dev", f"cfc{tag}")
            _ip("-n", client, "link", "set", f"cfc{tag}", "up")
            _ip("-n", client, "route", "add", "default", "via", "10.99.1.1")
            _ip("-n", router, "addr", "add", "10.99.1.1/24", "dev", f"cfrc{tag}")
            _ip("-n", router, "addr", "add", "10.99.2.1/24", "dev", f"cfrh{tag}")
            _ip("-n", router, "link", "set", f"cfrc{tag}", "up")
            _ip("-n", router, "link", "set", f"cfrh{tag}", "mtu", str(SMALL_MTU), "up")
            _ip("addr", "add", f"{HOST_ADDRESS}/24", "dev", host_end)
            _ip("link", "set", host_end, "mtu", str(SMALL_MTU), "up")
            _ip("route", "add", "10.99.1.0/24", "via", "10.99.2.1", "advmss", "1460")
            for namespace, setting in ((router, "net.ipv4.ip_forward=1"), (client, "net.ipv4.ip_no_pmtu_disc=1")):
                subprocess.run(["ip", "netns", "exec", namespace, "sysctl", "-qw", setting], check=True)
            yield RoutedClient(client)
        finally:
            subprocess.run(["ip", "link", "del", host_end], capture_output=True)  # takes its route along
            subprocess.run(["ip", "netns", "del", router], capture_output=True)
    finally:
        subprocess.run(["ip", "netns", "del", client], capture_output=True)


PUBLIC_ADDRESS, PUBLIC_PORT = "192.0.2.9", 443  # TEST-NET-1 (RFC 5737): never a real host


@contextmanager
def dnat_route() -> Iterator[RoutedClient]:
    """A client in a namespace of its own (10.98.1.2) behind this host's end of a link (10.98.1.1),
    its default route: with `published`, this host rewrites the client's connections to a public
    address, as a host publishing a container's port does."""
    tag = os.getpid() % 100000
    client, host_end = f"carnot-d{tag}", f"cdh{tag}"
    _ip("netns", "add", client)
    try:
        _ip("link", "add", host_end, "type", "veth", "peer", "name", f"cdc{tag}")
        _ip("link", "set", f"cdc{tag}", "netns", client)
        _ip("-n", client, "addr", "add", "10.98.1.2/24", "dev", f"cdc{tag}")
        _ip("-n", client, "link", "set", f"cdc{tag}", "up")
        _ip("-n", client, "route", "add", "default", "via", "10.98.1.1")
        _ip("addr", "add", "10.98.1.1/24", "dev", host_end)
        _ip("link", "set", host_end, "up")
        yield RoutedClient(client, host_address="10.98.1.1", client_address="10.98.1.2")
    finally:
        subprocess.run(["ip", "link", "del", host_end], capture_output=True)
        subprocess.run(["ip", "netns", "del", client], capture_output=True)


@contextmanager
def published(route: RoutedClient, port: int) -> Iterator[tuple[str, int]]:
    """DNAT (nftables, at prerouting) of the route's client's connections to PUBLIC_ADDRESS:443
    to this host's `port` on its end of the link: the packets arrive addressed to the public
    address, and the server's socket names its own."""
    table = f"carnot_dnat{os.getpid() % 100000}"
    rules = (f"table ip {table} {{\n chain prerouting {{\n  type nat hook prerouting priority dstnat;\n"
             f"  ip saddr {route.client_address} ip daddr {PUBLIC_ADDRESS} tcp dport {PUBLIC_PORT}"
             f" dnat to {route.host_address}:{port}\n }}\n}}\n")
    subprocess.run(["nft", "-f", "-"], input=rules, text=True, check=True, capture_output=True)
    try:
        yield PUBLIC_ADDRESS, PUBLIC_PORT
    finally:
        subprocess.run(["nft", "delete", "table", "ip", table], capture_output=True)
