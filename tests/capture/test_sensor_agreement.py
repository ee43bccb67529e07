"""The same handshakes seen twice: live by the eBPF sensor and afterwards from a tcpdump recording of
them. Where both observe a field, they agree (one sensor run for the module)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from capture_testing import Line, carnot, handshakes, tcpdump

from assess.sources.runtime.readiness import sensor_readiness
from assess.sources.runtime.workload import Credentials, TlsliteServer, openssl_client, openssl_server, tlslite_client

pytestmark = [pytest.mark.root, pytest.mark.slow]
# What the wire shows, so what both views must agree on. ts, handshake_ms, role and the process
# fields legitimately differ (uprobe timing and attribution against packet timestamps and none).
WIRE_FIELDS = ("sni", "src_ip", "src_port", "dst_ip", "dst_port", "tls_version", "cipher_suite", "groups_offered",
               "key_shares_offered", "negotiated_group", "pq_hybrid", "success")


def _start_sensor(out: Path) -> subprocess.Popen[str]:
    readiness = sensor_readiness()
    if not readiness.ok:
        pytest.fail("the eBPF sensor cannot run here, and this test must: " + "; ".join(readiness.reasons))
    proc = subprocess.Popen([sys.executable, "-m", "assess", "runtime", "capture", "--out", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if out.exists() and out.read_text().startswith('{"type": "ready"'):
            return proc
        if proc.poll() is not None:
            pytest.fail(f"the sensor exited before it was ready: {proc.stderr.read() if proc.stderr else ''}")
        time.sleep(0.2)
    proc.kill()
    pytest.fail("the sensor was not ready after 120s")


def _wait_for(path: Path, ports: set[int], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ports <= {r["dst_port"] for r in handshakes(path)}:
            return
        time.sleep(0.2)


def test_sensor_and_pcap_agree_field_for_field(tmp_path: Path, creds: Credentials) -> None:
    sensor_out, pcap = tmp_path / "sensor.jsonl", tmp_path / "same.pcap"
    sensor = _start_sensor(sensor_out)
    try:
        with openssl_server(creds) as server, TlsliteServer(creds) as pq:
            port = int(server.port)  # type: ignore[attr-defined]
            with tcpdump(pcap, f"tcp port {port} or tcp port {pq.port}"):
                assert openssl_client(port, "agree13.test", "-groups", "x25519").returncode == 0
                assert openssl_client(port, "agree12.test", "-tls1_2").returncode == 0
                tlslite_client(pq.port, sni="agreepq.test")
            _wait_for(sensor_out, {port, pq.port})
    finally:
        sensor.send_signal(signal.SIGTERM)
        sensor.wait(60)

    out = tmp_path / "from_pcap.jsonl"
    result = carnot("runtime", "from-pcap", pcap, "--out", out)
    assert result.returncode == 0, result.stderr
    from_pcap = {r["src_port"]: r for r in handshakes(out)}
    live: dict[int, list[Line]] = {}
    for r in handshakes(sensor_out):
        if r["sni"] in ("agree13.test", "agree12.test", "agreepq.test"):
            live.setdefault(r["src_port"], []).append(r)
    assert sorted(r["sni"] for r in from_pcap.values()) == ["agree12.test", "agree13.test", "agreepq.test"]
    assert set(live) == set(from_pcap)
    for src_port, recorded in from_pcap.items():
        for seen_live in live[src_port]:  # the client's and the server's line, where the sensor has both
            assert {k: seen_live[k] for k in WIRE_FIELDS} == {k: recorded[k] for k in WIRE_FIELDS}
    pq_line = next(r for r in from_pcap.values() if r["sni"] == "agreepq.test")
    assert pq_line["negotiated_group"] == "X25519MLKEM768"
