"""The capture's life: a killed sensor leaves valid JSON lines, signals stop it cleanly, a flood
that overflows its buffers is counted, and where eBPF cannot run it says why and exits 2."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from live_sensor import start_capture
from tlsbytes import client_hello, records

from assess.errors import CarnotError
from assess.sources.runtime.readiness import sensor_readiness
from assess.sources.runtime.sensor import AUTO_IDLE_MS, AUTO_NORMAL_MS, Priority
from assess.sources.runtime.workload import HOST, Credentials, openssl_server, python_client

pytestmark = [pytest.mark.root]
CONTRACT_METRICS = ("events_received", "handshakes_emitted", "correlation_timeouts", "cache_evictions",
                    "kernel_drops", "kernel_drop_rate")


def test_sigkilled_sensor_leaves_a_valid_jsonl_file(tmp_path: Path, creds: Credentials) -> None:
    capture = start_capture(tmp_path / "runtime.jsonl", "--metrics-interval", "0.5")
    with openssl_server(creds) as server:
        python_client(server.port, "killed.test")  # type: ignore[attr-defined]
        capture.wait_for(lambda r: r["sni"] == "killed.test")
    capture.proc.kill()
    capture.proc.wait(10)
    raw = capture.out.read_bytes()
    assert raw.endswith(b"\n")
    lines = [json.loads(line) for line in raw.decode().splitlines()]
    assert lines[0]["type"] == "ready" and any(r["type"] == "handshake" for r in lines)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signals_stop_the_sensor_cleanly_with_a_summary(tmp_path: Path, sig: signal.Signals) -> None:
    capture = start_capture(tmp_path / "runtime.jsonl")
    assert capture.stop(sig) == 0
    last = capture.lines()[-1]
    assert last["type"] == "metrics" and last["final"] is True and last["stopped_by"] == sig.name
    assert all(key in last for key in CONTRACT_METRICS)
    summary = json.loads((tmp_path / "sensor_metrics.json").read_text())
    assert summary["stopped_by"] == sig.name


def _voluntary_switches(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("voluntary_ctxt_switches:"):
            return int(line.split()[1])
    raise AssertionError(f"no voluntary_ctxt_switches in /proc/{pid}/status")


def test_an_idle_sensor_wakes_about_once_a_second_and_a_signal_still_stops_it(tmp_path: Path) -> None:
    # Each wake-up of even an idle sensor can cost a busy host's programs (docs/RUNTIME.md, "Idle
    # wake-ups and SCHED_IDLE"): with nothing coming in it sleeps a second at a time, not 100 ms.
    # Each sleep is one voluntary switch of its main thread.
    capture = start_capture(tmp_path / "runtime.jsonl")
    time.sleep(1.5)  # (the first polls after the ready line are a busy sensor's)
    before = _voluntary_switches(capture.proc.pid)
    time.sleep(5.0)
    woken = _voluntary_switches(capture.proc.pid) - before
    assert woken <= 12, f"{woken} wake-ups in 5 s"  # 100 ms polls would be 50
    assert capture.stop(signal.SIGTERM) == 0
    assert capture.lines()[-1]["stopped_by"] == "SIGTERM"


@pytest.mark.parametrize(("priority", "policy"), [(None, "SCHED_OTHER"), ("idle", "SCHED_IDLE")],
                         ids=["auto", "idle"])
def test_a_resting_sensor_has_the_policy_its_priority_asks_for(tmp_path: Path, priority: str | None,
                                                               policy: str) -> None:
    # auto (the default) rests at normal priority, so that being woken on a busy CPU it runs at once
    # instead of waiting there, switched in and out by every task that blocks and wakes.
    # A pass over whatever the host's other programs did can take 2 ms (a busy CI host) and put auto
    # under SCHED_IDLE for a moment; its next quiet pass, at most a second later, puts it back.
    capture = start_capture(tmp_path / "runtime.jsonl", *(["--priority", priority] if priority else []))
    time.sleep(1.5)
    deadline = time.monotonic() + 5
    while True:
        shown = subprocess.run(["chrt", "-p", str(capture.proc.pid)], capture_output=True, text=True).stdout
        if f"policy: {policy}" in shown or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert f"policy: {policy}" in shown, shown
    assert capture.lines()[0]["priority"] == (priority or "auto")
    assert capture.stop() == 0


def test_auto_priority_takes_a_long_pass_under_sched_idle_until_a_short_one() -> None:
    priority = Priority("auto")
    try:
        assert os.sched_getscheduler(0) == os.SCHED_OTHER
        priority.after_pass(AUTO_IDLE_MS / 2000)  # between the thresholds: no change
        assert os.sched_getscheduler(0) == os.SCHED_OTHER
        priority.after_pass(AUTO_IDLE_MS / 1000)
        assert os.sched_getscheduler(0) == os.SCHED_IDLE and priority.idle
        priority.after_pass(AUTO_NORMAL_MS / 1000)  # not short enough to go back
        assert os.sched_getscheduler(0) == os.SCHED_IDLE
        priority.after_pass(AUTO_NORMAL_MS / 2000)
        assert os.sched_getscheduler(0) == os.SCHED_OTHER and not priority.idle
    finally:
        os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))


def test_an_unknown_priority_is_refused() -> None:
    with pytest.raises(CarnotError, match="unknown priority 'low'"):
        Priority("low")


def test_handshakes_just_before_a_stop_keep_their_wire_view(tmp_path: Path, creds: Credentials) -> None:
    # The packet ring hands its current block over only some milliseconds after the block's first
    # packet: a sensor that stopped at once would lose these ClientHellos.
    with openssl_server(creds) as server:
        capture = start_capture(tmp_path / "runtime.jsonl")
        for i in range(5):
            python_client(server.port, f"last{i}.test")  # type: ignore[attr-defined]
        assert capture.stop() == 0
    clients = [r for r in capture.handshakes() if r["role"] == "client" and r["sni"].startswith("last")]
    assert sorted(r["sni"] for r in clients) == [f"last{i}.test" for i in range(5)]
    assert {r["source"] for r in clients} == {"uprobe+wire"}
    assert capture.lines()[-1]["correlation_timeouts"] == 0


def test_a_flood_larger_than_the_buffers_is_counted_as_kernel_drops(tmp_path: Path) -> None:
    capture = start_capture(tmp_path / "runtime.jsonl", "--socket-buffer", "4096", "--buffer-pages", "1")
    hello = records(22, client_hello(groups=(0x11EC, 0x1D), shares=((0x11EC, 1216), (0x1D, 32))))
    with socket.socket() as listener:
        listener.bind((HOST, 0))
        listener.listen(1024)  # never accepts: the kernel completes the connections and queues the data
        port = listener.getsockname()[1]
        clients = []
        try:
            for _ in range(300):
                sock = socket.create_connection((HOST, port))
                sock.sendall(hello)
                clients.append(sock)
        finally:
            for sock in clients:
                sock.close()
    assert capture.stop() == 0
    final = capture.lines()[-1]
    assert final["final"] is True
    assert final["kernel_drops"] > 0 and final["kernel_drop_rate"] > 0
    assert final["kernel_drops"] == final["perf_lost"] + final["packet_drops"]
    # The filter held each ClientHello and hands it over at the close, 300 at once into a ring of
    # two pages: the ring's losses are counted too (perf_lost), and every connection is either
    # reported or counted as lost, never silently gone.
    assert final["perf_lost"] > 0
    assert final["wire_flows"] + final["kernel_drops"] >= 300


def test_without_privileges_capture_exits_2_with_the_reason(tmp_path: Path) -> None:
    out = tmp_path / "runtime.jsonl"
    done = subprocess.run(
        ["setpriv", "--bounding-set", "-all", "--", sys.executable, "-m", "assess", "runtime", "capture",
         "--out", str(out), "--duration", "1"],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "privileges" in done.stderr and "Traceback" not in done.stderr
    assert not out.exists()


def test_readiness_says_the_sensor_can_run_here_as_root() -> None:
    readiness = sensor_readiness()
    assert readiness.ok, readiness.reasons
    assert {c.name for c in readiness.checks} >= {"privileges", "bcc", "kernel headers", "tracefs", "libssl"}


def test_pid_filter_limits_the_process_view_to_one_process(tmp_path: Path, creds: Credentials) -> None:
    import os

    capture = start_capture(tmp_path / "runtime.jsonl", "--pid", str(os.getpid()))
    with openssl_server(creds) as server:
        port = server.port  # type: ignore[attr-defined]
        curl = subprocess.run(["curl", "-sk", "-o", "/dev/null", f"https://{HOST}:{port}/"], timeout=30)
        assert curl.returncode == 0
        python_client(port, "mine.test")
        [mine] = capture.wait_for(lambda r: r["sni"] == "mine.test" and r["role"] == "client")
        others = capture.wait_for(lambda r: r["dst_port"] == port and r["sni"] is None)  # curl sends no SNI to an IP
    capture.stop()
    assert mine["pid"] == os.getpid() and mine["source"] == "uprobe+wire"
    assert all(r["source"] == "wire" and r["pid"] is None for r in others)  # seen on the wire, not attributed


def test_demo_workload_capture_sees_classical_and_hybrid_handshakes(tmp_path: Path) -> None:
    from assess.sources.runtime.demo import capture_demo_workload

    result = capture_demo_workload(tmp_path / "runtime.jsonl", 2.0)
    assert result.workload.pq_handshakes > 0 and result.workload.failures == 0
    records = [json.loads(line) for line in result.out.read_text().splitlines()]
    groups = {r["negotiated_group"] for r in records if r["type"] == "handshake"}
    assert {"x25519", "X25519MLKEM768"} <= groups
    assert json.loads(result.metrics.read_text())["stopped_by"] == "SIGTERM"


def test_a_capture_that_cannot_start_leaves_an_earlier_capture_in_out_untouched(tmp_path: Path) -> None:
    out = tmp_path / "runtime.jsonl"
    earlier = '{"type": "handshake", "pid": 1}\n'
    out.write_text(earlier)
    proc = subprocess.run(
        [sys.executable, "-m", "assess", "runtime", "capture", "--out", str(out), "--duration", "1",
         "--iface", "no-such-if0"],
        capture_output=True, text=True, timeout=180,
    )
    assert proc.returncode == 2
    assert "no-such-if0" in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert out.read_text() == earlier
    fresh = tmp_path / "never-written.jsonl"
    subprocess.run([sys.executable, "-m", "assess", "runtime", "capture", "--out", str(fresh), "--iface",
                    "no-such-if0"], capture_output=True, timeout=180)
    assert not fresh.exists()
