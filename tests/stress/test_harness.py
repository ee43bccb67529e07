"""The stress harness's arithmetic and bookkeeping: each on phase against the off phases either side
of it, the interval, the p99 ratio, the sensor's CPU per handshake and per MiB, and which of the
load's connections the sensor reported."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from rich.console import Console

from stress.harness import (
    QUIET_POLL_S,
    Phase,
    cost_budget,
    end_sensor,
    host_cpu,
    match_records,
    mean_interval,
    outputs,
    process_cpu,
    render_report,
    sensor_args,
    summarise,
    t95,
    wait_for_quiet,
    write_outputs,
)
from stress.loadgen import LoadResult
from stress.workloads import WORKLOADS
from tests.processes import descendants


def load(rate: float, seconds: float = 5.0, latency: float = 1.0, bytes_per: int = 0) -> LoadResult:
    n = int(rate * seconds)
    return LoadResult(n, n, n * bytes_per, 0, seconds, [latency] * n, [(p, 443, True) for p in range(n)])


def sensor_metrics() -> dict[str, object]:
    return {"kernel_drops": 0, "kernel_drop_rate": 0.0, "events_received": 100, "correlation_timeouts": 0,
            "cache_evictions": 0, "sensor_cpu_s": 0.5, "unreported_positions": [],
            "failed_records": [], "uprobes": ["SSL_do_handshake", "SSL_free+0x3"], "single_stepped_probes": []}


def on(round_: int, rate: float, **kw: float) -> Phase:
    lr = load(rate, **kw)  # type: ignore[arg-type]
    return Phase(round_, True, lr, 1, sensor_metrics(), reported=lr.handshakes, correlation_failures=0)


def result(rates: list[float], **kw: float) -> dict[str, object]:
    phases = [on(i // 2, r, **kw) if i % 2 else Phase(i // 2, False, load(r)) for i, r in enumerate(rates)]
    return summarise(WORKLOADS["handshakes"], phases, (0.5, 0.5, 0.5), (0.6, 0.6, 0.6), 5.0, "test setup")


def report_doc(r: dict[str, object]) -> dict[str, object]:
    return {"workloads": {"handshakes": r}, "targets": {"rate_ratio_min": 0.97, "reported_fraction_min": 0.999,
                                                         "kernel_drops_max": 0},
            "setup": {"rounds": 2, "phase_seconds": 5.0, "workers": 2, "sensor_priority": "idle", "cpus": 2,
                      "platform": "test", "started_at": "t0", "finished_at": "t1", "load_average_at_start": [3.0]}}


def test_each_on_phase_is_compared_with_the_mean_of_its_two_off_neighbours() -> None:
    r = result([800, 780, 760, 735, 740])  # a machine slowing down by itself
    assert r["rate_ratio_per_round"] == [pytest.approx(780 / 780, abs=1e-3), pytest.approx(735 / 750, abs=1e-3)]
    assert r["rate_ratio_on_off"] == pytest.approx((1.0 + 0.98) / 2, abs=1e-3)
    assert r["rate_ratio_of_means"] == pytest.approx(757.5 / 766.67, abs=1e-3)  # drift biases this one


def test_the_interval_and_the_machines_own_drift_are_reported() -> None:
    r = result([800, 776, 800, 792, 800, 784, 800])
    assert r["rate_ratio_stderr"] > 0
    low, high = r["rate_ratio_ci95"]
    assert low < r["rate_ratio_on_off"] < high
    assert r["off_phase_drift_sd"] == 0.0  # the off phases did not move


def test_the_interval_uses_students_t_for_few_rounds() -> None:
    mean, stderr, (_, high) = mean_interval([0.9, 1.0, 1.1])
    assert mean == pytest.approx(1.0) and stderr == pytest.approx(0.0577, abs=1e-4)
    assert high - mean == pytest.approx(4.303 * 0.0577, abs=1e-3)  # t with 2 degrees of freedom, not 1.96


def test_students_t_beyond_the_table_comes_from_its_expansion() -> None:
    assert t95(30) == 2.042  # the table's last entry
    for df, exact in ((31, 2.0395), (47, 2.0117), (100, 1.9840), (1000, 1.9623)):
        assert t95(df) == pytest.approx(exact, abs=1e-3)


def test_the_machines_cpu_per_unit_is_compared_per_round_like_the_rate() -> None:
    """Same rate on and off, but the on phases took 10% and 20% more of the machine's CPU a unit:
    the rate ratio says 1.0, the CPU ratio says what the sensor cost."""
    busy = [4.0, 4.4, 4.0, 4.8, 4.0]
    phases = [Phase(i // 2, bool(i % 2), load(800), 1, sensor_metrics() if i % 2 else None,
                    reported=4000 if i % 2 else None, correlation_failures=0 if i % 2 else None,
                    busy_s=b, steal_s=0.05) for i, b in enumerate(busy)]
    r = summarise(WORKLOADS["handshakes"], phases, (0.5,) * 3, (0.5,) * 3, 5.0, "test setup")
    assert r["rate_ratio_on_off"] == 1.0
    assert r["busy_cpu_ratio_per_round"] == [1.1, 1.2]
    assert r["busy_cpu_ratio_on_off"] == pytest.approx(1.15)
    assert r["busy_cpu_ms_per_unit"] == {"off": 1.0, "on": pytest.approx(1.15)}  # 4 s over 4,000 handshakes
    assert r["steal_share"] == pytest.approx(0.05 / (5.0 * (os.cpu_count() or 1)))
    assert "busy CPU per handshake: 1.0 ms off, 1.15 ms on" in render_report(report_doc(r))


def test_the_added_cpu_per_unit_is_split_into_the_sensor_process_its_bpf_programs_and_the_rest() -> None:
    """On phases taking 10% and 20% more of the machine's CPU a handshake (1 ms off): 150 µs added,
    of which the sensor process's 0.5 s per on phase over 4,000 handshakes is 125 µs, the BPF
    programs' counted 20 µs, and 5 µs is what neither counts."""
    busy = [4.0, 4.4, 4.0, 4.8, 4.0]
    phases = [Phase(i // 2, bool(i % 2), load(800), 1, sensor_metrics() if i % 2 else None,
                    reported=4000 if i % 2 else None, correlation_failures=0 if i % 2 else None,
                    busy_s=b, steal_s=0.0) for i, b in enumerate(busy)]
    r = summarise(WORKLOADS["handshakes"], phases, (0.5,) * 3, (0.5,) * 3, 5.0, "test setup")
    r["bpf"] = {"per": "handshake", "by_program_type": {}, "total_ns_per_unit": 20000.0}
    budget = cost_budget(r)
    assert budget is not None
    assert budget["added_us"] == pytest.approx(150.0)
    assert budget["added_us_ci95"][0] < 150.0 < budget["added_us_ci95"][1]
    assert (budget["sensor_process_us"], budget["bpf_programs_us"]) == (125.0, 20.0)
    assert budget["rest_us"] == pytest.approx(5.0)
    text = render_report(report_doc(r))
    assert "| Handshake storm | handshake | 1000.0 | 150.0 (15.0%)" in text
    assert "| 125.0 (12.5%) | 20.0 (2.0%) | 5.0 (0.5%) |" in text
    r["bpf"] = None  # no counting phase: the rest holds the BPF programs' time too
    assert cost_budget(r)["rest_us"] == pytest.approx(25.0)  # type: ignore[index]


class _FakeTime:
    """A clock that moves only when slept on, and a load average that falls as given."""

    def __init__(self, loads: list[float]) -> None:
        self.now, self.loads, self.slept = 0.0, loads, 0

    def loadavg(self) -> tuple[float, float, float]:
        return (self.loads[min(self.slept, len(self.loads) - 1)], 0.0, 0.0)

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.slept += 1


def test_a_run_waits_for_a_quiet_machine_and_starts_anyway_at_its_limit() -> None:
    cpus = os.cpu_count() or 1
    settling = _FakeTime([cpus, cpus / 2, cpus / 4])  # quiet (a quarter of the CPUs) after two polls
    waited = wait_for_quiet(Console(quiet=True), 180.0, loadavg=settling.loadavg, sleep=settling.sleep,
                            clock=lambda: settling.now)
    assert (settling.slept, waited) == (2, 2 * QUIET_POLL_S)
    busy = _FakeTime([cpus])  # never quiet: the run starts after its limit, and the report says so
    waited = wait_for_quiet(Console(quiet=True), 12.0, loadavg=busy.loadavg, sleep=busy.sleep, clock=lambda: busy.now)
    assert waited == busy.now >= 12.0 and busy.now < 12.0 + QUIET_POLL_S + 0.01
    quiet = _FakeTime([cpus / 4])
    assert wait_for_quiet(Console(quiet=True), 180.0, loadavg=quiet.loadavg, sleep=quiet.sleep,
                          clock=lambda: quiet.now) == 0.0


def test_the_machines_busy_cpu_grows_with_work_done() -> None:
    busy, steal = host_cpu()
    end = time.process_time() + 0.3
    while time.process_time() < end:
        pass
    later, steal_later = host_cpu()
    assert later - busy >= 0.25 and steal_later >= steal >= 0


def test_each_processs_cpu_per_unit_is_compared_per_round_and_reported() -> None:
    """The server took 10% more CPU a handshake in the on phase, the client the same: the summary
    and the report say which process paid, as a share of a CPU and per handshake."""
    cpu = [{"server: s_server": 2.0, "client: handshakes": 4.0}, {"server: s_server": 2.2, "client: handshakes": 4.0},
           {"server: s_server": 2.0, "client: handshakes": 4.0}]
    phases = [Phase(i // 2, bool(i % 2), load(800), 1, sensor_metrics() if i % 2 else None,
                    reported=4000 if i % 2 else None, correlation_failures=0 if i % 2 else None,
                    process_cpu_s=c) for i, c in enumerate(cpu)]
    r = summarise(WORKLOADS["handshakes"], phases, (0.5,) * 3, (0.5,) * 3, 5.0, "test setup")
    server, client = r["process_cpu"]["server: s_server"], r["process_cpu"]["client: handshakes"]
    assert server["cpu_share"] == {"off": 0.4, "on": 0.44}  # of one CPU, over 5 s phases
    assert server["cpu_share_ratio_on_off"] == pytest.approx(1.1)
    assert server["ms_per_unit"] == {"off": 0.5, "on": 0.55}  # 4,000 handshakes a phase
    assert server["ms_per_unit_ratio_on_off"] == pytest.approx(1.1) and client["ms_per_unit_ratio_on_off"] == 1.0
    assert (server["per"], client["per"]) == ("handshake of the load", "handshake of its own")
    assert phases[1].summary()["process_cpu_s"] == {"server: s_server": 2.2, "client: handshakes": 4.0}
    assert ("| server: s_server | 0.4 / 0.44 | 1.1 | handshake of the load | 0.5 / 0.55 | 1.1 |"
            in render_report(report_doc(r)))


def test_a_client_kinds_cpu_is_taken_per_handshake_of_its_own_in_a_mixed_population() -> None:
    """The load's total fell (the other kind made fewer), this kind made as many for the same CPU:
    its CPU per handshake of its own did not move, though per handshake of the whole load it did."""
    def phase(i: int, others: int) -> Phase:
        n = 1000 + others
        lr = LoadResult(n, n, 0, 0, 5.0, [1.0] * n, [(p, 443, True) for p in range(n)],
                        by_client={"go": 1000, "python": others})
        return Phase(i // 2, bool(i % 2), lr, 1, sensor_metrics() if i % 2 else None, reported=n if i % 2 else None,
                     correlation_failures=0 if i % 2 else None, process_cpu_s={"client: go": 1.0})
    phases = [phase(0, 3000), phase(1, 2000), phase(2, 3000)]
    r = summarise(WORKLOADS["mixed"], phases, (0.5,) * 3, (0.5,) * 3, 5.0, "test setup")
    go = r["process_cpu"]["client: go"]
    assert go["ms_per_unit"] == {"off": 1.0, "on": 1.0} and go["ms_per_unit_ratio_on_off"] == 1.0
    assert phases[1].process_ms_per_unit("client: go") == pytest.approx(1000 / 3000)  # of the whole load


def test_a_process_groups_cpu_includes_the_children_it_started_alive_or_reaped(tmp_path: Path) -> None:
    """A forking server's connections are its children, some still running, some reaped: both count."""
    ready = tmp_path / "ready"
    script = (
        "import os, sys, time\n"
        "def burn(s):\n"
        "    end = time.process_time() + s\n"
        "    while time.process_time() < end: pass\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    burn(0.3); os._exit(0)\n"
        "os.waitpid(pid, 0)\n"  # reaped: in the parent's cutime
        "if os.fork() == 0:\n"
        "    burn(0.3); open(sys.argv[1], 'w').close(); time.sleep(30); os._exit(0)\n"  # alive
        "time.sleep(30)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script, str(ready)])
    try:
        deadline = time.monotonic() + 30
        while not ready.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        cpu = process_cpu({"server": [parent.pid], "gone": [2 ** 22 + 1]})
    finally:
        for child in descendants(parent.pid):
            os.kill(child, 9)
        parent.kill()
        parent.wait()
    assert cpu["server"] >= 0.55  # 0.3 s reaped + 0.3 s alive (+ the parent's own start-up)
    assert cpu["gone"] == 0.0  # a process no longer there counts nothing


def test_targets_are_judged_on_the_mean_ratio_drops_and_reported_fraction() -> None:
    assert result([800, 790, 800, 788, 800])["targets_met"] == {
        "rate_ratio": True, "reported_fraction": True, "kernel_drops": True}
    assert result([800, 700, 800, 720, 800])["targets_met"]["rate_ratio"] is False


def test_p99_ratio_and_sensor_cpu_per_handshake_and_per_mib() -> None:
    r = result([100, 100, 100], latency=2.0, bytes_per=1 << 20)  # each on-phase "handshake" moved 1 MiB
    assert r["latency_p99_ratio"] == 2.0
    assert r["sensor_cpu_ms_per_handshake"] == pytest.approx(1000 * 0.5 / 500)
    assert r["sensor_cpu_ms_per_mib"] == pytest.approx(1000 * 0.5 / 500)


def test_records_match_connections_by_both_ports_with_multiplicity() -> None:
    lr = LoadResult(3, 3, 0, 0, 1.0, [1.0] * 3, [(5000, 443, True), (5000, 443, True), (6000, 8443, False)])
    lines = [
        {"type": "handshake", "role": "client", "src_port": 5000, "dst_port": 443, "source": "uprobe+wire"},
        {"type": "handshake", "role": "server", "src_port": 5000, "dst_port": 443, "source": "uprobe+wire"},
        {"type": "handshake", "role": None, "src_port": 6000, "dst_port": 8443, "source": "wire"},  # no process
        {"type": "handshake", "role": "client", "src_port": 6000, "dst_port": 443, "source": "wire"},  # not ours
    ]
    reported, failures, _, unreported = match_records(lines, lr)
    assert (reported, failures, unreported) == (2, 0, [1])  # the port's second connection was not reported
    lines[0]["source"] = "wire"  # an OpenSSL client seen only on the wire is a correlation failure
    assert match_records(lines, lr)[1] == 1


def test_the_report_renders_every_workload_phase_and_interval() -> None:
    text = render_report(report_doc(result([800, 790, 800, 788, 800])))
    assert "95% interval" in text
    rows = re.findall(r"^\| \d+ \| (on|off) \|", text, re.M)
    assert rows == ["off", "on", "off", "on", "off"]
    assert "## Handshake storm (handshakes/s)" in text
    assert "not quiet (load average 3.0 on 2 CPUs" in text  # the figures say they are not to be quoted
    waited = report_doc(result([800, 790, 800, 788, 800]))
    waited["setup"]["waited_for_quiet_s"] = 180.0  # type: ignore[index]
    assert "on 2 CPUs before the run's own load started, after waiting 180 s for it to settle)" in render_report(waited)
    assert "Functions probed: SSL_do_handshake, SSL_free+0x3; single-stepped probes:\nnone." in text


def test_the_report_names_the_figures_file_it_was_written_with(tmp_path: Path) -> None:
    doc = report_doc(result([800, 790, 800, 788, 800]))
    assert "raw figures in\n`stress/metrics.json`." in render_report(doc)
    across = report_doc(result([800, 790, 800, 788, 800]))
    across["setup"]["link"] = "veth"  # type: ignore[index]
    assert "raw figures in\n`stress/metrics_veth.json`." in render_report(across)
    figures, report = tmp_path / "figures.json", tmp_path / "report.md"
    write_outputs(doc, figures, report)
    assert f"raw figures in\n`{figures}`." in report.read_text()
    assert json.loads(figures.read_text()) == json.loads(json.dumps(doc))


def test_without_uprobes_a_record_with_its_process_is_no_correlation_failure_and_one_without_is() -> None:
    lr = LoadResult(2, 2, 0, 0, 1.0, [1.0, 1.0], [(5000, 443, True), (5001, 443, True)])
    lines = [{"type": "handshake", "role": "client", "src_port": 5000, "dst_port": 443, "source": "wire", "pid": 7},
             {"type": "handshake", "role": None, "src_port": 5001, "dst_port": 443, "source": "wire", "pid": None}]
    reported, failures, failed, _ = match_records(lines, lr, uprobes=False)
    assert (reported, failures, [r["src_port"] for r in failed]) == (2, 1, [5001])
    assert match_records(lines, lr)[1] == 2  # with uprobes, an OpenSSL client's wire-only record is one


@pytest.mark.parametrize("uprobes", [True, False])
def test_a_connection_with_only_its_servers_record_is_reported_as_a_correlation_failure(uprobes: bool) -> None:
    """Its client's process was not known, so the sensor wrote the server's end alone: the handshake
    is reported, its correlation failed. Matched with multiplicity, like client records."""
    lr = LoadResult(3, 3, 0, 0, 1.0, [1.0] * 3, [(5000, 443, True), (5000, 443, True), (5002, 443, True)])
    server = {"type": "handshake", "role": "server", "src_port": 5000, "dst_port": 443, "source": "uprobe+wire",
              "pid": 9}
    client = dict(server, role="client", pid=8)
    reported, failures, failed, unreported = match_records([server, client, server], lr, uprobes=uprobes)
    assert (reported, failures, failed, unreported) == (2, 1, [server], [2])


def test_a_run_without_uprobes_says_so_and_goes_to_files_of_its_own() -> None:
    assert sensor_args("auto", True) == ("--priority", "auto")
    assert sensor_args("idle", False) == ("--priority", "idle", "--no-uprobes")
    assert [p.name for p in outputs("loopback", False)] == ["metrics_no_uprobes.json", "OVERHEAD_RESULTS_NO_UPROBES.md"]
    assert [p.name for p in outputs("veth", False)] == ["metrics_veth_no_uprobes.json",
                                                        "OVERHEAD_RESULTS_VETH_NO_UPROBES.md"]
    assert outputs("veth") == outputs("veth", True) and outputs("loopback")[0].name == "metrics.json"
    doc = report_doc(result([800, 790, 800, 788, 800]))
    assert "The sensor ran with `--priority idle`. Machine" in render_report(doc)
    assert "OpenSSL clients'\nrecords without both views" in render_report(doc)
    doc["setup"]["sensor_uprobes"] = False  # type: ignore[index]
    text = render_report(doc)
    assert "The sensor ran with `--priority idle --no-uprobes`: no uprobe in any TLS program" in text
    assert "raw figures in\n`stress/metrics_no_uprobes.json`." in text
    assert "correlation failures (clients' records\nwithout their process)" in text


def test_a_sensor_that_ignores_sigterm_is_killed_and_the_run_fails() -> None:
    stubborn = subprocess.Popen([sys.executable, "-c", "import signal, sys, time; "
                                 "signal.signal(signal.SIGTERM, signal.SIG_IGN); print(flush=True); time.sleep(60)"],
                                stdout=subprocess.PIPE)
    assert stubborn.stdout is not None and stubborn.stdout.readline()  # (its handler is in place)
    with pytest.raises(RuntimeError, match=re.escape("did not stop within 0.5 s of SIGTERM: killed")):
        end_sensor(stubborn, timeout=0.5)
    assert stubborn.returncode == -9
    stubborn.stdout.close()


def test_a_sigterm_while_the_last_joins_are_awaited_still_stops_the_sensor(monkeypatch: pytest.MonkeyPatch) -> None:
    import stress.harness as harness

    ended = []

    def interrupted(_seconds: float) -> None:
        raise SystemExit(143)  # (exit_on_sigterm's exception)

    monkeypatch.setattr(harness, "time", SimpleNamespace(sleep=interrupted))
    monkeypatch.setattr(harness, "end_sensor", ended.append)
    with pytest.raises(SystemExit):
        harness.stop_sensor("the sensor", Path("unused.jsonl"), load(10.0), 0.0)  # type: ignore[arg-type]
    assert ended == ["the sensor"]
