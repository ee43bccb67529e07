"""The system-wide profile phase (stress/profile.py): which hook each sample of the observed programs
counts for, and, for real with `perf`, the sensor's hooks found under real TLS load and none without it."""

from __future__ import annotations

import shutil
from contextlib import ExitStack
from pathlib import Path

import pytest

from stress import profile
from stress.harness import _profile_phase, cost_budget, render_report
from stress.loadgen import LoadPool
from stress.workloads import WORKLOADS
from tests.stress.test_harness import report_doc, result

SENSOR = 4242

# `perf script -F pid,ip,sym` as perf 6.1 prints it: the pid (perf pads it with a space), then the
# frames leaf first.
SCRIPT = """\
    4242
\tffffffff81000001 _PyEval_EvalFrameDefault

    1001
\tffffffff81000002 lookup_nulls_elem_raw
\tffffffffc0000003 bpf_prog_4499b0891ed2505c_handshake_return
\tffffffff81000004 uprobe_dispatcher
\tffffffff81000005 handle_swbp
\tffffffff81000006 asm_exc_int3

    1001
\tffffffff81000007 irqentry_exit_to_user_mode
\tffffffff81000006 asm_exc_int3

    1002
\tffffffffc0000008 bpf_prog_e274aecafc870984_tls_wire_cgroup
\tffffffff81000009 __cgroup_bpf_run_filter_skb
\tffffffff8100000a tcp_v4_rcv
\tffffffff8100000b bpf_trace_run3
\tffffffff8100000c do_syscall_64

    1002
\tffffffff8100000d perf_trace_inet_sock_set_state
\tffffffff8100000e tcp_set_state

    1003
\tffffffff8100000f tpacket_rcv
\tffffffff81000010 __netif_receive_skb_core

    1003
\tffffffff81000011 tcp_ack
\tffffffff81000012 tcp_v4_rcv

    0
\tffffffff81000013 pv_native_safe_halt
"""


def test_each_sample_counts_for_the_innermost_hook_its_chain_passes_through() -> None:
    found = profile.attribute(SCRIPT, SENSOR)
    assert found.total == 8 and found.sensor == 1
    # the trap's own return to user space counts for the uprobes as its program does; a cgroup
    # program reached inside a receive that a tracepoint's caller started counts for the cgroup hook
    assert found.by_category == {"uprobes": 2, "tracepoints": 1, "cgroup_skb": 1, "packet_sockets": 1}
    # inside a BPF program: the map function the uprobe's program called, the cgroup program itself
    assert found.in_bpf == {"uprobes": 1, "tracepoints": 0, "cgroup_skb": 1, "packet_sockets": 0}


def test_samples_become_microseconds_of_cpu_per_unit_of_load() -> None:
    found = profile.attribute(SCRIPT, SENSOR)
    figures = profile.per_unit(found, units=1e6 / profile.FREQUENCY_HZ)  # one sample is one µs a unit here
    assert figures["sensor_process_us_per_unit"] == 1.0
    assert figures["categories"]["uprobes"]["us_per_unit"] == 2.0
    assert figures["categories"]["uprobes"]["in_bpf_us_per_unit"] == 1.0
    assert figures["in_observed_us_per_unit"] == 5.0


def test_the_report_shows_the_hooks_and_the_rest_or_why_the_profile_was_skipped() -> None:
    r = result([800, 790, 800, 788, 800])
    r["busy_cpu_ratio_on_off"], r["busy_cpu_ratio_ci95"] = 1.1, [1.05, 1.15]
    r["busy_cpu_ms_per_unit"] = {"off": 1.0, "on": 1.1}
    r["profile"] = {"per": "handshake", **profile.per_unit(profile.attribute(SCRIPT, SENSOR),
                                                          1e6 / profile.FREQUENCY_HZ)}
    r["cost_budget"] = cost_budget(r)
    assert r["cost_budget"]["hooks_us"] == 5.0
    # 100 µs added, less the sensor's (0.5 s over ~3,945 handshakes: 126.7 µs) and the hooks' 5 µs
    b = r["cost_budget"]
    assert b["sensor_process_us"] == 126.7 and b["rest_after_hooks_us"] == pytest.approx(100.0 - 126.7 - 5.0)
    text = render_report(report_doc(r))
    assert "| uprobe traps µs (in BPF) | tracepoints µs (in BPF) | cgroup skb hook µs (in BPF) |" in text
    assert ("| Handshake storm | handshake | 100.0 | 1.0 | 2.0 (1.0) | 1.0 (0.0) | 1.0 (1.0) | 1.0 (0.0) | "
            "5.0 (0.5%) | -31.7 |") in text
    r["profile"] = {"skipped": "perf is not installed"}
    assert "Profile skipped: Handshake storm: perf is not installed." in render_report(report_doc(r))


def test_the_profile_phase_is_skipped_with_its_reason_where_perf_cannot_run(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no perf on it
    assert profile.unavailable() is not None and "perf is not installed" in profile.unavailable()  # type: ignore[operator]
    got = _profile_phase(WORKLOADS["handshakes"], None, tmp_path, 1.0, "auto")  # type: ignore[arg-type]
    assert got == {"skipped": profile.unavailable()}


needs_perf = pytest.mark.skipif(shutil.which("perf") is None,
                                reason="perf is not installed (nox -s tests installs it: linux-perf)")


@pytest.mark.root
@needs_perf
def test_under_real_handshakes_the_profile_finds_the_sensors_uprobes_tracepoints_and_cgroup_hook(
        tmp_path: Path) -> None:
    workload = WORKLOADS["handshakes"]
    with ExitStack() as stack:
        pool = stack.enter_context(LoadPool(workload.start(tmp_path, stack, 2).workers))
        pool.run(0.5)
        got = _profile_phase(workload, pool, tmp_path, 3.0, "auto")
        # the same load with no sensor: none of its samples is under a hook the sensor hangs on
        (tmp_path / "bare").mkdir()
        with profile.recording(tmp_path / "bare") as data:
            pool.run(2.0)
        bare = profile.read(data, sensor_pid=-1)
    assert "skipped" not in got, got
    c = got["categories"]
    # Over loopback: the Python clients' and s_server's probes trap, every socket receive passes
    # the raw tracepoint, every packet received the cgroup program; no packet socket on loopback.
    for hook in ("uprobes", "tracepoints", "cgroup_skb"):
        assert c[hook]["us_per_unit"] > 0 and c[hook]["in_bpf_us_per_unit"] > 0, (hook, c)
    assert c["packet_sockets"]["us_per_unit"] == 0
    assert got["sensor_process_us_per_unit"] > 0 and got["samples"] > 1000
    assert bare.total > 1000 and bare.sensor == 0
    assert bare.by_category == {"uprobes": 0, "tracepoints": 0, "cgroup_skb": 0, "packet_sockets": 0}
