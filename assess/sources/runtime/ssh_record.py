"""An SSH key exchange as a runtime JSON line (`"type": "ssh"`, documented in docs/RUNTIME.md).

One builder for every source: `carnot runtime from-pcap` today, the live sensor's wire view once it
reads SSH (it passes the process it attributed the connection to). A value not observed is null.
"""

from __future__ import annotations

from typing import Any

from assess.sources.runtime.correlate import ProcessInfo, _iso
from assess.sources.runtime.ssh_wire import SshFlow
from assess.sshnames import is_pq_kex


def ssh_record(flow: SshFlow, *, source: str, host: str | None = None, pid: int | None = None,
               tid: int | None = None, comm: str | None = None, info: ProcessInfo | None = None,
               role: str | None = None) -> dict[str, Any]:
    """The line for one SSH connection; the process fields are null unless the caller knows them."""
    hs = flow.handshake
    c, s, n = hs.client, hs.server, hs.negotiated
    started = hs.started_at if hs.started_at is not None else flow.first_seen
    return {
        "type": "ssh",
        "ts": _iso(started),
        "host": host,
        "pid": pid,
        "tid": tid,
        "comm": comm,
        "exe": info.exe if info else None,
        "role": role,
        "src_ip": flow.client.ip,
        "src_port": flow.client.port,
        "dst_ip": flow.server.ip,
        "dst_port": flow.server.port,
        "client_banner": c.banner.text if c.banner else None,
        "server_banner": s.banner.text if s.banner else None,
        "kex_offered_client": list(c.kexinit.kex_algorithms) if c.kexinit else None,
        "kex_offered_server": list(s.kexinit.kex_algorithms) if s.kexinit else None,
        "kex": n.kex if n else None,
        "host_key_algorithm": n.host_key if n else None,
        "cipher_client_to_server": n.cipher_c2s if n else None,
        "cipher_server_to_client": n.cipher_s2c if n else None,
        "mac_client_to_server": n.mac_c2s if n else None,
        "mac_server_to_client": n.mac_s2c if n else None,
        "compression_client_to_server": n.compression_c2s if n else None,
        "compression_server_to_client": n.compression_s2c if n else None,
        "strict_kex": n.strict_kex if n else None,
        "pq_hybrid": is_pq_kex(n.kex) if n and n.kex else None,
        "disconnect_reason": hs.disconnect,
        "parse_error": hs.parse_error,
        "success": hs.success,
        "handshake_ms": hs.handshake_ms,
        "source": source,
    }
