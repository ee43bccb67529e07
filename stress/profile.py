"""Where the sensor's cost falls, from a system-wide CPU profile (`perf`) of one more sensor-on phase.

The kernel's BPF run-time counts (`bpfstats`) see the sensor's programs alone. What reaching a
program costs the observed process is not in them: a uprobe's trap and what the kernel does
under it, a tracepoint's dispatch (a classic tracepoint builds its record before the program
runs), the cgroup hook's, a packet socket's delivery of each packet (and the copy of each outgoing
one made for it). Here every CPU is sampled (`cpu-clock`) with the kernel call chain, and each
sample is put under the first hook (`HOOKS`) its chain passes through, innermost first, within
the same context: the walk stops at an interrupt's or softirq's entry, so an interrupt that
happened to arrive during a trap is not the trap's. Within each hook, the samples taken inside a
BPF program (its code or a helper or map function it called) are counted apart. The sensor
process's samples are its own line, whatever it was doing; every other process counts (the
observed programs, and kernel threads such as ksoftirqd where a hook runs in them). Each sample
carries its period (ns of CPU), so the sums are CPU time, per unit of load.

What the profile cannot see: what the sensor costs the observed programs indirectly (caches and
TLBs it cools, switches to and from it), which shows only as the difference between the on and
off phases' CPU; and the parts of a hook's path outside the frames named here (the final return to
user space after a trap, reached by a jump; a syscall tracepoint's slow entry path). The hooks
count every program attached to them, not the sensor's alone (on this project's machines there
are no others).
"""

from __future__ import annotations

import os
import select
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

FREQUENCY_HZ = 999  # (not a multiple of the timer tick, so sampling does not beat with it)
START_TIMEOUT_S = 60.0  # for perf to open an event on every CPU, read the running processes and sample
STOP_TIMEOUT_S = 120.0
SCRIPT_TIMEOUT_S = 600.0


@dataclass(frozen=True)
class Hook:
    name: str  # the key in the figures
    label: str  # its name in the report
    covers: str
    marks: tuple[str, ...]  # frame names: exact, or prefixes ending in "*"

    def marked_by(self, frame: str) -> bool:
        return _named(frame, self.marks)


def _named(frame: str, names: tuple[str, ...]) -> bool:
    """Whether `frame` is one of `names` (exact, or a prefix ending in "*")."""
    return any(frame.startswith(n[:-1]) if n.endswith("*") else frame == n for n in names)


HOOKS = (
    Hook("uprobes", "uprobe traps", "the trap (and a single-stepped probe's second one), the probe's dispatch "
         "and its program, the return probe's trampoline",
         ("asm_exc_int3", "asm_exc_debug", "uprobe_notify_resume", "handle_swbp", "uprobe_handle_trampoline",
          "__x64_sys_uretprobe", "__x64_sys_uprobe", "uprobe_dispatcher", "uretprobe_dispatcher")),
    # (not trace_call_bpf: before Linux 6.1 a uprobe's program is called through it too)
    Hook("tracepoints", "tracepoints", "raw and classic, with their dispatch (a classic one's record is built first)",
         ("bpf_trace_run*", "__bpf_trace_*", "perf_trace_*")),
    Hook("cgroup_skb", "cgroup skb hook", "the hook on every socket's receive", ("__cgroup_bpf_run_filter_skb",)),
    Hook("packet_sockets", "packet sockets", "delivery to them, the copy of each outgoing packet made for them, "
         "the filter", ("packet_rcv", "tpacket_rcv", "packet_rcv_spkt", "dev_queue_xmit_nit")),
)
# Where a context begins: an interrupt's or a softirq's work is not the hook it interrupted.
CONTEXT_ENTRIES = ("asm_sysvec_*", "asm_common_interrupt", "handle_softirqs", "__do_softirq", "irq_exit_rcu")


class ProfileError(RuntimeError):
    """perf could not record or read a profile."""


@dataclass
class Attribution:
    """CPU time (ns) of the samples by hook, and of each the part taken inside a BPF program."""
    samples: int = 0
    resolved: int = 0  # samples with at least one kernel symbol perf could name
    total_ns: int = 0
    sensor_ns: int = 0
    by_hook_ns: dict[str, int] = field(default_factory=lambda: {h.name: 0 for h in HOOKS})
    in_bpf_ns: dict[str, int] = field(default_factory=lambda: {h.name: 0 for h in HOOKS})

    def add(self, pid: int, period: int, frames: list[str], sensor_pid: int) -> None:
        self.samples += 1
        self.total_ns += period
        if any(f and f != "[unknown]" for f in frames):
            self.resolved += 1
        if pid == sensor_pid:
            self.sensor_ns += period
            return
        for depth, frame in enumerate(frames):
            hook = next((h for h in HOOKS if h.marked_by(frame)), None)
            if hook:
                self.by_hook_ns[hook.name] += period
                if any(f.startswith("bpf_prog_") for f in frames[:depth]):
                    self.in_bpf_ns[hook.name] += period
                return
            if _named(frame, CONTEXT_ENTRIES):
                return


def attribute(script: str, sensor_pid: int) -> Attribution:
    """Sums `perf script -F pid,period,ip,sym` output: a sample's line (its pid and period), then a
    line per frame of its call chain, leaf first, each a tab, an address and a symbol. (A sample
    whose chain perf could not walk has no frame lines.)"""
    found = Attribution()
    sample: tuple[int, int] | None = None
    frames: list[str] = []
    for line in script.splitlines():
        if line.startswith("\t"):
            parts = line.split(None, 1)
            frames.append(parts[1].strip() if len(parts) > 1 else "")
            continue
        fields = line.split()
        if len(fields) < 2:
            continue  # (the blank line after a chain)
        if sample is not None:
            found.add(*sample, frames, sensor_pid)
        try:
            sample = (int(fields[0]), int(fields[1]))
        except ValueError:
            sample = None
        frames = [" ".join(fields[3:])] if len(fields) > 3 else []  # (no chain: the sample's own ip and symbol)
    if sample is not None:
        found.add(*sample, frames, sensor_pid)
    return found


def unavailable() -> str | None:
    """Why no profile can be taken here, or None."""
    if shutil.which("perf") is None:
        return "perf is not installed (Debian: linux-perf; Ubuntu: linux-tools for the running kernel)"
    try:
        version = subprocess.run(["perf", "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"perf does not run: {error}"
    if version.returncode:  # (Ubuntu's wrapper, when the running kernel's tools are not installed)
        return f"perf does not run here: {(version.stderr or version.stdout).strip()[-200:]}"
    if os.geteuid() != 0:
        return "a system-wide profile needs root"
    return None


def _stop(proc: subprocess.Popen[bytes]) -> str:
    """SIGINT (perf then writes its file), SIGKILL if it has not exited in time; what it said: its
    first error line (perf prints its whole usage after an unknown option), else its stderr's end."""
    proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
    text = err.decode(errors="replace").strip()
    errors = [line.strip() for line in text.splitlines() if line.strip().lower().startswith(("error", "fatal"))]
    return errors[0][:300] if errors else text[-300:]


@contextmanager
def recording(folder: Path) -> Iterator[Path]:
    """`perf record` of every CPU, with kernel call chains, from entry to exit of the block. The block
    is entered once perf says it samples: it starts with its events off (`-D -1`), and is told to
    turn them on through a control FIFO, which it acknowledges on another. perf is stopped however
    the block ends; a failure to record is a ProfileError after a block that ended normally (never
    one that replaces the block's own exception)."""
    data = folder / "profile.perf"
    control, acknowledged = folder / "perf-control.fifo", folder / "perf-ack.fifo"
    with ExitStack() as fifos:
        ctl, ack = (_fifo(path, fifos) for path in (control, acknowledged))
        try:
            proc = subprocess.Popen(["perf", "record", "-a", "-g", "-e", "cpu-clock", "-F", str(FREQUENCY_HZ),
                                     "-D", "-1", "--control", f"fifo:{control},{acknowledged}", "-o", str(data)],
                                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        except OSError as error:
            raise ProfileError(f"perf record did not start: {error}") from None
        try:
            os.write(ctl, b"enable\n")
            not_sampling = _await_ack(proc, ack)
            if not_sampling is None:
                yield data
        finally:
            err = _stop(proc)
    if not_sampling is not None:
        raise ProfileError(f"{not_sampling}: {err}" if err else not_sampling)  # with what perf said
    if proc.returncode not in (0, -signal.SIGINT) or not data.exists():
        raise ProfileError(f"perf record failed ({proc.returncode}): {err}")


def _fifo(path: Path, closing: ExitStack) -> int:
    """A new FIFO at `path`, open for reading and writing (so the open waits for nobody, and nothing
    hangs if perf never opens it), closed with `closing`."""
    path.unlink(missing_ok=True)
    os.mkfifo(path)
    fd = os.open(path, os.O_RDWR | os.O_NONBLOCK)
    closing.callback(os.close, fd)
    return fd


def _await_ack(proc: subprocess.Popen[bytes], ack: int) -> str | None:
    """Until perf acknowledges the enable command (it has opened an event on every CPU, read the
    running processes and turned its events on): None, or why it did not."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if select.select([ack], [], [], 0.05)[0] and b"ack" in os.read(ack, 64):
            return None
        if proc.poll() is not None:
            return f"perf record exited before it sampled ({proc.returncode})"
    return f"perf record did not start sampling within {START_TIMEOUT_S:g} s"


def read(data: Path, sensor_pid: int) -> Attribution:
    try:
        done = subprocess.run(["perf", "script", "-i", str(data), "-F", "pid,period,ip,sym"],
                              capture_output=True, text=True, errors="replace", timeout=SCRIPT_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise ProfileError(f"perf script failed: {error}") from None
    if done.returncode:
        raise ProfileError(f"perf script failed ({done.returncode}): {done.stderr.strip()[-300:]}")
    found = attribute(done.stdout, sensor_pid)
    if not found.samples:
        raise ProfileError("perf recorded no samples")
    if not found.resolved:
        raise ProfileError("perf named no kernel symbol (is kernel.kptr_restrict set?)")
    return found


def per_unit(found: Attribution, units: float) -> dict[str, object]:
    """Microseconds of CPU per unit of load, by hook."""
    def us(ns: int) -> float:
        return round(ns / 1000 / units, 2) if units else 0.0

    hooks = {h.name: {"us_per_unit": us(found.by_hook_ns[h.name]), "in_bpf_us_per_unit": us(found.in_bpf_ns[h.name])}
             for h in HOOKS}
    return {"frequency_hz": FREQUENCY_HZ, "samples": found.samples, "sensor_process_us_per_unit": us(found.sensor_ns),
            "categories": hooks, "in_observed_us_per_unit": round(sum(h["us_per_unit"] for h in hooks.values()), 2)}
