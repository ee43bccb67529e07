"""The stress workloads for real, without a sensor: each starts its servers and its clients move
TLS traffic for a moment, and the connections are accounted for as the harness needs them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from contextlib import ExitStack
from pathlib import Path

import pytest

from stress import profile
from stress.harness import TARGETS
from stress.link import NAMESPACE_PREFIX, VETH_V4, namespaces, veth_link
from stress.loadgen import REQUEST_BYTES, LoadPool, LoadResult, run_load
from stress.workloads import BULK_BYTES, WORKLOADS

ROOT = Path(__file__).resolve().parents[2]


def run(name: str, folder: Path) -> LoadResult:
    with ExitStack() as stack:
        return run_load(WORKLOADS[name].start(folder, stack, 2).workers, 1.0)


@pytest.mark.parametrize("name", ["handshakes", "bulk", "requests"])
def test_each_workload_moves_traffic_and_records_every_connection(name: str, tmp_path: Path) -> None:
    load = run(name, tmp_path)
    assert load.errors == 0 and load.completed > 0
    assert len(load.client_ends) == load.handshakes > 0
    assert all(openssl for _, _, openssl in load.client_ends)
    if name == "bulk":
        assert load.completed >= BULK_BYTES  # at least one whole file fetched
    if name == "requests":  # 4 clients: each its long-lived connection and one of the phase's own
        assert load.handshakes == 8 and load.bytes_moved == 2 * REQUEST_BYTES * load.completed


def test_requests_keep_their_long_lived_connections_across_phases_with_one_new_handshake_each(
        tmp_path: Path) -> None:
    with ExitStack() as stack:
        pool = stack.enter_context(LoadPool(WORKLOADS["requests"].start(tmp_path, stack, 2).workers))
        first, second = pool.run(0.5), pool.run(0.5)
    assert first.errors == second.errors == 0 and second.completed > 0
    assert first.handshakes == 8 and second.handshakes == len(second.client_ends) == 4
    # the long-lived connections are the ones opened second in the first phase, not new in the next
    long_lived = {port for port, _, _ in first.client_ends[1::2]}
    assert len(long_lived) == 4 and not long_lived & {port for port, _, _ in second.client_ends}


def test_the_mixed_population_runs_every_client_kind(tmp_path: Path) -> None:
    load = run("mixed", tmp_path)
    kinds = {"python-ssl ipv4", "python-ssl ipv6", "tlslite-ng ipv4"}
    if shutil.which("go"):  # the harness builds its Go client where Go is installed (nox -s stress installs it)
        kinds.add("go ipv4+ipv6")
    assert load.errors == 0 and set(load.by_client) == kinds and all(load.by_client.values())
    not_openssl = load.by_client["tlslite-ng ipv4"] + load.by_client.get("go ipv4+ipv6", 0)
    assert sum(not openssl for _, _, openssl in load.client_ends) == not_openssl


@pytest.mark.root
@pytest.mark.parametrize("name", ["handshakes", "mixed"])
def test_across_the_veth_link_every_connection_comes_from_the_namespace_over_the_link(name: str,
                                                                                      tmp_path: Path) -> None:
    with veth_link() as link, ExitStack() as stack:
        assert link.namespace in namespaces()
        theirs = os.stat(f"/run/netns/{link.namespace}").st_ino
        pool = stack.enter_context(LoadPool(WORKLOADS[name].start(tmp_path, stack, 2, link).workers))
        before = link.rx_packets
        load = pool.run(1.0)
        crossed = link.rx_packets - before
        # every worker (each client kind of the mixed population) in the namespace, not only most
        assert {os.stat(f"/proc/{pid}/ns/net").st_ino for _, pid in pool.processes} == {theirs}
    assert load.errors == 0 and load.handshakes > 0 and all(load.by_client.values())
    # Each connection's SYN, the ACK of the server's, its ClientHello and Finished at least arrive
    # on this host's end of the pair (over loopback, none would).
    assert crossed >= 4 * load.handshakes
    # the namespace and the pair are gone after the block
    assert link.namespace not in namespaces() and not Path("/sys/class/net", link.interface).exists()


@pytest.mark.root
def test_a_stress_run_across_the_veth_link_reports_every_handshake_it_made(tmp_path: Path) -> None:
    """The sensor sees the link's traffic as a NIC's, through its packet socket on the pair's host
    end (not loopback's cgroup program), and reports every connection the load made."""
    done = subprocess.run([sys.executable, "-m", "stress", "--workload", "handshakes", "--rounds", "1",
                           "--phase-seconds", "2", "--quiet-wait", "0", "--link", "veth",
                           "--json", str(tmp_path / "m.json"), "--report", str(tmp_path / "r.md")],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    result = json.loads((tmp_path / "m.json").read_text())
    run = result["workloads"]["handshakes"]
    on = [p for p in run["phases"] if p["sensor"] == "on"]
    assert result["setup"]["link"] == "veth" and len(on) == 1 and on[0]["handshakes"] > 0
    assert run["reported_fraction"] >= TARGETS["reported_fraction_min"] and run["kernel_drops"] == 0
    report = (tmp_path / "r.md").read_text()
    assert "across a veth link (MTU 1500)" in report and f"raw figures in\n`{tmp_path / 'm.json'}`" in report
    if profile.unavailable() is None:  # the profile phase: the packet socket's delivery is in the observed path
        assert "skipped" not in run["profile"], run["profile"]
        hooks = run["profile"]["categories"]
        assert hooks["packet_sockets"]["us_per_unit"] > 0 and hooks["packet_sockets"]["in_bpf_us_per_unit"] > 0


@pytest.mark.root
def test_a_stress_run_without_uprobes_reports_every_client_with_its_process(tmp_path: Path) -> None:
    """`--no-uprobes` reaches every sensor the run starts (the compared phases' and the BPF run-time
    phase's): no function is probed, and each client kind of the mixed population is still named by
    its process."""
    done = subprocess.run([sys.executable, "-m", "stress", "--workload", "mixed", "--rounds", "1",
                           "--phase-seconds", "2", "--quiet-wait", "0", "--no-uprobes",
                           "--json", str(tmp_path / "m.json"), "--report", str(tmp_path / "r.md")],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    result = json.loads((tmp_path / "m.json").read_text())
    run = result["workloads"]["mixed"]
    [on] = [p for p in run["phases"] if p["sensor"] == "on"]
    assert result["setup"]["sensor_uprobes"] is False and run["uprobes"] == []
    # ... and the phase with the kernel's run-time counts: it holds no uprobe program either
    assert "uprobe" not in run["bpf"]["by_program_type"] and "tracepoint" in run["bpf"]["by_program_type"]
    assert on["handshakes"] > 0 and run["reported_fraction"] >= TARGETS["reported_fraction_min"]
    assert run["correlation_failure_rate"] == 0 and run["kernel_drops"] == 0
    assert "The sensor ran with `--priority auto --no-uprobes`" in (tmp_path / "r.md").read_text()


@pytest.mark.root
def test_a_link_a_killed_run_left_behind_is_removed_before_the_next_is_made() -> None:
    gone = 4194304 + 1  # past the kernel's largest process id: no such process
    left = f"{NAMESPACE_PREFIX}{gone}"
    subprocess.run(["ip", "netns", "add", left], check=True)
    try:
        subprocess.run(["ip", "link", "add", "cstlefth", "type", "veth", "peer", "name", "cstleftn", "netns", left],
                       check=True)
        subprocess.run(["ip", "addr", "add", f"{VETH_V4[0]}/24", "dev", "cstlefth"], check=True)
        with veth_link() as link:  # (it would route replies through the stale pair, or fail to be made)
            assert left not in namespaces() and not Path("/sys/class/net/cstlefth").exists()
            assert link.namespace in namespaces()
    finally:
        subprocess.run(["ip", "link", "del", "cstlefth"], capture_output=True)
        subprocess.run(["ip", "netns", "del", left], capture_output=True)
