"""The system-wide profile phase (stress/profile.py): which hook each sample of the observed programs
counts for, and, for real with `perf`, the sensor's hooks found under real TLS load and none without it."""

from __future__ import annotations

import os
import subprocess
from contextlib import ExitStack
from pathlib import Path

import pytest

from stress import profile
from stress.harness import _profile_phase, cost_budget, render_report
from stress.loadgen import LoadPool
from stress.workloads import WORKLOADS
from tests.stress.test_harness import report_doc, result

SENSOR = 4242

# `perf script -F pid,period,ip,sym` as perf 6.1 prints it: the pid and the period (ns; 1,000 here,
# so a sample is 1 µs), then the frames leaf first, a blank line after them.
SCRIPT = """\
    4242       1000
\tffffffff81000001 _PyEval_EvalFrameDefault

    1001       1000
\tffffffff81000002 lookup_nulls_elem_raw
\tffffffffc0000003 bpf_prog_4499b0891ed2505c_handshake_return
\tffffffff81000004 uprobe_dispatcher
\tffffffff81000005 handle_swbp
\tffffffff81000006 asm_exc_int3

    1001       1000
\tffffffff81000007 irqentry_exit_to_user_mode
\tffffffff81000006 asm_exc_int3

    1001       1000
\tffffffff81000020 e1000_clean_rx_irq
\tffffffff81000021 asm_common_interrupt
\tffffffff81000007 irqentry_exit_to_user_mode
\tffffffff81000006 asm_exc_int3

    1002       1000
\tffffffffc0000008 bpf_prog_e274aecafc870984_tls_wire_cgroup
\tffffffff81000009 __cgroup_bpf_run_filter_skb
\tffffffff8100000a tcp_v4_rcv
\tffffffff81000022 handle_softirqs
\tffffffff8100000b bpf_trace_run3
\tffffffff8100000c do_syscall_64

    1002       1000
\tffffffff8100000d perf_trace_inet_sock_set_state
\tffffffff8100000e tcp_set_state

    1002       1000
\tffffffffc0000023 bpf_prog_c874110f74c38532_ssl_free_enter
\tffffffff81000024 trace_call_bpf
\tffffffff81000025 __uprobe_perf_func
\tffffffff81000004 uprobe_dispatcher

    1003       1000 ffffffff8100000f tpacket_rcv
    1003       1000
\tffffffff81000011 tcp_ack
\tffffffff81000012 tcp_v4_rcv

      -1       1000
\t               0 [unknown]

    0       1000
\tffffffff81000013 pv_native_safe_halt
"""


def test_each_sample_counts_for_the_innermost_hook_in_its_own_context() -> None:
    found = profile.attribute(SCRIPT, SENSOR)
    assert found.samples == 11 and found.sensor_ns == 1000 and found.resolved == 10
    # The trap's own return to user space counts for the uprobes as its program does, and so does a
    # uprobe's program called through trace_call_bpf (kernels before 6.1); an interrupt that
    # arrived during a trap does not; a cgroup program run in a softirq that a system call under a
    # tracepoint started counts for the cgroup hook; a sample without a call chain counts by its own
    # symbol (the packet socket's).
    assert found.by_hook_ns == {"uprobes": 3000, "tracepoints": 1000, "cgroup_skb": 1000, "packet_sockets": 1000}
    # inside a BPF program: the map function the uprobe's program called, the two programs themselves
    assert found.in_bpf_ns == {"uprobes": 2000, "tracepoints": 0, "cgroup_skb": 1000, "packet_sockets": 0}


def test_samples_become_microseconds_of_cpu_per_unit_of_load() -> None:
    figures = profile.per_unit(profile.attribute(SCRIPT, SENSOR), units=1.0)
    assert figures["sensor_process_us_per_unit"] == 1.0
    assert figures["categories"]["uprobes"] == {"us_per_unit": 3.0, "in_bpf_us_per_unit": 2.0}
    assert figures["in_observed_us_per_unit"] == 6.0
    assert profile.per_unit(profile.attribute(SCRIPT, SENSOR), units=4.0)["in_observed_us_per_unit"] == 1.5


def test_the_report_shows_the_hooks_and_the_rest_or_why_the_profile_was_skipped() -> None:
    r = result([800, 790, 800, 788, 800])
    r["busy_cpu_ratio_on_off"], r["busy_cpu_ratio_ci95"] = 1.1, [1.05, 1.15]
    r["busy_cpu_ms_per_unit"] = {"off": 1.0, "on": 1.1}
    r["profile"] = {"per": "handshake", **profile.per_unit(profile.attribute(SCRIPT, SENSOR), 1.0)}
    r["cost_budget"] = cost_budget(r)
    assert r["cost_budget"]["hooks_us"] == 6.0
    # 100 µs added, less the sensor's (0.5 s over ~3,945 handshakes: 126.7 µs) and the hooks' 6 µs
    b = r["cost_budget"]
    assert b["sensor_process_us"] == 126.7 and b["rest_after_hooks_us"] == pytest.approx(100.0 - 126.7 - 6.0)
    text = render_report(report_doc(r))
    assert "| uprobe traps µs (in BPF) | tracepoints µs (in BPF) | cgroup skb hook µs (in BPF) |" in text
    assert ("| Handshake storm | handshake | 100.0 | 126.7 / 1.0 | 3.0 (2.0) | 1.0 (0.0) | 1.0 (1.0) | 1.0 (0.0) | "
            "6.0 (0.6%) | -32.7 |") in text
    r["profile"] = {"skipped": "perf is not installed"}
    assert "Profile skipped: Handshake storm: perf is not installed." in render_report(report_doc(r))


def test_the_profile_phase_is_skipped_with_its_reason_where_perf_cannot_run(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no perf on it
    reason = profile.unavailable()
    assert reason is not None and "perf is not installed" in reason
    got = _profile_phase(WORKLOADS["handshakes"], None, tmp_path, 1.0, ("--priority", "auto"))  # type: ignore[arg-type]
    assert got == {"skipped": reason}
    # Ubuntu's wrapper, installed without the running kernel's tools: there, and it fails
    wrapper = tmp_path / "perf"
    wrapper.write_text("#!/bin/sh\necho 'WARNING: perf not found for kernel 6.18' >&2\nexit 2\n")
    wrapper.chmod(0o755)
    assert "perf does not run here: WARNING: perf not found for kernel 6.18" == profile.unavailable()


needs_perf = pytest.mark.skipif(profile.unavailable() is not None,
                                reason=f"no system-wide profile here: {profile.unavailable()}")


@pytest.mark.root
@needs_perf
def test_perf_is_stopped_and_the_blocks_own_error_kept_when_the_block_fails(tmp_path: Path) -> None:
    with pytest.raises(KeyError, match="the block's"), profile.recording(tmp_path) as data:
        raise KeyError("the block's")
    running = subprocess.run(["pgrep", "-f", str(data)], capture_output=True, text=True)
    assert running.stdout == ""  # no perf left sampling every CPU into a folder about to go


@pytest.mark.root
@needs_perf
def test_under_real_handshakes_the_profile_finds_the_sensors_uprobes_tracepoints_and_cgroup_hook(
        tmp_path: Path) -> None:
    workload = WORKLOADS["handshakes"]
    with ExitStack() as stack:
        pool = stack.enter_context(LoadPool(workload.start(tmp_path, stack, 2).workers))
        pool.run(0.5)
        got = _profile_phase(workload, pool, tmp_path, 3.0, ("--priority", "auto"))
        # the same load with no sensor: none of its samples is under a hook the sensor hangs on
        (tmp_path / "bare").mkdir()
        with profile.recording(tmp_path / "bare") as data:
            pool.run(2.0)
        bare = profile.read(data, sensor_pid=-2)  # (no such process)
    assert "skipped" not in got, got
    c = got["categories"]
    # Over loopback: the Python clients' and s_server's probes trap, every socket receive passes
    # the raw tracepoint, every packet received the cgroup program; no packet socket on loopback.
    for hook in ("uprobes", "tracepoints", "cgroup_skb"):
        assert c[hook]["us_per_unit"] > 0 and c[hook]["in_bpf_us_per_unit"] > 0, (hook, c)
    assert c["packet_sockets"]["us_per_unit"] == 0
    assert got["sensor_process_us_per_unit"] > 0 and got["samples"] > 1000
    assert bare.samples > 1000 and bare.sensor_ns == 0
    assert bare.by_hook_ns == {"uprobes": 0, "tracepoints": 0, "cgroup_skb": 0, "packet_sockets": 0}


def test_a_perf_that_cannot_sample_gives_its_own_words_not_a_hang(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A perf without --control (before 5.10), or one refused its events: it exits before it
    # acknowledges the enable command, and the phase is skipped with what it printed.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    usage = "".join(f"echo '    --option-{i}   what it does' >&2\n" for i in range(40))  # (perf's usage follows)
    (bin_dir / "perf").write_text(f"#!/bin/sh\necho \"  Error: unknown option 'control'\" >&2\n{usage}exit 129\n")
    (bin_dir / "perf").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    said = r"exited before it sampled \(129\): Error: unknown option 'control'"
    with pytest.raises(profile.ProfileError, match=said), profile.recording(tmp_path):
        pytest.fail("the block ran without a profile")
